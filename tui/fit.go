package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
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
	lw := asciiWidth(line)
	if lw < 0 {
		lw = ansi.StringWidth(line)
	}
	if lw > w {
		// A wide character across the edge is dropped whole, which may
		// leave the line a cell short.
		line = ansi.Truncate(line, w, "")
		lw = ansi.StringWidth(line)
	}
	if lw < w {
		line += strings.Repeat(" ", w-lw)
	}
	return line
}

// asciiWidth measures a line of ASCII text styled with CSI sequences (SGR
// colours), the common case, without the grapheme segmentation that
// ansi.StringWidth does for every character; it returns -1 for anything
// else.
func asciiWidth(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0x1b:
			if i+1 >= len(s) || s[i+1] != '[' {
				return -1
			}
			// CSI: parameter and intermediate bytes, then a final byte.
			i += 2
			for i < len(s) && (s[i] < 0x40 || s[i] > 0x7e) {
				if s[i] < 0x20 || s[i] >= 0x80 {
					return -1
				}
				i++
			}
			if i >= len(s) {
				return -1
			}
		case c < 0x20 || c >= 0x7f:
			return -1
		default:
			n++
		}
	}
	return n
}
