package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"

	"karton/tui"
)

// cockpitCommand runs when karton is called without a command.
func cockpitCommand() *command {
	return &command{path: "", summary: "open the cockpit", setup: noFlags(runCockpit)}
}

// runCockpit opens the store and runs the cockpit on this terminal. Without
// a terminal (a pipe, a cron job) it prints the counts instead and says so.
func runCockpit(e *env, args []string) error {
	st, err := e.open()
	if err != nil {
		return err
	}
	if !isTerminal(e) {
		s, err := st.Stats()
		if err != nil {
			return err
		}
		printStats(e, s)
		fmt.Fprintln(e.stderr, "\nThe cockpit needs a terminal; run `karton` in one (or `karton help` for the commands).")
		return nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	app := tui.New(st, e.actor, tui.Options{Ctx: ctx})
	defer app.Close()
	p := tea.NewProgram(app, tea.WithContext(ctx))

	// The outbox is sent in the background while the cockpit is open; the
	// status bar shows it as a task. It stops with the program, after the
	// batch in flight, before the store is closed.
	workCtx, stopWork := context.WithCancel(ctx)
	worked := make(chan error, 1)
	go func() {
		worked <- dispatchWorker{st: st, via: "cockpit", notify: p.Send}.run(workCtx)
	}()
	go st.TrimEvery(workCtx, trimInterval)
	// Decisions that change with time alone (a consent going stale) reach
	// the projection and the reach counts once a day.
	refreshed := make(chan error, 1)
	go func() {
		var last error
		st.RefreshConsentStateEvery(workCtx, consentRefreshInterval, func(_, _ int, err error) { last = err })
		refreshed <- last
	}()
	_, err = p.Run()
	stopWork()
	if werr := <-worked; werr != nil {
		fmt.Fprintf(e.stderr, "karton: background dispatch: %s\n", oneLine(werr.Error()))
	}
	if rerr := <-refreshed; rerr != nil {
		fmt.Fprintf(e.stderr, "karton: consent refresh: %s (run `karton consent refresh`)\n", oneLine(rerr.Error()))
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("cockpit: %w", err)
	}
	return nil
}

// consentRefreshInterval is how often the cockpit and the server re-decide
// every projection (store.Store.RefreshConsentState).
const consentRefreshInterval = 24 * time.Hour

func isTerminal(e *env) bool {
	in, ok1 := e.stdin.(*os.File)
	out, ok2 := e.stdout.(*os.File)
	return ok1 && ok2 && term.IsTerminal(in.Fd()) && term.IsTerminal(out.Fd())
}

func isTerminalWriter(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// trimInterval is how often the cockpit returns the store pages its scans
// touched to the page cache (see store.Store.TrimEvery).
const trimInterval = 15 * time.Second
