package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"syscall"

	"karton/model"
	"karton/store"
	"karton/store/links"
)

// Sending the outbox (`karton dispatch`) and looking after it (`karton
// outbox list|retry`).

func dispatchCmd(fs *flag.FlagSet) runFunc {
	once := fs.Bool("once", false, "send what is due now and exit (default: keep sending until interrupted)")
	base := fs.String("base", "", "public address of the return channel (`karton serve --http`) the links in messages point to, e.g. https://k.example.com; remembered in the store (admin)")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		if *base != "" {
			if _, err := links.NormalizeBase(*base); err != nil {
				return usagef("--base: %v", err)
			}
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		if *base != "" {
			if err := st.Update(e.actor, func(tx *store.Tx) error { return tx.SetLinkBase(*base) }); err != nil {
				return fmt.Errorf("--base: %w", err)
			}
		}
		ctx, stop := e.interruptible(os.Interrupt, syscall.SIGTERM)
		defer stop()
		var total store.DispatchReport
		opts := store.DispatcherOptions{}
		if !*once {
			// A long-running dispatcher reports each batch as it goes.
			opts.OnBatch = func(r store.DispatchReport) {
				if *asJSON {
					b, _ := json.Marshal(r)
					fmt.Fprintln(e.stdout, string(b))
					return
				}
				fmt.Fprintln(e.stdout, dispatchLine(r, st.Settings().Currency))
			}
			opts.OnError = func(err error) { fmt.Fprintf(e.stderr, "karton dispatch: %s\n", oneLine(err.Error())) }
		}
		d, err := store.NewDispatcher(st, e.actor, opts)
		if err != nil {
			return err
		}
		if *once {
			total, err = d.RunOnce(ctx)
		} else {
			fmt.Fprintln(e.stderr, "karton dispatch: sending due messages; Ctrl-C stops after the batch in flight")
			err = d.Run(ctx)
		}
		if cerr := d.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if !*once {
			return nil
		}
		if *asJSON {
			if total.ByReason == nil {
				total.ByReason = map[model.Reason]int{}
			}
			return printJSON(e.stdout, total)
		}
		fmt.Fprintln(e.stdout, dispatchLine(total, st.Settings().Currency))
		for _, msg := range total.Errors {
			fmt.Fprintf(e.stdout, "  failure: %s\n", oneLine(msg))
		}
		if total.Dead > 0 {
			fmt.Fprintln(e.stdout, "dead letters stay in the outbox: `karton outbox list --status dead`, then `karton outbox retry`")
		}
		return nil
	}
}

func dispatchLine(r store.DispatchReport, currency string) string {
	s := fmt.Sprintf("sent %d, suppressed at dispatch %d", r.Sent, r.Suppressed)
	if len(r.ByReason) > 0 {
		reasons := make([]model.Reason, 0, len(r.ByReason))
		for k := range r.ByReason {
			reasons = append(reasons, k)
		}
		sort.Slice(reasons, func(i, j int) bool { return reasons[i].Rule() < reasons[j].Rule() })
		s += " ("
		for i, k := range reasons {
			if i > 0 {
				s += ", "
			}
			s += fmt.Sprintf("%s %d", k, r.ByReason[k])
		}
		s += ")"
	}
	s += fmt.Sprintf(", retrying %d, dead %d", r.Retrying, r.Dead)
	if r.Cancelled > 0 {
		s += fmt.Sprintf(", cancelled %d", r.Cancelled)
	}
	if r.Deferred > 0 {
		s += fmt.Sprintf(", waiting for a paused channel %d", r.Deferred)
	}
	if r.Released > 0 {
		s += fmt.Sprintf(", not tried (stopped) %d", r.Released)
	}
	return s + fmt.Sprintf(", cost %s", r.Cost.Format(currency))
}

func outboxListCmd(fs *flag.FlagSet) runFunc {
	step := fs.String("step", "", "only this step's messages")
	status := fs.String("status", "", "only messages in this status: pending, sending, sent, suppressed_at_dispatch, cancelled, dead")
	limit := fs.Int("limit", 50, "at most this many messages (1–1000)")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		var f store.OutboxFilter
		if *step != "" {
			id, err := model.ParseID(*step)
			if err != nil {
				return usagef("--step: %v", err)
			}
			f.Step = model.StepID(id)
		}
		if *status != "" {
			s, err := store.ParseOutboxStatus(*status)
			if err != nil {
				return usagef("--status: %v", err)
			}
			f.Status = s
		}
		if *limit < 1 || *limit > 1000 {
			return usagef("--limit must be between 1 and 1000")
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		var ms []store.OutboxEntry
		var counts store.OutboxCounts
		err = st.View(e.actor, func(r *store.Reader) error {
			counts = r.OutboxCounts(f.Step)
			if f.Status == store.OutboxDead && f.Step == 0 {
				ms, _, err = r.DeadLetters(0, *limit)
				return err
			}
			for after := store.OutboxID(0); len(ms) < *limit; {
				page, next, err := r.Outbox(f, after, *limit-len(ms))
				if err != nil {
					return err
				}
				ms = append(ms, page...)
				if next == 0 {
					break
				}
				after = next
			}
			return nil
		})
		if err != nil {
			return err
		}
		if *asJSON {
			if ms == nil {
				ms = []store.OutboxEntry{}
			}
			return printJSON(e.stdout, struct {
				Counts   store.OutboxCounts  `json:"counts"`
				Messages []store.OutboxEntry `json:"messages"`
			}{counts, ms})
		}
		printOutbox(e.stdout, counts, ms)
		return nil
	}
}

func printOutbox(w io.Writer, c store.OutboxCounts, ms []store.OutboxEntry) {
	fmt.Fprintf(w, "pending %d, sending %d, sent %d, suppressed at dispatch %d, cancelled %d, dead %d\n\n",
		c.Pending, c.Sending, c.Sent, c.Suppressed, c.Cancelled, c.Dead)
	rows := make([][]string, 0, len(ms))
	for _, m := range ms {
		note := m.LastError
		if m.Status == store.OutboxSuppressed {
			note = string(m.Reason) + ": " + m.Reason.Explain()
		}
		rows = append(rows, []string{m.ID.String(), m.StepID.String(), m.CustomerID.String(), string(m.Channel), string(m.Status), fmt.Sprint(m.Attempts), fmtTime(m.UpdatedAt), oneLine(note)})
	}
	_ = table(w, []string{"MESSAGE", "STEP", "CUSTOMER", "CHANNEL", "STATUS", "ATTEMPTS", "UPDATED", "NOTE"}, rows)
}

func outboxRetryCmd(fs *flag.FlagSet) runFunc {
	step := fs.String("step", "", "retry every dead letter of this step")
	all := fs.Bool("all", false, "retry every dead letter")
	return func(e *env, args []string) error {
		if (len(args) == 1) == (*step != "" || *all) || len(args) > 1 || (*step != "" && *all) {
			return usagef("give one message id, or --step STEP, or --all")
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		if len(args) == 1 {
			id, err := model.ParseID(args[0])
			if err != nil {
				return usagef("%v", err)
			}
			if err := st.Update(e.actor, func(tx *store.Tx) error { return tx.RetryDeadLetter(store.OutboxID(id)) }); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "message %d is queued again; `karton dispatch` sends it after a fresh consent check\n", id)
			return nil
		}
		var sid model.StepID
		if *step != "" {
			id, err := model.ParseID(*step)
			if err != nil {
				return usagef("--step: %v", err)
			}
			sid = model.StepID(id)
		}
		n, err := st.RetryDeadLetters(e.actor, sid)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%d dead letters queued again; `karton dispatch` sends them after a fresh consent check\n", n)
		return nil
	}
}
