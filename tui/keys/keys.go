// Package keys is Karton's one keymap. Every key the TUI reacts to is a
// binding here, with the help text shown for it, so the help screen and the
// footer are generated from the same bindings the code matches against and
// cannot drift apart.
//
// The root App builds one KeyMap per session with New and hands it to the
// boxes and components. Input modes decide which bindings are live: in the
// filter or command mode only the focused text input sees keys, so a binding
// such as q (quit) never fires while the user is typing. ctrl+c is bound to
// ForceQuit and to nothing else, in every mode.
package keys

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// KeyMap holds every binding. Fields are exported so components can match
// against exactly the binding they need (key.Matches(msg, km.Down)).
type KeyMap struct {
	// Switching boxes.
	Boxes   key.Binding // 1–4: jump to a box; decode with BoxIndex
	NextBox key.Binding
	PrevBox key.Binding

	// Moving in lists and tables.
	Up           key.Binding
	Down         key.Binding
	Left         key.Binding
	Right        key.Binding
	Top          key.Binding
	Bottom       key.Binding
	HalfPageDown key.Binding
	HalfPageUp   key.Binding
	PageDown     key.Binding
	PageUp       key.Binding

	// Actions on the selection.
	Open     key.Binding
	Back     key.Binding // also cancels dialogs and dismisses error toasts
	New      key.Binding
	Edit     key.Binding
	Refresh  key.Binding
	Copy     key.Binding
	Timeline key.Binding
	Sort     key.Binding // cycle a table's sort order

	// Sections inside a detail view (the customer 360° view's sub-tabs).
	PrevSection key.Binding
	NextSection key.Binding

	// Modes.
	Filter  key.Binding
	Command key.Binding
	Help    key.Binding

	// Dialogs and pickers, live only while one is open.
	Yes      key.Binding
	No       key.Binding
	ListUp   key.Binding // move in a list while a text input has the keys
	ListDown key.Binding

	// Leaving.
	Quit      key.Binding // normal mode only
	ForceQuit key.Binding // ctrl+c, in every mode, bound to nothing else
}

// New returns the keymap with Karton's default bindings (STYLE.md rule 8).
func New() *KeyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return &KeyMap{
		Boxes:   b("1-4", "box", "1", "2", "3", "4"),
		NextBox: b("tab", "next box", "tab"),
		PrevBox: b("shift+tab", "prev box", "shift+tab"),

		Up:           b("↑/k", "up", "up", "k"),
		Down:         b("↓/j", "down", "down", "j"),
		Left:         b("←/h", "left", "left", "h"),
		Right:        b("→/l", "right", "right", "l"),
		Top:          b("g/home", "top", "g", "home"),
		Bottom:       b("G/end", "bottom", "G", "end"),
		HalfPageDown: b("ctrl+d", "½ page down", "ctrl+d"),
		HalfPageUp:   b("ctrl+u", "½ page up", "ctrl+u"),
		PageDown:     b("pgdn", "page down", "pgdown"),
		PageUp:       b("pgup", "page up", "pgup"),

		Open:     b("enter", "open", "enter"),
		Back:     b("esc", "back", "esc"),
		New:      b("n", "new", "n"),
		Edit:     b("e", "edit", "e"),
		Refresh:  b("r", "refresh", "r"),
		Copy:     b("y", "copy", "y"),
		Timeline: b("t", "timeline", "t"),
		Sort:     b("s", "sort", "s"),

		PrevSection: b("[", "section ←", "["),
		NextSection: b("]", "section →", "]"),

		Filter:  b("/", "filter", "/"),
		Command: b(":", "command", ":"),
		Help:    b("?", "help", "?"),

		Yes:      b("y", "yes", "y"),
		No:       b("n", "no", "n"),
		ListUp:   b("↑/ctrl+p", "previous", "up", "ctrl+p"),
		ListDown: b("↓/ctrl+n", "next", "down", "ctrl+n"),

		Quit:      b("q", "quit", "q"),
		ForceQuit: b("ctrl+c", "quit now", "ctrl+c"),
	}
}

// BoxIndex decodes a press of 1–4 into a zero-based box index. It reports
// false for any other key and when the Boxes binding is disabled.
func (k *KeyMap) BoxIndex(msg tea.KeyPressMsg) (int, bool) {
	if !key.Matches(msg, k.Boxes) {
		return 0, false
	}
	s := msg.String()
	if len(s) != 1 || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	return int(s[0] - '1'), true
}

// ShortHelp is the footer in normal mode: the keys a newcomer needs first.
func (k *KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Help, k.Boxes, k.Open, k.Back, k.Filter, k.Command, k.Quit}
}

// FullHelp is the help screen in normal mode, one column per group.
func (k *KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		k.BoxKeys(),
		k.MoveKeys(),
		{k.Open, k.New, k.Edit, k.Refresh, k.Copy, k.Timeline, k.Sort, k.PrevSection, k.NextSection},
		{k.Filter, k.Command, k.Help, k.Back, k.Quit, k.ForceQuit},
	}
}

// BoxKeys are the bindings that switch boxes.
func (k *KeyMap) BoxKeys() []key.Binding {
	return []key.Binding{k.Boxes, k.NextBox, k.PrevBox}
}

// MoveKeys are the bindings that move a cursor through a list or table.
func (k *KeyMap) MoveKeys() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Top, k.Bottom, k.HalfPageDown, k.HalfPageUp, k.PageDown, k.PageUp}
}

// Help is a help.KeyMap made of explicit binding lists, for boxes and modes
// that show their own set of keys.
type Help struct {
	Short []key.Binding
	Full  [][]key.Binding
}

// ShortHelp implements help.KeyMap.
func (h Help) ShortHelp() []key.Binding { return h.Short }

// FullHelp implements help.KeyMap. Without explicit groups it shows the
// short list as one column.
func (h Help) FullHelp() [][]key.Binding {
	if h.Full == nil && len(h.Short) > 0 {
		return [][]key.Binding{h.Short}
	}
	return h.Full
}

// Join combines several help.KeyMaps, for instance the focused box's keys
// followed by the global ones. A binding whose keys already appeared earlier
// is left out, so a box that rebinds a key shows only its own meaning.
func Join(maps ...help.KeyMap) help.KeyMap {
	seen := map[string]bool{}
	fresh := func(b key.Binding) bool {
		ks := b.Keys()
		if len(ks) == 0 {
			return false
		}
		for _, k := range ks {
			if seen[k] {
				return false
			}
		}
		for _, k := range ks {
			seen[k] = true
		}
		return true
	}
	var out Help
	for _, m := range maps {
		if m == nil {
			continue
		}
		for _, b := range m.ShortHelp() {
			if fresh(b) {
				out.Short = append(out.Short, b)
			}
		}
	}
	seen = map[string]bool{}
	for _, m := range maps {
		if m == nil {
			continue
		}
		for _, group := range m.FullHelp() {
			var g []key.Binding
			for _, b := range group {
				if fresh(b) {
					g = append(g, b)
				}
			}
			if len(g) > 0 {
				out.Full = append(out.Full, g)
			}
		}
	}
	return out
}
