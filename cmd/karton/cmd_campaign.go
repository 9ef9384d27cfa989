package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"syscall"

	"karton/model"
	"karton/store"
)

// Campaigns on the command line: list and show, the approval flow
// (submit, approve, reject), and the launch pipeline (preflight, launch).
// Sending is `karton dispatch` (cmd_dispatch.go).

func campaignListCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		type row struct {
			ID      model.CampaignID     `json:"id"`
			Name    string               `json:"name"`
			Status  model.CampaignStatus `json:"status"`
			Owner   string               `json:"owner"`
			Start   string               `json:"start"`
			End     string               `json:"end"`
			Steps   int                  `json:"steps"`
			Planned model.Money          `json:"planned"`
			Spent   model.Money          `json:"spent"`
			Cur     string               `json:"currency"`
		}
		var rows []row
		err = st.View(e.actor, func(r *store.Reader) error {
			cs, err := r.Campaigns()
			if err != nil {
				return err
			}
			for _, c := range cs {
				steps, err := r.Steps(c.ID)
				if err != nil {
					return err
				}
				rows = append(rows, row{c.ID, c.Name, c.Status, c.Owner, c.Start.Format("2006-01-02"), c.End.Format("2006-01-02"), len(steps), c.Planned(), c.Spent(), c.Currency})
			}
			return nil
		})
		if err != nil {
			return err
		}
		if *asJSON {
			if rows == nil {
				rows = []row{}
			}
			return printJSON(e.stdout, rows)
		}
		out := make([][]string, 0, len(rows))
		for _, r := range rows {
			out = append(out, []string{r.ID.String(), r.Name, string(r.Status), r.Start + " – " + r.End, fmt.Sprint(r.Steps), r.Planned.Format(r.Cur), r.Spent.Format(r.Cur)})
		}
		return table(e.stdout, []string{"ID", "NAME", "STATUS", "WINDOW", "STEPS", "PLANNED", "SPENT"}, out)
	}
}

// stepView is a step with its launch and outbox figures.
type stepView struct {
	model.Step
	Channel  string             `json:"channel"`
	Purpose  string             `json:"purpose"`
	Segment  string             `json:"segment"`
	Launch   *store.LaunchState `json:"launch,omitempty"`
	Messages store.OutboxCounts `json:"messages"`
}

func campaignShowCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		id, err := oneID(args, "campaign")
		if err != nil {
			return err
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		var c model.Campaign
		var steps []stepView
		err = st.View(e.actor, func(r *store.Reader) error {
			if c, err = r.Campaign(model.CampaignID(id)); err != nil {
				return err
			}
			ss, err := r.Steps(c.ID)
			if err != nil {
				return err
			}
			for _, s := range ss {
				v := stepView{Step: s, Messages: r.OutboxCounts(s.ID)}
				if ch, err := r.Channel(s.ChannelID); err == nil {
					v.Channel = ch.Name
				}
				if p, err := r.Purpose(s.PurposeID); err == nil {
					v.Purpose = p.Name
				}
				if sg, err := r.Segment(s.SegmentID); err == nil {
					v.Segment = sg.Name
				}
				if l, ok, err := r.LaunchState(s.ID); err != nil {
					return err
				} else if ok {
					v.Launch = &l
				}
				steps = append(steps, v)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if *asJSON {
			if steps == nil {
				steps = []stepView{}
			}
			return printJSON(e.stdout, struct {
				model.Campaign
				Steps []stepView `json:"steps"`
			}{c, steps})
		}
		fmt.Fprintf(e.stdout, "campaign %d %q: %s, owner %s, %s – %s\n", c.ID, c.Name, c.Status, c.Owner, c.Start.Format("2006-01-02"), c.End.Format("2006-01-02"))
		if c.Goal != "" {
			fmt.Fprintf(e.stdout, "goal: %s\n", c.Goal)
		}
		fmt.Fprintf(e.stdout, "budget: %s planned, %s spent\n", c.Planned().Format(c.Currency), c.Spent().Format(c.Currency))
		if c.ApprovedBy != "" {
			fmt.Fprintf(e.stdout, "approved by %s on %s\n", c.ApprovedBy, c.ApprovedAt.Format("2006-01-02"))
		}
		if c.RejectedBy != "" {
			fmt.Fprintf(e.stdout, "rejected by %s: %s\n", c.RejectedBy, c.RejectionNote)
		}
		fmt.Fprintln(e.stdout)
		rows := make([][]string, 0, len(steps))
		for _, s := range steps {
			decided, allowed := "", ""
			if s.Launch != nil {
				decided, allowed = fmt.Sprint(s.Launch.Decided), fmt.Sprint(s.Launch.Allowed)
			}
			m := s.Messages
			rows = append(rows, []string{s.ID.String(), s.Name, s.Channel, s.Purpose, s.Segment, string(s.Status), decided, allowed,
				fmt.Sprint(m.Sent), fmt.Sprint(m.Pending + m.Sending), fmt.Sprint(m.Suppressed), fmt.Sprint(m.Dead)})
		}
		return table(e.stdout, []string{"STEP", "NAME", "CHANNEL", "PURPOSE", "AUDIENCE", "STATUS", "DECIDED", "ALLOWED", "SENT", "WAITING", "SUPPRESSED", "DEAD"}, rows)
	}
}

// oneID reads the single id argument of a command.
func oneID(args []string, what string) (uint64, error) {
	if len(args) != 1 {
		return 0, usagef("give one %s id", what)
	}
	id, err := model.ParseID(args[0])
	if err != nil {
		return 0, usagef("%v", err)
	}
	return id, nil
}

func campaignSubmitCmd(fs *flag.FlagSet) runFunc {
	return campaignTransitionCmd(model.ActionSubmit)(fs)
}
func campaignApproveCmd(fs *flag.FlagSet) runFunc {
	return campaignTransitionCmd(model.ActionApprove)(fs)
}
func campaignRejectCmd(fs *flag.FlagSet) runFunc {
	return campaignTransitionCmd(model.ActionReject)(fs)
}

// campaignTransitionCmd builds submit, approve and reject.
func campaignTransitionCmd(action model.CampaignAction) func(fs *flag.FlagSet) runFunc {
	return func(fs *flag.FlagSet) runFunc {
		var note *string
		if action == model.ActionReject {
			note = fs.String("note", "", "why it goes back to draft (kept with the campaign)")
		}
		return func(e *env, args []string) error {
			id, err := oneID(args, "campaign")
			if err != nil {
				return err
			}
			st, err := e.open()
			if err != nil {
				return err
			}
			n := ""
			if note != nil {
				n = *note
			}
			var c model.Campaign
			err = st.Update(e.actor, func(tx *store.Tx) error {
				if err := tx.TransitionCampaign(model.CampaignID(id), action, n); err != nil {
					return err
				}
				c, err = tx.Reader().Campaign(model.CampaignID(id))
				return err
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "campaign %d %q is now %s\n", c.ID, c.Name, c.Status)
			return nil
		}
	}
}

func campaignPreflightCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	sample := fs.Int("sample", 10, "how many denied customers to list")
	return func(e *env, args []string) error {
		id, err := oneID(args, "step")
		if err != nil {
			return err
		}
		if *sample < 0 {
			return usagef("--sample must be 0 or more")
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		ctx, stop := e.interruptible(os.Interrupt, syscall.SIGTERM)
		defer stop()
		n := *sample
		if n == 0 {
			n = -1
		}
		res, err := st.Preflight(ctx, e.actor, model.StepID(id), store.PreflightOptions{Sample: n})
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, res)
		}
		printPreflight(e.stdout, &res)
		return nil
	}
}

func printPreflight(w io.Writer, p *store.PreflightResult) {
	fmt.Fprintf(w, "step %d %q of campaign %d %q\n", p.StepID, p.StepName, p.CampaignID, p.CampaignName)
	fmt.Fprintf(w, "channel %s (%s), purpose %s, audience %q\n\n", p.Channel, p.ChannelKind, p.Purpose, p.Segment)
	fmt.Fprintf(w, "audience  %d\nallowed   %d\ndenied    %d\n", p.Audience, p.Allowed, p.Denied)
	reasons := make([]model.Reason, 0, len(p.ByReason))
	for r := range p.ByReason {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool { return reasons[i].Rule() < reasons[j].Rule() })
	rows := make([][]string, 0, len(reasons))
	for _, r := range reasons {
		verb := "deny"
		if r.Allows() {
			verb = "allow"
		}
		rows = append(rows, []string{"  " + string(r), fmt.Sprint(p.ByReason[r]), verb, fmt.Sprintf("rule %d: %s", r.Rule(), r.Explain())})
	}
	if len(rows) > 0 {
		fmt.Fprintln(w)
		_ = table(w, []string{"  REASON", "COUNT", "", "WHY"}, rows)
	}
	if p.Unrenderable > 0 {
		fmt.Fprintf(w, "\n%d allowed customers lack a value the creative needs; their messages would become dead letters\n", p.Unrenderable)
	}
	over := ""
	if p.OverBudget {
		over = " — OVER BUDGET"
	}
	fmt.Fprintf(w, "\nestimated cost %s, budget left %s%s\n", p.EstimatedCost.Format(p.Currency), p.BudgetLeft.Format(p.Currency), over)
	if len(p.Sample) > 0 {
		fmt.Fprintf(w, "\nsample of denied customers:\n")
		rows = rows[:0]
		for _, s := range p.Sample {
			rows = append(rows, []string{"  " + s.CustomerID.String(), s.Name, s.Explanation})
		}
		_ = table(w, []string{"  CUSTOMER", "NAME", "DECISION"}, rows)
	}
	if p.Blocker != "" {
		fmt.Fprintf(w, "\ncannot launch now: %s\n", p.Blocker)
	} else {
		fmt.Fprintf(w, "\nready: `karton campaign launch %d` records these decisions and queues %d messages\n", p.StepID, p.Allowed-p.Unrenderable)
	}
}

func campaignLaunchCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	batch := fs.Int("batch", 0, "audience members decided per transaction (default 10000)")
	return func(e *env, args []string) error {
		id, err := oneID(args, "step")
		if err != nil {
			return err
		}
		if *batch < 0 {
			return usagef("--batch must be positive")
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		ctx, stop := e.interruptible(os.Interrupt, syscall.SIGTERM)
		defer stop()
		bar := newProgressLine(e.stderr)
		res, err := st.Launch(ctx, e.actor, model.StepID(id), store.LaunchOptions{BatchSize: *batch, Progress: func(p store.LaunchProgress) {
			bar.show(fmt.Sprintf("launch step %d: %3.0f%%  %d decisions, %d allowed, %d denied", p.StepID, 100*p.Fraction(), p.Decided, p.Allowed, p.Denied))
		}})
		bar.done()
		if errors.Is(err, context.Canceled) {
			if *asJSON {
				_ = printJSON(e.stdout, res)
			}
			return exitError{code: 1, msg: fmt.Sprintf("launch of step %d cancelled: %d decisions recorded by this run, %d in all, and they stay; run `karton campaign launch %d` to resume", id, res.DecidedNow, res.Audience, id)}
		}
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, res)
		}
		resumed := ""
		if res.Resumed {
			resumed = fmt.Sprintf(" (resumed: %d decided now)", res.DecidedNow)
		}
		fmt.Fprintf(e.stdout, "launched step %d%s: %d decisions, %d allowed, %d denied; %d messages queued", id, resumed, res.Audience, res.Allowed, res.Denied, res.Messages-res.Unrenderable)
		if res.Unrenderable > 0 {
			fmt.Fprintf(e.stdout, ", %d dead letters (the creative lacks a value)", res.Unrenderable)
		}
		fmt.Fprintln(e.stdout, "; send them with `karton dispatch`")
		return nil
	}
}

// progressLine redraws one status line on a terminal; elsewhere (a pipe,
// a log file, a test) it stays silent.
type progressLine struct {
	w    io.Writer
	tty  bool
	used bool
}

func newProgressLine(w io.Writer) *progressLine {
	p := &progressLine{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progressLine) show(s string) {
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[K%s", s)
		p.used = true
	}
}

func (p *progressLine) done() {
	if p.used {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func segmentListCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		type row struct {
			ID         model.SegmentID   `json:"id"`
			Name       string            `json:"name"`
			Conditions []model.Condition `json:"conditions"`
			Size       int               `json:"size"`
			Error      string            `json:"error,omitempty"`
		}
		var rows []row
		err = st.View(e.actor, func(r *store.Reader) error {
			segs, err := r.Segments()
			if err != nil {
				return err
			}
			sizes, errs, err := r.SegmentSizes(segs)
			if err != nil {
				return err
			}
			for i, s := range segs {
				x := row{ID: s.ID, Name: s.Name, Conditions: s.Conditions, Size: sizes[i]}
				if x.Conditions == nil {
					x.Conditions = []model.Condition{}
				}
				if errs != nil && errs[i] != nil {
					x.Error = errs[i].Error()
				}
				rows = append(rows, x)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if *asJSON {
			if rows == nil {
				rows = []row{}
			}
			return printJSON(e.stdout, rows)
		}
		out := make([][]string, 0, len(rows))
		for _, r := range rows {
			conds := make([]string, len(r.Conditions))
			for i, c := range r.Conditions {
				conds[i] = c.Field + " " + c.Op + " " + c.Value
			}
			size := fmt.Sprint(r.Size)
			if r.Error != "" {
				size = "invalid: " + r.Error
			}
			all := strings.Join(conds, " and ")
			if all == "" {
				all = "everyone"
			}
			out = append(out, []string{r.ID.String(), r.Name, size, all})
		}
		return table(e.stdout, []string{"ID", "NAME", "SIZE", "CONDITIONS"}, out)
	}
}
