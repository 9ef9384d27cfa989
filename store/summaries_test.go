package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

func TestScoreSummaryCountsCellsAndSegments(t *testing.T) {
	s, _ := openTest(t)
	ids := make([]model.CustomerID, 4)
	for i := range ids {
		ids[i] = addCustomer(t, s, model.Customer{LastName: "C"})
	}
	at := testNow.Add(-time.Hour)
	scores := []CustomerScores{
		{R: 5, F: 5, M: 4, Segment: model.RFMChampions, CLV: 10000, PAlive: 0.9, ComputedAt: at},
		{R: 5, F: 4, M: 5, Segment: model.RFMChampions, CLV: 5000, PAlive: 0.7, ComputedAt: at.Add(time.Minute)},
		{R: 1, F: 1, M: 2, Segment: model.RFMLost, ComputedAt: at},
		{Segment: model.RFMUnscored, ComputedAt: at},
	}
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		for i, sc := range scores {
			if err := tx.PutScores(ids[i], sc); err != nil {
				return err
			}
		}
		return nil
	}))
	var sum ScoreSummary
	require.NoError(t, s.View(model.Actor{Name: "ana", Role: model.RoleAnalyst}, func(r *Reader) error {
		var err error
		sum, err = r.ScoreSummary(context.Background())
		return err
	}))
	assert.Equal(t, int64(4), sum.Customers)
	assert.Equal(t, int64(1), sum.Unscored)
	assert.Equal(t, int64(2), sum.Grid[4][4], "R5 and FM (5+4+1)/2 = 5")
	assert.Equal(t, int64(1), sum.Grid[0][1], "R1, FM (1+2+1)/2 = 2")
	assert.Equal(t, int64(2), sum.Segments[model.RFMChampions].Customers)
	assert.Equal(t, model.Money(15000), sum.Segments[model.RFMChampions].CLV)
	assert.InDelta(t, 1.6, sum.Segments[model.RFMChampions].PAlive, 1e-9)
	assert.Equal(t, int64(2), sum.WithCLV)
	assert.Equal(t, at, sum.Earliest)
	assert.Equal(t, at.Add(time.Minute), sum.Latest)
}

func TestSummariesOfAnEmptyStore(t *testing.T) {
	s, _ := openTest(t)
	require.NoError(t, s.View(admin, func(r *Reader) error {
		sum, err := r.ScoreSummary(context.Background())
		require.NoError(t, err)
		assert.Zero(t, sum.Customers)
		_, ok := r.FirstPurchaseDay()
		assert.False(t, ok)
		return nil
	}))
}

func TestCohortsFollowFirstPurchaseMonth(t *testing.T) {
	s, _ := openTest(t)
	a := addCustomer(t, s, model.Customer{LastName: "A"})
	b := addCustomer(t, s, model.Customer{LastName: "B"})
	c := addCustomer(t, s, model.Customer{LastName: "C"})
	jan := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	feb := jan.AddDate(0, 1, 0)
	mar := jan.AddDate(0, 1, 20)
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		for i, p := range []model.Purchase{
			{CustomerID: a, At: jan, Amount: 1000},
			{CustomerID: a, At: jan.Add(time.Hour), Amount: 500},
			{CustomerID: a, At: mar, Amount: 700},
			{CustomerID: b, At: feb, Amount: 300},
			{CustomerID: c, At: jan.AddDate(-1, 0, 0), Amount: 100}, // before the range
		} {
			p.OrderID = string(rune('a' + i))
			if err := tx.AddPurchase(&p); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, s.View(admin, func(r *Reader) error {
		m, err := r.Cohorts(context.Background(), model.MakeYearMonth(2026, 1), model.MakeYearMonth(2026, 3))
		require.NoError(t, err)
		require.Len(t, m.Cohorts, 3)
		assert.Equal(t, 1, m.Cohorts[0].Size)
		assert.Equal(t, []int{1, 0, 1}, m.Cohorts[0].Active)
		assert.Equal(t, []model.Money{1500, 0, 700}, m.Cohorts[0].Revenue)
		assert.Equal(t, 1, m.Cohorts[1].Size)
		assert.Equal(t, []model.Money{300, 0}, m.Cohorts[1].Revenue)
		assert.Equal(t, 1, m.Skipped)
		first, ok := r.FirstPurchaseDay()
		require.True(t, ok)
		assert.Equal(t, DayOf(jan.AddDate(-1, 0, 0)), first)
		return nil
	}))
}
