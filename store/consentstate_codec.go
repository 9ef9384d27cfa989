package store

import (
	"fmt"
	"time"

	"karton/model"
)

// The record of a customer's consent projection (bucket consent_state).
//
// Format 2, written since the projections were made smaller, stores the
// scopes as runs: neighbouring scopes on one channel kind whose purpose ids
// follow each other and whose decision is the same (reason, deciding event,
// last contact) are one entry. Most of a customer's scopes are decided by
// the customer's facts alone (no contact point, no consent, an existing
// customer), so a channel's purposes mostly form one or two runs, and a
// projection takes ~1/3 of format 1's bytes. Fewer bytes are fewer pages: a
// consent import rewrites the projections of the customers it touches,
// which on a store of 100k customers is most pages of the bucket.
//
//	byte    format (2)
//	varint  computed at (Unix ns, 0 for none)
//	uvarint number of scopes
//	runs, until they cover that number of scopes:
//	  byte    head: channel kind code (low 4 bits) | runEvent | runContact | runLong
//	  uvarint purpose id of the first scope
//	  byte    reason code
//	  uvarint length - 2           if runLong (else the run is one scope)
//	  uvarint deciding event id    if runEvent (else none)
//	  varint  last contact, Unix ns if runContact (else none)
//
// Format 1 stores every scope in full (channel code, purpose, reason,
// event, last contact); it is still read, and a projection written again is
// written in format 2.
const (
	consentStateV1      = 1
	consentStateVersion = 2

	runEvent   = 1 << 4
	runContact = 1 << 5
	runLong    = 1 << 6

	// maxStateScopes bounds what a damaged record can make a reader
	// allocate (a store has 8 channel kinds × its purposes).
	maxStateScopes = 1 << 16
)

func encodeConsentState(cs *ConsentState) []byte { return appendConsentState(nil, cs) }

// appendConsentState appends the record of cs to buf (an import encodes
// thousands of them into one scratch buffer).
func appendConsentState(buf []byte, cs *ConsentState) []byte {
	e := encoder{buf: buf}
	e.byte1(consentStateVersion)
	e.time(cs.ComputedAt)
	e.uvarint(uint64(len(cs.Scopes)))
	sc := cs.Scopes
	for i := 0; i < len(sc); {
		s := &sc[i]
		n := 1
		for i+n < len(sc) && sameDecision(&sc[i+n], s) && sc[i+n].Purpose == s.Purpose+model.PurposeID(n) {
			n++
		}
		head := s.Channel.Code() // 0..len(ChannelKinds); a kind it does not know is 0
		if s.EventID != 0 {
			head |= runEvent
		}
		if !s.LastContact.IsZero() {
			head |= runContact
		}
		if n > 1 {
			head |= runLong
		}
		e.byte1(head)
		e.uvarint(uint64(s.Purpose))
		e.byte1(reasonCode(s.Reason))
		if n > 1 {
			e.uvarint(uint64(n - 2))
		}
		if s.EventID != 0 {
			e.uvarint(uint64(s.EventID))
		}
		if !s.LastContact.IsZero() {
			e.time(s.LastContact)
		}
		i += n
	}
	return e.buf
}

// sameDecision reports whether two scopes on one channel kind would be
// stored alike (the purpose aside).
func sameDecision(a, b *ScopeState) bool {
	// Equal reasons first: reasonCode matches a reason against each rule's.
	return a.Channel == b.Channel && (a.Reason == b.Reason || reasonCode(a.Reason) == reasonCode(b.Reason)) && a.EventID == b.EventID &&
		a.LastContact.IsZero() == b.LastContact.IsZero() && (a.LastContact.IsZero() || a.LastContact.UnixNano() == b.LastContact.UnixNano())
}

func decodeConsentState(cid model.CustomerID, b []byte) (*ConsentState, error) {
	cs := &ConsentState{}
	return cs, decodeConsentStateInto(cs, cid, b)
}

// decodeConsentStateInto decodes into cs, reusing the array of cs.Scopes
// when it is large enough (an import reads thousands of projections one
// after another).
func decodeConsentStateInto(cs *ConsentState, cid model.CustomerID, b []byte) error {
	at, runs, err := openStateRuns(b)
	if err != nil {
		return err
	}
	cs.CustomerID, cs.ComputedAt = cid, nanosTime(at)
	if cs.Scopes == nil || cap(cs.Scopes) < runs.left {
		// runs.left is bounded by maxStateScopes; a record that claims more
		// scopes than it holds fails below.
		cs.Scopes = make([]ScopeState, 0, runs.left)
	}
	cs.Scopes = cs.Scopes[:0]
	var run stateRun
	for runs.next(&run) {
		s := ScopeState{
			Channel:     model.KindFromCode(run.ch),
			Purpose:     model.PurposeID(run.purpose),
			Reason:      reasonFromCode(run.reason),
			EventID:     model.EventID(run.event),
			LastContact: nanosTime(run.contact),
		}
		for range run.n {
			cs.Scopes = append(cs.Scopes, s)
			s.Purpose++
		}
	}
	return runs.done()
}

// nanosTime is the time of a stored Unix-nanosecond value (0 is none).
func nanosTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// stateRun is one run of an encoded projection: n scopes on the channel
// kind with code ch, purposes purpose … purpose+n-1, all decided alike.
type stateRun struct {
	ch      byte
	purpose uint64
	n       int
	reason  byte
	event   uint64
	contact int64 // Unix ns, 0 for none
}

// stateRuns reads an encoded projection of either format run by run, in
// place (format 1's runs are one scope each). Readers that need only part
// of a projection (Check's last contact, the coverage tally) use it
// without decoding the scopes.
type stateRuns struct {
	d    decoder
	left int // scopes not read yet
	v1   bool
}

// openStateRuns reads a projection's header: when it was computed (Unix
// ns) and a reader of its runs.
func openStateRuns(b []byte) (int64, stateRuns, error) {
	r := stateRuns{}
	if len(b) == 0 {
		return 0, r, fmt.Errorf("decode consent state: %w", errCorrupt)
	}
	switch b[0] {
	case consentStateV1:
		r.v1 = true
	case consentStateVersion:
	default:
		if b[0] == 0 {
			return 0, r, fmt.Errorf("decode consent state: %w", errCorrupt)
		}
		return 0, r, fmt.Errorf("consent state record has format version %d, this Karton reads up to %d: upgrade Karton", b[0], consentStateVersion)
	}
	r.d.b = b[1:]
	at := r.d.varint()
	n := r.d.uvarint()
	switch {
	case r.d.err != nil:
	case r.v1 && n > uint64(len(r.d.b)), n > maxStateScopes:
		// Format 1 takes at least one byte per scope.
		r.d.err = errCorrupt
	default:
		r.left = int(n)
	}
	if r.d.err != nil {
		return 0, r, fmt.Errorf("decode consent state: %w", r.d.err)
	}
	return at, r, nil
}

// next reads the next run into run; false at the end or on damage (done
// tells which).
func (r *stateRuns) next(run *stateRun) bool {
	if r.left == 0 || r.d.err != nil {
		return false
	}
	head := r.d.byte1()
	if r.v1 {
		run.ch, run.n = head, 1
		run.purpose = r.d.uvarint()
		run.reason = r.d.byte1()
		run.event = r.d.uvarint()
		run.contact = r.d.varint()
	} else {
		run.ch, run.n = head&0x0f, 1
		run.purpose = r.d.uvarint()
		run.reason = r.d.byte1()
		if head&runLong != 0 {
			if extra := r.d.uvarint(); extra > uint64(r.left) {
				r.d.err = errCorrupt
			} else {
				run.n = int(extra) + 2
			}
		}
		run.event, run.contact = 0, 0
		if head&runEvent != 0 {
			run.event = r.d.uvarint()
		}
		if head&runContact != 0 {
			run.contact = r.d.varint()
		}
		if head&0x80 != 0 {
			r.d.err = errCorrupt
		}
	}
	if r.d.err == nil && run.n > r.left {
		r.d.err = errCorrupt
	}
	if r.d.err != nil {
		return false
	}
	r.left -= run.n
	return true
}

// done reports damage: a broken run, fewer runs than scopes, or bytes
// after the last run.
func (r *stateRuns) done() error {
	if r.d.err == nil && (r.left != 0 || len(r.d.b) != 0) {
		r.d.err = errCorrupt
	}
	if r.d.err != nil {
		return fmt.Errorf("decode consent state: %w", r.d.err)
	}
	return nil
}
