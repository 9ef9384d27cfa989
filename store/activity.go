package store

import (
	"bytes"
	"fmt"

	"karton/model"
)

// AddInteraction records a contact or response. The customer's last
// activity moves forward with it.
func (t *Tx) AddInteraction(i *model.Interaction) error {
	if err := t.require(model.PermEditCustomers, "record interactions"); err != nil {
		return err
	}
	if err := i.Validate(t.now); err != nil {
		return err
	}
	c, err := t.touchCustomer(i.CustomerID)
	if err != nil {
		return err
	}
	id, err := t.nextID(bInteractions)
	if err != nil {
		return err
	}
	i.ID = model.InteractionID(id)
	i.At = i.At.UTC()
	val := t.keep(encodeInteraction(t.scratch[:0], i))
	if err := t.bucket(bInteractions).Put(activityKey(i.CustomerID, i.At, id), val); err != nil {
		return err
	}
	if i.At.After(c.LastActivityAt) {
		c.LastActivityAt = i.At
	}
	if i.Kind == model.InteractionSent && i.StepID != 0 {
		// A message sent uses the consent of the step's purpose (rule 8).
		step, err := t.stepCached(i.StepID)
		if err != nil {
			return fmt.Errorf("interaction: %w", err)
		}
		if err := t.NoteContact(i.CustomerID, i.Channel, step.PurposeID, i.At); err != nil {
			return err
		}
	}
	t.rollup(interactionRollupKey(i), 1, int64(i.Value))
	t.count("interactions", 1)
	t.change(ChangeInteraction, uint64(i.CustomerID))
	return nil
}

// AddPurchase records an order and updates the customer's purchase
// aggregates. An order already recorded for the same source is refused
// with a ConflictError, which makes re-imports idempotent.
func (t *Tx) AddPurchase(p *model.Purchase) error {
	if err := t.require(model.PermEditCustomers, "record purchases"); err != nil {
		return err
	}
	if p.Currency == "" {
		p.Currency = t.s.settings.Currency
	}
	if err := p.Validate(t.now); err != nil {
		return err
	}
	if p.Currency != t.s.settings.Currency {
		return fmt.Errorf("purchase %s is in %s but the store counts revenue in %s; convert the amounts first", p.OrderID, p.Currency, t.s.settings.Currency)
	}
	ok := sourceKey(p.Source, p.OrderID)
	if v := t.orderRef(ok); v != nil {
		return &ConflictError{What: fmt.Sprintf("order %s from %q is recorded already (customer %d)", p.OrderID, p.Source, readU64(v))}
	}
	c, err := t.touchCustomer(p.CustomerID)
	if err != nil {
		return err
	}
	id, err := t.nextID(bPurchases)
	if err != nil {
		return err
	}
	p.ID = model.PurchaseID(id)
	p.At = p.At.UTC()
	key := activityKey(p.CustomerID, p.At, id)
	val := t.keep(encodePurchase(t.scratch[:0], p))
	if err := t.bucket(bPurchases).Put(key, val); err != nil {
		return err
	}
	if err := t.putOrder(ok, key); err != nil {
		return err
	}
	if c.PurchaseCount == 0 || (p.EmailCollected && p.ObjectionNotice && !c.EmailFromPurchase) {
		t.markConsentDirty(p.CustomerID) // the existing-customer facts change
	}
	c.PurchaseCount++
	c.Revenue += p.Amount
	if c.FirstPurchaseAt.IsZero() || p.At.Before(c.FirstPurchaseAt) {
		c.FirstPurchaseAt = p.At
	}
	if p.At.After(c.LastPurchaseAt) {
		c.LastPurchaseAt = p.At
	}
	if p.At.After(c.LastActivityAt) {
		c.LastActivityAt = p.At
	}
	if p.EmailCollected && p.ObjectionNotice {
		c.EmailFromPurchase = true
	}
	t.rollup(purchaseRollupKey(p.At), 1, int64(p.Amount))
	t.count("purchases", 1)
	t.count("revenue", int64(p.Amount))
	t.change(ChangePurchase, uint64(p.CustomerID))
	return nil
}

// Interactions returns a customer's interactions, newest first, up to
// limit, starting before the given time key position (nil = newest).
// The returned cursor continues the listing.
func (r *Reader) Interactions(cid model.CustomerID, before []byte, limit int) ([]model.Interaction, []byte, error) {
	var out []model.Interaction
	next, err := scanBackward(r.tx.Bucket(bInteractions).Cursor(), u64(uint64(cid)), before, limit, func(k, v []byte) error {
		var i model.Interaction
		if err := decodeInteraction(k, v, &i); err != nil {
			return err
		}
		out = append(out, i)
		return nil
	})
	return out, next, err
}

// Purchases returns a customer's purchases, newest first.
func (r *Reader) Purchases(cid model.CustomerID, before []byte, limit int) ([]model.Purchase, []byte, error) {
	var out []model.Purchase
	next, err := scanBackward(r.tx.Bucket(bPurchases).Cursor(), u64(uint64(cid)), before, limit, func(k, v []byte) error {
		var p model.Purchase
		if err := decodePurchase(k, v, &p); err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	return out, next, err
}

type cursor interface {
	Seek([]byte) ([]byte, []byte)
	Last() ([]byte, []byte)
	Prev() ([]byte, []byte)
}

// scanBackward visits up to limit keys with the prefix, from the newest
// (or from just before the key `before`) backwards. It returns the last key
// visited when more keys follow, to pass as `before` for the next page,
// and nil when the listing is complete.
func scanBackward(c cursor, prefix, before []byte, limit int, fn func(k, v []byte) error) ([]byte, error) {
	var k, v []byte
	seek := before
	if seek == nil {
		seek = prefixEnd(prefix)
	}
	if seek == nil {
		k, v = c.Last()
	} else if k, _ = c.Seek(seek); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	var last []byte
	n := 0
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
		if n == limit {
			return last, nil
		}
		if err := fn(k, v); err != nil {
			return nil, err
		}
		last = append(last[:0], k...)
		n++
	}
	return nil, nil
}

// prefixEnd is the smallest key greater than every key with the prefix,
// or nil if there is none (all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// stepCached reads a step once per transaction.
func (t *Tx) stepCached(id model.StepID) (*model.Step, error) {
	if s, ok := t.steps[id]; ok {
		return s, nil
	}
	s, err := t.Reader().Step(id)
	if err != nil {
		return nil, err
	}
	if t.steps == nil {
		t.steps = make(map[model.StepID]*model.Step)
	}
	t.steps[id] = &s
	return &s, nil
}
