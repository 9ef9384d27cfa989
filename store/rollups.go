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

// Rollups count interactions per day × channel kind × channel × campaign ×
// interaction kind, and purchases (count and revenue) per day. They are
// maintained in the same transaction as the records they count, so
// dashboards read a few hundred rollup rows instead of millions of events;
// VerifyRollups rebuilds them from the raw records and compares.
//
//	bucket rollups   'i' day(4) kind(1) channel(8) campaign(8) ikind(1)  count(8) value(8)
//	                 'p' day(4)                                         count(8) revenue(8)
//
// day is days since 1970-01-01 (UTC). Day-first keys make a date range one
// contiguous scan.

var bRollups = []byte("rollups")

// Day is a UTC calendar day as days since the Unix epoch.
type Day uint32

// DayOf returns the UTC day of t.
func DayOf(t time.Time) Day {
	if t.Before(time.Unix(0, 0)) {
		return 0
	}
	return Day(t.Unix() / 86400)
}

// Time is midnight UTC of the day.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

type rollupKey [1 + 4 + 1 + 8 + 8 + 1]byte

type rollupVal struct{ count, value int64 }

func interactionRollupKey(i *model.Interaction) rollupKey {
	var k rollupKey
	k[0] = 'i'
	binary.BigEndian.PutUint32(k[1:], uint32(DayOf(i.At)))
	k[5] = i.Channel.Code()
	binary.BigEndian.PutUint64(k[6:], uint64(i.ChannelID))
	binary.BigEndian.PutUint64(k[14:], uint64(i.CampaignID))
	k[22] = i.Kind.Code()
	return k
}

func purchaseRollupKey(at time.Time) rollupKey {
	var k rollupKey
	k[0] = 'p'
	binary.BigEndian.PutUint32(k[1:], uint32(DayOf(at)))
	return k
}

func (t *Tx) rollup(k rollupKey, count, value int64) {
	if t.rollups == nil {
		t.rollups = make(map[rollupKey]rollupVal)
	}
	v := t.rollups[k]
	v.count += count
	v.value += value
	t.rollups[k] = v
}

func (t *Tx) flushRollups() error {
	if len(t.rollups) == 0 {
		return nil
	}
	keys := make([]rollupKey, 0, len(t.rollups))
	for k := range t.rollups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b rollupKey) int { return bytes.Compare(a[:], b[:]) })
	b := t.bucket(bRollups)
	for _, k := range keys {
		d := t.rollups[k]
		key := rollupStoreKey(k)
		cur := b.Get(key)
		var v [16]byte
		if len(cur) == 16 {
			copy(v[:], cur)
		}
		binary.BigEndian.PutUint64(v[:], uint64(int64(binary.BigEndian.Uint64(v[:]))+d.count))
		binary.BigEndian.PutUint64(v[8:], uint64(int64(binary.BigEndian.Uint64(v[8:]))+d.value))
		if err := b.Put(key, t.keep(v[:])); err != nil {
			return err
		}
	}
	t.rollups = nil
	return nil
}

// rollupStoreKey trims purchase keys to their meaningful prefix.
func rollupStoreKey(k rollupKey) []byte {
	if k[0] == 'p' {
		return append([]byte(nil), k[:5]...)
	}
	return append([]byte(nil), k[:]...)
}

// InteractionRollup is one row of the interaction rollups.
type InteractionRollup struct {
	Day       Day
	Channel   model.ChannelKind
	ChannelID model.ChannelID
	Campaign  model.CampaignID
	Kind      model.InteractionKind
	Count     int64
	Value     model.Money
}

// PurchaseRollup is one day of purchases.
type PurchaseRollup struct {
	Day     Day
	Count   int64
	Revenue model.Money
}

// InteractionRollups visits the interaction rollups of the days from..to
// (inclusive).
func (r *Reader) InteractionRollups(from, to Day, fn func(InteractionRollup) error) error {
	c := r.tx.Bucket(bRollups).Cursor()
	start := []byte{'i', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(start[1:], uint32(from))
	for k, v := c.Seek(start); k != nil && k[0] == 'i' && len(k) == len(rollupKey{}); k, v = c.Next() {
		day := Day(binary.BigEndian.Uint32(k[1:]))
		if day > to {
			break
		}
		if len(v) != 16 {
			return fmt.Errorf("rollup row of day %d: %w", day, errCorrupt)
		}
		if err := fn(InteractionRollup{
			Day: day, Channel: model.KindFromCode(k[5]), ChannelID: model.ChannelID(binary.BigEndian.Uint64(k[6:])),
			Campaign: model.CampaignID(binary.BigEndian.Uint64(k[14:])), Kind: model.InteractionKindFromCode(k[22]),
			Count: int64(binary.BigEndian.Uint64(v)), Value: model.Money(int64(binary.BigEndian.Uint64(v[8:]))),
		}); err != nil {
			return err
		}
	}
	return nil
}

// PurchaseRollups returns the purchase rollups of the days from..to.
func (r *Reader) PurchaseRollups(from, to Day) ([]PurchaseRollup, error) {
	var out []PurchaseRollup
	c := r.tx.Bucket(bRollups).Cursor()
	start := []byte{'p', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(start[1:], uint32(from))
	for k, v := c.Seek(start); k != nil && k[0] == 'p'; k, v = c.Next() {
		day := Day(binary.BigEndian.Uint32(k[1:]))
		if day > to {
			break
		}
		if len(v) != 16 {
			return out, fmt.Errorf("purchase rollup of day %d: %w", day, errCorrupt)
		}
		out = append(out, PurchaseRollup{Day: day, Count: int64(binary.BigEndian.Uint64(v)), Revenue: model.Money(int64(binary.BigEndian.Uint64(v[8:])))})
	}
	return out, nil
}

// RollupDiff is a rollup row whose maintained and rebuilt values differ.
type RollupDiff struct {
	Key        string   `json:"key"`
	Maintained [2]int64 `json:"maintained"`
	Rebuilt    [2]int64 `json:"rebuilt"`
}

// VerifyRollups rebuilds every rollup from the raw interactions and
// purchases and compares them with the maintained ones.
func (s *Store) VerifyRollups() (rows int, diffs []RollupDiff, err error) {
	defer s.readAhead()() // it reads every interaction and purchase
	err = s.db.View(func(tx *bolt.Tx) error {
		rebuilt := make(map[rollupKey]rollupVal)
		var i model.Interaction
		c := tx.Bucket(bInteractions).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := decodeInteraction(k, v, &i); err != nil {
				return err
			}
			rk := interactionRollupKey(&i)
			x := rebuilt[rk]
			x.count++
			x.value += int64(i.Value)
			rebuilt[rk] = x
		}
		var p model.Purchase
		c = tx.Bucket(bPurchases).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := decodePurchase(k, v, &p); err != nil {
				return err
			}
			rk := purchaseRollupKey(p.At)
			x := rebuilt[rk]
			x.count++
			x.value += int64(p.Amount)
			rebuilt[rk] = x
		}
		byStore := make(map[string]rollupVal, len(rebuilt))
		for k, v := range rebuilt {
			byStore[string(rollupStoreKey(k))] = v
		}
		seen := 0
		err := tx.Bucket(bRollups).ForEach(func(k, v []byte) error {
			rows++
			m := rollupVal{int64(binary.BigEndian.Uint64(v)), int64(binary.BigEndian.Uint64(v[8:]))}
			r, ok := byStore[string(k)]
			if ok {
				seen++
			}
			if m != r && !(m == rollupVal{} && !ok) {
				diffs = append(diffs, RollupDiff{Key: fmt.Sprintf("%x", k), Maintained: [2]int64{m.count, m.value}, Rebuilt: [2]int64{r.count, r.value}})
			}
			return nil
		})
		if err != nil {
			return err
		}
		if seen != len(byStore) {
			for k, r := range byStore {
				if tx.Bucket(bRollups).Get([]byte(k)) == nil {
					diffs = append(diffs, RollupDiff{Key: fmt.Sprintf("%x", k), Rebuilt: [2]int64{r.count, r.value}})
				}
			}
		}
		return nil
	})
	return rows, diffs, err
}
