package store

import (
	"bytes"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// The consent ledger keeps each event in two places:
//
//   - bucket consent, one range of keys per customer (customer id · event
//     id): what the decision table reads of the customer's events (kind,
//     channel kind, purpose, effective and recorded time), in chunks of up
//     to ledgerChunkMax bytes. A chunk's key names its first event; its
//     events follow each other in ledger order, and a customer's chunks do
//     not overlap, so the range is the customer's history in order;
//   - bucket consent_ids, key event id (ledger order): the customer id
//     followed by the full record (encodeConsent: basis, source, actor,
//     text version, evidence hash as well).
//
// Checks, launches and the projections read only the small chunks, and a
// consent import, which adds events for customers all over the store,
// dirties few pages of the customer-clustered bucket: a customer's events
// are one chunk (~25 bytes each, one key for all) instead of one record
// each. On a store of 100k customers an import rewrites most pages of that
// bucket, so its size is what a 20k-event file writes. The full records
// are appended at the right edge of consent_ids.
//
// Stores written before this keep format 1 in consent: the full record
// of one event per key there, and only the customer id in consent_ids.
// Both are read; a format 1 record is only rewritten when a merge moves it.
//
// Chunk (format 2):
//
//	byte    2
//	events: uvarint event id, byte kind code, byte channel kind code,
//	        uvarint purpose id, varint effective (Unix ns), varint recorded (Unix ns)
const (
	consentChunkVersion = 2

	// ledgerChunkMax is the size up to which new events are added to a
	// customer's last chunk (~40 events); then a new chunk begins. Adding
	// rewrites the chunk, so it stays short.
	ledgerChunkMax = 1024

	// consentIDLen is the customer id that starts a consent_ids value.
	consentIDLen = 8
)

// appendLedgerEntry appends ev's entry of a chunk to buf.
func appendLedgerEntry(buf []byte, ev *model.ConsentEvent) []byte {
	e := encoder{buf: buf}
	e.uvarint(uint64(ev.ID))
	e.byte1(consentKindCode(ev.Kind))
	e.byte1(ev.Channel.Code())
	e.uvarint(uint64(ev.PurposeID))
	e.time(ev.EffectiveAt)
	e.time(ev.RecordedAt)
	return e.buf
}

// readLedgerEntry decodes the chunk entry at the start of b into ev (the
// decision's fields; the customer is the caller's) and returns the rest.
func readLedgerEntry(b []byte, ev *model.ConsentEvent) ([]byte, error) {
	d := decoder{b: b}
	ev.ID = model.EventID(d.uvarint())
	code := d.byte1()
	if ev.Kind = consentKindFromCode(code); ev.Kind == "" && d.err == nil {
		ev.Kind = model.ConsentKind(fmt.Sprintf("kind#%d", code)) // from a newer Karton: ignored by the rules
	}
	ev.Channel = model.KindFromCode(d.byte1())
	ev.PurposeID = model.PurposeID(d.uvarint())
	ev.EffectiveAt = d.time()
	ev.RecordedAt = d.time()
	if d.err != nil {
		return nil, fmt.Errorf("decode consent event: %w", d.err)
	}
	return d.b, nil
}

// consentIDValue is the consent_ids value of an event: its customer and
// its full record.
func consentIDValue(buf []byte, cid model.CustomerID, full []byte) []byte {
	return append(appendU64(buf, uint64(cid)), full...)
}

// appendLedgerDecisions appends the events of customer prefix (8 bytes)
// as the decision table reads them, in ledger order, from c (a cursor of
// bucket consent). It never allocates beyond events.
func appendLedgerDecisions(events []model.ConsentEvent, c *bolt.Cursor, prefix []byte) ([]model.ConsentEvent, error) {
	cid := model.CustomerID(readU64(prefix))
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var err error
		if events, err = appendRecordDecisions(events, cid, k, v); err != nil {
			return events, err
		}
	}
	return events, nil
}

// appendRecordDecisions appends the events of one record (k, v) of bucket
// consent: a chunk, or a format 1 record of one event.
func appendRecordDecisions(events []model.ConsentEvent, cid model.CustomerID, k, v []byte) ([]model.ConsentEvent, error) {
	if len(v) == 0 || v[0] != consentChunkVersion {
		events = append(events, model.ConsentEvent{})
		if err := decodeFullConsentForDecision(v, &events[len(events)-1]); err != nil {
			return events, fmt.Errorf("consent event %d of customer %d: %w", readU64(k[8:]), cid, err)
		}
		return events, nil
	}
	first := len(events)
	for b := v[1:]; len(b) > 0; {
		events = append(events, model.ConsentEvent{CustomerID: cid})
		var err error
		if b, err = readLedgerEntry(b, &events[len(events)-1]); err != nil {
			return events, fmt.Errorf("consent events of customer %d from %d: %w", cid, readU64(k[8:]), err)
		}
	}
	if len(events) == first || uint64(events[first].ID) != readU64(k[8:]) {
		return events, fmt.Errorf("consent events of customer %d from %d: %w", cid, readU64(k[8:]), errCorrupt)
	}
	return events, nil
}

// fullConsents returns the full records (encodeConsent) of the events of
// the ledger record (k, v) of bucket consent: v itself in format 1, else
// the ones kept in consent_ids.
func fullConsents(tx *bolt.Tx, k, v []byte, out [][]byte) ([][]byte, error) {
	if len(v) == 0 || v[0] != consentChunkVersion {
		return append(out, v), nil
	}
	ids := tx.Bucket(bConsentIDs)
	var ev model.ConsentEvent
	for b := v[1:]; len(b) > 0; {
		var err error
		if b, err = readLedgerEntry(b, &ev); err != nil {
			return out, fmt.Errorf("consent events from %d: %w", readU64(k[8:]), err)
		}
		idv := ids.Get(u64(uint64(ev.ID)))
		if len(idv) <= consentIDLen {
			return out, fmt.Errorf("consent event %d: the ledger has its decision but not its full record", ev.ID)
		}
		out = append(out, idv[consentIDLen:])
	}
	return out, nil
}

// appendLedgerEvents adds a customer's new events to their history in
// bucket b. entries are the events (key: customer id · event id, value:
// appendLedgerEntry) in ledger order, all newer than what the customer
// has. Each goes into the customer's last chunk while that stays within
// ledgerChunkMax, else it begins a new chunk; so the chunks come out the
// same however the events are grouped into calls (an import in batches,
// one event at a time).
func appendLedgerEvents(b *bolt.Bucket, entries []keyVal) error {
	if len(entries) == 0 {
		return nil
	}
	prefix := entries[0].k[:8]
	cid := readU64(prefix)
	c := b.Cursor()
	var k, v []byte
	if cid == math.MaxUint64 {
		k, v = c.Last()
	} else if k, _ = c.Seek(u64(cid + 1)); k != nil {
		k, v = c.Prev()
	} else {
		k, v = c.Last()
	}
	// chunkCap sizes a chunk for the entries still to come (at most
	// ledgerChunkMax), not a full KiB for every customer an import touches.
	left := 0
	for _, e := range entries {
		left += len(e.v)
	}
	chunkCap := func(have int) int { return min(ledgerChunkMax, have+left) }
	var key, chunk []byte
	changed := false
	if k != nil && bytes.HasPrefix(k, prefix) && len(v) > 0 && v[0] == consentChunkVersion {
		key, chunk = bytes.Clone(k), append(make([]byte, 0, chunkCap(len(v))), v...)
	}
	for _, e := range entries {
		if chunk != nil && len(chunk)+len(e.v) <= ledgerChunkMax {
			chunk, changed = append(chunk, e.v...), true
			left -= len(e.v)
			continue
		}
		if changed {
			if err := b.Put(key, chunk); err != nil {
				return err
			}
		}
		key = bytes.Clone(e.k)
		chunk, changed = append(append(make([]byte, 0, chunkCap(1)), consentChunkVersion), e.v...), true
		left -= len(e.v)
	}
	return b.Put(key, chunk)
}

// writeLedgerPuts writes deferred ledger entries (keyVal: customer id ·
// event id, appendLedgerEntry), sorted by key, one appendLedgerEvents per
// customer.
func writeLedgerPuts(b *bolt.Bucket, puts []keyVal) error {
	for i := 0; i < len(puts); {
		j := i + 1
		for j < len(puts) && bytes.Equal(puts[j].k[:8], puts[i].k[:8]) {
			j++
		}
		if err := appendLedgerEvents(b, puts[i:j]); err != nil {
			return err
		}
		i = j
	}
	return nil
}
