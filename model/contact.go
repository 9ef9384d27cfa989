package model

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is the phone region assumed for numbers written without a
// country code, unless the store's settings say otherwise.
const DefaultRegion = "DE"

// NormalizeEmail returns the form used for matching and indexing: trimmed
// and lower-cased. It does not check syntax; see ValidateEmail.
func NormalizeEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// ValidateEmail checks an address as a person would type it into a form: a
// bare addr-spec (no display name), a domain with a dot, no spaces.
func ValidateEmail(s string) error {
	t := strings.TrimSpace(s)
	if t == "" {
		return fmt.Errorf("is empty")
	}
	if len(t) > 254 {
		return fmt.Errorf("is longer than 254 characters")
	}
	if !plainAddrSpec(t) {
		a, err := mail.ParseAddress(t)
		if err != nil || a.Name != "" || a.Address != t {
			return fmt.Errorf("%q is not a valid email address", s)
		}
	}
	at := strings.LastIndexByte(t, '@')
	domain := t[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return fmt.Errorf("%q has no valid domain", s)
	}
	return nil
}

// plainAddrSpec reports whether s is a bare addr-spec of two dot-atoms in
// printable ASCII (local@domain, no quotes, comments or brackets), which
// mail.ParseAddress would accept as it is: the common case, checked
// without the parser's allocations.
func plainAddrSpec(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && dotAtom(s[:at]) && dotAtom(s[at+1:])
}

// dotAtom reports whether s is atext ASCII characters in dot-separated,
// non-empty runs (RFC 5322 dot-atom-text).
func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if s[i-1] == '.' {
				return false
			}
		case c < '!' || c > '~':
			return false
		case strings.IndexByte(`()<>[]:;@\,"`, c) >= 0:
			return false
		}
	}
	return true
}

// NormalizePhone parses a phone number written in any common way and returns
// it in E.164 ("+4930123456"). Numbers without a country code are read in
// the given region (ISO 3166 alpha-2, e.g. "DE").
func NormalizePhone(s, region string) (string, error) {
	n, _, err := normalizePhone(s, region)
	return n, err
}

// normalizePhone also tells whether the number is (or may be) mobile.
func normalizePhone(s, region string) (e164 string, mobile bool, err error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", false, fmt.Errorf("is empty")
	}
	if region == "" {
		region = DefaultRegion
	}
	num := new(phonenumbers.PhoneNumber)
	// A number is valid exactly when it has a type (IsValidNumber asks
	// the same question of the same metadata); asking once halves the
	// pattern matching, which dominates bulk imports.
	typ := phonenumbers.UNKNOWN
	if plainPhone(t, region, num) {
		typ = numberType(num)
	}
	if typ == phonenumbers.UNKNOWN {
		// Not a plain shape, or not valid: the parser decides (and says why).
		num = new(phonenumbers.PhoneNumber)
		if err := phonenumbers.ParseToNumber(t, region, num); err != nil {
			return "", false, fmt.Errorf("%q is not a phone number", s)
		}
		typ = numberType(num)
	}
	switch typ {
	case phonenumbers.UNKNOWN:
		return "", false, fmt.Errorf("%q is not a valid phone number", s)
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		mobile = true
	}
	return phonenumbers.Format(num, phonenumbers.E164), mobile, nil
}

// IsE164 reports whether s is already a valid number in E.164 form.
func IsE164(s string) bool {
	if !strings.HasPrefix(s, "+") {
		return false
	}
	n, err := NormalizePhone(s, DefaultRegion)
	return err == nil && n == s
}

// IsMobile reports whether an E.164 number belongs to a mobile range (or a
// range that may be mobile), which SMS and messengers need.
func IsMobile(e164 string) bool {
	var num phonenumbers.PhoneNumber
	if err := phonenumbers.ParseToNumber(e164, DefaultRegion, &num); err != nil {
		return false
	}
	switch numberType(&num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		return true
	}
	return false
}

var postalPatterns = map[string]*regexp.Regexp{
	"DE": regexp.MustCompile(`^\d{5}$`),
	"AT": regexp.MustCompile(`^\d{4}$`),
	"CH": regexp.MustCompile(`^\d{4}$`),
	"LI": regexp.MustCompile(`^\d{4}$`),
	"BE": regexp.MustCompile(`^\d{4}$`),
	"DK": regexp.MustCompile(`^\d{4}$`),
	"LU": regexp.MustCompile(`^\d{4}$`),
	"NL": regexp.MustCompile(`^\d{4} ?[A-Z]{2}$`),
	"FR": regexp.MustCompile(`^\d{5}$`),
	"IT": regexp.MustCompile(`^\d{5}$`),
	"ES": regexp.MustCompile(`^\d{5}$`),
	"PL": regexp.MustCompile(`^\d{2}-\d{3}$`),
	"CZ": regexp.MustCompile(`^\d{3} ?\d{2}$`),
	"SE": regexp.MustCompile(`^\d{3} ?\d{2}$`),
	"PT": regexp.MustCompile(`^\d{4}-\d{3}$`),
	"US": regexp.MustCompile(`^\d{5}(-\d{4})?$`),
	"GB": regexp.MustCompile(`^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$`),
}

// digitPostalCodes are the countries of postalPatterns whose pattern is
// `^\d{n}$`, with n (TestDigitPostalCodes keeps the two in step).
var digitPostalCodes = map[string]int{
	"DE": 5, "AT": 4, "CH": 4, "LI": 4, "BE": 4, "DK": 4, "LU": 4, "FR": 5, "IT": 5, "ES": 5,
}

// ValidPostalCode reports whether code fits the postal code format of the
// country. Countries Karton does not know are accepted when the code is
// short and plain.
func ValidPostalCode(country, code string) bool {
	code = strings.ToUpper(strings.TrimSpace(code))
	country = strings.ToUpper(country)
	if n, ok := digitPostalCodes[country]; ok {
		// The pattern is n digits: checked without the regexp, which an
		// import asks for every customer several times.
		if len(code) != n {
			return false
		}
		for i := 0; i < n; i++ {
			if code[i] < '0' || code[i] > '9' {
				return false
			}
		}
		return true
	}
	if p, ok := postalPatterns[country]; ok {
		return p.MatchString(code)
	}
	if code == "" || len(code) > 10 {
		return false
	}
	for _, r := range code {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ' && r != '-' {
			return false
		}
	}
	return true
}

// KnownCountry reports whether Karton has a postal code rule for the
// ISO 3166 alpha-2 country code.
func KnownCountry(country string) bool {
	_, ok := postalPatterns[strings.ToUpper(country)]
	return ok
}

// Fold turns a name into its sort and search form: lower case, German
// umlauts and ß spelled out the way DIN 5007-1 files them (ä→a, ß→ss),
// other accents dropped, runs of spaces collapsed. "Müller" and "Muller"
// sort together; "Straße" finds "strasse".
func Fold(s string) string {
	t := strings.TrimSpace(s)
	if foldsToItself(t) {
		return t // most names and cities: no copy
	}
	var b strings.Builder
	b.Grow(len(t))
	space := false
	for _, r := range t {
		if r < 0x80 && r != ' ' && (r < '\t' || r > '\r') {
			// ASCII and not a space; foldTable holds no ASCII.
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			space = false
			b.WriteByte(byte(r))
			continue
		}
		if unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		if f, ok := foldTable[r]; ok {
			b.WriteString(f)
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// foldsToItself reports whether Fold would return s unchanged: trimmed
// ASCII without capitals, other spaces than ' ', or two spaces in a row.
func foldsToItself(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80, 'A' <= c && c <= 'Z', '\t' <= c && c <= '\r':
			return false
		case c == ' ' && i > 0 && s[i-1] == ' ':
			return false
		}
	}
	return true
}

var foldTable = map[rune]string{
	'ä': "a", 'Ä': "a", 'ö': "o", 'Ö': "o", 'ü': "u", 'Ü': "u", 'ß': "ss", 'ẞ': "ss",
	'á': "a", 'à': "a", 'â': "a", 'ã': "a", 'å': "a", 'Á': "a", 'À': "a", 'Â': "a", 'Å': "a",
	'é': "e", 'è': "e", 'ê': "e", 'ë': "e", 'É': "e", 'È': "e", 'Ê': "e",
	'í': "i", 'ì': "i", 'î': "i", 'ï': "i", 'Í': "i",
	'ó': "o", 'ò': "o", 'ô': "o", 'õ': "o", 'ø': "o", 'Ó': "o", 'Ø': "o",
	'ú': "u", 'ù': "u", 'û': "u", 'Ú': "u",
	'ç': "c", 'Ç': "c", 'ñ': "n", 'Ñ': "n", 'ł': "l", 'Ł': "l", 'ś': "s", 'š': "s", 'Š': "s",
	'ž': "z", 'Ž': "z", 'ź': "z", 'ż': "z", 'č': "c", 'Č': "c", 'ć': "c", 'ř': "r", 'ě': "e",
	'ý': "y", 'ą': "a", 'ę': "e", 'ń': "n", 'æ': "ae", 'œ': "oe",
}

// Date is a calendar date without a time of day or zone, used for birth
// dates. The zero Date means "unknown".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return DateOf(t), nil
}

// DateOf returns the UTC calendar date of t.
func DateOf(t time.Time) Date {
	y, m, d := t.UTC().Date()
	return Date{y, m, d}
}

func (d Date) IsZero() bool { return d == Date{} }

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Time returns midnight UTC of the date.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// AgeAt returns the age in whole years on the UTC date of t. Someone born
// on 29 February turns a year older on 1 March in non-leap years.
func (d Date) AgeAt(t time.Time) int {
	if d.IsZero() {
		return -1
	}
	y, m, day := t.UTC().Date()
	age := y - d.Year
	if m < d.Month || (m == d.Month && day < d.Day) {
		age--
	}
	return age
}
