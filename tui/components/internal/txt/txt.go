// Package txt holds the small text helpers the components share: fitting a
// possibly styled string into a fixed number of terminal cells, and
// formatting numbers the way the screens show them.
//
// Widths are display widths (an umlaut is one cell, a CJK character two) and
// ANSI escape sequences count as zero, so pre-styled cells such as a coloured
// sparkline fit like plain text.
package txt

import (
	"math"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"karton/tui/internal/cellwidth"
)

// Ellipsis ends every string cut short.
const Ellipsis = "…"

// Align says on which side of a cell the text sits.
type Align int

const (
	// Left aligns text to the left edge; the default, for words.
	Left Align = iota
	// Right aligns text to the right edge, for numbers.
	Right
	// Center centres text, for headings and buttons.
	Center
)

// Width is the display width of s in terminal cells.
func Width(s string) int {
	return cellwidth.Width(s)
}

// Truncate cuts s to at most w cells, ending with an ellipsis when it cut.
func Truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if Width(s) <= w {
		return s
	}
	if w == 1 {
		return Ellipsis
	}
	return ansi.Truncate(s, w, Ellipsis)
}

// TruncateLeft cuts s to at most w cells by dropping its start, for paths
// whose end is the part worth reading.
func TruncateLeft(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := Width(s)
	if sw <= w {
		return s
	}
	if w == 1 {
		return Ellipsis
	}
	return ansi.TruncateLeft(s, sw-w+1, Ellipsis)
}

// Fit returns s truncated and padded to exactly w cells.
func Fit(s string, w int, a Align) string {
	if w <= 0 {
		return ""
	}
	sw := Width(s)
	if sw > w {
		s = Truncate(s, w)
		sw = Width(s)
	}
	gap := w - sw
	if gap <= 0 {
		return s
	}
	switch a {
	case Right:
		return spaces(gap) + s
	case Center:
		l := gap / 2
		return spaces(l) + s + spaces(gap-l)
	default:
		return s + spaces(gap)
	}
}

// blanks serves short runs of spaces without allocating.
const blanks = "                                                                                "

func spaces(n int) string {
	if n <= len(blanks) {
		return blanks[:n]
	}
	return strings.Repeat(" ", n)
}

// Int formats n with a comma between thousands: 1000000 → "1,000,000".
func Int(n int64) string {
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, d := range []byte(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(d)
	}
	return b.String()
}

// Compact formats v in at most about five characters for axes and bar
// values: 950, 1.2k, 34k, 5.6M, 7.8B. Fractions below 10 keep one decimal.
func Compact(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "-∞"
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	units := []struct {
		div    float64
		suffix string
	}{{1e9, "B"}, {1e6, "M"}, {1e3, "k"}}
	for _, u := range units {
		if v >= u.div*0.9995 {
			return sign + short(v/u.div) + u.suffix
		}
	}
	return sign + short(v)
}

func short(v float64) string {
	if v < 10 && v != math.Trunc(v) {
		s := strconv.FormatFloat(v, 'f', 1, 64)
		return strings.TrimSuffix(s, ".0")
	}
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
}

// Paint wraps s in the escape sequences of style without lipgloss' layout
// work: Style.Render measures, wraps and pads every line it is given, which
// costs more than the drawing itself for long runs of block characters. Use
// it only for styles that set colours and attributes, never size, padding or
// borders, and for single-line s. In loops, build a Painter once instead.
func Paint(style lipgloss.Style, s string) string {
	return NewPainter(style).Paint(s)
}

// Painter is a style reduced to the escape sequences around its text.
type Painter struct{ on, off string }

// NewPainter captures style's escape sequences (see Paint for which styles
// qualify).
func NewPainter(style lipgloss.Style) Painter {
	probe := style.Render("x")
	i := strings.IndexByte(probe, 'x')
	if i < 0 {
		return Painter{}
	}
	return Painter{on: probe[:i], off: probe[i+1:]}
}

// Paint wraps s; an empty s stays empty.
func (p Painter) Paint(s string) string {
	if s == "" || p.on == "" {
		return s
	}
	return p.on + s + p.off
}

// On returns the sequence that turns the style on ("" for a plain style).
func (p Painter) On() string { return p.on }

// Off returns the sequence that turns the style off.
func (p Painter) Off() string { return p.off }

// Resume re-applies the style after every reset inside s, for pre-styled
// text placed inside styled text: without it a coloured sparkline would end
// the selected row's background at its first reset.
func (p Painter) Resume(s string) string {
	if p.on == "" || !strings.Contains(s, "\x1b[") {
		return s
	}
	s = strings.ReplaceAll(s, "\x1b[0m", "\x1b[m")
	return strings.ReplaceAll(s, "\x1b[m", "\x1b[m"+p.on)
}
