package model

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is an amount in minor units of its currency (cents for EUR), so sums
// are exact. The currency travels beside it as an ISO 4217 code.
type Money int64

// DefaultCurrency is used where a record does not name one.
const DefaultCurrency = "EUR"

var currencySymbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF "}

// Format renders the amount with thousands separators and the currency
// symbol, e.g. "€1,234.56" or "-€0.05".
func (m Money) Format(currency string) string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign = "-"
		v = -v
	}
	sym, ok := currencySymbols[currency]
	if !ok {
		sym = currency + " "
	}
	return fmt.Sprintf("%s%s%s.%02d", sign, sym, groupThousands(v/100), v%100)
}

// FormatShort renders whole units only ("€12.3k" style for large values), for
// tight table cells and tiles.
func (m Money) FormatShort(currency string) string {
	sym, ok := currencySymbols[currency]
	if !ok {
		sym = currency + " "
	}
	v := float64(m) / 100
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%s%s%.1fM", sign, sym, v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%s%s%.1fk", sign, sym, v/1e3)
	default:
		return fmt.Sprintf("%s%s%s", sign, sym, groupThousands(int64(v)))
	}
}

func groupThousands(v int64) string {
	s := strconv.FormatInt(v, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// dropGroupSeparators removes the thousands separators an amount may
// hold: full stops, commas, spaces, no-break spaces and apostrophes. Most have none and
// come back as they are, without an allocation.
func dropGroupSeparators(s string) string {
	if !strings.ContainsAny(s, ".,' \u00a0") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch r {
		case '.', ',', ' ', '\u00a0', '\'':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ParseMoney reads an amount typed by a person: "12", "12.5", "1,234.56"
// (English) or "1.234,56" (German). The decimal separator is the last '.' or
// ',' followed by one or two digits.
func ParseMoney(s string) (Money, error) {
	t := strings.TrimSpace(s)
	// The sign may stand before the symbol, as Format writes it ("-€0.05"),
	// or after it ("€ -0,05"), but only once.
	neg := false
	if rest, ok := strings.CutPrefix(t, "-"); ok {
		neg, t = true, strings.TrimSpace(rest)
	}
	for _, sym := range []string{"€", "$", "£", "EUR", "USD", "GBP", "CHF"} {
		t = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(t, sym), sym))
	}
	if rest, ok := strings.CutPrefix(t, "-"); ok && !neg {
		neg, t = true, rest
	}
	if t == "" {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	intPart, frac := t, ""
	if i := strings.LastIndexAny(t, ".,"); i >= 0 && len(t)-i-1 <= 2 && len(t)-i-1 >= 1 {
		intPart, frac = t[:i], t[i+1:]
	}
	intPart = dropGroupSeparators(intPart)
	if intPart == "" {
		if frac == "" { // "-", "." and the like hold no digits
			return 0, fmt.Errorf("%q is not an amount", s)
		}
		intPart = "0"
	}
	whole, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || whole < 0 {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	cents, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	if whole > (1<<62)/100 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	v := whole*100 + cents
	if neg {
		v = -v
	}
	return Money(v), nil
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}
