package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"karton/model"
)

func TestRollupsFollowRecordsAndVerify(t *testing.T) {
	s, _ := openTest(t)
	a := addCustomer(t, s, model.Customer{LastName: "A"})
	b := addCustomer(t, s, model.Customer{LastName: "B"})
	day1 := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		for _, i := range []model.Interaction{
			{CustomerID: a, Kind: model.InteractionSent, Channel: model.KindEmail, At: day1},
			{CustomerID: b, Kind: model.InteractionSent, Channel: model.KindEmail, At: day1.Add(time.Hour)},
			{CustomerID: a, Kind: model.InteractionConverted, Channel: model.KindEmail, At: day1.Add(2 * time.Hour), Value: 4200},
			{CustomerID: a, Kind: model.InteractionSent, Channel: model.KindEmail, At: day1.AddDate(0, 0, 1)},
		} {
			if err := tx.AddInteraction(&i); err != nil {
				return err
			}
		}
		return tx.AddPurchase(&model.Purchase{CustomerID: b, OrderID: "1", At: day1, Amount: 990})
	}))
	require.NoError(t, s.View(admin, func(r *Reader) error {
		got := map[model.InteractionKind]int64{}
		var value model.Money
		require.NoError(t, r.InteractionRollups(DayOf(day1), DayOf(day1), func(x InteractionRollup) error {
			got[x.Kind] += x.Count
			value += x.Value
			return nil
		}))
		assert.Equal(t, map[model.InteractionKind]int64{model.InteractionSent: 2, model.InteractionConverted: 1}, got)
		assert.Equal(t, model.Money(4200), value)
		ps, err := r.PurchaseRollups(0, DayOf(testNow))
		require.NoError(t, err)
		require.Len(t, ps, 1)
		assert.Equal(t, model.Money(990), ps[0].Revenue)
		return nil
	}))
	rows, diffs, err := s.VerifyRollups()
	require.NoError(t, err)
	assert.Equal(t, 4, rows)
	assert.Empty(t, diffs)

	// A rollup changed behind the store's back is found.
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bRollups).Cursor()
		k, v := c.First()
		v2 := append([]byte(nil), v...)
		v2[7]++
		return tx.Bucket(bRollups).Put(append([]byte(nil), k...), v2)
	}))
	_, diffs, err = s.VerifyRollups()
	require.NoError(t, err)
	assert.Len(t, diffs, 1)
}
