package warehouse

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/store/demo"
	"karton/tui/internal/screentest"
)

// Benchmarks of the box's loads and drawing on large demo stores:
//
//	go test -run XXX -bench . -benchtime 20x -count 5 ./tui/boxes/warehouse
//
// The 100k store is built once per benchmark (about half a minute). The
// million-customer store takes minutes and ~4 GB, so it is built only with
// KARTON_BENCH_1M=1; KARTON_BENCH_DIR keeps it between runs:
//
//	KARTON_BENCH_1M=1 KARTON_BENCH_DIR=/var/tmp go test -run XXX -bench . -benchtime 5x -count 5 -timeout 60m ./tui/boxes/warehouse
func benchSizes() []struct {
	name string
	n    int
} {
	sizes := []struct {
		name string
		n    int
	}{{"100k", 100_000}}
	if os.Getenv("KARTON_BENCH_1M") != "" {
		sizes = append(sizes, struct {
			name string
			n    int
		}{"1M", 1_000_000})
	}
	return sizes
}

// benchStore opens a demo store of n customers with RFM scores, reusing
// one from KARTON_BENCH_DIR when it exists.
func benchStore(b *testing.B, n int) *store.Store {
	b.Helper()
	dir := b.TempDir()
	if d := os.Getenv("KARTON_BENCH_DIR"); d != "" {
		dir = d
	}
	path := filepath.Join(dir, "warehouse-bench-"+strconv.Itoa(n)+".db")
	_, err := os.Stat(path)
	fresh := os.IsNotExist(err)
	s, err := store.Open(path, store.Options{Now: screentest.Now, Secret: demo.Secret(7)})
	require.NoError(b, err)
	b.Cleanup(func() { _ = s.Close() })
	if fresh {
		_, err = demo.Generate(context.Background(), s, demo.Options{Customers: n, Seed: 7, AsOf: screentest.AsOf})
		require.NoError(b, err)
		putDemoScores(b, s)
	}
	return s
}

// BenchmarkOverviewLoad is the store side of opening the box: counters,
// rollups, channels, reach counters and campaigns in one read transaction.
func BenchmarkOverviewLoad(b *testing.B) {
	for _, size := range benchSizes() {
		b.Run(size.name, func(b *testing.B) {
			s := benchStore(b, size.n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				_, err := loadOverview(s, screentest.Admin, screentest.Now())
				require.NoError(b, err)
			}
		})
	}
}

// BenchmarkOverviewDraw is laying the overview out and drawing its charts
// at 200×57, what a resize costs (View itself returns the cached string).
func BenchmarkOverviewDraw(b *testing.B) {
	s := screentest.DemoStore(b, 2000)
	bx, _ := testBox(b, s, 200, 57)
	ov := bx.views[0].(*overview)
	b.ReportAllocs()
	for b.Loop() {
		ov.redraw()
	}
}

// BenchmarkRFMLoad reads the distribution of every customer's scores.
func BenchmarkRFMLoad(b *testing.B) {
	for _, size := range benchSizes() {
		b.Run(size.name, func(b *testing.B) {
			s := benchStore(b, size.n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				require.NoError(b, s.View(screentest.Admin, func(r *store.Reader) error {
					sum, err := r.ScoreSummary(context.Background())
					require.Equal(b, int64(size.n), sum.Customers)
					return err
				}))
			}
		})
	}
}

// BenchmarkCohortsLoad builds the 24-month cohort matrix from every
// purchase.
func BenchmarkCohortsLoad(b *testing.B) {
	for _, size := range benchSizes() {
		b.Run(size.name, func(b *testing.B) {
			s := benchStore(b, size.n)
			through := model.YearMonthOf(screentest.AsOf)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				require.NoError(b, s.View(screentest.Admin, func(r *store.Reader) error {
					_, err := r.Cohorts(context.Background(), through-cohortMonths+1, through)
					return err
				}))
			}
		})
	}
}
