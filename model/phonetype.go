package model

import (
	"regexp"
	"slices"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// numberType is phonenumbers.GetNumberType, answered from the same
// metadata in the same order, with each region's patterns compiled once.
//
// Why: the library builds the anchored pattern text of every number
// description anew for each number, looks it up in a locked map, and
// matches each description that fits the length twice. Importing a
// million customers spent 2.8 s of CPU there; this asks each pattern once.
// TestNumberTypeAgreesWithTheLibrary holds the two answers equal.
func numberType(num *phonenumbers.PhoneNumber) phonenumbers.PhoneNumberType {
	region := phonenumbers.GetRegionCodeForNumber(num)
	m := typeMatcherFor(region, num.GetCountryCode())
	if m == nil {
		return phonenumbers.UNKNOWN
	}
	return m.numberType(phonenumbers.GetNationalSignificantNumber(num))
}

// descMatcher is one number description: the national number lengths it
// allows (none listed: any) and its anchored pattern (nil: matches nothing).
type descMatcher struct {
	lengths []int32
	re      *regexp.Regexp
}

func newDescMatcher(d *phonenumbers.PhoneNumberDesc) descMatcher {
	if d == nil {
		return descMatcher{}
	}
	// The library's strict match: the whole national number.
	return descMatcher{lengths: d.PossibleLength, re: regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$")}
}

func (d descMatcher) matches(nsn string) bool {
	if d.re == nil || len(d.lengths) > 0 && !slices.Contains(d.lengths, int32(len(nsn))) {
		return false
	}
	return d.re.MatchString(nsn)
}

// typeMatcher holds one region's descriptions.
type typeMatcher struct {
	general, premium, tollFree, sharedCost, voip, personal, pager, uan, voicemail, fixed, mobile descMatcher
	sameMobileAndFixed                                                                           bool
}

func newTypeMatcher(md *phonenumbers.PhoneMetadata) *typeMatcher {
	return &typeMatcher{
		general:            newDescMatcher(md.GetGeneralDesc()),
		premium:            newDescMatcher(md.GetPremiumRate()),
		tollFree:           newDescMatcher(md.GetTollFree()),
		sharedCost:         newDescMatcher(md.GetSharedCost()),
		voip:               newDescMatcher(md.GetVoip()),
		personal:           newDescMatcher(md.GetPersonalNumber()),
		pager:              newDescMatcher(md.GetPager()),
		uan:                newDescMatcher(md.GetUan()),
		voicemail:          newDescMatcher(md.GetVoicemail()),
		fixed:              newDescMatcher(md.GetFixedLine()),
		mobile:             newDescMatcher(md.GetMobile()),
		sameMobileAndFixed: md.GetSameMobileAndFixedLinePattern(),
	}
}

// numberType classifies a national significant number in the library's
// order: invalid, the special services, then fixed line and mobile.
func (m *typeMatcher) numberType(nsn string) phonenumbers.PhoneNumberType {
	if !m.general.matches(nsn) {
		return phonenumbers.UNKNOWN
	}
	for _, s := range [...]struct {
		d   *descMatcher
		typ phonenumbers.PhoneNumberType
	}{
		{&m.premium, phonenumbers.PREMIUM_RATE}, {&m.tollFree, phonenumbers.TOLL_FREE},
		{&m.sharedCost, phonenumbers.SHARED_COST}, {&m.voip, phonenumbers.VOIP},
		{&m.personal, phonenumbers.PERSONAL_NUMBER}, {&m.pager, phonenumbers.PAGER},
		{&m.uan, phonenumbers.UAN}, {&m.voicemail, phonenumbers.VOICEMAIL},
	} {
		if s.d.matches(nsn) {
			return s.typ
		}
	}
	if m.fixed.matches(nsn) {
		if m.sameMobileAndFixed || m.mobile.matches(nsn) {
			return phonenumbers.FIXED_LINE_OR_MOBILE
		}
		return phonenumbers.FIXED_LINE
	}
	if !m.sameMobileAndFixed && m.mobile.matches(nsn) {
		return phonenumbers.MOBILE
	}
	return phonenumbers.UNKNOWN
}

// regionKey names a region's metadata: geographical regions by code,
// non-geographical entities ("001") by calling code.
type regionKey struct {
	region string
	code   int32
}

var (
	metadataOnce sync.Once
	metadataBy   map[regionKey]*phonenumbers.PhoneMetadata
	typeMatchers sync.Map // regionKey → *typeMatcher, compiled on first use
)

func keyOf(region string, code int32) regionKey {
	if region != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
		code = 0
	}
	return regionKey{region, code}
}

// typeMatcherFor returns the matcher of a region (nil when the library has
// no metadata for it, as GetNumberType then answers UNKNOWN).
func typeMatcherFor(region string, code int32) *typeMatcher {
	k := keyOf(region, code)
	if m, ok := typeMatchers.Load(k); ok {
		return m.(*typeMatcher)
	}
	metadataOnce.Do(func() {
		metadataBy = map[regionKey]*phonenumbers.PhoneMetadata{}
		coll, err := phonenumbers.MetadataCollection()
		if err != nil {
			return // the library's init would have failed first
		}
		for _, md := range coll.GetMetadata() {
			metadataBy[keyOf(md.GetId(), md.GetCountryCode())] = md
		}
	})
	md := metadataBy[k]
	if md == nil {
		return nil
	}
	m, _ := typeMatchers.LoadOrStore(k, newTypeMatcher(md))
	return m.(*typeMatcher)
}
