package dispatch

import (
	"context"
	"sync/atomic"
)

// Dry is the connector for demos and rehearsals: it accepts every message,
// sends nothing anywhere and counts what it was given.
type Dry struct {
	sent   atomic.Uint64
	closed atomic.Bool
}

// Send counts the message.
func (d *Dry) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.closed.Load() {
		return ErrClosed
	}
	d.sent.Add(1)
	return nil
}

// Sync has nothing to make durable.
func (d *Dry) Sync() error { return nil }

// Close stops accepting messages.
func (d *Dry) Close() error {
	d.closed.Store(true)
	return nil
}

// Sent is how many messages Send accepted.
func (d *Dry) Sent() uint64 { return d.sent.Load() }
