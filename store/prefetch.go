package store

import (
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// customerPrefetch finds and decodes the existing customers of a batch of
// rows ahead of the loop that writes the rows, on the other cores: the
// loop's customers are ready when it gets to them instead of being read
// and decoded one by one. Each worker reads through a read transaction of
// its own, which sees exactly what the write transaction saw when it began
// (no other commit can come in between); customers the write transaction
// creates are not found there and left to it, as is anything a worker
// could not load. The rows are handed out in blocks, round robin; done[b]
// is closed when block b is done.
//
// The loop hands a prefetched customer to its transaction only if the
// transaction has not loaded that customer yet (Tx.adoptCustomer), so a
// snapshot never replaces what the transaction changed.
type customerPrefetch struct {
	done    []chan struct{}
	next    int // the first block the loop has not waited for
	stopped atomic.Bool
	wg      sync.WaitGroup
}

const prefetchBlock = 256

// prefetchView is what a prefetch worker reads through.
type prefetchView struct {
	emails, customers, sources *bolt.Bucket
	loaded                     map[model.CustomerID]*cachedCustomer
}

// byEmail finds the customer holding a normalized email address (0 if
// none).
func (v *prefetchView) byEmail(norm string) model.CustomerID {
	if norm == "" {
		return 0
	}
	if val := v.emails.Get([]byte(norm)); val != nil {
		return model.CustomerID(readU64(val))
	}
	return 0
}

// bySource finds the customer a source system's id names (0 if none).
func (v *prefetchView) bySource(source, externalID string) model.CustomerID {
	if externalID == "" {
		return 0
	}
	if val := v.sources.Get(sourceKey(source, externalID)); val != nil {
		return model.CustomerID(readU64(val))
	}
	return 0
}

// customer loads and decodes a customer once per worker (nil if there is
// none or it cannot be decoded; the transaction then reads it itself).
func (v *prefetchView) customer(cid model.CustomerID) *cachedCustomer {
	if cid == 0 {
		return nil
	}
	if cc, ok := v.loaded[cid]; ok {
		return cc
	}
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], uint64(cid))
	val := v.customers.Get(key[:])
	if val == nil {
		return nil
	}
	old := new(model.Customer)
	if decodeCustomer(val, old) != nil {
		return nil
	}
	cc := &cachedCustomer{old: old, cur: cloneCustomer(old)}
	v.loaded[cid] = cc
	return cc
}

// prefetchCustomers runs load for rows 0..n-1 on the other cores; load
// finds row i's customer through the view and keeps it where the loop
// will look (the row, a slice of the caller's).
func (t *Tx) prefetchCustomers(n int, load func(v *prefetchView, i int)) *customerPrefetch {
	blocks := (n + prefetchBlock - 1) / prefetchBlock
	pf := &customerPrefetch{done: make([]chan struct{}, blocks)}
	for b := range pf.done {
		pf.done[b] = make(chan struct{})
	}
	workers := min(max(1, runtime.GOMAXPROCS(0)-1), blocks)
	for w := range workers {
		pf.wg.Go(func() {
			rtx, err := t.s.db.Begin(false)
			if err == nil {
				defer rtx.Rollback()
			}
			var v prefetchView
			if err == nil {
				v = prefetchView{emails: rtx.Bucket(bCustEmail), customers: rtx.Bucket(bCustomers), sources: rtx.Bucket(bCustSource),
					loaded: make(map[model.CustomerID]*cachedCustomer)}
			}
			for b := w; b < blocks; b += workers {
				if err == nil && !pf.stopped.Load() {
					for i := b * prefetchBlock; i < min(n, (b+1)*prefetchBlock); i++ {
						load(&v, i)
					}
				}
				close(pf.done[b])
			}
		})
	}
	return pf
}

// wait returns when row i has been looked at.
func (pf *customerPrefetch) wait(i int) {
	for ; pf.next <= i/prefetchBlock; pf.next++ {
		<-pf.done[pf.next]
	}
}

// stop ends the workers (the rest of their blocks are skipped) and waits
// for them: their read transactions must end before the write
// transaction does.
func (pf *customerPrefetch) stop() {
	pf.stopped.Store(true)
	pf.wg.Wait()
}

// adoptCustomer hands a prefetched customer to the transaction unless it
// has loaded that customer already.
func (t *Tx) adoptCustomer(id model.CustomerID, cc *cachedCustomer) {
	if cc == nil || id == 0 {
		return
	}
	if t.customers == nil {
		t.customers = make(map[model.CustomerID]*cachedCustomer)
	}
	if _, ok := t.customers[id]; !ok {
		t.customers[id] = cc
	}
}
