package demo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"karton/store"
)

// Run with: go test -run XXX -bench Generate100k -benchtime 1x -count 5 ./store/demo
// Target: 100k customers in at most 15 s.
func BenchmarkGenerate100k(b *testing.B) { benchGenerate(b, 100000) }

// BenchmarkGenerate10k is the default size of `karton demo`.
func BenchmarkGenerate10k(b *testing.B) { benchGenerate(b, 10000) }

func benchGenerate(b *testing.B, n int) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := store.Open(filepath.Join(b.TempDir(), "demo.db"), store.Options{Now: func() time.Time { return testAsOf }, Secret: Secret(1)})
		require.NoError(b, err)
		b.StartTimer()
		_, err = Generate(context.Background(), s, Options{Customers: n, Seed: 1, AsOf: testAsOf})
		b.StopTimer()
		require.NoError(b, err)
		require.NoError(b, s.Close())
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "customers/s")
}

// TestGenerate1M measures a million customers (target: at most 150 s and
// 1 GiB peak RSS). It takes over a minute and ~4 GB of disk, so it runs
// only when asked:
//
//	KARTON_BENCH_1M=1 go test -run Generate1M -v -timeout 30m ./store/demo
//
// It reports and asserts nothing about time (no timed assertions in unit
// tests); the figures are for the report.
func TestGenerate1M(t *testing.T) {
	if os.Getenv("KARTON_BENCH_1M") == "" {
		t.Skip("set KARTON_BENCH_1M=1 to generate a million customers")
	}
	dir := t.TempDir()
	if d := os.Getenv("KARTON_BENCH_DIR"); d != "" {
		dir = d
	}
	s, err := store.Open(filepath.Join(dir, "demo-1m.db"), store.Options{Now: func() time.Time { return testAsOf }, Secret: Secret(1)})
	require.NoError(t, err)
	defer s.Close()
	phaseStart, phase := time.Now(), ""
	rep, err := Generate(context.Background(), s, Options{Customers: 1000000, Seed: 1, AsOf: testAsOf, Progress: func(p Progress) {
		if p.Phase != phase {
			if phase != "" {
				t.Logf("phase %-9s %6.1f s", phase, time.Since(phaseStart).Seconds())
			}
			phase, phaseStart = p.Phase, time.Now()
		}
	}})
	require.NoError(t, err)
	t.Logf("phase %-9s %6.1f s", phase, time.Since(phaseStart).Seconds())
	st, err := s.Stats()
	require.NoError(t, err)
	t.Logf("report %+v", rep)
	t.Logf("elapsed %.1f s, peak RSS %s, file %.2f GB", rep.Elapsed.Seconds(), peakRSS(), float64(st.FileBytes)/1e9)
}

// peakRSS reads the process's peak resident set (VmHWM) on Linux.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "unknown"
}
