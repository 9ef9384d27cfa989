package model

import (
	"strings"
	"unicode/utf8"
)

// MaskEmail keeps the first letter of the local part and of the domain and
// the top-level domain: "jana.meier@web.de" → "j***@w***.de".
func MaskEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return maskText(s)
	}
	local, domain := s[:at], s[at+1:]
	tld := ""
	if dot := strings.LastIndexByte(domain, '.'); dot > 0 {
		domain, tld = domain[:dot], domain[dot:]
	}
	return firstRune(local) + "***@" + firstRune(domain) + "***" + tld
}

// MaskPhone keeps the country code and the last two digits:
// "+4915112345612" → "+49 *** ***12".
func MaskPhone(s string) string {
	if len(s) < 5 {
		return "***"
	}
	cc := s[:3]
	if !strings.HasPrefix(s, "+") {
		cc = ""
	}
	return strings.TrimSpace(cc + " *** ***" + s[len(s)-2:])
}

// MaskName keeps the initial: "Jürgen" → "J.".
func MaskName(s string) string {
	if s == "" {
		return ""
	}
	return firstRune(s) + "."
}

func maskText(s string) string {
	if s == "" {
		return ""
	}
	return firstRune(s) + "***"
}

func firstRune(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || n == 0 {
		return ""
	}
	return string(r)
}

// Masked returns a copy of the customer with personal data masked, for
// users who may see aggregates but not people (analyst, viewer). Ids,
// aggregates, tags and the city stay so that analyses keep working.
func (c Customer) Masked() Customer {
	c.FirstName = MaskName(c.FirstName)
	c.LastName = MaskName(c.LastName)
	c.Email = MaskEmail(c.Email)
	c.Phone = MaskPhone(c.Phone)
	if c.Phone == "***" {
		c.Phone = ""
	}
	c.Address.Street = maskText(c.Address.Street)
	if len(c.Address.PostalCode) > 2 {
		c.Address.PostalCode = c.Address.PostalCode[:2] + strings.Repeat("*", len(c.Address.PostalCode)-2)
	}
	if !c.BirthDate.IsZero() {
		c.BirthDate = Date{Year: c.BirthDate.Year, Month: 1, Day: 1}
	}
	c.Attributes = nil
	c.Sources = nil
	return c
}
