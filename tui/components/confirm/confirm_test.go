package confirm

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/tui/keys"
	"karton/tui/theme"
)

var erase = Prompt{
	ID:     "erase:C000123",
	Title:  "Erase Anna Müller?",
	Body:   "Her profile, consent history and events will be erased. The audit log keeps a hash only. This cannot be undone.",
	Yes:    "Erase",
	No:     "Keep",
	Danger: true,
}

func newDialog() *Dialog {
	d := New(theme.New(true).WithoutColor(), keys.New())
	d.SetSize(80, 24)
	return d
}

func press(s string) tea.KeyPressMsg {
	special := map[string]tea.KeyPressMsg{
		"enter": {Code: tea.KeyEnter}, "esc": {Code: tea.KeyEscape}, "tab": {Code: tea.KeyTab},
		"left": {Code: tea.KeyLeft}, "right": {Code: tea.KeyRight},
	}
	if m, ok := special[s]; ok {
		return m
	}
	return tea.KeyPressMsg{Code: []rune(s)[0], Text: s}
}

func answer(t *testing.T, cmd tea.Cmd) AnsweredMsg {
	t.Helper()
	require.NotNil(t, cmd, "expected an answer")
	msg, ok := cmd().(AnsweredMsg)
	require.True(t, ok)
	return msg
}

func TestAnswers(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		want bool
	}{
		{"enter defaults to no", []string{"enter"}, false},
		{"y confirms", []string{"y"}, true},
		{"n declines", []string{"n"}, false},
		{"esc declines", []string{"esc"}, false},
		{"move to yes then enter", []string{"left", "enter"}, true},
		{"tab toggles", []string{"tab", "enter"}, true},
		{"tab twice is back on no", []string{"tab", "tab", "enter"}, false},
		{"h and l move", []string{"h", "l", "h", "enter"}, true},
		{"y even when no is focused", []string{"y"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDialog()
			d.Open(erase)
			require.True(t, d.Active())
			var cmd tea.Cmd
			for _, k := range tc.keys {
				cmd = d.Update(press(k))
			}
			got := answer(t, cmd)
			assert.Equal(t, AnsweredMsg{ID: "erase:C000123", Confirmed: tc.want}, got)
			assert.False(t, d.Active(), "an answer closes the dialog")
			assert.Empty(t, d.View())
		})
	}
}

func TestClosedDialogIgnoresInput(t *testing.T) {
	d := newDialog()
	assert.Nil(t, d.Update(press("y")))
	d.Open(erase)
	d.Close()
	assert.Nil(t, d.Update(press("y")))
	d.Open(erase)
	assert.Nil(t, d.Update(press("q")), "other keys do nothing")
	assert.True(t, d.Active())
}

func TestReopenResetsFocusToNo(t *testing.T) {
	d := newDialog()
	d.Open(erase)
	d.Update(press("left"))
	d.Close()
	d.Open(erase)
	assert.False(t, answer(t, d.Update(press("enter"))).Confirmed)
}

func TestClickButtons(t *testing.T) {
	d := newDialog()
	d.Open(erase)
	d.SetOrigin(10, 5)
	lines := strings.Split(ansi.Strip(d.View()), "\n")
	row := lines[d.buttonsY]
	yesX := strings.Index(row, "Erase")
	noX := strings.Index(row, "Keep")
	require.Positive(t, yesX)
	require.Positive(t, noX)

	assert.Nil(t, d.Update(tea.MouseClickMsg{X: 10 + ansi.StringWidth(row[:yesX]), Y: 5 + d.buttonsY - 1, Button: tea.MouseLeft}), "line above")
	assert.Nil(t, d.Update(tea.MouseClickMsg{X: 10 + 1, Y: 5 + d.buttonsY, Button: tea.MouseLeft}), "left of the buttons")
	assert.True(t, answer(t, d.Update(tea.MouseClickMsg{X: 10 + ansi.StringWidth(row[:yesX]), Y: 5 + d.buttonsY, Button: tea.MouseLeft})).Confirmed)

	d.Open(erase)
	assert.False(t, answer(t, d.Update(tea.MouseClickMsg{X: 10 + ansi.StringWidth(row[:noX]), Y: 5 + d.buttonsY, Button: tea.MouseLeft})).Confirmed)
}

func TestLayout(t *testing.T) {
	d := newDialog()
	d.Open(Prompt{ID: "x", Title: "Launch Spring Sale?"})
	v := ansi.Strip(d.View())
	assert.Contains(t, v, "Launch Spring Sale?")
	assert.Contains(t, v, "Yes")
	assert.Contains(t, v, "No")
	assert.Equal(t, 60, lipgloss.Width(d.View()))

	for _, w := range []int{80, 40, 24} {
		d.SetSize(w, 24)
		d.Open(erase)
		assert.LessOrEqual(t, lipgloss.Width(d.View()), min(w, 60), "width %d", w)
		assert.Contains(t, ansi.Strip(d.View()), "Keep")
	}
	d.SetSize(5, 24)
	assert.Empty(t, d.View(), "no room")
	d.SetTheme(theme.New(false))
}

func TestHelp(t *testing.T) {
	d := newDialog()
	descs := []string{}
	for _, b := range d.ShortHelp() {
		descs = append(descs, b.Help().Desc)
	}
	assert.Equal(t, []string{"yes", "no", "choose", "cancel"}, descs)
	assert.Len(t, d.FullHelp(), 2)
}

func TestViewGolden(t *testing.T) {
	t.Run("danger_w80", func(t *testing.T) {
		d := newDialog()
		d.Open(erase)
		golden.RequireEqual(t, d.View())
	})
	t.Run("yes_focused_w40", func(t *testing.T) {
		d := newDialog()
		d.SetSize(40, 24)
		d.Open(Prompt{ID: "launch", Title: "Launch Spring Sale?", Body: "12,480 recipients with valid consent."})
		d.Update(press("left"))
		golden.RequireEqual(t, d.View())
	})
}
