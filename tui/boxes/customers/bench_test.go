package customers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"karton/store"
	"karton/store/demo"
	"karton/tui"
	"karton/tui/boxes/customers"
	"karton/tui/common"
	"karton/tui/internal/screentest"
	"karton/tui/keys"
	"karton/tui/theme"
)

// The benchmarks run on a demo store of 100,000 customers, or of 1,000,000
// with KARTON_BENCH_1M=1 (building it takes about 85 s). Set
// KARTON_BENCH_STORE to a file path to keep the store between runs: it is
// built there when missing and reused when present.
//
//	go test ./tui/boxes/customers -run '^$' -bench . -count 5
//	KARTON_BENCH_1M=1 KARTON_BENCH_STORE=/tmp/karton-1m.db go test ./tui/boxes/customers -run '^$' -bench . -count 5 -timeout 30m

var (
	benchOnce  sync.Once
	benchStore *store.Store
	benchErr   error
)

func benchSize() int {
	if os.Getenv("KARTON_BENCH_1M") == "1" {
		return 1_000_000
	}
	return 100_000
}

func openBenchStore(b *testing.B) *store.Store {
	b.Helper()
	benchOnce.Do(func() {
		path := os.Getenv("KARTON_BENCH_STORE")
		if path == "" {
			dir, err := os.MkdirTemp("", "karton-bench")
			if err != nil {
				benchErr = err
				return
			}
			path = filepath.Join(dir, "bench.db")
		}
		_, statErr := os.Stat(path)
		s, err := store.Open(path, store.Options{Now: screentest.Now, Secret: demo.Secret(7)})
		if err != nil {
			benchErr = err
			return
		}
		if statErr != nil {
			start := time.Now()
			if _, err := demo.Generate(context.Background(), s, demo.Options{Customers: benchSize(), Seed: 7, AsOf: screentest.AsOf}); err != nil {
				benchErr = err
				return
			}
			fmt.Fprintf(os.Stderr, "built a demo store of %d customers in %s at %s\n", benchSize(), time.Since(start).Round(time.Second), path)
		}
		benchStore = s
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchStore
}

func benchContext(s *store.Store) *common.Context {
	return &common.Context{
		Ctx: context.Background(), Store: s, Actor: screentest.Admin,
		Theme: theme.New(true), Keys: keys.New(), Now: screentest.Now,
	}
}

// settle runs a command and everything it sets off synchronously, feeding
// each message to update. Spinner ticks, cursor blinks and timers are not
// followed.
func settle(update func(tea.Msg) tea.Cmd, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	if fn := runtime.FuncForPC(reflect.ValueOf(cmd).Pointer()); fn != nil &&
		(strings.Contains(fn.Name(), "/cursor.") || strings.Contains(fn.Name(), "bubbletea/v2.Tick")) {
		return
	}
	msg := cmd()
	switch m := msg.(type) {
	case nil, tea.QuitMsg:
		return
	case tea.BatchMsg:
		for _, c := range m {
			settle(update, c)
		}
		return
	}
	if strings.HasPrefix(fmt.Sprintf("%T", msg), "spinner.") {
		return
	}
	settle(update, update(msg))
}

// percentile returns the q-quantile of durations in milliseconds.
func percentile(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := min(int(q*float64(len(s))), len(s)-1)
	return float64(s[i]) / float64(time.Millisecond)
}

// pressCycle is what the user does in the table: mostly single steps,
// some half and full pages, now and then a jump to an end.
var pressCycle = []string{
	"j", "j", "j", "j", "j", "j", "j", "j", "ctrl+d", "j", "j", "pgdown", "j", "k", "j", "j", "ctrl+d", "j",
	"pgdown", "pgdown", "j", "k", "k", "j", "ctrl+u", "j", "j", "pgdown", "j", "j",
}

// BenchmarkTableKeyPress times one key press in the customer table:
// Update and the View drawn after it, at 120×40. The rows a press asks for
// are read outside the timer, as the program would in a command, and the
// reply is applied and drawn as a frame of its own (reported as reply-p99).
func BenchmarkTableKeyPress(b *testing.B) {
	s := openBenchStore(b)
	box := customers.New(benchContext(s))
	box.SetSize(120, 37)
	settle(box.Update, box.Init())
	presses := make([]time.Duration, 0, b.N)
	var replies []time.Duration
	replyFrame := func(msg tea.Msg) tea.Cmd {
		t0 := time.Now()
		cmd := box.Update(msg)
		_ = box.View()
		replies = append(replies, time.Since(t0))
		return cmd
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := pressCycle[i%len(pressCycle)]
		if i%500 == 499 {
			k = "G"
		} else if i%500 == 249 {
			k = "g"
		}
		msg := screentest.KeyPress(k)
		t0 := time.Now()
		cmd := box.Update(msg)
		_ = box.View()
		presses = append(presses, time.Since(t0))
		b.StopTimer()
		settle(replyFrame, cmd)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(percentile(presses, 0.50), "p50-ms")
	b.ReportMetric(percentile(presses, 0.99), "p99-ms")
	b.ReportMetric(percentile(replies, 0.99), "reply-p99-ms")
}

// BenchmarkOpen360 times opening the 360° view from the table: the enter
// press, every read it sets off (customer, consent decisions for every
// channel × purpose, history, the first pages of timeline and purchases)
// and the first full frame.
func BenchmarkOpen360(b *testing.B) {
	s := openBenchStore(b)
	box := customers.New(benchContext(s))
	box.SetSize(120, 37)
	settle(box.Update, box.Init())
	enter, esc, down := screentest.KeyPress("enter"), screentest.KeyPress("esc"), screentest.KeyPress("ctrl+d")
	times := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		settle(box.Update, box.Update(enter))
		_ = box.View()
		times = append(times, time.Since(t0))
		b.StopTimer()
		settle(box.Update, box.Update(esc))
		settle(box.Update, box.Update(down)) // another customer next time
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(percentile(times, 0.50), "p50-ms")
	b.ReportMetric(percentile(times, 0.99), "p99-ms")
}

// BenchmarkCockpitStart times the cockpit from New to its first full
// frame at 120×40: the App with its boxes and the View that shows the first
// box with its data (the channels with their reach) and the status bar's
// counts. Commands run concurrently, as Bubble Tea runs them; loads the
// first frame does not show (segment sizes, consent coverage, other boxes)
// go on in the background and are waited for untimed before the next round.
func BenchmarkCockpitStart(b *testing.B) {
	s := openBenchStore(b)
	var heap uint64
	var first string
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		a := tui.New(s, screentest.Admin, tui.Options{Now: screentest.Now, NoFeed: true, Environ: []string{}, StoreLabel: "bench.db"})
		r := newAsyncRunner()
		update := func(msg tea.Msg) {
			_, cmd := a.Update(msg)
			r.run(cmd)
		}
		update(tea.WindowSizeMsg{Width: 120, Height: 40})
		r.run(a.Init())
		shown := false
		for !shown {
			msg, ok := r.next()
			if !ok {
				b.Fatalf("the loads ended without a full first frame:\n%s", a.View().Content)
			}
			update(msg)
			v := a.View().Content
			shown = strings.Contains(v, "Newsletter") && strings.Contains(v, "reach") && strings.Contains(v, "customers ·")
			if shown && first == "" {
				first = v
			}
		}
		b.StopTimer()
		for { // the background loads, untimed
			msg, ok := r.next()
			if !ok {
				break
			}
			update(msg)
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heap = max(heap, ms.HeapAlloc)
		a.Close()
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
	if testing.Verbose() {
		b.Logf("first full frame:\n%s", first)
	}
}

// asyncRunner runs commands in goroutines, as Bubble Tea does, and hands
// their messages back one at a time. Like settle, it does not follow spinner
// ticks, cursor blinks and timers.
type asyncRunner struct {
	msgs    chan tea.Msg
	pending int
}

func newAsyncRunner() *asyncRunner { return &asyncRunner{msgs: make(chan tea.Msg, 256)} }

func (r *asyncRunner) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	if fn := runtime.FuncForPC(reflect.ValueOf(cmd).Pointer()); fn != nil &&
		(strings.Contains(fn.Name(), "/cursor.") || strings.Contains(fn.Name(), "bubbletea/v2.Tick")) {
		return
	}
	r.pending++
	go func() { r.msgs <- cmd() }()
}

// next returns the next message worth an Update; ok is false when no
// command is left running.
func (r *asyncRunner) next() (tea.Msg, bool) {
	for r.pending > 0 {
		msg := <-r.msgs
		r.pending--
		switch m := msg.(type) {
		case nil, tea.QuitMsg:
			continue
		case tea.BatchMsg:
			for _, c := range m {
				r.run(c)
			}
			continue
		}
		if strings.HasPrefix(fmt.Sprintf("%T", msg), "spinner.") {
			continue
		}
		return msg, true
	}
	return nil, false
}
