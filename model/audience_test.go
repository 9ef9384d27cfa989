package model

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var audienceNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func TestPredicateMatch(t *testing.T) {
	jana := AudienceFacts{
		Type: Consumer, City: "München", PostalCode: "80331", Country: "DE",
		BirthDate: Date{2000, time.March, 3}, Tags: []string{"Newsletter", "vip"},
		Attributes:    map[string]string{"interest": "Garten"},
		Preferences:   map[string]string{"language": "de"},
		PurchaseCount: 3, Revenue: 52000,
		LastPurchaseAt: audienceNow.AddDate(0, 0, -200), LastActivityAt: audienceNow.AddDate(0, 0, -10),
		CreatedAt: audienceNow.AddDate(-2, 0, 0),
		HasScores: true, RFMSegment: RFMLoyal, CLV: 12345,
	}
	empty := AudienceFacts{CreatedAt: audienceNow.AddDate(0, 0, -400)}
	c := func(f, op, v string) Condition { return Condition{Field: f, Op: op, Value: v} }
	tests := []struct {
		name        string
		conds       []Condition
		jana, blank bool
	}{
		{"no conditions selects everyone", nil, true, true},
		{"type", []Condition{c("type", "=", "consumer")}, true, true},
		{"type business", []Condition{c("type", "=", "BUSINESS")}, false, false},
		{"type !=", []Condition{c("type", "!=", "business")}, true, true},
		{"tag has, any case", []Condition{c("tag", "has", "NEWSLETTER")}, true, false},
		{"tag !has", []Condition{c("tag", "!has", "student")}, true, true},
		{"city folds umlauts", []Condition{c("city", "=", "munchen")}, true, false},
		{"city in", []Condition{c("city", "in", "Berlin, München")}, true, false},
		{"city != matches a missing city", []Condition{c("city", "!=", "Berlin")}, true, true},
		{"postcode prefix", []Condition{c("postcode", "prefix", "8")}, true, false},
		{"country in", []Condition{c("country", "in", "de,at,ch")}, true, false},
		{"age: 26 on 2026-03-02", []Condition{c("age", ">=", "26")}, false, false},
		{"age: still 25", []Condition{c("age", "=", "25")}, true, false},
		{"unknown age never matches", []Condition{c("age", "<", "200")}, true, false},
		{"purchase_count", []Condition{c("purchase_count", ">", "2")}, true, false},
		{"purchase_count 0", []Condition{c("purchase_count", "=", "0")}, false, true},
		{"revenue", []Condition{c("revenue", ">=", "50000")}, true, false},
		{"last purchase 200 days ago", []Condition{c("last_purchase_days", ">=", "180")}, true, false},
		{"no purchase never matches", []Condition{c("last_purchase_days", "<", "100000")}, true, false},
		{"last activity", []Condition{c("last_activity_days", "<=", "10")}, true, false},
		{"never active counts from creation", []Condition{c("last_activity_days", ">=", "365")}, false, true},
		{"attribute ignores case", []Condition{c("attribute.interest", "=", "garten")}, true, false},
		{"attribute prefix", []Condition{c("attribute.interest", "prefix", "gar")}, true, false},
		{"attribute != matches missing", []Condition{c("attribute.interest", "!=", "kueche")}, true, true},
		{"preference in", []Condition{c("preference.language", "in", "en,de")}, true, false},
		{"rfm segment", []Condition{c("rfm_segment", "in", "Champions, loyal")}, true, false},
		{"unscored", []Condition{c("rfm_segment", "=", "Unscored")}, false, true},
		{"rfm !=", []Condition{c("rfm_segment", "!=", "Lost")}, true, true},
		{"clv", []Condition{c("clv", ">", "10000")}, true, false},
		{"all must hold", []Condition{c("tag", "has", "vip"), c("city", "=", "Berlin")}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := CompileSegment(tt.conds, audienceNow)
			require.NoError(t, err)
			assert.Equal(t, tt.jana, p.Match(&jana), "jana")
			assert.Equal(t, tt.blank, p.Match(&empty), "blank record")
		})
	}
}

func TestCompileSegmentErrors(t *testing.T) {
	tests := []struct {
		cond Condition
		want string
	}{
		{Condition{"colour", "=", "red"}, `unknown field "colour"`},
		{Condition{"tag", "=", "vip"}, `tag does not take the operator "=" (use has, !has)`},
		{Condition{"age", ">=", "old"}, `"old" is not a whole number`},
		{Condition{"type", "=", "robot"}, `type "robot" is not consumer or business`},
		{Condition{"country", "=", "Germany"}, `"GERMANY" is not a two-letter code`},
		{Condition{"rfm_segment", "=", "Best"}, `"Best" is not a segment (Champions, Loyal`},
		{Condition{"revenue", ">", "5,00"}, "minor units"},
		{Condition{"attribute.", "=", "x"}, "the name after the dot"},
		{Condition{"city", "=", " "}, "needs a value"},
		{Condition{"city", "in", ","}, "comma-separated list"},
	}
	for _, tt := range tests {
		_, err := CompileSegment([]Condition{{"tag", "has", "ok"}, tt.cond}, audienceNow)
		require.Error(t, err, "%v", tt.cond)
		ve, ok := AsValidation(err)
		require.True(t, ok)
		assert.True(t, ve.Has("conditions[1]"), "names the condition: %v", err)
		assert.Contains(t, err.Error(), tt.want)
	}
	assert.NoError(t, ValidateConditions([]Condition{{"clv", ">=", "-5"}}))
}

func TestPredicateNeeds(t *testing.T) {
	p, err := CompileSegment([]Condition{{"age", ">", "18"}, {"revenue", ">", "1"}}, audienceNow)
	require.NoError(t, err)
	assert.Equal(t, AudienceNeeds(0), p.Needs(), "numbers need no decoding of text")
	p, err = CompileSegment([]Condition{{"city", "=", "x"}, {"tag", "has", "y"}, {"clv", ">", "1"}, {"preference.a", "=", "b"}}, audienceNow)
	require.NoError(t, err)
	assert.True(t, p.Needs().Has(NeedAddress|NeedTags|NeedScores|NeedPreferences))
	assert.False(t, p.Needs().Has(NeedAttributes))
}

func TestAudienceFactsOf(t *testing.T) {
	c := Customer{Type: Business, Company: "X", Address: Address{City: "Köln", Country: "DE", PostalCode: "50667"}, Tags: []string{"b2b"}, PurchaseCount: 1}
	p, err := CompileSegment([]Condition{{"city", "=", "koln"}, {"type", "=", "business"}, {"tag", "has", "B2B"}, {"purchase_count", "=", "1"}}, audienceNow)
	require.NoError(t, err)
	f := AudienceFactsOf(&c)
	assert.True(t, p.Match(&f))
}
