package txt

import (
	"math"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/stretchr/testify/assert"
)

func TestWidthCountsDisplayCells(t *testing.T) {
	assert.Equal(t, 5, Width("hello"))
	assert.Equal(t, 6, Width("Müller"))
	assert.Equal(t, 4, Width("東京"))
	assert.Equal(t, 3, Width(lipgloss.NewStyle().Foreground(lipgloss.Color("#ff0000")).Render("abc")))
}

func TestFit(t *testing.T) {
	red := lipgloss.NewStyle().Foreground(lipgloss.Color("#ff0000")).Render("▁▃▅█")
	tests := []struct {
		name  string
		in    string
		w     int
		align Align
		want  string
	}{
		{"pad left aligned", "ab", 5, Left, "ab   "},
		{"pad right aligned", "42", 5, Right, "   42"},
		{"centre", "ok", 6, Center, "  ok  "},
		{"exact", "abcde", 5, Left, "abcde"},
		{"truncate", "abcdefgh", 5, Left, "abcd…"},
		{"umlauts", "Größenwahn", 6, Left, "Größe…"},
		{"cjk never splits a wide char", "東京都庁", 5, Left, "東京…"},
		{"cjk pads odd width", "東京", 5, Right, " 東京"},
		{"one cell", "abc", 1, Left, "…"},
		{"zero width", "abc", 0, Left, ""},
		{"negative width", "abc", -3, Left, ""},
		{"empty", "", 3, Left, "   "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Fit(tc.in, tc.w, tc.align)
			assert.Equal(t, tc.want, got)
			if tc.w > 0 {
				assert.Equal(t, tc.w, Width(got))
			}
		})
	}
	styled := Fit(red, 6, Right)
	assert.Equal(t, 6, Width(styled))
	assert.Contains(t, styled, "\x1b[", "styling survives")
	assert.Equal(t, 3, Width(Fit(red, 3, Left)))
}

func TestTruncateLeft(t *testing.T) {
	assert.Equal(t, "…/karton.db", TruncateLeft("/home/anna/data/karton.db", 11))
	assert.Equal(t, "short", TruncateLeft("short", 10))
	assert.Equal(t, "…", TruncateLeft("abc", 1))
	assert.Equal(t, "", TruncateLeft("abc", 0))
}

func TestInt(t *testing.T) {
	tests := map[int64]string{
		0: "0", 7: "7", 999: "999", 1000: "1,000", 12345: "12,345",
		1000000: "1,000,000", -1: "-1", -1234: "-1,234", -123456: "-123,456",
		math.MinInt64: "-9,223,372,036,854,775,808",
	}
	for in, want := range tests {
		assert.Equal(t, want, Int(in), "%d", in)
	}
}

func TestCompact(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {7, "7"}, {2.5, "2.5"}, {950, "950"}, {999.7, "1k"},
		{1200, "1.2k"}, {34000, "34k"}, {5.6e6, "5.6M"}, {7.8e9, "7.8B"},
		{-1500, "-1.5k"}, {math.NaN(), "–"}, {math.Inf(1), "∞"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, Compact(tc.in), "%v", tc.in)
	}
}

func TestNarrowWidthAgreesWithGraphemeWidth(t *testing.T) {
	for _, s := range []string{"Jürgen Müller", "Øresund", "ß", "\u00ad", "a\u0301", "東", "🙂", "\t", "é", "€"} {
		assert.Equal(t, ansi.StringWidth(s), Width(s), "%q", s)
	}
	for r := rune(0x20); r < 0x300; r++ {
		if r >= 0x7f && r < 0xa0 {
			continue
		}
		assert.Equal(t, ansi.StringWidth(string(r)), Width(string(r)), "%U", r)
	}
}

func TestPaint(t *testing.T) {
	red := lipgloss.NewStyle().Foreground(lipgloss.Color("#ff0000")).Bold(true)
	assert.Equal(t, red.Render("█▇▆ abc"), Paint(red, "█▇▆ abc"))
	assert.Equal(t, "plain", Paint(lipgloss.NewStyle(), "plain"))
	assert.Equal(t, "", Paint(red, ""))
}

func TestPainterMatchesRender(t *testing.T) {
	for _, st := range []lipgloss.Style{
		lipgloss.NewStyle(),
		lipgloss.NewStyle().Reverse(true),
		lipgloss.NewStyle().Foreground(lipgloss.Color("#123456")).Background(lipgloss.Color("#654321")).Italic(true),
	} {
		assert.Equal(t, st.Render("ab cd"), NewPainter(st).Paint("ab cd"))
	}
}

func TestResume(t *testing.T) {
	sel := NewPainter(lipgloss.NewStyle().Reverse(true))
	spark := lipgloss.NewStyle().Foreground(lipgloss.Color("#00ff00")).Render("▁█")
	got := sel.Resume(spark + " x")
	assert.Contains(t, got, "\x1b[m"+sel.On())
	assert.Equal(t, "plain", sel.Resume("plain"))
	assert.Equal(t, "\x1b[m\x1b[7m", sel.Resume("\x1b[0m"))
}
