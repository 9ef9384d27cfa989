// Package common is what the root App shares with its boxes: the session's
// dependencies (Context), the Box interface every dashboard implements, and
// the messages boxes use to talk to the frame (tasks in the status bar,
// toasts, jumps to another box).
//
// Boxes never import the root tui package and never import each other; a
// box that wants another box to show something (the palette's "jump to
// customer", a campaign's participant) returns a GotoMsg and the App routes
// it. That keeps every box testable on its own with a store in a temp dir.
package common

import (
	"context"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/tui/components/palette"
	"karton/tui/keys"
	"karton/tui/theme"
)

// Context carries one session's dependencies. It is built once per App and
// handed to every box by pointer; the App replaces Theme when the terminal
// background changes and then calls SetTheme on each box.
type Context struct {
	// Ctx ends with the session (the program, or the SSH connection). Long
	// work started by a box (launch, import, analytics) runs under it.
	Ctx   context.Context
	Store *store.Store
	// Actor is who acts in this session; the store checks its role on
	// every operation, the screens hide what the role may not do.
	Actor model.Actor
	Theme *theme.Theme
	Keys  *keys.KeyMap
	// Now is the session's clock (fixed in tests and demos).
	Now func() time.Time
}

// Can reports whether the acting user's role allows p, so screens can hide
// actions the store would refuse anyway.
func (c *Context) Can(p model.Permission) bool { return c.Actor.Can(p) }

// Box is one dashboard shown as a tab. Like every component below the App
// it uses pointer receivers and returns commands instead of models.
type Box interface {
	help.KeyMap

	// Title is the tab's name; Short is used when the titles do not fit.
	Title() string
	Short() string

	// Init starts the box's first loads. It is called once, after the
	// first SetSize.
	Init() tea.Cmd
	// Update receives every message that is not a key press for the
	// frame: key presses while the box is active, mouse events inside
	// it, and every other message (boxes ignore what is not theirs; their
	// replies carry ids and sequence numbers).
	Update(msg tea.Msg) tea.Cmd
	// View draws exactly the size given by SetSize.
	View() string
	SetSize(w, h int)
	SetTheme(th *theme.Theme)

	// Capturing reports that a text input, form or dialog of the box has
	// the keyboard: the App then passes every key (but ctrl+c) to the box
	// and does not act on q, 1–4, tab, ? or :.
	Capturing() bool

	// StoreChanged is called with each batch of committed changes (from
	// another session, the dispatcher, or this session); the box returns
	// the command that reloads what the batch affects, or nil.
	StoreChanged(changes []store.Change) tea.Cmd

	// PaletteItems are the box's actions and static jump targets for the
	// command palette (ids such as "cmd:new-campaign"); PaletteChosen
	// handles one of them, or a search result the box produced (see
	// Searcher), and reports whether it was the box's.
	PaletteItems() []palette.Item
	PaletteChosen(item palette.Item) (tea.Cmd, bool)
}

// Searcher is implemented by boxes that find things for the command palette
// (customers by name or email, campaigns by name). Search runs inside the
// palette's command, off the update loop.
type Searcher interface {
	Search(query string, limit int) ([]palette.Item, error)
}

// Box indices, in tab order.
const (
	BoxChannels = iota
	BoxCampaigns
	BoxCustomers
	BoxWarehouse
)

// GotoMsg asks the App to activate a box and hand it the item, e.g. after
// the palette chose "customer:42" or a campaign's participant was opened.
type GotoMsg struct {
	Box  int
	Item palette.Item
}

// Goto returns the command that emits a GotoMsg.
func Goto(box int, item palette.Item) tea.Cmd {
	return func() tea.Msg { return GotoMsg{Box: box, Item: item} }
}

// TaskStartedMsg shows a running background task in the status bar;
// TaskProgressMsg changes its label; TaskEndedMsg removes it.
type TaskStartedMsg struct{ ID, Label string }

// TaskProgressMsg updates a running task's label ("launch 41% · 410k").
type TaskProgressMsg struct{ ID, Label string }

// TaskEndedMsg removes a task from the status bar.
type TaskEndedMsg struct{ ID string }

// ToastMsg shows a message to the user: Err set makes it a sticky error
// naming What failed; otherwise Text is shown briefly.
type ToastMsg struct {
	Text string
	What string
	Err  error
}

// Info returns the command that shows a short confirmation.
func Info(text string) tea.Cmd { return func() tea.Msg { return ToastMsg{Text: text} } }

// Fail returns the command that shows a sticky error: what failed and why.
func Fail(what string, err error) tea.Cmd {
	return func() tea.Msg { return ToastMsg{What: what, Err: err} }
}

// Items a box hands to the Customers box (with Goto) to show the customers
// behind a figure. The Customers box owns their meaning; other boxes only
// build them, so the format lives here rather than in either box.
const (
	// ItemCustomerFilter + a filter expression ("segment:champions",
	// "clv:100-500 source:shop") applies that filter to the customer table.
	ItemCustomerFilter = "customers:filter:"
	// ItemCustomerIDs + comma-separated customer ids shows exactly those
	// customers; the item's Title says who they are ("email invalid ·
	// shop").
	ItemCustomerIDs = "customers:ids:"
)
