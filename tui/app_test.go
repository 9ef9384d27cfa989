package tui

import (
	"fmt"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/palette"
	"karton/tui/internal/screentest"
	"karton/tui/theme"
)

// fakeBox records what the frame hands it, so the routing rules can be
// checked without a real dashboard.
type fakeBox struct {
	c         *common.Context
	title     string
	keys      []string
	capturing bool
	w, h      int
	changes   int
	chosen    []string
	act       key.Binding
}

func newFake(c *common.Context, title string) *fakeBox {
	return &fakeBox{c: c, title: title, act: key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "do "+strings.ToLower(title)))}
}

func (b *fakeBox) Title() string { return b.title }
func (b *fakeBox) Short() string { return b.title[:3] }
func (b *fakeBox) Init() tea.Cmd { return nil }
func (b *fakeBox) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		b.keys = append(b.keys, k.String())
		if k.String() == "/" {
			b.capturing = true
		}
		if k.String() == "esc" {
			b.capturing = false
		}
	}
	return nil
}
func (b *fakeBox) View() string {
	return fmt.Sprintf("%s body %dx%d\nkeys: %s", b.title, b.w, b.h, strings.Join(b.keys, " "))
}
func (b *fakeBox) SetSize(w, h int)          { b.w, b.h = w, h }
func (b *fakeBox) SetTheme(*theme.Theme)     {}
func (b *fakeBox) Capturing() bool           { return b.capturing }
func (b *fakeBox) ShortHelp() []key.Binding  { return []key.Binding{b.act} }
func (b *fakeBox) FullHelp() [][]key.Binding { return [][]key.Binding{{b.act}} }
func (b *fakeBox) StoreChanged(ch []store.Change) tea.Cmd {
	b.changes += len(ch)
	return nil
}
func (b *fakeBox) PaletteItems() []palette.Item {
	return []palette.Item{{ID: "cmd:" + b.title, Title: "Act in " + b.title, Kind: "command"}}
}
func (b *fakeBox) PaletteChosen(it palette.Item) (tea.Cmd, bool) {
	if it.ID != "cmd:"+b.title {
		return nil, false
	}
	b.chosen = append(b.chosen, it.ID)
	return nil, true
}

func newTestApp(t *testing.T) (*App, []*fakeBox) {
	t.Helper()
	s := screentest.EmptyStore(t)
	var fakes []*fakeBox
	a := New(s, screentest.Admin, Options{Now: screentest.Now, NoColor: true, NoFeed: true, Environ: []string{}, StoreLabel: "demo.db",
		Boxes: func(c *common.Context) []common.Box {
			var out []common.Box
			for _, n := range []string{"Channels", "Campaigns", "Customers", "Warehouse"} {
				f := newFake(c, n)
				fakes = append(fakes, f)
				out = append(out, f)
			}
			return out
		}})
	a.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	return a, fakes
}

func press(a *App, keys ...string) {
	for _, k := range keys {
		_, cmd := a.Update(screentest.KeyPress(k))
		drain(a, cmd)
	}
}

// drain runs commands synchronously, feeding their messages back, so tests
// see the settled state (tea.Quit and ticks are not followed).
func drain(a *App, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	msg := cmd()
	switch m := msg.(type) {
	case tea.BatchMsg:
		for _, c := range m {
			drain(a, c)
		}
	case tea.QuitMsg, nil:
	default:
		if fmt.Sprintf("%T", m) == "spinner.TickMsg" {
			return
		}
		_, next := a.Update(m)
		drain(a, next)
	}
}

func TestBoxesGetTheBodySize(t *testing.T) {
	_, fakes := newTestApp(t)
	for _, f := range fakes {
		assert.Equal(t, 80, f.w)
		assert.Equal(t, 24-chromeRows, f.h)
	}
}

func TestTabKeysSwitchBoxes(t *testing.T) {
	a, _ := newTestApp(t)
	press(a, "3")
	assert.Equal(t, common.BoxCustomers, a.tabs.Active())
	press(a, "tab")
	assert.Equal(t, common.BoxWarehouse, a.tabs.Active())
	press(a, "tab")
	assert.Equal(t, common.BoxChannels, a.tabs.Active(), "tab wraps around")
	press(a, "shift+tab")
	assert.Equal(t, common.BoxWarehouse, a.tabs.Active())
}

func TestCapturingBoxGetsFrameKeys(t *testing.T) {
	a, fakes := newTestApp(t)
	press(a, "2", "/")
	require.True(t, fakes[1].capturing)
	// While the filter has the keys, q, 3 and ? are text, not commands.
	press(a, "q", "3", "?", ":")
	assert.Equal(t, common.BoxCampaigns, a.tabs.Active())
	assert.False(t, a.showHelp)
	assert.False(t, a.pal.Active())
	assert.Equal(t, []string{"/", "q", "3", "?", ":"}, fakes[1].keys)
	press(a, "esc", "3")
	assert.Equal(t, common.BoxCustomers, a.tabs.Active())
}

func TestQuitKeys(t *testing.T) {
	a, _ := newTestApp(t)
	_, cmd := a.Update(screentest.KeyPress("q"))
	require.NotNil(t, cmd)
	assert.IsType(t, tea.QuitMsg{}, cmd())

	a, fakes := newTestApp(t)
	press(a, "/")
	require.True(t, fakes[0].capturing)
	_, cmd = a.Update(screentest.KeyPress("ctrl+c"))
	require.NotNil(t, cmd, "ctrl+c quits even while a box captures")
	assert.IsType(t, tea.QuitMsg{}, cmd())
}

func TestHelpShowsFrameAndBoxKeys(t *testing.T) {
	a, fakes := newTestApp(t)
	press(a, "2", "?")
	require.True(t, a.showHelp)
	screen := screentest.Plain(screentest.Screen(a))
	assert.Contains(t, screen, "Keys — Campaigns")
	assert.Contains(t, screen, "do campaigns", "the active box's bindings are listed")
	assert.Contains(t, screen, "filter")
	press(a, "j")
	assert.Empty(t, fakes[1].keys, "keys do not reach the box under the help screen")
	press(a, "esc")
	assert.False(t, a.showHelp)
}

func TestPaletteRunsABoxCommandAndSwitchesToIt(t *testing.T) {
	a, fakes := newTestApp(t)
	press(a, ":")
	require.True(t, a.pal.Active())
	for _, r := range "act in wareh" {
		press(a, string(r))
	}
	press(a, "enter")
	assert.False(t, a.pal.Active())
	assert.Equal(t, []string{"cmd:Warehouse"}, fakes[3].chosen)
	assert.Equal(t, common.BoxWarehouse, a.tabs.Active())
}

func TestGotoAndToastMessages(t *testing.T) {
	a, fakes := newTestApp(t)
	drain(a, common.Goto(common.BoxCustomers, palette.Item{ID: "cmd:Customers"}))
	assert.Equal(t, common.BoxCustomers, a.tabs.Active())
	assert.Equal(t, []string{"cmd:Customers"}, fakes[2].chosen)

	drain(a, common.Fail("record consent", &model.PermissionError{Actor: model.Actor{Name: "vera", Role: model.RoleViewer}, Permission: model.PermEditCustomers, Action: "record a consent event"}))
	require.True(t, a.toast.HasErrors())
	assert.Contains(t, screentest.Plain(screentest.Screen(a)), "record consent")
	press(a, "esc")
	assert.False(t, a.toast.HasErrors(), "esc dismisses the error first")
}

func TestStoreChangesReachEveryBox(t *testing.T) {
	a, fakes := newTestApp(t)
	a.Update(changesArrivedMsg{changes: []store.Change{{Kind: store.ChangeConsent, ID: 1}}})
	for _, f := range fakes {
		assert.Equal(t, 1, f.changes)
	}
}

func TestFrameGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			a, _ := newTestApp(t)
			a.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			a.setCounts(store.Stats{Customers: 1234567, Campaigns: 12, ConsentEvents: 98765})
			press(a, "2", "j")
			screentest.Golden(t, screentest.Screen(a))
		})
	}
}

func TestHelpGolden(t *testing.T) {
	a, _ := newTestApp(t)
	press(a, "?")
	screentest.Golden(t, screentest.Screen(a))
}
