package model

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func jana() *Customer {
	return &Customer{
		ID: 4711, Type: Consumer, Salutation: "Frau", FirstName: "Jana", LastName: "Müller",
		Email: "jana.mueller@example.de", Address: Address{Street: "Hauptstraße 1", PostalCode: "80331", City: "München", Country: "DE"},
		LastPurchaseAt: time.Date(2025, 3, 14, 23, 30, 0, 0, time.UTC),
	}
}

func TestRender(t *testing.T) {
	ctx := MessageContext{CampaignName: "Frühjahr 2025", UnsubscribeURL: "https://k.example/u/abc", DOIURL: "https://k.example/d/xyz",
		LastPurchaseAmount: 123456, LastPurchaseKnown: true}
	fields := TemplateFieldsFor(jana(), ctx)
	tests := []struct {
		name, tmpl, want string
	}{
		{"plain text", "Hallo Welt", "Hallo Welt"},
		{"empty", "", ""},
		{"greeting", "{{greeting}},", "Liebe Jana,"},
		{"umlauts in value and text", "Grüße nach {{city}}, {{last_name}}!", "Grüße nach München, Müller!"},
		{"spaces inside braces", "{{ first_name }}", "Jana"},
		{"default unused when value present", "{{first_name|Kundin}}", "Jana"},
		{"default used when value missing", "{{company|Privatkundin}}", "Privatkundin"},
		{"empty default makes optional", "[{{company|}}]", "[]"},
		{"default with umlauts and pipe", "{{company| Größe|Form }}", "Größe|Form"},
		{"full name", "{{full_name}} <{{email}}>", "Jana Müller <jana.mueller@example.de>"},
		{"purchase", "{{last_purchase_date}}: {{last_purchase_amount}}", "14.03.2025: 1.234,56 €"},
		{"context fields", "{{campaign_name}} {{unsubscribe_url}} {{doi_url}}", "Frühjahr 2025 https://k.example/u/abc https://k.example/d/xyz"},
		{"id and salutation", "{{salutation}} #{{customer_id}}", "Frau #4711"},
		{"single braces are literal", "{ {first_name} }", "{ {first_name} }"},
		{"adjacent fields", "{{first_name}}{{last_name}}", "JanaMüller"},
		{"multi line", "Zeile 1\n{{first_name}}\nZeile 3", "Zeile 1\nJana\nZeile 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := ParseTemplate(tt.tmpl)
			require.NoError(t, err)
			got, err := tp.Render(fields)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRenderMissing(t *testing.T) {
	c := jana()
	c.Company = ""
	c.Address.City = "  "
	fields := TemplateFieldsFor(c, MessageContext{})
	tests := []struct {
		name, tmpl string
		missing    []TemplateField
	}{
		{"one", "{{company}}", []TemplateField{FieldCompany}},
		{"blank counts as missing", "{{city}}", []TemplateField{FieldCity}},
		{"several, each once", "{{company}} {{unsubscribe_url}} {{company}} {{first_name}}", []TemplateField{FieldCompany, FieldUnsubscribeURL}},
		{"amount not given by context", "{{last_purchase_amount}}", []TemplateField{FieldLastPurchaseAmount}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := ParseTemplate(tt.tmpl)
			require.NoError(t, err)
			got, err := tp.Render(fields)
			assert.Empty(t, got, "never a half-filled message")
			var me *MissingFieldError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tt.missing, me.Fields)
			for _, f := range tt.missing {
				assert.Contains(t, err.Error(), "{{"+f.String()+"}}")
			}
		})
	}
}

func TestParseTemplateErrors(t *testing.T) {
	tests := []struct {
		name, tmpl   string
		line, column int
		msg          string
	}{
		{"unknown field", "Hallo {{frist_name}}", 1, 9, `unknown field "frist_name"`},
		{"unknown field after umlauts", "Grüße\nÄä {{ vorname }}", 2, 7, `unknown field "vorname"`},
		{"unclosed", "Hallo {{first_name", 1, 7, `"{{" is not closed`},
		{"single closing brace", "Hallo {{first_name} und {{city}}", 1, 7, `not closed with "}}" before the next "{{"`},
		{"stray closing", "Hallo first_name}}", 1, 17, `"}}" without an opening "{{"`},
		{"stray closing after field", "{{city}} x }}", 1, 12, `"}}" without an opening "{{"`},
		{"empty", "a {{ }} b", 1, 3, "empty placeholder"},
		{"empty with default", "{{|x}}", 1, 1, "empty placeholder"},
		{"case matters", "{{First_Name}}", 1, 3, `unknown field "First_Name"`},
		{"invalid utf-8", "ab\xffcd", 1, 3, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := ParseTemplate(tt.tmpl)
			assert.Nil(t, tp)
			var te *TemplateError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tt.line, te.Line, "line")
			assert.Equal(t, tt.column, te.Column, "column")
			assert.Contains(t, te.Error(), tt.msg)
		})
	}
}

func TestGreeting(t *testing.T) {
	tests := []struct{ sal, first, last, want string }{
		{"Frau", "Jana", "Meier", "Liebe Jana"},
		{"Herr", "Jan", "Meier", "Lieber Jan"},
		{" herr ", "Jürgen", "", "Lieber Jürgen"},
		{"Frau", "", "Meier", "Sehr geehrte Frau Meier"},
		{"HERR", "", "Öztürk", "Sehr geehrter Herr Öztürk"},
		{"Mx", "Alex", "Kim", "Guten Tag Alex Kim"},
		{"", "", "Kim", "Guten Tag Kim"},
		{"Frau", "", "", "Guten Tag"},
		{"", "", "", "Guten Tag"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Greeting(tt.sal, tt.first, tt.last), "%q %q %q", tt.sal, tt.first, tt.last)
	}
}

func TestTemplateFieldsFor(t *testing.T) {
	t.Run("erased customer has no personal values", func(t *testing.T) {
		c := jana()
		c.Erased = true
		f := TemplateFieldsFor(c, MessageContext{CampaignName: "X"})
		for _, fld := range []TemplateField{FieldFirstName, FieldLastName, FieldFullName, FieldEmail, FieldCity, FieldLastPurchaseDate} {
			_, ok := f.Get(fld)
			assert.False(t, ok, fld.String())
		}
		g, _ := f.Get(FieldGreeting)
		assert.Equal(t, "Guten Tag", g)
		id, _ := f.Get(FieldCustomerID)
		assert.Equal(t, "4711", id)
	})
	t.Run("date in the given location", func(t *testing.T) {
		berlin, err := time.LoadLocation("Europe/Berlin")
		if err != nil {
			t.Skip("no time zone data")
		}
		f := TemplateFieldsFor(jana(), MessageContext{Location: berlin})
		d, _ := f.Get(FieldLastPurchaseDate)
		assert.Equal(t, "15.03.2025", d)
	})
	t.Run("nil customer", func(t *testing.T) {
		f := TemplateFieldsFor(nil, MessageContext{DOIURL: "u"})
		d, ok := f.Get(FieldDOIURL)
		assert.True(t, ok)
		assert.Equal(t, "u", d)
	})
	t.Run("every field has a name that parses back", func(t *testing.T) {
		for i, n := range TemplateFieldNames() {
			f, ok := ParseTemplateField(n)
			require.True(t, ok)
			assert.Equal(t, TemplateField(i), f)
			assert.Equal(t, n, f.String())
		}
	})
}

func TestFormatMoneyGerman(t *testing.T) {
	tests := []struct {
		m    Money
		cur  string
		want string
	}{
		{0, "", "0,00 €"},
		{5, "EUR", "0,05 €"},
		{-5, "EUR", "-0,05 €"},
		{123456, "EUR", "1.234,56 €"},
		{100000000, "EUR", "1.000.000,00 €"},
		{1200, "CHF", "12,00 CHF"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, FormatMoneyGerman(tt.m, tt.cur))
	}
}

func TestTemplateFieldsUsed(t *testing.T) {
	tp, err := ParseTemplate("{{last_purchase_amount}} {{first_name|x}} {{first_name}}")
	require.NoError(t, err)
	assert.Equal(t, []TemplateField{FieldFirstName, FieldLastPurchaseAmount}, tp.Fields())
	assert.True(t, tp.Uses(FieldFirstName))
	assert.False(t, tp.Uses(FieldCity))
	assert.Equal(t, DataPurchases, FieldLastPurchaseAmount.DataCategory())
	assert.Equal(t, DataCategory(""), FieldUnsubscribeURL.DataCategory())
}

func TestCreative(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		cr := Creative{Name: "mail", Subject: "{{greeting}}, Ihr Angebot", Body: "Hallo {{first_name|}}\n{{unsubscribe_url}}"}
		require.NoError(t, ValidateCreative(cr))
		ct, err := ParseCreative(cr)
		require.NoError(t, err)
		subj, body, err := ct.Render(TemplateFieldsFor(jana(), MessageContext{UnsubscribeURL: "https://u"}))
		require.NoError(t, err)
		assert.Equal(t, "Liebe Jana, Ihr Angebot", subj)
		assert.Equal(t, "Hallo Jana\nhttps://u", body)
	})
	t.Run("errors in subject and body reported together", func(t *testing.T) {
		err := ValidateCreative(Creative{Name: "mail", Subject: "Hi {{vorname}}\n", Body: "{{city"})
		ve, ok := AsValidation(err)
		require.True(t, ok, "%v", err)
		assert.True(t, ve.Has("subject"))
		assert.True(t, ve.Has("body"))
		assert.Contains(t, err.Error(), `unknown field "vorname"`)
		assert.Contains(t, err.Error(), "single line")
		assert.Contains(t, err.Error(), "line 1, column 1")
	})
	t.Run("missing fields of subject and body merged", func(t *testing.T) {
		ct, err := ParseCreative(Creative{Subject: "{{company}} {{city}}", Body: "{{city}} {{doi_url}}"})
		require.NoError(t, err)
		c := jana()
		c.Address.City = ""
		s, b, err := ct.Render(TemplateFieldsFor(c, MessageContext{}))
		assert.Empty(t, s)
		assert.Empty(t, b)
		var me *MissingFieldError
		require.ErrorAs(t, err, &me)
		assert.Equal(t, []TemplateField{FieldCompany, FieldCity, FieldDOIURL}, me.Fields)
	})
}

func BenchmarkTemplateRender(b *testing.B) {
	body := strings.Repeat("Wir freuen uns über Ihren Einkauf in {{city}} am {{last_purchase_date}}. ", 5) +
		"{{greeting}},\n\nunser Angebot für {{company|Sie}}: {{campaign_name}}.\n\nAbmelden: {{unsubscribe_url}}\n"
	tp, err := ParseTemplate(body)
	require.NoError(b, err)
	fields := TemplateFieldsFor(jana(), MessageContext{CampaignName: "Frühjahr", UnsubscribeURL: "https://k.example/u/abcdef"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tp.Render(fields); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTemplateFieldsFor(b *testing.B) {
	c := jana()
	ctx := MessageContext{CampaignName: "Frühjahr", UnsubscribeURL: "https://k.example/u/abcdef", LastPurchaseKnown: true, LastPurchaseAmount: 4999}
	b.ReportAllocs()
	for b.Loop() {
		_ = TemplateFieldsFor(c, ctx)
	}
}
