package store

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

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
	"purchase_orders": true, "cust_source": true, "consent_state": true,
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
	// spills collect the deferred index entries of each new customer as
	// it is first written, in temporary files (not memory: a million
	// customers have ~200 MB of index keys); customers written again later
	// (rewritten) have theirs recomputed from the record at Finish.
	spills    *spillSet
	rewritten map[model.CustomerID]struct{}
	created   int
	done      bool
	// txKeys and pendingEmails hold what the running transaction added:
	// the keys go to the spill files when it commits, the email hashes
	// are forgotten if it rolls back.
	txKeys  [numDeferred][]byte
	spiller *spiller // started by the first Update
	// moved holds, for each customer the load did not create whose
	// activity or value key changed, the keys the indexes hold (from
	// before the load) and the latest ones; Finish moves them all in key
	// order, instead of every transaction moving its customers' keys all
	// over both indexes. txMoved is the running transaction's share.
	moved         map[model.CustomerID]keyMove
	txMoved       []noted
	scratch       []byte // deferCustomer builds keys in it
	txCreated     int
	pendingEmails *[]uint64
}

// BeginBulkLoad starts a bulk load. Until Finish, the store accepts writes
// only through the load (Store.Update returns ErrBulkLoad), and customers
// the load creates are missing from the email, name, first-name, phone,
// city, tag, activity and value indexes: lists by name, searches and
// lookups by email do not show them yet. Customers that existed before
// keep their places in the activity and value indexes until Finish moves
// the keys of those the load changed. Everything else — records, ids,
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
	b := &BulkLoad{s: s, by: by, seed: maphash.MakeSeed(), emails: make(map[uint64]model.CustomerID), rewritten: make(map[model.CustomerID]struct{}),
		moved: make(map[model.CustomerID]keyMove)}
	if !s.bulk.CompareAndSwap(nil, b) {
		return nil, ErrBulkLoad
	}
	spills, err := newSpillSet(filepath.Dir(s.path))
	if err != nil {
		s.bulk.Store(nil)
		return nil, err
	}
	b.spills = spills
	err = s.update(by, b, func(t *Tx) error {
		meta := t.tx.Bucket(bMeta)
		if v := meta.Get(metaBulkPending); v != nil {
			return fmt.Errorf("an earlier bulk load (from customer %d) did not finish; rebuild the customer indexes first (RebuildCustomerIndexes)", readU64(v))
		}
		b.first = model.CustomerID(t.tx.Bucket(bCustomers).Sequence() + 1)
		return meta.Put(metaBulkPending, u64(uint64(b.first)))
	})
	if err != nil {
		spills.close()
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
	var added []uint64
	b.pendingEmails = &added
	for i := range b.txKeys {
		b.txKeys[i] = b.txKeys[i][:0]
	}
	b.txCreated = 0
	b.txMoved = b.txMoved[:0]
	err := b.s.update(by, b, fn)
	b.pendingEmails = nil
	if err != nil {
		for _, h := range added {
			delete(b.emails, h)
			delete(b.collide, h)
		}
		return err
	}
	b.created += b.txCreated
	for _, n := range b.txMoved {
		m, ok := b.moved[n.id]
		if !ok {
			m.from = n.from
		}
		m.to = n.to
		b.moved[n.id] = m
	}
	if b.spiller == nil {
		b.spiller = startSpiller(b.spills)
	}
	// The keys go to the spill files while the next transaction runs.
	var err2 error
	b.txKeys, err2 = b.spiller.hand(b.txKeys)
	if err2 != nil {
		return fmt.Errorf("bulk load: keep index keys: %w", err2)
	}
	return nil
}

// keyMove is a customer's activity and value keys: those in the indexes
// and those its record now has.
type keyMove struct{ from, to aggKeys }

// aggKeys are the activity and value index keys of a customer (sixteen
// bytes each: time or amount, then the id).
type aggKeys [2][16]byte

func aggKeysOf(c *model.Customer) aggKeys {
	var k aggKeys
	appendActivityIndexKey(k[0][:0], c)
	appendValueIndexKey(k[1][:0], c)
	return k
}

// noted is a customer's change of keys in one transaction.
type noted struct {
	id       model.CustomerID
	from, to aggKeys
}

// noteMove records that a customer the load did not create was written
// (old is its record before the transaction).
func (b *BulkLoad) noteMove(old, cur *model.Customer) {
	if old == nil || b.owns(cur.ID) {
		return
	}
	from, to := aggKeysOf(old), aggKeysOf(cur)
	if from != to {
		b.txMoved = append(b.txMoved, noted{id: cur.ID, from: from, to: to})
	}
}

// moveKeys brings the activity and value indexes up to date for the
// customers the load moved. Where a few moved, it deletes their old keys
// in key order and returns the new ones as entries for buildIndexes;
// where many did (a purchase file for most customers), it writes the
// index anew, in key order, from the kept and the new keys.
func (b *BulkLoad) moveKeys(ctx context.Context) (adds [2][]byte, err error) {
	if len(b.moved) == 0 {
		return adds, nil
	}
	var dels, puts [2][][16]byte
	for _, m := range b.moved {
		for i := range 2 {
			if m.from[i] != m.to[i] {
				dels[i] = append(dels[i], m.from[i])
				puts[i] = append(puts[i], m.to[i])
			}
		}
	}
	b.moved = nil
	// Both indexes' lists are sorted at once, on the cores there are.
	var wg sync.WaitGroup
	for _, list := range [...][][16]byte{dels[0], puts[0], dels[1], puts[1]} {
		wg.Go(func() { slices.SortFunc(list, cmpKey16) })
	}
	wg.Wait()
	// Each customer has one key in each index.
	var size int
	if err := b.s.db.View(func(tx *bolt.Tx) error {
		size = int(readU64(tx.Bucket(bCounters).Get([]byte("customers"))))
		return nil
	}); err != nil {
		return adds, err
	}
	for i, name := range [2][]byte{bCustActivity, bCustValue} {
		if len(dels[i]) > size/rewriteShare {
			if err := b.rewriteIndex(ctx, name, dels[i], puts[i]); err != nil {
				return adds, fmt.Errorf("move index keys in %s: %w", name, err)
			}
			continue
		}
		for keys := dels[i]; len(keys) > 0; {
			if err := ctx.Err(); err != nil {
				return adds, err
			}
			n := min(len(keys), indexWriteBatch)
			err := b.s.update(b.by, b, func(t *Tx) error {
				bk := t.tx.Bucket(name)
				for _, k := range keys[:n] {
					if err := bk.Delete(k[:]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return adds, fmt.Errorf("move index keys in %s: %w", name, err)
			}
			keys = keys[n:]
		}
		for _, k := range puts[i] {
			adds[i] = appendEntry(adds[i], k[:], nil)
		}
	}
	return adds, nil
}

// cmpKey16 orders sixteen-byte keys as bytes.Compare does.
func cmpKey16(x, y [16]byte) int {
	if c := cmp.Compare(binary.BigEndian.Uint64(x[:8]), binary.BigEndian.Uint64(y[:8])); c != 0 {
		return c
	}
	return cmp.Compare(binary.BigEndian.Uint64(x[8:]), binary.BigEndian.Uint64(y[8:]))
}

// rewriteShare: when more than one key in rewriteShare moves, moveKeys
// writes the index anew.
const rewriteShare = 8

// rewriteIndex replaces the index name by its entries less dels plus puts
// (both sorted), written in key order into a new bucket.
func (b *BulkLoad) rewriteIndex(ctx context.Context, name []byte, dels, puts [][16]byte) error {
	var kept []byte
	err := b.s.db.View(func(tx *bolt.Tx) error {
		c, j := tx.Bucket(name).Cursor(), 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			for j < len(dels) && bytes.Compare(dels[j][:], k) < 0 {
				j++
			}
			if j < len(dels) && bytes.Equal(dels[j][:], k) {
				j++
				continue
			}
			kept = appendEntry(kept, k, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	off, p := 0, 0
	for first := true; first || off < len(kept) || p < len(puts); first = false {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := b.s.update(b.by, b, func(t *Tx) error {
			if first {
				if err := t.tx.DeleteBucket(name); err != nil {
					return err
				}
				if _, err := t.tx.CreateBucket(name); err != nil {
					return err
				}
			}
			bk := t.tx.Bucket(name)
			bk.FillPercent = 0.9 // sorted appends; leave room for later changes
			for n := 0; n < indexWriteBatch && (off < len(kept) || p < len(puts)); n++ {
				var k, v []byte
				next := off
				if off < len(kept) {
					k, v, next = entryAt(kept, off)
				}
				if p < len(puts) && (k == nil || bytes.Compare(puts[p][:], k) < 0) {
					k, v = puts[p][:], nil
					p++
				} else {
					off = next
				}
				if err := bk.Put(k, v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// spiller writes the keys of committed transactions to the spill files on
// a goroutine of its own, one transaction's keys at a time, so that the
// load's writer does not wait for the file writes.
type spiller struct {
	q    chan [numDeferred][]byte // keys to write
	back chan [numDeferred][]byte // emptied buffers
	done chan error               // the first write error, when q closes
	err  error                    // a write error seen so far (by hand)
	fail chan error               // the goroutine reports a write error early
}

func startSpiller(spills *spillSet) *spiller {
	sp := &spiller{q: make(chan [numDeferred][]byte, 1), back: make(chan [numDeferred][]byte, 2),
		done: make(chan error, 1), fail: make(chan error, 1)}
	sp.back <- [numDeferred][]byte{} // the spare set: one transaction's keys in flight
	go func() {
		var err error
		for bufs := range sp.q {
			for i := range bufs {
				if err == nil {
					if err = spills.write(i, bufs[i]); err != nil {
						sp.fail <- err
					}
				}
				bufs[i] = bufs[i][:0]
			}
			sp.back <- bufs
		}
		sp.done <- err
	}()
	return sp
}

// hand passes keys on to be written and returns an empty set of buffers
// for the next transaction (waiting, if need be, for the previous set to
// be written). It reports a write error as soon as it is known.
func (sp *spiller) hand(keys [numDeferred][]byte) ([numDeferred][]byte, error) {
	sp.q <- keys
	next := <-sp.back
	select {
	case sp.err = <-sp.fail:
	default:
	}
	return next, sp.err
}

// stop waits for the last keys to be written and returns the first error.
func (sp *spiller) stop() error {
	if sp == nil {
		return nil
	}
	close(sp.q)
	return <-sp.done
}

// Finish adds the load's customers to the deferred indexes, clears the
// marker and lets other writers in again. Cancelling ctx stops it between
// write transactions and leaves the marker (see RebuildCustomerIndexes).
// progress, if set, is called after each index with the bytes of index
// keys written so far and in all.
func (b *BulkLoad) Finish(ctx context.Context, progress func(done, total int)) error {
	if b.done {
		return nil
	}
	b.done = true
	defer b.s.bulk.Store(nil)
	defer b.spills.close()
	if err := b.spiller.stop(); err != nil {
		return fmt.Errorf("bulk load: keep index keys: %w", err)
	}
	b.emails, b.collide = nil, nil // no more inserts: let the memory go
	// Customers written again after their first transaction: their
	// collected keys may be stale, so take the keys from the record.
	var extra [numDeferred][]byte
	if len(b.rewritten) > 0 {
		err := b.s.db.View(func(tx *bolt.Tx) error {
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
				deferredKeys(&c, nil, func(i int, key, val []byte) { extra[i] = appendEntry(extra[i], key, val) })
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	adds, err := b.moveKeys(ctx)
	if err != nil {
		return err
	}
	extra[diActivity] = append(extra[diActivity], adds[0]...)
	extra[diValue] = append(extra[diValue], adds[1]...)
	stale := func(i int, key, val []byte) bool { return isRewritten(b.rewritten, i, key, val) }
	if err := b.s.buildIndexes(ctx, b.spills, &extra, stale, false, b.by, progress); err != nil {
		return err
	}
	return b.s.update(b.by, b, func(t *Tx) error {
		if err := t.tx.Bucket(bMeta).Delete(metaBulkPending); err != nil {
			return err
		}
		t.change(ChangeBulk, 0)
		return t.Audit("customers.bulk_load", fmt.Sprintf("customers:%d-", b.first), []byte("created="+strconv.Itoa(b.created)))
	})
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
	spills, err := newSpillSet(filepath.Dir(s.path))
	if err != nil {
		return err
	}
	defer spills.close()
	var buf [numDeferred][]byte
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bCustomers).ForEach(func(k, v []byte) error {
			var c model.Customer
			if err := decodeCustomer(v, &c); err != nil {
				return fmt.Errorf("customer %d: %w", readU64(k), err)
			}
			deferredKeys(&c, nil, func(i int, key, val []byte) { buf[i] = appendEntry(buf[i], key, val) })
			for i := range buf {
				if len(buf[i]) > 1<<20 {
					if err := spills.write(i, buf[i]); err != nil {
						return err
					}
					buf[i] = buf[i][:0]
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for i := range buf {
		if err := spills.write(i, buf[i]); err != nil {
			return err
		}
	}
	var none [numDeferred][]byte
	if err := s.buildIndexes(ctx, spills, &none, nil, true, by, nil); err != nil {
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
func deferredKeys(c *model.Customer, texts *indexTexts, fn func(i int, key, val []byte)) {
	deferredKeysInto(c, texts, nil, fn)
}

// deferredKeysInto is deferredKeys building the keys in scratch (see
// eachIndexKeyInto); it returns scratch for the next call.
func deferredKeysInto(c *model.Customer, texts *indexTexts, scratch []byte, fn func(i int, key, val []byte)) []byte {
	if e := model.NormalizeEmail(c.Email); e != "" && !c.Erased {
		start := len(scratch)
		scratch = append(scratch, e...)
		end := len(scratch)
		scratch = appendU64(scratch, uint64(c.ID))
		fn(diEmail, scratch[start:end:end], scratch[end:len(scratch):len(scratch)])
	}
	return eachIndexKeyInto(c, texts, scratch, func(i int, k []byte) { fn(i, k, nil) })
}

// deferCustomer is writeCustomer's part in a bulk load for customers the
// load created: their deferred index entries are collected (first write)
// or recomputed at Finish (later writes).
func (b *BulkLoad) deferCustomer(cc *cachedCustomer) {
	if cc.old != nil {
		b.rewritten[cc.cur.ID] = struct{}{}
		return
	}
	b.txCreated++
	b.scratch = deferredKeysInto(cc.cur, cc.texts(), b.scratch[:0], func(i int, key, val []byte) { b.txKeys[i] = appendEntry(b.txKeys[i], key, val) })
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

// appendEntry encodes an index entry: a 2-byte key length, the key, a
// 1-byte value length and the value.
func appendEntry(buf, key, val []byte) []byte {
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(key)))
	buf = append(buf, key...)
	buf = append(buf, byte(len(val)))
	return append(buf, val...)
}

// entryAt decodes the entry at off in buf and returns the offset after it.
func entryAt(buf []byte, off int) (key, val []byte, next int) {
	n := int(binary.BigEndian.Uint16(buf[off:]))
	key = buf[off+2 : off+2+n : off+2+n]
	vn := int(buf[off+2+n])
	val = buf[off+3+n : off+3+n+vn : off+3+n+vn]
	return key, val, off + 3 + n + vn
}

// spillSet keeps the collected entries of each deferred index in a
// temporary file next to the store (unlinked at once where the system
// allows, so a crash leaves nothing behind).
type spillSet struct {
	files [numDeferred]*os.File
	w     [numDeferred]*bufio.Writer
	size  [numDeferred]int64
}

func newSpillSet(dir string) (*spillSet, error) {
	sp := &spillSet{}
	for i := range sp.files {
		f, err := os.CreateTemp(dir, ".karton-bulk-*")
		if err != nil {
			sp.close()
			return nil, fmt.Errorf("bulk load: temporary file for index keys: %w", err)
		}
		os.Remove(f.Name()) // Unix: the open file lives on, nameless; elsewhere close removes it
		sp.files[i] = f
		sp.w[i] = bufio.NewWriterSize(f, 256<<10)
	}
	return sp, nil
}

func (sp *spillSet) write(i int, entries []byte) error {
	if len(entries) == 0 {
		return nil
	}
	sp.size[i] += int64(len(entries))
	_, err := sp.w[i].Write(entries)
	return err
}

// load returns all entries of index i.
func (sp *spillSet) load(i int) ([]byte, error) {
	if err := sp.w[i].Flush(); err != nil {
		return nil, err
	}
	buf := make([]byte, sp.size[i])
	_, err := sp.files[i].ReadAt(buf, 0)
	if err != nil && !(errors.Is(err, io.EOF) && len(buf) == 0) {
		return nil, err
	}
	return buf, nil
}

// release closes and removes the file of index i.
func (sp *spillSet) release(i int) {
	if f := sp.files[i]; f != nil {
		f.Close()
		os.Remove(f.Name())
		sp.files[i] = nil
	}
}

func (sp *spillSet) close() {
	for i := range sp.files {
		sp.release(i)
	}
}

// sortEntries returns the offsets of the entries in buf ordered by key;
// most comparisons are settled by the first sixteen bytes (names and
// addresses often share eight). drop, if set, leaves entries out.
func sortEntries(buf []byte, i int, drop func(i int, key, val []byte) bool) []uint32 {
	type item struct {
		p0, p1 uint64
		off    uint32
	}
	n := 0
	for off := 0; off < len(buf); n++ {
		_, _, off = entryAt(buf, off)
	}
	items := make([]item, 0, n) // a million entries: sized once, not grown
	for off := 0; off < len(buf); {
		k, v, next := entryAt(buf, off)
		if drop == nil || !drop(i, k, v) {
			var p [16]byte
			copy(p[:], k)
			items = append(items, item{binary.BigEndian.Uint64(p[:8]), binary.BigEndian.Uint64(p[8:]), uint32(off)})
		}
		off = next
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
		kx, _, _ := entryAt(buf, int(x.off))
		ky, _, _ := entryAt(buf, int(y.off))
		return bytes.Compare(kx, ky)
	})
	offs := make([]uint32, len(items))
	for j, it := range items {
		offs[j] = it.off
	}
	return offs
}

// indexWriteBatch is the number of index entries per write transaction
// while building: sorted appends, so large transactions are cheap.
const indexWriteBatch = 200000

// buildIndexes writes the collected entries (spilled, plus extra) into
// the deferred indexes in key order, one index at a time. While one index
// is written, a goroutine reads and sorts the next (at most two indexes'
// keys are in memory). drop leaves stale spilled entries out. fresh
// recreates the buckets first (a full rebuild).
func (s *Store) buildIndexes(ctx context.Context, spills *spillSet, extra *[numDeferred][]byte, drop func(i int, key, val []byte) bool, fresh bool, by model.Actor, progress func(done, total int)) error {
	var total int64
	for i := range spills.size {
		total += spills.size[i] + int64(len(extra[i]))
	}
	owner := s.bulk.Load()
	sorted := make(chan sortedIndex)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(sorted)
		for i := range deferredIndexes {
			si := sortIndex(spills, extra, drop, i)
			select {
			case sorted <- si:
			case <-stop:
				return
			}
			if si.err != nil {
				return
			}
		}
	}()
	// The sorter must be done with the spill files before they close.
	defer wg.Wait()
	defer close(stop)
	var done int64
	for si := range sorted {
		name := deferredIndexes[si.i]
		if si.err != nil {
			return fmt.Errorf("build index %s: read the collected keys: %w", name, si.err)
		}
		buf, off := si.buf, 0
		if fresh {
			err := s.update(by, owner, func(t *Tx) error {
				if err := t.tx.DeleteBucket(name); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
					return err
				}
				_, err := t.tx.CreateBucket(name)
				return err
			})
			if err != nil {
				return fmt.Errorf("rebuild index %s: %w", name, err)
			}
		}
		for off < len(buf) {
			if err := ctx.Err(); err != nil {
				return err
			}
			err := s.update(by, owner, func(t *Tx) error {
				b := t.tx.Bucket(name)
				b.FillPercent = 0.9 // sorted appends; leave room for later changes
				for n := 0; n < indexWriteBatch && off < len(buf); n++ {
					k, v, next := entryAt(buf, off)
					if err := b.Put(k, v); err != nil {
						return err
					}
					off = next
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("build index %s: %w", name, err)
			}
		}
		done += int64(si.size)
		if progress != nil {
			progress(int(done), int(total))
		}
	}
	return nil
}

// sortedIndex is one deferred index's entries, laid out in key order in
// buf (so that the writer reads them front to back, not all over a few
// hundred megabytes); size is the length of the entries collected, stale
// ones included, for the progress count.
type sortedIndex struct {
	i    int
	buf  []byte
	size int
	err  error
}

// sortIndex reads index i's spilled entries (releasing the file), adds the
// extra ones and sorts them all by key.
func sortIndex(spills *spillSet, extra *[numDeferred][]byte, drop func(i int, key, val []byte) bool, i int) sortedIndex {
	buf, err := spills.load(i)
	if err != nil {
		return sortedIndex{i: i, err: err}
	}
	spills.release(i)
	offs := sortEntries(buf, i, drop)
	if len(extra[i]) > 0 {
		// Recomputed entries go after the spilled ones; sort all together.
		base := len(buf)
		buf = append(buf, extra[i]...)
		for off := base; off < len(buf); {
			_, _, next := entryAt(buf, off)
			offs = append(offs, uint32(off))
			off = next
		}
		slices.SortFunc(offs, func(x, y uint32) int {
			kx, _, _ := entryAt(buf, int(x))
			ky, _, _ := entryAt(buf, int(y))
			return bytes.Compare(kx, ky)
		})
	}
	out := make([]byte, 0, len(buf))
	for _, off := range offs {
		k, v, _ := entryAt(buf, int(off))
		out = appendEntry(out, k, v)
	}
	return sortedIndex{i: i, buf: out, size: len(buf)}
}
