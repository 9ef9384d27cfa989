package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// bucketCount counts the keys of a bucket.
func bucketCount(t *testing.T, s *Store, name []byte) int {
	t.Helper()
	n := 0
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(name); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	}))
	return n
}

// ledgerEventCount counts the events in the ledger's customer-clustered
// bucket (a chunk holds several).
func ledgerEventCount(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bConsent).ForEach(func(k, v []byte) error {
			evs, err := appendRecordDecisions(nil, model.CustomerID(readU64(k)), k, v)
			n += len(evs)
			return err
		})
	}))
	return n
}

func reachCounters(t *testing.T, s *Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bCounters).ForEach(func(k, v []byte) error {
			if len(k) > 6 && string(k[:6]) == "reach:" {
				if n := int64(readU64(v)); n != 0 {
					out[string(k)] = n
				}
			}
			return nil
		})
	}))
	return out
}

func TestMergeMovesEverythingToTheSurvivor(t *testing.T) {
	f := newConsentFixture(t)
	s := f.s
	other := addCustomer(t, s, model.Customer{FirstName: "Jana", LastName: "Meier", Email: "j.meier@work.example",
		Address: model.Address{Street: "Hauptstr. 1", PostalCode: "10115", City: "Berlin", Country: "DE"},
		Sources: []model.SourceRef{{Source: "shop", ExternalID: "S-9"}}, Tags: []string{"shop"}})
	day := testNow.Add(-48 * time.Hour)
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		if err := tx.AddPurchase(&model.Purchase{CustomerID: other, OrderID: "O-1", Source: "shop", At: day, Amount: 4999}); err != nil {
			return err
		}
		if err := tx.AddPurchase(&model.Purchase{CustomerID: f.cid, OrderID: "O-2", Source: "shop", At: day.Add(time.Hour), Amount: 1000}); err != nil {
			return err
		}
		if err := tx.AddInteraction(&model.Interaction{CustomerID: other, Kind: model.InteractionVisit, Channel: model.KindWeb, At: day}); err != nil {
			return err
		}
		// The absorbed record holds the email consent.
		for _, k := range []model.ConsentKind{model.ConsentOptIn, model.ConsentDOIConfirmed} {
			ev := model.ConsentEvent{CustomerID: other, Channel: model.KindPostal, PurposeID: f.newsletter, Kind: k, EffectiveAt: day}
			if err := tx.AppendConsent(&ev, model.Evidence{"ip": "203.0.113.1"}); err != nil {
				return err
			}
		}
		ev := model.ConsentEvent{CustomerID: other, Kind: model.ConsentObjection, EffectiveAt: day.Add(time.Hour)}
		return tx.AppendConsent(&ev, nil)
	}))
	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.SuggestMerge(f.cid, other) }))

	var res MergeResult
	require.NoError(t, s.Update(admin, func(tx *Tx) (err error) {
		res, err = tx.MergeCustomers(f.cid, other)
		return err
	}))
	assert.Equal(t, 1, res.Interactions)
	assert.Equal(t, 1, res.Purchases)
	assert.Equal(t, 3, res.ConsentEvents)
	assert.Equal(t, []string{"address"}, res.Filled)
	assert.Equal(t, 1, res.SourcesAdded)

	require.NoError(t, s.View(admin, func(r *Reader) error {
		c, err := r.Customer(f.cid)
		require.NoError(t, err)
		assert.Equal(t, 2, c.PurchaseCount)
		assert.Equal(t, model.Money(5999), c.Revenue)
		assert.Equal(t, "jana@example.de", c.Email, "the survivor keeps its own data")
		assert.Equal(t, "Berlin", c.Address.City, "and fills its gaps")
		assert.True(t, c.HasTag("shop"))
		id, ok := c.SourceID("shop")
		assert.True(t, ok)
		assert.Equal(t, "S-9", id)
		found, err := r.CustomerBySource("shop", "S-9")
		require.NoError(t, err)
		assert.Equal(t, f.cid, found.ID)
		_, err = r.CustomerByEmail("j.meier@work.example")
		assert.ErrorIs(t, err, ErrNotFound, "the absorbed email is gone with its record")
		_, err = r.Customer(other)
		assert.ErrorIs(t, err, ErrNotFound)
		into, ok := r.MergedInto(other)
		assert.True(t, ok)
		assert.Equal(t, f.cid, into)
		lin, err := r.Lineage(f.cid)
		require.NoError(t, err)
		require.Len(t, lin, 1)
		assert.Equal(t, other, lin[0].Absorbed)
		hist, err := r.ConsentHistory(f.cid)
		require.NoError(t, err)
		assert.Len(t, hist, 3)
		ev, err := r.Evidence(hist[0].ID)
		require.NoError(t, err)
		assert.Equal(t, "203.0.113.1", ev["ip"], "evidence stays with its event")
		// The merged history decides: the absorbed record's objection
		// now stops the survivor's postal advertising.
		res, err := r.Check(CheckInput{Customer: f.cid, Channel: model.KindPostal, Purpose: f.newsletter})
		require.NoError(t, err)
		assert.Equal(t, model.ReasonObjection, res.Reason)
		sug, err := r.MergeSuggestions(0, 0, 10, true)
		require.NoError(t, err)
		assert.Empty(t, sug)
		return nil
	}))
	vr, err := s.VerifyAudit()
	require.NoError(t, err)
	assert.True(t, vr.OK)
	_, diffs, err := s.VerifyRollups()
	require.NoError(t, err)
	assert.Empty(t, diffs)

	// Merging refuses nonsense.
	err = s.Update(admin, func(tx *Tx) error { _, err := tx.MergeCustomers(f.cid, f.cid); return err })
	assert.ErrorContains(t, err, "itself")
	err = s.Update(admin, func(tx *Tx) error { _, err := tx.MergeCustomers(f.cid, other); return err })
	assert.ErrorIs(t, err, ErrNotFound)
	viewer := model.Actor{Name: "v", Role: model.RoleViewer}
	third := addCustomer(t, s, model.Customer{LastName: "Drei"})
	err = s.Update(viewer, func(tx *Tx) error { _, err := tx.MergeCustomers(f.cid, third); return err })
	var pe *model.PermissionError
	assert.ErrorAs(t, err, &pe)

	// An absorbed id names where the person lives on, through a merge of
	// the survivor in turn, for readers and writers alike.
	require.NoError(t, s.Update(admin, func(tx *Tx) error { _, err := tx.MergeCustomers(third, f.cid); return err }))
	want := fmt.Sprintf("no customer %d: it was merged into customer %d on 2026-03-02", other, third)
	require.NoError(t, s.View(admin, func(r *Reader) error {
		_, err := r.FindCustomer(other.String())
		assert.ErrorIs(t, err, ErrNotFound)
		assert.EqualError(t, err, want)
		_, err = r.Check(CheckInput{Customer: other, Channel: model.KindEmail, Purpose: 1})
		assert.ErrorContains(t, err, want)
		return nil
	}))
	ev := model.ConsentEvent{CustomerID: other, Kind: model.ConsentObjection, EffectiveAt: testNow}
	err = s.Update(admin, func(tx *Tx) error { return tx.AppendConsent(&ev, nil) })
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorContains(t, err, want)
	assert.EqualError(t, s.View(admin, func(r *Reader) error { _, err := r.Customer(9999); return err }), "no customer 9999")
}

// TestMergePreservesCounts merges random pairs of a random store and checks
// after each merge that nothing was lost or counted twice: records,
// counters, revenue, rollups, the audit chain, the indexes (against a
// rebuild) and the reach counters (against a recomputation).
func TestMergePreservesCounts(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			f := newConsentFixture(t)
			s := f.s
			r := rand.New(rand.NewPCG(seed, 7))
			ids := []model.CustomerID{f.cid}
			for i := 0; i < 12; i++ {
				c := model.Customer{FirstName: "Kim", LastName: fmt.Sprint("Nr", i%4)}
				if r.IntN(2) == 0 {
					c.Email = fmt.Sprintf("k%d@example.de", i)
				}
				if r.IntN(2) == 0 {
					c.Phone = fmt.Sprintf("+4915112%06d", r.IntN(3))
				}
				if r.IntN(2) == 0 {
					c.Address = model.Address{Street: "Weg 1", PostalCode: "5067" + fmt.Sprint(i%3), City: "Köln", Country: "DE"}
				}
				if r.IntN(2) == 0 {
					c.Sources = []model.SourceRef{{Source: "shop", ExternalID: fmt.Sprint("S", i)}}
				}
				ids = append(ids, addCustomer(t, s, c))
			}
			require.NoError(t, s.Update(admin, func(tx *Tx) error {
				for i := 0; i < 80; i++ {
					cid := ids[r.IntN(len(ids))]
					at := testNow.Add(-time.Duration(r.IntN(5000)) * time.Hour)
					var err error
					switch r.IntN(3) {
					case 0:
						err = tx.AddPurchase(&model.Purchase{CustomerID: cid, OrderID: fmt.Sprint("O", i), Source: "shop", At: at, Amount: model.Money(r.IntN(10000))})
					case 1:
						err = tx.AddInteraction(&model.Interaction{CustomerID: cid, Kind: model.InteractionKinds[r.IntN(len(model.InteractionKinds))], Channel: model.KindEmail, At: at})
					default:
						kinds := []model.ConsentKind{model.ConsentOptIn, model.ConsentDOIConfirmed, model.ConsentOptOut}
						ev := model.ConsentEvent{CustomerID: cid, Channel: model.ChannelKinds[r.IntN(len(model.ChannelKinds))], PurposeID: f.newsletter, Kind: kinds[r.IntN(3)], EffectiveAt: at}
						err = tx.AppendConsent(&ev, nil)
					}
					if err != nil {
						return err
					}
				}
				return nil
			}))
			stats0, err := s.Stats()
			require.NoError(t, err)
			for len(ids) > 2 {
				i, j := r.IntN(len(ids)), r.IntN(len(ids))
				if i == j {
					continue
				}
				surv, abs := ids[i], ids[j]
				var before [2]model.Customer
				require.NoError(t, s.View(admin, func(rd *Reader) error {
					before[0], _ = rd.Customer(surv)
					before[1], _ = rd.Customer(abs)
					return nil
				}))
				err := s.Update(admin, func(tx *Tx) error { _, err := tx.MergeCustomers(surv, abs); return err })
				require.NoError(t, err)
				ids = append(ids[:j], ids[j+1:]...)

				st, err := s.Stats()
				require.NoError(t, err)
				assert.Equal(t, stats0.Interactions, st.Interactions)
				assert.Equal(t, stats0.Purchases, st.Purchases)
				assert.Equal(t, stats0.ConsentEvents, st.ConsentEvents)
				assert.Equal(t, stats0.Revenue, st.Revenue)
				assert.EqualValues(t, len(ids), st.Customers)
				assert.Equal(t, len(ids), bucketCount(t, s, bCustomers))
				assert.EqualValues(t, st.Interactions, bucketCount(t, s, bInteractions))
				assert.EqualValues(t, st.Purchases, bucketCount(t, s, bPurchases))
				assert.EqualValues(t, st.ConsentEvents, ledgerEventCount(t, s))
				assert.EqualValues(t, st.ConsentEvents, bucketCount(t, s, bConsentIDs))
				require.NoError(t, s.View(admin, func(rd *Reader) error {
					c, err := rd.Customer(surv)
					require.NoError(t, err)
					assert.Equal(t, before[0].PurchaseCount+before[1].PurchaseCount, c.PurchaseCount)
					assert.Equal(t, before[0].Revenue+before[1].Revenue, c.Revenue)
					ps, _, err := rd.Purchases(surv, nil, 1000)
					require.NoError(t, err)
					var sum model.Money
					for _, p := range ps {
						sum += p.Amount
					}
					assert.Equal(t, c.Revenue, sum)
					assert.Len(t, ps, c.PurchaseCount)
					return nil
				}))
				_, diffs, err := s.VerifyRollups()
				require.NoError(t, err)
				assert.Empty(t, diffs)
				vr, err := s.VerifyAudit()
				require.NoError(t, err)
				assert.True(t, vr.OK, vr.Reason)
			}
			reach := reachCounters(t, s)
			_, err = s.RebuildConsentState(admin)
			require.NoError(t, err)
			assert.Equal(t, reachCounters(t, s), reach, "reach counters equal a recomputation")
			idx := indexDump(t, s)
			require.NoError(t, s.RebuildCustomerIndexes(context.Background(), admin))
			assert.Equal(t, indexDump(t, s), idx, "indexes equal a rebuild")
		})
	}
}
