// Package campaigns is the Campaigns box of the cockpit: time-limited
// marketing actions over one or several channels, from plan through
// approval to a consent-checked launch.
//
// Three views, switched with ←/→ (h/l):
//
//   - Campaigns: a table of name, status, window, channels, budget, spent
//     against the plan (percentage bar) and approval state, and the detail
//     of the campaign under the cursor: goal, owner, steps (channel,
//     purpose, audience with its size, creative, schedule), budget lines
//     planned vs actual, staff, creatives and event participants against
//     capacity. Actions: submit (s), approve (a), reject (x) — the store
//     enforces the four-eyes rule and the roles; the box hides what the
//     role lacks and shows a refusal as a toast. Create (n) and edit (e)
//     campaigns, add (+) and edit (E) steps, and write creatives (c: the
//     selected step's, or a new one) in validated huh forms.
//     [ and ] select a step; p opens its preflight screen (what a launch
//     would do now: audience, allowed and denied by reason, a sample of
//     the denied, cost against the budget left), from which L launches it
//     after a confirmation, with a progress bar; esc cancels the launch
//     between batches and what was done stays done. v previews the step's
//     creative for a chosen customer.
//   - Timeline (t): campaigns on a month calendar by their window,
//     scrollable by month.
//   - Segments: the saved audiences with their sizes (counted off the
//     update loop), editable in a form.
//
// Every store call runs in a tea.Cmd with a sequence number (stale replies
// are dropped). Store changes (another operator's approval, the
// dispatcher's spend) reload the box, coalesced.
//
// Layout: from 150 columns the table and the detail sit side by side;
// below that, when the screen is tall enough, the detail sits under the
// table; otherwise the table fills the box and enter opens the detail
// full-size.
package campaigns

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/chart"
	"karton/tui/components/confirm"
	"karton/tui/components/form"
	"karton/tui/components/palette"
	"karton/tui/theme"
)

// subview is one of the box's views.
type subview int

const (
	viewCampaigns subview = iota
	viewTimeline
	viewSegments
)

var subviewTitles = [...]string{"Campaigns", "Timeline", "Segments"}

// arrangement is how the campaigns view places table and detail.
type arrangement int

const (
	arrangeNarrow  arrangement = iota // table, or detail full-size
	arrangeStacked                    // detail under the table
	arrangeSide                       // detail beside the table
)

const (
	sideWidth     = 150 // from here table and detail sit side by side
	minDetailRows = 14  // the least room the stacked detail needs
	maxTableRows  = 12  // stacked: the table's rows at most
)

// Box is the Campaigns box. Build it with New.
type Box struct {
	c    *common.Context
	w, h int
	sub  subview
	arr  arrangement

	snap *snapshot
	seq  uint64
	busy bool
	// rows are the campaigns the table shows: all, or those matching the
	// filter (/).
	rows        []model.Campaign
	filter      string
	filtering   bool
	filterInput textinput.Model

	sizes    map[model.SegmentID]int
	sizeErrs map[model.SegmentID]error
	sizeSeq  uint64
	counting bool

	// The campaign table: cursor and first visible row.
	cursor, offset int
	// step is the selected step of the selected campaign.
	step int

	detailFocus bool
	detail      []string
	scroll      int

	timeline timelineState
	segs     segmentsState

	pre     *preflightScreen
	preSeq  uint64
	preview *previewScreen

	form    *activeForm
	formSeq uint64
	// pendingSelect is a campaign just created, selected when it arrives.
	pendingSelect model.CampaignID
	confirm       *confirm.Dialog
	acting        bool // a transition is in flight

	spin     spinner.Model
	spinning bool

	// batch is the launch's batch size (0: the store's default); tests
	// make it small to see several batches on a small store.
	batch int

	delay      time.Duration
	refreshSeq uint64
	refreshDue bool
	sizesStale bool

	prevView, nextView, prevStep, nextStep, submitKey, approveKey, rejectKey,
	preflightKey, launchKey, previewKey, newStepKey, editStepKey, creativeKey key.Binding
}

var _ common.Box = (*Box)(nil)

// New builds the box for one session.
func New(c *common.Context) *Box {
	b := &Box{c: c, delay: refreshDelay}
	b.confirm = confirm.New(c.Theme, c.Keys)
	b.spin = spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(c.Theme.Accent))
	bind := func(k, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(k), key.WithHelp(help, desc))
	}
	b.prevView = key.NewBinding(key.WithKeys(c.Keys.Left.Keys()...), key.WithHelp("←/h", "previous view"))
	b.nextView = key.NewBinding(key.WithKeys(c.Keys.Right.Keys()...), key.WithHelp("→/l", "next view"))
	b.prevStep = bind("[", "[", "previous step")
	b.nextStep = bind("]", "]", "next step")
	b.submitKey = bind("s", "s", "submit")
	b.approveKey = bind("a", "a", "approve")
	b.rejectKey = bind("x", "x", "reject")
	b.preflightKey = bind("p", "p", "preflight step")
	b.launchKey = bind("L", "L", "launch")
	b.previewKey = bind("v", "v", "preview creative")
	b.newStepKey = bind("+", "+", "new step")
	b.editStepKey = bind("E", "E", "edit step")
	b.creativeKey = bind("c", "c", "creative")
	b.filterInput = textinput.New()
	b.filterInput.Prompt = "/ "
	b.filterInput.Placeholder = "name, status, owner or channel kind"
	b.filterInput.CharLimit = 80
	b.filterInput.SetStyles(c.Theme.TextInput())
	b.timeline.month = monthOf(c.Now())
	b.timeline.prevKey = bind("[", "[", "previous month")
	b.timeline.nextKey = bind("]", "]", "next month")
	return b
}

// Title implements common.Box.
func (b *Box) Title() string { return "Campaigns" }

// Short implements common.Box.
func (b *Box) Short() string { return "Camp" }

// Init loads the campaigns.
func (b *Box) Init() tea.Cmd { return tea.Batch(b.reload(), b.startSpinner()) }

func (b *Box) reload() tea.Cmd {
	b.seq++
	b.busy = true
	return load(b.c, b.seq)
}

func (b *Box) recountSizes() tea.Cmd {
	if b.snap == nil {
		return nil
	}
	b.sizeSeq++
	b.counting = true
	return countSizes(b.c, b.sizeSeq, b.snap.segments)
}

// Permissions the screens check (the store checks again on every write).
func (b *Box) canEdit() bool    { return b.c.Can(model.PermEditCampaigns) }
func (b *Box) canApprove() bool { return b.c.Can(model.PermApproveCampaigns) }

// --- sizes ------------------------------------------------------------------

// SetSize implements common.Box.
func (b *Box) SetSize(w, h int) {
	b.w, b.h = max(w, 0), max(h, 0)
	b.layout()
}

// SetTheme implements common.Box.
func (b *Box) SetTheme(th *theme.Theme) {
	b.c.Theme = th
	b.confirm.SetTheme(th)
	b.filterInput.SetStyles(th.TextInput())
	b.spin.Style = th.Accent
	if b.form != nil && b.form.form != nil {
		b.form.form.WithTheme(form.Theme(th))
	}
	b.redraw()
}

func (b *Box) bodyH() int { return max(b.h-1, 1) }

// listH is the room of the table and the detail: the body less the filter
// line when there is one.
func (b *Box) listH() int {
	if b.filtering || b.filter != "" {
		return max(b.bodyH()-1, 1)
	}
	return b.bodyH()
}

// tableRows is the height the table wants: its rows and header.
func (b *Box) tableRows() int {
	n := 3
	if b.snap != nil {
		n = len(b.rows)
	}
	return min(max(n, 3), maxTableRows) + 1
}

func (b *Box) layout() {
	switch {
	case b.w >= sideWidth:
		b.arr = arrangeSide
	case b.listH()-b.tableRows()-1 >= minDetailRows:
		b.arr = arrangeStacked
	default:
		b.arr = arrangeNarrow
	}
	b.confirm.SetSize(b.w, b.h)
	if b.form != nil && b.form.form != nil {
		b.form.form.WithWidth(max(b.w-2, 20))
	}
	if b.pre != nil {
		b.pre.bar.SetWidth(max(min(b.w-4, 60), 10))
	}
	b.clampCursor()
	b.redraw()
}

// tableSize is the table's room in the current arrangement.
func (b *Box) tableSize() (int, int) {
	bh := b.listH()
	switch b.arr {
	case arrangeSide:
		return b.w * 11 / 20, bh
	case arrangeStacked:
		return b.w, b.tableRows()
	}
	return b.w, bh
}

// detailSize is the detail's room in the current arrangement.
func (b *Box) detailSize() (int, int) {
	bh := b.listH()
	switch b.arr {
	case arrangeSide:
		tw, _ := b.tableSize()
		return b.w - tw - 1, bh
	case arrangeStacked:
		return b.w, bh - b.tableRows() - 1
	}
	return b.w, bh
}

// --- selection --------------------------------------------------------------

// selected returns the campaign under the cursor.
func (b *Box) selected() (model.Campaign, bool) {
	if b.snap == nil || b.cursor < 0 || b.cursor >= len(b.rows) {
		return model.Campaign{}, false
	}
	return b.rows[b.cursor], true
}

// selectedStep returns the selected step of the selected campaign.
func (b *Box) selectedStep() (model.Step, bool) {
	cp, ok := b.selected()
	if !ok {
		return model.Step{}, false
	}
	steps := b.snap.steps[cp.ID]
	if b.step < 0 || b.step >= len(steps) {
		return model.Step{}, false
	}
	return steps[b.step], true
}

func (b *Box) clampCursor() {
	n := 0
	if b.snap != nil {
		n = len(b.rows)
	}
	b.cursor = max(min(b.cursor, n-1), 0)
	_, th := b.tableSize()
	rows := max(th-1, 1)
	if b.cursor < b.offset {
		b.offset = b.cursor
	}
	if b.cursor >= b.offset+rows {
		b.offset = b.cursor - rows + 1
	}
	b.offset = max(min(b.offset, n-rows), 0)
	if cp, ok := b.selected(); ok {
		b.step = max(min(b.step, len(b.snap.steps[cp.ID])-1), 0)
	}
}

func (b *Box) moveCursor(d int) {
	before := b.cursor
	b.cursor += d
	b.clampCursor()
	if b.cursor != before {
		b.step, b.scroll = 0, 0
	}
	b.redraw()
}

// selectCampaign moves the cursor to the campaign with id.
func (b *Box) selectCampaign(id model.CampaignID) {
	if b.snap == nil {
		return
	}
	for i, c := range b.rows {
		if c.ID == id {
			b.moveCursor(i - b.cursor)
			return
		}
	}
}

// redraw rebuilds the cached detail of the selected campaign.
func (b *Box) redraw() {
	cp, ok := b.selected()
	if !ok {
		b.detail = nil
		return
	}
	w, h := b.detailSize()
	b.detail = renderDetail(detailInput{th: b.c.Theme, snap: b.snap, cp: cp, sizes: b.sizes, counting: b.counting, step: b.step, w: w})
	b.scroll = max(min(b.scroll, len(b.detail)-h), 0)
}

// --- update -----------------------------------------------------------------

// Capturing implements common.Box: forms, dialogs and the preflight and
// preview screens take every key.
func (b *Box) Capturing() bool {
	return b.form != nil || b.confirm.Active() || b.pre != nil || b.preview != nil || b.filtering || b.segs.capturing()
}

// loading reports whether a read or write of the box is in flight.
func (b *Box) loading() bool {
	return b.busy || b.counting || b.acting || (b.form != nil && b.form.saving) ||
		(b.pre != nil && (b.pre.running || b.pre.launching)) || (b.preview != nil && b.preview.loading)
}

func (b *Box) startSpinner() tea.Cmd {
	b.spinning = true
	return b.spin.Tick
}

// Update implements common.Box.
func (b *Box) Update(msg tea.Msg) tea.Cmd {
	cmd := b.update(msg)
	if b.loading() && !b.spinning {
		return tea.Batch(cmd, b.startSpinner())
	}
	return cmd
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
	case loadedMsg:
		return b.loaded(msg)
	case sizesCountedMsg:
		if msg.seq != b.sizeSeq {
			return nil
		}
		b.counting = false
		if msg.err != nil {
			return common.Fail("count segment sizes", msg.err)
		}
		b.sizes, b.sizeErrs = msg.sizes, msg.errs
		for id, err := range msg.errs {
			if err != nil {
				b.sizes[id] = -1
			}
		}
		b.redraw()
		return nil
	case refreshDueMsg:
		if msg.seq != b.refreshSeq {
			return nil
		}
		b.refreshDue = false
		if b.sizesStale {
			b.sizesStale = false
			return tea.Batch(b.reload(), b.recountSizes())
		}
		return b.reload()
	case transitionedMsg:
		return b.transitioned(msg)
	case confirm.AnsweredMsg:
		return b.answered(msg)
	case preflightProgressMsg, preflightDoneMsg, launchProgressMsg, launchDoneMsg:
		return b.preflightMsg(msg)
	case previewDoneMsg:
		return b.previewDone(msg)
	case formSubmittedMsg:
		return b.formSubmitted(msg)
	case formCancelledMsg:
		if b.form != nil && msg.seq == b.form.seq {
			b.form = nil
			b.layout()
		}
		return nil
	case formSavedMsg:
		return b.formSaved(msg)
	case tea.KeyPressMsg:
		return b.key(msg)
	case tea.MouseMsg:
		return b.mouse(msg)
	}
	// Anything else belongs to an open form (huh's field messages, cursor
	// blinks).
	if b.form != nil && b.form.form != nil && !b.form.saving {
		_, cmd := b.form.form.Update(msg)
		return cmd
	}
	if b.preview != nil {
		return b.preview.update(msg)
	}
	if b.filtering {
		var cmd tea.Cmd
		b.filterInput, cmd = b.filterInput.Update(msg)
		return cmd
	}
	return nil
}

// applyFilter recomputes the table's rows, keeping the cursor on the same
// campaign when it still shows.
func (b *Box) applyFilter() {
	if b.snap == nil {
		return
	}
	var keep model.CampaignID
	if cp, ok := b.selected(); ok {
		keep = cp.ID
	}
	q := strings.ToLower(strings.TrimSpace(b.filter))
	b.rows = b.rows[:0:0]
	for _, cp := range b.snap.campaigns {
		hay := strings.ToLower(cp.Name + " " + string(cp.Status) + " " + cp.Owner + " " + b.snap.channelKinds(cp.ID))
		if q == "" || strings.Contains(hay, q) {
			b.rows = append(b.rows, cp)
		}
	}
	b.cursor = 0
	for i, cp := range b.rows {
		if cp.ID == keep {
			b.cursor = i
		}
	}
	b.layout()
}

func (b *Box) filterKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "enter":
		b.filtering = false
		b.filterInput.Blur()
		b.layout()
		return nil
	case "esc":
		b.filtering = false
		b.filterInput.Blur()
		b.filterInput.SetValue("")
		b.filter = ""
		b.applyFilter()
		return nil
	}
	var cmd tea.Cmd
	b.filterInput, cmd = b.filterInput.Update(msg)
	if v := b.filterInput.Value(); v != b.filter {
		b.filter = v
		b.step, b.scroll = 0, 0
		b.applyFilter()
	}
	return cmd
}

func (b *Box) loaded(msg loadedMsg) tea.Cmd {
	if msg.seq != b.seq {
		return nil
	}
	b.busy = false
	if msg.err != nil {
		return common.Fail("load campaigns", msg.err)
	}
	var keep model.CampaignID
	if cp, ok := b.selected(); ok {
		keep = cp.ID
	}
	segsChanged := b.snap == nil || !sameSegments(b.snap.segments, msg.snap.segments)
	b.snap = msg.snap
	b.applyFilter()
	b.layout()
	if b.pendingSelect != 0 {
		keep, b.pendingSelect = b.pendingSelect, 0
	}
	if keep != 0 {
		step := b.step
		b.selectCampaign(keep)
		b.step = step
		b.clampCursor()
		b.redraw()
	}
	if segsChanged {
		return b.recountSizes()
	}
	return nil
}

func sameSegments(a, b []model.Segment) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || !a[i].UpdatedAt.Equal(b[i].UpdatedAt) {
			return false
		}
	}
	return true
}

func (b *Box) key(msg tea.KeyPressMsg) tea.Cmd {
	km := b.c.Keys
	switch {
	case b.confirm.Active():
		return b.confirm.Update(msg)
	case b.form != nil:
		if b.form.saving {
			return nil // the write is in flight; its answer closes or reopens the form
		}
		_, cmd := b.form.form.Update(msg)
		return cmd
	case b.pre != nil:
		return b.preflightKeys(msg)
	case b.preview != nil:
		return b.previewKeys(msg)
	case b.filtering:
		return b.filterKey(msg)
	}
	if b.sub == viewSegments && b.segs.capturing() {
		return b.segmentsKey(msg)
	}
	switch {
	case key.Matches(msg, b.prevView):
		return b.show(subview((int(b.sub) + len(subviewTitles) - 1) % len(subviewTitles)))
	case key.Matches(msg, b.nextView):
		return b.show(subview((int(b.sub) + 1) % len(subviewTitles)))
	case key.Matches(msg, km.Timeline):
		if b.sub == viewTimeline {
			return b.show(viewCampaigns)
		}
		return b.show(viewTimeline)
	case key.Matches(msg, km.Refresh):
		return tea.Batch(b.reload(), b.recountSizes())
	}
	switch b.sub {
	case viewTimeline:
		return b.timelineKey(msg)
	case viewSegments:
		return b.segmentsKey(msg)
	}
	return b.campaignsKey(msg)
}

func (b *Box) show(v subview) tea.Cmd {
	b.sub = v
	b.detailFocus = false
	if v == viewTimeline {
		b.timeline.sync(b)
	}
	b.layout()
	return nil
}

func (b *Box) campaignsKey(msg tea.KeyPressMsg) tea.Cmd {
	km := b.c.Keys
	_, dh := b.detailSize()
	switch {
	case key.Matches(msg, km.Filter):
		b.filtering = true
		b.detailFocus = false
		b.layout()
		return b.filterInput.Focus()
	case !b.detailFocus && b.filter != "" && key.Matches(msg, km.Back):
		b.filter = ""
		b.filterInput.SetValue("")
		b.applyFilter()
		return nil
	case key.Matches(msg, b.prevStep):
		b.selectStep(-1)
		return nil
	case key.Matches(msg, b.nextStep):
		b.selectStep(1)
		return nil
	case key.Matches(msg, b.submitKey):
		return b.ask(model.ActionSubmit)
	case key.Matches(msg, b.approveKey):
		return b.ask(model.ActionApprove)
	case key.Matches(msg, b.rejectKey):
		return b.openReject()
	case key.Matches(msg, b.preflightKey):
		return b.openPreflight()
	case key.Matches(msg, b.previewKey):
		return b.openPreview()
	case key.Matches(msg, km.New):
		return b.openNewCampaign()
	case key.Matches(msg, km.Edit):
		return b.openEditCampaign()
	case key.Matches(msg, b.newStepKey):
		return b.openNewStep()
	case key.Matches(msg, b.editStepKey):
		return b.openEditStep()
	case key.Matches(msg, b.creativeKey):
		return b.openCreative()
	}
	if b.detailFocus {
		switch {
		case key.Matches(msg, km.Back):
			b.detailFocus = false
		case key.Matches(msg, km.Down):
			b.scrollBy(1, dh)
		case key.Matches(msg, km.Up):
			b.scrollBy(-1, dh)
		case key.Matches(msg, km.HalfPageDown, km.PageDown):
			b.scrollBy(dh/2, dh)
		case key.Matches(msg, km.HalfPageUp, km.PageUp):
			b.scrollBy(-dh/2, dh)
		case key.Matches(msg, km.Top):
			b.scroll = 0
		case key.Matches(msg, km.Bottom):
			b.scrollBy(len(b.detail), dh)
		}
		return nil
	}
	_, th := b.tableSize()
	switch {
	case key.Matches(msg, km.Open):
		if _, ok := b.selected(); ok {
			b.detailFocus = true
		}
	case key.Matches(msg, km.Down):
		b.moveCursor(1)
	case key.Matches(msg, km.Up):
		b.moveCursor(-1)
	case key.Matches(msg, km.HalfPageDown, km.PageDown):
		b.moveCursor(max(th/2, 1))
	case key.Matches(msg, km.HalfPageUp, km.PageUp):
		b.moveCursor(-max(th/2, 1))
	case key.Matches(msg, km.Top):
		b.moveCursor(-b.cursor)
	case key.Matches(msg, km.Bottom):
		if b.snap != nil {
			b.moveCursor(len(b.rows))
		}
	}
	return nil
}

func (b *Box) selectStep(d int) {
	cp, ok := b.selected()
	if !ok {
		return
	}
	n := len(b.snap.steps[cp.ID])
	if n == 0 {
		return
	}
	b.step = (b.step + d + n) % n
	b.redraw()
}

func (b *Box) scrollBy(d, h int) {
	b.scroll = max(min(b.scroll+d, len(b.detail)-h), 0)
}

func (b *Box) mouse(msg tea.MouseMsg) tea.Cmd {
	if b.Capturing() || b.sub != viewCampaigns {
		return nil
	}
	m := msg.Mouse()
	switch msg.(type) {
	case tea.MouseWheelMsg:
		if m.Button == tea.MouseWheelDown {
			b.moveCursor(1)
		} else if m.Button == tea.MouseWheelUp {
			b.moveCursor(-1)
		}
	case tea.MouseClickMsg:
		// The table's first row is on screen row 3: the App's tab row, the
		// view row and the table header are above it.
		tw, _ := b.tableSize()
		row := m.Y - 3
		if m.X < tw && row >= 0 && b.snap != nil && b.offset+row < len(b.rows) && row < b.tableRows()-1 {
			b.moveCursor(b.offset + row - b.cursor)
		}
	}
	return nil
}

// --- actions ----------------------------------------------------------------

// ask confirms a submit or an approval of the selected campaign.
func (b *Box) ask(action model.CampaignAction) tea.Cmd {
	cp, ok := b.selected()
	if !ok || b.acting {
		return nil
	}
	switch action {
	case model.ActionSubmit:
		if !b.canEdit() {
			return common.Info(fmt.Sprintf("%s may not submit campaigns", b.c.Actor.Role))
		}
		b.confirm.Open(confirm.Prompt{
			ID: fmt.Sprintf("submit:%d", cp.ID), Title: "Submit " + cp.Name + " for approval?",
			Body: "Its plan is frozen until it is approved or rejected back to draft.", Yes: "Submit",
		})
	case model.ActionApprove:
		if !b.canApprove() {
			return common.Info(fmt.Sprintf("%s may not approve campaigns", b.c.Actor.Role))
		}
		body := fmt.Sprintf("Budget %s. Its approved steps may then be launched.", cp.Planned().Format(cp.Currency))
		if cp.SubmittedBy == b.c.Actor.Name {
			if b.snap.users > 1 {
				body = fmt.Sprintf("You submitted it yourself: the four-eyes rule needs another approver, so the store will refuse. %s", body)
			} else {
				body = "You submitted it yourself; this store has a single user, so you may approve it and the audit log records a self-approval. " + body
			}
		}
		b.confirm.Open(confirm.Prompt{
			ID: fmt.Sprintf("approve:%d", cp.ID), Title: "Approve " + cp.Name + "?", Body: body, Yes: "Approve",
		})
	}
	return nil
}

func (b *Box) answered(msg confirm.AnsweredMsg) tea.Cmd {
	verb, rest, _ := strings.Cut(msg.ID, ":")
	var id uint64
	if _, err := fmt.Sscan(rest, &id); err != nil || !msg.Confirmed || b.snap == nil {
		return nil
	}
	if verb == "launch" {
		return b.startLaunch(model.StepID(id))
	}
	cp, ok := b.snap.campaign(model.CampaignID(id))
	if !ok {
		return nil
	}
	b.acting = true
	return transition(b.c, cp, model.CampaignAction(verb), "")
}

func (b *Box) transitioned(msg transitionedMsg) tea.Cmd {
	b.acting = false
	if msg.err != nil {
		return tea.Batch(common.Fail(fmt.Sprintf("%s campaign %s", msg.action, msg.name), msg.err), b.reload())
	}
	text := map[model.CampaignAction]string{
		model.ActionSubmit: "Submitted %s for approval", model.ActionApprove: "Approved %s", model.ActionReject: "Rejected %s back to draft",
	}[msg.action]
	if msg.self {
		text = "Self-approved %s (single-user store; recorded in the audit log)"
	}
	return tea.Batch(common.Info(fmt.Sprintf(text, msg.name)), b.reload())
}

// --- store changes, palette --------------------------------------------------

// StoreChanged implements common.Box: campaigns, steps, segments, channels
// and the outbox (spend) reload the box once after a burst; a change to
// customers or segments recounts the segment sizes too.
func (b *Box) StoreChanged(changes []store.Change) tea.Cmd {
	reload := false
	for _, ch := range changes {
		switch ch.Kind {
		case store.ChangeBulk, store.ChangeImport:
			// Many customers changed: the segment sizes are counted again
			// (single edits wait for r, so a busy store does not rescan
			// every customer after every write).
			b.sizesStale = true
		}
		switch ch.Kind {
		case store.ChangeCampaign, store.ChangeStep, store.ChangeSegment, store.ChangeChannel, store.ChangePurpose,
			store.ChangeOutbox, store.ChangeUser, store.ChangeSettings, store.ChangeBulk, store.ChangeImport:
			reload = true
		}
	}
	if !reload || b.refreshDue {
		return nil
	}
	b.refreshDue = true
	b.refreshSeq++
	seq := b.refreshSeq
	return tea.Tick(b.delay, func(time.Time) tea.Msg { return refreshDueMsg{seq: seq} })
}

// Palette item ids of the box.
const (
	itemNew       = "campaigns:new"
	itemTimeline  = "campaigns:view:timeline"
	itemSegments  = "campaigns:view:segments"
	itemCampaigns = "campaigns:view:campaigns"
	itemCampaign  = "campaign:"
)

// PaletteItems implements common.Box.
func (b *Box) PaletteItems() []palette.Item {
	items := []palette.Item{
		{ID: itemCampaigns, Title: "Campaigns: table and detail", Kind: "view"},
		{ID: itemTimeline, Title: "Campaigns: timeline", Kind: "view"},
		{ID: itemSegments, Title: "Campaigns: segments with sizes", Kind: "view"},
	}
	if b.canEdit() {
		items = append(items, palette.Item{ID: itemNew, Title: "New campaign", Kind: "command"})
	}
	if b.snap != nil {
		for _, cp := range b.snap.campaigns {
			items = append(items, palette.Item{ID: itemCampaign + cp.ID.String(), Title: cp.Name, Subtitle: string(cp.Status) + " · " + windowShort(cp), Kind: "campaign"})
		}
	}
	return items
}

// PaletteChosen implements common.Box.
func (b *Box) PaletteChosen(it palette.Item) (tea.Cmd, bool) {
	if !strings.HasPrefix(it.ID, "campaigns:") && !strings.HasPrefix(it.ID, itemCampaign) {
		return nil, false
	}
	if b.Capturing() {
		return common.Info("finish or cancel what is open first (esc)"), true
	}
	switch it.ID {
	case itemCampaigns:
		return b.show(viewCampaigns), true
	case itemTimeline:
		return b.show(viewTimeline), true
	case itemSegments:
		return b.show(viewSegments), true
	case itemNew:
		b.show(viewCampaigns)
		return b.openNewCampaign(), true
	}
	if rest, ok := strings.CutPrefix(it.ID, itemCampaign); ok {
		id, err := model.ParseID(rest)
		if err != nil {
			return nil, true
		}
		b.show(viewCampaigns)
		b.selectCampaign(model.CampaignID(id))
		return nil, true
	}
	return nil, false
}

// --- help -------------------------------------------------------------------

// actionKeys are the campaign actions the role may take.
func (b *Box) actionKeys() []key.Binding {
	var out []key.Binding
	if b.canEdit() {
		out = append(out, b.submitKey)
	}
	if b.canApprove() {
		out = append(out, b.approveKey, b.rejectKey)
	}
	out = append(out, b.preflightKey, b.previewKey)
	if b.canEdit() {
		out = append(out, b.c.Keys.New, b.c.Keys.Edit, b.newStepKey, b.editStepKey, b.creativeKey)
	}
	return out
}

// ShortHelp implements help.KeyMap: the keys live in the current mode.
func (b *Box) ShortHelp() []key.Binding {
	km := b.c.Keys
	switch {
	case b.confirm.Active():
		return b.confirm.ShortHelp()
	case b.form != nil:
		return b.form.help()
	case b.pre != nil:
		return b.pre.help(b)
	case b.preview != nil:
		return b.preview.help()
	case b.sub == viewTimeline:
		return []key.Binding{b.nextView, b.timeline.prevKey, b.timeline.nextKey, km.Down, km.Up}
	case b.sub == viewSegments:
		return b.segs.help(b)
	}
	if b.filtering {
		return []key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		}
	}
	out := []key.Binding{b.nextView, km.Timeline, km.Filter}
	if b.detailFocus {
		out = append(out, km.Back)
	} else {
		out = append(out, km.Open)
	}
	return append(append(out, b.prevStep, b.nextStep), b.actionKeys()...)
}

// FullHelp implements help.KeyMap.
func (b *Box) FullHelp() [][]key.Binding {
	km := b.c.Keys
	if b.form != nil {
		return [][]key.Binding{b.form.help()}
	}
	views := []key.Binding{b.prevView, b.nextView, km.Timeline, km.Filter, km.Open, km.Back, km.Refresh, b.prevStep, b.nextStep}
	return [][]key.Binding{views, km.MoveKeys(), b.actionKeys(), {b.timeline.prevKey, b.timeline.nextKey}}
}

// --- drawing ----------------------------------------------------------------

// View implements common.Box.
func (b *Box) View() string {
	if b.w <= 0 || b.h <= 0 {
		return ""
	}
	row := b.viewRow()
	if b.h == 1 {
		return row
	}
	bh := b.bodyH()
	var body string
	switch {
	case b.confirm.Active():
		body = lipgloss.Place(b.w, bh, lipgloss.Center, lipgloss.Center, b.confirm.View())
	case b.form != nil:
		body = b.formView()
	case b.pre != nil:
		body = b.preflightView(bh)
	case b.preview != nil:
		body = b.previewView(bh)
	case b.snap == nil:
		body = b.c.Theme.Muted.Render(b.spin.View() + " loading campaigns…")
	case b.sub == viewTimeline:
		body = b.timelineView(bh)
	case b.sub == viewSegments:
		body = b.segmentsView(bh)
	default:
		body = b.campaignsView(bh)
	}
	return row + "\n" + lipgloss.NewStyle().Width(b.w).Height(bh).MaxHeight(bh).MaxWidth(b.w).Render(body)
}

// viewRow is the row of views with the spinner and a hint on the right.
func (b *Box) viewRow() string {
	th := b.c.Theme
	var left strings.Builder
	for i, t := range subviewTitles {
		if subview(i) == b.sub {
			left.WriteString(th.TabActive.Render(t))
		} else {
			left.WriteString(th.TabInactive.Render(t))
		}
	}
	right := th.Muted.Render("←/→ view")
	if b.sub == viewCampaigns && b.snap != nil && len(b.rows) > 0 && b.pre == nil && b.form == nil && b.preview == nil {
		right = th.TablePosition.Render(fmt.Sprintf("%d/%d", b.cursor+1, len(b.rows))) + th.Muted.Render(" · ←/→ view")
	}
	if b.loading() {
		right = b.spin.View() + " " + right
	}
	l := left.String()
	if gap := b.w - lipgloss.Width(l) - lipgloss.Width(right); gap >= 2 {
		return l + strings.Repeat(" ", gap) + right
	}
	return fit(l, b.w)
}

func (b *Box) campaignsView(bh int) string {
	if b.filtering || b.filter != "" {
		return b.filterLine() + "\n" + b.campaignsBody(bh-1)
	}
	return b.campaignsBody(bh)
}

// filterLine shows the filter being typed, or the one applied.
func (b *Box) filterLine() string {
	th := b.c.Theme
	if b.filtering {
		return fit(b.filterInput.View(), b.w)
	}
	return fit(th.Muted.Render(fmt.Sprintf("filter: %s · %d of %d · / changes, esc clears", b.filter, len(b.rows), len(b.snap.campaigns))), b.w)
}

func (b *Box) campaignsBody(bh int) string {
	th := b.c.Theme
	if len(b.rows) == 0 && b.filter != "" {
		return th.Muted.Render("no campaign matches; esc clears the filter")
	}
	if len(b.snap.campaigns) == 0 {
		hint := "no campaigns yet"
		if b.canEdit() {
			hint += " — n creates one"
		}
		return th.Muted.Render(hint)
	}
	switch b.arr {
	case arrangeSide:
		_, dh := b.detailSize()
		sep := strings.TrimSuffix(strings.Repeat(th.Muted.Render("│")+"\n", dh), "\n")
		return lipgloss.JoinHorizontal(lipgloss.Top, b.tableView(), sep, b.detailWindow(dh))
	case arrangeStacked:
		_, dh := b.detailSize()
		rule := th.Muted.Render(strings.Repeat("─", b.w))
		return b.tableView() + "\n" + rule + "\n" + b.detailWindow(dh)
	}
	if b.detailFocus {
		return b.detailWindow(bh)
	}
	return b.tableView()
}

func (b *Box) detailWindow(h int) string {
	w, _ := b.detailSize()
	lines := make([]string, 0, h)
	for i := b.scroll; i < len(b.detail) && len(lines) < h; i++ {
		lines = append(lines, b.detail[i])
	}
	if b.scroll+h < len(b.detail) && len(lines) == h {
		hint := fmt.Sprintf("↓ %d more lines (enter, then j/k)", len(b.detail)-b.scroll-h)
		if b.detailFocus {
			hint = fmt.Sprintf("↓ %d more lines (j/k, esc back)", len(b.detail)-b.scroll-h)
		}
		lines[h-1] = fit(b.c.Theme.Muted.Render(hint), w)
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return strings.Join(lines, "\n")
}

// column is one column of the campaign table.
type column struct {
	title string
	width int
	right bool
	// drop orders which columns go first when the table is narrow
	// (highest first; 0 never).
	drop int
	cell func(cp model.Campaign) string
}

const spentBarWidth = 14

func (b *Box) columns(w int) []column {
	th := b.c.Theme
	cols := []column{
		{title: "name", width: 18},
		{title: "status", width: 9, cell: func(cp model.Campaign) string { return statusText(th, cp.Status) }},
		{title: "window", width: 21, drop: 3, cell: windowShort},
		{title: "channels", width: 13, drop: 5, cell: func(cp model.Campaign) string { return orDash(b.snap.channelKinds(cp.ID)) }},
		{title: "budget", width: 10, right: true, drop: 2, cell: func(cp model.Campaign) string { return cp.Planned().FormatShort(cp.Currency) }},
		{title: "spent", width: spentBarWidth, cell: func(cp model.Campaign) string {
			return chart.Budget(th, ratio(cp.Spent(), cp.Planned()), spentBarWidth)
		}},
		{title: "approval", width: 16, drop: 4, cell: approvalShort},
	}
	total := func() int {
		n := 0
		for _, c := range cols {
			n += c.width + 1
		}
		return n - 1
	}
	for total() > w {
		worst := -1
		for i, c := range cols {
			if c.drop > 0 && (worst < 0 || c.drop > cols[worst].drop) {
				worst = i
			}
		}
		if worst < 0 {
			break
		}
		cols = append(cols[:worst], cols[worst+1:]...)
	}
	cols[0].width = max(cols[0].width+w-total(), 8)
	cols[0].cell = func(cp model.Campaign) string { return cp.Name }
	return cols
}

func (b *Box) tableView() string {
	th := b.c.Theme
	tw, tht := b.tableSize()
	cols := b.columns(tw)
	cell := func(s string, c column) string {
		if lipgloss.Width(s) > c.width {
			s = ansi.Truncate(s, c.width, "…")
		}
		if c.right {
			return padLeft(s, c.width)
		}
		return padRight(s, c.width)
	}
	var head []string
	for _, c := range cols {
		head = append(head, cell(c.title, c))
	}
	lines := []string{th.TableHeader.Render(fit(strings.Join(head, " "), tw))}
	rows := max(tht-1, 1)
	for i := b.offset; i < len(b.rows) && i < b.offset+rows; i++ {
		cp := b.rows[i]
		var cells []string
		for _, c := range cols {
			cells = append(cells, cell(c.cell(cp), c))
		}
		line := fit(strings.Join(cells, " "), tw)
		if i == b.cursor {
			style := th.TableSelected
			if b.detailFocus {
				style = th.TableSelectedBlurred
			}
			line = style.Render(ansi.Strip(line))
		}
		lines = append(lines, line)
	}
	for len(lines) < tht {
		lines = append(lines, strings.Repeat(" ", tw))
	}
	return strings.Join(lines, "\n")
}
