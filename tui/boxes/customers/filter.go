package customers

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"karton/model"
	"karton/store"
)

// filterSpec is the customer table's filter as typed into the filter input:
// free words are a name prefix (or an email prefix when they contain '@'),
// and tag:, city: and consent: narrow further, e.g.
//
//	müller tag:vip city:"Frankfurt am Main" consent:email/newsletter
//
// Only one condition can be served by a store index (the store picks the
// prefix, then the tag, then the city); the others are checked row by row
// while the page is read (see readCustomerRows).
type filterSpec struct {
	Raw     string
	Prefix  string
	Tag     string
	City    string
	Consent *consentCond

	// Drill-down conditions (drill.go): RFM segment or CLV range, source
	// system, or a fixed list of customers.
	Score  *scoreCond
	Source string
	ids    []model.CustomerID
}

// consentCond selects customers by what they may be contacted for now.
type consentCond struct {
	// None selects customers no marketing purpose may reach on any channel.
	None bool
	Kind model.ChannelKind
	// Purpose narrows to one purpose; zero means any marketing purpose.
	Purpose     model.PurposeID
	PurposeName string
	// Negate selects the customers the condition would leave out
	// ("consent:!email": not contactable by email).
	Negate bool
}

// empty reports whether the filter selects every customer.
func (f filterSpec) empty() bool {
	return f.Prefix == "" && f.Tag == "" && f.City == "" && f.Consent == nil && f.Score == nil && f.Source == "" && f.ids == nil
}

// storeFilter is the one condition the store serves from an index. The
// rest are checked by postFilter: passing them to the store would let it
// stop after its scan limit with no row to continue from.
func (f filterSpec) storeFilter() store.CustomerFilter {
	switch {
	case f.Prefix != "":
		return store.CustomerFilter{Prefix: f.Prefix}
	case f.Tag != "":
		return store.CustomerFilter{Tag: f.Tag}
	case f.City != "":
		return store.CustomerFilter{City: f.City}
	}
	return store.CustomerFilter{}
}

// needsPostFilter reports whether rows must be checked one by one beyond
// what the store's index serves.
func (f filterSpec) needsPostFilter() bool {
	conds := 0
	for _, s := range []string{f.Prefix, f.Tag, f.City} {
		if s != "" {
			conds++
		}
	}
	return conds > 1 || f.Consent != nil || f.Score != nil || f.Source != ""
}

// matches checks the conditions the store did not serve. Tag and city are
// compared as the store compares them (case-insensitive tag, folded city).
func (f filterSpec) matches(c *model.Customer, cs *store.ConsentState, marketing map[model.PurposeID]bool) bool {
	served := f.storeFilter()
	if f.Tag != "" && served.Tag == "" && !c.HasTag(f.Tag) {
		return false
	}
	if f.City != "" && served.City == "" && model.Fold(c.Address.City) != model.Fold(f.City) {
		return false
	}
	if f.Consent != nil && !f.Consent.matches(cs, marketing) {
		return false
	}
	if f.Source != "" {
		if _, ok := c.SourceID(f.Source); !ok {
			return false
		}
	}
	return true
}

func (cc *consentCond) matches(cs *store.ConsentState, marketing map[model.PurposeID]bool) bool {
	hit := false
	if cs != nil {
		for _, s := range cs.Scopes {
			if !s.Allow() {
				continue
			}
			switch {
			case cc.None:
				hit = hit || marketing[s.Purpose]
			case s.Channel != cc.Kind:
			case cc.Purpose != 0:
				hit = hit || s.Purpose == cc.Purpose
			default:
				hit = hit || marketing[s.Purpose]
			}
		}
	}
	if cc.None {
		hit = !hit
	}
	return hit != cc.Negate
}

// String renders the condition the way it is typed.
func (cc *consentCond) String() string {
	s := "consent:"
	if cc.Negate {
		s += "!"
	}
	if cc.None {
		return s + "none"
	}
	s += string(cc.Kind)
	if cc.PurposeName != "" {
		s += "/" + cc.PurposeName
	}
	return s
}

// describe says in words which index orders the rows under this filter:
// the one that serves it, not the sort order chosen (the store keeps the
// tag and city indexes in the order customers were created).
func (f filterSpec) describe() string {
	served := f.storeFilter()
	switch {
	case strings.Contains(served.Prefix, "@"):
		return "email"
	case served.Prefix != "":
		return "name"
	case served.Tag != "", served.City != "":
		return "oldest first"
	}
	return ""
}

// parseFilter reads what the user typed. purposes resolve consent:kind/name;
// unmasked says whether the acting user may see personal data, without
// which searching by email, or by more than a name's initial, would reveal
// what the masking hides.
func parseFilter(raw string, purposes []model.Purpose, actor model.Actor) (filterSpec, error) {
	f := filterSpec{Raw: strings.TrimSpace(raw)}
	tokens, err := tokenize(f.Raw)
	if err != nil {
		return f, err
	}
	var words []string
	for _, tok := range tokens {
		field, value, hasField := strings.Cut(tok, ":")
		if !hasField || strings.ContainsAny(field, " @") {
			words = append(words, tok)
			continue
		}
		value = strings.TrimSpace(value)
		field = strings.ToLower(field)
		if value == "" {
			return f, fmt.Errorf("%s: needs a value, e.g. %s", field, example(field))
		}
		switch field {
		case "tag":
			if f.Tag != "" {
				return f, fmt.Errorf("tag: is given twice; a filter takes one tag")
			}
			f.Tag = value
		case "city":
			if f.City != "" {
				return f, fmt.Errorf("city: is given twice; a filter takes one city")
			}
			f.City = value
		case "consent":
			if f.Consent != nil {
				return f, fmt.Errorf("consent: is given twice; a filter takes one consent condition")
			}
			cc, err := parseConsentCond(value, purposes)
			if err != nil {
				return f, err
			}
			f.Consent = cc
		case "segment":
			seg, err := parseSegment(value)
			if err != nil {
				return f, err
			}
			if f.Score == nil {
				f.Score = &scoreCond{}
			} else if f.Score.segment != 0 {
				return f, fmt.Errorf("segment: is given twice; a filter takes one segment")
			}
			f.Score.segment = seg
		case "clv":
			lo, hi, err := parseCLVRange(value)
			if err != nil {
				return f, err
			}
			if f.Score == nil {
				f.Score = &scoreCond{}
			} else if f.Score.hasCLV {
				return f, fmt.Errorf("clv: is given twice; give one range, e.g. clv:10000-50000")
			}
			f.Score.hasCLV, f.Score.min, f.Score.max = true, lo, hi
		case "source":
			if !actor.Can(model.PermSeePersonalData) {
				return f, fmt.Errorf("filtering by source needs permission to see personal data, which %s lacks: a customer's source ids are personal data", roleOf(actor))
			}
			if f.Source != "" {
				return f, fmt.Errorf("source: is given twice; a filter takes one source id")
			}
			f.Source = value
		default:
			return f, fmt.Errorf("unknown filter %q: use tag:, city:, consent: or a name or email prefix (or segment:, clv:, source:)", field+":")
		}
	}
	f.Prefix = strings.Join(words, " ")
	if f.Prefix != "" && !actor.Can(model.PermSeePersonalData) {
		if strings.Contains(f.Prefix, "@") {
			return f, fmt.Errorf("filtering by email needs permission to see personal data, which %s lacks; filter by tag:, city: or consent: instead", roleOf(actor))
		}
		if utf8.RuneCountInString(f.Prefix) > 1 {
			first, _ := utf8.DecodeRuneInString(f.Prefix)
			return f, fmt.Errorf("%s may filter by the initial of the last name only (%q), not by %q, because names are masked", roleOf(actor), string(first), f.Prefix)
		}
	}
	return f, nil
}

func roleOf(a model.Actor) string {
	switch a.Role {
	case model.RoleAdmin, model.RoleAnalyst, model.RoleOperator:
		return "an " + string(a.Role)
	}
	return "a " + string(a.Role)
}

func example(field string) string {
	switch field {
	case "tag":
		return "tag:vip"
	case "city":
		return `city:Berlin or city:"Frankfurt am Main"`
	case "consent":
		return "consent:email or consent:sms/offers"
	}
	return field + ":value"
}

// parseConsentCond reads "email", "email/newsletter", "none", "!email".
func parseConsentCond(v string, purposes []model.Purpose) (*consentCond, error) {
	cc := &consentCond{}
	if rest, ok := strings.CutPrefix(v, "!"); ok {
		cc.Negate, v = true, rest
	} else if rest, ok := strings.CutPrefix(v, "-"); ok {
		cc.Negate, v = true, rest
	}
	if strings.EqualFold(v, "none") {
		cc.None = true
		return cc, nil
	}
	kindText, purposeText, hasPurpose := strings.Cut(v, "/")
	kind, err := model.ParseChannelKind(kindText)
	if err != nil {
		return nil, fmt.Errorf("consent:%s — %q is not a channel kind (%s) or none", v, kindText, kindList())
	}
	cc.Kind = kind
	if hasPurpose {
		name := strings.ToLower(strings.TrimSpace(purposeText))
		i := slices.IndexFunc(purposes, func(p model.Purpose) bool { return p.Name == name })
		if i < 0 {
			names := make([]string, len(purposes))
			for j, p := range purposes {
				names[j] = p.Name
			}
			return nil, fmt.Errorf("consent:%s — there is no purpose %q (%s)", v, purposeText, strings.Join(names, ", "))
		}
		cc.Purpose, cc.PurposeName = purposes[i].ID, name
	}
	return cc, nil
}

func kindList() string {
	names := make([]string, len(model.ChannelKinds))
	for i, k := range model.ChannelKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// tokenize splits on spaces; double quotes keep spaces inside a value
// (city:"Frankfurt am Main").
func tokenize(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	quoted, started := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			started = true
		case (r == ' ' || r == '\t') && !quoted:
			if started {
				out = append(out, cur.String())
			}
			cur.Reset()
			started = false
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("a double quote is not closed: %s", s)
	}
	if started {
		out = append(out, cur.String())
	}
	return out, nil
}

// marketingPurposes is the set of purposes that count for the consent
// column and filter: advertising, not service messages or profiling.
func marketingPurposes(purposes []model.Purpose) map[model.PurposeID]bool {
	m := make(map[model.PurposeID]bool, len(purposes))
	for _, p := range purposes {
		if p.Category == model.CategoryMarketing {
			m[p.ID] = true
		}
	}
	return m
}
