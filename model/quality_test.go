package model

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckQualityField(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	full := Customer{FirstName: "Jana", LastName: "Meier", Email: "jana@example.de", Phone: "+4915112345678",
		Address: Address{Street: "Weg 1", PostalCode: "10115", City: "Berlin", Country: "DE"}, BirthDate: Date{1980, 1, 2}}
	for _, f := range QualityFields() {
		assert.Equal(t, QualityOK, CheckQualityField(&full, f, now, QualityOptions{}), f)
		assert.Equal(t, QualityMissing, CheckQualityField(&Customer{}, f, now, QualityOptions{}), f)
	}
	tests := []struct {
		field string
		edit  func(c *Customer)
	}{
		{QualityEmail, func(c *Customer) { c.Email = "jana(at)example.de" }},
		{QualityPhone, func(c *Customer) { c.Phone = "0151 1234" }},
		{QualityName, func(c *Customer) { c.LastName = "Meier2" }},
		{QualityStreet, func(c *Customer) { c.Address.Street = "12" }},
		{QualityPostalCode, func(c *Customer) { c.Address.PostalCode = "1011" }},
		{QualityCity, func(c *Customer) { c.Address.City = "10115 Berlin" }},
		{QualityCountry, func(c *Customer) { c.Address.Country = "Germany" }},
		{QualityBirthDate, func(c *Customer) { c.BirthDate = Date{1900, 1, 1} }},
		{QualityBirthDate, func(c *Customer) { c.BirthDate = Date{2027, 1, 1} }},
	}
	for _, tc := range tests {
		c := full
		tc.edit(&c)
		assert.Equal(t, QualityInvalid, CheckQualityField(&c, tc.field, now, QualityOptions{}), tc.field)
	}
	c := full
	c.Phone = "+4900000000"
	assert.Equal(t, QualityOK, CheckQualityField(&c, QualityPhone, now, QualityOptions{}), "the form is right")
	assert.Equal(t, QualityInvalid, CheckQualityField(&c, QualityPhone, now, QualityOptions{ParsePhones: true}), "but it does not parse")
}

func TestQualityScoreFormula(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	a := NewQualityAccumulator("shop", QualityOptions{})
	assert.Equal(t, 0.0, a.Report().Score, "no records, no score")

	perfect := Customer{FirstName: "Jana", LastName: "Meier", Email: "jana@example.de", Phone: "+4915112345678",
		Address: Address{Street: "Weg 1", PostalCode: "10115", City: "Berlin", Country: "DE"}, BirthDate: Date{1980, 1, 2}}
	perfect.ContactPoints = ContactPointsOf(&perfect)
	a.Add(&perfect, now, false)
	assert.Equal(t, 100.0, a.Report().Score)

	// A second record with only a bad email, a suspected duplicate, and
	// no contact point.
	bad := Customer{LastName: "X", Email: "x@"}
	a.Add(&bad, now, true)
	a.AddRejected(QualityEmail, 2) // two rows the import refused for their email
	r := a.Report()
	require.Equal(t, 2, r.Records)
	email := r.Fields[0]
	assert.Equal(t, FieldQuality{Field: QualityEmail, Weight: 3, Records: 2, Present: 2, Valid: 1, Rejected: 2, Completeness: 1, Validity: 0.25}, email)
	// C: email 1, name 1, all others 0.5 → (3 + 2 + 0.5·(2+1+1+1+0.5+0.5))/11 = 8/11.
	assert.InDelta(t, 8.0/11, r.Completeness, 1e-9)
	// V: email 1/4, name 1, others 1 → (0.75 + 2 + 6)/11.
	assert.InDelta(t, (0.75+2+6)/11, r.Validity, 1e-9)
	assert.Equal(t, 1, r.Duplicates)
	assert.Equal(t, 1, r.NoContactPoint)
	want := 100 * (0.4*8.0/11 + 0.4*(8.75/11) + 0.1*0.5 + 0.1*0.5)
	assert.InDelta(t, want, r.Score, 0.05)
	worst := r.Worst()
	assert.Equal(t, QualityEmail, worst[0].Field, "the worst field comes first")

	erased := Customer{Erased: true}
	a.Add(&erased, now, false)
	assert.Equal(t, 2, a.Report().Records, "erased records hold nothing to judge")
}
