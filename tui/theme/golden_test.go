package theme

import (
	"sort"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"
)

// TestSwatchGolden renders every style of both themes, one per line, so a
// palette change shows up in review as a diff of exact colours. View the
// file in a terminal (cat) to see the colours themselves.
func TestSwatchGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		th   *Theme
	}{
		{"dark", New(true)},
		{"light", New(false)},
		{"no_color", New(true).WithoutColor()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := styles(tc.th)
			names := make([]string, 0, len(all))
			for n := range all {
				names = append(names, n)
			}
			sort.Strings(names)
			var b strings.Builder
			for _, n := range names {
				b.WriteString(all[n].Render(n))
				b.WriteString("\n")
			}
			for i := range tc.th.Palette.Series {
				b.WriteString(tc.th.SeriesStyle(i).Render("series ███"))
				b.WriteString("\n")
			}
			golden.RequireEqual(t, b.String())
		})
	}
}
