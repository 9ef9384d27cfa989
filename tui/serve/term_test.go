package serve

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/charmbracelet/x/ansi"
)

// screen is a small terminal emulator for the tests: it applies what the
// server writes (text, cursor movement, erasing, scrolling, insert and
// delete) to a grid of cells, so a test can read the screen the way the
// user's terminal shows it, however the renderer chose to update it.
// Colours and other attributes are ignored.
type screen struct {
	mu     sync.Mutex
	w, h   int
	cells  [][]rune
	x, y   int
	top    int // scroll region, inclusive
	bottom int
	wrap   bool // autowrap (DECAWM)
	insert bool // insert mode (IRM)
	saved  [2]int
	last   rune
	// pending is set after writing the last column: the next printable
	// character wraps first (how VT terminals behave).
	pending bool
	parser  *ansi.Parser
	changed *sync.Cond
	bytes   int64
}

func newScreen(w, h int) *screen {
	s := &screen{w: w, h: h, wrap: true, bottom: h - 1}
	s.changed = sync.NewCond(&s.mu)
	s.cells = make([][]rune, h)
	for i := range s.cells {
		s.cells[i] = blankLine(w)
	}
	s.parser = ansi.NewParser()
	s.parser.SetParamsSize(32)
	s.parser.SetDataSize(4096)
	s.parser.SetHandler(ansi.Handler{
		Print:     s.print,
		Execute:   s.execute,
		HandleCsi: s.csi,
		HandleEsc: s.esc,
	})
	return s
}

func blankLine(w int) []rune {
	l := make([]rune, w)
	for i := range l {
		l[i] = ' '
	}
	return l
}

// Write feeds output from the server.
func (s *screen) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.parser.Parse(b)
	s.bytes += int64(len(b))
	s.changed.Broadcast()
	return len(b), nil
}

// Text returns the screen, lines with trailing spaces trimmed.
func (s *screen) Text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.text()
}

func (s *screen) text() string {
	lines := make([]string, s.h)
	for i, l := range s.cells {
		// Drop the second cell of wide characters (stored as 0).
		lines[i] = strings.TrimRight(strings.ReplaceAll(string(l), "\x00", ""), " ")
	}
	return strings.Join(lines, "\n")
}

func (s *screen) clamp() {
	s.x = min(max(s.x, 0), s.w-1)
	s.y = min(max(s.y, 0), s.h-1)
}

func (s *screen) print(r rune) {
	width := ansi.StringWidth(string(r))
	if width == 0 {
		return
	}
	if s.pending {
		s.pending = false
		if s.wrap {
			s.x = 0
			s.lineFeed()
		}
	}
	if s.insert {
		line := s.cells[s.y]
		copy(line[s.x+width:], line[s.x:])
	}
	s.cells[s.y][s.x] = r
	if width == 2 && s.x+1 < s.w {
		s.cells[s.y][s.x+1] = 0
	}
	s.last = r
	if s.x+width >= s.w {
		s.x = s.w - 1
		s.pending = true
		return
	}
	s.x += width
}

func (s *screen) execute(b byte) {
	s.pending = false
	switch b {
	case '\r':
		s.x = 0
	case '\n', '\v', '\f':
		s.lineFeed()
	case '\b':
		s.x = max(s.x-1, 0)
	case '\t':
		s.x = min((s.x/8+1)*8, s.w-1)
	}
}

func (s *screen) lineFeed() {
	if s.y == s.bottom {
		s.scrollUp(1)
		return
	}
	s.y = min(s.y+1, s.h-1)
}

func (s *screen) scrollUp(n int) {
	for range n {
		copy(s.cells[s.top:s.bottom], s.cells[s.top+1:s.bottom+1])
		s.cells[s.bottom] = blankLine(s.w)
	}
}

func (s *screen) scrollDown(n int) {
	for range n {
		copy(s.cells[s.top+1:s.bottom+1], s.cells[s.top:s.bottom])
		s.cells[s.top] = blankLine(s.w)
	}
}

func (s *screen) esc(cmd ansi.Cmd) {
	s.pending = false
	switch cmd.Final() {
	case 'M': // reverse index
		if s.y == s.top {
			s.scrollDown(1)
		} else {
			s.y = max(s.y-1, 0)
		}
	case 'D':
		s.lineFeed()
	case 'E':
		s.x = 0
		s.lineFeed()
	case '7':
		s.saved = [2]int{s.x, s.y}
	case '8':
		s.x, s.y = s.saved[0], s.saved[1]
	}
}

func (s *screen) csi(cmd ansi.Cmd, params ansi.Params) {
	s.pending = false
	p := func(i, def int) int {
		v, _, ok := params.Param(i, def)
		if !ok || v == 0 {
			return def
		}
		return v
	}
	p0 := func(i int) int {
		v, _, _ := params.Param(i, 0)
		return v
	}
	if cmd.Prefix() == '?' {
		on := cmd.Final() == 'h'
		for i := range params {
			switch p0(i) {
			case 7:
				s.wrap = on
			case 1049, 1047, 47:
				for y := range s.cells {
					s.cells[y] = blankLine(s.w)
				}
			}
		}
		return
	}
	if cmd.Prefix() != 0 || cmd.Intermediate() != 0 {
		return
	}
	switch cmd.Final() {
	case 'A':
		s.y -= p(0, 1)
	case 'B':
		s.y += p(0, 1)
	case 'C':
		s.x += p(0, 1)
	case 'D':
		s.x -= p(0, 1)
	case 'E':
		s.x, s.y = 0, s.y+p(0, 1)
	case 'F':
		s.x, s.y = 0, s.y-p(0, 1)
	case 'G', '`':
		s.x = p(0, 1) - 1
	case 'd':
		s.y = p(0, 1) - 1
	case 'H', 'f':
		s.y, s.x = p(0, 1)-1, p(1, 1)-1
	case 'I':
		s.x = min((s.x/8+p(0, 1))*8, s.w-1)
	case 'Z':
		s.x = max((s.x-1)/8*8-(p(0, 1)-1)*8, 0)
	case 'J':
		switch p0(0) {
		case 0:
			s.eraseLine(s.y, s.x, s.w)
			for y := s.y + 1; y < s.h; y++ {
				s.cells[y] = blankLine(s.w)
			}
		case 1:
			for y := 0; y < s.y; y++ {
				s.cells[y] = blankLine(s.w)
			}
			s.eraseLine(s.y, 0, s.x+1)
		case 2, 3:
			for y := range s.cells {
				s.cells[y] = blankLine(s.w)
			}
		}
	case 'K':
		switch p0(0) {
		case 0:
			s.eraseLine(s.y, s.x, s.w)
		case 1:
			s.eraseLine(s.y, 0, s.x+1)
		case 2:
			s.eraseLine(s.y, 0, s.w)
		}
	case 'X':
		s.eraseLine(s.y, s.x, s.x+p(0, 1))
	case '@':
		n := min(p(0, 1), s.w-s.x)
		line := s.cells[s.y]
		copy(line[s.x+n:], line[s.x:])
		for i := s.x; i < s.x+n; i++ {
			line[i] = ' '
		}
	case 'P':
		n := min(p(0, 1), s.w-s.x)
		line := s.cells[s.y]
		copy(line[s.x:], line[s.x+n:])
		for i := s.w - n; i < s.w; i++ {
			line[i] = ' '
		}
	case 'L':
		if s.y >= s.top && s.y <= s.bottom {
			top := s.top
			s.top = s.y
			s.scrollDown(p(0, 1))
			s.top = top
		}
	case 'M':
		if s.y >= s.top && s.y <= s.bottom {
			top := s.top
			s.top = s.y
			s.scrollUp(p(0, 1))
			s.top = top
		}
	case 'S':
		s.scrollUp(p(0, 1))
	case 'T':
		s.scrollDown(p(0, 1))
	case 'b':
		for range p(0, 1) {
			s.print(s.last)
		}
	case 'r':
		s.top, s.bottom = p(0, 1)-1, p(1, s.h)-1
		if s.top >= s.bottom || s.bottom >= s.h {
			s.top, s.bottom = 0, s.h-1
		}
		s.x, s.y = 0, 0
	case 'h', 'l':
		for i := range params {
			if p0(i) == 4 {
				s.insert = cmd.Final() == 'h'
			}
		}
	}
	s.clamp()
}

func (s *screen) eraseLine(y, from, to int) {
	from, to = max(from, 0), min(to, s.w)
	for x := from; x < to; x++ {
		s.cells[y][x] = ' '
	}
}

// The emulator the session tests read screens through must apply what a
// renderer writes the way a terminal does.
func TestScreenAppliesTerminalOutput(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"text and new lines", "ab\r\ncd", "ab\ncd\n"},
		{"cursor position and overwrite", "hello\x1b[1;2HEY", "hEYlo\n\n"},
		{"erase to the end of the line", "hello\x1b[1;3H\x1b[K", "he\n\n"},
		{"wrap after the last column", "abcdefg", "abcde\nfg\n"},
		{"scroll at the bottom", "1\r\n2\r\n3\r\n4", "2\n3\n4"},
		{"wide characters take two cells", "日本", "日本\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScreen(5, 3)
			_, err := s.Write([]byte(tc.in))
			require.NoError(t, err)
			require.Equal(t, tc.want, s.Text())
		})
	}
}
