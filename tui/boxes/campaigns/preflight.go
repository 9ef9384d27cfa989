package campaigns

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/confirm"
)

// The preflight screen (p on a step) shows what launching the step would do
// now, from store.Preflight, which changes nothing. From it, L launches the
// step after a confirmation: store.Launch runs in a goroutine started by a
// command, reporting each committed batch over a channel that a command
// reads one message at a time (the launch waits for the screen to take each
// report, so the bar never lags far behind). esc cancels the launch's
// context: the batch in flight commits, the launch stops, and what was done
// is reported; launching again resumes it.

// sampleSize is the number of denied customers the screen lists.
const sampleSize = 10

// preflightScreen is the open preflight of one step.
type preflightScreen struct {
	seq     uint64
	step    model.Step
	running bool    // the preflight is being evaluated
	scanned float64 // how much of the customers it has looked at, 0–1
	cancel  context.CancelFunc
	res     *store.PreflightResult
	err     error

	launching  bool
	cancelling bool
	stop       context.CancelFunc
	prog       store.LaunchProgress
	hasProg    bool
	launched   *launchOutcome
	bar        progress.Model
}

// launchOutcome is how a launch ended.
type launchOutcome struct {
	res       store.LaunchResult
	err       error
	cancelled bool
}

// Messages of the preflight and the launch.
type (
	preflightProgressMsg struct {
		seq  uint64
		frac float64
		next tea.Cmd
	}
	preflightDoneMsg struct {
		seq uint64
		res store.PreflightResult
		err error
	}
	launchProgressMsg struct {
		seq  uint64
		p    store.LaunchProgress
		next tea.Cmd
	}
	launchDoneMsg struct {
		seq uint64
		res store.LaunchResult
		err error
	}
)

func (b *Box) openPreflight() tea.Cmd {
	st, ok := b.selectedStep()
	if !ok {
		if _, has := b.selected(); has {
			return common.Info(errNoSteps.Error())
		}
		return nil
	}
	b.preSeq++
	ctx, cancel := context.WithCancel(ctxOr(b.c))
	bar := progress.New(progress.WithWidth(max(min(b.w-4, 60), 10)), progress.WithColors(b.c.Theme.Palette.Accent), progress.WithFillCharacters('█', '░'))
	b.pre = &preflightScreen{seq: b.preSeq, step: st, running: true, cancel: cancel, bar: bar}
	s, actor, seq, id := b.c.Store, b.c.Actor, b.preSeq, st.ID
	// The preflight reports each chunk of customers it looked at over a
	// channel, as the launch does; on a small store there is one chunk.
	progressCh := make(chan float64)
	done := make(chan preflightDoneMsg, 1)
	go func() {
		defer cancel()
		res, err := s.Preflight(ctx, actor, id, store.PreflightOptions{Sample: sampleSize, Progress: func(scanned, last model.CustomerID) {
			frac := 1.0
			if last > 0 {
				frac = min(float64(scanned)/float64(last), 1)
			}
			select {
			case progressCh <- frac:
			case <-ctx.Done():
			}
		}})
		done <- preflightDoneMsg{seq: seq, res: res, err: err}
	}()
	var next tea.Cmd
	next = func() tea.Msg {
		select {
		case f := <-progressCh:
			return preflightProgressMsg{seq: seq, frac: f, next: next}
		case d := <-done:
			return d
		}
	}
	return next
}

// canLaunch reports whether the actor's role may launch steps.
func (b *Box) canLaunch() bool { return b.canEdit() }

func (b *Box) preflightMsg(msg tea.Msg) tea.Cmd {
	p := b.pre
	switch msg := msg.(type) {
	case preflightProgressMsg:
		if p != nil && msg.seq == p.seq {
			p.scanned = msg.frac
		}
		return msg.next
	case preflightDoneMsg:
		if p == nil || msg.seq != p.seq {
			return nil
		}
		p.running = false
		if msg.err != nil {
			p.err = msg.err
			if errors.Is(msg.err, context.Canceled) {
				return nil
			}
			return common.Fail("preflight step "+p.step.Name, msg.err)
		}
		p.res = &msg.res
		return nil
	case launchProgressMsg:
		if p == nil || msg.seq != p.seq {
			return msg.next // keep draining so the launch is not held
		}
		p.prog, p.hasProg = msg.p, true
		label := fmt.Sprintf("launch %s %d%% · %s decided", p.step.Name, int(msg.p.Fraction()*100), groupInt(int64(msg.p.Decided)))
		return tea.Batch(msg.next, func() tea.Msg { return common.TaskProgressMsg{ID: launchTask, Label: label} })
	case launchDoneMsg:
		ended := func() tea.Msg { return common.TaskEndedMsg{ID: launchTask} }
		if p == nil || msg.seq != p.seq {
			return ended
		}
		p.launching = false
		out := &launchOutcome{res: msg.res, err: msg.err}
		if errors.Is(msg.err, context.Canceled) {
			out.cancelled, out.err = true, nil
		}
		p.launched = out
		cmds := []tea.Cmd{ended, b.reload()}
		switch {
		case out.err != nil:
			cmds = append(cmds, common.Fail("launch step "+p.step.Name, out.err))
		case out.cancelled:
			cmds = append(cmds, common.Info(fmt.Sprintf("Launch of %s cancelled: %s decisions recorded now stay; L resumes", p.step.Name, groupInt(int64(out.res.DecidedNow)))))
		default:
			cmds = append(cmds, common.Info(fmt.Sprintf("Launched %s: %s allowed, %s denied, %s messages queued", p.step.Name,
				groupInt(int64(out.res.Allowed)), groupInt(int64(out.res.Denied)), groupInt(int64(out.res.Messages)))))
		}
		return tea.Batch(cmds...)
	}
	return nil
}

func (b *Box) preflightKeys(msg tea.KeyPressMsg) tea.Cmd {
	p, km := b.pre, b.c.Keys
	switch {
	case key.Matches(msg, km.Back):
		switch {
		case p.launching:
			if !p.cancelling {
				p.cancelling = true
				p.stop()
			}
			return nil
		case p.running:
			p.cancel()
		}
		b.pre = nil
		b.layout()
		return nil
	case key.Matches(msg, b.launchKey):
		return b.askLaunch()
	case key.Matches(msg, km.Refresh):
		if !p.running && !p.launching {
			return b.openPreflight()
		}
	}
	return nil
}

// launchRefusal says why L does nothing now, or "" when it may launch.
func (b *Box) launchRefusal() string {
	p := b.pre
	switch {
	case !b.canLaunch():
		return fmt.Sprintf("%s may not launch campaign steps", b.c.Actor.Role)
	case p.running:
		return "the preflight is still running"
	case p.launching:
		return "the launch is running"
	case p.res == nil:
		return "the preflight failed; r runs it again"
	case p.launched != nil && !p.launched.cancelled && p.launched.err == nil:
		return "the step is launched"
	case p.res.Blocker != "":
		return p.res.Blocker
	}
	return ""
}

func (b *Box) askLaunch() tea.Cmd {
	if why := b.launchRefusal(); why != "" {
		return common.Info("cannot launch: " + why)
	}
	p := b.pre
	over := ""
	if p.res.OverBudget {
		over = " This is over the budget left."
	}
	b.confirm.Open(confirm.Prompt{
		ID:    fmt.Sprintf("launch:%d", p.step.ID),
		Title: fmt.Sprintf("Launch %s to %s customers?", p.step.Name, groupInt(int64(p.res.Audience))),
		Body: fmt.Sprintf("Records a consent decision for each of them and queues about %s messages (%s).%s esc stops between batches; what is done stays done.",
			groupInt(int64(p.res.Allowed-p.res.Unrenderable)), p.res.EstimatedCost.Format(p.res.Currency), over),
		Yes: "Launch",
	})
	return nil
}

// startLaunch runs store.Launch for the preflight's step.
func (b *Box) startLaunch(id model.StepID) tea.Cmd {
	p := b.pre
	if p == nil || p.step.ID != id || p.launching {
		return nil
	}
	ctx, stop := context.WithCancel(ctxOr(b.c))
	p.launching, p.cancelling, p.stop, p.launched, p.hasProg = true, false, stop, nil, false
	progressCh := make(chan store.LaunchProgress)
	done := make(chan launchDoneMsg, 1)
	s, actor, seq := b.c.Store, b.c.Actor, p.seq
	go func() {
		defer stop()
		res, err := s.Launch(ctx, actor, id, store.LaunchOptions{BatchSize: b.batch, Progress: func(lp store.LaunchProgress) {
			select { // wait for the screen to take it, unless cancelled
			case progressCh <- lp:
			case <-ctx.Done():
			}
		}})
		done <- launchDoneMsg{seq: seq, res: res, err: err}
	}()
	var next tea.Cmd
	next = func() tea.Msg {
		select {
		case lp := <-progressCh:
			return launchProgressMsg{seq: seq, p: lp, next: next}
		case d := <-done:
			return d
		}
	}
	label := "launch " + p.step.Name
	return tea.Batch(func() tea.Msg { return common.TaskStartedMsg{ID: launchTask, Label: label} }, next)
}

func (p *preflightScreen) help(b *Box) []key.Binding {
	km := b.c.Keys
	if p.launching {
		return []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel launch"))}
	}
	out := []key.Binding{km.Back, km.Refresh}
	if b.canLaunch() && b.launchRefusal() == "" {
		out = append(out, b.launchKey)
	}
	return out
}

// preflightView draws the preflight screen.
func (b *Box) preflightView(h int) string {
	th, p, w := b.c.Theme, b.pre, b.w
	var out []string
	add := func(s string) { out = append(out, fit(s, w)) }
	add(th.Title.Render("Preflight · "+p.step.Name) + th.Muted.Render(" · step #"+p.step.ID.String()+" · changes nothing"))
	if p.running {
		add(b.spin.View() + " evaluating the audience against the consent rules… (esc stops)")
		add(p.bar.ViewAs(p.scanned))
		return strings.Join(out, "\n")
	}
	if p.res == nil {
		add(th.Bad.Render("preflight failed: ") + errText(p.err))
		add(th.Muted.Render("r runs it again, esc goes back"))
		return strings.Join(out, "\n")
	}
	r := p.res
	for _, l := range wrapText(fmt.Sprintf("campaign %s · %s (%s) · purpose %s · audience %s", r.CampaignName, r.Channel, r.ChannelKind, r.Purpose, r.Segment), w) {
		add(th.Muted.Render(l))
	}
	add(th.Muted.Render(fmt.Sprintf("as of %s, consent ledger at #%s", r.At.Format("2006-01-02 15:04"), r.LedgerPosition)))
	add("")
	share := 0.0
	if r.Audience > 0 {
		share = float64(r.Allowed) / float64(r.Audience)
	}
	add(fmt.Sprintf("Audience %s   %s %s (%d%%)   %s %s", groupInt(int64(r.Audience)),
		th.Allow.Render("allowed"), groupInt(int64(r.Allowed)), int(share*100+0.5), th.Deny.Render("denied"), groupInt(int64(r.Denied))))
	add("")
	// Reasons.
	reasons := reasonsSorted(r.ByReason)
	cw := 7
	rw := 10
	for _, rs := range reasons {
		rw = max(rw, len(rs))
	}
	rw = min(rw, 28)
	add(th.TableHeader.Render(fit(fmt.Sprintf("%-*s %*s  %-5s  %s", rw, "reason", cw, "count", "", "why"), w)))
	for _, rs := range reasons {
		verb := th.Deny.Render("deny ")
		if rs.Allows() {
			verb = th.Allow.Render("allow")
		}
		add(fmt.Sprintf("%-*s %*s  %s  %s", rw, string(rs), cw, groupInt(int64(r.ByReason[rs])), verb, th.Muted.Render(fmt.Sprintf("rule %d: %s", rs.Rule(), rs.Explain()))))
	}
	add("")
	if r.Unrenderable > 0 {
		add(th.Warn.Render(fmt.Sprintf("%s allowed customers lack a value the creative needs: their messages would be dead letters", groupInt(int64(r.Unrenderable)))))
	}
	budget := th.Good.Render("within budget")
	if r.OverBudget {
		budget = th.Bad.Render("OVER BUDGET")
	}
	add(fmt.Sprintf("Cost estimate %s · budget left %s · %s", r.EstimatedCost.Format(r.Currency), r.BudgetLeft.Format(r.Currency), budget))

	// The bottom: the launch, its outcome, or what L would do.
	var bottom []string
	addB := func(s string) { bottom = append(bottom, fit(s, w)) }
	switch {
	case p.launching || (p.launched != nil && p.hasProg):
		addB("")
		title := "Launching"
		if p.cancelling {
			title = "Cancelling after the batch in flight"
		}
		if p.launched != nil {
			title = "Launch"
		}
		addB(th.Title.Render(title))
		frac := 0.0
		if p.hasProg {
			frac = p.prog.Fraction()
		}
		if p.launched != nil && p.launched.res.Complete {
			frac = 1
		}
		addB(p.bar.ViewAs(frac))
		addB(fmt.Sprintf("%s decided · %s allowed · %s denied · %s messages", groupInt(int64(p.prog.Decided)), groupInt(int64(p.prog.Allowed)),
			groupInt(int64(p.prog.Denied)), groupInt(int64(p.prog.Messages))))
	}
	if o := p.launched; o != nil {
		addB("")
		switch {
		case o.err != nil:
			addB(th.Bad.Render("launch failed: ") + errText(o.err))
		case o.cancelled:
			addB(th.Warn.Render("cancelled") + fmt.Sprintf(": %s decisions recorded in this run (%s of the audience so far: %s allowed, %s denied, %s messages). They stay; L resumes.",
				groupInt(int64(o.res.DecidedNow)), groupInt(int64(o.res.Audience)), groupInt(int64(o.res.Allowed)), groupInt(int64(o.res.Denied)), groupInt(int64(o.res.Messages))))
		default:
			resumed := ""
			if o.res.Resumed {
				resumed = " (resumed an interrupted launch)"
			}
			addB(th.Good.Render("done") + fmt.Sprintf(": %s decided · %s allowed · %s denied · %s messages queued%s",
				groupInt(int64(o.res.Audience)), groupInt(int64(o.res.Allowed)), groupInt(int64(o.res.Denied)), groupInt(int64(o.res.Messages)), resumed))
		}
	} else if !p.launching {
		addB("")
		switch why := b.launchRefusal(); {
		case why == "":
			addB(th.Accent.Render("L") + " launches this step (after a confirmation)")
		case b.canLaunch():
			addB(th.Warn.Render("cannot launch now: ") + why)
		}
	}

	// Sample of the denied, in the room left.
	room := h - len(out) - len(bottom)
	if len(r.Sample) > 0 && room >= 3 {
		out = append(out, fit("", w), fit(th.Title.Render("Denied, a sample"), w))
		room -= 2
		for _, s := range r.Sample {
			if room <= 0 {
				break
			}
			add(fmt.Sprintf("  #%-7s %-22s %s", s.CustomerID, truncate(s.Name, 22), th.Muted.Render(s.Explanation)))
			room--
		}
	}
	return strings.Join(append(out, bottom...), "\n")
}

func errText(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

func truncate(s string, w int) string {
	if lipgloss.Width(s) <= w {
		return s
	}
	return fit(s, w)
}
