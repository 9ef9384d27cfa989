package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMoney(t *testing.T) {
	for in, want := range map[string]Money{
		"49.99":          4999,
		"49,99":          4999,
		"12":             1200,
		"12.5":           1250,
		",5":             50,
		"1.234,56":       123456,
		"1,234.56":       123456,
		"1.000":          100000, // a German thousands separator, not three decimals
		"1 234,5":        123450,
		"1\u00a0234,56":  123456,
		"1'234.56":       123456,
		"CHF 1'000":      100000,
		"-12,3":          -1230,
		"-€0.05":         -5, // as Format writes it
		"€ -0,05":        -5,
		"-CHF 1'000.50":  -100050,
		"€ 12":           1200,
		"12 EUR":         1200,
		" 7,00 € ":       700,
		"0":              0,
		"92233720368547": 9223372036854700,
	} {
		got, err := ParseMoney(in)
		require.NoError(t, err, "%q", in)
		assert.Equal(t, want, got, "%q", in)
	}
	for _, in := range []string{"", " ", "€", "-", ".", "abc", "12a", "1.2.3,4x", "--5", "-€-5", "€--5", "46116860184273880"} {
		_, err := ParseMoney(in)
		assert.Error(t, err, "%q", in)
	}
}

func BenchmarkParseMoney(b *testing.B) {
	texts := []string{"49.99", "1.234,56", "12", "€ 7,50"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := ParseMoney(texts[i%len(texts)]); err != nil {
			b.Fatal(err)
		}
	}
}
