// Package toast is a small stack of messages over the screen: information
// that fades on its own, and errors that stay until the user dismisses them
// (esc or a click), because an error read by nobody is an error lost.
//
// An error toast names what failed and why ("Import customers.csv failed:
// line 12: invalid email"). The root App routes esc to the stack first while
// it holds an error (HasErrors), and to the focused box otherwise.
package toast

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"karton/tui/keys"
	"karton/tui/theme"
)

// Kind is what a toast reports.
type Kind int

const (
	// Info is a passing note; it expires.
	Info Kind = iota
	// Error is a failure; it stays until dismissed.
	Error
)

// Defaults.
const (
	DefaultInfoDuration = 4 * time.Second
	DefaultMax          = 5
	maxWidth            = 48
)

// Toast is one message.
type Toast struct {
	ID    uint64
	Kind  Kind
	Title string // short headline: "Saved", "Import customers.csv failed"
	Text  string // detail: why; may be empty
}

// ExpiredMsg reports that an info toast's time is up.
type ExpiredMsg struct{ ID uint64 }

// Option tunes a Stack.
type Option func(*Stack)

// WithInfoDuration sets how long info toasts stay.
func WithInfoDuration(d time.Duration) Option {
	return func(s *Stack) {
		if d > 0 {
			s.ttl = d
		}
	}
}

// WithMax sets how many toasts are shown at most.
func WithMax(n int) Option {
	return func(s *Stack) {
		if n > 0 {
			s.max = n
		}
	}
}

type box struct {
	id         uint64
	from, to   int // lines [from, to) of the view
	fromX, toX int
}

// Stack holds the toasts, oldest first. Build it with New.
type Stack struct {
	th  *theme.Theme
	km  *keys.KeyMap
	ttl time.Duration
	max int

	items  []Toast
	nextID uint64

	width            int
	originX, originY int
	view             string
	boxes            []box
}

// New builds an empty stack.
func New(th *theme.Theme, km *keys.KeyMap, opts ...Option) *Stack {
	s := &Stack{th: th, km: km, ttl: DefaultInfoDuration, max: DefaultMax, width: maxWidth}
	for _, o := range opts {
		o(s)
	}
	return s
}

// SetTheme replaces the theme.
func (s *Stack) SetTheme(th *theme.Theme) {
	s.th = th
	s.layout()
}

// SetSize sets the room the stack may use; toasts are at most 48 cells wide.
func (s *Stack) SetSize(w, _ int) {
	s.width = max(w, 0)
	s.layout()
}

// SetOrigin tells the stack where its top-left corner is drawn, for clicks.
func (s *Stack) SetOrigin(x, y int) { s.originX, s.originY = x, y }

// Info shows a note and returns the command that expires it.
func (s *Stack) Info(title string) tea.Cmd {
	id := s.push(Toast{Kind: Info, Title: title})
	return tea.Tick(s.ttl, func(time.Time) tea.Msg { return ExpiredMsg{ID: id} })
}

// Error shows that `what` failed and why. It stays until dismissed and
// returns no command. A nil err shows only that it failed.
func (s *Stack) Error(what string, err error) tea.Cmd {
	t := Toast{Kind: Error, Title: what + " failed"}
	if err != nil {
		t.Text = err.Error()
	}
	s.push(t)
	return nil
}

// push adds t, replacing an identical toast already shown (so a repeated
// failure does not fill the screen), and evicts the oldest when full:
// information before errors.
func (s *Stack) push(t Toast) uint64 {
	for i, old := range s.items {
		if old.Kind == t.Kind && old.Title == t.Title && old.Text == t.Text {
			s.items = append(s.items[:i], s.items[i+1:]...)
			break
		}
	}
	s.nextID++
	t.ID = s.nextID
	s.items = append(s.items, t)
	for len(s.items) > s.max {
		s.evictOldest()
	}
	s.layout()
	return t.ID
}

func (s *Stack) evictOldest() {
	for i, t := range s.items {
		if t.Kind == Info {
			s.items = append(s.items[:i], s.items[i+1:]...)
			return
		}
	}
	s.items = s.items[1:]
}

// Items returns the toasts, oldest first.
func (s *Stack) Items() []Toast { return append([]Toast(nil), s.items...) }

// Len returns the number of toasts shown.
func (s *Stack) Len() int { return len(s.items) }

// HasErrors reports whether an error toast is shown; while it is, esc
// belongs to the stack.
func (s *Stack) HasErrors() bool {
	for _, t := range s.items {
		if t.Kind == Error {
			return true
		}
	}
	return false
}

// Dismiss removes the newest error, or the newest toast when there is no
// error, and reports whether it removed one.
func (s *Stack) Dismiss() bool {
	for i := len(s.items) - 1; i >= 0; i-- {
		if s.items[i].Kind == Error {
			return s.remove(s.items[i].ID)
		}
	}
	if len(s.items) == 0 {
		return false
	}
	return s.remove(s.items[len(s.items)-1].ID)
}

func (s *Stack) remove(id uint64) bool {
	for i, t := range s.items {
		if t.ID == id {
			s.items = append(s.items[:i], s.items[i+1:]...)
			s.layout()
			return true
		}
	}
	return false
}

// Update expires info toasts, dismisses the newest toast on esc (the owner
// routes esc here only while HasErrors or when it has no other use) and the
// clicked toast on a left click.
func (s *Stack) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case ExpiredMsg:
		s.remove(msg.ID)
	case tea.KeyPressMsg:
		if s.km != nil && key.Matches(msg, s.km.Back) {
			s.Dismiss()
		}
	case tea.MouseClickMsg:
		if msg.Button == tea.MouseLeft {
			if id, ok := s.HitTest(msg.X, msg.Y); ok {
				s.remove(id)
			}
		}
	}
	return nil
}

// HitTest returns the id of the toast drawn at screen point (x, y).
func (s *Stack) HitTest(x, y int) (uint64, bool) {
	x, y = x-s.originX, y-s.originY
	for _, b := range s.boxes {
		if y >= b.from && y < b.to && x >= b.fromX && x < b.toX {
			return b.id, true
		}
	}
	return 0, false
}

// ShortHelp implements help.KeyMap.
func (s *Stack) ShortHelp() []key.Binding {
	if s.km == nil || len(s.items) == 0 {
		return nil
	}
	h := s.km.Back.Help()
	return []key.Binding{key.NewBinding(key.WithKeys(s.km.Back.Keys()...), key.WithHelp(h.Key, "dismiss"))}
}

// FullHelp implements help.KeyMap.
func (s *Stack) FullHelp() [][]key.Binding {
	if sh := s.ShortHelp(); sh != nil {
		return [][]key.Binding{sh}
	}
	return nil
}

// View draws the toasts top to bottom, oldest first, each in its frame.
// The owner places the block, usually at the bottom right.
func (s *Stack) View() string { return s.view }

// layout renders the boxes once per change, so View is free and HitTest
// knows where each box is.
func (s *Stack) layout() {
	s.boxes = s.boxes[:0]
	w := min(s.width, maxWidth)
	if len(s.items) == 0 || w < 8 {
		s.view = ""
		return
	}
	parts := make([]string, 0, len(s.items))
	line := 0
	for _, t := range s.items {
		r := s.render(t, w)
		h := lipgloss.Height(r)
		s.boxes = append(s.boxes, box{id: t.ID, from: line, to: line + h, fromX: 0, toX: lipgloss.Width(r)})
		line += h
		parts = append(parts, r)
	}
	s.view = strings.Join(parts, "\n")
}

func (s *Stack) render(t Toast, w int) string {
	style, icon, title := s.th.ToastInfo, "ℹ ", s.th.Accent
	if t.Kind == Error {
		style, icon, title = s.th.ToastError, "✗ ", s.th.Bad.Bold(true)
	}
	content := title.Render(icon + t.Title)
	if t.Text != "" {
		content += "\n" + s.th.Base.Render(t.Text)
	}
	return style.Width(w).Render(content)
}
