package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"karton/store"
	"karton/tui/components/palette"
	"karton/tui/theme"
)

// noBox stands in when an App is built without boxes, so the frame never
// indexes an empty list; it draws an explanation instead of a dashboard.
type noBox struct{}

func (noBox) Title() string                              { return "Karton" }
func (noBox) Short() string                              { return "Karton" }
func (noBox) Init() tea.Cmd                              { return nil }
func (noBox) Update(tea.Msg) tea.Cmd                     { return nil }
func (noBox) View() string                               { return "No dashboards are configured for this session." }
func (noBox) SetSize(int, int)                           {}
func (noBox) SetTheme(*theme.Theme)                      {}
func (noBox) Capturing() bool                            { return false }
func (noBox) StoreChanged([]store.Change) tea.Cmd        { return nil }
func (noBox) PaletteItems() []palette.Item               { return nil }
func (noBox) PaletteChosen(palette.Item) (tea.Cmd, bool) { return nil, false }
func (noBox) ShortHelp() []key.Binding                   { return nil }
func (noBox) FullHelp() [][]key.Binding                  { return nil }
