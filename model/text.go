package model

import (
	"fmt"
	"unicode"
)

// ControlRune returns the first character of s that a terminal acts on
// instead of showing: the C0 controls (ESC starts an escape sequence), DEL
// and the C1 controls (U+009B is a CSI of its own). Text from imports,
// inbound events and forms ends up on every operator's screen, so none of
// it may carry them. With lines, newline and tab are allowed (a note, a
// message body).
func ControlRune(s string, lines bool) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) && !(lines && (r == '\n' || r == '\t')) {
			return r, true
		}
	}
	return 0, false
}

// plain adds a problem if v holds a control character; lines does the
// same for text of several lines.
func (p *problems) plain(field, v string) { p.control(field, v, false) }
func (p *problems) lines(field, v string) { p.control(field, v, true) }

func (p *problems) control(field, v string, lines bool) {
	if r, ok := ControlRune(v, lines); ok {
		p.add(field, "contains the control character %s; text shown on operators' screens may not hold one", controlName(r))
	}
}

// controlName names a control character: "U+001B (escape)".
func controlName(r rune) string {
	names := map[rune]string{0: "NUL", '\t': "tab", '\n': "line break", '\r': "carriage return", 0x1b: "escape", 0x7f: "delete", 0x9b: "CSI"}
	if n, ok := names[r]; ok {
		return fmt.Sprintf("%U (%s)", r, n)
	}
	return fmt.Sprintf("%U", r)
}
