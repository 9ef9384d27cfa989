package store

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"

	"karton/model"
)

// AppendConsent validates a consent event and appends it to the ledger,
// with its evidence in a separate, erasable record. The event's id is its
// ledger position. Events are never updated or deleted.
//
// Every validation error (the event, its evidence, an unknown purpose or
// customer) is returned before anything is written, so a bulk import may
// report the line and carry on in the same transaction.
func (t *Tx) AppendConsent(ev *model.ConsentEvent, evidence model.Evidence) error {
	if err := t.checkConsent(ev, evidence); err != nil {
		return err
	}
	cc, err := t.cachedCustomer(ev.CustomerID)
	if err != nil {
		return fmt.Errorf("consent event: %w", err)
	}
	if cc.cur.Erased && ev.Kind != model.ConsentErasure {
		return fmt.Errorf("consent event: customer %d was erased; record consent on a new customer record", ev.CustomerID)
	}
	return t.appendConsent(ev, evidence, cc)
}

// checkConsent fills an event's defaults and runs every check of
// AppendConsent that does not need its customer: an import runs it before
// it creates the customer a line names by a new email, so that a rejected
// line leaves no customer behind.
func (t *Tx) checkConsent(ev *model.ConsentEvent, evidence model.Evidence) error {
	if err := t.require(model.PermEditCustomers, "record consent events"); err != nil {
		return err
	}
	if ev.Basis == "" {
		ev.Basis = ev.Kind.DefaultBasis()
	}
	if ev.RecordedAt.IsZero() {
		ev.RecordedAt = t.now
	}
	if ev.Actor == "" {
		ev.Actor = t.actor.Name
	}
	ev.EffectiveAt, ev.RecordedAt = ev.EffectiveAt.UTC(), ev.RecordedAt.UTC()
	if !ev.Kind.Scoped() {
		ev.Channel, ev.PurposeID = "", 0
	}
	if err := ev.Validate(t.now); err != nil {
		return err
	}
	if ev.RecordedAt.After(t.now.Add(model.MaxClockSkew)) {
		return &model.ValidationError{Entity: "consent event", Fields: []model.FieldError{{Field: "recorded_at", Reason: "is in the future"}}}
	}
	if len(evidence) > 0 {
		if err := model.ValidateEvidence(evidence); err != nil {
			return err
		}
	}
	if ev.Kind.Scoped() {
		if err := t.purposeExists(ev.PurposeID); err != nil {
			return fmt.Errorf("consent event: %w", err)
		}
	}
	return nil
}

// appendConsent writes a checked event of customer cc.
func (t *Tx) appendConsent(ev *model.ConsentEvent, evidence model.Evidence, cc *cachedCustomer) error {
	id, err := t.nextID(bConsentIDs)
	if err != nil {
		return err
	}
	ev.ID = model.EventID(id)
	if len(evidence) > 0 {
		canon := evidence.Canonical()
		ev.EvidenceHash, ev.HasEvidence = sha256.Sum256(canon), true
		if err := t.bucket(bEvidence).Put(u64(id), canon); err != nil {
			return err
		}
	}
	full := t.keep(encodeConsent(t.scratch[:0], ev))
	entry := t.keep(appendLedgerEntry(t.scratch[:0], ev))
	key := t.keep(appendU64(appendU64(t.scratch[:0], uint64(ev.CustomerID)), id))
	if t.deferConsentPuts {
		// A bulk import writes the customer-clustered records at the end,
		// in key order (flushImportedConsents).
		t.consentPuts = append(t.consentPuts, keyVal{key, entry})
	} else if err := appendLedgerEvents(t.bucket(bConsent), []keyVal{{key, entry}}); err != nil {
		return err
	}
	if err := t.bucket(bConsentIDs).Put(key[8:], t.keep(consentIDValue(t.scratch[:0], ev.CustomerID, full))); err != nil {
		return err
	}
	if ev.Kind == model.ConsentOptIn && ev.HasEvidence && cc.cur.Suppressed {
		if err := t.liftSuppression(cc.cur, ev); err != nil {
			return err
		}
		cc.dirty = true
		t.markConsentDirty(ev.CustomerID)
	} else if ev.Kind.Scoped() {
		t.markScopeDirty(ev.CustomerID, ev.Channel, ev.PurposeID)
	} else {
		t.markConsentDirty(ev.CustomerID)
	}
	t.count("consent_events", 1)
	t.change(ChangeConsent, uint64(ev.CustomerID))
	return t.Audit(consentAction(ev.Kind), "customer:"+strconv.FormatUint(uint64(ev.CustomerID), 10), full)
}

// consentActions are the audit actions of the consent kinds, built once
// (a bulk import audits every event).
var consentActions = func() map[model.ConsentKind]string {
	m := make(map[model.ConsentKind]string, len(model.ConsentKinds))
	for _, k := range model.ConsentKinds {
		m[k] = "consent." + string(k)
	}
	return m
}()

func consentAction(k model.ConsentKind) string {
	if a, ok := consentActions[k]; ok {
		return a
	}
	return "consent." + string(k)
}

// keyVal is a record whose Put is deferred to the end of the transaction.
type keyVal struct{ k, v []byte }

// flushConsentPuts writes the deferred ledger entries in key order, one
// write per customer, before the projection reads them back.
func (t *Tx) flushConsentPuts() error {
	if len(t.consentPuts) == 0 {
		return nil
	}
	slices.SortFunc(t.consentPuts, func(a, b keyVal) int { return bytes.Compare(a.k, b.k) })
	if err := writeLedgerPuts(t.bucket(bConsent), t.consentPuts); err != nil {
		return err
	}
	t.consentPuts = t.consentPuts[:0]
	return nil
}

// purposeExists checks a purpose id once per transaction (purposes are
// never deleted, and consent events come by the thousand in an import).
func (t *Tx) purposeExists(id model.PurposeID) error {
	if _, ok := t.knownPurposes[id]; ok {
		return nil
	}
	if t.tx.Bucket(bPurposes).Get(u64(uint64(id))) == nil {
		return notFound("purpose", id.String())
	}
	if t.knownPurposes == nil {
		t.knownPurposes = make(map[model.PurposeID]struct{})
	}
	t.knownPurposes[id] = struct{}{}
	return nil
}

// ConsentEvent returns one event by its ledger position.
func (r *Reader) ConsentEvent(id model.EventID) (model.ConsentEvent, error) {
	var ev model.ConsentEvent
	idv := r.tx.Bucket(bConsentIDs).Get(u64(uint64(id)))
	if len(idv) < consentIDLen {
		return ev, notFound("consent event", id.String())
	}
	if len(idv) > consentIDLen {
		return ev, decodeConsent(idv[consentIDLen:], &ev)
	}
	// Format 1: the full record is the customer-clustered one.
	v := r.tx.Bucket(bConsent).Get(appendU64(append([]byte(nil), idv...), uint64(id)))
	if len(v) == 0 || v[0] == consentChunkVersion {
		return ev, fmt.Errorf("consent event %d: ledger index points at a missing record", id)
	}
	return ev, decodeConsent(v, &ev)
}

// Evidence returns an event's evidence, or nil if it had none or it was
// erased. Evidence is personal data: masked actors get nothing.
func (r *Reader) Evidence(id model.EventID) (model.Evidence, error) {
	if !r.Unmasked() {
		return nil, nil
	}
	v := r.tx.Bucket(bEvidence).Get(u64(uint64(id)))
	if v == nil {
		return nil, nil
	}
	ev := model.Evidence{}
	for len(v) > 0 {
		i := bytes.IndexByte(v, 0)
		if i < 0 {
			return nil, fmt.Errorf("evidence of event %d: %w", id, errCorrupt)
		}
		k := string(v[:i])
		v = v[i+1:]
		j := bytes.IndexByte(v, 0)
		if j < 0 {
			return nil, fmt.Errorf("evidence of event %d: %w", id, errCorrupt)
		}
		ev[k] = string(v[:j])
		v = v[j+1:]
	}
	return ev, nil
}
