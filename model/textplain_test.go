package model

import (
	"fmt"
	"math/rand/v2"
	"net/mail"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
)

// parsedEmail is ValidateEmail with the parser alone, as the reference.
func parsedEmail(s string) error {
	t := strings.TrimSpace(s)
	if t == "" {
		return fmt.Errorf("is empty")
	}
	if len(t) > 254 {
		return fmt.Errorf("is longer than 254 characters")
	}
	a, err := mail.ParseAddress(t)
	if err != nil || a.Name != "" || a.Address != t {
		return fmt.Errorf("%q is not a valid email address", s)
	}
	at := strings.LastIndexByte(t, '@')
	domain := t[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return fmt.Errorf("%q has no valid domain", s)
	}
	return nil
}

func TestPlainAddrSpecAgreesWithTheParser(t *testing.T) {
	fixed := []string{
		"anna.mueller@example.de", "a@b.c", "A.B+tag@Example.COM", "a..b@example.de", ".a@example.de", "a.@example.de",
		"a@example..de", "a@.example.de", "a@example.de.", "a@@example.de", "a@b@example.de", "\"a b\"@example.de",
		"Anna <anna@example.de>", "anna@example.de (Anna)", "anna@[192.0.2.1]", "anna(at)example.de", "an na@example.de",
		"anna@exämple.de", "ännä@example.de", "anna@example", "@example.de", "anna@", "a!#$%&'*+/=?^_`{|}~-@example.de",
		"anna@ex_ample.de", "anna@example.de,", "anna;@example.de", "anna\\@example.de",
	}
	for _, s := range fixed {
		assert.Equal(t, fmt.Sprint(parsedEmail(s)), fmt.Sprint(ValidateEmail(s)), "%q", s)
	}
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "b", "Z", "0", "9", ".", ".", "@", "-", "_", "+", "!", "~", " ", "\"", "(", ")", "<", ">", "[", "]", ",", ";", ":", "\\", "ä", "\t"}
	plain := 0
	for i := 0; i < 50000; i++ {
		var b strings.Builder
		n := 1 + r.IntN(12)
		letters := alphabet
		if r.IntN(2) == 0 {
			letters = alphabet[:7] // mostly plain
		}
		for range n {
			b.WriteString(letters[r.IntN(len(letters))])
		}
		if r.IntN(2) == 0 {
			b.WriteString([]string{"@example.de", "@ex.de", "@x", "@a..b", ".@a.b", "@[1.2.3.4]"}[r.IntN(6)])
		}
		s := b.String()
		if plainAddrSpec(strings.TrimSpace(s)) {
			plain++
		}
		if !assert.Equal(t, fmt.Sprint(parsedEmail(s)), fmt.Sprint(ValidateEmail(s)), "%q", s) {
			break
		}
	}
	assert.Greater(t, plain, 1000, "the plain path was taken often enough to be tested")
}

// foldedSlowly is Fold without its ASCII paths, as the reference.
func foldedSlowly(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.TrimSpace(s) {
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

func TestFoldAgreesWithTheRuneByRuneFold(t *testing.T) {
	for r := range rune(0x80) {
		_, ok := foldTable[r]
		assert.False(t, ok, "foldTable has ASCII %q", r)
	}
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []string{"a", "Z", "m", "Q", "0", " ", " ", "  ", "\t", "\n", "\r", "ä", "Ö", "ß", "É", "-", ".", "\u00a0", "\u0085", "\xff", "İ", "ﬀ"}
	for i := 0; i < 50000; i++ {
		var b strings.Builder
		for range r.IntN(10) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := b.String()
		if !assert.Equal(t, foldedSlowly(s), Fold(s), "%q", s) {
			break
		}
	}
	for _, s := range []string{"", "müller", "Müller", "anna  maria", "anna maria", " anna ", "ANNA", "straße"} {
		assert.Equal(t, foldedSlowly(s), Fold(s), "%q", s)
	}
}

func TestDigitPostalCodes(t *testing.T) {
	for country, n := range digitPostalCodes {
		p, ok := postalPatterns[country]
		if assert.True(t, ok, country) {
			assert.Equal(t, fmt.Sprintf(`^\d{%d}$`, n), p.String(), country)
		}
	}
	for _, c := range []struct {
		country, code string
		want          bool
	}{{"DE", "10115", true}, {"de", " 10115 ", true}, {"DE", "1011", false}, {"DE", "1011a", false}, {"AT", "1010", true},
		{"DE", "١٠١١٥", false}, {"NL", "1234 AB", true}, {"XX", "AB-12", true}} {
		assert.Equal(t, c.want, ValidPostalCode(c.country, c.code), "%s %q", c.country, c.code)
	}
}
