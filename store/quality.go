package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// Data quality (the formula is documented in model/quality.go). The report
// scans every customer once — about a second per million — so the cockpit
// does not run it on every refresh: ComputeQuality stores its result as a
// snapshot (analytics bucket, key "quality") that QualitySnapshot reads in
// microseconds. `karton quality`, `karton import` and the analytics run
// refresh it; the cockpit calls ComputeQuality after its own imports.

// ManualSource names the customers no import brought (typed in, or
// created by the consent engine): they have no source id.
const ManualSource = "(manual)"

// SourceQuality is the quality of one source's customers with what its
// imports did.
type SourceQuality struct {
	model.QualityReport
	Import *SourceSummary `json:"import,omitempty"`
}

// QualityOverview is the store's quality report.
type QualityOverview struct {
	ComputedAt time.Time           `json:"computed_at"`
	Overall    model.QualityReport `json:"overall"`
	Sources    []SourceQuality     `json:"sources"`
}

// Source returns the report of one source.
func (q *QualityOverview) Source(name string) (SourceQuality, bool) {
	for _, s := range q.Sources {
		if s.Source == name {
			return s, true
		}
	}
	return SourceQuality{}, false
}

// qualityPage is the number of customers read per read transaction: a
// million-customer scan must not hold one read transaction for seconds.
const qualityPage = 20000

// ComputeQuality computes the quality report overall and per source,
// stores it as the latest snapshot and returns it. A customer counts for
// every source it has an id from; customers without any count for
// ManualSource.
func (s *Store) ComputeQuality(by model.Actor, opt model.QualityOptions) (QualityOverview, error) {
	var out QualityOverview
	if err := by.Require(model.PermSeeAggregates, "compute the quality report"); err != nil {
		return out, err
	}
	defer s.readAhead()() // it reads every customer
	now := s.now()
	dups := map[model.CustomerID]struct{}{}
	var summaries []SourceSummary
	latest := map[string]ImportBatch{} // newest customer import per source
	err := s.View(by, func(r *Reader) error {
		var err error
		if summaries, err = r.SourceSummaries(); err != nil {
			return err
		}
		if b := r.tx.Bucket(bImports); b != nil {
			err := b.ForEach(func(k, v []byte) error {
				var bt ImportBatch
				if json.Unmarshal(v, &bt) == nil && bt.Entity == ImportCustomers {
					latest[bt.Source] = bt // ids ascend, so the last one wins
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return r.forOpenSuggestions(func(a, b model.CustomerID) {
			dups[a], dups[b] = struct{}{}, struct{}{}
		})
	})
	if err != nil {
		return out, err
	}
	overall := model.NewQualityAccumulator("", opt)
	per := map[string]*model.QualityAccumulator{}
	acc := func(src string) *model.QualityAccumulator {
		a := per[src]
		if a == nil {
			a = model.NewQualityAccumulator(src, opt)
			per[src] = a
		}
		return a
	}
	var after uint64
	for {
		n := 0
		err := s.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bCustomers).Cursor()
			var cust model.Customer
			for k, v := c.Seek(u64(after + 1)); k != nil && n < qualityPage; k, v = c.Next() {
				after = readU64(k)
				n++
				if err := decodeCustomer(v, &cust); err != nil {
					return fmt.Errorf("customer %d: %w", after, err)
				}
				_, dup := dups[cust.ID]
				overall.Add(&cust, now, dup)
				if len(cust.Sources) == 0 {
					acc(ManualSource).Add(&cust, now, dup)
				}
				for i, ref := range cust.Sources {
					if !slices.ContainsFunc(cust.Sources[:i], func(x model.SourceRef) bool { return x.Source == ref.Source }) {
						acc(ref.Source).Add(&cust, now, dup)
					}
				}
			}
			return nil
		})
		if err != nil {
			return out, err
		}
		if n < qualityPage {
			break
		}
	}
	// The values a source's latest customer file brought and that were
	// rejected count against its validity (earlier files were either
	// the same data again or are outdated by it).
	for src, bt := range latest {
		for _, f := range bt.Fields {
			if q := qualityFieldOfImport(f.Field); q != "" && f.Invalid > 0 {
				acc(src).AddRejected(q, f.Invalid)
				overall.AddRejected(q, f.Invalid)
			}
		}
	}
	out.ComputedAt = now
	out.Overall = overall.Report()
	names := make([]string, 0, len(per))
	for n := range per {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		sq := SourceQuality{QualityReport: per[n].Report()}
		for i := range summaries {
			if summaries[i].Source == n {
				sum := summaries[i]
				sum.Customers = sq.Records
				sq.Import = &sum
			}
		}
		out.Sources = append(out.Sources, sq)
	}
	val, err := json.Marshal(out)
	if err != nil {
		return out, err
	}
	err = s.Update(by, func(t *Tx) error {
		if err := t.require(model.PermSeeAggregates, "store the quality report"); err != nil {
			return err
		}
		b, err := t.ensure(bAnalytics)
		if err != nil {
			return err
		}
		return b.Put([]byte("quality"), val)
	})
	return out, err
}

// qualityFieldOfImport maps an import field to the quality field it
// feeds ("" for none).
func qualityFieldOfImport(f string) string {
	switch f {
	case "email", "phone", "street", "postal_code", "city", "country", "birth_date":
		return f
	case "first_name", "last_name":
		return model.QualityName
	}
	return ""
}

// QualitySnapshot returns the latest stored quality report; ok is false
// when none was computed yet.
func (r *Reader) QualitySnapshot() (q QualityOverview, ok bool, err error) {
	b := r.tx.Bucket(bAnalytics)
	if b == nil {
		return q, false, nil
	}
	v := b.Get([]byte("quality"))
	if v == nil {
		return q, false, nil
	}
	if err := json.Unmarshal(v, &q); err != nil {
		return q, false, fmt.Errorf("quality snapshot: %w", errCorrupt)
	}
	return q, true, nil
}

// forOpenSuggestions visits the pairs of open merge suggestions.
func (r *Reader) forOpenSuggestions(fn func(a, b model.CustomerID)) error {
	b := r.tx.Bucket(bMergeHints)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if len(k) != 16 || readU64(k) >= readU64(k[8:]) {
			return nil
		}
		var s MergeSuggestion
		if err := decodeSuggestion(k, v, &s); err != nil {
			return err
		}
		if !s.Dismissed {
			fn(s.A, s.B)
		}
		return nil
	})
}

// Quality drill-down problems beyond a field's model.QualityProblem.
const (
	IssueMissing        = "missing"
	IssueInvalid        = "invalid"
	IssueDuplicate      = "duplicate"
	IssueNoContactPoint = "no_contact_point"
)

// QualityIssueQuery asks for the customers behind one figure of the
// report: a field that is missing or invalid, suspected duplicates, or
// records without a contact point; of one source or ("") all.
type QualityIssueQuery struct {
	Source  string
	Field   string // a model.Quality* field, for missing and invalid
	Problem string // IssueMissing, IssueInvalid, IssueDuplicate, IssueNoContactPoint
	After   model.CustomerID
	Limit   int
	Options model.QualityOptions
}

// QualityIssuePage is a page of affected customers in id order. Next is
// the After of the next page; More says whether the scan stopped before
// the end (at Limit, or after examining 50,000 customers, so a rare issue
// cannot stall a screen).
type QualityIssuePage struct {
	Customers []model.Customer
	Next      model.CustomerID
	More      bool
}

// QualityIssues lists the customers behind a figure of the quality
// report, masked for actors who may not see personal data.
func (r *Reader) QualityIssues(q QualityIssueQuery) (QualityIssuePage, error) {
	var page QualityIssuePage
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 50
	}
	switch q.Problem {
	case IssueMissing, IssueInvalid:
		if !slices.Contains(model.QualityFields(), q.Field) {
			return page, fmt.Errorf("quality field %q: one of %v", q.Field, model.QualityFields())
		}
	case IssueDuplicate, IssueNoContactPoint:
	default:
		return page, fmt.Errorf("quality problem %q: one of missing, invalid, duplicate, no_contact_point", q.Problem)
	}
	dups := map[model.CustomerID]struct{}{}
	if q.Problem == IssueDuplicate {
		if err := r.forOpenSuggestions(func(a, b model.CustomerID) { dups[a], dups[b] = struct{}{}, struct{}{} }); err != nil {
			return page, err
		}
	}
	now := r.s.now()
	c := r.tx.Bucket(bCustomers).Cursor()
	scanned := 0
	var cust model.Customer
	for k, v := c.Seek(u64(uint64(q.After) + 1)); k != nil; k, v = c.Next() {
		if len(page.Customers) == q.Limit || scanned == 50000 {
			page.More = true
			return page, nil
		}
		scanned++
		page.Next = model.CustomerID(readU64(k))
		if err := decodeCustomer(v, &cust); err != nil {
			return page, fmt.Errorf("customer %d: %w", page.Next, err)
		}
		if cust.Erased || !inSource(&cust, q.Source) {
			continue
		}
		hit := false
		switch q.Problem {
		case IssueMissing:
			hit = model.CheckQualityField(&cust, q.Field, now, q.Options) == model.QualityMissing
		case IssueInvalid:
			hit = model.CheckQualityField(&cust, q.Field, now, q.Options) == model.QualityInvalid
		case IssueDuplicate:
			_, hit = dups[cust.ID]
		case IssueNoContactPoint:
			hit = cust.ContactPoints == 0
		}
		if hit {
			page.Customers = append(page.Customers, r.present(&cust))
		}
	}
	return page, nil
}

func inSource(c *model.Customer, source string) bool {
	switch source {
	case "":
		return true
	case ManualSource:
		return len(c.Sources) == 0
	}
	_, ok := c.SourceID(source)
	return ok
}
