package model

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var allNumberTypes = []phonenumbers.PhoneNumberType{
	phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE, phonenumbers.TOLL_FREE,
	phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
	phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL,
}

// sampleNumbers returns the library's example number of every type in
// every region and non-geographical entity, each also with a digit
// changed, one added and one removed (near misses), and random digit
// strings read in a few regions.
func sampleNumbers(t *testing.T) []*phonenumbers.PhoneNumber {
	t.Helper()
	var examples []*phonenumbers.PhoneNumber
	regions := make([]string, 0, 300)
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	for _, r := range regions {
		for _, typ := range allNumberTypes {
			if n := phonenumbers.GetExampleNumberForType(r, typ); n != nil {
				examples = append(examples, n)
			}
		}
	}
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		if n := phonenumbers.GetExampleNumberForNonGeoEntity(cc); n != nil {
			examples = append(examples, n)
		}
	}
	require.Greater(t, len(examples), 1000, "the library's metadata has examples")

	rnd := rand.New(rand.NewPCG(7, 11))
	out := slices.Clone(examples)
	parse := func(text, region string) {
		n := new(phonenumbers.PhoneNumber)
		if phonenumbers.ParseToNumber(text, region, n) == nil {
			out = append(out, n)
		}
	}
	for _, ex := range examples {
		cc, nsn := ex.GetCountryCode(), phonenumbers.GetNationalSignificantNumber(ex)
		i := rnd.IntN(len(nsn))
		parse(fmt.Sprintf("+%d%s%d%s", cc, nsn[:i], rnd.IntN(10), nsn[i+1:]), "")
		parse(fmt.Sprintf("+%d%s%d", cc, nsn, rnd.IntN(10)), "")
		parse(fmt.Sprintf("+%d%s", cc, nsn[:len(nsn)-1]), "")
	}
	for _, region := range []string{"DE", "AT", "CH", "GB", "US", "FR", "IT", "NL", "PL", "ES"} {
		for range 500 {
			digits := make([]byte, 3+rnd.IntN(12))
			for j := range digits {
				digits[j] = byte('0' + rnd.IntN(10))
			}
			parse("0"+string(digits), region)
		}
	}
	return out
}

func TestNumberTypeAgreesWithTheLibrary(t *testing.T) {
	nums := sampleNumbers(t)
	seen := map[phonenumbers.PhoneNumberType]int{}
	for _, n := range nums {
		want := phonenumbers.GetNumberType(n)
		require.Equal(t, want, numberType(n), "+%d %s", n.GetCountryCode(), phonenumbers.GetNationalSignificantNumber(n))
		seen[want]++
	}
	for _, typ := range append(allNumberTypes, phonenumbers.UNKNOWN) {
		if typ == phonenumbers.FIXED_LINE_OR_MOBILE || typ == phonenumbers.VOICEMAIL || typ == phonenumbers.PAGER {
			continue // few regions have them; the examples cover those that do
		}
		assert.Positive(t, seen[typ], "the sample holds numbers of type %v", typ)
	}
	t.Logf("%d numbers: %v", len(nums), seen)
}

func TestNumberTypeOfUnknownRegions(t *testing.T) {
	assert.Equal(t, phonenumbers.UNKNOWN, numberType(&phonenumbers.PhoneNumber{CountryCode: new(int32(999)), NationalNumber: new(uint64(12345678))}))
	assert.Nil(t, typeMatcherFor("XX", 0))
	assert.Same(t, typeMatcherFor("DE", 49), typeMatcherFor("DE", 0), "a region's matcher is compiled once")
}

// BenchmarkNormalizePhone: "plain" numbers take the short way
// (plainPhone), the others go through the library's parser.
func BenchmarkNormalizePhone(b *testing.B) {
	for name, texts := range map[string][]string{
		"plain":  {"0151 23456789", "+49 30 1234567", "089 1234567", "0171-1234567", "+49 40/1234567"},
		"parsed": {"+1 (650) 253-0000", "00 44 20 7031 3000", "(089) 1234567", "+43 664 1234567", "0041 44 668 18 00"},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, _, err := normalizePhone(texts[i%len(texts)], "DE"); err != nil {
					b.Fatal(texts[i%len(texts)], err)
				}
			}
		})
	}
}
