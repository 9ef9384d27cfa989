package campaigns

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/internal/screentest"
	"karton/tui/keys"
	"karton/tui/theme"
)

var (
	manager  = model.Actor{Name: "markus", Role: model.RoleManager, Via: "test"}
	operator = model.Actor{Name: "olga", Role: model.RoleOperator, Via: "test"}
	analyst  = model.Actor{Name: "alex", Role: model.RoleAnalyst, Via: "test"}
	viewer   = model.Actor{Name: "vera", Role: model.RoleViewer, Via: "test"}
)

// harness drives a Box the way the App does, synchronously: every command
// runs at once and its message is fed back, so a test sees the settled
// state after each key. Toasts are collected.
type harness struct {
	t      *testing.T
	b      *Box
	s      *store.Store
	toasts []common.ToastMsg
}

func newContext(s *store.Store, actor model.Actor) *common.Context {
	return &common.Context{
		Ctx: context.Background(), Store: s, Actor: actor,
		Theme: theme.New(true).WithoutColor(), Keys: keys.New(), Now: screentest.Now,
	}
}

func newHarness(t *testing.T, s *store.Store, actor model.Actor, w, h int) *harness {
	t.Helper()
	hs := &harness{t: t, b: New(newContext(s, actor)), s: s}
	hs.b.delay = time.Millisecond
	hs.b.SetSize(w, h)
	hs.run(hs.b.Init())
	return hs
}

func (h *harness) press(keys ...string) {
	for _, k := range keys {
		h.send(screentest.KeyPress(k))
	}
}

func (h *harness) typeText(s string) {
	for _, r := range s {
		if r == ' ' {
			h.press("space")
			continue
		}
		h.press(string(r))
	}
}

func (h *harness) send(msg tea.Msg) { h.run(h.b.Update(msg)) }

// run executes a command and feeds its messages back. Spinner ticks and
// cursor blinks are not followed (they would tick forever).
func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	if fn := runtime.FuncForPC(reflect.ValueOf(cmd).Pointer()); fn != nil && strings.Contains(fn.Name(), "/cursor.") {
		return
	}
	msg := cmd()
	switch m := msg.(type) {
	case nil, tea.QuitMsg:
		return
	case tea.BatchMsg:
		for _, c := range m {
			h.run(c)
		}
		return
	case common.ToastMsg:
		h.toasts = append(h.toasts, m)
		return
	case common.TaskStartedMsg, common.TaskProgressMsg, common.TaskEndedMsg:
		return
	}
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeFor[tea.Cmd]() {
		for i := range v.Len() {
			h.run(v.Index(i).Interface().(tea.Cmd))
		}
		return
	}
	name := fmt.Sprintf("%T", msg)
	if strings.HasPrefix(name, "spinner.") || strings.HasPrefix(name, "cursor.") {
		return
	}
	h.send(msg)
}

func (h *harness) screen() string { return screentest.Plain(h.b.View()) }

func (h *harness) lastToast() string {
	if len(h.toasts) == 0 {
		return ""
	}
	m := h.toasts[len(h.toasts)-1]
	if m.Err != nil {
		return m.What + ": " + m.Err.Error()
	}
	return m.Text
}

// selectWhere moves the cursor to the first campaign matching ok.
func (h *harness) selectWhere(ok func(model.Campaign) bool) model.Campaign {
	h.t.Helper()
	require.NotNil(h.t, h.b.snap)
	for i, cp := range h.b.snap.campaigns {
		if ok(cp) {
			h.b.moveCursor(i - h.b.cursor)
			return cp
		}
	}
	h.t.Fatal("no campaign matches")
	return model.Campaign{}
}

// campaignsOf reads the store's campaigns as the admin.
func campaignsOf(t *testing.T, s *store.Store) []model.Campaign {
	t.Helper()
	var out []model.Campaign
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		var err error
		out, err = r.Campaigns()
		return err
	}))
	return out
}

func campaignOf(t *testing.T, s *store.Store, id model.CampaignID) model.Campaign {
	t.Helper()
	var out model.Campaign
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		var err error
		out, err = r.Campaign(id)
		return err
	}))
	return out
}

// launchable is the first approved campaign with a planned step, and the
// step's index in the campaign.
func launchable(cp model.Campaign, steps []model.Step) (int, bool) {
	if cp.Status != model.StatusApproved {
		return 0, false
	}
	for i, st := range steps {
		if st.Status == model.StepPlanned && st.Creative != "" {
			return i, true
		}
	}
	return 0, false
}

// selectLaunchable puts the cursor on a launchable step.
func (h *harness) selectLaunchable() (model.Campaign, model.Step) {
	h.t.Helper()
	cp := h.selectWhere(func(cp model.Campaign) bool { _, ok := launchable(cp, h.b.snap.steps[cp.ID]); return ok })
	i, _ := launchable(cp, h.b.snap.steps[cp.ID])
	h.b.step = i
	h.b.redraw()
	return cp, h.b.snap.steps[cp.ID][i]
}

// runUntil runs a command like run, but returns the first message stop
// accepts instead of feeding it back (the rest of its batch is dropped).
func (h *harness) runUntil(cmd tea.Cmd, stop func(tea.Msg) bool) tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if stop(msg) {
		return msg
	}
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			if m := h.runUntil(c, stop); m != nil {
				return m
			}
		}
		return nil
	}
	name := fmt.Sprintf("%T", msg)
	if msg == nil || strings.HasPrefix(name, "spinner.") || strings.HasPrefix(name, "common.Task") {
		return nil
	}
	return h.runUntil(h.b.Update(msg), stop)
}
