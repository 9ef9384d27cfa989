package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"karton/model"
	"karton/store"
	"karton/store/demo"
)

// demoMeta is the store metadata key that marks a demo store and records
// how it was generated ("seed=7 customers=2000 as_of=2026-11-22").
const demoMeta = "demo"

func demoCmd(fs *flag.FlagSet) runFunc {
	customers := fs.Int("customers", demo.DefaultCustomers, "number of customers to generate")
	seed := fs.Uint64("seed", 1, "random seed: the same seed, size and --as-of give identical data")
	asOf := fs.String("as-of", "", "the demo's \"today\" as YYYY-MM-DD (default: today, UTC)")
	noTUI := fs.Bool("no-tui", false, "build the store and print the report, without opening the cockpit")
	force := fs.Bool("force", false, "replace the file even if it is not a demo store or was generated differently")
	return func(e *env, args []string) error {
		if *customers < 1 || *customers > 10_000_000 {
			return usagef("--customers %d: must be between 1 and 10000000", *customers)
		}
		now := time.Now().UTC()
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		if *asOf != "" {
			d, err := time.Parse("2006-01-02", *asOf)
			if err != nil {
				return usagef("--as-of %q: want a date like 2026-03-15", *asOf)
			}
			if d.After(day) {
				return usagef("--as-of %s: must not be in the future (the store's clock would run behind the data)", *asOf)
			}
			day = d
		}
		path := e.dbPath
		if path == "" {
			path = defaultDBPath("demo.db")
		}
		want := fmt.Sprintf("seed=%d customers=%d as_of=%s", *seed, *customers, day.Format("2006-01-02"))

		reuse, err := prepareDemoFile(path, want, *force)
		if err != nil {
			return err
		}
		if reuse {
			fmt.Fprintf(e.stderr, "Using the demo store %s (%s); --force regenerates it.\n", path, want)
		} else if err := generateDemo(e, path, *seed, *customers, day, want); err != nil {
			return err
		}
		if *noTUI {
			return nil
		}
		e.dbPath = path
		return runCockpit(e, nil)
	}
}

// prepareDemoFile decides what to do with an existing file: reuse a demo
// store generated the same way, replace a demo store generated
// differently, and refuse to replace anything else without --force.
func prepareDemoFile(path, want string, force bool) (reuse bool, err error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	st, err := store.Open(path, store.Options{})
	if err != nil {
		if !force {
			return false, fmt.Errorf("%s exists and cannot be opened as a Karton store (%v); choose another --db or pass --force to replace it", path, err)
		}
		if errors.Is(err, store.ErrInUse) {
			return false, err
		}
		return false, removeStoreFile(path)
	}
	had, merr := st.Meta(demoMeta)
	stats, serr := st.Stats()
	pending, perr := st.BulkLoadPending()
	st.Close()
	if err := errors.Join(merr, serr, perr); err != nil {
		return false, err
	}
	switch {
	case had == want && !force && !pending:
		return true, nil
	case had == "" && stats.Customers > 0 && !force:
		return false, fmt.Errorf("%s holds %d customers and is not a demo store; refusing to replace it (choose another --db, or pass --force)", path, stats.Customers)
	}
	return false, removeStoreFile(path)
}

func removeStoreFile(path string) error {
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}

func generateDemo(e *env, path string, seed uint64, customers int, day time.Time, want string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := store.Open(path, store.Options{Now: func() time.Time { return day }, Secret: demo.Secret(seed)})
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(e.stderr, "Generating demo data into %s (%s)…\n", path, want)
	last := ""
	live := isTerminalWriter(e.stderr)
	rep, err := demo.Generate(ctx, st, demo.Options{Customers: customers, Seed: seed, AsOf: day, Progress: func(p demo.Progress) {
		line := p.Phase
		if p.Total > 0 {
			line = fmt.Sprintf("%s %d/%d (%d%%)", p.Phase, p.Done, p.Total, p.Done*100/p.Total)
		}
		switch {
		case live && line != last:
			fmt.Fprintf(e.stderr, "\r  %-60s", line)
		case !live && p.Total > 0 && p.Done == p.Total:
			fmt.Fprintf(e.stderr, "  %s\n", line)
		}
		last = line
	}})
	if live {
		fmt.Fprintln(e.stderr)
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("demo generation interrupted; %s is incomplete — run `karton demo --force` to start again", path)
		}
		return err
	}
	system := model.Actor{Name: "karton", Role: model.RoleAdmin, Via: "system"}
	// The warehouse's figures (attribution, RFM segments, CLV, cohorts,
	// quality) are computed as an operator would after an import, so that
	// every box of a fresh demo shows numbers, not "run analytics first".
	fmt.Fprintf(e.stderr, "  analysing: attribution, RFM, CLV, cohorts, data quality…\n")
	if _, err := st.RunAnalytics(ctx, system, store.AnalyticsOptions{}); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("demo analysis interrupted; %s is incomplete — run `karton demo --force` to start again", path)
		}
		return fmt.Errorf("demo analysis: %w", err)
	}
	if err := st.Update(system, func(tx *store.Tx) error { return tx.SetMeta(demoMeta, want) }); err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "Demo store %s\n", path)
	for _, row := range []struct {
		label string
		n     int
	}{
		{"customers", rep.Customers}, {"channels", rep.Channels}, {"purposes", rep.Purposes},
		{"campaigns", rep.Campaigns}, {"steps", rep.Steps}, {"segments", rep.Segments}, {"users", rep.Users},
		{"consent events", rep.ConsentEvents}, {"interactions", rep.Interactions}, {"purchases", rep.Purchases},
	} {
		fmt.Fprintf(w, "  %-15s %12s\n", row.label, strconv.Itoa(row.n))
	}
	fmt.Fprintf(w, "  generated in %s\n", rep.Elapsed.Round(time.Millisecond))
	return nil
}
