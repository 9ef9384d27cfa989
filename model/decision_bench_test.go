package model

import (
	"testing"
	"time"
)

// benchInput is a realistic history of ten events over several scopes: the
// newsletter subscribed and confirmed, a profiling consent on the web, an
// opt-out from partner offers, a DOI request on SMS, a parental consent
// that does not apply, a phone opt-in. The step uses purchase data (rule 7
// runs its scan) and the decision goes all the way to rule 9 and the cap.
func benchInput() DecisionInput {
	f := newFixture()
	f.add(ConsentOptIn, KindWeb, pProfiling, daysAgo(400))
	f.add(ConsentOptIn, KindEmail, pOffers, daysAgo(380))
	f.add(ConsentDOIConfirmed, KindEmail, pOffers, daysAgo(380))
	f.add(ConsentOptIn, KindEmail, pNews, daysAgo(300))
	f.add(ConsentDOIRequested, KindEmail, pNews, daysAgo(300))
	f.add(ConsentDOIConfirmed, KindEmail, pNews, daysAgo(299))
	f.add(ConsentOptOut, KindEmail, pOffers, daysAgo(200))
	f.add(ConsentDOIRequested, KindSMS, pNews, daysAgo(100))
	f.add(ConsentParental, KindSMS, pNews, daysAgo(90))
	f.add(ConsentOptIn, KindPhone, pNews, daysAgo(10))
	f.in.DataCategories = []DataCategory{DataContact, DataPurchases}
	f.in.Settings.Caps = map[ChannelKind]FrequencyCap{KindEmail: {Max: 8, Days: 30}}
	f.in.RecentContacts = 2
	f.in.LastContactAt = daysAgo(7)
	return f.in
}

func BenchmarkDecide10Events(b *testing.B) {
	in := benchInput()
	if d := Decide(&in); d.Reason != ReasonConsentDOI {
		b.Fatalf("benchmark history decides %s, want CONSENT_DOI", d.Explain())
	}
	b.ReportAllocs()
	var d Decision
	for b.Loop() {
		d = Decide(&in)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
	_ = d
}

// BenchmarkContactPointsOf shows why contact points are computed once per
// customer and passed in: phone parsing dwarfs a decision.
func BenchmarkContactPointsOf(b *testing.B) {
	c := Customer{Email: "jana@example.de", Phone: mobileDE, Address: berlin,
		BirthDate: Date{1980, time.May, 5}}
	b.ReportAllocs()
	for b.Loop() {
		_ = ContactPointsOf(&c)
	}
}
