package vtable

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/tui/components/internal/txt"
	"karton/tui/keys"
	"karton/tui/theme"
)

const million = 1_000_000

func TestInitLoadsFirstPage(t *testing.T) {
	tbl, f := newTestTable(million, 80, 12)
	require.Len(t, f.calls, 1)
	assert.Equal(t, FetchRequest{Table: "customers", Seq: 1, Limit: DefaultPageSize}, f.calls[0])
	assert.Equal(t, 0, tbl.Cursor())
	assert.Equal(t, 0, tbl.Offset())
	assert.Equal(t, seq(0, 10), visibleKeys(tbl))
	row, ok := tbl.Selected()
	require.True(t, ok)
	assert.Equal(t, "Customer 0", row.Cells[1])
	assert.Nil(t, tbl.Init(), "nothing more to load")
}

func TestMovement(t *testing.T) {
	tests := []struct {
		name       string
		keys       []string
		cursor     int
		offset     int
		firstShown uint64
	}{
		{"j moves the cursor", []string{"j"}, 1, 0, 0},
		{"down arrow too", []string{"down", "down"}, 2, 0, 0},
		{"k at the top stays", []string{"k"}, 0, 0, 0},
		{"j past the screen scrolls by one", rep("j", 10), 10, 1, 1},
		{"k back up keeps the offset", append(rep("j", 10), "k"), 9, 1, 1},
		{"ctrl+d moves half a page with the view", []string{"ctrl+d"}, 5, 5, 5},
		{"ctrl+u after ctrl+d", []string{"ctrl+d", "ctrl+d", "ctrl+u"}, 5, 5, 5},
		{"pgdown moves a page", []string{"pgdown", "pgdown"}, 20, 20, 20},
		{"pgup at the top clamps", []string{"pgdown", "pgup", "pgup"}, 0, 0, 0},
		{"G goes to the last row", []string{"G"}, million - 1, million - 10, million - 10},
		{"end works like G", []string{"end"}, million - 1, million - 10, million - 10},
		{"j at the end stays", []string{"G", "j"}, million - 1, million - 10, million - 10},
		{"k after G", []string{"G", "k"}, million - 2, million - 10, million - 10},
		{"pgup after G", []string{"G", "pgup"}, million - 11, million - 20, million - 20},
		{"g after G returns to the start", []string{"G", "g"}, 0, 0, 0},
		{"home works like g", []string{"pgdown", "home"}, 0, 0, 0},
		{"ctrl+d deep then g", rep("ctrl+d", 400), 2000, 2000, 2000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tbl, _ := newTestTable(million, 80, 12)
			for _, k := range tc.keys {
				send(tbl, press(k))
			}
			assert.Equal(t, tc.cursor, tbl.Cursor(), "cursor")
			assert.Equal(t, tc.offset, tbl.Offset(), "offset")
			assert.Equal(t, seq(tc.firstShown, 10), visibleKeys(tbl), "visible rows")
			row, ok := tbl.Selected()
			require.True(t, ok)
			assert.Equal(t, uint64(tc.cursor), decodeKey(row.Key))
		})
	}
}

func rep(k string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = k
	}
	return out
}

func TestGFetchesBackwardFromTheEnd(t *testing.T) {
	tbl, f := newTestTable(million, 80, 12)
	send(tbl, press("G"))
	last := f.calls[len(f.calls)-1]
	assert.True(t, last.Backward)
	assert.Nil(t, last.After, "from the end")
	assert.Equal(t, million-DefaultPageSize, tbl.bufStart, "absolute start = total - len")
	assert.Contains(t, ansi.Strip(tbl.View()), "1,000,000 / 1,000,000")
}

func TestMouse(t *testing.T) {
	tbl, _ := newTestTable(million, 80, 12)
	tbl.SetOrigin(2, 5)

	send(tbl, tea.MouseWheelMsg{X: 10, Y: 8, Button: tea.MouseWheelDown})
	assert.Equal(t, 3, tbl.Cursor())
	assert.Equal(t, 3, tbl.Offset())
	send(tbl, tea.MouseWheelMsg{X: 10, Y: 8, Button: tea.MouseWheelUp})
	assert.Equal(t, 0, tbl.Offset())

	send(tbl, tea.MouseWheelMsg{X: 10, Y: 30, Button: tea.MouseWheelDown})
	assert.Equal(t, 0, tbl.Offset(), "wheel below the table is not ours")

	// Row lines start under the header, at y = origin + 1.
	send(tbl, tea.MouseClickMsg{X: 20, Y: 5 + 1 + 4, Button: tea.MouseLeft})
	assert.Equal(t, 4, tbl.Cursor())

	_, ok := tbl.HitTest(20, 5)
	assert.False(t, ok, "header")
	_, ok = tbl.HitTest(20, 5+11)
	assert.False(t, ok, "footer")
	_, ok = tbl.HitTest(1, 7)
	assert.False(t, ok, "left of the table")
	idx, ok := tbl.HitTest(81, 6)
	assert.True(t, ok, "right edge")
	assert.Equal(t, 0, idx)

	send(tbl, tea.MouseClickMsg{X: 20, Y: 7, Button: tea.MouseRight})
	assert.Equal(t, 4, tbl.Cursor(), "only the left button selects")
}

func TestClickBelowLastRowIsIgnored(t *testing.T) {
	tbl, _ := newTestTable(3, 80, 12)
	_, ok := tbl.HitTest(5, 1+3)
	assert.False(t, ok)
	send(tbl, tea.MouseClickMsg{X: 5, Y: 1 + 3, Button: tea.MouseLeft})
	assert.Equal(t, 0, tbl.Cursor())
	send(tbl, tea.MouseClickMsg{X: 5, Y: 1 + 2, Button: tea.MouseLeft})
	assert.Equal(t, 2, tbl.Cursor())
}

func TestStaleRepliesAreDropped(t *testing.T) {
	tbl, _ := newTestTable(million, 80, 12)

	// G asks for the end; before the reply arrives the user presses g.
	gCmd := tbl.Update(press("G"))
	require.NotNil(t, gCmd)
	staleReply := gCmd()
	run(tbl, tbl.Update(press("g")))

	assert.Nil(t, tbl.Update(staleReply), "stale reply must not start more fetches")
	assert.Equal(t, 0, tbl.Cursor())
	assert.Equal(t, seq(0, 10), visibleKeys(tbl))
	assert.Equal(t, 0, tbl.bufStart)

	// Replies for another table are ignored too.
	other := staleReply.(RowsFetchedMsg)
	other.Table, other.Seq = "campaigns", tbl.seq
	assert.Nil(t, tbl.Update(other))
	assert.Equal(t, seq(0, 10), visibleKeys(tbl))

	// And a reply when nothing is pending.
	again := staleReply.(RowsFetchedMsg)
	again.Seq = tbl.seq
	assert.Nil(t, tbl.Update(again))
	assert.Equal(t, 0, tbl.bufStart)
}

func TestWindowNeverExceedsCap(t *testing.T) {
	tbl, f := newTestTable(million, 80, 12)
	limit := tbl.capacity()
	assert.Equal(t, 150, limit)
	peak := 0
	for range 300 {
		peak = max(peak, send(tbl, press("pgdown")))
	}
	assert.Equal(t, 3000, tbl.Cursor())
	for range 50 {
		peak = max(peak, send(tbl, press("ctrl+u")))
	}
	for range 100 {
		peak = max(peak, send(tbl, tea.MouseWheelMsg{X: 1, Y: 3, Button: tea.MouseWheelUp}))
	}
	peak = max(peak, send(tbl, press("G")))
	peak = max(peak, send(tbl, press("g")))
	assert.LessOrEqual(t, peak, limit)
	for _, c := range f.calls {
		assert.LessOrEqual(t, c.Limit, limit, "no request asks for more than the window")
	}
}

func TestCatchesUpWhenKeysOutrunTheStore(t *testing.T) {
	tbl, f := newTestTable(million, 80, 12)
	// Fifty page-downs arrive before any reply: only one fetch may be in
	// flight, and the cursor moves into rows that are not loaded yet.
	var pending []tea.Cmd
	for range 50 {
		if cmd := tbl.Update(press("pgdown")); cmd != nil {
			pending = append(pending, cmd)
		}
	}
	require.Len(t, pending, 1, "one fetch in flight at a time")
	assert.Equal(t, 500, tbl.Cursor())
	_, ok := tbl.Selected()
	assert.False(t, ok)
	assert.Contains(t, ansi.Strip(tbl.View()), "loading…")

	peak := run(tbl, pending[0])
	assert.LessOrEqual(t, peak, tbl.capacity())
	row, ok := tbl.Selected()
	require.True(t, ok, "caught up")
	assert.Equal(t, uint64(500), decodeKey(row.Key))
	assert.Equal(t, seq(500, 10), visibleKeys(tbl))
	for _, c := range f.calls[1:] {
		assert.False(t, c.Backward)
		assert.NotNil(t, c.After, "keyset paging from the last loaded key")
	}
}

func TestUnknownTotal(t *testing.T) {
	f := &fakeStore{n: 100_000}
	tbl := New("filtered", theme.New(true).WithoutColor(), keys.New(), f.fetch)
	tbl.SetColumns(testColumns)
	tbl.SetSize(80, 12)
	tbl.Focus()
	run(tbl, tbl.Init())
	assert.Equal(t, -1, tbl.Total())
	assert.Contains(t, ansi.Strip(tbl.View()), "1 / ?")

	send(tbl, press("G"))
	assert.Equal(t, -1, tbl.Cursor(), "numbered from the end")
	row, ok := tbl.Selected()
	require.True(t, ok)
	assert.Equal(t, uint64(99_999), decodeKey(row.Key))
	assert.Contains(t, ansi.Strip(tbl.View()), "end / ?")
	send(tbl, press("k"))
	assert.Contains(t, ansi.Strip(tbl.View()), "end−1 / ?")

	// Scrolling up far enough to reach the first row renumbers everything.
	tblSmall := New("filtered", theme.New(true).WithoutColor(), keys.New(), (&fakeStore{n: 120}).fetch)
	tblSmall.SetColumns(testColumns)
	tblSmall.SetSize(80, 12)
	tblSmall.Focus()
	run(tblSmall, tblSmall.Init())
	send(tblSmall, press("G"))
	for range 20 {
		send(tblSmall, press("pgup"))
	}
	assert.Equal(t, 120, tblSmall.Total(), "total learned once both ends were seen")
	assert.Equal(t, 0, tblSmall.Cursor())
	send(tblSmall, press("G"))
	assert.Equal(t, 119, tblSmall.Cursor())
	assert.Contains(t, ansi.Strip(tblSmall.View()), "120 / 120")
}

func TestForwardToTheEndLearnsTotal(t *testing.T) {
	f := &fakeStore{n: 130}
	tbl := New("filtered", theme.New(true).WithoutColor(), keys.New(), f.fetch)
	tbl.SetSize(80, 12)
	tbl.Focus()
	run(tbl, tbl.Init())
	for range 20 {
		send(tbl, press("pgdown"))
	}
	assert.Equal(t, 130, tbl.Total())
	assert.Equal(t, 129, tbl.Cursor())
}

func TestStaleTotalIsCorrected(t *testing.T) {
	tbl, _ := newTestTable(200, 80, 12)
	tbl.SetTotal(500) // the owner's count is out of date
	for range 60 {
		send(tbl, press("pgdown"))
	}
	assert.Equal(t, 200, tbl.Total())
	assert.Equal(t, 199, tbl.Cursor())
	row, ok := tbl.Selected()
	require.True(t, ok)
	assert.Equal(t, uint64(199), decodeKey(row.Key))
}

func TestEmptyTable(t *testing.T) {
	tbl, _ := newTestTable(0, 80, 6)
	_, ok := tbl.Selected()
	assert.False(t, ok)
	send(tbl, press("j"))
	send(tbl, press("G"))
	assert.Equal(t, 0, tbl.Cursor())
	view := ansi.Strip(tbl.View())
	assert.Contains(t, view, "no rows")
	assert.Contains(t, view, "0 / 0")
}

func TestFetchErrorIsShownAndRetried(t *testing.T) {
	tbl, f := newTestTable(million, 80, 12)
	f.fail = errStoreClosed
	send(tbl, press("G"))
	require.ErrorIs(t, tbl.Err(), errStoreClosed)
	view := ansi.Strip(tbl.View())
	assert.Contains(t, view, "fetch failed: store is closed")
	assert.Contains(t, view, "not loaded: store is closed")

	f.fail = nil
	calls := len(f.calls)
	send(tbl, press("k"))
	assert.Greater(t, len(f.calls), calls, "the next movement retries")
	assert.NoError(t, tbl.Err())
	_, ok := tbl.Selected()
	assert.True(t, ok)
}

func TestReloadKeepsPosition(t *testing.T) {
	tbl, f := newTestTable(million, 80, 12)
	for range 50 {
		send(tbl, press("pgdown"))
	}
	send(tbl, press("j"))
	cursor, offset := tbl.Cursor(), tbl.Offset()
	f.version = " (v2)"
	send(tbl, press("r")) // r is not a table key: nothing happens
	row, _ := tbl.Selected()
	assert.Equal(t, "Customer 501", row.Cells[1])

	run(tbl, tbl.Reload())
	assert.Equal(t, cursor, tbl.Cursor())
	assert.Equal(t, offset, tbl.Offset())
	row, ok := tbl.Selected()
	require.True(t, ok)
	assert.Equal(t, "Customer 501 (v2)", row.Cells[1])
	assert.Equal(t, seq(500, 10), visibleKeys(tbl))

	var reload FetchRequest
	for _, c := range f.calls {
		if c.Inclusive {
			reload = c
		}
	}
	require.True(t, reload.Inclusive, "reload asks from a loaded key, inclusive")
	assert.LessOrEqual(t, decodeKey(reload.After), uint64(500))
	// Rows above the screen came back in the same request: no extra fetch.
	assert.Equal(t, reload, f.calls[len(f.calls)-1])
}

func TestResetStartsOver(t *testing.T) {
	tbl, f := newTestTable(million, 80, 12)
	send(tbl, press("G"))
	run(tbl, tbl.Reset())
	assert.Equal(t, 0, tbl.Cursor())
	assert.Equal(t, seq(0, 10), visibleKeys(tbl))
	assert.Nil(t, f.calls[len(f.calls)-1].After)
}

func TestKeysNeedFocus(t *testing.T) {
	tbl, _ := newTestTable(million, 80, 12)
	tbl.Blur()
	assert.False(t, tbl.Focused())
	send(tbl, press("j"))
	assert.Equal(t, 0, tbl.Cursor())
	send(tbl, tea.MouseWheelMsg{X: 1, Y: 3, Button: tea.MouseWheelDown})
	assert.Equal(t, 3, tbl.Cursor(), "the wheel works on any table under the pointer")
}

func TestResizeKeepsCursorVisible(t *testing.T) {
	tbl, _ := newTestTable(million, 80, 24)
	for range 20 {
		send(tbl, press("j"))
	}
	tbl.SetSize(80, 8)
	assert.Equal(t, 20, tbl.Cursor())
	assert.GreaterOrEqual(t, tbl.Cursor(), tbl.Offset())
	assert.Less(t, tbl.Cursor(), tbl.Offset()+6)
}

func TestViewFillsExactSize(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {80, 12}, {120, 40}, {40, 5}, {20, 3}, {80, 2}, {80, 1}} {
		tbl, _ := newTestTable(million, size[0], size[1])
		send(tbl, press("ctrl+d"))
		lines := strings.Split(tbl.View(), "\n")
		assert.Len(t, lines, size[1], "%v", size)
		for _, l := range lines {
			assert.Equal(t, size[0], ansi.StringWidth(l), "%v: %q", size, l)
		}
	}
	tbl, _ := newTestTable(10, 0, 0)
	assert.Empty(t, tbl.View())
}

func TestHelp(t *testing.T) {
	tbl, _ := newTestTable(10, 80, 12)
	assert.Len(t, tbl.ShortHelp(), 4)
	assert.NotEmpty(t, tbl.FullHelp())
}

func TestLayoutColumns(t *testing.T) {
	cols := []Column{{Title: "#", Width: 5}, {Title: "Name", Width: 10, Flex: 2}, {Title: "City", Width: 8, Flex: 1}}
	tests := []struct {
		name  string
		cols  []Column
		width int
		want  []int
	}{
		{"exact minimum", cols, 25, []int{5, 10, 8}},
		{"flex shares the rest 2:1", cols, 34, []int{5, 16, 11}},
		{"remainder goes to the last flex column", cols, 35, []int{5, 16, 12}},
		{"last columns dropped when too narrow", cols, 20, []int{5, 14, 0}},
		{"first column truncated when nothing fits", cols, 3, []int{3, 0, 0}},
		{"no flex: last column takes the rest", []Column{{Title: "a", Width: 3}, {Title: "b", Width: 3}}, 10, []int{3, 6}},
		{"width 0 means the title's width", []Column{{Title: "Revenue"}, {Title: "x", Flex: 1}}, 20, []int{7, 12}},
		{"zero width", cols, 0, []int{0, 0, 0}},
		{"no columns", nil, 80, []int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := layoutColumns(tc.cols, tc.width)
			assert.Equal(t, tc.want, got)
			sum, shown := 0, 0
			for _, w := range got {
				if w > 0 {
					sum += w
					shown++
				}
			}
			if tc.width > 0 && shown > 0 {
				assert.Equal(t, tc.width, sum+(shown-1)*columnGap, "fills the width")
			}
		})
	}
}

func TestPreStyledCellsKeepTheRowStyle(t *testing.T) {
	th := theme.New(true)
	spark := lipgloss.NewStyle().Foreground(th.Series(1)).Render("▁▃▅█")
	f := &fakeStore{n: 5, cells: func(i uint64) []string { return []string{"x", spark, "1"} }}
	tbl := New("t", th, keys.New(), f.fetch)
	tbl.SetColumns(testColumns)
	tbl.SetSize(40, 5)
	tbl.Focus()
	run(tbl, tbl.Init())

	on := txt.NewPainter(th.TableSelected).On()
	require.NotEmpty(t, on)
	selected := strings.Split(tbl.View(), "\n")[1]
	assert.Contains(t, selected, "\x1b[m"+on, "selected style resumes after the sparkline's reset")
	assert.Equal(t, 40, ansi.StringWidth(selected))

	assert.Equal(t, "a\x1b[mb", txt.Painter{}.Resume("a\x1b[mb"), "no style, nothing to resume")
}
