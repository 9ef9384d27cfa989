package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// The launch pipeline of PRODUCT.md §3: Preflight evaluates a step's
// audience against the consent rules and changes nothing; Launch records,
// for every audience member, the decision (with the deciding event and the
// ledger position used) and its audit entry and, when it allows, an outbox
// message — all three in one transaction. Launch runs in batches of
// customers in id order; each batch commits with the launch's cursor, so a
// launch cancelled or killed half-way resumes where the last commit left
// it and never decides anyone twice. The dispatcher (dispatcher.go) sends
// the outbox.
//
//	bucket launches   sid   launch state (launchVersion)
//
// Rules a launch enforces:
//   - the actor may launch steps (model.PermEditCampaigns);
//   - the campaign is approved (the first launch starts it: running) or
//     running; a draft, submitted, completed or cancelled one is refused;
//   - the step has not been launched and is not cancelled;
//   - the channel is active and the step has a creative that parses.
//
// The audience is the step's segment as it was when the launch started
// (its conditions are kept in the launch state, and day and age conditions
// count from the start), so a resumed launch selects by the same rules.
// Decisions are made at the time of their batch.

// ErrAlreadyLaunched is returned when a launched step is launched again.
var ErrAlreadyLaunched = errors.New("a step cannot be launched twice")

// ErrNotApproved is returned when a step of a campaign that is not approved
// (or running) is launched.
var ErrNotApproved = errors.New("only steps of approved campaigns can be launched")

// LaunchState is the record of a step's launch: the audience definition
// it started with, how far it got and what it decided so far.
type LaunchState struct {
	StepID    model.StepID `json:"step_id"`
	StartedAt time.Time    `json:"started_at"`
	StartedBy string       `json:"started_by"`
	// Conditions are the segment's conditions at the start.
	Conditions []model.Condition `json:"conditions"`
	// Cursor is the last customer id looked at by a committed batch.
	Cursor       model.CustomerID     `json:"cursor"`
	Decided      int                  `json:"decided"`
	Allowed      int                  `json:"allowed"`
	Denied       int                  `json:"denied"`
	Messages     int                  `json:"messages"`
	Unrenderable int                  `json:"unrenderable"`
	ByReason     map[model.Reason]int `json:"by_reason"`
	// Runs counts the launch calls that worked on it (1 + resumptions).
	Runs       int       `json:"runs"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// Finished reports whether every customer was decided.
func (l *LaunchState) Finished() bool { return !l.FinishedAt.IsZero() }

const launchVersion = 1

func encodeLaunch(l *LaunchState) []byte {
	var e encoder
	e.byte1(launchVersion)
	e.uvarint(uint64(l.StepID))
	e.time(l.StartedAt)
	e.str(l.StartedBy)
	e.uvarint(uint64(len(l.Conditions)))
	for _, c := range l.Conditions {
		e.str(c.Field)
		e.str(c.Op)
		e.str(c.Value)
	}
	e.uvarint(uint64(l.Cursor))
	e.uvarint(uint64(l.Decided))
	e.uvarint(uint64(l.Allowed))
	e.uvarint(uint64(l.Denied))
	e.uvarint(uint64(l.Messages))
	e.uvarint(uint64(l.Unrenderable))
	reasons := model.AllReasons()
	n := 0
	for _, r := range reasons {
		if l.ByReason[r] > 0 {
			n++
		}
	}
	e.uvarint(uint64(n))
	for _, r := range reasons {
		if c := l.ByReason[r]; c > 0 {
			e.byte1(reasonCode(r))
			e.uvarint(uint64(c))
		}
	}
	e.uvarint(uint64(l.Runs))
	e.time(l.FinishedAt)
	return e.buf
}

func decodeLaunch(b []byte, l *LaunchState) error {
	d := decoder{b: b}
	d.version(launchVersion, "launch state")
	l.StepID = model.StepID(d.uvarint())
	l.StartedAt = d.time()
	l.StartedBy = d.str()
	l.Conditions = nil
	for range d.count() {
		l.Conditions = append(l.Conditions, model.Condition{Field: d.str(), Op: d.str(), Value: d.str()})
	}
	l.Cursor = model.CustomerID(d.uvarint())
	l.Decided = int(d.uvarint())
	l.Allowed = int(d.uvarint())
	l.Denied = int(d.uvarint())
	l.Messages = int(d.uvarint())
	l.Unrenderable = int(d.uvarint())
	l.ByReason = map[model.Reason]int{}
	for range d.count() {
		r := reasonFromCode(d.byte1())
		l.ByReason[r] = int(d.uvarint())
	}
	l.Runs = int(d.uvarint())
	l.FinishedAt = d.time()
	return d.done("launch state")
}

// LaunchState returns the launch record of a step; ok is false when the
// step was never launched.
func (r *Reader) LaunchState(step model.StepID) (l LaunchState, ok bool, err error) {
	b := bucketOrNil(r.tx, bLaunches)
	if b == nil {
		return l, false, nil
	}
	v := b.Get(u64(uint64(step)))
	if v == nil {
		return l, false, nil
	}
	return l, true, decodeLaunch(v, &l)
}

// launchPlan is everything about a step that deciding and rendering for
// its audience needs, read once per batch.
type launchPlan struct {
	step     model.Step
	campaign model.Campaign
	channel  model.Channel
	purpose  model.Purpose
	segment  model.Segment
	pred     *model.Predicate
	creative *model.Creative         // nil: the step has none
	tmpl     *model.CreativeTemplate // parsed creative
	// data are the categories the step declares and its creative's fields
	// reveal: rule 7 looks at all the data the message uses.
	data      []model.DataCategory
	profiling []model.PurposeID
	settings  model.Settings
	// links builds the per-message return-channel links (see links.go).
	links *linkMaker
	// lastAmount: the creative shows the last purchase's amount, which
	// needs the purchase record.
	lastAmount bool
	// required are the fields the creative uses without a default: a
	// recipient lacking one cannot get the message. Checking them is what
	// a launch needs; rendering waits for the dispatch.
	required []model.TemplateField
}

// loadPlan reads a step's plan. conds, when not nil, replace the segment's
// current conditions (a launch keeps those it started with); ref is the
// time day and age conditions count from.
func (r *Reader) loadPlan(id model.StepID, conds []model.Condition, ref time.Time) (*launchPlan, error) {
	p := &launchPlan{settings: r.s.Settings()}
	var err error
	if p.step, err = r.Step(id); err != nil {
		return nil, err
	}
	if p.campaign, err = r.Campaign(p.step.CampaignID); err != nil {
		return nil, fmt.Errorf("step %d: %w", id, err)
	}
	if p.channel, err = r.Channel(p.step.ChannelID); err != nil {
		return nil, fmt.Errorf("step %d: %w", id, err)
	}
	if p.purpose, err = r.Purpose(p.step.PurposeID); err != nil {
		return nil, fmt.Errorf("step %d: %w", id, err)
	}
	if p.segment, err = r.Segment(p.step.SegmentID); err != nil {
		return nil, fmt.Errorf("step %d: audience: %w", id, err)
	}
	if conds == nil {
		conds = p.segment.Conditions
	}
	if p.pred, err = model.CompileSegment(conds, ref); err != nil {
		return nil, fmt.Errorf("step %d: audience %q: %w", id, p.segment.Name, err)
	}
	p.data = slices.Clone(p.step.DataCategories)
	if p.step.Creative != "" {
		cr, ok := p.campaign.Creative(p.step.Creative)
		if !ok {
			return nil, fmt.Errorf("step %d: campaign %d has no creative named %q", id, p.campaign.ID, p.step.Creative)
		}
		p.creative = cr
		if p.tmpl, err = model.ParseCreative(*cr); err != nil {
			return nil, fmt.Errorf("step %d: %w", id, err)
		}
		// Rendered with no values at all, the creative names every field it
		// cannot do without.
		var missing *model.MissingFieldError
		if _, _, err := p.tmpl.Render(model.TemplateFields{}); errors.As(err, &missing) {
			p.required = missing.Fields
		}
		for _, tm := range []*model.Template{p.tmpl.Subject, p.tmpl.Body} {
			for _, f := range tm.Fields() {
				if c := f.DataCategory(); c != "" && !slices.Contains(p.data, c) {
					p.data = append(p.data, c)
				}
				p.lastAmount = p.lastAmount || f == model.FieldLastPurchaseAmount
			}
		}
	}
	if p.profiling, err = r.profilingPurposes(); err != nil {
		return nil, err
	}
	p.setLinkBase(r.s, r.storedLinkBase())
	return p, nil
}

// launchBlocker says why the step cannot be launched now ("" when it can).
func (p *launchPlan) launchBlocker() error {
	switch p.campaign.Status {
	case model.StatusApproved, model.StatusRunning:
	default:
		return fmt.Errorf("step %d %q: campaign %d %q is %s: %w (submit it and have a manager approve it)", p.step.ID, p.step.Name, p.campaign.ID, p.campaign.Name, p.campaign.Status, ErrNotApproved)
	}
	switch p.step.Status {
	case model.StepLaunched:
		return fmt.Errorf("step %d %q was launched on %s by %s: %w", p.step.ID, p.step.Name, p.step.LaunchedAt.Format("2006-01-02 15:04"), p.step.LaunchedBy, ErrAlreadyLaunched)
	case model.StepCancelled:
		return fmt.Errorf("step %d %q is cancelled and cannot be launched", p.step.ID, p.step.Name)
	}
	if p.channel.Status != model.ChannelActive {
		return fmt.Errorf("step %d %q: channel %q is %s; an admin must activate it before launching", p.step.ID, p.step.Name, p.channel.Name, p.channel.Status)
	}
	if p.creative == nil {
		return fmt.Errorf("step %d %q has no creative; messages need one (edit the step in draft)", p.step.ID, p.step.Name)
	}
	return nil
}

// evaluator decides and renders for one plan, reusing its buffers from
// customer to customer.
type evaluator struct {
	p      *launchPlan
	r      *Reader
	cust   model.Customer
	events []model.ConsentEvent
	in     model.DecisionInput
	// recent adds contacts the caller knows of that are not interactions
	// yet (messages claimed in the same dispatch batch).
	recent func(cid model.CustomerID, k model.ChannelKind) int
	// consent is reused from customer to customer (a new cursor allocates).
	consent *bolt.Cursor
}

func newEvaluator(r *Reader, p *launchPlan) *evaluator {
	return &evaluator{p: p, r: r, in: model.DecisionInput{
		Channel: p.channel.Kind, Purpose: p.purpose, ProfilingPurposes: p.profiling,
		DataCategories: p.data, CreativeObjectionNotice: p.creative != nil && p.creative.ObjectionNotice,
		Settings: p.settings,
	}}
}

// load reads a customer (rec: the stored record, or nil to look it up)
// and their consent history.
func (e *evaluator) load(cid model.CustomerID, rec []byte) error {
	switch {
	case rec == nil && e.r.w != nil:
		// Inside a write transaction (a dispatch claim) the customer goes
		// into the transaction's cache, where recording the contact finds
		// it again.
		cc, err := e.r.w.cachedCustomer(cid)
		if err != nil {
			return err
		}
		e.cust = *cc.cur
	case rec == nil:
		c, err := e.r.customerRaw(cid)
		if err != nil {
			return err
		}
		e.cust = *c
	default:
		if err := decodeCustomer(rec, &e.cust); err != nil {
			return fmt.Errorf("customer %d: %w", cid, err)
		}
	}
	e.events = e.events[:0]
	var prefix [8]byte
	binary.BigEndian.PutUint64(prefix[:], uint64(cid))
	if e.consent == nil {
		e.consent = e.r.tx.Bucket(bConsent).Cursor()
	}
	var err error
	e.events, err = appendLedgerDecisions(e.events, e.consent, prefix[:])
	return err
}

// appendDecisionEvents appends a customer's consent events as the
// decision table reads them (appendLedgerDecisions) to events.
func (r *Reader) appendDecisionEvents(events []model.ConsentEvent, cid model.CustomerID) ([]model.ConsentEvent, error) {
	var prefix [8]byte
	binary.BigEndian.PutUint64(prefix[:], uint64(cid))
	return appendLedgerDecisions(events, r.tx.Bucket(bConsent).Cursor(), prefix[:])
}

// decide applies the decision table to the loaded customer at t.
func (e *evaluator) decide(at time.Time) (model.Decision, error) {
	in := &e.in
	in.Customer = model.StoredFactsOf(&e.cust, e.cust.ContactPoints)
	in.Events, in.At, in.KnownAt = e.events, at, at
	in.LastContactAt, in.RecentContacts = time.Time{}, 0
	if c, ok := in.Settings.Caps[in.Channel]; ok {
		in.RecentContacts = e.r.recentContacts(e.cust.ID, in.Channel, at, c.Days)
		if e.recent != nil {
			in.RecentContacts += e.recent(e.cust.ID, in.Channel)
		}
	}
	d := model.Decide(in)
	if d.Reason == model.ReasonConsentStale {
		// Only a recent use of the consent can save it from being stale, so
		// the projection (where uses are kept) is read only in this case.
		st, err := e.r.ConsentState(e.cust.ID)
		if err != nil {
			return d, err
		}
		if st != nil {
			if sc, ok := st.Scope(in.Channel, in.Purpose.ID); ok && !sc.LastContact.IsZero() {
				in.LastContactAt = sc.LastContact
				d = model.Decide(in)
			}
		}
	}
	return d, nil
}

// renderable reports whether the creative can be filled in for the loaded
// customer (every field without a default has a value), without rendering
// it. It is what Render would answer.
func (e *evaluator) renderable() (bool, error) {
	p := e.p
	if len(p.required) == 0 {
		return true, nil
	}
	ctx := model.MessageContext{CampaignName: p.campaign.Name, UnsubscribeURL: p.sampleUnsubscribeURL()}
	if p.lastAmount && !e.cust.LastPurchaseAt.IsZero() {
		ps, _, err := e.r.Purchases(e.cust.ID, nil, 1)
		if err != nil {
			return false, err
		}
		ctx.LastPurchaseKnown = len(ps) == 1
	}
	tf := model.TemplateFieldsFor(&e.cust, ctx)
	for _, f := range p.required {
		if _, ok := tf.Get(f); !ok {
			return false, nil
		}
	}
	return true, nil
}

// render fills the creative in for the loaded customer and message id; an
// error is a *model.MissingFieldError (or the lookup of the last purchase
// failing). Id 0 renders a check: whether every field has a value, with a
// stand-in unsubscribe link instead of computing a token.
func (e *evaluator) render(id OutboxID) (subject, body string, err error) {
	subject, body, _, err = e.renderMessage(id)
	return subject, body, err
}

// renderMessage is render that also returns the message's unsubscribe
// link ("" without a link base); registered link targets in the body
// become the message's click links.
func (e *evaluator) renderMessage(id OutboxID) (subject, body, unsubscribe string, err error) {
	p := e.p
	ctx := model.MessageContext{CampaignName: p.campaign.Name, Currency: p.settings.Currency}
	if id != 0 {
		if unsubscribe, err = p.unsubscribeURL(e.cust.ID, id); err != nil {
			return "", "", "", err
		}
		ctx.UnsubscribeURL = unsubscribe
	} else {
		ctx.UnsubscribeURL = p.sampleUnsubscribeURL()
	}
	if p.lastAmount && !e.cust.LastPurchaseAt.IsZero() {
		ps, _, err := e.r.Purchases(e.cust.ID, nil, 1)
		if err != nil {
			return "", "", "", err
		}
		if len(ps) == 1 {
			ctx.LastPurchaseAmount, ctx.LastPurchaseKnown, ctx.Currency = ps[0].Amount, true, ps[0].Currency
		}
	}
	if subject, body, err = p.tmpl.Render(model.TemplateFieldsFor(&e.cust, ctx)); err != nil {
		return "", "", "", p.explainMissingLink(err)
	}
	if id != 0 {
		if body, err = p.trackClicks(body, e.cust.ID, id); err != nil {
			return "", "", "", err
		}
	}
	return subject, body, unsubscribe, nil
}

// MessagePreview is a step's message as one customer would get it now.
type MessagePreview struct {
	CustomerID model.CustomerID `json:"customer_id"`
	Subject    string           `json:"subject"`
	Body       string           `json:"body"`
	// Error says why the creative cannot be filled in for this customer
	// (a field without default has no value); Subject and Body are empty
	// then, never half filled.
	Error string `json:"error,omitempty"`
	// Decision is what the consent rules say now for this customer.
	Decision model.Decision `json:"decision"`
	// InAudience says whether the customer is in the step's audience.
	InAudience bool `json:"in_audience"`
}

// PreviewMessage renders a step's creative for one customer, with the
// consent decision a launch would make now, for the cockpit's preview.
// Actors who may not see personal data get it rendered from the masked
// record. The unsubscribe link is a sample.
func (r *Reader) PreviewMessage(step model.StepID, cid model.CustomerID) (MessagePreview, error) {
	pv := MessagePreview{CustomerID: cid}
	now := r.s.now()
	p, err := r.loadPlan(step, nil, now)
	if err != nil {
		return pv, err
	}
	if p.tmpl == nil {
		return pv, fmt.Errorf("step %d %q has no creative to preview", p.step.ID, p.step.Name)
	}
	ev := newEvaluator(r, p)
	if err := ev.load(cid, nil); err != nil {
		return pv, err
	}
	if pv.Decision, err = ev.decide(now); err != nil {
		return pv, err
	}
	f := model.AudienceFactsOf(&ev.cust)
	if sc, ok, err := r.Scores(cid); err != nil {
		return pv, err
	} else if ok {
		f.HasScores, f.RFMSegment, f.CLV = true, sc.Segment, sc.CLV
	}
	pv.InAudience = p.pred.Match(&f)
	ev.cust = r.present(&ev.cust)
	if pv.Subject, pv.Body, err = ev.render(0); err != nil {
		pv.Error = err.Error()
	}
	return pv, nil
}

// decodeFullConsentForDecision reads what the decision table needs of a full
// record (encodeConsent; format 1 of the ledger).
func decodeFullConsentForDecision(b []byte, ev *model.ConsentEvent) error {
	d := decoder{b: b}
	if d.version(consentVersion, "consent event"); d.err != nil {
		return d.err
	}
	ev.ID = model.EventID(d.uvarint())
	ev.CustomerID = model.CustomerID(d.uvarint())
	ev.Channel = model.KindFromCode(d.byte1())
	ev.PurposeID = model.PurposeID(d.uvarint())
	kind := d.raw()
	ev.Kind = ""
	for _, k := range model.ConsentKinds {
		if string(kind) == string(k) {
			ev.Kind = k
			break
		}
	}
	if ev.Kind == "" && d.err == nil {
		ev.Kind = model.ConsentKind(kind) // unknown: kept, and ignored by the rules
	}
	d.raw() // basis
	ev.EffectiveAt = d.time()
	ev.RecordedAt = d.time()
	return d.done("consent event")
}

// DeniedSample is one denied audience member in a preflight report.
type DeniedSample struct {
	CustomerID  model.CustomerID `json:"customer_id"`
	Name        string           `json:"name"` // masked for actors who may not see personal data
	Reason      model.Reason     `json:"reason"`
	Rule        int              `json:"rule"`
	EventID     model.EventID    `json:"event,omitempty"`
	Explanation string           `json:"explanation"`
}

// PreflightResult is what launching a step would do now.
type PreflightResult struct {
	StepID       model.StepID      `json:"step_id"`
	StepName     string            `json:"step"`
	CampaignID   model.CampaignID  `json:"campaign_id"`
	CampaignName string            `json:"campaign"`
	Channel      string            `json:"channel"`
	ChannelKind  model.ChannelKind `json:"channel_kind"`
	Purpose      string            `json:"purpose"`
	Segment      string            `json:"segment"`
	// Audience = Allowed + Denied.
	Audience int                  `json:"audience"`
	Allowed  int                  `json:"allowed"`
	Denied   int                  `json:"denied"`
	ByReason map[model.Reason]int `json:"by_reason"`
	// Unrenderable are allowed members for whom the creative cannot be
	// filled in (a field without default has no value); a launch records
	// their messages as dead letters.
	Unrenderable int `json:"unrenderable"`
	// EstimatedCost is (Allowed − Unrenderable) × the channel's cost per
	// contact; BudgetLeft is the campaign's planned budget minus its
	// actual spend, both in minor units of Currency.
	EstimatedCost model.Money `json:"estimated_cost"`
	BudgetLeft    model.Money `json:"budget_left"`
	OverBudget    bool        `json:"over_budget"`
	Currency      string      `json:"currency"`
	// Sample lists the first denied members with their reasons.
	Sample []DeniedSample `json:"sample"`
	// At is the evaluation time; LedgerPosition the newest consent event
	// then.
	At             time.Time     `json:"at"`
	LedgerPosition model.EventID `json:"ledger_position"`
	// Blocker says why a launch would be refused now ("" when it would
	// run): an unapproved campaign, a launched step, a paused channel.
	Blocker string `json:"launch_blocker,omitempty"`

	costPerContact model.Money
}

// PreflightOptions tune a preflight.
type PreflightOptions struct {
	// Sample is the number of denied members to list (default 20, -1 none).
	Sample int
	// Progress, when set, is called after each chunk of customers with the
	// last customer id looked at and the highest id there is.
	Progress func(scanned, last model.CustomerID)
}

// preflightChunk is the number of customers one read transaction looks
// at: short transactions let bbolt reuse pages while a preflight runs.
const preflightChunk = 50000

// Preflight evaluates a step's audience against the consent rules now,
// as a launch would, and changes nothing. Any actor may run it; the sample
// names are masked for actors who may not see personal data. Cancelling
// ctx stops it between chunks with ctx's error.
func (s *Store) Preflight(ctx context.Context, by model.Actor, step model.StepID, opts PreflightOptions) (PreflightResult, error) {
	var res PreflightResult
	if err := by.Require(model.PermSeeAggregates, "preflight campaign steps"); err != nil {
		return res, err
	}
	if opts.Sample == 0 {
		opts.Sample = 20
	}
	at := s.now()
	res = PreflightResult{StepID: step, ByReason: map[model.Reason]int{}, At: at, Sample: []DeniedSample{}}
	var after model.CustomerID
	for first := true; ; first = false {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var end bool
		var maxID model.CustomerID
		err := s.View(by, func(r *Reader) error {
			p, err := r.loadPlan(step, nil, at)
			if err != nil {
				return err
			}
			if first {
				res.fill(p, r)
			}
			maxID = model.CustomerID(r.tx.Bucket(bCustomers).Sequence())
			ev := newEvaluator(r, p)
			var scanErr error
			after, end, scanErr = r.scanAudience(p.pred, after, preflightChunk, func(cid model.CustomerID, rec []byte) (bool, error) {
				if err := ev.load(cid, rec); err != nil {
					return false, err
				}
				d, err := ev.decide(at)
				if err != nil {
					return false, err
				}
				res.Audience++
				res.ByReason[d.Reason]++
				if d.Allow {
					res.Allowed++
					if p.tmpl != nil {
						ok, err := ev.renderable()
						if err != nil {
							return false, err
						}
						if !ok {
							res.Unrenderable++
						}
					}
					return true, nil
				}
				res.Denied++
				if len(res.Sample) < opts.Sample {
					c := r.present(&ev.cust)
					res.Sample = append(res.Sample, DeniedSample{CustomerID: cid, Name: c.DisplayName(), Reason: d.Reason, Rule: d.Rule, EventID: d.EventID, Explanation: d.Explain()})
				}
				return true, nil
			})
			if scanErr == nil {
				releaseMappedPages(s.path) // see releaseMapped
			}
			return scanErr
		})
		if err != nil {
			return res, err
		}
		if opts.Progress != nil {
			opts.Progress(after, maxID)
		}
		if end {
			break
		}
	}
	res.EstimatedCost = model.Money(res.Allowed-res.Unrenderable) * res.costPerContact
	res.OverBudget = res.EstimatedCost > res.BudgetLeft
	return res, nil
}

// fill takes the names, budget and blocker from the plan.
func (res *PreflightResult) fill(p *launchPlan, r *Reader) {
	res.StepName, res.CampaignID, res.CampaignName = p.step.Name, p.campaign.ID, p.campaign.Name
	res.Channel, res.ChannelKind, res.Purpose, res.Segment = p.channel.Name, p.channel.Kind, p.purpose.Name, p.segment.Name
	res.BudgetLeft = p.campaign.Planned() - p.campaign.Spent()
	res.Currency = p.campaign.Currency
	res.costPerContact = p.channel.CostPerContact
	res.LedgerPosition = r.LedgerHead()
	if err := p.launchBlocker(); err != nil {
		res.Blocker = err.Error()
	}
}

// LaunchOptions tune a launch.
type LaunchOptions struct {
	// BatchSize is the number of audience members decided per transaction
	// (default 10,000).
	BatchSize int
	// Progress, when set, is called after each committed batch.
	Progress func(LaunchProgress)
}

// LaunchProgress reports a running launch after a committed batch.
type LaunchProgress struct {
	StepID   model.StepID
	Decided  int // decisions recorded for the step so far (all runs)
	Allowed  int
	Denied   int
	Messages int
	// Cursor is the last customer id looked at; LastID the highest
	// customer id (the fraction done is Cursor/LastID).
	Cursor model.CustomerID
	LastID model.CustomerID
}

// Fraction is how much of the customers the launch has looked at, 0–1.
func (p LaunchProgress) Fraction() float64 {
	if p.LastID == 0 {
		return 1
	}
	return min(1, float64(p.Cursor)/float64(p.LastID))
}

// LaunchResult is what a launch call did and where the step stands.
type LaunchResult struct {
	StepID model.StepID `json:"step_id"`
	// Complete: every customer is decided and the step is launched.
	// Otherwise the launch was cancelled and resumes with another call.
	Complete bool `json:"complete"`
	// Resumed: an earlier launch had been interrupted and this call
	// continued it.
	Resumed bool `json:"resumed"`
	// DecidedNow are the decisions this call recorded; the other counts
	// are for the whole launch so far.
	DecidedNow   int                  `json:"decided_now"`
	Audience     int                  `json:"audience"`
	Allowed      int                  `json:"allowed"`
	Denied       int                  `json:"denied"`
	ByReason     map[model.Reason]int `json:"by_reason"`
	Messages     int                  `json:"messages"`
	Unrenderable int                  `json:"unrenderable"`
	StartedAt    time.Time            `json:"started_at"`
	FinishedAt   time.Time            `json:"finished_at,omitzero"`
}

func (res *LaunchResult) take(l *LaunchState) {
	res.Complete = l.Finished()
	res.Audience, res.Allowed, res.Denied = l.Decided, l.Allowed, l.Denied
	res.ByReason = cloneCounts(l.ByReason)
	res.Messages, res.Unrenderable = l.Messages, l.Unrenderable
	res.StartedAt, res.FinishedAt = l.StartedAt, l.FinishedAt
}

func cloneCounts(m map[model.Reason]int) map[model.Reason]int {
	out := make(map[model.Reason]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// defaultLaunchBatch is the members decided per transaction: large enough
// that commits (each an fsync) do not dominate, small enough that a
// transaction's pages stay a few megabytes.
const defaultLaunchBatch = 10000

// Launch launches a step (see the rules at the top of this file): it
// records a decision, an audit entry and, for allowed members, an outbox
// message for every audience member, in batches. If ctx is cancelled it
// stops after the batch in flight, returns what was done with ctx's error,
// and a later Launch resumes. Launching a launched step returns
// ErrAlreadyLaunched and changes nothing.
func (s *Store) Launch(ctx context.Context, by model.Actor, step model.StepID, opts LaunchOptions) (LaunchResult, error) {
	res := LaunchResult{StepID: step}
	if err := by.Require(model.PermEditCampaigns, "launch campaign steps"); err != nil {
		return res, err
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = defaultLaunchBatch
	}
	for first := true; ; first = false {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var st LaunchState
		var lastID model.CustomerID
		var resumed bool
		n := 0
		err := s.Update(by, func(t *Tx) error {
			var err error
			st, resumed, n, err = t.launchBatch(step, first, opts.BatchSize)
			lastID = model.CustomerID(t.tx.Bucket(bCustomers).Sequence())
			return err
		})
		if err != nil {
			return res, err
		}
		if first {
			res.Resumed = resumed
		}
		s.releaseMapped()
		res.DecidedNow += n
		res.take(&st)
		if opts.Progress != nil {
			opts.Progress(LaunchProgress{StepID: step, Decided: st.Decided, Allowed: st.Allowed, Denied: st.Denied, Messages: st.Messages, Cursor: st.Cursor, LastID: lastID})
		}
		if st.Finished() {
			return res, nil
		}
	}
}

// releaseMapped lets go of the pages of the store file a batch has read
// (releaseMappedPages), so that a scan over a million customers keeps the
// process's resident size to what it works on, not the whole file.
func (s *Store) releaseMapped() {
	_ = s.db.View(func(*bolt.Tx) error {
		releaseMappedPages(s.path)
		return nil
	})
}

// maxScanFactor bounds the customers one batch looks at to this many times
// the batch size, so that a small audience in a large store still commits
// (and reports progress) regularly.
const maxScanFactor = 20

// launchBatch decides the next batch of a step's audience. first says this
// is the first batch of a Launch call (which starts or resumes the launch).
// It returns the launch state after the batch, whether an interrupted
// launch was resumed, and the decisions it recorded.
func (t *Tx) launchBatch(id model.StepID, first bool, limit int) (st LaunchState, resumed bool, n int, err error) {
	if err := t.require(model.PermEditCampaigns, "launch campaign steps"); err != nil {
		return st, false, 0, err
	}
	r := t.Reader()
	st, exists, err := r.LaunchState(id)
	if err != nil {
		return st, false, 0, err
	}
	var conds []model.Condition
	ref := t.now
	if exists {
		conds, ref = st.Conditions, st.StartedAt
		if conds == nil {
			conds = []model.Condition{} // the audience was everyone; do not re-read the segment
		}
	}
	p, err := r.loadPlan(id, conds, ref)
	if err != nil {
		return st, false, 0, err
	}
	if exists && p.step.Status == model.StepLaunched && !first {
		return st, false, 0, nil // a concurrent launcher finished it
	}
	if err := p.launchBlocker(); err != nil {
		return st, false, 0, err
	}
	launches, err := t.ensure(bLaunches)
	if err != nil {
		return st, false, 0, err
	}
	switch {
	case !exists:
		st = LaunchState{StepID: id, StartedAt: t.now, StartedBy: t.actor.Name, Conditions: slices.Clone(p.segment.Conditions), ByReason: map[model.Reason]int{}, Runs: 1}
		if p.campaign.Status == model.StatusApproved {
			if err := t.TransitionCampaign(p.campaign.ID, model.ActionStart, ""); err != nil {
				return st, false, 0, err
			}
		}
		p.step.Status, p.step.LaunchedBy = model.StepLaunching, t.actor.Name
		if err := t.PutStepState(&p.step); err != nil {
			return st, false, 0, err
		}
		if err := t.Audit("step.launch", fmt.Sprintf("step:%d", id), encodeLaunch(&st)); err != nil {
			return st, false, 0, err
		}
	case first:
		resumed = true
		st.Runs++
		if err := t.Audit("step.launch_resume", fmt.Sprintf("step:%d", id), encodeLaunch(&st)); err != nil {
			return st, false, 0, err
		}
	}
	n, err = t.decideBatch(p, &st, limit)
	if err != nil {
		return st, false, 0, err
	}
	if err := launches.Put(u64(uint64(id)), encodeLaunch(&st)); err != nil {
		return st, false, 0, err
	}
	if st.Finished() {
		p.step.Status, p.step.LaunchedAt = model.StepLaunched, t.now
		if err := t.PutStepState(&p.step); err != nil {
			return st, false, 0, err
		}
		if err := t.Audit("step.launched", fmt.Sprintf("step:%d", id), encodeLaunch(&st)); err != nil {
			return st, false, 0, err
		}
	}
	return st, resumed, n, nil
}

// decideBatch records the decisions of up to limit audience members after
// st.Cursor and moves the cursor; it marks st finished at the end of the
// customers.
func (t *Tx) decideBatch(p *launchPlan, st *LaunchState, limit int) (int, error) {
	r := t.Reader()
	decisions, err := t.ensure(bDecisions)
	if err != nil {
		return 0, err
	}
	ow, err := t.outboxWriter()
	if err != nil {
		return 0, err
	}
	ev := newEvaluator(r, p)
	ledger := r.LedgerHead()
	at := t.now
	subject := make([]byte, 0, 32)
	n, messages := 0, 0
	rec := DecisionRecord{
		StepID: p.step.ID, CampaignID: p.campaign.ID, ChannelID: p.channel.ID, Channel: p.channel.Kind,
		PurposeID: p.purpose.ID, At: at, LedgerPosition: ledger, DataCategories: p.data, DecidedBy: t.actor.Name,
	}
	// Decisions are committed with the cursor, so none should exist past
	// it; the next one that does (damage, or a launcher that did not keep
	// the cursor) is skipped: exactly one decision each.
	existing := decisions.Cursor()
	nextDecided := func(after model.CustomerID) model.CustomerID {
		k, _ := existing.Seek(decisionKey(p.step.ID, after+1))
		if len(k) != 16 || readU64(k) != uint64(p.step.ID) {
			return 0
		}
		return model.CustomerID(readU64(k[8:]))
	}
	decided := nextDecided(st.Cursor)
	last, end, err := r.scanAudience(p.pred, st.Cursor, limit*maxScanFactor, func(cid model.CustomerID, raw []byte) (bool, error) {
		key := decisionKey(p.step.ID, cid)
		if decided != 0 && cid >= decided {
			if decided = nextDecided(cid - 1); decided == cid {
				decided = nextDecided(cid)
				return n < limit, nil
			}
		}
		if err := ev.load(cid, raw); err != nil {
			return false, err
		}
		d, err := ev.decide(at)
		if err != nil {
			return false, err
		}
		seq, err := decisions.NextSequence()
		if err != nil {
			return false, err
		}
		rec.ID, rec.CustomerID, rec.MessageID = model.DecisionID(seq), cid, 0
		rec.Allow, rec.Reason, rec.Rule = d.Allow, d.Reason, d.Rule
		rec.EventID, rec.EventKind, rec.EventAt = d.EventID, d.EventKind, d.EventAt
		var msg *OutboxEntry
		if d.Allow {
			mid, err := ow.entries.NextSequence()
			if err != nil {
				return false, err
			}
			rec.MessageID = OutboxID(mid)
			msg = &OutboxEntry{
				ID: rec.MessageID, StepID: p.step.ID, CampaignID: p.campaign.ID, ChannelID: p.channel.ID, Channel: p.channel.Kind,
				PurposeID: p.purpose.ID, CustomerID: cid, DecisionID: rec.ID, Status: OutboxPending, CreatedAt: at, DueAt: at,
			}
			ok, err := ev.renderable()
			if err != nil {
				return false, err
			}
			if !ok {
				_, _, rerr := ev.render(0) // for the error naming the fields
				msg.Status, msg.LastError, msg.DueAt = OutboxDead, "cannot render the creative: "+rerr.Error(), time.Time{}
				st.Unrenderable++
			}
		}
		val := t.keep(encodeDecision(t.scratch[:0], &rec))
		if err := decisions.Put(key, val); err != nil {
			return false, err
		}
		subject = strconv.AppendUint(append(subject[:0], "customer:"...), uint64(cid), 10)
		action := "decision.deny"
		if d.Allow {
			action = "decision.allow"
		}
		if err := t.Audit(action, string(subject), val); err != nil {
			return false, err
		}
		if msg != nil {
			if err := ow.put(msg, nil); err != nil {
				return false, err
			}
			messages++
			st.Allowed++
		} else {
			st.Denied++
		}
		st.ByReason[d.Reason]++
		st.Decided++
		n++
		return n < limit, nil
	})
	if err != nil {
		return n, err
	}
	st.Cursor = last
	st.Messages += messages
	if end {
		st.FinishedAt = t.now
	}
	t.count("decisions", int64(n))
	t.change(ChangeStep, uint64(p.step.ID))
	return n, nil
}
