// Package channels is the Channels box of the cockpit: every way the
// company talks to customers, with what each channel can reach now and what
// it did lately, and the outbox that hands contacts over to them.
//
// Two views, switched with ←/→ (h/l):
//
//   - Channels: a table of name, kind, status, reach (customers contactable
//     now for the widest marketing purpose, from the consent engine's
//     maintained counters), contacts in the last 30 days with a sparkline,
//     cost per contact, connector and software; and the detail of the
//     channel under the cursor: reach per purpose, consent coverage
//     (allowed, and denied by reason, per purpose), contacts per week over
//     90 days, and costs. Admins create (n) and edit (e) channels in a
//     validated form; other roles do not see those actions, and the store
//     refuses them anyway.
//   - Outbox: per channel the messages queued, sent, suppressed at dispatch,
//     cancelled and dead, and the dead letters of the selected channel with
//     their reason; r retries one, R all of the channel's.
//
// Everything is read in tea.Cmds with sequence numbers (stale replies are
// dropped). The table, reach, activity and outbox counts come from counters
// and rollups in one short read; the consent coverage needs a pass over
// every customer's consent projection and is counted chunk by chunk in
// commands, with its progress in the status bar. Store changes (another
// operator's opt-out, the dispatcher, an import) reload the box, coalesced;
// the coverage is recounted after a longer pause.
//
// Layout: from 150 columns the table and the detail sit side by side; below
// that, when the screen is tall enough, the detail sits under the table;
// otherwise the table fills the box and enter opens the detail full-size.
package channels

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/chart"
	"karton/tui/components/confirm"
	"karton/tui/components/form"
	"karton/tui/components/palette"
	"karton/tui/components/vtable"
	"karton/tui/theme"
)

// subview is one of the box's two views.
type subview int

const (
	viewChannels subview = iota
	viewOutbox
)

var subviewTitles = [...]string{"Channels", "Outbox"}

// arrangement is how the channels view places table and detail.
type arrangement int

const (
	arrangeNarrow  arrangement = iota // table, or detail full-size
	arrangeStacked                    // detail under the table
	arrangeSide                       // detail beside the table
)

const (
	// sideWidth is the width from which table and detail sit side by side.
	sideWidth = 150
	// minDetailRows is the least room the stacked detail needs.
	minDetailRows = 14
	// bodyTop is the screen row of the box's first line (the App's tab
	// row is above it); mouse events come in screen coordinates.
	bodyTop = 1
)

// tableID names the channel table in fetch requests and replies.
const tableID = "channels"

// Columns, most important on the left: the table drops columns from the
// right on narrow terminals.
var channelColumns = []vtable.Column{
	{Title: "name", Width: 14, Flex: 3},
	{Title: "kind", Width: 9},
	{Title: "status", Width: 7},
	{Title: "reach", Width: 8, Align: vtable.AlignRight},
	{Title: "30 days", Width: 7, Align: vtable.AlignRight},
	{Title: "trend", Width: sparkWidth},
	{Title: "cost", Width: 7, Align: vtable.AlignRight},
	{Title: "connector", Width: 9},
	{Title: "software", Width: 12, Flex: 2},
}

const sparkWidth = 10

// Box is the Channels box. Build it with New.
type Box struct {
	c    *common.Context
	w, h int
	sub  subview
	arr  arrangement

	table *vtable.Table
	data  *overview
	seq   uint64 // of the latest overview request
	busy  bool   // an overview read is in flight

	cov    coverageState
	covSeq uint64

	// detailFocus: the keyboard scrolls the detail (side, stacked) or the
	// detail is shown full-size (narrow).
	detailFocus bool
	detail      []string // cached drawing of the selected channel's detail
	detailFor   model.ChannelID
	scroll      int

	obCursor  int
	deadFocus bool
	dead      *vtable.Table
	deadFor   model.ChannelID

	form    *activeForm
	formSeq uint64
	confirm *confirm.Dialog
	// retrying is set while a retry write is in flight.
	retrying bool

	spin     spinner.Model
	spinning bool

	// Coalesced refreshes after store changes.
	delay, covDelay        time.Duration
	refreshSeq, covDueSeq  uint64
	refreshDue, coverageOn bool

	prevView, nextView, retryKey, retryAllKey, tabKey key.Binding
}

var _ common.Box = (*Box)(nil)

// New builds the box for one session.
func New(c *common.Context) *Box {
	b := &Box{c: c, delay: refreshDelay, covDelay: coverageDelay}
	b.table = vtable.New(tableID, c.Theme, c.Keys, b.fetch)
	b.table.SetColumns(channelColumns)
	b.table.Focus()
	b.dead = vtable.New(deadTableID, c.Theme, c.Keys, func(req vtable.FetchRequest) tea.Cmd { return fetchDead(c, b.deadFor, req) })
	b.dead.SetColumns(deadColumns)
	b.confirm = confirm.New(c.Theme, c.Keys)
	b.spin = spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(c.Theme.Accent))
	left, right := c.Keys.Left.Keys(), c.Keys.Right.Keys()
	b.prevView = key.NewBinding(key.WithKeys(left...), key.WithHelp("←/h", "previous view"))
	b.nextView = key.NewBinding(key.WithKeys(right...), key.WithHelp("→/l", "next view"))
	b.retryKey = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry dead letter"))
	b.retryAllKey = key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "retry all of channel"))
	b.tabKey = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "dead letters"))
	return b
}

// Title implements common.Box.
func (b *Box) Title() string { return "Channels" }

// Short implements common.Box.
func (b *Box) Short() string { return "Chan" }

// Init loads the overview and starts counting the consent coverage.
func (b *Box) Init() tea.Cmd {
	return tea.Batch(b.reload(), b.recount(), b.startSpinner())
}

// reload reads the overview again.
func (b *Box) reload() tea.Cmd {
	b.seq++
	b.busy = true
	return loadOverview(b.c, b.seq)
}

// recount starts a new count of the consent coverage (dropping the chunks
// of a count still running).
func (b *Box) recount() tea.Cmd {
	b.covSeq++
	b.cov.running, b.cov.stale, b.cov.done = true, false, 0
	return tea.Batch(countCustomers(b.c, b.covSeq), countCoverage(b.c, b.covSeq, &store.Coverage{}, 0))
}

// canManage reports whether the actor may create and edit channels.
func (b *Box) canManage() bool { return b.c.Can(model.PermAdminister) }

// canRetry reports whether the actor may retry dead letters.
func (b *Box) canRetry() bool { return b.c.Can(model.PermEditCampaigns) }

// --- sizes ------------------------------------------------------------------

// SetSize implements common.Box.
func (b *Box) SetSize(w, h int) {
	b.w, b.h = max(w, 0), max(h, 0)
	b.layout()
}

// SetTheme implements common.Box.
func (b *Box) SetTheme(th *theme.Theme) {
	b.c.Theme = th
	b.table.SetTheme(th)
	b.dead.SetTheme(th)
	b.confirm.SetTheme(th)
	b.spin.Style = th.Accent
	if b.form != nil && b.form.form != nil {
		b.form.form.WithTheme(form.Theme(th))
	}
	b.redraw()
}

// tableRows is the height the channel table wants: its rows, header and
// footer.
func (b *Box) tableRows() int {
	n := 3
	if b.data != nil {
		n = len(b.data.channels)
	}
	return max(n, 3) + 2
}

// bodyH is the height below the view row.
func (b *Box) bodyH() int { return max(b.h-1, 1) }

func (b *Box) layout() {
	bh := b.bodyH()
	switch {
	case b.w >= sideWidth:
		b.arr = arrangeSide
	case bh-b.tableRows()-1 >= minDetailRows:
		b.arr = arrangeStacked
	default:
		b.arr = arrangeNarrow
	}
	switch b.arr {
	case arrangeSide:
		b.table.SetSize(b.listWidth(), bh)
	case arrangeStacked:
		b.table.SetSize(b.w, b.tableRows())
	default:
		b.table.SetSize(b.w, bh)
	}
	b.table.SetOrigin(0, bodyTop+1)
	// Outbox: the summary (header and a row per channel), a title line,
	// and the dead letters below.
	sumH := b.summaryRows()
	b.dead.SetSize(b.w, max(bh-sumH-1, 3))
	b.dead.SetOrigin(0, bodyTop+1+sumH+1)
	b.confirm.SetSize(b.w, b.h)
	if b.form != nil && b.form.form != nil {
		b.form.form.WithWidth(max(b.w-2, 20))
	}
	b.redraw()
}

func (b *Box) summaryRows() int {
	n := 1
	if b.data != nil {
		n += len(b.data.channels)
	}
	return n
}

// listWidth is the table's width beside the detail.
func (b *Box) listWidth() int { return b.w * 11 / 20 }

// detailSize is the room of the detail in the current arrangement.
func (b *Box) detailSize() (int, int) {
	bh := b.bodyH()
	switch b.arr {
	case arrangeSide:
		return b.w - b.listWidth() - 1, bh
	case arrangeStacked:
		return b.w, bh - b.tableRows() - 1
	}
	return b.w, bh
}

// --- data -------------------------------------------------------------------

// selected returns the channel under the table's cursor.
func (b *Box) selected() (model.Channel, bool) {
	if b.data == nil {
		return model.Channel{}, false
	}
	row, ok := b.table.Selected()
	if !ok || len(row.Key) != 8 {
		return model.Channel{}, false
	}
	return b.data.channel(model.ChannelID(binary.BigEndian.Uint64(row.Key)))
}

// outboxChannel returns the channel under the outbox summary's cursor.
func (b *Box) outboxChannel() (model.Channel, bool) {
	if b.data == nil || b.obCursor < 0 || b.obCursor >= len(b.data.channels) {
		return model.Channel{}, false
	}
	return b.data.channels[b.obCursor], true
}

// rows builds the table rows from the loaded overview.
func (b *Box) rows() []vtable.Row {
	if b.data == nil {
		return nil
	}
	o, th := b.data, b.c.Theme
	out := make([]vtable.Row, len(o.channels))
	for i, ch := range o.channels {
		reach, _ := o.headlineReach(ch.Kind)
		last := o.last(ch.ID, tableDays)
		spark := chart.Sparkline(th, 0, o.contactsSeries(ch.ID, tableDays), sparkWidth)
		out[i] = vtable.Row{
			Key: binary.BigEndian.AppendUint64(nil, uint64(ch.ID)),
			Cells: []string{
				ch.Name, string(ch.Kind), statusText(th, ch.Status), groupInt(reach), groupInt(last.Contacts), spark,
				ch.CostPerContact.Format(currencyOf(ch, o)), string(ch.Connector.Kind), orDash(ch.Software),
			},
		}
	}
	return out
}

// fetch is the table's FetchFunc: channels are few and loaded with the
// overview, so it answers from the rows built now, in a command like any
// other fetch.
func (b *Box) fetch(req vtable.FetchRequest) tea.Cmd {
	rows := b.rows()
	loaded := b.data != nil
	return func() tea.Msg {
		if !loaded {
			return req.Reply(nil, true, nil)
		}
		return sliceFetch(rows, req)
	}
}

// sliceFetch answers a keyset request from rows in key order.
func sliceFetch(rows []vtable.Row, req vtable.FetchRequest) vtable.RowsFetchedMsg {
	if req.Backward {
		end := len(rows)
		if req.After != nil {
			end = 0
			for i, r := range rows {
				if c := bytes.Compare(r.Key, req.After); c < 0 || (c == 0 && req.Inclusive) {
					end = i + 1
				}
			}
		}
		start := max(end-req.Limit, 0)
		return req.Reply(rows[start:end], start == 0, nil)
	}
	start := 0
	if req.After != nil {
		start = len(rows)
		for i, r := range rows {
			if c := bytes.Compare(r.Key, req.After); c > 0 || (c == 0 && req.Inclusive) {
				start = i
				break
			}
		}
	}
	end := min(start+req.Limit, len(rows))
	return req.Reply(rows[start:end], end == len(rows), nil)
}

// redraw rebuilds the cached detail of the selected channel.
func (b *Box) redraw() {
	ch, ok := b.selected()
	if !ok {
		b.detail, b.detailFor = nil, 0
		return
	}
	if ch.ID != b.detailFor {
		b.scroll = 0
	}
	w, h := b.detailSize()
	spin := ""
	if b.cov.running {
		spin = b.spin.View()
	}
	b.detail = renderDetail(detailInput{th: b.c.Theme, o: b.data, ch: ch, coverage: &b.cov, spinner: spin, w: w})
	b.detailFor = ch.ID
	b.scroll = max(min(b.scroll, len(b.detail)-h), 0)
}

// --- update -----------------------------------------------------------------

// Capturing implements common.Box: the form and the confirmation dialog
// take every key.
func (b *Box) Capturing() bool { return b.form != nil || b.confirm.Active() }

// loading reports whether a read or write of the box is in flight.
func (b *Box) loading() bool {
	return b.busy || b.cov.running || b.retrying || (b.form != nil && b.form.saving) || b.table.Loading() || b.dead.Loading()
}

func (b *Box) startSpinner() tea.Cmd {
	b.spinning = true
	return b.spin.Tick
}

// Update implements common.Box.
func (b *Box) Update(msg tea.Msg) tea.Cmd {
	before, _ := b.selected()
	cmd := b.update(msg)
	if after, _ := b.selected(); after.ID != before.ID {
		b.redraw()
	}
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
		if b.cov.running {
			b.redraw()
		}
		return cmd
	case overviewLoadedMsg:
		return b.overviewLoaded(msg)
	case customersCountedMsg:
		if msg.seq == b.covSeq {
			b.cov.total = msg.n
		}
		return nil
	case coverageChunkMsg:
		return b.coverageChunk(msg)
	case vtable.RowsFetchedMsg:
		switch msg.Table {
		case tableID:
			return b.table.Update(msg)
		case deadTableID:
			cmd := b.dead.Update(msg)
			if msg.Err != nil {
				return tea.Batch(cmd, common.Fail("load dead letters", msg.Err))
			}
			return cmd
		}
		return nil
	case refreshDueMsg:
		if msg.seq != b.refreshSeq {
			return nil
		}
		b.refreshDue = false
		cmds := []tea.Cmd{b.reload()}
		if b.sub == viewOutbox {
			cmds = append(cmds, b.dead.Reload())
		}
		return tea.Batch(cmds...)
	case coverageDueMsg:
		if msg.seq != b.covDueSeq {
			return nil
		}
		b.coverageOn = false
		if b.cov.running {
			return nil // the running count's end schedules the next
		}
		return b.recount()
	case formSubmittedMsg:
		return b.formSubmitted(msg)
	case formCancelledMsg:
		if b.form != nil && msg.seq == b.form.seq {
			b.form = nil
			b.layout()
		}
		return nil
	case channelSavedMsg:
		return b.channelSaved(msg)
	case confirm.AnsweredMsg:
		return b.answered(msg)
	case deadRetriedMsg:
		b.retrying = false
		if msg.err != nil {
			return common.Fail(fmt.Sprintf("retry message %s", msg.id), msg.err)
		}
		return tea.Batch(common.Info(fmt.Sprintf("Message %s queued again", msg.id)), b.reload(), b.dead.Reload())
	case channelRetriedMsg:
		b.retrying = false
		if msg.err != nil {
			return tea.Batch(common.Fail("retry the dead letters of "+msg.name, msg.err), b.reload(), b.dead.Reload())
		}
		return tea.Batch(common.Info(fmt.Sprintf("%d dead letters of %s queued again", msg.n, msg.name)), b.reload(), b.dead.Reload())
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
	return nil
}

func (b *Box) overviewLoaded(msg overviewLoadedMsg) tea.Cmd {
	if msg.seq != b.seq {
		return nil
	}
	b.busy = false
	if msg.err != nil {
		return common.Fail("load channels", msg.err)
	}
	first := b.data == nil
	b.data = msg.data
	b.table.SetTotal(len(b.data.channels))
	b.obCursor = min(b.obCursor, max(len(b.data.channels)-1, 0))
	b.layout()
	cmds := []tea.Cmd{b.table.Reload()}
	if first {
		cmds = []tea.Cmd{b.table.Reset()}
	}
	if b.sub == viewOutbox {
		cmds = append(cmds, b.syncDead())
	}
	return tea.Batch(cmds...)
}

func (b *Box) coverageChunk(msg coverageChunkMsg) tea.Cmd {
	if msg.seq != b.covSeq {
		return nil
	}
	var cmds []tea.Cmd
	if msg.err != nil {
		b.cov.running, b.cov.err = false, msg.err
		b.redraw()
		return tea.Batch(common.Fail("count consent coverage", msg.err), taskEnded())
	}
	b.cov.done = msg.cov.Customers
	if msg.next != 0 {
		// More than one chunk: worth showing in the status bar.
		label := "consent coverage " + progressText(&b.cov)
		if msg.cov.Customers == coverageChunk {
			cmds = append(cmds, func() tea.Msg { return common.TaskStartedMsg{ID: coverageTask, Label: label} })
		} else {
			cmds = append(cmds, func() tea.Msg { return common.TaskProgressMsg{ID: coverageTask, Label: label} })
		}
		cmds = append(cmds, countCoverage(b.c, b.covSeq, msg.cov, msg.next))
		b.redraw()
		return tea.Batch(cmds...)
	}
	b.cov.cov, b.cov.running, b.cov.err = msg.cov, false, nil
	b.redraw()
	cmds = append(cmds, taskEnded())
	if b.cov.stale {
		cmds = append(cmds, b.scheduleCoverage())
	}
	return tea.Batch(cmds...)
}

func taskEnded() tea.Cmd {
	return func() tea.Msg { return common.TaskEndedMsg{ID: coverageTask} }
}

// syncDead points the dead-letter table at the outbox cursor's channel.
func (b *Box) syncDead() tea.Cmd {
	ch, ok := b.outboxChannel()
	if !ok {
		return nil
	}
	b.dead.SetTotal(int(b.data.outbox[ch.ID].Counts.Dead))
	if ch.ID == b.deadFor {
		return b.dead.Reload()
	}
	b.deadFor = ch.ID
	return b.dead.Reset()
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
	switch {
	case key.Matches(msg, b.prevView), key.Matches(msg, b.nextView):
		if b.sub == viewChannels {
			return b.showOutbox()
		}
		return b.showChannels()
	}
	if b.sub == viewOutbox {
		return b.outboxKey(msg)
	}
	if b.detailFocus {
		_, dh := b.detailSize()
		switch {
		case key.Matches(msg, km.Back):
			b.detailFocus = false
			b.table.Focus()
			return nil
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
		case key.Matches(msg, km.Edit):
			return b.openEdit()
		case key.Matches(msg, km.New):
			return b.openNew()
		case key.Matches(msg, km.Refresh):
			return tea.Batch(b.reload(), b.recount())
		}
		return nil
	}
	switch {
	case key.Matches(msg, km.Open):
		if _, ok := b.selected(); ok {
			b.detailFocus = true
			b.table.Blur()
		}
		return nil
	case key.Matches(msg, km.New):
		return b.openNew()
	case key.Matches(msg, km.Edit):
		return b.openEdit()
	case key.Matches(msg, km.Refresh):
		return tea.Batch(b.reload(), b.recount())
	}
	return b.table.Update(msg)
}

func (b *Box) scrollBy(d, h int) {
	b.scroll = max(min(b.scroll+d, len(b.detail)-h), 0)
}

func (b *Box) showOutbox() tea.Cmd {
	b.sub = viewOutbox
	if ch, ok := b.selected(); ok && b.data != nil {
		for i, c := range b.data.channels {
			if c.ID == ch.ID {
				b.obCursor = i
			}
		}
	}
	b.layout()
	return b.syncDead()
}

func (b *Box) showChannels() tea.Cmd {
	b.sub = viewChannels
	b.deadFocus = false
	b.dead.Blur()
	b.layout()
	return nil
}

func (b *Box) outboxKey(msg tea.KeyPressMsg) tea.Cmd {
	km := b.c.Keys
	switch {
	case key.Matches(msg, b.retryAllKey):
		return b.askRetryAll()
	case b.deadFocus && key.Matches(msg, b.retryKey):
		return b.retrySelected()
	case b.deadFocus && key.Matches(msg, km.Back):
		b.deadFocus = false
		b.dead.Blur()
		return nil
	case b.deadFocus:
		return b.dead.Update(msg)
	case key.Matches(msg, km.Open):
		b.deadFocus = true
		b.dead.Focus()
		return nil
	case key.Matches(msg, km.Refresh):
		return tea.Batch(b.reload(), b.dead.Reload())
	case key.Matches(msg, km.Down):
		return b.moveOutbox(1)
	case key.Matches(msg, km.Up):
		return b.moveOutbox(-1)
	case key.Matches(msg, km.Top):
		return b.moveOutbox(-len(b.data.channels))
	case key.Matches(msg, km.Bottom):
		return b.moveOutbox(len(b.data.channels))
	}
	return nil
}

func (b *Box) moveOutbox(d int) tea.Cmd {
	if b.data == nil || len(b.data.channels) == 0 {
		return nil
	}
	b.obCursor = max(min(b.obCursor+d, len(b.data.channels)-1), 0)
	return b.syncDead()
}

func (b *Box) retrySelected() tea.Cmd {
	if !b.canRetry() {
		return common.Info(fmt.Sprintf("%s may not retry dead letters", b.c.Actor.Role))
	}
	id, ok := selectedDead(b.dead)
	if !ok || b.retrying {
		return nil
	}
	b.retrying = true
	return retryOne(b.c, id)
}

func (b *Box) askRetryAll() tea.Cmd {
	if !b.canRetry() {
		return common.Info(fmt.Sprintf("%s may not retry dead letters", b.c.Actor.Role))
	}
	ch, ok := b.outboxChannel()
	if !ok {
		return nil
	}
	n := b.data.outbox[ch.ID].Counts.Dead
	if n == 0 {
		return common.Info(ch.Name + " has no dead letters")
	}
	b.confirm.Open(confirm.Prompt{
		ID:    fmt.Sprintf("retry:%d", ch.ID),
		Title: fmt.Sprintf("Retry %s dead letters of %s?", groupInt(n), ch.Name),
		Body:  "They go back into the queue with fresh attempts; consent is checked again before each is sent.",
		Yes:   "Retry all",
	})
	return nil
}

func (b *Box) answered(msg confirm.AnsweredMsg) tea.Cmd {
	var id model.ChannelID
	if _, err := fmt.Sscanf(msg.ID, "retry:%d", &id); err != nil || !msg.Confirmed || b.data == nil {
		return nil
	}
	ch, ok := b.data.channel(id)
	if !ok {
		return nil
	}
	b.retrying = true
	return retryChannel(b.c, ch)
}

func (b *Box) mouse(msg tea.MouseMsg) tea.Cmd {
	if b.form != nil || b.confirm.Active() {
		return nil
	}
	m := msg.Mouse()
	if _, ok := msg.(tea.MouseClickMsg); ok && m.Y == bodyTop {
		if m.X < lipgloss.Width(b.viewRow()) && b.data != nil {
			if strings.Contains(fit(b.viewRow(), m.X+1), "Outbox") {
				return b.showOutbox()
			}
			return b.showChannels()
		}
		return nil
	}
	if b.sub == viewOutbox {
		return b.dead.Update(msg)
	}
	return b.table.Update(msg)
}

// --- forms ------------------------------------------------------------------

func (b *Box) refuseManage() tea.Cmd {
	return common.Info(fmt.Sprintf("only admins manage channels (you are %s)", b.c.Actor.Role))
}

func (b *Box) openNew() tea.Cmd {
	if !b.canManage() {
		return b.refuseManage()
	}
	cur := b.c.Store.Settings().Currency
	base := model.Channel{Kind: model.KindEmail, Status: model.ChannelActive, Currency: cur, Connector: model.Connector{Kind: model.ConnectorFile}}
	b.form = &activeForm{base: base, values: valuesFrom(&base), title: "New channel"}
	b.form.values.Cost = ""
	return b.buildForm()
}

func (b *Box) openEdit() tea.Cmd {
	if !b.canManage() {
		return b.refuseManage()
	}
	ch, ok := b.selected()
	if !ok {
		return nil
	}
	b.form = &activeForm{id: ch.ID, base: ch, values: valuesFrom(&ch), title: "Edit " + ch.Name + " · #" + ch.ID.String()}
	return b.buildForm()
}

// buildForm (re)creates the huh form over the form's values, keeping what
// was typed when a submission was refused.
func (b *Box) buildForm() tea.Cmd {
	a := b.form
	b.formSeq++
	a.seq = b.formSeq
	a.form = prepare(newChannelForm(a.values), a.seq, b.c.Theme, b.w-2)
	b.layout()
	return a.form.Init()
}

func (b *Box) formSubmitted(msg formSubmittedMsg) tea.Cmd {
	a := b.form
	if a == nil || msg.seq != a.seq {
		return nil
	}
	if _, err := a.values.build(a.base); err != nil {
		a.message = refusal(err)
		return b.buildForm()
	}
	a.saving = true
	return saveChannel(b.c.Store, b.c.Actor, a.seq, a.id, a.base, *a.values)
}

func (b *Box) channelSaved(msg channelSavedMsg) tea.Cmd {
	a := b.form
	if a == nil || msg.seq != a.seq {
		return nil
	}
	if msg.err != nil {
		a.saving = false
		a.message = refusal(msg.err)
		what := "create channel"
		if !msg.created {
			what = "save channel #" + a.id.String()
		}
		return tea.Batch(common.Fail(what, msg.err), b.buildForm())
	}
	b.form = nil
	b.layout()
	verb := "Saved"
	if msg.created {
		verb = "Created"
	}
	return tea.Batch(common.Info(fmt.Sprintf("%s channel %s (#%s)", verb, msg.channel.Name, msg.channel.ID)), b.reload())
}

// --- store changes, palette --------------------------------------------------

// StoreChanged implements common.Box: the overview (reach counters,
// activity, outbox counts) is reloaded once after a burst of changes; a
// change to consent, customers or purposes also recounts the coverage,
// after a longer pause.
func (b *Box) StoreChanged(changes []store.Change) tea.Cmd {
	var reload, recount bool
	for _, ch := range changes {
		switch ch.Kind {
		case store.ChangeBulk, store.ChangeImport, store.ChangePurpose, store.ChangeSettings,
			store.ChangeConsent, store.ChangeCustomer:
			reload, recount = true, true
		case store.ChangeChannel, store.ChangeInteraction, store.ChangeOutbox, store.ChangeStep, store.ChangeCampaign:
			reload = true
		}
	}
	var cmds []tea.Cmd
	if reload && !b.refreshDue {
		b.refreshDue = true
		b.refreshSeq++
		seq := b.refreshSeq
		cmds = append(cmds, tea.Tick(b.delay, func(time.Time) tea.Msg { return refreshDueMsg{seq: seq} }))
	}
	if recount {
		b.cov.stale = true
		cmds = append(cmds, b.scheduleCoverage())
	}
	return tea.Batch(cmds...)
}

func (b *Box) scheduleCoverage() tea.Cmd {
	if b.coverageOn {
		return nil
	}
	b.coverageOn = true
	b.covDueSeq++
	seq := b.covDueSeq
	return tea.Tick(b.covDelay, func(time.Time) tea.Msg { return coverageDueMsg{seq: seq} })
}

// Palette item ids of the box.
const (
	itemNew      = "channels:new"
	itemChannels = "channels:view:channels"
	itemOutbox   = "channels:view:outbox"
	itemRecount  = "channels:recount"
)

// PaletteItems implements common.Box.
func (b *Box) PaletteItems() []palette.Item {
	items := []palette.Item{
		{ID: itemChannels, Title: "Channels: table and detail", Kind: "view"},
		{ID: itemOutbox, Title: "Channels: outbox and dead letters", Kind: "view"},
		{ID: itemRecount, Title: "Recount consent coverage", Subtitle: "all customers", Kind: "command"},
	}
	if b.canManage() {
		items = append(items, palette.Item{ID: itemNew, Title: "New channel", Kind: "command"})
	}
	return items
}

// PaletteChosen implements common.Box.
func (b *Box) PaletteChosen(it palette.Item) (tea.Cmd, bool) {
	if b.form != nil && strings.HasPrefix(it.ID, "channels:") {
		return common.Info("finish or cancel the open form first (esc)"), true
	}
	switch it.ID {
	case itemChannels:
		return b.showChannels(), true
	case itemOutbox:
		return b.showOutbox(), true
	case itemRecount:
		return b.recount(), true
	case itemNew:
		b.showChannels()
		return b.openNew(), true
	}
	return nil, false
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
	case b.sub == viewOutbox:
		out := []key.Binding{b.nextView}
		if b.deadFocus {
			out = append(out, km.Back)
			if b.canRetry() {
				out = append(out, b.retryKey)
			}
		} else {
			out = append(out, b.tabKey)
		}
		if b.canRetry() {
			out = append(out, b.retryAllKey)
		}
		return out
	case b.detailFocus:
		out := []key.Binding{km.Back, km.Down, km.Up}
		if b.canManage() {
			out = append(out, km.Edit)
		}
		return out
	}
	out := []key.Binding{b.nextView, km.Open}
	if b.canManage() {
		out = append(out, km.New, km.Edit)
	}
	return append(out, km.Refresh)
}

// FullHelp implements help.KeyMap.
func (b *Box) FullHelp() [][]key.Binding {
	km := b.c.Keys
	if b.form != nil {
		return [][]key.Binding{b.form.help()}
	}
	channels := []key.Binding{b.prevView, b.nextView, km.Open, km.Back, km.Refresh}
	if b.canManage() {
		channels = append(channels, km.New, km.Edit)
	}
	outbox := []key.Binding{b.tabKey}
	if b.canRetry() {
		outbox = append(outbox, b.retryKey, b.retryAllKey)
	}
	return [][]key.Binding{channels, km.MoveKeys(), outbox}
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
		body = b.formView(bh)
	case b.data == nil:
		body = b.c.Theme.Muted.Render(b.spin.View() + " loading channels…")
	case b.sub == viewOutbox:
		body = b.outboxView(bh)
	default:
		body = b.channelsView(bh)
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
	if b.loading() {
		right = b.spin.View() + " " + right
	}
	l := left.String()
	if gap := b.w - lipgloss.Width(l) - lipgloss.Width(right); gap >= 2 {
		return l + strings.Repeat(" ", gap) + right
	}
	return fit(l, b.w)
}

func (b *Box) detailWindow(h int) string {
	w, _ := b.detailSize()
	lines := make([]string, 0, h)
	for i := b.scroll; i < len(b.detail) && len(lines) < h; i++ {
		lines = append(lines, b.detail[i])
	}
	if len(b.detail) == 0 {
		lines = append(lines, fit(b.c.Theme.Muted.Render("no channel selected"), w))
	}
	if b.scroll+h < len(b.detail) && len(lines) == h {
		lines[h-1] = fit(b.c.Theme.Muted.Render(fmt.Sprintf("↓ %d more lines (enter, then j/k)", len(b.detail)-b.scroll-h)), w)
		if b.detailFocus {
			lines[h-1] = fit(b.c.Theme.Muted.Render(fmt.Sprintf("↓ %d more lines", len(b.detail)-b.scroll-h)), w)
		}
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return strings.Join(lines, "\n")
}

func (b *Box) channelsView(bh int) string {
	th := b.c.Theme
	switch b.arr {
	case arrangeSide:
		_, dh := b.detailSize()
		sep := strings.TrimSuffix(strings.Repeat(th.Muted.Render("│")+"\n", dh), "\n")
		return lipgloss.JoinHorizontal(lipgloss.Top, b.table.View(), sep, b.detailWindow(dh))
	case arrangeStacked:
		_, dh := b.detailSize()
		rule := th.Muted.Render(strings.Repeat("─", b.w))
		return b.table.View() + "\n" + rule + "\n" + b.detailWindow(dh)
	}
	if b.detailFocus {
		return b.detailWindow(bh)
	}
	return b.table.View()
}

func (b *Box) outboxView(bh int) string {
	th := b.c.Theme
	lines := outboxSummary(th, b.data, b.obCursor, !b.deadFocus, b.w)
	title := "Dead letters"
	if ch, ok := b.outboxChannel(); ok {
		n := b.data.outbox[ch.ID].Counts.Dead
		title += " · " + ch.Name + " · " + groupInt(n)
		if n == 0 {
			title += th.Muted.Render(" · nothing failed for good")
		} else if !b.deadFocus {
			title += th.Muted.Render(" · enter to pick one")
		}
	}
	lines = append(lines, fit(th.Title.Render(title), b.w))
	return strings.Join(lines, "\n") + "\n" + b.dead.View()
}

func (b *Box) formView(bh int) string {
	th := b.c.Theme
	lines := []string{fit(th.Title.Render(b.form.title), b.w)}
	if b.form.message != "" {
		for _, l := range strings.Split(lipgloss.NewStyle().Width(max(b.w, 20)).Render(b.form.message), "\n") {
			lines = append(lines, fit(th.Bad.Render(l), b.w))
		}
	}
	if b.form.saving {
		lines = append(lines, fit(b.spin.View()+" saving…", b.w))
	} else {
		lines = append(lines, "", b.form.form.View())
	}
	return strings.Join(lines, "\n")
}
