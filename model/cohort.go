package model

import (
	"fmt"
	"time"
)

// YearMonth is a calendar month counted from January of year 0
// (year·12 + month − 1), so the distance between two months is a
// subtraction.
type YearMonth int32

// MakeYearMonth is the YearMonth of a year and month.
func MakeYearMonth(year int, month time.Month) YearMonth {
	return YearMonth(year*12 + int(month) - 1)
}

// YearMonthOf is the calendar month of t in t's own location.
func YearMonthOf(t time.Time) YearMonth {
	y, m, _ := t.Date()
	return MakeYearMonth(y, m)
}

// Year of the month (floored, so months before year 0 stay consistent).
func (m YearMonth) Year() int {
	y := int(m) / 12
	if m < 0 && int(m)%12 != 0 {
		y--
	}
	return y
}

// Month of the year.
func (m YearMonth) Month() time.Month { return time.Month(int(m)-m.Year()*12) + 1 }

// String is "YYYY-MM".
func (m YearMonth) String() string { return fmt.Sprintf("%04d-%02d", m.Year(), int(m.Month())) }

// CohortPurchase is one purchase as the cohort matrix needs it.
type CohortPurchase struct {
	Month  YearMonth
	Amount Money
}

// Cohort is the customers whose first purchase fell in one month, followed
// month by month: index k of Active and Revenue is k months after Month.
type Cohort struct {
	Month YearMonth
	// Size is the number of customers in the cohort.
	Size int
	// Active[k] is how many of them bought at least once in month Month+k.
	Active []int
	// Revenue[k] is what they spent in month Month+k.
	Revenue []Money
}

// Retention is the share of the cohort active k months after its first
// month, 0 for an empty cohort or an offset outside the observed range.
func (c Cohort) Retention(k int) float64 {
	if c.Size == 0 || k < 0 || k >= len(c.Active) {
		return 0
	}
	return float64(c.Active[k]) / float64(c.Size)
}

// MaxCohortMonths bounds the span of a matrix (50 years) so a typo in a
// date cannot ask for a gigantic table.
const MaxCohortMonths = 600

// CohortMatrix is the retention triangle: one cohort per month from From to
// Through, each followed up to Through. Fill it with Add, one customer at a
// time (it keeps no per-customer state, so a store can stream customers in
// key order); it is not safe for concurrent use.
type CohortMatrix struct {
	From, Through YearMonth
	Cohorts       []Cohort // Cohorts[i] is month From+i
	// Skipped counts customers whose first purchase lies outside
	// From..Through.
	Skipped int

	// seen[k] holds the sequence number of the last customer counted active
	// at offset k, so repeat purchases in a month count once without a set
	// per customer.
	seen []int
	seq  int
}

// NewCohortMatrix makes an empty matrix for cohorts from..through.
func NewCohortMatrix(from, through YearMonth) (*CohortMatrix, error) {
	if through < from {
		return nil, fmt.Errorf("cohorts: %s lies before %s", through, from)
	}
	span := int(through-from) + 1
	if span > MaxCohortMonths {
		return nil, fmt.Errorf("cohorts: %s..%s spans %d months, more than %d", from, through, span, MaxCohortMonths)
	}
	m := &CohortMatrix{From: from, Through: through, Cohorts: make([]Cohort, span), seen: make([]int, span)}
	for i := range m.Cohorts {
		n := span - i
		m.Cohorts[i] = Cohort{Month: from + YearMonth(i), Active: make([]int, n), Revenue: make([]Money, n)}
	}
	return m, nil
}

// Add counts one customer whose first purchase was in month first, with
// their purchases in any order (include the first purchase itself, or
// month 0 shows no activity). Purchases after Through are ignored; a
// purchase before first is an error, since first would then be wrong. A
// customer whose first month lies outside From..Through is only counted in
// Skipped.
func (m *CohortMatrix) Add(first YearMonth, purchases []CohortPurchase) error {
	for _, p := range purchases {
		if p.Month < first {
			return fmt.Errorf("cohorts: purchase in %s lies before the first purchase month %s", p.Month, first)
		}
	}
	if first < m.From || first > m.Through {
		m.Skipped++
		return nil
	}
	m.seq++
	c := &m.Cohorts[first-m.From]
	c.Size++
	for _, p := range purchases {
		if p.Month > m.Through {
			continue
		}
		k := int(p.Month - first)
		c.Revenue[k] += p.Amount
		if m.seen[k] != m.seq {
			m.seen[k] = m.seq
			c.Active[k]++
		}
	}
	return nil
}
