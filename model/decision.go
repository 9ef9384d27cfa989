package model

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// This file is the consent decision table of PRODUCT.md §2: the reason
// codes, the facts a decision is made from, the contact point each channel
// kind needs, and Decide, which applies the sixteen legal rules in order and
// then the contact-pressure policy rule.

// Reason is the code a decision names: why a contact is allowed or denied.
// Each reason belongs to exactly one rule of the table (see Reason.Rule).
type Reason string

// The reason codes in rule order (PRODUCT.md §2).
const (
	ReasonErasedSuppressed       Reason = "ERASED_SUPPRESSED"         // rule 1
	ReasonNoContactPoint         Reason = "NO_CONTACT_POINT"          // rule 2
	ReasonContractual            Reason = "CONTRACTUAL"               // rule 3
	ReasonObjection              Reason = "OBJECTION"                 // rule 4
	ReasonWithdrawn              Reason = "WITHDRAWN"                 // rule 5
	ReasonMinorNoParentalConsent Reason = "MINOR_NO_PARENTAL_CONSENT" // rule 6
	ReasonProcessingNotPermitted Reason = "PROCESSING_NOT_PERMITTED"  // rule 7
	ReasonConsentStale           Reason = "CONSENT_STALE"             // rule 8
	ReasonConsentDOI             Reason = "CONSENT_DOI"               // rule 9
	ReasonPendingDOI             Reason = "PENDING_DOI"               // rule 10
	ReasonExistingCustomer       Reason = "EXISTING_CUSTOMER"         // rule 11
	ReasonConsentPhone           Reason = "CONSENT_PHONE"             // rule 12
	ReasonPresumedB2B            Reason = "PRESUMED_B2B"              // rule 13
	ReasonLegitimateInterest     Reason = "LEGITIMATE_INTEREST"       // rule 14
	ReasonConsent                Reason = "CONSENT"                   // rule 15
	ReasonNoValidBasis           Reason = "NO_VALID_BASIS"            // rule 16
	ReasonFrequencyCap           Reason = "FREQUENCY_CAP"             // policy rule 17
)

// RuleFrequencyCap is the number Decision.Rule carries when the
// contact-pressure policy rule denies after a legal rule allowed. The legal
// rules are numbered 1 to 16 as in PRODUCT.md §2.
const RuleFrequencyCap = 17

// AllReasons lists every reason code in rule order, for filters, legends
// and per-reason counts in preflight reports.
func AllReasons() []Reason {
	return []Reason{
		ReasonErasedSuppressed, ReasonNoContactPoint, ReasonContractual, ReasonObjection,
		ReasonWithdrawn, ReasonMinorNoParentalConsent, ReasonProcessingNotPermitted,
		ReasonConsentStale, ReasonConsentDOI, ReasonPendingDOI, ReasonExistingCustomer,
		ReasonConsentPhone, ReasonPresumedB2B, ReasonLegitimateInterest, ReasonConsent,
		ReasonNoValidBasis, ReasonFrequencyCap,
	}
}

// ParseReason validates a reason code typed by a user (case-insensitive).
func ParseReason(s string) (Reason, error) {
	r := Reason(strings.ToUpper(strings.TrimSpace(s)))
	if r.Rule() > 0 {
		return r, nil
	}
	all := AllReasons()
	names := make([]string, len(all))
	for i, a := range all {
		names[i] = string(a)
	}
	return "", fmt.Errorf("unknown reason code %q (one of %s)", s, strings.Join(names, ", "))
}

// Rule returns the number of the rule that gives this reason: 1–16 for the
// legal rules, 17 for the frequency cap, 0 for an unknown code.
func (r Reason) Rule() int {
	switch r {
	case ReasonErasedSuppressed:
		return 1
	case ReasonNoContactPoint:
		return 2
	case ReasonContractual:
		return 3
	case ReasonObjection:
		return 4
	case ReasonWithdrawn:
		return 5
	case ReasonMinorNoParentalConsent:
		return 6
	case ReasonProcessingNotPermitted:
		return 7
	case ReasonConsentStale:
		return 8
	case ReasonConsentDOI:
		return 9
	case ReasonPendingDOI:
		return 10
	case ReasonExistingCustomer:
		return 11
	case ReasonConsentPhone:
		return 12
	case ReasonPresumedB2B:
		return 13
	case ReasonLegitimateInterest:
		return 14
	case ReasonConsent:
		return 15
	case ReasonNoValidBasis:
		return 16
	case ReasonFrequencyCap:
		return RuleFrequencyCap
	}
	return 0
}

// Allows reports whether a decision with this reason lets the contact
// happen.
func (r Reason) Allows() bool {
	switch r {
	case ReasonContractual, ReasonConsentDOI, ReasonExistingCustomer, ReasonConsentPhone,
		ReasonPresumedB2B, ReasonLegitimateInterest, ReasonConsent:
		return true
	}
	return false
}

// Explain is a one-line explanation of the reason for screens and the CLI.
func (r Reason) Explain() string {
	switch r {
	case ReasonErasedSuppressed:
		return "the customer was erased, or a contact point is on the suppression list of an erased person"
	case ReasonNoContactPoint:
		return "the channel needs a contact point the customer lacks or that is invalid"
	case ReasonContractual:
		return "a service message for a contract or transaction; no consent needed"
	case ReasonObjection:
		return "the customer objected to all direct marketing (Art. 21 GDPR) and has not opted in again for this channel and purpose"
	case ReasonWithdrawn:
		return "the customer withdrew consent for this channel and purpose"
	case ReasonMinorNoParentalConsent:
		return "the customer is under the minimum age and no parental consent is recorded"
	case ReasonProcessingNotPermitted:
		return "the step uses behavioural or derived data that needs a profiling consent the customer has not given"
	case ReasonConsentStale:
		return "the confirmed consent is older than the stale window and has not been used since"
	case ReasonConsentDOI:
		return "express consent confirmed by double opt-in"
	case ReasonPendingDOI:
		return "consent given but not yet confirmed by double opt-in"
	case ReasonExistingCustomer:
		return "existing customer: email advertising for own similar products after a purchase, objection notice given (UWG §7(3))"
	case ReasonConsentPhone:
		return "explicit consent to phone calls for this purpose"
	case ReasonPresumedB2B:
		return "documented presumed consent of a business contact to phone calls"
	case ReasonLegitimateInterest:
		return "postal advertising on legitimate interest (Art. 6(1)(f) GDPR)"
	case ReasonConsent:
		return "consent for this channel and purpose"
	case ReasonNoValidBasis:
		return "no legal basis for this channel and purpose"
	case ReasonFrequencyCap:
		return "the customer has reached the contact-pressure cap for this channel"
	}
	return "unknown reason code"
}

// ContactPoints is the set of channel kinds for which a customer has a
// usable contact point, one bit per kind (bit = ChannelKind.Code()). It is
// computed once per customer by ContactPointsOf, because validating phone
// numbers is far slower than a whole decision.
type ContactPoints uint16

// kindBit mirrors ChannelKind.Code with a switch instead of a loop, because
// Decide asks for it on every call.
func kindBit(k ChannelKind) ContactPoints {
	switch k {
	case KindEmail:
		return 1 << 1
	case KindSMS:
		return 1 << 2
	case KindMessenger:
		return 1 << 3
	case KindPhone:
		return 1 << 4
	case KindPostal:
		return 1 << 5
	case KindWeb:
		return 1 << 6
	case KindSocial:
		return 1 << 7
	case KindEvent:
		return 1 << 8
	}
	return 0
}

// Has reports whether the set holds kind k; an unknown kind is never held.
func (p ContactPoints) Has(k ChannelKind) bool {
	b := kindBit(k)
	return b != 0 && p&b != 0
}

// With returns the set with kind k added (unknown kinds are ignored).
func (p ContactPoints) With(k ChannelKind) ContactPoints { return p | kindBit(k) }

// ContactPointFor returns the contact point through which a channel of kind
// k reaches customer c, or an error saying what is missing or invalid. The
// needs per kind are:
//
//	email      a valid email address
//	sms        a valid mobile phone number (E.164)
//	messenger  a valid mobile phone number (E.164)
//	phone      a valid phone number (E.164), landline or mobile
//	postal     a complete address with a postal code that fits its country
//	web        a valid email address, else a source id (an online identity)
//	social     a valid email address, else a valid phone number (audience matching)
//	event      a valid email address, else a complete postal address (the invitation)
//
// An erased customer has no contact point left.
func ContactPointFor(k ChannelKind, c *Customer) (string, error) {
	if c == nil {
		return "", errors.New("no customer given")
	}
	if !k.Valid() {
		return "", fmt.Errorf("unknown channel kind %q (one of %s)", k, joinKinds())
	}
	if c.Erased {
		return "", fmt.Errorf("%s: the customer is erased; no contact point is kept", k)
	}
	switch k {
	case KindEmail:
		if err := emailProblem(c); err != "" {
			return "", fmt.Errorf("email needs a valid email address: %s", err)
		}
		return c.Email, nil
	case KindSMS, KindMessenger:
		if err := mobileProblem(c); err != "" {
			return "", fmt.Errorf("%s needs a mobile phone number: %s", k, err)
		}
		return c.Phone, nil
	case KindPhone:
		if err := phoneProblem(c); err != "" {
			return "", fmt.Errorf("phone needs a valid phone number: %s", err)
		}
		return c.Phone, nil
	case KindPostal:
		if err := addressProblem(c); err != "" {
			return "", fmt.Errorf("postal needs a complete address: %s", err)
		}
		return formatAddress(c.Address), nil
	case KindWeb:
		if emailProblem(c) == "" {
			return c.Email, nil
		}
		if s, ok := sourceID(c); ok {
			return s, nil
		}
		return "", errors.New("web needs a valid email address or a source id (online identity): there is neither")
	case KindSocial:
		if emailProblem(c) == "" {
			return c.Email, nil
		}
		if phoneProblem(c) == "" {
			return c.Phone, nil
		}
		return "", errors.New("social needs a valid email address or phone number: there is neither")
	default: // KindEvent
		if emailProblem(c) == "" {
			return c.Email, nil
		}
		if addressProblem(c) == "" {
			return formatAddress(c.Address), nil
		}
		return "", errors.New("event needs a valid email address or a complete postal address: there is neither")
	}
}

// ContactPointsOf returns the kinds for which ContactPointFor finds a usable
// contact point, checking each of the customer's contact points only once.
func ContactPointsOf(c *Customer) ContactPoints {
	if c == nil || c.Erased {
		return 0
	}
	email := emailProblem(c) == ""
	var phone, mobile bool
	if c.Phone != "" && c.Phone == c.phoneChecked {
		phone, mobile = true, c.phoneMobile // Normalize parsed it already
	} else {
		phone, mobile = phoneFacts(c.Phone)
	}
	address := addressProblem(c) == ""
	_, source := sourceID(c)
	var p ContactPoints
	add := func(k ChannelKind, ok bool) {
		if ok {
			p = p.With(k)
		}
	}
	add(KindEmail, email)
	add(KindSMS, mobile)
	add(KindMessenger, mobile)
	add(KindPhone, phone)
	add(KindPostal, address)
	add(KindWeb, email || source)
	add(KindSocial, email || phone)
	add(KindEvent, email || address)
	return p
}

// The *Problem helpers return "" when the contact point is usable, else
// what is wrong with it, so that ContactPointFor can say why and
// ContactPointsOf can share the checks.

func emailProblem(c *Customer) string {
	if strings.TrimSpace(c.Email) == "" {
		return "there is none"
	}
	if err := ValidateEmail(c.Email); err != nil {
		return err.Error()
	}
	return ""
}

func phoneProblem(c *Customer) string {
	if strings.TrimSpace(c.Phone) == "" {
		return "there is none"
	}
	if !IsE164(c.Phone) {
		return fmt.Sprintf("%q is not a valid number in E.164 form (+49…)", c.Phone)
	}
	return ""
}

// phoneFacts is IsE164 and IsMobile with one parse instead of two: phone
// parsing is most of the cost of ContactPointsOf. A test keeps it in step
// with phoneProblem and mobileProblem.
func phoneFacts(s string) (valid, mobile bool) {
	if !strings.HasPrefix(s, "+") {
		return false, false
	}
	var num phonenumbers.PhoneNumber
	if phonenumbers.ParseToNumber(s, DefaultRegion, &num) != nil || phonenumbers.Format(&num, phonenumbers.E164) != s {
		return false, false
	}
	// Valid exactly when it has a type (IsValidNumber asks the same).
	switch numberType(&num) {
	case phonenumbers.UNKNOWN:
		return false, false
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		return true, true
	}
	return true, false
}

func mobileProblem(c *Customer) string {
	if p := phoneProblem(c); p != "" {
		return p
	}
	if !IsMobile(c.Phone) {
		return fmt.Sprintf("%s is not a mobile number", c.Phone)
	}
	return ""
}

func addressProblem(c *Customer) string {
	a := c.Address
	if !a.Complete() {
		return "street, postal code, city and country are all needed"
	}
	if !ValidPostalCode(a.Country, a.PostalCode) {
		return fmt.Sprintf("postal code %q does not fit the postal codes of %s", a.PostalCode, a.Country)
	}
	return ""
}

func sourceID(c *Customer) (string, bool) {
	for _, s := range c.Sources {
		if strings.TrimSpace(s.ExternalID) != "" {
			return s.Source + ":" + s.ExternalID, true
		}
	}
	return "", false
}

func formatAddress(a Address) string {
	return a.Street + ", " + a.PostalCode + " " + a.City + ", " + a.Country
}

// CustomerFacts are the facts about one customer that the decision table
// reads besides the consent events. They are computed once per customer
// (FactsOf) and reused for every scope and step, so Decide never validates
// an address or parses a phone number.
type CustomerFacts struct {
	ID CustomerID
	// Business selects rule 13 (presumed B2B consent for phone) instead of
	// rule 12; anything that is not a business contact counts as a consumer,
	// the stricter case.
	Business bool
	// BirthDate decides rule 6; the zero Date (unknown) is not a minor.
	BirthDate Date
	// Erased and Suppressed deny everything (rule 1). Decide reads
	// Suppressed as given: lifting it after a new explicit opt-in (see
	// Customer.Suppressed) is the store's job when it records that opt-in.
	Erased     bool
	Suppressed bool
	// ContactPoints holds the channel kinds the customer can be reached on
	// (rule 2).
	ContactPoints ContactPoints
	// The existing-customer facts of UWG §7(3) for rule 11: a purchase
	// exists, the email address was collected with a purchase, and the
	// customer was told at that collection that they may object.
	HasPurchase                 bool
	EmailCollectedWithPurchase  bool
	ObjectionNoticeAtCollection bool
}

// FactsOf derives the decision facts from a customer record and its
// maintained aggregates. The record keeps "email collected with a purchase"
// and "objection notice given then" as one flag (EmailFromPurchase), so both
// facts follow it; NotePurchase refines them from purchase records.
func FactsOf(c *Customer) CustomerFacts {
	if c == nil {
		return CustomerFacts{}
	}
	return StoredFactsOf(c, ContactPointsOf(c))
}

// StoredFactsOf is FactsOf for a record whose contact points were computed
// when it was written (Customer.ContactPoints), so nothing is parsed.
func StoredFactsOf(c *Customer, cp ContactPoints) CustomerFacts {
	return CustomerFacts{
		ID:                          c.ID,
		Business:                    c.Type == Business,
		BirthDate:                   c.BirthDate,
		Erased:                      c.Erased,
		Suppressed:                  c.Suppressed,
		ContactPoints:               cp,
		HasPurchase:                 c.PurchaseCount > 0 || !c.FirstPurchaseAt.IsZero(),
		EmailCollectedWithPurchase:  c.EmailFromPurchase,
		ObjectionNoticeAtCollection: c.EmailFromPurchase,
	}
}

// NotePurchase adds the existing-customer facts of one purchase. The notice
// only counts when it was given with a purchase at which the email address
// was collected, because UWG §7(3) no. 4 asks for it "at collection".
func (f *CustomerFacts) NotePurchase(p *Purchase) {
	if p == nil {
		return
	}
	f.HasPurchase = true
	if p.EmailCollected {
		f.EmailCollectedWithPurchase = true
		if p.ObjectionNotice {
			f.ObjectionNoticeAtCollection = true
		}
	}
}

// ProfilingPurposeIDs picks the ids of the purposes whose category is
// profiling, for DecisionInput.ProfilingPurposes. Callers compute it once
// per store (purposes are few), not once per decision.
func ProfilingPurposeIDs(purposes []Purpose) []PurposeID {
	var ids []PurposeID
	for _, p := range purposes {
		if p.Category == CategoryProfiling {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

// DecisionInput is everything one decision is made from: the customer, the
// scope (channel kind and purpose), the campaign step, the consent history,
// the two times, the settings, and the contact counts the caller has.
type DecisionInput struct {
	Customer CustomerFacts

	// Channel and Purpose are the scope of the permission asked for.
	// Purpose.Category selects rule 3 and Purpose.OwnSimilarProducts is one
	// of the conditions of rule 11.
	Channel ChannelKind
	Purpose Purpose

	// ProfilingPurposes are the ids of all purposes of category profiling
	// (see ProfilingPurposeIDs), so rule 7 can recognise a profiling consent
	// given for any of them. The scope purpose counts too when its own
	// category is profiling.
	ProfilingPurposes []PurposeID

	// DataCategories are the data the step uses to select or personalise
	// (rule 7); CreativeObjectionNotice says whether the step's creative
	// carries the objection notice (rule 11).
	DataCategories          []DataCategory
	CreativeObjectionNotice bool

	// Events is the customer's consent history in any order; Decide neither
	// sorts nor modifies it. Events of another customer (both ids set and
	// different) are ignored. "Later" always means a greater (EffectiveAt,
	// ID) pair: the ledger id breaks ties between events of the same
	// instant.
	Events []ConsentEvent

	// At is the evaluation time t: only events with EffectiveAt <= At
	// count. KnownAt is the knowledge time k: only events with RecordedAt <=
	// KnownAt count, which replays what was known at a past moment. The zero
	// KnownAt means "everything recorded": forgetting it must never hide an
	// opt-out or an objection.
	At      time.Time
	KnownAt time.Time

	// Settings give the stale window, the minimum age and the caps. A
	// StaleMonths below 1 (never valid) is read as the default 24; MinAge
	// is taken as given, so 0 disables rule 6.
	Settings Settings

	// LastContactAt is when the consent of this scope was last used: the
	// last contact on this channel kind for this purpose at or before At
	// (zero: never). A time after At is ignored (treated as never), so a
	// replay cannot be rescued by a later use. Rule 8 reads it.
	LastContactAt time.Time

	// RecentContacts is the number of contacts the customer received on this
	// channel kind in the Settings.Caps[Channel].Days days up to At, as the
	// caller counts them. The frequency cap reads it.
	RecentContacts int
}

// Decision is the outcome of Decide: whether the contact may happen, the
// reason and rule that decided, and the consent event that decided it (zero
// when the decision rests on facts or on the absence of an event).
type Decision struct {
	Allow  bool
	Reason Reason
	Rule   int // 1–16 for the legal rules, RuleFrequencyCap for the policy rule
	// EventID, EventKind and EventAt (its effective time) name the deciding
	// event; EventID is 0 when there is none.
	EventID   EventID
	EventKind ConsentKind
	EventAt   time.Time
}

// String renders the decision like Explain.
func (d Decision) String() string { return d.Explain() }

// Explain renders the decision as one line for humans, naming the deciding
// event when there is one and the reason's explanation otherwise:
//
//	deny WITHDRAWN (rule 5): opt-out #123 on 2025-03-01
//	deny NO_CONTACT_POINT (rule 2): the channel needs a contact point …
func (d Decision) Explain() string {
	if d.Rule == 0 {
		return "no decision"
	}
	verb := "deny"
	if d.Allow {
		verb = "allow"
	}
	head := fmt.Sprintf("%s %s (rule %d): ", verb, d.Reason, d.Rule)
	if d.EventID == 0 {
		return head + d.Reason.Explain()
	}
	return head + fmt.Sprintf("%s #%d on %s", eventNoun(d.EventKind), d.EventID, d.EventAt.UTC().Format("2006-01-02"))
}

func eventNoun(k ConsentKind) string {
	switch k {
	case ConsentOptIn:
		return "opt-in"
	case ConsentDOIRequested:
		return "DOI request"
	case ConsentDOIConfirmed:
		return "DOI confirmation"
	case ConsentOptOut:
		return "opt-out"
	case ConsentObjection:
		return "objection"
	case ConsentParental:
		return "parental consent"
	case ConsentB2BBasis:
		return "B2B basis"
	case ConsentErasure:
		return "erasure"
	}
	return "event"
}

// later reports whether a comes after b in the ledger's order of effect:
// by effective time, ties broken by ledger position.
func later(a, b *ConsentEvent) bool {
	if c := a.EffectiveAt.Compare(b.EffectiveAt); c != 0 {
		return c > 0
	}
	return a.ID > b.ID
}

// latest returns whichever of cur and e is later; cur may be nil.
func latest(cur, e *ConsentEvent) *ConsentEvent {
	if cur == nil || later(e, cur) {
		return e
	}
	return cur
}

// history is what one pass over the events finds. The pointers point into
// DecisionInput.Events and never leave Decide, so nothing is allocated.
type history struct {
	erasure   *ConsentEvent // the earliest visible erasure
	objection *ConsentEvent // the latest visible objection, any scope
	optIn     *ConsentEvent // the latest opt_in of the scope
	optOut    *ConsentEvent // the latest opt_out of the scope
	confirmed *ConsentEvent // the latest doi_confirmed of the scope
	parental  *ConsentEvent // the latest parental_consent for the scope or unscoped
	b2b       *ConsentEvent // the latest b2b_basis for phone, scope purpose or any
}

// visible reports whether e counts at evaluation time t with knowledge k.
func (in *DecisionInput) visible(e *ConsentEvent) bool {
	if e.EffectiveAt.After(in.At) {
		return false
	}
	if !in.KnownAt.IsZero() && e.RecordedAt.After(in.KnownAt) {
		return false
	}
	return in.Customer.ID == 0 || e.CustomerID == 0 || e.CustomerID == in.Customer.ID
}

func (in *DecisionInput) scan() history {
	var h history
	pid := in.Purpose.ID
	for i := range in.Events {
		e := &in.Events[i]
		if !in.visible(e) {
			continue
		}
		inScope := e.Channel == in.Channel && e.PurposeID == pid
		switch e.Kind {
		case ConsentErasure:
			if h.erasure == nil || later(h.erasure, e) {
				h.erasure = e
			}
		case ConsentObjection:
			h.objection = latest(h.objection, e)
		case ConsentOptIn:
			if inScope {
				h.optIn = latest(h.optIn, e)
			}
		case ConsentOptOut:
			if inScope {
				h.optOut = latest(h.optOut, e)
			}
		case ConsentDOIConfirmed:
			if inScope {
				h.confirmed = latest(h.confirmed, e)
			}
		case ConsentParental:
			if (e.Channel == "" || e.Channel == in.Channel) && (e.PurposeID == 0 || e.PurposeID == pid) {
				h.parental = latest(h.parental, e)
			}
		case ConsentB2BBasis:
			if e.Channel == KindPhone && (e.PurposeID == 0 || e.PurposeID == pid) {
				h.b2b = latest(h.b2b, e)
			}
		}
	}
	return h
}

// Decide applies the consent decision table of PRODUCT.md §2 to one
// customer, scope and step at time in.At, as known at in.KnownAt. The rules
// are tried in order and the first that matches decides:
//
//  1. The customer is erased, a contact point is suppressed, or an erasure
//     event is visible: deny ERASED_SUPPRESSED (deciding event: the
//     erasure, if visible).
//  2. The channel kind's contact point (see ContactPointFor) is missing or
//     invalid: deny NO_CONTACT_POINT. This comes before rule 3 so a service
//     message is never "allowed" to nowhere.
//  3. The purpose's category is service: allow CONTRACTUAL. Service
//     messages are not marketing, so objections, withdrawals, age, stale
//     consents and the frequency cap do not apply to them.
//  4. An objection is visible and no opt_in of this very scope is later than
//     the latest objection: deny OBJECTION (event: the objection). An
//     objection carries no channel or purpose and stops all marketing and
//     profiling everywhere; only an explicit opt_in given after it revives
//     its own channel kind and purpose, and nothing else. A doi_confirmed or
//     b2b_basis after the objection does not revive anything.
//  5. The later of the scope's latest opt_in and latest opt_out is the
//     opt_out: deny WITHDRAWN (event: that opt_out).
//  6. in.Customer.BirthDate gives an age below Settings.MinAge on the UTC
//     date of At (an unknown birth date is not a minor) and no
//     parental_consent is visible for this scope, for this channel kind with
//     no purpose, for this purpose with no channel kind, or with neither:
//     deny MINOR_NO_PARENTAL_CONSENT (no event).
//  7. The step uses a data category that NeedsProfiling and there is no
//     valid profiling consent: an opt_in, on any channel kind, for a purpose
//     of category profiling (ProfilingPurposes, or the scope purpose if it is
//     one) that no later opt_out of its own scope withdrew and that is later
//     than the latest objection (Art. 21(2) GDPR covers profiling for direct
//     marketing). A profiling consent needs no DOI. Missing: deny
//     PROCESSING_NOT_PERMITTED (no event).
//
// Rules 8 to 10 apply to email, SMS and messenger only. The scope's
// consent is confirmed when a doi_confirmed of the scope is later than both
// the scope's latest opt_out and the latest objection. It need not follow an
// opt_in: the confirmation click is itself the express act of consent, so a
// doi_confirmed imported without its opt_in counts, and a new opt_in after
// a confirmation does not un-confirm it. Confirmations from before a
// withdrawal or an objection never count.
//
//  8. The consent is confirmed, the confirmation's effective time is
//     strictly before At minus Settings.StaleMonths (Settings.StaleBefore),
//     and LastContactAt is zero, after At, or also strictly before that
//     boundary: deny CONSENT_STALE (event: the doi_confirmed). A
//     confirmation or a use exactly at the boundary is still fresh.
//  9. The consent is confirmed: allow CONSENT_DOI (event: the
//     doi_confirmed).
//  10. The scope has an opt_in (which rules 4 and 5 made current) but no
//     confirmation: deny PENDING_DOI (event: the opt_in).
//  11. Email only, and all five UWG §7(3) conditions hold: the customer has
//     a purchase, the email was collected with a purchase, the objection
//     notice was given at that collection, the purpose is flagged
//     OwnSimilarProducts, and the creative carries the objection notice:
//     allow EXISTING_CUSTOMER (no event). If any is missing the decision
//     falls through, for email to NO_VALID_BASIS.
//  12. Phone, consumer (not Business), and the scope has an opt_in: allow
//     CONSENT_PHONE (event: the opt_in). Only a phone opt_in for this very
//     purpose counts; consent on email, confirmed or not, never does.
//  13. Phone, Business, and a b2b_basis for phone with this purpose or with
//     no purpose is visible: allow PRESUMED_B2B (event: the latest such).
//     As the table says, a business contact's phone opt_in alone does not
//     match rule 12 or 13.
//  14. Postal: allow LEGITIMATE_INTEREST (no event).
//  15. Web or social, and the scope has an opt_in (no DOI needed): allow
//     CONSENT (event: the opt_in).
//  16. Anything else, including the event channel kind for a marketing
//     purpose: deny NO_VALID_BASIS (no event).
//
// After rules 9 and 11 to 15 allow, the policy rule 17 denies
// FREQUENCY_CAP when Settings.Caps has a cap for the channel kind and
// RecentContacts has reached its Max; the legal deciding event is then
// dropped, since the cap rests on counts, not on an event.
//
// Decide is a pure function: it does not read the clock, allocate or
// modify its input, and it never panics on odd input. It fails closed: a
// nil input or a zero At is denied NO_VALID_BASIS (with no time, no event
// would be visible and an objection would be overlooked), and an unknown
// channel kind has no contact point (rule 2).
func Decide(in *DecisionInput) Decision {
	if in == nil || in.At.IsZero() {
		// Without an evaluation time no event is visible, so an objection
		// would be overlooked: fail closed.
		return deny(ReasonNoValidBasis, nil)
	}
	h := in.scan()
	f := &in.Customer

	// 1
	if f.Erased || f.Suppressed || h.erasure != nil {
		return deny(ReasonErasedSuppressed, h.erasure)
	}
	// 2
	if !f.ContactPoints.Has(in.Channel) {
		return deny(ReasonNoContactPoint, nil)
	}
	// 3
	if in.Purpose.Category == CategoryService {
		return allow(ReasonContractual, nil)
	}
	// 4
	if h.objection != nil && (h.optIn == nil || !later(h.optIn, h.objection)) {
		return deny(ReasonObjection, h.objection)
	}
	// 5
	if h.optOut != nil && (h.optIn == nil || later(h.optOut, h.optIn)) {
		return deny(ReasonWithdrawn, h.optOut)
	}
	// 6
	if in.Settings.MinAge > 0 && h.parental == nil {
		if age := f.BirthDate.AgeAt(in.At); age >= 0 && age < in.Settings.MinAge {
			return deny(ReasonMinorNoParentalConsent, nil)
		}
	}
	// 7
	if in.needsProfiling() && !in.hasProfilingConsent(h.objection) {
		return deny(ReasonProcessingNotPermitted, nil)
	}
	// 8–10
	if in.Channel.Electronic() {
		start := h.optOut
		if h.objection != nil {
			start = latest(start, h.objection)
		}
		if c := h.confirmed; c != nil && (start == nil || later(c, start)) {
			if in.stale(c) {
				return deny(ReasonConsentStale, c)
			}
			return in.capped(allow(ReasonConsentDOI, c))
		}
		if h.optIn != nil {
			return deny(ReasonPendingDOI, h.optIn)
		}
	}
	switch in.Channel {
	case KindEmail:
		// 11
		if f.HasPurchase && f.EmailCollectedWithPurchase && f.ObjectionNoticeAtCollection &&
			in.Purpose.OwnSimilarProducts && in.CreativeObjectionNotice {
			return in.capped(allow(ReasonExistingCustomer, nil))
		}
	case KindPhone:
		// 12
		if !f.Business && h.optIn != nil {
			return in.capped(allow(ReasonConsentPhone, h.optIn))
		}
		// 13
		if f.Business && h.b2b != nil {
			return in.capped(allow(ReasonPresumedB2B, h.b2b))
		}
	case KindPostal:
		// 14
		return in.capped(allow(ReasonLegitimateInterest, nil))
	case KindWeb, KindSocial:
		// 15
		if h.optIn != nil {
			return in.capped(allow(ReasonConsent, h.optIn))
		}
	}
	// 16
	return deny(ReasonNoValidBasis, nil)
}

func allow(r Reason, e *ConsentEvent) Decision {
	d := Decision{Allow: true, Reason: r, Rule: r.Rule()}
	d.setEvent(e)
	return d
}

func deny(r Reason, e *ConsentEvent) Decision {
	d := Decision{Reason: r, Rule: r.Rule()}
	d.setEvent(e)
	return d
}

func (d *Decision) setEvent(e *ConsentEvent) {
	if e != nil {
		d.EventID, d.EventKind, d.EventAt = e.ID, e.Kind, e.EffectiveAt
	}
}

// capped applies the contact-pressure policy rule to a legal allow.
func (in *DecisionInput) capped(d Decision) Decision {
	if c, ok := in.Settings.Caps[in.Channel]; ok && c.Max > 0 && in.RecentContacts >= c.Max {
		return deny(ReasonFrequencyCap, nil)
	}
	return d
}

// stale implements rule 8's "older than the stale window and unused since".
func (in *DecisionInput) stale(confirmed *ConsentEvent) bool {
	s := in.Settings
	if s.StaleMonths < 1 {
		s.StaleMonths = DefaultSettings().StaleMonths
	}
	boundary := s.StaleBefore(in.At)
	if !confirmed.EffectiveAt.Before(boundary) {
		return false
	}
	used := in.LastContactAt
	return used.IsZero() || used.After(in.At) || used.Before(boundary)
}

func (in *DecisionInput) needsProfiling() bool {
	for _, d := range in.DataCategories {
		if d.NeedsProfiling() {
			return true
		}
	}
	return false
}

func (in *DecisionInput) isProfilingPurpose(id PurposeID) bool {
	if id == in.Purpose.ID && in.Purpose.Category == CategoryProfiling {
		return true
	}
	for _, p := range in.ProfilingPurposes {
		if p == id {
			return true
		}
	}
	return false
}

// hasProfilingConsent looks for a profiling opt_in that is later than the
// objection (if any) and not withdrawn by a later opt_out of its scope. The
// inner scan runs only for candidate opt-ins, which are few.
func (in *DecisionInput) hasProfilingConsent(objection *ConsentEvent) bool {
	for i := range in.Events {
		e := &in.Events[i]
		if e.Kind != ConsentOptIn || !in.visible(e) || !in.isProfilingPurpose(e.PurposeID) {
			continue
		}
		if objection != nil && !later(e, objection) {
			continue
		}
		withdrawn := false
		for j := range in.Events {
			o := &in.Events[j]
			if o.Kind == ConsentOptOut && o.Channel == e.Channel && o.PurposeID == e.PurposeID &&
				in.visible(o) && later(o, e) {
				withdrawn = true
				break
			}
		}
		if !withdrawn {
			return true
		}
	}
	return false
}
