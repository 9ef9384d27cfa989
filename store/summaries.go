package store

import (
	"context"
	"fmt"
	"time"

	"karton/model"
)

// Read-only aggregates for the Warehouse box: the distribution of the
// analytics scores and the cohort matrix. Both scan one bucket in key order
// inside the caller's read transaction and return counts only, so any role
// that may see aggregates (every role) may read them; no personal data and
// no customer id leaves the store.

// SegmentTotal is what ScoreSummary holds per RFM segment.
type SegmentTotal struct {
	Customers int64
	// CLV sums the customers' expected value over the CLV horizon.
	CLV model.Money
	// PAlive sums P(alive), for the segment's mean.
	PAlive float64
}

// ScoreSummary is the distribution of the per-customer analytics (RFM and
// CLV) over every customer that has scores.
type ScoreSummary struct {
	// Customers is how many customers have a scores record; Unscored is
	// how many of them have no RFM scores (no purchase when scored).
	Customers, Unscored int64
	// Grid counts customers by R (first index, R−1) and FM (second,
	// FM−1), where FM = (F+M)/2 rounded half up, as in model.ScoreRFM.
	Grid [5][5]int64
	// Segments is indexed by model.RFMSegment (RFMUnscored included).
	Segments [model.RFMLost + 1]SegmentTotal
	// WithCLV counts customers whose CLV or P(alive) was computed.
	WithCLV int64
	// Earliest and Latest are the oldest and newest ComputedAt, so a
	// screen can say how fresh the scores are and whether a run was
	// interrupted.
	Earliest, Latest time.Time
}

// ScoreSummary counts the scores bucket: customers per R × FM cell and per
// segment, with CLV sums. It reads every record (one sequential scan,
// ~100 ns per customer) and allocates nothing per record.
func (r *Reader) ScoreSummary(ctx context.Context) (ScoreSummary, error) {
	var sum ScoreSummary
	if err := r.actor.Require(model.PermSeeAggregates, "read the score summary"); err != nil {
		return sum, err
	}
	var s CustomerScores
	c := r.tx.Bucket(bScores).Cursor()
	n := 0
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if n++; n%scanCheck == 0 {
			if err := ctx.Err(); err != nil {
				return sum, err
			}
		}
		if err := decodeScores(v, &s); err != nil {
			return sum, fmt.Errorf("scores of customer %d: %w", readU64(k), err)
		}
		sum.Customers++
		seg := s.Segment
		if int(seg) >= len(sum.Segments) {
			seg = model.RFMUnscored
		}
		if s.R >= 1 && s.R <= 5 && s.F >= 1 && s.F <= 5 && s.M >= 1 && s.M <= 5 {
			fm := (s.F + s.M + 1) / 2
			sum.Grid[s.R-1][fm-1]++
		} else {
			seg = model.RFMUnscored
		}
		if seg == model.RFMUnscored {
			sum.Unscored++
		}
		t := &sum.Segments[seg]
		t.Customers++
		t.CLV += s.CLV
		t.PAlive += s.PAlive
		if s.CLV != 0 || s.PAlive != 0 {
			sum.WithCLV++
		}
		if !s.ComputedAt.IsZero() {
			if sum.Earliest.IsZero() || s.ComputedAt.Before(sum.Earliest) {
				sum.Earliest = s.ComputedAt
			}
			if s.ComputedAt.After(sum.Latest) {
				sum.Latest = s.ComputedAt
			}
		}
	}
	return sum, nil
}

// scanCheck is how many records a full scan reads between looks at its
// context, so a cancelled session stops a long read within microseconds.
const scanCheck = 8192

// Cohorts fills a cohort matrix for cohorts from..through (first-purchase
// months, UTC) from every purchase. Purchases are clustered by customer and
// ordered by time, so one pass sees each customer's purchases together,
// the first one first; only the key and the amount are decoded.
func (r *Reader) Cohorts(ctx context.Context, from, through model.YearMonth) (*model.CohortMatrix, error) {
	if err := r.actor.Require(model.PermSeeAggregates, "read the cohorts"); err != nil {
		return nil, err
	}
	m, err := model.NewCohortMatrix(from, through)
	if err != nil {
		return nil, err
	}
	var (
		cur   uint64
		first model.YearMonth
		buys  []model.CohortPurchase
	)
	flush := func() error {
		if len(buys) == 0 {
			return nil
		}
		err := m.Add(first, buys)
		buys = buys[:0]
		return err
	}
	c := r.tx.Bucket(bPurchases).Cursor()
	n := 0
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if n++; n%scanCheck == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		cid, at, _, ok := splitActivityKey(k)
		if !ok {
			return nil, fmt.Errorf("purchase key %x: %w", k, errCorrupt)
		}
		amount, err := purchaseAmount(v)
		if err != nil {
			return nil, fmt.Errorf("purchase of customer %d: %w", cid, err)
		}
		month := model.YearMonthOf(at)
		if cid != cur || len(buys) == 0 {
			if err := flush(); err != nil {
				return nil, err
			}
			cur, first = cid, month
		}
		buys = append(buys, model.CohortPurchase{Month: month, Amount: amount})
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return m, nil
}

// purchaseAmount reads only the amount of an encoded purchase (see
// decodePurchase: version, order id, source, amount, ...).
func purchaseAmount(v []byte) (model.Money, error) {
	d := decoder{b: v}
	d.version(purchaseVersion, "purchase")
	d.raw()
	d.raw()
	amount := model.Money(d.varint())
	return amount, d.done("purchase")
}

// FirstPurchaseDay is the day of the oldest purchase rollup, and false when
// the store holds no purchases; a cohort screen starts its range there.
func (r *Reader) FirstPurchaseDay() (Day, bool) {
	c := r.tx.Bucket(bRollups).Cursor()
	k, _ := c.Seek([]byte{'p'})
	if k == nil || k[0] != 'p' || len(k) < 5 {
		return 0, false
	}
	return Day(uint32(k[1])<<24 | uint32(k[2])<<16 | uint32(k[3])<<8 | uint32(k[4])), true
}
