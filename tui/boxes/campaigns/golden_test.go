package campaigns

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/tui/internal/screentest"
)

// frameRows are the lines the App draws around a box (tab row, status bar,
// footer); the goldens give the box the body of a screen of the named size.
const frameRows = 3

// boxModel runs the box as a program of its own for teatest.
type boxModel struct{ b *Box }

// stepsMsg plays key presses one at a time, each once nothing is loading,
// so the final screen does not depend on how fast the store answered. The
// program quits after the last key.
type stepsMsg struct{ keys []string }

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
		case m.b.loading() || m.b.snap == nil:
			return m, whenIdle(msg)
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

// keysToLaunchable are the keys that select the first approved campaign
// with a planned step and that step.
func keysToLaunchable(t *testing.T, s *store.Store) []string {
	t.Helper()
	var out []string
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		cs, err := r.Campaigns()
		if err != nil {
			return err
		}
		for i, cp := range cs {
			steps, err := r.Steps(cp.ID)
			if err != nil {
				return err
			}
			if si, ok := launchable(cp, steps); ok {
				out = append(strings.Split(strings.Repeat("j", i), ""), strings.Split(strings.Repeat("]", si), "")...)
				return nil
			}
		}
		return fmt.Errorf("no launchable step")
	}))
	var keys []string
	for _, k := range out {
		if k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

func TestGoldenScreens(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	toLaunchable := keysToLaunchable(t, s)
	with := func(keys ...string) []string { return append(append([]string{}, toLaunchable...), keys...) }
	screens := []struct {
		name  string
		actor model.Actor
		keys  []string
	}{
		{name: "table", actor: screentest.Admin},
		{name: "table_viewer", actor: viewer},
		{name: "detail", actor: screentest.Admin, keys: with("enter")},
		{name: "preflight", actor: operator, keys: with("p")},
		{name: "timeline", actor: screentest.Admin, keys: []string{"t"}},
		{name: "timeline_next_month", actor: screentest.Admin, keys: []string{"t", "]"}},
		{name: "segments", actor: operator, keys: []string{"l", "l"}},
		{name: "new_campaign_form", actor: operator, keys: []string{"n"}},
		{name: "new_step_form", actor: operator, keys: []string{"+"}},
	}
	for _, size := range [][2]int{{120, 40}, {80, 24}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			for _, sc := range screens {
				t.Run(sc.name, func(t *testing.T) {
					m := &boxModel{b: New(newContext(s, sc.actor))}
					tm := screentest.Run(t, m, size[0], size[1])
					tm.Send(stepsMsg{keys: sc.keys})
					final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second))
					require.False(t, final.(*boxModel).b.loading())
					screentest.Golden(t, screentest.Screen(final))
				})
			}
		})
	}
}
