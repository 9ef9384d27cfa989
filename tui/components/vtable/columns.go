package vtable

import "karton/tui/components/internal/txt"

// Align places a cell's text within its column.
type Align = txt.Align

// Alignments for Column.Align.
const (
	AlignLeft  = txt.Left
	AlignRight = txt.Right // numbers, so digits line up
)

// Column describes one column.
type Column struct {
	Title string
	// Width is the least number of cells the column gets; 0 means the
	// title's width.
	Width int
	// Flex is the column's share of the room left after every column has
	// its Width. Columns with Flex 0 keep exactly their Width.
	Flex  int
	Align Align
}

// columnGap is the number of blank cells between two columns.
const columnGap = 1

// layoutColumns computes the width of every column for a table width total.
// Columns are kept from the left while their minimum widths fit; the rest get
// width 0 and are not drawn, because a column squeezed below its minimum is
// unreadable anyway. The room left over is shared by Flex weight, or given to
// the last shown column when no column flexes, so rows always fill the width.
func layoutColumns(cols []Column, total int) []int {
	widths := make([]int, len(cols))
	if len(cols) == 0 || total <= 0 {
		return widths
	}
	used, shown := 0, 0
	for i, c := range cols {
		need := minWidth(c)
		if i > 0 {
			need += columnGap
		}
		if used+need > total {
			break
		}
		widths[i] = minWidth(c)
		used += need
		shown++
	}
	if shown == 0 {
		// Not even the first column fits: give it all there is.
		widths[0] = total
		return widths
	}
	extra := total - used
	flexSum := 0
	for i := range shown {
		flexSum += max(cols[i].Flex, 0)
	}
	if flexSum == 0 {
		widths[shown-1] += extra
		return widths
	}
	lastFlex, given := 0, 0
	for i := range shown {
		if f := max(cols[i].Flex, 0); f > 0 {
			share := extra * f / flexSum
			widths[i] += share
			given += share
			lastFlex = i
		}
	}
	widths[lastFlex] += extra - given
	return widths
}

func minWidth(c Column) int {
	if c.Width > 0 {
		return c.Width
	}
	return max(txt.Width(c.Title), 1)
}
