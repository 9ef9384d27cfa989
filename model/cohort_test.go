package model

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestYearMonth(t *testing.T) {
	cases := []struct {
		year  int
		month time.Month
		str   string
	}{
		{2024, time.January, "2024-01"}, {2024, time.December, "2024-12"},
		{0, time.January, "0000-01"}, {-1, time.December, "-001-12"}, {-1, time.January, "-001-01"},
	}
	for _, c := range cases {
		m := MakeYearMonth(c.year, c.month)
		assert.Equal(t, c.year, m.Year(), c.str)
		assert.Equal(t, c.month, m.Month(), c.str)
		assert.Equal(t, c.str, m.String())
	}
	assert.Equal(t, YearMonth(1), MakeYearMonth(2025, time.January)-MakeYearMonth(2024, time.December))
	berlin := time.FixedZone("CET", 3600)
	// 00:30 on 1 March in Berlin is still February in UTC: the location of
	// the time decides.
	at := time.Date(2024, time.March, 1, 0, 30, 0, 0, berlin)
	assert.Equal(t, MakeYearMonth(2024, time.March), YearMonthOf(at))
	assert.Equal(t, MakeYearMonth(2024, time.February), YearMonthOf(at.UTC()))
}

func TestCohortMatrix(t *testing.T) {
	jan, feb, mar, apr := MakeYearMonth(2024, 1), MakeYearMonth(2024, 2), MakeYearMonth(2024, 3), MakeYearMonth(2024, 4)
	m, err := NewCohortMatrix(jan, mar)
	require.NoError(t, err)

	// January cohort: A buys twice in January and again in March; B only in
	// January.
	require.NoError(t, m.Add(jan, []CohortPurchase{{jan, 1000}, {mar, 500}, {jan, 200}}))
	require.NoError(t, m.Add(jan, []CohortPurchase{{jan, 300}}))
	// February cohort: C buys in February and March, and in April (after
	// the matrix ends).
	require.NoError(t, m.Add(feb, []CohortPurchase{{feb, 100}, {mar, 100}, {apr, 9999}}))
	// Outside the window.
	require.NoError(t, m.Add(apr, []CohortPurchase{{apr, 1}}))
	require.NoError(t, m.Add(MakeYearMonth(2023, 12), nil))

	want := []Cohort{
		{Month: jan, Size: 2, Active: []int{2, 0, 1}, Revenue: []Money{1500, 0, 500}},
		{Month: feb, Size: 1, Active: []int{1, 1}, Revenue: []Money{100, 100}},
		{Month: mar, Size: 0, Active: []int{0}, Revenue: []Money{0}},
	}
	assert.Equal(t, want, m.Cohorts)
	assert.Equal(t, 2, m.Skipped)

	c := m.Cohorts[0]
	assert.Equal(t, 1.0, c.Retention(0))
	assert.Equal(t, 0.0, c.Retention(1))
	assert.Equal(t, 0.5, c.Retention(2))
	assert.Equal(t, 0.0, c.Retention(3), "beyond the observed range")
	assert.Equal(t, 0.0, c.Retention(-1))
	assert.Equal(t, 0.0, m.Cohorts[2].Retention(0), "empty cohort")
}

func TestCohortMatrixErrors(t *testing.T) {
	jan, mar := MakeYearMonth(2024, 1), MakeYearMonth(2024, 3)
	_, err := NewCohortMatrix(mar, jan)
	assert.ErrorContains(t, err, "2024-01 lies before 2024-03")
	_, err = NewCohortMatrix(jan, jan+MaxCohortMonths)
	assert.ErrorContains(t, err, "more than 600")
	m, err := NewCohortMatrix(jan, jan)
	require.NoError(t, err)
	assert.Len(t, m.Cohorts, 1)

	m, err = NewCohortMatrix(jan, mar)
	require.NoError(t, err)
	err = m.Add(mar, []CohortPurchase{{jan, 1}})
	assert.ErrorContains(t, err, "purchase in 2024-01 lies before the first purchase month 2024-03")
	assert.Zero(t, m.Cohorts[2].Size, "a rejected customer leaves no trace")
}
