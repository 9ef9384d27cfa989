package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// indexDump reads the deferred indexes as "key=value" lines per bucket.
func indexDump(t *testing.T, s *Store) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		for _, name := range deferredIndexes {
			lines := []string{}
			err := tx.Bucket(name).ForEach(func(k, v []byte) error {
				lines = append(lines, fmt.Sprintf("%x=%x", k, v))
				return nil
			})
			if err != nil {
				return err
			}
			out[string(name)] = lines
		}
		return nil
	}))
	return out
}

func bulkCustomer(i int) model.Customer {
	c := model.Customer{
		FirstName: fmt.Sprintf("Jürgen%d", i%7), LastName: fmt.Sprintf("Groß%03d", (i*37)%101),
		Email:   fmt.Sprintf("kunde%d@example.de", i),
		Address: model.Address{Street: "Hauptstraße 1", PostalCode: "50667", City: []string{"Köln", "Berlin", "München"}[i%3], Country: "DE"},
		Tags:    []string{"vip", "newsletter", "b2b"}[:i%3],
	}
	if i%2 == 0 {
		c.Phone = fmt.Sprintf("+4915112%06d", i)
	}
	if i%5 == 0 {
		c.Company, c.Type = "Groß GmbH", model.Business
	}
	return c
}

// loadCustomers writes n customers with a purchase and an interaction each,
// in transactions of per, through update.
func loadCustomers(t *testing.T, update func(by model.Actor, fn func(tx *Tx) error) error, from, n, per int) {
	t.Helper()
	for lo := from; lo < from+n; lo += per {
		require.NoError(t, update(admin, func(tx *Tx) error {
			for i := lo; i < min(lo+per, from+n); i++ {
				c := bulkCustomer(i)
				if err := tx.InsertCustomer(&c); err != nil {
					return err
				}
				at := testNow.Add(-time.Duration(i) * time.Hour)
				if err := tx.AddPurchase(&model.Purchase{CustomerID: c.ID, OrderID: fmt.Sprint(i), Source: "shop", At: at, Amount: model.Money(100 * i)}); err != nil {
					return err
				}
				if err := tx.AddInteraction(&model.Interaction{CustomerID: c.ID, Kind: model.InteractionVisit, Channel: model.KindWeb, At: at.Add(time.Minute)}); err != nil {
					return err
				}
			}
			return nil
		}))
	}
}

func TestBulkLoadBuildsTheSameIndexesAsSingleWrites(t *testing.T) {
	plain, _ := openTest(t)
	loadCustomers(t, plain.Update, 0, 10, 10) // customers that exist before the load
	loadCustomers(t, plain.Update, 10, 300, 40)

	bulk, _ := openTest(t)
	loadCustomers(t, bulk.Update, 0, 10, 10)
	bl, err := bulk.BeginBulkLoad(admin)
	require.NoError(t, err)
	loadCustomers(t, bl.Update, 10, 300, 40)
	require.NoError(t, bl.Finish(context.Background(), nil))

	assert.Equal(t, indexDump(t, plain), indexDump(t, bulk))
	pending, err := bulk.BulkLoadPending()
	require.NoError(t, err)
	assert.False(t, pending)
	var page CustomerPage
	require.NoError(t, bulk.View(admin, func(r *Reader) error {
		page, err = r.CustomerPage(PageQuery{Order: ByName, Limit: 1000})
		return err
	}))
	assert.Len(t, page.Rows, 310)
}

func TestBulkLoadOwnsTheStoreUntilFinished(t *testing.T) {
	s, _ := openTest(t)
	bl, err := s.BeginBulkLoad(admin)
	require.NoError(t, err)
	err = s.Update(admin, func(tx *Tx) error { return nil })
	assert.ErrorIs(t, err, ErrBulkLoad)
	_, err = s.BeginBulkLoad(admin)
	assert.ErrorIs(t, err, ErrBulkLoad)
	require.NoError(t, bl.Finish(context.Background(), nil))
	assert.NoError(t, s.Update(admin, func(tx *Tx) error { return nil }))
	assert.Error(t, bl.Update(admin, func(tx *Tx) error { return nil }), "a finished load takes no more writes")

	viewer := model.Actor{Name: "v", Role: model.RoleViewer}
	_, err = s.BeginBulkLoad(viewer)
	var pe *model.PermissionError
	assert.ErrorAs(t, err, &pe)
}

func TestBulkLoadKeepsEmailsUnique(t *testing.T) {
	s, _ := openTest(t)
	existing := addCustomer(t, s, model.Customer{LastName: "Alt", Email: "alt@example.de"})
	bl, err := s.BeginBulkLoad(admin)
	require.NoError(t, err)
	insert := func(email string) error {
		return bl.Update(admin, func(tx *Tx) error {
			c := model.Customer{LastName: "Neu", Email: email}
			return tx.InsertCustomer(&c)
		})
	}
	require.NoError(t, insert("neu@example.de"))
	assert.ErrorIs(t, insert("NEU@example.de"), ErrConflict, "held by a customer of the load")
	assert.ErrorIs(t, insert("alt@example.de"), ErrConflict, "held by a customer from before the load")
	// A failed transaction forgets the addresses it added.
	err = bl.Update(admin, func(tx *Tx) error {
		c := model.Customer{LastName: "Kurz", Email: "kurz@example.de"}
		if err := tx.InsertCustomer(&c); err != nil {
			return err
		}
		return fmt.Errorf("changed my mind")
	})
	require.Error(t, err)
	require.NoError(t, insert("kurz@example.de"))
	// Within one transaction too.
	err = bl.Update(admin, func(tx *Tx) error {
		a, b := model.Customer{LastName: "A", Email: "zwei@example.de"}, model.Customer{LastName: "B", Email: "zwei@example.de"}
		if err := tx.InsertCustomer(&a); err != nil {
			return err
		}
		return tx.InsertCustomer(&b)
	})
	assert.ErrorIs(t, err, ErrConflict)
	// An older customer may not take a new customer's address either.
	err = bl.Update(admin, func(tx *Tx) error {
		return tx.UpdateCustomer(existing, func(c *model.Customer) error { c.Email = "neu@example.de"; return nil })
	})
	assert.ErrorIs(t, err, ErrConflict)
	require.NoError(t, bl.Finish(context.Background(), nil))
	require.NoError(t, s.View(admin, func(r *Reader) error {
		for _, e := range []string{"alt@example.de", "neu@example.de", "kurz@example.de"} {
			if _, err := r.CustomerByEmail(e); err != nil {
				return err
			}
		}
		return nil
	}))
}

func TestBulkLoadIndexesTheFinalStateOfRewrittenCustomers(t *testing.T) {
	s, _ := openTest(t)
	old := addCustomer(t, s, model.Customer{LastName: "Vorher", Email: "vorher@example.de", Tags: []string{"alt"}})
	bl, err := s.BeginBulkLoad(admin)
	require.NoError(t, err)
	var id model.CustomerID
	require.NoError(t, bl.Update(admin, func(tx *Tx) error {
		c := model.Customer{LastName: "Erst", Email: "erst@example.de", Tags: []string{"a"}, Address: model.Address{City: "Köln", Country: "DE"}}
		err := tx.InsertCustomer(&c)
		id = c.ID
		return err
	}))
	require.NoError(t, bl.Update(admin, func(tx *Tx) error {
		if err := tx.UpdateCustomer(id, func(c *model.Customer) error {
			c.LastName, c.Email, c.Tags, c.Address.City = "Später", "spaeter@example.de", []string{"b"}, "Berlin"
			return nil
		}); err != nil {
			return err
		}
		return tx.UpdateCustomer(old, func(c *model.Customer) error { c.Tags = []string{"neu"}; return nil })
	}))
	// The freed address can be taken again.
	require.NoError(t, bl.Update(admin, func(tx *Tx) error {
		c := model.Customer{LastName: "Dritte", Email: "erst@example.de"}
		return tx.InsertCustomer(&c)
	}))
	require.NoError(t, bl.Finish(context.Background(), nil))

	want, _ := openTest(t)
	addCustomer(t, want, model.Customer{LastName: "Vorher", Email: "vorher@example.de", Tags: []string{"neu"}})
	addCustomer(t, want, model.Customer{LastName: "Später", Email: "spaeter@example.de", Tags: []string{"b"}, Address: model.Address{City: "Berlin", Country: "DE"}})
	addCustomer(t, want, model.Customer{LastName: "Dritte", Email: "erst@example.de"})
	got, exp := indexDump(t, s), indexDump(t, want)
	for _, name := range []string{"cust_email", "cust_name", "cust_fname", "cust_city", "cust_tag"} {
		assert.Equal(t, exp[name], got[name], name)
	}
}

func TestInterruptedBulkLoadIsRepairedByRebuild(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	clock := &testClock{t: testNow}
	s, err := Open(path, Options{Now: clock.now})
	require.NoError(t, err)
	loadCustomers(t, s.Update, 0, 5, 5)
	bl, err := s.BeginBulkLoad(admin)
	require.NoError(t, err)
	loadCustomers(t, bl.Update, 5, 50, 20)
	require.NoError(t, s.Close()) // the process dies before Finish

	s, err = Open(path, Options{Now: clock.now})
	require.NoError(t, err)
	defer s.Close()
	pending, err := s.BulkLoadPending()
	require.NoError(t, err)
	assert.True(t, pending)
	_, err = s.BeginBulkLoad(admin)
	assert.ErrorContains(t, err, "did not finish")
	require.NoError(t, s.RebuildCustomerIndexes(context.Background(), admin))
	pending, err = s.BulkLoadPending()
	require.NoError(t, err)
	assert.False(t, pending)

	want, _ := openTest(t)
	loadCustomers(t, want.Update, 0, 55, 11)
	assert.Equal(t, indexDump(t, want), indexDump(t, s))
	res, err := s.VerifyAudit()
	require.NoError(t, err)
	assert.True(t, res.OK)
}

// touchExisting adds purchases and interactions to customers 1..n (which
// exist before a load) over several transactions, renames one of them and
// tries one transaction that fails.
func touchExisting(t *testing.T, update func(by model.Actor, fn func(tx *Tx) error) error, n int) {
	t.Helper()
	for round := range 3 {
		require.NoError(t, update(admin, func(tx *Tx) error {
			for id := 1 + round; id <= n; id += 2 {
				at := testNow.Add(-time.Duration(1000-round*100-id) * time.Minute)
				if err := tx.AddPurchase(&model.Purchase{CustomerID: model.CustomerID(id), OrderID: fmt.Sprintf("x%d-%d", round, id), Source: "shop", At: at, Amount: model.Money(1000 + id)}); err != nil {
					return err
				}
				if err := tx.AddInteraction(&model.Interaction{CustomerID: model.CustomerID(id), Kind: model.InteractionVisit, Channel: model.KindWeb, At: at.Add(time.Minute)}); err != nil {
					return err
				}
			}
			if round == 1 {
				// Its name and its aggregates change in one transaction.
				return tx.UpdateCustomer(4, func(c *model.Customer) error { c.LastName = "Umbenannt"; return nil })
			}
			return nil
		}))
	}
	err := update(admin, func(tx *Tx) error {
		if err := tx.AddPurchase(&model.Purchase{CustomerID: 3, OrderID: "rolled-back", Source: "shop", At: testNow.Add(-time.Minute), Amount: 99999}); err != nil {
			return err
		}
		return errors.New("the transaction fails")
	})
	require.Error(t, err)
}

func TestBulkLoadMovesTheActivityAndValueKeysOfTouchedCustomersAtTheEnd(t *testing.T) {
	// Most customers touched: the two indexes are written anew; a few:
	// their old keys are deleted and the new ones added.
	for _, c := range []struct{ existing, touched int }{{12, 12}, {60, 3}} {
		existing, touched := c.existing, c.touched
		t.Run(fmt.Sprintf("%d of %d", touched, existing), func(t *testing.T) {
			plain, _ := openTest(t)
			loadCustomers(t, plain.Update, 0, existing, existing)
			touchExisting(t, plain.Update, touched)

			bulk, _ := openTest(t)
			loadCustomers(t, bulk.Update, 0, existing, existing)
			before := indexDump(t, bulk)
			bl, err := bulk.BeginBulkLoad(admin)
			require.NoError(t, err)
			touchExisting(t, bl.Update, touched)
			during := indexDump(t, bulk)
			assert.Equal(t, before["cust_activity"], during["cust_activity"], "until the end the keys stay where they were")
			assert.Equal(t, before["cust_value"], during["cust_value"])
			assert.NotEqual(t, before["cust_name"], during["cust_name"], "the rename is indexed at once")
			require.NoError(t, bl.Finish(context.Background(), nil))

			want, got := indexDump(t, plain), indexDump(t, bulk)
			assert.Equal(t, want, got)
			assert.NotEqual(t, before["cust_value"], got["cust_value"], "the keys moved")

			// Interrupted before the end, the marker leads to a rebuild that also
			// puts the moved keys right.
			crashed, _ := openTest(t)
			loadCustomers(t, crashed.Update, 0, existing, existing)
			bl, err = crashed.BeginBulkLoad(admin)
			require.NoError(t, err)
			touchExisting(t, bl.Update, touched)
			crashed.bulk.Store(nil) // the process died: Finish never ran
			pending, err := crashed.BulkLoadPending()
			require.NoError(t, err)
			require.True(t, pending)
			require.NoError(t, crashed.RebuildCustomerIndexes(context.Background(), admin))
			assert.Equal(t, want, indexDump(t, crashed))
		})
	}
}
