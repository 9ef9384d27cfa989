package model

import (
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Data quality of customer records: per field, how complete and how valid
// the data is, how many records are suspected duplicates and how many
// cannot be reached at all, summed up in a score from 0 to 100.
//
// Fields and their checks (a value that is present is valid when):
//
//	field        weight  valid when
//	email        3       ValidateEmail accepts it (syntax of a bare address with a dotted domain)
//	phone        2       it is in E.164 form: '+', a country code, 7–15 digits in all
//	name         2       first or last name (or company) holds no digit and no '@'
//	street       1       it holds a letter
//	postal_code  1       it fits the postal codes of the address's country (ValidPostalCode)
//	city         1       it holds a letter and no digit
//	country      0.5     a two-letter code (KnownCountry, or any two capitals)
//	birth_date   0.5     not in the future and at most 110 years ago
//
// Stored phone numbers were parsed with libphonenumber when they were
// written (Customer.Normalize), so the report checks their form only;
// QualityOptions.ParsePhones re-parses each one (about 25 µs a number).
//
// Values that never reached the store count too: an import rejects a row
// whose email does not parse, and the rejected value is charged to the
// source's validity of that field (QualityAccumulator.AddRejected).
//
// The score:
//
//	C = Σ w·completeness / Σ w             completeness = present / records
//	V = Σ w·validity / Σ w, over the fields with anything to judge
//	                                       validity = valid / (present + rejected)
//	D = suspected duplicates / records     (customers named in an open merge suggestion)
//	N = records without any contact point / records
//	score = 100 · (0.4·C + 0.4·V + 0.1·(1 − D) + 0.1·(1 − N))
//
// so complete, valid, distinct and reachable data scores 100, and each
// missing email costs three times as much as a missing birth date.

// Quality field names.
const (
	QualityEmail      = "email"
	QualityPhone      = "phone"
	QualityName       = "name"
	QualityStreet     = "street"
	QualityPostalCode = "postal_code"
	QualityCity       = "city"
	QualityCountry    = "country"
	QualityBirthDate  = "birth_date"
)

// qualityWeights are the weights of the fields in the score, in report
// order.
var qualityWeights = []struct {
	field  string
	weight float64
}{
	{QualityEmail, 3}, {QualityPhone, 2}, {QualityName, 2}, {QualityStreet, 1},
	{QualityPostalCode, 1}, {QualityCity, 1}, {QualityCountry, 0.5}, {QualityBirthDate, 0.5},
}

// QualityFields lists the checked fields in report order.
func QualityFields() []string {
	out := make([]string, len(qualityWeights))
	for i, w := range qualityWeights {
		out[i] = w.field
	}
	return out
}

// QualityProblem is what is wrong with one field of one record.
type QualityProblem uint8

// The problems a field can have.
const (
	QualityOK QualityProblem = iota
	QualityMissing
	QualityInvalid
)

// String is "ok", "missing" or "invalid".
func (p QualityProblem) String() string {
	return [...]string{"ok", "missing", "invalid"}[p]
}

// QualityOptions tune the checks.
type QualityOptions struct {
	// ParsePhones re-parses stored phone numbers with libphonenumber
	// instead of checking their E.164 form.
	ParsePhones bool
}

// CheckQualityField says whether one field of a customer is present and
// valid at time now.
func CheckQualityField(c *Customer, field string, now time.Time, opt QualityOptions) QualityProblem {
	switch field {
	case QualityEmail:
		return judge(c.Email, func(v string) bool { return ValidateEmail(v) == nil })
	case QualityPhone:
		if opt.ParsePhones {
			return judge(c.Phone, IsE164)
		}
		return judge(c.Phone, looksE164)
	case QualityName:
		name := strings.TrimSpace(c.FirstName + " " + c.LastName)
		if name == "" {
			name = c.Company
		}
		return judge(name, func(v string) bool { return !strings.ContainsAny(v, "0123456789@") })
	case QualityStreet:
		return judge(c.Address.Street, hasLetter)
	case QualityPostalCode:
		return judge(c.Address.PostalCode, func(v string) bool {
			return c.Address.Country != "" && ValidPostalCode(c.Address.Country, v)
		})
	case QualityCity:
		return judge(c.Address.City, func(v string) bool { return hasLetter(v) && !strings.ContainsAny(v, "0123456789") })
	case QualityCountry:
		return judge(c.Address.Country, func(v string) bool {
			return KnownCountry(v) || (len(v) == 2 && v[0] >= 'A' && v[0] <= 'Z' && v[1] >= 'A' && v[1] <= 'Z')
		})
	case QualityBirthDate:
		if c.BirthDate.IsZero() {
			return QualityMissing
		}
		if c.BirthDate.Time().After(now) || c.BirthDate.AgeAt(now) > 110 {
			return QualityInvalid
		}
		return QualityOK
	}
	return QualityOK
}

func judge(v string, valid func(string) bool) QualityProblem {
	if strings.TrimSpace(v) == "" {
		return QualityMissing
	}
	if !valid(strings.TrimSpace(v)) {
		return QualityInvalid
	}
	return QualityOK
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// looksE164 checks the form of a number: '+', then 7 to 15 digits, the
// first not 0.
func looksE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FieldQuality is one field's figures.
type FieldQuality struct {
	Field   string  `json:"field"`
	Weight  float64 `json:"weight"`
	Records int     `json:"records"`
	Present int     `json:"present"`
	Valid   int     `json:"valid"`
	// Rejected counts invalid values of this field in rejected import rows.
	Rejected     int     `json:"rejected"`
	Completeness float64 `json:"completeness"` // 0–1
	Validity     float64 `json:"validity"`     // 0–1; 1 when there is nothing to judge
}

// Missing is the number of records without the field.
func (f FieldQuality) Missing() int { return f.Records - f.Present }

// Invalid is the number of stored values that fail the check.
func (f FieldQuality) Invalid() int { return f.Present - f.Valid }

// QualityReport is the quality of a set of customer records (one source,
// or all).
type QualityReport struct {
	Source         string         `json:"source,omitempty"`
	Records        int            `json:"records"`
	Fields         []FieldQuality `json:"fields"`
	Duplicates     int            `json:"duplicates"`
	NoContactPoint int            `json:"no_contact_point"`
	Completeness   float64        `json:"completeness"` // C of the formula
	Validity       float64        `json:"validity"`     // V
	Score          float64        `json:"score"`        // 0–100, one decimal
}

// Worst returns the fields ordered worst first: by the lower of
// completeness and validity, then by weight (heavier first).
func (r QualityReport) Worst() []FieldQuality {
	out := slices.Clone(r.Fields)
	slices.SortStableFunc(out, func(a, b FieldQuality) int {
		x, y := min(a.Completeness, a.Validity), min(b.Completeness, b.Validity)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		case a.Weight > b.Weight:
			return -1
		case a.Weight < b.Weight:
			return 1
		}
		return 0
	})
	return out
}

// QualityAccumulator sums up records one at a time (so a store can stream
// a million customers through it). It is not safe for concurrent use.
type QualityAccumulator struct {
	Source  string
	opt     QualityOptions
	records int
	present [8]int
	valid   [8]int
	reject  [8]int
	dups    int
	noCP    int
}

// NewQualityAccumulator starts an empty accumulator.
func NewQualityAccumulator(source string, opt QualityOptions) *QualityAccumulator {
	return &QualityAccumulator{Source: source, opt: opt}
}

// Add counts a customer at time now; duplicate says it is named in an open
// merge suggestion. The customer's ContactPoints must be set (as stored
// customers' are; see ContactPointsOf). Erased customers hold no data to
// judge and are skipped.
func (a *QualityAccumulator) Add(c *Customer, now time.Time, duplicate bool) {
	if c.Erased {
		return
	}
	a.records++
	for i, w := range qualityWeights {
		switch CheckQualityField(c, w.field, now, a.opt) {
		case QualityOK:
			a.present[i]++
			a.valid[i]++
		case QualityInvalid:
			a.present[i]++
		}
	}
	if duplicate {
		a.dups++
	}
	// The store keeps ContactPoints up to date on every write; computing
	// them here would parse every phone number again.
	if c.ContactPoints == 0 {
		a.noCP++
	}
}

// AddRejected charges n invalid values of a field that import rows brought
// and that were rejected for it. Unknown fields are ignored.
func (a *QualityAccumulator) AddRejected(field string, n int) {
	for i, w := range qualityWeights {
		if w.field == field {
			a.reject[i] += n
		}
	}
}

// Report computes the figures and the score.
func (a *QualityAccumulator) Report() QualityReport {
	r := QualityReport{Source: a.Source, Records: a.records, Duplicates: a.dups, NoContactPoint: a.noCP}
	var wC, sumC, wV, sumV float64
	for i, w := range qualityWeights {
		f := FieldQuality{Field: w.field, Weight: w.weight, Records: a.records, Present: a.present[i], Valid: a.valid[i], Rejected: a.reject[i], Validity: 1}
		if a.records > 0 {
			f.Completeness = float64(f.Present) / float64(a.records)
		}
		if judged := f.Present + f.Rejected; judged > 0 {
			f.Validity = float64(f.Valid) / float64(judged)
			wV += w.weight
			sumV += w.weight * f.Validity
		}
		wC += w.weight
		sumC += w.weight * f.Completeness
		r.Fields = append(r.Fields, f)
	}
	if a.records == 0 {
		r.Validity = 1
		return r
	}
	r.Completeness = sumC / wC
	r.Validity = 1
	if wV > 0 {
		r.Validity = sumV / wV
	}
	d := float64(a.dups) / float64(a.records)
	n := float64(a.noCP) / float64(a.records)
	score := 100 * (0.4*r.Completeness + 0.4*r.Validity + 0.1*(1-d) + 0.1*(1-n))
	r.Score = math.Round(score*10) / 10
	return r
}
