// Package confirm is the modal yes/no question asked before anything that
// cannot be taken back (erase a customer, launch a campaign, withdraw
// consent in bulk).
//
// The answer defaults to no: enter on a freshly opened dialog, esc and n
// all decline, and only y or a deliberate move to the Yes button confirms.
// While a dialog is open the root App routes every key to it (confirm mode).
package confirm

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"karton/tui/keys"
	"karton/tui/theme"
)

const (
	maxWidth   = 60
	buttonsGap = 2
)

// Prompt is the question.
type Prompt struct {
	// ID comes back in AnsweredMsg so the owner knows which question was
	// answered, e.g. "erase:C000123".
	ID    string
	Title string // "Erase Anna Müller?"
	Body  string // what will happen, in plain words
	Yes   string // label of the confirming button; empty: "Yes"
	No    string // label of the declining button; empty: "No"
	// Danger draws the dialog in the warning style, for destructive actions.
	Danger bool
}

// AnsweredMsg reports the user's answer; the dialog has closed.
type AnsweredMsg struct {
	ID        string
	Confirmed bool
}

type hit struct{ x, w int }

// Dialog is the confirmation dialog. Build it with New; it starts closed.
type Dialog struct {
	th *theme.Theme
	km *keys.KeyMap

	prompt     Prompt
	open       bool
	yesFocused bool

	width            int
	originX, originY int

	view     string
	buttonsY int
	yesHit   hit
	noHit    hit
}

// New builds a closed dialog.
func New(th *theme.Theme, km *keys.KeyMap) *Dialog {
	return &Dialog{th: th, km: km, width: maxWidth}
}

// SetTheme replaces the theme.
func (d *Dialog) SetTheme(th *theme.Theme) {
	d.th = th
	d.layout()
}

// SetSize sets the room the dialog may use; it is at most 60 cells wide.
func (d *Dialog) SetSize(w, _ int) {
	d.width = max(w, 0)
	d.layout()
}

// SetOrigin tells the dialog where its top-left corner is drawn (after the
// owner centred it), for clicks on the buttons.
func (d *Dialog) SetOrigin(x, y int) { d.originX, d.originY = x, y }

// Open shows p with the No button focused.
func (d *Dialog) Open(p Prompt) {
	d.prompt, d.open, d.yesFocused = p, true, false
	d.layout()
}

// Close hides the dialog without an answer.
func (d *Dialog) Close() {
	d.open = false
	d.view = ""
}

// Active reports whether the dialog is open.
func (d *Dialog) Active() bool { return d.open }

// Update handles keys and clicks while open: y confirms; n and esc decline;
// ←/→, h/l and tab move between the buttons; enter picks the focused one.
// An answer closes the dialog and returns a command emitting AnsweredMsg.
func (d *Dialog) Update(msg tea.Msg) tea.Cmd {
	if !d.open || d.km == nil {
		return nil
	}
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, d.km.Yes):
			return d.answer(true)
		case key.Matches(msg, d.km.No, d.km.Back):
			return d.answer(false)
		case key.Matches(msg, d.km.Open):
			return d.answer(d.yesFocused)
		case key.Matches(msg, d.km.Left, d.km.Right, d.km.NextBox, d.km.PrevBox):
			d.yesFocused = !d.yesFocused
			d.layout()
		}
	case tea.MouseClickMsg:
		if msg.Button != tea.MouseLeft || msg.Y-d.originY != d.buttonsY {
			return nil
		}
		x := msg.X - d.originX
		switch {
		case x >= d.yesHit.x && x < d.yesHit.x+d.yesHit.w:
			return d.answer(true)
		case x >= d.noHit.x && x < d.noHit.x+d.noHit.w:
			return d.answer(false)
		}
	}
	return nil
}

func (d *Dialog) answer(yes bool) tea.Cmd {
	id := d.prompt.ID
	d.Close()
	return func() tea.Msg { return AnsweredMsg{ID: id, Confirmed: yes} }
}

// ShortHelp implements help.KeyMap.
func (d *Dialog) ShortHelp() []key.Binding {
	if d.km == nil {
		return nil
	}
	choose := key.NewBinding(key.WithKeys(d.km.Open.Keys()...), key.WithHelp(d.km.Open.Help().Key, "choose"))
	cancel := key.NewBinding(key.WithKeys(d.km.Back.Keys()...), key.WithHelp(d.km.Back.Help().Key, "cancel"))
	return []key.Binding{d.km.Yes, d.km.No, choose, cancel}
}

// FullHelp implements help.KeyMap.
func (d *Dialog) FullHelp() [][]key.Binding {
	if d.km == nil {
		return nil
	}
	return [][]key.Binding{d.ShortHelp(), {d.km.Left, d.km.Right}}
}

// View draws the dialog box, or "" when closed. The owner centres it, e.g.
// with lipgloss.Place, and passes the resulting corner to SetOrigin.
func (d *Dialog) View() string { return d.view }

// layout renders the box once per change and records where the buttons are.
func (d *Dialog) layout() {
	if !d.open {
		d.view = ""
		return
	}
	frame := d.th.Dialog
	if d.prompt.Danger {
		frame = d.th.DialogDanger
	}
	boxW := min(d.width, maxWidth)
	innerW := boxW - frame.GetHorizontalFrameSize()
	if innerW < 4 {
		d.view = ""
		return
	}
	yesLabel, noLabel := labelOr(d.prompt.Yes, "Yes"), labelOr(d.prompt.No, "No")
	yes := d.button(yesLabel, d.yesFocused)
	no := d.button(noLabel, !d.yesFocused)
	buttons := yes + strings.Repeat(" ", buttonsGap) + no
	lead := max(innerW-lipgloss.Width(buttons), 0)

	parts := []string{d.th.DialogTitle.Width(innerW).Render(d.prompt.Title)}
	if d.prompt.Body != "" {
		parts = append(parts, "", d.th.DialogBody.Width(innerW).Render(d.prompt.Body))
	}
	above := lipgloss.Height(strings.Join(parts, "\n")) + 1 // + the blank line
	parts = append(parts, "", strings.Repeat(" ", lead)+buttons)
	d.view = frame.Width(boxW).Render(strings.Join(parts, "\n"))

	top, left := frame.GetBorderTopSize()+frame.GetPaddingTop(), frame.GetBorderLeftSize()+frame.GetPaddingLeft()
	d.buttonsY = top + above
	d.yesHit = hit{x: left + lead, w: lipgloss.Width(yes)}
	d.noHit = hit{x: d.yesHit.x + d.yesHit.w + buttonsGap, w: lipgloss.Width(no)}
}

func (d *Dialog) button(label string, focused bool) string {
	if focused {
		return d.th.DialogButtonActive.Render(label)
	}
	return d.th.DialogButton.Render(label)
}

func labelOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
