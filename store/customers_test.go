package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

func TestInsertCustomerValidatesAndWritesNothingOnError(t *testing.T) {
	s, _ := openTest(t)
	cases := map[string]struct {
		c     model.Customer
		field string
	}{
		"bad email":      {model.Customer{LastName: "A", Email: "not-an-email"}, "email"},
		"bad phone":      {model.Customer{LastName: "A", Phone: "12"}, "phone"},
		"future birth":   {model.Customer{LastName: "A", BirthDate: model.Date{Year: 2030, Month: 1, Day: 1}}, "birth_date"},
		"bad postcode":   {model.Customer{LastName: "A", Address: model.Address{Street: "X 1", PostalCode: "123", City: "Berlin", Country: "DE"}}, "address.postal_code"},
		"business no co": {model.Customer{LastName: "A", Type: model.Business}, "company"},
		"nobody":         {model.Customer{}, "name"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := s.Update(admin, func(tx *Tx) error { return tx.InsertCustomer(&tc.c) })
			ve, ok := model.AsValidation(err)
			require.True(t, ok, "want a validation error, got %v", err)
			assert.True(t, ve.Has(tc.field), "error %q should name %s", err, tc.field)
		})
	}
	st, err := s.Stats()
	require.NoError(t, err)
	assert.Zero(t, st.Customers)
}

func TestCustomerEmailIsUniqueAndPhoneNormalised(t *testing.T) {
	s, _ := openTest(t)
	id := addCustomer(t, s, model.Customer{FirstName: "Jana", LastName: "Meier", Email: "Jana.Meier@Web.de", Phone: "030 1234567"})
	err := s.Update(admin, func(tx *Tx) error {
		return tx.InsertCustomer(&model.Customer{LastName: "Other", Email: " jana.meier@web.DE "})
	})
	require.ErrorIs(t, err, ErrConflict)
	assert.Contains(t, err.Error(), fmt.Sprintf("customer %d", id))
	require.NoError(t, s.View(admin, func(r *Reader) error {
		c, err := r.CustomerByEmail("JANA.MEIER@web.de")
		require.NoError(t, err)
		assert.Equal(t, id, c.ID)
		assert.Equal(t, "+49301234567", c.Phone)
		assert.Equal(t, []model.CustomerID{id}, r.CustomerIDsByPhone("+49301234567"))
		return nil
	}))
}

func TestUpdateCustomerMovesIndexesAndKeepsAggregates(t *testing.T) {
	s, _ := openTest(t)
	id := addCustomer(t, s, model.Customer{FirstName: "Jana", LastName: "Meier", Email: "jana@example.de", Tags: []string{"vip"}, Address: model.Address{Street: "A 1", PostalCode: "10115", City: "Berlin"}})
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		return tx.AddPurchase(&model.Purchase{CustomerID: id, OrderID: "o1", Source: "shop", At: testNow.Add(-time.Hour), Amount: 5000})
	}))
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		return tx.UpdateCustomer(id, func(c *model.Customer) error {
			c.LastName = "Schulz"
			c.Email = "jana.schulz@example.de"
			c.Tags = []string{"newsletter"}
			c.Address.City = "München"
			c.Revenue = 1 // must be ignored: maintained by the store
			return nil
		})
	}))
	require.NoError(t, s.View(admin, func(r *Reader) error {
		_, err := r.CustomerByEmail("jana@example.de")
		assert.ErrorIs(t, err, ErrNotFound)
		c, err := r.CustomerByEmail("jana.schulz@example.de")
		require.NoError(t, err)
		assert.Equal(t, model.Money(5000), c.Revenue)
		for _, q := range []struct {
			f    CustomerFilter
			want int
		}{
			{CustomerFilter{Prefix: "meier"}, 0}, {CustomerFilter{Prefix: "schu"}, 1},
			{CustomerFilter{Tag: "vip"}, 0}, {CustomerFilter{Tag: "Newsletter"}, 1},
			{CustomerFilter{City: "berlin"}, 0}, {CustomerFilter{City: "munchen"}, 1},
		} {
			p, err := r.CustomerPage(PageQuery{Filter: q.f, Limit: 10})
			require.NoError(t, err)
			assert.Len(t, p.Rows, q.want, "filter %+v", q.f)
		}
		return nil
	}))
}

func TestInvalidUpdateChangesNothing(t *testing.T) {
	s, _ := openTest(t)
	id := addCustomer(t, s, model.Customer{FirstName: "Jana", LastName: "Meier", Email: "jana@example.de"})
	err := s.Update(admin, func(tx *Tx) error {
		return tx.UpdateCustomer(id, func(c *model.Customer) error { c.Email = "jana@"; return nil })
	})
	require.Error(t, err)
	require.NoError(t, s.View(admin, func(r *Reader) error {
		c, err := r.Customer(id)
		require.NoError(t, err)
		assert.Equal(t, "jana@example.de", c.Email)
		return nil
	}))
}

func seedCustomers(t testing.TB, s *Store, n int) {
	t.Helper()
	names := []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann"}
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		for i := range n {
			c := model.Customer{FirstName: fmt.Sprintf("P%04d", i), LastName: names[i%len(names)], Email: fmt.Sprintf("p%d@example.de", i)}
			if err := tx.InsertCustomer(&c); err != nil {
				return err
			}
			if err := tx.AddInteraction(&model.Interaction{CustomerID: c.ID, Kind: model.InteractionVisit, Channel: model.KindWeb, At: testNow.Add(-time.Duration(i) * time.Minute)}); err != nil {
				return err
			}
		}
		return nil
	}))
}

func TestCustomerPagingForwardBackwardAndSorted(t *testing.T) {
	s, _ := openTest(t)
	seedCustomers(t, s, 230)
	require.NoError(t, s.View(admin, func(r *Reader) error {
		for _, order := range []CustomerOrder{ByName, ByActivity, ByValue, ByID} {
			for _, desc := range []bool{false, true} {
				// Walk forward page by page, then backward from the end: both
				// must give every customer exactly once, in the same order.
				var fwd, bwd []model.CustomerID
				var after []byte
				for {
					p, err := r.CustomerPage(PageQuery{Order: order, Desc: desc, After: after, Limit: 50})
					require.NoError(t, err)
					for _, row := range p.Rows {
						fwd = append(fwd, row.Customer.ID)
					}
					if !p.More {
						break
					}
					after = p.Rows[len(p.Rows)-1].Pos
				}
				after = nil
				for {
					p, err := r.CustomerPage(PageQuery{Order: order, Desc: desc, After: after, Backward: true, Limit: 50})
					require.NoError(t, err)
					ids := make([]model.CustomerID, len(p.Rows))
					for i, row := range p.Rows {
						ids[i] = row.Customer.ID
					}
					bwd = append(ids, bwd...)
					if !p.More {
						break
					}
					after = p.Rows[0].Pos
				}
				require.Len(t, fwd, 230, "order %s desc %v", order, desc)
				assert.Equal(t, fwd, bwd, "order %s desc %v", order, desc)
			}
		}
		// Name order is by folded last name: Becker first, Weber last.
		p, err := r.CustomerPage(PageQuery{Order: ByName, Limit: 1})
		require.NoError(t, err)
		assert.Equal(t, "Becker", p.Rows[0].Customer.LastName)
		// Newest activity first: customer 1 was active most recently.
		p, err = r.CustomerPage(PageQuery{Order: ByActivity, Desc: true, Limit: 1})
		require.NoError(t, err)
		assert.Equal(t, model.CustomerID(1), p.Rows[0].Customer.ID)
		return nil
	}))
}

func TestSearchCustomersByNameFirstNameAndEmail(t *testing.T) {
	s, _ := openTest(t)
	seedCustomers(t, s, 50)
	addCustomer(t, s, model.Customer{FirstName: "Özlem", LastName: "Straßer", Email: "oezlem@example.com"})
	require.NoError(t, s.View(admin, func(r *Reader) error {
		for q, want := range map[string]string{"strasser": "Straßer", "Straß": "Straßer", "ozl": "Straßer", "oezlem@": "Straßer", "mull": "Müller"} {
			res, err := r.SearchCustomers(q, 50)
			require.NoError(t, err)
			require.NotEmpty(t, res, q)
			assert.Equal(t, want, res[0].LastName, q)
		}
		res, err := r.SearchCustomers("müller", 3)
		require.NoError(t, err)
		assert.Len(t, res, 3)
		return nil
	}))
}

func TestMaskedReaderHidesPersonalData(t *testing.T) {
	s, _ := openTest(t)
	id := addCustomer(t, s, model.Customer{FirstName: "Jana", LastName: "Meier", Email: "jana.meier@web.de", Phone: "+4915112345612"})
	viewer := model.Actor{Name: "vic", Role: model.RoleViewer}
	require.NoError(t, s.View(viewer, func(r *Reader) error {
		c, err := r.Customer(id)
		require.NoError(t, err)
		assert.Equal(t, "j***@w***.de", c.Email)
		assert.Equal(t, "+49 *** ***12", c.Phone)
		assert.Equal(t, "M.", c.LastName)
		res, err := r.SearchCustomers("jana.meier@", 5)
		require.NoError(t, err)
		assert.Empty(t, res, "a masked user must not find people by email")
		return nil
	}))
}

func TestPermissionsAreEnforcedInTheStore(t *testing.T) {
	s, _ := openTest(t)
	viewer := model.Actor{Name: "vic", Role: model.RoleViewer}
	err := s.Update(viewer, func(tx *Tx) error { return tx.InsertCustomer(&model.Customer{LastName: "X"}) })
	var pe *model.PermissionError
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, err.Error(), "vic is a viewer")
	assert.Contains(t, err.Error(), "edit customers, record consent, import")
	op := model.Actor{Name: "otto", Role: model.RoleOperator}
	err = s.Update(op, func(tx *Tx) error { return tx.InsertUser(&model.User{Name: "eve", Role: model.RoleAdmin}) })
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, err.Error(), "otto is an operator")
}

func TestCustomerViewReadsLatestActivity(t *testing.T) {
	s, _ := openTest(t)
	id := addCustomer(t, s, model.Customer{FirstName: "Jana", LastName: "Meier"})
	other := addCustomer(t, s, model.Customer{FirstName: "Karl", LastName: "Meier"})
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		for i := range 30 {
			for _, cid := range []model.CustomerID{id, other} {
				if err := tx.AddInteraction(&model.Interaction{CustomerID: cid, Kind: model.InteractionOpened, Channel: model.KindEmail, At: testNow.Add(-time.Duration(i) * time.Hour)}); err != nil {
					return err
				}
			}
		}
		return nil
	}))
	require.NoError(t, s.View(admin, func(r *Reader) error {
		v, err := r.CustomerView(id, 20)
		require.NoError(t, err)
		require.Len(t, v.Interactions, 20)
		assert.Equal(t, testNow, v.Interactions[0].At)
		assert.Equal(t, id, v.Interactions[19].CustomerID)
		assert.Equal(t, testNow, v.Customer.LastActivityAt)
		rest, more, err := r.Interactions(id, v.MoreInteractions, 20)
		require.NoError(t, err)
		assert.Nil(t, more)
		require.Len(t, rest, 10)
		assert.Equal(t, testNow.Add(-20*time.Hour), rest[0].At)
		return nil
	}))
}
