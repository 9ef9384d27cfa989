package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// The stored codes of the consent kinds are forever (decision records and
// the ledger keep them).
func TestConsentKindCodesAreFixed(t *testing.T) {
	want := map[model.ConsentKind]byte{
		model.ConsentOptIn: 1, model.ConsentDOIRequested: 2, model.ConsentDOIConfirmed: 3, model.ConsentOptOut: 4,
		model.ConsentObjection: 5, model.ConsentParental: 6, model.ConsentB2BBasis: 7, model.ConsentErasure: 8,
	}
	require.Len(t, model.ConsentKinds, len(want), "a new kind needs its code pinned here")
	for k, code := range want {
		assert.Equal(t, code, consentKindCode(k), "%s", k)
		assert.Equal(t, k, consentKindFromCode(code))
	}
}

// ledgerView is what the readers of the ledger say about the fixture's
// customer.
type ledgerView struct {
	history []model.ConsentEvent
	byID    []model.ConsentEvent
	check   CheckResult
}

func (f *consentFixture) ledgerView(t *testing.T, cid model.CustomerID, at time.Time) ledgerView {
	t.Helper()
	var v ledgerView
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		var err error
		if v.history, err = r.ConsentHistory(cid); err != nil {
			return err
		}
		for _, ev := range v.history {
			byID, err := r.ConsentEvent(ev.ID)
			if err != nil {
				return err
			}
			v.byID = append(v.byID, byID)
		}
		v.check, err = r.Check(CheckInput{Customer: cid, Channel: model.KindEmail, Purpose: f.newsletter, At: at})
		return err
	}))
	return v
}

// toFormat1 rewrites the customer's ledger as Karton wrote it before
// chunks: one full record per key in bucket consent, only the customer id
// in consent_ids.
func toFormat1(t *testing.T, s *Store, cid model.CustomerID) {
	t.Helper()
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		b, ids := tx.Bucket(bConsent), tx.Bucket(bConsentIDs)
		prefix := u64(uint64(cid))
		var keys, fulls [][]byte
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && string(k[:8]) == string(prefix); k, v = c.Next() {
			require.Equal(t, byte(consentChunkVersion), v[0], "written as a chunk")
			keys = append(keys, append([]byte(nil), k...))
			var err error
			fulls, err = fullConsents(tx, k, v, fulls)
			require.NoError(t, err)
		}
		require.NotEmpty(t, keys)
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		for _, full := range fulls {
			var ev model.ConsentEvent
			require.NoError(t, decodeConsent(full, &ev))
			full = append([]byte(nil), full...)
			if err := b.Put(appendU64(u64(uint64(cid)), uint64(ev.ID)), full); err != nil {
				return err
			}
			if err := ids.Put(u64(uint64(ev.ID)), u64(uint64(cid))); err != nil {
				return err
			}
		}
		return nil
	}))
}

// A store written before chunks reads the same: history, events
// by id, Check; and a merge moves its events into the new format.
func TestLedgerReadsBothFormats(t *testing.T) {
	f := newConsentFixture(t)
	t0 := testNow.Add(-72 * time.Hour)
	f.record(t, model.ConsentOptIn, model.KindEmail, t0, model.Evidence{"ip": "192.0.2.1"})
	f.record(t, model.ConsentDOIConfirmed, model.KindEmail, t0.Add(time.Minute), model.Evidence{"token_sha256": "ab"})
	f.record(t, model.ConsentOptOut, model.KindSMS, t0.Add(time.Hour), nil)
	now := f.ledgerView(t, f.cid, testNow)
	require.Len(t, now.history, 3)
	assert.Equal(t, now.history, now.byID)
	assert.Equal(t, "test", now.history[0].Source, "the full record, not just the decision's fields")
	assert.True(t, now.history[0].HasEvidence)
	assert.Equal(t, model.ReasonConsentDOI, now.check.Reason)

	toFormat1(t, f.s, f.cid)
	assert.Equal(t, now, f.ledgerView(t, f.cid, testNow))

	other := addCustomer(t, f.s, model.Customer{FirstName: "J.", LastName: "Meier", Email: "j.meier@example.de"})
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		_, err := tx.MergeCustomers(other, f.cid)
		return err
	}))
	moved := f.ledgerView(t, other, testNow)
	require.Len(t, moved.history, len(now.history))
	for i, ev := range moved.history {
		want := now.history[i]
		want.CustomerID = other
		assert.Equal(t, want, ev)
		assert.Equal(t, want, moved.byID[i])
	}
	assert.Equal(t, model.ReasonConsentDOI, moved.check.Reason)
	require.NoError(t, f.s.db.View(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(bConsent).Cursor().Seek(u64(uint64(other)))
		assert.Equal(t, uint64(other), readU64(k))
		assert.Equal(t, byte(consentChunkVersion), v[0], "a merge writes chunks")
		return nil
	}))
}

// An event whose consent_ids entry lost its full record is an error that
// names it, both in the customer's history and read by its id (not a
// chunk misread as a record), never a silently short history.
func TestLedgerSaysWhenAFullRecordIsMissing(t *testing.T) {
	f := newConsentFixture(t)
	id := f.record(t, model.ConsentOptIn, model.KindEmail, testNow.Add(-time.Hour), model.Evidence{"ip": "192.0.2.1"})
	require.NoError(t, f.s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bConsentIDs).Put(u64(uint64(id)), u64(uint64(f.cid)))
	}))
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		_, err := r.ConsentHistory(f.cid)
		assert.ErrorContains(t, err, "not its full record")
		_, err = r.ConsentEvent(id)
		assert.ErrorContains(t, err, "points at a missing record")
		return nil
	}))
}

// A chunk's entries are small: the customer-clustered bucket is what a
// consent import rewrites.
func TestLedgerEntryIsSmall(t *testing.T) {
	ev := model.ConsentEvent{ID: 123456, CustomerID: 654321, Channel: model.KindEmail, PurposeID: 3, Kind: model.ConsentDOIConfirmed,
		Basis: model.BasisConsent, EffectiveAt: testNow, RecordedAt: testNow, Source: "consent-platform", Actor: "import",
		TextVersion: "newsletter-v3", HasEvidence: true}
	entry := appendLedgerEntry(nil, &ev)
	full := encodeConsent(nil, &ev)
	t.Logf("chunk entry %d bytes, full record %d bytes", len(entry), len(full))
	assert.Less(t, len(entry), len(full)/4)
	key := appendU64(u64(654321), 123456)
	chunk := append([]byte{consentChunkVersion}, entry...)
	chunk = append(chunk, appendLedgerEntry(nil, &model.ConsentEvent{ID: 123460, Kind: model.ConsentOptOut, Channel: model.KindEmail, PurposeID: 3, EffectiveAt: testNow})...)
	evs, err := appendRecordDecisions(nil, 654321, key, chunk)
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, model.EventID(123460), evs[1].ID)
	assert.Equal(t, model.CustomerID(654321), evs[1].CustomerID)
	for n := 1; n < len(chunk); n++ {
		if n == 1+len(entry) {
			continue // a whole first entry: a valid chunk of one
		}
		_, err := appendRecordDecisions(nil, 654321, key, chunk[:n])
		assert.ErrorIs(t, err, errCorrupt, "cut at %d", n)
	}
	_, err = appendRecordDecisions(nil, 654321, appendU64(u64(654321), 99), chunk)
	assert.ErrorIs(t, err, errCorrupt, "a key that does not name the chunk's first event")
}

// A customer's events fill a chunk up to ledgerChunkMax, then go on in a
// new one; the history reads across chunks in order.
func TestLedgerChunksGrowAndSplit(t *testing.T) {
	f := newConsentFixture(t)
	t0 := testNow.Add(-100 * time.Hour)
	var want []model.EventID
	for i := range 120 {
		kind := model.ConsentOptIn
		if i%2 == 1 {
			kind = model.ConsentOptOut
		}
		want = append(want, f.record(t, kind, model.KindEmail, t0.Add(time.Duration(i)*time.Minute), nil))
	}
	chunks := 0
	require.NoError(t, f.s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bConsent).Cursor()
		prefix := u64(uint64(f.cid))
		for k, v := c.Seek(prefix); k != nil && string(k[:8]) == string(prefix); k, v = c.Next() {
			chunks++
			assert.LessOrEqual(t, len(v), ledgerChunkMax)
		}
		return nil
	}))
	assert.Greater(t, chunks, 1)
	v := f.ledgerView(t, f.cid, testNow)
	require.Len(t, v.history, len(want))
	for i, ev := range v.history {
		assert.Equal(t, want[i], ev.ID)
	}
	assert.Equal(t, model.ReasonWithdrawn, v.check.Reason)
}
