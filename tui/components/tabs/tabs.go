// Package tabs draws the row of box tabs ("1 Channels  2 Campaigns …") and
// turns the box keys (1–4, tab, shift+tab) and mouse clicks into a
// TabSelectedMsg for the root App.
//
// Labels shrink with the terminal: full titles, then the short titles, then
// the numbers alone, so the row always fits in one line from 80 columns down.
package tabs

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"karton/tui/components/internal/txt"
	"karton/tui/keys"
	"karton/tui/theme"
)

// Tab is one entry of the row.
type Tab struct {
	Title string // "Campaigns"
	Short string // "Camp", used when the titles do not fit; empty: Title
	Badge string // optional count after the title, "3"; empty: none
}

// TabSelectedMsg reports that the user chose another tab.
type TabSelectedMsg struct {
	Index    int
	Previous int
}

// labelLevel is how much of each tab is shown.
type labelLevel int

const (
	levelFull labelLevel = iota
	levelShort
	levelNumber
)

type span struct{ from, to int } // [from, to) in cells from the left edge

// Tabs is the tab row. Build it with New.
type Tabs struct {
	th   *theme.Theme
	km   *keys.KeyMap
	tabs []Tab

	active           int
	width            int
	originX, originY int

	level labelLevel
	spans []span
}

// New builds a tab row with the first tab active.
func New(th *theme.Theme, km *keys.KeyMap, tabs ...Tab) *Tabs {
	t := &Tabs{th: th, km: km, tabs: append([]Tab(nil), tabs...)}
	t.layout()
	return t
}

// SetTheme replaces the theme.
func (t *Tabs) SetTheme(th *theme.Theme) { t.th = th }

// SetSize sets the width; the row is always one line high.
func (t *Tabs) SetSize(w, _ int) {
	t.width = max(w, 0)
	t.layout()
}

// SetOrigin tells the row where it is drawn on the screen, for mouse clicks.
func (t *Tabs) SetOrigin(x, y int) { t.originX, t.originY = x, y }

// Active returns the index of the active tab.
func (t *Tabs) Active() int { return t.active }

// SetActive makes tab i active; out-of-range indices are ignored.
func (t *Tabs) SetActive(i int) {
	if i >= 0 && i < len(t.tabs) {
		t.active = i
	}
}

// SetBadge sets the small count shown after tab i's title ("" removes it).
func (t *Tabs) SetBadge(i int, badge string) {
	if i >= 0 && i < len(t.tabs) {
		t.tabs[i].Badge = badge
		t.layout()
	}
}

// Update handles 1–4, tab, shift+tab and left clicks on a tab. When the
// active tab changes it returns a command that emits TabSelectedMsg.
func (t *Tabs) Update(msg tea.Msg) tea.Cmd {
	if len(t.tabs) == 0 {
		return nil
	}
	next := t.active
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if t.km == nil {
			return nil
		}
		if i, ok := t.km.BoxIndex(msg); ok && i < len(t.tabs) {
			next = i
		} else if key.Matches(msg, t.km.NextBox) {
			next = (t.active + 1) % len(t.tabs)
		} else if key.Matches(msg, t.km.PrevBox) {
			next = (t.active - 1 + len(t.tabs)) % len(t.tabs)
		}
	case tea.MouseClickMsg:
		if msg.Button != tea.MouseLeft {
			return nil
		}
		if i, ok := t.HitTest(msg.X, msg.Y); ok {
			next = i
		}
	}
	if next == t.active {
		return nil
	}
	prev := t.active
	t.active = next
	return func() tea.Msg { return TabSelectedMsg{Index: next, Previous: prev} }
}

// HitTest returns the tab drawn at screen point (x, y).
func (t *Tabs) HitTest(x, y int) (int, bool) {
	if y != t.originY {
		return 0, false
	}
	x -= t.originX
	for i, s := range t.spans {
		if x >= s.from && x < s.to {
			return i, true
		}
	}
	return 0, false
}

// ShortHelp implements help.KeyMap.
func (t *Tabs) ShortHelp() []key.Binding {
	if t.km == nil {
		return nil
	}
	return []key.Binding{t.km.Boxes, t.km.NextBox}
}

// FullHelp implements help.KeyMap.
func (t *Tabs) FullHelp() [][]key.Binding {
	if t.km == nil {
		return nil
	}
	return [][]key.Binding{t.km.BoxKeys()}
}

// View draws the row, exactly as wide as the size given.
func (t *Tabs) View() string {
	var b strings.Builder
	used := 0
	for i, tab := range t.tabs {
		if i >= len(t.spans) {
			break
		}
		b.WriteString(t.renderTab(i, tab))
		used = t.spans[i].to
	}
	if t.width > used {
		b.WriteString(strings.Repeat(" ", t.width-used))
	}
	return b.String()
}

func (t *Tabs) renderTab(i int, tab Tab) string {
	num := strconv.Itoa(i + 1)
	label := t.label(tab)
	badge := ""
	if tab.Badge != "" && t.level == levelFull {
		badge = " " + tab.Badge
	}
	if i == t.active {
		text := num
		if label != "" {
			text += " " + label
		}
		return t.th.TabActive.Render(text + badge)
	}
	var b strings.Builder
	b.WriteString(" ")
	b.WriteString(t.th.TabNumber.Render(num))
	if label != "" {
		b.WriteString(t.th.TabInactive.UnsetPadding().Render(" " + label))
	}
	if badge != "" {
		b.WriteString(t.th.TabBadge.Render(badge))
	}
	b.WriteString(" ")
	return b.String()
}

func (t *Tabs) label(tab Tab) string {
	switch t.level {
	case levelFull:
		return tab.Title
	case levelShort:
		if tab.Short != "" {
			return tab.Short
		}
		return tab.Title
	default:
		return ""
	}
}

// tabWidth is the cells tab i takes at the current level: a blank, the
// number, a blank and the label, the badge, a blank.
func (t *Tabs) tabWidth(i int) int {
	w := 2 + len(strconv.Itoa(i+1))
	if l := t.label(t.tabs[i]); l != "" {
		w += 1 + txt.Width(l)
	}
	if t.level == levelFull && t.tabs[i].Badge != "" {
		w += 1 + txt.Width(t.tabs[i].Badge)
	}
	return w
}

// layout picks the widest label level that fits and records where each tab
// is drawn. With no width set yet, full labels are used.
func (t *Tabs) layout() {
	for t.level = levelFull; t.level < levelNumber; t.level++ {
		if t.width == 0 || t.totalWidth() <= t.width {
			break
		}
	}
	t.spans = t.spans[:0]
	x := 0
	for i := range t.tabs {
		w := t.tabWidth(i)
		if t.width > 0 && x+w > t.width {
			break // even numbers alone do not fit: drop the tail
		}
		t.spans = append(t.spans, span{x, x + w})
		x += w
	}
}

func (t *Tabs) totalWidth() int {
	w := 0
	for i := range t.tabs {
		w += t.tabWidth(i)
	}
	return w
}
