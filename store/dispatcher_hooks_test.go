package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The run hooks bracket a run that finds work (the cockpit shows a task
// in between) and stay silent when there is none.
func TestDispatcherRunHooks(t *testing.T) {
	f := newFixture(t, 200, 6)
	f.approve(t)
	res := f.launch(t)
	var events []string
	var ended DispatchReport
	d := f.dispatcher(t, DispatcherOptions{
		BatchSize:    30,
		OnRunStarted: func() { events = append(events, "started") },
		OnBatch:      func(DispatchReport) { events = append(events, "batch") },
		OnRunEnded:   func(r DispatchReport) { events = append(events, "ended"); ended = r },
	})
	rep, err := d.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, res.Allowed, rep.Sent)
	require.GreaterOrEqual(t, len(events), 3)
	assert.Equal(t, "started", events[0])
	assert.Equal(t, "ended", events[len(events)-1])
	for _, e := range events[1 : len(events)-1] {
		assert.Equal(t, "batch", e)
	}
	assert.Equal(t, rep, ended)

	events = nil
	_, err = d.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Empty(t, events, "nothing due: no task")
}
