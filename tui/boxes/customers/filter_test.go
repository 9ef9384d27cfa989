package customers

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
)

var testPurposes = []model.Purpose{
	{ID: 1, Name: "newsletter", Category: model.CategoryMarketing},
	{ID: 2, Name: "offers", Category: model.CategoryMarketing},
	{ID: 5, Name: "service-reminders", Category: model.CategoryService},
}

func TestParseFilter(t *testing.T) {
	admin := model.Actor{Name: "anna", Role: model.RoleAdmin}
	analyst := model.Actor{Name: "ali", Role: model.RoleAnalyst}
	tests := []struct {
		name  string
		raw   string
		actor model.Actor
		want  filterSpec
		err   string
	}{
		{name: "empty", raw: "  ", actor: admin, want: filterSpec{}},
		{name: "name prefix", raw: "müller", actor: admin, want: filterSpec{Raw: "müller", Prefix: "müller"}},
		{name: "two words", raw: "von der", actor: admin, want: filterSpec{Raw: "von der", Prefix: "von der"}},
		{name: "email prefix", raw: "jana@web", actor: admin, want: filterSpec{Raw: "jana@web", Prefix: "jana@web"}},
		{name: "fields", raw: `tag:VIP city:"Frankfurt am Main" consent:email`, actor: admin,
			want: filterSpec{Raw: `tag:VIP city:"Frankfurt am Main" consent:email`, Tag: "VIP", City: "Frankfurt am Main", Consent: &consentCond{Kind: model.KindEmail}}},
		{name: "consent purpose", raw: "consent:sms/offers", actor: admin,
			want: filterSpec{Raw: "consent:sms/offers", Consent: &consentCond{Kind: model.KindSMS, Purpose: 2, PurposeName: "offers"}}},
		{name: "consent negated", raw: "consent:!postal", actor: admin,
			want: filterSpec{Raw: "consent:!postal", Consent: &consentCond{Kind: model.KindPostal, Negate: true}}},
		{name: "consent none", raw: "Consent:none", actor: admin,
			want: filterSpec{Raw: "Consent:none", Consent: &consentCond{None: true}}},
		{name: "unknown field", raw: "zip:10115", actor: admin, err: `unknown filter "zip:": use tag:, city:, consent: or a name or email prefix`},
		{name: "empty value", raw: "tag:", actor: admin, err: "tag: needs a value, e.g. tag:vip"},
		{name: "tag twice", raw: "tag:a tag:b", actor: admin, err: "tag: is given twice"},
		{name: "segment twice", raw: "segment:champions segment:at-risk", actor: admin, err: "segment: is given twice"},
		{name: "clv twice", raw: "clv:100- clv:0-50", actor: admin, err: "clv: is given twice"},
		{name: "source twice", raw: "source:a source:b", actor: admin, err: "source: is given twice"},
		{name: "unknown kind", raw: "consent:fax", actor: admin, err: `"fax" is not a channel kind`},
		{name: "unknown purpose", raw: "consent:email/spam", actor: admin, err: `there is no purpose "spam" (newsletter, offers, service-reminders)`},
		{name: "open quote", raw: `city:"Bad Homburg`, actor: admin, err: "a double quote is not closed"},
		{name: "analyst by initial", raw: "M tag:vip", actor: analyst, want: filterSpec{Raw: "M tag:vip", Prefix: "M", Tag: "vip"}},
		{name: "analyst by name", raw: "Müller", actor: analyst, err: `an analyst may filter by the initial of the last name only ("M"), not by "Müller"`},
		{name: "analyst by email", raw: "jana@web.de", actor: analyst, err: "filtering by email needs permission to see personal data, which an analyst lacks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFilter(tt.raw, testPurposes, tt.actor)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestFilterServesOneConditionFromTheStore(t *testing.T) {
	tests := []struct {
		f    filterSpec
		want store.CustomerFilter
		post bool
	}{
		{filterSpec{}, store.CustomerFilter{}, false},
		{filterSpec{Prefix: "mü", Tag: "vip"}, store.CustomerFilter{Prefix: "mü"}, true},
		{filterSpec{Tag: "vip", City: "Berlin"}, store.CustomerFilter{Tag: "vip"}, true},
		{filterSpec{City: "Berlin"}, store.CustomerFilter{City: "Berlin"}, false},
		{filterSpec{City: "Berlin", Consent: &consentCond{Kind: model.KindEmail}}, store.CustomerFilter{City: "Berlin"}, true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.f.storeFilter())
		assert.Equal(t, tt.post, tt.f.needsPostFilter())
	}
}

func TestConsentCondition(t *testing.T) {
	marketing := marketingPurposes(testPurposes)
	state := &store.ConsentState{Scopes: []store.ScopeState{
		{Channel: model.KindEmail, Purpose: 1, Reason: model.ReasonConsentDOI},
		{Channel: model.KindEmail, Purpose: 2, Reason: model.ReasonNoValidBasis},
		{Channel: model.KindSMS, Purpose: 5, Reason: model.ReasonContractual},
		{Channel: model.KindPostal, Purpose: 2, Reason: model.ReasonLegitimateInterest},
	}}
	serviceOnly := &store.ConsentState{Scopes: []store.ScopeState{{Channel: model.KindSMS, Purpose: 5, Reason: model.ReasonContractual}}}
	tests := []struct {
		name string
		cond consentCond
		cs   *store.ConsentState
		want bool
	}{
		{"email any marketing", consentCond{Kind: model.KindEmail}, state, true},
		{"email offers", consentCond{Kind: model.KindEmail, Purpose: 2}, state, false},
		{"sms: service is not marketing", consentCond{Kind: model.KindSMS}, state, false},
		{"sms service purpose asked for", consentCond{Kind: model.KindSMS, Purpose: 5}, state, true},
		{"not postal", consentCond{Kind: model.KindPostal, Negate: true}, state, false},
		{"none", consentCond{None: true}, state, false},
		{"none: service only", consentCond{None: true}, serviceOnly, true},
		{"never computed", consentCond{Kind: model.KindEmail}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.cond.matches(tt.cs, marketing))
		})
	}
}

// Whatever is typed into the filter line, parseFilter answers with a
// filter or an error, never a crash, and never lets a role without the
// permission search what masking hides.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`tag:VIP city:"Frankfurt am Main" consent:email`, "consent:!sms/offers", "M", "jana@web",
		"segment:champions clv:100-", "source:crm:1", `"`, "::", "consent:email/"} {
		f.Add(s)
	}
	viewer := model.Actor{Name: "vera", Role: model.RoleViewer}
	admin := model.Actor{Name: "anna", Role: model.RoleAdmin}
	f.Fuzz(func(t *testing.T, raw string) {
		_, _ = parseFilter(raw, testPurposes, admin)
		got, err := parseFilter(raw, testPurposes, viewer)
		if err != nil {
			return
		}
		if got.Source != "" || strings.Contains(got.Prefix, "@") || utf8.RuneCountInString(got.Prefix) > 1 {
			t.Fatalf("%q let a viewer filter by %+v", raw, got)
		}
	})
}
