// Package tui is Karton's cockpit: the root App that shows the four boxes as
// tabs and owns what is shared between them — the tab row, the status bar,
// the help screen, the command palette, toasts and the input modes.
//
// An App is built from a store, an acting user and Options, with no globals,
// so `karton` runs one on the local terminal and `karton serve` one per SSH
// session. The App is the only tea.Model; boxes are common.Box values with
// pointer receivers, each in its own package under tui/boxes.
//
// Key routing (STYLE.md rule 8) is decided in one place, route: ctrl+c
// always quits; an open help screen, palette or error toast takes the keys
// next; a box that is capturing (filter input, form, dialog) gets every
// other key; only then do the frame's keys (q, ?, :, 1–4, tab) apply, and
// the rest goes to the active box.
package tui

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/palette"
	"karton/tui/components/statusbar"
	"karton/tui/components/tabs"
	"karton/tui/components/toast"
	"karton/tui/keys"
	"karton/tui/theme"
)

// Options tune an App.
type Options struct {
	// Ctx ends the App's background work; nil means context.Background.
	Ctx context.Context
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Environ is the user's environment (the SSH client's over SSH), read
	// for NO_COLOR; nil means os.Environ.
	Environ []string
	// NoColor forces the colourless theme (golden tests, NO_COLOR).
	NoColor bool
	// Dark is the theme used until the terminal reports its background.
	Dark bool
	// Boxes builds the boxes; nil means DefaultBoxes. Tests pass their own.
	Boxes func(*common.Context) []common.Box
	// Connected, when set, returns the users connected to the server, shown
	// in the status bar ("3 online").
	Connected func() int
	// StoreLabel is what the status bar shows for the store; empty means
	// the file's path. The SSH server shows only the file name, so remote
	// operators do not learn the server's directory layout.
	StoreLabel string
	// NoFeed skips subscribing to the store's change feed (tests that drive
	// updates themselves).
	NoFeed bool
}

// App is the root model. Build it with New.
type App struct {
	ctx   *common.Context
	opts  Options
	boxes []common.Box
	tabs  *tabs.Tabs
	bar   *statusbar.Bar
	toast *toast.Stack
	pal   *palette.Palette
	help  help.Model

	showHelp bool
	width    int
	height   int
	noColor  bool

	feed    <-chan []store.Change
	unfeed  func()
	statSeq uint64
}

// statsLoadedMsg carries the store's counters for the status bar.
type statsLoadedMsg struct {
	seq   uint64
	stats store.Stats
	err   error
}

// changesArrivedMsg carries one batch from the store's change feed.
type changesArrivedMsg struct{ changes []store.Change }

// feedClosedMsg reports that the store closed its change feed.
type feedClosedMsg struct{}

// PresenceChangedMsg tells the App that the set of connected users changed
// (the SSH server sends it when a session starts or ends), so the status
// bar re-reads Options.Connected.
type PresenceChangedMsg struct{}

// New builds an App for one session.
func New(s *store.Store, actor model.Actor, opts Options) *App {
	if opts.Ctx == nil {
		opts.Ctx = context.Background()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Environ == nil {
		opts.Environ = os.Environ()
	}
	a := &App{opts: opts, help: help.New()}
	a.noColor = opts.NoColor || theme.NoColorRequested(opts.Environ)
	km := keys.New()
	a.ctx = &common.Context{Ctx: opts.Ctx, Store: s, Actor: actor, Keys: km, Now: opts.Now}
	a.ctx.Theme = a.buildTheme(opts.Dark)
	build := opts.Boxes
	if build == nil {
		build = DefaultBoxes
	}
	a.boxes = build(a.ctx)
	var tt []tabs.Tab
	for _, b := range a.boxes {
		tt = append(tt, tabs.Tab{Title: b.Title(), Short: b.Short()})
	}
	a.tabs = tabs.New(a.ctx.Theme, km, tt...)
	a.bar = statusbar.New(a.ctx.Theme)
	label := opts.StoreLabel
	if label == "" {
		label = s.Path()
	}
	a.bar.SetStore(label)
	a.bar.SetUser(actor.Name, string(actor.Role))
	a.bar.SetHint("? help  : command")
	a.toast = toast.New(a.ctx.Theme, km)
	a.pal = palette.New(a.ctx.Theme, km, a.search)
	a.help.Styles = a.ctx.Theme.Help()
	return a
}

func (a *App) buildTheme(dark bool) *theme.Theme {
	th := theme.New(dark)
	if a.noColor {
		th = th.WithoutColor()
	}
	return th
}

// Context returns the session's shared dependencies (tests read the theme
// and keymap from it).
func (a *App) Context() *common.Context { return a.ctx }

// Init asks for the terminal background, loads the counts, subscribes to
// the change feed and starts the boxes.
func (a *App) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestBackgroundColor, a.loadStats()}
	if !a.opts.NoFeed {
		a.feed, a.unfeed = a.ctx.Store.Subscribe()
		cmds = append(cmds, a.waitFeed())
	}
	for _, b := range a.boxes {
		cmds = append(cmds, b.Init())
	}
	return tea.Batch(cmds...)
}

// Close ends the feed subscription; the program calls it when it exits.
func (a *App) Close() {
	if a.unfeed != nil {
		a.unfeed()
		a.unfeed = nil
	}
}

func (a *App) waitFeed() tea.Cmd {
	feed := a.feed
	return func() tea.Msg {
		ch, ok := <-feed
		if !ok {
			return feedClosedMsg{}
		}
		// Coalesce what else arrived meanwhile so a burst of commits (an
		// import) costs one refresh, not hundreds.
		for {
			select {
			case more, ok := <-feed:
				if !ok {
					return changesArrivedMsg{ch}
				}
				ch = append(ch, more...)
			default:
				return changesArrivedMsg{ch}
			}
		}
	}
}

func (a *App) loadStats() tea.Cmd {
	a.statSeq++
	seq, s := a.statSeq, a.ctx.Store
	return func() tea.Msg {
		st, err := s.Stats()
		return statsLoadedMsg{seq: seq, stats: st, err: err}
	}
}

// Update routes a message; see the package comment for the order.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		a.layout()
		return a, nil
	case tea.BackgroundColorMsg:
		a.setTheme(a.buildTheme(msg.IsDark()))
		return a, nil
	case tea.EnvMsg:
		if theme.NoColorRequested(msg) && !a.noColor {
			a.noColor = true
			a.setTheme(a.ctx.Theme.WithoutColor())
		}
		return a, nil
	case tea.KeyPressMsg:
		return a, a.route(msg)
	case tea.MouseMsg:
		return a, a.mouse(msg)
	case statsLoadedMsg:
		if msg.seq == a.statSeq && msg.err == nil {
			a.setCounts(msg.stats)
		}
		return a, nil
	case changesArrivedMsg:
		cmds := []tea.Cmd{a.waitFeed(), a.loadStats()}
		for _, b := range a.boxes {
			cmds = append(cmds, b.StoreChanged(msg.changes))
		}
		return a, tea.Batch(cmds...)
	case feedClosedMsg:
		return a, nil
	case PresenceChangedMsg:
		return a, a.loadStats()
	case tabs.TabSelectedMsg:
		return a, nil
	case common.GotoMsg:
		if msg.Box < 0 || msg.Box >= len(a.boxes) {
			return a, nil
		}
		a.tabs.SetActive(msg.Box)
		cmd, _ := a.boxes[msg.Box].PaletteChosen(msg.Item)
		return a, cmd
	case common.TaskStartedMsg:
		return a, a.bar.StartTask(msg.ID, msg.Label)
	case common.TaskProgressMsg:
		a.bar.SetTaskLabel(msg.ID, msg.Label)
		return a, nil
	case common.TaskEndedMsg:
		a.bar.EndTask(msg.ID)
		return a, nil
	case common.ToastMsg:
		if msg.Err != nil || msg.What != "" {
			return a, a.toast.Error(msg.What, msg.Err)
		}
		return a, a.toast.Info(msg.Text)
	case palette.ItemChosenMsg:
		a.pal.Close()
		return a, a.chosen(msg.Item)
	case palette.DismissedMsg:
		return a, nil
	case palette.ItemsFoundMsg, palette.QueryPausedMsg:
		return a, a.pal.Update(msg)
	case toast.ExpiredMsg:
		return a, a.toast.Update(msg)
	}
	// Everything else: the status bar's spinners, then every box (replies
	// carry ids; a box ignores what is not its own).
	cmds := []tea.Cmd{a.bar.Update(msg)}
	for _, b := range a.boxes {
		cmds = append(cmds, b.Update(msg))
	}
	return a, tea.Batch(cmds...)
}

func (a *App) active() common.Box {
	if len(a.boxes) == 0 {
		return noBox{}
	}
	return a.boxes[a.tabs.Active()]
}

// route decides who gets a key press.
func (a *App) route(msg tea.KeyPressMsg) tea.Cmd {
	km := a.ctx.Keys
	switch {
	case key.Matches(msg, km.ForceQuit):
		return a.quit()
	case a.showHelp:
		if key.Matches(msg, km.Help, km.Back, km.Quit) {
			a.showHelp = false
		}
		return nil
	case a.pal.Active():
		return a.pal.Update(msg)
	case a.toast.HasErrors() && key.Matches(msg, km.Back):
		a.toast.Dismiss()
		return nil
	case a.active().Capturing():
		return a.active().Update(msg)
	case key.Matches(msg, km.Quit):
		return a.quit()
	case key.Matches(msg, km.Help):
		a.showHelp = true
		return nil
	case key.Matches(msg, km.Command):
		a.pal.SetItems(a.paletteItems())
		return a.pal.Open()
	case key.Matches(msg, km.Boxes, km.NextBox, km.PrevBox):
		before := a.tabs.Active()
		cmd := a.tabs.Update(msg)
		if a.tabs.Active() != before {
			a.boxes[before].Update(blurMsg{})
		}
		return cmd
	}
	return a.active().Update(msg)
}

// blurMsg is sent to a box the user just left (it may stop timers).
type blurMsg struct{}

func (a *App) quit() tea.Cmd {
	a.Close()
	return tea.Quit
}

// mouse sends clicks on the tab row to the tabs, toasts and palette to
// theirs, and everything inside the body to the active box.
func (a *App) mouse(msg tea.MouseMsg) tea.Cmd {
	m := msg.Mouse()
	if a.pal.Active() {
		return a.pal.Update(msg)
	}
	if _, ok := msg.(tea.MouseClickMsg); ok {
		if _, hit := a.toast.HitTest(m.X, m.Y); hit {
			return a.toast.Update(msg)
		}
		if m.Y == 0 {
			return a.tabs.Update(msg)
		}
	}
	if m.Y >= 1 && m.Y < a.height-2 {
		return a.active().Update(msg)
	}
	return nil
}

// Layout: tab row, body, status bar, footer help line.
const chromeRows = 3

func (a *App) layout() {
	w, h := a.width, a.height
	a.tabs.SetSize(w, 1)
	a.tabs.SetOrigin(0, 0)
	a.bar.SetSize(w, 1)
	a.help.SetWidth(w)
	bodyH := max(h-chromeRows, 1)
	for _, b := range a.boxes {
		b.SetSize(w, bodyH)
	}
	a.pal.SetSize(w, h-2)
	a.toast.SetSize(w, h)
}

func (a *App) setTheme(th *theme.Theme) {
	a.ctx.Theme = th
	a.tabs.SetTheme(th)
	a.bar.SetTheme(th)
	a.toast.SetTheme(th)
	a.pal.SetTheme(th)
	a.help.Styles = th.Help()
	for _, b := range a.boxes {
		b.SetTheme(th)
	}
}

func (a *App) setCounts(st store.Stats) {
	counts := []statusbar.Count{
		{Label: "customers", Value: st.Customers},
		{Label: "campaigns", Value: st.Campaigns},
		{Label: "consents", Value: st.ConsentEvents},
	}
	if a.opts.Connected != nil {
		counts = append(counts, statusbar.Count{Label: "online", Value: int64(a.opts.Connected())})
	}
	a.bar.SetCounts(counts...)
}

// paletteItems are the frame's own commands followed by every box's.
func (a *App) paletteItems() []palette.Item {
	items := []palette.Item{
		{ID: "app:help", Title: "Show help", Subtitle: "all keys", Kind: "command"},
		{ID: "app:quit", Title: "Quit", Kind: "command"},
	}
	for i, b := range a.boxes {
		items = append(items, palette.Item{ID: fmt.Sprintf("app:box:%d", i), Title: "Go to " + b.Title(), Kind: "box"})
	}
	for _, b := range a.boxes {
		items = append(items, b.PaletteItems()...)
	}
	return items
}

// search asks every box that can search for matches to the palette query.
func (a *App) search(req palette.SearchRequest) tea.Cmd {
	var searchers []common.Searcher
	for _, b := range a.boxes {
		if s, ok := b.(common.Searcher); ok {
			searchers = append(searchers, s)
		}
	}
	if len(searchers) == 0 || strings.TrimSpace(req.Query) == "" {
		return nil
	}
	return func() tea.Msg {
		var items []palette.Item
		var firstErr error
		for _, s := range searchers {
			found, err := s.Search(req.Query, 8)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			items = append(items, found...)
		}
		return palette.ItemsFoundMsg{Seq: req.Seq, Items: items, Err: firstErr}
	}
}

func (a *App) chosen(it palette.Item) tea.Cmd {
	switch {
	case it.ID == "app:help":
		a.showHelp = true
		return nil
	case it.ID == "app:quit":
		return a.quit()
	case strings.HasPrefix(it.ID, "app:box:"):
		var i int
		if _, err := fmt.Sscanf(it.ID, "app:box:%d", &i); err == nil && i >= 0 && i < len(a.boxes) {
			a.tabs.SetActive(i)
		}
		return nil
	}
	// The active box first, so its own actions win, then the others; a
	// box that handles an item from another tab is switched to.
	order := []int{a.tabs.Active()}
	for i := range a.boxes {
		if i != a.tabs.Active() {
			order = append(order, i)
		}
	}
	for _, i := range order {
		if cmd, ok := a.boxes[i].PaletteChosen(it); ok {
			a.tabs.SetActive(i)
			return cmd
		}
	}
	return nil
}

// View draws the frame and composes the overlays (help, palette, toasts)
// on top of the body.
func (a *App) View() tea.View {
	v := tea.NewView("")
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "Karton"
	if a.width == 0 || a.height == 0 {
		return v
	}
	var body string
	if a.showHelp {
		body = a.helpView(a.height - chromeRows)
	} else {
		body = a.active().View()
	}
	body = fitBlock(body, a.width, a.height-chromeRows)
	footer := fitLine(a.help.ShortHelpView(a.footerKeys()), a.width)
	screen := strings.Join([]string{fitLine(a.tabs.View(), a.width), body, fitLine(a.bar.View(), a.width), footer}, "\n")

	// Without overlays the frame is the screen; compositing it cell by
	// cell on a canvas would double the cost of every frame.
	if a.pal.View() == "" && a.toast.View() == "" {
		v.Content = screen
		return v
	}
	layers := []*lipgloss.Layer{lipgloss.NewLayer(screen)}
	if p := a.pal.View(); p != "" {
		x := max((a.width-lipgloss.Width(p))/2, 0)
		a.pal.SetOrigin(x, 2)
		layers = append(layers, lipgloss.NewLayer(p).X(x).Y(2).Z(2))
	}
	if t := a.toast.View(); t != "" {
		x := max(a.width-lipgloss.Width(t)-1, 0)
		y := max(a.height-chromeRows-lipgloss.Height(t), 1)
		a.toast.SetOrigin(x, y)
		layers = append(layers, lipgloss.NewLayer(t).X(x).Y(y).Z(3))
	}
	canvas := lipgloss.NewCanvas(a.width, a.height)
	canvas.Compose(lipgloss.NewCompositor(layers...))
	v.Content = canvas.Render()
	return v
}

// footerKeys is the one-line help: the frame's keys, then the box's.
func (a *App) footerKeys() []key.Binding {
	km := a.ctx.Keys
	if a.showHelp {
		return []key.Binding{km.Help, km.Back}
	}
	if a.pal.Active() {
		return a.pal.ShortHelp()
	}
	box := a.active().ShortHelp()
	if a.active().Capturing() {
		return box
	}
	return append(append([]key.Binding{km.Help}, box...), km.Command, km.Quit)
}

// helpView is the full help: the frame's keys and the active box's, all
// generated from the bindings.
func (a *App) helpView(h int) string {
	th := a.ctx.Theme
	width := max(a.width-4, 20)
	parts := []string{th.Title.Render("Keys — " + a.active().Title())}
	if box := a.active().FullHelp(); len(box) > 0 {
		parts = append(parts, a.flowHelp(box, width))
	}
	parts = append(parts, th.Title.Render("Everywhere"), a.flowHelp(a.ctx.Keys.FullHelp(), width))
	return lipgloss.NewStyle().Padding(0, 2).MaxHeight(h).Render(strings.Join(parts, "\n\n"))
}

// flowHelp lays the help groups out as columns, starting a new row of
// columns when the next one would not fit, so narrow terminals show every
// key instead of cutting the last columns off.
func (a *App) flowHelp(groups [][]key.Binding, width int) string {
	hm := a.help
	hm.SetWidth(0)
	const gap = "    "
	var rows, row []string
	used := 0
	for _, g := range groups {
		col := hm.FullHelpView([][]key.Binding{g})
		w := lipgloss.Width(col)
		if len(row) > 0 && used+len(gap)+w > width {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
			row, used = nil, 0
		}
		if len(row) > 0 {
			row = append(row, gap)
			used += len(gap)
		}
		row = append(row, col)
		used += w
	}
	if len(row) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	return strings.Join(rows, "\n\n")
}
