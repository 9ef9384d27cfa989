package model

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parsedPhone is normalizePhone without the plain shapes: the parser
// alone, as the reference.
func parsedPhone(s, region string) (string, bool, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", false, fmt.Errorf("is empty")
	}
	if region == "" {
		region = DefaultRegion
	}
	num := new(phonenumbers.PhoneNumber)
	if err := phonenumbers.ParseToNumber(t, region, num); err != nil {
		return "", false, fmt.Errorf("%q is not a phone number", s)
	}
	mobile := false
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.UNKNOWN:
		return "", false, fmt.Errorf("%q is not a valid phone number", s)
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		mobile = true
	}
	return phonenumbers.Format(num, phonenumbers.E164), mobile, nil
}

func TestPlainRegionsMetadata(t *testing.T) {
	col, err := phonenumbers.MetadataCollection()
	require.NoError(t, err)
	for region, cc := range plainRegions {
		var md *phonenumbers.PhoneMetadata
		for _, m := range col.Metadata {
			if m.GetId() == region {
				md = m
			}
		}
		require.NotNil(t, md, region)
		assert.Equal(t, "0", md.GetNationalPrefixForParsing(), region)
		assert.Empty(t, md.GetNationalPrefixTransformRule(), region)
		assert.False(t, md.GetLeadingZeroPossible(), region)
		code, err := strconv.Atoi(cc)
		require.NoError(t, err)
		assert.EqualValues(t, code, md.GetCountryCode(), region)
		assert.Equal(t, region, phonenumbers.GetRegionCodeForCountryCode(code), region)
		for i := 1; i < len(cc); i++ {
			p, _ := strconv.Atoi(cc[:i])
			assert.Equal(t, "ZZ", phonenumbers.GetRegionCodeForCountryCode(p), "%s: prefix %d of the code is a code", region, p)
		}
	}
}

func TestPlainPhoneAgreesWithTheParser(t *testing.T) {
	fixed := []struct{ in, region string }{
		{"0151 23456789", "DE"}, {"030/1234567", "DE"}, {"+49 30 1234567", "DE"}, {"+49 (0)30 1234567", "DE"},
		{"0049 151 23456789", "DE"}, {"+49 0151 23456789", "DE"}, {"0151-2345-6789", "DE"}, {"0 151 23456789", "DE"},
		{"01", "DE"}, {"012", "DE"}, {"0800 1234567", "DE"}, {"0180 5 123456", "DE"}, {"0900 1234567", "DE"},
		{"0151 23456789 x12", "DE"}, {"030 1234567#", "DE"}, {"+43 664 1234567", "AT"}, {"0664 1234567", "AT"},
		{"+41 79 123 45 67", "CH"}, {"06 12 34 56 78", "FR"}, {"+33 6 12 34 56 78", "FR"}, {"06-12345678", "NL"},
		{"0470 12 34 56", "BE"}, {"070-123 45 67", "SE"}, {"+49 151 23456789", "AT"}, {"07911 123456", "GB"},
		{"(202) 555-0123", "US"}, {"+1 202 555 0123", "DE"}, {"+4915123456789", "DE"}, {"+49151234567890123", "DE"},
		{"0151 234567890123456789", "DE"}, {"0151 2345678/", "DE"}, {"0151 / x 23", "DE"}, {"+49", "DE"}, {"+4", "DE"},
	}
	check := func(in, region string) bool {
		wantN, wantM, wantErr := parsedPhone(in, region)
		gotN, gotM, gotErr := normalizePhone(in, region)
		ok := assert.Equal(t, wantN, gotN, "%q in %s", in, region) &&
			assert.Equal(t, wantM, gotM, "%q in %s: mobile", in, region) &&
			assert.Equal(t, fmt.Sprint(wantErr), fmt.Sprint(gotErr), "%q in %s: error", in, region)
		return ok
	}
	for _, c := range fixed {
		check(c.in, c.region)
	}

	// Random numbers in every shape, around the ranges that exist.
	r := rand.New(rand.NewPCG(1, 2))
	regions := []string{"DE", "DE", "DE", "AT", "CH", "FR", "NL", "BE", "SE", "GB", "IT", "US"}
	leads := []string{"1", "15", "151", "152", "155", "157", "159", "160", "162", "163", "17", "176", "178", "30", "40", "69", "89",
		"221", "211", "351", "3", "2", "4", "5", "6", "7", "8", "9", "800", "180", "18", "900", "700", "32", "115", "116", "31", "664", "699", "79", "6", "470"}
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		return b.String()
	}
	spread := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if i > 0 && r.IntN(4) == 0 {
				b.WriteByte(" -/"[r.IntN(3)])
			}
			b.WriteByte(s[i])
		}
		return b.String()
	}
	plain, valid := 0, 0
	for i := 0; i < 100000; i++ {
		region := regions[r.IntN(len(regions))]
		cc := strconv.Itoa(phonenumbers.GetCountryCodeForRegion(region))
		body := leads[r.IntN(len(leads))] + digits(r.IntN(4)+r.IntN(10))
		var in string
		switch r.IntN(10) {
		case 0, 1, 2, 3:
			in = spread("0" + body)
		case 4, 5:
			in = "+" + spread(cc+body)
		case 6:
			in = "+" + spread(cc+"0"+body)
		case 7:
			in = spread("00" + cc + body)
		case 8:
			in = spread(body)
		default:
			in = "+" + spread(strconv.Itoa(phonenumbers.GetCountryCodeForRegion(regions[r.IntN(len(regions))]))+body)
		}
		if r.IntN(50) == 0 {
			in += []string{" ", "-", " x12", "#", ".", ")", " ext 5"}[r.IntN(7)]
		}
		var num phonenumbers.PhoneNumber
		if plainPhone(strings.TrimSpace(in), region, &num) {
			plain++
			if phonenumbers.GetNumberType(&num) != phonenumbers.UNKNOWN {
				valid++
			}
		}
		if !check(in, region) {
			break
		}
	}
	t.Logf("%d plain shapes, %d of them valid", plain, valid)
	assert.Greater(t, valid, 8000, "the plain path was taken often enough to be tested")
}
