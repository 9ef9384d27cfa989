// Package cellwidth measures the display width of the text the screens draw
// most — Latin script, punctuation, currency, arrows, box drawing, blocks and
// braille, styled with SGR colours — without grapheme segmentation.
//
// The screens measure every visible line on every frame, and with many SSH
// sessions that adds up: ansi.StringWidth segments each string into grapheme
// clusters, which costs about ten times more than counting runes. Fast
// answers only for strings made entirely of runes that are one cell wide and
// can never join a neighbour into one grapheme; anything else (CJK, emoji,
// combining marks, zero-width characters, OSC sequences) is left to the
// general path, so the result always equals ansi.StringWidth.
package cellwidth

import (
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Width is the display width of s in terminal cells, escape sequences
// counting as zero; it equals ansi.StringWidth(s).
func Width(s string) int {
	if n, ok := Fast(s); ok {
		return n
	}
	return ansi.StringWidth(s)
}

// Fast counts s when every rune is a single-cell rune that starts its own
// grapheme and every escape sequence is a CSI sequence (colours, styles);
// ok is false for anything else.
func Fast(s string) (n int, ok bool) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f:
			n++
			i++
		case c == 0x1b:
			if i+1 >= len(s) || s[i+1] != '[' {
				return 0, false
			}
			// CSI: parameter and intermediate bytes, then a final byte.
			i += 2
			for i < len(s) && (s[i] < 0x40 || s[i] > 0x7e) {
				if s[i] < 0x20 || s[i] >= 0x80 {
					return 0, false
				}
				i++
			}
			if i >= len(s) {
				return 0, false
			}
			i++
		case c >= 0x80:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !Narrow(r) {
				return 0, false
			}
			n++
			i += size
		default: // control characters
			return 0, false
		}
	}
	return n, true
}

// Narrow reports whether r is one cell wide and always a grapheme of its
// own: no combining mark, joiner, variation selector or emoji among them.
// The ranges are checked rune by rune against ansi.StringWidth in the tests.
func Narrow(r rune) bool {
	switch {
	case r < 0x20:
		return false
	case r < 0x7f:
		return true
	case r < 0xa0:
		return false
	case r < 0x300:
		return r != 0xad // soft hyphen: zero wide
	case r < 0x2010:
		return false
	case r <= 0x2027: // dashes, quotes, daggers, bullet, ellipsis
		return true
	case r < 0x2030:
		return false
	case r <= 0x205e: // per mille, primes, guillemets …
		return r != 0x203c && r != 0x2049 // ‼ ⁉ have emoji forms
	case r < 0x20a0:
		return false
	case r <= 0x20c0: // currency: € ₺ …
		return true
	case r < 0x2190:
		return false
	case r <= 0x21ff: // arrows
		return !(r >= 0x2194 && r <= 0x2199) && r != 0x21a9 && r != 0x21aa // emoji forms
	case r < 0x2500:
		return false
	case r <= 0x259f: // box drawing, block elements
		return true
	case r <= 0x25ff: // geometric shapes, without those with emoji forms
		return r != 0x25aa && r != 0x25ab && r != 0x25b6 && r != 0x25c0 && (r < 0x25fb || r > 0x25fe)
	case r < 0x2800:
		return r == 0x2713 || r == 0x2717 // ✓ ✗
	case r <= 0x28ff: // braille (sparklines, charts)
		return true
	}
	return false
}
