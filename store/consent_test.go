package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// consentFixture is a store with purposes and one customer with an email.
type consentFixture struct {
	s          *Store
	clock      *testClock
	newsletter model.PurposeID
	service    model.PurposeID
	cid        model.CustomerID
}

func newConsentFixture(t *testing.T) *consentFixture {
	s, clock := openTest(t)
	f := &consentFixture{s: s, clock: clock}
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		n := model.Purpose{Name: "newsletter", Category: model.CategoryMarketing, OwnSimilarProducts: true}
		if err := tx.InsertPurpose(&n); err != nil {
			return err
		}
		sv := model.Purpose{Name: "service", Category: model.CategoryService}
		if err := tx.InsertPurpose(&sv); err != nil {
			return err
		}
		p := model.Purpose{Name: "profiling", Category: model.CategoryProfiling}
		if err := tx.InsertPurpose(&p); err != nil {
			return err
		}
		f.newsletter, f.service = n.ID, sv.ID
		return nil
	}))
	f.cid = addCustomer(t, s, model.Customer{FirstName: "Jana", LastName: "Meier", Email: "jana@example.de", Phone: "+4915112345678"})
	return f
}

func (f *consentFixture) record(t *testing.T, kind model.ConsentKind, ch model.ChannelKind, at time.Time, ev model.Evidence) model.EventID {
	t.Helper()
	e := model.ConsentEvent{CustomerID: f.cid, Channel: ch, PurposeID: f.newsletter, Kind: kind, EffectiveAt: at, Source: "test"}
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error { return tx.AppendConsent(&e, ev) }))
	return e.ID
}

func (f *consentFixture) check(t *testing.T, ch model.ChannelKind, at, known time.Time) CheckResult {
	t.Helper()
	var res CheckResult
	require.NoError(t, f.s.View(admin, func(r *Reader) (err error) {
		res, err = r.Check(CheckInput{Customer: f.cid, Channel: ch, Purpose: f.newsletter, At: at, KnownAt: known})
		return err
	}))
	return res
}

func (f *consentFixture) reach(t *testing.T, ch model.ChannelKind) int64 {
	var n int64
	require.NoError(t, f.s.View(admin, func(r *Reader) error { n = r.Reach(ch, f.newsletter); return nil }))
	return n
}

func TestConsentLifecycleThroughTheStore(t *testing.T) {
	f := newConsentFixture(t)
	t0 := testNow.Add(-48 * time.Hour)
	assert.Equal(t, model.ReasonNoValidBasis, f.check(t, model.KindEmail, time.Time{}, time.Time{}).Reason)
	assert.EqualValues(t, 0, f.reach(t, model.KindEmail))

	f.record(t, model.ConsentOptIn, model.KindEmail, t0, model.Evidence{"ip": "192.0.2.1"})
	assert.Equal(t, model.ReasonPendingDOI, f.check(t, model.KindEmail, time.Time{}, time.Time{}).Reason)
	doi := f.record(t, model.ConsentDOIConfirmed, model.KindEmail, t0.Add(10*time.Minute), model.Evidence{"token_sha256": "ab12"})
	res := f.check(t, model.KindEmail, time.Time{}, time.Time{})
	assert.True(t, res.Allow)
	assert.Equal(t, model.ReasonConsentDOI, res.Reason)
	assert.Equal(t, doi, res.EventID)
	assert.Equal(t, doi, res.LedgerPosition)
	assert.EqualValues(t, 1, f.reach(t, model.KindEmail), "reach follows the projection")
	assert.Equal(t, model.ReasonNoValidBasis, f.check(t, model.KindPhone, time.Time{}, time.Time{}).Reason, "an email DOI never allows phone")

	// A withdrawal that happened yesterday but reached Karton only now.
	f.clock.t = testNow.Add(time.Hour)
	out := f.record(t, model.ConsentOptOut, model.KindEmail, testNow.Add(-24*time.Hour), nil)
	now := f.clock.t
	res = f.check(t, model.KindEmail, now, now)
	assert.Equal(t, model.ReasonWithdrawn, res.Reason)
	assert.Equal(t, out, res.EventID)
	assert.EqualValues(t, 0, f.reach(t, model.KindEmail))
	// Replaying what was known before the opt-out was recorded gives the old decision.
	assert.Equal(t, model.ReasonConsentDOI, f.check(t, model.KindEmail, now, testNow).Reason)
	// Checking at a time before the opt-out took effect allows again.
	assert.Equal(t, model.ReasonConsentDOI, f.check(t, model.KindEmail, testNow.Add(-30*time.Hour), now).Reason)

	var st *ConsentState
	require.NoError(t, f.s.View(admin, func(r *Reader) (err error) { st, err = r.ConsentState(f.cid); return err }))
	sc, ok := st.Scope(model.KindEmail, f.newsletter)
	require.True(t, ok)
	assert.Equal(t, model.ReasonWithdrawn, sc.Reason)
	assert.Equal(t, out, sc.EventID)
	sv, ok := st.Scope(model.KindEmail, f.service)
	require.True(t, ok)
	assert.Equal(t, model.ReasonContractual, sv.Reason)
}

func TestConsentEventValidation(t *testing.T) {
	f := newConsentFixture(t)
	cases := map[string]struct {
		ev  model.ConsentEvent
		evi model.Evidence
		msg string
	}{
		"future":        {model.ConsentEvent{CustomerID: f.cid, Channel: model.KindEmail, PurposeID: f.newsletter, Kind: model.ConsentOptIn, EffectiveAt: testNow.Add(time.Hour)}, nil, "in the future"},
		"unknown kind":  {model.ConsentEvent{CustomerID: f.cid, Channel: model.KindEmail, PurposeID: f.newsletter, Kind: "maybe", EffectiveAt: testNow}, nil, "unknown consent kind"},
		"no channel":    {model.ConsentEvent{CustomerID: f.cid, PurposeID: f.newsletter, Kind: model.ConsentOptIn, EffectiveAt: testNow}, nil, "channel"},
		"no purpose":    {model.ConsentEvent{CustomerID: f.cid, Channel: model.KindEmail, PurposeID: 99, Kind: model.ConsentOptIn, EffectiveAt: testNow}, nil, "no purpose 99"},
		"no customer":   {model.ConsentEvent{CustomerID: 999, Channel: model.KindEmail, PurposeID: f.newsletter, Kind: model.ConsentOptIn, EffectiveAt: testNow}, nil, "no customer 999"},
		"huge evidence": {model.ConsentEvent{CustomerID: f.cid, Channel: model.KindEmail, PurposeID: f.newsletter, Kind: model.ConsentOptIn, EffectiveAt: testNow}, model.Evidence{"blob": string(make([]byte, 5000))}, "limit is 4096 bytes"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := f.s.Update(admin, func(tx *Tx) error { return tx.AppendConsent(&tc.ev, tc.evi) })
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	st, err := f.s.Stats()
	require.NoError(t, err)
	assert.Zero(t, st.ConsentEvents)
	viewer := model.Actor{Name: "vic", Role: model.RoleViewer}
	err = f.s.Update(viewer, func(tx *Tx) error {
		return tx.AppendConsent(&model.ConsentEvent{CustomerID: f.cid, Channel: model.KindEmail, PurposeID: f.newsletter, Kind: model.ConsentOptIn, EffectiveAt: testNow}, nil)
	})
	var pe *model.PermissionError
	require.ErrorAs(t, err, &pe)
}

func TestEraseKeepsChainSuppressesAndLiftsOnNewOptIn(t *testing.T) {
	f := newConsentFixture(t)
	f.record(t, model.ConsentOptIn, model.KindEmail, testNow.Add(-time.Hour), model.Evidence{"ip": "192.0.2.1"})
	f.record(t, model.ConsentDOIConfirmed, model.KindEmail, testNow.Add(-time.Hour), model.Evidence{"token_sha256": "ff"})
	require.EqualValues(t, 1, f.reach(t, model.KindEmail))

	require.NoError(t, f.s.Update(admin, func(tx *Tx) error { return tx.EraseCustomer(f.cid) }))
	v, err := f.s.VerifyAudit()
	require.NoError(t, err)
	assert.True(t, v.OK, v.Reason)
	res := f.check(t, model.KindEmail, time.Time{}, time.Time{})
	assert.Equal(t, model.ReasonErasedSuppressed, res.Reason)
	assert.EqualValues(t, 0, f.reach(t, model.KindEmail))
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		c, err := r.Customer(f.cid)
		require.NoError(t, err)
		assert.True(t, c.Erased)
		assert.Empty(t, c.Email+c.FirstName+c.LastName+c.Phone)
		_, err = r.CustomerByEmail("jana@example.de")
		assert.ErrorIs(t, err, ErrNotFound)
		hist, err := r.ConsentHistory(f.cid)
		require.NoError(t, err)
		require.Len(t, hist, 3, "the pseudonymous ledger stays")
		assert.True(t, hist[0].HasEvidence, "the event keeps its evidence hash")
		ev, err := r.Evidence(hist[0].ID)
		require.NoError(t, err)
		assert.Nil(t, ev, "the evidence itself is gone")
		return nil
	}))
	require.Error(t, f.s.Update(admin, func(tx *Tx) error { return tx.EraseCustomer(f.cid) }), "erasing twice")

	// The same person signs up again: suppressed until a new explicit opt-in with evidence.
	f.cid = addCustomer(t, f.s, model.Customer{FirstName: "Jana", Email: "JANA@example.de"})
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		c, err := r.Customer(f.cid)
		require.NoError(t, err)
		assert.True(t, c.Suppressed)
		return nil
	}))
	f.record(t, model.ConsentDOIConfirmed, model.KindEmail, testNow, nil)
	assert.Equal(t, model.ReasonErasedSuppressed, f.check(t, model.KindEmail, time.Time{}, time.Time{}).Reason)
	f.record(t, model.ConsentOptIn, model.KindEmail, testNow, nil)
	assert.Equal(t, model.ReasonErasedSuppressed, f.check(t, model.KindEmail, time.Time{}, time.Time{}).Reason, "an opt-in without evidence does not lift suppression")
	f.record(t, model.ConsentOptIn, model.KindEmail, testNow, model.Evidence{"form": "signup", "ip": "192.0.2.7"})
	res = f.check(t, model.KindEmail, time.Time{}, time.Time{})
	assert.NotEqual(t, model.ReasonErasedSuppressed, res.Reason)
	entries := auditActions(t, f.s)
	assert.Contains(t, entries, "suppression.lift")
	assert.Contains(t, entries, "customer.erase")
	v, err = f.s.VerifyAudit()
	require.NoError(t, err)
	assert.True(t, v.OK, v.Reason)
}

func auditActions(t *testing.T, s *Store) []string {
	var out []string
	require.NoError(t, s.View(admin, func(r *Reader) error {
		es, err := r.AuditEntries(1, 1000)
		for _, e := range es {
			out = append(out, e.Action)
		}
		return err
	}))
	return out
}

func TestRebuildConsentStateGivesTheSameReach(t *testing.T) {
	f := newConsentFixture(t)
	f.record(t, model.ConsentOptIn, model.KindEmail, testNow.Add(-time.Hour), nil)
	f.record(t, model.ConsentDOIConfirmed, model.KindEmail, testNow.Add(-time.Hour), nil)
	other := addCustomer(t, f.s, model.Customer{LastName: "Post", Address: model.Address{Street: "Hauptstr. 1", PostalCode: "10115", City: "Berlin", Country: "DE"}})
	_ = other
	before := map[model.ChannelKind]int64{}
	for _, k := range model.ChannelKinds {
		before[k] = f.reach(t, k)
	}
	assert.EqualValues(t, 1, before[model.KindEmail])
	assert.EqualValues(t, 1, before[model.KindPostal])
	n, err := f.s.RebuildConsentState(admin)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	for _, k := range model.ChannelKinds {
		assert.Equal(t, before[k], f.reach(t, k), "kind %s", k)
	}
}

func TestPersonalDataExport(t *testing.T) {
	f := newConsentFixture(t)
	f.record(t, model.ConsentOptIn, model.KindEmail, testNow.Add(-time.Hour), model.Evidence{"ip": "192.0.2.1"})
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		return tx.AddPurchase(&model.Purchase{CustomerID: f.cid, OrderID: "A-1", Source: "shop", At: testNow.Add(-2 * time.Hour), Amount: 1999})
	}))
	pd, err := f.s.ExportPersonalData(admin, f.cid)
	require.NoError(t, err)
	assert.Equal(t, "jana@example.de", pd.Customer.Email)
	require.Len(t, pd.Consents, 1)
	assert.Equal(t, "192.0.2.1", pd.Consents[0].Evidence["ip"])
	assert.Equal(t, "newsletter", pd.Consents[0].Purpose)
	require.Len(t, pd.Purchases, 1)
	assert.NotEmpty(t, pd.CurrentState)
	assert.Contains(t, auditActions(t, f.s), "customer.export")
	_, err = f.s.ExportPersonalData(model.Actor{Name: "otto", Role: model.RoleOperator}, f.cid)
	var pe *model.PermissionError
	require.ErrorAs(t, err, &pe)
}

// The audit chain names the right sequence for each kind of tampering done
// directly in the bbolt file.
func TestAuditVerifyFindsTampering(t *testing.T) {
	build := func(t *testing.T) *Store {
		s, _ := openTest(t)
		for i := range 10 {
			require.NoError(t, s.Update(admin, func(tx *Tx) error {
				return tx.Audit("test.act", "thing", []byte{byte(i)})
			}))
		}
		v, err := s.VerifyAudit()
		require.NoError(t, err)
		require.True(t, v.OK)
		require.EqualValues(t, 10, v.Entries)
		return s
	}
	tamper := func(s *Store, fn func(b *bolt.Bucket) error) {
		require.NoError(t, s.db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket(bAudit)) }))
	}
	t.Run("changed byte", func(t *testing.T) {
		s := build(t)
		tamper(s, func(b *bolt.Bucket) error {
			v := append([]byte(nil), b.Get(u64(4))...)
			v[len(v)-40] ^= 0x01 // inside the payload hash
			return b.Put(u64(4), v)
		})
		v, _ := s.VerifyAudit()
		assert.False(t, v.OK)
		assert.EqualValues(t, 4, v.BrokenSeq, v.Reason)
	})
	t.Run("changed actor", func(t *testing.T) {
		s := build(t)
		tamper(s, func(b *bolt.Bucket) error {
			var e AuditEntry
			require.NoError(t, decodeAudit(b.Get(u64(6)), &e))
			e.Actor = "mallory"
			return b.Put(u64(6), e.encode())
		})
		v, _ := s.VerifyAudit()
		assert.EqualValues(t, 6, v.BrokenSeq, v.Reason)
	})
	t.Run("deleted entry", func(t *testing.T) {
		s := build(t)
		tamper(s, func(b *bolt.Bucket) error { return b.Delete(u64(7)) })
		v, _ := s.VerifyAudit()
		assert.EqualValues(t, 7, v.BrokenSeq, v.Reason)
		assert.Contains(t, v.Reason, "missing")
	})
	t.Run("deleted last entry", func(t *testing.T) {
		s := build(t)
		tamper(s, func(b *bolt.Bucket) error { return b.Delete(u64(10)) })
		v, _ := s.VerifyAudit()
		assert.EqualValues(t, 10, v.BrokenSeq, v.Reason)
	})
	t.Run("swapped entries", func(t *testing.T) {
		s := build(t)
		tamper(s, func(b *bolt.Bucket) error {
			a, c := append([]byte(nil), b.Get(u64(3))...), append([]byte(nil), b.Get(u64(8))...)
			if err := b.Put(u64(3), c); err != nil {
				return err
			}
			return b.Put(u64(8), a)
		})
		v, _ := s.VerifyAudit()
		assert.EqualValues(t, 3, v.BrokenSeq, v.Reason)
	})
	t.Run("rehashed forgery", func(t *testing.T) {
		// Recomputing the entry's own hash is not enough: the next entry's
		// previous-hash no longer matches.
		s := build(t)
		tamper(s, func(b *bolt.Bucket) error {
			var e AuditEntry
			require.NoError(t, decodeAudit(b.Get(u64(5)), &e))
			e.Action = "nothing.happened"
			e.Hash = sha256.Sum256(e.body())
			return b.Put(u64(5), e.encode())
		})
		v, _ := s.VerifyAudit()
		assert.EqualValues(t, 6, v.BrokenSeq, v.Reason)
	})
}

// Time alone changes decisions: a confirmed opt-in goes stale, a minor
// turns 16. The projection and the reach counts follow once refreshed, a
// second refresh changes nothing, and the counts equal a rebuild's.
func TestRefreshConsentStateFollowsTheClock(t *testing.T) {
	f := newConsentFixture(t)
	f.record(t, model.ConsentOptIn, model.KindEmail, testNow.Add(-time.Hour), nil)
	f.record(t, model.ConsentDOIConfirmed, model.KindEmail, testNow.Add(-time.Hour), nil)
	// A 15-year-old on the postal list, 16 in a month: no events, so the
	// projection is decided from the facts alone.
	teen := addCustomer(t, f.s, model.Customer{LastName: "Jung", BirthDate: model.DateOf(testNow.AddDate(-16, 1, 0)),
		Address: model.Address{Street: "Hauptstr. 1", PostalCode: "10115", City: "Berlin", Country: "DE"}})
	state := func(cid model.CustomerID, k model.ChannelKind) model.Reason {
		var r model.Reason
		require.NoError(t, f.s.View(admin, func(rd *Reader) error {
			cs, err := rd.ConsentState(cid)
			require.NotNil(t, cs)
			sc, _ := cs.Scope(k, f.newsletter)
			r = sc.Reason
			return err
		}))
		return r
	}
	assert.Equal(t, model.ReasonConsentDOI, state(f.cid, model.KindEmail))
	assert.Equal(t, model.ReasonMinorNoParentalConsent, state(teen, model.KindPostal))
	assert.EqualValues(t, 1, f.reach(t, model.KindEmail))
	assert.EqualValues(t, 0, f.reach(t, model.KindPostal))
	var at time.Time
	require.NoError(t, f.s.View(admin, func(r *Reader) error { at = r.ConsentRefreshedAt(); return nil }))
	assert.True(t, at.IsZero(), "never refreshed")

	f.clock.t = testNow.AddDate(2, 1, 0) // past the 24-month stale window; the teen is 18
	assert.Equal(t, model.ReasonConsentDOI, state(f.cid, model.KindEmail), "nothing happened to the customer: the projection is as it was")
	customers, changed, err := f.s.RefreshConsentState(context.Background(), admin)
	require.NoError(t, err)
	assert.Equal(t, 2, customers)
	assert.Equal(t, 2, changed)
	assert.Equal(t, model.ReasonConsentStale, state(f.cid, model.KindEmail))
	assert.Equal(t, model.ReasonLegitimateInterest, state(teen, model.KindPostal))
	assert.EqualValues(t, 0, f.reach(t, model.KindEmail))
	assert.EqualValues(t, 1, f.reach(t, model.KindPostal))
	assert.Equal(t, model.ReasonConsentStale, f.check(t, model.KindEmail, time.Time{}, time.Time{}).Reason, "Check agrees")
	require.NoError(t, f.s.View(admin, func(r *Reader) error { at = r.ConsentRefreshedAt(); return nil }))
	assert.Equal(t, f.clock.t, at)

	_, changed, err = f.s.RefreshConsentState(context.Background(), admin)
	require.NoError(t, err)
	assert.Zero(t, changed, "nothing changed since: nothing is written")

	reach := map[model.ChannelKind]int64{}
	for _, k := range model.ChannelKinds {
		reach[k] = f.reach(t, k)
	}
	_, err = f.s.RebuildConsentState(admin)
	require.NoError(t, err)
	for _, k := range model.ChannelKinds {
		assert.Equal(t, reach[k], f.reach(t, k), "kind %s: refresh and rebuild agree", k)
	}

	_, _, err = f.s.RefreshConsentState(context.Background(), model.Actor{Name: "vera", Role: model.RoleViewer, Via: "test"})
	assert.Error(t, err, "a viewer may not")
}

// Purposes are cached once committed; one inserted by a transaction that
// is rolled back is not, and its id read later is the purpose committed
// under it.
func TestPurposeCacheHoldsOnlyCommittedPurposes(t *testing.T) {
	s, _ := openTest(t)
	var id model.PurposeID
	err := s.Update(admin, func(tx *Tx) error {
		p := model.Purpose{Name: "doomed", Category: model.CategoryMarketing}
		if err := tx.InsertPurpose(&p); err != nil {
			return err
		}
		id = p.ID
		got, err := tx.Reader().Purpose(id)
		require.NoError(t, err)
		assert.Equal(t, "doomed", got.Name)
		return errors.New("roll back")
	})
	require.Error(t, err)
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		p := model.Purpose{Name: "kept", Category: model.CategoryService}
		if err := tx.InsertPurpose(&p); err != nil {
			return err
		}
		require.Equal(t, id, p.ID, "the id of the rolled-back purpose is given again")
		return nil
	}))
	for range 2 { // read, then from the cache
		require.NoError(t, s.View(admin, func(r *Reader) error {
			got, err := r.Purpose(id)
			require.NoError(t, err)
			assert.Equal(t, "kept", got.Name)
			return nil
		}))
	}
}

// The history of a scope holds its own events and those covering every
// scope (an objection), not the events of other channels or purposes.
func TestConsentHistoryFor(t *testing.T) {
	f := newConsentFixture(t)
	emailNews := f.record(t, model.ConsentOptIn, model.KindEmail, testNow.Add(-3*time.Hour), nil)
	smsNews := f.record(t, model.ConsentOptIn, model.KindSMS, testNow.Add(-2*time.Hour), nil)
	var objection model.EventID
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		e := model.ConsentEvent{CustomerID: f.cid, Kind: model.ConsentObjection, EffectiveAt: testNow.Add(-time.Hour), Source: "test"}
		err := tx.AppendConsent(&e, nil)
		objection = e.ID
		return err
	}))
	var emailService model.EventID
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		e := model.ConsentEvent{CustomerID: f.cid, Channel: model.KindEmail, PurposeID: f.service, Kind: model.ConsentOptIn, EffectiveAt: testNow, Source: "test"}
		err := tx.AppendConsent(&e, nil)
		emailService = e.ID
		return err
	}))
	ids := func(k model.ChannelKind, p model.PurposeID) []model.EventID {
		var out []model.EventID
		require.NoError(t, f.s.View(admin, func(r *Reader) error {
			evs, err := r.ConsentHistoryFor(f.cid, k, p)
			for _, ev := range evs {
				out = append(out, ev.ID)
			}
			return err
		}))
		return out
	}
	assert.Equal(t, []model.EventID{emailNews, smsNews, objection, emailService}, ids("", 0))
	assert.Equal(t, []model.EventID{emailNews, objection}, ids(model.KindEmail, f.newsletter))
	assert.Equal(t, []model.EventID{emailNews, objection, emailService}, ids(model.KindEmail, 0))
	assert.Equal(t, []model.EventID{emailNews, smsNews, objection}, ids("", f.newsletter))
	assert.Equal(t, []model.EventID{objection}, ids(model.KindPhone, f.newsletter))
}

// A customer suppressed for an address they no longer have (corrected by
// an operator, or taken over in a merge) is not suppressed for ever: an
// explicit opt-in with evidence clears the mark once none of their contact
// points is on the list; one still on it keeps the mark.
func TestSuppressionOfAContactPointNoLongerHeld(t *testing.T) {
	f := newConsentFixture(t)
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error { return tx.EraseCustomer(f.cid) }))
	f.cid = addCustomer(t, f.s, model.Customer{FirstName: "Jan", Email: "jana@example.de", Phone: "+4915112345678"})
	suppressed := func() bool {
		var c model.Customer
		require.NoError(t, f.s.View(admin, func(r *Reader) (err error) { c, err = r.Customer(f.cid); return err }))
		return c.Suppressed
	}
	require.True(t, suppressed())
	// The address was typed wrong: the operator corrects it.
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		return tx.UpdateCustomer(f.cid, func(c *model.Customer) error { c.Email = "jan@example.de"; return nil })
	}))
	assert.True(t, suppressed(), "an edit alone does not lift suppression")
	// An opt-in with evidence for the new address: the phone is still on the list.
	f.record(t, model.ConsentOptIn, model.KindEmail, testNow, model.Evidence{"form": "signup"})
	assert.True(t, suppressed(), "the phone of the erased person is still on the list")
	assert.Equal(t, model.ReasonErasedSuppressed, f.check(t, model.KindEmail, time.Time{}, time.Time{}).Reason)
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		return tx.UpdateCustomer(f.cid, func(c *model.Customer) error { c.Phone = ""; return nil })
	}))
	lifts := func() int {
		n := 0
		for _, a := range auditActions(t, f.s) {
			if a == "suppression.lift" {
				n++
			}
		}
		return n
	}
	before := lifts()
	f.record(t, model.ConsentOptIn, model.KindEmail, testNow, model.Evidence{"form": "signup"})
	assert.False(t, suppressed(), "none of their contact points is on the list")
	assert.Equal(t, before+1, lifts(), "audited")
	assert.NotEqual(t, model.ReasonErasedSuppressed, f.check(t, model.KindEmail, time.Time{}, time.Time{}).Reason)
	v, err := f.s.VerifyAudit()
	require.NoError(t, err)
	assert.True(t, v.OK, v.Reason)
}

// The files a file connector wrote are blanked only for an erased person
// and only by an admin; a customer without messages has no files.
func TestRedactStepFilesNeedsAnErasedCustomerAndAnAdmin(t *testing.T) {
	s, _ := openTest(t)
	id := addCustomer(t, s, model.Customer{Type: model.Consumer, FirstName: "Jana", Email: "jana@example.de"})
	_, err := s.RedactStepFiles(admin, id)
	assert.ErrorContains(t, err, "customer 1 is not erased")
	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.EraseCustomer(id) }))
	_, err = s.RedactStepFiles(model.Actor{Name: "vera", Role: model.RoleViewer}, id)
	var pe *model.PermissionError
	assert.ErrorAs(t, err, &pe)
	files, err := s.RedactStepFiles(admin, id)
	require.NoError(t, err)
	assert.Empty(t, files)
	_, err = s.RedactStepFiles(admin, 99)
	assert.ErrorIs(t, err, ErrNotFound)
}
