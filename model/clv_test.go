package model

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/stat/distuv"
)

// cdnowCalibration is the published calibration: 1997-01-01..1997-09-30 in
// weeks.
var cdnowCalibration = CalibrationPeriod{End: Date{1997, time.September, 30}, Unit: UnitWeek}

// loadCDNOW reads testdata/cdnow/CDNOW_sample.txt into purchases per
// customer, indexed by sample_id − 1.
func loadCDNOW(t testing.TB) [][]PurchasePoint {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "cdnow", "CDNOW_sample.txt"))
	require.NoError(t, err)
	defer f.Close()
	var customers [][]PurchasePoint
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		require.Len(t, fields, 5, "line %d", line)
		id, err := strconv.Atoi(fields[1])
		require.NoError(t, err, "line %d", line)
		day, err := time.Parse("20060102", fields[2])
		require.NoError(t, err, "line %d", line)
		dollars, err := strconv.ParseFloat(fields[4], 64)
		require.NoError(t, err, "line %d", line)
		for len(customers) < id {
			customers = append(customers, nil)
		}
		customers[id-1] = append(customers[id-1], PurchasePoint{At: day, Amount: Money(math.Round(dollars * 100))})
	}
	require.NoError(t, sc.Err())
	require.Equal(t, 6919, line)
	return customers
}

func cdnowSummaries(t testing.TB) []BTYDSummary {
	t.Helper()
	customers := loadCDNOW(t)
	out := make([]BTYDSummary, 0, len(customers))
	for i, c := range customers {
		s, ok := cdnowCalibration.Summarize(c)
		require.True(t, ok, "sample_id %d has no purchase in calibration", i+1)
		out = append(out, s)
	}
	return out
}

func assertWithin(t *testing.T, want, got, rel float64, name string) {
	t.Helper()
	assert.InEpsilon(t, want, got, rel, "%s: want %g, got %g", name, want, got)
}

func TestCDNOW(t *testing.T) {
	summaries := cdnowSummaries(t)

	t.Run("summaries", func(t *testing.T) {
		require.Len(t, summaries, 2357)
		s1 := summaries[0]
		assert.Equal(t, 2, s1.Frequency)
		assert.InDelta(t, 30.43, s1.Recency, 0.005)
		assert.InDelta(t, 38.86, s1.Age, 0.005)
		assert.InDelta(t, 2235, s1.MonetaryValue, 0.5) // $22.35 (22.345 exactly)
		repeats, zero := 0, 0
		for _, s := range summaries {
			repeats += s.Frequency
			if s.Frequency == 0 {
				zero++
			}
		}
		assert.Equal(t, 2457, repeats)
		assert.Equal(t, 1411, zero)
	})

	bg, err := FitBGNBD(summaries, UnitWeek)
	require.NoError(t, err)
	t.Logf("BG/NBD: %+v", bg)
	t.Run("BG/NBD", func(t *testing.T) {
		assertWithin(t, 0.243, bg.R, 0.01, "r")
		assertWithin(t, 4.414, bg.Alpha, 0.01, "alpha")
		assertWithin(t, 0.793, bg.A, 0.01, "a")
		assertWithin(t, 2.426, bg.B, 0.01, "b")
		assert.InDelta(t, -9582.4, bg.LogLikelihood, 0.5)
		assert.Equal(t, 2357, bg.Customers)
		assert.Equal(t, UnitWeek, bg.Unit)
		ll, err := bg.LogLikelihoodOf(summaries)
		require.NoError(t, err)
		assert.InDelta(t, bg.LogLikelihood, ll, 1e-6)
	})

	t.Run("BG/NBD in days", func(t *testing.T) {
		// The same data counted in days: α scales by 7, r, a, b stay, and
		// the log-likelihood shifts by −Σx·ln 7 (the density of each
		// repeat purchase time is per day instead of per week).
		days := make([]BTYDSummary, len(summaries))
		for i, s := range summaries {
			days[i] = BTYDSummary{Frequency: s.Frequency, Recency: s.Recency * 7, Age: s.Age * 7, MonetaryValue: s.MonetaryValue}
		}
		bgDays, err := FitBGNBD(days, UnitDay)
		require.NoError(t, err)
		assert.InEpsilon(t, bg.R, bgDays.R, 1e-4)
		assert.InEpsilon(t, bg.Alpha*7, bgDays.Alpha, 1e-4)
		assert.InEpsilon(t, bg.A, bgDays.A, 1e-4)
		assert.InEpsilon(t, bg.B, bgDays.B, 1e-4)
		assert.InDelta(t, bg.LogLikelihood-2457*math.Log(7), bgDays.LogLikelihood, 1e-3)
	})

	gg, err := FitGammaGamma(summaries)
	require.NoError(t, err)
	t.Logf("Gamma-Gamma: %+v", gg)
	t.Run("Gamma-Gamma", func(t *testing.T) {
		assert.Equal(t, 946, gg.Customers)
		assertWithin(t, 6.25, gg.P, 0.01, "p")
		assertWithin(t, 3.74, gg.Q, 0.01, "q")
		assertWithin(t, 15.44, gg.Gamma/100, 0.01, "gamma")
		mean, err := gg.MeanSpend()
		require.NoError(t, err)
		assert.InDelta(t, 35.22, mean/100, 0.05)
	})

	t.Run("predictions", func(t *testing.T) {
		// Sample 1: x=2, t_x=30.43, T=38.86.
		s1 := summaries[0]
		p := bg.PAlive(s1)
		assert.Greater(t, p, 0.0)
		assert.Less(t, p, 1.0)
		e, err := bg.ExpectedPurchases(s1, 39)
		require.NoError(t, err)
		want := numericConditional(t, bg, s1, 39)
		assert.InEpsilon(t, want, e, 1e-6)
		v, err := CLV(bg, gg, s1, CLVOptions{Months: 12, MonthlyDiscountRate: MonthlyRate(0.1)})
		require.NoError(t, err)
		assert.Greater(t, v, 0.0)
		t.Logf("sample 1: P(alive)=%.4f E[Y(39)]=%.4f E[M]=%.2f CLV12=%.2f", p, e, mustSpend(t, gg, s1)/100, v/100)
	})
}

func mustSpend(t *testing.T, gg GammaGamma, s BTYDSummary) float64 {
	v, err := gg.ExpectedSpend(s)
	require.NoError(t, err)
	return v
}

// numericConditional computes E[Y(t) | x, t_x, T] and, as a side product,
// P(alive) by integrating over the posterior of the individual drop-out
// probability p, independently of the closed forms: given λ and p, a
// customer alive at T buys (1 − e^(−λpt))/p times in (T, T+t]; the λ
// integral against Gamma(r, α) is done analytically, the p integral against
// Beta(a, b) by Gauss-Legendre quadrature after substituting p = u^(1/a),
// which removes the p^(a−1) singularity.
func numericConditional(t testing.TB, m BGNBD, s BTYDSummary, horizon float64) float64 {
	e, _ := numericPosterior(m, s, horizon)
	return e
}

func numericPosterior(m BGNBD, s BTYDSummary, horizon float64) (expected, pAlive float64) {
	x := float64(s.Frequency)
	lnGammaPart := lgamma(m.R+x) - lgamma(m.R) + m.R*math.Log(m.Alpha)
	// ∫ λ^x e^(−λu) Gamma(λ; r, α) dλ = Γ(r+x)/Γ(r) α^r (α+u)^−(r+x)
	lam := func(u float64) float64 { return math.Exp(lnGammaPart - (m.R+x)*math.Log(m.Alpha+u)) }
	lnBeta := lgamma(m.A) + lgamma(m.B) - lgamma(m.A+m.B)
	// Integrand in u with p = u^(1/a): Beta density · dp = (1−p)^(b−1)/(a B(a,b)) du.
	integrand := func(g func(p float64) float64) float64 {
		return quad.Fixed(func(u float64) float64 {
			if u <= 0 {
				return 0
			}
			p := math.Pow(u, 1/m.A)
			return g(p) * math.Exp((m.B-1)*math.Log1p(-p)-lnBeta) / m.A
		}, 0, 1, 2000, nil, 0)
	}
	alive := func(p float64) float64 { return math.Pow(1-p, x) * lam(s.Age) }
	total := integrand(func(p float64) float64 {
		l := alive(p)
		if s.Frequency > 0 {
			l += p * math.Pow(1-p, x-1) * lam(s.Recency)
		}
		return l
	})
	buys := integrand(func(p float64) float64 {
		// (1−p)^x/p ∫ λ^x (e^(−λT) − e^(−λ(T+pt))) g(λ) dλ
		return math.Pow(1-p, x) / p * (lam(s.Age) - lam(s.Age+p*horizon))
	})
	return buys / total, integrand(alive) / total
}

func TestBGNBDPredictions(t *testing.T) {
	bg := BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426, Unit: UnitWeek}
	cases := []BTYDSummary{
		{Frequency: 0, Recency: 0, Age: 38.86},
		{Frequency: 2, Recency: 30.43, Age: 38.86},
		{Frequency: 1, Recency: 2, Age: 30},
		{Frequency: 7, Recency: 35, Age: 36},
		{Frequency: 26, Recency: 30.86, Age: 31},
	}
	for _, s := range cases {
		for _, horizon := range []float64{1, 10, 39, 104} {
			got, err := bg.ExpectedPurchases(s, horizon)
			require.NoError(t, err)
			want, wantAlive := numericPosterior(bg, s, horizon)
			assert.InEpsilon(t, want, got, 1e-6, "E[Y(%g)] for %+v", horizon, s)
			assert.InEpsilon(t, wantAlive, bg.PAlive(s), 1e-6, "P(alive) for %+v", s)
		}
	}

	t.Run("P(alive) is 1 without repeat purchases", func(t *testing.T) {
		for _, T := range []float64{0, 1, 39, 500} {
			assert.Equal(t, 1.0, bg.PAlive(BTYDSummary{Age: T}))
		}
	})
	t.Run("P(alive) grows with recency", func(t *testing.T) {
		prev := 0.0
		for tx := 1.0; tx <= 39; tx++ {
			p := bg.PAlive(BTYDSummary{Frequency: 3, Recency: tx, Age: 39})
			assert.Greater(t, p, prev, "t_x=%g", tx)
			prev = p
		}
	})
	t.Run("expectation grows with the horizon", func(t *testing.T) {
		s := BTYDSummary{Frequency: 4, Recency: 20, Age: 39}
		prev := 0.0
		for _, h := range []float64{0, 0.5, 1, 5, 26, 52, 260, 1040} {
			e, err := bg.ExpectedPurchases(s, h)
			require.NoError(t, err)
			if h == 0 {
				assert.Zero(t, e)
				continue
			}
			assert.Greater(t, e, prev, "t=%g", h)
			prev = e
		}
	})
	t.Run("unconditional matches the plain series", func(t *testing.T) {
		for _, h := range []float64{1, 10, 39, 78} {
			got, err := bg.ExpectedPurchasesNew(h)
			require.NoError(t, err)
			// FHL 2005 eq. 7 without the Euler transformation.
			z := h / (bg.Alpha + h)
			f, err := hyp2f1(bg.R, bg.B, bg.A+bg.B-1, z)
			require.NoError(t, err)
			want := (bg.A + bg.B - 1) / (bg.A - 1) * (1 - math.Pow(bg.Alpha/(bg.Alpha+h), bg.R)*f)
			assert.InEpsilon(t, want, got, 1e-9, "t=%g", h)
		}
	})
	t.Run("a = 1 is handled by its limit", func(t *testing.T) {
		m := bg
		m.A = 1
		s := BTYDSummary{Frequency: 2, Recency: 30.43, Age: 38.86}
		got, err := m.ExpectedPurchases(s, 39)
		require.NoError(t, err)
		want, _ := numericPosterior(m, s, 39)
		assert.InEpsilon(t, want, got, 1e-6)
	})
	t.Run("invalid input", func(t *testing.T) {
		_, err := bg.ExpectedPurchases(BTYDSummary{Frequency: 1, Recency: 5, Age: 3}, 1)
		assert.ErrorContains(t, err, "exceeds age")
		_, err = bg.ExpectedPurchases(BTYDSummary{Age: 3}, -1)
		assert.ErrorContains(t, err, "horizon")
		_, err = BGNBD{R: 1, Alpha: 1, A: -1, B: 1}.ExpectedPurchases(BTYDSummary{Age: 3}, 1)
		assert.ErrorContains(t, err, "must be positive")
		assert.True(t, math.IsNaN(BGNBD{}.PAlive(BTYDSummary{Age: 1})))
	})
}

func TestHyp2F1(t *testing.T) {
	cases := []struct {
		name       string
		a, b, c, z float64
		want       float64
	}{
		// ₂F₁(1, 1; 2; z) = −ln(1−z)/z
		{"log", 1, 1, 2, 0.5, -math.Log(0.5) / 0.5},
		{"log near 1", 1, 1, 2, 0.99, -math.Log(0.01) / 0.99},
		// ₂F₁(a, b; b; z) = (1−z)^−a
		{"binomial", 2.5, 3, 3, 0.3, math.Pow(0.7, -2.5)},
		{"negative z", 0.5, 1.5, 1.5, -0.8, math.Pow(1.8, -0.5)},
		// ₂F₁(1/2, 1/2; 3/2; z²) = arcsin(z)/z
		{"arcsin", 0.5, 0.5, 1.5, 0.81, math.Asin(0.9) / 0.9},
		// a = −2 terminates: 1 + 2·(−2)·z/... computed by hand: 1 − 2·3z/4 + (−2)(−1)·3·4 z²/(4·5·2)
		{"polynomial", -2, 3, 4, 0.5, 1 - 6.0/4*0.5 + 24.0/40*0.25},
		{"zero", 3, 4, 5, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := hyp2f1(c.a, c.b, c.c, c.z)
			require.NoError(t, err)
			assert.InEpsilon(t, c.want, got, 1e-12)
		})
	}
	for _, bad := range []struct{ a, b, c, z float64 }{
		{1, 1, 2, 1}, {1, 1, 2, -1.5}, {1, 1, 0, 0.5}, {1, 1, -3, 0.5}, {math.NaN(), 1, 2, 0.5},
	} {
		_, err := hyp2f1(bad.a, bad.b, bad.c, bad.z)
		assert.Error(t, err, "%+v", bad)
	}
	// Parameters that make the terms grow for a long time before they fall:
	// the cap turns that into an error, not a hang or a wrong number.
	_, err := hyp2f1(1, 1, 2, 0.99999999)
	assert.ErrorContains(t, err, "within")
	_, err = hyp2f1(1e6, 1e6, 1, 0.999999)
	assert.ErrorContains(t, err, "overflowed")
}

func TestSummarize(t *testing.T) {
	day := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }
	end := Date{2024, time.March, 31}
	weeks := CalibrationPeriod{End: end, Unit: UnitWeek}
	days := CalibrationPeriod{End: end, Unit: UnitDay}
	cases := []struct {
		name      string
		cal       CalibrationPeriod
		purchases []PurchasePoint
		want      BTYDSummary
		ok        bool
	}{
		{"none", days, nil, BTYDSummary{}, false},
		{"only after calibration", days, []PurchasePoint{{day(2024, 4, 1, 0), 100}}, BTYDSummary{}, false},
		{"one purchase", days, []PurchasePoint{{day(2024, 3, 1, 12), 100}}, BTYDSummary{Age: 30}, true},
		{"first on the end day", days, []PurchasePoint{{day(2024, 3, 31, 23), 100}}, BTYDSummary{}, true},
		{"same day counts once, amounts add", days, []PurchasePoint{
			{day(2024, 3, 1, 9), 100}, {day(2024, 3, 1, 18), 50},
			{day(2024, 3, 11, 9), 200}, {day(2024, 3, 11, 10), 300},
			{day(2024, 3, 21, 9), 1000},
		}, BTYDSummary{Frequency: 2, Recency: 20, Age: 30, MonetaryValue: 750}, true},
		{"unsorted, after-end ignored", weeks, []PurchasePoint{
			{day(2024, 4, 2, 0), 99999},
			{day(2024, 3, 15, 0), 300},
			{day(2024, 3, 1, 0), 100},
			{day(2024, 3, 8, 0), 200},
		}, BTYDSummary{Frequency: 2, Recency: 2, Age: 30.0 / 7, MonetaryValue: 250}, true},
		{"end day included", days, []PurchasePoint{{day(2024, 3, 1, 0), 100}, {day(2024, 3, 31, 23), 40}},
			BTYDSummary{Frequency: 1, Recency: 30, Age: 30, MonetaryValue: 40}, true},
		{"invalid unit", CalibrationPeriod{End: end}, []PurchasePoint{{day(2024, 3, 1, 0), 1}}, BTYDSummary{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := c.cal.Summarize(c.purchases)
			require.Equal(t, c.ok, ok)
			assert.Equal(t, c.want.Frequency, got.Frequency)
			assert.InDelta(t, c.want.Recency, got.Recency, 1e-12)
			assert.InDelta(t, c.want.Age, got.Age, 1e-12)
			assert.InDelta(t, c.want.MonetaryValue, got.MonetaryValue, 1e-12)
		})
	}

	t.Run("calendar day in the purchase's own zone, across DST", func(t *testing.T) {
		berlin, err := time.LoadLocation("Europe/Berlin")
		if err != nil {
			t.Skip("no tzdata")
		}
		// 23:30 in Berlin on 30 March is 21:30 UTC; DST starts on 31 March.
		p := []PurchasePoint{{time.Date(2024, 3, 25, 0, 30, 0, 0, berlin), 1}, {time.Date(2024, 3, 30, 23, 30, 0, 0, berlin), 2}}
		got, ok := days.Summarize(p)
		require.True(t, ok)
		assert.Equal(t, 1, got.Frequency)
		assert.Equal(t, 5.0, got.Recency)
		assert.Equal(t, 6.0, got.Age)
	})

	t.Run("NewCalibrationPeriod", func(t *testing.T) {
		_, err := NewCalibrationPeriod(end, UnitWeek)
		require.NoError(t, err)
		_, err = NewCalibrationPeriod(Date{}, UnitWeek)
		assert.ErrorContains(t, err, "not set")
		_, err = NewCalibrationPeriod(end, 0)
		assert.ErrorContains(t, err, "not a time unit")
		_, err = NewCalibrationPeriod(Date{2024, 13, 1}, UnitDay)
		assert.ErrorContains(t, err, "not a calendar day")
	})
}

func TestCivilDay(t *testing.T) {
	for _, d := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1600, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC), time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-44, 3, 15, 0, 0, 0, 0, time.UTC), time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC),
	} {
		assert.Equal(t, d.Unix()/86400, civilDay(d.Date()), "%s", d)
	}
}

func TestFitErrors(t *testing.T) {
	_, err := FitBGNBD(nil, UnitWeek)
	assert.ErrorIs(t, err, ErrNoCustomers)
	_, err = FitBGNBD([]BTYDSummary{{Age: 3}, {Age: 5}}, UnitWeek)
	assert.ErrorIs(t, err, ErrNoRepeatBuyers)
	_, err = FitBGNBD([]BTYDSummary{{Age: 3}}, 0)
	assert.ErrorContains(t, err, "not a time unit")
	_, err = FitBGNBD([]BTYDSummary{{Age: 3}, {Frequency: 1, Recency: math.NaN(), Age: 4}}, UnitWeek)
	assert.ErrorContains(t, err, "customer 1: recency")
	_, err = FitBGNBD([]BTYDSummary{{Frequency: -1, Age: 3}}, UnitWeek)
	assert.ErrorContains(t, err, "negative")
	_, err = FitBGNBD([]BTYDSummary{{Frequency: 1}, {Frequency: 0}}, UnitWeek)
	assert.Error(t, err)

	_, err = FitGammaGamma(nil)
	assert.ErrorIs(t, err, ErrNoCustomers)
	_, err = FitGammaGamma([]BTYDSummary{{Age: 3}, {Frequency: 2, Recency: 1, Age: 3, MonetaryValue: 0}})
	assert.ErrorIs(t, err, ErrNoRepeatBuyers)
	_, err = FitGammaGamma([]BTYDSummary{{Frequency: 2, Recency: 1, Age: 3, MonetaryValue: math.Inf(1)}})
	assert.ErrorContains(t, err, "monetary")

	// Every repeat buyer has the same mean spend: the spread between
	// customers goes to zero, q runs away, and the fit must say so rather
	// than return a number.
	same := make([]BTYDSummary, 50)
	for i := range same {
		same[i] = BTYDSummary{Frequency: 1 + i%3, Recency: 2, Age: 10, MonetaryValue: 1000}
	}
	_, err = FitGammaGamma(same)
	assert.ErrorIs(t, err, ErrFitNotConverged)

	// Nobody ever comes back twice in a long time while everybody buys
	// once more: still a valid fit or a clear error, never NaN.
	odd := []BTYDSummary{{Frequency: 1, Recency: 1, Age: 100}, {Frequency: 1, Recency: 1, Age: 100}}
	m, err := FitBGNBD(odd, UnitWeek)
	if err == nil {
		for _, v := range []float64{m.R, m.Alpha, m.A, m.B, m.LogLikelihood} {
			assert.False(t, math.IsNaN(v) || math.IsInf(v, 0))
		}
	} else {
		assert.ErrorIs(t, err, ErrFitNotConverged)
	}
}

func TestGammaGammaSpend(t *testing.T) {
	gg := GammaGamma{P: 6.25, Q: 3.74, Gamma: 1544}
	mean, err := gg.MeanSpend()
	require.NoError(t, err)
	none, err := gg.ExpectedSpend(BTYDSummary{})
	require.NoError(t, err)
	assert.InDelta(t, mean, none, 1e-9, "no repeat purchase: the population mean")
	// More purchases pull the estimate towards the customer's own mean.
	prevGap := math.Inf(1)
	for x := 1; x <= 50; x *= 2 {
		e, err := gg.ExpectedSpend(BTYDSummary{Frequency: x, Recency: 1, Age: 2, MonetaryValue: 10000})
		require.NoError(t, err)
		gap := 10000 - e
		assert.Greater(t, gap, 0.0)
		assert.Less(t, gap, prevGap)
		prevGap = gap
	}
	_, err = GammaGamma{P: 1, Q: 0.5, Gamma: 1}.MeanSpend()
	assert.ErrorContains(t, err, "q = 0.5")
	_, err = GammaGamma{P: 0.1, Q: 0.5, Gamma: 1}.ExpectedSpend(BTYDSummary{Frequency: 1, MonetaryValue: 1})
	assert.ErrorContains(t, err, "does not exist")
	_, err = GammaGamma{}.ExpectedSpend(BTYDSummary{})
	assert.ErrorContains(t, err, "must be positive")
}

func TestCLV(t *testing.T) {
	bg := BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426, Unit: UnitWeek}
	gg := GammaGamma{P: 6.25, Q: 3.74, Gamma: 1544}
	s := BTYDSummary{Frequency: 2, Recency: 30.43, Age: 38.86, MonetaryValue: 2234.5}
	spend, err := gg.ExpectedSpend(s)
	require.NoError(t, err)

	// Undiscounted, the months telescope to E[Y(horizon)] · E[M].
	v, err := CLV(bg, gg, s, CLVOptions{Months: 12})
	require.NoError(t, err)
	e, err := bg.ExpectedPurchases(s, 12*daysPerMonth/7)
	require.NoError(t, err)
	assert.InEpsilon(t, e*spend, v, 1e-12)

	// The same customer in days gives the same value.
	bgDays := bg
	bgDays.Alpha *= 7
	bgDays.Unit = UnitDay
	sDays := s
	sDays.Recency *= 7
	sDays.Age *= 7
	vDays, err := CLV(bgDays, gg, sDays, CLVOptions{Months: 12})
	require.NoError(t, err)
	assert.InEpsilon(t, v, vDays, 1e-9)

	// Discounting lowers it; a longer horizon raises it.
	disc, err := CLV(bg, gg, s, CLVOptions{Months: 12, MonthlyDiscountRate: MonthlyRate(0.10)})
	require.NoError(t, err)
	assert.Less(t, disc, v)
	assert.Greater(t, disc, v/1.10)
	long, err := CLV(bg, gg, s, CLVOptions{Months: 24})
	require.NoError(t, err)
	assert.Greater(t, long, v)
	zero, err := CLV(bg, gg, s, CLVOptions{})
	require.NoError(t, err)
	assert.Zero(t, zero)

	assert.InDelta(t, 0.10, math.Pow(1+MonthlyRate(0.10), 12)-1, 1e-12)

	_, err = CLV(bg, gg, s, CLVOptions{Months: -1})
	assert.ErrorContains(t, err, "horizon")
	_, err = CLV(bg, gg, s, CLVOptions{Months: 1, MonthlyDiscountRate: -1})
	assert.ErrorContains(t, err, "discount")
	noUnit := bg
	noUnit.Unit = 0
	_, err = CLV(noUnit, gg, s, CLVOptions{Months: 1})
	assert.ErrorContains(t, err, "time unit")
}

// simulateBTYD draws n customers from BG/NBD + Gamma-Gamma with a fixed
// seed: first purchases spread over the first 12 weeks, calibration of 39
// weeks, purchase times rounded to days as a shop would record them.
func simulateBTYD(n int, seed uint64) []BTYDSummary {
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	rng := rand.New(src)
	lambda := distuv.Gamma{Alpha: 0.25, Beta: 4.4, Src: src}
	drop := distuv.Beta{Alpha: 0.8, Beta: 2.4, Src: src}
	nu := distuv.Gamma{Alpha: 3.7, Beta: 1544, Src: src}
	const calDays = 273
	out := make([]BTYDSummary, n)
	for i := range out {
		start := rng.IntN(84)
		l, p := lambda.Rand()/7, drop.Rand() // λ per day
		v := nu.Rand()
		spend := distuv.Gamma{Alpha: 6.25, Beta: v, Src: src}
		t := float64(start)
		last, x := start, 0
		var total float64
		for {
			t += rng.ExpFloat64() / l
			if t > calDays {
				break
			}
			d := int(t)
			if d != last {
				x++
				last = d
				total += spend.Rand()
			}
			if rng.Float64() < p {
				break
			}
		}
		out[i] = BTYDSummary{Frequency: x, Recency: float64(last-start) / 7, Age: float64(calDays-start) / 7}
		if x > 0 {
			out[i].MonetaryValue = total / float64(x)
		}
	}
	return out
}

func TestFitRecoversSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("fits 20k simulated customers")
	}
	s := simulateBTYD(20000, 7)
	bg, err := FitBGNBD(s, UnitWeek)
	require.NoError(t, err)
	assert.InEpsilon(t, 0.25, bg.R, 0.15, "r")
	assert.InEpsilon(t, 4.4, bg.Alpha, 0.2, "alpha")
	assert.InEpsilon(t, 0.8, bg.A, 0.25, "a")
	assert.InEpsilon(t, 2.4, bg.B, 0.3, "b")
	gg, err := FitGammaGamma(s)
	require.NoError(t, err)
	assert.InEpsilon(t, 6.25, gg.P, 0.15, "p")
	assert.InEpsilon(t, 3.7, gg.Q, 0.15, "q")
	assert.InEpsilon(t, 1544, gg.Gamma, 0.2, "gamma")
}

func BenchmarkCLVFit100k(b *testing.B) {
	s := simulateBTYD(100000, 42)
	for b.Loop() {
		if _, err := FitBGNBD(s, UnitWeek); err != nil {
			b.Fatal(err)
		}
		if _, err := FitGammaGamma(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCLVScore100k(b *testing.B) {
	s := simulateBTYD(100000, 42)
	bg := BGNBD{R: 0.25, Alpha: 4.4, A: 0.8, B: 2.4, Unit: UnitWeek}
	gg := GammaGamma{P: 6.25, Q: 3.7, Gamma: 1544}
	opt := CLVOptions{Months: 12, MonthlyDiscountRate: MonthlyRate(0.1)}
	for b.Loop() {
		for _, c := range s {
			if _, err := CLV(bg, gg, c, opt); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkBTYDSummary100k(b *testing.B) {
	// 100k customers with 1–8 purchases each, in day order as the store
	// reads them.
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	customers := make([][]PurchasePoint, 100000)
	for i := range customers {
		n := 1 + rng.IntN(8)
		at := base.Add(time.Duration(rng.IntN(90*24)) * time.Hour)
		for range n {
			customers[i] = append(customers[i], PurchasePoint{At: at, Amount: Money(500 + rng.IntN(20000))})
			at = at.Add(time.Duration(1+rng.IntN(40*24)) * time.Hour)
		}
	}
	cal := CalibrationPeriod{End: Date{2024, time.September, 30}, Unit: UnitWeek}
	out := make([]BTYDSummary, len(customers))
	for b.Loop() {
		for i, c := range customers {
			out[i], _ = cal.Summarize(c)
		}
	}
}
