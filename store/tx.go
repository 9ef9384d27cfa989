package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// Tx is one write transaction on behalf of an actor. Every write the
// product makes goes through a Tx method, which checks the actor's
// permission, keeps indexes and counters consistent and appends to the audit
// chain — all of it committed together or not at all.
//
// Work that many records share is gathered and written once at the end:
// counter deltas, and customers whose aggregates changed (a demo customer
// with ten interactions is rewritten once, not ten times).
type Tx struct {
	s     *Store
	tx    *bolt.Tx
	actor model.Actor
	now   time.Time
	// bulk is set in the transactions of a bulk load (see BeginBulkLoad).
	bulk *BulkLoad

	counters      map[string]int64
	customers     map[model.CustomerID]*cachedCustomer
	knownPurposes map[model.PurposeID]struct{} // known to exist
	audit         auditHead
	changes       map[Change]struct{}
	commitFns     []func()

	// Consent projection: customers whose decisions must be recomputed at
	// the end, their cached projections, and the purposes (read once).
	consentDirty map[model.CustomerID]*dirtyScopes
	states       map[model.CustomerID]*ConsentState
	purposes     []model.Purpose
	profiling    []model.PurposeID
	steps        map[model.StepID]*model.Step
	recount      bool // RebuildConsentState: counters were reset
	// projectionsWritten counts the projections flushConsentState wrote.
	projectionsWritten int
	rollups            map[rollupKey]rollupVal

	// deferConsentPuts (set by ImportConsents) gathers the ledger's
	// customer-clustered records in consentPuts and writes them in key
	// order at the end, with the projections (flushImportedConsents).
	// Nothing in such a transaction may read consent history before the
	// flush.
	deferConsentPuts bool
	consentPuts      []keyVal

	// indexOps are the changes of the customer indexes that writeCustomer
	// keys by text, time or value; flush applies them in key order
	// (flushIndexOps), because bbolt inserts a sorted run of keys into a
	// page far faster than the same keys scattered.
	indexOps [numDeferred][]indexOp
	// indexHint is the capacity for a list of indexOps: two per customer
	// the flush writes (an old and a new key).
	indexHint int
	// deferOrderPuts (set by purchase imports) gathers the order index
	// entries in orderPuts, written in key order at the end. The import
	// announces its order keys (lookupOrders), so that only keys it
	// announced twice need to be found among the gathered ones
	// (orderTwice: nil until put).
	deferOrderPuts bool
	// importKeyPuts gathers the keys an import records for its rows
	// (putImportKey), written in key order at the end: the rows come in
	// customer or file order, which scatters their keys, and while the
	// bucket is small every insert lands in one leaf and shifts all the
	// entries after it (300k interaction rows spent 8 of 11 s there).
	// importKeyAt finds a gathered key's position.
	importKeyPuts []keyVal
	importKeyAt   map[string]int
	orderPuts     []keyVal
	orderTwice    map[string][]byte
	// orderMiss is the last order key found nowhere (in a deferring
	// transaction), so that the check right before recording the order
	// does not search again.
	orderMiss []byte

	// bbolt keeps a reference to every key and value until commit, so
	// records are encoded into scratch and copied into slab, a few large
	// allocations instead of one per record.
	scratch []byte
	slab    []byte
}

type cachedCustomer struct {
	old   *model.Customer // as stored before this transaction; nil if new
	cur   *model.Customer
	dirty bool
	// created says the transaction created the customer (so nothing of
	// it was stored before); derived may hold values derived from its
	// record ahead of the writer (see derivedFacts).
	created bool
	derived *derivedFacts
}

// Update runs fn in a write transaction as the given actor. If fn returns
// an error nothing is written. Subscribers learn about the changes after
// the commit. While a bulk load runs it returns ErrBulkLoad.
func (s *Store) Update(by model.Actor, fn func(tx *Tx) error) error {
	if s.bulk.Load() != nil {
		return ErrBulkLoad
	}
	return s.update(by, nil, fn)
}

// update runs a write transaction; bulk is the bulk load it belongs to,
// if any.
func (s *Store) update(by model.Actor, bulk *BulkLoad, fn func(tx *Tx) error) error {
	var t *Tx
	err := s.db.Update(func(btx *bolt.Tx) error {
		t = &Tx{s: s, tx: btx, actor: by, now: s.now(), bulk: bulk}
		if err := fn(t); err != nil {
			return err
		}
		return t.flush()
	})
	if err != nil {
		return err
	}
	for _, f := range t.commitFns {
		f()
	}
	if len(t.changes) > 0 {
		s.feed.publish(t.changes)
	}
	return nil
}

// View runs fn in a read transaction. Keep it short: a long read
// transaction stops bbolt from reusing pages and makes the file grow.
func (s *Store) View(by model.Actor, fn func(r *Reader) error) error {
	return s.db.View(func(btx *bolt.Tx) error {
		return fn(&Reader{s: s, tx: btx, actor: by})
	})
}

// Actor is who this transaction acts for.
func (t *Tx) Actor() model.Actor { return t.actor }

// Now is the transaction's clock reading, the same for all its records.
func (t *Tx) Now() time.Time { return t.now }

// Reader answers queries inside a Tx as well, so an operation can read
// what it has written so far.
func (t *Tx) Reader() *Reader { return &Reader{s: t.s, tx: t.tx, actor: t.actor, w: t} }

func (t *Tx) require(p model.Permission, action string) error {
	return t.actor.Require(p, action)
}

func (t *Tx) bucket(name []byte) *bolt.Bucket {
	b := t.tx.Bucket(name)
	switch {
	case b == nil:
	case appendOnly[string(name)]:
		b.FillPercent = 1.0
	case t.bulk != nil && bulkAppendBuckets[string(name)]:
		// A bulk load appends at the right edge of these buckets; half-full
		// pages (bbolt's default split) would double what each commit
		// writes.
		b.FillPercent = 0.95
	}
	return b
}

func (t *Tx) count(name string, delta int64) {
	if t.counters == nil {
		t.counters = make(map[string]int64)
	}
	t.counters[name] += delta
}

func (t *Tx) change(kind ChangeKind, id uint64) {
	if t.changes == nil {
		t.changes = make(map[Change]struct{})
	}
	if len(t.changes) > feedLimit {
		return // published as one bulk change anyway (feed.publish)
	}
	t.changes[Change{Kind: kind, ID: id}] = struct{}{}
}

// onCommit runs f after a successful commit (to update in-memory state that
// must not change if the transaction rolls back).
func (t *Tx) onCommit(f func()) { t.commitFns = append(t.commitFns, f) }

// flush writes what was gathered: customers in id order (sequential keys),
// then counters, then the audit head.
func (t *Tx) flush() error {
	if len(t.customers) > 0 {
		ids := make([]model.CustomerID, 0, len(t.customers))
		for id, c := range t.customers {
			if c.dirty {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		t.indexHint = 2 * len(ids)
		for _, id := range ids {
			if err := t.writeCustomer(t.customers[id]); err != nil {
				return err
			}
		}
	}
	// The gathered index changes and order entries are sorted on another
	// goroutine while the consent projection is written (which reads and
	// writes neither), then applied.
	sorted := make(chan []int, 1)
	sortAll := func() {
		t.sortIndexOps()
		sorted <- t.orderPutOrder()
	}
	n := len(t.orderPuts)
	for _, ops := range t.indexOps {
		n += len(ops)
	}
	if n > 4096 {
		go sortAll()
	} else {
		sortAll() // not worth a goroutine
	}
	var errConsent error
	if t.deferConsentPuts {
		// An import's batch: ledger records and projections in one.
		errConsent = t.flushImportedConsents()
	} else {
		errConsent = t.flushConsentPuts()
		if errConsent == nil {
			errConsent = t.flushConsentState()
		}
	}
	orderOrder := <-sorted
	if errConsent != nil {
		return errConsent
	}
	if err := t.flushIndexOps(); err != nil {
		return err
	}
	if err := t.flushOrderPuts(orderOrder); err != nil {
		return err
	}
	if err := t.flushImportKeys(); err != nil {
		return err
	}
	if err := t.flushRollups(); err != nil {
		return err
	}
	if len(t.counters) > 0 {
		b := t.bucket(bCounters)
		names := make([]string, 0, len(t.counters))
		for n := range t.counters {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			v := int64(readU64(b.Get([]byte(n)))) + t.counters[n]
			if err := b.Put([]byte(n), u64(uint64(v))); err != nil {
				return err
			}
		}
	}
	return t.audit.flush(t)
}

// nextID hands out the next id of a bucket's sequence.
func (t *Tx) nextID(bucket []byte) (uint64, error) {
	id, err := t.bucket(bucket).NextSequence()
	if err != nil {
		return 0, fmt.Errorf("next id in %s: %w", bucket, err)
	}
	return id, nil
}

// keep copies b into the transaction's slab and returns the copy, which
// stays valid (and unchanged) until the transaction ends.
func (t *Tx) keep(b []byte) []byte {
	if len(b) > cap(t.slab)-len(t.slab) {
		t.slab = make([]byte, 0, max(64<<10, len(b)))
	}
	start := len(t.slab)
	t.slab = append(t.slab, b...)
	t.scratch = b // reuse the (possibly grown) scratch buffer
	return t.slab[start:len(t.slab):len(t.slab)]
}

// indexOp is a deferred change of a customer index: key goes in, or out.
// p0 and p1 are the key's first sixteen bytes, which settle most
// comparisons of the sort; seq keeps the order of changes to one key.
type indexOp struct {
	p0, p1 uint64
	key    []byte
	seq    int
	del    bool
}

// addIndexOp gathers a change of the index at position i of
// deferredIndexes.
func (t *Tx) addIndexOp(i int, key []byte, del bool) {
	if t.indexOps[i] == nil {
		t.indexOps[i] = make([]indexOp, 0, max(16, t.indexHint))
	}
	var p [16]byte
	copy(p[:], key)
	t.indexOps[i] = append(t.indexOps[i], indexOp{p0: binary.BigEndian.Uint64(p[:8]), p1: binary.BigEndian.Uint64(p[8:]),
		key: key, seq: len(t.indexOps[i]), del: del})
}

// sortIndexOps puts the gathered index changes of each index in key order
// (changes of one key in the order they were made). It touches nothing
// but the lists, so it may run beside other work of the flush.
func (t *Tx) sortIndexOps() {
	for _, ops := range t.indexOps {
		slices.SortFunc(ops, func(a, b indexOp) int {
			switch {
			case a.p0 < b.p0:
				return -1
			case a.p0 > b.p0:
				return 1
			case a.p1 < b.p1:
				return -1
			case a.p1 > b.p1:
				return 1
			}
			if c := bytes.Compare(a.key, b.key); c != 0 {
				return c
			}
			return a.seq - b.seq
		})
	}
}

// flushIndexOps applies the sorted index changes, index by index.
func (t *Tx) flushIndexOps() error {
	for i, ops := range t.indexOps {
		if len(ops) == 0 {
			continue
		}
		b := t.bucket(deferredIndexes[i])
		for _, op := range ops {
			var err error
			if op.del {
				err = b.Delete(op.key)
			} else {
				err = b.Put(op.key, nil)
			}
			if err != nil {
				return err
			}
		}
		t.indexOps[i] = nil
	}
	return nil
}

// orderRef finds the purchase key an order key points to, including the
// entries this transaction deferred; nil if there is none.
func (t *Tx) orderRef(key []byte) []byte {
	if !t.deferOrderPuts {
		return t.tx.Bucket(bPurchaseOrders).Get(key)
	}
	if t.orderMiss != nil && bytes.Equal(key, t.orderMiss) {
		return nil
	}
	if v := t.orderTwice[string(key)]; v != nil {
		return v
	}
	// Not expected in an import (its keys were announced): look among
	// all the gathered entries.
	for i := len(t.orderPuts) - 1; i >= 0; i-- {
		if bytes.Equal(t.orderPuts[i].k, key) {
			return t.orderPuts[i].v
		}
	}
	return t.tx.Bucket(bPurchaseOrders).Get(key)
}

// lookupOrders finds the stored purchase keys of order keys (nil where
// there is none), in the order given, and reports which keys come more
// than once. It asks the index in key order, which finds its pages in
// cache far more often than asking in the callers' order. In a deferring
// transaction it announces the keys (see orderFound).
func (t *Tx) lookupOrders(keys [][]byte) (stored [][]byte, twice []bool) {
	order := sortedKeyOrder(keys)
	stored, twice = make([][]byte, len(keys)), make([]bool, len(keys))
	c := t.tx.Bucket(bPurchaseOrders).Cursor()
	for j, i := range order {
		if j > 0 && bytes.Equal(keys[i], keys[order[j-1]]) {
			twice[i], twice[order[j-1]] = true, true
			stored[i] = stored[order[j-1]]
			if t.deferOrderPuts && len(keys[i]) > 0 {
				if t.orderTwice == nil {
					t.orderTwice = make(map[string][]byte)
				}
				t.orderTwice[string(keys[i])] = nil
			}
			continue
		}
		if found, v := c.Seek(keys[i]); len(keys[i]) > 0 && bytes.Equal(found, keys[i]) {
			stored[i] = v
		}
	}
	return stored, twice
}

// orderFound is what the order index holds for an announced key: an
// entry this transaction deferred (only a key announced twice can have
// one), else stored, what lookupOrders found. A key found nowhere is
// remembered for orderRef until the next putOrder.
func (t *Tx) orderFound(key, stored []byte, twice bool) []byte {
	v := stored
	if twice {
		if p := t.orderTwice[string(key)]; p != nil {
			v = p
		}
	}
	if v == nil && t.deferOrderPuts {
		t.orderMiss = key
	}
	return v
}

// putOrder points an order key at a purchase key, now or (deferOrderPuts)
// at the end of the transaction.
func (t *Tx) putOrder(key, purchaseKey []byte) error {
	if !t.deferOrderPuts {
		return t.bucket(bPurchaseOrders).Put(key, purchaseKey)
	}
	t.orderPuts = append(t.orderPuts, keyVal{key, purchaseKey})
	if _, ok := t.orderTwice[string(key)]; ok {
		t.orderTwice[string(key)] = purchaseKey
	}
	t.orderMiss = nil
	return nil
}

// orderPutOrder returns the positions of the deferred order entries in
// key order. Like sortIndexOps it may run beside other work of the flush.
func (t *Tx) orderPutOrder() []int {
	if len(t.orderPuts) == 0 {
		return nil
	}
	keys := make([][]byte, len(t.orderPuts))
	for i, kv := range t.orderPuts {
		keys[i] = kv.k
	}
	return sortedKeyOrder(keys)
}

// flushOrderPuts writes the deferred order index entries in key order
// (order, from orderPutOrder).
func (t *Tx) flushOrderPuts(order []int) error {
	if len(t.orderPuts) == 0 {
		return nil
	}
	b := t.bucket(bPurchaseOrders)
	for _, i := range order {
		if err := b.Put(t.orderPuts[i].k, t.orderPuts[i].v); err != nil {
			return err
		}
	}
	t.orderPuts, t.orderTwice = nil, nil
	return nil
}

// putImportKey gathers an import key for flushImportKeys; a key gathered
// again takes the later value, as a second Put would.
func (t *Tx) putImportKey(key, val []byte) {
	if t.importKeyAt == nil {
		t.importKeyAt = make(map[string]int)
	}
	if i, ok := t.importKeyAt[string(key)]; ok {
		t.importKeyPuts[i].v = val
		return
	}
	t.importKeyAt[string(key)] = len(t.importKeyPuts)
	t.importKeyPuts = append(t.importKeyPuts, keyVal{key, val})
}

// pendingImportKey returns the value gathered for an import key in this
// transaction (nil if none).
func (t *Tx) pendingImportKey(key []byte) []byte {
	if i, ok := t.importKeyAt[string(key)]; ok {
		return t.importKeyPuts[i].v
	}
	return nil
}

// flushImportKeys writes the gathered import keys in key order.
func (t *Tx) flushImportKeys() error {
	if len(t.importKeyPuts) == 0 {
		return nil
	}
	b, err := t.ensure(bImportKeys)
	if err != nil {
		return err
	}
	keys := make([][]byte, len(t.importKeyPuts))
	for i, kv := range t.importKeyPuts {
		keys[i] = kv.k
	}
	for _, i := range sortedKeyOrder(keys) {
		if err := b.Put(t.importKeyPuts[i].k, t.importKeyPuts[i].v); err != nil {
			return err
		}
	}
	t.importKeyPuts, t.importKeyAt = nil, nil
	return nil
}

// sortedKeyOrder returns the positions of keys in key order. Keys that
// share a long prefix (a source name, an order number's first digits) are
// told apart by the sixteen bytes after their common prefix, which
// settles most comparisons without reaching the keys.
func sortedKeyOrder(keys [][]byte) []int {
	type item struct {
		p0, p1 uint64
		i      int
	}
	common := 0
	if len(keys) > 0 {
		common = len(keys[0])
		for _, k := range keys[1:] {
			n := 0
			for n < common && n < len(k) && k[n] == keys[0][n] {
				n++
			}
			common = n
		}
	}
	items := make([]item, len(keys))
	for i, k := range keys {
		var p [16]byte
		copy(p[:], k[common:])
		items[i] = item{binary.BigEndian.Uint64(p[:8]), binary.BigEndian.Uint64(p[8:]), i}
	}
	slices.SortFunc(items, func(x, y item) int {
		switch {
		case x.p0 < y.p0:
			return -1
		case x.p0 > y.p0:
			return 1
		case x.p1 < y.p1:
			return -1
		case x.p1 > y.p1:
			return 1
		}
		if c := bytes.Compare(keys[x.i], keys[y.i]); c != 0 {
			return c
		}
		return x.i - y.i
	})
	out := make([]int, len(items))
	for j, it := range items {
		out[j] = it.i
	}
	return out
}
