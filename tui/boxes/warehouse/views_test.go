package warehouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/palette"
	"karton/tui/internal/screentest"
	"karton/tui/keys"
	"karton/tui/theme"
)

// showView switches the box to the sub-view named id, as the palette does.
func showView(t *testing.T, b *Box, rec *recorder, id string) {
	t.Helper()
	cmd, ok := b.PaletteChosen(palette.Item{ID: paletteView + id})
	require.True(t, ok, id)
	rec.settle(b, cmd)
	require.Equal(t, id, b.Active())
}

// typeText sends the runes of s as key presses.
func (r *recorder) typeText(b *Box, s string) {
	for _, c := range s {
		r.press(b, string(c))
	}
}

// gotos returns the jumps the box asked the App for.
func (r *recorder) gotos() []common.GotoMsg {
	var out []common.GotoMsg
	for _, m := range r.frame {
		if g, ok := m.(common.GotoMsg); ok {
			out = append(out, g)
		}
	}
	return out
}

func batches(t *testing.T, s *store.Store) []store.ImportBatch {
	t.Helper()
	var list []store.ImportBatch
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) (err error) {
		list, err = r.ImportBatches(0, 100)
		return err
	}))
	return list
}

func counter(t *testing.T, s *store.Store, name string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error { n = r.Counter(name); return nil }))
	return n
}

const bomFile = "../../../testdata/import/customers_bom.csv"

func TestImportWizardPreviewDryRunAndRun(t *testing.T) {
	s := screentest.EmptyStore(t)
	b, rec := testBox(t, s, 120, 40)
	showView(t, b, rec, "import")
	assert.False(t, b.Capturing(), "the form waits for enter, so ←/→ still switch views")

	rec.press(b, "enter")
	require.True(t, b.Capturing())
	rec.typeText(b, bomFile)
	rec.press(b, "enter", "enter") // entity: customers (the first)
	rec.typeText(b, "shop")
	rec.press(b, "enter")
	w := b.views[b.active].(*wizard)
	require.Equal(t, stepPreview, w.step, "toasts: %v", rec.toasts())
	require.NotNil(t, w.plan)
	screen := screentest.Plain(b.View())
	assert.Contains(t, screen, "customers_bom.csv · csv · utf-8-bom · delimiter ,")
	assert.Contains(t, screen, "into source shop")
	for _, want := range []string{"customer_id", "external_id", "zip", "postal_code", "birthday", "birth_date", "header"} {
		assert.Contains(t, screen, want, "the detected mapping shows")
	}
	assert.Contains(t, screen, "email=anna.schmidt@example.com")

	// Adjust the mapping: ignore the tags column, and the preview follows.
	tags := -1
	for i, c := range w.plan.Columns {
		if c.Header == "tags" {
			tags = i
		}
	}
	require.GreaterOrEqual(t, tags, 0)
	for range tags {
		rec.press(b, "j")
	}
	rec.press(b, "e")
	require.True(t, b.Capturing())
	for range 10 {
		rec.press(b, "backspace")
	}
	rec.typeText(b, "-")
	rec.press(b, "enter")
	require.Equal(t, "", w.plan.Columns[tags].Field, "tags ignored after the edit")
	assert.Equal(t, "map", w.plan.Columns[tags].By)

	// Dry run: every check, nothing written.
	rec.press(b, "d")
	require.Equal(t, stepDone, w.step)
	assert.True(t, w.batch.DryRun)
	assert.Equal(t, 3, w.batch.Read)
	assert.Zero(t, counter(t, s, "customers"), "a dry run writes no customer")
	assert.Empty(t, batches(t, s), "and no batch")
	assert.Contains(t, screentest.Plain(b.View()), "nothing was written")

	// The import itself, from the dry run's report.
	rec.press(b, "i")
	require.Equal(t, stepDone, w.step)
	require.NoError(t, w.runErr)
	list := batches(t, s)
	require.Len(t, list, 1)
	assert.Equal(t, "shop", list[0].Source)
	assert.Equal(t, "complete", list[0].Status)
	assert.Equal(t, int64(3), counter(t, s, "customers"))
	assert.Contains(t, screentest.Plain(b.View()), fmt.Sprintf("Imported as batch %d", list[0].ID))
	var started, ended int
	for _, m := range rec.frame {
		switch m := m.(type) {
		case common.TaskStartedMsg:
			if m.ID == wizTask {
				started++
			}
		case common.TaskEndedMsg:
			if m.ID == wizTask {
				ended++
			}
		}
	}
	assert.Equal(t, 2, started, "dry run and import show in the status bar")
	assert.Equal(t, 2, ended)
	// The import refreshed the quality snapshot, as `karton import` does.
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		q, ok, err := r.QualitySnapshot()
		assert.True(t, ok)
		assert.Equal(t, 3, q.Overall.Records)
		return err
	}))
}

// The result names the imported customers kept from contact because their
// email belongs to an erased person.
func TestImportWizardSaysWhoIsSuppressed(t *testing.T) {
	s := screentest.EmptyStore(t)
	require.NoError(t, s.Update(screentest.Admin, func(tx *store.Tx) error {
		c := model.Customer{Email: "anna.schmidt@example.com", LastName: "Schmidt"}
		if err := tx.InsertCustomer(&c); err != nil {
			return err
		}
		return tx.EraseCustomer(c.ID)
	}))
	b, rec := testBox(t, s, 160, 40)
	showView(t, b, rec, "import")
	rec.press(b, "enter")
	rec.typeText(b, bomFile)
	rec.press(b, "enter", "enter")
	rec.typeText(b, "shop")
	rec.press(b, "enter", "d", "i")
	w := b.views[b.active].(*wizard)
	require.Equal(t, stepDone, w.step)
	require.NoError(t, w.runErr)
	assert.Equal(t, 1, w.batch.Suppressed)
	assert.Contains(t, screentest.Plain(b.View()), "1 suppressed: their email or phone belongs to an erased person")
}

func TestImportWizardNamesAFileItCannotRead(t *testing.T) {
	s := screentest.EmptyStore(t)
	b, rec := testBox(t, s, 100, 30)
	showView(t, b, rec, "import")
	rec.press(b, "enter")
	rec.typeText(b, "no/such/file.csv")
	rec.press(b, "enter", "enter", "enter")
	w := b.views[b.active].(*wizard)
	assert.Equal(t, stepFile, w.step)
	toasts := rec.toasts()
	require.NotEmpty(t, toasts)
	assert.Contains(t, toasts[len(toasts)-1].What, "no/such/file.csv")
	assert.Contains(t, screentest.Plain(b.View()), "Cannot read the file")
}

func TestImportCancelStopsTheRun(t *testing.T) {
	s := screentest.EmptyStore(t)
	b, rec := testBox(t, s, 100, 30)
	showView(t, b, rec, "import")
	w := b.views[b.active].(*wizard)
	w.path.SetValue(bomFile)
	rec.settle(b, w.inspect())
	require.Equal(t, stepPreview, w.step)
	cmd := w.start(false) // not run yet: cancel first, as esc would mid-way
	require.True(t, b.Capturing(), "a running import takes esc")
	rec.press(b, "esc")
	rec.settle(b, cmd)
	assert.ErrorIs(t, w.runErr, context.Canceled)
	assert.Contains(t, screentest.Plain(b.View()), "Cancelled")
}

// lookAlikes stores two customers who look like one person and returns
// their ids.
func lookAlikes(t *testing.T, s *store.Store) (a, b model.CustomerID) {
	t.Helper()
	n := counter(t, s, "customers")
	require.NoError(t, s.Update(screentest.Admin, func(tx *store.Tx) error {
		x := &model.Customer{FirstName: "Jana", LastName: "Vogel", Email: fmt.Sprintf("jana%d@example.de", n), Address: model.Address{PostalCode: "10115", City: "Berlin", Country: "DE"}}
		y := &model.Customer{FirstName: "Jana", LastName: "Vogel", Email: fmt.Sprintf("j.vogel%d@example.com", n), Phone: fmt.Sprintf("+49151%08d", 12345678+n), Address: model.Address{Street: "Lindenstraße 4", PostalCode: "10115", City: "Berlin", Country: "DE"}}
		if err := tx.InsertCustomer(x); err != nil {
			return err
		}
		if err := tx.InsertCustomer(y); err != nil {
			return err
		}
		a, b = x.ID, y.ID
		return tx.SuggestMerge(a, b)
	}))
	return a, b
}

func TestMergeSuggestionMergeAndDismiss(t *testing.T) {
	s := screentest.EmptyStore(t)
	a, b2 := lookAlikes(t, s)
	c, d := lookAlikes(t, s)
	b, rec := testBox(t, s, 120, 40)
	showView(t, b, rec, "merges")
	v := b.views[b.active].(*merges)
	require.Len(t, v.pairs, 2)
	screen := screentest.Plain(b.View())
	assert.Contains(t, screen, "2 open")
	assert.Contains(t, screen, "jana0@example.de")
	assert.Contains(t, screen, "j.vogel0@example.com", "both records side by side")
	assert.Contains(t, screen, "operator", "the reason")
	assert.True(t, v.pairs[0].keepB, "the record with more data survives by default")

	// s swaps the survivor; m asks; n declines and nothing happens.
	rec.press(b, "s")
	assert.False(t, v.pairs[0].keepB)
	rec.press(b, "m")
	require.True(t, b.Capturing(), "the dialog has the keys")
	assert.Contains(t, screentest.Plain(b.View()), fmt.Sprintf("Merge %d into %d?", b2, a))
	rec.press(b, "n")
	assert.False(t, b.Capturing())
	assert.Equal(t, int64(2), counter(t, s, "merge_suggestions"))

	rec.press(b, "m", "y")
	assert.Equal(t, int64(1), counter(t, s, "merge_suggestions"))
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		into, ok := r.MergedInto(b2)
		assert.True(t, ok)
		assert.Equal(t, a, into, "the chosen survivor kept")
		return nil
	}))
	require.Len(t, v.pairs, 1, "the list was read again")
	assert.Equal(t, c, v.pairs[0].s.A)

	rec.press(b, "d")
	assert.Zero(t, counter(t, s, "merge_suggestions"))
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		list, err := r.MergeSuggestions(0, 0, 10, true)
		require.Len(t, list, 1)
		assert.True(t, list[0].Dismissed)
		assert.Equal(t, d, list[0].B)
		return err
	}))
	assert.Contains(t, screentest.Plain(b.View()), "No open merge suggestions")
	for _, tm := range rec.toasts() {
		assert.NoError(t, tm.Err)
	}
}

func TestMergesAreReadOnlyAndMaskedForAnalysts(t *testing.T) {
	s := screentest.EmptyStore(t)
	lookAlikes(t, s)
	c := &common.Context{Ctx: context.Background(), Store: s, Actor: model.Actor{Name: "ana", Role: model.RoleAnalyst, Via: "test"},
		Theme: theme.New(true).WithoutColor(), Keys: keys.New(), Now: screentest.Now}
	b := New(c)
	b.SetSize(120, 40)
	rec := &recorder{}
	rec.settle(b, b.Init())
	for _, v := range b.views {
		assert.NotEqual(t, "import", v.id(), "no import wizard without the import permission")
	}
	showView(t, b, rec, "merges")
	screen := screentest.Plain(b.View())
	assert.NotContains(t, screen, "jana0@example.de", "emails masked")
	assert.NotContains(t, screen, "Vogel", "names masked")
	assert.Contains(t, screen, "read-only")
	assert.NotContains(t, screen, "m merge")
	assert.Empty(t, b.views[b.active].keys(), "no merge keys in the help")
	rec.press(b, "m")
	assert.False(t, b.Capturing(), "m does nothing")
	assert.Equal(t, int64(1), counter(t, s, "merge_suggestions"))
}

func TestQualityCockpitMatchesTheStoreAndDrillsDown(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	b, rec := testBox(t, s, 120, 40)
	showView(t, b, rec, "quality")
	assert.Contains(t, screentest.Plain(b.View()), "No quality report")

	rec.press(b, "c")
	v := b.views[b.active].(*quality)
	require.True(t, v.has)
	// The figures `karton quality --json` prints: the same computation.
	want, err := s.ComputeQuality(screentest.Admin, model.QualityOptions{})
	require.NoError(t, err)
	want.ComputedAt = v.q.ComputedAt
	assert.Equal(t, want, v.q)
	screen := screentest.Plain(b.View())
	assert.Contains(t, screen, fmt.Sprintf("Score %.1f / 100", want.Overall.Score))

	// Worst fields first, as the CLI orders them.
	list := v.issues()
	require.NotEmpty(t, list)
	worst := want.Overall.Worst()
	assert.Equal(t, worst[0].Field, list[0].field)

	// enter: the customers behind the first line, from the store's drill-down.
	rec.press(b, "enter")
	gotos := rec.gotos()
	require.Len(t, gotos, 1)
	assert.Equal(t, common.BoxCustomers, gotos[0].Box)
	ids, ok := strings.CutPrefix(gotos[0].Item.ID, common.ItemCustomerIDs)
	require.True(t, ok, gotos[0].Item.ID)
	var page store.QualityIssuePage
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) (err error) {
		page, err = r.QualityIssues(store.QualityIssueQuery{Field: list[0].field, Problem: list[0].problem, Limit: 1000})
		return err
	}))
	var wantIDs []string
	for _, c := range page.Customers {
		wantIDs = append(wantIDs, strconv.FormatUint(uint64(c.ID), 10))
	}
	assert.Equal(t, strings.Join(wantIDs, ","), ids)
	assert.Len(t, wantIDs, list[0].count, "the drill-down finds as many as the report counts")
	assert.Contains(t, gotos[0].Item.Title, list[0].label())

	// s: one source's figures.
	rec.press(b, "s")
	require.Equal(t, 1, v.scope)
	assert.Contains(t, screentest.Plain(b.View()), "source "+want.Sources[0].Source)
}

func TestSourcesNumbersMatchKPIsAndQuality(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	q, err := s.ComputeQuality(screentest.Admin, model.QualityOptions{})
	require.NoError(t, err)
	b, rec := testBox(t, s, 140, 45)
	showView(t, b, rec, "sources")
	v := b.views[b.active].(*sources)

	// `karton kpi --by channel_kind` over its default 90 days.
	to := model.DateOf(screentest.Now())
	from := model.DateOf(to.Time().AddDate(0, 0, -89))
	var kpi store.KPIReport
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) (err error) {
		kpi, err = r.KPIs(store.KPIQuery{From: from.Time(), To: to.Time(), By: store.KPIByChannelKind})
		return err
	}))
	assert.Equal(t, kpi.Total, v.d.Funnel.Total)
	assert.Equal(t, kpi.Rows, v.d.Funnel.Rows)
	require.NotNil(t, v.d.Quality)
	assert.Equal(t, q.Overall.Score, v.d.Quality.Overall.Score)

	screen := screentest.Plain(b.View())
	for _, want := range []string{
		fmtInt(counter(t, s, "customers")),
		score1(q.Overall.Score) + " / 100",
		fmtInt(kpi.Total.Contacts),
		fmtInt(kpi.Total.Conversions),
		fmt.Sprintf("%s purchases", fmtInt(counter(t, s, "purchases"))),
	} {
		assert.Contains(t, screen, want)
	}
	// The funnel shows the channel kinds' figures one after another.
	rec.press(b, "f")
	assert.Contains(t, screentest.Plain(b.View()), "Funnel · "+kpi.Rows[0].Label)
	assert.Contains(t, screentest.Plain(b.View()), fmtInt(kpi.Rows[0].Contacts))
}

func TestSourceDrillDown(t *testing.T) {
	s := screentest.EmptyStore(t)
	b, rec := testBox(t, s, 120, 40)
	showView(t, b, rec, "import")
	w := b.views[b.active].(*wizard)
	w.path.SetValue(bomFile)
	w.source.SetValue("crm")
	rec.settle(b, w.inspect())
	rec.press(b, "i")
	require.Len(t, batches(t, s), 1)

	showView(t, b, rec, "sources")
	assert.Contains(t, screentest.Plain(b.View()), "crm")
	rec.press(b, "enter")
	gotos := rec.gotos()
	require.Len(t, gotos, 1)
	assert.Equal(t, common.ItemCustomerFilter+"source:crm", gotos[0].Item.ID)
}

func TestRFMSegmentDrillDown(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	putDemoScores(t, s)
	b, rec := testBox(t, s, 120, 40)
	showView(t, b, rec, "rfm")
	rec.press(b, "j", "enter")
	gotos := rec.gotos()
	require.Len(t, gotos, 1)
	seg := model.RFMSegments()[1]
	assert.Equal(t, common.ItemCustomerFilter+"segment:"+quoteValue(seg.String()), gotos[0].Item.ID)
	assert.Equal(t, common.BoxCustomers, gotos[0].Box)
}

func TestCLVViewAndDrillDown(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	b, rec := testBox(t, s, 120, 40)
	showView(t, b, rec, "clv")
	assert.Contains(t, screentest.Plain(b.View()), "karton analytics run")

	sum := store.CLVSummary{ComputedAt: screentest.AsOf, Months: 12, AnnualDiscount: 0.1, Scored: 30, Mean: 5000,
		Histogram: []store.CLVBin{{From: 0, To: 10000, Customers: 20}, {From: 10000, To: 0, Customers: 10}}}
	rec.settle(b, b.Update(clvLoadedMsg{seq: b.views[b.active].state().seq, sum: sum, ok: true, currency: "EUR"}))
	screen := screentest.Plain(b.View())
	assert.Contains(t, screen, "30 customers")
	rec.press(b, "j", "enter")
	gotos := rec.gotos()
	require.Len(t, gotos, 1)
	assert.Equal(t, common.ItemCustomerFilter+"clv:10000-", gotos[0].Item.ID)
}

// TestNewViewsFillExactlyTheirSize checks every view at the sizes the
// goldens and the tmux checks use.
func TestNewViewsFillExactlyTheirSize(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	lookAlikes(t, s)
	_, err := s.ComputeQuality(screentest.Admin, model.QualityOptions{})
	require.NoError(t, err)
	for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
		b, rec := testBox(t, s, size[0], size[1])
		for _, id := range []string{"sources", "clv", "quality", "merges", "import"} {
			showView(t, b, rec, id)
			lines := strings.Split(b.View(), "\n")
			require.Len(t, lines, size[1], "%s at %v", id, size)
			for i, l := range lines {
				assert.LessOrEqual(t, len([]rune(screentest.Plain(l))), size[0], "%s line %d at %v", id, i, size)
			}
		}
	}
}
