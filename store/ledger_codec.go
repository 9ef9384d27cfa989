package store

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// The consent ledger keeps each event in two records:
//
//   - bucket consent, key customer id · event id (a customer's history is
//     one range): the decision record, only what the decision table reads
//     (kind, channel kind, purpose, effective and recorded time);
//   - bucket consent_ids, key event id (ledger order): the customer id
//     followed by the full record (encodeConsent: basis, source, actor,
//     text version, evidence hash as well).
//
// Checks, launches and the projections read only the small decision
// records, and a consent import, which adds events for customers all over
// the store, dirties fewer pages of the customer-clustered bucket: at 100k
// customers it rewrites most of that bucket's pages, so its size is what
// an import writes. The full records are appended at the right edge of
// consent_ids in ledger order.
//
// Stores written before this keep format 1 in consent: the full record
// there, and only the customer id in consent_ids. Both are read; format 1
// records are never rewritten except when a merge moves them.
const (
	consentDecisionVersion = 2

	// consentIDLen is the customer id that starts a consent_ids value.
	consentIDLen = 8
)

// encodeConsentDecision appends the decision record of ev to buf; ok is
// false for a kind without a code (the caller then stores format 1).
func encodeConsentDecision(buf []byte, ev *model.ConsentEvent) ([]byte, bool) {
	code := consentKindCode(ev.Kind)
	if code == 0 {
		return buf, false
	}
	buf = append(buf, consentDecisionVersion, code, ev.Channel.Code())
	buf = binary.AppendUvarint(buf, uint64(ev.PurposeID))
	buf = appendStoredTime(buf, ev.EffectiveAt)
	buf = appendStoredTime(buf, ev.RecordedAt)
	return buf, true
}

// appendStoredTime appends a time as encoder.time does (Unix ns, 0 for the
// zero time).
func appendStoredTime(buf []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(buf, 0)
	}
	return binary.AppendVarint(buf, t.UnixNano())
}

// consentIDValue is the consent_ids value of an event: its customer and
// its full record.
func consentIDValue(buf []byte, cid model.CustomerID, full []byte) []byte {
	return append(appendU64(buf, uint64(cid)), full...)
}

// decodeConsentForDecision reads what the decision table needs of the
// ledger record (k, v) of bucket consent, in either format, without
// allocating: format 1's kinds are matched against the known constants,
// and the texts the rules do not read (source, actor, text version) are
// skipped.
func decodeConsentForDecision(k, v []byte, ev *model.ConsentEvent) error {
	if len(v) > 0 && v[0] == consentDecisionVersion {
		if len(k) != 16 {
			return fmt.Errorf("decode consent event: %w", errCorrupt)
		}
		d := decoder{b: v[1:]}
		code := d.byte1()
		ev.ID, ev.CustomerID = model.EventID(readU64(k[8:])), model.CustomerID(readU64(k[:8]))
		if ev.Kind = consentKindFromCode(code); ev.Kind == "" && d.err == nil {
			ev.Kind = model.ConsentKind(fmt.Sprintf("kind#%d", code)) // from a newer Karton: ignored by the rules
		}
		ev.Channel = model.KindFromCode(d.byte1())
		ev.PurposeID = model.PurposeID(d.uvarint())
		ev.EffectiveAt = d.time()
		ev.RecordedAt = d.time()
		if d.err == nil && len(d.b) != 0 {
			d.err = errCorrupt
		}
		return d.done("consent event")
	}
	return decodeFullConsentForDecision(v, ev)
}

// fullConsent returns the full record (encodeConsent) of the ledger record
// (k, v) of bucket consent: v itself in format 1, else the one kept in
// consent_ids.
func fullConsent(tx *bolt.Tx, k, v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] != consentDecisionVersion {
		return v, nil
	}
	if len(k) != 16 {
		return nil, fmt.Errorf("decode consent event: %w", errCorrupt)
	}
	idv := tx.Bucket(bConsentIDs).Get(k[8:])
	if len(idv) <= consentIDLen {
		return nil, fmt.Errorf("consent event %d: the ledger has its decision record but not its full record", readU64(k[8:]))
	}
	return idv[consentIDLen:], nil
}

// decodeLedgerRecord decodes the full event of the ledger record (k, v) of
// bucket consent.
func decodeLedgerRecord(tx *bolt.Tx, k, v []byte, ev *model.ConsentEvent) error {
	full, err := fullConsent(tx, k, v)
	if err != nil {
		return err
	}
	return decodeConsent(full, ev)
}

// ledgerRecords are the records of ev (whose full record is full): the key
// and value for bucket consent and the value for consent_ids. A kind
// without a code is stored in format 1.
func (t *Tx) ledgerRecords(ev *model.ConsentEvent, full []byte) (key, val, idVal []byte) {
	key = t.keep(appendU64(appendU64(t.scratch[:0], uint64(ev.CustomerID)), uint64(ev.ID)))
	if dec, ok := encodeConsentDecision(t.scratch[:0], ev); ok {
		return key, t.keep(dec), t.keep(consentIDValue(t.scratch[:0], ev.CustomerID, full))
	}
	return key, full, t.keep(appendU64(t.scratch[:0], uint64(ev.CustomerID)))
}
