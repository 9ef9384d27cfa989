package model

// Customer lifetime value from the "buy till you die" (BTYD) models:
//
//   - BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy
//     Way", Marketing Science 24(2)) for how many purchases a customer makes
//     and whether they are still a customer at all;
//   - Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value
//     Curves for Customer Base Analysis", JMR 42(4); Fader & Hardie 2013,
//     "The Gamma-Gamma Model of Monetary Value") for how much they spend per
//     purchase;
//   - a discounted sum of the two over a horizon for the value itself.
//
// Everything here is pure arithmetic on summaries the caller builds from the
// purchase log; nothing reads the clock.

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/optimize"
)

// TimeUnit is the clock the BTYD models count in. The fitted parameters α
// (BG/NBD) depend on it, so a model must be used with summaries and horizons
// in the unit it was fitted in. The zero value is not a unit, so a forgotten
// field is caught instead of silently meaning "weeks".
type TimeUnit uint8

// The units a calibration can count in.
const (
	UnitWeek TimeUnit = iota + 1 // 7 days, the unit of the published CDNOW results
	UnitDay                      // one calendar day
)

// Days is the length of the unit in days, or 0 for an invalid unit.
func (u TimeUnit) Days() float64 {
	switch u {
	case UnitWeek:
		return 7
	case UnitDay:
		return 1
	}
	return 0
}

// String is "week" or "day", for messages and labels.
func (u TimeUnit) String() string {
	switch u {
	case UnitWeek:
		return "week"
	case UnitDay:
		return "day"
	}
	return fmt.Sprintf("TimeUnit(%d)", uint8(u))
}

// daysPerMonth is the mean Gregorian month, so twelve months are one year
// whatever month the horizon starts in.
const daysPerMonth = 365.2425 / 12

// Errors a fit returns; callers (the cockpit) tell "not enough data" apart
// from "the numbers did not work out" with errors.Is.
var (
	ErrNoCustomers     = errors.New("no customers to fit")
	ErrNoRepeatBuyers  = errors.New("no customer has a repeat purchase, so the model cannot tell buying rates from drop-out")
	ErrFitNotConverged = errors.New("model fit did not converge")
)

// PurchasePoint is one purchase as the BTYD summary needs it: when, and for
// how much (minor units).
type PurchasePoint struct {
	At     time.Time
	Amount Money
}

// BTYDSummary is the (x, t_x, T, m_x) summary of one customer's purchases in
// the calibration period, times in the period's unit.
type BTYDSummary struct {
	// Frequency is x, the number of repeat purchase occasions: days with at
	// least one purchase, not counting the day of the first purchase.
	Frequency int
	// Recency is t_x, the time from the first to the last purchase day.
	Recency float64
	// Age is T, the time from the first purchase day to the end of the
	// calibration period.
	Age float64
	// MonetaryValue is m_x, the mean value of the repeat occasions in minor
	// units (the first purchase is left out because acquisition orders are
	// often atypical); 0 when Frequency is 0.
	MonetaryValue float64
}

// CalibrationPeriod says which purchases a BTYD summary looks at and in
// which unit it counts time.
type CalibrationPeriod struct {
	// End is the last calendar day of the calibration period, inclusive:
	// for the CDNOW calibration 1997-01-01..1997-09-30 it is 1997-09-30, and
	// a customer whose first purchase was on 1997-01-01 has T = 272 days =
	// 38.86 weeks.
	End  Date
	Unit TimeUnit
}

// NewCalibrationPeriod validates the end day and the unit.
func NewCalibrationPeriod(end Date, unit TimeUnit) (CalibrationPeriod, error) {
	if end.IsZero() {
		return CalibrationPeriod{}, errors.New("calibration end: not set")
	}
	if end.Month < time.January || end.Month > time.December || end.Day < 1 || end.Day > 31 {
		return CalibrationPeriod{}, fmt.Errorf("calibration end: %s is not a calendar day", end)
	}
	if unit.Days() == 0 {
		return CalibrationPeriod{}, fmt.Errorf("calibration unit: %s is not a time unit (use UnitWeek or UnitDay)", unit)
	}
	return CalibrationPeriod{End: end, Unit: unit}, nil
}

// Summarize turns one customer's purchases (in any order) into the BTYD
// summary. Purchases on the same calendar day form one occasion and their
// amounts add up; the calendar day of a purchase is taken in the location of
// its At (pass times in the shop's time zone if day boundaries matter).
// Purchases after End are ignored. ok is false when no purchase lies in the
// period (or the period is invalid): such a customer is not in the
// calibration sample at all.
func (c CalibrationPeriod) Summarize(purchases []PurchasePoint) (s BTYDSummary, ok bool) {
	unitDays := c.Unit.Days()
	if unitDays == 0 || c.End.IsZero() {
		return BTYDSummary{}, false
	}
	end := civilDay(c.End.Year, c.End.Month, c.End.Day)

	// One pass when the purchases come in day order (the store reads them
	// that way); otherwise sort a copy of the in-period days.
	sorted := true
	prev := int64(math.MinInt64)
	n := 0
	for _, p := range purchases {
		d := dayOf(p.At)
		if d > end {
			continue
		}
		if d < prev {
			sorted = false
			break
		}
		prev = d
		n++
	}
	if sorted {
		if n == 0 {
			return BTYDSummary{}, false
		}
		return summarizeDays(func(yield func(int64, Money)) {
			for _, p := range purchases {
				if d := dayOf(p.At); d <= end {
					yield(d, p.Amount)
				}
			}
		}, end, unitDays), true
	}
	type dayAmount struct {
		day    int64
		amount Money
	}
	days := make([]dayAmount, 0, len(purchases))
	for _, p := range purchases {
		if d := dayOf(p.At); d <= end {
			days = append(days, dayAmount{d, p.Amount})
		}
	}
	slices.SortFunc(days, func(a, b dayAmount) int {
		switch {
		case a.day < b.day:
			return -1
		case a.day > b.day:
			return 1
		}
		return 0
	})
	return summarizeDays(func(yield func(int64, Money)) {
		for _, d := range days {
			yield(d.day, d.amount)
		}
	}, end, unitDays), true
}

// summarizeDays folds (day, amount) pairs in non-decreasing day order, at
// least one of them.
func summarizeDays(each func(func(int64, Money)), end int64, unitDays float64) BTYDSummary {
	first, last := int64(math.MinInt64), int64(math.MinInt64)
	occasions := 0
	var repeatTotal int64
	each(func(day int64, amount Money) {
		if occasions == 0 {
			first = day
		}
		if day != last {
			occasions++
			last = day
		}
		if day != first {
			repeatTotal += int64(amount)
		}
	})
	s := BTYDSummary{
		Frequency: occasions - 1,
		Recency:   float64(last-first) / unitDays,
		Age:       float64(end-first) / unitDays,
	}
	if s.Frequency > 0 {
		s.MonetaryValue = float64(repeatTotal) / float64(s.Frequency)
	}
	return s
}

// dayOf is the calendar day of t in t's own location, as a day number.
func dayOf(t time.Time) int64 {
	y, m, d := t.Date()
	return civilDay(y, m, d)
}

// civilDay numbers calendar days consecutively (days since 1970-01-01 in the
// proleptic Gregorian calendar; H. Hinnant's days_from_civil), so day
// differences ignore time zones and daylight saving.
func civilDay(y int, m time.Month, d int) int64 {
	yy := int64(y)
	if m <= time.February {
		yy--
	}
	era := yy / 400
	if yy < 0 && yy%400 != 0 {
		era--
	}
	yoe := yy - era*400
	mp := (int64(m) + 9) % 12
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// validateSummaries checks what the likelihoods assume: 0 ≤ t_x ≤ T, x ≥ 0,
// t_x > 0 when x > 0, everything finite.
func validateSummaries(s []BTYDSummary) error {
	for i, c := range s {
		switch {
		case c.Frequency < 0:
			return fmt.Errorf("customer %d: frequency %d is negative", i, c.Frequency)
		case math.IsNaN(c.Recency) || math.IsInf(c.Recency, 0) || c.Recency < 0:
			return fmt.Errorf("customer %d: recency %g is not a non-negative number", i, c.Recency)
		case math.IsNaN(c.Age) || math.IsInf(c.Age, 0) || c.Age < 0:
			return fmt.Errorf("customer %d: age %g is not a non-negative number", i, c.Age)
		case c.Recency > c.Age:
			return fmt.Errorf("customer %d: recency %g exceeds age %g (last purchase after the calibration end?)", i, c.Recency, c.Age)
		case c.Frequency > 0 && c.Recency == 0:
			return fmt.Errorf("customer %d: %d repeat purchases but recency 0", i, c.Frequency)
		case c.Frequency == 0 && c.Recency != 0:
			return fmt.Errorf("customer %d: no repeat purchase but recency %g", i, c.Recency)
		case math.IsNaN(c.MonetaryValue) || math.IsInf(c.MonetaryValue, 0):
			return fmt.Errorf("customer %d: monetary value %g is not a number", i, c.MonetaryValue)
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// BG/NBD

// BGNBD is a fitted BG/NBD model. While active, a customer buys as a Poisson
// process with rate λ ~ Gamma(shape R, rate Alpha); after every purchase they
// drop out for good with probability p ~ Beta(A, B).
type BGNBD struct {
	R, Alpha, A, B float64
	// LogLikelihood is the maximised log-likelihood of the fit data.
	LogLikelihood float64
	// Customers is the number of customers the model was fitted on.
	Customers int
	// Unit is the time unit of Alpha and of every t passed to the model.
	Unit TimeUnit
}

// bgnbdGroup is a set of customers with the same (x, t_x, T): grouping makes
// each likelihood evaluation cost the number of distinct summaries, which
// with day-resolution data is a fraction of the customers.
type bgnbdGroup struct {
	x     int
	tx, T float64
	w     float64
}

// FitBGNBD fits the BG/NBD model by maximum likelihood. The likelihood of a
// customer with summary (x, t_x, T) is (FHL 2005, eq. 6)
//
//	L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
//	  + [x>0] B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x)),
//
// summed in logs with log-sum-exp. The parameters are optimised on the log
// scale so they stay positive: Nelder-Mead finds the basin, BFGS with the
// analytic gradient polishes. unit is recorded in the model. It fails with
// ErrNoCustomers, ErrNoRepeatBuyers (the drop-out process is not
// identifiable without repeat purchases) or ErrFitNotConverged.
func FitBGNBD(summaries []BTYDSummary, unit TimeUnit) (BGNBD, error) {
	if unit.Days() == 0 {
		return BGNBD{}, fmt.Errorf("fit BG/NBD: %s is not a time unit", unit)
	}
	if len(summaries) == 0 {
		return BGNBD{}, fmt.Errorf("fit BG/NBD: %w", ErrNoCustomers)
	}
	if err := validateSummaries(summaries); err != nil {
		return BGNBD{}, fmt.Errorf("fit BG/NBD: %w", err)
	}
	groups, meanT, repeaters := groupBGNBD(summaries)
	if repeaters == 0 {
		return BGNBD{}, fmt.Errorf("fit BG/NBD: %w", ErrNoRepeatBuyers)
	}
	obj := &bgnbdObjective{groups: groups, n: float64(len(summaries))}
	// r = a = b = 1, α ≈ the observation span. meanT > 0: a repeat buyer
	// has t_x > 0 and T ≥ t_x.
	init := []float64{0, math.Log(meanT), 0, 0}
	theta, err := maximise(obj.eval, init, []string{"r", "α", "a", "b"})
	if err != nil {
		return BGNBD{}, fmt.Errorf("fit BG/NBD: %w", err)
	}
	m := BGNBD{R: math.Exp(theta[0]), Alpha: math.Exp(theta[1]), A: math.Exp(theta[2]), B: math.Exp(theta[3]),
		Customers: len(summaries), Unit: unit}
	m.LogLikelihood = -obj.eval(theta, nil) * obj.n
	return m, nil
}

// LogLikelihoodOf is the BG/NBD log-likelihood of the summaries under m (the
// quantity FitBGNBD maximises), for model comparison and tests.
func (m BGNBD) LogLikelihoodOf(summaries []BTYDSummary) (float64, error) {
	if err := m.check(); err != nil {
		return 0, err
	}
	if err := validateSummaries(summaries); err != nil {
		return 0, err
	}
	groups, _, _ := groupBGNBD(summaries)
	obj := &bgnbdObjective{groups: groups, n: 1}
	theta := []float64{math.Log(m.R), math.Log(m.Alpha), math.Log(m.A), math.Log(m.B)}
	return -obj.eval(theta, nil), nil
}

func groupBGNBD(summaries []BTYDSummary) (groups []bgnbdGroup, meanT float64, repeaters int) {
	groups = make([]bgnbdGroup, len(summaries))
	for i, s := range summaries {
		groups[i] = bgnbdGroup{x: s.Frequency, tx: s.Recency, T: s.Age, w: 1}
		meanT += s.Age
		if s.Frequency > 0 {
			repeaters++
		}
	}
	meanT /= float64(len(summaries))
	slices.SortFunc(groups, func(a, b bgnbdGroup) int {
		switch {
		case a.x != b.x:
			return a.x - b.x
		case a.tx != b.tx:
			return cmpFloat(a.tx, b.tx)
		}
		return cmpFloat(a.T, b.T)
	})
	out := groups[:1]
	for _, g := range groups[1:] {
		last := &out[len(out)-1]
		if g.x == last.x && g.tx == last.tx && g.T == last.T {
			last.w++
			continue
		}
		out = append(out, g)
	}
	return out, meanT, repeaters
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type bgnbdObjective struct {
	groups []bgnbdGroup // sorted by x
	n      float64      // divisor: the mean keeps tolerances independent of the sample size
}

// eval returns the negative mean log-likelihood at θ = (ln r, ln α, ln a,
// ln b) and, if grad is not nil, its gradient with respect to θ.
//
// With A3 = −(r+x) ln(α+T), A4 = ln a − ln(b+x−1) − (r+x) ln(α+t_x) and the
// weights w3 = e^A3/(e^A3+e^A4), w4 = 1 − w3 (w4 = 0 when x = 0):
//
//	∂ℓ/∂r = ψ(r+x) − ψ(r) + ln α − w3 ln(α+T) − w4 ln(α+t_x)
//	∂ℓ/∂α = r/α − (r+x) (w3/(α+T) + w4/(α+t_x))
//	∂ℓ/∂a = ψ(a+b) − ψ(a+b+x) + w4/a
//	∂ℓ/∂b = ψ(a+b) + ψ(b+x) − ψ(b) − ψ(a+b+x) − w4/(b+x−1)
//
// and ∂ℓ/∂ln θ = θ ∂ℓ/∂θ.
func (o *bgnbdObjective) eval(theta, grad []float64) float64 {
	if !paramsInRange(theta) {
		if grad != nil {
			clear(grad)
		}
		return math.Inf(1)
	}
	r, alpha, a, b := math.Exp(theta[0]), math.Exp(theta[1]), math.Exp(theta[2]), math.Exp(theta[3])
	lnAlpha, lnA := theta[1], theta[2]
	lgR, lgB, lgAB := lgamma(r), lgamma(b), lgamma(a+b)
	var psiR, psiB, psiAB float64
	if grad != nil {
		psiR, psiB, psiAB = mathext.Digamma(r), mathext.Digamma(b), mathext.Digamma(a+b)
	}
	var ll, gr, gAlpha, ga, gb float64
	curX := -1
	var termX, psiRX, psiBX, psiABX, lnBX1 float64
	for _, g := range o.groups {
		if g.x != curX {
			curX = g.x
			xf := float64(g.x)
			termX = lgamma(r+xf) - lgR + r*lnAlpha + lgAB + lgamma(b+xf) - lgB - lgamma(a+b+xf)
			if g.x > 0 {
				lnBX1 = math.Log(b + xf - 1)
			}
			if grad != nil {
				psiRX, psiBX, psiABX = mathext.Digamma(r+xf), mathext.Digamma(b+xf), mathext.Digamma(a+b+xf)
			}
		}
		rx := r + float64(g.x)
		lnAT := math.Log(alpha + g.T)
		a3 := -rx * lnAT
		lse, w4 := a3, 0.0
		var lnATx float64
		if g.x > 0 {
			lnATx = math.Log(alpha + g.tx)
			a4 := lnA - lnBX1 - rx*lnATx
			// log(e^a3 + e^a4) without overflow; w4 is the share of the
			// "dropped out after the last purchase" branch.
			if a3 >= a4 {
				e := math.Exp(a4 - a3)
				lse = a3 + math.Log1p(e)
				w4 = e / (1 + e)
			} else {
				e := math.Exp(a3 - a4)
				lse = a4 + math.Log1p(e)
				w4 = 1 / (1 + e)
			}
		}
		ll += g.w * (termX + lse)
		if grad != nil {
			w3 := 1 - w4
			gr += g.w * (psiRX - psiR + lnAlpha - w3*lnAT - w4*lnATx)
			dAlpha := r / alpha
			dAlpha -= rx * w3 / (alpha + g.T)
			if g.x > 0 {
				dAlpha -= rx * w4 / (alpha + g.tx)
			}
			gAlpha += g.w * dAlpha
			ga += g.w * (psiAB - psiABX + w4/a)
			db := psiAB + psiBX - psiB - psiABX
			if g.x > 0 {
				db -= w4 / (b + float64(g.x) - 1)
			}
			gb += g.w * db
		}
	}
	if grad != nil {
		grad[0] = -gr * r / o.n
		grad[1] = -gAlpha * alpha / o.n
		grad[2] = -ga * a / o.n
		grad[3] = -gb * b / o.n
	}
	f := -ll / o.n
	if math.IsNaN(f) {
		return math.Inf(1)
	}
	return f
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// maxLogParam bounds ln θ: beyond e^±40 a parameter has run away (the data
// do not pin it down) and the arithmetic would lose all precision.
const maxLogParam = 40

func paramsInRange(theta []float64) bool {
	for _, t := range theta {
		if math.IsNaN(t) || math.Abs(t) > maxLogParam {
			return false
		}
	}
	return true
}

// maximise minimises the negative mean log-likelihood f (whose gradient it
// also computes) from init: Nelder-Mead first, because it does not mind a
// poor starting point, then BFGS from there to converge tightly. The result
// is accepted only when it is finite, inside the parameter range and the
// gradient is (near) zero.
func maximise(f func(theta, grad []float64) float64, init []float64, names []string) ([]float64, error) {
	problem := optimize.Problem{
		Func: func(x []float64) float64 { return f(x, nil) },
		Grad: func(grad, x []float64) { f(x, grad) },
	}
	nm, err := optimize.Minimize(optimize.Problem{Func: problem.Func}, init,
		&optimize.Settings{
			Converger:       &optimize.FunctionConverge{Absolute: 1e-9, Relative: 1e-9, Iterations: 40},
			FuncEvaluations: 4000,
		}, &optimize.NelderMead{})
	start := init
	if nm != nil && paramsInRange(nm.X) && !math.IsInf(nm.F, 0) {
		start = nm.X
	} else if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFitNotConverged, err)
	}
	best := slices.Clone(start)
	bestF := f(best, nil)
	res, err := optimize.Minimize(problem, start,
		&optimize.Settings{GradientThreshold: 1e-9, MajorIterations: 1000}, &optimize.BFGS{})
	if res != nil && paramsInRange(res.X) && res.F <= bestF {
		best, bestF = slices.Clone(res.X), res.F
	}
	if math.IsInf(bestF, 0) || math.IsNaN(bestF) || !paramsInRange(best) {
		return nil, fmt.Errorf("%w: no finite likelihood found", ErrFitNotConverged)
	}
	for i, t := range best {
		if math.Abs(t) > maxLogParam-5 {
			return nil, fmt.Errorf("%w: %s ran away to %.3g (too few or too uniform customers to determine it)", ErrFitNotConverged, names[i], math.Exp(t))
		}
	}
	grad := make([]float64, len(best))
	f(best, grad)
	for i, g := range grad {
		if math.IsNaN(g) || math.Abs(g) > 1e-4 {
			reason := ""
			if err != nil {
				reason = " (" + err.Error() + ")"
			}
			return nil, fmt.Errorf("%w: the likelihood is still not flat in %s (gradient %.3g)%s", ErrFitNotConverged, names[i], g, reason)
		}
	}
	return best, nil
}

func (m BGNBD) check() error {
	for _, v := range []float64{m.R, m.Alpha, m.A, m.B} {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("BG/NBD parameters r=%g α=%g a=%g b=%g must be positive and finite", m.R, m.Alpha, m.A, m.B)
		}
	}
	return nil
}

// PAlive is the probability that a customer with summary s is still active
// at the end of calibration (FHL 2005, eq. 11):
//
//	P(alive | x, t_x, T) = 1 / (1 + [x>0] a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)).
//
// A customer without repeat purchases has P = 1: in the BG/NBD model drop-out
// can only happen right after a purchase, and the first one opens the
// account. It returns NaN only for invalid parameters or summaries.
func (m BGNBD) PAlive(s BTYDSummary) float64 {
	if m.check() != nil || s.Frequency < 0 || s.Recency < 0 || s.Age < s.Recency {
		return math.NaN()
	}
	if s.Frequency == 0 {
		return 1
	}
	x := float64(s.Frequency)
	lnOdds := math.Log(m.A) - math.Log(m.B+x-1) + (m.R+x)*(math.Log(m.Alpha+s.Age)-math.Log(m.Alpha+s.Recency))
	return 1 / (1 + math.Exp(lnOdds))
}

// ExpectedPurchases is the number of purchases a customer with summary s is
// expected to make in the next t units (FHL 2005, eq. 10):
//
//	E[Y(t) | x, t_x, T] = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ·
//	    ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))] · P(alive | x, t_x, T).
//
// The bracket is evaluated through Euler's transformation,
// (1−z)^(r+x) ₂F₁(r+x, b+x; c; z) = (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; c; z) with
// c = a+b+x−1, whose series parameters do not grow with x: no overflow for
// heavy buyers and fast convergence.
func (m BGNBD) ExpectedPurchases(s BTYDSummary, t float64) (float64, error) {
	if err := m.check(); err != nil {
		return 0, err
	}
	if err := validateSummaries([]BTYDSummary{s}); err != nil {
		return 0, err
	}
	if math.IsNaN(t) || math.IsInf(t, 0) || t < 0 {
		return 0, fmt.Errorf("expected purchases: horizon %g is not a non-negative number", t)
	}
	if t == 0 {
		return 0, nil
	}
	e, err := m.expectedAlive(float64(s.Frequency), s.Age, t)
	if err != nil {
		return 0, err
	}
	return e * m.PAlive(s), nil
}

// ExpectedPurchasesNew is the unconditional expectation E[X(t)] (FHL 2005,
// eq. 7): how many repeat purchases a customer makes in the first t units
// after their first purchase,
//
//	E[X(t)] = (a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))],
//
// which is the conditional expectation for x = t_x = T = 0.
func (m BGNBD) ExpectedPurchasesNew(t float64) (float64, error) {
	return m.ExpectedPurchases(BTYDSummary{}, t)
}

// expectedAlive is E[Y(t)] for a customer known to be alive with x repeat
// purchases and age T. At a = 1 the closed form is 0/0; there it is the mean
// of the values just either side, which is exact to O(h²).
func (m BGNBD) expectedAlive(x, T, t float64) (float64, error) {
	const h = 1e-4
	if math.Abs(m.A-1) < h/2 {
		lo, err := m.withA(1-h).expectedAlive(x, T, t)
		if err != nil {
			return 0, err
		}
		hi, err := m.withA(1+h).expectedAlive(x, T, t)
		if err != nil {
			return 0, err
		}
		return (lo + hi) / 2, nil
	}
	a, b, r := m.A, m.B, m.R
	z := t / (m.Alpha + T + t)
	c := a + b + x - 1
	f, err := hyp2f1(a+b-1-r, a-1, c, z)
	if err != nil {
		return 0, fmt.Errorf("expected purchases (x=%g, T=%g, t=%g): %w", x, T, t, err)
	}
	bracket := -math.Expm1((a-1)*math.Log1p(-z)) - math.Pow(1-z, a-1)*(f-1)
	e := c / (a - 1) * bracket
	if math.IsNaN(e) || math.IsInf(e, 0) {
		return 0, fmt.Errorf("expected purchases (x=%g, T=%g, t=%g): not a finite number", x, T, t)
	}
	return e, nil
}

func (m BGNBD) withA(a float64) BGNBD { m.A = a; return m }

// hyp2f1MaxTerms caps the series. For |z| ≤ 0.99 and the parameters used
// here it converges within a few thousand terms; the cap only guards
// against inputs outside that range.
const hyp2f1MaxTerms = 200000

// hyp2f1 is the Gaussian hypergeometric function ₂F₁(a, b; c; z) =
// Σ (a)ₙ(b)ₙ/((c)ₙ n!) zⁿ by its power series, for |z| < 1 and c not 0 or a
// negative integer. It stops when the remaining tail, bounded by a geometric
// series once the term ratio has fallen below one, is under 1e-15 of the
// sum; it returns an error when that does not happen within hyp2f1MaxTerms
// terms.
func hyp2f1(a, b, c, z float64) (float64, error) {
	if math.IsNaN(a) || math.IsNaN(b) || math.IsNaN(c) || math.IsNaN(z) {
		return 0, errors.New("2F1: NaN argument")
	}
	if !(math.Abs(z) < 1) {
		return 0, fmt.Errorf("2F1: |z| = %g, the series needs |z| < 1", math.Abs(z))
	}
	if c <= 0 && c == math.Floor(c) {
		return 0, fmt.Errorf("2F1: c = %g is not allowed (0 or a negative integer)", c)
	}
	sum, term := 1.0, 1.0
	for n := 0; n < hyp2f1MaxTerms; n++ {
		nf := float64(n)
		ratio := (a + nf) * (b + nf) / ((c + nf) * (nf + 1)) * z
		term *= ratio
		sum += term
		if term == 0 {
			return sum, nil // a or b is a non-positive integer: a polynomial
		}
		// Once n exceeds the parameters, |ratio| decreases towards |z|
		// monotonically, so the tail is below |term|·ρ/(1−ρ).
		if nf > math.Abs(a)+math.Abs(b)+math.Abs(c) {
			rho := math.Abs(ratio)
			if rho < 1 && math.Abs(term)*rho/(1-rho) <= 1e-15*math.Abs(sum) {
				return sum, nil
			}
		}
		if math.IsInf(sum, 0) || math.IsNaN(sum) {
			return 0, fmt.Errorf("2F1(%g, %g; %g; %g): the series overflowed", a, b, c, z)
		}
	}
	return 0, fmt.Errorf("2F1(%g, %g; %g; %g): no convergence within %d terms", a, b, c, z, hyp2f1MaxTerms)
}

// ---------------------------------------------------------------------------
// Gamma-Gamma

// GammaGamma is a fitted Gamma-Gamma spend model: the value of each purchase
// of a customer is Gamma(shape P, rate ν) around their own mean p/ν, and ν
// varies across customers as Gamma(shape Q, rate Gamma). It assumes spend
// per purchase is independent of how often a customer buys (check the
// correlation of x and m_x before trusting it).
type GammaGamma struct {
	P, Q, Gamma float64 // Gamma is in minor units, like the monetary values
	// LogLikelihood of the fit data, with values in minor units.
	LogLikelihood float64
	// Customers is the number of repeat buyers the model was fitted on.
	Customers int
}

// FitGammaGamma fits the model by maximum likelihood on the customers with
// at least one repeat purchase and a positive mean repeat value; the others
// carry no usable spend information and are skipped. The density of the
// observed mean m of x purchases is (Fader & Hardie 2013, eq. 3)
//
//	f(m | p, q, γ, x) = Γ(px+q)/(Γ(px)Γ(q)) · γ^q m^(px−1) x^(px) / (γ+mx)^(px+q).
//
// Internally values are divided by their mean so the optimiser works on
// numbers near one; Gamma and the log-likelihood are reported in minor units.
func FitGammaGamma(summaries []BTYDSummary) (GammaGamma, error) {
	if len(summaries) == 0 {
		return GammaGamma{}, fmt.Errorf("fit Gamma-Gamma: %w", ErrNoCustomers)
	}
	if err := validateSummaries(summaries); err != nil {
		return GammaGamma{}, fmt.Errorf("fit Gamma-Gamma: %w", err)
	}
	obj := &ggObjective{}
	var scale float64
	for _, s := range summaries {
		if s.Frequency > 0 && s.MonetaryValue > 0 {
			obj.x = append(obj.x, float64(s.Frequency))
			obj.m = append(obj.m, s.MonetaryValue)
			scale += s.MonetaryValue
		}
	}
	n := len(obj.x)
	if n == 0 {
		return GammaGamma{}, fmt.Errorf("fit Gamma-Gamma: no customer with a repeat purchase of positive value: %w", ErrNoRepeatBuyers)
	}
	scale /= float64(n)
	obj.lnM = make([]float64, n)
	for i := range obj.m {
		obj.m[i] /= scale
		obj.lnM[i] = math.Log(obj.m[i])
	}
	// Sorting by x lets eval compute the x-only terms once per distinct x.
	obj.sortByX()
	obj.n = float64(n)
	theta, err := maximise(obj.eval, []float64{0, 0, 0}, []string{"p", "q", "γ"})
	if err != nil {
		return GammaGamma{}, fmt.Errorf("fit Gamma-Gamma: %w", err)
	}
	m := GammaGamma{P: math.Exp(theta[0]), Q: math.Exp(theta[1]), Gamma: math.Exp(theta[2]) * scale, Customers: n}
	// Undo the scaling: each density picks up a factor 1/scale.
	m.LogLikelihood = -obj.eval(theta, nil)*obj.n - obj.n*math.Log(scale)
	return m, nil
}

type ggObjective struct {
	x, m, lnM []float64 // sorted by x; m scaled to mean 1
	n         float64
}

func (o *ggObjective) sortByX() {
	idx := make([]int, len(o.x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int { return cmpFloat(o.x[i], o.x[j]) })
	x, m, lnM := make([]float64, len(idx)), make([]float64, len(idx)), make([]float64, len(idx))
	for k, i := range idx {
		x[k], m[k], lnM[k] = o.x[i], o.m[i], o.lnM[i]
	}
	o.x, o.m, o.lnM = x, m, lnM
}

// eval returns the negative mean log-likelihood at θ = (ln p, ln q, ln γ)
// and, if grad is not nil, its gradient with respect to θ:
//
//	∂ℓ/∂p = x (ψ(px+q) − ψ(px) + ln m + ln x − ln(γ+mx))
//	∂ℓ/∂q = ψ(px+q) − ψ(q) + ln γ − ln(γ+mx)
//	∂ℓ/∂γ = q/γ − (px+q)/(γ+mx)
func (o *ggObjective) eval(theta, grad []float64) float64 {
	if !paramsInRange(theta) {
		if grad != nil {
			clear(grad)
		}
		return math.Inf(1)
	}
	p, q, g := math.Exp(theta[0]), math.Exp(theta[1]), math.Exp(theta[2])
	lnG := theta[2]
	lgQ := lgamma(q)
	var psiQ float64
	if grad != nil {
		psiQ = mathext.Digamma(q)
	}
	var ll, gp, gq, gg float64
	curX := -1.0
	var termX, psiPXQ, psiPX, lnX float64
	for i, x := range o.x {
		if x != curX {
			curX = x
			lnX = math.Log(x)
			px := p * x
			termX = lgamma(px+q) - lgamma(px) - lgQ + q*lnG + px*lnX
			if grad != nil {
				psiPXQ, psiPX = mathext.Digamma(px+q), mathext.Digamma(px)
			}
		}
		px := p * x
		gmx := g + o.m[i]*x
		lnGMX := math.Log(gmx)
		ll += termX + (px-1)*o.lnM[i] - (px+q)*lnGMX
		if grad != nil {
			gp += x * (psiPXQ - psiPX + o.lnM[i] + lnX - lnGMX)
			gq += psiPXQ - psiQ + lnG - lnGMX
			gg += q/g - (px+q)/gmx
		}
	}
	if grad != nil {
		grad[0] = -gp * p / o.n
		grad[1] = -gq * q / o.n
		grad[2] = -gg * g / o.n
	}
	f := -ll / o.n
	if math.IsNaN(f) {
		return math.Inf(1)
	}
	return f
}

func (m GammaGamma) check() error {
	for _, v := range []float64{m.P, m.Q, m.Gamma} {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("Gamma-Gamma parameters p=%g q=%g γ=%g must be positive and finite", m.P, m.Q, m.Gamma)
		}
	}
	return nil
}

// MeanSpend is the population mean spend per purchase, E[M] = pγ/(q−1), in
// minor units. It does not exist for q ≤ 1 (the spread of customer means is
// too heavy-tailed).
func (m GammaGamma) MeanSpend() (float64, error) {
	if err := m.check(); err != nil {
		return 0, err
	}
	if m.Q <= 1 {
		return 0, fmt.Errorf("mean spend: q = %g ≤ 1, the population mean is infinite", m.Q)
	}
	return m.P * m.Gamma / (m.Q - 1), nil
}

// ExpectedSpend is a customer's expected spend per purchase given x repeat
// purchases of mean value m_x (Fader & Hardie 2013, eq. 5), in minor units:
//
//	E[M | p, q, γ, m_x, x] = (γ + m_x x) p / (p x + q − 1),
//
// a weighted mean of the population mean and the customer's own: the more
// purchases, the more their own mean counts. With x = 0 it is the
// population mean.
func (m GammaGamma) ExpectedSpend(s BTYDSummary) (float64, error) {
	if err := m.check(); err != nil {
		return 0, err
	}
	if s.Frequency < 0 || math.IsNaN(s.MonetaryValue) || math.IsInf(s.MonetaryValue, 0) {
		return 0, fmt.Errorf("expected spend: invalid summary (x=%d, m=%g)", s.Frequency, s.MonetaryValue)
	}
	x := float64(s.Frequency)
	den := m.P*x + m.Q - 1
	if den <= 0 {
		return 0, fmt.Errorf("expected spend: p·x + q − 1 = %g ≤ 0 for x = %d, the mean does not exist", den, s.Frequency)
	}
	return (m.Gamma + s.MonetaryValue*x) * m.P / den, nil
}

// ---------------------------------------------------------------------------
// CLV

// CLVOptions are the horizon and discounting of a CLV figure.
type CLVOptions struct {
	// Months is the horizon, e.g. 12; at most 1200.
	Months int
	// MonthlyDiscountRate is the cost of capital per month, e.g. 0.01; see
	// MonthlyRate to convert an annual rate. 0 means no discounting.
	MonthlyDiscountRate float64
}

// MonthlyRate converts an annual discount rate into the monthly rate that
// compounds to it: (1+annual)^(1/12) − 1.
func MonthlyRate(annual float64) float64 { return math.Expm1(math.Log1p(annual) / 12) }

// CLV is a customer's expected value over the horizon in minor units
// (revenue; multiply by a margin for profit):
//
//	CLV = Σ_{k=1..K} (E[Y(k·m)] − E[Y((k−1)·m)]) · E[M] / (1+d)^k,
//
// with m one month in the BG/NBD model's unit (365.2425/12 days), E[Y] the
// conditional expected purchases (BGNBD.ExpectedPurchases), E[M] the
// conditional expected spend (GammaGamma.ExpectedSpend) and d the monthly
// discount rate: each month's expected purchases are discounted to the end
// of calibration from the end of that month.
func CLV(bg BGNBD, gg GammaGamma, s BTYDSummary, opt CLVOptions) (float64, error) {
	if opt.Months < 0 || opt.Months > 1200 {
		return 0, fmt.Errorf("CLV: horizon of %d months is outside 0..1200", opt.Months)
	}
	if math.IsNaN(opt.MonthlyDiscountRate) || opt.MonthlyDiscountRate <= -1 || opt.MonthlyDiscountRate > 10 {
		return 0, fmt.Errorf("CLV: monthly discount rate %g is outside (−1, 10]", opt.MonthlyDiscountRate)
	}
	unitDays := bg.Unit.Days()
	if unitDays == 0 {
		return 0, fmt.Errorf("CLV: the BG/NBD model has no time unit (%s)", bg.Unit)
	}
	spend, err := gg.ExpectedSpend(s)
	if err != nil {
		return 0, fmt.Errorf("CLV: %w", err)
	}
	month := daysPerMonth / unitDays
	var value, prev float64
	discount := 1.0
	for k := 1; k <= opt.Months; k++ {
		cum, err := bg.ExpectedPurchases(s, float64(k)*month)
		if err != nil {
			return 0, fmt.Errorf("CLV: %w", err)
		}
		discount /= 1 + opt.MonthlyDiscountRate
		value += (cum - prev) * spend * discount
		prev = cum
	}
	return value, nil
}
