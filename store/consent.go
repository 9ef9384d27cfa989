package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"karton/model"
)

// The consent engine's store side: a projection of every customer's
// current decision per channel kind × purpose (so screens and counts never
// replay history), reach counters maintained from it, Check for a full
// decision at any time t and knowledge time k, erasure with the suppression
// list, and the export of everything held about a person.
//
// The projection is one record per customer in bucket consent_state,
// recomputed in the same transaction whenever something a decision reads
// changes: a consent event, contact data, a purchase, erasure, or a use of
// the consent (last contact). It evaluates the decision table "now" for a
// step that uses no profiling data and a creative that carries the
// objection notice, i.e. the question "may we contact this person for this
// purpose on this channel at all?". Decisions that depend on the passing of
// time (a consent going stale, a minor turning 16) are exact in Check and
// at launch; the projection catches up when the customer next changes and
// at the daily refresh (RefreshConsentState).

var bConsentState = []byte("consent_state")

// ScopeState is the current decision for one channel kind and purpose.
type ScopeState struct {
	Channel model.ChannelKind
	Purpose model.PurposeID
	Reason  model.Reason
	EventID model.EventID
	// LastContact is when this consent was last used (a message sent).
	LastContact time.Time
}

// Allow reports whether the scope's decision allows contact.
func (s ScopeState) Allow() bool { return s.Reason.Allows() }

// ConsentState is a customer's projection: a decision per scope.
type ConsentState struct {
	CustomerID model.CustomerID
	ComputedAt time.Time
	Scopes     []ScopeState // by channel kind, then purpose id
}

// Scope finds the state of one scope.
func (cs *ConsentState) Scope(k model.ChannelKind, p model.PurposeID) (ScopeState, bool) {
	for _, s := range cs.Scopes {
		if s.Channel == k && s.Purpose == p {
			return s, true
		}
	}
	return ScopeState{}, false
}

func reasonCode(r model.Reason) byte { return byte(r.Rule()) }

// reasonsByCode maps a stored code back to its reason. It is built once
// and never changed: the projection decodes one reason per scope, and
// asking model.AllReasons (a fresh slice) each time was most of the cost of
// reading a projection.
var reasonsByCode = func() (t [256]model.Reason) {
	for _, r := range model.AllReasons() {
		if c := reasonCode(r); t[c] == "" {
			t[c] = r
		}
	}
	return t
}()

func reasonFromCode(b byte) model.Reason { return reasonsByCode[b] }

// reachCounter names the counter of customers contactable on a scope.
func reachCounter(k model.ChannelKind, p model.PurposeID) string {
	// Concatenation, not Sprintf: a bulk import names a few of these per
	// new customer.
	return "reach:" + string(k) + ":" + strconv.FormatUint(uint64(p), 10)
}

// ConsentState returns a customer's projection (nil if never computed).
func (r *Reader) ConsentState(cid model.CustomerID) (*ConsentState, error) {
	if r.w != nil {
		if cs, ok := r.w.states[cid]; ok {
			return cs, nil
		}
	}
	v := r.tx.Bucket(bConsentState).Get(u64(uint64(cid)))
	if v == nil {
		return nil, nil
	}
	return decodeConsentState(cid, v)
}

// Reach returns how many customers are contactable now on a scope, from
// the maintained counters.
func (r *Reader) Reach(k model.ChannelKind, p model.PurposeID) int64 {
	return r.Counter(reachCounter(k, p))
}

// purposesCached loads the purposes once per transaction.
func (t *Tx) purposesCached() ([]model.Purpose, []model.PurposeID, error) {
	if t.purposes == nil {
		ps, err := t.Reader().Purposes()
		if err != nil {
			return nil, nil, err
		}
		t.purposes = ps
		t.profiling = model.ProfilingPurposeIDs(ps)
	}
	return t.purposes, t.profiling, nil
}

// dirtyScopes says which of a customer's scopes must be recomputed.
type dirtyScopes struct {
	all    bool
	scopes []scopeKey
}

type scopeKey struct {
	k model.ChannelKind
	p model.PurposeID
}

// allScopesDirty is the one value that marks a whole projection dirty;
// nothing changes it (markScopeDirty leaves a value with all set alone),
// so a transaction that creates thousands of customers allocates no
// marker for each.
var allScopesDirty = &dirtyScopes{all: true}

// markConsentDirty asks for all of the customer's projection to be
// recomputed at the end of the transaction (the facts changed).
func (t *Tx) markConsentDirty(cid model.CustomerID) {
	if t.consentDirty == nil {
		t.consentDirty = make(map[model.CustomerID]*dirtyScopes)
	}
	t.consentDirty[cid] = allScopesDirty
}

// markScopeDirty asks for one scope to be recomputed: a scoped consent
// event or a use of the consent changes nothing else in the projection
// (which assumes no profiling data, so rule 7 never reaches across scopes).
func (t *Tx) markScopeDirty(cid model.CustomerID, k model.ChannelKind, p model.PurposeID) {
	if t.consentDirty == nil {
		t.consentDirty = make(map[model.CustomerID]*dirtyScopes)
	}
	d, ok := t.consentDirty[cid]
	if !ok {
		d = &dirtyScopes{}
		t.consentDirty[cid] = d
	}
	if !d.all && !slices.Contains(d.scopes, scopeKey{k, p}) {
		d.scopes = append(d.scopes, scopeKey{k, p})
	}
}

// markStateDirty asks for the customer's cached projection to be written
// at the end of the transaction without recomputing any decision.
func (t *Tx) markStateDirty(cid model.CustomerID) {
	if t.consentDirty == nil {
		t.consentDirty = make(map[model.CustomerID]*dirtyScopes)
	}
	if _, ok := t.consentDirty[cid]; !ok {
		t.consentDirty[cid] = &dirtyScopes{}
	}
}

// stateFor loads a customer's projection into the transaction's cache.
func (t *Tx) stateFor(cid model.CustomerID) (*ConsentState, error) {
	if cs, ok := t.states[cid]; ok {
		return cs, nil
	}
	cs, err := t.Reader().ConsentState(cid)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		cs = &ConsentState{CustomerID: cid}
	}
	if t.states == nil {
		t.states = make(map[model.CustomerID]*ConsentState)
	}
	t.states[cid] = cs
	return cs, nil
}

// NoteContact records that a consent was used (a message was sent), which
// keeps a confirmed opt-in from going stale (rule 8).
func (t *Tx) NoteContact(cid model.CustomerID, k model.ChannelKind, p model.PurposeID, at time.Time) error {
	cs, err := t.stateFor(cid)
	if err != nil {
		return err
	}
	for i := range cs.Scopes {
		if cs.Scopes[i].Channel == k && cs.Scopes[i].Purpose == p {
			if at.After(cs.Scopes[i].LastContact) {
				cs.Scopes[i].LastContact = at.UTC()
			}
			if r := cs.Scopes[i].Reason; r == "" || r == model.ReasonConsentStale {
				t.markScopeDirty(cid, k, p) // the use may make the consent fresh again
			} else {
				// Only rule 8 reads the last use, and a later use can only
				// turn CONSENT_STALE into CONSENT_DOI: the decision stands,
				// only the use is written.
				t.markStateDirty(cid)
			}
			return nil
		}
	}
	cs.Scopes = append(cs.Scopes, ScopeState{Channel: k, Purpose: p, LastContact: at.UTC()})
	t.markConsentDirty(cid)
	return nil
}

// flushConsentState recomputes the projection of every customer whose
// decision inputs changed, and moves the reach counters with it.
func (t *Tx) flushConsentState() error {
	if len(t.consentDirty) == 0 {
		return nil
	}
	purposes, profiling, err := t.purposesCached()
	if err != nil {
		return err
	}
	ids := make([]model.CustomerID, 0, len(t.consentDirty))
	for id := range t.consentDirty {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	settings := t.s.Settings()
	b := t.bucket(bConsentState)
	in := model.DecisionInput{ProfilingPurposes: profiling, Settings: settings, At: t.now, CreativeObjectionNotice: true}
	full := len(model.ChannelKinds) * len(purposes)
	plain := plainDecisions{scopes: projectionScopes(purposes), now: t.now}
	var events []model.ConsentEvent
	var scratch ConsentState
	// Stored projections that many customers share byte for byte (an
	// import writes the same record for everyone with the same facts)
	// are decoded once; shared ones are read only.
	shared := map[string]*ConsentState{}
	for _, cid := range ids {
		// The stored projection is decoded into scratch: most customers
		// take the plain path below, which keeps nothing of it.
		old, cached := t.states[cid]
		isShared := false
		if !cached {
			old = &scratch
			scratch.CustomerID, scratch.ComputedAt, scratch.Scopes = cid, time.Time{}, scratch.Scopes[:0]
			// A customer this transaction created has no stored state.
			if cc := t.customers[cid]; cc == nil || !cc.created {
				if v := b.Get(u64(uint64(cid))); v != nil {
					if s, ok := shared[string(v)]; ok {
						old, isShared = s, true
					} else if err := decodeConsentStateInto(&scratch, cid, v); err != nil {
						return err
					} else if len(shared) < maxSharedStates {
						s := &ConsentState{ComputedAt: scratch.ComputedAt, Scopes: slices.Clone(scratch.Scopes)}
						shared[string(v)] = s
						old, isShared = s, true
					}
				}
			}
		}
		dirty := t.consentDirty[cid]
		if dirty.all || len(dirty.scopes) > 0 || len(old.Scopes) != full || t.recount {
			cc, err := t.cachedCustomer(cid)
			if err != nil {
				return err
			}
			// Decide reads what appendLedgerDecisions keeps, which is
			// cheaper than the full history.
			if events, err = t.Reader().appendDecisionEvents(events[:0], cid); err != nil {
				return err
			}
			in.Customer = model.StoredFactsOf(cc.cur, cc.cur.ContactPoints)
			in.Events = events
			if len(events) == 0 && (dirty.all || len(old.Scopes) != full || t.recount) {
				// No consent history (every new customer): the decisions
				// follow from a few facts and are shared.
				if err := t.putPlainState(b, old, isShared, !cached, &in, &plain); err != nil {
					return err
				}
				continue
			}
		}
		if old == &scratch || isShared {
			// The paths below keep old's scopes in the new state.
			old = &ConsentState{CustomerID: cid, ComputedAt: old.ComputedAt, Scopes: slices.Clone(old.Scopes)}
		}
		decide := func(k model.ChannelKind, p model.Purpose, prev ScopeState) ScopeState {
			in.Channel, in.Purpose, in.LastContactAt = k, p, prev.LastContact
			d := model.Decide(&in)
			if was := !t.recount && prev.Reason != "" && prev.Allow(); was != d.Allow {
				if d.Allow {
					t.count(reachCounter(k, p.ID), 1)
				} else {
					t.count(reachCounter(k, p.ID), -1)
				}
			}
			return ScopeState{Channel: k, Purpose: p.ID, Reason: d.Reason, EventID: d.EventID, LastContact: prev.LastContact}
		}
		next := &ConsentState{CustomerID: cid, ComputedAt: t.now}
		if !dirty.all && len(old.Scopes) == full && !t.recount {
			// Only some scopes changed: recompute those, keep the rest.
			next.ComputedAt = old.ComputedAt
			next.Scopes = old.Scopes // old is replaced below; nothing else holds it
			if len(dirty.scopes) > 0 {
				next.Scopes = slices.Clone(old.Scopes)
			}
			for i, sc := range next.Scopes {
				if slices.Contains(dirty.scopes, scopeKey{sc.Channel, sc.Purpose}) {
					for _, p := range purposes {
						if p.ID == sc.Purpose {
							next.Scopes[i] = decide(sc.Channel, p, sc)
						}
					}
				}
			}
		} else {
			next.Scopes = make([]ScopeState, 0, full)
			for _, k := range model.ChannelKinds {
				for _, p := range purposes {
					prev, _ := old.Scope(k, p.ID)
					next.Scopes = append(next.Scopes, decide(k, p, prev))
				}
			}
		}
		if t.states == nil {
			t.states = make(map[model.CustomerID]*ConsentState)
		}
		if !cached && sameScopes(old.Scopes, next.Scopes) {
			// Nothing changed (a refresh, an event without effect): the
			// stored record stands, which spares the commit a page. (A
			// cached projection may differ from the stored one: NoteContact
			// changes it in place.)
			next.ComputedAt = old.ComputedAt
			t.states[cid] = next
			continue
		}
		t.states[cid] = next
		t.projectionsWritten++
		if err := b.Put(u64(uint64(cid)), t.keep(encodeConsentState(next))); err != nil {
			return err
		}
	}
	plain.settle(t)
	t.consentDirty = nil
	return nil
}

// sameScopes reports whether two projections decide every scope alike,
// from the same event, with the same last contact.
func sameScopes(a, b []ScopeState) bool {
	return slices.EqualFunc(a, b, func(x, y ScopeState) bool {
		return x.Channel == y.Channel && x.Purpose == y.Purpose && x.Reason == y.Reason && x.EventID == y.EventID && x.LastContact.Equal(y.LastContact)
	})
}

// CheckInput asks for one decision. Zero At means now; zero KnownAt means
// everything recorded so far.
type CheckInput struct {
	Customer model.CustomerID
	Channel  model.ChannelKind
	Purpose  model.PurposeID
	At       time.Time
	KnownAt  time.Time
	// The step's data categories and whether its creative carries the
	// objection notice; a check outside a step assumes no profiling data
	// and a creative with the notice.
	DataCategories []model.DataCategory
	WithoutNotice  bool
}

// CheckResult is a decision with what it was made from.
type CheckResult struct {
	model.Decision
	At      time.Time
	KnownAt time.Time
	// LedgerPosition is the newest ledger entry (consent event id) that
	// existed when the decision was made: replaying with the same inputs
	// and this position gives the same decision.
	LedgerPosition model.EventID
}

// Check evaluates the decision table for one customer and scope, reading
// the full consent history. Any actor may check (the answer holds no
// personal data).
func (r *Reader) Check(in CheckInput) (CheckResult, error) {
	now := r.s.now()
	if in.At.IsZero() {
		in.At = now
	}
	if in.KnownAt.IsZero() {
		in.KnownAt = now
	}
	facts, err := r.customerFacts(in.Customer)
	if err != nil {
		return CheckResult{}, err
	}
	purpose, err := r.Purpose(in.Purpose)
	if err != nil {
		return CheckResult{}, err
	}
	if !in.Channel.Valid() {
		return CheckResult{}, fmt.Errorf("unknown channel kind %q", in.Channel)
	}
	// The decision table reads only the ledger's chunks, not full events.
	events, err := r.appendDecisionEvents(nil, in.Customer)
	if err != nil {
		return CheckResult{}, err
	}
	// Only rule 7 reads the profiling purposes, and only for a step that
	// uses profiling data; reading all purposes for every check cost more
	// than the decision.
	var profiling []model.PurposeID
	if needsProfiling(in.DataCategories) {
		if profiling, err = r.profilingPurposes(); err != nil {
			return CheckResult{}, err
		}
	}
	settings := r.s.Settings()
	di := model.DecisionInput{
		Customer: facts, Channel: in.Channel, Purpose: purpose,
		ProfilingPurposes: profiling, DataCategories: in.DataCategories, CreativeObjectionNotice: !in.WithoutNotice,
		Events: events, At: in.At, KnownAt: in.KnownAt, Settings: settings,
	}
	if di.LastContactAt, err = r.lastContact(in.Customer, in.Channel, in.Purpose); err != nil {
		return CheckResult{}, err
	}
	if cap, ok := settings.Caps[in.Channel]; ok {
		di.RecentContacts = r.recentContacts(in.Customer, in.Channel, in.At, cap.Days)
	}
	return CheckResult{Decision: model.Decide(&di), At: in.At, KnownAt: in.KnownAt, LedgerPosition: r.LedgerHead()}, nil
}

func needsProfiling(cats []model.DataCategory) bool {
	for _, c := range cats {
		if c.NeedsProfiling() {
			return true
		}
	}
	return false
}

// lastContact reads when a scope's consent was last used from the
// customer's projection, decoding only up to that scope (Check needs
// nothing else from it).
func (r *Reader) lastContact(cid model.CustomerID, k model.ChannelKind, p model.PurposeID) (time.Time, error) {
	if r.w != nil {
		if cs, ok := r.w.states[cid]; ok {
			s, _ := cs.Scope(k, p)
			return s.LastContact, nil
		}
	}
	v := r.tx.Bucket(bConsentState).Get(u64(uint64(cid)))
	if v == nil {
		return time.Time{}, nil
	}
	_, runs, err := openStateRuns(v)
	if err != nil {
		return time.Time{}, err
	}
	code := k.Code()
	var run stateRun
	for runs.next(&run) {
		if run.ch == code && uint64(p) >= run.purpose && uint64(p)-run.purpose < uint64(run.n) {
			return nanosTime(run.contact), nil
		}
	}
	return time.Time{}, runs.done()
}

func (r *Reader) profilingPurposes() ([]model.PurposeID, error) {
	ps, err := r.Purposes()
	if err != nil {
		return nil, err
	}
	return model.ProfilingPurposeIDs(ps), nil
}

// recentContacts counts messages sent to the customer on a channel kind in
// the days up to at (for the contact-pressure cap).
func (r *Reader) recentContacts(cid model.CustomerID, k model.ChannelKind, at time.Time, days int) int {
	from := at.AddDate(0, 0, -days)
	prefix := u64(uint64(cid))
	seek := appendU64(append([]byte(nil), prefix...), timeKey(at)+1)
	c := r.tx.Bucket(bInteractions).Cursor()
	n := 0
	var i model.Interaction
	k0, v := c.Seek(seek)
	if k0 == nil {
		k0, v = c.Last()
	} else {
		k0, v = c.Prev()
	}
	for ; k0 != nil && len(k0) == 24 && readU64(k0) == uint64(cid); k0, v = c.Prev() {
		if timeFromKey(readU64(k0[8:])).Before(from) {
			break
		}
		if decodeInteraction(k0, v, &i) == nil && i.Kind == model.InteractionSent && i.Channel == k {
			n++
		}
	}
	return n
}

// LedgerHead is the id of the newest consent event (0 when there is none).
func (r *Reader) LedgerHead() model.EventID {
	k, _ := r.tx.Bucket(bConsentIDs).Cursor().Last()
	return model.EventID(readU64(k))
}

// EraseCustomer removes a person's personal data and consent evidence,
// keeps the pseudonymous ledger and audit chain, records an erasure event
// and puts keyed hashes of the contact points on the suppression list
// (admin only).
func (t *Tx) EraseCustomer(cid model.CustomerID) error {
	if err := t.require(model.PermAdminister, "erase customers"); err != nil {
		return err
	}
	cc, err := t.cachedCustomer(cid)
	if err != nil {
		return err
	}
	if cc.cur.Erased {
		return fmt.Errorf("customer %d was erased already (on %s)", cid, cc.cur.ErasedAt.Format("2006-01-02"))
	}
	if err := t.suppress(cc.cur); err != nil {
		return err
	}
	events, err := t.Reader().appendDecisionEvents(nil, cid)
	if err != nil {
		return err
	}
	ev := t.bucket(bEvidence)
	for _, e := range events {
		if err := ev.Delete(u64(uint64(e.ID))); err != nil {
			return err
		}
	}
	if err := t.eraseActivityText(cid); err != nil {
		return err
	}
	// A suggestion to merge with the erased record can no longer be acted
	// on, and would tell that someone of the same name lived at that
	// postcode.
	if err := t.dropSuggestions(cid); err != nil {
		return err
	}
	before := *cc.cur
	erased := &model.Customer{
		ID: cid, Type: before.Type, CreatedAt: before.CreatedAt, UpdatedAt: t.now,
		Erased: true, ErasedAt: t.now,
		LastActivityAt: before.LastActivityAt, PurchaseCount: before.PurchaseCount, Revenue: before.Revenue,
		FirstPurchaseAt: before.FirstPurchaseAt, LastPurchaseAt: before.LastPurchaseAt,
	}
	if err := t.putUniqueIndexes(&before, erased); err != nil {
		return err
	}
	cc.cur, cc.dirty = erased, true
	erasure := model.ConsentEvent{CustomerID: cid, Kind: model.ConsentErasure, EffectiveAt: t.now, Source: "operator"}
	if err := t.AppendConsent(&erasure, nil); err != nil {
		return err
	}
	t.change(ChangeCustomer, uint64(cid))
	return t.Audit("customer.erase", fmt.Sprintf("customer:%d", cid), encodeConsent(nil, &erasure))
}

// erasedText replaces a connector's error about an erased person's
// message: it may quote the address it failed at.
const erasedText = "(removed when the customer was erased)"

// eraseActivityText removes the free text kept about a person's
// activity: the notes of their interactions (what they wrote in a reply or
// a chat, what a caller noted) and the connectors' errors about their
// messages. What happened, when, on which channel and at what value stays,
// pseudonymous, for the counts and KPIs.
func (t *Tx) eraseActivityText(cid model.CustomerID) error {
	b := t.bucket(bInteractions)
	prefix := u64(uint64(cid))
	var puts []keyVal
	var i model.Interaction
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := decodeInteraction(k, v, &i); err != nil {
			return fmt.Errorf("interaction of customer %d: %w", cid, err)
		}
		if i.Note == "" {
			continue
		}
		i.Note = ""
		puts = append(puts, keyVal{slices.Clone(k), encodeInteraction(nil, &i)})
	}
	for _, kv := range puts { // not while the cursor walks the bucket
		if err := b.Put(kv.k, kv.v); err != nil {
			return err
		}
	}
	messages, err := t.Reader().customerMessages(cid)
	if err != nil {
		return err
	}
	var w *outboxWriter
	for _, m := range messages {
		if m.LastError == "" || m.LastError == erasedText {
			continue
		}
		if w == nil {
			if w, err = t.outboxWriter(); err != nil {
				return err
			}
		}
		old := m
		m.LastError = erasedText
		if err := w.put(&m, &old); err != nil {
			return err
		}
	}
	if w != nil {
		return w.finish()
	}
	return nil
}

// liftSuppression is called when an explicit opt-in with evidence is
// recorded for a suppressed customer: the contact point it was given for
// comes off the list (audited), and the customer is no longer suppressed
// once none of their current contact points is on it.
func (t *Tx) liftSuppression(c *model.Customer, ev *model.ConsentEvent) error {
	b := t.bucket(bSuppression)
	var h []byte
	switch ev.Channel {
	case model.KindEmail:
		if e := model.NormalizeEmail(c.Email); e != "" {
			h = t.s.contactHash("email", e)
		}
	case model.KindSMS, model.KindMessenger, model.KindPhone:
		if c.Phone != "" {
			h = t.s.contactHash("phone", c.Phone)
		}
	}
	lifted := h != nil && b.Get(h) != nil
	if lifted {
		if err := b.Delete(h); err != nil {
			return err
		}
	}
	still := false
	for _, x := range t.s.contactHashes(c) {
		still = still || b.Get(x) != nil
	}
	if still && !lifted {
		return nil
	}
	// Either the opt-in's contact point came off the list, or the customer
	// was marked for one they no longer have (an address corrected since,
	// one a merge brought): with none of theirs on the list, the mark goes.
	c.Suppressed = still
	payload := h
	if !lifted {
		payload = []byte("no contact point of the customer is on the list")
	}
	return t.Audit("suppression.lift", fmt.Sprintf("customer:%d", c.ID), payload)
}

// RebuildConsentState recomputes every customer's projection and the reach
// counters from scratch (admin only), in batches; returns the customers done.
func (s *Store) RebuildConsentState(by model.Actor) (int, error) {
	if err := by.Require(model.PermAdminister, "rebuild the consent projection"); err != nil {
		return 0, err
	}
	n, _, err := s.recomputeConsentStates(context.Background(), by, true)
	return n, err
}

// RefreshConsentState re-decides every customer's projection "now" and
// moves the reach counters by what changed, in batches. Decisions change
// with the passing of time alone (a consent going stale, a minor turning
// 16), which no event marks: without a refresh, the projection and the
// reach counts tell what was true when the customer last changed. Karton
// runs it once a day while the cockpit or the server is open
// (RefreshConsentStateEvery); unchanged projections are not written.
// Returns the customers looked at and the projections that changed; when
// ctx ends it stops between batches.
func (s *Store) RefreshConsentState(ctx context.Context, by model.Actor) (customers, changed int, err error) {
	if err := by.Require(model.PermEditCustomers, "refresh the consent projection"); err != nil {
		return 0, 0, err
	}
	customers, changed, err = s.recomputeConsentStates(ctx, by, false)
	if err != nil {
		return customers, changed, err
	}
	err = s.Update(by, func(t *Tx) error {
		return t.tx.Bucket(bMeta).Put(metaConsentRefreshed, u64(uint64(t.now.UnixNano())))
	})
	return customers, changed, err
}

// metaConsentRefreshed holds when RefreshConsentState last finished.
var metaConsentRefreshed = []byte("consent_refreshed")

// ConsentRefreshedAt is when the projection was last refreshed (zero if
// never).
func (r *Reader) ConsentRefreshedAt() time.Time {
	v := r.tx.Bucket(bMeta).Get(metaConsentRefreshed)
	if len(v) != 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(readU64(v))).UTC()
}

// RefreshConsentStateEvery refreshes the projection whenever the last
// refresh is interval old (at once, if it already is), until ctx ends, and
// tells done what each refresh did. A failed refresh is tried again an
// interval later.
func (s *Store) RefreshConsentStateEvery(ctx context.Context, interval time.Duration, done func(customers, changed int, err error)) {
	for {
		var last time.Time
		_ = s.View(SystemActor, func(r *Reader) error { last = r.ConsentRefreshedAt(); return nil })
		wait := last.Add(interval).Sub(s.now())
		if wait <= 0 {
			customers, changed, err := s.RefreshConsentState(ctx, SystemActor)
			if ctx.Err() != nil {
				return
			}
			if done != nil {
				done(customers, changed, err)
			}
			wait = interval
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(wait, time.Hour)): // the clock may jump: look again within the hour
		}
	}
}

// recomputeConsentStates recomputes every customer's projection in
// batches of 2000, from scratch (rebuild: the reach counters are reset and
// every customer is counted again) or as a refresh (the counters move by
// what changed), until done or ctx ends. It returns the customers done and
// the projections that changed.
func (s *Store) recomputeConsentStates(ctx context.Context, by model.Actor, rebuild bool) (customers, changed int, err error) {
	var after model.CustomerID
	for first := true; ; first = false {
		if err := ctx.Err(); err != nil {
			return customers, changed, err // between batches: what is done stays consistent
		}
		var last model.CustomerID
		count := 0
		err := s.Update(by, func(t *Tx) error {
			if first && rebuild {
				// Reset the reach counters; every customer is re-added below.
				c := t.tx.Bucket(bCounters).Cursor()
				prefix := []byte("reach:")
				var keys [][]byte
				for k, _ := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix); k, _ = c.Next() {
					keys = append(keys, append([]byte(nil), k...))
				}
				for _, k := range keys {
					if err := t.tx.Bucket(bCounters).Delete(k); err != nil {
						return err
					}
				}
			}
			t.recount = rebuild
			c := t.tx.Bucket(bCustomers).Cursor()
			for k, _ := c.Seek(u64(uint64(after) + 1)); k != nil && count < 2000; k, _ = c.Next() {
				last = model.CustomerID(readU64(k))
				t.markConsentDirty(last)
				count++
			}
			if err := t.flushConsentState(); err != nil {
				return err
			}
			changed += t.projectionsWritten
			return nil
		})
		if err != nil {
			return customers, changed, err
		}
		customers += count
		if count == 0 {
			return customers, changed, nil
		}
		after = last
	}
}
