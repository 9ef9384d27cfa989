package chart

import (
	"math"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"

	"karton/tui/theme"
)

// The chart benchmarks show why owners cache chart output (STYLE.md rule 7):
// drawing costs far more than returning a stored string from View.

func BenchmarkSparkline365(b *testing.B) {
	th := theme.New(true)
	v := make([]float64, 365)
	for i := range v {
		v[i] = math.Sin(float64(i) / 20)
	}
	checkDrawing(b, Sparkline(th, 0, v, 60), 60, 1)
	for b.Loop() {
		_ = Sparkline(th, 0, v, 60)
	}
}

func BenchmarkColumns160x20(b *testing.B) {
	th := theme.New(true)
	pts := make([]Point, 24)
	for i := range pts {
		pts[i] = Point{Label: "M" + string(rune('A'+i)), Value: float64(i * i)}
	}
	checkDrawing(b, Columns(th, pts, 160, 20), 160, 20)
	for b.Loop() {
		_ = Columns(th, pts, 160, 20)
	}
}

func BenchmarkHeatmapRFM(b *testing.B) {
	th := theme.New(true)
	grid := make([][]float64, 5)
	for r := range grid {
		grid[r] = []float64{1, 2, 3, 4, 5}
	}
	l := []string{"1", "2", "3", "4", "5"}
	checkDrawing(b, Heatmap(th, grid, l, l, 60), 60, 0)
	for b.Loop() {
		_ = Heatmap(th, grid, l, l, 60)
	}
}

// checkDrawing fails the benchmark when the chart it times draws nothing or
// does not fit width columns (and, if lines > 0, that many lines): a
// benchmark of a broken drawing measures nothing.
func checkDrawing(b *testing.B, out string, width, lines int) {
	b.Helper()
	if strings.TrimSpace(out) == "" {
		b.Fatal("the chart drew nothing")
	}
	if w := lipgloss.Width(out); w > width {
		b.Fatalf("the chart is %d columns wide, more than %d", w, width)
	}
	if n := strings.Count(out, "\n") + 1; lines > 0 && n != lines {
		b.Fatalf("the chart has %d lines, want %d", n, lines)
	}
}
