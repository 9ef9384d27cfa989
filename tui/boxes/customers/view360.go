package customers

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"karton/model"
	"karton/store"
	"karton/tui/common"
)

// section is a sub-tab of the 360° view.
type section int

const (
	secProfile section = iota
	secConsents
	secTimeline
	secPurchases
	numSections
)

var sectionTitles = [numSections]string{"Profile", "Consents", "Timeline", "Purchases"}

// customerData is what the 360° view shows besides the paged timeline and
// purchases: read in one transaction, so the profile, the matrix and the
// history agree with each other.
type customerData struct {
	Customer model.Customer
	Scores   store.CustomerScores
	Scored   bool
	Purposes []model.Purpose
	// Decisions[k][p] is the decision now for model.ChannelKinds[k] and
	// Purposes[p], from store Check (the full decision table, not the
	// projection, so time-dependent rules such as a stale consent are
	// exact).
	Decisions [][]store.CheckResult
	// History is the consent ledger of the customer, newest first, and
	// Evidence the evidence of its events (none when masked or erased).
	History  []model.ConsentEvent
	Evidence map[model.EventID]model.Evidence
	// Channels names channel ids in the timeline.
	Channels map[model.ChannelID]string
	Currency string
	// Unmasked records whether the data was read in clear, so the screen
	// offers editing only on data that is not masked.
	Unmasked bool
}

// purposeName returns the slug of a purpose id.
func (d *customerData) purposeName(id model.PurposeID) string {
	for _, p := range d.Purposes {
		if p.ID == id {
			return p.Name
		}
	}
	if id == 0 {
		return ""
	}
	return "#" + id.String()
}

// customerLoadedMsg carries the 360° view's data.
type customerLoadedMsg struct {
	seq  uint64
	id   model.CustomerID
	data *customerData
	err  error
}

// loadCustomer reads everything the 360° view shows but the paged lists.
func loadCustomer(s *store.Store, actor model.Actor, id model.CustomerID) (*customerData, error) {
	d := &customerData{Currency: s.Settings().Currency}
	err := s.View(actor, func(r *store.Reader) error {
		d.Unmasked = r.Unmasked()
		c, err := r.Customer(id)
		if err != nil {
			return err
		}
		d.Customer = c
		if d.Scores, d.Scored, err = r.Scores(id); err != nil {
			return err
		}
		if d.Purposes, err = r.Purposes(); err != nil {
			return err
		}
		hist, err := r.ConsentHistory(id)
		if err != nil {
			return err
		}
		slices.Reverse(hist)
		d.History = hist
		d.Evidence = make(map[model.EventID]model.Evidence)
		for _, e := range hist {
			if !e.HasEvidence {
				continue
			}
			ev, err := r.Evidence(e.ID)
			if err != nil {
				return err
			}
			if ev != nil {
				d.Evidence[e.ID] = ev
			}
		}
		chans, err := r.Channels()
		if err != nil {
			return err
		}
		d.Channels = make(map[model.ChannelID]string, len(chans))
		for _, ch := range chans {
			d.Channels[ch.ID] = ch.Name
		}
		d.Decisions = make([][]store.CheckResult, len(model.ChannelKinds))
		for i, k := range model.ChannelKinds {
			d.Decisions[i] = make([]store.CheckResult, len(d.Purposes))
			for j, p := range d.Purposes {
				res, err := r.Check(store.CheckInput{Customer: id, Channel: k, Purpose: p.ID})
				if err != nil {
					return fmt.Errorf("check %s/%s: %w", k, p.Name, err)
				}
				d.Decisions[i][j] = res
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// view360 is the customer 360° view: a header, the section tabs and the
// section shown.
type view360 struct {
	c *common.Context

	id      model.CustomerID
	seq     uint64
	loading bool
	err     error
	data    *customerData

	sec     section
	focused bool
	// spinner is drawn at the end of the title while something loads; the
	// box sets it before drawing (it owns the one spinner).
	spinner string

	w, h             int
	originX, originY int

	profile   *profilePane
	consents  *consentsPane
	timeline  *activityPane
	purchases *activityPane
}

func newView360(c *common.Context) *view360 {
	v := &view360{c: c}
	v.profile = newProfilePane(c)
	v.consents = newConsentsPane(c)
	v.timeline = newTimelinePane(c)
	v.purchases = newPurchasesPane(c)
	return v
}

// open shows a customer: the data, and the first pages of the timeline and
// purchases. Opening the customer already shown refreshes it in place.
func (v *view360) open(id model.CustomerID) tea.Cmd {
	if id != v.id {
		v.data, v.err = nil, nil
		v.profile.scroll = 0
		v.consents.resetCursor()
	}
	v.id = id
	return tea.Batch(v.reload(), v.timeline.open(id), v.purchases.open(id))
}

// reload rereads the customer's data (after an edit, a recorded consent or
// a change from another session).
func (v *view360) reload() tea.Cmd {
	if v.id == 0 {
		return nil
	}
	v.seq++
	v.loading = true
	seq, id, s, actor := v.seq, v.id, v.c.Store, v.c.Actor
	return func() tea.Msg {
		d, err := loadCustomer(s, actor, id)
		return customerLoadedMsg{seq: seq, id: id, data: d, err: err}
	}
}

// refreshAll rereads the data and the lists in place.
func (v *view360) refreshAll() tea.Cmd {
	if v.id == 0 {
		return nil
	}
	return tea.Batch(v.reload(), v.timeline.reload(), v.purchases.reload())
}

// busy reports whether the view waits for any of its reads.
func (v *view360) busy() bool {
	return v.loading || v.timeline.table.Loading() || v.purchases.table.Loading() || v.consents.history.Loading()
}

// close forgets the customer (the narrow layout's esc).
func (v *view360) close() {
	v.id, v.data, v.err, v.loading = 0, nil, nil, false
	v.seq++
	v.timeline.close()
	v.purchases.close()
}

func (v *view360) setSize(w, h int) {
	v.w, v.h = max(w, 0), max(h, 0)
	bh := v.bodyHeight()
	v.profile.setSize(v.w, bh)
	v.consents.setSize(v.w, bh)
	v.timeline.setSize(v.w, bh)
	v.purchases.setSize(v.w, bh)
	v.setOrigin(v.originX, v.originY)
}

func (v *view360) setOrigin(x, y int) {
	v.originX, v.originY = x, y
	top := y + v.h - v.bodyHeight()
	v.consents.setOrigin(x, top)
	v.timeline.setOrigin(x, top)
	v.purchases.setOrigin(x, top)
}

// headerLines is the title and the section row, plus a rule when there is
// room for it.
func (v *view360) headerLines() int {
	if v.h >= 16 {
		return 3
	}
	return 2
}

func (v *view360) bodyHeight() int { return max(v.h-v.headerLines(), 1) }

func (v *view360) setFocus(f bool) {
	v.focused = f
	v.timeline.setFocus(f)
	v.purchases.setFocus(f)
	v.consents.setFocus(f)
}

// canEdit reports whether edit actions are offered: the role may edit and
// the data on screen is in clear (a form filled from masked data would
// write the masks back).
func (v *view360) canEdit() bool {
	return v.data != nil && v.data.Unmasked && !v.data.Customer.Erased &&
		v.c.Can(model.PermEditCustomers) && v.c.Can(model.PermSeePersonalData)
}

func (v *view360) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case customerLoadedMsg:
		if msg.seq != v.seq || msg.id != v.id {
			return nil
		}
		v.loading = false
		if msg.err != nil {
			v.err = msg.err
			return common.Fail(fmt.Sprintf("load customer #%d", msg.id), msg.err)
		}
		v.err, v.data = nil, msg.data
		v.profile.setData(v.data)
		v.consents.setData(v.data)
		v.purchases.setData(v.data)
		v.timeline.setData(v.data)
		return v.consents.historyReset()
	case tea.KeyPressMsg:
		if !v.focused {
			return nil
		}
		km := v.c.Keys
		switch {
		case key.Matches(msg, km.NextSection):
			v.sec = (v.sec + 1) % numSections
			return nil
		case key.Matches(msg, km.PrevSection):
			v.sec = (v.sec + numSections - 1) % numSections
			return nil
		}
		switch v.sec {
		case secProfile:
			return v.profile.update(msg)
		case secConsents:
			return v.consents.update(msg)
		case secTimeline:
			return v.timeline.update(msg)
		case secPurchases:
			return v.purchases.update(msg)
		}
	case tea.MouseClickMsg:
		if sec, ok := v.sectionAt(msg.X, msg.Y); ok {
			v.sec = sec
			return nil
		}
		return v.routeMouse(msg)
	case tea.MouseMsg:
		return v.routeMouse(msg)
	}
	// Replies for the lists.
	return tea.Batch(v.timeline.update(msg), v.purchases.update(msg), v.consents.update(msg))
}

func (v *view360) routeMouse(msg tea.Msg) tea.Cmd {
	switch v.sec {
	case secConsents:
		return v.consents.update(msg)
	case secTimeline:
		return v.timeline.update(msg)
	case secPurchases:
		return v.purchases.update(msg)
	case secProfile:
		return v.profile.update(msg)
	}
	return nil
}

// sectionAt maps a click on the section row to a section.
func (v *view360) sectionAt(x, y int) (section, bool) {
	if y != v.originY+1 {
		return 0, false
	}
	x -= v.originX
	at := 0
	for i, t := range sectionTitles {
		w := ansi.StringWidth(t) + 2
		if x >= at && x < at+w {
			return section(i), true
		}
		at += w + 1
	}
	return 0, false
}

// keys are the bindings live in the 360° view, for the footer and help.
func (v *view360) keys() []key.Binding {
	km := v.c.Keys
	out := []key.Binding{km.PrevSection, km.NextSection}
	switch v.sec {
	case secProfile:
		out = append(out, km.Down, km.Up)
	case secConsents:
		out = append(out, km.Down, km.Up, km.Left, km.Right)
	default:
		out = append(out, km.Down, km.Up, km.Top, km.Bottom)
	}
	if v.canEdit() {
		out = append(out, km.Edit, km.New)
	}
	return append(out, km.Refresh, km.Back)
}

// View draws the view, exactly w × h.
func (v *view360) View() string {
	th := v.c.Theme
	if v.w <= 0 || v.h <= 0 {
		return ""
	}
	lines := make([]string, 0, v.h)
	title := v.title()
	if v.spinner != "" {
		title = fit(title, v.w-ansi.StringWidth(v.spinner)-1) + " " + v.spinner
	}
	lines = append(lines, fit(title, v.w))
	lines = append(lines, v.sectionRow())
	if v.headerLines() == 3 {
		lines = append(lines, th.Muted.Render(strings.Repeat("─", v.w)))
	}
	var body string
	switch {
	case v.id == 0:
		body = th.Muted.Render("no customer selected")
	case v.data == nil && v.err != nil:
		body = th.Bad.Render(wrapText("could not load customer #"+v.id.String()+": "+v.err.Error(), v.w))
	case v.data == nil:
		body = th.TableLoading.Render(fmt.Sprintf("loading customer #%d…", v.id))
	default:
		switch v.sec {
		case secProfile:
			body = v.profile.View()
		case secConsents:
			body = v.consents.View()
		case secTimeline:
			body = v.timeline.View()
		case secPurchases:
			body = v.purchases.View()
		}
	}
	lines = append(lines, body)
	return lipgloss.NewStyle().Width(v.w).Height(v.h).MaxHeight(v.h).MaxWidth(v.w).Render(strings.Join(lines, "\n"))
}

// title is the header line: who, and the figures that matter at a glance.
func (v *view360) title() string {
	th := v.c.Theme
	if v.data == nil {
		if v.id == 0 {
			return th.Title.Render("Customer")
		}
		return th.Title.Render("Customer #" + v.id.String())
	}
	c := &v.data.Customer
	parts := []string{"#" + c.ID.String()}
	if c.Address.City != "" {
		parts = append(parts, c.Address.City)
	}
	parts = append(parts, c.Revenue.FormatShort(v.data.Currency))
	if !c.LastActivityAt.IsZero() {
		parts = append(parts, "active "+ago(v.c.Now(), c.LastActivityAt))
	}
	if !v.data.Unmasked {
		parts = append(parts, "personal data masked")
	}
	return th.Title.Render(c.DisplayName()) + "  " + th.Muted.Render(strings.Join(parts, " · "))
}

func (v *view360) sectionRow() string {
	th := v.c.Theme
	var b strings.Builder
	for i, t := range sectionTitles {
		if i > 0 {
			b.WriteString(" ")
		}
		// The brackets mark the section without colour (NO_COLOR,
		// goldens); the style marks it with.
		label := " " + t + " "
		if section(i) == v.sec {
			label = "[" + t + "]"
			b.WriteString(th.TabActive.UnsetPadding().Render(label))
		} else {
			b.WriteString(th.TabInactive.UnsetPadding().Render(label))
		}
	}
	row := b.String()
	hint := th.Muted.Render("[ ] section")
	if gap := v.w - ansi.StringWidth(row) - ansi.StringWidth(hint); gap >= 2 {
		row += strings.Repeat(" ", gap) + hint
	}
	return fit(row, v.w)
}

// ago renders a past time relative to now: "today", "3 days ago", or the
// date when it is more than a year back.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return t.UTC().Format("2006-01-02")
	case d < 24*time.Hour:
		return "today"
	case d < 48*time.Hour:
		return "yesterday"
	case d < 60*24*time.Hour:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	case d < 365*24*time.Hour:
		return fmt.Sprintf("%d months ago", int(d.Hours()/24/30))
	}
	return t.UTC().Format("2006-01-02")
}

// fit cuts or pads a (possibly styled) line to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-n)
}

// wrapText wraps text to w cells at spaces, cutting only words longer
// than a line.
func wrapText(s string, w int) string {
	if w <= 0 {
		return s
	}
	return ansi.Hardwrap(ansi.Wordwrap(s, w, ""), w, true)
}
