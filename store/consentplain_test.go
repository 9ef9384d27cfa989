package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

// TestPlainProjectionMatchesTheDecisionTable checks the shared decisions
// of customers without consent history (consentplain.go) against the
// decision table asked directly, scope by scope, and the reach counters
// against a count of the allowed scopes: for many kinds of customer, in
// one transaction and across several, with purchases that change the
// existing-customer facts, a consent event, and a recorded last use.
func TestPlainProjectionMatchesTheDecisionTable(t *testing.T) {
	s, clock := openTest(t)
	var purposes []model.Purpose
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		for _, p := range []model.Purpose{
			{Name: "newsletter", Category: model.CategoryMarketing, OwnSimilarProducts: true},
			{Name: "offers", Category: model.CategoryMarketing},
			{Name: "service", Category: model.CategoryService},
			{Name: "profiling", Category: model.CategoryProfiling},
		} {
			if err := tx.InsertPurpose(&p); err != nil {
				return err
			}
			purposes = append(purposes, p)
		}
		return nil
	}))
	kinds := []model.Customer{
		{FirstName: "Ada", LastName: "Adult", Email: "ada@example.de", BirthDate: model.Date{Year: 1980, Month: 5, Day: 1}},
		{FirstName: "Mia", LastName: "Minor", Email: "mia@example.de", Phone: "+4915112345001", BirthDate: model.Date{Year: 2015, Month: 5, Day: 1}},
		{FirstName: "Tom", LastName: "Teen", Email: "tom@example.de", BirthDate: model.Date{Year: 2012, Month: 3, Day: 3}},
		{FirstName: "Una", LastName: "Unknown", Phone: "+49301234567"},
		{Company: "Firma GmbH", Type: model.Business, Phone: "+49301234568", Email: "info@firma.example"},
		{FirstName: "Pia", LastName: "Post", Address: model.Address{Street: "Hauptstr. 1", PostalCode: "10115", City: "Berlin", Country: "DE"}},
		{FirstName: "Nora", LastName: "Nothing"},
		{FirstName: "Eva", LastName: "Every", Email: "eva@example.de", Phone: "+4915112345002", Address: model.Address{Street: "Ring 2", PostalCode: "20095", City: "Hamburg", Country: "DE"}},
	}
	var ids []model.CustomerID
	// Several of each kind in one transaction (the shared path), then
	// one per transaction.
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		for i := 0; i < 3; i++ {
			for j, c := range kinds {
				c.Email = prefixEmail(c.Email, fmt.Sprintf("a%d", i))
				c.Phone = ""
				if j%2 == 0 && i == 0 {
					c.Phone = kinds[j].Phone
				}
				if err := tx.InsertCustomer(&c); err != nil {
					return err
				}
				ids = append(ids, c.ID)
			}
		}
		return nil
	}))
	for _, c := range kinds {
		c.Email = prefixEmail(c.Email, "b")
		c.Phone = ""
		ids = append(ids, addCustomer(t, s, c))
	}
	// A last use on one customer, a consent event on another.
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		return tx.NoteContact(ids[0], model.KindPostal, purposes[0].ID, testNow.Add(-time.Hour))
	}))
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		e := model.ConsentEvent{CustomerID: ids[7], Channel: model.KindEmail, PurposeID: purposes[0].ID, Kind: model.ConsentOptIn, EffectiveAt: testNow.Add(-time.Hour), Source: "test"}
		return tx.AppendConsent(&e, nil)
	}))
	clock.t = testNow.Add(time.Hour)
	// First purchases, some collecting the email with the objection
	// notice (rule 11), in one transaction.
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		for i, id := range ids {
			if i%3 == 2 {
				continue
			}
			p := model.Purchase{CustomerID: id, OrderID: fmt.Sprintf("O-%d", i), Source: "shop", At: testNow.Add(-time.Duration(i) * time.Minute), Amount: 1000,
				EmailCollected: i%2 == 0, ObjectionNotice: i%2 == 0}
			if err := tx.AddPurchase(&p); err != nil {
				return err
			}
		}
		return nil
	}))

	allowed := map[string]int64{}
	require.NoError(t, s.View(admin, func(r *Reader) error {
		settings := s.Settings()
		profiling := model.ProfilingPurposeIDs(purposes)
		for _, id := range ids {
			c, err := r.customerRaw(id)
			require.NoError(t, err)
			events, err := r.appendDecisionEvents(nil, id)
			require.NoError(t, err)
			cs, err := r.ConsentState(id)
			require.NoError(t, err)
			require.NotNil(t, cs)
			require.Len(t, cs.Scopes, len(model.ChannelKinds)*len(purposes))
			in := model.DecisionInput{Customer: model.StoredFactsOf(c, c.ContactPoints), ProfilingPurposes: profiling, Settings: settings,
				At: cs.ComputedAt, CreativeObjectionNotice: true, Events: events}
			i := 0
			for _, k := range model.ChannelKinds {
				for _, p := range purposes {
					sc := cs.Scopes[i]
					i++
					in.Channel, in.Purpose, in.LastContactAt = k, p, sc.LastContact
					d := model.Decide(&in)
					assert.Equal(t, k, sc.Channel)
					assert.Equal(t, p.ID, sc.Purpose)
					assert.Equal(t, d.Reason, sc.Reason, "customer %d (%s %s), %s/%s", id, c.FirstName, c.LastName, k, p.Name)
					assert.Equal(t, d.EventID, sc.EventID)
					if d.Allow {
						allowed[reachCounter(k, p.ID)]++
					}
				}
			}
		}
		for _, k := range model.ChannelKinds {
			for _, p := range purposes {
				assert.Equal(t, allowed[reachCounter(k, p.ID)], r.Reach(k, p.ID), "reach %s/%s", k, p.Name)
			}
		}
		cs, err := r.ConsentState(ids[0])
		require.NoError(t, err)
		last, _ := cs.Scope(model.KindPostal, purposes[0].ID)
		assert.Equal(t, testNow.Add(-time.Hour), last.LastContact, "the last use survives the recomputation")
		return nil
	}))
	assert.Equal(t, model.ReasonMinorNoParentalConsent, scopeReason(t, s, ids[1], model.KindEmail, purposes[0].ID))
	assert.Equal(t, model.ReasonExistingCustomer, scopeReason(t, s, ids[0], model.KindEmail, purposes[0].ID))
}

func prefixEmail(e, p string) string {
	if e == "" {
		return ""
	}
	return p + "." + e
}

func scopeReason(t *testing.T, s *Store, id model.CustomerID, k model.ChannelKind, p model.PurposeID) model.Reason {
	var r model.Reason
	require.NoError(t, s.View(admin, func(rd *Reader) error {
		cs, err := rd.ConsentState(id)
		if err != nil {
			return err
		}
		sc, _ := cs.Scope(k, p)
		r = sc.Reason
		return nil
	}))
	return r
}
