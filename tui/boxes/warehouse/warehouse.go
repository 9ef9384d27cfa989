// Package warehouse is the cockpit's Warehouse box: the numbers that let
// marketing analyse, plan and control, read from the store's maintained
// counters, rollups and analytics scores.
//
// The box is a row of sub-views switched with ←/→ (h/l) or a click on the
// row. Each sub-view owns its data, loads it in a tea.Cmd with a sequence
// number (stale replies are dropped), draws its charts when its data, size
// or theme changes and returns the cached drawing from View (STYLE.md
// rules 3, 4 and 7):
//
//   - Overview: KPI tiles (customers, revenue and orders over 90 days,
//     running campaigns and their budget, contacts and conversions) in a
//     grid that reflows with the width, reach per channel kind from the
//     consent engine's counters, and two charts: revenue by month and
//     contacts by channel.
//   - RFM: customers per recency × frequency/monetary cell and per named
//     segment, from the analytics scores, or the command that computes
//     them when there are none yet.
//   - Cohorts: retention of first-purchase cohorts month by month, with the
//     revenue each cohort brought.
//   - CLV: the distribution of expected lifetime value; enter on a range
//     opens its customers.
//   - Sources: the warehouse's KPI tiles, every source system with its
//     imports and quality score, the funnel per channel kind and the
//     quality per source (Reader.Dashboard).
//   - Quality: the data-quality cockpit, worst fields first, with the
//     customers behind each figure; c recomputes the report.
//   - Merges: merge suggestions with both records side by side; m merges
//     (confirmed, survivor chosen with s), d dismisses. Read-only for roles
//     that may not edit customers.
//   - Import (only for roles that may import): the import wizard — file,
//     preview with the detected mapping, adjust it, dry run, run with a
//     progress bar; esc cancels.
//
// Drill-downs never import the Customers box: they return common.Goto with
// a common.ItemCustomerFilter or common.ItemCustomerIDs item (pick.go).
//
// Growing the box means adding a sub-view: a type implementing subview in
// its own file, appended in New. A sub-view with text inputs or dialogs
// also implements capturer.
package warehouse

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/palette"
	"karton/tui/theme"
)

// subview is one screen of the box. Its methods follow the Box's: pointer
// receivers, commands instead of models, a View of exactly the size set.
type subview interface {
	// id names the view in palette ids ("warehouse:view:<id>").
	id() string
	// title is the label in the sub-view row and the palette.
	title() string
	// load returns the command that reads the view's data.
	load() tea.Cmd
	// update handles the view's replies and the keys the box does not
	// use itself.
	update(msg tea.Msg) tea.Cmd
	// affectedBy reports whether committed changes make the view's data
	// stale.
	affectedBy(changes []store.Change) bool
	state() *loadState
	setSize(w, h int)
	setTheme(th *theme.Theme)
	// view returns the cached drawing, exactly the size set.
	view() string
	// keys are the view's own bindings, for the footer and the help.
	keys() []key.Binding
}

// loadState is what every sub-view tracks about its data.
type loadState struct {
	seq     uint64
	loaded  bool // a reply arrived at least once
	loading bool
	stale   bool // the store changed since the last load began
	err     error

	// task names the load in the status bar ("warehouse:rfm"), where it
	// shows with a spinner once it has run for slowAfter; label is the
	// text shown there.
	task, label string
	slowAfter   time.Duration
	taskShown   bool
}

// slowLoad is how long a load runs before the status bar shows it: quick
// loads (most of them) should not make the spinner flicker.
const slowLoad = 300 * time.Millisecond

// loadRanLongMsg reports that a load was still running after slowAfter.
type loadRanLongMsg struct {
	task string
	seq  uint64
}

// run starts a load: read runs off the update loop, and a timer shows the
// load in the status bar if it is still running after slowAfter.
func (l *loadState) run(read func(seq uint64) tea.Msg) tea.Cmd {
	seq := l.begin()
	task := l.task
	return tea.Batch(
		func() tea.Msg { return read(seq) },
		tea.Tick(l.slowAfter, func(time.Time) tea.Msg { return loadRanLongMsg{task: task, seq: seq} }),
	)
}

// begin starts a load and returns its sequence number.
func (l *loadState) begin() uint64 {
	l.seq++
	l.loading, l.stale = true, false
	return l.seq
}

// ranLong shows the running load in the status bar.
func (l *loadState) ranLong(m loadRanLongMsg) tea.Cmd {
	if m.task != l.task || m.seq != l.seq || !l.loading || l.taskShown {
		return nil
	}
	l.taskShown = true
	id, label := l.task, l.label
	return func() tea.Msg { return common.TaskStartedMsg{ID: id, Label: label} }
}

// accept reports whether a reply is the latest one and records its
// outcome; a failed reload keeps the data of the previous load. done is
// the command that takes the load off the status bar (nil if it was not
// shown there).
func (l *loadState) accept(seq uint64, err error) (ok bool, done tea.Cmd) {
	if seq != l.seq {
		return false, nil
	}
	l.loading, l.err = false, err
	if err == nil {
		l.loaded = true
	}
	if l.taskShown {
		l.taskShown = false
		id := l.task
		done = func() tea.Msg { return common.TaskEndedMsg{ID: id} }
	}
	return true, done
}

// refreshDelay coalesces the store's change batches: the first relevant
// batch schedules one reload this much later and the batches that arrive
// meanwhile ride along, so an import committing every few milliseconds
// costs about one reload per delay instead of one per commit.
const refreshDelay = 750 * time.Millisecond

// refreshDueMsg is the scheduled reload after store changes.
type refreshDueMsg struct{}

// bodyTop is the screen row where the App draws a box (below its tab row);
// mouse events carry screen coordinates.
const bodyTop = 1

// Box is the Warehouse dashboard. Build it with New.
type Box struct {
	c      *common.Context
	views  []subview
	active int
	w, h   int

	delay   time.Duration
	pending bool // a refreshDueMsg is on its way

	row string // the drawn view row, redrawn on size, theme and view changes

	prevView, nextView key.Binding
}

// New builds the Warehouse box for one session.
//
// The sub-views are listed here in tab order; the import wizard only for
// roles that may import.
func New(c *common.Context) *Box {
	b := &Box{c: c, delay: refreshDelay}
	b.views = []subview{
		newOverview(c),
		newRFM(c),
		newCohorts(c),
		newCLV(c),
		newSources(c),
		newQuality(c),
		newMerges(c),
	}
	if c.Can(model.PermEditCustomers) {
		b.views = append(b.views, newWizard(c))
	}
	left, right := c.Keys.Left.Keys(), c.Keys.Right.Keys()
	b.prevView = key.NewBinding(key.WithKeys(left...), key.WithHelp("←/h", "previous view"))
	b.nextView = key.NewBinding(key.WithKeys(right...), key.WithHelp("→/l", "next view"))
	return b
}

// Title implements common.Box.
func (b *Box) Title() string { return "Warehouse" }

// Short implements common.Box.
func (b *Box) Short() string { return "Ware" }

// Init loads the first view; the others load when first shown.
func (b *Box) Init() tea.Cmd { return b.show(b.active) }

// show activates view i and loads it when it has no data yet or its data
// went stale while it was hidden.
func (b *Box) show(i int) tea.Cmd {
	if i < 0 || i >= len(b.views) {
		return nil
	}
	b.active = i
	b.row = b.tabRow()
	v := b.views[i]
	st := v.state()
	if (!st.loaded && !st.loading) || st.stale {
		return v.load()
	}
	return nil
}

// Update implements common.Box.
func (b *Box) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if b.capturing() {
			return b.views[b.active].update(msg)
		}
		km := b.c.Keys
		switch {
		case key.Matches(msg, b.prevView):
			return b.show((b.active + len(b.views) - 1) % len(b.views))
		case key.Matches(msg, b.nextView):
			return b.show((b.active + 1) % len(b.views))
		case key.Matches(msg, km.Refresh):
			return b.views[b.active].load()
		}
		return b.views[b.active].update(msg)
	case tea.MouseClickMsg:
		if msg.Y == bodyTop {
			if i, ok := b.hitTab(msg.X); ok {
				return b.show(i)
			}
			return nil
		}
		return b.views[b.active].update(msg)
	case tea.MouseMsg:
		// Wheel and motion belong to the visible view only.
		return b.views[b.active].update(msg)
	case refreshDueMsg:
		b.pending = false
		if v := b.views[b.active]; v.state().stale {
			return v.load()
		}
		return nil
	}
	// Replies: each view knows its own message types and drops the rest.
	var cmds []tea.Cmd
	for _, v := range b.views {
		if cmd := v.update(msg); cmd != nil {
			cmds = append(cmds, cmd)
		}
	}
	return tea.Batch(cmds...)
}

// StoreChanged marks the views the changes affect as stale and schedules
// one coalesced reload of the visible one; hidden views reload when shown.
func (b *Box) StoreChanged(changes []store.Change) tea.Cmd {
	for _, v := range b.views {
		if v.affectedBy(changes) {
			v.state().stale = true
		}
	}
	if !b.views[b.active].state().stale || b.pending {
		return nil
	}
	b.pending = true
	return tea.Tick(b.delay, func(time.Time) tea.Msg { return refreshDueMsg{} })
}

// SetSize implements common.Box: one line for the view row, the rest for
// the view.
func (b *Box) SetSize(w, h int) {
	b.w, b.h = w, h
	for _, v := range b.views {
		v.setSize(w, max(h-1, 0))
	}
	b.row = b.tabRow()
}

// SetTheme implements common.Box; the views redraw their charts.
func (b *Box) SetTheme(th *theme.Theme) {
	for _, v := range b.views {
		v.setTheme(th)
	}
	b.row = b.tabRow()
}

// capturer is a sub-view with text inputs or dialogs: while it captures,
// every key goes to it (not to view switching, nor to the App's q, 1–4, …).
type capturer interface{ capturing() bool }

func (b *Box) capturing() bool {
	c, ok := b.views[b.active].(capturer)
	return ok && c.capturing()
}

// Capturing implements common.Box: the import wizard's inputs, a running
// import (esc cancels it) and the merge dialog take the keyboard.
func (b *Box) Capturing() bool { return b.capturing() }

// View implements common.Box.
func (b *Box) View() string {
	if b.w <= 0 || b.h <= 0 {
		return ""
	}
	if b.h == 1 {
		return b.row
	}
	return b.row + "\n" + b.views[b.active].view()
}

// tabRow draws the row of sub-views with a hint on the right, exactly w
// cells wide.
func (b *Box) tabRow() string {
	th := b.c.Theme
	var row strings.Builder
	for i, v := range b.views {
		if i == b.active {
			row.WriteString(th.TabActive.Render(v.title()))
		} else {
			row.WriteString(th.TabInactive.Render(v.title()))
		}
	}
	left := row.String()
	hint := th.Muted.Render("←/→ view  r refresh")
	if gap := b.w - lipgloss.Width(left) - lipgloss.Width(hint); gap >= 2 {
		return left + strings.Repeat(" ", gap) + hint
	}
	return fit(left, b.w)
}

// hitTab returns the view whose label covers column x of the view row.
func (b *Box) hitTab(x int) (int, bool) {
	th := b.c.Theme
	at := 0
	for i, v := range b.views {
		style := th.TabInactive
		if i == b.active {
			style = th.TabActive
		}
		w := lipgloss.Width(style.Render(v.title()))
		if x >= at && x < at+w {
			return i, true
		}
		at += w
	}
	return 0, false
}

// ShortHelp implements help.KeyMap: switching views, refreshing, and the
// visible view's own keys.
func (b *Box) ShortHelp() []key.Binding {
	return append([]key.Binding{b.prevView, b.nextView, b.c.Keys.Refresh}, b.views[b.active].keys()...)
}

// FullHelp implements help.KeyMap.
func (b *Box) FullHelp() [][]key.Binding {
	groups := [][]key.Binding{{b.prevView, b.nextView, b.c.Keys.Refresh}}
	if k := b.views[b.active].keys(); len(k) > 0 {
		groups = append(groups, k)
	}
	return groups
}

const paletteView = "warehouse:view:"

// PaletteItems implements common.Box: one jump per sub-view.
func (b *Box) PaletteItems() []palette.Item {
	items := make([]palette.Item, len(b.views))
	for i, v := range b.views {
		items[i] = palette.Item{ID: paletteView + v.id(), Title: "Warehouse: " + v.title(), Kind: "view"}
	}
	return items
}

// PaletteChosen implements common.Box.
func (b *Box) PaletteChosen(it palette.Item) (tea.Cmd, bool) {
	name, ok := strings.CutPrefix(it.ID, paletteView)
	if !ok {
		return nil, false
	}
	for i, v := range b.views {
		if v.id() == name {
			return b.show(i), true
		}
	}
	return nil, false
}

// Active returns the id of the visible sub-view ("overview", "rfm",
// "cohorts", "clv", "sources", "quality", "merges", "import"), for tests
// and the App's breadcrumbs.
func (b *Box) Active() string { return b.views[b.active].id() }
