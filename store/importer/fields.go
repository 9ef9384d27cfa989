package importer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"karton/model"
	"karton/store"
)

// valueKind says how a field's text is read.
type valueKind uint8

const (
	kindText valueKind = iota
	kindEmail
	kindPhone
	kindDate // calendar date (birth date)
	kindTime // point in time
	kindMoney
	kindInt
	kindBool
	kindID // Karton id
)

// fieldDef is one field an entity can import. Aliases are header names in
// their matching form (see headerKey); German aliases also set the column's
// hint to German number and date formats.
type fieldDef struct {
	name    string
	kind    valueKind
	aliases []string
	german  []string
	doc     string
}

// Prefixes of open-ended fields: attribute.NAME and preference.NAME for
// customers, evidence.NAME for consent events.
const (
	prefixAttribute  = "attribute."
	prefixPreference = "preference."
	prefixEvidence   = "evidence."
)

// Field names, shared by the entities that have them.
const (
	fExternalID   = "external_id"
	fEmail        = "email"
	fFirstName    = "first_name"
	fLastName     = "last_name"
	fSalutation   = "salutation"
	fCompany      = "company"
	fType         = "type"
	fPhone        = "phone"
	fStreet       = "street"
	fPostalCode   = "postal_code"
	fCity         = "city"
	fCountry      = "country"
	fBirthDate    = "birth_date"
	fTags         = "tags"
	fCustomer     = "customer"
	fCustomerID   = "customer_id"
	fCustomerMail = "customer_email"
	fCustomerTel  = "customer_phone"
	fOrderID      = "order_id"
	fAt           = "at"
	fAmount       = "amount"
	fCurrency     = "currency"
	fEmailColl    = "email_collected"
	fObjection    = "objection_notice"
	fEventID      = "event_id"
	fKind         = "kind"
	fChannel      = "channel"
	fCampaign     = "campaign"
	fValue        = "value"
	fNote         = "note"
	fPurpose      = "purpose"
	fBasis        = "basis"
	fRecordedAt   = "recorded_at"
	fSource       = "source"
	fTextVersion  = "text_version"
)

// refFields name the customer of a purchase or interaction. A plain
// "customer" column is taken for the source system's id: files from other
// systems carry their own ids, and reading one as Karton's id would attach
// rows to the wrong people. Karton's id needs an explicit "karton_id".
var refFields = []fieldDef{
	{name: fCustomer, kind: kindID, aliases: []string{"kartonid", "customerkartonid"}, doc: "Karton's customer id"},
	{name: fCustomerID, kind: kindText, aliases: []string{"customerid", "customer", "customerexternalid", "customernumber", "customerno", "clientid"}, german: []string{"kunde", "kundennummer", "kundennr", "kundenid", "kdnr"}, doc: "the customer's id in the source system"},
	{name: fCustomerMail, kind: kindEmail, aliases: []string{"customeremail", "email", "mail", "emailaddress"}, german: []string{"emailadresse", "kundenemail"}, doc: "the customer's email"},
	{name: fCustomerTel, kind: kindPhone, aliases: []string{"customerphone", "phone", "telephone", "mobile"}, german: []string{"telefon", "tel", "telefonnummer", "mobil", "handy"}, doc: "the customer's phone"},
}

// entityFields lists, per entity, the fields in the order rows are keyed
// and documented.
var entityFields = map[store.ImportEntity][]fieldDef{
	store.ImportCustomers: {
		{name: fExternalID, kind: kindText, aliases: []string{"externalid", "id", "customerid", "sourceid", "customernumber", "customerno", "clientid"}, german: []string{"kundennummer", "kundennr", "kundenid", "kdnr", "nummer"}, doc: "the customer's id in the source system"},
		{name: fEmail, kind: kindEmail, aliases: []string{"email", "mail", "emailaddress"}, german: []string{"emailadresse", "mailadresse"}, doc: "email address"},
		{name: fSalutation, kind: kindText, aliases: []string{"salutation"}, german: []string{"anrede"}, doc: "Frau, Herr, …"},
		{name: fFirstName, kind: kindText, aliases: []string{"firstname", "givenname", "first", "forename"}, german: []string{"vorname"}, doc: "first name"},
		{name: fLastName, kind: kindText, aliases: []string{"lastname", "surname", "familyname", "last", "name"}, german: []string{"nachname", "familienname", "zuname"}, doc: "last name"},
		{name: fCompany, kind: kindText, aliases: []string{"company", "organisation", "organization", "companyname"}, german: []string{"firma", "unternehmen", "firmenname"}, doc: "company (business contacts)"},
		{name: fType, kind: kindText, aliases: []string{"type", "customertype", "contacttype"}, german: []string{"typ", "kundentyp"}, doc: "consumer or business"},
		{name: fPhone, kind: kindPhone, aliases: []string{"phone", "telephone", "phonenumber", "mobile", "mobilephone", "cell"}, german: []string{"telefon", "tel", "telefonnummer", "mobil", "handy", "mobilnummer"}, doc: "phone, any common notation"},
		{name: fStreet, kind: kindText, aliases: []string{"street", "address", "streetaddress", "addressline1", "address1"}, german: []string{"strasse", "str", "adresse", "anschrift", "strassehausnummer", "strasseundhausnummer"}, doc: "street and number"},
		{name: fPostalCode, kind: kindText, aliases: []string{"postalcode", "zip", "zipcode", "postcode"}, german: []string{"plz", "postleitzahl"}, doc: "postcode"},
		{name: fCity, kind: kindText, aliases: []string{"city", "town"}, german: []string{"ort", "stadt", "wohnort"}, doc: "city"},
		{name: fCountry, kind: kindText, aliases: []string{"country", "countrycode"}, german: []string{"land", "landercode"}, doc: "ISO code (DE) or name (Deutschland)"},
		{name: fBirthDate, kind: kindDate, aliases: []string{"birthdate", "birthday", "dateofbirth", "dob"}, german: []string{"geburtsdatum", "geburtstag", "geboren"}, doc: "birth date"},
		{name: fTags, kind: kindText, aliases: []string{"tags", "tag", "labels"}, german: []string{"schlagworte", "merkmale"}, doc: "tags, separated by , ; or |"},
	},
	store.ImportPurchases: append(slices.Clone(refFields),
		fieldDef{name: fOrderID, kind: kindText, aliases: []string{"orderid", "order", "ordernumber", "orderno", "invoice", "invoicenumber", "transactionid"}, german: []string{"bestellnummer", "bestellung", "bestellnr", "auftragsnummer", "auftragsnr", "belegnummer", "rechnungsnummer"}, doc: "order number (unique per source)"},
		fieldDef{name: fAt, kind: kindTime, aliases: []string{"at", "date", "orderdate", "time", "timestamp", "createdat", "purchasedate"}, german: []string{"datum", "bestelldatum", "kaufdatum", "zeitpunkt", "belegdatum"}, doc: "when"},
		fieldDef{name: fAmount, kind: kindMoney, aliases: []string{"amount", "total", "revenue", "value", "price", "grandtotal"}, german: []string{"betrag", "summe", "umsatz", "gesamtbetrag", "wert", "preis", "bruttobetrag"}, doc: "order value"},
		fieldDef{name: fCurrency, kind: kindText, aliases: []string{"currency"}, german: []string{"wahrung"}, doc: "ISO code (EUR); must be the store's currency"},
		fieldDef{name: fEmailColl, kind: kindBool, aliases: []string{"emailcollected"}, german: []string{"emailerhoben"}, doc: "the email was collected with this sale"},
		fieldDef{name: fObjection, kind: kindBool, aliases: []string{"objectionnotice"}, german: []string{"widerspruchshinweis"}, doc: "the objection notice was given then"},
	),
	store.ImportInteractions: append(slices.Clone(refFields),
		fieldDef{name: fEventID, kind: kindText, aliases: []string{"eventid", "id", "interactionid"}, german: []string{"ereignisid"}, doc: "the source's id of the event"},
		fieldDef{name: fKind, kind: kindText, aliases: []string{"kind", "type", "event", "eventtype", "action"}, german: []string{"art", "typ", "ereignis", "aktion"}, doc: "sent, delivered, opened, clicked, …"},
		fieldDef{name: fChannel, kind: kindText, aliases: []string{"channel", "channelkind", "channelname"}, german: []string{"kanal"}, doc: "channel kind (email) or channel name"},
		fieldDef{name: fCampaign, kind: kindText, aliases: []string{"campaign", "campaignid", "campaignname"}, german: []string{"kampagne", "kampagnenid"}, doc: "campaign id or name"},
		fieldDef{name: fAt, kind: kindTime, aliases: []string{"at", "date", "time", "timestamp", "occurredat"}, german: []string{"datum", "zeitpunkt", "zeit"}, doc: "when"},
		fieldDef{name: fValue, kind: kindMoney, aliases: []string{"value", "amount", "cost"}, german: []string{"wert", "betrag", "kosten"}, doc: "cost of a contact or value of a conversion"},
		fieldDef{name: fNote, kind: kindText, aliases: []string{"note", "comment", "text"}, german: []string{"notiz", "bemerkung", "kommentar"}, doc: "note"},
	),
	// Consent files keep the fields of `karton consent import`, where
	// "customer" is Karton's id.
	store.ImportConsents: append([]fieldDef{
		{name: fCustomer, kind: kindID, aliases: []string{"customer", "kartonid", "customerkartonid"}, doc: "Karton's customer id"},
		{name: fCustomerID, kind: kindText, aliases: []string{"customerid", "customerexternalid", "customernumber"}, german: []string{"kunde", "kundennummer", "kundennr", "kundenid", "kdnr"}, doc: "the customer's id in the source system"},
		refFields[2], refFields[3]},
		fieldDef{name: fChannel, kind: kindText, aliases: []string{"channel", "channelkind"}, german: []string{"kanal"}, doc: "channel kind"},
		fieldDef{name: fPurpose, kind: kindText, aliases: []string{"purpose"}, german: []string{"zweck"}, doc: "purpose name"},
		fieldDef{name: fKind, kind: kindText, aliases: []string{"kind", "type", "event"}, german: []string{"art", "typ", "ereignis"}, doc: "opt_in, doi_confirmed, opt_out, …"},
		fieldDef{name: fBasis, kind: kindText, aliases: []string{"basis", "legalbasis"}, german: []string{"rechtsgrundlage"}, doc: "legal basis"},
		fieldDef{name: fAt, kind: kindTime, aliases: []string{"at", "effectiveat", "date", "time", "timestamp"}, german: []string{"datum", "zeitpunkt"}, doc: "when it happened"},
		fieldDef{name: fRecordedAt, kind: kindTime, aliases: []string{"recordedat"}, german: []string{"erfasstam"}, doc: "when Karton learned it (default: now)"},
		fieldDef{name: fSource, kind: kindText, aliases: []string{"source"}, german: []string{"quelle", "herkunft"}, doc: "form, call, letter, …"},
		fieldDef{name: fTextVersion, kind: kindText, aliases: []string{"textversion", "version"}, german: []string{"textfassung"}, doc: "version of the consent text"},
	),
}

// headerKey is the matching form of a header or field name: folded like
// names (Straße → strasse, Währung → wahrung) and stripped of everything
// but letters and digits, so "E-Mail", "e_mail" and "EMail" meet.
func headerKey(s string) string {
	f := model.Fold(s)
	var b strings.Builder
	for _, r := range f {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Column is one column of a file (or one key of JSON Lines objects) and
// the field it is imported into.
type Column struct {
	Index  int    `json:"index"`  // 0-based position (JSON Lines: order of first appearance)
	Header string `json:"header"` // as in the file; "column N" without a header row
	// Field is the field it fills ("email", "attribute.segment"), or ""
	// when the column is ignored.
	Field string `json:"field"`
	// Hint is the number and date format: "", "de", "en", "dmy", "mdy".
	Hint string `json:"hint,omitempty"`
	// By says how the field was chosen: "header" (recognised name), "map"
	// (Options.Map), or "" (ignored).
	By string `json:"by,omitempty"`

	def *fieldDef
	dyn string // the NAME of attribute.NAME and friends
}

// findField resolves a field name (or a header's key) for an entity. It
// returns the definition and, for open-ended fields, the dynamic name.
func findField(entity store.ImportEntity, name string) (*fieldDef, string, bool) {
	defs := entityFields[entity]
	for i := range defs {
		if defs[i].name == name {
			return &defs[i], "", true
		}
	}
	for _, p := range dynamicPrefixes(entity) {
		if rest, ok := strings.CutPrefix(name, p); ok && rest != "" {
			return &fieldDef{name: p, kind: kindText}, rest, true
		}
	}
	return nil, "", false
}

func dynamicPrefixes(entity store.ImportEntity) []string {
	switch entity {
	case store.ImportCustomers:
		return []string{prefixAttribute, prefixPreference}
	case store.ImportConsents:
		return []string{prefixEvidence}
	}
	return nil
}

// recognise maps a header to a field by its aliases; german reports a
// German alias (which implies German number and date formats).
func recognise(entity store.ImportEntity, header string) (def *fieldDef, dyn string, german bool) {
	key := headerKey(header)
	if key == "" {
		return nil, "", false
	}
	defs := entityFields[entity]
	for i := range defs {
		if headerKey(defs[i].name) == key || slices.Contains(defs[i].aliases, key) {
			return &defs[i], "", false
		}
		if slices.Contains(defs[i].german, key) {
			return &defs[i], "", true
		}
	}
	// JSON objects flatten to "attributes.segment"; headers may say
	// "attribute_segment" or "attribute.segment".
	lower := strings.ToLower(strings.TrimSpace(header))
	for _, p := range dynamicPrefixes(entity) {
		base := strings.TrimSuffix(p, ".")
		for _, sep := range []string{".", "_", ":"} {
			for _, pre := range []string{base + sep, base + "s" + sep} {
				if rest, ok := strings.CutPrefix(lower, pre); ok && validDynName(rest) {
					return &fieldDef{name: p, kind: kindText}, rest, false
				}
			}
		}
	}
	return nil, "", false
}

func validDynName(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// MapSpec is one entry of Options.Map: the column (its header, or its
// 1-based number) and the field with an optional hint. Field "-" ignores
// the column.
type MapSpec struct {
	Column string
	Field  string
	Hint   string
}

// ParseMap reads a --map argument: "COLUMN=FIELD[:HINT]", e.g.
// "Betrag=amount:de", "3=at:dmy", "Kundengruppe=attribute.segment",
// "Notiz=-".
func ParseMap(s string) (MapSpec, error) {
	col, spec, ok := strings.Cut(s, "=")
	col = strings.TrimSpace(col)
	if !ok || col == "" || strings.TrimSpace(spec) == "" {
		return MapSpec{}, fmt.Errorf("%q is not COLUMN=FIELD (e.g. Betrag=amount:de, 3=at, Notiz=-)", s)
	}
	field, hint, _ := strings.Cut(strings.TrimSpace(spec), ":")
	field, hint = strings.TrimSpace(field), strings.ToLower(strings.TrimSpace(hint))
	if !validHint(hint) {
		return MapSpec{}, fmt.Errorf("%q: format hint %q is not de, en, dmy or mdy", s, hint)
	}
	return MapSpec{Column: col, Field: field, Hint: hint}, nil
}

// FieldNames lists the fields an entity can import, for help texts:
// "name — what it is (German: Alias, …)".
func FieldNames(entity store.ImportEntity) []string {
	var out []string
	for _, d := range entityFields[entity] {
		line := d.name + " — " + d.doc
		out = append(out, line)
	}
	for _, p := range dynamicPrefixes(entity) {
		out = append(out, p+"NAME — free "+strings.TrimSuffix(p, ".")+" (map a column to it with --map)")
	}
	return out
}

// applyMap sets the columns' fields: recognised headers first, then the
// explicit map, which wins. It fails on a map entry naming no column or an
// unknown field, and on two columns filling one field.
func applyMap(entity store.ImportEntity, cols []Column, specs []MapSpec) error {
	for i := range cols {
		c := &cols[i]
		if def, dyn, german := recognise(entity, c.Header); def != nil {
			c.def, c.dyn, c.By = def, dyn, "header"
			c.Field = def.name + dyn
			if german {
				c.Hint = HintGerman
			}
		}
	}
	for _, m := range specs {
		idx := -1
		for i := range cols {
			if cols[i].Header == m.Column {
				idx = i
			}
		}
		if idx < 0 {
			for i := range cols {
				if headerKey(cols[i].Header) == headerKey(m.Column) && headerKey(m.Column) != "" {
					idx = i
				}
			}
		}
		if idx < 0 {
			if n, err := strconv.Atoi(m.Column); err == nil && n >= 1 && n <= len(cols) {
				idx = n - 1
			}
		}
		if idx < 0 {
			return fmt.Errorf("--map %s=%s: no column %q in the file (columns: %s)", m.Column, m.Field, m.Column, columnList(cols))
		}
		c := &cols[idx]
		if m.Field == "-" {
			c.def, c.dyn, c.Field, c.Hint, c.By = nil, "", "", "", "map"
			continue
		}
		def, dyn, ok := findField(entity, m.Field)
		if !ok {
			return fmt.Errorf("--map %s=%s: %s have no field %q (fields: %s)", m.Column, m.Field, entity, m.Field, strings.Join(fieldList(entity), ", "))
		}
		if dyn != "" && !validDynName(dyn) {
			return fmt.Errorf("--map %s=%s: %q must be 1–40 letters, digits, '_' or '-'", m.Column, m.Field, dyn)
		}
		c.def, c.dyn, c.Field, c.By = def, dyn, def.name+dyn, "map"
		if m.Hint != "" {
			c.Hint = m.Hint
		}
	}
	seen := map[string]string{}
	for _, c := range cols {
		if c.Field == "" {
			continue
		}
		if prev, ok := seen[c.Field]; ok {
			return fmt.Errorf("columns %q and %q both fill %s; ignore one with --map %q=-", prev, c.Header, c.Field, c.Header)
		}
		seen[c.Field] = c.Header
	}
	return nil
}

func fieldList(entity store.ImportEntity) []string {
	var out []string
	for _, d := range entityFields[entity] {
		out = append(out, d.name)
	}
	for _, p := range dynamicPrefixes(entity) {
		out = append(out, p+"NAME")
	}
	return out
}

func columnList(cols []Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = strconv.Quote(c.Header)
	}
	return strings.Join(names, ", ")
}

// checkRequired names what an entity cannot do without.
func checkRequired(entity store.ImportEntity, cols []Column) error {
	has := func(names ...string) bool {
		for _, c := range cols {
			if c.def != nil && slices.Contains(names, c.def.name) {
				return true
			}
		}
		return false
	}
	need := func(what string, names ...string) error {
		if has(names...) {
			return nil
		}
		return fmt.Errorf("no column is mapped to %s; map one with --map COLUMN=%s (columns: %s)", what, names[0], columnList(cols))
	}
	refs := []string{fCustomerID, fCustomerMail, fCustomerTel, fCustomer}
	var err error
	switch entity {
	case store.ImportCustomers:
		err = need("an identifying field (external_id, email, phone, first_name, last_name or company)",
			fExternalID, fEmail, fPhone, fFirstName, fLastName, fCompany)
	case store.ImportPurchases:
		if err = need("the customer (customer_id, customer_email, customer_phone or customer)", refs...); err == nil {
			if err = need("the purchase time", fAt); err == nil {
				err = need("the amount", fAmount)
			}
		}
	case store.ImportInteractions:
		if err = need("the customer (customer_id, customer_email, customer_phone or customer)", refs...); err == nil {
			if err = need("the interaction kind", fKind); err == nil {
				if err = need("the channel", fChannel); err == nil {
					err = need("the time", fAt)
				}
			}
		}
	case store.ImportConsents:
		if err = need("the customer (customer_id, customer_email, customer_phone or customer)", refs...); err == nil {
			if err = need("the consent kind", fKind); err == nil {
				err = need("the time", fAt)
			}
		}
	}
	return err
}
