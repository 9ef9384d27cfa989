package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"karton/model"
)

func TestDeriveKeyIsStablePerLabelAndIndependentAcrossLabels(t *testing.T) {
	s, _ := openTest(t)
	a, b := s.DeriveKey("links/v1"), s.DeriveKey("links/v1")
	assert.Len(t, a, 32)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, s.DeriveKey("other"))
	assert.NotEqual(t, a, s.secret, "the raw secret is never handed out")
}

func TestCommitterGroupsAndIsolatesFailures(t *testing.T) {
	f := newConsentFixture(t)
	before, err := f.s.VerifyAudit()
	require.NoError(t, err)
	c := f.s.NewCommitter(0)
	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Update(admin, func(tx *Tx) error {
				switch i % 10 {
				case 3: // writes, then fails: nothing of it may remain
					ev := model.ConsentEvent{CustomerID: f.cid, Channel: model.KindEmail, PurposeID: f.newsletter, Kind: model.ConsentOptIn, EffectiveAt: testNow, Source: "bad"}
					if err := tx.AppendConsent(&ev, nil); err != nil {
						return err
					}
					return fmt.Errorf("failure %d", i)
				case 7:
					panic("boom")
				}
				ev := model.ConsentEvent{CustomerID: f.cid, Channel: model.KindSMS, PurposeID: f.newsletter, Kind: model.ConsentOptIn, EffectiveAt: testNow, Source: "good"}
				return tx.AppendConsent(&ev, nil)
			})
		}()
	}
	wg.Wait()
	good := 0
	for i, err := range errs {
		switch i % 10 {
		case 3:
			assert.EqualError(t, err, fmt.Sprintf("failure %d", i))
		case 7:
			assert.ErrorContains(t, err, "internal error")
		default:
			assert.NoError(t, err)
			good++
		}
	}
	var evs []model.ConsentEvent
	require.NoError(t, f.s.View(admin, func(r *Reader) (err error) { evs, err = r.ConsentHistory(f.cid); return }))
	require.Len(t, evs, good)
	for _, ev := range evs {
		assert.Equal(t, "good", ev.Source)
	}
	res, err := f.s.VerifyAudit()
	require.NoError(t, err)
	assert.True(t, res.OK, res.Reason)
	assert.EqualValues(t, good, res.Entries-before.Entries, "one audit entry per committed event")
}

func TestCommitterPublishesAfterCommit(t *testing.T) {
	f := newConsentFixture(t)
	ch, stop := f.s.Subscribe()
	defer stop()
	c := f.s.NewCommitter(4)
	require.NoError(t, c.Update(admin, func(tx *Tx) error {
		ev := model.ConsentEvent{CustomerID: f.cid, Channel: model.KindEmail, PurposeID: f.newsletter, Kind: model.ConsentOptOut, EffectiveAt: testNow, Source: "x"}
		return tx.AppendConsent(&ev, nil)
	}))
	batch := <-ch
	assert.Contains(t, batch, Change{Kind: ChangeConsent, ID: uint64(f.cid)})
}

func requestDOI(t *testing.T, f *consentFixture, text string) model.EventID {
	t.Helper()
	ev := model.ConsentEvent{CustomerID: f.cid, Channel: model.KindEmail, PurposeID: f.newsletter, Kind: model.ConsentDOIRequested, EffectiveAt: testNow, Source: "test", TextVersion: text}
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error { return tx.AppendConsent(&ev, nil) }))
	return ev.ID
}

func TestConfirmDOIIsSingleUse(t *testing.T) {
	f := newConsentFixture(t)
	f.record(t, model.ConsentOptIn, model.KindEmail, testNow.Add(-time.Hour), model.Evidence{"ip": "192.0.2.1"})
	req := requestDOI(t, f, "nl-v3")
	in := DOIConfirm{Request: req, Customer: f.cid, Channel: model.KindEmail, Purpose: f.newsletter, At: testNow, Source: "doi-link", Evidence: model.Evidence{"token_sha256": "ab"}}

	var ev model.ConsentEvent
	require.NoError(t, f.s.Update(admin, func(tx *Tx) (err error) { ev, err = tx.ConfirmDOI(in); return }))
	assert.Equal(t, model.ConsentDOIConfirmed, ev.Kind)
	assert.Equal(t, "nl-v3", ev.TextVersion, "the text version of the request")
	assert.Equal(t, model.ReasonConsentDOI, f.check(t, model.KindEmail, time.Time{}, time.Time{}).Reason)

	var spent DOIConfirmation
	var ok bool
	require.NoError(t, f.s.View(admin, func(r *Reader) (err error) { spent, ok, err = r.DOITokenSpent(req); return }))
	assert.True(t, ok)
	assert.Equal(t, ev.ID, spent.Confirmed)

	head := ledgerHead(t, f.s)
	err := f.s.Update(admin, func(tx *Tx) error { _, err := tx.ConfirmDOI(in); return err })
	require.ErrorIs(t, err, ErrTokenSpent)
	var se *SpentError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, ev.ID, se.Confirmed)
	assert.Equal(t, head, ledgerHead(t, f.s), "nothing written")
}

func ledgerHead(t *testing.T, s *Store) model.EventID {
	var h model.EventID
	require.NoError(t, s.View(admin, func(r *Reader) error { h = r.LedgerHead(); return nil }))
	return h
}

func TestConfirmDOIRefusesMismatchAndErased(t *testing.T) {
	f := newConsentFixture(t)
	req := requestDOI(t, f, "")
	optIn := f.record(t, model.ConsentOptIn, model.KindEmail, testNow, nil)
	for name, in := range map[string]DOIConfirm{
		"other purpose":  {Request: req, Customer: f.cid, Channel: model.KindEmail, Purpose: f.service, At: testNow},
		"other channel":  {Request: req, Customer: f.cid, Channel: model.KindSMS, Purpose: f.newsletter, At: testNow},
		"not a request":  {Request: optIn, Customer: f.cid, Channel: model.KindEmail, Purpose: f.newsletter, At: testNow},
		"no such event":  {Request: 999, Customer: f.cid, Channel: model.KindEmail, Purpose: f.newsletter, At: testNow},
		"other customer": {Request: req, Customer: f.cid + 1, Channel: model.KindEmail, Purpose: f.newsletter, At: testNow},
	} {
		head := ledgerHead(t, f.s)
		err := f.s.Update(admin, func(tx *Tx) error { _, err := tx.ConfirmDOI(in); return err })
		assert.Error(t, err, name)
		assert.Equal(t, head, ledgerHead(t, f.s), name)
	}
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error { return tx.EraseCustomer(f.cid) }))
	err := f.s.Update(admin, func(tx *Tx) error {
		_, err := tx.ConfirmDOI(DOIConfirm{Request: req, Customer: f.cid, Channel: model.KindEmail, Purpose: f.newsletter, At: testNow})
		return err
	})
	assert.ErrorIs(t, err, ErrCustomerErased)
}

func TestSources(t *testing.T) {
	s, _ := openTest(t)
	secret := []byte("0123456789abcdef0123")
	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.InsertSource(&Source{Name: "shop", Secret: secret}) }))

	var conflict *ConflictError
	err := s.Update(admin, func(tx *Tx) error { return tx.InsertSource(&Source{Name: "shop", Secret: secret}) })
	assert.ErrorAs(t, err, &conflict)
	for name, src := range map[string]Source{
		"short secret": {Name: "web", Secret: []byte("short")},
		"bad name":     {Name: "Web Site", Secret: secret},
		"empty name":   {Name: "", Secret: secret},
	} {
		err := s.Update(admin, func(tx *Tx) error { return tx.InsertSource(&src) })
		_, ok := model.AsValidation(err)
		assert.True(t, ok, "%s: %v", name, err)
	}
	operator := model.Actor{Name: "olga", Role: model.RoleOperator}
	var pe *model.PermissionError
	assert.ErrorAs(t, s.Update(operator, func(tx *Tx) error { return tx.InsertSource(&Source{Name: "crm", Secret: secret}) }), &pe)

	var list []Source
	require.NoError(t, s.View(operator, func(r *Reader) (err error) { list, err = r.Sources(); return }))
	require.Len(t, list, 1)
	assert.Equal(t, "shop", list[0].Name)
	assert.Nil(t, list[0].Secret, "listings carry no secret")
	assert.Equal(t, SecretFingerprint(secret), list[0].Fingerprint)
	assert.Equal(t, "ada", list[0].CreatedBy)

	require.ErrorAs(t, s.View(operator, func(r *Reader) error { _, err := r.SourceSecret("shop"); return err }), &pe)
	var got []byte
	require.NoError(t, s.View(SystemActor, func(r *Reader) (err error) { got, err = r.SourceSecret("shop"); return }))
	assert.Equal(t, secret, got)
	assert.ErrorIs(t, s.View(SystemActor, func(r *Reader) error { _, err := r.SourceSecret("nope"); return err }), ErrNotFound)

	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.RemoveSource("shop") }))
	assert.ErrorIs(t, s.Update(admin, func(tx *Tx) error { return tx.RemoveSource("shop") }), ErrNotFound)
	res, err := s.VerifyAudit()
	require.NoError(t, err)
	assert.True(t, res.OK)
}

func TestInboundMarksAreIdempotent(t *testing.T) {
	s, _ := openTest(t)
	o := InboundOutcome{Status: InboundAccepted, Customer: 7}
	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.MarkInbound("shop", "evt-1", o) }))
	err := s.Update(admin, func(tx *Tx) error { return tx.MarkInbound("shop", "evt-1", o) })
	assert.ErrorIs(t, err, ErrConflict)
	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.MarkInbound("crm", "evt-1", o) }), "ids are per source")
	var got InboundOutcome
	var ok bool
	require.NoError(t, s.View(admin, func(r *Reader) (err error) { got, ok, err = r.InboundSeen("shop", "evt-1"); return }))
	assert.True(t, ok)
	assert.Equal(t, InboundAccepted, got.Status)
	assert.EqualValues(t, 7, got.Customer)
	assert.Equal(t, testNow, got.At)
	for _, bad := range []string{"", "a\x00b", string(make([]byte, MaxInboundIDBytes+1))} {
		assert.Error(t, s.Update(admin, func(tx *Tx) error { return tx.MarkInbound("shop", bad, o) }))
	}
}

// A store made before the return channel existed has none of its buckets;
// reads see them as empty and the first write creates them.
func TestReturnChannelBucketsAppearInOlderStores(t *testing.T) {
	s, _ := openTest(t)
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bSources, bInboundEvents, bDOISpent} {
			if err := tx.DeleteBucket(b); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, s.View(admin, func(r *Reader) error {
		list, err := r.Sources()
		assert.Empty(t, list)
		_, ok, _ := r.InboundSeen("shop", "x")
		assert.False(t, ok)
		_, ok, _ = r.DOITokenSpent(1)
		assert.False(t, ok)
		return err
	}))
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		return tx.InsertSource(&Source{Name: "shop", Secret: []byte("0123456789abcdef")})
	}))
	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.MarkInbound("shop", "x", InboundOutcome{Status: InboundIgnored}) }))
}
