package vtable

import (
	"math/rand/v2"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/stretchr/testify/require"

	"karton/tui/keys"
	"karton/tui/theme"
)

// TestRandomWalkKeepsInvariants drives tables of several sizes, with known
// and unknown totals, through random keys, wheel events, clicks, reloads and
// resets, delivering replies late, out of order or not at all. After every
// step the window stays within its cap and the cursor stays visible; once
// every reply is in, every visible row is the row its position claims.
func TestRandomWalkKeepsInvariants(t *testing.T) {
	keyNames := []string{"j", "k", "j", "j", "k", "g", "G", "ctrl+d", "ctrl+u", "pgdown", "pgup"}
	for _, n := range []uint64{0, 1, 7, 60, 151, 5_000, million} {
		for _, knownTotal := range []bool{true, false} {
			rng := rand.New(rand.NewPCG(n, 7))
			f := &fakeStore{n: n}
			tbl := New("t", theme.New(true).WithoutColor(), keys.New(), f.fetch, WithPageSize(20))
			tbl.SetColumns(testColumns)
			tbl.SetSize(60, 3+rng.IntN(20))
			if knownTotal {
				tbl.SetTotal(int(n))
			}
			tbl.Focus()
			var inflight []tea.Cmd
			queue := func(c tea.Cmd) {
				if c != nil {
					inflight = append(inflight, c)
				}
			}
			queue(tbl.Init())
			for step := range 400 {
				switch r := rng.IntN(20); {
				case r < 12:
					queue(tbl.Update(press(keyNames[rng.IntN(len(keyNames))])))
				case r < 13:
					queue(tbl.Update(tea.MouseWheelMsg{X: 1, Y: 2, Button: tea.MouseWheelDown}))
				case r < 14:
					queue(tbl.Update(tea.MouseClickMsg{X: 1, Y: 1 + rng.IntN(tbl.height), Button: tea.MouseLeft}))
				case r < 15:
					queue(tbl.Reload())
				case r < 16 && step%50 == 0:
					queue(tbl.Reset())
				case r < 17:
					tbl.SetSize(60, 3+rng.IntN(20))
				default:
					// Deliver one reply, not always the oldest.
					if len(inflight) > 0 {
						i := rng.IntN(len(inflight))
						c := inflight[i]
						inflight = append(inflight[:i], inflight[i+1:]...)
						queue(tbl.Update(c()))
					}
				}
				require.LessOrEqual(t, len(tbl.buf), tbl.capacity(), "n=%d step %d", n, step)
				if lo, hi := tbl.bounds(); hi >= lo {
					require.GreaterOrEqual(t, tbl.Cursor(), tbl.Offset(), "n=%d step %d", n, step)
					require.Less(t, tbl.Cursor(), tbl.Offset()+tbl.visibleCount(), "n=%d step %d", n, step)
				}
			}
			// Let everything settle: deliver until nothing is in flight.
			for len(inflight) > 0 {
				c := inflight[0]
				inflight = inflight[1:]
				queue(tbl.Update(c()))
			}
			queue(tbl.Init())
			for len(inflight) > 0 {
				c := inflight[0]
				inflight = inflight[1:]
				queue(tbl.Update(c()))
			}
			if n == 0 {
				_, ok := tbl.Selected()
				require.False(t, ok)
				continue
			}
			row, ok := tbl.Selected()
			require.True(t, ok, "n=%d known=%v: cursor row loaded after settling", n, knownTotal)
			if tbl.originKnown {
				require.Equal(t, uint64(tbl.Cursor()), decodeKey(row.Key), "n=%d known=%v", n, knownTotal)
				visible := tbl.VisibleRows()
				require.Len(t, visible, min(tbl.visibleCount(), int(n)-tbl.Offset()), "every visible row is loaded")
				for i, r := range visible {
					require.Equal(t, uint64(tbl.Offset()+i), decodeKey(r.Key))
				}
			} else {
				// Numbered from the end: -1 is the last row.
				require.Equal(t, int64(n)+int64(tbl.Cursor()), int64(decodeKey(row.Key)))
			}
			if tbl.Total() >= 0 {
				require.Equal(t, int(n), tbl.Total())
			}
		}
	}
}
