package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"karton/model"
	"karton/store/dispatch"
)

// The dispatcher drains the outbox through each channel's connector
// (store/dispatch). A batch goes through three steps:
//
//  1. Claim (one write transaction): take the messages that are due, check
//     consent again for each at this moment — a withdrawal, objection or
//     erasure since the launch, or the contact-pressure cap, stops the
//     message as suppressed_at_dispatch with the reason and the deciding
//     event, audited — render the creative from the customer record as it
//     is now, and mark the rest sending with a lease.
//  2. Send (no transaction open): hand each message to its connector, then
//     Sync every connector used, so that what counts as sent is durable on
//     the other side.
//  3. Record (one write transaction): sent messages become interactions
//     (kind sent, with the channel's cost as value), their cost is booked
//     to the campaign's "Contacts: <channel>" budget line; failures are
//     retried later with exponential backoff, and end as dead letters after
//     MaxAttempts or at once when the connector says retrying cannot help.
//
// If the process dies between 2 and 3, the lease runs out and the
// messages are sent again under the same message id, which every connector
// uses to drop the duplicate (file: the ids already in the step file;
// webhook: Idempotency-Key; SMTP: Message-ID).
//
// Batches are short for network connectors (webhook, smtp), so the consent
// check stays close to the send, and long for file and dry connectors,
// where throughput matters.

// DispatcherOptions configure a Dispatcher; zero values take the defaults.
type DispatcherOptions struct {
	// Connect builds the connector of a channel. The default is
	// dispatch.New with ConnectorOptions, where a file connector's relative
	// dir is taken relative to the store file's directory and a dry
	// connector's settings (notes for people) are ignored.
	Connect          func(ch model.Channel) (dispatch.Connector, error)
	ConnectorOptions dispatch.Options
	// BatchSize is the number of file and dry messages claimed per batch
	// (default 5,000); NetworkBatchSize that of webhook and smtp messages
	// (default 50).
	BatchSize        int
	NetworkBatchSize int
	// MaxAttempts before a message that keeps failing becomes a dead
	// letter (default 5).
	MaxAttempts int
	// RetryBackoff is the wait before the first retry, doubled for each
	// further one, capped at 6 hours (default 1 minute).
	RetryBackoff time.Duration
	// Lease is how long a claim holds; messages of a dispatcher that died
	// are tried again after it (default 30 minutes: a network batch with a
	// slow receiver and its retries must finish well within it, or another
	// dispatcher may send its messages a second time, which receivers drop
	// by their idempotency key).
	Lease time.Duration
	// PausedDelay is how long messages of a paused channel wait before
	// they are looked at again (default 15 minutes); waiting costs no
	// attempt.
	PausedDelay time.Duration
	// PollInterval is how long Run waits for work when nothing signals it
	// (default 30 s). Run also wakes when the outbox changes and when the
	// next retry is due.
	PollInterval time.Duration
	// LinkBase is the public address of the return channel the messages'
	// links point to when neither the channel (unsubscribe_base) nor the
	// store (MetaLinkBase) names one: `karton serve --http` passes its
	// listener's address. See links.go.
	LinkBase string
	// OnRunStarted, when set, is called when a run (RunOnce, or one round
	// of Run) finds messages due, before it claims the first batch; then
	// OnRunEnded is called with the run's total when it ends. The cockpit
	// shows a running task in its status bar in between.
	OnRunStarted func()
	OnRunEnded   func(DispatchReport)
	// OnBatch, when set, is called after each recorded batch.
	OnBatch func(DispatchReport)
	// OnError, when set, is told about errors Run carries on after.
	OnError func(error)
}

func (o DispatcherOptions) withDefaults() DispatcherOptions {
	if o.BatchSize <= 0 {
		o.BatchSize = 5000
	}
	if o.NetworkBatchSize <= 0 {
		o.NetworkBatchSize = 50
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = time.Minute
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Minute
	}
	if o.PausedDelay <= 0 {
		o.PausedDelay = 15 * time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 30 * time.Second
	}
	return o
}

// maxRetryBackoff caps the wait between two attempts at a message.
const maxRetryBackoff = 6 * time.Hour

// DispatchReport counts what dispatching did.
type DispatchReport struct {
	Batches int `json:"batches"`
	// Claimed messages were looked at; each ends in one of the counts
	// below.
	Claimed    int                  `json:"claimed"`
	Sent       int                  `json:"sent"`
	Suppressed int                  `json:"suppressed_at_dispatch"`
	ByReason   map[model.Reason]int `json:"by_reason"`
	// Retrying failed and wait for another attempt; Dead failed for good.
	Retrying  int `json:"retrying"`
	Dead      int `json:"dead"`
	Cancelled int `json:"cancelled"`
	// Deferred wait for their channel to be active again; Released were
	// claimed but not tried because dispatching was stopped.
	Deferred int `json:"deferred"`
	Released int `json:"released"`
	// Cost booked to campaigns, in minor units of the store's currency.
	Cost model.Money `json:"cost"`
	// Errors are distinct failure messages of this run (at most 10).
	Errors []string `json:"errors,omitempty"`
}

func (r *DispatchReport) add(o DispatchReport) {
	r.Batches += o.Batches
	r.Claimed += o.Claimed
	r.Sent += o.Sent
	r.Suppressed += o.Suppressed
	for k, v := range o.ByReason {
		if r.ByReason == nil {
			r.ByReason = map[model.Reason]int{}
		}
		r.ByReason[k] += v
	}
	r.Retrying += o.Retrying
	r.Dead += o.Dead
	r.Cancelled += o.Cancelled
	r.Deferred += o.Deferred
	r.Released += o.Released
	r.Cost += o.Cost
	for _, e := range o.Errors {
		r.noteError(e)
	}
}

func (r *DispatchReport) noteError(e string) {
	if len(r.Errors) < 10 && !containsString(r.Errors, e) {
		r.Errors = append(r.Errors, e)
	}
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Dispatcher sends the outbox. RunOnce drains what is due and returns; Run
// keeps doing that until its context ends, for the cockpit's background
// worker and `karton serve`. A Dispatcher is safe for concurrent use (its
// runs take turns); several dispatchers on one store never claim the same
// message.
type Dispatcher struct {
	s     *Store
	by    model.Actor
	opts  DispatcherOptions
	mu    sync.Mutex // one run at a time; guards conns and the buffers
	conns map[model.ChannelID]*connEntry
	// localItems and localStored are claimIn's buffers for local batches.
	localItems  []batchItem
	localStored []OutboxEntry
}

type connEntry struct {
	conn    dispatch.Connector
	updated time.Time // the channel's UpdatedAt it was built for
	err     error     // the settings are unusable
}

// NewDispatcher returns a dispatcher acting as by, who must be allowed to
// launch steps (sending is the second half of a launch) and to record
// interactions.
func NewDispatcher(s *Store, by model.Actor, opts DispatcherOptions) (*Dispatcher, error) {
	if err := by.Require(model.PermEditCampaigns, "dispatch messages"); err != nil {
		return nil, err
	}
	if err := by.Require(model.PermEditCustomers, "dispatch messages (each send is recorded as an interaction)"); err != nil {
		return nil, err
	}
	return &Dispatcher{s: s, by: by, opts: opts.withDefaults(), conns: map[model.ChannelID]*connEntry{}}, nil
}

// Close closes the connectors (flushing file connectors).
func (d *Dispatcher) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for id, c := range d.conns {
		if c.conn != nil {
			errs = append(errs, c.conn.Close())
		}
		delete(d.conns, id)
	}
	return errors.Join(errs...)
}

// Run dispatches until ctx ends, then returns nil. Errors of single runs
// go to OnError and do not stop it.
func (d *Dispatcher) Run(ctx context.Context) error {
	changes, stop := d.s.Subscribe()
	defer stop()
	for {
		if _, err := d.RunOnce(ctx); err != nil && ctx.Err() == nil && d.opts.OnError != nil {
			d.opts.OnError(err)
		}
		if ctx.Err() != nil {
			return nil
		}
		wait := d.opts.PollInterval
		var next time.Time
		_ = d.s.View(d.by, func(r *Reader) error { next = r.NextDue(); return nil })
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(d.s.now()), 50*time.Millisecond))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case _, ok := <-changes:
			timer.Stop()
			if !ok {
				return nil // the store closed
			}
			drain(changes)
		case <-timer.C:
		}
	}
}

// drain empties the channel of change batches that piled up (our own
// commits among them): one look at the outbox answers them all.
func drain(ch <-chan []Change) {
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

// RunOnce sends every message that is due now, batch by batch, and returns
// what it did. Cancelling ctx stops it after the batch in flight (claimed
// messages not yet tried are released for the next run).
func (d *Dispatcher) RunOnce(ctx context.Context) (DispatchReport, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var total DispatchReport
	started := false
	defer func() {
		if started && d.opts.OnRunEnded != nil {
			d.opts.OnRunEnded(total)
		}
	}()
	for ctx.Err() == nil {
		var due bool
		if err := d.s.View(d.by, func(r *Reader) error {
			next := r.NextDue()
			due = !next.IsZero() && !next.After(d.s.now())
			return nil
		}); err != nil {
			return total, err
		}
		if !due {
			break
		}
		if !started {
			started = true
			if d.opts.OnRunStarted != nil {
				d.opts.OnRunStarted()
			}
		}
		b, err := d.claim(ctx)
		if err != nil {
			return total, err
		}
		if len(b.items) > 0 {
			d.send(ctx, b)
			if err := d.record(b); err != nil {
				return total, err
			}
		}
		if b.report.Claimed == 0 && b.report.Deferred == 0 && !b.progressed {
			break // nothing was due after all (another dispatcher took it)
		}
		b.report.Batches = 1
		total.add(b.report)
		if d.opts.OnBatch != nil {
			d.opts.OnBatch(b.report)
		}
	}
	return total, nil
}

// sendResult is what became of one claimed message in the send step.
type sendResult uint8

const (
	resultUntried sendResult = iota // not tried: released
	resultSent
	resultRetry
	resultPermanent
	resultSuppressed // consent changed between claim and send, and now denies
)

type batchItem struct {
	entry    OutboxEntry // as claimed: Attempts counts this attempt
	msg      dispatch.Message
	plan     *launchPlan
	channel  model.Channel
	result   sendResult
	err      error
	decision model.Decision // resultSuppressed: the decision at send time,
	ledger   model.EventID  // the ledger position it used
	checked  time.Time      // and when it was made
}

type dispatchBatch struct {
	items []batchItem
	// ledger is the newest consent event when the batch was claimed.
	ledger model.EventID
	// inTx: the batch is sent while the claiming write transaction is
	// open, so consent cannot change before the send (no re-check needed).
	inTx bool
	// progressed: the claim took new messages (the outbox cursor moved),
	// even if none of them was claimed for sending.
	progressed bool
	report     DispatchReport
}

// local reports whether the channel's connector hands messages over
// in-process (files, a dry run): those are sent inside the claiming
// transaction — check, send, sync and record under one writer lock, with no
// lease — which halves what a batch writes. A crash before the commit
// leaves them pending; the resend finds them in the step file and drops
// the duplicates. Connectors from DispatcherOptions.Connect never count as
// local: they may need the store themselves.
func (d *Dispatcher) local(ch model.Channel) bool {
	return d.opts.Connect == nil && (ch.Connector.Kind == model.ConnectorFile || ch.Connector.Kind == model.ConnectorDry)
}

// claim is step 1 (and all of it for local channels): it takes the due
// messages in one write transaction.
func (d *Dispatcher) claim(ctx context.Context) (*dispatchBatch, error) {
	b := &dispatchBatch{}
	err := d.s.Update(d.by, func(t *Tx) error {
		b.items, b.report = b.items[:0], DispatchReport{ByReason: map[model.Reason]int{}}
		return d.claimIn(ctx, t, b)
	})
	return b, err
}

func (d *Dispatcher) claimIn(ctx context.Context, t *Tx, b *dispatchBatch) (rerr error) {
	r := t.Reader()
	ow, err := t.outboxWriter()
	if err != nil {
		return err
	}
	now := t.now
	// The candidates: waiting entries from the due index that are due,
	// then new messages after the cursor, in id order (see outbox.go).
	// Collect the ids first: the loop below rewrites the index.
	type candidate struct {
		id    OutboxID
		fresh bool // a new message, from after the cursor
	}
	var ids []candidate
	limit := max(d.opts.BatchSize, d.opts.NetworkBatchSize)
	c := ow.due.Cursor()
	for k, _ := c.First(); k != nil && len(ids) < limit; k, _ = c.Next() {
		if len(k) != 16 || timeFromKey(readU64(k)).After(now) {
			break
		}
		ids = append(ids, candidate{OutboxID(readU64(k[8:])), false})
	}
	c = ow.entries.Cursor()
	for k, _ := c.Seek(u64(uint64(ow.cursor) + 1)); k != nil && len(ids) < limit; k, _ = c.Next() {
		ids = append(ids, candidate{OutboxID(readU64(k)), true})
	}
	plans := map[model.StepID]*launchPlan{}
	evals := map[model.StepID]*evaluator{}
	// Contacts claimed in this batch count towards the cap like sent ones.
	var claimed map[capKey]int
	recent := func(cid model.CustomerID, k model.ChannelKind) int { return claimed[capKey{cid, k}] }
	capped := len(t.s.Settings().Caps) > 0
	if capped {
		claimed = map[capKey]int{}
	}
	// The local items and their entries as stored, in buffers kept from
	// batch to batch (runs take turns, so one set is enough).
	local, stored := d.localItems[:0], d.localStored[:0]
	defer func() {
		clear(local) // let the rendered messages go
		d.localItems, d.localStored = local[:0], stored[:0]
	}()
	b.items = make([]batchItem, 0, min(len(ids), d.opts.NetworkBatchSize))
	defer func() {
		if err := ow.finish(); err != nil && rerr == nil {
			rerr = err
		}
	}()
	network := 0
	entries := ow.entries.Cursor() // one cursor for all lookups: no allocation per Get
	ledger := r.LedgerHead()
	b.ledger = ledger
	var m OutboxEntry
	for _, cand := range ids {
		id := cand.id
		k, v := entries.Seek(u64(uint64(id)))
		if k == nil || readU64(k) != uint64(id) {
			return fmt.Errorf("outbox index points at message %d, which is missing", id)
		}
		if err := decodeOutbox(v, &m); err != nil {
			return fmt.Errorf("outbox message %d: %w", id, err)
		}
		if m.Status.Final() {
			if cand.fresh {
				ow.takeNew(id) // dead from the start (the creative could not be filled in)
				b.progressed = true
				continue
			}
			// A stale index entry (cannot happen unless damaged): drop it.
			if err := ow.due.Delete(dueKey(m.DueAt, id)); err != nil {
				return err
			}
			continue
		}
		p, ok := plans[m.StepID]
		if !ok {
			// The audience is not needed to send: skip the segment.
			if p, err = r.loadPlan(m.StepID, []model.Condition{}, now); err != nil {
				return fmt.Errorf("outbox message %d: %w", id, err)
			}
			if d.opts.LinkBase != "" {
				p.setLinkBase(d.s, r.storedLinkBase(), d.opts.LinkBase)
			}
			plans[m.StepID] = p
			evals[m.StepID] = newEvaluator(r, p)
			evals[m.StepID].recent = recent
		}
		inTx := d.local(p.channel)
		if !inTx && network >= d.opts.NetworkBatchSize || inTx && len(local) >= d.opts.BatchSize {
			if cand.fresh {
				break // new messages are taken in order: the next batch goes on here
			}
			continue // this kind's batch is full; the next batch takes it
		}
		old := m
		if cand.fresh {
			ow.takeNew(id)
			b.progressed = true
		}
		switch {
		case p.campaign.Status == model.StatusCancelled || p.step.Status == model.StepCancelled:
			m.Status, m.LastError, m.DueAt = OutboxCancelled, fmt.Sprintf("campaign %d was cancelled before the message was sent", p.campaign.ID), time.Time{}
			b.report.Cancelled++
			b.report.Claimed++
			if err := ow.put(&m, &old); err != nil {
				return err
			}
			continue
		case p.channel.Status != model.ChannelActive:
			m.DueAt, m.LastError = now.Add(d.opts.PausedDelay), fmt.Sprintf("channel %q is %s", p.channel.Name, p.channel.Status)
			b.report.Deferred++
			if err := ow.put(&m, &old); err != nil {
				return err
			}
			continue
		}
		b.report.Claimed++
		ev := evals[m.StepID]
		if err := ev.load(m.CustomerID, nil); err != nil {
			return fmt.Errorf("outbox message %d: %w", id, err)
		}
		dec, err := ev.decide(now)
		if err != nil {
			return fmt.Errorf("outbox message %d: %w", id, err)
		}
		if !dec.Allow {
			m.Status, m.Reason, m.EventID, m.CheckedAt, m.LedgerPosition = OutboxSuppressed, dec.Reason, dec.EventID, now, ledger
			m.DueAt = time.Time{}
			if err := ow.put(&m, &old); err != nil {
				return err
			}
			b.report.Suppressed++
			b.report.ByReason[dec.Reason]++
			if err := t.Audit("dispatch.suppress", fmt.Sprintf("customer:%d", m.CustomerID), encodeOutbox(nil, &m)); err != nil {
				return err
			}
			continue
		}
		subject, body, unsubscribe, err := ev.renderMessage(m.ID)
		if err != nil {
			m.Status, m.LastError, m.DueAt = OutboxDead, "cannot render the creative: "+err.Error(), time.Time{}
			if err := ow.put(&m, &old); err != nil {
				return err
			}
			b.report.Dead++
			b.report.noteError(m.LastError)
			continue
		}
		m.Attempts++
		if capped {
			claimed[capKey{m.CustomerID, p.channel.Kind}]++
		}
		it := batchItem{entry: m, plan: p, channel: p.channel, msg: dispatch.Message{
			ID: uint64(m.ID), CustomerID: m.CustomerID, CampaignID: m.CampaignID, StepID: m.StepID, ChannelID: m.ChannelID,
			Kind: p.channel.Kind, Recipient: recipientFor(p.channel.Kind, &ev.cust), Subject: subject, Body: body,
			UnsubscribeURL: unsubscribe, CreatedAt: m.CreatedAt, Attempt: m.Attempts,
		}}
		if inTx {
			local = append(local, it)
			stored = append(stored, old)
			continue
		}
		m.Status, m.DueAt = OutboxSending, now.Add(d.opts.Lease)
		if err := ow.put(&m, &old); err != nil {
			return err
		}
		it.entry = m
		b.items = append(b.items, it)
		network++
	}
	if len(local) == 0 {
		return nil
	}
	lb := &dispatchBatch{items: local, inTx: true}
	d.send(ctx, lb)
	set := newSettlement(t, &b.report)
	for i := range local {
		if err := set.settle(d, ow, &local[i], stored[i]); err != nil {
			return err
		}
	}
	return set.finish()
}

type capKey struct {
	cid  model.CustomerID
	kind model.ChannelKind
}

// recipientFor copies the contact data a channel kind needs, and no more
// (data minimisation): an email channel gets no postal address.
func recipientFor(k model.ChannelKind, c *model.Customer) dispatch.Recipient {
	r := dispatch.Recipient{Salutation: c.Salutation, FirstName: c.FirstName, LastName: c.LastName, Company: c.Company}
	address := func() {
		r.Street, r.PostalCode, r.City, r.Country = c.Address.Street, c.Address.PostalCode, c.Address.City, c.Address.Country
	}
	switch k {
	case model.KindEmail, model.KindWeb:
		r.Email = c.Email
	case model.KindSMS, model.KindMessenger, model.KindPhone:
		r.Phone = c.Phone
	case model.KindPostal:
		address()
	case model.KindSocial:
		r.Email, r.Phone = c.Email, c.Phone
	case model.KindEvent:
		r.Email = c.Email
		address()
	}
	return r
}

// send is step 2: no transaction is open while network connectors work
// (local ones run inside the claim). Just before each send of a network
// batch it looks whether the consent ledger moved since the claim; if the
// customer has a new event, it decides again, so a withdrawal recorded
// while the batch is on its way still stops the message.
func (d *Dispatcher) send(ctx context.Context, b *dispatchBatch) {
	used := map[model.ChannelID]dispatch.Connector{}
	for i := range b.items {
		it := &b.items[i]
		if ctx.Err() != nil {
			break // the rest stays untried and is released
		}
		if !b.inTx {
			if err := d.recheck(b, it); err != nil {
				it.result, it.err = resultRetry, err
				continue
			}
			if it.result == resultSuppressed {
				continue
			}
		}
		conn, err := d.connector(it.channel)
		if err != nil {
			it.result, it.err = resultRetry, err
			continue
		}
		used[it.channel.ID] = conn
		switch err := conn.Send(ctx, it.msg); {
		case err == nil:
			it.result = resultSent
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			it.result = resultUntried
		case dispatch.IsPermanent(err):
			it.result, it.err = resultPermanent, err
		default:
			it.result, it.err = resultRetry, err
		}
	}
	// Nothing counts as sent before the connector made it durable.
	for id, conn := range used {
		if err := conn.Sync(); err != nil {
			for i := range b.items {
				if it := &b.items[i]; it.channel.ID == id && it.result == resultSent {
					it.result, it.err = resultRetry, fmt.Errorf("sync: %w", err)
				}
			}
		}
	}
}

// recheck decides again for a claimed message whose customer has a consent
// event newer than the batch's claim (cheap when nobody has: one read of
// the ledger's head).
func (d *Dispatcher) recheck(b *dispatchBatch, it *batchItem) error {
	return d.s.View(d.by, func(r *Reader) error {
		head := r.LedgerHead()
		if head == b.ledger {
			return nil
		}
		cid := it.entry.CustomerID
		// A chunk of the ledger holds events after the one its key names,
		// so the customer's newest event is the last one read.
		events, err := r.appendDecisionEvents(nil, cid)
		if err != nil {
			return err
		}
		if len(events) == 0 || events[len(events)-1].ID <= b.ledger {
			return nil // nothing new for this customer
		}
		ev := newEvaluator(r, it.plan)
		if err := ev.load(cid, nil); err != nil {
			return err
		}
		at := d.s.now()
		dec, err := ev.decide(at)
		if err != nil {
			return err
		}
		if !dec.Allow {
			it.result, it.decision, it.ledger, it.checked = resultSuppressed, dec, head, at
		}
		return nil
	})
}

// connector returns the channel's connector, building it on first use and
// again when the channel's settings changed.
func (d *Dispatcher) connector(ch model.Channel) (dispatch.Connector, error) {
	if c, ok := d.conns[ch.ID]; ok && c.updated.Equal(ch.UpdatedAt) {
		return c.conn, c.err
	} else if ok && c.conn != nil {
		_ = c.conn.Close()
	}
	conn, err := d.connect(ch)
	if err != nil {
		err = fmt.Errorf("channel %q: %w", ch.Name, err)
	}
	d.conns[ch.ID] = &connEntry{conn: conn, updated: ch.UpdatedAt, err: err}
	return conn, err
}

func (d *Dispatcher) connect(ch model.Channel) (dispatch.Connector, error) {
	if d.opts.Connect != nil {
		return d.opts.Connect(ch)
	}
	ch.Connector.Settings = maps.Clone(ch.Connector.Settings)
	switch ch.Connector.Kind {
	case model.ConnectorDry:
		// A dry connector takes no settings; what a channel carries there
		// (a note on why it is dry) is for people.
		ch.Connector.Settings = nil
	case model.ConnectorFile:
		if dir := strings.TrimSpace(ch.Connector.Settings["dir"]); dir != "" {
			ch.Connector.Settings["dir"] = d.s.besideStore(dir)
		}
	}
	return dispatch.New(ch, d.opts.ConnectorOptions)
}

// besideStore resolves a path a channel's settings give: a relative one
// is taken from the store's directory.
func (s *Store) besideStore(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(filepath.Dir(s.path), path)
}

// record is step 3 for network batches: it writes what became of each
// message.
func (d *Dispatcher) record(b *dispatchBatch) error {
	var report DispatchReport
	err := d.s.Update(d.by, func(t *Tx) error {
		report = DispatchReport{}
		ow, err := t.outboxWriter()
		if err != nil {
			return err
		}
		set := newSettlement(t, &report)
		for i := range b.items {
			it := &b.items[i]
			cur, err := t.Reader().OutboxEntry(it.entry.ID)
			if err != nil {
				return err
			}
			if cur.Status != OutboxSending || cur.Attempts != it.entry.Attempts {
				continue // taken over by another dispatcher after our lease ran out
			}
			if err := set.settle(d, ow, it, cur); err != nil {
				return err
			}
		}
		return set.finish()
	})
	if err != nil {
		return err
	}
	b.report.Sent += report.Sent
	b.report.Suppressed += report.Suppressed
	for k, v := range report.ByReason {
		b.report.ByReason[k] += v
	}
	b.report.Cost += report.Cost
	b.report.Released += report.Released
	b.report.Retrying += report.Retrying
	b.report.Dead += report.Dead
	for _, e := range report.Errors {
		b.report.noteError(e)
	}
	return nil
}

// settlement writes the outcomes of tried messages in one transaction and
// books their cost once per campaign and channel at the end.
type settlement struct {
	t      *Tx
	report *DispatchReport
	spend  map[spendKey]model.Money
}

type spendKey struct {
	campaign model.CampaignID
	label    string
}

func newSettlement(t *Tx, report *DispatchReport) *settlement {
	return &settlement{t: t, report: report, spend: map[spendKey]model.Money{}}
}

// settle writes what became of one message; cur is its entry as stored.
func (s *settlement) settle(d *Dispatcher, ow *outboxWriter, it *batchItem, cur OutboxEntry) error {
	t, report := s.t, s.report
	m := cur
	m.Attempts = it.entry.Attempts
	switch it.result {
	case resultSent:
		m.Status, m.SentAt, m.Cost, m.LastError, m.DueAt = OutboxSent, t.now, it.channel.CostPerContact, "", time.Time{}
		err := t.AddInteraction(&model.Interaction{
			CustomerID: m.CustomerID, Kind: model.InteractionSent, Channel: it.channel.Kind, ChannelID: it.channel.ID,
			CampaignID: m.CampaignID, StepID: m.StepID, At: t.now, Value: m.Cost,
		})
		if err != nil {
			return fmt.Errorf("outbox message %d: record the contact: %w", m.ID, err)
		}
		if m.Cost != 0 {
			s.spend[spendKey{m.CampaignID, "Contacts: " + it.channel.Name}] += m.Cost
		}
		report.Sent++
		report.Cost += m.Cost
	case resultUntried:
		m.Status, m.DueAt = OutboxPending, t.now
		m.Attempts--
		report.Released++
	case resultSuppressed:
		dec := it.decision
		m.Status, m.Reason, m.EventID, m.CheckedAt, m.LedgerPosition, m.DueAt = OutboxSuppressed, dec.Reason, dec.EventID, it.checked, it.ledger, time.Time{}
		m.Attempts--
		report.Suppressed++
		if report.ByReason == nil {
			report.ByReason = map[model.Reason]int{}
		}
		report.ByReason[dec.Reason]++
		if err := t.Audit("dispatch.suppress", fmt.Sprintf("customer:%d", m.CustomerID), encodeOutbox(nil, &m)); err != nil {
			return err
		}
	case resultPermanent:
		m.Status, m.LastError, m.DueAt = OutboxDead, it.err.Error(), time.Time{}
		report.Dead++
		report.noteError(m.LastError)
	case resultRetry:
		m.LastError = it.err.Error()
		report.noteError(m.LastError)
		if m.Attempts >= d.opts.MaxAttempts {
			m.Status, m.DueAt = OutboxDead, time.Time{}
			m.LastError = fmt.Sprintf("gave up after %d attempts: %s", m.Attempts, m.LastError)
			report.Dead++
		} else {
			m.Status, m.DueAt = OutboxPending, t.now.Add(d.backoff(m.Attempts))
			report.Retrying++
		}
	}
	return ow.put(&m, &cur)
}

// finish books the spend and audits the batch.
func (s *settlement) finish() error {
	for k, amount := range s.spend {
		if err := s.t.BookSpend(k.campaign, k.label, amount); err != nil {
			return err
		}
	}
	r := s.report
	summary := fmt.Sprintf("sent %d, retrying %d, dead %d, released %d, cost %d", r.Sent, r.Retrying, r.Dead, r.Released, r.Cost)
	return s.t.Audit("dispatch.batch", "outbox", []byte(summary))
}

// backoff is the wait after the n-th failed attempt.
func (d *Dispatcher) backoff(n int) time.Duration {
	w := d.opts.RetryBackoff
	for i := 1; i < n && w < maxRetryBackoff; i++ {
		w *= 2
	}
	return min(w, maxRetryBackoff)
}
