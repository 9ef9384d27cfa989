package customers

import (
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/tui/components/palette"
	"karton/tui/internal/screentest"
)

// frameRows are the lines the App draws around a box (tab row, status bar,
// footer); the goldens give the box the body of a screen of the named size.
const frameRows = 3

// boxModel runs the box as a program of its own for teatest.
type boxModel struct{ b *Box }

// stepsMsg plays the steps of a screen one at a time, each once no read
// is in flight: a key pressed before the customer arrived would act on
// nothing, and the final screen must not depend on how fast the store
// answered. The program quits after the last step.
type stepsMsg struct {
	open  model.CustomerID // first, open this customer as the palette would
	erase bool             // then choose the palette's erase command
	keys  []string
}

func whenIdle(msg stepsMsg) tea.Cmd {
	return tea.Tick(2*time.Millisecond, func(time.Time) tea.Msg { return msg })
}

func (m *boxModel) Init() tea.Cmd { return m.b.Init() }

func (m *boxModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.b.SetSize(msg.Width, msg.Height-frameRows)
		return m, nil
	case stepsMsg:
		switch {
		case m.b.loading():
			return m, whenIdle(msg)
		case msg.open != 0:
			cmd, _ := m.b.PaletteChosen(palette.Item{ID: "customer:" + msg.open.String()})
			msg.open = 0
			return m, tea.Batch(cmd, whenIdle(msg))
		case msg.erase:
			it, _ := m.b.eraseItem()
			cmd, _ := m.b.PaletteChosen(it)
			msg.erase = false
			return m, tea.Batch(cmd, whenIdle(msg))
		case len(msg.keys) > 0:
			cmd := m.b.Update(screentest.KeyPress(msg.keys[0]))
			msg.keys = msg.keys[1:]
			return m, tea.Batch(cmd, whenIdle(msg))
		}
		return m, tea.Quit
	}
	return m, m.b.Update(msg)
}

func (m *boxModel) View() tea.View { return tea.NewView(m.b.View()) }

// goldenCustomer is a customer with something in every section.
func goldenCustomer(t *testing.T) model.CustomerID {
	c := findCustomer(t, shared, func(r *store.Reader, c model.Customer) bool {
		if c.Erased || c.Phone == "" || c.PurchaseCount < 2 || len(c.Tags) == 0 {
			return false
		}
		h, err := r.ConsentHistory(c.ID)
		return err == nil && len(h) >= 4
	})
	return c.ID
}

func TestGoldenScreens(t *testing.T) {
	id := goldenCustomer(t)
	screens := []struct {
		name  string
		actor model.Actor
		open  bool
		erase bool
		keys  []string
	}{
		{name: "table", actor: screentest.Admin},
		{name: "table_scrolled_by_value", actor: screentest.Admin, keys: []string{"s", "s", "ctrl+d", "j"}},
		{name: "table_filtered", actor: screentest.Admin, keys: append(append([]string{"/"}, split("tag:newsletter city:Berlin")...), "enter")},
		{name: "table_analyst", actor: analyst},
		{name: "profile", actor: screentest.Admin, open: true},
		{name: "profile_analyst", actor: analyst, open: true},
		{name: "consents", actor: screentest.Admin, open: true, keys: []string{"]", "j", "l"}},
		{name: "timeline", actor: screentest.Admin, open: true, keys: []string{"]", "]"}},
		{name: "purchases", actor: screentest.Admin, open: true, keys: []string{"]", "]", "]"}},
		{name: "erase_question", actor: screentest.Admin, open: true, erase: true},
	}
	for _, size := range [][2]int{{120, 40}, {80, 24}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			for _, sc := range screens {
				t.Run(sc.name, func(t *testing.T) {
					m := &boxModel{b: New(newContext(shared, sc.actor))}
					tm := screentest.Run(t, m, size[0], size[1])
					steps := stepsMsg{keys: sc.keys, erase: sc.erase}
					if sc.open {
						steps.open = id
					}
					tm.Send(steps)
					final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second))
					require.False(t, final.(*boxModel).b.loading())
					screentest.Golden(t, screentest.Screen(final))
				})
			}
		})
	}
}

// split turns text into key names for screentest.Key.
func split(s string) []string {
	var out []string
	for _, r := range s {
		if r == ' ' {
			out = append(out, "space")
			continue
		}
		out = append(out, string(r))
	}
	return out
}
