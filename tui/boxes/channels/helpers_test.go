package channels

import (
	"context"
	"errors"
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
	"karton/store/dispatch"
	"karton/tui/common"
	"karton/tui/internal/screentest"
	"karton/tui/keys"
	"karton/tui/theme"
)

// harness drives a Box the way the App does, synchronously: every command
// runs at once and its message is fed back, so a test sees the settled
// state after each key. Toasts and status-bar tasks are collected.
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
	// Coalescing delays would make every test wait; a millisecond keeps
	// the tick path under test.
	hs.b.delay, hs.b.covDelay = time.Millisecond, time.Millisecond
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

// channels reads the store's channels as the admin.
func channels(t *testing.T, s *store.Store) []model.Channel {
	t.Helper()
	var out []model.Channel
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		var err error
		out, err = r.Channels()
		return err
	}))
	return out
}

// refusing is a connector that refuses every message for good.
type refusing struct{}

func (refusing) Send(context.Context, dispatch.Message) error {
	return &dispatch.SendError{Permanent: true, Code: 550, Err: errors.New("print shop rejected the address")}
}
func (refusing) Sync() error  { return nil }
func (refusing) Close() error { return nil }

// withDeadLetters launches the demo's approved postal step and dispatches
// it through a connector that refuses every letter, so the postal channel
// has dead letters. It returns the postal channel and the number of dead
// letters.
func withDeadLetters(t *testing.T, s *store.Store) (model.Channel, int) {
	t.Helper()
	var step model.Step
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		cs, err := r.Campaigns()
		if err != nil {
			return err
		}
		for _, c := range cs {
			sts, err := r.Steps(c.ID)
			if err != nil {
				return err
			}
			for _, st := range sts {
				if c.Status == model.StatusApproved && st.Name == "Postkarte Bestkunden" {
					step = st
				}
			}
		}
		return nil
	}))
	require.NotZero(t, step.ID)
	_, err := s.Launch(context.Background(), screentest.Admin, step.ID, store.LaunchOptions{})
	require.NoError(t, err)
	d, err := store.NewDispatcher(s, screentest.Admin, store.DispatcherOptions{Connect: func(model.Channel) (dispatch.Connector, error) { return refusing{}, nil }})
	require.NoError(t, err)
	defer d.Close()
	rep, err := d.RunOnce(context.Background())
	require.NoError(t, err)
	require.Positive(t, rep.Dead)
	var ch model.Channel
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		ch, err = r.Channel(step.ChannelID)
		return err
	}))
	return ch, rep.Dead
}

// indexOf is the table position of a channel (channels are listed by id).
func indexOf(t *testing.T, s *store.Store, id model.ChannelID) int {
	for i, ch := range channels(t, s) {
		if ch.ID == id {
			return i
		}
	}
	t.Fatalf("no channel %d", id)
	return 0
}
