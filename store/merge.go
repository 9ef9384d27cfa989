package store

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// Merging two customer records that are one person. The survivor keeps its
// id and its data; gaps in it are filled from the absorbed record; the
// absorbed record's interactions, purchases and consent history move to
// the survivor (keeping their ids, times and ledger positions), its source
// ids join the survivor's (the lineage of where the survivor's data came
// from), and the absorbed id is left as a tombstone that points to the
// survivor, so references to it (campaign lists, decisions, older exports)
// can be followed. The consent projection of the survivor is recomputed
// from the merged history in the same transaction, so the consent rules see
// everything both records knew. Rollups count by day, channel and campaign,
// not by customer, so they stay as they are.
//
//	bucket merges   'a' absorbed cid            merge record
//	                's' survivor cid absorbed   -              (lineage of a survivor)

// MergeRecord is the tombstone of an absorbed customer.
type MergeRecord struct {
	Absorbed      model.CustomerID `json:"absorbed"`
	Survivor      model.CustomerID `json:"survivor"`
	At            time.Time        `json:"at"`
	Actor         string           `json:"actor"`
	Interactions  int              `json:"interactions"`
	Purchases     int              `json:"purchases"`
	ConsentEvents int              `json:"consent_events"`
}

const mergeRecordVersion = 1

func encodeMergeRecord(m *MergeRecord) []byte {
	var e encoder
	e.byte1(mergeRecordVersion)
	e.uvarint(uint64(m.Absorbed))
	e.uvarint(uint64(m.Survivor))
	e.time(m.At)
	e.str(m.Actor)
	e.uvarint(uint64(m.Interactions))
	e.uvarint(uint64(m.Purchases))
	e.uvarint(uint64(m.ConsentEvents))
	return e.buf
}

func decodeMergeRecord(b []byte, m *MergeRecord) error {
	d := decoder{b: b}
	d.version(mergeRecordVersion, "merge record")
	m.Absorbed = model.CustomerID(d.uvarint())
	m.Survivor = model.CustomerID(d.uvarint())
	m.At = d.time()
	m.Actor = d.str()
	m.Interactions = int(d.uvarint())
	m.Purchases = int(d.uvarint())
	m.ConsentEvents = int(d.uvarint())
	return d.done("merge record")
}

// MergeResult says what a merge moved.
type MergeResult struct {
	Survivor      model.CustomerID `json:"survivor"`
	Absorbed      model.CustomerID `json:"absorbed"`
	Interactions  int              `json:"interactions"`
	Purchases     int              `json:"purchases"`
	ConsentEvents int              `json:"consent_events"`
	// Filled names the survivor's fields that were empty and now hold the
	// absorbed record's value.
	Filled []string `json:"filled"`
	// SourcesAdded is how many source ids the survivor took over.
	SourcesAdded int `json:"sources_added"`
	// Events are the ledger positions of the moved consent events.
	Events []model.EventID `json:"events"`
}

// MergeCustomers merges absorbed into survivor (see the comment at the top
// of merge.go). Both must exist and not be erased. It is audited; the
// open suggestions naming the absorbed customer are removed.
func (t *Tx) MergeCustomers(survivor, absorbed model.CustomerID) (MergeResult, error) {
	res := MergeResult{Survivor: survivor, Absorbed: absorbed, Filled: []string{}, Events: []model.EventID{}}
	if err := t.require(model.PermEditCustomers, "merge customers"); err != nil {
		return res, err
	}
	if survivor == absorbed {
		return res, fmt.Errorf("merge: customer %d cannot be merged with itself", survivor)
	}
	sc, err := t.cachedCustomer(survivor)
	if err != nil {
		return res, fmt.Errorf("merge: survivor: %w", err)
	}
	ac, err := t.cachedCustomer(absorbed)
	if err != nil {
		return res, fmt.Errorf("merge: absorbed: %w", err)
	}
	for _, c := range []*model.Customer{sc.cur, ac.cur} {
		if c.Erased {
			return res, fmt.Errorf("merge: customer %d was erased and cannot be merged", c.ID)
		}
	}
	// Moving first: these cannot fail on bad data, only on the store.
	if res.Interactions, err = t.moveActivity(bInteractions, absorbed, survivor, nil); err != nil {
		return res, err
	}
	if res.Purchases, err = t.moveActivity(bPurchases, absorbed, survivor, t.repointOrder); err != nil {
		return res, err
	}
	if res.Events, err = t.moveConsent(absorbed, survivor); err != nil {
		return res, err
	}
	res.ConsentEvents = len(res.Events)
	if err := t.dropConsentState(absorbed, survivor); err != nil {
		return res, err
	}

	// The survivor's record: its own data first, gaps filled.
	before := *sc.cur
	next := cloneCustomer(sc.cur)
	a := ac.cur
	fill := func(field string, dst *string, v string) {
		if *dst == "" && v != "" {
			*dst = v
			res.Filled = append(res.Filled, field)
		}
	}
	fill("salutation", &next.Salutation, a.Salutation)
	fill("first_name", &next.FirstName, a.FirstName)
	fill("last_name", &next.LastName, a.LastName)
	fill("company", &next.Company, a.Company)
	fill("email", &next.Email, a.Email)
	fill("phone", &next.Phone, a.Phone)
	if next.Address.IsZero() && !a.Address.IsZero() {
		next.Address = a.Address
		res.Filled = append(res.Filled, "address")
	}
	if next.BirthDate.IsZero() && !a.BirthDate.IsZero() {
		next.BirthDate = a.BirthDate
		res.Filled = append(res.Filled, "birth_date")
	}
	for k, v := range a.Attributes {
		if _, ok := next.Attributes[k]; !ok {
			if next.Attributes == nil {
				next.Attributes = map[string]string{}
			}
			next.Attributes[k] = v
		}
	}
	for k, v := range a.Preferences {
		if _, ok := next.Preferences[k]; !ok {
			if next.Preferences == nil {
				next.Preferences = map[string]string{}
			}
			next.Preferences[k] = v
		}
	}
	for _, tag := range a.Tags {
		if !next.HasTag(tag) {
			next.Tags = append(next.Tags, tag)
		}
	}
	for _, r := range a.Sources {
		if !hasRef(next.Sources, r) {
			next.Sources = append(next.Sources, r)
			res.SourcesAdded++
		}
	}
	// Aggregates add up: the activity moved with them.
	next.PurchaseCount += a.PurchaseCount
	next.Revenue += a.Revenue
	if !a.FirstPurchaseAt.IsZero() && (next.FirstPurchaseAt.IsZero() || a.FirstPurchaseAt.Before(next.FirstPurchaseAt)) {
		next.FirstPurchaseAt = a.FirstPurchaseAt
	}
	if a.LastPurchaseAt.After(next.LastPurchaseAt) {
		next.LastPurchaseAt = a.LastPurchaseAt
	}
	if a.LastActivityAt.After(next.LastActivityAt) {
		next.LastActivityAt = a.LastActivityAt
	}
	next.EmailFromPurchase = next.EmailFromPurchase || a.EmailFromPurchase
	next.Suppressed = next.Suppressed || a.Suppressed
	if err := next.Normalize(t.s.settings.Region); err != nil {
		return res, fmt.Errorf("merge: the merged record: %w", err)
	}
	if err := next.Validate(t.now); err != nil {
		return res, fmt.Errorf("merge: the merged record: %w", err)
	}
	next.UpdatedAt = t.now

	// The absorbed record leaves every index before the survivor takes its
	// email and source ids.
	if err := t.removeCustomer(ac); err != nil {
		return res, err
	}
	if err := t.putUniqueIndexes(&before, next); err != nil {
		return res, fmt.Errorf("merge: %w", err)
	}
	if err := t.checkSuppression(next); err != nil {
		return res, err
	}
	sc.cur, sc.dirty = next, true
	t.markConsentDirty(survivor)

	rec := MergeRecord{Absorbed: absorbed, Survivor: survivor, At: t.now, Actor: t.actor.Name,
		Interactions: res.Interactions, Purchases: res.Purchases, ConsentEvents: res.ConsentEvents}
	mb, err := t.ensure(bMerges)
	if err != nil {
		return res, err
	}
	if err := mb.Put(append([]byte{'a'}, u64(uint64(absorbed))...), t.keep(encodeMergeRecord(&rec))); err != nil {
		return res, err
	}
	if err := mb.Put(appendU64(append([]byte{'s'}, u64(uint64(survivor))...), uint64(absorbed)), nil); err != nil {
		return res, err
	}
	// Tombstones of customers the absorbed one had absorbed now point on.
	if err := t.repointLineage(absorbed, survivor); err != nil {
		return res, err
	}
	if sb := t.bucket(bScores); sb != nil {
		if err := sb.Delete(u64(uint64(absorbed))); err != nil {
			return res, err
		}
	}
	if err := t.dropSuggestions(absorbed); err != nil {
		return res, err
	}
	t.count("customers", -1)
	t.count("merges", 1)
	t.change(ChangeCustomer, uint64(survivor))
	t.change(ChangeCustomer, uint64(absorbed))
	payload, _ := json.Marshal(res)
	return res, t.Audit("customer.merge", fmt.Sprintf("customer:%d<-%d", survivor, absorbed), payload)
}

// moveActivity re-keys a customer's interactions or purchases (values do
// not hold the customer) under another customer; each moved record's old
// and new keys go to after, if set.
func (t *Tx) moveActivity(bucket []byte, from, to model.CustomerID, after func(oldKey, newKey, val []byte) error) (int, error) {
	b := t.bucket(bucket)
	prefix := u64(uint64(from))
	type kv struct{ k, v []byte }
	var moved []kv
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		moved = append(moved, kv{slices.Clone(k), slices.Clone(v)})
	}
	for _, m := range moved {
		if err := b.Delete(m.k); err != nil {
			return 0, err
		}
	}
	for _, m := range moved {
		nk := slices.Clone(m.k)
		copy(nk, u64(uint64(to)))
		if err := b.Put(nk, m.v); err != nil {
			return 0, err
		}
		if after != nil {
			if err := after(m.k, nk, m.v); err != nil {
				return 0, err
			}
		}
	}
	return len(moved), nil
}

// repointOrder keeps the (source, order id) index of a moved purchase.
func (t *Tx) repointOrder(oldKey, newKey, val []byte) error {
	var p model.Purchase
	if err := decodePurchase(oldKey, val, &p); err != nil {
		return fmt.Errorf("merge: purchase: %w", err)
	}
	return t.bucket(bPurchaseOrders).Put(sourceKey(p.Source, p.OrderID), t.keep(newKey))
}

// moveConsent moves a customer's consent events to another customer. The
// events keep their ids (ledger positions), times, sources and evidence;
// only the customer they belong to changes. The survivor's history is
// written anew, both customers' events in ledger order, in chunks.
func (t *Tx) moveConsent(from, to model.CustomerID) ([]model.EventID, error) {
	b := t.bucket(bConsent)
	ids := t.bucket(bConsentIDs)
	var evs []model.ConsentEvent
	var moved []model.EventID
	for _, cid := range []model.CustomerID{from, to} {
		prefix := u64(uint64(cid))
		var keys [][]byte
		var fulls [][]byte
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			keys = append(keys, bytes.Clone(k))
			var err error
			if fulls, err = fullConsents(t.tx, k, v, fulls); err != nil {
				return nil, fmt.Errorf("merge: %w", err)
			}
		}
		for _, full := range fulls {
			var ev model.ConsentEvent
			if err := decodeConsent(full, &ev); err != nil {
				return nil, fmt.Errorf("merge: consent event of customer %d: %w", cid, err)
			}
			if cid == from {
				moved = append(moved, ev.ID)
			}
			evs = append(evs, ev)
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return nil, err
			}
		}
	}
	slices.SortFunc(evs, func(a, b model.ConsentEvent) int { return cmp.Compare(a.ID, b.ID) })
	entries := make([]keyVal, 0, len(evs))
	for i := range evs {
		ev := &evs[i]
		ev.CustomerID = to
		entries = append(entries, keyVal{appendU64(u64(uint64(to)), uint64(ev.ID)), appendLedgerEntry(nil, ev)})
		if err := ids.Put(u64(uint64(ev.ID)), consentIDValue(nil, to, encodeConsent(nil, ev))); err != nil {
			return nil, err
		}
	}
	// Both customers' chunks are gone: the survivor's history is written
	// from its first event on.
	if err := appendLedgerEvents(b, entries); err != nil {
		return nil, err
	}
	if len(moved) > 0 {
		t.change(ChangeConsent, uint64(to))
	}
	return moved, nil
}

// dropConsentState removes the absorbed customer's projection, takes its
// scopes' reach off the counters (the survivor's recomputation adds back
// what the merged history allows), and hands its last-contact times to
// the survivor so that a consent in use does not look stale.
func (t *Tx) dropConsentState(absorbed, survivor model.CustomerID) error {
	old, err := t.stateFor(absorbed)
	if err != nil {
		return err
	}
	for _, sc := range old.Scopes {
		if sc.Reason != "" && sc.Allow() {
			t.count(reachCounter(sc.Channel, sc.Purpose), -1)
		}
	}
	surv, err := t.stateFor(survivor)
	if err != nil {
		return err
	}
	for _, sc := range old.Scopes {
		if sc.LastContact.IsZero() {
			continue
		}
		i := slices.IndexFunc(surv.Scopes, func(x ScopeState) bool { return x.Channel == sc.Channel && x.Purpose == sc.Purpose })
		if i < 0 {
			surv.Scopes = append(surv.Scopes, ScopeState{Channel: sc.Channel, Purpose: sc.Purpose, LastContact: sc.LastContact})
		} else if sc.LastContact.After(surv.Scopes[i].LastContact) {
			surv.Scopes[i].LastContact = sc.LastContact
		}
	}
	delete(t.states, absorbed)
	delete(t.consentDirty, absorbed)
	return t.bucket(bConsentState).Delete(u64(uint64(absorbed)))
}

// removeCustomer deletes a customer record and every index entry it has
// (as stored before this transaction; a record made in this transaction
// has none yet).
func (t *Tx) removeCustomer(cc *cachedCustomer) error {
	id := cc.cur.ID
	gone := &model.Customer{ID: id, Erased: true}
	if err := t.putUniqueIndexes(cc.cur, gone); err != nil {
		return err
	}
	if cc.old != nil {
		// Unique entries of the stored state that the current one no
		// longer had were removed when the current state was made.
		for name, keys := range sortedIndexKeys(cc.old) {
			b := t.bucket([]byte(name))
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
	}
	if err := t.bucket(bCustomers).Delete(u64(uint64(id))); err != nil {
		return err
	}
	delete(t.customers, id)
	return nil
}

// repointLineage moves the tombstones that pointed to from so they point
// to to (a survivor that is itself absorbed later).
func (t *Tx) repointLineage(from, to model.CustomerID) error {
	mb := t.bucket(bMerges)
	prefix := append([]byte{'s'}, u64(uint64(from))...)
	var absorbed []model.CustomerID
	c := mb.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		absorbed = append(absorbed, model.CustomerID(readU64(k[9:])))
	}
	for _, id := range absorbed {
		ak := append([]byte{'a'}, u64(uint64(id))...)
		var rec MergeRecord
		if err := decodeMergeRecord(mb.Get(ak), &rec); err != nil {
			return fmt.Errorf("merge record of %d: %w", id, err)
		}
		rec.Survivor = to
		if err := mb.Put(ak, t.keep(encodeMergeRecord(&rec))); err != nil {
			return err
		}
		if err := mb.Delete(appendU64(append([]byte{'s'}, u64(uint64(from))...), uint64(id))); err != nil {
			return err
		}
		if err := mb.Put(appendU64(append([]byte{'s'}, u64(uint64(to))...), uint64(id)), nil); err != nil {
			return err
		}
	}
	return nil
}

// MergedInto reports the survivor a customer id was merged into.
func (r *Reader) MergedInto(id model.CustomerID) (model.CustomerID, bool) {
	rec, ok := mergeOf(r.tx, id)
	return rec.Survivor, ok
}

// mergeOf returns the merge record of an absorbed customer id.
func mergeOf(tx *bolt.Tx, id model.CustomerID) (MergeRecord, bool) {
	var rec MergeRecord
	mb := tx.Bucket(bMerges)
	if mb == nil {
		return rec, false
	}
	v := mb.Get(append([]byte{'a'}, u64(uint64(id))...))
	if v == nil || decodeMergeRecord(v, &rec) != nil {
		return rec, false
	}
	return rec, true
}

// Lineage lists the merge records of the customers a survivor absorbed
// (directly or through customers it absorbed), oldest id first.
func (r *Reader) Lineage(survivor model.CustomerID) ([]MergeRecord, error) {
	mb := r.tx.Bucket(bMerges)
	if mb == nil {
		return nil, nil
	}
	var out []MergeRecord
	prefix := append([]byte{'s'}, u64(uint64(survivor))...)
	c := mb.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		id := readU64(k[9:])
		var rec MergeRecord
		if err := decodeMergeRecord(mb.Get(append([]byte{'a'}, u64(id)...)), &rec); err != nil {
			return out, fmt.Errorf("merge record of %d: %w", id, err)
		}
		out = append(out, rec)
	}
	return out, nil
}
