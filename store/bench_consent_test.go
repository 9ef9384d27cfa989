package store_test

// Benchmarks for the performance table of issue 3 (consent engine). Pure
// evaluation is measured in model (BenchmarkDecide10Events). The fixture
// (100k customers, or 1M with KARTON_BENCH_1M=1) is described in
// bench_fixture_test.go.
//
//	KARTON_BENCH_1M=1 go test -run '^$' -bench Consent -count 5 -timeout 60m ./store

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"karton/model"
	"karton/store"
)

// checkScopes are the scopes the Check benchmark cycles through: every
// purpose on the channels a campaign uses most.
func checkScopes(fx *fixture) []store.CheckInput {
	var out []store.CheckInput
	for _, k := range []model.ChannelKind{model.KindEmail, model.KindSMS, model.KindPhone, model.KindPostal} {
		for _, p := range fx.purposes {
			out = append(out, store.CheckInput{Channel: k, Purpose: p.ID})
		}
	}
	return out
}

// BenchmarkConsentCheck decides one customer × channel × purpose now
// through the store (customer, purpose, full consent history, projection,
// contact-pressure count, decision table), a different customer and scope
// each iteration. "view" opens a read transaction per check, as `karton
// consent check` does; "tx" runs all checks in one read transaction, as a
// launch does. Target (1M customers): ≤ 20 µs.
func BenchmarkConsentCheck(b *testing.B) {
	fx := benchFixture(b)
	s := fx.openRead(b)
	scopes := checkScopes(fx)
	input := func(i int) store.CheckInput {
		in := scopes[i%len(scopes)]
		in.Customer = fx.sample[i%len(fx.sample)]
		return in
	}
	b.Run("view", func(b *testing.B) {
		b.ReportAllocs()
		i, allowed := 0, 0
		for b.Loop() {
			in := input(i)
			i++
			err := s.View(benchAdmin, func(r *store.Reader) error {
				res, err := r.Check(in)
				if res.Allow {
					allowed++
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(allowed)/float64(i), "allowed/op")
	})
	b.Run("tx", func(b *testing.B) {
		b.ReportAllocs()
		err := s.View(benchAdmin, func(r *store.Reader) error {
			i := 0
			for b.Loop() {
				if _, err := r.Check(input(i)); err != nil {
					return err
				}
				i++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	})
}

// importBatch is the number of lines of one import in
// BenchmarkConsentImport.
const importBatch = 20000

// consentLines builds an import file of n lines as a consent platform
// would export it: opt-ins with evidence (40 %), DOI requests and
// confirmations, opt-outs; customers named by id (70 %), by the email of
// an existing customer (25 %) or by a new email (5 %, which creates the
// customer); effective times over the last year.
func consentLines(fx *fixture, r *rand.Rand, n int, round int) ([]byte, error) {
	channels := []string{"email", "sms", "phone", "postal"}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for j := range n {
		l := store.ConsentLine{
			Channel: channels[r.IntN(len(channels))],
			Purpose: fx.purposes[r.IntN(len(fx.purposes))].Name,
			At:      benchAsOf.Add(-time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Second).Format(time.RFC3339),
			Source:  "bench-import",
		}
		switch x := r.IntN(100); {
		case x < 40:
			l.Kind = string(model.ConsentOptIn)
			l.TextVersion = "newsletter-v3"
			l.Evidence = map[string]string{"ip": "203.0.113." + strconv.Itoa(r.IntN(250)), "form": "footer", "user_agent": "Mozilla/5.0"}
		case x < 55:
			l.Kind = string(model.ConsentDOIRequested)
		case x < 80:
			l.Kind = string(model.ConsentDOIConfirmed)
		default:
			l.Kind = string(model.ConsentOptOut)
		}
		switch x := r.IntN(100); {
		case x < 70:
			l.Customer = json.RawMessage(strconv.Itoa(1 + r.IntN(fx.customers)))
		case x < 95:
			l.CustomerEmail = fx.emails[r.IntN(len(fx.emails))]
		default:
			l.CustomerEmail = "neu." + strconv.Itoa(round) + "." + strconv.Itoa(j) + "@bench.example.de"
		}
		if err := enc.Encode(&l); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// BenchmarkConsentImport imports JSON Lines of consent events (20,000 per
// iteration, fresh lines each time) into a private copy of the fixture:
// parse, validate, resolve customers, append to the ledger with evidence,
// update the projection and reach counters, audit each event. Target:
// ≥ 50,000 events/s.
func BenchmarkConsentImport(b *testing.B) {
	benchConsentImport(b, importBatch, 99, 0)
}

// BenchmarkConsentImportFile imports one large file per iteration
// (consentFileLines lines, as a migration from a consent platform brings)
// into a private copy of the fixture. BenchmarkConsentImport's 20,000-line
// files pay a commit for every 20,000 events spread over the whole store;
// a large file is written in fewer, larger transactions.
//
//	KARTON_BENCH_1M=1 go test -run '^$' -bench ConsentImportFile -benchtime 1x -count 5 ./store
func BenchmarkConsentImportFile(b *testing.B) {
	benchConsentImport(b, consentFileLines, 101, 1000)
}

// benchConsentImport imports files of n generated lines (random stream
// stream; rounds numbered from round, so that new customers' emails differ
// between the benchmarks sharing the fixture copy) and reports events/s.
func benchConsentImport(b *testing.B, n int, stream uint64, round int) {
	fx := benchFixture(b)
	path := fx.writableCopy(b)
	s, err := store.Open(path, store.Options{Now: benchClock})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(benchSeed, stream))
	b.ReportAllocs()
	written := 0
	for b.Loop() {
		b.StopTimer()
		round++
		data, err := consentLines(fx, r, n, round)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := s.ImportConsents(benchAdmin, "bench.jsonl", bytes.NewReader(data), false)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Rejected > 0 {
			b.Fatalf("%d lines rejected, e.g. %+v", rep.Rejected, rep.Rejections[0])
		}
		written += rep.Written
	}
	b.ReportMetric(float64(written)/b.Elapsed().Seconds(), "events/s")
}

// consentFileLines is the size of one file in BenchmarkConsentImportFile.
const consentFileLines = 500_000

// BenchmarkConsentAuditVerify walks and recomputes the whole audit chain
// (one entry per consent event and per other audited act: about 3 per
// customer, so ~300k entries at 100k customers and ~3M at 1M). Target:
// 1M entries in ≤ 5 s; the s/1M-entries metric normalises to that.
func BenchmarkConsentAuditVerify(b *testing.B) {
	fx := benchFixture(b)
	s := fx.openRead(b)
	b.ReportAllocs()
	var res store.VerifyResult
	n := 0
	for b.Loop() {
		n++
		var err error
		if res, err = s.VerifyAudit(); err != nil {
			b.Fatal(err)
		}
		if !res.OK {
			b.Fatalf("chain broken at %d: %s", res.BrokenSeq, res.Reason)
		}
	}
	perOp := b.Elapsed().Seconds() / float64(n)
	b.ReportMetric(float64(res.Entries), "entries")
	b.ReportMetric(perOp/float64(res.Entries)*1e6, "s/1M-entries")
}
