package cellwidth

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/stretchr/testify/require"
)

// Every rune Narrow accepts is one cell wide for ansi.StringWidth, alone and
// between ASCII letters (so it neither joins nor is joined).
func TestNarrowAgreesWithStringWidth(t *testing.T) {
	accepted := 0
	for r := rune(0); r < 0x3000; r++ {
		if !Narrow(r) {
			continue
		}
		accepted++
		require.Equal(t, 1, ansi.StringWidth(string(r)), "U+%04X %q alone", r, r)
		require.Equal(t, 3, ansi.StringWidth("a"+string(r)+"b"), "U+%04X %q between letters", r, r)
	}
	require.Greater(t, accepted, 1000, "the fast path covers the common scripts")
}

// Random strings of accepted runes, neighbours of each other, with colours:
// Fast always agrees with ansi.StringWidth.
func TestFastAgreesOnRandomStrings(t *testing.T) {
	var pool []rune
	for r := rune(0x20); r < 0x3000; r++ {
		if Narrow(r) {
			pool = append(pool, r)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(30) {
			if rng.IntN(8) == 0 {
				b.WriteString("\x1b[38;5;" + string(rune('0'+rng.IntN(10))) + "m")
			}
			b.WriteRune(pool[rng.IntN(len(pool))])
		}
		s := b.String()
		n, ok := Fast(s)
		require.True(t, ok, "%q", s)
		require.Equal(t, ansi.StringWidth(s), n, "%q", s)
	}
}

// Anything outside the fast path is measured by the general one.
func TestWidthFallsBack(t *testing.T) {
	for _, s := range []string{
		"",
		"plain",
		"\x1b[1mMüller\x1b[0m · €12 …",
		"e\u0301",                              // combining accent
		"日本",                                   // wide
		"✅ done",                               // emoji
		"⚠\ufe0f",                              // emoji presentation
		"a\u200bb",                             // zero-width space
		"\x1b]8;;http://x\x07link\x1b]8;;\x07", // OSC hyperlink
		"tab\tstop",
		"\x1b[", // cut escape
	} {
		require.Equal(t, ansi.StringWidth(s), Width(s), "%q", s)
	}
	_, ok := Fast("日本")
	require.False(t, ok)
}

func BenchmarkWidth(b *testing.B) {
	line := "\x1b[1mJörn Albrecht\x1b[0m           j.albrecht@gmx.de         2026-10-17        €0 post     Bonn … ▁▂▃█"
	b.Run("cellwidth", func(b *testing.B) {
		for b.Loop() {
			Width(line)
		}
	})
	b.Run("ansi", func(b *testing.B) {
		for b.Loop() {
			ansi.StringWidth(line)
		}
	})
}
