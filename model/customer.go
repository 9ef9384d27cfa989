package model

import (
	"strings"
	"time"
	"unicode/utf8"
)

// ContactType tells a consumer from a business contact; the phone rules
// differ (PRODUCT.md §2 rules 12 and 13).
type ContactType string

const (
	Consumer ContactType = "consumer"
	Business ContactType = "business"
)

// Address is a postal address. Country is ISO 3166 alpha-2 ("DE").
type Address struct {
	Street     string
	PostalCode string
	City       string
	Country    string
}

// Complete reports whether a letter could be addressed with it.
func (a Address) Complete() bool {
	return strings.TrimSpace(a.Street) != "" && strings.TrimSpace(a.PostalCode) != "" &&
		strings.TrimSpace(a.City) != "" && strings.TrimSpace(a.Country) != ""
}

// IsZero reports whether no field is set.
func (a Address) IsZero() bool { return a == Address{} }

// SourceRef is a customer's identifier in another system ("shop", "crm").
type SourceRef struct {
	Source     string
	ExternalID string
}

// Customer is one person (or business contact) Karton knows. Aggregates at
// the end are maintained by the store as purchases and interactions arrive.
type Customer struct {
	ID         CustomerID
	Type       ContactType
	Salutation string // as the customer wishes to be addressed: "Frau", "Herr", "Mx", ""
	FirstName  string
	LastName   string
	Company    string // business contacts
	Email      string
	Phone      string // E.164
	Address    Address
	BirthDate  Date

	Attributes  map[string]string // free facts: "segment_hint", "loyalty_tier", ...
	Preferences map[string]string // stated by the customer: "language", "frequency", ...
	Tags        []string
	Sources     []SourceRef

	CreatedAt time.Time
	UpdatedAt time.Time

	// Erased is set by erasure: personal data is gone, the id stays so the
	// ledger remains pseudonymous but intact.
	Erased   bool
	ErasedAt time.Time
	// Suppressed is set when a contact point matches the suppression list of
	// an erased person; rule 1 denies until a new explicit opt-in lifts it.
	Suppressed bool

	// Maintained aggregates.
	LastActivityAt  time.Time
	PurchaseCount   int
	Revenue         Money // sum of purchases in the store currency
	FirstPurchaseAt time.Time
	LastPurchaseAt  time.Time
	// EmailFromPurchase records that the email address was collected with a
	// purchase and the objection notice was given then (UWG §7(3) facts).
	EmailFromPurchase bool
	// ContactPoints are the channel kinds the customer can be reached on,
	// computed by the store whenever contact data is written, so that a
	// decision never parses a phone number (see ContactPointsOf).
	ContactPoints ContactPoints

	// phoneChecked and phoneMobile remember the result of Normalize's phone
	// parse, so Validate and ContactPointsOf need not parse it again
	// (parsing costs several microseconds).
	phoneChecked string
	phoneMobile  bool
}

// DisplayName is "First Last", falling back to the company or the email.
func (c *Customer) DisplayName() string {
	n := strings.TrimSpace(c.FirstName + " " + c.LastName)
	switch {
	case c.Erased:
		return "(erased)"
	case n != "":
		return n
	case c.Company != "":
		return c.Company
	default:
		return c.Email
	}
}

// Normalize trims fields and rewrites contact points into their canonical
// form (phone to E.164 in the given default region). It returns the same
// problems Validate would for fields it cannot normalise.
func (c *Customer) Normalize(region string) error {
	p := problems{entity: "customer"}
	c.FirstName = strings.TrimSpace(c.FirstName)
	c.LastName = strings.TrimSpace(c.LastName)
	c.Company = strings.TrimSpace(c.Company)
	c.Salutation = strings.TrimSpace(c.Salutation)
	c.Email = strings.TrimSpace(c.Email)
	c.Address.Street = strings.TrimSpace(c.Address.Street)
	c.Address.PostalCode = strings.ToUpper(strings.TrimSpace(c.Address.PostalCode))
	c.Address.City = strings.TrimSpace(c.Address.City)
	c.Address.Country = strings.ToUpper(strings.TrimSpace(c.Address.Country))
	if c.Address.Country == "" && (c.Address.Street != "" || c.Address.City != "" || c.Address.PostalCode != "") {
		c.Address.Country = region
	}
	if c.Phone != "" && c.Phone != c.phoneChecked {
		if n, mobile, err := normalizePhone(c.Phone, region); err == nil {
			c.Phone, c.phoneChecked, c.phoneMobile = n, n, mobile
		} else {
			p.add("phone", "%v", err)
		}
	}
	if c.Type == "" {
		c.Type = Consumer
		if c.Company != "" {
			c.Type = Business
		}
	}
	return p.err()
}

// Validate checks a customer record; now is used for the birth date check.
func (c *Customer) Validate(now time.Time) error {
	p := problems{entity: "customer"}
	if c.Erased {
		return nil // an erased record holds no personal data left to check
	}
	checkText := func(field, v string, max int, lines bool) {
		if !utf8.ValidString(v) {
			p.add(field, "is not valid UTF-8 text")
		} else if utf8.RuneCountInString(v) > max {
			p.add(field, "is longer than %d characters", max)
		} else {
			p.control(field, v, lines)
		}
	}
	p.plain("salutation", c.Salutation)
	p.plain("address.postal_code", c.Address.PostalCode)
	checkText("first_name", c.FirstName, 100, false)
	checkText("last_name", c.LastName, 100, false)
	checkText("company", c.Company, 200, false)
	checkText("address.street", c.Address.Street, 200, true) // "Am Markt 1\nHinterhaus"
	checkText("address.city", c.Address.City, 100, false)
	if c.FirstName == "" && c.LastName == "" && c.Company == "" && c.Email == "" && c.Phone == "" && len(c.Sources) == 0 {
		// An id in a source system identifies a customer too: a purchase log
		// may know its buyers by nothing else.
		p.add("name", "is empty and there is no company, email, phone or source id to identify the customer")
	}
	switch c.Type {
	case Consumer:
	case Business:
		if strings.TrimSpace(c.Company) == "" {
			p.add("company", "is needed for a business contact")
		}
	default:
		p.add("type", "%q is not consumer or business", c.Type)
	}
	if c.Email != "" {
		if err := ValidateEmail(c.Email); err != nil {
			p.add("email", "%v", err)
		}
	}
	if c.Phone != "" && c.Phone != c.phoneChecked && !IsE164(c.Phone) {
		p.add("phone", "%q is not a valid phone number in E.164 form (+49…)", c.Phone)
	}
	if !c.Address.IsZero() {
		if len(c.Address.Country) != 2 {
			p.add("address.country", "%q is not a two-letter country code like DE", c.Address.Country)
		} else if c.Address.PostalCode != "" && !ValidPostalCode(c.Address.Country, c.Address.PostalCode) {
			p.add("address.postal_code", "%q does not fit the postal codes of %s", c.Address.PostalCode, c.Address.Country)
		}
	}
	if !c.BirthDate.IsZero() {
		age := c.BirthDate.AgeAt(now)
		switch {
		case c.BirthDate.Time().After(now):
			p.add("birth_date", "%s is in the future", c.BirthDate)
		case age > 120:
			p.add("birth_date", "%s is more than 120 years ago", c.BirthDate)
		}
	}
	for k, v := range c.Attributes {
		if !validKey(k) {
			p.add("attributes", "key %q must be 1–40 letters, digits, '_' or '-'", k)
		} else {
			p.plain("attributes."+k, v)
		}
	}
	for k, v := range c.Preferences {
		if !validKey(k) {
			p.add("preferences", "key %q must be 1–40 letters, digits, '_' or '-'", k)
		} else {
			p.plain("preferences."+k, v)
		}
	}
	for _, t := range c.Tags {
		if strings.TrimSpace(t) == "" || len(t) > 40 || strings.ContainsAny(t, ",\x00") {
			p.add("tags", "tag %q must be 1–40 characters without commas", t)
		} else {
			p.plain("tags", t)
		}
	}
	for _, s := range c.Sources {
		if !validSlug(s.Source) || s.ExternalID == "" || len(s.ExternalID) > 100 {
			p.add("sources", "source id %s:%s needs a slug source and an id of 1–100 characters", s.Source, s.ExternalID)
		} else {
			p.plain("sources."+s.Source, s.ExternalID)
		}
	}
	return p.err()
}

func validKey(s string) bool {
	if len(s) == 0 || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// HasTag reports whether the customer carries tag t (case-insensitive).
func (c *Customer) HasTag(t string) bool {
	for _, x := range c.Tags {
		if strings.EqualFold(x, t) {
			return true
		}
	}
	return false
}

// SourceID returns the customer's id in the named source system.
func (c *Customer) SourceID(source string) (string, bool) {
	for _, s := range c.Sources {
		if s.Source == source {
			return s.ExternalID, true
		}
	}
	return "", false
}
