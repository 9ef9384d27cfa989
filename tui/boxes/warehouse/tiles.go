package warehouse

import (
	"strings"

	"charm.land/lipgloss/v2"

	"karton/tui/components/chart"
	"karton/tui/theme"
)

// tile is one KPI: a label, a big value (or a budget bar) and a note.
type tile struct {
	label string
	value string
	// bar, when set, replaces the value by a budget bar filled to *bar.
	bar *float64
	// note is the line under the value; short replaces it in narrow
	// tiles (empty: cut note).
	note, short string
	// up colours the note: true good, false bad, nil neutral.
	up *bool
}

// tileHeight is the lines a row of tiles takes.
const tileHeight = 3

// chooseTiles returns the required tiles and as many optional ones as
// keep the grid at the rows the required ones need, plus further rows
// while room(rows) says the screen has space for them.
func chooseTiles(required, optional []tile, w int, room func(rows int) bool) []tile {
	cols := max(1, w/minTileWidth)
	rows := func(n int) int { return (n + cols - 1) / cols }
	out := append([]tile(nil), required...)
	for _, t := range optional {
		next := rows(len(out) + 1)
		if next > rows(len(out)) && !room(next) {
			break
		}
		out = append(out, t)
	}
	return out
}

// renderTiles lays tiles out in a grid as wide as w: as many columns as
// fit at minTileWidth, stretched to fill the line, reflowing into more
// rows on narrow screens.
func renderTiles(th *theme.Theme, tiles []tile, w int) string {
	if len(tiles) == 0 || w <= 0 {
		return ""
	}
	cols := max(1, min(len(tiles), w/minTileWidth))
	edge := lipgloss.NewStyle().Foreground(th.Palette.Subtle).Render("│") + " "
	var rows []string
	for start := 0; start < len(tiles); start += cols {
		lines := make([]strings.Builder, tileHeight)
		for c := range cols {
			tw := w / cols
			if c == cols-1 {
				tw = w - (cols-1)*(w/cols)
			}
			inner := max(tw-3, 1) // edge, blank, and one blank before the next tile
			var t tile
			if i := start + c; i < len(tiles) {
				t = tiles[i]
			} else {
				for l := range lines {
					lines[l].WriteString(strings.Repeat(" ", tw))
				}
				continue
			}
			value := th.Accent.Render(t.value)
			if t.bar != nil {
				value = chart.Budget(th, *t.bar, inner)
			}
			text := t.note
			if t.short != "" && widthOf(text) > inner {
				text = t.short
			}
			note := th.Muted.Render(text)
			if t.up != nil && *t.up {
				note = th.Good.Render(text)
			} else if t.up != nil {
				note = th.Bad.Render(text)
			}
			for l, text := range []string{th.Muted.Render(t.label), value, note} {
				lines[l].WriteString(edge + fit(text, inner) + " ")
			}
		}
		row := make([]string, tileHeight)
		for l := range lines {
			row[l] = lines[l].String()
		}
		rows = append(rows, strings.Join(row, "\n"))
	}
	return strings.Join(rows, "\n")
}

// widthOf is the printed width of a styled string.
func widthOf(s string) int { return lipgloss.Width(s) }
