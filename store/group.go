package store

import (
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// Committer groups concurrent small write transactions into shared
// commits. A commit fsyncs, which costs about half a millisecond here, so
// a server writing one consent event per HTTP request would top out near
// 2,000 requests a second with Store.Update. Through a Committer, the
// requests that arrive while one commit is running are written together
// in the next one: a lone request waits for nothing, and under load each
// fsync carries many requests.
//
// Each function runs with its own Tx (own actor, clock reading, audit
// entry, counters) inside the shared bbolt transaction, one after the
// other, so the result is the same as running them one by one in that
// order. When a function fails, the shared transaction is rolled back,
// that function gets its error, and the others run again in a new
// transaction. Functions must therefore be safe to run more than once:
// they may only change state outside the Tx by assigning results that a
// later run overwrites (like bbolt's DB.Batch).
type Committer struct {
	s   *Store
	max int

	mu      sync.Mutex
	queue   []*groupCall
	running bool
}

type groupCall struct {
	by   model.Actor
	fn   func(tx *Tx) error
	done chan error
}

// NewCommitter returns a committer that puts at most maxGroup functions
// into one commit (default 512 when maxGroup <= 0): a bound on how long
// the write lock is held and on what one failure makes run again.
func (s *Store) NewCommitter(maxGroup int) *Committer {
	if maxGroup <= 0 {
		maxGroup = 512
	}
	return &Committer{s: s, max: maxGroup}
}

// Update runs fn in a write transaction as the given actor, sharing the
// commit with other concurrent calls, and returns once that commit is
// durable (or fn's error). As with Store.Update, nothing fn wrote remains
// when it returns an error, and subscribers learn of the changes after
// the commit. While a bulk load runs it returns ErrBulkLoad.
func (c *Committer) Update(by model.Actor, fn func(tx *Tx) error) error {
	if c.s.bulk.Load() != nil {
		return ErrBulkLoad
	}
	call := &groupCall{by: by, fn: fn, done: make(chan error, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, call)
	if !c.running {
		c.running = true
		go c.loop()
	}
	c.mu.Unlock()
	return <-call.done
}

// loop commits what is queued, group by group, and ends when the queue is
// empty; the next Update starts it again.
func (c *Committer) loop() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		n := min(len(c.queue), c.max)
		group := make([]*groupCall, n)
		copy(group, c.queue)
		c.queue = c.queue[n:]
		if len(c.queue) == 0 {
			c.queue = nil // let the backing array go
		}
		c.mu.Unlock()
		c.commit(group)
	}
}

// commit writes a group in one transaction, dropping failed functions
// (each answered with its error) until the rest commits.
func (c *Committer) commit(group []*groupCall) {
	for len(group) > 0 {
		txs := make([]*Tx, 0, len(group))
		failed := -1
		var failErr error
		err := c.s.db.Update(func(btx *bolt.Tx) error {
			txs = txs[:0]
			var prev *Tx
			for i, call := range group {
				t := &Tx{s: c.s, tx: btx, actor: call.by, now: c.s.now()}
				if prev != nil {
					// bbolt holds on to every key and value until the commit,
					// and so does the slab they were kept in: the group's Txs
					// share one instead of allocating one each.
					t.slab, t.scratch = prev.slab, prev.scratch
				}
				prev = t
				if err := runGuarded(t, call.fn); err != nil {
					failed, failErr = i, err
					return err
				}
				txs = append(txs, t)
			}
			return nil
		})
		if err == nil {
			c.published(txs)
			for _, call := range group {
				call.done <- nil
			}
			return
		}
		if failed < 0 {
			// The commit itself failed (disk full, file closed): nothing
			// was written for anyone.
			for _, call := range group {
				call.done <- err
			}
			return
		}
		group[failed].done <- failErr
		group = append(group[:failed:failed], group[failed+1:]...)
	}
}

// runGuarded runs one function and its flush; a panic becomes that
// function's error, so one bad request cannot take the server down or
// leave the others waiting.
func runGuarded(t *Tx, fn func(tx *Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in a grouped write: %v", r)
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	return t.flush()
}

// published runs the commit hooks of every Tx of a committed group and
// announces their changes as one batch.
func (c *Committer) published(txs []*Tx) {
	var changes map[Change]struct{}
	for _, t := range txs {
		for _, f := range t.commitFns {
			f()
		}
		for ch := range t.changes {
			if changes == nil {
				changes = make(map[Change]struct{})
			}
			changes[ch] = struct{}{}
		}
	}
	if len(changes) > 0 {
		c.s.feed.publish(changes)
	}
}
