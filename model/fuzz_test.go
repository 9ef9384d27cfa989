package model

import (
	"testing"
	"unicode/utf8"
)

// Amounts typed by a person never crash the parser, and what it accepts
// prints back as the same amount.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"12", "12.5", "1,234.56", "1.234,56", "€ -0,05", "-", ".", "9223372036854775807", "1e5", " 12 EUR "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err != nil {
			return
		}
		back, err := ParseMoney(m.Format("EUR"))
		if err != nil || back != m {
			t.Fatalf("%q → %d prints as %q, which reads back as %d (%v)", s, m, m.Format("EUR"), back, err)
		}
	})
}

// A template typed into a creative never crashes parsing or rendering,
// and rendering with every field set leaves no placeholder syntax error.
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"Hallo {{first_name}}", "{{first_name|Kunde}}", "{{", "}}", "{{ unknown }}", "{{first_name|}}x{{last_name}}", "\xff{{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tpl, err := ParseTemplate(s)
		if err != nil {
			return
		}
		var full, empty TemplateFields
		for _, fld := range tpl.Fields() {
			full.Set(fld, "Jana")
		}
		out, err := tpl.Render(full)
		if err != nil {
			t.Fatalf("%q with every field set: %v", s, err)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("%q renders invalid UTF-8 %q", s, out)
		}
		_, _ = tpl.Render(empty)
	})
}

// Dates typed by a person never crash the parser, and what it accepts
// prints back as itself.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-11-24", " 2026-02-29", "0000-01-01", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		back, err := ParseDate(d.String())
		if err != nil || back != d {
			t.Fatalf("%q → %v → %q → %v (%v)", s, d, d.String(), back, err)
		}
	})
}
