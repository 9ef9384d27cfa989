package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// Bulk loads: many new customers, written with everything that belongs to
// them in a series of transactions, with the customer indexes whose keys do
// not follow creation order built once at the end, in key order.
//
// Why: those eight indexes (email, name, first name, phone, city, tag, last
// activity, value) take random inserts. With ~1,000 customers per
// transaction every commit rewrites most of their pages, so the cost of a
// load grows with the square of its size: 100,000 demo customers spent 10 of
// 18 s there, a million would take most of an hour. Built afterwards from
// sorted keys, each index page is written once (1M customers: seconds).

// deferredIndexes are the indexes a bulk load builds at the end.
var deferredIndexes = [...][]byte{bCustEmail, bCustName, bCustFirstName, bCustPhone, bCustCity, bCustTag, bCustActivity, bCustValue}

// Positions in deferredIndexes.
const (
	diEmail = iota
	diName
	diFirstName
	diPhone
	diCity
	diTag
	diActivity
	diValue
	numDeferred
)

// bulkAppendBuckets grow at their right edge during a bulk load (the new
// customers' ids are the largest), so their pages can be filled further.
var bulkAppendBuckets = map[string]bool{
	"customers": true, "interactions": true, "purchases": true, "consent": true, "evidence": true,
	"purchase_orders": true, "cust_source": true,
}

// metaBulkPending marks a bulk load that has not finished: it holds the
// first customer id of the load. RebuildCustomerIndexes clears it.
var metaBulkPending = []byte("bulk_pending")

// ErrBulkLoad is returned by Update while a bulk load or an index rebuild
// owns the store: its customers are not yet in all indexes, so nobody else
// may write until it finishes.
var ErrBulkLoad = errors.New("a bulk load is writing to the store; try again when it has finished")

// BulkLoad writes many new customers in a series of transactions (see
// BeginBulkLoad). It is not safe for concurrent use; one goroutine drives
// it.
type BulkLoad struct {
	s     *Store
	by    model.Actor
	first model.CustomerID // the first id the load hands out
	// emails remembers the addresses the load added (by hash, verified
	// against the record on a match), which the email index does not hold
	// until Finish, so that they stay unique.
	seed    maphash.Seed
	emails  map[uint64]model.CustomerID
	collide map[uint64][]model.CustomerID
	// keys collects the deferred index entries of each new customer as it
	// is first written; customers written again later (rewritten) have
	// theirs recomputed from the record at Finish.
	keys      [numDeferred]keyArena
	rewritten map[model.CustomerID]struct{}
	created   int
	done      bool
	// pendingEmails lists the hashes the running transaction added, to
	// forget them if it rolls back.
	pendingEmails *[]uint64
}

// BeginBulkLoad starts a bulk load. Until Finish, the store accepts writes
// only through the load (Store.Update returns ErrBulkLoad), and customers
// the load creates are missing from the email, name, first-name, phone,
// city, tag, activity and value indexes: lists by name, searches and
// lookups by email do not show them yet. Everything else — records, ids,
// aggregates, consent ledger, counters, audit chain, the other indexes — is
// written as usual, and email addresses stay unique.
//
// A marker in the store records the unfinished load; if the process dies
// before Finish, BulkLoadPending reports it and RebuildCustomerIndexes
// repairs the indexes.
func (s *Store) BeginBulkLoad(by model.Actor) (*BulkLoad, error) {
	if err := by.Require(model.PermEditCustomers, "load customers in bulk"); err != nil {
		return nil, err
	}
	b := &BulkLoad{s: s, by: by, seed: maphash.MakeSeed(), emails: make(map[uint64]model.CustomerID), rewritten: make(map[model.CustomerID]struct{})}
	if !s.bulk.CompareAndSwap(nil, b) {
		return nil, ErrBulkLoad
	}
	err := s.update(by, b, func(t *Tx) error {
		meta := t.tx.Bucket(bMeta)
		if v := meta.Get(metaBulkPending); v != nil {
			return fmt.Errorf("an earlier bulk load (from customer %d) did not finish; rebuild the customer indexes first (RebuildCustomerIndexes)", readU64(v))
		}
		b.first = model.CustomerID(t.tx.Bucket(bCustomers).Sequence() + 1)
		return meta.Put(metaBulkPending, u64(uint64(b.first)))
	})
	if err != nil {
		s.bulk.Store(nil)
		return nil, err
	}
	return b, nil
}

// BulkLoadPending reports whether a bulk load or index rebuild was
// interrupted, leaving customers missing from indexes.
func (s *Store) BulkLoadPending() (bool, error) {
	var pending bool
	err := s.db.View(func(tx *bolt.Tx) error {
		pending = tx.Bucket(bMeta).Get(metaBulkPending) != nil
		return nil
	})
	return pending, err
}

// Update runs fn in a write transaction of the load, like Store.Update.
// If fn fails, nothing of it is written and the load can go on.
func (b *BulkLoad) Update(by model.Actor, fn func(tx *Tx) error) error {
	if b.done {
		return errors.New("the bulk load has finished")
	}
	var marks [numDeferred]arenaMark
	for i := range b.keys {
		marks[i] = b.keys[i].mark()
	}
	var added []uint64
	b.pendingEmails = &added
	err := b.s.update(by, b, fn)
	b.pendingEmails = nil
	if err != nil {
		for i := range b.keys {
			b.keys[i].reset(marks[i])
		}
		for _, h := range added {
			delete(b.emails, h)
			delete(b.collide, h)
		}
	}
	return err
}

// Finish adds the load's customers to the deferred indexes, clears the
// marker and lets other writers in again. It runs even when ctx is already
// cancelled only as far as ctx allows; an unfinished Finish leaves the
// marker (see RebuildCustomerIndexes). progress, if set, is called with
// index entries written so far.
func (b *BulkLoad) Finish(ctx context.Context, progress func(done, total int)) error {
	if b.done {
		return nil
	}
	b.done = true
	defer b.s.bulk.Store(nil)
	// Customers written again after their first transaction: their
	// collected keys may be stale, so take the keys from the record.
	if len(b.rewritten) > 0 {
		err := b.s.db.View(func(tx *bolt.Tx) error {
			stale := func(i int, key, val []byte) bool { return isRewritten(b.rewritten, i, key, val) }
			for i := range b.keys {
				b.keys[i].drop(i, stale)
			}
			bk := tx.Bucket(bCustomers)
			ids := make([]model.CustomerID, 0, len(b.rewritten))
			for id := range b.rewritten {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			for _, id := range ids {
				v := bk.Get(u64(uint64(id)))
				if v == nil {
					continue
				}
				var c model.Customer
				if err := decodeCustomer(v, &c); err != nil {
					return fmt.Errorf("customer %d: %w", id, err)
				}
				deferredKeys(&c, func(i int, key, val []byte) { b.keys[i].add(key, val) })
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := b.s.buildIndexes(ctx, &b.keys, false, b.by, progress); err != nil {
		return err
	}
	err := b.s.update(b.by, b, func(t *Tx) error {
		if err := t.tx.Bucket(bMeta).Delete(metaBulkPending); err != nil {
			return err
		}
		t.change(ChangeBulk, 0)
		return t.Audit("customers.bulk_load", fmt.Sprintf("customers:%d-", b.first), []byte("created="+strconv.Itoa(b.created)))
	})
	return err
}

// RebuildCustomerIndexes rebuilds the eight deferred customer indexes
// from the customers bucket and clears the marker of an interrupted bulk
// load. It owns the store while it runs, like a bulk load.
func (s *Store) RebuildCustomerIndexes(ctx context.Context, by model.Actor) error {
	if err := by.Require(model.PermAdminister, "rebuild the customer indexes"); err != nil {
		return err
	}
	owner := &BulkLoad{s: s, by: by, done: true}
	if !s.bulk.CompareAndSwap(nil, owner) {
		return ErrBulkLoad
	}
	defer s.bulk.Store(nil)
	var keys [numDeferred]keyArena
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bCustomers).ForEach(func(k, v []byte) error {
			var c model.Customer
			if err := decodeCustomer(v, &c); err != nil {
				return fmt.Errorf("customer %d: %w", readU64(k), err)
			}
			deferredKeys(&c, func(i int, key, val []byte) { keys[i].add(key, val) })
			return nil
		})
	})
	if err != nil {
		return err
	}
	if err := s.buildIndexes(ctx, &keys, true, by, nil); err != nil {
		return err
	}
	return s.update(by, owner, func(t *Tx) error {
		if err := t.tx.Bucket(bMeta).Delete(metaBulkPending); err != nil {
			return err
		}
		t.change(ChangeBulk, 0)
		return t.Audit("customers.reindex", "customers", nil)
	})
}

// isRewritten reports whether an index entry belongs to a rewritten
// customer (the id is the value of an email entry and the last eight
// bytes of every other key).
func isRewritten(rw map[model.CustomerID]struct{}, i int, key, val []byte) bool {
	var id model.CustomerID
	if i == diEmail {
		id = model.CustomerID(readU64(val))
	} else {
		id = idFromIndexKey(key)
	}
	_, ok := rw[id]
	return ok
}

// deferredKeys visits a customer's entries of the deferred indexes, the
// same entries putUniqueIndexes and writeCustomer maintain.
func deferredKeys(c *model.Customer, fn func(i int, key, val []byte)) {
	if e := model.NormalizeEmail(c.Email); e != "" && !c.Erased {
		fn(diEmail, []byte(e), u64(uint64(c.ID)))
	}
	for name, keys := range sortedIndexKeys(c) {
		i := deferredPos(name)
		for _, k := range keys {
			fn(i, k, nil)
		}
	}
}

func deferredPos(name string) int {
	for i, b := range deferredIndexes {
		if string(b) == name {
			return i
		}
	}
	panic("store: " + name + " is not a deferred index") // a programming error: sortedIndexKeys and deferredIndexes disagree
}

// deferCustomer is writeCustomer's part in a bulk load for customers the
// load created: their deferred index entries are collected (first write)
// or recomputed at Finish (later writes).
func (b *BulkLoad) deferCustomer(cc *cachedCustomer) {
	if cc.old != nil {
		b.rewritten[cc.cur.ID] = struct{}{}
		return
	}
	b.created++
	deferredKeys(cc.cur, func(i int, key, val []byte) { b.keys[i].add(key, val) })
}

// owns reports whether the customer was created by this load.
func (b *BulkLoad) owns(id model.CustomerID) bool { return id >= b.first }

// emailHolder finds a customer other than self whose current email is
// email among those the load added; 0 if none.
func (b *BulkLoad) emailHolder(t *Tx, email string, self model.CustomerID) (model.CustomerID, error) {
	h := maphash.String(b.seed, email)
	check := func(id model.CustomerID) (bool, error) {
		if id == self || id == 0 {
			return false, nil
		}
		c, err := t.Reader().customerRaw(id)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return false, nil
			}
			return false, err
		}
		return !c.Erased && model.NormalizeEmail(c.Email) == email, nil
	}
	if id, ok := b.emails[h]; ok {
		if hit, err := check(id); err != nil || hit {
			return id, err
		}
	}
	for _, id := range b.collide[h] {
		if hit, err := check(id); err != nil || hit {
			return id, err
		}
	}
	return 0, nil
}

// addEmail remembers that a customer of the load holds email.
func (b *BulkLoad) addEmail(t *Tx, email string, id model.CustomerID) error {
	h := maphash.String(b.seed, email)
	if prev, ok := b.emails[h]; ok && prev != id {
		// Keep the previous holder if it still holds an address with this
		// hash (a true collision); otherwise the entry is stale.
		c, err := t.Reader().customerRaw(prev)
		if err == nil && !c.Erased && maphash.String(b.seed, model.NormalizeEmail(c.Email)) == h {
			if b.collide == nil {
				b.collide = make(map[uint64][]model.CustomerID)
			}
			b.collide[h] = append(b.collide[h], id)
			return nil
		}
	}
	b.emails[h] = id
	if b.pendingEmails != nil {
		*b.pendingEmails = append(*b.pendingEmails, h)
	}
	return nil
}

// keyArena holds index entries in a few large chunks (no allocation per
// entry, no copying as it grows): each entry is a 2-byte key length, the
// key, a 1-byte value length and the value.
type keyArena struct {
	chunks [][]byte
	refs   []uint64 // chunk<<32 | offset
}

const arenaChunk = 4 << 20

type arenaMark struct{ chunks, last, refs int }

func (a *keyArena) mark() arenaMark {
	m := arenaMark{chunks: len(a.chunks), refs: len(a.refs)}
	if len(a.chunks) > 0 {
		m.last = len(a.chunks[len(a.chunks)-1])
	}
	return m
}

// reset forgets what was added after the mark (a rolled-back transaction).
func (a *keyArena) reset(m arenaMark) {
	a.chunks = a.chunks[:m.chunks]
	if m.chunks > 0 {
		a.chunks[m.chunks-1] = a.chunks[m.chunks-1][:m.last]
	}
	a.refs = a.refs[:m.refs]
}

func (a *keyArena) add(key, val []byte) {
	need := 3 + len(key) + len(val)
	if len(a.chunks) == 0 || cap(a.chunks[len(a.chunks)-1])-len(a.chunks[len(a.chunks)-1]) < need {
		a.chunks = append(a.chunks, make([]byte, 0, max(arenaChunk, need)))
	}
	ci := len(a.chunks) - 1
	c := a.chunks[ci]
	off := len(c)
	c = binary.BigEndian.AppendUint16(c, uint16(len(key)))
	c = append(c, key...)
	c = append(c, byte(len(val)))
	c = append(c, val...)
	a.chunks[ci] = c
	a.refs = append(a.refs, uint64(ci)<<32|uint64(off))
}

func (a *keyArena) entry(ref uint64) (key, val []byte) {
	c := a.chunks[ref>>32]
	off := int(uint32(ref))
	n := int(binary.BigEndian.Uint16(c[off:]))
	key = c[off+2 : off+2+n : off+2+n]
	vn := int(c[off+2+n])
	val = c[off+3+n : off+3+n+vn : off+3+n+vn]
	return key, val
}

// drop removes the entries for which stale returns true.
func (a *keyArena) drop(i int, stale func(i int, key, val []byte) bool) {
	a.refs = slices.DeleteFunc(a.refs, func(ref uint64) bool {
		k, v := a.entry(ref)
		return stale(i, k, v)
	})
}

// sortedRefs orders the entries by key; most comparisons are settled by
// the first eight bytes.
func (a *keyArena) sortedRefs() []uint64 {
	type item struct{ prefix, ref uint64 }
	items := make([]item, len(a.refs))
	for j, ref := range a.refs {
		k, _ := a.entry(ref)
		var p [8]byte
		copy(p[:], k)
		items[j] = item{binary.BigEndian.Uint64(p[:]), ref}
	}
	slices.SortFunc(items, func(x, y item) int {
		switch {
		case x.prefix < y.prefix:
			return -1
		case x.prefix > y.prefix:
			return 1
		}
		kx, _ := a.entry(x.ref)
		ky, _ := a.entry(y.ref)
		return bytes.Compare(kx, ky)
	})
	out := a.refs[:0]
	for _, it := range items {
		out = append(out, it.ref)
	}
	return out
}

// indexWriteBatch is the number of index entries per write transaction
// while building: sorted appends, so large transactions are cheap.
const indexWriteBatch = 200000

// buildIndexes writes the collected entries into the deferred indexes in
// key order, one index at a time, freeing each arena when it is written.
// fresh recreates the buckets first (a full rebuild).
func (s *Store) buildIndexes(ctx context.Context, keys *[numDeferred]keyArena, fresh bool, by model.Actor, progress func(done, total int)) error {
	total := 0
	for i := range keys {
		total += len(keys[i].refs)
	}
	owner := s.bulk.Load()
	done := 0
	for i := range keys {
		a := &keys[i]
		refs := a.sortedRefs()
		name := deferredIndexes[i]
		if fresh {
			err := s.update(by, owner, func(t *Tx) error {
				if err := t.tx.DeleteBucket(name); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
					return err
				}
				_, err := t.tx.CreateBucket(name)
				return err
			})
			if err != nil {
				return fmt.Errorf("rebuild index %s: %w", name, err)
			}
		}
		for len(refs) > 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := min(len(refs), indexWriteBatch)
			batch := refs[:n]
			err := s.update(by, owner, func(t *Tx) error {
				b := t.tx.Bucket(name)
				b.FillPercent = 0.9 // sorted appends; leave room for later changes
				for _, ref := range batch {
					k, v := a.entry(ref)
					if err := b.Put(k, v); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("build index %s: %w", name, err)
			}
			refs = refs[n:]
			done += n
			if progress != nil {
				progress(done, total)
			}
		}
		*a = keyArena{} // let the memory go before the next index
	}
	return nil
}
