package model

import (
	"fmt"
	"math"
	"slices"
)

// RFMInput is what RFM scoring needs of one customer. It is a flat value
// so a million customers fit in one slice without a pointer per customer.
type RFMInput struct {
	// RecencyDays is the time from the last purchase to the reference time
	// in days (fractions allowed); smaller is better.
	RecencyDays float64
	// Frequency is the number of purchases (or purchase days; the caller
	// chooses and keeps it consistent). A customer with 0 is not scored.
	Frequency int
	// Monetary is the spend in minor units, total or mean per purchase as the
	// caller chooses; larger is better.
	Monetary float64
}

// RFMScore is a customer's quintile scores, 1 (worst) to 5 (best), and the
// segment they put them in. The zero value (all scores 0, RFMUnscored) is
// what a customer without purchases gets.
type RFMScore struct {
	R, F, M uint8
	// FM is the combined frequency-monetary score: (F+M)/2 rounded half up,
	// so it stays on the 1–5 scale of R.
	FM      uint8
	Segment RFMSegment
}

// RFMSegment is a named cell group of the R × FM grid.
type RFMSegment uint8

// The segments; RFMSegments gives the display order.
const (
	RFMUnscored RFMSegment = iota // no purchases: no scores, no segment
	RFMChampions
	RFMLoyal
	RFMPotentialLoyalist
	RFMNew
	RFMPromising
	RFMNeedAttention
	RFMAboutToSleep
	RFMAtRisk
	RFMCantLoseThem
	RFMLost
)

// RFMSegments lists the segments in display order, best first.
func RFMSegments() []RFMSegment {
	return []RFMSegment{RFMChampions, RFMLoyal, RFMPotentialLoyalist, RFMNew, RFMPromising,
		RFMNeedAttention, RFMAboutToSleep, RFMAtRisk, RFMCantLoseThem, RFMLost}
}

var rfmSegmentText = [...]struct{ name, description string }{
	RFMUnscored:          {"Unscored", "No purchase yet, so no RFM scores."},
	RFMChampions:         {"Champions", "Bought recently, buy often and spend the most."},
	RFMLoyal:             {"Loyal", "Buy often and spend well; respond to recognition and loyalty offers."},
	RFMPotentialLoyalist: {"Potential Loyalist", "Recent customers with average frequency and spend; could become loyal."},
	RFMNew:               {"New", "Bought very recently, but rarely and for little so far."},
	RFMPromising:         {"Promising", "Recent buyers with low frequency and spend; worth nurturing."},
	RFMNeedAttention:     {"Need Attention", "Middling recency, frequency and spend; slipping without a nudge."},
	RFMAboutToSleep:      {"About to Sleep", "Below-average recency and low frequency and spend; will be lost soon."},
	RFMAtRisk:            {"At Risk", "Used to buy often and spend well, but not for a long time."},
	RFMCantLoseThem:      {"Can't Lose Them", "Were among the best customers and have not come back for a long time."},
	RFMLost:              {"Lost", "Last bought long ago, rarely and for little."},
}

// String is the segment's display name, e.g. "Can't Lose Them".
func (s RFMSegment) String() string {
	if int(s) < len(rfmSegmentText) {
		return rfmSegmentText[s].name
	}
	return fmt.Sprintf("RFMSegment(%d)", uint8(s))
}

// Description is a one-line explanation of the segment for the cockpit.
func (s RFMSegment) Description() string {
	if int(s) < len(rfmSegmentText) {
		return rfmSegmentText[s].description
	}
	return ""
}

// rfmGrid maps R (rows) × FM (columns), both 1–5, to a segment. It is the
// widely used R×F grid of RFM practice (e.g. the "RFM segmentation" tables
// behind many CRM tools: Champions 5/4–5, Loyal 3–4/4–5, Potential
// Loyalist 4–5/2–3, New 5/1, Promising 4/1, Need Attention 3/3, About to
// Sleep 3/1–2, At Risk 1–2/3–4, Can't Lose Them 1–2/5, Lost 1–2/1–2 —
// "Hibernating" in some versions), with FM in place of F so that spend
// counts as much as frequency.
var rfmGrid = [5][5]RFMSegment{
	//       FM=1           FM=2                  FM=3                  FM=4             FM=5
	/*R=1*/ {RFMLost, RFMLost, RFMAtRisk, RFMAtRisk, RFMCantLoseThem},
	/*R=2*/ {RFMLost, RFMLost, RFMAtRisk, RFMAtRisk, RFMCantLoseThem},
	/*R=3*/ {RFMAboutToSleep, RFMAboutToSleep, RFMNeedAttention, RFMLoyal, RFMLoyal},
	/*R=4*/ {RFMPromising, RFMPotentialLoyalist, RFMPotentialLoyalist, RFMLoyal, RFMLoyal},
	/*R=5*/ {RFMNew, RFMPotentialLoyalist, RFMPotentialLoyalist, RFMChampions, RFMChampions},
}

// RFMSegmentOf is the segment of an R score and an FM score (each 1–5);
// RFMUnscored for anything else.
func RFMSegmentOf(r, fm uint8) RFMSegment {
	if r < 1 || r > 5 || fm < 1 || fm > 5 {
		return RFMUnscored
	}
	return rfmGrid[r-1][fm-1]
}

// ScoreRFM scores every customer with at least one purchase against the
// others with at least one purchase; customers with Frequency 0 get the zero
// RFMScore (RFMUnscored) and do not influence anyone's scores. out[i]
// belongs to in[i].
//
// Quintiles by share below: a value v scores 1 + ⌊5·k/n⌋, where n is the
// number of scored customers and k the number of them with a strictly worse
// value (larger recency; smaller frequency or monetary value). So equal
// values always get equal scores, the worst value always scores 1, and a
// value shared by many customers takes the score of the first of them in
// rank order; with heavy ties (most customers buying once) some scores stay
// empty rather than splitting equal customers. The computation sorts one
// array per dimension and compares each customer against four cut values:
// O(n log n), no per-customer allocation.
//
// It fails, naming the first offending customer, on negative frequency,
// negative or non-finite recency, or non-finite monetary value.
func ScoreRFM(in []RFMInput) ([]RFMScore, error) {
	n := 0
	for i, c := range in {
		switch {
		case c.Frequency < 0:
			return nil, fmt.Errorf("rfm customer %d: frequency %d is negative", i, c.Frequency)
		case c.Frequency == 0:
			continue
		case math.IsNaN(c.RecencyDays) || math.IsInf(c.RecencyDays, 0) || c.RecencyDays < 0:
			return nil, fmt.Errorf("rfm customer %d: recency %g days is not a non-negative number (last purchase after the reference time?)", i, c.RecencyDays)
		case math.IsNaN(c.Monetary) || math.IsInf(c.Monetary, 0):
			return nil, fmt.Errorf("rfm customer %d: monetary value %g is not a number", i, c.Monetary)
		}
		n++
	}
	out := make([]RFMScore, len(in))
	if n == 0 {
		return out, nil
	}
	// Higher is better in every array: recency enters negated.
	rv, fv, mv := make([]float64, 0, n), make([]float64, 0, n), make([]float64, 0, n)
	for _, c := range in {
		if c.Frequency > 0 {
			rv = append(rv, -c.RecencyDays)
			fv = append(fv, float64(c.Frequency))
			mv = append(mv, c.Monetary)
		}
	}
	rc, fc, mc := quintileCuts(rv), quintileCuts(fv), quintileCuts(mv)
	for i, c := range in {
		if c.Frequency == 0 {
			continue
		}
		r := rc.score(-c.RecencyDays)
		f := fc.score(float64(c.Frequency))
		m := mc.score(c.Monetary)
		fm := (f + m + 1) / 2
		out[i] = RFMScore{R: r, F: f, M: m, FM: fm, Segment: rfmGrid[r-1][fm-1]}
	}
	return out, nil
}

// cuts[k−1] is the value a customer must exceed to score more than k: the
// ⌈k·n/5⌉-th smallest value, since v exceeds it exactly when at least
// ⌈k·n/5⌉ values lie strictly below v, i.e. when ⌊5·below/n⌋ ≥ k.
type cuts [4]float64

// quintileCuts sorts values in place and returns the four cut values.
func quintileCuts(values []float64) cuts {
	slices.Sort(values)
	n := len(values)
	var c cuts
	for k := 1; k <= 4; k++ {
		idx := (k*n + 4) / 5 // ⌈k·n/5⌉
		c[k-1] = values[idx-1]
	}
	return c
}

func (c *cuts) score(v float64) uint8 {
	s := uint8(1)
	for _, cut := range c {
		if v > cut {
			s++
		}
	}
	return s
}
