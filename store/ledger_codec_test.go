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

// toFormat1 rewrites the customer's ledger records as Karton wrote them
// before decision records: the full record in bucket consent, only the
// customer id in consent_ids.
func toFormat1(t *testing.T, s *Store, cid model.CustomerID) {
	t.Helper()
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		b, ids := tx.Bucket(bConsent), tx.Bucket(bConsentIDs)
		prefix := u64(uint64(cid))
		var keys, fulls [][]byte
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && string(k[:8]) == string(prefix); k, v = c.Next() {
			require.Equal(t, byte(consentDecisionVersion), v[0], "written as a decision record")
			full, err := fullConsent(tx, k, v)
			require.NoError(t, err)
			keys, fulls = append(keys, append([]byte(nil), k...)), append(fulls, append([]byte(nil), full...))
		}
		require.NotEmpty(t, keys)
		for i, k := range keys {
			if err := b.Put(k, fulls[i]); err != nil {
				return err
			}
			if err := ids.Put(k[8:], k[:8]); err != nil {
				return err
			}
		}
		return nil
	}))
}

// A store written before decision records reads the same: history, events
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
		assert.Equal(t, byte(consentDecisionVersion), v[0], "a merge writes decision records")
		return nil
	}))
}

// A decision record whose full record is missing is an error that names
// the event, not a silently short history.
func TestLedgerSaysWhenAFullRecordIsMissing(t *testing.T) {
	f := newConsentFixture(t)
	id := f.record(t, model.ConsentOptIn, model.KindEmail, testNow.Add(-time.Hour), model.Evidence{"ip": "192.0.2.1"})
	require.NoError(t, f.s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bConsentIDs).Put(u64(uint64(id)), u64(uint64(f.cid)))
	}))
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		_, err := r.ConsentHistory(f.cid)
		assert.ErrorContains(t, err, "not its full record")
		return nil
	}))
}

// A decision record is small: the customer-clustered bucket is what a
// consent import rewrites.
func TestDecisionRecordIsSmall(t *testing.T) {
	ev := model.ConsentEvent{ID: 123456, CustomerID: 654321, Channel: model.KindEmail, PurposeID: 3, Kind: model.ConsentDOIConfirmed,
		Basis: model.BasisConsent, EffectiveAt: testNow, RecordedAt: testNow, Source: "consent-platform", Actor: "import",
		TextVersion: "newsletter-v3", HasEvidence: true}
	dec, ok := encodeConsentDecision(nil, &ev)
	require.True(t, ok)
	full := encodeConsent(nil, &ev)
	t.Logf("decision record %d bytes, full record %d bytes", len(dec), len(full))
	assert.Less(t, len(dec), len(full)/3)
	var back model.ConsentEvent
	assert.ErrorIs(t, decodeConsentForDecision(appendU64(u64(654321), 123456), append(dec, 0), &back), errCorrupt, "bytes after the record")
	for n := 1; n < len(dec); n++ {
		assert.ErrorIs(t, decodeConsentForDecision(appendU64(u64(654321), 123456), dec[:n], &back), errCorrupt, "cut at %d", n)
	}
}
