package customers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/store/demo"
	"karton/tui/components/palette"
	"karton/tui/internal/screentest"
)

// demoSize is the number of customers of the tests' demo stores.
const demoSize = 300

// shared is a demo store the read-only tests share (generating one takes
// about a second); tests that write build their own.
var shared *store.Store

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "karton-customers-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		s, err := store.Open(filepath.Join(dir, "shared.db"), store.Options{Now: screentest.Now, Secret: demo.Secret(7)})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer s.Close()
		if _, err := demo.Generate(context.Background(), s, demo.Options{Customers: demoSize, Seed: 7, AsOf: screentest.AsOf}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		shared = s
		return m.Run()
	}())
}

var (
	operator = model.Actor{Name: "otto", Role: model.RoleOperator, Via: "test"}
	analyst  = model.Actor{Name: "ali", Role: model.RoleAnalyst, Via: "test"}
)

func TestTableShowsFirstPageByName(t *testing.T) {
	h := newHarness(t, shared, screentest.Admin, 120, 37)
	assert.Equal(t, demoSize, h.b.list.table.Total())
	ids := h.visibleIDs()
	require.Len(t, ids, 37-3, "the box's header, the column titles and the footer take three lines")
	var last string
	for _, id := range ids {
		c := customer(t, shared, id)
		key := model.Fold(c.LastName + " " + c.FirstName)
		assert.LessOrEqual(t, last, key, "rows come in name order")
		last = key
	}
	assert.Contains(t, h.screen(), "Customers · 300 · sort: name ↑")
}

func TestSortCycle(t *testing.T) {
	h := newHarness(t, shared, screentest.Admin, 120, 30)
	tests := []struct {
		header string
		value  func(c model.Customer) int64
	}{
		{"sort: last activity ↓", func(c model.Customer) int64 { return c.LastActivityAt.UnixNano() }},
		{"sort: value ↓", func(c model.Customer) int64 { return int64(c.Revenue) }},
	}
	for _, tt := range tests {
		h.press("s")
		assert.Contains(t, h.screen(), tt.header)
		ids := h.visibleIDs()
		require.NotEmpty(t, ids)
		prev := int64(1<<63 - 1)
		for _, id := range ids {
			v := tt.value(customer(t, shared, id))
			assert.LessOrEqual(t, v, prev, "%s: rows are in descending order", tt.header)
			prev = v
		}
	}
	h.press("s")
	assert.Contains(t, h.screen(), "sort: name ↑", "the cycle wraps around")
	assert.Equal(t, 0, h.b.list.table.Cursor(), "a new order starts at the top")
}

func TestTableScrollsToTheEndAndBack(t *testing.T) {
	h := newHarness(t, shared, screentest.Admin, 80, 21)
	h.press("G")
	assert.Equal(t, demoSize-1, h.b.list.table.Cursor())
	assert.Contains(t, h.screen(), "300 / 300")
	h.press("g")
	assert.Equal(t, 0, h.b.list.table.Cursor())
	for range 120 {
		h.press("j")
	}
	assert.Equal(t, 120, h.b.list.table.Cursor())
	_, ok := h.b.list.selectedID()
	assert.True(t, ok, "the rows around the cursor are loaded")
}

func TestFilterTheTable(t *testing.T) {
	berlin := 0
	require.NoError(t, shared.View(screentest.Admin, func(r *store.Reader) error {
		p, err := r.CustomerPage(store.PageQuery{Limit: 1000, Filter: store.CustomerFilter{City: "Berlin"}})
		berlin = len(p.Rows)
		return err
	}))
	require.Positive(t, berlin)

	tests := []struct {
		name   string
		filter string
		check  func(t *testing.T, r *store.Reader, c model.Customer)
	}{
		{"city", "city:berlin", func(t *testing.T, _ *store.Reader, c model.Customer) {
			assert.Equal(t, "Berlin", c.Address.City)
		}},
		{"tag and city", "tag:newsletter city:Berlin", func(t *testing.T, _ *store.Reader, c model.Customer) {
			assert.True(t, c.HasTag("newsletter"))
			assert.Equal(t, "Berlin", c.Address.City)
		}},
		{"name prefix", "Sch", func(t *testing.T, _ *store.Reader, c model.Customer) {
			assert.True(t, strings.HasPrefix(model.Fold(c.LastName), "sch"), c.LastName)
		}},
		{"contactable by sms", "consent:sms", func(t *testing.T, r *store.Reader, c model.Customer) {
			cs, err := r.ConsentState(c.ID)
			require.NoError(t, err)
			ok := false
			for _, s := range cs.Scopes {
				ok = ok || (s.Channel == model.KindSMS && s.Allow() && s.Purpose != 5)
			}
			assert.True(t, ok, "customer %d may be reached by sms for marketing", c.ID)
		}},
		{"not contactable by email", "consent:!email", func(t *testing.T, r *store.Reader, c model.Customer) {
			cs, err := r.ConsentState(c.ID)
			require.NoError(t, err)
			for _, s := range cs.Scopes {
				if s.Channel == model.KindEmail && s.Purpose != 5 {
					assert.False(t, s.Allow(), "customer %d: email/%d", c.ID, s.Purpose)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, shared, screentest.Admin, 120, 40)
			h.press("/")
			require.True(t, h.b.Capturing(), "the filter input has the keys")
			h.typeText(tt.filter)
			h.press("enter")
			require.False(t, h.b.Capturing())
			assert.Empty(t, h.b.filterErr)
			assert.Contains(t, h.screen(), "filter: "+tt.filter)
			ids := h.visibleIDs()
			require.NotEmpty(t, ids, "the demo store has customers matching %q", tt.filter)
			require.NoError(t, shared.View(screentest.Admin, func(r *store.Reader) error {
				for _, id := range ids {
					c, err := r.Customer(id)
					require.NoError(t, err)
					tt.check(t, r, c)
				}
				return nil
			}))
			if tt.name == "city" {
				assert.Equal(t, berlin, h.b.list.table.Total(), "the total is learned once both ends were seen")
			}
			h.press("esc")
			assert.Contains(t, h.screen(), "sort: name ↑")
			assert.NotContains(t, h.screen(), "filter:", "esc clears the filter")
		})
	}
}

func TestFilterErrorIsShownAndKeepsTheInput(t *testing.T) {
	h := newHarness(t, shared, screentest.Admin, 80, 21)
	first := h.visibleIDs()[0]
	h.press("/")
	h.typeText("consent:fax")
	h.press("enter")
	assert.True(t, h.b.Capturing(), "the input stays open to fix the text")
	assert.Contains(t, h.screen(), `consent:fax — "fax" is not a channel kind`)
	assert.True(t, h.b.list.filter.empty(), "the filter is unchanged")
	assert.Equal(t, first, h.visibleIDs()[0])
	h.press("esc")
	assert.False(t, h.b.Capturing())
	assert.NotContains(t, h.screen(), "fax")
}

// openCustomer opens a customer's 360° view the way the palette does.
func (h *harness) openCustomer(id model.CustomerID) {
	h.t.Helper()
	cmd, ok := h.b.PaletteChosen(palette.Item{ID: "customer:" + id.String()})
	require.True(h.t, ok)
	h.run(cmd)
	require.NotNil(h.t, h.b.view.data, "the 360° view loaded")
}

func TestRecordConsentEventFromTheView(t *testing.T) {
	s := screentest.DemoStore(t, demoSize)
	c := findCustomer(t, s, func(r *store.Reader, c model.Customer) bool {
		return !c.Erased && decision(t, s, c.ID, model.KindEmail, "newsletter").Reason == model.ReasonConsentDOI
	})
	h := newHarness(t, s, operator, 80, 21)
	h.openCustomer(c.ID)
	h.press("]")
	require.Equal(t, secConsents, h.b.view.sec)
	require.Contains(t, h.screen(), "email × newsletter  allow CONSENT_DOI")
	events := len(h.b.view.data.History)

	h.press("n")
	require.NotNil(t, h.b.form, "n opens the consent form")
	require.True(t, h.b.Capturing())
	assert.Contains(t, h.screen(), "Record consent event")
	// Event: opt_in → doi_requested → doi_confirmed → opt_out; channel and
	// purpose come from the matrix cursor (email × newsletter).
	h.press("right", "right", "right", "enter", "enter", "enter")
	assert.Contains(t, h.screen(), "Basis and evidence")
	h.press("enter", "enter")
	h.typeText("call_ref=4711")
	h.press("enter")

	require.Nil(t, h.b.form, "the form closed after the write")
	assert.Contains(t, h.lastToast(), "Recorded opt_out for email/newsletter")
	d := h.b.view.data
	assert.Len(t, d.History, events+1)
	assert.Equal(t, model.ConsentOptOut, d.History[0].Kind, "the newest event comes first")
	assert.True(t, d.History[0].HasEvidence)
	res := d.Decisions[0][0]
	assert.False(t, res.Allow, "the matrix shows the withdrawal")
	assert.Equal(t, model.ReasonWithdrawn, res.Reason)
	assert.Contains(t, h.screen(), "✗ withdrew")
	assert.Contains(t, h.screen(), "email × newsletter  deny WITHDRAWN")
	assert.Equal(t, model.ReasonWithdrawn, decision(t, s, c.ID, model.KindEmail, "newsletter").Reason, "the store recorded it")
}

func TestConsentFormRefusesAnInvalidTime(t *testing.T) {
	s := screentest.DemoStore(t, 50)
	h := newHarness(t, s, screentest.Admin, 120, 37)
	id := h.visibleIDs()[0]
	h.openCustomer(id)
	before := len(h.b.view.data.History)
	h.press("n", "enter", "enter", "enter", "enter")
	h.press("ctrl+u")
	h.typeText("yesterday")
	h.press("enter")
	require.NotNil(t, h.b.form, "the form stays open")
	assert.Contains(t, h.screen(), `"yesterday" is not a time like 2026-03-15 09:30 (UTC)`)
	h.press("esc")
	assert.Nil(t, h.b.form, "esc cancels")
	h.run(h.b.view.reload())
	assert.Len(t, h.b.view.data.History, before, "nothing was written")
}

// editEmail opens the edit form and types a new email address.
func (h *harness) editEmail(email string) {
	h.press("e")
	require.NotNil(h.t, h.b.form)
	h.press("enter", "enter", "enter", "enter") // the Name page
	require.Contains(h.t, h.screen(), "Contact")
	h.press("ctrl+u")
	h.typeText(email)
	h.press("enter")
}

func TestEditRefusesAnInvalidEmail(t *testing.T) {
	s := screentest.DemoStore(t, 50)
	h := newHarness(t, s, screentest.Admin, 80, 21)
	id := h.visibleIDs()[0]
	before := customer(t, s, id)
	h.openCustomer(id)

	h.editEmail("jana.meier@@web")
	require.NotNil(t, h.b.form, "the form stays open")
	assert.Contains(t, h.screen(), `"jana.meier@@web" is not a valid email address`)
	assert.Contains(t, h.screen(), "Contact", "the form stays on the email field")
	h.press("esc")
	assert.Nil(t, h.b.form)
	assert.Equal(t, before, customer(t, s, id), "nothing was written")
}

func TestEditRefusesAnInvalidRecordAsAWhole(t *testing.T) {
	s := screentest.DemoStore(t, 50)
	h := newHarness(t, s, screentest.Admin, 120, 37)
	c := findCustomer(t, s, func(_ *store.Reader, c model.Customer) bool {
		return c.Address.Country == "DE" && c.Address.PostalCode != ""
	})
	h.openCustomer(c.ID)
	h.press("e")
	h.press("enter", "enter", "enter", "enter", "enter", "enter", "enter") // Name, Contact, Street
	h.press("ctrl+u")
	h.typeText("ABC")
	h.press("enter", "enter", "enter", "enter", "enter", "enter", "enter") // to the end of the form
	require.NotNil(t, h.b.form, "the form is reopened with the reason")
	assert.Contains(t, h.screen(), `not saved: address.postal code "ABC" does not fit the postal codes of DE`)
	assert.Equal(t, "ABC", h.b.form.profile.PostalCode, "what the user typed is kept")
	h.press("esc")
	assert.Equal(t, c.Address.PostalCode, customer(t, s, c.ID).Address.PostalCode, "nothing was written")
}

func TestEditSavesAValidChange(t *testing.T) {
	s := screentest.DemoStore(t, 50)
	h := newHarness(t, s, screentest.Admin, 80, 21)
	id := h.visibleIDs()[0]
	h.openCustomer(id)
	h.editEmail("neu.adresse@example.org")
	for range 9 { // phone, the address and the last page
		h.press("enter")
	}
	require.Nil(t, h.b.form, "saved")
	assert.Equal(t, fmt.Sprintf("Saved customer #%d", id), h.lastToast())
	assert.Equal(t, "neu.adresse@example.org", customer(t, s, id).Email)
	assert.Contains(t, h.screen(), "neu.adresse@example.org", "the profile shows the new address")
}

func TestEditRefusesWhenChangedMeanwhile(t *testing.T) {
	s := screentest.DemoStore(t, 50)
	h := newHarness(t, s, screentest.Admin, 80, 21)
	id := h.visibleIDs()[0]
	h.openCustomer(id)
	h.press("e")
	// Another session renames the customer while the form is open.
	require.NoError(t, s.Update(operator, func(tx *store.Tx) error {
		return tx.UpdateCustomer(id, func(c *model.Customer) error { c.Company = "Elsewhere GmbH"; return nil })
	}))
	later := customer(t, s, id)
	for range 14 {
		if h.b.form == nil || h.b.form.message != "" {
			break
		}
		h.press("enter")
	}
	require.NotNil(t, h.b.form)
	assert.Contains(t, h.b.form.message, "changed by someone else")
	assert.Contains(t, h.lastToast(), fmt.Sprintf("save customer #%d", id))
	assert.Equal(t, later, customer(t, s, id), "the other session's change stands")
}

func TestMaskingForAnAnalyst(t *testing.T) {
	h := newHarness(t, shared, analyst, 120, 37)
	id := h.visibleIDs()[0]
	clear := customer(t, shared, id)
	screen := h.screen()
	assert.NotContains(t, screen, clear.Email, "emails are masked in the table")
	assert.NotContains(t, screen, clear.FirstName+" "+clear.LastName)
	assert.Contains(t, screen, model.MaskEmail(clear.Email))
	assert.Contains(t, screen, model.MaskName(clear.FirstName)+" "+model.MaskName(clear.LastName))

	h.openCustomer(id)
	screen = h.screen()
	assert.Contains(t, screen, "personal data masked")
	assert.Contains(t, screen, "hidden: needs permission to see personal data")
	assert.NotContains(t, screen, clear.Email)
	if clear.Address.Street != "" {
		assert.NotContains(t, screen, clear.Address.Street)
	}
	for _, b := range h.b.ShortHelp() {
		assert.NotEqual(t, "edit", b.Help().Desc, "no edit action is offered")
		assert.NotEqual(t, "new", b.Help().Desc, "no consent recording is offered")
	}
	h.press("e")
	assert.Nil(t, h.b.form)
	assert.Contains(t, h.lastToast(), "An analyst may not edit customers")
	h.press("n")
	assert.Nil(t, h.b.form)

	items, err := h.b.Search(string([]rune(clear.LastName)[0]), 5)
	require.NoError(t, err)
	require.NotEmpty(t, items)
	for _, it := range items {
		assert.NotContains(t, it.Title, clear.LastName, "palette titles are masked")
	}
}

func TestPaletteSearchFindsCustomers(t *testing.T) {
	h := newHarness(t, shared, screentest.Admin, 120, 37)
	c := customer(t, shared, h.visibleIDs()[3])
	items, err := h.b.Search(c.LastName, 8)
	require.NoError(t, err)
	i := slices.IndexFunc(items, func(it palette.Item) bool { return it.ID == "customer:"+c.ID.String() })
	require.GreaterOrEqual(t, i, 0, "found by last name")
	assert.Equal(t, c.DisplayName(), items[i].Title)
	assert.Equal(t, "customer", items[i].Kind)

	_, ok := h.b.PaletteChosen(palette.Item{ID: "campaign:3"})
	assert.False(t, ok, "other boxes' items are not taken")
	h.openCustomer(c.ID)
	assert.Equal(t, modeDetail, h.b.mode)
	assert.Contains(t, h.screen(), c.DisplayName())
}

func TestStoreChangesReloadTheOpenCustomer(t *testing.T) {
	s := screentest.DemoStore(t, 50)
	h := newHarness(t, s, screentest.Admin, 120, 37)
	id := h.visibleIDs()[0]
	h.openCustomer(id)
	before := len(h.b.view.data.History)
	var purpose model.PurposeID
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		p, err := r.PurposeByName("surveys")
		purpose = p.ID
		return err
	}))
	// Another session records a consent event for the customer.
	ev := model.ConsentEvent{CustomerID: id, Kind: model.ConsentOptIn, Channel: model.KindPostal, PurposeID: purpose, EffectiveAt: screentest.AsOf.Add(-time.Hour), Source: "letter"}
	require.NoError(t, s.Update(operator, func(tx *store.Tx) error { return tx.AppendConsent(&ev, nil) }))
	h.run(h.b.StoreChanged([]store.Change{{Kind: store.ChangeConsent, ID: uint64(id)}}))
	assert.Len(t, h.b.view.data.History, before+1)

	// A change to someone off screen does not reread the customer.
	seq := h.b.view.seq
	h.run(h.b.StoreChanged([]store.Change{{Kind: store.ChangeConsent, ID: uint64(id) + 1000}}))
	assert.Equal(t, seq, h.b.view.seq)
}

func TestTimelinePagesThroughManyInteractions(t *testing.T) {
	s := screentest.DemoStore(t, 20)
	id := model.CustomerID(3)
	base := screentest.AsOf.Add(-400 * 24 * time.Hour)
	require.NoError(t, s.Update(screentest.Admin, func(tx *store.Tx) error {
		for i := range 260 {
			it := model.Interaction{CustomerID: id, Kind: model.InteractionVisit, Channel: model.KindWeb, At: base.Add(time.Duration(i) * time.Hour), Note: fmt.Sprintf("/page/%d", i)}
			if err := tx.AddInteraction(&it); err != nil {
				return err
			}
		}
		return nil
	}))
	var want []string
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		all, _, err := r.Interactions(id, nil, 10000)
		for _, it := range all {
			want = append(want, it.At.UTC().Format("2006-01-02 15:04")+" "+string(it.Kind))
		}
		return err
	}))
	require.Greater(t, len(want), 260)

	h := newHarness(t, s, screentest.Admin, 80, 21)
	h.openCustomer(id)
	h.press("]", "]")
	require.Equal(t, secTimeline, h.b.view.sec)
	tbl := h.b.view.timeline.table
	row := func() string {
		r, ok := tbl.Selected()
		require.True(t, ok, "row %d is loaded", tbl.Cursor())
		return r.Cells[0] + " " + r.Cells[1]
	}
	var got []string
	for i := range want {
		if i > 0 {
			h.press("j")
		}
		got = append(got, row())
	}
	assert.Equal(t, want, got, "newest first, every row once")
	assert.Equal(t, len(want), tbl.Total(), "the end was reached")

	// Back up past the rows the table dropped, then jump to both ends.
	for range 200 {
		h.press("k")
	}
	assert.Equal(t, want[len(want)-201], row())
	h.press("g")
	assert.Equal(t, want[0], row())
	h.press("G")
	assert.Equal(t, want[len(want)-1], row())
	h.press("ctrl+u", "ctrl+u")
	assert.Equal(t, want[tbl.Cursor()], row())
}

func TestPurchasesShowTotals(t *testing.T) {
	c := findCustomer(t, shared, func(_ *store.Reader, c model.Customer) bool { return c.PurchaseCount >= 2 })
	h := newHarness(t, shared, screentest.Admin, 120, 37)
	h.openCustomer(c.ID)
	h.press("[")
	require.Equal(t, secPurchases, h.b.view.sec, "[ wraps to the last section")
	screen := h.screen()
	assert.Contains(t, screen, fmt.Sprintf("%d purchases · %s total", c.PurchaseCount, c.Revenue.Format("EUR")))
	assert.Len(t, h.b.view.purchases.table.VisibleRows(), c.PurchaseCount)
}

func TestWideLayoutShowsListAndDetail(t *testing.T) {
	h := newHarness(t, shared, screentest.Admin, 200, 57)
	first := h.visibleIDs()[0]
	assert.Equal(t, first, h.b.view.id, "the first row is previewed beside the list")
	h.press("j")
	second := h.visibleIDs()[1]
	assert.Equal(t, second, h.b.view.id, "the preview follows the cursor")
	screen := h.screen()
	assert.Contains(t, screen, "│")
	sc := customer(t, shared, second)
	assert.Contains(t, screen, sc.DisplayName())
	h.press("enter")
	assert.Equal(t, modeDetail, h.b.mode, "enter moves the keys to the detail")
	h.press("]")
	assert.Equal(t, secConsents, h.b.view.sec)
	h.press("esc")
	assert.Equal(t, modeList, h.b.mode)
	assert.Equal(t, second, h.b.view.id, "the detail stays beside the list")
}

func TestMouseWheelAndSectionClicks(t *testing.T) {
	h := newHarness(t, shared, screentest.Admin, 80, 21)
	// The box is drawn from screen row 1 (below the App's tab row); its
	// header and the column titles come first.
	h.send(tea.MouseWheelMsg{X: 10, Y: 6, Button: tea.MouseWheelDown})
	assert.Equal(t, 3, h.b.list.table.Cursor(), "the wheel scrolls the table")
	h.send(tea.MouseClickMsg{X: 10, Y: 4, Button: tea.MouseLeft})
	// Row 3 is the first table row; 4 the second on screen.
	assert.Equal(t, h.b.list.table.Offset()+1, h.b.list.table.Cursor(), "a click puts the cursor on the row")
	h.press("enter")
	require.Equal(t, modeDetail, h.b.mode)
	// The section row is the second line of the view: " Profile  [Consents]…"
	h.send(tea.MouseClickMsg{X: 12, Y: 2, Button: tea.MouseLeft})
	assert.Equal(t, secConsents, h.b.view.sec)
	h.send(tea.MouseClickMsg{X: 33, Y: 2, Button: tea.MouseLeft})
	assert.Equal(t, secPurchases, h.b.view.sec)
}
