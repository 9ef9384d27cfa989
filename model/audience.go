package model

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Audiences: a segment's conditions compiled into a Predicate that decides
// membership from a customer's AudienceFacts. The field set, operators and
// value forms are documented in segment.go; this file adds the semantics:
//
//   - All conditions must hold; a segment without conditions selects every
//     customer.
//   - Text compares ignore case. city folds like Fold ("Müller" = "muller");
//     country and postcode compare upper-cased; tags, attributes and
//     preferences compare case-insensitively.
//   - A text field the customer lacks counts as empty: "=" and "in" and
//     "prefix" do not match it, "!=" does.
//   - Numbers are whole numbers; money (revenue, clv) is in minor units.
//   - age, last_purchase_days and clv never match a customer without the
//     fact (no birth date, no purchase, no scores).
//   - last_activity_days counts from the last activity, or from the day the
//     record was created when there was none: a customer who never did
//     anything is as inactive as their record is old.
//   - Day counts are whole days: floor((now - t) / 24h).
//   - rfm_segment names a segment as RFMSegment.String gives it
//     ("Champions", "Can't Lose Them"; case-insensitive) or "Unscored";
//     customers without scores are Unscored.
//
// Time-relative conditions are evaluated against the now given to
// CompileSegment, so one compiled predicate gives the same answer for a
// whole scan.

// AudienceFacts is what segment conditions read about one customer. The
// store fills only the groups a predicate Needs, from the stored record,
// without decoding the rest.
type AudienceFacts struct {
	Type           ContactType
	City           string
	PostalCode     string
	Country        string
	BirthDate      Date
	Tags           []string
	Attributes     map[string]string
	Preferences    map[string]string
	PurchaseCount  int
	Revenue        Money
	LastPurchaseAt time.Time
	LastActivityAt time.Time
	CreatedAt      time.Time
	// HasScores is false until the analytics computed the customer's RFM
	// scores and CLV.
	HasScores  bool
	RFMSegment RFMSegment
	CLV        Money
}

// AudienceFactsOf takes the facts from a customer record; scores come
// separately (they are not part of the record).
func AudienceFactsOf(c *Customer) AudienceFacts {
	return AudienceFacts{
		Type: c.Type, City: c.Address.City, PostalCode: c.Address.PostalCode, Country: c.Address.Country,
		BirthDate: c.BirthDate, Tags: c.Tags, Attributes: c.Attributes, Preferences: c.Preferences,
		PurchaseCount: c.PurchaseCount, Revenue: c.Revenue, LastPurchaseAt: c.LastPurchaseAt,
		LastActivityAt: c.LastActivityAt, CreatedAt: c.CreatedAt,
	}
}

// AudienceNeeds says which groups of AudienceFacts a predicate reads, so
// a scan over a million records decodes nothing else. The numbers, times,
// type and birth date are always filled (they cost no allocation).
type AudienceNeeds uint8

// The fact groups that cost allocations to fill.
const (
	NeedAddress     AudienceNeeds = 1 << iota // City, PostalCode, Country
	NeedTags                                  // Tags
	NeedAttributes                            // Attributes
	NeedPreferences                           // Preferences
	NeedScores                                // HasScores, RFMSegment, CLV
)

// Has reports whether every group of o is needed.
func (n AudienceNeeds) Has(o AudienceNeeds) bool { return n&o == o }

type condField uint8

const (
	cfType condField = iota + 1
	cfTag
	cfCity
	cfPostcode
	cfCountry
	cfAge
	cfPurchaseCount
	cfRevenue
	cfLastPurchaseDays
	cfLastActivityDays
	cfAttribute
	cfPreference
	cfRFMSegment
	cfCLV
)

type condOp uint8

const (
	opEq condOp = iota + 1
	opNe
	opLt
	opLe
	opGt
	opGe
	opIn
	opHas
	opNotHas
	opPrefix
)

var opNames = map[string]condOp{
	"=": opEq, "!=": opNe, "<": opLt, "<=": opLe, ">": opGt, ">=": opGe,
	"in": opIn, "has": opHas, "!has": opNotHas, "prefix": opPrefix,
}

// fieldOps lists the operators each field accepts, in the order error
// messages name them.
var fieldOps = map[condField][]string{
	cfType:             {"=", "!="},
	cfTag:              {"has", "!has"},
	cfCity:             {"=", "!=", "in"},
	cfPostcode:         {"prefix"},
	cfCountry:          {"=", "!=", "in"},
	cfAge:              {"<", "<=", ">", ">=", "="},
	cfPurchaseCount:    {"<", "<=", ">", ">=", "="},
	cfRevenue:          {"<", "<=", ">", ">=", "="},
	cfLastPurchaseDays: {"<", "<=", ">", ">="},
	cfLastActivityDays: {"<", "<=", ">", ">="},
	cfAttribute:        {"=", "!=", "in", "prefix"},
	cfPreference:       {"=", "!=", "in"},
	cfRFMSegment:       {"=", "!=", "in"},
	cfCLV:              {"<", "<=", ">", ">="},
}

// cond is one compiled condition.
type cond struct {
	field condField
	op    condOp
	key   string   // attribute or preference name
	num   int64    // numeric value
	text  string   // normalised text value
	list  []string // normalised values of "in"
	rfm   uint32   // bit per RFMSegment for rfm_segment
}

// Predicate is a compiled segment: it decides membership of one customer
// at a time without allocating.
type Predicate struct {
	conds []cond
	needs AudienceNeeds
	now   time.Time
}

// Needs returns the fact groups Match reads.
func (p *Predicate) Needs() AudienceNeeds { return p.needs }

// Now is the time the predicate's day and age conditions count from.
func (p *Predicate) Now() time.Time { return p.now }

// Len is the number of conditions; 0 selects everyone.
func (p *Predicate) Len() int { return len(p.conds) }

// CompileSegment checks a segment's conditions and compiles them for
// evaluation at now. The error is a *ValidationError naming every bad
// condition as conditions[i] with what is wrong and what would be right.
func CompileSegment(conds []Condition, now time.Time) (*Predicate, error) {
	pr := problems{entity: "segment"}
	p := &Predicate{now: now}
	for i, c := range conds {
		cc, err := compileCond(c)
		if err != "" {
			pr.add(fmt.Sprintf("conditions[%d]", i), "%s", err)
			continue
		}
		p.conds = append(p.conds, cc)
		switch cc.field {
		case cfCity, cfPostcode, cfCountry:
			p.needs |= NeedAddress
		case cfTag:
			p.needs |= NeedTags
		case cfAttribute:
			p.needs |= NeedAttributes
		case cfPreference:
			p.needs |= NeedPreferences
		case cfRFMSegment, cfCLV:
			p.needs |= NeedScores
		}
	}
	if err := pr.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// ValidateConditions checks conditions without compiling them for a time.
func ValidateConditions(conds []Condition) error {
	_, err := CompileSegment(conds, time.Time{})
	return err
}

// compileCond returns the condition or a sentence saying what is wrong.
func compileCond(c Condition) (cond, string) {
	name := strings.ToLower(strings.TrimSpace(c.Field))
	var cc cond
	switch {
	case name == CondType:
		cc.field = cfType
	case name == CondTag:
		cc.field = cfTag
	case name == CondCity:
		cc.field = cfCity
	case name == CondPostcode:
		cc.field = cfPostcode
	case name == CondCountry:
		cc.field = cfCountry
	case name == CondAge:
		cc.field = cfAge
	case name == CondPurchaseCount:
		cc.field = cfPurchaseCount
	case name == CondRevenue:
		cc.field = cfRevenue
	case name == CondLastPurchaseDays:
		cc.field = cfLastPurchaseDays
	case name == CondLastActivityDays:
		cc.field = cfLastActivityDays
	case name == CondRFMSegment:
		cc.field = cfRFMSegment
	case name == CondCLV:
		cc.field = cfCLV
	case strings.HasPrefix(name, CondAttributePrefix):
		cc.field, cc.key = cfAttribute, strings.TrimSpace(c.Field)[len(CondAttributePrefix):]
	case strings.HasPrefix(name, CondPreferencePrefix):
		cc.field, cc.key = cfPreference, strings.TrimSpace(c.Field)[len(CondPreferencePrefix):]
	default:
		return cc, fmt.Sprintf("unknown field %q (one of type, tag, city, postcode, country, age, purchase_count, revenue, last_purchase_days, last_activity_days, rfm_segment, clv, attribute.NAME, preference.NAME)", c.Field)
	}
	if (cc.field == cfAttribute || cc.field == cfPreference) && !validKey(cc.key) {
		return cc, fmt.Sprintf("field %q: the name after the dot must be 1–40 letters, digits, '_' or '-'", c.Field)
	}
	op, ok := opNames[strings.ToLower(strings.TrimSpace(c.Op))]
	allowed := fieldOps[cc.field]
	if !ok || !containsOp(allowed, op) {
		return cc, fmt.Sprintf("%s does not take the operator %q (use %s)", name, c.Op, strings.Join(allowed, ", "))
	}
	cc.op = op
	v := strings.TrimSpace(c.Value)
	if v == "" {
		return cc, fmt.Sprintf("%s %s needs a value", name, c.Op)
	}
	switch cc.field {
	case cfType:
		switch t := ContactType(strings.ToLower(v)); t {
		case Consumer, Business:
			cc.text = string(t)
		default:
			return cc, fmt.Sprintf("type %q is not consumer or business", v)
		}
	case cfTag, cfAttribute, cfPreference:
		if op == opIn {
			cc.list = splitList(v, strings.ToLower)
		} else {
			cc.text = strings.ToLower(v)
		}
	case cfCity:
		if op == opIn {
			cc.list = splitList(v, Fold)
		} else {
			cc.text = Fold(v)
		}
	case cfPostcode:
		cc.text = strings.ToUpper(v)
	case cfCountry:
		if op == opIn {
			cc.list = splitList(v, strings.ToUpper)
		} else {
			cc.text = strings.ToUpper(v)
		}
		for _, code := range append([]string{cc.text}, cc.list...) {
			if code != "" && len(code) != 2 {
				return cc, fmt.Sprintf("country %q is not a two-letter code like DE", code)
			}
		}
	case cfAge, cfPurchaseCount, cfLastPurchaseDays, cfLastActivityDays:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 1_000_000 {
			return cc, fmt.Sprintf("%s: %q is not a whole number of at least 0", name, v)
		}
		cc.num = n
	case cfRevenue, cfCLV:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return cc, fmt.Sprintf("%s: %q is not an amount in minor units (cents), e.g. 50000 for 500.00", name, v)
		}
		cc.num = n
	case cfRFMSegment:
		names := []string{v}
		if op == opIn {
			names = splitList(v, strings.TrimSpace)
		}
		for _, n := range names {
			s, ok := parseRFMSegment(n)
			if !ok {
				return cc, fmt.Sprintf("rfm_segment %q is not a segment (%s)", n, rfmSegmentNames())
			}
			cc.rfm |= 1 << s
		}
	}
	if op == opIn && len(cc.list) == 0 && cc.field != cfRFMSegment {
		return cc, fmt.Sprintf("%s in needs a comma-separated list", name)
	}
	return cc, ""
}

func containsOp(names []string, op condOp) bool {
	for _, n := range names {
		if opNames[n] == op {
			return true
		}
	}
	return false
}

func splitList(v string, norm func(string) string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, norm(p))
		}
	}
	return out
}

func parseRFMSegment(s string) (RFMSegment, bool) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, RFMUnscored.String()) {
		return RFMUnscored, true
	}
	for _, seg := range RFMSegments() {
		if strings.EqualFold(seg.String(), s) {
			return seg, true
		}
	}
	return 0, false
}

func rfmSegmentNames() string {
	var names []string
	for _, s := range RFMSegments() {
		names = append(names, s.String())
	}
	return strings.Join(append(names, RFMUnscored.String()), ", ")
}

// Match reports whether the customer with facts f is in the audience.
func (p *Predicate) Match(f *AudienceFacts) bool {
	for i := range p.conds {
		if !p.conds[i].match(f, p.now) {
			return false
		}
	}
	return true
}

func (c *cond) match(f *AudienceFacts, now time.Time) bool {
	switch c.field {
	case cfType:
		t := f.Type
		if t != Business {
			t = Consumer // a record without a type is a consumer, like Normalize says
		}
		return (string(t) == c.text) == (c.op == opEq)
	case cfTag:
		has := false
		for _, t := range f.Tags {
			if strings.EqualFold(t, c.text) {
				has = true
				break
			}
		}
		return has == (c.op == opHas)
	case cfCity:
		return c.matchText(Fold(f.City))
	case cfPostcode:
		return strings.HasPrefix(strings.ToUpper(strings.TrimSpace(f.PostalCode)), c.text)
	case cfCountry:
		return c.matchText(strings.ToUpper(f.Country))
	case cfAttribute:
		return c.foldText(f.Attributes[c.key])
	case cfPreference:
		return c.foldText(f.Preferences[c.key])
	case cfAge:
		age := f.BirthDate.AgeAt(now)
		return age >= 0 && c.compare(int64(age))
	case cfPurchaseCount:
		return c.compare(int64(f.PurchaseCount))
	case cfRevenue:
		return c.compare(int64(f.Revenue))
	case cfLastPurchaseDays:
		return !f.LastPurchaseAt.IsZero() && c.compare(daysBetween(f.LastPurchaseAt, now))
	case cfLastActivityDays:
		t := f.LastActivityAt
		if t.IsZero() {
			t = f.CreatedAt
		}
		return !t.IsZero() && c.compare(daysBetween(t, now))
	case cfRFMSegment:
		seg := RFMUnscored
		if f.HasScores {
			seg = f.RFMSegment
		}
		in := seg < 32 && c.rfm&(1<<seg) != 0
		return in == (c.op != opNe)
	case cfCLV:
		return f.HasScores && c.compare(int64(f.CLV))
	}
	return false
}

// matchText applies =, != and in to an already normalised value.
func (c *cond) matchText(v string) bool {
	switch c.op {
	case opEq:
		return v != "" && v == c.text
	case opNe:
		return v != c.text
	case opIn:
		for _, x := range c.list {
			if v == x {
				return true
			}
		}
	}
	return false
}

// foldText applies =, !=, in and prefix ignoring case, without lowering
// the customer's value (no allocation).
func (c *cond) foldText(v string) bool {
	v = strings.TrimSpace(v)
	switch c.op {
	case opEq:
		return v != "" && strings.EqualFold(v, c.text)
	case opNe:
		return !strings.EqualFold(v, c.text)
	case opIn:
		for _, x := range c.list {
			if v != "" && strings.EqualFold(v, x) {
				return true
			}
		}
	case opPrefix:
		return len(v) >= len(c.text) && strings.EqualFold(v[:len(c.text)], c.text)
	}
	return false
}

func (c *cond) compare(v int64) bool {
	switch c.op {
	case opEq:
		return v == c.num
	case opLt:
		return v < c.num
	case opLe:
		return v <= c.num
	case opGt:
		return v > c.num
	case opGe:
		return v >= c.num
	}
	return false
}

// daysBetween is the number of whole days from t to now (0 when t is in
// the future).
func daysBetween(t, now time.Time) int64 {
	d := now.Sub(t)
	if d < 0 {
		return 0
	}
	return int64(d / (24 * time.Hour))
}
