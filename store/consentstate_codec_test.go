package store

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// encodeConsentStateV1 writes format 1, as Karton did before format 2, so
// the tests can check that old stores still read.
func encodeConsentStateV1(cs *ConsentState) []byte {
	e := encoder{}
	e.byte1(consentStateV1)
	e.time(cs.ComputedAt)
	e.uvarint(uint64(len(cs.Scopes)))
	for _, s := range cs.Scopes {
		e.byte1(s.Channel.Code())
		e.uvarint(uint64(s.Purpose))
		e.byte1(reasonCode(s.Reason))
		e.uvarint(uint64(s.EventID))
		e.time(s.LastContact)
	}
	return e.buf
}

// randomProjection builds a projection like the store's: every channel
// kind × purposes 1..purposes in order, most scopes decided by the
// customer's facts alone, a few by an event, a few used; sometimes with
// scopes missing or out of order, which the format must keep as they are.
func randomProjection(r *rand.Rand, purposes int) *ConsentState {
	reasons := model.AllReasons()
	cs := &ConsentState{CustomerID: 7}
	if r.IntN(4) > 0 {
		cs.ComputedAt = time.Unix(0, r.Int64N(2e18)).UTC()
	}
	sent := time.Unix(0, 1.7e18+r.Int64N(1e16)).UTC() // one launch's time, shared by several scopes
	for _, k := range model.ChannelKinds {
		common := reasons[r.IntN(len(reasons))]
		for p := 1; p <= purposes; p++ {
			s := ScopeState{Channel: k, Purpose: model.PurposeID(p), Reason: common}
			switch x := r.IntN(20); {
			case x == 0:
				s.Reason, s.EventID = reasons[r.IntN(len(reasons))], model.EventID(1+r.IntN(1e6))
			case x == 1:
				s.LastContact = sent
			case x == 2:
				s.Reason = reasons[r.IntN(len(reasons))]
			case x == 3:
				s.Reason = "" // never decided, a use noted first
				s.LastContact = sent
			}
			cs.Scopes = append(cs.Scopes, s)
		}
	}
	switch r.IntN(6) {
	case 0: // a purpose deleted: a gap in the ids
		cs.Scopes = append(cs.Scopes[:3], cs.Scopes[4:]...)
	case 1:
		r.Shuffle(len(cs.Scopes), func(i, j int) { cs.Scopes[i], cs.Scopes[j] = cs.Scopes[j], cs.Scopes[i] })
	case 2:
		cs.Scopes = nil
	}
	return cs
}

// stored is what a projection reads back as: reasons through their codes.
func stored(cs *ConsentState) *ConsentState {
	out := &ConsentState{CustomerID: cs.CustomerID, ComputedAt: cs.ComputedAt, Scopes: []ScopeState{}}
	for _, s := range cs.Scopes {
		s.Reason = reasonFromCode(reasonCode(s.Reason))
		out.Scopes = append(out.Scopes, s)
	}
	return out
}

func TestConsentStateRoundTripsInBothFormats(t *testing.T) {
	require.Less(t, len(model.ChannelKinds), 16, "a run's head keeps the channel kind code in 4 bits")
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		cs := randomProjection(r, 1+r.IntN(8))
		want := stored(cs)
		for _, rec := range [][]byte{encodeConsentState(cs), encodeConsentStateV1(cs)} {
			got, err := decodeConsentState(7, rec)
			require.NoError(t, err, "projection %d, format %d", i, rec[0])
			require.Equal(t, want, got, "projection %d, format %d", i, rec[0])

			var cov, covWant Coverage
			require.NoError(t, cov.tally(rec))
			require.NoError(t, covWant.tally(encodeConsentStateV1(cs)))
			cov.Complete()
			covWant.Complete()
			require.Equal(t, covWant.Scopes, cov.Scopes)
		}
	}
}

// A projection decoded into a reused array (an import decodes thousands)
// holds exactly the new record's scopes.
func TestConsentStateDecodesIntoAReusedArray(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	big, small := randomProjection(r, 8), randomProjection(r, 2)
	var cs ConsentState
	require.NoError(t, decodeConsentStateInto(&cs, 7, encodeConsentState(big)))
	require.NoError(t, decodeConsentStateInto(&cs, 7, encodeConsentState(small)))
	assert.Equal(t, stored(small), &cs)
}

func TestLastContactReadsRunsOfScopes(t *testing.T) {
	sent := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	cs := &ConsentState{}
	for p := 1; p <= 6; p++ {
		// One launch used purposes 2..5 on email at the same moment: one run.
		s := ScopeState{Channel: model.KindEmail, Purpose: model.PurposeID(p), Reason: model.ReasonConsentDOI}
		if p >= 2 && p <= 5 {
			s.LastContact = sent
		}
		cs.Scopes = append(cs.Scopes, s)
	}
	rec := encodeConsentState(cs)
	at, runs, err := openStateRuns(rec)
	require.NoError(t, err)
	assert.Zero(t, at)
	var run stateRun
	n := 0
	for runs.next(&run) {
		n++
	}
	require.NoError(t, runs.done())
	assert.Equal(t, 3, n, "purposes 1, 2–5 and 6")

	s := newConsentFixture(t).s
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bConsentState).Put(u64(99), rec)
	}))
	require.NoError(t, s.View(admin, func(rd *Reader) error {
		for p := 1; p <= 7; p++ {
			got, err := rd.lastContact(99, model.KindEmail, model.PurposeID(p))
			require.NoError(t, err)
			assert.Equal(t, p >= 2 && p <= 5, got.Equal(sent), "purpose %d", p)
		}
		got, err := rd.lastContact(99, model.KindSMS, 3)
		require.NoError(t, err)
		assert.True(t, got.IsZero())
		return nil
	}))
}

// Format 2 exists to make projections small: a customer whose scopes are
// mostly decided by facts alone (here: one reason per channel kind, events
// on three scopes) takes well under half of format 1's bytes.
func TestConsentStateFormat2IsSmall(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	reasons := model.AllReasons()
	var v1, v2 int
	for range 500 {
		cs := &ConsentState{ComputedAt: time.Unix(1.7e9+r.Int64N(1e7), 0).UTC()}
		for _, k := range model.ChannelKinds {
			common := reasons[r.IntN(len(reasons))]
			for p := 1; p <= 6; p++ {
				cs.Scopes = append(cs.Scopes, ScopeState{Channel: k, Purpose: model.PurposeID(p), Reason: common})
			}
		}
		for range 3 {
			s := &cs.Scopes[r.IntN(len(cs.Scopes))]
			s.Reason, s.EventID = reasons[r.IntN(len(reasons))], model.EventID(1+r.IntN(3e6))
		}
		v1 += len(encodeConsentStateV1(cs))
		v2 += len(encodeConsentState(cs))
	}
	t.Logf("format 1: %d bytes, format 2: %d bytes (%.0f %%)", v1, v2, 100*float64(v2)/float64(v1))
	assert.Less(t, float64(v2), 0.35*float64(v1))
}

func TestConsentStateRejectsDamage(t *testing.T) {
	cs := &ConsentState{ComputedAt: time.Unix(1.7e9, 0).UTC()}
	for p := 1; p <= 6; p++ {
		cs.Scopes = append(cs.Scopes, ScopeState{Channel: model.KindEmail, Purpose: model.PurposeID(p), Reason: model.ReasonNoValidBasis})
	}
	cs.Scopes[2].EventID, cs.Scopes[2].Reason = 42, model.ReasonConsentDOI
	rec := encodeConsentState(cs)
	// Every cut short record fails, none panics.
	for n := range len(rec) {
		_, err := decodeConsentState(1, rec[:n])
		assert.ErrorIs(t, err, errCorrupt, "cut at %d", n)
		var cov Coverage
		assert.ErrorIs(t, cov.tally(rec[:n]), errCorrupt, "cut at %d", n)
	}
	// A byte after the last run.
	_, err := decodeConsentState(1, append(rec[:len(rec):len(rec)], 0))
	assert.ErrorIs(t, err, errCorrupt)
	// A run longer than the scopes the header counts.
	long := []byte{consentStateVersion, 0, 2, 1 | runLong, 1, 3, 5}
	_, err = decodeConsentState(1, long)
	assert.ErrorIs(t, err, errCorrupt)
	// A header that claims more scopes than any store has.
	_, err = decodeConsentState(1, []byte{consentStateVersion, 0, 0xff, 0xff, 0xff, 0x0f})
	assert.ErrorIs(t, err, errCorrupt)
	// A format from a newer Karton says so.
	_, err = decodeConsentState(1, []byte{9, 0, 0})
	assert.ErrorContains(t, err, "upgrade Karton")
}

// BenchmarkConsentStateCodec encodes and decodes a typical projection (8
// channel kinds × 6 purposes, three decided by events), as a consent import
// does for every customer it touches.
func BenchmarkConsentStateCodec(b *testing.B) {
	cs := &ConsentState{ComputedAt: time.Unix(1.7e9, 0).UTC()}
	reasons := []model.Reason{model.ReasonNoValidBasis, model.ReasonNoContactPoint, model.ReasonExistingCustomer}
	for i, k := range model.ChannelKinds {
		for p := 1; p <= 6; p++ {
			cs.Scopes = append(cs.Scopes, ScopeState{Channel: k, Purpose: model.PurposeID(p), Reason: reasons[i%len(reasons)]})
		}
	}
	cs.Scopes[1].Reason, cs.Scopes[1].EventID = model.ReasonConsentDOI, 123456
	cs.Scopes[9].Reason, cs.Scopes[9].EventID = model.ReasonWithdrawn, 123457
	cs.Scopes[20].Reason, cs.Scopes[20].EventID = model.ReasonConsentPhone, 123458
	var buf []byte
	var back ConsentState
	b.ReportAllocs()
	for b.Loop() {
		buf = appendConsentState(buf[:0], cs)
		if err := decodeConsentStateInto(&back, 7, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(buf)), "bytes")
}
