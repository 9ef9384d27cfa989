package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// Tests for the shortcuts Check takes for speed (see BenchmarkConsentCheck):
// each must give exactly what the long way gave.

func TestReasonCodesRoundTrip(t *testing.T) {
	for _, r := range model.AllReasons() {
		assert.Equal(t, r, reasonFromCode(reasonCode(r)), "reason %s", r)
	}
	assert.Equal(t, model.Reason(""), reasonFromCode(0))
	assert.Equal(t, model.Reason(""), reasonFromCode(200))
}

func TestLastContactMatchesTheProjection(t *testing.T) {
	f := newConsentFixture(t)
	sent := testNow.Add(-3 * time.Hour)
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		return tx.NoteContact(f.cid, model.KindSMS, f.service, sent)
	}))
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		cs, err := r.ConsentState(f.cid)
		require.NoError(t, err)
		require.NotNil(t, cs)
		require.NotEmpty(t, cs.Scopes)
		for _, sc := range cs.Scopes {
			got, err := r.lastContact(f.cid, sc.Channel, sc.Purpose)
			require.NoError(t, err)
			assert.True(t, got.Equal(sc.LastContact), "%s/%d: %s, projection says %s", sc.Channel, sc.Purpose, got, sc.LastContact)
		}
		got, err := r.lastContact(f.cid, model.KindSMS, f.service)
		require.NoError(t, err)
		assert.True(t, got.Equal(sent))
		got, err = r.lastContact(f.cid, model.KindSMS, 999) // no such scope
		require.NoError(t, err)
		assert.True(t, got.IsZero())
		got, err = r.lastContact(12345, model.KindSMS, f.service) // no projection
		require.NoError(t, err)
		assert.True(t, got.IsZero())
		return nil
	}))
}

func TestLastContactRejectsADamagedProjection(t *testing.T) {
	f := newConsentFixture(t)
	require.NoError(t, f.s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bConsentState).Put(u64(uint64(f.cid)), []byte{consentStateVersion, 0x80})
	}))
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		_, err := r.lastContact(f.cid, model.KindEmail, f.newsletter)
		assert.ErrorIs(t, err, errCorrupt)
		return nil
	}))
}

// Check reads the profiling purposes only for a step that uses profiling
// data; such a step must still find a profiling consent given for another
// purpose (rule 7).
func TestCheckStillSeesProfilingPurposesWhenTheStepNeedsThem(t *testing.T) {
	f := newConsentFixture(t)
	t0 := testNow.Add(-48 * time.Hour)
	f.record(t, model.ConsentOptIn, model.KindEmail, t0, model.Evidence{"ip": "192.0.2.1"})
	f.record(t, model.ConsentDOIConfirmed, model.KindEmail, t0.Add(time.Minute), model.Evidence{"token_sha256": "ab"})
	check := func(cats []model.DataCategory) model.Reason {
		var res CheckResult
		require.NoError(t, f.s.View(admin, func(r *Reader) (err error) {
			res, err = r.Check(CheckInput{Customer: f.cid, Channel: model.KindEmail, Purpose: f.newsletter, DataCategories: cats})
			return err
		}))
		return res.Reason
	}
	assert.Equal(t, model.ReasonConsentDOI, check([]model.DataCategory{model.DataContact}))
	assert.Equal(t, model.ReasonProcessingNotPermitted, check([]model.DataCategory{model.DataPurchases}))

	var profiling model.PurposeID
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		p, err := r.PurposeByName("profiling")
		profiling = p.ID
		return err
	}))
	e := model.ConsentEvent{CustomerID: f.cid, Channel: model.KindWeb, PurposeID: profiling, Kind: model.ConsentOptIn, EffectiveAt: t0.Add(time.Hour), Source: "test"}
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error { return tx.AppendConsent(&e, model.Evidence{"ip": "192.0.2.1"}) }))
	assert.Equal(t, model.ReasonConsentDOI, check([]model.DataCategory{model.DataPurchases}))
}
