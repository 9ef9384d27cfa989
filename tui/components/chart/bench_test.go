package chart

import (
	"math"
	"testing"

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
	for b.Loop() {
		_ = Heatmap(th, grid, l, l, 60)
	}
}
