package importer

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"karton/model"
)

// Value formats. A column's hint says how to read its numbers and dates
// where the text alone is ambiguous; German header names (Betrag, Datum,
// Geburtsdatum, …) imply HintGerman.
const (
	HintNone    = ""
	HintGerman  = "de"  // numbers 1.234,56; dates 31.12.2025 (and D/M/Y with slashes)
	HintEnglish = "en"  // numbers 1,234.56; dates with slashes M/D/Y
	HintDMY     = "dmy" // dates with slashes: day/month/year
	HintMDY     = "mdy" // dates with slashes: month/day/year
)

func validHint(h string) bool {
	switch h {
	case HintNone, HintGerman, HintEnglish, HintDMY, HintMDY:
		return true
	}
	return false
}

// cleanText trims a value and refuses what is not text: invalid UTF-8
// (usually a file in another encoding than detected) and control
// characters other than tab and newline.
func cleanText(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("is not valid UTF-8 text (if the file is in Windows-1252 or ISO-8859-1, pass --encoding)")
	}
	for _, r := range s {
		if r != '\t' && r != '\n' && r != '\r' && unicode.IsControl(r) {
			return "", fmt.Errorf("contains the control character %U", r)
		}
	}
	return s, nil
}

// parseMoney reads an amount in the column's number format. Without a hint
// model.ParseMoney decides by the last separator (a '.' or ',' followed by
// one or two digits is the decimal point).
func parseMoney(s, hint string) (model.Money, error) {
	t := strings.TrimSpace(s)
	switch hint {
	case HintGerman:
		if strings.Count(t, ",") > 1 {
			return 0, fmt.Errorf("%q is not an amount in German notation like 1.234,56", s)
		}
		t = strings.ReplaceAll(t, ".", "")
		t = strings.Replace(t, ",", ".", 1)
	case HintEnglish:
		if strings.Count(t, ".") > 1 {
			return 0, fmt.Errorf("%q is not an amount in English notation like 1,234.56", s)
		}
		t = strings.ReplaceAll(t, ",", "")
	}
	if hint == HintGerman || hint == HintEnglish {
		if i := strings.IndexByte(t, '.'); i >= 0 && len(t)-i-1 > 2 {
			return 0, fmt.Errorf("%q has more than two decimal places", s)
		}
	}
	m, err := model.ParseMoney(t)
	if err != nil {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	return m, nil
}

// parseInt reads a whole number, allowing thousands separators that fit
// the hint.
func parseInt(s, hint string) (int64, error) {
	t := strings.TrimSpace(s)
	switch hint {
	case HintGerman:
		t = strings.ReplaceAll(t, ".", "")
	case HintEnglish:
		t = strings.ReplaceAll(t, ",", "")
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return v, nil
}

// parseBool reads yes/no in English or German, 1/0, x (a ticked box) or
// true/false.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "y", "ja", "j", "x", "wahr":
		return true, nil
	case "0", "false", "no", "n", "nein", "falsch", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not yes or no (true/false, ja/nein, 1/0)", s)
}

// civil is a calendar date with an optional time of day.
type civil struct {
	y, mo, d   int
	h, mi, sec int
	nsec       int
	hasTime    bool
	zoned      bool
	instant    time.Time // set when the text carried a zone
}

// parseCivil reads the date formats imports meet:
//
//	2025-12-31, 2025-12-31 14:30[:05], 2025-12-31T14:30:05 (ISO 8601)
//	2025-12-31T14:30:05Z, …+01:00 (RFC 3339: an instant)
//	31.12.2025, 1.2.2025, 31.12.2025 14:30[:05] (German)
//	20251231 (compact, as in many log exports)
//	31/12/2025 or 12/31/2025: with slashes the order must be unambiguous
//	(a part above 12) or given by the hint (dmy, de; mdy, en)
//
// Two-digit years are refused: 01.02.65 may be 1965 or 2065.
func parseCivil(s, hint string) (civil, error) {
	t := strings.TrimSpace(s)
	var c civil
	if t == "" {
		return c, fmt.Errorf("is empty")
	}
	if ts, err := time.Parse(time.RFC3339Nano, t); err == nil {
		return civil{instant: ts, zoned: true, hasTime: true}, nil
	}
	datePart, timePart, _ := strings.Cut(strings.Replace(t, "T", " ", 1), " ")
	timePart = strings.TrimSpace(timePart)
	var err error
	switch {
	case len(datePart) == 8 && allDigits(datePart):
		c.y, _ = strconv.Atoi(datePart[:4])
		c.mo, _ = strconv.Atoi(datePart[4:6])
		c.d, _ = strconv.Atoi(datePart[6:])
	case strings.Count(datePart, "-") == 2:
		p := strings.Split(datePart, "-")
		if len(p[0]) != 4 {
			return c, fmt.Errorf("%q is not a date (write YYYY-MM-DD)", s)
		}
		c.y, c.mo, c.d, err = atoi3(p[0], p[1], p[2])
	case strings.Count(datePart, ".") == 2:
		p := strings.Split(datePart, ".")
		if p[2] == "" {
			return c, fmt.Errorf("%q has no year; write the year in full (31.12.2025)", s)
		}
		if len(p[2]) != 4 {
			return c, fmt.Errorf("%q has a two-digit year; write the year in full (31.12.2025)", s)
		}
		c.d, c.mo, c.y, err = atoi3(p[0], p[1], p[2])
	case strings.Count(datePart, "/") == 2:
		p := strings.Split(datePart, "/")
		if len(p[2]) != 4 {
			return c, fmt.Errorf("%q has a two-digit year; write the year in full", s)
		}
		var a, b int
		a, b, c.y, err = atoi3(p[0], p[1], p[2])
		if err != nil {
			break
		}
		switch {
		case a > 12 && b <= 12:
			c.d, c.mo = a, b
		case b > 12 && a <= 12:
			c.mo, c.d = a, b
		case hint == HintDMY || hint == HintGerman:
			c.d, c.mo = a, b
		case hint == HintMDY || hint == HintEnglish:
			c.mo, c.d = a, b
		default:
			return c, fmt.Errorf("%q is ambiguous (day/month or month/day?); map the column with :dmy or :mdy, e.g. --map Datum=at:dmy", s)
		}
	default:
		return c, fmt.Errorf("%q is not a date (YYYY-MM-DD, DD.MM.YYYY or YYYYMMDD)", s)
	}
	if err != nil {
		return c, fmt.Errorf("%q is not a date", s)
	}
	if c.mo < 1 || c.mo > 12 || c.d < 1 || c.d > daysIn(c.y, c.mo) || c.y < 1 || c.y > 9999 {
		return c, fmt.Errorf("%q is not a calendar date", s)
	}
	if timePart != "" {
		if err := parseClock(timePart, &c); err != nil {
			return c, fmt.Errorf("%q: %v", s, err)
		}
	}
	return c, nil
}

func parseClock(s string, c *civil) error {
	p := strings.Split(s, ":")
	if len(p) < 2 || len(p) > 3 {
		return fmt.Errorf("time of day %q is not HH:MM or HH:MM:SS", s)
	}
	var err error
	if c.h, err = strconv.Atoi(p[0]); err != nil || c.h < 0 || c.h > 23 {
		return fmt.Errorf("hour %q is not 0–23", p[0])
	}
	if c.mi, err = strconv.Atoi(p[1]); err != nil || c.mi < 0 || c.mi > 59 || len(p[1]) != 2 {
		return fmt.Errorf("minute %q is not 00–59", p[1])
	}
	if len(p) == 3 {
		secs, frac, _ := strings.Cut(p[2], ".")
		if c.sec, err = strconv.Atoi(secs); err != nil || c.sec < 0 || c.sec > 59 || len(secs) != 2 {
			return fmt.Errorf("second %q is not 00–59", p[2])
		}
		if frac != "" {
			if len(frac) > 9 || !allDigits(frac) {
				return fmt.Errorf("fraction of a second %q is not digits", frac)
			}
			n, _ := strconv.Atoi((frac + "000000000")[:9])
			c.nsec = n
		}
	}
	c.hasTime = true
	return nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func atoi3(a, b, c string) (int, int, int, error) {
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	z, err3 := strconv.Atoi(c)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, 0, fmt.Errorf("not numbers")
	}
	return x, y, z, nil
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseTime reads a point in time; a date without a time of day is
// midnight, and times without a zone are in loc.
func parseTime(s, hint string, loc *time.Location) (time.Time, error) {
	c, err := parseCivil(s, hint)
	if err != nil {
		return time.Time{}, err
	}
	if c.zoned {
		return c.instant.UTC(), nil
	}
	return time.Date(c.y, time.Month(c.mo), c.d, c.h, c.mi, c.sec, c.nsec, loc).UTC(), nil
}

// parseBirthDate reads a calendar date (a time of day is refused).
func parseBirthDate(s, hint string) (model.Date, error) {
	c, err := parseCivil(s, hint)
	if err != nil {
		return model.Date{}, err
	}
	if c.hasTime {
		return model.Date{}, fmt.Errorf("%q is a point in time, not a calendar date", s)
	}
	return model.Date{Year: c.y, Month: time.Month(c.mo), Day: c.d}, nil
}

// countryCodes maps country names as files write them to ISO codes.
var countryCodes = map[string]string{
	"deutschland": "DE", "germany": "DE", "bundesrepublik deutschland": "DE", "brd": "DE",
	"osterreich": "AT", "austria": "AT", "schweiz": "CH", "switzerland": "CH", "suisse": "CH",
	"liechtenstein": "LI", "niederlande": "NL", "netherlands": "NL", "holland": "NL",
	"belgien": "BE", "belgium": "BE", "luxemburg": "LU", "luxembourg": "LU",
	"frankreich": "FR", "france": "FR", "italien": "IT", "italy": "IT", "spanien": "ES", "spain": "ES",
	"polen": "PL", "poland": "PL", "tschechien": "CZ", "czechia": "CZ", "czech republic": "CZ",
	"danemark": "DK", "denmark": "DK", "schweden": "SE", "sweden": "SE", "portugal": "PT",
	"vereinigtes konigreich": "GB", "united kingdom": "GB", "grossbritannien": "GB", "uk": "GB",
	"usa": "US", "vereinigte staaten": "US", "united states": "US",
}

// parseCountry accepts an ISO alpha-2 code or a common country name.
func parseCountry(s string) (string, error) {
	t := strings.TrimSpace(s)
	if len(t) == 2 {
		return strings.ToUpper(t), nil
	}
	if c, ok := countryCodes[model.Fold(t)]; ok {
		return c, nil
	}
	return "", fmt.Errorf("%q is not a country code like DE (or a country name Karton knows)", s)
}

// splitTags reads a list of tags separated by commas, semicolons or '|'.
func splitTags(s string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '|' }) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
