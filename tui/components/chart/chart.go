// Package chart draws small charts as text: sparklines, horizontal bars,
// columns with a y scale, percentage bars, a funnel and a heat grid.
//
// Every function is pure: data, size and theme in, a string out, with every
// line exactly as wide as asked. Drawing costs real time at large sizes, so
// (STYLE.md rule 7) the owner calls these when its data or size changes,
// keeps the string, and returns the cached string from View.
//
// Bad numbers never panic: NaN and ±Inf are drawn as gaps, negative values
// as zero where a bar cannot go below its axis, and empty data as blank
// space of the requested size.
package chart

import (
	"image/color"
	"math"
	"strings"

	"charm.land/lipgloss/v2"

	"karton/tui/components/internal/txt"
	"karton/tui/theme"
)

// levels are the eight heights of a cell, lowest first.
var levels = []rune("▁▂▃▄▅▆▇█")

// eighths are the eight widths of a cell, narrowest first.
var eighths = []rune("▏▎▍▌▋▊▉█")

// shades mark intensity without colour, palest first.
var shades = []rune("░▒▓█")

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// blankBlock is width×height spaces.
func blankBlock(width, height int) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	line := strings.Repeat(" ", width)
	lines := make([]string, height)
	for i := range lines {
		lines[i] = line
	}
	return strings.Join(lines, "\n")
}

// Sparkline draws values as one line of block characters in the colour of
// chart series `series`. With more values than width, neighbouring values
// are averaged so the line is exactly width cells; with fewer, it is as long
// as the data and padded on the left, so the latest value is always at the
// right edge. Bars rise from zero when all values are ≥ 0 (so a flat line
// of sends is not exaggerated), otherwise from the minimum.
func Sparkline(th *theme.Theme, series int, values []float64, width int) string {
	if width <= 0 {
		return ""
	}
	vals := resample(values, width)
	lo, hi, ok := extent(vals)
	if !ok {
		return strings.Repeat(" ", width)
	}
	lo = math.Min(lo, 0)
	var b strings.Builder
	for _, v := range vals {
		if !finite(v) {
			b.WriteRune(' ')
			continue
		}
		level := 0
		if hi > lo {
			level = int(math.Round((v - lo) / (hi - lo) * float64(len(levels)-1)))
		} else if v != 0 {
			level = len(levels) / 2
		}
		b.WriteRune(levels[min(max(level, 0), len(levels)-1)])
	}
	return strings.Repeat(" ", width-len(vals)) + txt.Paint(th.SeriesStyle(series), b.String())
}

// resample returns at most width values, averaging buckets of neighbours;
// a bucket with no finite value stays NaN.
func resample(values []float64, width int) []float64 {
	n := len(values)
	if n <= width {
		return values
	}
	out := make([]float64, width)
	for i := range out {
		from, to := i*n/width, (i+1)*n/width
		sum, cnt := 0.0, 0
		for _, v := range values[from:to] {
			if finite(v) {
				sum += v
				cnt++
			}
		}
		out[i] = math.NaN()
		if cnt > 0 {
			out[i] = sum / float64(cnt)
		}
	}
	return out
}

// extent returns the smallest and largest finite value.
func extent(values []float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if finite(v) {
			lo, hi, ok = math.Min(lo, v), math.Max(hi, v), true
		}
	}
	return lo, hi, ok
}

// Bar is one row of a horizontal bar chart.
type Bar struct {
	Label string
	Value float64
	// Display is the value as printed; empty means a compact number
	// ("12k"). Use it for money or percentages.
	Display string
}

// Bars draws one labelled horizontal bar per item, scaled to the largest
// value, with the value printed at the right. Labels take at most a third
// of the width and are cut with an ellipsis. Negative values draw no bar.
func Bars(th *theme.Theme, bars []Bar, width int) string {
	if width <= 0 || len(bars) == 0 {
		return ""
	}
	labelW, valueW, peak := 0, 0, 0.0
	shown := make([]string, len(bars))
	for i, b := range bars {
		labelW = max(labelW, txt.Width(b.Label))
		shown[i] = b.Display
		if shown[i] == "" {
			shown[i] = txt.Compact(b.Value)
		}
		valueW = max(valueW, txt.Width(shown[i]))
		if finite(b.Value) {
			peak = math.Max(peak, b.Value)
		}
	}
	labelW = min(labelW, width/3)
	valueW = min(valueW, width/4)
	barW := width - labelW - valueW - 2
	lines := make([]string, len(bars))
	for i, b := range bars {
		bar := ""
		if barW > 0 {
			bar = hbar(th.SeriesStyle(0), fraction(b.Value, peak), barW)
		}
		line := th.ChartLabel.Render(txt.Fit(b.Label, labelW, txt.Left)) + " " + bar
		if barW > 0 {
			line += " "
		}
		line += th.ChartValue.Render(txt.Fit(shown[i], valueW, txt.Right))
		lines[i] = padTo(line, width)
	}
	return strings.Join(lines, "\n")
}

// fraction is v/peak clamped to [0,1]; bad input counts as 0.
func fraction(v, peak float64) float64 {
	if !finite(v) || !(peak > 0) || v <= 0 {
		return 0
	}
	return math.Min(v/peak, 1)
}

// hbar draws a bar of frac×width cells in eighths, padded to width.
func hbar(style lipgloss.Style, frac float64, width int) string {
	units := int(math.Round(frac * float64(width*8)))
	full, part := units/8, units%8
	s := strings.Repeat("█", full)
	if part > 0 {
		s += string(eighths[part-1])
	}
	used := full
	if part > 0 {
		used++
	}
	if s == "" {
		return strings.Repeat(" ", width)
	}
	return txt.Paint(style, s) + strings.Repeat(" ", width-used)
}

// padTo pads or cuts a rendered line to exactly width cells.
func padTo(line string, width int) string {
	return txt.Fit(line, width, txt.Left)
}

// Point is one column of a column chart.
type Point struct {
	Label string // x label, e.g. "Mar"
	Value float64
}

// Columns draws a vertical column chart (e.g. revenue by month) in
// width×height cells: a y scale on the left with the top value, the middle
// and zero, columns in eighths of a cell, and x labels on the bottom line.
// When the labels do not fit under their columns, only every k-th is shown.
func Columns(th *theme.Theme, points []Point, width, height int) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	if len(points) == 0 || height < 2 {
		return blankBlock(width, height)
	}
	rows := height - 1
	peak := 0.0
	for _, p := range points {
		if finite(p.Value) {
			peak = math.Max(peak, p.Value)
		}
	}
	top, mid := txt.Compact(peak), txt.Compact(peak/2)
	yW := max(txt.Width(top), txt.Width(mid), 1)
	plotW := width - yW - 1
	if plotW < len(points) {
		// Not one cell per column: keep the latest points.
		points = points[max(len(points)-max(plotW, 0), 0):]
	}
	n := len(points)
	if n == 0 || plotW <= 0 {
		return blankBlock(width, height)
	}
	slot := plotW / n
	colW, gap := slot, 0
	if slot >= 3 {
		colW, gap = slot-1, 1
	}

	axis, series := txt.NewPainter(th.ChartAxis), txt.NewPainter(th.SeriesStyle(0))
	lines := make([]string, 0, height)
	for r := range rows {
		label := ""
		switch r {
		case 0:
			label = top
		case rows / 2:
			if rows >= 3 {
				label = mid
			}
		case rows - 1:
			label = "0"
		}
		if rows == 1 {
			label = top
		}
		// One style call per line, and Paint rather than Render: lipgloss
		// measures every string it renders, which cost 30× the drawing.
		var cells strings.Builder
		for i, p := range points {
			units := int(math.Round(fraction(p.Value, peak) * float64(rows*8)))
			fill := min(max(units-(rows-1-r)*8, 0), 8)
			ch := " "
			if fill > 0 {
				ch = string(levels[fill-1])
			}
			cells.WriteString(strings.Repeat(ch, colW))
			if gap > 0 && i < n-1 {
				cells.WriteString(" ")
			}
		}
		used := yW + 1 + n*colW + max(n-1, 0)*gap
		lines = append(lines, axis.Paint(txt.Fit(label, yW, txt.Right)+"│")+
			series.Paint(cells.String())+strings.Repeat(" ", max(width-used, 0)))
	}
	lines = append(lines, padTo(strings.Repeat(" ", yW+1)+xLabels(th, points, colW, gap), width))
	return strings.Join(lines, "\n")
}

// xLabels writes each label under its column, or every k-th label when the
// columns are too narrow for them.
func xLabels(th *theme.Theme, points []Point, colW, gap int) string {
	slot := colW + gap
	widest := 1
	for _, p := range points {
		widest = max(widest, txt.Width(p.Label))
	}
	if widest <= slot {
		var b strings.Builder
		for i, p := range points {
			w := slot
			if i == len(points)-1 {
				w = colW
			}
			b.WriteString(txt.Fit(p.Label, w, txt.Left))
		}
		return th.ChartAxis.Render(b.String())
	}
	every := (widest + 1 + slot - 1) / slot // +1 for a blank between labels
	var b strings.Builder
	used := 0
	for i := 0; i < len(points); i += every {
		x := i * slot
		if x < used {
			continue
		}
		b.WriteString(strings.Repeat(" ", x-used))
		l := txt.Truncate(points[i].Label, every*slot-1)
		b.WriteString(l)
		used = x + txt.Width(l)
	}
	return th.ChartAxis.Render(b.String())
}

// Percent draws a bar filled to frac (0.63 → 63 %) followed by the
// percentage, in width cells, in the colour of series 0. Values above 1
// fill the bar and print as they are ("112%"); bad input counts as 0.
func Percent(th *theme.Theme, frac float64, width int) string {
	return percent(th, frac, width, th.SeriesStyle(0))
}

// Budget is Percent for money spent against a budget: good below 85 %,
// a warning up to 100 %, bad above.
func Budget(th *theme.Theme, spent float64, width int) string {
	style := th.Good
	switch {
	case spent > 1:
		style = th.Bad
	case spent >= 0.85:
		style = th.Warn
	}
	return percent(th, spent, width, style)
}

func percent(th *theme.Theme, frac float64, width int, style lipgloss.Style) string {
	if width <= 0 {
		return ""
	}
	if !finite(frac) || frac < 0 {
		frac = 0
	}
	label := txt.Int(int64(math.Round(frac*100))) + "%"
	labelW := max(txt.Width(label), 4)
	barW := width - labelW - 1
	if barW < 1 {
		return txt.Fit(label, width, txt.Right)
	}
	filled := int(math.Round(math.Min(frac, 1) * float64(barW)))
	bar := ""
	if filled > 0 {
		bar = style.Render(strings.Repeat("█", filled))
	}
	if filled < barW {
		bar += th.ChartTrack.Render(strings.Repeat("░", barW-filled))
	}
	return bar + " " + th.ChartValue.Render(txt.Fit(label, labelW, txt.Right))
}

// Stage is one step of a funnel.
type Stage struct {
	Label string
	Value float64
}

// Funnel draws one line per stage: the label, a bar centred on a common
// axis and scaled to the first stage, the value, and the share of the
// previous stage that made it to this one.
func Funnel(th *theme.Theme, stages []Stage, width int) string {
	if width <= 0 || len(stages) == 0 {
		return ""
	}
	labelW, valueW := 0, 0
	values := make([]string, len(stages))
	for i, s := range stages {
		labelW = max(labelW, txt.Width(s.Label))
		values[i] = txt.Compact(s.Value)
		valueW = max(valueW, txt.Width(values[i]))
	}
	labelW = min(labelW, width/3)
	const rateW = 5 // " 100%"
	barW := width - labelW - valueW - rateW - 2
	first := stages[0].Value
	lines := make([]string, len(stages))
	for i, s := range stages {
		line := th.ChartLabel.Render(txt.Fit(s.Label, labelW, txt.Left)) + " "
		if barW > 0 {
			cells := int(math.Round(fraction(s.Value, first) * float64(barW)))
			if cells == 0 && s.Value > 0 {
				cells = 1 // something got through: show it
			}
			left := (barW - cells) / 2
			bar := strings.Repeat(" ", left)
			if cells > 0 {
				bar += th.SeriesStyle(i).Render(strings.Repeat("█", cells))
			}
			line += bar + strings.Repeat(" ", barW-left-cells) + " "
		}
		line += th.ChartValue.Render(txt.Fit(values[i], valueW, txt.Right))
		rate := ""
		if i > 0 {
			if prev := stages[i-1].Value; finite(prev) && prev > 0 && finite(s.Value) {
				rate = txt.Int(int64(math.Round(s.Value/prev*100))) + "%"
			}
		}
		line += th.Muted.Render(txt.Fit(rate, rateW, txt.Right))
		lines[i] = padTo(line, width)
	}
	return strings.Join(lines, "\n")
}

// Heatmap draws a grid of values (e.g. RFM: recency rows × frequency
// columns) with row labels on the left and column labels on top. Each cell
// shows its value after a shade (░▒▓█) for its intensity, coloured on the
// theme's heat scale, so the grid reads with and without colour. Missing
// cells (ragged rows, NaN) are blank.
func Heatmap(th *theme.Theme, grid [][]float64, rowLabels, colLabels []string, width int) string {
	if width <= 0 || len(grid) == 0 {
		return ""
	}
	cols := len(colLabels)
	for _, row := range grid {
		cols = max(cols, len(row))
	}
	if cols == 0 {
		return ""
	}
	rowW := 0
	for _, l := range rowLabels {
		rowW = max(rowW, txt.Width(l))
	}
	rowW = min(rowW, width/4)
	cellW := (width - rowW - 1) / cols // including one blank after the cell
	if cellW < 2 {
		return blankBlock(width, len(grid)+1)
	}
	var all []float64
	for _, row := range grid {
		all = append(all, row...)
	}
	lo, hi, _ := extent(all)

	heat := newHeatPainter(th)
	lines := make([]string, 0, len(grid)+1)
	var head strings.Builder
	head.WriteString(strings.Repeat(" ", rowW+1))
	for c := range cols {
		head.WriteString(txt.Fit(at(colLabels, c), cellW-1, txt.Center) + " ")
	}
	lines = append(lines, padTo(th.ChartAxis.Render(head.String()), width))
	for r, row := range grid {
		var b strings.Builder
		b.WriteString(th.ChartAxis.Render(txt.Fit(at(rowLabels, r), rowW, txt.Right)) + " ")
		for c := range cols {
			v := math.NaN()
			if c < len(row) {
				v = row[c]
			}
			b.WriteString(heat.cell(v, lo, hi, cellW-1) + " ")
		}
		lines = append(lines, padTo(b.String(), width))
	}
	return strings.Join(lines, "\n")
}

func at(labels []string, i int) string {
	if i < len(labels) {
		return labels[i]
	}
	return ""
}

// heatPainter draws heat cells, building each colour's painter once.
type heatPainter struct {
	th     *theme.Theme
	value  txt.Painter
	colour map[color.Color]txt.Painter
}

func newHeatPainter(th *theme.Theme) *heatPainter {
	return &heatPainter{th: th, value: txt.NewPainter(th.ChartValue), colour: map[color.Color]txt.Painter{}}
}

func (h *heatPainter) cell(v, lo, hi float64, w int) string {
	if !finite(v) {
		return strings.Repeat(" ", w)
	}
	frac := 1.0
	if hi > lo {
		frac = (v - lo) / (hi - lo)
	}
	value := txt.Compact(v)
	shade := shades[min(int(frac*float64(len(shades)-1)+0.5), len(shades)-1)]
	glyphs := w - txt.Width(value) - 1
	if glyphs < 1 {
		return txt.Fit(value, w, txt.Right)
	}
	glyph := strings.Repeat(string(shade), glyphs)
	if !h.th.Colorless {
		c := h.th.HeatColor(frac)
		p, ok := h.colour[c]
		if !ok {
			p = txt.NewPainter(lipgloss.NewStyle().Foreground(c))
			h.colour[c] = p
		}
		glyph = p.Paint(glyph)
	}
	return glyph + " " + h.value.Paint(value)
}
