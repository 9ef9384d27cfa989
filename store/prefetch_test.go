package store

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

// A prefetched customer is the state the transaction began with; it must
// never replace what the transaction has changed since.
func TestAdoptedCustomerNeverReplacesTheTransactions(t *testing.T) {
	s, _ := openTest(t)
	a := addCustomer(t, s, model.Customer{FirstName: "Anna", LastName: "Alt", Email: "anna@example.de"})
	b := addCustomer(t, s, model.Customer{FirstName: "Ben", LastName: "Bau", Email: "ben@example.de"})
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		var snap [2]*cachedCustomer
		pf := tx.prefetchCustomers(2, func(v *prefetchView, i int) { snap[i] = v.customer([]model.CustomerID{a, b}[i]) })
		pf.wait(1)
		pf.stop()
		require.NotNil(t, snap[0])
		require.NotNil(t, snap[1])
		assert.Equal(t, "Anna", snap[0].cur.FirstName)

		// The transaction changes a, then meets its snapshot.
		c, err := tx.touchCustomer(a)
		require.NoError(t, err)
		c.PurchaseCount = 7
		tx.adoptCustomer(a, snap[0])
		got, err := tx.cachedCustomer(a)
		require.NoError(t, err)
		assert.Equal(t, 7, got.cur.PurchaseCount, "the snapshot replaced the transaction's change")

		// b was not loaded yet: its snapshot is taken as it is.
		tx.adoptCustomer(b, snap[1])
		got, err = tx.cachedCustomer(b)
		require.NoError(t, err)
		assert.Same(t, snap[1], got)
		return nil
	}))
}

// The view finds customers by id, by source id and by email, and says
// nothing of customers it cannot find.
func TestPrefetchViewFindsCustomers(t *testing.T) {
	s, _ := openTest(t)
	a := addCustomer(t, s, model.Customer{FirstName: "Anna", Email: "anna@example.de", Sources: []model.SourceRef{{Source: "shop", ExternalID: "K1"}}})
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		var got [5]model.CustomerID
		var cc *cachedCustomer
		pf := tx.prefetchCustomers(1, func(v *prefetchView, i int) {
			got[0] = v.bySource("shop", "K1")
			got[1] = v.byEmail("anna@example.de")
			got[2] = v.bySource("shop", "K2")
			got[3] = v.byEmail("nobody@example.de")
			if v.customer(a+100) != nil {
				got[4] = a + 100
			}
			cc = v.customer(a)
		})
		pf.wait(0)
		pf.stop()
		assert.Equal(t, [5]model.CustomerID{a, a, 0, 0, 0}, got)
		require.NotNil(t, cc)
		assert.Equal(t, a, cc.cur.ID)
		assert.NotSame(t, cc.old, cc.cur, "the transaction changes cur, old stays as stored")
		return nil
	}))
}
