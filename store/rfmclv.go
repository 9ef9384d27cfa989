package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// The analytics runs that score every customer: RFM (from the purchase
// aggregates kept on each customer record), CLV (BG/NBD and Gamma-Gamma
// fitted on the purchase log) and cohorts. See analytics.go.

// scoresBatch is the number of scores records per write transaction:
// their keys ascend, so large transactions are cheap.
const scoresBatch = 50000

// writeScores applies edit to the scores records of ids (ascending), in
// write transactions of scoresBatch. edit returns false to leave a record
// as it is; a customer without a record starts from the zero scores.
func (s *Store) writeScores(ctx context.Context, by model.Actor, ids []model.CustomerID, edit func(i int, sc *CustomerScores) bool) error {
	for lo := 0; lo < len(ids); lo += scoresBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+scoresBatch, len(ids))
		err := s.Update(by, func(t *Tx) error {
			if err := t.require(model.PermSeeAggregates, "compute analytics"); err != nil {
				return err
			}
			b, err := t.ensure(bScores)
			if err != nil {
				return err
			}
			b.FillPercent = 0.9
			var sc CustomerScores
			for i := lo; i < hi; i++ {
				key := u64(uint64(ids[i]))
				sc = CustomerScores{}
				if v := b.Get(key); v != nil {
					if err := decodeScores(v, &sc); err != nil {
						return fmt.Errorf("scores of customer %d: %w", ids[i], err)
					}
				}
				if !edit(i, &sc) {
					continue
				}
				sc.ComputedAt = t.now
				if err := b.Put(key, t.keep(encodeScores(&sc))); err != nil {
					return err
				}
			}
			t.change(ChangeBulk, 0)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// RFM

// RFMSegmentCount is one segment's size and revenue.
type RFMSegmentCount struct {
	Segment   string      `json:"segment"`
	Code      uint8       `json:"code"`
	Customers int         `json:"customers"`
	Revenue   model.Money `json:"revenue"`
}

// RFMSummary describes the latest RFM run.
type RFMSummary struct {
	ComputedAt time.Time         `json:"computed_at"`
	AsOf       time.Time         `json:"as_of"`
	Scored     int               `json:"scored"`
	Unscored   int               `json:"unscored"` // customers without purchases
	Segments   []RFMSegmentCount `json:"segments"` // in model.RFMSegments order
	// Grid[r-1][fm-1] counts the customers with R score r and FM score fm.
	Grid [5][5]int `json:"grid"`
}

// ScoreRFM scores every customer with purchases on recency (days from the
// last purchase to asOf), frequency (purchases) and monetary value (total
// revenue) in quintiles (model.ScoreRFM), stores R, F, M and the segment
// with the customer's scores, and stores the summary. A zero asOf is now.
func (s *Store) ScoreRFM(ctx context.Context, by model.Actor, asOf time.Time) (RFMSummary, error) {
	var sum RFMSummary
	if err := by.Require(model.PermSeeAggregates, "score RFM"); err != nil {
		return sum, err
	}
	defer s.readAhead()() // it reads every customer
	if asOf.IsZero() {
		asOf = s.now()
	}
	sum.AsOf = asOf.UTC()
	var ids []model.CustomerID
	var in []model.RFMInput
	var revenue []model.Money
	err := s.forCustomerFacts(ctx, func(f *customerFacts) {
		if f.erased {
			return // no segment for people who are gone
		}
		if f.purchases == 0 {
			sum.Unscored++
			return
		}
		rec := asOf.Sub(f.last).Hours() / 24
		ids = append(ids, f.id)
		in = append(in, model.RFMInput{RecencyDays: max(0, rec), Frequency: f.purchases, Monetary: float64(f.revenue)})
		revenue = append(revenue, f.revenue)
	})
	if err != nil {
		return sum, err
	}
	scores, err := model.ScoreRFM(in)
	if err != nil {
		return sum, err
	}
	in = nil
	segs := model.RFMSegments()
	for _, seg := range segs {
		sum.Segments = append(sum.Segments, RFMSegmentCount{Segment: seg.String(), Code: uint8(seg)})
	}
	for i, sc := range scores {
		sum.Scored++
		sum.Grid[sc.R-1][sc.FM-1]++
		j := slices.Index(segs, sc.Segment)
		sum.Segments[j].Customers++
		sum.Segments[j].Revenue += revenue[i]
	}
	err = s.writeScores(ctx, by, ids, func(i int, sc *CustomerScores) bool {
		x := scores[i]
		sc.R, sc.F, sc.M, sc.Segment = x.R, x.F, x.M, x.Segment
		return true
	})
	if err != nil {
		return sum, err
	}
	sum.ComputedAt = s.now()
	return sum, s.saveSnapshot(by, "rfm", sum)
}

// RFMSnapshot returns the summary of the latest RFM run.
func (r *Reader) RFMSnapshot() (RFMSummary, bool, error) {
	var sum RFMSummary
	ok, err := r.snapshot("rfm", &sum)
	return sum, ok, err
}

// ScoreFilter selects scored customers for a drill-down: by RFM segment,
// by R and FM score (a cell of the grid), by a CLV range; zero fields do
// not filter.
type ScoreFilter struct {
	Segment model.RFMSegment
	R, FM   uint8
	MinCLV  model.Money
	MaxCLV  model.Money // 0: no upper bound
}

func (f ScoreFilter) matches(sc *CustomerScores) bool {
	fm := (sc.F + sc.M + 1) / 2
	switch {
	case f.Segment != model.RFMUnscored && sc.Segment != f.Segment:
		return false
	case f.R != 0 && sc.R != f.R:
		return false
	case f.FM != 0 && fm != f.FM:
		return false
	case f.MinCLV != 0 && sc.CLV < f.MinCLV:
		return false
	case f.MaxCLV != 0 && sc.CLV >= f.MaxCLV:
		return false
	}
	return true
}

// ScoredCustomers lists, in id order after the id after, up to limit
// customers whose scores match the filter, with their scores; next is the
// after of the following page (0 when the list is complete). It examines
// at most 200,000 records per call.
func (r *Reader) ScoredCustomers(f ScoreFilter, after model.CustomerID, limit int) (ids []model.CustomerID, scores []CustomerScores, next model.CustomerID, err error) {
	b := r.tx.Bucket(bScores)
	if b == nil {
		return nil, nil, 0, nil
	}
	if limit <= 0 || limit > 10000 {
		limit = 50
	}
	c := b.Cursor()
	seen := 0
	var sc CustomerScores
	for k, v := c.Seek(u64(uint64(after) + 1)); k != nil; k, v = c.Next() {
		id := model.CustomerID(readU64(k))
		if len(ids) == limit || seen == 200000 {
			return ids, scores, next, nil
		}
		seen++
		next = id
		if err := decodeScores(v, &sc); err != nil {
			return ids, scores, 0, fmt.Errorf("scores of customer %d: %w", id, err)
		}
		if f.matches(&sc) {
			ids = append(ids, id)
			scores = append(scores, sc)
		}
	}
	return ids, scores, 0, nil
}

// ---------------------------------------------------------------------------
// CLV

// CLVFitOptions say which purchases the models are fitted on.
type CLVFitOptions struct {
	// CalibrationEnd is the last day of the calibration period; zero is
	// today (the store's clock).
	CalibrationEnd model.Date
	// Unit is the time unit of the models; default weeks.
	Unit model.TimeUnit
}

// CLVFit is the result of fitting the BG/NBD and Gamma-Gamma models. Money
// figures (gamma, the mean spend, the Gamma-Gamma log-likelihood) are in
// major currency units, as the literature reports them.
type CLVFit struct {
	FittedAt        time.Time `json:"fitted_at"`
	CalibrationEnd  string    `json:"calibration_end"`
	Unit            string    `json:"unit"`
	Customers       int       `json:"customers"`
	RepeatBuyers    int       `json:"repeat_buyers"`
	RepeatPurchases int       `json:"repeat_purchases"`

	R             float64 `json:"r"`
	Alpha         float64 `json:"alpha"`
	A             float64 `json:"a"`
	B             float64 `json:"b"`
	LogLikelihood float64 `json:"bgnbd_log_likelihood"`

	// The Gamma-Gamma model, unless it could not be fitted (GammaGammaError).
	P                       float64 `json:"p"`
	Q                       float64 `json:"q"`
	Gamma                   float64 `json:"gamma"`
	GammaGammaLogLikelihood float64 `json:"gamma_gamma_log_likelihood"`
	GammaGammaCustomers     int     `json:"gamma_gamma_customers"`
	MeanSpend               float64 `json:"mean_spend,omitempty"`
	GammaGammaError         string  `json:"gamma_gamma_error,omitempty"`
	Elapsed                 string  `json:"elapsed"`

	// The fitted models as the scoring uses them (Gamma in minor units).
	BGNBD      model.BGNBD      `json:"-"`
	GammaGamma model.GammaGamma `json:"-"`
}

// clvModel is the stored form of a fit.
type clvModel struct {
	Fit CLVFit           `json:"fit"`
	BG  model.BGNBD      `json:"bgnbd"`
	GG  model.GammaGamma `json:"gamma_gamma"`
}

// summaries builds the BTYD summary of every customer with a purchase in
// the calibration period (one pass over the purchase log, which is
// clustered by customer and ordered by time within each).
func (s *Store) summaries(ctx context.Context, cal model.CalibrationPeriod) ([]model.CustomerID, []model.BTYDSummary, error) {
	var ids []model.CustomerID
	var out []model.BTYDSummary
	var pts []model.PurchasePoint
	var cur uint64
	flush := func() {
		if len(pts) == 0 {
			return
		}
		if sm, ok := cal.Summarize(pts); ok {
			ids = append(ids, model.CustomerID(cur))
			out = append(out, sm)
		}
		pts = pts[:0]
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bPurchases).Cursor()
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if n++; n%200000 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if len(k) != 24 {
				return fmt.Errorf("purchase key %x: %w", k, errCorrupt)
			}
			cid := readU64(k)
			if cid != cur {
				flush()
				cur = cid
			}
			// Only the amount is needed besides the key: skip the rest.
			d := decoder{b: v}
			d.version(purchaseVersion, "purchase")
			d.raw() // order id
			d.raw() // source
			amount := model.Money(d.varint())
			if d.err != nil {
				return fmt.Errorf("purchase %x: %w", k, d.err)
			}
			pts = append(pts, model.PurchasePoint{At: timeFromKey(readU64(k[8:])), Amount: amount})
		}
		flush()
		return nil
	})
	return ids, out, err
}

// FitCLV fits the BG/NBD purchase model and the Gamma-Gamma spend model by
// maximum likelihood on the purchases up to the calibration end, stores
// them for scoring and returns the fit. The Gamma-Gamma model needs repeat
// buyers with positive spend; when it cannot be fitted the BG/NBD fit is
// still returned and stored, with GammaGammaError saying why.
func (s *Store) FitCLV(ctx context.Context, by model.Actor, opt CLVFitOptions) (CLVFit, error) {
	var fit CLVFit
	if err := by.Require(model.PermSeeAggregates, "fit the CLV models"); err != nil {
		return fit, err
	}
	began := time.Now()
	if opt.CalibrationEnd.IsZero() {
		opt.CalibrationEnd = model.DateOf(s.now())
	}
	if opt.Unit == 0 {
		opt.Unit = model.UnitWeek
	}
	cal, err := model.NewCalibrationPeriod(opt.CalibrationEnd, opt.Unit)
	if err != nil {
		return fit, err
	}
	_, sums, err := s.summaries(ctx, cal)
	if err != nil {
		return fit, err
	}
	fit.CalibrationEnd, fit.Unit, fit.Customers = opt.CalibrationEnd.String(), opt.Unit.String(), len(sums)
	for _, sm := range sums {
		if sm.Frequency > 0 {
			fit.RepeatBuyers++
			fit.RepeatPurchases += sm.Frequency
		}
	}
	bg, err := model.FitBGNBD(sums, opt.Unit)
	if err != nil {
		return fit, fmt.Errorf("fit CLV on %d customers up to %s: %w", len(sums), opt.CalibrationEnd, err)
	}
	fit.BGNBD = bg
	fit.R, fit.Alpha, fit.A, fit.B, fit.LogLikelihood = bg.R, bg.Alpha, bg.A, bg.B, bg.LogLikelihood
	gg, err := model.FitGammaGamma(sums)
	if err != nil {
		fit.GammaGammaError = err.Error()
	} else {
		fit.GammaGamma = gg
		// Minor to major units: γ scales with the money, and each of the n
		// densities picks up a factor 100.
		fit.P, fit.Q, fit.Gamma = gg.P, gg.Q, gg.Gamma/100
		fit.GammaGammaCustomers = gg.Customers
		fit.GammaGammaLogLikelihood = gg.LogLikelihood + float64(gg.Customers)*math.Log(100)
		if m, err := gg.MeanSpend(); err == nil {
			fit.MeanSpend = m / 100
		}
	}
	fit.FittedAt = s.now()
	fit.Elapsed = time.Since(began).Round(time.Millisecond).String()
	return fit, s.saveSnapshot(by, "clv_model", clvModel{Fit: fit, BG: bg, GG: fit.GammaGamma})
}

// CLVModel returns the stored fit; ok is false when none was made.
func (r *Reader) CLVModel() (CLVFit, bool, error) {
	var m clvModel
	ok, err := r.snapshot("clv_model", &m)
	m.Fit.BGNBD, m.Fit.GammaGamma = m.BG, m.GG
	return m.Fit, ok, err
}

// CLVScoreOptions configure scoring with a fitted model.
type CLVScoreOptions struct {
	// AsOf is the day up to which purchases count; zero is today.
	AsOf model.Date
	// Weeks is the horizon of the expected purchases; default 52.
	Weeks int
	// Months is the CLV horizon; default 12.
	Months int
	// AnnualDiscount is the yearly discount rate of the CLV; default 0.10.
	// Use a negative value for none.
	AnnualDiscount float64
}

// CLVBin is one bar of the CLV distribution.
type CLVBin struct {
	From      model.Money `json:"from"`
	To        model.Money `json:"to"` // 0: open-ended
	Customers int         `json:"customers"`
}

// CLVSummary describes the latest CLV scoring run.
type CLVSummary struct {
	ComputedAt     time.Time   `json:"computed_at"`
	AsOf           string      `json:"as_of"`
	Weeks          int         `json:"weeks"`
	Months         int         `json:"months"`
	AnnualDiscount float64     `json:"annual_discount"`
	Scored         int         `json:"scored"`
	Failed         int         `json:"failed"`
	Total          model.Money `json:"total"`
	Mean           model.Money `json:"mean"`
	Median         model.Money `json:"median"`
	P90            model.Money `json:"p90"`
	MeanPAlive     float64     `json:"mean_p_alive"`
	ExpectedTotal  float64     `json:"expected_purchases"`
	Histogram      []CLVBin    `json:"histogram"`
}

// clvBinEdges are the bars of the CLV distribution in minor units.
var clvBinEdges = []model.Money{0, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000}

// ScoreCLV scores every customer with a purchase up to AsOf with the stored
// fit: P(alive), the expected purchases in the next Weeks and the expected
// value over Months discounted at AnnualDiscount, written to the
// customers' scores; it stores and returns the summary.
func (s *Store) ScoreCLV(ctx context.Context, by model.Actor, opt CLVScoreOptions) (CLVSummary, error) {
	var sum CLVSummary
	if err := by.Require(model.PermSeeAggregates, "score CLV"); err != nil {
		return sum, err
	}
	var fit CLVFit
	var ok bool
	if err := s.View(by, func(r *Reader) (err error) { fit, ok, err = r.CLVModel(); return err }); err != nil {
		return sum, err
	}
	if !ok {
		return sum, errors.New("score CLV: no model is fitted yet (karton clv fit)")
	}
	if fit.GammaGammaError != "" {
		return sum, fmt.Errorf("score CLV: the spend model could not be fitted (%s)", fit.GammaGammaError)
	}
	if opt.AsOf.IsZero() {
		opt.AsOf = model.DateOf(s.now())
	}
	if opt.Weeks <= 0 {
		opt.Weeks = 52
	}
	if opt.Months <= 0 {
		opt.Months = 12
	}
	if opt.AnnualDiscount == 0 {
		opt.AnnualDiscount = 0.10
	}
	disc := max(0, opt.AnnualDiscount)
	sum.AsOf, sum.Weeks, sum.Months, sum.AnnualDiscount = opt.AsOf.String(), opt.Weeks, opt.Months, disc
	cal, err := model.NewCalibrationPeriod(opt.AsOf, fit.BGNBD.Unit)
	if err != nil {
		return sum, err
	}
	ids, sums, err := s.summaries(ctx, cal)
	if err != nil {
		return sum, err
	}
	horizon := float64(opt.Weeks) * 7 / fit.BGNBD.Unit.Days()
	copt := model.CLVOptions{Months: opt.Months, MonthlyDiscountRate: model.MonthlyRate(disc)}
	type res struct {
		alive, expected float64
		clv             model.Money
		ok              bool
	}
	results := make([]res, len(sums))
	values := make([]model.Money, 0, len(sums))
	for i, sm := range sums {
		if i%50000 == 0 {
			if err := ctx.Err(); err != nil {
				return sum, err
			}
		}
		exp, err1 := fit.BGNBD.ExpectedPurchases(sm, horizon)
		v, err2 := model.CLV(fit.BGNBD, fit.GammaGamma, sm, copt)
		if err1 != nil || err2 != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			sum.Failed++
			continue
		}
		r := res{alive: fit.BGNBD.PAlive(sm), expected: exp, clv: model.Money(math.Round(v)), ok: true}
		results[i] = r
		sum.Scored++
		sum.Total += r.clv
		sum.MeanPAlive += r.alive
		sum.ExpectedTotal += exp
		values = append(values, r.clv)
	}
	if sum.Scored > 0 {
		sum.Mean = sum.Total / model.Money(sum.Scored)
		sum.MeanPAlive /= float64(sum.Scored)
		slices.Sort(values)
		sum.Median = values[len(values)/2]
		sum.P90 = values[min(len(values)-1, len(values)*9/10)]
	}
	for i, lo := range clvBinEdges {
		bin := CLVBin{From: lo}
		if i+1 < len(clvBinEdges) {
			bin.To = clvBinEdges[i+1]
		}
		sum.Histogram = append(sum.Histogram, bin)
	}
	for _, v := range values {
		i := clvBin(clvBinEdges, v)
		sum.Histogram[i].Customers++
	}
	err = s.writeScores(ctx, by, ids, func(i int, sc *CustomerScores) bool {
		r := results[i]
		if !r.ok {
			return false
		}
		sc.PAlive, sc.Expected, sc.CLV = r.alive, r.expected, r.clv
		return true
	})
	if err != nil {
		return sum, err
	}
	sum.ComputedAt = s.now()
	return sum, s.saveSnapshot(by, "clv", sum)
}

// clvBin finds the bin of v: the last edge at or below it.
func clvBin(edges []model.Money, v model.Money) int {
	i := len(edges) - 1
	for i > 0 && v < edges[i] {
		i--
	}
	return i
}

// CLVSnapshot returns the summary of the latest CLV scoring.
func (r *Reader) CLVSnapshot() (CLVSummary, bool, error) {
	var sum CLVSummary
	ok, err := r.snapshot("clv", &sum)
	return sum, ok, err
}

// ---------------------------------------------------------------------------
// Cohorts

// CohortReport is the retention triangle of the latest cohort run.
type CohortReport struct {
	ComputedAt time.Time      `json:"computed_at"`
	From       string         `json:"from"`
	Through    string         `json:"through"`
	Cohorts    []CohortFigure `json:"cohorts"`
	Skipped    int            `json:"skipped"`
}

// CohortFigure is one cohort: customers whose first purchase fell in Month,
// and how many of them bought (and for how much) k months later.
type CohortFigure struct {
	Month     string        `json:"month"`
	Size      int           `json:"size"`
	Active    []int         `json:"active"`
	Revenue   []model.Money `json:"revenue"`
	Retention []float64     `json:"retention"`
}

// ComputeCohorts builds the cohorts by first-purchase month from the
// purchase log for the months from..through (zero values: the last 24
// months up to now), stores and returns them.
func (s *Store) ComputeCohorts(ctx context.Context, by model.Actor, from, through model.YearMonth) (CohortReport, error) {
	var rep CohortReport
	if err := by.Require(model.PermSeeAggregates, "compute cohorts"); err != nil {
		return rep, err
	}
	if through == 0 {
		through = model.YearMonthOf(s.now())
	}
	if from == 0 {
		from = through - 23
	}
	m, err := model.NewCohortMatrix(from, through)
	if err != nil {
		return rep, err
	}
	var pts []model.CohortPurchase
	var cur uint64
	var first model.YearMonth
	var addErr error
	flush := func() {
		if len(pts) > 0 && addErr == nil {
			addErr = m.Add(first, pts)
		}
		pts = pts[:0]
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bPurchases).Cursor()
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if n++; n%200000 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			cid := readU64(k)
			at := timeFromKey(readU64(k[8:]))
			if cid != cur {
				flush()
				cur, first = cid, model.YearMonthOf(at) // keys are in time order per customer
			}
			d := decoder{b: v}
			d.version(purchaseVersion, "purchase")
			d.raw()
			d.raw()
			amount := model.Money(d.varint())
			if d.err != nil {
				return fmt.Errorf("purchase %x: %w", k, d.err)
			}
			pts = append(pts, model.CohortPurchase{Month: model.YearMonthOf(at), Amount: amount})
		}
		flush()
		return addErr
	})
	if err != nil {
		return rep, err
	}
	rep.From, rep.Through, rep.Skipped = from.String(), through.String(), m.Skipped
	for _, c := range m.Cohorts {
		f := CohortFigure{Month: c.Month.String(), Size: c.Size, Active: c.Active, Revenue: c.Revenue}
		for k := range c.Active {
			f.Retention = append(f.Retention, c.Retention(k))
		}
		rep.Cohorts = append(rep.Cohorts, f)
	}
	rep.ComputedAt = s.now()
	return rep, s.saveSnapshot(by, "cohorts", rep)
}

// CohortSnapshot returns the latest cohort report.
func (r *Reader) CohortSnapshot() (CohortReport, bool, error) {
	var rep CohortReport
	ok, err := r.snapshot("cohorts", &rep)
	return rep, ok, err
}

// ---------------------------------------------------------------------------
// All of it

// AnalyticsOptions configure RunAnalytics; zero values take the defaults
// of each step.
type AnalyticsOptions struct {
	Attribution AttributionOptions
	CLVFit      CLVFitOptions
	CLVScore    CLVScoreOptions
	Quality     model.QualityOptions
}

// AnalyticsRun says what RunAnalytics did. A step that could not run for
// lack of data (CLV without repeat buyers) is named in Skipped, with why.
type AnalyticsRun struct {
	Attribution AttributionSummary `json:"attribution"`
	RFM         RFMSummary         `json:"rfm"`
	CLVFit      *CLVFit            `json:"clv_fit,omitempty"`
	CLV         *CLVSummary        `json:"clv,omitempty"`
	Cohorts     CohortReport       `json:"cohorts"`
	Quality     QualityOverview    `json:"quality"`
	Skipped     map[string]string  `json:"skipped,omitempty"`
	Elapsed     map[string]string  `json:"elapsed"`
}

// RunAnalytics runs every analytics step: attribution, RFM, CLV (fit and
// score), cohorts and the quality report.
func (s *Store) RunAnalytics(ctx context.Context, by model.Actor, opt AnalyticsOptions) (AnalyticsRun, error) {
	run := AnalyticsRun{Skipped: map[string]string{}, Elapsed: map[string]string{}}
	step := func(name string, fn func() error) error {
		began := time.Now()
		err := fn()
		run.Elapsed[name] = time.Since(began).Round(time.Millisecond).String()
		return err
	}
	var err error
	if err = step("attribution", func() (err error) { run.Attribution, err = s.RunAttribution(ctx, by, opt.Attribution); return }); err != nil {
		return run, err
	}
	if err = step("rfm", func() (err error) { run.RFM, err = s.ScoreRFM(ctx, by, time.Time{}); return }); err != nil {
		return run, err
	}
	err = step("clv", func() error {
		fit, err := s.FitCLV(ctx, by, opt.CLVFit)
		if errors.Is(err, model.ErrNoCustomers) || errors.Is(err, model.ErrNoRepeatBuyers) || errors.Is(err, model.ErrFitNotConverged) {
			run.Skipped["clv"] = err.Error()
			return nil
		}
		if err != nil {
			return err
		}
		run.CLVFit = &fit
		if fit.GammaGammaError != "" {
			run.Skipped["clv"] = "spend model: " + fit.GammaGammaError
			return nil
		}
		sc, err := s.ScoreCLV(ctx, by, opt.CLVScore)
		if err != nil {
			return err
		}
		run.CLV = &sc
		return nil
	})
	if err != nil {
		return run, err
	}
	if err = step("cohorts", func() (err error) { run.Cohorts, err = s.ComputeCohorts(ctx, by, 0, 0); return }); err != nil {
		return run, err
	}
	err = step("quality", func() (err error) { run.Quality, err = s.ComputeQuality(by, opt.Quality); return })
	return run, err
}
