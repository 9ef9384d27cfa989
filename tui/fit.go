package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"karton/tui/internal/cellwidth"
)

// fitBlock makes s exactly w cells wide and h lines high: long lines are
// cut, short ones padded with spaces, missing lines added, extra ones
// dropped. Boxes already draw their exact size, so this only enforces it;
// unlike a lipgloss style with Width and Height it does not re-wrap and
// re-align every line, which cost most of a frame (View runs after every
// message, in every SSH session).
func fitBlock(s string, w, h int) string {
	lines := strings.SplitN(s, "\n", h+1)
	if len(lines) > h {
		lines = lines[:h]
	}
	var b strings.Builder
	b.Grow(h * (w + 1))
	for i := range h {
		if i > 0 {
			b.WriteByte('\n')
		}
		line := ""
		if i < len(lines) {
			line = lines[i]
		}
		b.WriteString(fitLine(line, w))
	}
	return b.String()
}

// fitLine cuts or pads one line to w cells.
func fitLine(line string, w int) string {
	lw := cellwidth.Width(line)
	if lw > w {
		// A wide character across the edge is dropped whole, which may
		// leave the line a cell short.
		line = ansi.Truncate(line, w, "")
		lw = cellwidth.Width(line)
	}
	if lw < w {
		line += strings.Repeat(" ", w-lw)
	}
	return line
}
