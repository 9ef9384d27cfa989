package importer

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"time"

	"karton/model"
	"karton/store"
)

// lookups are what converting rows needs from the store, read once per
// pass: the store's settings and the names of channels, campaigns and
// purposes.
type lookups struct {
	region    string
	currency  string
	now       time.Time
	loc       *time.Location
	channels  map[string]model.Channel    // by folded name
	campaigns map[string]model.CampaignID // by folded name
	purposes  map[string]bool             // by name
	// sess, if set, normalises, validates and derives each customer row
	// the way its writer will (PrepareCustomer), which is then the row's
	// only validation; without it (a preview) the row is validated here.
	sess *store.ImportSession
}

func loadLookups(st *store.Store, by model.Actor, loc *time.Location) (*lookups, error) {
	set := st.Settings()
	lk := &lookups{region: set.Region, currency: set.Currency, now: st.Now(), loc: loc,
		channels: map[string]model.Channel{}, campaigns: map[string]model.CampaignID{}, purposes: map[string]bool{}}
	err := st.View(by, func(r *store.Reader) error {
		chs, err := r.Channels()
		if err != nil {
			return err
		}
		for _, c := range chs {
			lk.channels[model.Fold(c.Name)] = c
		}
		cms, err := r.Campaigns()
		if err != nil {
			return err
		}
		for _, c := range cms {
			lk.campaigns[model.Fold(c.Name)] = c.ID
		}
		ps, err := r.Purposes()
		for _, p := range ps {
			lk.purposes[p.Name] = true
		}
		return err
	})
	return lk, err
}

// converted is one row after conversion: a typed record, or the reason it
// is rejected.
type converted struct {
	line    int
	problem string
	present []string // fields with a value
	invalid []string // fields whose values made the row fail
	key     [16]byte // content hash (the writer adds the occurrence)
	cust    store.CustomerImportRow
	purch   store.PurchaseImportRow
	inter   store.InteractionImportRow
	cons    store.ConsentImportRow
}

// problems collects a row's field problems, naming the column each came
// from.
type problems struct {
	cols    []Column
	msgs    []string
	invalid []string
}

func (p *problems) add(field, format string, args ...any) {
	where := field
	for _, c := range p.cols {
		if c.Field == field || (c.def != nil && c.def.name == field) {
			where = fmt.Sprintf("%s (column %q)", field, c.Header)
			break
		}
	}
	p.msgs = append(p.msgs, where+": "+fmt.Sprintf(format, args...))
	p.invalid = append(p.invalid, field)
}

// addModel adds the fields of a model validation error, translated into
// import field names.
func (p *problems) addModel(err error) {
	ve, ok := model.AsValidation(err)
	if !ok {
		p.msgs = append(p.msgs, err.Error())
		return
	}
	for _, f := range ve.Fields {
		p.add(importField(f.Field), "%s", f.Reason)
	}
}

// importField maps a model field path to the import's field name.
func importField(f string) string {
	switch f {
	case "address.street":
		return fStreet
	case "address.postal_code":
		return fPostalCode
	case "address.city":
		return fCity
	case "address.country":
		return fCountry
	case "sources":
		return fExternalID
	case "customer":
		return fCustomer
	}
	return f
}

func (p *problems) text() string { return strings.Join(p.msgs, "; ") }

// convert turns one raw record into a row of the entity.
// convertSafely is convert for a row of a file from anywhere: should a
// value still crash the conversion, the row is rejected and the import goes
// on, instead of the crash taking down the program (and, under `karton
// serve`, everyone's sessions) from a converter goroutine.
func (lk *lookups) convertSafely(entity store.ImportEntity, cols []Column, rec rawRecord) (out converted) {
	defer func() {
		if r := recover(); r != nil {
			out = converted{line: rec.line, problem: fmt.Sprintf("the row could not be read (Karton failed on it: %v); please report it with the row", r)}
		}
	}()
	return lk.convert(entity, cols, rec)
}

func (lk *lookups) convert(entity store.ImportEntity, cols []Column, rec rawRecord) converted {
	out := converted{line: rec.line}
	if rec.problem != "" {
		out.problem = rec.problem
		return out
	}
	p := &problems{cols: cols}
	// The content key hashes the mapped values in column order: the
	// entity, then each field and value, each followed by a zero byte.
	// They are gathered first and hashed at once.
	var kb [512]byte
	keyText := append(kb[:0], entity...)
	var vb [32]fieldValue // most files have fewer columns: no allocation
	vals := vb[:0]
	out.present = make([]string, 0, len(cols))
	for i := range cols {
		c := &cols[i]
		if c.def == nil {
			continue
		}
		raw := ""
		if c.Index < len(rec.vals) {
			raw = rec.vals[c.Index]
		}
		v, err := cleanText(raw)
		if err != nil {
			p.add(c.Field, "%v", err)
			out.present = append(out.present, c.Field)
			continue
		}
		if v == "" {
			continue
		}
		keyText = append(append(append(append(keyText, c.Field...), 0), v...), 0)
		vals = append(vals, fieldValue{col: c, v: v})
		out.present = append(out.present, c.Field)
	}
	sum := sha256.Sum256(keyText)
	copy(out.key[:], sum[:])
	switch entity {
	case store.ImportCustomers:
		out.cust = lk.customer(vals, p)
		out.cust.Line = rec.line
	case store.ImportPurchases:
		out.purch = lk.purchase(vals, p)
		out.purch.Line = rec.line
	case store.ImportInteractions:
		out.inter = lk.interaction(vals, p)
		out.inter.Line = rec.line
	case store.ImportConsents:
		out.cons = lk.consent(vals, p)
		out.cons.Line = rec.line
	}
	if len(p.msgs) > 0 {
		out.problem, out.invalid = p.text(), p.invalid
	}
	return out
}

// fieldValue is a non-empty value of a mapped column.
type fieldValue struct {
	col *Column
	v   string
}

func (lk *lookups) customer(vals []fieldValue, p *problems) store.CustomerImportRow {
	var row store.CustomerImportRow
	c := &row.Customer
	for _, fv := range vals {
		v := fv.v
		switch fv.col.def.name {
		case fExternalID:
			if len(v) > 100 {
				p.add(fExternalID, "is longer than 100 characters")
			}
			row.ExternalID = v
		case fEmail:
			c.Email = v
		case fSalutation:
			c.Salutation = v
		case fFirstName:
			c.FirstName = v
		case fLastName:
			c.LastName = v
		case fCompany:
			c.Company = v
		case fType:
			t, err := parseContactType(v)
			if err != nil {
				p.add(fType, "%v", err)
			}
			c.Type, row.TypeGiven = t, true
		case fPhone:
			c.Phone = v
		case fStreet:
			c.Address.Street = v
		case fPostalCode:
			c.Address.PostalCode = v
		case fCity:
			c.Address.City = v
		case fCountry:
			cc, err := parseCountry(v)
			if err != nil {
				p.add(fCountry, "%v", err)
			}
			c.Address.Country = cc
		case fBirthDate:
			d, err := parseBirthDate(v, fv.col.Hint)
			if err != nil {
				p.add(fBirthDate, "%v", err)
			}
			c.BirthDate = d
		case fTags:
			c.Tags = append(c.Tags, splitTags(v)...)
		case prefixAttribute:
			if c.Attributes == nil {
				c.Attributes = map[string]string{}
			}
			c.Attributes[fv.col.dyn] = v
		case prefixPreference:
			if c.Preferences == nil {
				c.Preferences = map[string]string{}
			}
			c.Preferences[fv.col.dyn] = v
		}
	}
	if len(p.msgs) > 0 {
		return row
	}
	// Normalise here, in parallel with other rows: parsing a phone number
	// costs several microseconds, and the writer is single-threaded.
	nerr := c.Normalize(lk.region)
	if nerr != nil {
		p.addModel(nerr)
	}
	var verr error
	if nerr == nil && lk.sess != nil {
		// Validated once, as the writer will write it.
		verr = lk.sess.PrepareCustomer(&row)
	} else {
		verr = c.Validate(lk.now)
	}
	if err := verr; err != nil {
		ve, ok := model.AsValidation(err)
		if !ok {
			p.addModel(err)
			return row
		}
		for _, f := range ve.Fields {
			switch {
			case f.Field == "name" && row.ExternalID != "":
				// The source id identifies the customer (the store adds it).
			case f.Field == "phone" && nerr != nil:
				// Reported by Normalize already.
			default:
				p.add(importField(f.Field), "%s", f.Reason)
			}
		}
	}
	return row
}

func parseContactType(s string) (model.ContactType, error) {
	switch headerKey(s) {
	case "consumer", "private", "b2c", "privat", "privatkunde", "privatperson", "verbraucher", "person":
		return model.Consumer, nil
	case "business", "company", "b2b", "geschaftskunde", "firma", "firmenkunde", "gewerblich", "unternehmen":
		return model.Business, nil
	}
	return "", fmt.Errorf("%q is not consumer or business (privat, geschäftlich, b2c, b2b)", s)
}

// ref reads the customer reference fields of an activity row.
func (lk *lookups) ref(fv fieldValue, r *store.CustomerRef, p *problems) bool {
	v := fv.v
	switch fv.col.def.name {
	case fCustomer:
		id, err := model.ParseID(v)
		if err != nil {
			p.add(fCustomer, "%v", err)
		}
		r.ID = model.CustomerID(id)
	case fCustomerID:
		if len(v) > 100 {
			p.add(fCustomerID, "is longer than 100 characters")
		}
		r.ExternalID = v
	case fCustomerMail:
		if err := model.ValidateEmail(v); err != nil {
			p.add(fCustomerMail, "%v", err)
		}
		r.Email = model.NormalizeEmail(v)
	case fCustomerTel:
		n, err := model.NormalizePhone(v, lk.region)
		if err != nil {
			p.add(fCustomerTel, "%v", err)
		}
		r.Phone = n
	default:
		return false
	}
	return true
}

func (lk *lookups) purchase(vals []fieldValue, p *problems) store.PurchaseImportRow {
	var row store.PurchaseImportRow
	pu := &row.Purchase
	for _, fv := range vals {
		if lk.ref(fv, &row.Customer, p) {
			continue
		}
		v := fv.v
		switch fv.col.def.name {
		case fOrderID:
			pu.OrderID = v
		case fAt:
			t, err := parseTime(v, fv.col.Hint, lk.loc)
			if err != nil {
				p.add(fAt, "%v", err)
			}
			pu.At = t
		case fAmount:
			m, err := parseMoney(v, fv.col.Hint)
			if err != nil {
				p.add(fAmount, "%v", err)
			}
			pu.Amount = m
		case fCurrency:
			pu.Currency = strings.ToUpper(v)
		case fEmailColl, fObjection:
			b, err := parseBool(v)
			if err != nil {
				p.add(fv.col.def.name, "%v", err)
			}
			if fv.col.def.name == fEmailColl {
				pu.EmailCollected = b
			} else {
				pu.ObjectionNotice = b
			}
		}
	}
	if len(p.msgs) > 0 {
		return row
	}
	if pu.Currency == "" {
		pu.Currency = lk.currency
	}
	if pu.Currency != lk.currency {
		p.add(fCurrency, "%s is not the store's currency %s; convert the amounts first", pu.Currency, lk.currency)
		return row
	}
	check := *pu
	check.CustomerID = 1
	if check.OrderID == "" {
		check.OrderID = "row"
	}
	if err := check.Validate(lk.now); err != nil {
		p.addModel(err)
	}
	return row
}

func (lk *lookups) interaction(vals []fieldValue, p *problems) store.InteractionImportRow {
	var row store.InteractionImportRow
	in := &row.Interaction
	for _, fv := range vals {
		if lk.ref(fv, &row.Customer, p) {
			continue
		}
		v := fv.v
		switch fv.col.def.name {
		case fEventID:
			if len(v) > 100 {
				p.add(fEventID, "is longer than 100 characters")
			}
			row.EventID = v
		case fKind:
			k, err := model.ParseInteractionKind(v)
			if err != nil {
				p.add(fKind, "%v", err)
			}
			in.Kind = k
		case fChannel:
			if k, err := model.ParseChannelKind(v); err == nil {
				in.Channel = k
			} else if ch, ok := lk.channels[model.Fold(v)]; ok {
				in.Channel, in.ChannelID = ch.Kind, ch.ID
			} else {
				p.add(fChannel, "%q is neither a channel kind (email, sms, …) nor the name of a channel (see `karton channel list`)", v)
			}
		case fCampaign:
			if id, err := strconv.ParseUint(strings.TrimPrefix(v, "#"), 10, 64); err == nil && id > 0 {
				in.CampaignID = model.CampaignID(id)
			} else if cid, ok := lk.campaigns[model.Fold(v)]; ok {
				in.CampaignID = cid
			} else {
				p.add(fCampaign, "%q is neither a campaign id nor the name of a campaign", v)
			}
		case fAt:
			t, err := parseTime(v, fv.col.Hint, lk.loc)
			if err != nil {
				p.add(fAt, "%v", err)
			}
			in.At = t
		case fValue:
			m, err := parseMoney(v, fv.col.Hint)
			if err != nil {
				p.add(fValue, "%v", err)
			}
			in.Value = m
		case fNote:
			in.Note = v
		}
	}
	if len(p.msgs) > 0 {
		return row
	}
	check := *in
	check.CustomerID = 1
	if err := check.Validate(lk.now); err != nil {
		p.addModel(err)
	}
	return row
}

func (lk *lookups) consent(vals []fieldValue, p *problems) store.ConsentImportRow {
	var row store.ConsentImportRow
	l := &row.Consent
	var kind model.ConsentKind
	for _, fv := range vals {
		if lk.ref(fv, &row.Customer, p) {
			continue
		}
		v := fv.v
		switch fv.col.def.name {
		case fChannel:
			if _, err := model.ParseChannelKind(v); err != nil {
				p.add(fChannel, "%v", err)
			}
			l.Channel = v
		case fPurpose:
			if !lk.purposes[strings.ToLower(v)] {
				p.add(fPurpose, "unknown purpose %q (see `karton purpose list`)", v)
			}
			l.Purpose = strings.ToLower(v)
		case fKind:
			k, err := model.ParseConsentKind(v)
			if err != nil {
				p.add(fKind, "%v", err)
			}
			kind, l.Kind = k, v
		case fBasis:
			if _, err := model.ParseLegalBasis(v); err != nil {
				p.add(fBasis, "%v", err)
			}
			l.Basis = v
		case fAt, fRecordedAt:
			t, err := parseTime(v, fv.col.Hint, lk.loc)
			if err != nil {
				p.add(fv.col.def.name, "%v", err)
			}
			if fv.col.def.name == fAt {
				l.At = t.Format(time.RFC3339Nano)
			} else {
				l.RecordedAt = t.Format(time.RFC3339Nano)
			}
		case fSource:
			l.Source = v
		case fTextVersion:
			l.TextVersion = v
		case prefixEvidence:
			if l.Evidence == nil {
				l.Evidence = map[string]string{}
			}
			l.Evidence[fv.col.dyn] = v
		}
	}
	if len(p.msgs) == 0 && kind.Scoped() {
		if l.Channel == "" {
			p.add(fChannel, "is needed for a %s event", kind)
		}
		if l.Purpose == "" {
			p.add(fPurpose, "is needed for a %s event", kind)
		}
	}
	return row
}
