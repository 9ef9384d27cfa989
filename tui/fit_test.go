package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/stretchr/testify/assert"

	"karton/tui/common"
	"karton/tui/internal/screentest"
)

func TestFitLine(t *testing.T) {
	red := lipgloss.NewStyle().Foreground(lipgloss.Color("1"))
	for _, tc := range []struct {
		name, in string
		w        int
	}{
		{"pads", "abc", 6},
		{"cuts", "abcdefgh", 4},
		{"exact", "abcd", 4},
		{"styled pads", red.Render("abc"), 6},
		{"styled cuts", red.Render("abcdefgh"), 4},
		{"wide runes", "Grüße 日本", 12},
		{"wide runes cut", "日本語テキスト", 5},
		{"empty", "", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := fitLine(tc.in, tc.w)
			assert.Equal(t, tc.w, ansi.StringWidth(out))
			assert.True(t, strings.HasPrefix(ansi.Strip(tc.in)+strings.Repeat(" ", tc.w), strings.TrimRight(ansi.Strip(out), " ")) || ansi.StringWidth(tc.in) > tc.w)
		})
	}
}

func TestFitBlock(t *testing.T) {
	out := fitBlock("one\ntwo that is far too long\n", 8, 4)
	assert.Equal(t, "one     \ntwo that\n        \n        ", out)
	assert.Equal(t, "ab\ncd", fitBlock("ab\ncd\nef\ngh", 2, 2), "extra lines are dropped")
}

// styledBox draws a coloured table-like body, as a dashboard would.
type styledBox struct {
	fakeBox
	rows []string
}

func (b *styledBox) SetSize(w, h int) {
	st := lipgloss.NewStyle().Foreground(lipgloss.Color("#88c0d0"))
	b.rows = b.rows[:0]
	for i := range h {
		b.rows = append(b.rows, fitLine(st.Render(fmt.Sprintf("%6d  Meier, Jana  jana.meier%d@example.de  Berlin  %d", i, i, i*7)), w))
	}
}
func (b *styledBox) View() string { return strings.Join(b.rows, "\n") }

// BenchmarkFrame is the cost of one frame at 120×40. View runs after every
// message in every session, so it bounds how many key presses a server
// answers per second.
func BenchmarkFrame(b *testing.B) {
	s := screentest.EmptyStore(b)
	a := New(s, screentest.Admin, Options{Now: screentest.Now, NoFeed: true, Environ: []string{}, StoreLabel: "demo.db",
		Boxes: func(c *common.Context) []common.Box {
			return []common.Box{&styledBox{fakeBox: *newFake(c, "Customers")}}
		}})
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	b.ReportAllocs()
	for b.Loop() {
		_ = a.View()
	}
}
