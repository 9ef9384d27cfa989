package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// Decisions: the recorded, provable outcome of the consent rules for one
// audience member of a launched step. There is exactly one per step and
// customer (the key), written by the launch in the same transaction as its
// audit entry and, when it allows, the outbox message; it is never changed
// afterwards. The dispatch-time re-check does not add a decision: it is
// recorded on the outbox entry (status suppressed_at_dispatch).
//
//	bucket decisions   sid(8) cid(8)   decision record (decisionVersion)
//
// Step-first keys make a launch append in customer order at one place of
// the tree, and list a step's decisions with one range scan. A person's
// decisions (for an export) are found with one Get per step.

// DecisionRecord is one recorded decision.
type DecisionRecord struct {
	ID         model.DecisionID  `json:"id"`
	StepID     model.StepID      `json:"step_id"`
	CampaignID model.CampaignID  `json:"campaign_id"`
	CustomerID model.CustomerID  `json:"customer_id"`
	ChannelID  model.ChannelID   `json:"channel_id"`
	Channel    model.ChannelKind `json:"channel"`
	PurposeID  model.PurposeID   `json:"purpose_id"`
	Allow      bool              `json:"allow"`
	Reason     model.Reason      `json:"reason"`
	Rule       int               `json:"rule"`
	// EventID, EventKind and EventAt name the consent event that decided
	// (EventID 0: the decision rests on facts or on the absence of events).
	EventID   model.EventID     `json:"event,omitempty"`
	EventKind model.ConsentKind `json:"event_kind,omitempty"`
	EventAt   time.Time         `json:"event_at,omitzero"`
	// At is the evaluation time t (and the knowledge time k): the rules
	// were applied to every event effective and recorded by then.
	At time.Time `json:"at"`
	// LedgerPosition is the newest consent event id at that moment:
	// replaying the customer's history up to it at At gives this decision.
	LedgerPosition model.EventID `json:"ledger_position"`
	// DataCategories are the data the step and its creative use (rule 7).
	DataCategories []model.DataCategory `json:"data_categories,omitempty"`
	DecidedBy      string               `json:"decided_by"`
	// MessageID is the outbox message an allowing decision created.
	MessageID OutboxID `json:"message_id,omitempty"`
}

// Decision returns the model form (for Explain).
func (d *DecisionRecord) Decision() model.Decision {
	return model.Decision{Allow: d.Allow, Reason: d.Reason, Rule: d.Rule, EventID: d.EventID, EventKind: d.EventKind, EventAt: d.EventAt}
}

const decisionVersion = 1

func decisionKey(step model.StepID, cid model.CustomerID) []byte {
	return appendU64(u64(uint64(step)), uint64(cid))
}

func consentKindCode(k model.ConsentKind) byte {
	for i, c := range model.ConsentKinds {
		if c == k {
			return byte(i + 1)
		}
	}
	return 0
}

func consentKindFromCode(b byte) model.ConsentKind {
	if b == 0 || int(b) > len(model.ConsentKinds) {
		return ""
	}
	return model.ConsentKinds[b-1]
}

func encodeDecision(buf []byte, d *DecisionRecord) []byte {
	e := encoder{buf: buf[:0]}
	e.byte1(decisionVersion)
	e.uvarint(uint64(d.ID))
	e.uvarint(uint64(d.StepID))
	e.uvarint(uint64(d.CampaignID))
	e.uvarint(uint64(d.CustomerID))
	e.uvarint(uint64(d.ChannelID))
	e.byte1(d.Channel.Code())
	e.uvarint(uint64(d.PurposeID))
	e.bool(d.Allow)
	e.byte1(reasonCode(d.Reason))
	e.uvarint(uint64(d.EventID))
	e.byte1(consentKindCode(d.EventKind))
	e.time(d.EventAt)
	e.time(d.At)
	e.uvarint(uint64(d.LedgerPosition))
	e.uvarint(uint64(len(d.DataCategories)))
	for _, c := range d.DataCategories {
		e.str(string(c))
	}
	e.str(d.DecidedBy)
	e.uvarint(uint64(d.MessageID))
	return e.buf
}

func decodeDecision(b []byte, d *DecisionRecord) error {
	dec := decoder{b: b}
	dec.version(decisionVersion, "decision")
	d.ID = model.DecisionID(dec.uvarint())
	d.StepID = model.StepID(dec.uvarint())
	d.CampaignID = model.CampaignID(dec.uvarint())
	d.CustomerID = model.CustomerID(dec.uvarint())
	d.ChannelID = model.ChannelID(dec.uvarint())
	d.Channel = model.KindFromCode(dec.byte1())
	d.PurposeID = model.PurposeID(dec.uvarint())
	d.Allow = dec.bool()
	d.Reason = reasonFromCode(dec.byte1())
	d.Rule = d.Reason.Rule()
	d.EventID = model.EventID(dec.uvarint())
	d.EventKind = consentKindFromCode(dec.byte1())
	d.EventAt = dec.time()
	d.At = dec.time()
	d.LedgerPosition = model.EventID(dec.uvarint())
	d.DataCategories = nil
	for range dec.count() {
		d.DataCategories = append(d.DataCategories, model.DataCategory(dec.str()))
	}
	d.DecidedBy = dec.str()
	d.MessageID = OutboxID(dec.uvarint())
	return dec.done("decision")
}

// bucketOrNil returns a bucket that a store created before it existed may
// lack; readers treat a missing bucket as empty.
func bucketOrNil(tx *bolt.Tx, name []byte) *bolt.Bucket { return tx.Bucket(name) }

// Decision returns the recorded decision of a step for a customer; ok is
// false when there is none (not in the audience, or not decided yet).
func (r *Reader) Decision(step model.StepID, cid model.CustomerID) (d DecisionRecord, ok bool, err error) {
	b := bucketOrNil(r.tx, bDecisions)
	if b == nil {
		return d, false, nil
	}
	v := b.Get(decisionKey(step, cid))
	if v == nil {
		return d, false, nil
	}
	return d, true, decodeDecision(v, &d)
}

// Decisions lists up to limit decisions of a step for customers after the
// id after (0: from the first), in customer order. The second result is
// the id to continue from, 0 when the list is complete.
func (r *Reader) Decisions(step model.StepID, after model.CustomerID, limit int) ([]DecisionRecord, model.CustomerID, error) {
	b := bucketOrNil(r.tx, bDecisions)
	if b == nil {
		return nil, 0, nil
	}
	if limit <= 0 {
		limit = 100
	}
	var out []DecisionRecord
	c := b.Cursor()
	for k, v := c.Seek(decisionKey(step, after+1)); k != nil && len(k) == 16 && readU64(k) == uint64(step); k, v = c.Next() {
		if len(out) == limit {
			return out, out[len(out)-1].CustomerID, nil
		}
		var d DecisionRecord
		if err := decodeDecision(v, &d); err != nil {
			return out, 0, fmt.Errorf("decision of step %d for customer %d: %w", step, readU64(k[8:]), err)
		}
		out = append(out, d)
	}
	return out, 0, nil
}

// CountDecisions counts a step's recorded decisions by walking them (the
// launch state keeps the same counts; this is the check).
func (r *Reader) CountDecisions(step model.StepID) (allowed, denied int, err error) {
	b := bucketOrNil(r.tx, bDecisions)
	if b == nil {
		return 0, 0, nil
	}
	c := b.Cursor()
	prefix := u64(uint64(step))
	for k, v := c.Seek(prefix); k != nil && len(k) == 16 && readU64(k) == uint64(step); k, v = c.Next() {
		// The allow flag sits after seven varints and a byte; decoding the
		// whole record is cheap enough for a check.
		var d DecisionRecord
		if err := decodeDecision(v, &d); err != nil {
			return allowed, denied, err
		}
		if d.Allow {
			allowed++
		} else {
			denied++
		}
	}
	return allowed, denied, nil
}

// CustomerDecisions returns every decision recorded about a customer, in
// step order, with one lookup per step.
func (r *Reader) CustomerDecisions(cid model.CustomerID) ([]DecisionRecord, error) {
	b := bucketOrNil(r.tx, bDecisions)
	if b == nil {
		return nil, nil
	}
	var out []DecisionRecord
	err := r.tx.Bucket(bSteps).ForEach(func(k, _ []byte) error {
		v := b.Get(decisionKey(model.StepID(readU64(k)), cid))
		if v == nil {
			return nil
		}
		var d DecisionRecord
		if err := decodeDecision(v, &d); err != nil {
			return fmt.Errorf("decision of step %d: %w", readU64(k), err)
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// customerMessages returns the messages a customer's decisions allowed
// (their outbox entries), in step order.
func (r *Reader) customerMessages(cid model.CustomerID) ([]OutboxEntry, error) {
	ds, err := r.CustomerDecisions(cid)
	if err != nil {
		return nil, err
	}
	var out []OutboxEntry
	for _, d := range ds {
		if d.MessageID == 0 {
			continue
		}
		m, err := r.OutboxEntry(d.MessageID)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// exportDecisions is the decision exporter of personal data exports: each
// decision with its explanation, and the fate of the message it allowed.
func exportDecisions(r *Reader, cid model.CustomerID) ([]json.RawMessage, error) {
	ds, err := r.CustomerDecisions(cid)
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, 0, len(ds))
	for i := range ds {
		x := struct {
			DecisionRecord
			Explanation string       `json:"explanation"`
			Message     *OutboxEntry `json:"message,omitempty"`
		}{DecisionRecord: ds[i], Explanation: ds[i].Decision().Explain()}
		if ds[i].MessageID != 0 {
			m, err := r.OutboxEntry(ds[i].MessageID)
			if err != nil {
				return nil, err
			}
			x.Message = &m
		}
		b, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
