package model

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Personalisation of creatives.
//
// A creative's subject and body may contain placeholders from a fixed,
// documented set of fields. Nothing else is interpreted: there are no
// expressions, loops or function calls, so a creative typed by a marketer can
// never run code or reach data outside this list.
//
// Syntax:
//
//	{{first_name}}             the field's value; an error if it has none
//	{{first_name|Kundin}}      the value, or the default text after '|'
//	{{company|}}               the value, or nothing (an explicitly optional field)
//
// Spaces around the field name and around the default are ignored. The
// default is plain text up to the closing "}}" and may contain '|'. A "{{"
// without its "}}", a "}}" without its "{{", a "{{" inside a placeholder, an
// empty or unknown field name are parse errors naming line and column. There
// is no escape for a literal "{{" because plain-text messages do not need one.
//
// A field "has a value" when it is not empty after trimming spaces. Rendering
// never produces a half-filled message: if any field without a default has no
// value, Render returns a *MissingFieldError naming every such field, and the
// recipient is skipped with that reason.
//
// The fields (customer fields come from the customer record, the others from
// the per-message MessageContext):
//
//	salutation            the customer's salutation as stored ("Frau", "Herr", "Mx")
//	first_name            first name
//	last_name             last name
//	full_name             "first last", whichever parts exist
//	greeting              German opening, always has a value (see Greeting)
//	company               company (business contacts)
//	email                 email address
//	city                  city of the postal address
//	last_purchase_date    date of the last purchase, German form "02.01.2006"
//	last_purchase_amount  amount of the last purchase, German form "1.234,56 €"
//	                      (from MessageContext; the customer record keeps only sums)
//	customer_id           Karton's customer number
//	campaign_name         the campaign's name
//	unsubscribe_url       the recipient's one-click unsubscribe link
//	doi_url               the recipient's double opt-in confirmation link

// TemplateField is one of the fixed personalisation fields.
type TemplateField uint8

// The personalisation fields, in documentation order.
const (
	FieldSalutation TemplateField = iota
	FieldFirstName
	FieldLastName
	FieldFullName
	FieldGreeting
	FieldCompany
	FieldEmail
	FieldCity
	FieldLastPurchaseDate
	FieldLastPurchaseAmount
	FieldCustomerID
	FieldCampaignName
	FieldUnsubscribeURL
	FieldDOIURL

	numTemplateFields
)

// templateFieldNames is indexed by TemplateField.
var templateFieldNames = [numTemplateFields]string{
	"salutation", "first_name", "last_name", "full_name", "greeting", "company", "email", "city",
	"last_purchase_date", "last_purchase_amount", "customer_id", "campaign_name", "unsubscribe_url", "doi_url",
}

// String is the field's name as written inside the braces.
func (f TemplateField) String() string {
	if f < numTemplateFields {
		return templateFieldNames[f]
	}
	return "field(" + strconv.Itoa(int(f)) + ")"
}

// DataCategory is the kind of personal data the field reveals, so a step
// whose creative uses it can be checked against the categories it declares
// (purchase data needs a profiling consent). Fields from the message context
// that are not about the customer return "".
func (f TemplateField) DataCategory() DataCategory {
	switch f {
	case FieldSalutation, FieldFirstName, FieldLastName, FieldFullName, FieldGreeting, FieldEmail, FieldCompany:
		return DataContact
	case FieldCity, FieldCustomerID:
		return DataMasterData
	case FieldLastPurchaseDate, FieldLastPurchaseAmount:
		return DataPurchases
	}
	return ""
}

// TemplateFieldNames lists every field name in documentation order, for
// help screens and error messages.
func TemplateFieldNames() []string {
	return append([]string(nil), templateFieldNames[:]...)
}

// ParseTemplateField returns the field with the given name.
func ParseTemplateField(name string) (TemplateField, bool) {
	for i, n := range templateFieldNames {
		if n == name {
			return TemplateField(i), true
		}
	}
	return 0, false
}

// TemplateFields holds one recipient's values, indexed by field. The zero
// value has no values; an empty string means "no value".
type TemplateFields struct {
	values [numTemplateFields]string
}

// Set stores a value; unknown fields are ignored.
func (tf *TemplateFields) Set(f TemplateField, v string) {
	if f < numTemplateFields {
		tf.values[f] = v
	}
}

// Get returns the value and whether it counts as present.
func (tf *TemplateFields) Get(f TemplateField) (string, bool) {
	if f >= numTemplateFields {
		return "", false
	}
	v := tf.values[f]
	return v, strings.TrimSpace(v) != ""
}

// MessageContext carries the per-message values that are not part of the
// customer record.
type MessageContext struct {
	CampaignName   string
	UnsubscribeURL string
	DOIURL         string
	// LastPurchaseAmount is used only when LastPurchaseKnown is set, so that
	// a context that was not given the amount leaves the field empty instead
	// of claiming a purchase of 0,00 €.
	LastPurchaseAmount Money
	LastPurchaseKnown  bool
	// Currency of LastPurchaseAmount; DefaultCurrency when empty.
	Currency string
	// Location turns timestamps into calendar dates; UTC when nil.
	Location *time.Location
}

// TemplateFieldsFor collects a recipient's values. An erased customer yields
// no personal values at all, so a template needing them fails instead of
// addressing someone whose data is gone.
func TemplateFieldsFor(c *Customer, ctx MessageContext) TemplateFields {
	var tf TemplateFields
	tf.Set(FieldCampaignName, ctx.CampaignName)
	tf.Set(FieldUnsubscribeURL, ctx.UnsubscribeURL)
	tf.Set(FieldDOIURL, ctx.DOIURL)
	if c == nil {
		tf.Set(FieldGreeting, Greeting("", "", ""))
		return tf
	}
	if c.ID != 0 {
		tf.Set(FieldCustomerID, c.ID.String())
	}
	if c.Erased {
		tf.Set(FieldGreeting, Greeting("", "", ""))
		return tf
	}
	first, last := strings.TrimSpace(c.FirstName), strings.TrimSpace(c.LastName)
	tf.Set(FieldSalutation, strings.TrimSpace(c.Salutation))
	tf.Set(FieldFirstName, first)
	tf.Set(FieldLastName, last)
	tf.Set(FieldFullName, joinName(first, last))
	tf.Set(FieldGreeting, Greeting(c.Salutation, first, last))
	tf.Set(FieldCompany, strings.TrimSpace(c.Company))
	tf.Set(FieldEmail, strings.TrimSpace(c.Email))
	tf.Set(FieldCity, strings.TrimSpace(c.Address.City))
	if !c.LastPurchaseAt.IsZero() {
		loc := ctx.Location
		if loc == nil {
			loc = time.UTC
		}
		tf.Set(FieldLastPurchaseDate, c.LastPurchaseAt.In(loc).Format("02.01.2006"))
	}
	if ctx.LastPurchaseKnown {
		tf.Set(FieldLastPurchaseAmount, FormatMoneyGerman(ctx.LastPurchaseAmount, ctx.Currency))
	}
	return tf
}

func joinName(first, last string) string {
	switch {
	case first == "":
		return last
	case last == "":
		return first
	}
	return first + " " + last
}

// Greeting is the German opening line for a salutation and name. The
// familiar "Liebe/Lieber" needs a first name and a gendered salutation; with
// only a last name it falls back to the formal "Sehr geehrte Frau/Sehr
// geehrter Herr"; without a gendered salutation it uses the neutral "Guten
// Tag" with whatever name is known, because guessing a gender from a first
// name is both unreliable and unwelcome.
//
//	Frau, Jana, Meier → "Liebe Jana"      Herr, Jan, Meier → "Lieber Jan"
//	Frau, "",   Meier → "Sehr geehrte Frau Meier"
//	Herr, "",   Meier → "Sehr geehrter Herr Meier"
//	Mx,   Alex, Kim   → "Guten Tag Alex Kim"
//	any,  "",   ""    → "Guten Tag"
//
// Salutations are matched without regard to case or surrounding spaces.
func Greeting(salutation, first, last string) string {
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	s := strings.TrimSpace(salutation)
	female, male := strings.EqualFold(s, "Frau"), strings.EqualFold(s, "Herr")
	switch {
	case female && first != "":
		return "Liebe " + first
	case male && first != "":
		return "Lieber " + first
	case female && last != "":
		return "Sehr geehrte Frau " + last
	case male && last != "":
		return "Sehr geehrter Herr " + last
	}
	if n := joinName(first, last); n != "" {
		return "Guten Tag " + n
	}
	return "Guten Tag"
}

// FormatMoneyGerman renders an amount the way a German letter writes it:
// "1.234,56 €", "-0,05 €", "12,00 CHF". Creatives are German, so the
// English form of Money.Format would look wrong inside them.
func FormatMoneyGerman(m Money, currency string) string {
	if currency == "" {
		currency = DefaultCurrency
	}
	v := int64(m)
	neg := v < 0
	if neg {
		v = -v
	}
	b := make([]byte, 0, 24)
	if neg {
		b = append(b, '-')
	}
	whole := strconv.FormatInt(v/100, 10)
	for i := 0; i < len(whole); i++ {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b = append(b, '.')
		}
		b = append(b, whole[i])
	}
	b = append(b, ',', byte('0'+v%100/10), byte('0'+v%10))
	b = append(b, ' ')
	if currency == "EUR" {
		b = append(b, "€"...)
	} else {
		b = append(b, currency...)
	}
	return string(b)
}

// TemplateError is a parse error at a position in the template text.
type TemplateError struct {
	Offset int // byte offset into the template
	Line   int // 1-based
	Column int // 1-based, in characters
	Msg    string
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

func templateErr(src string, off int, format string, args ...any) *TemplateError {
	line, col := 1, 1
	for _, r := range src[:off] {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &TemplateError{Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// MissingFieldError says which fields a template needed but the recipient
// has no value for.
type MissingFieldError struct {
	Fields []TemplateField
}

func (e *MissingFieldError) Error() string {
	names := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		names[i] = "{{" + f.String() + "}}"
	}
	return fmt.Sprintf("no value for %s and no default given (write {{field|default}} to allow a fallback)", strings.Join(names, ", "))
}

// segment is one piece of a parsed template: literal text or a placeholder.
type segment struct {
	text     string // literal text, or the default of a placeholder
	field    TemplateField
	isField  bool
	optional bool // a default was given (possibly empty)
}

// Template is a parsed subject or body, ready to render many times.
type Template struct {
	segs    []segment
	litLen  int    // total length of literal text, to size the output once
	used    uint32 // bit per field
	missing bool   // some field has no default, so Render must check
}

// ParseTemplate parses s once so that rendering per recipient is a plain
// concatenation.
func ParseTemplate(s string) (*Template, error) {
	if !utf8.ValidString(s) {
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 {
				return nil, templateErr(s, i, "is not valid UTF-8 text")
			}
			i += size
		}
	}
	t := &Template{}
	i := 0
	for i < len(s) {
		open := strings.Index(s[i:], "{{")
		lit := s[i:]
		if open >= 0 {
			lit = s[i : i+open]
		}
		if c := strings.Index(lit, "}}"); c >= 0 {
			return nil, templateErr(s, i+c, `"}}" without an opening "{{"`)
		}
		if lit != "" {
			t.segs = append(t.segs, segment{text: lit})
			t.litLen += len(lit)
		}
		if open < 0 {
			break
		}
		start := i + open
		bodyStart := start + 2
		end := strings.Index(s[bodyStart:], "}}")
		if end < 0 {
			return nil, templateErr(s, start, `"{{" is not closed with "}}"`)
		}
		body := s[bodyStart : bodyStart+end]
		if n := strings.Index(body, "{{"); n >= 0 {
			return nil, templateErr(s, start, `"{{" is not closed with "}}" before the next "{{"`)
		}
		seg, err := parsePlaceholder(s, bodyStart, body)
		if err != nil {
			return nil, err
		}
		t.segs = append(t.segs, seg)
		t.used |= 1 << seg.field
		t.missing = t.missing || !seg.optional
		i = bodyStart + end + 2
	}
	return t, nil
}

func parsePlaceholder(src string, off int, body string) (segment, error) {
	name, def, hasDef := strings.Cut(body, "|")
	trimmed := strings.TrimSpace(name)
	if trimmed == "" {
		return segment{}, templateErr(src, off-2, "empty placeholder: write a field name such as {{first_name}}")
	}
	f, ok := ParseTemplateField(trimmed)
	if !ok {
		lead := len(name) - len(strings.TrimLeft(name, " \t"))
		return segment{}, templateErr(src, off+lead, "unknown field %q (known fields: %s)", trimmed, strings.Join(templateFieldNames[:], ", "))
	}
	return segment{field: f, isField: true, optional: hasDef, text: strings.TrimSpace(def)}, nil
}

// Uses reports whether the template contains the field.
func (t *Template) Uses(f TemplateField) bool { return f < numTemplateFields && t.used&(1<<f) != 0 }

// Fields lists the fields the template contains, in field order.
func (t *Template) Fields() []TemplateField {
	var out []TemplateField
	for f := TemplateField(0); f < numTemplateFields; f++ {
		if t.Uses(f) {
			out = append(out, f)
		}
	}
	return out
}

// Render fills in one recipient's values. If a field without a default has
// no value it returns "" and a *MissingFieldError naming every such field.
func (t *Template) Render(fields TemplateFields) (string, error) {
	if t.missing {
		var missing []TemplateField
		var seen uint32
		for _, sg := range t.segs {
			if !sg.isField || sg.optional || seen&(1<<sg.field) != 0 {
				continue
			}
			seen |= 1 << sg.field
			if _, ok := fields.Get(sg.field); !ok {
				missing = append(missing, sg.field)
			}
		}
		if missing != nil {
			return "", &MissingFieldError{Fields: missing}
		}
	}
	n := t.litLen
	for _, sg := range t.segs {
		if sg.isField {
			n += len(fields.values[sg.field]) + len(sg.text)
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, sg := range t.segs {
		if !sg.isField {
			b.WriteString(sg.text)
			continue
		}
		if v, ok := fields.Get(sg.field); ok {
			b.WriteString(v)
		} else {
			b.WriteString(sg.text)
		}
	}
	return b.String(), nil
}

// CreativeTemplate is a creative's subject and body, parsed.
type CreativeTemplate struct {
	Subject *Template
	Body    *Template
}

// ParseCreative parses a creative's subject and body. The error is a
// *ValidationError with the field "subject" or "body" and the position.
func ParseCreative(cr Creative) (*CreativeTemplate, error) {
	p := problems{entity: "creative " + strconv.Quote(cr.Name)}
	subj, err := ParseTemplate(cr.Subject)
	if err != nil {
		p.add("subject", "%v", err)
	}
	if strings.ContainsAny(cr.Subject, "\r\n") {
		p.add("subject", "must be a single line")
	}
	body, err := ParseTemplate(cr.Body)
	if err != nil {
		p.add("body", "%v", err)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return &CreativeTemplate{Subject: subj, Body: body}, nil
}

// ValidateCreative checks that the creative's subject and body parse.
func ValidateCreative(cr Creative) error {
	_, err := ParseCreative(cr)
	return err
}

// Render fills in subject and body for one recipient; on error neither is
// returned, and the missing fields of both are named together.
func (ct *CreativeTemplate) Render(fields TemplateFields) (subject, body string, err error) {
	subject, err1 := ct.Subject.Render(fields)
	body, err2 := ct.Body.Render(fields)
	if err1 == nil && err2 == nil {
		return subject, body, nil
	}
	// Render fails only with *MissingFieldError; merge both lists so the
	// operator sees every gap at once.
	merged := &MissingFieldError{}
	for _, err := range []error{err1, err2} {
		var m *MissingFieldError
		if !errors.As(err, &m) {
			continue
		}
		for _, f := range m.Fields {
			if !slices.Contains(merged.Fields, f) {
				merged.Fields = append(merged.Fields, f)
			}
		}
	}
	if len(merged.Fields) > 0 {
		return "", "", merged
	}
	return "", "", errors.Join(err1, err2)
}
