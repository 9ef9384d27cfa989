package keys

import (
	"reflect"
	"strings"
	"testing"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// press builds the message a terminal sends for a key, the way Bubble Tea
// v2 decodes it (printable keys carry Text, special keys a Code).
func press(s string) tea.KeyPressMsg {
	special := map[string]tea.KeyPressMsg{
		"up":        {Code: tea.KeyUp},
		"down":      {Code: tea.KeyDown},
		"left":      {Code: tea.KeyLeft},
		"right":     {Code: tea.KeyRight},
		"home":      {Code: tea.KeyHome},
		"end":       {Code: tea.KeyEnd},
		"pgup":      {Code: tea.KeyPgUp},
		"pgdown":    {Code: tea.KeyPgDown},
		"enter":     {Code: tea.KeyEnter},
		"esc":       {Code: tea.KeyEscape},
		"tab":       {Code: tea.KeyTab},
		"shift+tab": {Code: tea.KeyTab, Mod: tea.ModShift},
		"ctrl+c":    {Code: 'c', Mod: tea.ModCtrl},
		"ctrl+d":    {Code: 'd', Mod: tea.ModCtrl},
		"ctrl+u":    {Code: 'u', Mod: tea.ModCtrl},
		"ctrl+p":    {Code: 'p', Mod: tea.ModCtrl},
		"ctrl+n":    {Code: 'n', Mod: tea.ModCtrl},
	}
	if m, ok := special[s]; ok {
		return m
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func bindings(k *KeyMap) map[string]key.Binding {
	out := map[string]key.Binding{}
	v := reflect.ValueOf(k).Elem()
	for i := range v.NumField() {
		out[v.Type().Field(i).Name] = v.Field(i).Interface().(key.Binding)
	}
	return out
}

func TestKeysMatchTheirBindings(t *testing.T) {
	k := New()
	tests := []struct {
		key  string
		want key.Binding
	}{
		{"1", k.Boxes}, {"4", k.Boxes},
		{"tab", k.NextBox}, {"shift+tab", k.PrevBox},
		{"j", k.Down}, {"down", k.Down}, {"k", k.Up}, {"up", k.Up},
		{"g", k.Top}, {"home", k.Top}, {"G", k.Bottom}, {"end", k.Bottom},
		{"ctrl+d", k.HalfPageDown}, {"ctrl+u", k.HalfPageUp},
		{"pgdown", k.PageDown}, {"pgup", k.PageUp},
		{"enter", k.Open}, {"esc", k.Back},
		{"/", k.Filter}, {":", k.Command}, {"?", k.Help},
		{"n", k.New}, {"e", k.Edit}, {"r", k.Refresh}, {"y", k.Copy}, {"t", k.Timeline},
		{"q", k.Quit}, {"ctrl+c", k.ForceQuit},
		{"ctrl+p", k.ListUp}, {"ctrl+n", k.ListDown},
		{"h", k.Left}, {"l", k.Right},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			msg := press(tc.key)
			require.Equal(t, tc.key, msg.String(), "test builds the key Bubble Tea would send")
			assert.True(t, key.Matches(msg, tc.want))
		})
	}
	assert.False(t, key.Matches(press("5"), k.Boxes))
	assert.False(t, key.Matches(press("g"), k.Bottom), "g and G differ")
}

func TestCtrlCIsOnlyForceQuit(t *testing.T) {
	for name, b := range bindings(New()) {
		if name == "ForceQuit" {
			assert.Equal(t, []string{"ctrl+c"}, b.Keys())
			continue
		}
		assert.NotContains(t, b.Keys(), "ctrl+c", name)
	}
}

func TestEveryBindingHasHelp(t *testing.T) {
	for name, b := range bindings(New()) {
		assert.NotEmpty(t, b.Keys(), name)
		assert.NotEmpty(t, b.Help().Key, name)
		assert.NotEmpty(t, b.Help().Desc, name)
	}
}

func TestNormalModeKeysDoNotCollide(t *testing.T) {
	k := New()
	// Yes/No, Left/Right and ListUp/ListDown are only live in dialogs and
	// pickers, where the normal-mode bindings are not.
	normal := []key.Binding{}
	for _, g := range k.FullHelp() {
		normal = append(normal, g...)
	}
	owner := map[string]string{}
	for _, b := range normal {
		for _, s := range b.Keys() {
			prev, dup := owner[s]
			assert.False(t, dup, "key %q bound to %q and %q", s, prev, b.Help().Desc)
			owner[s] = b.Help().Desc
		}
	}
	// Every normal-mode binding is reachable from the full help.
	for name, b := range bindings(k) {
		switch name {
		case "Yes", "No", "ListUp", "ListDown", "Left", "Right":
			continue
		}
		assert.Contains(t, normal, b, "%s missing from FullHelp", name)
	}
}

func TestBoxIndex(t *testing.T) {
	k := New()
	for i, s := range []string{"1", "2", "3", "4"} {
		got, ok := k.BoxIndex(press(s))
		assert.True(t, ok)
		assert.Equal(t, i, got)
	}
	_, ok := k.BoxIndex(press("5"))
	assert.False(t, ok)
	_, ok = k.BoxIndex(press("j"))
	assert.False(t, ok)

	k.Boxes.SetEnabled(false)
	_, ok = k.BoxIndex(press("1"))
	assert.False(t, ok, "a disabled binding does not decode")
}

func TestShortHelpRendersInEightyColumns(t *testing.T) {
	k := New()
	h := help.New()
	h.SetWidth(80)
	out := ansi.Strip(h.View(k))
	assert.Contains(t, out, "? help")
	assert.Contains(t, out, "q quit")
	assert.LessOrEqual(t, ansi.StringWidth(out), 80)
	h.ShowAll = true
	full := ansi.Strip(h.View(k))
	assert.Regexp(t, `ctrl\+c +quit now`, full)
	for _, line := range strings.Split(full, "\n") {
		assert.LessOrEqual(t, ansi.StringWidth(line), 80, line)
	}
}

func TestJoinPrefersEarlierBindings(t *testing.T) {
	k := New()
	openCampaign := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open campaign"))
	launch := key.NewBinding(key.WithKeys("L"), key.WithHelp("L", "launch"))
	box := Help{Short: []key.Binding{openCampaign, launch}}

	joined := Join(box, nil, k)
	short := joined.ShortHelp()
	require.NotEmpty(t, short)
	assert.Equal(t, "open campaign", short[0].Help().Desc)
	assert.Equal(t, "launch", short[1].Help().Desc)
	for _, b := range short[2:] {
		assert.NotEqual(t, "open", b.Help().Desc, "global enter is shadowed")
	}

	full := joined.FullHelp()
	assert.Equal(t, []key.Binding{openCampaign, launch}, full[0], "short list becomes one column")
	assert.Len(t, full, 5)

	unbound := key.NewBinding()
	assert.Empty(t, Join(Help{Short: []key.Binding{unbound}}).ShortHelp(), "bindings without keys are dropped")
}
