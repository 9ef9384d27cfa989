package demo

import (
	"math"
	"strconv"
	"strings"
	"time"

	"karton/model"
)

// tables are the weighted lookups built once per Generate from the
// constant tables (no package-level mutable state).
type tables struct {
	originCum  []float64
	cityCum    []float64
	foreignCum []float64
	providers  map[string]providerTable
	byCategory [numCategories][]int
	// createdCum maps the share of non-legacy customers to the day of the
	// last two years on which they joined (growth, Christmas, spring).
	createdCum []float64
	hourCum    []float64
}

type providerTable struct {
	names []string
	cum   []float64
}

// hourWeights is the share of sign-ups and orders per hour of the day.
var hourWeights = []float64{
	0.6, 0.3, 0.2, 0.1, 0.1, 0.2, 0.6, 1.6, 2.8, 3.6, 4.2, 4.4,
	4.6, 4.4, 4.2, 4.3, 4.6, 5.2, 6.2, 7.4, 8.2, 7.6, 5.2, 2.4,
}

func newTables(asOf time.Time) *tables {
	t := &tables{providers: map[string]providerTable{}}
	w := make([]float64, len(nameOrigins))
	for i, o := range nameOrigins {
		w[i] = o.weight
	}
	t.originCum = cumulative(w)
	w = make([]float64, len(germanCities))
	for i, c := range germanCities {
		w[i] = c.weight
	}
	t.cityCum = cumulative(w)
	w = make([]float64, len(foreignCities))
	for i, c := range foreignCities {
		w[i] = c.weight
	}
	t.foreignCum = cumulative(w)
	for cc, ps := range emailProviders {
		pt := providerTable{}
		w := make([]float64, len(ps))
		for i, p := range ps {
			pt.names = append(pt.names, p.s)
			w[i] = p.w
		}
		pt.cum = cumulative(w)
		t.providers[cc] = pt
	}
	for i, p := range products {
		t.byCategory[p.category] = append(t.byCategory[p.category], i)
	}
	// Sign-ups per day: growing business (+60 % over two years), busy
	// November/December and spring, quieter summer, weekends a bit higher
	// for a web shop.
	days := make([]float64, createdDays)
	start := asOf.AddDate(0, 0, -createdDays)
	for d := range days {
		day := start.AddDate(0, 0, d)
		f := 1 + 0.6*float64(d)/float64(createdDays)
		switch day.Month() {
		case time.November:
			f *= 1.5
		case time.December:
			f *= 1.7
		case time.March, time.April, time.May:
			f *= 1.25
		case time.July, time.August:
			f *= 0.8
		}
		if wd := day.Weekday(); wd == time.Sunday || wd == time.Saturday {
			f *= 1.15
		}
		days[d] = f
	}
	t.createdCum = cumulative(days)
	t.hourCum = cumulative(hourWeights)
	return t
}

// createdDays is the period in which non-legacy customers join.
const createdDays = 730

// legacyShare of the customers came with the CRM migration before the
// two-year window; they hold the old consents, some of them stale.
const legacyShare = 0.15

// createdAt places customer idx of n on the time line so that ids are in
// creation order: legacy customers on the migration weekend, everyone
// else by the daily sign-up curve and the hour-of-day curve.
func (g *generator) createdAt(idx int) (t time.Time, legacy bool) {
	nLegacy := int(float64(g.n) * legacyShare)
	if idx < nLegacy {
		// The migration ran over a weekend night, in id order.
		f := (float64(idx) + 0.5) / float64(nLegacy)
		return g.migrationAt.Add(time.Duration(f * float64(30*time.Hour))), true
	}
	u := (float64(idx-nLegacy) + 0.5) / float64(g.n-nLegacy)
	cum := g.tab.createdCum
	x := u * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	prev := 0.0
	if lo > 0 {
		prev = cum[lo-1]
	}
	frac := (x - prev) / (cum[lo] - prev) // position within the day, monotone in idx
	day := g.asOf.AddDate(0, 0, -createdDays+lo).Truncate(24 * time.Hour)
	t = day.Add(g.timeOfDay(frac))
	if t.After(g.asOf) {
		t = g.asOf.Add(-time.Minute)
	}
	return t, false
}

// timeOfDay maps a fraction of the day's sign-ups to a clock time along
// the hour curve (monotone, so ids stay in time order within a day).
func (g *generator) timeOfDay(frac float64) time.Duration {
	cum := g.tab.hourCum
	x := frac * cum[len(cum)-1]
	h := 0
	for h < 23 && cum[h] <= x {
		h++
	}
	prev := 0.0
	if h > 0 {
		prev = cum[h-1]
	}
	within := (x - prev) / (cum[h] - prev)
	return time.Duration(h)*time.Hour + time.Duration(within*float64(time.Hour))
}

// clock draws a time of day from the hour curve.
func (r rng) clock(t *tables) time.Duration {
	h := r.weighted(t.hourCum)
	return time.Duration(h)*time.Hour + r.dur(0, time.Hour)
}

// translit turns a name into email-address letters the way Germans do:
// ä→ae, ö→oe, ü→ue, ß→ss, other accents dropped, spaces and apostrophes
// removed.
func translit(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		case r == ' ', r == '\'', r == '.', r == '&', r == '(', r == ')':
		default:
			if t, ok := translitTable[r]; ok {
				b.WriteString(t)
			}
		}
	}
	return b.String()
}

var translitTable = map[rune]string{
	'ä': "ae", 'ö': "oe", 'ü': "ue", 'Ä': "ae", 'Ö': "oe", 'Ü': "ue", 'ß': "ss", 'ẞ': "ss",
	'á': "a", 'à': "a", 'â': "a", 'ã': "a", 'å': "a", 'ą': "a", 'Á': "a", 'Å': "a",
	'é': "e", 'è': "e", 'ê': "e", 'ë': "e", 'ę': "e", 'É': "e", 'ě': "e",
	'í': "i", 'ì': "i", 'î': "i", 'ï': "i", 'ı': "i", 'İ': "i",
	'ó': "o", 'ò': "o", 'ô': "o", 'õ': "o", 'ø': "o", 'Ó': "o", 'Ø': "o",
	'ú': "u", 'ù': "u", 'û': "u",
	'ç': "c", 'Ç': "c", 'ć': "c", 'č': "c", 'Č': "c", 'ñ': "n", 'ń': "n",
	'ł': "l", 'Ł': "l", 'ś': "s", 'š': "s", 'Š': "s", 'ş': "s", 'Ş': "s",
	'ž': "z", 'Ž': "z", 'ź': "z", 'ż': "z", 'Ż': "z", 'ğ': "g", 'đ': "d", 'Đ': "d", 'ř': "r", 'ý': "y",
	'æ': "ae", 'Æ': "ae", 'œ': "oe",
}

// identity is who a customer is, drawn before their behaviour.
type identity struct {
	origin   int
	female   bool
	diverse  bool
	birth    model.Date
	age      int // at AsOf; -1 unknown
	nameYear int // birth year used for the name cohort even when unknown
	business bool
	jobTitle string
}

// drawIdentity fills name, salutation, company, birth date.
func (g *generator) drawIdentity(r rng, c *model.Customer, business bool) identity {
	id := identity{business: business, age: -1}
	id.origin = r.weighted(g.tab.originCum)
	o := &nameOrigins[id.origin]
	x := r.Float64()
	id.female = x < 0.505
	id.diverse = x > 0.992

	// Age at AsOf: customers of a home & garden shop, few minors.
	ageBuckets := [...]struct {
		lo, hi int
		w      float64
	}{{14, 15, 2}, {16, 17, 2}, {18, 24, 9}, {25, 34, 17}, {35, 44, 19}, {45, 54, 19}, {55, 64, 17}, {65, 74, 10}, {75, 86, 5}}
	if business {
		ageBuckets = [...]struct {
			lo, hi int
			w      float64
		}{{14, 15, 0}, {16, 17, 0}, {18, 24, 1}, {25, 34, 15}, {35, 44, 28}, {45, 54, 30}, {55, 64, 22}, {65, 74, 4}, {75, 86, 0}}
	}
	total := 0.0
	for _, b := range ageBuckets {
		total += b.w
	}
	pickW := r.Float64() * total
	age := 40
	for _, b := range ageBuckets {
		if pickW < b.w {
			age = r.between(b.lo, b.hi)
			break
		}
		pickW -= b.w
	}
	by := g.asOf.Year() - age
	bd := model.Date{Year: by, Month: time.Month(r.between(1, 12)), Day: 1}
	bd.Day = r.between(1, daysIn(bd.Year, bd.Month))
	if bd.Time().After(g.asOf) || bd.AgeAt(g.asOf) < 13 {
		bd.Year--
	}
	id.nameYear = bd.Year
	unknown := 0.28
	if business {
		unknown = 0.75
	}
	if !r.chance(unknown) || bd.AgeAt(g.asOf) < 18 { // minors' ages are known: the shop asks
		id.birth = bd
		id.age = bd.AgeAt(g.asOf)
		c.BirthDate = bd
	}

	// First name: German names follow the birth cohort.
	firstFrom := func(female bool) string {
		if id.origin != 0 {
			if female {
				return pick(r, o.female)
			}
			return pick(r, o.male)
		}
		switch {
		case id.nameYear < 1966 && female:
			return pick(r, germanFemaleOld)
		case id.nameYear < 1966:
			return pick(r, germanMaleOld)
		case id.nameYear < 1991 && female:
			return pick(r, germanFemaleMid)
		case id.nameYear < 1991:
			return pick(r, germanMaleMid)
		case female:
			return pick(r, germanFemaleYoung)
		default:
			return pick(r, germanMaleYoung)
		}
	}
	female := id.female
	if id.diverse {
		female = r.chance(0.5)
	}
	c.FirstName = firstFrom(female)
	if id.origin == 0 && r.chance(0.03) && !strings.Contains(c.FirstName, "-") {
		second := firstFrom(female)
		if second != c.FirstName && !strings.Contains(second, "-") {
			c.FirstName += "-" + second
		}
	}

	// Last name: German names skewed to the common ones; some marriages
	// mix origins, a few people carry double names.
	lastOrigin := id.origin
	if r.chance(0.06) {
		lastOrigin = r.weighted(g.tab.originCum)
	}
	c.LastName = g.lastName(r, lastOrigin)
	if r.chance(0.015) && !strings.Contains(c.LastName, "-") && !strings.Contains(c.LastName, " ") {
		other := g.lastName(r, 0)
		if other != c.LastName && !strings.Contains(other, " ") && !strings.Contains(other, "-") {
			c.LastName += "-" + other
		}
	}

	switch {
	case id.diverse:
		if r.chance(0.3) {
			c.Salutation = "Mx"
		}
	case r.chance(0.07):
		// no salutation given
	case id.female:
		c.Salutation = "Frau"
	default:
		c.Salutation = "Herr"
	}

	if business {
		c.Type = model.Business
		c.Company = g.companyName(r, c.LastName)
		id.jobTitle = pick(r, jobTitles)
		if id.jobTitle == "Inhaber" && id.female {
			id.jobTitle = "Inhaberin"
		} else if id.jobTitle == "Inhaberin" && !id.female {
			id.jobTitle = "Inhaber"
		}
	} else {
		c.Type = model.Consumer
	}
	return id
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (g *generator) lastName(r rng, origin int) string {
	if origin == 0 {
		// Zipf-like: the first names of the table are the common ones.
		i := int(float64(len(germanLast)) * math.Pow(r.Float64(), 1.7))
		return germanLast[min(i, len(germanLast)-1)]
	}
	return pick(r, nameOrigins[origin].last)
}

func (g *generator) companyName(r rng, last string) string {
	form := pick(r, companyForms)
	trade := pick(r, companyTrades)
	simpleLast := last
	if strings.ContainsAny(last, " -") {
		simpleLast = g.lastName(r, 0)
		if strings.ContainsAny(simpleLast, " -") {
			simpleLast = "Lehmann"
		}
	}
	switch x := r.Float64(); {
	case x < 0.42:
		return simpleLast + " " + trade + " " + form
	case x < 0.72:
		return pick(r, companyFancy) + " " + trade + " " + form
	case x < 0.87:
		if form == "GmbH & Co. KG" || form == "AG" {
			form = "e.K."
		}
		return trade + " " + simpleLast + " " + form
	default:
		other := g.lastName(r, 0)
		if strings.ContainsAny(other, " -") || other == simpleLast {
			other = "Vogel"
		}
		return simpleLast + " & " + other + " " + form
	}
}

// companyDomain derives a web domain from the company name without its
// legal form: "Bäckerei Groß e.K." → "baeckerei-gross.de".
func companyDomain(company, country string) string {
	name := company
	for _, f := range []string{" GmbH & Co. KG", " UG (haftungsbeschränkt)", " GmbH", " AG", " KG", " e.K.", " OHG"} {
		name = strings.TrimSuffix(name, f)
	}
	name = strings.ReplaceAll(name, " & ", " und ")
	var b strings.Builder
	dash := false
	for _, word := range strings.Fields(name) {
		w := translit(word)
		if w == "" {
			continue
		}
		if b.Len() > 0 && !dash {
			b.WriteByte('-')
		}
		b.WriteString(w)
		dash = strings.HasSuffix(w, "-")
	}
	tld := ".de"
	switch country {
	case "AT":
		tld = ".at"
	case "CH":
		tld = ".ch"
	case "NL":
		tld = ".nl"
	}
	return strings.Trim(b.String(), "-") + tld
}

// drawEmail builds an address from the name the way people pick them.
func (g *generator) drawEmail(r rng, c *model.Customer, id identity, country string) string {
	first := translit(c.FirstName)
	last := translit(c.LastName)
	if first == "" || last == "" {
		return ""
	}
	if id.business {
		domain := companyDomain(c.Company, country)
		switch x := r.Float64(); {
		case x < 0.6:
			return first + "." + last + "@" + domain
		case x < 0.85:
			return first[:1] + "." + last + "@" + domain
		case x < 0.92:
			return first + "@" + domain
		default:
			return "info@" + domain
		}
	}
	yy := func() string {
		y := id.nameYear % 100
		if r.chance(0.5) {
			y = r.IntN(100)
		}
		s := strconv.Itoa(y)
		if len(s) == 1 {
			s = "0" + s
		}
		return s
	}
	var local string
	switch x := r.Float64(); {
	case x < 0.30:
		local = first + "." + last
	case x < 0.40:
		local = first + last
	case x < 0.52:
		local = first[:1] + "." + last
	case x < 0.64:
		local = first + "." + last + yy()
	case x < 0.68:
		local = first + "_" + last
	case x < 0.73:
		local = last + "." + first
	case x < 0.79:
		local = first + strconv.Itoa(r.between(1, 9999))
	case x < 0.82:
		local = first + last[:1]
	case x < 0.87:
		local = last + strconv.Itoa(r.between(1, 999))
	case x < 0.90:
		local = first + "-" + last
	case x < 0.94:
		local = pick(r, nicknames) + "." + first
	default:
		local = first[:1] + last + strconv.Itoa(id.nameYear)
	}
	local = strings.Trim(strings.ReplaceAll(local, "--", "-"), "-.")
	cc := country
	if _, ok := g.tab.providers[cc]; !ok {
		cc = "DE"
	}
	pt := g.tab.providers[cc]
	return local + "@" + pt.names[r.weighted(pt.cum)]
}

var nicknames = []string{"gartenfee", "kochfan", "sonnenschein", "bergfex", "teeliebe", "balkonheld", "kraeuterhexe", "nordlicht", "wanderlust", "wohnglueck"}

// drawAddress picks a city (German mostly) and a street.
func (g *generator) drawAddress(r rng) (model.Address, *city) {
	var ct *city
	if r.chance(0.05) {
		ct = &foreignCities[r.weighted(g.tab.foreignCum)]
	} else {
		ct = &germanCities[r.weighted(g.tab.cityCum)]
	}
	country := ct.country
	if country == "" {
		country = "DE"
	}
	street := ""
	if len(ct.streets) > 0 && (ct.country != "" || r.chance(0.45)) {
		street = pick(r, ct.streets)
	} else {
		street = pick(r, germanStreets)
	}
	n := 1 + int(r.ExpFloat64()*22)
	if n > 240 {
		n = r.between(1, 60)
	}
	house := strconv.Itoa(n)
	if country != "NL" && r.chance(0.06) {
		house += string(rune('a' + r.IntN(3)))
	}
	code := r.between(ct.lo, ct.hi)
	var pc string
	switch country {
	case "DE":
		pc = pad(code, 5)
	case "NL":
		pc = pad(code, 4) + " " + string(rune('A'+r.IntN(20))) + string(rune('A'+r.IntN(20)))
		if strings.HasSuffix(pc, "SS") || strings.HasSuffix(pc, "SA") || strings.HasSuffix(pc, "SD") {
			pc = pc[:5] + "AB"
		}
	case "AT":
		if ct.name == "Wien" {
			code = 1000 + 10*r.between(1, 23) // Vienna: 1010–1230 by district
		}
		pc = pad(code, 4)
	default:
		pc = pad(code, 4)
	}
	return model.Address{Street: street + " " + house, PostalCode: pc, City: ct.name, Country: country}, ct
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// drawPhone writes a number the way customers type it into forms; the
// store normalises it to E.164. mobile selects a mobile range.
func (g *generator) drawPhone(r rng, ct *city, mobile bool) string {
	country := "DE"
	if ct != nil && ct.country != "" {
		country = ct.country
	}
	digits := func(n int) string {
		b := make([]byte, n)
		b[0] = byte('2' + r.IntN(8))
		for i := 1; i < n; i++ {
			b[i] = byte('0' + r.IntN(10))
		}
		return string(b)
	}
	if country != "DE" {
		cc := foreignCountryCode[country]
		if mobile {
			m := pick(r, foreignMobile[country])
			return "+" + m.cc + " " + m.prefix + " " + digits(m.digits)
		}
		sub := 7
		if country == "AT" && ct.area != "1" {
			sub = 6
		}
		return "+" + cc + " " + ct.area + " " + digits(sub)
	}
	if mobile {
		m := pick(r, mobilePrefixes)
		num := digits(m.digits)
		switch r.IntN(4) {
		case 0:
			return "+49 " + m.prefix + " " + num
		case 1:
			return "0" + m.prefix + "/" + num
		default:
			return "0" + m.prefix + " " + num
		}
	}
	area := "30"
	if ct != nil {
		area = ct.area
	}
	num := digits(10 - len(area))
	switch r.IntN(4) {
	case 0:
		return "(0" + area + ") " + num
	case 1:
		return "+49 " + area + " " + num
	default:
		return "0" + area + " " + num
	}
}
