package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"karton/model"
)

// Keys for signed links, and the store side of double opt-in links: a DOI
// link may be used once, so the transaction that records the confirmation
// also marks the link spent (bucket doi_spent, keyed by the id of the
// doi_requested event the link was made for).

// DeriveKey returns a 32-byte key for one use of the store secret, named by
// label (package links uses links.KeyLabel). The raw secret never leaves
// the store: each use gets its own key, HMAC-SHA256(secret, context ‖
// label), so a key handed to one component reveals neither the secret
// (which also keys the suppression list) nor the keys of other uses.
func (s *Store) DeriveKey(label string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("karton key derivation v1\x00"))
	m.Write([]byte(label))
	return m.Sum(nil)
}

// ErrTokenSpent is returned when a single-use link is used again.
var ErrTokenSpent = errors.New("this link was used already")

// ErrCustomerErased is returned when a link or an inbound event names a
// customer who was erased: nothing may be recorded for them.
var ErrCustomerErased = errors.New("the customer was erased")

// DOIConfirmation says that, and how, a DOI link was used.
type DOIConfirmation struct {
	Request   model.EventID // the doi_requested event the link was made for
	Confirmed model.EventID // the doi_confirmed event it produced
	At        time.Time     // when it was recorded
}

// SpentError is ErrTokenSpent with the confirmation that used the link.
type SpentError struct{ DOIConfirmation }

func (e *SpentError) Error() string {
	return fmt.Sprintf("the confirmation link of DOI request #%d was used already (confirmation #%d on %s)",
		e.Request, e.Confirmed, e.At.Format(time.RFC3339))
}

func (e *SpentError) Unwrap() error { return ErrTokenSpent }

// DOIConfirm is what a click on a DOI confirmation link brings.
type DOIConfirm struct {
	// Request is the doi_requested event the link was made for; the link's
	// customer, channel kind and purpose must be the request's.
	Request  model.EventID
	Customer model.CustomerID
	Channel  model.ChannelKind
	Purpose  model.PurposeID
	// At is when the click arrived: the confirmation is effective then.
	At       time.Time
	Source   string
	Evidence model.Evidence
}

// ConfirmDOI records a doi_confirmed event for a DOI request and spends the
// request's link, in this transaction. The event takes the consent text
// version of the request (the text the person was asked to confirm). A
// link used before returns a *SpentError; a request that does not exist
// or does not match the link, a NotFoundError; an erased customer,
// ErrCustomerErased. In every such case nothing is written.
func (t *Tx) ConfirmDOI(in DOIConfirm) (model.ConsentEvent, error) {
	if err := t.require(model.PermEditCustomers, "record consent events"); err != nil {
		return model.ConsentEvent{}, err
	}
	if spent, ok, err := t.Reader().DOITokenSpent(in.Request); err != nil {
		return model.ConsentEvent{}, err
	} else if ok {
		return model.ConsentEvent{}, &SpentError{spent}
	}
	req, err := t.Reader().ConsentEvent(in.Request)
	if err != nil {
		return model.ConsentEvent{}, fmt.Errorf("DOI request #%d: %w", in.Request, err)
	}
	if req.Kind != model.ConsentDOIRequested || req.CustomerID != in.Customer || req.Channel != in.Channel || req.PurposeID != in.Purpose {
		// Only a link made for another store or by a bug gets here.
		return model.ConsentEvent{}, notFound("DOI request", fmt.Sprintf("#%d for customer %d on %s/%d", in.Request, in.Customer, in.Channel, in.Purpose))
	}
	cc, err := t.cachedCustomer(in.Customer)
	if err != nil {
		return model.ConsentEvent{}, err
	}
	if cc.cur.Erased {
		return model.ConsentEvent{}, ErrCustomerErased
	}
	ev := model.ConsentEvent{
		CustomerID: in.Customer, Channel: in.Channel, PurposeID: in.Purpose, Kind: model.ConsentDOIConfirmed,
		EffectiveAt: in.At, Source: in.Source, TextVersion: req.TextVersion,
	}
	if err := t.AppendConsent(&ev, in.Evidence); err != nil {
		return model.ConsentEvent{}, err
	}
	b, err := t.ensure(bDOISpent)
	if err != nil {
		return model.ConsentEvent{}, err
	}
	v := appendU64(u64(uint64(ev.ID)), timeKey(t.now))
	if err := b.Put(u64(uint64(in.Request)), v); err != nil {
		return model.ConsentEvent{}, err
	}
	return ev, nil
}

// DOITokenSpent reports whether the link of a DOI request was used.
func (r *Reader) DOITokenSpent(request model.EventID) (DOIConfirmation, bool, error) {
	b := r.tx.Bucket(bDOISpent)
	if b == nil {
		return DOIConfirmation{}, false, nil
	}
	v := b.Get(u64(uint64(request)))
	if v == nil {
		return DOIConfirmation{}, false, nil
	}
	if len(v) != 16 {
		return DOIConfirmation{}, false, fmt.Errorf("spent DOI link of request #%d: %w", request, errCorrupt)
	}
	return DOIConfirmation{Request: request, Confirmed: model.EventID(readU64(v)), At: timeFromKey(readU64(v[8:]))}, true, nil
}
