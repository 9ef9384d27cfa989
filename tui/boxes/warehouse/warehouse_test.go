package warehouse

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/palette"
	"karton/tui/internal/screentest"
	"karton/tui/keys"
	"karton/tui/theme"
)

// testBox builds the box on s at w×h with the colourless theme and loads
// its first view. The refresh delay is zero so StoreChanged reloads as
// soon as the test runs the returned command.
func testBox(t testing.TB, s *store.Store, w, h int) (*Box, *recorder) {
	t.Helper()
	c := &common.Context{Ctx: context.Background(), Store: s, Actor: screentest.Admin,
		Theme: theme.New(true).WithoutColor(), Keys: keys.New(), Now: screentest.Now}
	b := New(c)
	b.delay = 0
	for _, v := range b.views {
		v.state().slowAfter = 0
	}
	b.SetSize(w, h)
	rec := &recorder{}
	rec.settle(b, b.Init())
	return b, rec
}

// recorder runs commands synchronously, feeding their messages back into
// the box, and keeps what the box sent to the frame (tasks, toasts).
type recorder struct {
	frame []tea.Msg
}

var cmdType = reflect.TypeFor[tea.Cmd]()

func (r *recorder) settle(b *Box, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	msg := cmd()
	if msg == nil {
		return
	}
	// tea.Batch and tea.Sequence both produce a slice of commands (the
	// sequence's type is unexported); run them in order.
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == cmdType {
		for i := range v.Len() {
			r.settle(b, v.Index(i).Interface().(tea.Cmd))
		}
		return
	}
	switch msg.(type) {
	case common.TaskStartedMsg, common.TaskEndedMsg, common.ToastMsg, common.GotoMsg:
		r.frame = append(r.frame, msg)
		return
	}
	r.settle(b, b.Update(msg))
}

func (r *recorder) press(b *Box, ks ...string) {
	for _, k := range ks {
		r.settle(b, b.Update(screentest.KeyPress(k)))
	}
}

func (r *recorder) toasts() []common.ToastMsg {
	var out []common.ToastMsg
	for _, m := range r.frame {
		if t, ok := m.(common.ToastMsg); ok {
			out = append(out, t)
		}
	}
	return out
}

func TestViewSwitchingWithKeysAndPalette(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	b, rec := testBox(t, s, 120, 37)
	require.Equal(t, "overview", b.Active())
	assert.True(t, b.views[0].state().loaded, "the overview loads at Init")
	assert.False(t, b.views[1].state().loaded, "the other views load when first shown")
	assert.False(t, b.views[2].state().loaded)

	rec.press(b, "l")
	assert.Equal(t, "rfm", b.Active())
	assert.True(t, b.views[1].state().loaded)
	assert.Contains(t, screentest.Plain(b.View()), "No RFM scores")

	rec.press(b, "right")
	assert.Equal(t, "cohorts", b.Active())
	assert.Contains(t, screentest.Plain(b.View()), "by first-purchase month")

	rec.press(b, "l", "l", "l", "l", "l")
	assert.Equal(t, "import", b.Active(), "the import wizard is last")
	rec.press(b, "l")
	assert.Equal(t, "overview", b.Active(), "→ wraps around")
	rec.press(b, "h")
	assert.Equal(t, "import", b.Active(), "← wraps around")

	cmd, ok := b.PaletteChosen(b.PaletteItems()[1])
	require.True(t, ok)
	rec.settle(b, cmd)
	assert.Equal(t, "rfm", b.Active())
	_, ok = b.PaletteChosen(palette.Item{ID: "customer:1"})
	assert.False(t, ok, "other boxes' items are not the warehouse's")

	// A click on the view row switches too.
	rec.settle(b, b.Update(tea.MouseClickMsg{X: 1, Y: bodyTop}))
	assert.Equal(t, "overview", b.Active())

	assert.Empty(t, rec.toasts())
	started, ended := 0, 0
	for _, m := range rec.frame {
		switch m.(type) {
		case common.TaskStartedMsg:
			started++
		case common.TaskEndedMsg:
			ended++
		}
	}
	assert.Equal(t, started, ended, "every status-bar task that starts ends")
}

func TestStoreChangedRefreshesRevenue(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	b, rec := testBox(t, s, 120, 37)
	ov := b.views[0].(*overview)
	before := ov.data.rev
	require.Contains(t, screentest.Plain(b.View()), money(before, "EUR"))

	var cid model.CustomerID = 1
	require.NoError(t, s.Update(screentest.Admin, func(tx *store.Tx) error {
		return tx.AddPurchase(&model.Purchase{CustomerID: cid, OrderID: "T-1", Source: "test", At: screentest.AsOf.Add(-time.Hour), Amount: 123456, Currency: "EUR"})
	}))

	// A change the overview does not show schedules nothing.
	assert.Nil(t, b.StoreChanged([]store.Change{{Kind: store.ChangeUser}}))
	cmd := b.StoreChanged([]store.Change{{Kind: store.ChangePurchase, ID: uint64(cid)}})
	require.NotNil(t, cmd)
	assert.Nil(t, b.StoreChanged([]store.Change{{Kind: store.ChangePurchase, ID: 2}}), "a burst costs one reload")
	rec.settle(b, cmd)

	assert.Equal(t, before+123456, ov.data.rev)
	assert.Contains(t, screentest.Plain(b.View()), money(before+123456, "EUR"))
	assert.True(t, b.views[2].state().stale, "the hidden cohort view reloads when shown")
	assert.False(t, b.views[0].state().stale)
}

// split runs a load command and returns its two parts' messages: the
// reply and the slow-load timer.
func split(t *testing.T, cmd tea.Cmd) (reply, timer tea.Msg) {
	t.Helper()
	batch, ok := cmd().(tea.BatchMsg)
	require.True(t, ok)
	require.Len(t, batch, 2)
	return batch[0](), batch[1]()
}

func TestStaleRepliesAreDropped(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	b, _ := testBox(t, s, 100, 30)
	ov := b.views[0].(*overview)
	first, _ := split(t, ov.load())
	second, _ := split(t, ov.load())
	old := first.(overviewLoadedMsg)
	old.data.customers = -1
	b.Update(old)
	assert.NotEqual(t, int64(-1), ov.data.customers, "a reply older than the last request is ignored")
	assert.True(t, ov.ld.loading)
	b.Update(second)
	assert.Equal(t, int64(100), ov.data.customers)
	assert.False(t, ov.ld.loading)
}

func TestSlowLoadsShowInTheStatusBar(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	b, rec := testBox(t, s, 100, 30)
	rec.press(b, "l")
	reply, timer := split(t, b.views[1].load())

	// The timer fires while the scan still runs: the task appears, once.
	cmd := b.Update(timer)
	require.NotNil(t, cmd)
	assert.Equal(t, common.TaskStartedMsg{ID: "warehouse:rfm", Label: "RFM scores"}, cmd())
	assert.Nil(t, b.Update(timer))

	cmd = b.Update(reply)
	require.NotNil(t, cmd)
	assert.Equal(t, common.TaskEndedMsg{ID: "warehouse:rfm"}, cmd())

	// A quick load ends before its timer: nothing reaches the status bar.
	reply, timer = split(t, b.views[1].load())
	assert.Nil(t, b.Update(reply))
	assert.Nil(t, b.Update(timer))
}

func TestLoadErrorsShowAToastAndKeepTheData(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	b, rec := testBox(t, s, 100, 30)
	ov := b.views[0].(*overview)
	seq := ov.ld.begin()
	rec.settle(b, b.Update(overviewLoadedMsg{seq: seq, err: fmt.Errorf("disk on fire")}))
	toasts := rec.toasts()
	require.Len(t, toasts, 1)
	assert.Equal(t, "load the warehouse overview", toasts[0].What)
	screen := screentest.Plain(b.View())
	assert.Contains(t, screen, "refresh failed")
	assert.Contains(t, screen, "Customers", "the previous numbers stay")
}

func TestEmptyStoreSaysWhatIsMissing(t *testing.T) {
	s := screentest.EmptyStore(t)
	b, rec := testBox(t, s, 80, 21)
	screen := screentest.Plain(b.View())
	assert.Contains(t, screen, "No active channel.")
	assert.Contains(t, screen, "No purchases in these months.")
	rec.press(b, "l")
	assert.Contains(t, screentest.Plain(b.View()), scoresCommand)
	rec.press(b, "l")
	assert.Contains(t, screentest.Plain(b.View()), "No purchases yet")
	assert.Empty(t, rec.toasts())
}

func TestViewsFillExactlyTheirSize(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	putDemoScores(t, s)
	for _, size := range [][2]int{{80, 21}, {100, 30}, {120, 37}, {200, 57}, {60, 15}} {
		b, rec := testBox(t, s, size[0], size[1])
		for range b.views {
			lines := strings.Split(b.View(), "\n")
			require.Len(t, lines, size[1], "%s at %dx%d", b.Active(), size[0], size[1])
			for i, l := range lines {
				require.Equal(t, size[0], widthOf(l), "%s at %dx%d line %d: %q", b.Active(), size[0], size[1], i, l)
			}
			rec.press(b, "l")
		}
	}
}

func TestRFMWithScores(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	n := putDemoScores(t, s)
	b, rec := testBox(t, s, 120, 37)
	rec.press(b, "l")
	rfmView := b.views[1].(*rfm)
	assert.Equal(t, int64(n), rfmView.data.sum.Customers)
	screen := screentest.Plain(b.View())
	assert.Contains(t, screen, "Champions")
	assert.Contains(t, screen, "FM5")
	assert.NotContains(t, screen, scoresCommand)
}

// TestPrintScreens prints every view at 80×24 and 200×60 (the box gets the
// frame's body: three rows fewer) for a look with -v.
func TestPrintScreens(t *testing.T) {
	if os.Getenv("KARTON_PRINT_SCREENS") == "" {
		t.Skip("set KARTON_PRINT_SCREENS=1 to print the warehouse screens")
	}
	s := screentest.DemoStore(t, 2000)
	putDemoScores(t, s)
	for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
		b, rec := testBox(t, s, size[0], size[1]-3)
		for range b.views {
			fmt.Printf("── %s %dx%d %s\n%s\n", b.Active(), size[0], size[1], strings.Repeat("─", 40), screentest.Plain(b.View()))
			rec.press(b, "l")
		}
	}
}

func TestAnalystSeesEveryView(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	putDemoScores(t, s)
	c := &common.Context{Ctx: context.Background(), Store: s, Actor: model.Actor{Name: "ana", Role: model.RoleAnalyst, Via: "test"},
		Theme: theme.New(true).WithoutColor(), Keys: keys.New(), Now: screentest.Now}
	b := New(c)
	b.SetSize(120, 37)
	rec := &recorder{}
	rec.settle(b, b.Init())
	for range b.views[1:] {
		rec.press(b, "l")
	}
	for _, v := range b.views {
		assert.True(t, v.state().loaded, v.id())
		assert.NoError(t, v.state().err, v.id())
	}
	assert.Empty(t, rec.toasts())
	assert.Contains(t, screentest.Plain(b.views[1].view()), "Champions")
}

func TestCohortScrolling(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	b, rec := testBox(t, s, 80, 21)
	rec.press(b, "l", "l")
	require.Equal(t, "cohorts", b.Active())
	v := b.views[2].(*cohorts)
	n := len(v.data.matrix.Cohorts)
	rows := v.visibleRows()
	require.Greater(t, n, rows, "the test needs more cohorts than rows")
	assert.Equal(t, n-rows, v.top, "the newest cohorts show first")
	assert.Contains(t, screentest.Plain(b.View()), "Mar 26")

	rec.press(b, "k", "k")
	assert.Equal(t, n-rows-2, v.top)
	rec.press(b, "g")
	assert.Equal(t, 0, v.top)
	assert.Contains(t, screentest.Plain(b.View()), "Apr 24")
	rec.press(b, "k")
	assert.Equal(t, 0, v.top, "scrolling stops at the oldest cohort")
	rec.settle(b, b.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown, Y: 5}))
	assert.Equal(t, 1, v.top)
	rec.press(b, "G")
	assert.Equal(t, n-rows, v.top)

	// The wheel over another view does not scroll the hidden cohorts.
	rec.press(b, "l")
	rec.settle(b, b.Update(tea.MouseWheelMsg{Button: tea.MouseWheelUp, Y: 5}))
	assert.Equal(t, n-rows, v.top)
}

func TestColourThemeKeepsTheLayout(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	putDemoScores(t, s)
	b, rec := testBox(t, s, 100, 30)
	b.c.Theme = theme.New(false) // as the App does on a BackgroundColorMsg
	for range b.views {
		b.SetTheme(b.c.Theme)
		lines := strings.Split(b.View(), "\n")
		require.Len(t, lines, 30)
		for i, l := range lines {
			require.Equal(t, 100, widthOf(l), "%s line %d", b.Active(), i)
		}
		assert.Contains(t, b.View(), "\x1b[", "the colour theme styles the screen")
		rec.press(b, "l")
	}
}

func TestRefreshKeyReloadsTheVisibleView(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	b, rec := testBox(t, s, 100, 30)
	ov := b.views[0].(*overview)
	seq := ov.ld.seq
	rec.press(b, "r")
	assert.Equal(t, seq+1, ov.ld.seq)
	assert.False(t, b.views[1].state().loaded, "r reloads only what is shown")
}
