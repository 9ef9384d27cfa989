package vtable

import (
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"karton/tui/keys"
	"karton/tui/theme"
)

// Goldens render with the colourless theme so they hold only text and the
// attributes that mark state (reverse for the cursor row, bold header);
// regenerate with: go test ./tui/components/vtable -update
func TestViewGolden(t *testing.T) {
	names := []string{"Müller, Jürgen", "Øresund Ærø", "東京 株式会社 営業部", "O'Brien & Söhne GmbH", "Ω"}
	unicodeCells := func(i uint64) []string {
		return []string{fmt.Sprintf("%d", i), names[i%uint64(len(names))], fmt.Sprintf("%d €", i*1234)}
	}
	tests := []struct {
		name  string
		n     uint64
		w, h  int
		setup func(tbl *Table, f *fakeStore)
	}{
		{"start", million, 80, 12, nil},
		{"after_j_and_ctrl_d", million, 80, 12, func(tbl *Table, _ *fakeStore) {
			send(tbl, press("j"))
			send(tbl, press("ctrl+d"))
		}},
		{"end", million, 80, 12, func(tbl *Table, _ *fakeStore) { send(tbl, press("G")) }},
		{"loading_after_G", million, 80, 12, func(tbl *Table, _ *fakeStore) {
			tbl.Update(press("G")) // the reply never arrives
		}},
		{"unicode_truncated", 100, 34, 8, func(tbl *Table, f *fakeStore) {
			f.cells = unicodeCells
			run(tbl, tbl.Reset())
		}},
		{"narrow_drops_columns", million, 24, 6, nil},
		{"blurred", million, 80, 6, func(tbl *Table, _ *fakeStore) {
			send(tbl, press("j"))
			tbl.Blur()
		}},
		{"empty", 0, 80, 6, nil},
		{"fetch_failed", million, 80, 8, func(tbl *Table, f *fakeStore) {
			f.fail = errStoreClosed
			send(tbl, press("G"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tbl, f := newTestTable(tc.n, tc.w, tc.h)
			if tc.setup != nil {
				tc.setup(tbl, f)
			}
			golden.RequireEqual(t, tbl.View())
		})
	}
}

// One coloured screen shows that colour output is stable too: lipgloss v2
// renders the theme's colours as given, and downsampling to the terminal's
// profile happens later, in the Bubble Tea renderer.
func TestViewGoldenColour(t *testing.T) {
	f := &fakeStore{n: 1000}
	tbl := New("customers", theme.New(true), keys.New(), f.fetch)
	tbl.SetColumns(testColumns)
	tbl.SetSize(60, 6)
	tbl.SetTotal(1000)
	tbl.Focus()
	run(tbl, tbl.Init())
	send(tbl, tea.KeyPressMsg{Code: 'j', Text: "j"})
	golden.RequireEqual(t, tbl.View())
}
