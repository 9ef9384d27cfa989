// Package form gives every box's huh forms the same keys and the same
// look: esc cancels (ctrl+c stays the frame's quit), option filtering and
// the external editor are off, and the styles follow Karton's theme, so a
// form follows the terminal background and NO_COLOR like the rest of the
// cockpit.
package form

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"

	"karton/tui/theme"
)

// MinWidth is the narrowest a form is laid out.
const MinWidth = 20

// Prepare configures f for a box: Karton's theme and keys, no help line of
// huh's own (the box's footer shows the form's keys), width w, and the
// messages it sends when submitted or cancelled.
func Prepare(f *huh.Form, th *theme.Theme, w int, submitted, cancelled tea.Msg) *huh.Form {
	f.SubmitCmd = func() tea.Msg { return submitted }
	f.CancelCmd = func() tea.Msg { return cancelled }
	return f.WithTheme(Theme(th)).WithKeyMap(KeyMap()).WithShowHelp(false).WithWidth(max(w, MinWidth))
}

// KeyMap is huh's keymap with esc as cancel and no option filtering (its
// esc would compete with cancel) and no external editor (it has no place
// over SSH).
func KeyMap() *huh.KeyMap {
	km := huh.NewDefaultKeyMap()
	km.Quit = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))
	km.Select.Filter.SetEnabled(false)
	km.MultiSelect.Filter.SetEnabled(false)
	km.Text.Editor.SetEnabled(false)
	return km
}

// Theme maps Karton's theme onto huh's styles.
func Theme(th *theme.Theme) huh.Theme {
	return huh.ThemeFunc(func(bool) *huh.Styles {
		t := huh.ThemeBase(th.IsDark)
		s := lipgloss.NewStyle
		f := &t.Focused
		f.Base = s().PaddingLeft(1).BorderStyle(lipgloss.ThickBorder()).BorderLeft(true).BorderForeground(th.Palette.Accent)
		f.Card = f.Base
		f.Title = th.Accent
		f.NoteTitle = th.Title
		f.Description = th.Muted
		f.ErrorIndicator = th.Bad.SetString(" *")
		f.ErrorMessage = th.Bad.SetString(" ✗")
		f.SelectSelector = th.Accent.SetString("> ")
		f.MultiSelectSelector = th.Accent.SetString("> ")
		f.SelectedPrefix = th.Accent.SetString("[x] ")
		f.UnselectedPrefix = th.Muted.SetString("[ ] ")
		f.NextIndicator = th.Accent.MarginLeft(1).SetString("→")
		f.PrevIndicator = th.Accent.MarginRight(1).SetString("←")
		f.Option = th.Base
		f.SelectedOption = th.Base.Bold(true)
		f.FocusedButton = th.DialogButtonActive
		f.BlurredButton = th.DialogButton
		f.Next = th.DialogButtonActive
		f.TextInput.Cursor = th.Accent
		f.TextInput.Placeholder = th.Muted
		f.TextInput.Prompt = th.Accent
		f.TextInput.Text = th.Base
		t.Blurred = *f
		t.Blurred.Base = f.Base.BorderStyle(lipgloss.HiddenBorder())
		t.Blurred.Card = t.Blurred.Base
		t.Blurred.Title = th.Muted
		t.Blurred.NextIndicator = s()
		t.Blurred.PrevIndicator = s()
		t.Group.Title = th.Title
		t.Group.Description = th.Muted
		t.FieldSeparator = s().SetString("\n")
		t.Help = th.Help()
		if th.Colorless {
			f.TextInput.Placeholder = s().Faint(true)
			t.Blurred.TextInput.Placeholder = s().Faint(true)
		}
		return t
	})
}
