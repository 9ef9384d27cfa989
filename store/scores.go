package store

import (
	"time"

	"karton/model"
)

// Scores are the analytics a warehouse run computes per customer (RFM and
// CLV). They live apart from the customer record because they are
// recomputed in bulk, and audiences read them (rfm_segment, clv).
//
//	bucket scores   cid   scores
var bScores = []byte("scores")

// CustomerScores is one customer's latest analytics.
type CustomerScores struct {
	R, F, M    uint8
	Segment    model.RFMSegment
	CLV        model.Money // expected value over the CLV horizon
	PAlive     float64
	Expected   float64 // expected purchases over the CLV horizon
	ComputedAt time.Time
}

const scoresVersion = 1

func encodeScores(s *CustomerScores) []byte {
	var e encoder
	e.byte1(scoresVersion)
	e.byte1(s.R)
	e.byte1(s.F)
	e.byte1(s.M)
	e.byte1(byte(s.Segment))
	e.varint(int64(s.CLV))
	e.float(s.PAlive)
	e.float(s.Expected)
	e.time(s.ComputedAt)
	return e.buf
}

func decodeScores(b []byte, s *CustomerScores) error {
	d := decoder{b: b}
	d.version(scoresVersion, "scores")
	s.R, s.F, s.M = d.byte1(), d.byte1(), d.byte1()
	s.Segment = model.RFMSegment(d.byte1())
	s.CLV = model.Money(d.varint())
	s.PAlive = d.float()
	s.Expected = d.float()
	s.ComputedAt = d.time()
	return d.done("scores")
}

// PutScores stores a customer's analytics (any actor who may see
// aggregates may run the analytics that write them).
func (t *Tx) PutScores(cid model.CustomerID, s CustomerScores) error {
	if err := t.require(model.PermSeeAggregates, "compute analytics"); err != nil {
		return err
	}
	return t.bucket(bScores).Put(u64(uint64(cid)), t.keep(encodeScores(&s)))
}

// Scores returns a customer's analytics; ok is false when none were
// computed yet.
func (r *Reader) Scores(cid model.CustomerID) (s CustomerScores, ok bool, err error) {
	v := r.tx.Bucket(bScores).Get(u64(uint64(cid)))
	if v == nil {
		return s, false, nil
	}
	return s, true, decodeScores(v, &s)
}
