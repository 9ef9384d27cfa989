package model

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// ConsentKind is what a consent event says happened (PRODUCT.md §2).
type ConsentKind string

const (
	ConsentOptIn        ConsentKind = "opt_in"
	ConsentDOIRequested ConsentKind = "doi_requested"
	ConsentDOIConfirmed ConsentKind = "doi_confirmed"
	ConsentOptOut       ConsentKind = "opt_out"
	// ConsentObjection is an objection under Art. 21 GDPR against all direct
	// marketing on every channel.
	ConsentObjection ConsentKind = "objection"
	ConsentParental  ConsentKind = "parental_consent"
	ConsentB2BBasis  ConsentKind = "b2b_basis"
	ConsentErasure   ConsentKind = "erasure"
)

// ConsentKinds lists every kind; the position is the one-byte code in keys.
var ConsentKinds = []ConsentKind{ConsentOptIn, ConsentDOIRequested, ConsentDOIConfirmed, ConsentOptOut, ConsentObjection, ConsentParental, ConsentB2BBasis, ConsentErasure}

// ParseConsentKind validates a kind typed by a user or read from a file.
func ParseConsentKind(s string) (ConsentKind, error) {
	k := ConsentKind(strings.ToLower(strings.TrimSpace(s)))
	for _, c := range ConsentKinds {
		if c == k {
			return k, nil
		}
	}
	names := make([]string, len(ConsentKinds))
	for i, c := range ConsentKinds {
		names[i] = string(c)
	}
	return "", fmt.Errorf("unknown consent kind %q (one of %s)", s, strings.Join(names, ", "))
}

// Scoped reports whether events of this kind apply to one channel kind and
// purpose. Objection and erasure apply to every channel and purpose.
func (k ConsentKind) Scoped() bool { return k != ConsentObjection && k != ConsentErasure }

// LegalBasis is the GDPR Art. 6 basis an event rests on.
type LegalBasis string

const (
	BasisConsent            LegalBasis = "consent"             // Art. 6(1)(a)
	BasisContract           LegalBasis = "contract"            // Art. 6(1)(b)
	BasisLegalObligation    LegalBasis = "legal_obligation"    // Art. 6(1)(c)
	BasisLegitimateInterest LegalBasis = "legitimate_interest" // Art. 6(1)(f)
)

// ParseLegalBasis validates a basis; empty means "the kind's default".
func ParseLegalBasis(s string) (LegalBasis, error) {
	switch b := LegalBasis(strings.ToLower(strings.TrimSpace(s))); b {
	case "", BasisConsent, BasisContract, BasisLegalObligation, BasisLegitimateInterest:
		return b, nil
	}
	return "", fmt.Errorf("unknown legal basis %q (consent, contract, legal_obligation or legitimate_interest)", s)
}

// DefaultBasis is the basis an event of kind k rests on when none is given.
func (k ConsentKind) DefaultBasis() LegalBasis {
	switch k {
	case ConsentB2BBasis:
		return BasisLegitimateInterest
	case ConsentObjection, ConsentOptOut, ConsentErasure:
		return BasisLegalObligation
	}
	return BasisConsent
}

// MaxEvidenceBytes caps the evidence record of one consent event.
const MaxEvidenceBytes = 4096

// MaxClockSkew is how far in the future an effective time may lie (clocks
// of forms and shops drift a little).
const MaxClockSkew = 5 * time.Minute

// Evidence backs a consent event: IP, user agent, confirmation token hash,
// call recording reference… It is stored apart from the event so erasure
// can remove it while the event keeps its hash.
type Evidence map[string]string

// Size is the encoded size used for the cap.
func (e Evidence) Size() int {
	n := 0
	for k, v := range e {
		n += len(k) + len(v) + 2
	}
	return n
}

// Canonical renders the evidence in a stable order, for hashing.
func (e Evidence) Canonical() []byte {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b []byte
	for _, k := range keys {
		b = append(b, k...)
		b = append(b, 0)
		b = append(b, e[k]...)
		b = append(b, 0)
	}
	return b
}

// Summary shows the evidence on one line for a table cell: key=value
// pairs in key order, separated by ", ", any run of white space as one
// space.
func (e Evidence) Summary() string {
	pairs := make([]string, 0, len(e))
	for _, k := range slices.Sorted(maps.Keys(e)) {
		pairs = append(pairs, k+"="+strings.Join(strings.Fields(e[k]), " "))
	}
	return strings.Join(pairs, ", ")
}

// EvidenceCell is what a table shows for an event's evidence: its summary;
// "withheld" for a user who may not see personal data; "erased" where only
// the hash is left; "-" where there was none.
func EvidenceCell(hasEvidence, masked bool, e Evidence) string {
	switch {
	case !hasEvidence:
		return "-"
	case masked:
		return "withheld"
	case len(e) == 0:
		return "erased"
	}
	return e.Summary()
}

// ConsentEvent is one entry of the append-only consent ledger. Its ID is
// the ledger position.
type ConsentEvent struct {
	ID          EventID
	CustomerID  CustomerID
	Channel     ChannelKind // empty for objection and erasure
	PurposeID   PurposeID   // zero for objection and erasure
	Kind        ConsentKind
	Basis       LegalBasis
	EffectiveAt time.Time // when it happened
	RecordedAt  time.Time // when Karton learned it
	Source      string    // "form", "import:shop-2025-03", "operator", "unsubscribe-link"
	Actor       string
	TextVersion string // version of the consent text the person saw
	// EvidenceHash is SHA-256 of the evidence's canonical form; it stays
	// when the evidence itself is erased.
	EvidenceHash [32]byte
	HasEvidence  bool
}

// Validate checks an event before it is appended; now bounds the effective
// time (MaxClockSkew).
func (e *ConsentEvent) Validate(now time.Time) error {
	p := problems{entity: "consent event"}
	if e.CustomerID == 0 {
		p.add("customer", "is not set")
	}
	if _, err := ParseConsentKind(string(e.Kind)); err != nil {
		p.add("kind", "%v", err)
	}
	if e.Kind.Scoped() {
		if !e.Channel.Valid() {
			p.add("channel", "%q is not a channel kind (one of %s)", e.Channel, joinKinds())
		}
		if e.PurposeID == 0 {
			p.add("purpose", "is not set")
		}
	}
	if _, err := ParseLegalBasis(string(e.Basis)); err != nil {
		p.add("basis", "%v", err)
	}
	if e.EffectiveAt.IsZero() {
		p.add("effective_at", "is not set")
	} else if e.EffectiveAt.After(now.Add(MaxClockSkew)) {
		p.add("effective_at", "%s is in the future", e.EffectiveAt.UTC().Format(time.RFC3339))
	} else if e.EffectiveAt.Year() < 1990 {
		p.add("effective_at", "%s is before 1990", e.EffectiveAt.UTC().Format(time.RFC3339))
	}
	if len(e.Source) > 200 || !utf8.ValidString(e.Source) {
		p.add("source", "must be valid text of at most 200 characters")
	} else {
		p.plain("source", e.Source)
	}
	if len(e.TextVersion) > 100 {
		p.add("text_version", "is longer than 100 characters")
	} else {
		p.plain("text_version", e.TextVersion)
	}
	return p.err()
}

// ValidateEvidence checks the size cap and that keys and values are text.
func ValidateEvidence(ev Evidence) error {
	p := problems{entity: "evidence"}
	if n := ev.Size(); n > MaxEvidenceBytes {
		p.add("evidence", "is %d bytes; the limit is %d bytes (store large files elsewhere and reference them)", n, MaxEvidenceBytes)
	}
	for k, v := range ev {
		if !validKey(k) {
			p.add("evidence", "key %q must be 1–40 letters, digits, '_' or '-'", k)
		}
		if !utf8.ValidString(v) {
			p.add("evidence."+k, "is not valid UTF-8 text")
		} else {
			p.lines("evidence."+k, v)
		}
	}
	return p.err()
}

// InteractionKind is what happened between the company and a customer.
type InteractionKind string

const (
	InteractionSent         InteractionKind = "sent"
	InteractionDelivered    InteractionKind = "delivered"
	InteractionBounced      InteractionKind = "bounced"
	InteractionOpened       InteractionKind = "opened"
	InteractionClicked      InteractionKind = "clicked"
	InteractionReplied      InteractionKind = "replied"
	InteractionConverted    InteractionKind = "converted"
	InteractionCall         InteractionKind = "call"
	InteractionChat         InteractionKind = "chat"
	InteractionVisit        InteractionKind = "visit"
	InteractionRegistered   InteractionKind = "registered" // for an event
	InteractionAttended     InteractionKind = "attended"
	InteractionUnsubscribed InteractionKind = "unsubscribed"
)

// InteractionKinds lists every kind; the position is the one-byte code in keys.
var InteractionKinds = []InteractionKind{InteractionSent, InteractionDelivered, InteractionBounced, InteractionOpened, InteractionClicked, InteractionReplied, InteractionConverted, InteractionCall, InteractionChat, InteractionVisit, InteractionRegistered, InteractionAttended, InteractionUnsubscribed}

// Code is the kind's 1-based position (0 = unknown).
func (k InteractionKind) Code() byte {
	for i, c := range InteractionKinds {
		if c == k {
			return byte(i + 1)
		}
	}
	return 0
}

// InteractionKindFromCode is the inverse of Code.
func InteractionKindFromCode(c byte) InteractionKind {
	if c == 0 || int(c) > len(InteractionKinds) {
		return ""
	}
	return InteractionKinds[c-1]
}

// ParseInteractionKind validates a kind typed by a user or read from a file.
func ParseInteractionKind(s string) (InteractionKind, error) {
	k := InteractionKind(strings.ToLower(strings.TrimSpace(s)))
	if k.Code() > 0 {
		return k, nil
	}
	names := make([]string, len(InteractionKinds))
	for i, c := range InteractionKinds {
		names[i] = string(c)
	}
	return "", fmt.Errorf("unknown interaction kind %q (one of %s)", s, strings.Join(names, ", "))
}

// Interaction is one contact or response on a channel.
type Interaction struct {
	ID         InteractionID
	CustomerID CustomerID
	Kind       InteractionKind
	Channel    ChannelKind
	ChannelID  ChannelID // zero when not known (e.g. an inbound call)
	CampaignID CampaignID
	StepID     StepID
	At         time.Time
	Value      Money // e.g. attributed revenue of a conversion, cost of a contact
	Note       string
}

// Validate checks the interaction.
func (i *Interaction) Validate(now time.Time) error {
	p := problems{entity: "interaction"}
	if i.CustomerID == 0 {
		p.add("customer", "is not set")
	}
	if i.Kind.Code() == 0 {
		p.add("kind", "%q is not an interaction kind", i.Kind)
	}
	if !i.Channel.Valid() {
		p.add("channel", "%q is not a channel kind (one of %s)", i.Channel, joinKinds())
	}
	if i.At.IsZero() {
		p.add("at", "is not set")
	} else if i.At.After(now.Add(MaxClockSkew)) {
		p.add("at", "%s is in the future", i.At.UTC().Format(time.RFC3339))
	}
	if len(i.Note) > 1000 {
		p.add("note", "is longer than 1000 characters")
	} else {
		p.lines("note", i.Note)
	}
	return p.err()
}

// PurchaseItem is one line of an order.
type PurchaseItem struct {
	SKU       string
	Name      string
	Quantity  int
	UnitPrice Money
}

// Purchase is one order.
type Purchase struct {
	ID         PurchaseID
	CustomerID CustomerID
	OrderID    string // the shop's order number; unique per source
	Source     string
	At         time.Time
	Amount     Money
	Currency   string
	Items      []PurchaseItem
	// EmailCollected and ObjectionNotice record, for the existing-customer
	// rule, that the email was collected with this sale and the customer was
	// told then that they may object to advertising.
	EmailCollected  bool
	ObjectionNotice bool
}

// Validate checks the purchase.
func (pu *Purchase) Validate(now time.Time) error {
	p := problems{entity: "purchase"}
	if pu.CustomerID == 0 {
		p.add("customer", "is not set")
	}
	if strings.TrimSpace(pu.OrderID) == "" {
		p.add("order_id", "is empty")
	} else if len(pu.OrderID) > 100 {
		p.add("order_id", "is longer than 100 characters")
	} else {
		p.plain("order_id", pu.OrderID)
	}
	p.plain("source", pu.Source)
	if pu.At.IsZero() {
		p.add("at", "is not set")
	} else if pu.At.After(now.Add(MaxClockSkew)) {
		p.add("at", "%s is in the future", pu.At.UTC().Format(time.RFC3339))
	}
	if pu.Amount < 0 {
		p.add("amount", "%s is negative (record refunds as their own entries)", pu.Amount.Format(pu.Currency))
	}
	if pu.Currency != "" && !validCurrency(pu.Currency) {
		p.add("currency", "%q is not an ISO 4217 code like EUR", pu.Currency)
	}
	for i, it := range pu.Items {
		if it.Quantity <= 0 {
			p.add(fmt.Sprintf("items[%d].quantity", i), "must be positive")
		}
		if it.UnitPrice < 0 {
			p.add(fmt.Sprintf("items[%d].unit_price", i), "must not be negative")
		}
		p.plain(fmt.Sprintf("items[%d].sku", i), it.SKU)
		p.plain(fmt.Sprintf("items[%d].name", i), it.Name)
	}
	return p.err()
}
