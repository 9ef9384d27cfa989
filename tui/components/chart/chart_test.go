package chart

import (
	"math"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/tui/theme"
)

var plainTheme = theme.New(true).WithoutColor()

func plain(s string) string { return ansi.Strip(s) }

// requireBlock checks that s is exactly width×height cells.
func requireBlock(t *testing.T, s string, width, height int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	require.Len(t, lines, height, "%q", s)
	for _, l := range lines {
		require.Equal(t, width, ansi.StringWidth(l), "%q", l)
	}
}

func TestSparkline(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name   string
		values []float64
		width  int
		want   string
	}{
		{"rises from zero", []float64{0, 1, 2, 3, 4, 5, 6, 7}, 8, "▁▂▃▄▅▆▇█"},
		{"flat positive is full, not exaggerated", []float64{5, 5, 5}, 3, "███"},
		{"all zero", []float64{0, 0}, 2, "▁▁"},
		{"negative uses the minimum", []float64{-7, 0, 7}, 3, "▁▅█"},
		{"gaps for NaN and Inf", []float64{1, nan, 1, inf}, 4, "█ █ "},
		{"shorter data pads left", []float64{1, 2}, 5, "   ▅█"},
		{"longer data averages", []float64{0, 0, 7, 7, 14, 14}, 3, "▁▅█"},
		{"no data", nil, 4, "    "},
		{"only NaN", []float64{nan}, 2, "  "},
		{"zero width", []float64{1}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Sparkline(plainTheme, 0, tc.values, tc.width)
			assert.Equal(t, tc.want, plain(got))
			assert.Equal(t, tc.width, ansi.StringWidth(got))
		})
	}
	long := make([]float64, 1000)
	for i := range long {
		long[i] = math.Sin(float64(i) / 50)
	}
	assert.Equal(t, 30, ansi.StringWidth(Sparkline(theme.New(true), 2, long, 30)))
	assert.Contains(t, Sparkline(theme.New(true), 2, long, 30), "\x1b[38;2;", "coloured by series")
}

func TestBars(t *testing.T) {
	bars := []Bar{
		{Label: "Email", Value: 1000},
		{Label: "SMS", Value: 500},
		{Label: "Post", Value: 0},
		{Label: "Refunds", Value: -20, Display: "-€20"},
		{Label: "Broken", Value: math.NaN()},
	}
	out := Bars(plainTheme, bars, 40)
	requireBlock(t, out, 40, 5)
	lines := strings.Split(plain(out), "\n")
	assert.True(t, strings.HasPrefix(lines[0], "Email   ████"), lines[0])
	assert.True(t, strings.HasSuffix(lines[0], "1k"), lines[0])
	assert.InDelta(t, strings.Count(lines[0], "█"), 2*strings.Count(lines[1], "█"), 1, "half the value, half the bar")
	assert.NotContains(t, lines[2], "█")
	assert.NotContains(t, lines[3], "█", "negative: no bar")
	assert.True(t, strings.HasSuffix(lines[3], "-€20"))
	assert.NotContains(t, lines[4], "█")

	assert.Empty(t, Bars(plainTheme, nil, 40))
	assert.Empty(t, Bars(plainTheme, bars, 0))
	requireBlock(t, Bars(plainTheme, []Bar{{Label: "a very long label indeed", Value: 1}}, 12), 12, 1)
}

func TestHBarEighths(t *testing.T) {
	assert.Equal(t, "█▌  ", plain(hbar(plainTheme.Base, 1.5/4, 4)))
	assert.Equal(t, "    ", hbar(plainTheme.Base, 0, 4))
	assert.Equal(t, "████", plain(hbar(plainTheme.Base, 1, 4)))
}

func TestColumns(t *testing.T) {
	months := []Point{{"Jan", 10}, {"Feb", 20}, {"Mar", 40}, {"Apr", 0}}
	out := Columns(plainTheme, months, 30, 6)
	requireBlock(t, out, 30, 6)
	lines := strings.Split(plain(out), "\n")
	assert.True(t, strings.HasPrefix(lines[0], "40│"), lines[0])
	assert.True(t, strings.HasPrefix(lines[4], " 0│"), lines[4])
	assert.Contains(t, lines[5], "Jan")
	assert.Contains(t, lines[5], "Apr")
	// Mar is the peak: its column is full at the top row.
	assert.Contains(t, lines[0], "█", "the peak reaches the top row")
	assert.Equal(t, []string{"0│█████", "█████", "█████"}, strings.Fields(lines[4]), "Apr (0) draws nothing")
	assert.Equal(t, []string{"│▂▂▂▂▂", "█████", "█████"}, strings.Fields(lines[3]), "Jan is a quarter of the peak: 2 of 8 eighths into row 4")

	// Many points at small width: every k-th label, latest points kept.
	var year []Point
	for i, m := range []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"} {
		year = append(year, Point{m, float64(i + 1)})
	}
	out = Columns(plainTheme, year, 20, 5)
	requireBlock(t, out, 20, 5)
	assert.Contains(t, plain(out), "Jan")

	out = Columns(plainTheme, year, 8, 4)
	requireBlock(t, out, 8, 4)

	requireBlock(t, Columns(plainTheme, nil, 10, 3), 10, 3)
	requireBlock(t, Columns(plainTheme, months, 10, 1), 10, 1)
	assert.Empty(t, Columns(plainTheme, months, 0, 5))
	requireBlock(t, Columns(plainTheme, []Point{{"x", math.NaN()}, {"y", -3}}, 10, 3), 10, 3)
}

func TestPercentAndBudget(t *testing.T) {
	tests := []struct {
		frac float64
		want string
	}{
		{0.63, "██████░░░░  63%"},
		{0, "░░░░░░░░░░   0%"},
		{1, "██████████ 100%"},
		{1.12, "██████████ 112%"},
		{-1, "░░░░░░░░░░   0%"},
		{math.NaN(), "░░░░░░░░░░   0%"},
	}
	for _, tc := range tests {
		got := Percent(plainTheme, tc.frac, 15)
		assert.Equal(t, tc.want, plain(got), "%v", tc.frac)
		assert.Equal(t, 15, ansi.StringWidth(got))
	}
	assert.Equal(t, " 63%", plain(Percent(plainTheme, 0.63, 4)), "no room for the bar")
	assert.Empty(t, Percent(plainTheme, 0.5, 0))

	th := theme.New(true)
	// width 20: a 4-cell label, a blank and a 15-cell bar.
	assert.Contains(t, Budget(th, 0.5, 20), th.Good.Render(strings.Repeat("█", 8)))
	assert.Contains(t, Budget(th, 0.9, 20), th.Warn.Render(strings.Repeat("█", 14)))
	assert.Contains(t, Budget(th, 1.3, 20), th.Bad.Render(strings.Repeat("█", 15)))
}

func TestFunnel(t *testing.T) {
	stages := []Stage{{"Sent", 10000}, {"Delivered", 9500}, {"Opened", 3800}, {"Clicked", 420}, {"Bought", 0}}
	out := Funnel(plainTheme, stages, 50)
	requireBlock(t, out, 50, 5)
	lines := strings.Split(plain(out), "\n")
	assert.Contains(t, lines[1], "95%")
	assert.Contains(t, lines[2], "40%")
	assert.Contains(t, lines[3], "11%")
	assert.Contains(t, lines[4], "0%")
	assert.NotContains(t, lines[0], "%", "no rate for the first stage")
	assert.Greater(t, strings.Count(lines[0], "█"), strings.Count(lines[2], "█"))
	assert.Equal(t, 1, strings.Count(lines[3], "█"), "a small stage still shows")
	assert.Empty(t, Funnel(plainTheme, nil, 50))
	requireBlock(t, Funnel(plainTheme, []Stage{{"x", 0}, {"y", 5}}, 20), 20, 2)
}

func TestHeatmap(t *testing.T) {
	grid := [][]float64{{1, 2, 3}, {4, 5, 6}, {7, 8, math.NaN()}}
	out := Heatmap(plainTheme, grid, []string{"R3", "R2", "R1"}, []string{"F1", "F2", "F3"}, 30)
	requireBlock(t, out, 30, 4)
	lines := strings.Split(plain(out), "\n")
	assert.Contains(t, lines[0], "F1")
	assert.True(t, strings.HasPrefix(lines[1], "R3 ░"), lines[1])
	assert.Contains(t, lines[3], "█ 8 ")
	assert.NotContains(t, lines[3], "NaN")

	coloured := Heatmap(theme.New(true), grid, nil, nil, 30)
	assert.Contains(t, coloured, "\x1b[38;2;")
	requireBlock(t, coloured, 30, 4)

	assert.Empty(t, Heatmap(plainTheme, nil, nil, nil, 30))
	requireBlock(t, Heatmap(plainTheme, [][]float64{{1}, {2, 3}}, nil, nil, 12), 12, 3)
	requireBlock(t, Heatmap(plainTheme, grid, nil, []string{"a", "b", "c", "d", "e", "f"}, 4), 4, 4)
}

func TestGolden(t *testing.T) {
	months := []Point{{"Jan", 12000}, {"Feb", 15500}, {"Mar", 9800}, {"Apr", 21000}, {"May", 18750}, {"Jun", 25400}}
	rfm := [][]float64{
		{120, 340, 560, 810, 1200},
		{90, 210, 400, 600, 700},
		{60, 150, 230, 310, 280},
		{200, 120, 90, 60, 30},
		{900, 300, 80, 20, 5},
	}
	score := []string{"5", "4", "3", "2", "1"}
	tests := []struct {
		name string
		draw func() string
	}{
		{"sparkline_w40", func() string {
			v := make([]float64, 90)
			for i := range v {
				v[i] = 50 + 40*math.Sin(float64(i)/8) + float64(i)/3
			}
			return Sparkline(plainTheme, 0, v, 40)
		}},
		{"bars_w80", func() string {
			return Bars(plainTheme, []Bar{
				{Label: "Email", Value: 48210, Display: "€48,210"},
				{Label: "SMS", Value: 12900, Display: "€12,900"},
				{Label: "Direct mail", Value: 30400, Display: "€30,400"},
				{Label: "Telefonmarketing Süd", Value: 2100, Display: "€2,100"},
			}, 80)
		}},
		{"columns_w80_h10", func() string { return Columns(plainTheme, months, 80, 10) }},
		{"columns_w40_h6", func() string { return Columns(plainTheme, months, 40, 6) }},
		{"budget_w40", func() string { return Budget(plainTheme, 0.63, 40) }},
		{"funnel_w80", func() string {
			return Funnel(plainTheme, []Stage{{"Sent", 120000}, {"Delivered", 117400}, {"Opened", 41200}, {"Clicked", 6300}, {"Bought", 910}}, 80)
		}},
		{"rfm_heatmap_w60", func() string {
			return Heatmap(plainTheme, rfm, []string{"R5", "R4", "R3", "R2", "R1"}, []string{"F1", "F2", "F3", "F4", "F5"}, 60)
		}},
		{"rfm_heatmap_colour_w40", func() string { return Heatmap(theme.New(true), rfm, score, score, 40) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { golden.RequireEqual(t, tc.draw()) })
	}
}
