package form

import (
	"testing"

	"charm.land/huh/v2"
	"github.com/stretchr/testify/require"

	"karton/tui/theme"
)

func TestKeyMapCancelsWithEscAndOffersNoEditorOrFilter(t *testing.T) {
	km := KeyMap()
	require.Equal(t, []string{"esc"}, km.Quit.Keys())
	require.False(t, km.Text.Editor.Enabled(), "an external editor has no place over SSH")
	require.False(t, km.Select.Filter.Enabled())
	require.False(t, km.MultiSelect.Filter.Enabled())
	require.True(t, km.Input.Next.Enabled(), "the rest of huh's keys stay")
}

type submitted struct{ seq int }
type cancelled struct{ seq int }

func TestPrepareSendsTheBoxMessages(t *testing.T) {
	var name string
	f := Prepare(huh.NewForm(huh.NewGroup(huh.NewInput().Title("Name").Value(&name))),
		theme.New(true), 5, submitted{7}, cancelled{7})
	require.Equal(t, submitted{7}, f.SubmitCmd())
	require.Equal(t, cancelled{7}, f.CancelCmd())
	f.Init()
	require.Contains(t, f.View(), "Name")
}

func TestThemeFollowsColorless(t *testing.T) {
	th := theme.New(true).WithoutColor()
	st := Theme(th).Theme(true)
	require.True(t, st.Focused.TextInput.Placeholder.GetFaint(), "placeholders are faint without colour")
	require.Equal(t, "> ", st.Focused.SelectSelector.Value())
}
