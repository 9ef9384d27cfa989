// Package vtable is a virtual table: it shows a window onto a list of any
// length (a million customers) while holding only a few pages of rows.
//
// The table never reads data itself. Its owner passes a FetchFunc; when the
// cursor nears either end of the loaded rows, the table returns the command
// that FetchFunc builds, and the owner's store answers with a RowsFetchedMsg.
// Paging is by key (keyset), not by row number: a request names the key of a
// row already loaded and asks for the rows after or before it, so every page
// costs the store one seek however deep the user has scrolled.
//
// Positions are absolute row numbers: the table knows the total (SetTotal;
// -1 when unknown, e.g. under a filter), the absolute index of its first
// loaded row, the cursor and the top of the viewport. Jumping to the end (G)
// fetches backward from the last row and numbers the rows from total down.
// When the total is unknown the rows are numbered relative to the end until
// a fetch reaches the first row, and the total is learned as soon as both
// ends have been seen.
//
// Only one fetch is in flight at a time. Every request carries a sequence
// number, and a reply that is not for the request being waited on (the user
// jumped elsewhere meanwhile) is dropped. Rows the cursor reaches before they
// arrive are drawn as placeholders; the table never blocks.
package vtable

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"karton/tui/components/internal/txt"
	"karton/tui/keys"
	"karton/tui/theme"
)

// Defaults for the window of loaded rows.
const (
	DefaultPageSize    = 50
	DefaultWindowPages = 3
	wheelStep          = 3
)

// Option tunes a Table at construction.
type Option func(*Table)

// WithPageSize sets how many rows one fetch asks for (at least the number of
// visible rows is always asked for).
func WithPageSize(n int) Option {
	return func(t *Table) {
		if n > 0 {
			t.pageSize = n
		}
	}
}

// WithWindowPages sets how many pages the table keeps loaded at most; older
// rows are dropped from the far side. Values below 3 are raised to 3 so a
// page above and below the screen can stay loaded.
func WithWindowPages(n int) Option {
	return func(t *Table) { t.windowPages = max(n, 3) }
}

type fetchKind int

const (
	fetchForward fetchKind = iota
	fetchBackward
	fetchReload
)

type request struct {
	seq    uint64
	kind   fetchKind
	anchor int // reload: absolute index of the first row asked for
}

// Table is the virtual table. Build it with New; the zero value is not usable.
type Table struct {
	id    string
	th    *theme.Theme
	km    *keys.KeyMap
	fetch FetchFunc

	cols   []Column
	widths []int

	width, height    int
	originX, originY int
	focused          bool

	pageSize, windowPages int

	total int // -1: unknown

	// The loaded window: buf[i] is the row at absolute index bufStart+i.
	buf      []Row
	bufStart int
	// atStart/atEnd: the window reaches the table's first/last row.
	atStart, atEnd bool
	// originKnown: absolute indices count from the first row. False only
	// after jumping to the end of a table whose total is unknown; then the
	// last row is -1 and indices are relative to the end.
	originKnown bool

	cursor, offset int

	seq     uint64
	pending *request
	err     error

	// Row styles as escape sequences, rebuilt when the theme changes.
	paintedTheme *theme.Theme
	rowPainters  [4]txt.Painter
}

// New builds a table. id names it in requests and replies, so one owner can
// run several tables; fetch reads rows for it. Call Init (or Reset) once the
// table has its size to load the first page.
func New(id string, th *theme.Theme, km *keys.KeyMap, fetch FetchFunc, opts ...Option) *Table {
	t := &Table{
		id: id, th: th, km: km, fetch: fetch,
		pageSize: DefaultPageSize, windowPages: DefaultWindowPages,
		total: -1, atStart: true, originKnown: true,
	}
	for _, o := range opts {
		o(t)
	}
	return t
}

// ID returns the id the table was built with.
func (t *Table) ID() string { return t.id }

// SetTheme replaces the theme, e.g. after the terminal background changed.
func (t *Table) SetTheme(th *theme.Theme) { t.th = th }

// SetColumns replaces the columns. Row cells are matched to columns by
// position.
func (t *Table) SetColumns(cols []Column) {
	t.cols = append([]Column(nil), cols...)
	t.widths = layoutColumns(t.cols, t.width)
}

// SetSize sets the table's size in cells: one header line, one footer line
// and the rows between.
func (t *Table) SetSize(w, h int) {
	t.width, t.height = max(w, 0), max(h, 0)
	t.widths = layoutColumns(t.cols, t.width)
	t.settle()
}

// SetOrigin tells the table where its top-left corner is on the screen, so
// it can map mouse clicks and wheel events to rows.
func (t *Table) SetOrigin(x, y int) { t.originX, t.originY = x, y }

// SetTotal sets the number of rows in the table; n < 0 means unknown.
func (t *Table) SetTotal(n int) {
	t.total = max(n, -1)
	t.settle()
}

// Total returns the number of rows, or -1 when unknown.
func (t *Table) Total() int { return t.total }

// Cursor returns the absolute index of the cursor row. It is negative (-1 is
// the last row) only while rows are numbered from the end, see the package
// comment.
func (t *Table) Cursor() int { return t.cursor }

// Offset returns the absolute index of the top visible row.
func (t *Table) Offset() int { return t.offset }

// Focus gives the table the keyboard.
func (t *Table) Focus() { t.focused = true }

// Blur takes the keyboard away; the cursor row stays marked, dimmer.
func (t *Table) Blur() { t.focused = false }

// Focused reports whether the table has the keyboard.
func (t *Table) Focused() bool { return t.focused }

// Err returns the error of the last failed fetch, nil after a success.
func (t *Table) Err() error { return t.err }

// Loading reports whether a fetch is in flight.
func (t *Table) Loading() bool { return t.pending != nil }

// Selected returns the row under the cursor, and false if it is not loaded
// yet or the table is empty.
func (t *Table) Selected() (Row, bool) {
	return t.rowAt(t.cursor)
}

// VisibleRows returns the loaded rows in the viewport, top to bottom.
func (t *Table) VisibleRows() []Row {
	var out []Row
	for i := range t.visibleCount() {
		if r, ok := t.rowAt(t.offset + i); ok {
			out = append(out, r)
		}
	}
	return out
}

// Init loads the first page if nothing is loaded or being loaded.
func (t *Table) Init() tea.Cmd { return t.prefetch() }

// Reset drops every loaded row and loads from the first row. Call it when
// the filter or sort order changed, so old keys mean nothing.
func (t *Table) Reset() tea.Cmd {
	t.clear()
	t.bufStart, t.atStart, t.originKnown = 0, true, true
	t.cursor, t.offset = 0, 0
	return t.prefetch()
}

// Reload refetches the rows on screen and keeps the cursor where it is: for
// refresh (r) and after the owner changed rows. It asks for the rows from the
// key of a loaded row a margin above the top row (inclusive), so the screen
// and the rows around it come back in one request. The loaded rows stay on
// screen until the reply replaces them.
func (t *Table) Reload() tea.Cmd {
	if t.fetch == nil {
		return nil
	}
	if len(t.buf) == 0 {
		t.pending = nil
		return t.prefetch()
	}
	// Start a margin above the top row so the rows just above the screen
	// come back in the same request instead of a second one.
	vis, want := t.visibleCount(), t.margin()
	anchor := min(max(t.offset-want, t.bufStart), t.bufEnd()-1)
	limit := max(t.offset-anchor, 0) + vis + want
	return t.request(fetchReload, FetchRequest{After: t.buf[anchor-t.bufStart].Key, Inclusive: true, Limit: limit}, anchor)
}

// Update handles movement keys (when focused), mouse wheel and clicks over
// the table, and RowsFetchedMsg replies for this table. It returns the next
// fetch, if one is needed.
func (t *Table) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case RowsFetchedMsg:
		return t.apply(msg)
	case tea.KeyPressMsg:
		if !t.focused || t.km == nil {
			return nil
		}
		return t.handleKey(msg)
	case tea.MouseWheelMsg:
		if !t.contains(msg.X, msg.Y) {
			return nil
		}
		switch msg.Button {
		case tea.MouseWheelUp:
			return t.scroll(-wheelStep)
		case tea.MouseWheelDown:
			return t.scroll(wheelStep)
		}
	case tea.MouseClickMsg:
		if msg.Button != tea.MouseLeft {
			return nil
		}
		if idx, ok := t.HitTest(msg.X, msg.Y); ok {
			t.cursor = idx
			t.settle()
			return t.prefetch()
		}
	}
	return nil
}

func (t *Table) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	vis := t.visibleCount()
	half := max(vis/2, 1)
	switch {
	case key.Matches(msg, t.km.Down):
		return t.move(1)
	case key.Matches(msg, t.km.Up):
		return t.move(-1)
	case key.Matches(msg, t.km.HalfPageDown):
		return t.scroll(half)
	case key.Matches(msg, t.km.HalfPageUp):
		return t.scroll(-half)
	case key.Matches(msg, t.km.PageDown):
		return t.scroll(vis)
	case key.Matches(msg, t.km.PageUp):
		return t.scroll(-vis)
	case key.Matches(msg, t.km.Top):
		return t.jumpStart()
	case key.Matches(msg, t.km.Bottom):
		return t.jumpEnd()
	}
	return nil
}

// ShortHelp implements help.KeyMap.
func (t *Table) ShortHelp() []key.Binding {
	if t.km == nil {
		return nil
	}
	return []key.Binding{t.km.Down, t.km.Up, t.km.Top, t.km.Bottom}
}

// FullHelp implements help.KeyMap.
func (t *Table) FullHelp() [][]key.Binding {
	if t.km == nil {
		return nil
	}
	return [][]key.Binding{t.km.MoveKeys()}
}

// HitTest maps a screen point to the absolute index of the row drawn there,
// using the origin given to SetOrigin. It reports false for the header, the
// footer, blank space below the last row and points outside the table.
func (t *Table) HitTest(x, y int) (int, bool) {
	if !t.contains(x, y) {
		return 0, false
	}
	line := y - t.originY - t.headerLines()
	if line < 0 || line >= t.visibleCount() {
		return 0, false
	}
	idx := t.offset + line
	lo, hi := t.bounds()
	if idx < lo || idx > hi {
		return 0, false
	}
	return idx, true
}

// --- movement -------------------------------------------------------------

// move moves the cursor and scrolls only as far as needed to keep it visible.
func (t *Table) move(delta int) tea.Cmd {
	t.cursor += delta
	t.settle()
	return t.prefetch()
}

// scroll moves cursor and viewport together, like ctrl+d in vim, so the
// cursor keeps its place on the screen.
func (t *Table) scroll(delta int) tea.Cmd {
	t.cursor += delta
	t.offset += delta
	t.settle()
	return t.prefetch()
}

func (t *Table) jumpStart() tea.Cmd {
	if !(t.originKnown && t.atStart && t.bufStart == 0) {
		t.clear()
		t.bufStart, t.atStart, t.originKnown = 0, true, true
	}
	t.cursor, t.offset = 0, 0
	t.settle()
	return t.prefetch()
}

func (t *Table) jumpEnd() tea.Cmd {
	if !t.atEnd {
		t.clear()
		t.atEnd = true
		if t.total >= 0 {
			t.bufStart, t.originKnown = t.total, true
		} else {
			// The end is known, its index is not: number rows from it.
			t.bufStart, t.originKnown = 0, false
		}
	}
	t.cursor = t.bufEnd() - 1
	t.offset = t.cursor - t.visibleCount() + 1
	t.settle()
	return t.prefetch()
}

// clear forgets every loaded row and any fetch in flight.
func (t *Table) clear() {
	t.buf = nil
	t.atStart, t.atEnd = false, false
	t.pending = nil
	t.err = nil
}

// bounds returns the lowest and highest index the cursor may take: the
// known ends of the table, or the loaded rows where an end is not known.
// hi < lo means there is no row to stand on (yet).
func (t *Table) bounds() (lo, hi int) {
	switch {
	case t.atStart:
		lo = t.bufStart
	case t.originKnown:
		lo = 0
	default:
		lo = t.bufStart
	}
	switch {
	case t.atEnd:
		hi = t.bufEnd() - 1
	case t.total >= 0 && t.originKnown:
		hi = t.total - 1
	default:
		hi = t.bufEnd() - 1
	}
	return lo, hi
}

// settle clamps the cursor to the rows that exist and scrolls the viewport
// so the cursor is visible without blank space under the last row.
func (t *Table) settle() {
	lo, hi := t.bounds()
	if hi < lo {
		if t.atStart && t.atEnd { // known to be empty
			t.cursor, t.offset = lo, lo
		}
		// Otherwise nothing is loaded yet: keep the cursor where the
		// pending jump put it.
		return
	}
	t.cursor = min(max(t.cursor, lo), hi)
	vis := t.visibleCount()
	t.offset = min(t.offset, t.cursor)
	t.offset = max(t.offset, t.cursor-vis+1)
	t.offset = min(t.offset, hi-vis+1)
	t.offset = max(t.offset, lo)
}

// --- fetching -------------------------------------------------------------

func (t *Table) bufEnd() int { return t.bufStart + len(t.buf) }

func (t *Table) capacity() int {
	return t.pageLimit() * t.windowPages
}

func (t *Table) pageLimit() int {
	return max(t.pageSize, t.visibleCount())
}

// margin is how many rows beyond the screen the table wants loaded.
func (t *Table) margin() int {
	return max(t.pageLimit()/2, t.visibleCount())
}

func (t *Table) rowAt(idx int) (Row, bool) {
	if idx < t.bufStart || idx >= t.bufEnd() {
		return Row{}, false
	}
	return t.buf[idx-t.bufStart], true
}

// prefetch returns the fetch that brings the rows within a page of the
// viewport into the window, or nil when they are loaded, a fetch is already
// in flight, or the table has no fetcher.
func (t *Table) prefetch() tea.Cmd {
	if t.pending != nil || t.fetch == nil {
		return nil
	}
	page := t.pageLimit()
	if len(t.buf) == 0 {
		switch {
		case t.atStart && t.atEnd:
			return nil // known to be empty
		case t.atStart:
			return t.request(fetchForward, FetchRequest{Limit: page}, 0)
		case t.atEnd:
			return t.request(fetchBackward, FetchRequest{Backward: true, Limit: page}, 0)
		default:
			return nil
		}
	}
	vis, want := t.visibleCount(), t.margin()
	needBelow := !t.atEnd && t.offset+vis+want > t.bufEnd()
	needAbove := !t.atStart && t.offset-want < t.bufStart
	forward := func() tea.Cmd {
		limit := min(max(page, t.offset+vis+want-t.bufEnd()), t.capacity())
		return t.request(fetchForward, FetchRequest{After: t.buf[len(t.buf)-1].Key, Limit: limit}, 0)
	}
	backward := func() tea.Cmd {
		limit := min(max(page, t.bufStart-(t.offset-want)), t.capacity())
		return t.request(fetchBackward, FetchRequest{After: t.buf[0].Key, Backward: true, Limit: limit}, 0)
	}
	switch {
	case needAbove && t.cursor < t.bufStart:
		return backward()
	case needBelow:
		return forward()
	case needAbove:
		return backward()
	}
	return nil
}

func (t *Table) request(kind fetchKind, req FetchRequest, anchor int) tea.Cmd {
	t.seq++
	req.Table, req.Seq = t.id, t.seq
	t.pending = &request{seq: t.seq, kind: kind, anchor: anchor}
	return t.fetch(req)
}

// apply merges a reply into the window and returns the next fetch.
func (t *Table) apply(msg RowsFetchedMsg) tea.Cmd {
	if msg.Table != t.id || t.pending == nil || msg.Seq != t.pending.seq {
		return nil // another table's, or stale: the user moved on
	}
	p := *t.pending
	t.pending = nil
	if msg.Err != nil {
		t.err = msg.Err
		return nil // retried on the next movement or Reload, not in a loop
	}
	t.err = nil
	switch p.kind {
	case fetchReload:
		t.buf = append([]Row(nil), msg.Rows...)
		t.bufStart = p.anchor
		t.atStart = t.originKnown && p.anchor == 0
		t.atEnd = msg.AtEdge
		t.learnEnd()
	case fetchForward:
		t.buf = append(t.buf, msg.Rows...)
		t.atEnd = msg.AtEdge
		t.learnEnd()
	case fetchBackward:
		rows := make([]Row, 0, len(msg.Rows)+len(t.buf))
		rows = append(rows, msg.Rows...)
		t.buf = append(rows, t.buf...)
		t.bufStart -= len(msg.Rows)
		t.atStart = msg.AtEdge
		if msg.AtEdge {
			t.learnStart()
		}
	}
	t.settle()
	t.trim()
	return t.prefetch()
}

// learnEnd: when the window reaches the last row and rows are numbered from
// the first, the total is exactly the end of the window, whatever the owner
// said (rows may have been added or removed since it counted).
func (t *Table) learnEnd() {
	if t.atEnd && t.originKnown {
		t.total = t.bufEnd()
	}
}

// learnStart renumbers everything when the window reaches the first row,
// which fixes the numbering after a jump to the end of a table whose total
// was unknown or had changed.
func (t *Table) learnStart() {
	shift := -t.bufStart
	t.bufStart += shift
	t.cursor += shift
	t.offset += shift
	t.originKnown = true
	if t.atEnd {
		t.total = t.bufEnd()
	}
}

// trim drops rows so the window holds at most capacity rows, keeping those
// around the viewport. Copying keeps the dropped rows from pinning memory.
func (t *Table) trim() {
	limit := t.capacity()
	if len(t.buf) <= limit {
		return
	}
	center := t.offset + t.visibleCount()/2
	lo := min(max(center-limit/2, t.bufStart), t.bufEnd()-limit)
	if lo > t.bufStart {
		t.atStart = false
	}
	if lo+limit < t.bufEnd() {
		t.atEnd = false
	}
	from := lo - t.bufStart
	t.buf = append([]Row(nil), t.buf[from:from+limit]...)
	t.bufStart = lo
}

// --- drawing --------------------------------------------------------------

func (t *Table) headerLines() int {
	if t.height >= 2 {
		return 1
	}
	return 0
}

func (t *Table) footerLines() int {
	if t.height >= 3 {
		return 1
	}
	return 0
}

func (t *Table) visibleCount() int {
	return max(t.height-t.headerLines()-t.footerLines(), 1)
}

func (t *Table) contains(x, y int) bool {
	return x >= t.originX && x < t.originX+t.width && y >= t.originY && y < t.originY+t.height
}

// View draws the header, the visible rows and the footer with the position,
// exactly width × height cells.
func (t *Table) View() string {
	if t.width <= 0 || t.height <= 0 {
		return ""
	}
	lines := make([]string, 0, t.height)
	if t.headerLines() > 0 {
		lines = append(lines, t.renderHeader())
	}
	lo, hi := t.bounds()
	empty := hi < lo && t.atStart && t.atEnd
	blank := strings.Repeat(" ", t.width)
	for i := range t.visibleCount() {
		idx := t.offset + i
		switch row, ok := t.rowAt(idx); {
		case ok:
			lines = append(lines, t.renderRow(idx, row))
		case empty && i == 0:
			lines = append(lines, t.th.TableLoading.Render(txt.Fit("no rows", t.width, txt.Left)))
		case idx >= lo && idx <= hi || (hi < lo && !empty):
			lines = append(lines, t.renderPlaceholder(idx))
		default:
			lines = append(lines, blank)
		}
	}
	if t.footerLines() > 0 {
		lines = append(lines, t.renderFooter())
	}
	return strings.Join(lines, "\n")
}

func (t *Table) renderHeader() string {
	cells := make([]string, 0, len(t.cols))
	for i, c := range t.cols {
		if i >= len(t.widths) || t.widths[i] == 0 {
			continue
		}
		cells = append(cells, txt.Fit(c.Title, t.widths[i], c.Align))
	}
	line := txt.Fit(strings.Join(cells, strings.Repeat(" ", columnGap)), t.width, txt.Left)
	return t.th.TableHeader.Render(line)
}

func (t *Table) renderRow(idx int, row Row) string {
	st := t.rowPainter(idx)
	var b strings.Builder
	b.Grow(t.width*2 + 32)
	b.WriteString(st.On())
	if len(t.cols) == 0 {
		b.WriteString(st.Resume(txt.Fit(strings.Join(row.Cells, " "), t.width, txt.Left)))
	}
	first := true
	for i, c := range t.cols {
		if i >= len(t.widths) || t.widths[i] == 0 {
			continue
		}
		if !first {
			b.WriteString(blankGap)
		}
		first = false
		cell := ""
		if i < len(row.Cells) {
			cell = row.Cells[i]
		}
		b.WriteString(st.Resume(txt.Fit(cell, t.widths[i], c.Align)))
	}
	b.WriteString(st.Off())
	return b.String()
}

// blankGap separates two columns; its length is columnGap.
const blankGap = " "

func (t *Table) rowStyle(idx int) lipgloss.Style {
	switch {
	case idx == t.cursor && t.focused:
		return t.th.TableSelected
	case idx == t.cursor:
		return t.th.TableSelectedBlurred
	case idx%2 != 0:
		return t.th.TableZebra
	default:
		return t.th.TableRow
	}
}

// rowPainter returns the row style for idx as escape sequences. Rows are drawn
// on every frame, and lipgloss measures and re-wraps every string it
// renders, which a row already fitted to its width does not need; together
// with txt's fast width this cut View from about 400 to 45 µs on a 160×50
// screen.
func (t *Table) rowPainter(idx int) txt.Painter {
	if t.paintedTheme != t.th {
		t.paintedTheme = t.th
		for i, st := range []lipgloss.Style{t.th.TableRow, t.th.TableZebra, t.th.TableSelected, t.th.TableSelectedBlurred} {
			t.rowPainters[i] = txt.NewPainter(st)
		}
	}
	switch {
	case idx == t.cursor && t.focused:
		return t.rowPainters[2]
	case idx == t.cursor:
		return t.rowPainters[3]
	case idx%2 != 0:
		return t.rowPainters[1]
	default:
		return t.rowPainters[0]
	}
}

func (t *Table) renderPlaceholder(idx int) string {
	text := "  ⋯"
	if idx == t.cursor {
		text = "  loading…"
		if t.err != nil {
			text = "  not loaded: " + t.err.Error()
		}
	}
	line := txt.Fit(text, t.width, txt.Left)
	if idx == t.cursor {
		return t.rowStyle(idx).Render(line)
	}
	return t.th.TableLoading.Render(line)
}

func (t *Table) renderFooter() string {
	pos := t.position()
	left := ""
	style := t.th.TableLoading
	switch {
	case t.err != nil:
		left, style = "fetch failed: "+t.err.Error()+" (r retries)", t.th.TableError
	case t.pending != nil:
		left = "loading…"
	}
	room := t.width - txt.Width(pos) - 1
	if room < 8 {
		return t.th.TablePosition.Render(txt.Fit(pos, t.width, txt.Right))
	}
	if left == "" {
		return strings.Repeat(" ", room+1) + t.th.TablePosition.Render(pos)
	}
	return style.Render(txt.Fit(left, room, txt.Left)) + " " + t.th.TablePosition.Render(pos)
}

// position is the footer's "12,345 / 1,000,000".
func (t *Table) position() string {
	total := "?"
	if t.total >= 0 {
		total = txt.Int(int64(t.total))
	}
	lo, hi := t.bounds()
	switch {
	case hi < lo && t.atStart && t.atEnd:
		return "0 / " + total
	case !t.originKnown && t.cursor >= -1:
		return "end / " + total
	case !t.originKnown:
		return "end−" + txt.Int(int64(-t.cursor-1)) + " / " + total
	default:
		return txt.Int(int64(t.cursor+1)) + " / " + total
	}
}
