package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// Audiences: which customers a segment selects. Membership is decided on
// the stored customer records in id order, reading only the fields the
// segment's conditions need (model.Predicate.Needs) straight from the
// encoded bytes — no full decode, no allocation for the fields skipped —
// and the scores bucket alongside in the same key order when a condition
// reads RFM or CLV. Texts that repeat across customers (cities, countries,
// tags, attribute values) are interned, so a scan of a million customers
// allocates little more than its own bookkeeping.

// CompileSegment compiles a segment's conditions against the store's clock.
func (s *Store) CompileSegment(seg model.Segment) (*model.Predicate, error) {
	p, err := model.CompileSegment(seg.Conditions, s.now())
	if err != nil {
		return nil, fmt.Errorf("segment %d %q: %w", seg.ID, seg.Name, err)
	}
	return p, nil
}

// SegmentSize counts the members of a saved segment now.
func (r *Reader) SegmentSize(id model.SegmentID) (int, error) {
	seg, err := r.Segment(id)
	if err != nil {
		return 0, err
	}
	p, err := r.s.CompileSegment(seg)
	if err != nil {
		return 0, err
	}
	return r.CountAudience(p)
}

// CountAudience counts the customers a predicate selects.
func (r *Reader) CountAudience(p *model.Predicate) (int, error) {
	n := 0
	_, _, err := r.scanAudience(p, 0, 0, func(model.CustomerID, []byte) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}

// SegmentSizes counts several segments in one pass over the customers,
// in the order given. A segment whose conditions do not compile gets -1
// and its error in errs (nil when all compiled).
func (r *Reader) SegmentSizes(segs []model.Segment) (sizes []int, errs []error, err error) {
	if r.tx.Writable() { // uncommitted state: never shared
		return r.segmentSizes(segs)
	}
	defs, err := segmentsKey(segs)
	if err != nil {
		return r.segmentSizes(segs)
	}
	key := sizesKey{txid: r.tx.ID(), minute: r.s.now().Unix() / 60, defs: defs}
	return r.s.sizes.do(key, func() ([]int, []error, error) { return r.segmentSizes(segs) })
}

// segmentSizes counts the segments in one pass over the customers.
func (r *Reader) segmentSizes(segs []model.Segment) (sizes []int, errs []error, err error) {
	sizes = make([]int, len(segs))
	errs = make([]error, len(segs))
	preds := make([]*model.Predicate, len(segs))
	var needs model.AudienceNeeds
	bad := false
	for i, sg := range segs {
		p, cerr := r.s.CompileSegment(sg)
		if cerr != nil {
			sizes[i], errs[i], bad = -1, cerr, true
			continue
		}
		preds[i] = p
		needs |= p.Needs()
	}
	if !bad {
		errs = nil
	}
	ar := newAudienceReader(r.tx, needs)
	c := r.tx.Bucket(bCustomers).Cursor()
	n := 0
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 8 {
			continue
		}
		f, derr := ar.read(readU64(k), v)
		if derr != nil {
			return sizes, errs, fmt.Errorf("customer %d: %w", readU64(k), derr)
		}
		for i, p := range preds {
			if p != nil && p.Match(f) {
				sizes[i]++
			}
		}
		if n++; n%releaseEvery == 0 {
			r.release()
		}
	}
	r.release()
	return sizes, errs, nil
}

// AudienceMembers lists up to limit members after the customer id after
// (0: from the first), in id order, for previews and samples.
func (r *Reader) AudienceMembers(p *model.Predicate, after model.CustomerID, limit int) ([]model.CustomerID, error) {
	var out []model.CustomerID
	_, _, err := r.scanAudience(p, after, 0, func(cid model.CustomerID, _ []byte) (bool, error) {
		out = append(out, cid)
		return len(out) < limit, nil
	})
	return out, err
}

// scanAudience visits the members of p with ids greater than after, in id
// order, with each member's stored record (valid only during the call).
// It stops when fn returns false, after maxScan customers were looked at
// (0: no limit), or at the end. last is the id of the last customer looked
// at (member or not), from which a later scan continues; end says the
// customers are exhausted.
func (r *Reader) scanAudience(p *model.Predicate, after model.CustomerID, maxScan int, fn func(cid model.CustomerID, rec []byte) (bool, error)) (last model.CustomerID, end bool, err error) {
	ar := newAudienceReader(r.tx, p.Needs())
	c := r.tx.Bucket(bCustomers).Cursor()
	last = after
	scanned := 0
	for k, v := c.Seek(u64(uint64(after) + 1)); ; k, v = c.Next() {
		if k == nil {
			return last, true, nil
		}
		if len(k) != 8 {
			continue
		}
		cid := model.CustomerID(readU64(k))
		f, err := ar.read(uint64(cid), v)
		if err != nil {
			return last, false, fmt.Errorf("customer %d: %w", cid, err)
		}
		last = cid
		scanned++
		if p.Match(f) {
			more, err := fn(cid, v)
			if err != nil || !more {
				return last, false, err
			}
		}
		if maxScan > 0 && scanned >= maxScan {
			return last, false, nil
		}
	}
}

// audienceReader fills model.AudienceFacts from encoded customer records
// (the format of encodeCustomer), decoding only what is needed.
type audienceReader struct {
	needs  model.AudienceNeeds
	facts  model.AudienceFacts
	intern map[string]string
	scores *bolt.Cursor
	sk, sv []byte // the scores cursor's current entry
	seeked bool   // the cursor was placed at the scan's first customer
	full   model.Customer
}

// internLimit bounds the interned texts: cities and tags repeat, but a
// field that does not (a free attribute) must not grow the table forever.
const internLimit = 1 << 14

func newAudienceReader(tx *bolt.Tx, needs model.AudienceNeeds) *audienceReader {
	a := &audienceReader{needs: needs, intern: make(map[string]string)}
	if needs.Has(model.NeedAttributes) {
		a.facts.Attributes = make(map[string]string)
	}
	if needs.Has(model.NeedPreferences) {
		a.facts.Preferences = make(map[string]string)
	}
	if needs.Has(model.NeedScores) {
		a.scores = tx.Bucket(bScores).Cursor()
	}
	return a
}

// str returns b as a string, shared with earlier equal texts.
func (a *audienceReader) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := a.intern[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(a.intern) < internLimit {
		a.intern[s] = s
	}
	return s
}

var (
	typeBusiness = []byte(model.Business)
	typeConsumer = []byte(model.Consumer)
)

// read decodes the facts of customer cid from its record v. The returned
// pointer is reused by the next call.
func (a *audienceReader) read(cid uint64, v []byte) (*model.AudienceFacts, error) {
	f := &a.facts
	if a.needs.Has(model.NeedScores) {
		if err := a.readScores(cid); err != nil {
			return nil, err
		}
	}
	if len(v) == 0 || v[0] != customerVersion {
		// A format this lean reader does not know: take the slow, sure way.
		if err := decodeCustomer(v, &a.full); err != nil {
			return nil, err
		}
		has, seg, clv := f.HasScores, f.RFMSegment, f.CLV
		*f = model.AudienceFactsOf(&a.full)
		f.HasScores, f.RFMSegment, f.CLV = has, seg, clv
		return f, nil
	}
	d := decoder{b: v[1:]}
	d.uvarint() // id
	switch t := d.raw(); {
	case bytes.Equal(t, typeBusiness):
		f.Type = model.Business
	case bytes.Equal(t, typeConsumer):
		f.Type = model.Consumer
	default:
		f.Type = model.ContactType(a.str(t))
	}
	for range 7 { // salutation, first and last name, company, email, phone, street
		d.raw()
	}
	postal, city, country := d.raw(), d.raw(), d.raw()
	if a.needs.Has(model.NeedAddress) {
		f.PostalCode, f.City, f.Country = a.str(postal), a.str(city), a.str(country)
	}
	f.BirthDate = decodeDate(&d)
	a.readMap(&d, f.Attributes, a.needs.Has(model.NeedAttributes))
	a.readMap(&d, f.Preferences, a.needs.Has(model.NeedPreferences))
	n := d.count()
	f.Tags = f.Tags[:0]
	for range n {
		t := d.raw()
		if a.needs.Has(model.NeedTags) {
			f.Tags = append(f.Tags, a.str(t))
		}
	}
	for range d.count() { // sources
		d.raw()
		d.raw()
	}
	f.CreatedAt = d.time()
	d.time() // updated
	d.bool() // erased
	d.time() // erased at
	d.bool() // suppressed
	f.LastActivityAt = d.time()
	f.PurchaseCount = int(d.uvarint())
	f.Revenue = model.Money(d.varint())
	d.time() // first purchase
	f.LastPurchaseAt = d.time()
	if d.err != nil {
		return nil, fmt.Errorf("decode customer: %w", d.err)
	}
	return f, nil
}

func (a *audienceReader) readMap(d *decoder, m map[string]string, keep bool) {
	if keep {
		clear(m)
	}
	for range d.count() {
		k, v := d.raw(), d.raw()
		if keep {
			m[a.str(k)] = a.str(v)
		}
	}
}

// readScores moves the scores cursor to cid (both buckets are in id order,
// so the cursor only ever moves forward during a scan).
func (a *audienceReader) readScores(cid uint64) error {
	f := &a.facts
	if !a.seeked {
		a.sk, a.sv = a.scores.Seek(u64(cid))
		a.seeked = true
	}
	for a.sk != nil && readU64(a.sk) < cid {
		a.sk, a.sv = a.scores.Next()
	}
	f.HasScores, f.RFMSegment, f.CLV = false, model.RFMUnscored, 0
	if a.sk == nil || readU64(a.sk) != cid {
		return nil
	}
	var s CustomerScores
	if err := decodeScores(a.sv, &s); err != nil {
		return fmt.Errorf("scores of customer %d: %w", cid, err)
	}
	f.HasScores, f.RFMSegment, f.CLV = true, s.Segment, s.CLV
	return nil
}
