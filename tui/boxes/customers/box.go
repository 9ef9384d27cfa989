// Package customers is the Customers box of the cockpit: a virtual table
// over every customer in the store (sortable by name, last activity and
// value; filtered by name or email prefix, tag, city and consent state),
// and the customer 360° view with its sections Profile, Consents,
// Timeline and Purchases, where a customer is edited and consent events
// are recorded.
//
// Every store call runs in a tea.Cmd; replies carry the sequence number of
// their request and stale ones are dropped. Personal data arrives masked
// from the store's Reader for roles that may not see it; the box never
// reads around the Reader, and it offers editing only on data read in
// clear by a role that may edit.
//
// Layout: from 140 columns the list and the 360° view of the row under the
// cursor sit side by side (enter moves the keyboard to the view, esc back
// to the list); below that the list fills the box and enter opens the view
// full-size.
package customers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/confirm"
	"karton/tui/components/form"
	"karton/tui/components/palette"
	"karton/tui/components/vtable"
	"karton/tui/theme"
)

// mode says who has the keyboard inside the box. A form, when open, comes
// before the mode (see Box.form).
type mode int

const (
	modeList   mode = iota // the table
	modeFilter             // the filter input
	modeDetail             // the 360° view
)

// wideWidth is the width from which list and detail sit side by side.
const wideWidth = 140

// bodyTop is the screen row of the box's first line: the App draws its
// tab row above the boxes. Mouse events come in screen coordinates.
const bodyTop = 1

// previewDelay lets the cursor rest before the side view loads the row
// under it, so holding j does not read a customer per row passed.
const previewDelay = 120 * time.Millisecond

// Box is the Customers box. Build it with New.
type Box struct {
	c *common.Context

	list *list
	view *view360
	mode mode
	form *activeForm
	// confirm asks before an erasure; erasing is set while one runs.
	confirm *confirm.Dialog
	erasing bool

	input     textinput.Model
	filterErr string
	purposes  []model.Purpose

	w, h int
	wide bool

	spin     spinner.Model
	spinning bool

	formSeq    uint64
	previewSeq uint64

	filterKeys []key.Binding
}

var _ common.Box = (*Box)(nil)
var _ common.Searcher = (*Box)(nil)

// purposesLoadedMsg carries the purposes the filter's consent: names.
type purposesLoadedMsg struct {
	purposes []model.Purpose
	err      error
}

// previewDueMsg fires when the cursor has rested on a row (wide layout).
type previewDueMsg struct{ seq uint64 }

// New builds the box for one session.
func New(c *common.Context) *Box {
	b := &Box{c: c}
	b.list = newList(c)
	b.view = newView360(c)
	b.confirm = confirm.New(c.Theme, c.Keys)
	b.input = textinput.New()
	b.input.Prompt = "/ "
	b.input.Placeholder = `name or email prefix, tag:vip, city:"Bad Homburg", consent:email/newsletter`
	b.input.SetStyles(c.Theme.TextInput())
	b.spin = spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(c.Theme.Accent))
	b.filterKeys = []key.Binding{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply filter")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
	return b
}

// Title implements common.Box.
func (b *Box) Title() string { return "Customers" }

// Short implements common.Box.
func (b *Box) Short() string { return "Cust" }

// Init loads the first page, the total and the purposes.
func (b *Box) Init() tea.Cmd {
	s, actor := b.c.Store, b.c.Actor
	loadPurposes := func() tea.Msg {
		var ps []model.Purpose
		err := s.View(actor, func(r *store.Reader) error {
			var err error
			ps, err = r.Purposes()
			return err
		})
		return purposesLoadedMsg{purposes: ps, err: err}
	}
	return tea.Batch(b.list.reset(), loadPurposes, b.startSpinner())
}

// SetSize implements common.Box.
func (b *Box) SetSize(w, h int) {
	b.w, b.h = max(w, 0), max(h, 0)
	b.wide = b.w >= wideWidth
	b.layout()
}

// SetTheme implements common.Box.
func (b *Box) SetTheme(th *theme.Theme) {
	b.c.Theme = th
	b.list.table.SetTheme(th)
	b.view.consents.history.SetTheme(th)
	b.view.timeline.table.SetTheme(th)
	b.view.purchases.table.SetTheme(th)
	b.input.SetStyles(th.TextInput())
	b.spin.Style = th.Accent
	b.confirm.SetTheme(th)
	if b.form != nil && b.form.form != nil {
		b.form.form.WithTheme(form.Theme(th))
	}
}

// Capturing implements common.Box: the filter input and the forms take
// every key.
func (b *Box) Capturing() bool { return b.mode == modeFilter || b.form != nil || b.confirm.Active() }

// headerLines is the box's own header: the title line, and the filter
// input or its error when there is one.
func (b *Box) headerLines() int {
	n := 1
	if b.mode == modeFilter {
		n++
	}
	return n + len(b.filterErrLines())
}

// filterErrLines is the filter's error wrapped to the box, at most three
// lines.
func (b *Box) filterErrLines() []string {
	if b.filterErr == "" {
		return nil
	}
	lines := strings.Split(wrapText(b.filterErr, max(b.w, 20)), "\n")
	return lines[:min(len(lines), 3)]
}

// listWidth is the table's width: all of it on narrow terminals.
func (b *Box) listWidth() int {
	if !b.wide {
		return b.w
	}
	return b.w * 11 / 20
}

func (b *Box) layout() {
	hl := b.headerLines()
	bodyH := max(b.h-hl, 1)
	lw := b.listWidth()
	b.list.table.SetSize(lw, bodyH)
	b.list.table.SetOrigin(0, bodyTop+hl)
	b.input.SetWidth(max(b.w-4, 10))
	b.confirm.SetSize(b.w, b.h)
	if b.wide {
		dw := b.w - lw - 1
		b.view.setSize(dw, bodyH)
		b.view.setOrigin(lw+1, bodyTop+hl)
	} else {
		b.view.setSize(b.w, b.h)
		b.view.setOrigin(0, bodyTop)
	}
	b.sizeForm()
}

// detailSize is the room the 360° view or a form gets.
func (b *Box) detailSize() (int, int) {
	if b.wide {
		return b.w - b.listWidth() - 1, max(b.h-b.headerLines(), 1)
	}
	return b.w, b.h
}

// detailShown reports whether the 360° view is on screen.
func (b *Box) detailShown() bool { return b.wide || b.mode == modeDetail }

// Update implements common.Box.
func (b *Box) Update(msg tea.Msg) tea.Cmd {
	cmd := b.update(msg)
	if b.loading() && !b.spinning {
		return tea.Batch(cmd, b.startSpinner())
	}
	return cmd
}

// loading reports whether any read or write of the box is in flight: the
// header's spinner turns while it is.
func (b *Box) loading() bool {
	return b.list.loading() || b.view.busy() || (b.form != nil && b.form.saving) || b.erasing
}

func (b *Box) startSpinner() tea.Cmd {
	b.spinning = true
	return b.spin.Tick
}

func (b *Box) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case spinner.TickMsg:
		if msg.ID != b.spin.ID() {
			return nil
		}
		if !b.loading() {
			b.spinning = false
			return nil
		}
		var cmd tea.Cmd
		b.spin, cmd = b.spin.Update(msg)
		return cmd
	case purposesLoadedMsg:
		if msg.err != nil {
			return common.Fail("load purposes", msg.err)
		}
		b.purposes = msg.purposes
		return nil
	case vtable.RowsFetchedMsg:
		if msg.Table != tableID {
			return b.view.update(msg)
		}
		cmd := b.list.update(msg)
		if err := b.list.table.Err(); err != nil && msg.Err != nil {
			return tea.Batch(cmd, common.Fail("load customers", err))
		}
		if b.wide && b.view.id == 0 {
			return tea.Batch(cmd, b.preview())
		}
		// A new order or filter put another row under the cursor.
		return tea.Batch(cmd, b.schedulePreview())
	case totalLoadedMsg:
		return b.list.update(msg)
	case previewDueMsg:
		if msg.seq != b.previewSeq {
			return nil
		}
		return b.preview()
	case customerLoadedMsg, activityFetchedMsg:
		return b.view.update(msg)
	case formSubmittedMsg:
		return b.formSubmitted(msg)
	case formCancelledMsg:
		if b.form != nil && msg.seq == b.form.seq {
			b.form = nil
			b.layout()
		}
		return nil
	case customerEditedMsg:
		return b.customerEdited(msg)
	case consentRecordedMsg:
		return b.consentRecorded(msg)
	case confirm.AnsweredMsg:
		return b.answered(msg)
	case customerErasedMsg:
		return b.customerErased(msg)
	case tea.KeyPressMsg:
		return b.key(msg)
	case tea.MouseMsg:
		return b.mouse(msg)
	}
	// Anything else belongs to an open form (huh's field messages,
	// cursor blinks) or to the view's tables.
	if b.form != nil && b.form.form != nil && !b.form.saving {
		_, cmd := b.form.form.Update(msg)
		return cmd
	}
	return nil
}

// preview shows the row under the cursor in the side view (wide layout).
func (b *Box) preview() tea.Cmd {
	if !b.wide || b.form != nil {
		return nil
	}
	id, ok := b.list.selectedID()
	if !ok || id == b.view.id {
		return nil
	}
	return b.view.open(id)
}

func (b *Box) key(msg tea.KeyPressMsg) tea.Cmd {
	km := b.c.Keys
	if b.confirm.Active() {
		return b.confirm.Update(msg)
	}
	if b.form != nil {
		if b.form.saving {
			return nil // the write is in flight; its answer closes or reopens the form
		}
		_, cmd := b.form.form.Update(msg)
		return cmd
	}
	switch b.mode {
	case modeFilter:
		switch {
		case key.Matches(msg, b.filterKeys[0]):
			return b.applyFilter()
		case key.Matches(msg, b.filterKeys[1]):
			b.mode, b.filterErr = modeList, ""
			b.input.Blur()
			b.layout()
			return nil
		}
		var cmd tea.Cmd
		b.input, cmd = b.input.Update(msg)
		if b.filterErr != "" {
			b.filterErr = "" // the text the error was about has changed
			b.layout()
		}
		return cmd
	case modeDetail:
		switch {
		case key.Matches(msg, km.Back):
			b.mode = modeList
			b.view.setFocus(false)
			b.list.table.Focus()
			if !b.wide {
				b.view.close()
			}
			return nil
		case key.Matches(msg, km.Edit):
			return b.openEdit()
		case key.Matches(msg, km.New):
			return b.openConsentForm()
		case key.Matches(msg, km.Refresh):
			return b.view.refreshAll()
		}
		return b.view.update(msg)
	}
	// The list.
	switch {
	case key.Matches(msg, km.Filter):
		b.mode = modeFilter
		b.input.SetValue(b.list.filter.Raw)
		b.input.CursorEnd()
		b.layout()
		return b.input.Focus()
	case key.Matches(msg, km.Sort):
		if d := b.list.filter.describe(); d != "" {
			return common.Info("rows come in the filter's index order (" + d + "); clear the filter (esc) to sort")
		}
		return b.list.cycleSort()
	case key.Matches(msg, km.Back):
		if !b.list.filter.empty() {
			b.filterErr = ""
			b.layout()
			return b.list.setFilter(filterSpec{})
		}
		return nil
	case key.Matches(msg, km.Open):
		return b.openSelected()
	case key.Matches(msg, km.Refresh):
		return tea.Batch(b.list.reload(), b.view.refreshAll())
	case b.wide && key.Matches(msg, km.Edit):
		return b.openEdit()
	case b.wide && key.Matches(msg, km.New):
		return b.openConsentForm()
	}
	return tea.Batch(b.list.table.Update(msg), b.schedulePreview())
}

// schedulePreview asks for the row under the cursor to be shown beside
// the list once the cursor has rested there (wide layout, list focused).
func (b *Box) schedulePreview() tea.Cmd {
	if !b.wide || b.mode != modeList || b.form != nil {
		return nil
	}
	id, ok := b.list.selectedID()
	if !ok || id == b.view.id {
		return nil
	}
	b.previewSeq++
	seq := b.previewSeq
	return tea.Tick(previewDelay, func(time.Time) tea.Msg { return previewDueMsg{seq: seq} })
}

// openSelected opens the 360° view of the row under the cursor.
func (b *Box) openSelected() tea.Cmd {
	id, ok := b.list.selectedID()
	if !ok {
		return nil
	}
	return b.openCustomer(id)
}

// openCustomer shows a customer's 360° view and gives it the keyboard.
func (b *Box) openCustomer(id model.CustomerID) tea.Cmd {
	b.mode = modeDetail
	b.list.table.Blur()
	b.view.setFocus(true)
	b.layout()
	if id == b.view.id && b.view.data != nil {
		return nil
	}
	return b.view.open(id)
}

func (b *Box) applyFilter() tea.Cmd {
	f, err := parseFilter(b.input.Value(), b.purposes, b.c.Actor)
	if err != nil {
		b.filterErr = err.Error()
		return nil
	}
	b.mode, b.filterErr = modeList, ""
	b.input.Blur()
	b.layout()
	return b.list.setFilter(f)
}

func (b *Box) mouse(msg tea.MouseMsg) tea.Cmd {
	if b.confirm.Active() {
		return b.confirm.Update(msg)
	}
	if b.form != nil {
		return nil
	}
	m := msg.Mouse()
	if b.detailShown() && (!b.wide || m.X > b.listWidth()) {
		if _, ok := msg.(tea.MouseClickMsg); ok && b.wide && b.mode != modeDetail && b.view.id != 0 {
			b.mode = modeDetail
			b.list.table.Blur()
			b.view.setFocus(true)
		}
		return b.view.update(msg)
	}
	if _, ok := msg.(tea.MouseClickMsg); ok && b.mode == modeDetail && b.wide {
		b.mode = modeList
		b.view.setFocus(false)
		b.list.table.Focus()
	}
	cmd := b.list.table.Update(msg)
	if b.wide {
		return tea.Batch(cmd, b.preview())
	}
	return cmd
}

// --- forms ----------------------------------------------------------------

func (b *Box) refuseEdit() tea.Cmd {
	if b.view.data == nil {
		return nil
	}
	switch {
	case b.view.data.Customer.Erased:
		return common.Info("an erased customer cannot be edited")
	case !b.c.Can(model.PermEditCustomers) || !b.c.Can(model.PermSeePersonalData):
		return common.Info(fmt.Sprintf("%s may not edit customers or record consent", strings.ToUpper(roleOf(b.c.Actor)[:1])+roleOf(b.c.Actor)[1:]))
	}
	return nil
}

func (b *Box) openEdit() tea.Cmd {
	if !b.view.canEdit() {
		return b.refuseEdit()
	}
	d := b.view.data
	b.formSeq++
	b.form = &activeForm{
		kind: formEditProfile, seq: b.formSeq, cid: d.Customer.ID, base: d.Customer,
		title:   "Edit " + d.Customer.DisplayName() + " · #" + d.Customer.ID.String(),
		profile: profileFrom(&d.Customer),
	}
	return b.buildForm()
}

func (b *Box) openConsentForm() tea.Cmd {
	if !b.view.canEdit() {
		return b.refuseEdit()
	}
	d := b.view.data
	k, p := b.view.consents.selected()
	b.formSeq++
	b.form = &activeForm{
		kind: formRecordConsent, seq: b.formSeq, cid: d.Customer.ID, base: d.Customer,
		title:    "Record consent event · " + d.Customer.DisplayName() + " · #" + d.Customer.ID.String(),
		consent:  &consentValues{Kind: model.ConsentOptIn, Channel: k, Purpose: p, At: b.c.Now().UTC().Format(timeLayout)},
		purposes: d.Purposes,
	}
	b.view.sec = secConsents
	return b.buildForm()
}

// buildForm (re)creates the huh form over the form's values, keeping what
// the user typed when a submission was refused.
func (b *Box) buildForm() tea.Cmd {
	a := b.form
	b.formSeq++
	a.seq = b.formSeq
	switch a.kind {
	case formEditProfile:
		a.form = newProfileForm(a.profile, b.c.Store.Settings().Region)
	case formRecordConsent:
		a.form = newConsentForm(a.consent, a.purposes)
	}
	w, _ := b.formArea()
	prepare(a.form, a.seq, b.c.Theme, w)
	b.layout()
	return a.form.Init()
}

// formArea is the size left to the huh form below its title and message.
func (b *Box) formArea() (int, int) {
	w, h := b.detailSize()
	used := 2
	if b.form != nil && b.form.message != "" {
		used += len(strings.Split(wrapText(b.form.message, w), "\n"))
	}
	return w, h - used
}

func (b *Box) sizeForm() {
	if b.form == nil || b.form.form == nil {
		return
	}
	w, _ := b.formArea()
	b.form.form.WithWidth(max(w, 20))
}

func (b *Box) formSubmitted(msg formSubmittedMsg) tea.Cmd {
	a := b.form
	if a == nil || msg.seq != a.seq {
		return nil
	}
	now := b.c.Now()
	switch a.kind {
	case formEditProfile:
		if err := checkProfile(a.base, a.profile, b.c.Store.Settings().Region, now); err != nil {
			a.message = refusal(err)
			return b.buildForm()
		}
		a.saving = true
		return saveProfile(b.c.Store, b.c.Actor, a.seq, a.base, *a.profile)
	case formRecordConsent:
		ev, evidence, err := buildConsentEvent(a.cid, a.consent, b.c.Actor, now)
		if err != nil {
			a.message = refusal(err)
			return b.buildForm()
		}
		a.saving = true
		return recordConsent(b.c.Store, b.c.Actor, a.seq, ev, evidence)
	}
	return nil
}

func (b *Box) customerEdited(msg customerEditedMsg) tea.Cmd {
	a := b.form
	if a == nil || msg.seq != a.seq {
		return nil
	}
	if msg.err != nil {
		a.saving = false
		a.message = refusal(msg.err)
		return tea.Batch(common.Fail(fmt.Sprintf("save customer #%d", msg.id), msg.err), b.buildForm())
	}
	b.form = nil
	b.layout()
	return tea.Batch(common.Info(fmt.Sprintf("Saved customer #%d", msg.id)), b.view.reload(), b.list.reload())
}

func (b *Box) consentRecorded(msg consentRecordedMsg) tea.Cmd {
	a := b.form
	if a == nil || msg.seq != a.seq {
		return nil
	}
	if msg.err != nil {
		a.saving = false
		a.message = refusal(msg.err)
		return tea.Batch(common.Fail(fmt.Sprintf("record consent for customer #%d", msg.id), msg.err), b.buildForm())
	}
	b.form = nil
	b.layout()
	ev := msg.event
	scope := "all channels"
	if ev.Kind.Scoped() {
		scope = string(ev.Channel) + "/" + b.view.data.purposeName(ev.PurposeID)
	}
	return tea.Batch(common.Info(fmt.Sprintf("Recorded %s for %s (#%d)", ev.Kind, scope, ev.ID)), b.view.reload(), b.list.reload())
}

// --- store changes, palette, search -----------------------------------------

// StoreChanged implements common.Box: the open customer is reread when a
// change touches it; the page on screen when a change touches one of its
// rows or may move a row into it (a new or renamed customer, new activity
// under an activity or value order).
func (b *Box) StoreChanged(changes []store.Change) tea.Cmd {
	var list, view bool
	byName := sortOrders[b.list.sort].order == store.ByName && b.list.filter.Prefix == ""
	for _, ch := range changes {
		id := model.CustomerID(ch.ID)
		switch ch.Kind {
		case store.ChangeBulk, store.ChangeImport, store.ChangePurpose, store.ChangeSettings:
			list, view = true, true
		case store.ChangeChannel, store.ChangeCampaign:
			view = true // names in the timeline
		case store.ChangeCustomer:
			list = true
			view = view || id == b.view.id
		case store.ChangeConsent:
			list = list || b.list.visible(id)
			view = view || id == b.view.id
		case store.ChangeInteraction, store.ChangePurchase:
			list = list || b.list.visible(id) || !byName
			view = view || id == b.view.id
		}
	}
	var cmds []tea.Cmd
	if list {
		cmds = append(cmds, b.list.reload())
	}
	if view && b.view.id != 0 {
		cmds = append(cmds, b.view.refreshAll())
	}
	if len(cmds) > 0 && !b.spinning {
		cmds = append(cmds, b.startSpinner())
	}
	return tea.Batch(cmds...)
}

// Palette item ids of the box.
const (
	itemFilter      = "customers:filter"
	itemClearFilter = "customers:clear-filter"
	itemSortPrefix  = "customers:sort:"
	customerPrefix  = "customer:"
)

// PaletteItems implements common.Box.
func (b *Box) PaletteItems() []palette.Item {
	items := []palette.Item{
		{ID: itemFilter, Title: "Filter customers", Subtitle: "name, tag:, city:, consent:", Kind: "command"},
	}
	if !b.list.filter.empty() {
		items = append(items, palette.Item{ID: itemClearFilter, Title: "Clear customer filter", Subtitle: b.list.filter.Raw, Kind: "command"})
	}
	for i, so := range sortOrders {
		items = append(items, palette.Item{ID: itemSortPrefix + strconv.Itoa(i), Title: "Sort customers by " + so.label, Kind: "command"})
	}
	if it, ok := b.eraseItem(); ok {
		items = append(items, it)
	}
	return items
}

// PaletteChosen implements common.Box: a customer found by Search opens
// its 360° view; the box's commands run.
func (b *Box) PaletteChosen(it palette.Item) (tea.Cmd, bool) {
	if cmd, ok := b.drill(it); ok { // drill.go: the customers behind a figure
		return cmd, true
	}
	switch {
	case strings.HasPrefix(it.ID, itemErasePrefix):
		return b.askErase(it), true
	case strings.HasPrefix(it.ID, customerPrefix):
		id, err := model.ParseID(strings.TrimPrefix(it.ID, customerPrefix))
		if err != nil {
			return common.Fail("open customer", err), true
		}
		if b.form != nil {
			return common.Info("finish or cancel the open form first (esc)"), true
		}
		return b.openCustomer(model.CustomerID(id)), true
	case it.ID == itemFilter:
		if b.form != nil {
			return nil, true
		}
		b.mode = modeFilter
		b.input.SetValue(b.list.filter.Raw)
		b.input.CursorEnd()
		b.layout()
		return b.input.Focus(), true
	case it.ID == itemClearFilter:
		b.filterErr = ""
		b.layout()
		return b.list.setFilter(filterSpec{}), true
	case strings.HasPrefix(it.ID, itemSortPrefix):
		i, err := strconv.Atoi(strings.TrimPrefix(it.ID, itemSortPrefix))
		if err != nil || i < 0 || i >= len(sortOrders) {
			return nil, true
		}
		b.list.sort = i
		return b.list.reset(), true
	}
	return nil, false
}

// Search implements common.Searcher: customers whose name or email starts
// with the query, as "customer:<id>" items. It runs inside the palette's
// command. Masked roles get masked titles and find by name only (the
// store's rule).
func (b *Box) Search(query string, limit int) ([]palette.Item, error) {
	var found []model.Customer
	err := b.c.Store.View(b.c.Actor, func(r *store.Reader) error {
		var err error
		found, err = r.SearchCustomers(query, limit)
		return err
	})
	items := make([]palette.Item, 0, len(found))
	for i := range found {
		c := &found[i]
		sub := []string{}
		if c.Email != "" {
			sub = append(sub, c.Email)
		}
		if c.Address.City != "" {
			sub = append(sub, c.Address.City)
		}
		items = append(items, palette.Item{
			ID: customerPrefix + c.ID.String(), Title: c.DisplayName(),
			Subtitle: strings.Join(sub, " · "), Kind: "customer",
		})
	}
	if err != nil {
		return items, fmt.Errorf("search customers: %w", err)
	}
	return items, nil
}

// --- help -------------------------------------------------------------------

// ShortHelp implements help.KeyMap: the keys live in the current mode.
func (b *Box) ShortHelp() []key.Binding {
	km := b.c.Keys
	switch {
	case b.confirm.Active():
		return b.confirm.ShortHelp()
	case b.form != nil:
		return b.form.help()
	case b.mode == modeFilter:
		return b.filterKeys
	case b.mode == modeDetail:
		return b.view.keys()
	}
	out := []key.Binding{km.Open, km.Filter, km.Sort}
	if !b.list.filter.empty() {
		out = append(out, key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")))
	}
	if b.wide && b.view.canEdit() {
		out = append(out, km.Edit, km.New)
	}
	return append(out, km.Refresh)
}

// FullHelp implements help.KeyMap.
func (b *Box) FullHelp() [][]key.Binding {
	km := b.c.Keys
	if b.confirm.Active() {
		return [][]key.Binding{b.confirm.ShortHelp()}
	}
	if b.form != nil {
		return [][]key.Binding{b.form.help()}
	}
	if b.mode == modeFilter {
		return [][]key.Binding{b.filterKeys}
	}
	list := []key.Binding{km.Open, km.Filter, km.Sort, km.Refresh}
	detail := []key.Binding{km.PrevSection, km.NextSection, km.Left, km.Right, km.Back}
	if b.view.canEdit() || (b.view.data == nil && b.c.Can(model.PermEditCustomers) && b.c.Can(model.PermSeePersonalData)) {
		detail = append(detail, km.Edit, km.New)
	}
	return [][]key.Binding{list, km.MoveKeys(), detail}
}

// --- drawing ----------------------------------------------------------------

// View implements common.Box.
func (b *Box) View() string {
	if b.w <= 0 || b.h <= 0 {
		return ""
	}
	if b.confirm.Active() {
		d := b.confirm.View()
		// Where the dialog lands, for its buttons' mouse hits.
		b.confirm.SetOrigin(max((b.w-lipgloss.Width(d))/2, 0), max((b.h-lipgloss.Height(d))/2, 0)+bodyTop)
		return lipgloss.Place(b.w, b.h, lipgloss.Center, lipgloss.Center, d)
	}
	if !b.wide && (b.mode == modeDetail || b.form != nil) {
		return b.detailView()
	}
	lines := []string{b.headerLine()}
	if b.mode == modeFilter {
		lines = append(lines, fit(b.input.View(), b.w))
	}
	for _, l := range b.filterErrLines() {
		lines = append(lines, fit(b.c.Theme.Bad.Render(l), b.w))
	}
	body := b.list.table.View()
	if b.wide {
		_, dh := b.detailSize()
		sep := strings.TrimSuffix(strings.Repeat(b.c.Theme.Muted.Render("│")+"\n", dh), "\n")
		body = lipgloss.JoinHorizontal(lipgloss.Top, body, sep, b.detailView())
	}
	lines = append(lines, body)
	return strings.Join(lines, "\n")
}

// detailView is the 360° view, or the open form in its place.
func (b *Box) detailView() string {
	if b.form == nil {
		b.view.spinner = ""
		if b.view.busy() {
			b.view.spinner = b.spin.View()
		}
		return b.view.View()
	}
	th := b.c.Theme
	w, h := b.detailSize()
	lines := []string{fit(th.Title.Render(b.form.title), w)}
	if b.form.message != "" {
		for _, l := range strings.Split(wrapText(b.form.message, w), "\n") {
			lines = append(lines, fit(th.Bad.Render(l), w))
		}
	}
	if b.form.saving {
		lines = append(lines, fit(b.spin.View()+" saving…", w))
	} else {
		lines = append(lines, "", b.form.form.View())
	}
	return lipgloss.NewStyle().Width(w).Height(h).MaxHeight(h).MaxWidth(w).Render(strings.Join(lines, "\n"))
}

// headerLine is "Customers · 1,000,000 · sort: name ↑ · filter: …" with
// the spinner while something loads.
func (b *Box) headerLine() string {
	th := b.c.Theme
	count := "…"
	if t := b.list.table.Total(); t >= 0 {
		count = groupInt(t)
	} else if !b.list.filter.empty() {
		count = "filtered"
	}
	left := th.Title.Render("Customers") + th.Muted.Render(" · "+count+" · "+b.list.header())
	right := ""
	if b.loading() {
		right = b.spin.View() + " "
	}
	return fit(left, b.w-lipgloss.Width(right)) + right
}

// groupInt renders 1234567 as "1,234,567".
func groupInt(n int) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var out []byte
	pre := len(s) % 3
	out = append(out, s[:pre]...)
	for i := pre; i < len(s); i += 3 {
		if len(out) > 0 {
			out = append(out, ',')
		}
		out = append(out, s[i:i+3]...)
	}
	return string(out)
}
