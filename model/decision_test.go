package model

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fixture is an adult consumer who can be reached on every channel
// kind, evaluated for the email newsletter at tNow with nothing in the
// ledger. Each case adds what it needs; events get ids 1, 2, 3… in the
// order they are added, so cases can name the deciding event.

var tNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const (
	testCustomer CustomerID = 7
	pService     PurposeID  = 1 // order confirmations
	pNews        PurposeID  = 2 // newsletter, own similar products
	pProfiling   PurposeID  = 3 // "personalised offers" profiling consent
	pOffers      PurposeID  = 4 // partner offers, not own similar products
	pPersonal    PurposeID  = 5 // profiling, deliberately not in ProfilingPurposes
)

func testPurpose(id PurposeID) Purpose {
	switch id {
	case pService:
		return Purpose{ID: id, Name: "orders", Category: CategoryService}
	case pNews:
		return Purpose{ID: id, Name: "newsletter", Category: CategoryMarketing, OwnSimilarProducts: true}
	case pProfiling:
		return Purpose{ID: id, Name: "personalised-offers", Category: CategoryProfiling}
	case pOffers:
		return Purpose{ID: id, Name: "partner-offers", Category: CategoryMarketing}
	case pPersonal:
		return Purpose{ID: id, Name: "site-personalisation", Category: CategoryProfiling}
	}
	panic("unknown test purpose")
}

func everyKind() ContactPoints {
	var p ContactPoints
	for _, k := range ChannelKinds {
		p = p.With(k)
	}
	return p
}

type fixture struct {
	in   DecisionInput
	next EventID
}

func newFixture() *fixture {
	return &fixture{next: 1, in: DecisionInput{
		Customer: CustomerFacts{
			ID:            testCustomer,
			BirthDate:     Date{1980, time.May, 5},
			ContactPoints: everyKind(),
		},
		Channel:           KindEmail,
		Purpose:           testPurpose(pNews),
		ProfilingPurposes: []PurposeID{pProfiling},
		At:                tNow,
		KnownAt:           tNow,
		Settings:          DefaultSettings(),
	}}
}

func daysAgo(n int) time.Time { return tNow.AddDate(0, 0, -n) }

// addRec appends an event effective at eff and recorded at rec.
func (f *fixture) addRec(kind ConsentKind, ch ChannelKind, p PurposeID, eff, rec time.Time) EventID {
	id := f.next
	f.next++
	f.in.Events = append(f.in.Events, ConsentEvent{
		ID: id, CustomerID: testCustomer, Channel: ch, PurposeID: p, Kind: kind,
		Basis: kind.DefaultBasis(), EffectiveAt: eff, RecordedAt: rec, Source: "test",
	})
	return id
}

func (f *fixture) add(kind ConsentKind, ch ChannelKind, p PurposeID, at time.Time) EventID {
	return f.addRec(kind, ch, p, at, at)
}

// own adds an event for the fixture's current scope.
func (f *fixture) own(kind ConsentKind, at time.Time) EventID {
	return f.add(kind, f.in.Channel, f.in.Purpose.ID, at)
}

// doi adds an opt-in at `at` and its confirmation an hour later for the
// current scope, and returns the confirmation's id.
func (f *fixture) doi(at time.Time) EventID {
	f.own(ConsentOptIn, at)
	return f.own(ConsentDOIConfirmed, at.Add(time.Hour))
}

func (f *fixture) objection(at time.Time) EventID { return f.add(ConsentObjection, "", 0, at) }

func (f *fixture) scope(ch ChannelKind, p PurposeID) {
	f.in.Channel, f.in.Purpose = ch, testPurpose(p)
}

// minor makes the customer 15 at tNow.
func (f *fixture) minor() { f.in.Customer.BirthDate = Date{2010, time.January, 10} }

func (f *fixture) existingCustomer() {
	f.in.Customer.HasPurchase = true
	f.in.Customer.EmailCollectedWithPurchase = true
	f.in.Customer.ObjectionNoticeAtCollection = true
	f.in.CreativeObjectionNotice = true
}

func (f *fixture) without(k ChannelKind) {
	f.in.Customer.ContactPoints &^= kindBit(k)
}

func (f *fixture) decide() Decision { return Decide(&f.in) }

// ruleCase is one row of the rule table: a history and the decision it must
// give. Rows whose name says "X beats Y" hold facts that match both rules X
// and Y, so they fail when the two rules are swapped or X is removed.
type ruleCase struct {
	name  string
	build func(f *fixture)
	want  Reason
	event EventID // the deciding event; 0 = none
}

func ruleCases() []ruleCase {
	return []ruleCase{
		// Rule 1.
		{"1 erased beats DOI (9)", func(f *fixture) { f.doi(daysAgo(30)); f.in.Customer.Erased = true }, ReasonErasedSuppressed, 0},
		{"1 erased beats missing contact point (2)", func(f *fixture) {
			f.scope(KindEmail, pService)
			f.in.Customer.Erased = true
			f.in.Customer.ContactPoints = 0
		}, ReasonErasedSuppressed, 0},
		{"1 suppressed beats service (3)", func(f *fixture) {
			f.scope(KindEmail, pService)
			f.in.Customer.Suppressed = true
		}, ReasonErasedSuppressed, 0},
		{"1 erasure event names itself", func(f *fixture) {
			f.doi(daysAgo(30))
			f.add(ConsentErasure, "", 0, daysAgo(2))
		}, ReasonErasedSuppressed, 3},
		{"1 erasure effective after t does not count", func(f *fixture) {
			f.doi(daysAgo(30))
			f.add(ConsentErasure, "", 0, tNow.Add(time.Hour))
		}, ReasonConsentDOI, 2},
		{"1 erasure known now but effective after t does not count", func(f *fixture) {
			f.doi(daysAgo(30))
			f.addRec(ConsentErasure, "", 0, tNow.Add(24*time.Hour), daysAgo(1))
		}, ReasonConsentDOI, 2},
		{"1 erasure recorded after k does not count", func(f *fixture) {
			f.doi(daysAgo(30))
			f.addRec(ConsentErasure, "", 0, daysAgo(2), tNow.Add(time.Hour))
		}, ReasonConsentDOI, 2},

		// Rule 2.
		{"2 service without contact point beats service (3)", func(f *fixture) {
			f.scope(KindEmail, pService)
			f.without(KindEmail)
		}, ReasonNoContactPoint, 0},
		{"2 sms without mobile beats DOI (9)", func(f *fixture) {
			f.scope(KindSMS, pNews)
			f.doi(daysAgo(30))
			f.without(KindSMS)
		}, ReasonNoContactPoint, 0},
		{"2 missing contact point beats objection (4)", func(f *fixture) {
			f.objection(daysAgo(3))
			f.without(KindEmail)
		}, ReasonNoContactPoint, 0},
		{"2 unknown channel kind", func(f *fixture) { f.in.Channel = "fax" }, ReasonNoContactPoint, 0},

		// Rule 3.
		{"3 service beats objection (4)", func(f *fixture) {
			f.scope(KindEmail, pService)
			f.objection(daysAgo(3))
		}, ReasonContractual, 0},
		{"3 service beats opt-out (5)", func(f *fixture) {
			f.scope(KindEmail, pService)
			f.own(ConsentOptOut, daysAgo(3))
		}, ReasonContractual, 0},
		{"3 service beats minor (6)", func(f *fixture) { f.scope(KindEmail, pService); f.minor() }, ReasonContractual, 0},
		{"3 service beats profiling (7)", func(f *fixture) {
			f.scope(KindEmail, pService)
			f.in.DataCategories = []DataCategory{DataPurchases}
		}, ReasonContractual, 0},
		{"3 service beats no basis (16) on sms", func(f *fixture) { f.scope(KindSMS, pService) }, ReasonContractual, 0},
		{"3 service is never capped (17)", func(f *fixture) {
			f.scope(KindEmail, pService)
			f.in.Settings.Caps = map[ChannelKind]FrequencyCap{KindEmail: {Max: 1, Days: 7}}
			f.in.RecentContacts = 5
		}, ReasonContractual, 0},

		// Rule 4.
		{"4 objection beats older confirmed opt-in (9)", func(f *fixture) {
			f.doi(daysAgo(30))
			f.objection(daysAgo(10))
		}, ReasonObjection, 3},
		{"4 objection beats later opt-out (5)", func(f *fixture) {
			f.doi(daysAgo(30))
			f.objection(daysAgo(10))
			f.own(ConsentOptOut, daysAgo(5))
		}, ReasonObjection, 3},
		{"4 objection beats minor (6)", func(f *fixture) { f.minor(); f.objection(daysAgo(10)) }, ReasonObjection, 1},
		{"4 objection beats profiling (7)", func(f *fixture) {
			f.objection(daysAgo(10))
			f.in.DataCategories = []DataCategory{DataScores}
		}, ReasonObjection, 1},
		{"4 objection beats existing customer (11)", func(f *fixture) { f.existingCustomer(); f.objection(daysAgo(10)) }, ReasonObjection, 1},
		{"4 objection beats postal (14)", func(f *fixture) { f.scope(KindPostal, pNews); f.objection(daysAgo(10)) }, ReasonObjection, 1},
		{"4 objection beats web opt-in (15)", func(f *fixture) {
			f.scope(KindWeb, pNews)
			f.own(ConsentOptIn, daysAgo(20))
			f.objection(daysAgo(10))
		}, ReasonObjection, 2},
		{"4 later opt-in and DOI revive their own scope", func(f *fixture) {
			f.objection(daysAgo(10))
			f.doi(daysAgo(5))
		}, ReasonConsentDOI, 3},
		{"4 later opt-in for newsletter does not revive offers", func(f *fixture) {
			f.scope(KindEmail, pOffers)
			f.doi(daysAgo(30))
			f.objection(daysAgo(10))
			f.add(ConsentOptIn, KindEmail, pNews, daysAgo(5))
			f.add(ConsentDOIConfirmed, KindEmail, pNews, daysAgo(5))
		}, ReasonObjection, 3},
		{"4 later opt-in on email does not revive sms", func(f *fixture) {
			f.scope(KindSMS, pNews)
			f.doi(daysAgo(30))
			f.objection(daysAgo(10))
			f.add(ConsentOptIn, KindEmail, pNews, daysAgo(5))
		}, ReasonObjection, 3},
		{"4 later opt-in does not revive postal", func(f *fixture) {
			f.scope(KindPostal, pNews)
			f.objection(daysAgo(10))
			f.add(ConsentOptIn, KindEmail, pNews, daysAgo(5))
		}, ReasonObjection, 1},
		{"4 confirmation from before the objection does not count", func(f *fixture) {
			f.doi(daysAgo(30))
			f.objection(daysAgo(10))
			f.own(ConsentOptIn, daysAgo(5))
		}, ReasonPendingDOI, 4},
		{"4 a confirmation alone after the objection does not revive", func(f *fixture) {
			f.objection(daysAgo(10))
			f.own(ConsentDOIConfirmed, daysAgo(5))
		}, ReasonObjection, 1},
		{"4 same instant: the opt-in with the higher ledger id is later", func(f *fixture) {
			f.objection(daysAgo(10))
			f.own(ConsentOptIn, daysAgo(10))
			f.own(ConsentDOIConfirmed, daysAgo(9))
		}, ReasonConsentDOI, 3},
		{"4 same instant: the objection with the higher ledger id is later", func(f *fixture) {
			f.own(ConsentOptIn, daysAgo(10))
			f.objection(daysAgo(10))
			f.own(ConsentDOIConfirmed, daysAgo(9))
		}, ReasonObjection, 2},

		// Rule 5.
		{"5 opt-out beats confirmed opt-in (9)", func(f *fixture) {
			f.doi(daysAgo(30))
			f.own(ConsentOptOut, daysAgo(3))
		}, ReasonWithdrawn, 3},
		{"5 opt-out beats minor (6)", func(f *fixture) { f.minor(); f.own(ConsentOptOut, daysAgo(3)) }, ReasonWithdrawn, 1},
		{"5 opt-out beats profiling (7)", func(f *fixture) {
			f.own(ConsentOptOut, daysAgo(3))
			f.in.DataCategories = []DataCategory{DataInteractions}
		}, ReasonWithdrawn, 1},
		{"5 opt-out beats existing customer (11)", func(f *fixture) {
			f.existingCustomer()
			f.own(ConsentOptOut, daysAgo(3))
		}, ReasonWithdrawn, 1},
		{"5 opt-out beats postal (14)", func(f *fixture) {
			f.scope(KindPostal, pNews)
			f.own(ConsentOptOut, daysAgo(3))
		}, ReasonWithdrawn, 1},
		{"5 opt-out beats phone opt-in (12)", func(f *fixture) {
			f.scope(KindPhone, pNews)
			f.own(ConsentOptIn, daysAgo(30))
			f.own(ConsentOptOut, daysAgo(3))
		}, ReasonWithdrawn, 2},
		{"5 an opt-out dated after t does not count yet", func(f *fixture) {
			f.doi(daysAgo(30))
			f.addRec(ConsentOptOut, KindEmail, pNews, tNow.Add(time.Hour), daysAgo(1))
		}, ReasonConsentDOI, 2},
		{"5 another customer's opt-out does not count", func(f *fixture) {
			f.doi(daysAgo(30))
			f.own(ConsentOptOut, daysAgo(3))
			f.in.Events[2].CustomerID = testCustomer + 1
		}, ReasonConsentDOI, 2},
		{"5 opt-out on offers leaves the newsletter alone", func(f *fixture) {
			f.doi(daysAgo(30))
			f.add(ConsentOptOut, KindEmail, pOffers, daysAgo(3))
		}, ReasonConsentDOI, 2},
		{"5 opt-in after opt-out, confirmed again", func(f *fixture) {
			f.doi(daysAgo(30))
			f.own(ConsentOptOut, daysAgo(20))
			f.doi(daysAgo(10))
		}, ReasonConsentDOI, 5},
		{"5 opt-in after opt-out needs a new confirmation", func(f *fixture) {
			f.doi(daysAgo(30))
			f.own(ConsentOptOut, daysAgo(20))
			f.own(ConsentOptIn, daysAgo(10))
		}, ReasonPendingDOI, 4},
		{"5 a confirmation after the opt-out without a new opt-in stays withdrawn", func(f *fixture) {
			f.doi(daysAgo(30))
			f.own(ConsentOptOut, daysAgo(20))
			f.own(ConsentDOIConfirmed, daysAgo(10))
		}, ReasonWithdrawn, 3},

		// Rule 6.
		{"6 minor beats DOI (9)", func(f *fixture) { f.minor(); f.doi(daysAgo(30)) }, ReasonMinorNoParentalConsent, 0},
		{"6 minor beats profiling (7)", func(f *fixture) {
			f.minor()
			f.in.DataCategories = []DataCategory{DataPurchases}
		}, ReasonMinorNoParentalConsent, 0},
		{"6 minor beats postal (14)", func(f *fixture) { f.minor(); f.scope(KindPostal, pNews) }, ReasonMinorNoParentalConsent, 0},
		{"6 minor beats existing customer (11)", func(f *fixture) { f.minor(); f.existingCustomer() }, ReasonMinorNoParentalConsent, 0},
		{"6 parental consent for the scope", func(f *fixture) {
			f.minor()
			f.own(ConsentParental, daysAgo(40))
			f.doi(daysAgo(30))
		}, ReasonConsentDOI, 3},
		{"6 unscoped parental consent", func(f *fixture) {
			f.minor()
			f.add(ConsentParental, "", 0, daysAgo(40))
			f.doi(daysAgo(30))
		}, ReasonConsentDOI, 3},
		{"6 parental consent for the channel kind, any purpose", func(f *fixture) {
			f.minor()
			f.add(ConsentParental, KindEmail, 0, daysAgo(40))
			f.doi(daysAgo(30))
		}, ReasonConsentDOI, 3},
		{"6 parental consent for another purpose does not count", func(f *fixture) {
			f.minor()
			f.add(ConsentParental, KindEmail, pOffers, daysAgo(40))
			f.doi(daysAgo(30))
		}, ReasonMinorNoParentalConsent, 0},
		{"6 parental consent for another channel kind does not count", func(f *fixture) {
			f.minor()
			f.add(ConsentParental, KindSMS, pNews, daysAgo(40))
			f.doi(daysAgo(30))
		}, ReasonMinorNoParentalConsent, 0},
		{"6 the day before the 16th birthday", func(f *fixture) {
			f.in.Customer.BirthDate = Date{2009, time.June, 2}
			f.doi(daysAgo(30))
		}, ReasonMinorNoParentalConsent, 0},
		{"6 on the 16th birthday", func(f *fixture) {
			f.in.Customer.BirthDate = Date{2009, time.June, 1}
			f.doi(daysAgo(30))
		}, ReasonConsentDOI, 2},
		{"6 unknown birth date is not a minor", func(f *fixture) {
			f.in.Customer.BirthDate = Date{}
			f.doi(daysAgo(30))
		}, ReasonConsentDOI, 2},
		{"6 minimum age from the settings", func(f *fixture) {
			f.in.Customer.BirthDate = Date{2008, time.January, 1} // 17
			f.in.Settings.MinAge = 18
			f.doi(daysAgo(30))
		}, ReasonMinorNoParentalConsent, 0},

		// Rule 7.
		{"7 profiling data without profiling consent beats DOI (9)", func(f *fixture) {
			f.doi(daysAgo(30))
			f.in.DataCategories = []DataCategory{DataContact, DataPurchases}
		}, ReasonProcessingNotPermitted, 0},
		{"7 beats stale consent (8)", func(f *fixture) {
			f.doi(tNow.AddDate(-3, 0, 0))
			f.in.DataCategories = []DataCategory{DataScores}
		}, ReasonProcessingNotPermitted, 0},
		{"7 beats pending DOI (10)", func(f *fixture) {
			f.own(ConsentOptIn, daysAgo(1))
			f.in.DataCategories = []DataCategory{DataScores}
		}, ReasonProcessingNotPermitted, 0},
		{"7 beats postal (14)", func(f *fixture) {
			f.scope(KindPostal, pNews)
			f.in.DataCategories = []DataCategory{DataLocation}
		}, ReasonProcessingNotPermitted, 0},
		{"7 profiling consent given on web counts for email", func(f *fixture) {
			f.add(ConsentOptIn, KindWeb, pProfiling, daysAgo(60))
			f.doi(daysAgo(30))
			f.in.DataCategories = []DataCategory{DataWebBehaviour}
		}, ReasonConsentDOI, 3},
		{"7 withdrawn profiling consent", func(f *fixture) {
			f.add(ConsentOptIn, KindWeb, pProfiling, daysAgo(60))
			f.add(ConsentOptOut, KindWeb, pProfiling, daysAgo(50))
			f.doi(daysAgo(30))
			f.in.DataCategories = []DataCategory{DataWebBehaviour}
		}, ReasonProcessingNotPermitted, 0},
		{"7 withdrawn on web, still given on email", func(f *fixture) {
			f.add(ConsentOptIn, KindWeb, pProfiling, daysAgo(60))
			f.add(ConsentOptOut, KindWeb, pProfiling, daysAgo(50))
			f.add(ConsentOptIn, KindEmail, pProfiling, daysAgo(40))
			f.doi(daysAgo(30))
			f.in.DataCategories = []DataCategory{DataWebBehaviour}
		}, ReasonConsentDOI, 5},
		{"7 withdrawn and given again on the same scope", func(f *fixture) {
			f.add(ConsentOptIn, KindWeb, pProfiling, daysAgo(60))
			f.add(ConsentOptOut, KindWeb, pProfiling, daysAgo(50))
			f.add(ConsentOptIn, KindWeb, pProfiling, daysAgo(40))
			f.doi(daysAgo(30))
			f.in.DataCategories = []DataCategory{DataWebBehaviour}
		}, ReasonConsentDOI, 5},
		{"7 profiling consent from before an objection is void", func(f *fixture) {
			f.add(ConsentOptIn, KindWeb, pProfiling, daysAgo(60))
			f.objection(daysAgo(40))
			f.doi(daysAgo(30))
			f.in.DataCategories = []DataCategory{DataPurchases}
		}, ReasonProcessingNotPermitted, 0},
		{"7 a marketing opt-in is no profiling consent", func(f *fixture) {
			f.add(ConsentOptIn, KindWeb, pOffers, daysAgo(60))
			f.doi(daysAgo(30))
			f.in.DataCategories = []DataCategory{DataPurchases}
		}, ReasonProcessingNotPermitted, 0},
		{"7 profiling consent recorded after k does not count", func(f *fixture) {
			f.addRec(ConsentOptIn, KindWeb, pProfiling, daysAgo(60), tNow.Add(time.Hour))
			f.doi(daysAgo(30))
			f.in.DataCategories = []DataCategory{DataPurchases}
		}, ReasonProcessingNotPermitted, 0},
		{"7 data told by the customer needs no profiling consent", func(f *fixture) {
			f.doi(daysAgo(30))
			f.in.DataCategories = []DataCategory{DataContact, DataMasterData, DataPreferences}
		}, ReasonConsentDOI, 2},
		{"7 the scope purpose is itself a profiling purpose", func(f *fixture) {
			f.scope(KindWeb, pPersonal)
			f.own(ConsentOptIn, daysAgo(30))
			f.in.DataCategories = []DataCategory{DataWebBehaviour}
		}, ReasonConsent, 1},

		// Rule 8.
		{"8 stale beats DOI (9)", func(f *fixture) { f.doi(tNow.AddDate(0, -25, 0)) }, ReasonConsentStale, 2},
		{"8 stale beats existing customer (11)", func(f *fixture) {
			f.existingCustomer()
			f.doi(tNow.AddDate(0, -25, 0))
		}, ReasonConsentStale, 2},
		{"8 used within the window is fresh", func(f *fixture) {
			f.doi(tNow.AddDate(0, -25, 0))
			f.in.LastContactAt = tNow.AddDate(0, -1, 0)
		}, ReasonConsentDOI, 2},
		{"8 confirmed exactly at the boundary is fresh", func(f *fixture) {
			b := tNow.AddDate(0, -24, 0)
			f.own(ConsentOptIn, b.Add(-time.Hour))
			f.own(ConsentDOIConfirmed, b)
		}, ReasonConsentDOI, 2},
		{"8 confirmed a second before the boundary is stale", func(f *fixture) {
			b := tNow.AddDate(0, -24, 0)
			f.own(ConsentOptIn, b.Add(-time.Hour))
			f.own(ConsentDOIConfirmed, b.Add(-time.Second))
		}, ReasonConsentStale, 2},
		{"8 used exactly at the boundary is fresh", func(f *fixture) {
			f.doi(tNow.AddDate(-3, 0, 0))
			f.in.LastContactAt = tNow.AddDate(0, -24, 0)
		}, ReasonConsentDOI, 2},
		{"8 used a second before the boundary is stale", func(f *fixture) {
			f.doi(tNow.AddDate(-3, 0, 0))
			f.in.LastContactAt = tNow.AddDate(0, -24, 0).Add(-time.Second)
		}, ReasonConsentStale, 2},
		{"8 a use after t does not count", func(f *fixture) {
			f.doi(tNow.AddDate(-3, 0, 0))
			f.in.LastContactAt = tNow.Add(time.Hour)
		}, ReasonConsentStale, 2},
		{"8 the window comes from the settings", func(f *fixture) {
			f.in.Settings.StaleMonths = 12
			f.doi(tNow.AddDate(0, -13, 0))
		}, ReasonConsentStale, 2},
		{"8 an unset window is the default 24 months", func(f *fixture) {
			f.in.Settings.StaleMonths = 0
			f.doi(tNow.AddDate(0, -13, 0))
		}, ReasonConsentDOI, 2},
		{"8 a fresh confirmation renews an old consent", func(f *fixture) {
			f.doi(tNow.AddDate(-3, 0, 0))
			f.doi(daysAgo(10))
		}, ReasonConsentDOI, 4},

		// Rule 9.
		{"9 DOI", func(f *fixture) { f.doi(daysAgo(30)) }, ReasonConsentDOI, 2},
		{"9 DOI beats existing customer (11)", func(f *fixture) { f.existingCustomer(); f.doi(daysAgo(30)) }, ReasonConsentDOI, 2},
		{"9 DOI on sms", func(f *fixture) { f.scope(KindSMS, pNews); f.doi(daysAgo(30)) }, ReasonConsentDOI, 2},
		{"9 DOI on messenger", func(f *fixture) { f.scope(KindMessenger, pNews); f.doi(daysAgo(30)) }, ReasonConsentDOI, 2},
		{"9 a confirmation without an opt-in counts", func(f *fixture) { f.own(ConsentDOIConfirmed, daysAgo(30)) }, ReasonConsentDOI, 1},
		{"9 a later unconfirmed opt-in keeps the confirmation", func(f *fixture) {
			f.doi(daysAgo(30))
			f.own(ConsentOptIn, daysAgo(3))
		}, ReasonConsentDOI, 2},
		{"9 a confirmation for another purpose does not count", func(f *fixture) {
			f.own(ConsentOptIn, daysAgo(30))
			f.add(ConsentDOIConfirmed, KindEmail, pOffers, daysAgo(29))
		}, ReasonPendingDOI, 1},
		{"9 a confirmation recorded after k does not count", func(f *fixture) {
			f.own(ConsentOptIn, daysAgo(30))
			f.addRec(ConsentDOIConfirmed, KindEmail, pNews, daysAgo(29), tNow.Add(time.Minute))
		}, ReasonPendingDOI, 1},

		// Rule 10.
		{"10 opt-in without confirmation", func(f *fixture) { f.own(ConsentOptIn, daysAgo(1)) }, ReasonPendingDOI, 1},
		{"10 pending beats existing customer (11)", func(f *fixture) {
			f.existingCustomer()
			f.own(ConsentOptIn, daysAgo(1))
			f.own(ConsentDOIRequested, daysAgo(1))
		}, ReasonPendingDOI, 1},
		{"10 pending on sms beats no basis (16)", func(f *fixture) {
			f.scope(KindSMS, pNews)
			f.own(ConsentOptIn, daysAgo(1))
		}, ReasonPendingDOI, 1},
		{"10 a DOI request alone is not an opt-in", func(f *fixture) { f.own(ConsentDOIRequested, daysAgo(1)) }, ReasonNoValidBasis, 0},

		// Rule 11.
		{"11 existing customer", func(f *fixture) { f.existingCustomer() }, ReasonExistingCustomer, 0},
		{"11 no purchase", func(f *fixture) { f.existingCustomer(); f.in.Customer.HasPurchase = false }, ReasonNoValidBasis, 0},
		{"11 email not collected with the purchase", func(f *fixture) {
			f.existingCustomer()
			f.in.Customer.EmailCollectedWithPurchase = false
		}, ReasonNoValidBasis, 0},
		{"11 no objection notice at collection", func(f *fixture) {
			f.existingCustomer()
			f.in.Customer.ObjectionNoticeAtCollection = false
		}, ReasonNoValidBasis, 0},
		{"11 purpose not own similar products", func(f *fixture) {
			f.existingCustomer()
			f.scope(KindEmail, pOffers)
		}, ReasonNoValidBasis, 0},
		{"11 creative without objection notice", func(f *fixture) {
			f.existingCustomer()
			f.in.CreativeObjectionNotice = false
		}, ReasonNoValidBasis, 0},
		{"11 email only: not on sms", func(f *fixture) { f.existingCustomer(); f.scope(KindSMS, pNews) }, ReasonNoValidBasis, 0},
		{"11 email only: not on phone", func(f *fixture) { f.existingCustomer(); f.scope(KindPhone, pNews) }, ReasonNoValidBasis, 0},

		// Rule 12.
		{"12 consumer with phone opt-in", func(f *fixture) {
			f.scope(KindPhone, pNews)
			f.own(ConsentOptIn, daysAgo(30))
		}, ReasonConsentPhone, 1},
		{"12 an email DOI never counts for phone", func(f *fixture) {
			f.doi(daysAgo(30))
			f.scope(KindPhone, pNews)
		}, ReasonNoValidBasis, 0},
		{"12 phone opt-in for another purpose", func(f *fixture) {
			f.scope(KindPhone, pNews)
			f.add(ConsentOptIn, KindPhone, pOffers, daysAgo(30))
		}, ReasonNoValidBasis, 0},
		{"12 phone confirmation without opt-in does not count", func(f *fixture) {
			f.scope(KindPhone, pNews)
			f.own(ConsentDOIConfirmed, daysAgo(30))
		}, ReasonNoValidBasis, 0},
		{"12 consumer with a b2b basis", func(f *fixture) {
			f.scope(KindPhone, pNews)
			f.own(ConsentB2BBasis, daysAgo(30))
		}, ReasonNoValidBasis, 0},
		{"12 phone opt-in needs no DOI, unlike email (10)", func(f *fixture) {
			f.scope(KindPhone, pNews)
			f.own(ConsentOptIn, daysAgo(1))
			f.own(ConsentDOIRequested, daysAgo(1))
		}, ReasonConsentPhone, 1},

		// Rule 13.
		{"13 business contact with b2b basis", func(f *fixture) {
			f.in.Customer.Business = true
			f.scope(KindPhone, pNews)
			f.own(ConsentB2BBasis, daysAgo(30))
		}, ReasonPresumedB2B, 1},
		{"13 b2b basis for any purpose", func(f *fixture) {
			f.in.Customer.Business = true
			f.scope(KindPhone, pNews)
			f.add(ConsentB2BBasis, KindPhone, 0, daysAgo(30))
		}, ReasonPresumedB2B, 1},
		{"13 b2b basis for another purpose", func(f *fixture) {
			f.in.Customer.Business = true
			f.scope(KindPhone, pNews)
			f.add(ConsentB2BBasis, KindPhone, pOffers, daysAgo(30))
		}, ReasonNoValidBasis, 0},
		{"13 b2b basis recorded for email does not count", func(f *fixture) {
			f.in.Customer.Business = true
			f.scope(KindPhone, pNews)
			f.add(ConsentB2BBasis, KindEmail, pNews, daysAgo(30))
		}, ReasonNoValidBasis, 0},
		{"13 business contact with a phone opt-in only", func(f *fixture) {
			f.in.Customer.Business = true
			f.scope(KindPhone, pNews)
			f.own(ConsentOptIn, daysAgo(30))
		}, ReasonNoValidBasis, 0},
		{"13 b2b basis withdrawn by an opt-out (5)", func(f *fixture) {
			f.in.Customer.Business = true
			f.scope(KindPhone, pNews)
			f.own(ConsentB2BBasis, daysAgo(30))
			f.own(ConsentOptOut, daysAgo(3))
		}, ReasonWithdrawn, 2},

		// Rule 14.
		{"14 postal", func(f *fixture) { f.scope(KindPostal, pNews) }, ReasonLegitimateInterest, 0},

		// Rule 15.
		{"15 web opt-in", func(f *fixture) { f.scope(KindWeb, pNews); f.own(ConsentOptIn, daysAgo(1)) }, ReasonConsent, 1},
		{"15 social opt-in", func(f *fixture) { f.scope(KindSocial, pNews); f.own(ConsentOptIn, daysAgo(1)) }, ReasonConsent, 1},
		{"15 web without opt-in", func(f *fixture) { f.scope(KindWeb, pNews) }, ReasonNoValidBasis, 0},
		{"15 social opt-in for another purpose", func(f *fixture) {
			f.scope(KindSocial, pNews)
			f.add(ConsentOptIn, KindSocial, pOffers, daysAgo(1))
		}, ReasonNoValidBasis, 0},
		{"15 web with only an email opt-in", func(f *fixture) {
			f.doi(daysAgo(30))
			f.scope(KindWeb, pNews)
		}, ReasonNoValidBasis, 0},

		// Rule 16.
		{"16 email with nothing", func(*fixture) {}, ReasonNoValidBasis, 0},
		{"16 no evaluation time fails closed", func(f *fixture) {
			f.scope(KindPostal, pNews)
			f.in.At = time.Time{}
		}, ReasonNoValidBasis, 0},
		{"16 event kind even with an opt-in", func(f *fixture) {
			f.scope(KindEvent, pNews)
			f.own(ConsentOptIn, daysAgo(1))
		}, ReasonNoValidBasis, 0},

		// Rule 17, the frequency cap.
		{"17 cap reached after DOI", func(f *fixture) {
			f.doi(daysAgo(30))
			f.in.Settings.Caps = map[ChannelKind]FrequencyCap{KindEmail: {Max: 4, Days: 30}}
			f.in.RecentContacts = 4
		}, ReasonFrequencyCap, 0},
		{"17 one below the cap", func(f *fixture) {
			f.doi(daysAgo(30))
			f.in.Settings.Caps = map[ChannelKind]FrequencyCap{KindEmail: {Max: 4, Days: 30}}
			f.in.RecentContacts = 3
		}, ReasonConsentDOI, 2},
		{"17 a cap on another kind does not apply", func(f *fixture) {
			f.doi(daysAgo(30))
			f.in.Settings.Caps = map[ChannelKind]FrequencyCap{KindSMS: {Max: 1, Days: 30}}
			f.in.RecentContacts = 9
		}, ReasonConsentDOI, 2},
		{"17 cap on postal", func(f *fixture) {
			f.scope(KindPostal, pNews)
			f.in.Settings.Caps = map[ChannelKind]FrequencyCap{KindPostal: {Max: 2, Days: 90}}
			f.in.RecentContacts = 2
		}, ReasonFrequencyCap, 0},
		{"17 cap after existing customer", func(f *fixture) {
			f.existingCustomer()
			f.in.Settings.Caps = map[ChannelKind]FrequencyCap{KindEmail: {Max: 1, Days: 7}}
			f.in.RecentContacts = 1
		}, ReasonFrequencyCap, 0},
		{"17 cap after phone consent", func(f *fixture) {
			f.scope(KindPhone, pNews)
			f.own(ConsentOptIn, daysAgo(30))
			f.in.Settings.Caps = map[ChannelKind]FrequencyCap{KindPhone: {Max: 1, Days: 7}}
			f.in.RecentContacts = 1
		}, ReasonFrequencyCap, 0},
		{"17 a legal deny stays a legal deny", func(f *fixture) {
			f.doi(daysAgo(30))
			f.own(ConsentOptOut, daysAgo(2))
			f.in.Settings.Caps = map[ChannelKind]FrequencyCap{KindEmail: {Max: 1, Days: 7}}
			f.in.RecentContacts = 3
		}, ReasonWithdrawn, 3},
	}
}

func TestDecideNilInput(t *testing.T) {
	d := Decide(nil)
	assert.False(t, d.Allow)
	assert.Equal(t, ReasonNoValidBasis, d.Reason)
}

func TestDecideRuleTable(t *testing.T) {
	for _, tc := range ruleCases() {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			tc.build(f)
			d := f.decide()
			assert.Equal(t, tc.want, d.Reason, "decision: %s", d.Explain())
			assert.Equal(t, tc.want.Rule(), d.Rule, "rule number")
			assert.Equal(t, tc.want.Allows(), d.Allow, "allow")
			assert.Equal(t, tc.event, d.EventID, "deciding event; decision: %s", d.Explain())
			if d.EventID != 0 {
				e := findEvent(t, f.in.Events, d.EventID)
				assert.Equal(t, e.Kind, d.EventKind)
				assert.True(t, e.EffectiveAt.Equal(d.EventAt))
			}
		})
	}
}

// TestRuleTableCoversEveryRule is the mutation-style guard: every rule,
// including the cap, is the deciding rule of at least one case, and every
// rule that can be reached with facts of an earlier rule has a "beats" case
// (checked by name above).
func TestRuleTableCoversEveryRule(t *testing.T) {
	decided := map[int]int{}
	for _, tc := range ruleCases() {
		decided[tc.want.Rule()]++
	}
	for r := 1; r <= RuleFrequencyCap; r++ {
		assert.Positive(t, decided[r], "no case is decided by rule %d", r)
	}
}

func findEvent(t *testing.T, evs []ConsentEvent, id EventID) ConsentEvent {
	t.Helper()
	for _, e := range evs {
		if e.ID == id {
			return e
		}
	}
	require.Failf(t, "deciding event not in the input", "event #%d", id)
	return ConsentEvent{}
}

// A withdrawal that arrives between launch and dispatch stops the contact:
// the launch check allowed, the dispatch check (which decides) denies.
func TestWithdrawalBetweenLaunchAndDispatch(t *testing.T) {
	launch := tNow
	dispatch := tNow.Add(2 * time.Hour)
	f := newFixture()
	f.doi(daysAgo(30))
	out := f.add(ConsentOptOut, KindEmail, pNews, launch.Add(time.Hour))

	f.in.At, f.in.KnownAt = launch, launch
	atLaunch := f.decide()
	assert.True(t, atLaunch.Allow, atLaunch.Explain())
	assert.Equal(t, ReasonConsentDOI, atLaunch.Reason)

	f.in.At, f.in.KnownAt = dispatch, dispatch
	atDispatch := f.decide()
	assert.False(t, atDispatch.Allow)
	assert.Equal(t, ReasonWithdrawn, atDispatch.Reason)
	assert.Equal(t, out, atDispatch.EventID)
}

// A withdrawal recorded late (it happened before the launch but Karton
// learned of it after): replaying with k = launch time gives the decision
// that was made then; with k = now, the decision we would make knowing it.
func TestLateRecordedWithdrawalReplay(t *testing.T) {
	launch := tNow
	later := tNow.AddDate(0, 0, 3)
	f := newFixture()
	f.doi(daysAgo(30))
	out := f.addRec(ConsentOptOut, KindEmail, pNews, launch.Add(-24*time.Hour), launch.Add(24*time.Hour))

	f.in.At, f.in.KnownAt = launch, launch
	replay := f.decide()
	assert.True(t, replay.Allow, "what was known at launch: %s", replay.Explain())
	assert.Equal(t, ReasonConsentDOI, replay.Reason)

	f.in.At, f.in.KnownAt = launch, later
	hindsight := f.decide()
	assert.Equal(t, ReasonWithdrawn, hindsight.Reason, "what we know now about launch time")
	assert.Equal(t, out, hindsight.EventID)

	f.in.At, f.in.KnownAt = launch, time.Time{}
	assert.Equal(t, ReasonWithdrawn, f.decide().Reason, "zero KnownAt means everything recorded")
}

// An objection recorded late behaves like a late withdrawal.
func TestLateRecordedObjectionReplay(t *testing.T) {
	f := newFixture()
	f.doi(daysAgo(30))
	obj := f.addRec(ConsentObjection, "", 0, daysAgo(5), tNow.Add(time.Hour))

	assert.Equal(t, ReasonConsentDOI, f.decide().Reason)
	f.in.KnownAt = tNow.Add(2 * time.Hour)
	d := f.decide()
	assert.Equal(t, ReasonObjection, d.Reason)
	assert.Equal(t, obj, d.EventID)
}

// A minor turning 16: denied the day before the birthday, allowed on it.
func TestMinorTurningSixteen(t *testing.T) {
	f := newFixture()
	f.in.Customer.BirthDate = Date{2009, time.June, 1}
	f.doi(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))

	f.in.At = time.Date(2025, 5, 31, 23, 59, 59, 0, time.UTC)
	assert.Equal(t, ReasonMinorNoParentalConsent, f.decide().Reason)
	f.in.At = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, ReasonConsentDOI, f.decide().Reason)
}

// The stale window at its boundary, with the evaluation time moving
// instead of the confirmation.
func TestStaleWindowBoundaryMovingT(t *testing.T) {
	f := newFixture()
	confirmed := time.Date(2023, 3, 15, 10, 0, 0, 0, time.UTC)
	f.own(ConsentOptIn, confirmed.Add(-time.Hour))
	f.own(ConsentDOIConfirmed, confirmed)

	f.in.At = confirmed.AddDate(0, 24, 0) // exactly 24 months: not older than the window
	f.in.KnownAt = f.in.At
	assert.Equal(t, ReasonConsentDOI, f.decide().Reason)
	f.in.At = f.in.At.Add(time.Second)
	f.in.KnownAt = f.in.At
	assert.Equal(t, ReasonConsentStale, f.decide().Reason)
}

func TestConsumerVersusBusinessPhone(t *testing.T) {
	for _, tc := range []struct {
		name     string
		business bool
		kinds    []ConsentKind
		want     Reason
	}{
		{"consumer opt-in", false, []ConsentKind{ConsentOptIn}, ReasonConsentPhone},
		{"consumer b2b basis", false, []ConsentKind{ConsentB2BBasis}, ReasonNoValidBasis},
		{"consumer both", false, []ConsentKind{ConsentB2BBasis, ConsentOptIn}, ReasonConsentPhone},
		{"business b2b basis", true, []ConsentKind{ConsentB2BBasis}, ReasonPresumedB2B},
		{"business opt-in", true, []ConsentKind{ConsentOptIn}, ReasonNoValidBasis},
		{"business both", true, []ConsentKind{ConsentOptIn, ConsentB2BBasis}, ReasonPresumedB2B},
		{"business nothing", true, nil, ReasonNoValidBasis},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			f.scope(KindPhone, pNews)
			f.in.Customer.Business = tc.business
			for i, k := range tc.kinds {
				f.own(k, daysAgo(10-i))
			}
			assert.Equal(t, tc.want, f.decide().Reason)
		})
	}
}

// The existing-customer rule needs all five conditions; removing any one
// falls through to NO_VALID_BASIS.
func TestExistingCustomerEachConditionMissing(t *testing.T) {
	conds := []struct {
		name  string
		unset func(f *fixture)
	}{
		{"purchase", func(f *fixture) { f.in.Customer.HasPurchase = false }},
		{"email collected with it", func(f *fixture) { f.in.Customer.EmailCollectedWithPurchase = false }},
		{"objection notice at collection", func(f *fixture) { f.in.Customer.ObjectionNoticeAtCollection = false }},
		{"own similar products", func(f *fixture) { f.in.Purpose.OwnSimilarProducts = false }},
		{"creative objection notice", func(f *fixture) { f.in.CreativeObjectionNotice = false }},
	}
	f := newFixture()
	f.existingCustomer()
	require.Equal(t, ReasonExistingCustomer, f.decide().Reason)
	for _, c := range conds {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture()
			f.existingCustomer()
			c.unset(f)
			d := f.decide()
			assert.Equal(t, ReasonNoValidBasis, d.Reason)
			assert.False(t, d.Allow)
		})
	}
}

func TestExplainDecision(t *testing.T) {
	at := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		d    Decision
		want string
	}{
		{Decision{Reason: ReasonWithdrawn, Rule: 5, EventID: 123, EventKind: ConsentOptOut, EventAt: at},
			"deny WITHDRAWN (rule 5): opt-out #123 on 2025-03-01"},
		{Decision{Allow: true, Reason: ReasonConsentDOI, Rule: 9, EventID: 45, EventKind: ConsentDOIConfirmed, EventAt: at},
			"allow CONSENT_DOI (rule 9): DOI confirmation #45 on 2025-03-01"},
		{Decision{Reason: ReasonNoContactPoint, Rule: 2},
			"deny NO_CONTACT_POINT (rule 2): " + ReasonNoContactPoint.Explain()},
		{Decision{Reason: ReasonFrequencyCap, Rule: 17},
			"deny FREQUENCY_CAP (rule 17): " + ReasonFrequencyCap.Explain()},
		{Decision{}, "no decision"},
	} {
		assert.Equal(t, tc.want, tc.d.Explain())
		assert.Equal(t, tc.want, tc.d.String())
	}

	f := newFixture()
	f.doi(daysAgo(30))
	f.add(ConsentObjection, "", 0, time.Date(2025, 5, 20, 8, 0, 0, 0, time.UTC))
	assert.Equal(t, "deny OBJECTION (rule 4): objection #3 on 2025-05-20", f.decide().Explain())
}

func TestReasons(t *testing.T) {
	all := AllReasons()
	require.Len(t, all, RuleFrequencyCap)
	seen := map[string]bool{}
	for i, r := range all {
		assert.Equal(t, i+1, r.Rule(), "%s is listed in rule order", r)
		assert.NotEqual(t, "unknown reason code", r.Explain(), "%s has an explanation", r)
		assert.False(t, seen[r.Explain()], "%s has its own explanation", r)
		seen[r.Explain()] = true
		p, err := ParseReason(" " + string(r) + " ")
		require.NoError(t, err)
		assert.Equal(t, r, p)
	}
	p, err := ParseReason("consent_doi")
	require.NoError(t, err)
	assert.Equal(t, ReasonConsentDOI, p)
	_, err = ParseReason("MAYBE")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"MAYBE"`)
	assert.Contains(t, err.Error(), "NO_VALID_BASIS")
	assert.Equal(t, 0, Reason("MAYBE").Rule())
	assert.False(t, Reason("MAYBE").Allows())

	allowing := map[Reason]bool{ReasonContractual: true, ReasonConsentDOI: true, ReasonExistingCustomer: true,
		ReasonConsentPhone: true, ReasonPresumedB2B: true, ReasonLegitimateInterest: true, ReasonConsent: true}
	for _, r := range all {
		assert.Equal(t, allowing[r], r.Allows(), "%s", r)
	}
}
