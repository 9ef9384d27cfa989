// Package demo builds a realistic, deterministic demo data set for
// `karton demo`: "Gartenglück", a German home & garden retailer with a web
// shop, stores and a two-year marketing history.
//
// Generate writes into an empty store: channels, purposes, users, segments,
// about twenty campaigns in every status, and customers with German and
// European names, addresses, phones and emails, consent histories covering
// every event kind except erasure, purchases from a BG/NBD-like buying
// process with gamma-gamma order values, and interactions (campaign
// funnels, visits, calls, chats). Campaign contacts respect the consent
// rules of PRODUCT.md §2 as they were known at the time of the contact,
// so the data set tells a consistent story.
//
// The same seed, number of customers and AsOf give identical data: every
// customer is drawn from its own random stream derived from (seed, index),
// independent of batching and of how many goroutines generate.
package demo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"karton/model"
	"karton/store"
)

// DefaultCustomers is the size of a demo data set when Options.Customers
// is zero.
const DefaultCustomers = 10000

// Options configure Generate.
type Options struct {
	// Customers to generate; 0 means DefaultCustomers. Works up to
	// millions (memory stays bounded: customers are written in batches).
	Customers int
	// Seed: the same seed, Customers and AsOf give identical data.
	Seed uint64
	// AsOf is the "today" of the data set (default: the store's clock);
	// the history spans the two years before it and planned campaigns the
	// months after. The store's clock must not be behind it.
	AsOf time.Time
	// Progress, when set, is called from the goroutine that called
	// Generate, at most about ten times a second and once at the end of
	// each phase.
	Progress func(Progress)
}

// Progress reports how far generation is. Phases: "setup", "customers",
// "indexes" (index entries written), "campaigns".
type Progress struct {
	Phase       string
	Done, Total int
}

// Report counts what Generate wrote; the counts equal the store's Stats
// for a store that was empty before.
type Report struct {
	Customers, Channels, Purposes, Campaigns, Steps, Segments, Users, ConsentEvents, Interactions, Purchases int
	Elapsed                                                                                                  time.Duration
}

// Secret derives the 32-byte store secret (store.Options.Secret) from the
// seed, so that a demo store is reproducible down to its suppression
// hashes.
func Secret(seed uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	h := sha256.Sum256(append([]byte("karton demo store secret v1\x00"), b[:]...))
	return h[:]
}

// batchSize is the number of customers written per transaction, with
// everything that belongs to them (~25 records each).
const batchSize = 1000

// ErrNotEmpty is returned when the store already holds customers.
var ErrNotEmpty = errors.New("the store already holds customers; demo data needs an empty store (use a new --db path)")

// Generate writes a demo data set into s, which must hold no customers and
// whose clock (store.Options.Now) should be fixed at opts.AsOf. It stops
// early when ctx is cancelled and returns ctx.Err(); what was written so far
// stays.
func Generate(ctx context.Context, s *store.Store, opts Options) (Report, error) {
	began := time.Now()
	var rep Report
	if opts.Customers < 0 {
		return rep, fmt.Errorf("demo: %d customers is not a size (give a positive number, or 0 for %d)", opts.Customers, DefaultCustomers)
	}
	if opts.Customers == 0 {
		opts.Customers = DefaultCustomers
	}
	if opts.AsOf.IsZero() {
		opts.AsOf = s.Now()
	}
	opts.AsOf = opts.AsOf.UTC()
	if now := s.Now(); opts.AsOf.After(now.Add(model.MaxClockSkew)) {
		return rep, fmt.Errorf("demo: AsOf %s is after the store's clock %s; records dated then would be in the future (open the store with Options.Now fixed at AsOf)",
			opts.AsOf.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	st, err := s.Stats()
	if err != nil {
		return rep, err
	}
	if st.Customers > 0 {
		return rep, fmt.Errorf("demo: %w (it has %d)", ErrNotEmpty, st.Customers)
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	pr := newProgress(opts.Progress)
	pr.report("setup", 0, 1, true)
	p := newPlan(opts.AsOf)
	w, err := setup(s, p, &rep)
	if err != nil {
		return rep, err
	}
	pr.report("setup", 1, 1, true)

	g := newGenerator(opts.Seed, opts.Customers, opts.AsOf, w)
	bulk, err := s.BeginBulkLoad(actorImporter)
	if err != nil {
		return rep, err
	}
	wr := newWriter(bulk, g, &rep)
	err = generateCustomers(ctx, g, wr, pr)
	if err == nil {
		err = ctx.Err()
	}
	// The customers written so far go into the indexes even when the
	// generation was cancelled: what was written stays, and usable.
	wr.emails = nil // no more customers: let the memory go before the index build
	ferr := bulk.Finish(context.WithoutCancel(ctx), func(done, total int) { pr.report("indexes", done, total, done == total) })
	if err == nil {
		err = ferr
	}
	if err != nil {
		rep.Elapsed = time.Since(began)
		return rep, err
	}
	if err := finishCampaigns(s, g, wr, pr); err != nil {
		rep.Elapsed = time.Since(began)
		return rep, err
	}
	err = s.Update(actorAdmin, func(tx *store.Tx) error {
		return tx.SetMeta("demo", "seed="+strconv.FormatUint(opts.Seed, 10)+" customers="+strconv.Itoa(opts.Customers)+" as_of="+opts.AsOf.Format(time.RFC3339))
	})
	rep.Elapsed = time.Since(began)
	return rep, err
}

// progress throttles the callback to about ten calls a second.
type progress struct {
	fn   func(Progress)
	last time.Time
}

func newProgress(fn func(Progress)) *progress { return &progress{fn: fn} }

func (p *progress) report(phase string, done, total int, force bool) {
	if p.fn == nil {
		return
	}
	now := time.Now()
	if !force && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	p.fn(Progress{Phase: phase, Done: done, Total: total})
}

// generateCustomers runs the pipeline: worker goroutines draw batches of
// customers (each customer from its own stream), the calling goroutine
// writes them in index order, one transaction per batch.
func generateCustomers(ctx context.Context, g *generator, wr *writer, pr *progress) error {
	type job struct {
		lo, hi int
		out    chan []custPlan
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan job)
	order := make(chan job, workers+1) // bounds the batches in memory
	go func() {
		defer close(jobs)
		defer close(order)
		for lo := 0; lo < g.n; lo += batchSize {
			j := job{lo: lo, hi: min(lo+batchSize, g.n), out: make(chan []custPlan, 1)}
			select {
			case order <- j:
			case <-gctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-gctx.Done():
				return
			}
		}
	}()
	for range workers {
		go func() {
			for j := range jobs {
				plans := make([]custPlan, 0, j.hi-j.lo)
				for i := j.lo; i < j.hi && gctx.Err() == nil; i++ {
					plans = append(plans, g.customer(i))
				}
				j.out <- plans
			}
		}()
	}
	pr.report("customers", 0, g.n, true)
	for j := range order {
		var plans []custPlan
		select {
		case plans = <-j.out:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := wr.write(plans); err != nil {
			return err
		}
		pr.report("customers", j.hi, g.n, j.hi == g.n)
	}
	return nil
}

// writer stores batches and keeps what must be decided in customer order:
// unique email addresses and event places up to capacity.
type writer struct {
	bulk   *store.BulkLoad
	g      *generator
	rep    *Report
	emails map[uint64]struct{}
	// per campaign: participants admitted, registrations booked, names
	// listed without registration
	participants [][]model.Participant
	booked       []int
	listed       []int
	// sends per step index, for the contact costs booked to budgets
	sends []int
	// stepIndex maps a step id back to its index in the plan
	stepIndex map[model.StepID]int
}

func newWriter(bulk *store.BulkLoad, g *generator, rep *Report) *writer {
	wr := &writer{
		bulk: bulk, g: g, rep: rep,
		emails:       make(map[uint64]struct{}, g.n),
		participants: make([][]model.Participant, len(g.p.campaigns)),
		booked:       make([]int, len(g.p.campaigns)),
		listed:       make([]int, len(g.p.campaigns)),
		sends:        make([]int, len(g.p.steps)),
		stepIndex:    make(map[model.StepID]int, len(g.p.steps)),
	}
	for i, id := range g.w.stepID {
		wr.stepIndex[id] = i
	}
	return wr
}

func emailKey(email string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(model.NormalizeEmail(email)))
	return h.Sum64()
}

// uniqueEmail makes the address unique the way people do when theirs is
// taken: a number after the name.
func (wr *writer) uniqueEmail(cp *custPlan) {
	if cp.c.Email == "" {
		return
	}
	key := emailKey(cp.c.Email)
	if _, taken := wr.emails[key]; taken {
		r := rng{newStream(wr.g.seed, streamDedup, uint64(cp.idx))}
		at := strings.LastIndexByte(cp.c.Email, '@')
		local, domain := cp.c.Email[:at], cp.c.Email[at:]
		for digits := 10; ; digits *= 10 {
			cand := local + strconv.Itoa(r.IntN(digits*9)+digits/10+1) + domain
			if k := emailKey(cand); !containsKey(wr.emails, k) {
				cp.c.Email, key = cand, k
				break
			}
		}
	}
	wr.emails[key] = struct{}{}
}

func containsKey(m map[uint64]struct{}, k uint64) bool { _, ok := m[k]; return ok }

// admit gives registrations a place while the event has room and adds the
// registration and attendance interactions.
func (wr *writer) admit(cp *custPlan, id model.CustomerID) {
	if len(cp.participations) == 0 {
		return
	}
	w := wr.g.w
	for _, pa := range cp.participations {
		cd := &wr.g.p.campaigns[pa.campaign]
		if pa.registeredAt.IsZero() {
			// Invited by name and did not register: on the list while it
			// has room for invitations (twice the places).
			if wr.listed[pa.campaign] < 2*cd.capacity {
				wr.listed[pa.campaign]++
				wr.participants[pa.campaign] = append(wr.participants[pa.campaign], model.Participant{CustomerID: id, Status: model.ParticipantInvited, At: pa.invitedAt})
			}
			continue
		}
		if wr.booked[pa.campaign] >= cd.capacity {
			continue // fully booked
		}
		wr.booked[pa.campaign]++
		// Registrations for an event that was called off stay registered:
		// the participants did not cancel, the company did.
		status, at := model.ParticipantRegistered, pa.registeredAt
		switch {
		case pa.cancelled:
			status = model.ParticipantCancelled
		case !pa.attendedAt.IsZero():
			status, at = model.ParticipantAttended, pa.attendedAt
		}
		wr.participants[pa.campaign] = append(wr.participants[pa.campaign], model.Participant{CustomerID: id, Status: status, At: at})
		ev := w.channels[chEvents]
		base := model.Interaction{CustomerID: id, Channel: ev.Kind, ChannelID: ev.ID, CampaignID: w.campaignID[pa.campaign]}
		reg := base
		reg.Kind, reg.At, reg.Note = model.InteractionRegistered, pa.registeredAt, "Anmeldung über die Website"
		if pa.step >= 0 {
			base.StepID = w.stepID[pa.step]
			reg.StepID, reg.Note = base.StepID, "Anmeldung über Einladungslink"
		}
		cp.interactions = append(cp.interactions, reg)
		if !pa.attendedAt.IsZero() {
			att := base
			att.Kind, att.At = model.InteractionAttended, pa.attendedAt
			cp.interactions = append(cp.interactions, att)
		}
	}
	slices.SortStableFunc(cp.interactions, func(a, b model.Interaction) int { return a.At.Compare(b.At) })
}

// write stores one batch in one transaction.
func (wr *writer) write(plans []custPlan) error {
	var nCons, nInter, nPurch int
	sends := make(map[int]int)
	w := wr.g.w
	err := wr.bulk.Update(actorImporter, func(tx *store.Tx) error {
		for i := range plans {
			cp := &plans[i]
			wr.uniqueEmail(cp)
			c := cp.c
			if err := tx.InsertCustomer(&c); err != nil {
				return fmt.Errorf("demo customer %d: %w", cp.idx, err)
			}
			wr.admit(cp, c.ID)
			for j := range cp.consents {
				cr := &cp.consents[j]
				ev := cr.ev
				ev.CustomerID = c.ID
				if cr.purpose >= 0 {
					ev.PurposeID = w.purposes[cr.purpose].ID
				}
				if err := tx.AppendConsent(&ev, cr.evidence); err != nil {
					return fmt.Errorf("demo customer %d consent %s: %w", cp.idx, ev.Kind, err)
				}
				nCons++
			}
			for j := range cp.purchases {
				pu := cp.purchases[j]
				pu.CustomerID = c.ID
				if err := tx.AddPurchase(&pu); err != nil {
					return fmt.Errorf("demo customer %d purchase %s: %w", cp.idx, pu.OrderID, err)
				}
				nPurch++
			}
			for j := range cp.interactions {
				in := cp.interactions[j]
				in.CustomerID = c.ID
				if err := tx.AddInteraction(&in); err != nil {
					return fmt.Errorf("demo customer %d interaction %s: %w", cp.idx, in.Kind, err)
				}
				if in.Kind == model.InteractionSent && in.StepID != 0 {
					sends[wr.stepIndex[in.StepID]]++
				}
				nInter++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	wr.rep.Customers += len(plans)
	wr.rep.ConsentEvents += nCons
	wr.rep.Interactions += nInter
	wr.rep.Purchases += nPurch
	for si, n := range sends {
		wr.sends[si] += n
	}
	return nil
}

// finishCampaigns takes the campaigns through their life cycle now that
// their participants and contacts exist: the operator submits, the
// manager approves (or rejects), the operator launches and completes or
// cancels; launched steps are marked, and spend is booked.
func finishCampaigns(s *store.Store, g *generator, wr *writer, pr *progress) error {
	p, w := g.p, g.w
	total := len(p.campaigns)
	pr.report("campaigns", 0, total, true)
	target := func(ci int) model.CampaignStatus { return p.campaigns[ci].status }
	setupR := rng{newStream(g.seed, streamSetup, 1)}
	planned := plannedBudgets(g, wr, setupR)
	// Round 1 (operator): final plans (budgets sized to the data set,
	// participant lists), then submit everything beyond draft and
	// everything that was rejected once.
	err := s.Update(actorOperator, func(tx *store.Tx) error {
		for ci, cd := range p.campaigns {
			id := w.campaignID[ci]
			parts, budget := wr.participants[ci], planned[ci]
			err := tx.UpdateCampaign(id, func(c *model.Campaign) error {
				c.Participants, c.Budget = parts, budget
				return nil
			})
			if err != nil {
				return fmt.Errorf("demo campaign %q plan: %w", cd.name, err)
			}
			if target(ci) != model.StatusDraft || cd.rejectNote != "" {
				if err := tx.TransitionCampaign(id, model.ActionSubmit, ""); err != nil {
					return fmt.Errorf("demo campaign %q: %w", cd.name, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Round 2 (manager): approve or reject — never one's own submission.
	err = s.Update(actorManager, func(tx *store.Tx) error {
		for ci, cd := range p.campaigns {
			id := w.campaignID[ci]
			switch {
			case cd.rejectNote != "":
				if err := tx.TransitionCampaign(id, model.ActionReject, cd.rejectNote); err != nil {
					return fmt.Errorf("demo campaign %q: %w", cd.name, err)
				}
			case target(ci) == model.StatusApproved, target(ci) == model.StatusRunning, target(ci) == model.StatusCompleted,
				target(ci) == model.StatusCancelled && cd.event:
				if err := tx.TransitionCampaign(id, model.ActionApprove, ""); err != nil {
					return fmt.Errorf("demo campaign %q: %w", cd.name, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Round 3 (operator): resubmit, launch, complete, cancel; step states
	// and spend.
	err = s.Update(actorOperator, func(tx *store.Tx) error {
		for ci, cd := range p.campaigns {
			id := w.campaignID[ci]
			var actions []model.CampaignAction
			switch target(ci) {
			case model.StatusSubmitted:
				if cd.rejectNote != "" {
					actions = []model.CampaignAction{model.ActionSubmit}
				}
			case model.StatusRunning:
				actions = []model.CampaignAction{model.ActionStart}
			case model.StatusCompleted:
				actions = []model.CampaignAction{model.ActionStart, model.ActionComplete}
			case model.StatusCancelled:
				if cd.event {
					actions = []model.CampaignAction{model.ActionStart}
				}
				actions = append(actions, model.ActionCancel)
			}
			for _, a := range actions {
				if err := tx.TransitionCampaign(id, a, ""); err != nil {
					return fmt.Errorf("demo campaign %q: %w", cd.name, err)
				}
			}
			for _, si := range cd.steps {
				sd := p.steps[si]
				var state model.StepStatus
				switch {
				case sd.launched:
					state = model.StepLaunched
				case target(ci) == model.StatusCancelled:
					state = model.StepCancelled
				default:
					continue
				}
				st, err := tx.Reader().Step(w.stepID[si])
				if err != nil {
					return err
				}
				st.Status = state
				if state == model.StepLaunched {
					st.LaunchedAt, st.LaunchedBy = sd.at, "olga"
				}
				if err := tx.PutStepState(&st); err != nil {
					return err
				}
			}
			// Spend: contact costs from the contacts made; other lines as
			// invoiced (completed) or so far (running).
			for bi, b := range cd.budget {
				var actual model.Money
				plan := planned[ci][bi].Planned
				if b.contact > 0 {
					ch := w.channels[b.contact-1]
					for _, si := range cd.steps {
						if p.steps[si].channel == b.contact-1 {
							actual += model.Money(wr.sends[si]) * ch.CostPerContact
						}
					}
				} else {
					switch target(ci) {
					case model.StatusCompleted:
						actual = model.Money(float64(plan) * setupR.uniform(0.86, 1.08))
					case model.StatusRunning:
						f := float64(g.asOf.Sub(cd.start)) / float64(cd.end.Sub(cd.start))
						actual = model.Money(float64(plan) * min(1, f) * setupR.uniform(0.9, 1.05))
					}
				}
				if actual > 0 {
					if err := tx.BookSpend(id, b.label, actual); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err == nil {
		pr.report("campaigns", total, total, true)
	}
	return err
}

// plannedBudgets sizes each campaign's budget to the data set: contact
// lines from the contacts the steps made (or, before launch, from the
// plan scaled to the number of customers), other lines with the square
// root of the size (a shop ten times larger does not spend ten times as
// much on its agency). The definitions are written for 100,000 customers.
func plannedBudgets(g *generator, wr *writer, r rng) [][]model.BudgetLine {
	f := max(float64(g.n)/100000, 0.01)
	out := make([][]model.BudgetLine, len(g.p.campaigns))
	for ci, cd := range g.p.campaigns {
		for _, b := range cd.budget {
			var plan float64
			if b.contact > 0 {
				sends, launched, all := 0, 0, 0
				for _, si := range cd.steps {
					if g.p.steps[si].channel != b.contact-1 {
						continue
					}
					all++
					if g.p.steps[si].launched {
						launched++
						sends += wr.sends[si]
					}
				}
				plan = float64(b.planned) * f
				if sends > 0 {
					cost := float64(g.w.channels[b.contact-1].CostPerContact)
					plan = float64(sends) * float64(all) / float64(launched) * cost * r.uniform(1.05, 1.3)
				}
			} else {
				plan = float64(b.planned) * math.Sqrt(f)
			}
			out[ci] = append(out[ci], model.BudgetLine{Label: b.label, Planned: roundMoney(plan)})
		}
	}
	return out
}

// roundMoney rounds a planned amount the way people write budgets:
// to 50 € above 1,000 €, to 10 € above 100 €, else to whole euros (at
// least 1 €).
func roundMoney(cents float64) model.Money {
	step := 100.0
	switch {
	case cents >= 100000:
		step = 5000
	case cents >= 10000:
		step = 1000
	}
	return model.Money(max(step, math.Round(cents/step)*step))
}
