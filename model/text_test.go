package model

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestControlRune(t *testing.T) {
	for _, tc := range []struct {
		s   string
		r   rune
		bad bool
	}{
		{"Anna", 0, false},
		{"Jörg Müller-Lüdenscheidt", 0, false},
		{"\x1b[31mred", 0x1b, true},
		{"a\x00b", 0, true},
		{"bell\a", 0x07, true},
		{"csi\u009b31m", 0x9b, true},
		{"del\x7f", 0x7f, true},
		{"two\nlines", '\n', true},
		{"tab\tbed", '\t', true},
		{"carriage\rret", '\r', true},
	} {
		r, bad := ControlRune(tc.s, false)
		assert.Equal(t, tc.bad, bad, "%q", tc.s)
		assert.Equal(t, tc.r, r, "%q", tc.s)
	}
	_, bad := ControlRune("two\nlines\twith a tab", true)
	assert.False(t, bad, "lines allow newline and tab")
	r, bad := ControlRune("line\r\nending", true)
	assert.True(t, bad)
	assert.Equal(t, '\r', r)
}

// Text that reaches operators' terminals refuses control characters, and
// the error names the field: an escape sequence in a name from an import
// would otherwise recolour, retitle or write the clipboard of every screen
// that shows it.
func TestValidateRefusesControlCharacters(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	esc := "x\x1b]52;c;cHduZWQ=\a"
	cases := map[string]struct {
		err   error
		field string
	}{}
	add := func(name, field string, err error) {
		cases[name] = struct {
			err   error
			field string
		}{err, field}
	}

	c := Customer{Type: Consumer, FirstName: esc, Email: "a@example.de"}
	add("customer first name", "first_name", c.Validate(now))
	c = Customer{Type: Consumer, LastName: "Meyer", Address: Address{Street: "Hauptstr. 1", PostalCode: "10115", City: "Berlin\u009b", Country: "DE"}}
	add("customer city", "address.city", c.Validate(now))
	c = Customer{Type: Consumer, LastName: "Meyer", Attributes: map[string]string{"tier": esc}}
	add("customer attribute", "attributes.tier", c.Validate(now))
	c = Customer{Type: Consumer, LastName: "Meyer", Tags: []string{"vip\x1b"}}
	add("customer tag", "tags", c.Validate(now))

	ev := ConsentEvent{CustomerID: 1, Kind: ConsentOptIn, Channel: KindEmail, PurposeID: 1, Basis: BasisConsent, EffectiveAt: now, Source: esc}
	add("consent source", "source", ev.Validate(now))
	add("evidence value", "evidence.ua", ValidateEvidence(Evidence{"ua": "Mozilla\x1b[2J"}))
	in := Interaction{CustomerID: 1, Kind: InteractionReplied, Channel: KindEmail, At: now, Note: "ok\x1b"}
	add("interaction note", "note", in.Validate(now))
	pu := Purchase{CustomerID: 1, OrderID: "A-1", At: now, Items: []PurchaseItem{{SKU: "S", Name: esc, Quantity: 1}}}
	add("purchase item", "items[0].name", pu.Validate(now))
	camp := Campaign{Name: esc, Owner: "olga", Start: now, End: now, Status: StatusDraft}
	add("campaign name", "name", camp.Validate())
	camp = Campaign{Name: "Sale", Owner: "olga", Start: now, End: now, Status: StatusDraft, Creatives: []Creative{{Name: "mail", Body: "Hallo\n\tdu\x1b"}}}
	add("creative body", "creatives[0].body", camp.Validate())
	ch := Channel{Name: "Mail\x1b", Kind: KindEmail, Connector: Connector{Kind: ConnectorDry}, Status: ChannelActive}
	add("channel name", "name", ch.Validate())
	pp := Purpose{Name: "news", Title: esc, Category: CategoryMarketing}
	add("purpose title", "title", pp.Validate())
	sg := Segment{Name: "all", Conditions: []Condition{{Field: "city", Op: "=", Value: esc}}}
	add("segment condition", "conditions[0].value", sg.Validate())

	for name, tc := range cases {
		require.Error(t, tc.err, name)
		ve, ok := AsValidation(tc.err)
		require.True(t, ok, name)
		var fields []string
		for _, f := range ve.Fields {
			fields = append(fields, f.Field)
		}
		assert.Contains(t, fields, tc.field, name)
		assert.Contains(t, tc.err.Error(), "control character U+", name)
	}

	// Lines of a message body keep their breaks and tabs.
	camp = Campaign{Name: "Sale", Owner: "olga", Start: now, End: now, Status: StatusDraft, Creatives: []Creative{{Name: "mail", Body: "Hallo,\n\n\tbis bald"}}}
	assert.NoError(t, camp.Validate())
	assert.True(t, strings.Contains(controlName(0x1b), "escape"))
}

func TestEvidenceCell(t *testing.T) {
	ev := Evidence{"ip": "192.0.2.1", "form": "footer  signup\n", "call_ref": "4711"}
	assert.Equal(t, "call_ref=4711, form=footer signup, ip=192.0.2.1", ev.Summary())
	assert.Equal(t, ev.Summary(), EvidenceCell(true, false, ev))
	assert.Equal(t, "withheld", EvidenceCell(true, true, nil))
	assert.Equal(t, "erased", EvidenceCell(true, false, nil))
	assert.Equal(t, "-", EvidenceCell(false, false, nil))
}
