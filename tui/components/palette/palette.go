// Package palette is the command palette opened with ':'. The user types;
// the palette shows the owner's static items (commands, boxes, saved
// filters) ranked by a fuzzy match, followed by dynamic items the owner
// looks up for the query (customers, campaigns from the store).
//
// Dynamic items arrive like every other I/O result: the owner passes a
// SearchFunc; when the query changes (after a short pause, so typing
// "müller" costs one lookup, not six) the palette returns the command it
// builds, and the owner's store answers with an ItemsFoundMsg carrying the
// request's sequence number. Answers to older queries are dropped.
//
// enter emits ItemChosenMsg and closes; esc emits DismissedMsg and closes.
// While the palette is open the root App routes every key to it (command
// mode), so typing q or j never quits or moves a table.
package palette

import (
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"karton/tui/components/internal/txt"
	"karton/tui/keys"
	"karton/tui/theme"
)

// Defaults.
const (
	DefaultDebounce = 150 * time.Millisecond
	DefaultMaxRows  = 10
	maxWidth        = 72
	maxKindWidth    = 10
)

// Item is one entry of the palette.
type Item struct {
	ID       string // what the owner acts on: "cmd:new-campaign", "customer:C000123"
	Title    string // matched and highlighted
	Subtitle string // detail in muted text; also matched when the title is not
	Kind     string // short tag on the right: "command", "customer"
}

// SearchRequest asks the owner for dynamic items matching Query.
type SearchRequest struct {
	Seq   uint64
	Query string
}

// Reply builds the message answering r.
func (r SearchRequest) Reply(items []Item, err error) ItemsFoundMsg {
	return ItemsFoundMsg{Seq: r.Seq, Items: items, Err: err}
}

// SearchFunc turns a request into a command that looks items up (the I/O
// happens inside the command) and returns an ItemsFoundMsg.
type SearchFunc func(SearchRequest) tea.Cmd

// ItemsFoundMsg carries the owner's dynamic items for a query.
type ItemsFoundMsg struct {
	Seq   uint64
	Items []Item // in the owner's order of relevance
	Err   error  // shown in the palette; static items still work
}

// QueryPausedMsg reports that the user stopped typing for the debounce
// interval; the palette then starts the search for that query. Route it to
// the palette like its other messages.
type QueryPausedMsg struct{ Seq uint64 }

// ItemChosenMsg reports the item picked with enter or a click.
type ItemChosenMsg struct {
	Item  Item
	Query string
}

// DismissedMsg reports that the palette was closed without a choice.
type DismissedMsg struct{}

// Option tunes a Palette.
type Option func(*Palette)

// WithDebounce sets how long typing must pause before a search starts;
// 0 searches on every change.
func WithDebounce(d time.Duration) Option {
	return func(p *Palette) { p.debounce = max(d, 0) }
}

// WithMaxRows sets how many results are shown at most.
func WithMaxRows(n int) Option {
	return func(p *Palette) {
		if n > 0 {
			p.maxRows = n
		}
	}
}

type result struct {
	item      Item
	score     int
	positions []int // rune indices in Title to highlight
}

// Palette is the command palette. Build it with New; it starts closed.
type Palette struct {
	th       *theme.Theme
	km       *keys.KeyMap
	search   SearchFunc
	debounce time.Duration
	maxRows  int

	input   textinput.Model
	open    bool
	static  []Item
	dynamic []Item

	seq       uint64
	searching bool
	err       error

	results  []result
	selected int
	top      int // first result shown

	width, height    int
	originX, originY int
}

// New builds a closed palette. search may be nil when there are only
// static items.
func New(th *theme.Theme, km *keys.KeyMap, search SearchFunc, opts ...Option) *Palette {
	p := &Palette{th: th, km: km, search: search, debounce: DefaultDebounce, maxRows: DefaultMaxRows, width: maxWidth, height: DefaultMaxRows + 4}
	for _, o := range opts {
		o(p)
	}
	p.input = textinput.New()
	p.input.Prompt = ": "
	p.input.Placeholder = "command, customer, campaign…"
	p.input.SetStyles(th.TextInput())
	p.input.SetWidth(maxWidth)
	return p
}

// SetTheme replaces the theme.
func (p *Palette) SetTheme(th *theme.Theme) {
	p.th = th
	p.input.SetStyles(th.TextInput())
}

// SetSize sets the room the palette may use: at most 72 cells wide, and as
// many result rows as fit (up to the maximum).
func (p *Palette) SetSize(w, h int) {
	p.width, p.height = max(w, 0), max(h, 0)
	p.input.SetWidth(max(p.innerWidth()-lipgloss.Width(p.input.Prompt)-1, 1))
}

// SetOrigin tells the palette where its top-left corner is drawn, for
// clicks on results.
func (p *Palette) SetOrigin(x, y int) { p.originX, p.originY = x, y }

// SetItems replaces the static items, shown in this order for an empty
// query.
func (p *Palette) SetItems(items []Item) {
	p.static = append([]Item(nil), items...)
	p.rank()
}

// Open shows the palette with an empty query and returns the command that
// focuses the input.
func (p *Palette) Open() tea.Cmd {
	p.open = true
	p.input.Reset()
	p.dynamic, p.err, p.searching = nil, nil, false
	p.seq++ // answers to an earlier session are stale
	p.rank()
	return p.input.Focus()
}

// Close hides the palette.
func (p *Palette) Close() {
	p.open = false
	p.searching = false
	p.input.Blur()
}

// Active reports whether the palette is open.
func (p *Palette) Active() bool { return p.open }

// Query returns the text typed so far.
func (p *Palette) Query() string { return p.input.Value() }

// Results returns the items currently listed, best first.
func (p *Palette) Results() []Item {
	out := make([]Item, len(p.results))
	for i, r := range p.results {
		out[i] = r.item
	}
	return out
}

// Selected returns the highlighted item.
func (p *Palette) Selected() (Item, bool) {
	if p.selected < 0 || p.selected >= len(p.results) {
		return Item{}, false
	}
	return p.results[p.selected].item, true
}

// Update handles typing, moving through the results, choosing and closing,
// and the search replies. It does nothing while closed.
func (p *Palette) Update(msg tea.Msg) tea.Cmd {
	if !p.open {
		return nil
	}
	switch msg := msg.(type) {
	case ItemsFoundMsg:
		if msg.Seq != p.seq {
			return nil // for an older query
		}
		p.searching = false
		p.err = msg.Err
		p.dynamic = append([]Item(nil), msg.Items...)
		p.rank()
		return nil
	case QueryPausedMsg:
		if msg.Seq != p.seq || p.search == nil {
			return nil
		}
		return p.search(SearchRequest{Seq: p.seq, Query: p.Query()})
	case tea.KeyPressMsg:
		if p.km != nil {
			switch {
			case key.Matches(msg, p.km.Back):
				p.Close()
				return func() tea.Msg { return DismissedMsg{} }
			case key.Matches(msg, p.km.Open):
				return p.choose()
			case key.Matches(msg, p.km.ListUp):
				p.moveSelection(-1)
				return nil
			case key.Matches(msg, p.km.ListDown):
				p.moveSelection(1)
				return nil
			}
		}
		return p.updateInput(msg)
	case tea.PasteMsg:
		return p.updateInput(msg)
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			p.moveSelection(-1)
		case tea.MouseWheelDown:
			p.moveSelection(1)
		}
	case tea.MouseClickMsg:
		if i, ok := p.HitTest(msg.X, msg.Y); ok && msg.Button == tea.MouseLeft {
			p.selected = i
			return p.choose()
		}
	}
	return nil
}

// HitTest returns the index in Results of the row drawn at screen point
// (x, y).
func (p *Palette) HitTest(x, y int) (int, bool) {
	x, y = x-p.originX, y-p.originY
	frame := p.th.Dialog
	left, top := frame.GetBorderLeftSize()+frame.GetPaddingLeft(), frame.GetBorderTopSize()+frame.GetPaddingTop()
	row := y - top - 2 // below the input line and the rule
	if x < left || x >= left+p.innerWidth() || row < 0 || row >= p.rows() {
		return 0, false
	}
	i := p.top + row
	if i >= len(p.results) {
		return 0, false
	}
	return i, true
}

func (p *Palette) updateInput(msg tea.Msg) tea.Cmd {
	before := p.input.Value()
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	if p.input.Value() == before {
		return cmd
	}
	return tea.Batch(cmd, p.queryChanged())
}

// queryChanged re-ranks at once (static items need no I/O) and schedules the
// search for the new query.
func (p *Palette) queryChanged() tea.Cmd {
	p.seq++
	p.err = nil
	p.searching = p.search != nil && strings.TrimSpace(p.Query()) != ""
	if !p.searching {
		p.dynamic = nil
	}
	p.rank()
	if !p.searching {
		return nil
	}
	seq := p.seq
	if p.debounce == 0 {
		return p.search(SearchRequest{Seq: seq, Query: p.Query()})
	}
	return tea.Tick(p.debounce, func(time.Time) tea.Msg { return QueryPausedMsg{Seq: seq} })
}

func (p *Palette) choose() tea.Cmd {
	item, ok := p.Selected()
	if !ok {
		return nil
	}
	q := p.Query()
	p.Close()
	return func() tea.Msg { return ItemChosenMsg{Item: item, Query: q} }
}

func (p *Palette) moveSelection(delta int) {
	if len(p.results) == 0 {
		return
	}
	p.selected = min(max(p.selected+delta, 0), len(p.results)-1)
	rows := p.rows()
	if p.selected < p.top {
		p.top = p.selected
	}
	if p.selected >= p.top+rows {
		p.top = p.selected - rows + 1
	}
}

// rank rebuilds the result list: static items that match, best first (ties
// keep the owner's order), then the dynamic items in the owner's order. The
// owner's search may match on fields the palette does not see (an email),
// so dynamic items are kept even when the title does not match; they are
// only highlighted where it does. Dynamic items from the previous query stay
// listed, if they still match, until the new answer arrives, so the list
// does not flicker while typing.
func (p *Palette) rank() {
	q := p.Query()
	var static, dynamic []result
	for _, it := range p.static {
		if r, ok := score(q, it); ok {
			static = append(static, r)
		}
	}
	sort.SliceStable(static, func(a, b int) bool { return static[a].score > static[b].score })
	for _, it := range p.dynamic {
		r, ok := score(q, it)
		if !ok && p.searching {
			continue // a leftover from the previous query that no longer fits
		}
		r.item = it
		dynamic = append(dynamic, r)
	}
	p.results = append(static, dynamic...)
	p.selected, p.top = 0, 0
}

// score matches q against an item's title, falling back to its subtitle at
// a lower score (and without title highlights).
func score(q string, it Item) (result, bool) {
	if m, ok := Match(q, it.Title); ok {
		return result{item: it, score: m.Score, positions: m.Positions}, true
	}
	if m, ok := Match(q, it.Subtitle); ok {
		return result{item: it, score: m.Score / 2}, true
	}
	return result{}, false
}

// ShortHelp implements help.KeyMap.
func (p *Palette) ShortHelp() []key.Binding {
	if p.km == nil {
		return nil
	}
	choose := key.NewBinding(key.WithKeys(p.km.Open.Keys()...), key.WithHelp(p.km.Open.Help().Key, "choose"))
	closeKey := key.NewBinding(key.WithKeys(p.km.Back.Keys()...), key.WithHelp(p.km.Back.Help().Key, "close"))
	return []key.Binding{p.km.ListUp, p.km.ListDown, choose, closeKey}
}

// FullHelp implements help.KeyMap.
func (p *Palette) FullHelp() [][]key.Binding {
	if sh := p.ShortHelp(); sh != nil {
		return [][]key.Binding{sh}
	}
	return nil
}

func (p *Palette) boxWidth() int { return min(p.width, maxWidth) }

func (p *Palette) innerWidth() int {
	return max(p.boxWidth()-p.th.Dialog.GetHorizontalFrameSize(), 0)
}

// rows is how many result lines the box has: the height minus the frame,
// the input line and the rule.
func (p *Palette) rows() int {
	return max(min(p.maxRows, p.height-p.th.Dialog.GetVerticalFrameSize()-2), 1)
}

// View draws the palette box, or "" while closed. The owner places it
// (usually centred near the top) and passes the corner to SetOrigin.
func (p *Palette) View() string {
	w := p.innerWidth()
	if !p.open || w < 10 {
		return ""
	}
	lines := make([]string, 0, p.rows()+2)
	lines = append(lines, txt.Fit(p.input.View(), w, txt.Left))
	lines = append(lines, p.th.Muted.Render(strings.Repeat("─", w)))

	rows := p.rows()
	shown := p.results[p.top:min(p.top+rows, len(p.results))]
	kindW := 0
	for _, r := range shown {
		kindW = max(kindW, min(txt.Width(r.item.Kind), maxKindWidth))
	}
	for i, r := range shown {
		lines = append(lines, p.renderResult(r, p.top+i == p.selected, w, kindW))
	}
	if status := p.status(); status != "" && len(shown) < rows {
		lines = append(lines, status)
	}
	for len(lines) < rows+2 {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return p.th.Dialog.Width(p.boxWidth()).Render(strings.Join(lines, "\n"))
}

func (p *Palette) status() string {
	w := p.innerWidth()
	switch {
	case p.err != nil:
		return p.th.Bad.Render(txt.Fit("search failed: "+p.err.Error(), w, txt.Left))
	case p.searching:
		return p.th.Muted.Render(txt.Fit("searching…", w, txt.Left))
	case len(p.results) == 0 && p.Query() != "":
		return p.th.Muted.Render(txt.Fit("no matches", w, txt.Left))
	}
	return ""
}

func (p *Palette) renderResult(r result, selected bool, w, kindW int) string {
	left := w
	if kindW > 0 {
		left = w - kindW - 1
	}
	title := txt.Truncate(r.item.Title, left)
	line := highlight(title, r.positions, p.th.PaletteMatch, p.th.PaletteItem)
	if sub := left - txt.Width(title) - 2; sub > 2 && r.item.Subtitle != "" {
		line += "  " + p.th.PaletteSubtitle.Render(txt.Truncate(r.item.Subtitle, sub))
	}
	line = txt.Fit(line, left, txt.Left)
	if kindW > 0 {
		line += " " + p.th.PaletteKind.Render(txt.Fit(r.item.Kind, kindW, txt.Right))
	}
	if selected {
		sel := txt.NewPainter(p.th.PaletteSelected)
		return sel.Paint(sel.Resume(line))
	}
	return line
}

// highlight styles the runes of s at positions with match, the rest with
// base. Positions past a truncation ellipsis are ignored.
func highlight(s string, positions []int, match, base lipgloss.Style) string {
	n := utf8.RuneCountInString(s)
	if strings.HasSuffix(s, txt.Ellipsis) {
		n--
	}
	var idx []int
	for _, i := range positions {
		if i < n {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return base.Render(s)
	}
	return lipgloss.StyleRunes(s, idx, match, base)
}
