package store

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"karton/model"
)

// Benchmarks of the launch pipeline (targets from issue 5):
//
//	preflight of a 1M-customer audience          ≤ 5 s
//	launch to 1M recipients                      ≤ 10 s, peak RSS ≤ 300 MB
//	dispatch through the file connector          ≥ 50,000 messages/s
//	counting a segment on 1M customers           ≤ 1 s
//
// The 1M variants need KARTON_BENCH_1M=1 (building the store takes a while
// and a few GB of disk). Each benchmark reports the median of its
// iterations as a metric, so run them with a fixed count of iterations:
//
//	go test -run XXX -bench 'Launch|Preflight|Dispatch|CountAudience' -benchtime 5x ./store
//	KARTON_BENCH_1M=1 go test -run XXX -bench 1M -benchtime 5x -timeout 60m ./store
//
// KARTON_BENCH_DIR keeps the generated stores between runs (they are
// rebuilt when missing).

// benchNow is the benchmark stores' clock.
var benchNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// benchStore is a generated store with an approved email step whose
// audience is every customer.
type benchStore struct {
	path string
	step model.StepID
	dir  string // the file connector's directory
}

func bench1M(b *testing.B) {
	if os.Getenv("KARTON_BENCH_1M") == "" {
		b.Skip("set KARTON_BENCH_1M=1 to run the million-customer benchmarks")
	}
}

// benchDir is where generated stores live: KARTON_BENCH_DIR, or the
// benchmark's temporary directory.
func benchDir(b *testing.B) string {
	if d := os.Getenv("KARTON_BENCH_DIR"); d != "" {
		require.NoError(b, os.MkdirAll(d, 0o755))
		return d
	}
	return b.TempDir()
}

// leanStore builds (or finds) a store of n customers with a bulk load:
// names, an email address, a city, tags, and a consent history per
// customer — 90 % confirmed by double opt-in, 5 % pending, 5 % withdrawn.
func leanStore(b *testing.B, n int) benchStore {
	b.Helper()
	dir := benchDir(b)
	bs := benchStore{path: filepath.Join(dir, fmt.Sprintf("launch-%d.db", n)), dir: filepath.Join(dir, fmt.Sprintf("files-%d", n))}
	clock := func() time.Time { return benchNow }
	if _, err := os.Stat(bs.path); err == nil {
		s, err := Open(bs.path, Options{Now: clock})
		require.NoError(b, err)
		v, err := s.Meta("bench.step")
		require.NoError(b, err)
		require.NoError(b, s.Close())
		if id, err := strconv.ParseUint(v, 10, 64); err == nil && id > 0 {
			bs.step = model.StepID(id)
			return bs
		}
		require.NoError(b, os.Remove(bs.path))
	}
	began := time.Now()
	s, err := Open(bs.path, Options{Now: clock})
	require.NoError(b, err)
	defer s.Close()
	var purpose model.Purpose
	require.NoError(b, s.Update(admin, func(tx *Tx) error {
		purpose = model.Purpose{Name: "newsletter", Category: model.CategoryMarketing}
		if err := tx.InsertPurpose(&purpose); err != nil {
			return err
		}
		ch := model.Channel{Kind: model.KindEmail, Name: "Newsletter", CostPerContact: 1,
			Connector: model.Connector{Kind: model.ConnectorFile, Settings: map[string]string{"dir": bs.dir, "format": "csv"}}}
		if err := tx.InsertChannel(&ch); err != nil {
			return err
		}
		seg := model.Segment{Name: "Everyone"}
		if err := tx.InsertSegment(&seg); err != nil {
			return err
		}
		c := model.Campaign{Name: "Million", Start: benchNow, End: benchNow.AddDate(0, 1, 0),
			Budget:    []model.BudgetLine{{Label: "Contacts: Newsletter", Planned: model.Money(n)}},
			Creatives: []model.Creative{{Name: "Mail", Kind: model.KindEmail, Subject: "{{first_name|Hallo}}, Neues aus dem Garten", Body: "{{greeting}},\n\ndie Saison beginnt.\n\nAbmelden: {{unsubscribe_url|im Kundenkonto}}"}}}
		if err := tx.InsertCampaign(&c); err != nil {
			return err
		}
		st := model.Step{CampaignID: c.ID, Name: "Mail", ChannelID: ch.ID, PurposeID: purpose.ID, SegmentID: seg.ID, Creative: "Mail",
			ScheduledAt: benchNow, DataCategories: []model.DataCategory{model.DataContact}}
		if err := tx.InsertStep(&st); err != nil {
			return err
		}
		bs.step = st.ID
		if err := tx.TransitionCampaign(c.ID, model.ActionSubmit, ""); err != nil {
			return err
		}
		return tx.TransitionCampaign(c.ID, model.ActionApprove, "")
	}))
	bl, err := s.BeginBulkLoad(admin)
	require.NoError(b, err)
	cities := []string{"Berlin", "Hamburg", "München", "Köln", "Leipzig", "Dresden", "Bremen", "Kiel"}
	for start := 0; start < n; start += 5000 {
		require.NoError(b, bl.Update(admin, func(tx *Tx) error {
			for i := start; i < min(n, start+5000); i++ {
				c := model.Customer{
					FirstName: "Vorname" + strconv.Itoa(i%997), LastName: "Nachname" + strconv.Itoa(i), Salutation: []string{"Frau", "Herr", ""}[i%3],
					Email:   "kunde" + strconv.Itoa(i) + "@example.de",
					Address: model.Address{City: cities[i%len(cities)], PostalCode: fmt.Sprintf("%05d", 10000+i%80000), Country: "DE"},
					Tags:    []string{"newsletter"},
				}
				if err := tx.InsertCustomer(&c); err != nil {
					return err
				}
				at := benchNow.AddDate(0, 0, -1-i%300)
				events := []model.ConsentKind{model.ConsentOptIn, model.ConsentDOIConfirmed}
				switch i % 20 {
				case 7:
					events = events[:1] // pending
				case 13:
					events = append(events, model.ConsentOptOut) // withdrawn
				}
				for k, kind := range events {
					ev := model.ConsentEvent{CustomerID: c.ID, Channel: model.KindEmail, PurposeID: purpose.ID, Kind: kind, EffectiveAt: at.Add(time.Duration(k) * time.Hour), Source: "shop"}
					if err := tx.AppendConsent(&ev, nil); err != nil {
						return err
					}
				}
			}
			return nil
		}))
	}
	require.NoError(b, bl.Finish(context.Background(), nil))
	require.NoError(b, s.Update(admin, func(tx *Tx) error { return tx.SetMeta("bench.step", bs.step.String()) }))
	fi, _ := os.Stat(bs.path)
	b.Logf("built %d customers in %s (%d MB)", n, time.Since(began).Round(time.Second), fi.Size()>>20)
	return bs
}

// copyStore copies a store file, so that each iteration launches afresh.
func copyStore(b *testing.B, from, to string) {
	b.Helper()
	in, err := os.Open(from)
	require.NoError(b, err)
	defer in.Close()
	out, err := os.Create(to)
	require.NoError(b, err)
	_, err = io.Copy(out, in)
	require.NoError(b, err)
	// Written out before the clock starts, so the run's own fsyncs do not
	// wait for the copy's.
	require.NoError(b, out.Sync())
	require.NoError(b, out.Close())
}

// resetPeakRSS returns the heap to the system and restarts the kernel's
// peak RSS (VmHWM) from the current RSS, so that a measurement starts
// clean even after building a store in the same process.
func resetPeakRSS(b *testing.B) {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS (%v); the figure includes earlier work", err)
	}
}

// peakRSSMB reads VmHWM from /proc/self/status.
func peakRSSMB(b *testing.B) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// rssNow reads the process's current RSS split into heap (anonymous) and
// file pages (the store's memory map).
func rssNow() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	var parts []string
	for _, l := range strings.Split(string(b), "\n") {
		for _, k := range []string{"RssAnon:", "RssFile:"} {
			if v, ok := strings.CutPrefix(l, k); ok {
				parts = append(parts, k+" "+strings.Join(strings.Fields(v), " "))
			}
		}
	}
	return strings.Join(parts, ", ")
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func BenchmarkPreflight100k(b *testing.B) { benchPreflight(b, 100000) }
func BenchmarkPreflight1M(b *testing.B)   { bench1M(b); benchPreflight(b, 1000000) }

func benchPreflight(b *testing.B, n int) {
	bs := leanStore(b, n)
	s, err := Open(bs.path, Options{Now: func() time.Time { return benchNow }})
	require.NoError(b, err)
	defer s.Close()
	var secs []float64
	b.ResetTimer()
	for range b.N {
		began := time.Now()
		res, err := s.Preflight(context.Background(), operator, bs.step, PreflightOptions{})
		require.NoError(b, err)
		secs = append(secs, time.Since(began).Seconds())
		require.Equal(b, n, res.Audience)
	}
	b.ReportMetric(median(secs), "median-s")
}

func BenchmarkLaunch100k(b *testing.B) { benchLaunch(b, 100000) }
func BenchmarkLaunch1M(b *testing.B)   { bench1M(b); benchLaunch(b, 1000000) }

func benchLaunch(b *testing.B, n int) {
	bs := leanStore(b, n)
	work := b.TempDir()
	var secs, rss []float64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		path := filepath.Join(work, "launch.db")
		copyStore(b, bs.path, path)
		s, err := Open(path, Options{Now: func() time.Time { return benchNow }})
		require.NoError(b, err)
		resetPeakRSS(b)
		b.StartTimer()
		began := time.Now()
		res, err := s.Launch(context.Background(), operator, bs.step, LaunchOptions{})
		elapsed := time.Since(began)
		b.StopTimer()
		require.NoError(b, err)
		require.Equal(b, n, res.Audience)
		secs = append(secs, elapsed.Seconds())
		rss = append(rss, peakRSSMB(b))
		if i == 0 || os.Getenv("KARTON_BENCH_VERBOSE") != "" {
			b.Logf("%d decisions, %d messages in %s, peak RSS %.0f MB (now: %s)", res.Audience, res.Messages, elapsed.Round(time.Millisecond), rss[len(rss)-1], rssNow())
		}
		require.NoError(b, s.Close())
		require.NoError(b, os.Remove(path))
		b.StartTimer()
	}
	b.ReportMetric(median(secs), "median-s")
	b.ReportMetric(median(rss), "peakRSS-MB")
	b.ReportMetric(slices.Max(rss), "maxRSS-MB")
}

func BenchmarkDispatchFile100k(b *testing.B) { benchDispatch(b, 100000) }
func BenchmarkDispatchFile1M(b *testing.B)   { bench1M(b); benchDispatch(b, 1000000) }

func benchDispatch(b *testing.B, n int) {
	bs := leanStore(b, n)
	// A launched copy of the store is the starting point of each run.
	launched := filepath.Join(benchDir(b), fmt.Sprintf("launched-%d.db", n))
	if _, err := os.Stat(launched); err != nil {
		copyStore(b, bs.path, launched+".tmp")
		s, err := Open(launched+".tmp", Options{Now: func() time.Time { return benchNow }})
		require.NoError(b, err)
		_, err = s.Launch(context.Background(), operator, bs.step, LaunchOptions{})
		require.NoError(b, err)
		require.NoError(b, s.Close())
		require.NoError(b, os.Rename(launched+".tmp", launched))
	}
	work := b.TempDir()
	var rates []float64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		path := filepath.Join(work, "dispatch.db")
		copyStore(b, launched, path)
		require.NoError(b, os.RemoveAll(bs.dir))
		s, err := Open(path, Options{Now: func() time.Time { return benchNow.Add(time.Hour) }})
		require.NoError(b, err)
		bsz, _ := strconv.Atoi(os.Getenv("KARTON_BENCH_BATCH"))
		d, err := NewDispatcher(s, operator, DispatcherOptions{BatchSize: bsz})
		require.NoError(b, err)
		b.StartTimer()
		began := time.Now()
		rep, err := d.RunOnce(context.Background())
		require.NoError(b, err)
		require.NoError(b, d.Close())
		elapsed := time.Since(began)
		b.StopTimer()
		require.Positive(b, rep.Sent)
		rates = append(rates, float64(rep.Sent)/elapsed.Seconds())
		if os.Getenv("KARTON_BENCH_VERBOSE") != "" {
			b.Logf("%d sent in %s: %.0f/s", rep.Sent, elapsed.Round(time.Millisecond), rates[len(rates)-1])
		}
		require.NoError(b, s.Close())
		require.NoError(b, os.Remove(path))
		b.StartTimer()
	}
	b.ReportMetric(median(rates), "median-msgs/s")
}

func BenchmarkCountAudience1M(b *testing.B) {
	bench1M(b)
	benchCount(b, 1000000)
}

func BenchmarkCountAudience100k(b *testing.B) { benchCount(b, 100000) }

func benchCount(b *testing.B, n int) {
	bs := leanStore(b, n)
	s, err := Open(bs.path, Options{Now: func() time.Time { return benchNow }})
	require.NoError(b, err)
	defer s.Close()
	p, err := model.CompileSegment([]model.Condition{{Field: "tag", Op: "has", Value: "newsletter"}, {Field: "city", Op: "in", Value: "Berlin,München"}}, benchNow)
	require.NoError(b, err)
	var secs []float64
	b.ResetTimer()
	for range b.N {
		began := time.Now()
		var count int
		require.NoError(b, s.View(admin, func(r *Reader) error {
			count, err = r.CountAudience(p)
			return err
		}))
		secs = append(secs, time.Since(began).Seconds())
		require.Equal(b, n/4, count)
	}
	b.ReportMetric(median(secs), "median-s")
}
