// Package screentest holds what the cockpit's screen tests share: a small
// deterministic demo store, a fixed clock, and a runner that drives a model
// through teatest and compares the final screen with a golden file.
//
// Goldens hold the screen as text (ANSI stripped) at a fixed size and with
// the colourless theme, so they are readable in review and stable across
// terminals; `go test ./tui/... -update` rewrites them.
package screentest

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/store/demo"
)

// AsOf is the fixed "today" of every screen test.
var AsOf = time.Date(2026, 3, 15, 9, 30, 0, 0, time.UTC)

// Now is the fixed clock matching AsOf.
func Now() time.Time { return AsOf }

// DemoStore builds a demo store with n customers (seed 7) in a temp dir.
func DemoStore(tb testing.TB, n int) *store.Store {
	tb.Helper()
	s, err := store.Open(filepath.Join(tb.TempDir(), "demo.db"), store.Options{Now: Now, Secret: demo.Secret(7)})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	_, err = demo.Generate(context.Background(), s, demo.Options{Customers: n, Seed: 7, AsOf: AsOf})
	require.NoError(tb, err)
	return s
}

// EmptyStore opens a fresh store with the fixed clock.
func EmptyStore(tb testing.TB) *store.Store {
	tb.Helper()
	s, err := store.Open(filepath.Join(tb.TempDir(), "empty.db"), store.Options{Now: Now, Secret: demo.Secret(7)})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// Admin is the acting user of most screen tests.
var Admin = model.Actor{Name: "anna", Role: model.RoleAdmin, Via: "test"}

// Run starts m in a teatest program of the given size.
func Run(tb testing.TB, m tea.Model, w, h int) *teatest.TestModel {
	tb.Helper()
	return teatest.NewTestModel(tb, m, teatest.WithInitialTermSize(w, h))
}

// Plain strips ANSI styling from a rendered screen and trailing spaces from
// its lines.
func Plain(s string) string {
	lines := strings.Split(ansi.Strip(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// WaitFor waits until the program's output contains every one of the
// texts (as rendered, so a text split by styling will not match; use short
// unstyled words).
func WaitFor(tb testing.TB, tm *teatest.TestModel, texts ...string) {
	tb.Helper()
	teatest.WaitFor(tb, tm.Output(), func(b []byte) bool {
		plain := ansi.Strip(string(b))
		for _, t := range texts {
			if !strings.Contains(plain, t) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

// Key sends one key press, e.g. Key(tm, "enter"), Key(tm, "j").
func Key(tm *teatest.TestModel, k string) { tm.Send(KeyPress(k)) }

// KeyPress builds the key press message for a key name as tea prints it.
func KeyPress(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+d":
		return tea.KeyPressMsg{Code: 'd', Mod: tea.ModCtrl}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// Golden compares the final screen of a model (its View content, plain)
// with testdata/<test name>.golden.
func Golden(tb testing.TB, screen string) {
	tb.Helper()
	golden.RequireEqual(tb, []byte(Plain(screen)))
}

// Screen returns a model's current screen (tea.Model's View content).
func Screen(m tea.Model) string { return m.View().Content }

// Finish quits the program and returns the final model.
func Finish(tb testing.TB, tm *teatest.TestModel) tea.Model {
	tb.Helper()
	require.NoError(tb, tm.Quit())
	return tm.FinalModel(tb, teatest.WithFinalTimeout(10*time.Second))
}

// Contains reports whether the plain screen contains s (for assertions
// that do not need a golden).
func Contains(screen, s string) bool { return bytes.Contains([]byte(Plain(screen)), []byte(s)) }
