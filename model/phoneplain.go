package model

import "github.com/nyaruka/phonenumbers"

// The common shapes of a phone number, read without the general parser.
//
// phonenumbers.Parse runs several regular expressions over every number
// (~15 µs), which was most of the time of a bulk import of contacts. Most
// numbers are written in one of two shapes: nationally with the trunk
// prefix ("0151 23456789", "030/1234567") or internationally with the
// region's own country code ("+49 151 23456789"), with digits and the
// separators ' ', '-' and '/'. For those, in the regions listed below, the
// parser's result is simple: it strips exactly one leading "0" (the
// region's only national prefix) or the "+CC", and nothing else — these
// characters can write no extension, carrier code or second number.
// plainPhone builds that result directly; normalizePhone keeps it only when
// the number is valid and otherwise asks the parser, so errors and
// unusual numbers are the parser's (TestPlainPhoneAgreesWithTheParser).

// plainRegions are the regions where plainPhone applies, with their
// country calling codes: their national prefix for parsing is exactly "0"
// with no transform rule, they are the main region of their code, and no
// prefix of the code is a code itself (TestPlainRegionsMetadata checks
// this against the library's metadata).
var plainRegions = map[string]string{
	"DE": "49", "AT": "43", "CH": "41", "FR": "33", "NL": "31", "BE": "32", "SE": "46",
}

// plainPhone reads s in one of the plain shapes into num; false if s has
// another shape (the caller then parses it in full).
func plainPhone(s, region string, num *phonenumbers.PhoneNumber) bool {
	cc, ok := plainRegions[region]
	if !ok || len(s) < 3 || len(s) > 40 {
		return false
	}
	intl := s[0] == '+'
	if !intl && s[0] != '0' {
		return false
	}
	if last := s[len(s)-1]; last < '0' || last > '9' {
		return false
	}
	var digits [32]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(digits) {
				return false
			}
			digits[n] = c
			n++
		case i == 0 && intl:
		case (c == ' ' || c == '-' || c == '/') && n > 0:
		default:
			return false
		}
	}
	var nsn []byte
	if intl {
		if n <= len(cc) || string(digits[:len(cc)]) != cc {
			return false
		}
		nsn = digits[len(cc):n]
	} else {
		nsn = digits[1:n] // after the national prefix "0"
	}
	// A "0" next is an international prefix ("00…") or a national prefix
	// after the country code ("+49 0…"), which the parser handles.
	if len(nsn) < 2 || len(nsn) > 17 || nsn[0] == '0' {
		return false
	}
	var v uint64
	for _, d := range nsn {
		v = v*10 + uint64(d-'0')
	}
	code := int32(0)
	for i := 0; i < len(cc); i++ {
		code = code*10 + int32(cc[i]-'0')
	}
	num.CountryCode, num.NationalNumber = &code, &v
	return true
}
