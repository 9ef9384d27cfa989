package serve

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"karton/tui/common"
)

// A service's task (the dispatcher sending) shows in every session's
// status bar, and goes away in every one when it ends: messages arrive in
// the order they were broadcast.
func TestBroadcastShowsAServiceTaskInEverySession(t *testing.T) {
	f := newFixture(t)
	a := f.connect("olga")
	b := f.connect("anna")
	a.waitFor("2 online")
	b.waitFor("2 online")

	f.srv.Broadcast(common.TaskStartedMsg{ID: "dispatch", Label: "dispatch: sending"})
	for i := range 20 {
		f.srv.Broadcast(common.TaskProgressMsg{ID: "dispatch", Label: "dispatch: " + strings.Repeat("·", i%3) + "sent"})
	}
	f.srv.Broadcast(common.TaskProgressMsg{ID: "dispatch", Label: "dispatch: 42 sent"})
	for _, c := range []*client{a, b} {
		screen := c.waitFor("dispatch: 42 sent")
		// Only the newest label shows: no earlier progress is left over.
		require.Equal(t, 1, strings.Count(screen, "dispatch:"), "one task label in\n%s", screen)
	}
	f.srv.Broadcast(common.TaskEndedMsg{ID: "dispatch"})
	for _, c := range []*client{a, b} {
		screen := c.waitUntil("the task to end", func(screen string) bool { return !strings.Contains(screen, "dispatch:") })
		require.Contains(t, screen, "2 online", "the status bar is still there after the task")
	}
}
