package customers

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/internal/screentest"
	"karton/tui/keys"
	"karton/tui/theme"
)

// harness drives a Box the way the App does, synchronously: every command
// runs at once and its message is fed back, so a test sees the settled
// state after each key. Toasts the box asks for are collected.
type harness struct {
	t      *testing.T
	b      *Box
	s      *store.Store
	c      *common.Context
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
	c := newContext(s, actor)
	hs := &harness{t: t, b: New(c), s: s, c: c}
	hs.b.SetSize(w, h)
	hs.run(hs.b.Init())
	return hs
}

// press sends key presses, each followed by everything it sets off.
func (h *harness) press(keys ...string) {
	for _, k := range keys {
		h.send(screentest.KeyPress(k))
	}
}

// typeText sends the runes of s as key presses.
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
// cursor blinks are not followed (they would tick forever); tea.Quit ends.
// A blink command waits half a second before it answers, so it is
// recognised by its function's name and never started.
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
	case previewDueMsg:
		h.send(m)
		return
	}
	// tea.Sequence returns an unexported slice of commands.
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

// screen is the box's view without styling.
func (h *harness) screen() string { return screentest.Plain(h.b.View()) }

// lastToast returns the text of the newest toast ("" when none).
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

// visibleIDs are the customers on screen in the table, top to bottom.
func (h *harness) visibleIDs() []model.CustomerID {
	var ids []model.CustomerID
	for _, r := range h.b.list.table.VisibleRows() {
		_, id := splitRowKey(r.Key)
		ids = append(ids, id)
	}
	return ids
}

// customer reads a customer as the admin sees it.
func customer(t *testing.T, s *store.Store, id model.CustomerID) model.Customer {
	t.Helper()
	var c model.Customer
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		var err error
		c, err = r.Customer(id)
		return err
	}))
	return c
}

// findCustomer returns the first customer (by id) for which ok holds.
func findCustomer(t *testing.T, s *store.Store, ok func(r *store.Reader, c model.Customer) bool) model.Customer {
	t.Helper()
	var found model.Customer
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		var after []byte
		for {
			page, err := r.CustomerPage(store.PageQuery{Order: store.ByID, After: after, Limit: 200})
			if err != nil {
				return err
			}
			for _, row := range page.Rows {
				if ok(r, row.Customer) {
					found = row.Customer
					return nil
				}
				after = row.Pos
			}
			if !page.More {
				return nil
			}
		}
	}))
	require.NotZero(t, found.ID, "no customer in the demo store fits the test")
	return found
}

// decision checks one scope for a customer now.
func decision(t *testing.T, s *store.Store, id model.CustomerID, k model.ChannelKind, purpose string) model.Decision {
	t.Helper()
	var d model.Decision
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		p, err := r.PurposeByName(purpose)
		if err != nil {
			return err
		}
		res, err := r.Check(store.CheckInput{Customer: id, Channel: k, Purpose: p.ID})
		d = res.Decision
		return err
	}))
	return d
}
