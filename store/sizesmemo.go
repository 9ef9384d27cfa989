package store

import (
	"crypto/sha256"
	"encoding/json"
	"slices"
	"sync"

	"karton/model"
)

// sizesMemo shares segment counts between the callers that ask for the same
// segments of the same committed store state in the same minute: with many
// SSH sessions open, each Campaigns box counts every segment over every
// customer when it starts and after changes, and one pass can serve them
// all. A caller that arrives while the pass runs waits for it instead of
// starting its own.
//
// The key is the read transaction's id (bbolt numbers each committed state),
// the minute of the store clock (recency and age conditions depend on the
// time; a count may be up to a minute behind a boundary, which a list of
// sizes can afford — preflight and launch evaluate on their own) and a hash
// of the segments' definitions.
type sizesMemo struct {
	mu      sync.Mutex
	entries map[sizesKey]*sizesEntry
}

type sizesKey struct {
	txid   int
	minute int64
	defs   [sha256.Size]byte
}

type sizesEntry struct {
	done  chan struct{}
	sizes []int
	errs  []error
	err   error
}

// sizesMemoCap bounds the entries kept; older states are dropped first.
const sizesMemoCap = 16

// do returns the entry for key, computing it with fn unless another caller
// already did or is doing so.
func (m *sizesMemo) do(key sizesKey, fn func() ([]int, []error, error)) ([]int, []error, error) {
	m.mu.Lock()
	if m.entries == nil {
		m.entries = make(map[sizesKey]*sizesEntry)
	}
	e, ok := m.entries[key]
	if !ok {
		e = &sizesEntry{done: make(chan struct{})}
		m.entries[key] = e
		m.evict(key.txid)
	}
	m.mu.Unlock()
	if ok {
		<-e.done
	} else {
		e.sizes, e.errs, e.err = fn()
		if e.err != nil { // a failed pass is not shared: the next caller tries again
			m.mu.Lock()
			delete(m.entries, key)
			m.mu.Unlock()
		}
		close(e.done)
	}
	return slices.Clone(e.sizes), slices.Clone(e.errs), e.err
}

// evict drops finished entries of states older than txid, and the oldest
// finished ones beyond the cap. Called with m.mu held.
func (m *sizesMemo) evict(txid int) {
	for k, e := range m.entries {
		if k.txid < txid && finished(e) {
			delete(m.entries, k)
		}
	}
	for len(m.entries) > sizesMemoCap {
		var oldest *sizesKey
		for k, e := range m.entries {
			if finished(e) && (oldest == nil || k.txid < oldest.txid || (k.txid == oldest.txid && k.minute < oldest.minute)) {
				k := k
				oldest = &k
			}
		}
		if oldest == nil {
			return // all running: they finish soon
		}
		delete(m.entries, *oldest)
	}
}

func finished(e *sizesEntry) bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// segmentsKey hashes what the counts depend on: the segments' ids and
// conditions, in order.
func segmentsKey(segs []model.Segment) ([sha256.Size]byte, error) {
	type def struct {
		ID    model.SegmentID
		Conds []model.Condition
	}
	defs := make([]def, len(segs))
	for i, sg := range segs {
		defs[i] = def{sg.ID, sg.Conditions}
	}
	b, err := json.Marshal(defs)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return sha256.Sum256(b), nil
}
