package model

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	mobileDE   = "+4915112345678"
	landlineDE = "+493012345678"
)

var berlin = Address{Street: "Unter den Linden 1", PostalCode: "10117", City: "Berlin", Country: "DE"}

func TestContactPointFor(t *testing.T) {
	full := Customer{Email: "jana@example.de", Phone: mobileDE, Address: berlin,
		Sources: []SourceRef{{Source: "shop", ExternalID: "C-1"}}}
	landline := Customer{Phone: landlineDE}
	sourceOnly := Customer{Sources: []SourceRef{{Source: "analytics", ExternalID: "visitor-9"}}}
	addressOnly := Customer{Address: berlin}
	badEmail := Customer{Email: "jana@", Phone: "0301234"}
	badPostcode := Customer{Address: Address{Street: "Hauptstr. 1", PostalCode: "1234", City: "Köln", Country: "DE"}}
	partial := Customer{Address: Address{Street: "Hauptstr. 1", City: "Köln", Country: "DE"}}
	erased := full
	erased.Erased = true

	type want struct {
		point string
		err   string // substring; "" = usable
	}
	for _, tc := range []struct {
		name string
		c    Customer
		kind ChannelKind
		want want
	}{
		{"email", full, KindEmail, want{"jana@example.de", ""}},
		{"email missing", landline, KindEmail, want{"", "email needs a valid email address: there is none"}},
		{"email invalid", badEmail, KindEmail, want{"", `"jana@" is not a valid email address`}},
		{"sms mobile", full, KindSMS, want{mobileDE, ""}},
		{"sms landline", landline, KindSMS, want{"", "sms needs a mobile phone number: " + landlineDE + " is not a mobile number"}},
		{"messenger landline", landline, KindMessenger, want{"", "messenger needs a mobile phone number"}},
		{"sms missing", addressOnly, KindSMS, want{"", "there is none"}},
		{"phone landline", landline, KindPhone, want{landlineDE, ""}},
		{"phone mobile", full, KindPhone, want{mobileDE, ""}},
		{"phone not E.164", badEmail, KindPhone, want{"", `"0301234" is not a valid number in E.164 form`}},
		{"postal", full, KindPostal, want{"Unter den Linden 1, 10117 Berlin, DE", ""}},
		{"postal incomplete", partial, KindPostal, want{"", "street, postal code, city and country are all needed"}},
		{"postal bad postcode", badPostcode, KindPostal, want{"", `postal code "1234" does not fit the postal codes of DE`}},
		{"web email", full, KindWeb, want{"jana@example.de", ""}},
		{"web source id", sourceOnly, KindWeb, want{"analytics:visitor-9", ""}},
		{"web neither", landline, KindWeb, want{"", "web needs a valid email address or a source id"}},
		{"social email", full, KindSocial, want{"jana@example.de", ""}},
		{"social phone", landline, KindSocial, want{landlineDE, ""}},
		{"social neither", sourceOnly, KindSocial, want{"", "social needs a valid email address or phone number"}},
		{"event email", full, KindEvent, want{"jana@example.de", ""}},
		{"event address", addressOnly, KindEvent, want{"Unter den Linden 1, 10117 Berlin, DE", ""}},
		{"event neither", landline, KindEvent, want{"", "event needs a valid email address or a complete postal address"}},
		{"erased", erased, KindEmail, want{"", "erased"}},
		{"unknown kind", full, "fax", want{"", `unknown channel kind "fax"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			got, err := ContactPointFor(tc.kind, &c)
			if tc.want.err == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.want.point, got)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want.err)
				assert.Empty(t, got)
			}
			assert.Equal(t, err == nil, ContactPointsOf(&c).Has(tc.kind), "ContactPointsOf agrees with ContactPointFor")
		})
	}
	_, err := ContactPointFor(KindEmail, nil)
	assert.Error(t, err)
	assert.Zero(t, ContactPointsOf(nil))
}

// ContactPointsOf must agree with ContactPointFor for every kind on every
// combination of contact points.
func TestContactPointsOfAgreesWithContactPointFor(t *testing.T) {
	emails := []string{"", "a@b.de", "not-an-email"}
	phones := []string{"", mobileDE, landlineDE, "12", "015112345678", "+49 151 12345678", "+4915112345678 ", "+1 650 253 0000", "+16502530000", "+447911123456", "+999"}
	addrs := []Address{{}, berlin, {Street: "x", City: "y", Country: "DE"}}
	srcs := [][]SourceRef{nil, {{Source: "shop", ExternalID: "1"}}, {{Source: "shop", ExternalID: " "}}}
	for _, e := range emails {
		for _, p := range phones {
			for _, a := range addrs {
				for _, s := range srcs {
					c := Customer{Email: e, Phone: p, Address: a, Sources: s}
					set := ContactPointsOf(&c)
					for _, k := range ChannelKinds {
						_, err := ContactPointFor(k, &c)
						assert.Equal(t, err == nil, set.Has(k), "%s for %+v", k, c)
					}
				}
			}
		}
	}
}

func TestContactPointsBits(t *testing.T) {
	var all ContactPoints
	for _, k := range ChannelKinds {
		assert.Equal(t, ContactPoints(1)<<k.Code(), kindBit(k), "kindBit(%s) mirrors Code", k)
		assert.False(t, all.Has(k))
		all = all.With(k)
		assert.True(t, all.Has(k))
	}
	assert.False(t, all.Has("fax"))
	assert.Equal(t, all, all.With("fax"))
}

func TestFactsOf(t *testing.T) {
	c := Customer{ID: 9, Type: Business, Company: "ACME", Email: "info@acme.de", Phone: landlineDE,
		BirthDate: Date{1970, time.March, 3}, PurchaseCount: 2, EmailFromPurchase: true, Suppressed: true}
	f := FactsOf(&c)
	assert.Equal(t, CustomerID(9), f.ID)
	assert.True(t, f.Business)
	assert.True(t, f.Suppressed)
	assert.False(t, f.Erased)
	assert.Equal(t, c.BirthDate, f.BirthDate)
	assert.True(t, f.HasPurchase)
	assert.True(t, f.EmailCollectedWithPurchase)
	assert.True(t, f.ObjectionNoticeAtCollection)
	assert.True(t, f.ContactPoints.Has(KindEmail))
	assert.True(t, f.ContactPoints.Has(KindPhone))
	assert.False(t, f.ContactPoints.Has(KindSMS))
	assert.False(t, f.ContactPoints.Has(KindPostal))

	consumer := FactsOf(&Customer{Type: ""})
	assert.False(t, consumer.Business, "an unset type is the stricter consumer case")
	assert.False(t, consumer.HasPurchase)
	assert.Equal(t, CustomerFacts{}, FactsOf(nil))
}

func TestNotePurchase(t *testing.T) {
	for _, tc := range []struct {
		name                string
		purchases           []Purchase
		purchase, collected bool
		notice              bool
	}{
		{"none", nil, false, false, false},
		{"plain purchase", []Purchase{{}}, true, false, false},
		{"email collected, no notice", []Purchase{{EmailCollected: true}}, true, true, false},
		{"email collected with notice", []Purchase{{EmailCollected: true, ObjectionNotice: true}}, true, true, true},
		{"notice without collection does not count", []Purchase{{EmailCollected: true}, {ObjectionNotice: true}}, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f CustomerFacts
			for i := range tc.purchases {
				f.NotePurchase(&tc.purchases[i])
			}
			f.NotePurchase(nil)
			assert.Equal(t, tc.purchase, f.HasPurchase)
			assert.Equal(t, tc.collected, f.EmailCollectedWithPurchase)
			assert.Equal(t, tc.notice, f.ObjectionNoticeAtCollection)
		})
	}
}

func TestProfilingPurposeIDs(t *testing.T) {
	ps := []Purpose{testPurpose(pService), testPurpose(pProfiling), testPurpose(pNews), testPurpose(pPersonal)}
	assert.Equal(t, []PurposeID{pProfiling, pPersonal}, ProfilingPurposeIDs(ps))
	assert.Empty(t, ProfilingPurposeIDs(nil))
}

// A full round trip from customer records: facts, then a decision.
func TestDecideFromCustomerRecord(t *testing.T) {
	c := Customer{ID: testCustomer, Type: Consumer, FirstName: "Jana", Email: "jana@example.de", Phone: landlineDE, Address: berlin}
	f := newFixture()
	f.in.Customer = FactsOf(&c)
	f.doi(daysAgo(30))
	assert.Equal(t, ReasonConsentDOI, f.decide().Reason)

	f.scope(KindSMS, pNews)
	f.doi(daysAgo(30))
	assert.Equal(t, ReasonNoContactPoint, f.decide().Reason, "a landline cannot take SMS")
}
