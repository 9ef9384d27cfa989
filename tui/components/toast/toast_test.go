package toast

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/tui/keys"
	"karton/tui/theme"
)

func newStack(opts ...Option) *Stack {
	s := New(theme.New(true).WithoutColor(), keys.New(), opts...)
	s.SetSize(80, 24)
	return s
}

var esc = tea.KeyPressMsg{Code: tea.KeyEscape}

func TestInfoExpires(t *testing.T) {
	s := newStack()
	cmd := s.Info("Saved campaign Spring Sale")
	require.NotNil(t, cmd, "info returns its expiry timer")
	require.Len(t, s.Items(), 1)
	id := s.Items()[0].ID

	s.Update(ExpiredMsg{ID: id + 99})
	assert.Equal(t, 1, s.Len(), "someone else's expiry")
	s.Update(ExpiredMsg{ID: id})
	assert.Equal(t, 0, s.Len())
	assert.Empty(t, s.View())
}

func TestErrorsStayUntilDismissed(t *testing.T) {
	s := newStack()
	assert.Nil(t, s.Error("Import customers.csv", fmt.Errorf("line 12: %w", errors.New("invalid email \"anna@\""))), "errors have no timer")
	s.Info("Backup written")
	require.True(t, s.HasErrors())

	v := ansi.Strip(s.View())
	assert.Contains(t, v, "Import customers.csv failed")
	assert.Contains(t, v, `line 12: invalid email "anna@"`)

	// esc removes the error first, even though the info is newer.
	s.Update(esc)
	assert.False(t, s.HasErrors())
	assert.Equal(t, "Backup written", s.Items()[0].Title)
	assert.True(t, s.Dismiss())
	assert.False(t, s.Dismiss(), "nothing left")
	s.Update(esc)
	assert.Equal(t, 0, s.Len())
}

func TestErrorWithoutCause(t *testing.T) {
	s := newStack()
	s.Error("Launch", nil)
	assert.Equal(t, Toast{ID: 1, Kind: Error, Title: "Launch failed"}, s.Items()[0])
}

func TestRepeatsReplaceAndStackIsBounded(t *testing.T) {
	s := newStack(WithMax(3))
	s.Error("Send", errors.New("timeout"))
	s.Error("Send", errors.New("timeout"))
	assert.Equal(t, 1, s.Len(), "identical error shown once")

	s.Info("a")
	s.Info("b")
	s.Info("c")
	titles := func() []string {
		var out []string
		for _, t := range s.Items() {
			out = append(out, t.Title)
		}
		return out
	}
	assert.Equal(t, []string{"Send failed", "b", "c"}, titles(), "oldest info evicted before the error")

	s.Error("x", nil)
	s.Error("y", nil)
	s.Error("z", nil)
	assert.Equal(t, []string{"x failed", "y failed", "z failed"}, titles())
}

func TestClickDismisses(t *testing.T) {
	s := newStack()
	s.SetOrigin(30, 10)
	s.Error("First", errors.New("one"))
	s.Error("Second", errors.New("two"))
	// Each box is a frame (2 lines) around a title and a text line: 4 lines.
	id, ok := s.HitTest(31, 10+5)
	require.True(t, ok)
	assert.Equal(t, s.Items()[1].ID, id)
	_, ok = s.HitTest(29, 11)
	assert.False(t, ok)
	_, ok = s.HitTest(31, 10+8)
	assert.False(t, ok)

	s.Update(tea.MouseClickMsg{X: 31, Y: 11, Button: tea.MouseLeft})
	require.Equal(t, 1, s.Len())
	assert.Equal(t, "Second failed", s.Items()[0].Title)
	s.Update(tea.MouseClickMsg{X: 31, Y: 11, Button: tea.MouseRight})
	assert.Equal(t, 1, s.Len())
}

func TestLayoutFitsWidth(t *testing.T) {
	s := newStack()
	s.Error("Import of a file with a very long name indeed.csv", errors.New(strings.Repeat("reason ", 20)))
	for _, w := range []int{80, 30, 12} {
		s.SetSize(w, 24)
		for _, l := range strings.Split(s.View(), "\n") {
			assert.LessOrEqual(t, ansi.StringWidth(l), min(w, 48))
		}
	}
	s.SetSize(5, 24)
	assert.Empty(t, s.View(), "no room")
}

func TestHelpOnlyWhileShown(t *testing.T) {
	s := newStack()
	assert.Nil(t, s.ShortHelp())
	assert.Nil(t, s.FullHelp())
	s.Info("x")
	require.Len(t, s.ShortHelp(), 1)
	assert.Equal(t, "dismiss", s.ShortHelp()[0].Help().Desc)
	s.SetTheme(theme.New(false))
	assert.NotEmpty(t, s.View())
}

func TestViewGolden(t *testing.T) {
	for _, w := range []int{80, 32} {
		t.Run(fmt.Sprintf("w%d", w), func(t *testing.T) {
			s := newStack()
			s.SetSize(w, 24)
			s.Info("Saved campaign Spring Sale")
			s.Error("Import customers.csv", errors.New(`line 12: invalid email "anna@": missing domain`))
			golden.RequireEqual(t, s.View())
		})
	}
}
