package keys

import (
	"testing"

	"charm.land/bubbles/v2/help"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
)

// TestHelpGolden pins the footer and the help screen generated from the
// bindings at 80 columns, so a changed key or description shows up in
// review.
func TestHelpGolden(t *testing.T) {
	h := help.New()
	h.SetWidth(80)
	t.Run("short", func(t *testing.T) { golden.RequireEqual(t, ansi.Strip(h.View(New()))) })
	h.ShowAll = true
	t.Run("full", func(t *testing.T) { golden.RequireEqual(t, ansi.Strip(h.View(New()))) })
}
