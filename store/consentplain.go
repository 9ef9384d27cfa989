package store

import (
	"time"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// The projection of customers without consent history.
//
// An import creates (or, with its first purchase, changes the facts of)
// hundreds of thousands of customers who have no consent event yet. For
// them the decision table reads nothing but a few facts — erased or
// suppressed, the contact points, a minor or not, the existing-customer
// facts —, so each transaction decides each combination of facts once and
// shares the result: the decisions, the reach counter moves, and the
// encoded record itself while no scope carries a last use.

// projScope is one scope of the projection, in stored order (channel kind,
// then purpose), with the name of its reach counter.
type projScope struct {
	k       model.ChannelKind
	p       model.Purpose
	counter string
}

func projectionScopes(purposes []model.Purpose) []projScope {
	out := make([]projScope, 0, len(model.ChannelKinds)*len(purposes))
	for _, k := range model.ChannelKinds {
		for _, p := range purposes {
			out = append(out, projScope{k: k, p: p, counter: reachCounter(k, p.ID)})
		}
	}
	return out
}

// plainDecisions memoises, for one flush, the decisions of customers
// without consent events by the facts that decide them.
type plainDecisions struct {
	scopes []projScope
	now    time.Time
	memo   map[model.CustomerFacts]*plainEntry
	// moves are the reach counter moves from a shared stored projection
	// to an entry's decisions, with how many customers made them.
	moves map[plainMove]*plainMoves
}

// maxSharedStates bounds how many distinct stored projections a flush
// decodes once and shares (see flushConsentState).
const maxSharedStates = 256

type plainMove struct {
	from *ConsentState
	to   *plainEntry
}

type plainMoves struct {
	delta []int8 // per scope: -1, 0 or +1
	used  bool   // a scope of from carries a last use
	n     int64
}

type plainEntry struct {
	states  []ScopeState // the decisions, no last use
	encoded []byte       // the record of states, computed at now; kept in the transaction
	// fresh counts the customers with no projection before who got these
	// decisions: their reach counters move together in settle.
	fresh int64
}

// plainKey reduces the facts to what Decide reads when there are no
// events: the id matters only for matching events, and the birth date only
// for the minimum age (an adult and an unknown date decide alike).
func plainKey(f model.CustomerFacts, in *model.DecisionInput) model.CustomerFacts {
	f.ID = 0
	if min := in.Settings.MinAge; min <= 0 {
		f.BirthDate = model.Date{}
	} else if age := f.BirthDate.AgeAt(in.At); age < 0 || age >= min {
		f.BirthDate = model.Date{}
	}
	return f
}

// putPlainState writes the projection of a customer without consent
// events (in.Events is empty, in.Customer set) from the shared decisions,
// carrying each scope's last use over from old, and moves the reach
// counters. oldStored says that old is what the bucket holds: then an
// unchanged projection is not written again.
func (t *Tx) putPlainState(b *bolt.Bucket, old *ConsentState, oldShared, oldStored bool, in *model.DecisionInput, pd *plainDecisions) error {
	cid := in.Customer.ID
	key := plainKey(in.Customer, in)
	e := pd.memo[key]
	if e == nil {
		e = &plainEntry{states: make([]ScopeState, len(pd.scopes))}
		for i, sc := range pd.scopes {
			in.Channel, in.Purpose, in.LastContactAt = sc.k, sc.p, time.Time{}
			d := model.Decide(in)
			e.states[i] = ScopeState{Channel: sc.k, Purpose: sc.p.ID, Reason: d.Reason, EventID: d.EventID}
		}
		e.encoded = t.keep(encodeConsentState(&ConsentState{ComputedAt: pd.now, Scopes: e.states}))
		if pd.memo == nil {
			pd.memo = make(map[model.CustomerFacts]*plainEntry)
		}
		pd.memo[key] = e
	}
	if len(old.Scopes) == 0 {
		// No decision before (a new customer): every allowed scope adds
		// one to its counter, counted in settle.
		e.fresh++
		delete(t.states, cid)
		return b.Put(u64(uint64(cid)), e.encoded)
	}
	if oldShared {
		// Many customers move from this stored projection to these
		// decisions: work the counter moves out once.
		k := plainMove{old, e}
		m := pd.moves[k]
		if m == nil {
			m = &plainMoves{delta: make([]int8, len(pd.scopes))}
			aligned := true
			for i, sc := range pd.scopes {
				var p ScopeState
				if aligned && i < len(old.Scopes) && old.Scopes[i].Channel == sc.k && old.Scopes[i].Purpose == sc.p.ID {
					p = old.Scopes[i]
				} else {
					aligned = false
					p, _ = old.Scope(sc.k, sc.p.ID)
				}
				m.used = m.used || !p.LastContact.IsZero()
				if was, now := !t.recount && p.Reason != "" && p.Allow(), e.states[i].Allow(); was != now {
					m.delta[i] = 1
					if !now {
						m.delta[i] = -1
					}
				}
			}
			if pd.moves == nil {
				pd.moves = make(map[plainMove]*plainMoves)
			}
			pd.moves[k] = m
		}
		if !m.used {
			m.n++
			delete(t.states, cid)
			if oldStored && sameScopes(old.Scopes, e.states) {
				return nil // unchanged (a refresh): the stored record stands
			}
			t.projectionsWritten++
			return b.Put(u64(uint64(cid)), e.encoded)
		}
	}
	// prev finds old's state of scope i: by position while old is in the
	// stored order, else by search (as the general path does).
	aligned := true
	prev := func(i int) ScopeState {
		sc := &pd.scopes[i]
		if aligned && i < len(old.Scopes) && old.Scopes[i].Channel == sc.k && old.Scopes[i].Purpose == sc.p.ID {
			return old.Scopes[i]
		}
		aligned = false
		s, _ := old.Scope(sc.k, sc.p.ID)
		return s
	}
	used := false
	for i := range pd.scopes {
		p := prev(i)
		used = used || !p.LastContact.IsZero()
		if was, now := !t.recount && p.Reason != "" && p.Allow(), e.states[i].Allow(); was != now {
			if now {
				t.count(pd.scopes[i].counter, 1)
			} else {
				t.count(pd.scopes[i].counter, -1)
			}
		}
	}
	if !used {
		// A later read in this transaction decodes the record written here.
		delete(t.states, cid)
		if oldStored && sameScopes(old.Scopes, e.states) {
			return nil
		}
		t.projectionsWritten++
		return b.Put(u64(uint64(cid)), e.encoded)
	}
	next := &ConsentState{CustomerID: cid, ComputedAt: pd.now, Scopes: make([]ScopeState, len(pd.scopes))}
	aligned = true
	for i := range pd.scopes {
		next.Scopes[i] = e.states[i]
		next.Scopes[i].LastContact = prev(i).LastContact
	}
	if t.states == nil {
		t.states = make(map[model.CustomerID]*ConsentState)
	}
	t.states[cid] = next
	if oldStored && sameScopes(old.Scopes, next.Scopes) {
		next.ComputedAt = old.ComputedAt
		return nil
	}
	t.projectionsWritten++
	return b.Put(u64(uint64(cid)), t.keep(encodeConsentState(next)))
}

// settle moves the reach counters for the customers counted in fresh
// and in moves.
func (pd *plainDecisions) settle(t *Tx) {
	for _, m := range pd.moves {
		if m.n == 0 {
			continue
		}
		for i, d := range m.delta {
			if d != 0 {
				t.count(pd.scopes[i].counter, int64(d)*m.n)
			}
		}
		m.n = 0
	}
	for _, e := range pd.memo {
		if e.fresh == 0 {
			continue
		}
		for i, st := range e.states {
			if st.Allow() {
				t.count(pd.scopes[i].counter, e.fresh)
			}
		}
		e.fresh = 0
	}
}
