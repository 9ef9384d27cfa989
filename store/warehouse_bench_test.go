package store

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"karton/model"
)

// Warehouse benchmarks:
//
//	go test -run XXX -bench 'Dashboard|CLVFit|RFM' -benchtime 1x -count 5 ./store
//
// and the measurements on a store with 10M interactions and 1M customers
// (targets: dashboards ≤ 50 ms, RFM for 1M customers ≤ 3 s), which build
// a 5 GB store first, so they run only when asked (the store is kept in
// $KARTON_BENCH_DIR between runs when that is set):
//
//	KARTON_BENCH_1M=1 go test -run Warehouse10M -v -timeout 60m ./store

// activityPlan says how big a synthetic store is.
type activityPlan struct {
	customers       int
	perCustomer     int // interactions per customer
	purchaseRate    float64
	days            int
	campaigns       int
	lifetimeSpread  bool // BTYD-like purchase histories (for CLV)
	purchasesPerCap int
}

// buildActivityStore fills s through a bulk load with customers, their
// interactions over the last plan.days days on eight channels and
// plan.campaigns campaigns, and purchases.
func buildActivityStore(tb testing.TB, s *Store, plan activityPlan) {
	tb.Helper()
	now := s.now()
	var channels []model.Channel
	var campaigns []model.Campaign
	require.NoError(tb, s.Update(admin, func(tx *Tx) error {
		for _, p := range []model.Purpose{
			{Name: "newsletter", Category: model.CategoryMarketing, OwnSimilarProducts: true},
			{Name: "offers", Category: model.CategoryMarketing},
			{Name: "service", Category: model.CategoryService},
			{Name: "profiling", Category: model.CategoryProfiling},
		} {
			if err := tx.InsertPurpose(&p); err != nil {
				return err
			}
		}
		for i, k := range model.ChannelKinds {
			ch := model.Channel{Name: fmt.Sprint("Kanal ", i), Kind: k, Connector: model.Connector{Kind: model.ConnectorDry}, CostPerContact: model.Money(5 + 10*i), Currency: "EUR", Status: model.ChannelActive}
			if err := tx.InsertChannel(&ch); err != nil {
				return err
			}
			channels = append(channels, ch)
		}
		for i := 0; i < plan.campaigns; i++ {
			start := now.AddDate(0, 0, -plan.days+i*plan.days/max(1, plan.campaigns))
			c := model.Campaign{Name: fmt.Sprint("Kampagne ", i), Owner: "ada", Start: start, End: start.AddDate(0, 0, 30), Currency: "EUR"}
			if err := tx.InsertCampaign(&c); err != nil {
				return err
			}
			campaigns = append(campaigns, c)
		}
		return nil
	}))
	kinds := []struct {
		k model.InteractionKind
		w int
	}{{model.InteractionSent, 40}, {model.InteractionDelivered, 30}, {model.InteractionOpened, 14}, {model.InteractionClicked, 5},
		{model.InteractionVisit, 6}, {model.InteractionReplied, 1}, {model.InteractionConverted, 1}, {model.InteractionBounced, 2}, {model.InteractionUnsubscribed, 1}}
	pickKind := func(r *rand.Rand) model.InteractionKind {
		n := r.IntN(100)
		for _, k := range kinds {
			if n < k.w {
				return k.k
			}
			n -= k.w
		}
		return model.InteractionSent
	}
	bl, err := s.BeginBulkLoad(admin)
	require.NoError(tb, err)
	r := rand.New(rand.NewPCG(1, 2))
	span := time.Duration(plan.days) * 24 * time.Hour
	order := 0
	for lo := 0; lo < plan.customers; lo += 1000 {
		hi := min(lo+1000, plan.customers)
		require.NoError(tb, bl.Update(admin, func(tx *Tx) error {
			for i := lo; i < hi; i++ {
				c := model.Customer{FirstName: "Kim", LastName: fmt.Sprint("Kunde", i), Email: fmt.Sprintf("k%d@example.de", i),
					Address: model.Address{Street: "Weg 1", PostalCode: fmt.Sprintf("%05d", 10000+i%80000), City: "Berlin", Country: "DE"}}
				if err := tx.InsertCustomer(&c); err != nil {
					return err
				}
				ats := make([]time.Time, plan.perCustomer)
				for j := range ats {
					ats[j] = now.Add(-time.Duration(r.Int64N(int64(span))))
				}
				slices.SortFunc(ats, func(a, b time.Time) int { return a.Compare(b) })
				for _, at := range ats {
					ch := channels[r.IntN(len(channels))]
					in := model.Interaction{CustomerID: c.ID, Kind: pickKind(r), Channel: ch.Kind, ChannelID: ch.ID, At: at}
					if in.Kind == model.InteractionSent {
						in.Value = ch.CostPerContact
					}
					if len(campaigns) > 0 && r.IntN(10) < 7 {
						j := sort.Search(len(campaigns), func(j int) bool { return campaigns[j].Start.After(at) }) - 1
						if j >= 0 && at.Before(campaigns[j].End) {
							in.CampaignID = campaigns[j].ID
						}
					}
					if err := tx.AddInteraction(&in); err != nil {
						return err
					}
				}
				var buys []time.Time
				mean := 2000 + r.ExpFloat64()*4000 // the customer's own mean spend, in cents
				switch {
				case plan.lifetimeSpread:
					// Buy till you die, as BG/NBD assumes: a first purchase,
					// then purchases at the customer's own rate (exponential
					// across customers), after each a chance to drop out
					// (Beta(1, 3) across customers).
					at := now.Add(-span + time.Duration(r.Int64N(int64(span/3))))
					rate := r.ExpFloat64() * 0.01 // purchases a day
					drop := 1 - math.Pow(r.Float64(), 1.0/3)
					for at.Before(now) && len(buys) < plan.purchasesPerCap {
						buys = append(buys, at)
						if r.Float64() < drop || rate == 0 {
							break
						}
						at = at.Add(time.Duration(r.ExpFloat64() / rate * float64(24*time.Hour)))
					}
				case r.Float64() < plan.purchaseRate:
					buys = append(buys, now.Add(-time.Duration(r.Int64N(int64(span)))))
				}
				for _, at := range buys {
					order++
					if err := tx.AddPurchase(&model.Purchase{CustomerID: c.ID, OrderID: fmt.Sprint(order), Source: "shop", At: at,
						Amount: model.Money(mean * (0.5 + r.Float64()))}); err != nil {
						return err
					}
				}
			}
			return nil
		}))
	}
	require.NoError(tb, bl.Finish(context.Background(), nil))
}

func openBench(tb testing.TB, dir string) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(dir, "warehouse.db"), Options{Now: func() time.Time { return testNow }})
	require.NoError(tb, err)
	return s
}

// BenchmarkDashboard reads the Warehouse box's figures (90 days) from a
// store with 100,000 interactions after an analytics run.
func BenchmarkDashboard(b *testing.B) {
	s := openBench(b, b.TempDir())
	defer s.Close()
	buildActivityStore(b, s, activityPlan{customers: 20000, perCustomer: 5, purchaseRate: 0.6, days: 730, campaigns: 60})
	_, err := s.RunAnalytics(context.Background(), admin, AnalyticsOptions{})
	require.NoError(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		require.NoError(b, s.View(admin, func(r *Reader) error {
			_, err := r.Dashboard(testNow.AddDate(0, 0, -90), testNow)
			return err
		}))
	}
}

// BenchmarkCLVFit100k fits BG/NBD and Gamma-Gamma on 100,000 customers
// with purchase histories (target ≤ 5 s).
func BenchmarkCLVFit100k(b *testing.B) {
	s := openBench(b, b.TempDir())
	defer s.Close()
	buildActivityStore(b, s, activityPlan{customers: 100000, perCustomer: 0, days: 730, lifetimeSpread: true, purchasesPerCap: 40})
	st, err := s.Stats()
	require.NoError(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fit, err := s.FitCLV(context.Background(), admin, CLVFitOptions{})
		require.NoError(b, err)
		require.Equal(b, 100000, fit.Customers)
		if i == 0 {
			b.Logf("%d purchases; r=%.3f α=%.2f a=%.3f b=%.3f, p=%.2f q=%.2f γ=%.2f (%d repeat buyers)",
				st.Purchases, fit.R, fit.Alpha, fit.A, fit.B, fit.P, fit.Q, fit.Gamma, fit.RepeatBuyers)
		}
	}
}

// BenchmarkRFM100k scores 100,000 customers.
func BenchmarkRFM100k(b *testing.B) {
	s := openBench(b, b.TempDir())
	defer s.Close()
	buildActivityStore(b, s, activityPlan{customers: 100000, days: 730, purchaseRate: 0.7})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := s.ScoreRFM(context.Background(), admin, time.Time{})
		require.NoError(b, err)
	}
}

// TestWarehouse10M measures the dashboards on 10M interactions and the
// RFM scoring of 1M customers (see the top of the file). It asserts
// nothing about time; the figures are for the report.
func TestWarehouse10M(t *testing.T) {
	if os.Getenv("KARTON_BENCH_1M") == "" {
		t.Skip("set KARTON_BENCH_1M=1 to build a store with 10M interactions")
	}
	dir := t.TempDir()
	if d := os.Getenv("KARTON_BENCH_DIR"); d != "" {
		dir = d
	}
	_, statErr := os.Stat(filepath.Join(dir, "warehouse.db"))
	s := openBench(t, dir)
	defer s.Close()
	if statErr != nil {
		began := time.Now()
		buildActivityStore(t, s, activityPlan{customers: 1000000, perCustomer: 10, purchaseRate: 0.8, days: 730, campaigns: 120})
		t.Logf("built the store in %.0f s", time.Since(began).Seconds())
	}
	st, err := s.Stats()
	require.NoError(t, err)
	t.Logf("store: %d customers, %d interactions, %d purchases, %.1f GB", st.Customers, st.Interactions, st.Purchases, float64(st.FileBytes)/1e9)
	measure := func(name string, runs int, fn func()) {
		var ds []time.Duration
		for i := 0; i < runs; i++ {
			began := time.Now()
			fn()
			ds = append(ds, time.Since(began))
		}
		slices.Sort(ds)
		t.Logf("%-28s median %8.1f ms of %d runs (min %.1f, max %.1f)", name, float64(ds[len(ds)/2].Microseconds())/1000, runs,
			float64(ds[0].Microseconds())/1000, float64(ds[len(ds)-1].Microseconds())/1000)
	}
	measure("attribution run", 1, func() {
		_, err := s.RunAttribution(context.Background(), admin, AttributionOptions{})
		require.NoError(t, err)
	})
	measure("RFM 1M customers", 5, func() {
		_, err := s.ScoreRFM(context.Background(), admin, time.Time{})
		require.NoError(t, err)
	})
	measure("quality report", 1, func() {
		_, err := s.ComputeQuality(admin, model.QualityOptions{})
		require.NoError(t, err)
	})
	measure("cohorts", 1, func() {
		_, err := s.ComputeCohorts(context.Background(), admin, 0, 0)
		require.NoError(t, err)
	})
	for _, days := range []int{30, 90, 730} {
		measure(fmt.Sprintf("dashboard, %d days", days), 21, func() {
			require.NoError(t, s.View(admin, func(r *Reader) error {
				_, err := r.Dashboard(testNow.AddDate(0, 0, -days), testNow)
				return err
			}))
		})
	}
	var rows int
	require.NoError(t, s.View(admin, func(r *Reader) error {
		return r.InteractionRollups(0, DayOf(testNow), func(InteractionRollup) error { rows++; return nil })
	}))
	t.Logf("interaction rollup rows: %d", rows)
}
