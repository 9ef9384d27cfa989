package tabs

import (
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/tui/keys"
	"karton/tui/theme"
)

var boxes = []Tab{
	{Title: "Channels", Short: "Chan"},
	{Title: "Campaigns", Short: "Camp"},
	{Title: "Customers", Short: "Cust"},
	{Title: "Warehouse", Short: "Ware"},
}

func newTabs(w int) *Tabs {
	t := New(theme.New(true).WithoutColor(), keys.New(), boxes...)
	t.SetSize(w, 1)
	return t
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	}
	return tea.KeyPressMsg{Code: []rune(s)[0], Text: s}
}

func selected(t *testing.T, cmd tea.Cmd) TabSelectedMsg {
	t.Helper()
	require.NotNil(t, cmd)
	msg, ok := cmd().(TabSelectedMsg)
	require.True(t, ok)
	return msg
}

func TestKeysSelectTabs(t *testing.T) {
	tests := []struct {
		keys []string
		want int
	}{
		{[]string{"3"}, 2},
		{[]string{"tab"}, 1},
		{[]string{"tab", "tab", "tab", "tab"}, 0},
		{[]string{"shift+tab"}, 3},
		{[]string{"4", "shift+tab"}, 2},
	}
	for _, tc := range tests {
		tb := newTabs(80)
		for _, k := range tc.keys {
			tb.Update(press(k))
		}
		assert.Equal(t, tc.want, tb.Active(), "%v", tc.keys)
	}
}

func TestSelectionEmitsMessage(t *testing.T) {
	tb := newTabs(80)
	assert.Equal(t, TabSelectedMsg{Index: 2, Previous: 0}, selected(t, tb.Update(press("3"))))
	assert.Nil(t, tb.Update(press("3")), "already active: no message")
	assert.Nil(t, tb.Update(press("j")), "not a tab key")
	assert.Nil(t, tb.Update(press("5")), "no fifth box")
}

func TestMouseClickSelectsTab(t *testing.T) {
	tb := newTabs(80)
	tb.SetOrigin(0, 2)
	// " 1 Channels " is cells 0–11, " 2 Campaigns " 12–24.
	assert.Equal(t, TabSelectedMsg{Index: 1, Previous: 0}, selected(t, tb.Update(tea.MouseClickMsg{X: 12, Y: 2, Button: tea.MouseLeft})))
	i, ok := tb.HitTest(11, 2)
	assert.True(t, ok)
	assert.Equal(t, 0, i)
	_, ok = tb.HitTest(12, 3)
	assert.False(t, ok, "other line")
	_, ok = tb.HitTest(70, 2)
	assert.False(t, ok, "right of the last tab")
	assert.Nil(t, tb.Update(tea.MouseClickMsg{X: 1, Y: 2, Button: tea.MouseRight}))
}

func TestHitTestMatchesDrawing(t *testing.T) {
	for _, w := range []int{80, 40, 20} {
		tb := newTabs(w)
		view := ansi.Strip(tb.View())
		for i := range boxes {
			s := tb.spans[i]
			cell := ansi.Cut(view, s.from, s.to)
			assert.Contains(t, cell, string(rune('1'+i)), "width %d tab %d: %q", w, i, cell)
			got, ok := tb.HitTest(s.from, 0)
			assert.True(t, ok)
			assert.Equal(t, i, got)
		}
	}
}

func TestLabelsShrinkToFit(t *testing.T) {
	tests := []struct {
		width int
		want  string
	}{
		{80, " 1 Channels  2 Campaigns  3 Customers  4 Warehouse "},
		{50, " 1 Chan  2 Camp  3 Cust  4 Ware "},
		{20, " 1  2  3  4 "},
		{9, " 1  2  3 "},
	}
	for _, tc := range tests {
		tb := newTabs(tc.width)
		view := ansi.Strip(tb.View())
		assert.Equal(t, tc.width, ansi.StringWidth(view))
		assert.Contains(t, view, tc.want, "width %d", tc.width)
	}
}

func TestBadgeAndActiveChanges(t *testing.T) {
	tb := newTabs(80)
	tb.SetBadge(1, "3")
	tb.SetBadge(9, "x") // ignored
	tb.SetActive(1)
	tb.SetActive(-1) // ignored
	assert.Equal(t, 1, tb.Active())
	assert.Contains(t, ansi.Strip(tb.View()), "2 Campaigns 3")
	tb.SetSize(30, 1)
	assert.NotContains(t, ansi.Strip(tb.View()), "Campaigns", "badges go first when narrow")
}

func TestEmptyTabs(t *testing.T) {
	tb := New(theme.New(true), keys.New())
	tb.SetSize(10, 1)
	assert.Nil(t, tb.Update(press("1")))
	assert.Equal(t, "          ", tb.View())
}

func TestHelp(t *testing.T) {
	tb := newTabs(80)
	assert.NotEmpty(t, tb.ShortHelp())
	assert.NotEmpty(t, tb.FullHelp())
}

func TestViewGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		width  int
		active int
	}{
		{"w80", 80, 0},
		{"w80_third_active", 80, 2},
		{"w40_short", 40, 1},
		{"w16_numbers", 16, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTabs(tc.width)
			tb.SetBadge(1, "2")
			tb.SetActive(tc.active)
			golden.RequireEqual(t, tb.View())
		})
	}
	t.Run("colour_dark", func(t *testing.T) {
		tb := New(theme.New(true), keys.New(), boxes...)
		tb.SetSize(80, 1)
		tb.SetActive(1)
		golden.RequireEqual(t, tb.View())
	})
}
