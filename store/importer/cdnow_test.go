package importer

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
)

// CDNOWOptions are the options of the README's command
//
//	karton import purchases CDNOW_sample.txt --source cdnow --no-header \
//	    --map 2=customer_id --map 3=at --map 5=amount --create-missing
//
// (fields separated by runs of spaces, detected: master id, sample id,
// date as YYYYMMDD, number of CDs, dollar value).
func cdnowOptions() Options {
	no := false
	return Options{Entity: store.ImportPurchases, Source: "cdnow", Header: &no, CreateMissing: true,
		Map: []MapSpec{{Column: "2", Field: "customer_id"}, {Column: "3", Field: "at"}, {Column: "5", Field: "amount", Hint: HintEnglish}}}
}

// TestCDNOWReproducesThePublishedFit imports the CDNOW sample and fits
// BG/NBD and Gamma-Gamma with the calibration period of Fader, Hardie &
// Lee (2005): 1997-01-01..1997-09-30, in weeks. The published values:
// r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4; p = 6.25,
// q = 3.74, γ = 15.44 (testdata/cdnow/README.md).
func TestCDNOWReproducesThePublishedFit(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "cdnow.db"), store.Options{Now: func() time.Time { return testNow }})
	require.NoError(t, err)
	defer st.Close()
	src, err := FileSource(filepath.Join("..", "..", "testdata", "cdnow", "CDNOW_sample.txt"))
	require.NoError(t, err)
	b, err := Run(context.Background(), st, admin, src, cdnowOptions())
	require.NoError(t, err)
	assert.Equal(t, 6919, b.Read)
	assert.Equal(t, 6919, b.Created, "%v", b.Rejections)
	assert.Equal(t, 2357, b.CustomersCreated)
	assert.Zero(t, b.Rejected)

	fit, err := st.FitCLV(context.Background(), admin, store.CLVFitOptions{CalibrationEnd: model.Date{Year: 1997, Month: 9, Day: 30}, Unit: model.UnitWeek})
	require.NoError(t, err)
	t.Logf("r=%.4f alpha=%.4f a=%.4f b=%.4f LL=%.2f; p=%.3f q=%.3f gamma=%.3f E[M]=%.2f",
		fit.R, fit.Alpha, fit.A, fit.B, fit.LogLikelihood, fit.P, fit.Q, fit.Gamma, fit.MeanSpend)
	assert.Equal(t, 2357, fit.Customers)
	assert.Equal(t, 946, fit.RepeatBuyers)
	assert.Equal(t, 2457, fit.RepeatPurchases)
	within := func(name string, want, got float64) {
		t.Helper()
		assert.InEpsilon(t, want, got, 0.01, "%s = %.4f, published %.4f", name, got, want)
	}
	within("r", 0.243, fit.R)
	within("alpha", 4.414, fit.Alpha)
	within("a", 0.793, fit.A)
	within("b", 2.426, fit.B)
	assert.InDelta(t, -9582.4, fit.LogLikelihood, 0.5)
	within("p", 6.25, fit.P)
	within("q", 3.74, fit.Q)
	within("gamma", 15.44, fit.Gamma)
	within("E[M]", 35.22, fit.MeanSpend)

	// Importing the same log again changes nothing.
	again, err := Run(context.Background(), st, admin, src, cdnowOptions())
	require.NoError(t, err)
	assert.Zero(t, again.Created)
	assert.Zero(t, again.CustomersCreated)
	assert.Equal(t, 6919, again.Unchanged)

	sum, err := st.ScoreCLV(context.Background(), admin, store.CLVScoreOptions{AsOf: model.Date{Year: 1997, Month: 9, Day: 30}})
	require.NoError(t, err)
	assert.Equal(t, 2357, sum.Scored)
	assert.Greater(t, sum.Mean, model.Money(0))
	require.NoError(t, st.View(admin, func(r *store.Reader) error {
		c, err := r.CustomerBySource("cdnow", "0001")
		require.NoError(t, err)
		sc, ok, err := r.Scores(c.ID)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Greater(t, sc.PAlive, 0.0)
		assert.LessOrEqual(t, sc.PAlive, 1.0)
		assert.Greater(t, sc.CLV, model.Money(0))
		return nil
	}))
}
