package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// The import writes in batches with deferred, sorted ledger records and a
// projection recomputed once per customer and batch. These tests hold it to
// the plain path: the same lines appended one by one with AppendConsent,
// each in its own transaction, must leave byte-identical buckets (ledger,
// evidence, projection, reach counters, customers, audit chain).

// importTestSecret makes suppression hashes (and so audit payloads) equal
// across the stores a test compares.
var importTestSecret = bytes.Repeat([]byte{7}, 32)

// newImportStore builds the same small store every time: three purposes,
// 30 customers (some with a phone), one erased customer whose address came
// back as a suppressed customer, and one erased customer.
func newImportStore(t testing.TB) *Store { return newImportStoreN(t, 30) }

// newImportStoreN is newImportStore with n regular customers.
func newImportStoreN(t testing.TB, n int) *Store {
	t.Helper()
	clock := &testClock{t: testNow}
	s, err := Open(filepath.Join(t.TempDir(), "k.db"), Options{Now: clock.now, Secret: importTestSecret})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		for _, p := range []model.Purpose{
			{Name: "newsletter", Category: model.CategoryMarketing, OwnSimilarProducts: true},
			{Name: "service", Category: model.CategoryService},
			{Name: "profiling", Category: model.CategoryProfiling},
		} {
			if err := tx.InsertPurpose(&p); err != nil {
				return err
			}
		}
		for i := 1; i <= n; i++ {
			c := model.Customer{FirstName: "Kunde", LastName: strconv.Itoa(i), Email: fmt.Sprintf("c%d@example.de", i)}
			if i%3 == 0 {
				c.Phone = fmt.Sprintf("+491511234%04d", i)
			}
			if err := tx.InsertCustomer(&c); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.EraseCustomer(7) }))
	gone := addCustomer(t, s, model.Customer{LastName: "Weg", Email: "weg@example.de"})
	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.EraseCustomer(gone) }))
	back := addCustomer(t, s, model.Customer{LastName: "Wieder", Email: "WEG@example.de"})
	require.NoError(t, s.View(admin, func(r *Reader) error {
		c, err := r.Customer(back)
		require.NoError(t, err)
		require.True(t, c.Suppressed)
		return nil
	}))
	return s
}

// importTestLines builds n lines, mostly valid, some invalid in every way
// the import reports.
func importTestLines(seed uint64, n int) []byte { return importTestLinesFor(seed, n, 30) }

// importTestLinesFor is importTestLines for a store of newImportStoreN(customers).
func importTestLinesFor(seed uint64, n, customers int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	channels := []string{"email", "sms", "phone", "postal", "email", "email"}
	purposes := []string{"newsletter", "service", "profiling", "Newsletter "}
	kinds := []string{"opt_in", "opt_in", "doi_requested", "doi_confirmed", "doi_confirmed", "opt_out", "objection", "b2b_basis", "parental_consent"}
	var buf bytes.Buffer
	for j := range n {
		l := map[string]any{
			"channel": channels[r.IntN(len(channels))],
			"purpose": purposes[r.IntN(len(purposes))],
			"kind":    kinds[r.IntN(len(kinds))],
			"at":      testNow.Add(-time.Duration(r.Int64N(int64(700 * 24 * time.Hour)))).Truncate(time.Second).Format(time.RFC3339),
		}
		if r.IntN(3) == 0 {
			l["source"] = "shop"
		}
		if l["kind"] == "opt_in" && r.IntN(2) == 0 {
			l["evidence"] = map[string]string{"ip": "192.0.2." + strconv.Itoa(r.IntN(250)), "form": "footer"}
			l["text_version"] = "v3"
		}
		switch x := r.IntN(100); {
		case x < 50:
			l["customer"] = 1 + r.IntN(customers+3)
		case x < 55:
			l["customer"] = strconv.Itoa(1 + r.IntN(customers+3))
		case x < 75:
			l["customer_email"] = fmt.Sprintf("C%d@Example.de", 1+r.IntN(customers))
		case x < 80:
			l["customer_email"] = "weg@example.de"
		default:
			l["customer_email"] = fmt.Sprintf("neu%d@example.de", r.IntN(customers/2))
		}
		switch r.IntN(40) {
		case 0:
			buf.WriteString("this is not json\n")
			continue
		case 1:
			l["colour"] = "blue"
		case 2:
			l["at"] = "01.01.2025"
		case 3:
			l["purpose"] = "nope"
		case 4:
			l["customer"] = 999
			delete(l, "customer_email")
		case 5:
			l["at"] = testNow.Add(48 * time.Hour).Format(time.RFC3339)
		case 6:
			l["evidence"] = map[string]string{"bad key!": "x"}
		case 7:
			delete(l, "customer")
			l["customer_email"] = "broken@"
		case 8:
			l["recorded_at"] = testNow.Add(-time.Hour).Format(time.RFC3339)
		case 9:
			buf.WriteString("\n")
		}
		b, _ := json.Marshal(l)
		buf.Write(b)
		if j%50 == 49 {
			buf.WriteString("\r") // CRLF files are common exports
		}
		buf.WriteString("\n")
	}
	return buf.Bytes()
}

// importOneByOne is the reference: each valid line through the plain
// write path in a transaction of its own, together with the customer a
// new email makes (a rejected line leaves no customer behind).
func importOneByOne(t *testing.T, s *Store, data []byte) (written, created int, rejected []int) {
	t.Helper()
	var purposes map[string]model.PurposeID
	require.NoError(t, s.View(admin, func(r *Reader) error {
		ps, err := r.Purposes()
		purposes = map[string]model.PurposeID{}
		for _, p := range ps {
			purposes[p.Name] = p.ID
		}
		return err
	}))
	for i, raw := range strings.Split(string(data), "\n") {
		line := i + 1
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		var l ConsentLine
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		if dec.Decode(&l) != nil {
			rejected = append(rejected, line)
			continue
		}
		ev, evi, cid, email, err := l.toEvent(purposes)
		if err != nil {
			rejected = append(rejected, line)
			continue
		}
		if cid == 0 {
			require.NoError(t, s.View(admin, func(r *Reader) error {
				if v := r.tx.Bucket(bCustEmail).Get([]byte(model.NormalizeEmail(email))); v != nil {
					cid = model.CustomerID(readU64(v))
				}
				return nil
			}))
		}
		isNew := cid == 0
		err = s.Update(admin, func(tx *Tx) error {
			if isNew {
				nc := model.Customer{Email: email}
				if err := tx.InsertCustomer(&nc); err != nil {
					return err
				}
				cid = nc.ID
			}
			ev.CustomerID = cid
			return tx.AppendConsent(&ev, evi)
		})
		if err != nil {
			require.True(t, isRowError(err), "line %d: %v", line, err)
			rejected = append(rejected, line)
			continue
		}
		if isNew {
			created++
		}
		written++
	}
	return written, created, rejected
}

// importInOneTx is the reference for one batch: the valid lines through
// the plain write path (AppendConsent, the projection flushed once at the
// end) in one transaction, as an import's batch is one.
func importInOneTx(t *testing.T, s *Store, data []byte) (written, created int) {
	t.Helper()
	var purposes map[string]model.PurposeID
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		ps, err := tx.Reader().Purposes()
		purposes = map[string]model.PurposeID{}
		for _, p := range ps {
			purposes[p.Name] = p.ID
		}
		if err != nil {
			return err
		}
		for _, raw := range strings.Split(string(data), "\n") {
			raw = strings.TrimSpace(raw)
			if raw == "" {
				continue
			}
			var l ConsentLine
			dec := json.NewDecoder(strings.NewReader(raw))
			dec.DisallowUnknownFields()
			if dec.Decode(&l) != nil {
				continue
			}
			ev, evi, cid, email, err := l.toEvent(purposes)
			if err != nil {
				continue
			}
			if cid == 0 {
				if v := tx.tx.Bucket(bCustEmail).Get([]byte(model.NormalizeEmail(email))); v != nil {
					cid = model.CustomerID(readU64(v))
				} else {
					probe := ev
					probe.CustomerID = ^model.CustomerID(0)
					if tx.checkConsent(&probe, evi) != nil {
						continue
					}
					nc := model.Customer{Email: email}
					if tx.InsertCustomer(&nc) != nil {
						continue
					}
					cid = nc.ID
					created++
				}
			}
			ev.CustomerID = cid
			if err := tx.AppendConsent(&ev, evi); err != nil {
				if !isRowError(err) {
					return err
				}
				continue
			}
			written++
		}
		return nil
	}))
	return written, created
}

// dumpBuckets copies every bucket's records.
func dumpBuckets(t *testing.T, s *Store) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			m := map[string]string{}
			out[string(name)] = m
			return b.ForEach(func(k, v []byte) error {
				m[string(k)] = string(v)
				return nil
			})
		})
	}))
	return out
}

func dropZeroCounters(dump map[string]map[string]string) {
	for k, v := range dump["counters"] {
		if readU64([]byte(v)) == 0 {
			delete(dump["counters"], k)
		}
	}
}

func rejectedLines(rep ImportReport) []int {
	var out []int
	for _, r := range rep.Rejections {
		out = append(out, r.Line)
	}
	return out
}

func TestConsentImportEqualsAppendingOneByOne(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			data := importTestLines(seed, 700)
			imp, ref := newImportStore(t), newImportStore(t)
			rep, err := imp.ImportConsents(admin, "t.jsonl", bytes.NewReader(data), false)
			require.NoError(t, err)
			written, created, rejected := importOneByOne(t, ref, data)
			require.Greater(t, written, 400)
			assert.Equal(t, written, rep.Written)
			assert.Equal(t, created, rep.CustomersCreated)
			assert.Equal(t, rejected, rejectedLines(rep))
			assert.Equal(t, rep.Read, rep.Written+rep.Rejected)

			got, want := dumpBuckets(t, imp), dumpBuckets(t, ref)
			// A counter that went up and down again in separate
			// transactions is stored as 0; within one it is not stored.
			dropZeroCounters(got)
			dropZeroCounters(want)
			for name, recs := range want {
				switch name {
				case "audit", "meta", "imports":
					continue
				}
				assert.Equal(t, recs, got[name], "bucket %s", name)
			}
			// The chain: the same entries, then the import's own.
			require.Len(t, got["audit"], len(want["audit"])+1)
			for k, v := range want["audit"] {
				require.Equal(t, v, got["audit"][k], "audit entry %d", readU64([]byte(k)))
			}
			v, err := imp.VerifyAudit()
			require.NoError(t, err)
			assert.True(t, v.OK, v.Reason)

			// The maintained reach counters equal a recount from scratch.
			_, err = imp.RebuildConsentState(admin)
			require.NoError(t, err)
			again := dumpBuckets(t, imp)
			dropZeroCounters(again)
			assert.Equal(t, got["counters"], again["counters"])
		})
	}
}

// TestConsentImportEqualsOneTransaction has enough customers for the
// projection to be computed by several workers.
func TestConsentImportEqualsOneTransaction(t *testing.T) {
	const customers = 1500
	data := importTestLinesFor(6, 5000, customers)
	imp, ref := newImportStoreN(t, customers), newImportStoreN(t, customers)
	rep, err := imp.ImportConsents(admin, "t.jsonl", bytes.NewReader(data), false)
	require.NoError(t, err)
	written, created := importInOneTx(t, ref, data)
	require.Greater(t, written, 3000)
	assert.Equal(t, written, rep.Written)
	assert.Equal(t, created, rep.CustomersCreated)
	got, want := dumpBuckets(t, imp), dumpBuckets(t, ref)
	for name, recs := range want {
		switch name {
		case "audit", "meta":
			continue
		}
		assert.Equal(t, recs, got[name], "bucket %s", name)
	}
	require.Len(t, got["audit"], len(want["audit"])+1)
	for k, v := range want["audit"] {
		require.Equal(t, v, got["audit"][k], "audit entry %d", readU64([]byte(k)))
	}
}

// A file written in windows, each in customer order over several
// transactions, leaves the store as one transaction in file order does:
// the same customers, histories, evidence, decisions, counters and audit
// entries; only the ledger's order across customers (event ids, the
// chain's order) differs. (Writing one customer's lines in reverse makes
// it fail: their decisions differ.)
func TestConsentImportInWindowsEqualsOneBatch(t *testing.T) {
	for _, chunk := range []int{37, 5, 1} {
		t.Run(strconv.Itoa(chunk), func(t *testing.T) {
			data := importTestLines(4, 500)
			one, many := newImportStore(t), newImportStore(t)
			rep1, err := one.importConsents(admin, "t.jsonl", bytes.NewReader(data), consentImportOptions{chunkLines: consentChunk})
			require.NoError(t, err)
			rep2, err := many.importConsents(admin, "t.jsonl", bytes.NewReader(data), consentImportOptions{chunkLines: chunk})
			require.NoError(t, err)
			assert.Equal(t, rep1, rep2)
			assertSameConsentData(t, one, many)
		})
	}
}

// orderByCustomer puts a window's lines in the order of their customers,
// each customer's lines in file order, and last the lines of customers not
// on record, in file order; customerRuns never splits a customer's run.
func TestConsentImportWindowOrderKeepsEachCustomersOrder(t *testing.T) {
	batch := []parsedConsent{
		{line: 1, cid: 8}, {line: 2, norm: "neu@example.de"}, {line: 3, cid: 3},
		{line: 4, norm: "c8@example.de"}, {line: 5, cid: 99}, {line: 6, cid: 8},
		{line: 7, norm: "neu@example.de"}, {line: 8, cid: 3},
	}
	s := newImportStore(t)
	require.NoError(t, s.orderByCustomer(admin, batch))
	var lines []int
	for _, p := range batch {
		lines = append(lines, p.line)
	}
	// Customer 3, then 8 (by id and by its address, in file order), then
	// the tail in file order: a new address and an id not handed out yet.
	assert.Equal(t, []int{3, 8, 1, 4, 6, 2, 5, 7}, lines)
	assert.Equal(t, model.CustomerID(8), batch[3].orderedByAddress(), "the address's customer is remembered")
	assert.Zero(t, batch[2].orderedByAddress(), "named by id")
	assert.Zero(t, batch[5].orderedByAddress(), "a new address")
	runs := customerRuns(batch, 2)
	var sizes []int
	for _, r := range runs {
		sizes = append(sizes, len(r))
	}
	assert.Equal(t, []int{2, 3, 2, 1}, sizes, "customer 8's run is not split; the tail is")
}

// An address that moves to another customer between ordering and writing
// (here: its customer is erased meanwhile) is not written out of order:
// the line is rejected, and says why.
func TestConsentImportRejectsAnAddressThatMovedWhileWriting(t *testing.T) {
	s := newImportStore(t)
	line := func(who string) string {
		return `{` + who + `,"channel":"email","purpose":"service","kind":"opt_in","at":"2025-01-01T10:00:00Z"}` + "\n"
	}
	data := line(`"customer":1`) + line(`"customer_email":"c5@example.de"`) + line(`"customer":2`)
	erased := false
	consentGroupHook = func(g int) error {
		if g == 1 && !erased {
			erased = true
			_, err := s.EraseCustomer(admin, 5)
			require.NoError(t, err)
		}
		return nil
	}
	t.Cleanup(func() { consentGroupHook = nil })
	rep, err := s.importConsents(admin, "t.jsonl", strings.NewReader(data), consentImportOptions{chunkLines: 1})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Written)
	require.Len(t, rep.Rejections, 1)
	assert.Equal(t, 2, rep.Rejections[0].Line)
	assert.Contains(t, rep.Rejections[0].Reason, "moved to another customer")
}

// A file of known size is cut into windows of about equal size, so that
// no small last window spreads its transactions over every customer.
func TestConsentImportWindowsOfEqualSize(t *testing.T) {
	assert.Equal(t, 0, windowBytesFor(-1), "a pipe: no limit by size")
	assert.Equal(t, 1000, windowBytesFor(1000))
	assert.Equal(t, consentWindowBytes, windowBytesFor(consentWindowBytes))
	assert.Equal(t, consentWindowBytes/2+1, windowBytesFor(consentWindowBytes+2), "two halves, not a full window and two bytes")
	assert.Equal(t, 100<<20, windowBytesFor(300<<20))
	assert.Equal(t, consentChunk*consentWindowChunks, consentWindowFor(consentChunk))
	assert.Equal(t, consentWindowMax, consentWindowFor(consentChunkSmall))
	assert.Equal(t, 24, consentWindowFor(2))
}

// assertSameConsentData compares two stores that imported the same lines
// in different orders across customers.
func assertSameConsentData(t *testing.T, a, b *Store) {
	t.Helper()
	da, db := dumpBuckets(t, a), dumpBuckets(t, b)
	ordered := map[string]bool{"consent": true, "consent_ids": true, "consent_state": true, "evidence": true, "audit": true, "meta": true}
	for name, recs := range da {
		if !ordered[name] {
			assert.Equal(t, recs, db[name], "bucket %s", name)
		}
	}
	type event struct {
		E        model.ConsentEvent
		Evidence model.Evidence
	}
	type customer struct {
		History []event
		State   []ScopeState // EventID: the position in History, +1
	}
	read := func(s *Store) map[model.CustomerID]customer {
		out := map[model.CustomerID]customer{}
		require.NoError(t, s.View(admin, func(r *Reader) error {
			for cid := model.CustomerID(1); cid <= model.CustomerID(r.tx.Bucket(bCustomers).Sequence()); cid++ {
				evs, err := r.ConsentHistory(cid)
				if err != nil {
					return err
				}
				var c customer
				pos := map[model.EventID]model.EventID{}
				for i, e := range evs {
					ev, err := r.Evidence(e.ID)
					if err != nil {
						return err
					}
					pos[e.ID] = model.EventID(i + 1)
					e.ID = 0
					c.History = append(c.History, event{e, ev})
				}
				cs, err := r.ConsentState(cid)
				if err != nil {
					return err
				}
				if cs != nil {
					for _, sc := range cs.Scopes {
						sc.EventID = pos[sc.EventID]
						c.State = append(c.State, sc)
					}
				}
				out[cid] = c
			}
			return nil
		}))
		return out
	}
	ca, cb := read(a), read(b)
	require.NotEmpty(t, ca)
	for cid, c := range ca {
		assert.Equal(t, c, cb[cid], "customer %d", cid)
	}
	entries := func(s *Store) []string {
		v, err := s.VerifyAudit()
		require.NoError(t, err)
		require.True(t, v.OK, "the chain verifies")
		var out []string
		require.NoError(t, s.View(admin, func(r *Reader) error {
			es, err := r.AuditEntries(0, 1<<20)
			for _, e := range es {
				out = append(out, e.Actor+" "+e.Action+" "+e.Subject)
			}
			return err
		}))
		slices.Sort(out)
		return out
	}
	assert.Equal(t, entries(a), entries(b), "the same audit entries")
}

func TestConsentImportTransactionSizeFollowsTheStore(t *testing.T) {
	assert.Equal(t, consentChunkSmall, consentChunkFor(0))
	assert.Equal(t, consentChunkSmall, consentChunkFor(smallConsentStore))
	assert.Equal(t, consentChunk, consentChunkFor(smallConsentStore+1))
	assert.Equal(t, consentChunk, consentChunkFor(1_000_000))
	assert.Greater(t, consentChunkSmall, consentChunk, "small stores take the larger transactions")
}

func TestConsentImportDryRunWritesNothing(t *testing.T) {
	data := importTestLines(5, 300)
	s := newImportStore(t)
	before := dumpBuckets(t, s)
	dry, err := s.importConsents(admin, "t.jsonl", bytes.NewReader(data), consentImportOptions{dryRun: true, chunkLines: 41})
	require.NoError(t, err)
	assert.True(t, dry.DryRun)
	assert.Equal(t, before, dumpBuckets(t, s))
	real, err := s.ImportConsents(admin, "t.jsonl", bytes.NewReader(data), false)
	require.NoError(t, err)
	dry.DryRun = false
	assert.Equal(t, dry, real, "a dry run reports what the import does")
}

// A line over the cap is a rejected line like any other: the lines around
// it are read and written, in whichever batch it falls, and a long last
// line without a line break is reported too.
func TestConsentImportRejectsOverlongLines(t *testing.T) {
	s := newImportStore(t)
	ok := `{"customer":1,"channel":"email","purpose":"service","kind":"opt_in","at":"2025-01-01T10:00:00Z"}`
	long := `{"customer":1,"source":"` + strings.Repeat("x", maxLineBytes) + `"}`
	data := ok + "\n" + long + "\n" + ok + "\n" + ok + "\n" + long
	rep, err := s.importConsents(admin, "t.jsonl", strings.NewReader(data), consentImportOptions{dryRun: false, chunkLines: 2})
	require.NoError(t, err)
	assert.Equal(t, 5, rep.Read)
	assert.Equal(t, 3, rep.Written)
	require.Len(t, rep.Rejections, 2)
	for i, line := range []int{2, 5} {
		assert.Equal(t, line, rep.Rejections[i].Line)
		assert.Contains(t, rep.Rejections[i].Reason, "the line is longer than 64 KiB")
	}
	sum := sha256.Sum256([]byte(data))
	assert.Equal(t, hex.EncodeToString(sum[:]), rep.SHA256, "every byte was read")

	// A line just under the cap is read (and judged on its fields).
	under := `{"customer":1,"source":"` + strings.Repeat("x", maxLineBytes-40) + `"}`
	rep, err = s.ImportConsents(admin, "t.jsonl", strings.NewReader(under+"\r\n"), false)
	require.NoError(t, err)
	require.Len(t, rep.Rejections, 1)
	assert.NotContains(t, rep.Rejections[0].Reason, "longer than")
}

func TestConsentImportNeedsPermission(t *testing.T) {
	s := newImportStore(t)
	viewer := model.Actor{Name: "vera", Role: model.RoleViewer, Via: "test"}
	_, err := s.ImportConsents(viewer, "t.jsonl", strings.NewReader("{}\n"), false)
	var pe *model.PermissionError
	require.True(t, errors.As(err, &pe), "%v", err)
}

// A line naming a new email whose event is rejected creates no customer:
// nothing of a rejected line is written, in a dry run or for real.
func TestConsentImportRejectedLineCreatesNoCustomer(t *testing.T) {
	s := newImportStore(t)
	future := testNow.Add(48 * time.Hour).Format(time.RFC3339)
	data := `{"customer_email":"spaeter@example.de","channel":"email","purpose":"newsletter","kind":"opt_in","at":"` + future + `"}` + "\n" +
		`{"customer_email":"gross@example.de","channel":"email","purpose":"newsletter","kind":"opt_in","at":"2025-01-01T10:00:00Z","evidence":{"blob":"` + strings.Repeat("x", 5000) + `"}}` + "\n" +
		`{"customer_email":"gut@example.de","channel":"email","purpose":"newsletter","kind":"opt_in","at":"2025-01-01T10:00:00Z"}` + "\n"
	before := dumpBuckets(t, s)
	for _, dry := range []bool{true, false} {
		rep, err := s.ImportConsents(admin, "t.jsonl", strings.NewReader(data), dry)
		require.NoError(t, err)
		assert.Equal(t, []int{1, 2}, rejectedLines(rep), "dry run %v", dry)
		assert.Contains(t, rep.Rejections[0].Reason, "in the future")
		assert.Contains(t, rep.Rejections[1].Reason, "evidence")
		assert.Equal(t, 1, rep.Written)
		assert.Equal(t, 1, rep.CustomersCreated, "only the written line's customer")
		if dry {
			assert.Equal(t, before, dumpBuckets(t, s))
		}
	}
	require.NoError(t, s.View(admin, func(r *Reader) error {
		for email, want := range map[string]bool{"spaeter@example.de": false, "gross@example.de": false, "gut@example.de": true} {
			_, err := r.CustomerByEmail(email)
			assert.Equal(t, want, err == nil, "%s: %v", email, err)
		}
		return nil
	}))
}

// Each kind of bad line is rejected with a reason in the file's terms
// (field names, JSON types), and nothing of it is written.
func TestConsentImportLineErrors(t *testing.T) {
	const ok = `"channel":"email","purpose":"newsletter","kind":"opt_in","at":"2025-01-01T10:00:00Z"`
	cases := []struct{ line, reason string }{
		{`{"customer":1,"customer_email":"c2@example.de",` + ok + `}`, "customer_email: customer 1 has another email address"},
		{`{"customer":1,` + ok + `,"evidence":{"n":5}}`, `evidence: values must be text, not a JSON number`},
		{`{"customer":1,` + ok + `,"evidence":"ip"}`, "evidence: expected an object of text values, got a JSON string"},
		{`{"customer":1,"kind":"erasure","at":"2025-01-01T10:00:00Z"}`, "kind: erasure cannot be imported"},
		{`{"customer":1,` + ok + `,"colour":"blue"}`, `unknown field "colour" (fields: customer, customer_email, channel`},
		{`[1,2]`, "the line is a JSON array; one event object a line"},
		{`null`, "the line is JSON null; one event object a line"},
		{`{"customer":1,"channel":"email","purpose":"newsletter","kind":5}`, "kind: expected a string, got a JSON number"},
		{`{"customer":1,` + ok, "not a JSON object with consent fields: unexpected EOF"},
		{`{"customer":"x1",` + ok + `}`, `customer: "x1" is not a customer id`},
		{`{"customer":1,"customer":2,` + ok + `}`, `"customer" is given twice in the line`},
		{`{"customer":1,` + ok + `,"evidence":{"ip":"192.0.2.1","ip":"192.0.2.2"}}`, `"evidence.ip" is given twice in the line`},
	}
	s := newImportStore(t)
	before := dumpBuckets(t, s)
	var data strings.Builder
	for _, c := range cases {
		data.WriteString(c.line + "\n")
	}
	rep, err := s.ImportConsents(admin, "t.jsonl", strings.NewReader(data.String()), false)
	require.NoError(t, err)
	require.Len(t, rep.Rejections, len(cases))
	for i, c := range cases {
		assert.Equal(t, i+1, rep.Rejections[i].Line)
		assert.Contains(t, rep.Rejections[i].Reason, c.reason, "line %d: %s", i+1, c.line)
	}
	after := dumpBuckets(t, s)
	for _, d := range []map[string]map[string]string{before, after} {
		// The import's own audit entry and its note of the file are the
		// only changes.
		delete(d, "audit")
		delete(d, "consent_files")
		delete(d["meta"], "audit_head")
	}
	assert.True(t, reflect.DeepEqual(before, after), "nothing of a rejected line is written")
}

// What spreadsheet tools and consent platforms write is read as meant: a
// byte order mark before the first line, ids as strings with spaces, an
// email in another case next to the id of the same customer, names of
// channels, purposes and kinds in capitals.
func TestConsentImportLenientForms(t *testing.T) {
	s := newImportStore(t)
	data := "\xef\xbb\xbf" + `{"customer":1,"channel":"email","purpose":"newsletter","kind":"opt_in","at":"2025-01-01T10:00:00Z"}` + "\n" +
		`{"customer":" 2 ","customer_email":" C2@Example.DE ","channel":"Email","purpose":"Newsletter","kind":"OPT_IN","at":"2025-01-01T10:00:00+01:00"}` + "\n"
	rep, err := s.ImportConsents(admin, "t.jsonl", strings.NewReader(data), false)
	require.NoError(t, err)
	assert.Empty(t, rep.Rejections)
	assert.Equal(t, 2, rep.Written)
}

// failingReader returns its data, then an error instead of the end.
type failingReader struct{ r io.Reader }

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("disk read error")
	}
	return n, err
}

// An import that fails midway says through which line the store holds it:
// the windows before the failure are committed, nothing after. A window
// is read whole before any of it is written, so a read error leaves
// nothing of it behind.
func TestConsentImportFailingMidwaySaysWhereItStopped(t *testing.T) {
	s := newImportStore(t)
	window := consentWindowFor(2)
	ok := `{"customer":1,"channel":"email","purpose":"service","kind":"opt_in","at":"2025-01-01T10:00:00Z"}` + "\n"
	rep, err := s.importConsents(admin, "t.jsonl", failingReader{strings.NewReader(strings.Repeat(ok, window+5))}, consentImportOptions{dryRun: false, chunkLines: 2})
	var pe *PartialImportError
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, err.Error(), "disk read error")
	assert.Contains(t, err.Error(), fmt.Sprintf("lines 1–%d were imported before it (%d events written) and stay: import the file from line %d on", window, window, window+1))
	assert.Equal(t, window, pe.Through, "one window")
	assert.Equal(t, window, rep.Written)
	var n int
	require.NoError(t, s.View(admin, func(r *Reader) error {
		evs, err := r.ConsentHistory(1)
		n = len(evs)
		return err
	}))
	assert.Equal(t, window, n, "the lines after the window were read but not written")
}

// A transaction that fails inside a window written in customer order says
// which of the window's lines are in the store: those of the customers
// written so far, named by their id.
func TestConsentImportFailingInsideAWindowSaysWhatItWrote(t *testing.T) {
	line := func(who string) string {
		return `{` + who + `,"channel":"email","purpose":"service","kind":"opt_in","at":"2025-01-01T10:00:00Z"}` + "\n"
	}
	// Customers 4, 2, 9 and a new address, twice over: ordered 2 2 | 4 4 |
	// 9 9 | new new, two lines a transaction.
	data := strings.Repeat(line(`"customer":4`)+line(`"customer":2`)+line(`"customer_email":"c9@example.de"`)+line(`"customer_email":"neu@example.de"`), 2)
	for _, c := range []struct {
		failAt int
		want   string
	}{
		{2, "of lines 1–8 (a window written in customer order), 4 events were written too: those of customers up to id 4 that were on record when the import began"},
		{3, "of lines 1–8 (a window written in customer order), 6 events were written too: those of customers up to id 9"},
	} {
		s := newImportStore(t)
		consentGroupHook = func(g int) error {
			if g == c.failAt {
				return errors.New("no space left on device")
			}
			return nil
		}
		rep, err := s.importConsents(admin, "t.jsonl", strings.NewReader(data), consentImportOptions{chunkLines: 2})
		consentGroupHook = nil
		var pe *PartialImportError
		require.ErrorAs(t, err, &pe)
		assert.Contains(t, err.Error(), "no space left on device")
		assert.Contains(t, err.Error(), c.want)
		assert.Equal(t, 0, pe.Through)
		assert.Equal(t, c.failAt*2, rep.Written)
		require.NoError(t, s.View(admin, func(r *Reader) error {
			for _, cid := range []model.CustomerID{2, 4, 9} {
				evs, err := r.ConsentHistory(cid)
				if err != nil {
					return err
				}
				want := 0
				if (cid == 2 && c.failAt >= 1) || (cid == 4 && c.failAt >= 2) || (cid == 9 && c.failAt >= 3) {
					want = 2
				}
				assert.Len(t, evs, want, "customer %d", cid)
			}
			return nil
		}))
	}
}

// A file imported before is refused, named with its first import, unless
// imported again on purpose; a dry run says so too. Only what can seek (a
// file) is recognised, and a file that wrote nothing may come again.
func TestConsentImportRefusesAFileImportedBefore(t *testing.T) {
	s := newImportStore(t)
	dir := t.TempDir()
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
		return path
	}
	events := func() int64 {
		var n int64
		require.NoError(t, s.View(admin, func(r *Reader) error { n = r.Counter("consent_events"); return nil }))
		return n
	}
	imp := func(path string, again, dryRun bool) (ImportReport, error) {
		f, err := os.Open(path)
		require.NoError(t, err)
		defer f.Close()
		if again {
			return s.ImportConsentsAgain(admin, filepath.Base(path), f, dryRun)
		}
		return s.ImportConsents(admin, filepath.Base(path), f, dryRun)
	}
	const lines = `{"customer":1,"channel":"email","purpose":"newsletter","kind":"opt_in","at":"2025-01-01T10:00:00Z"}
{"customer":2,"channel":"email","purpose":"newsletter","kind":"opt_out","at":"2025-01-02T10:00:00Z"}
`
	first := write("march.jsonl", lines)
	rep, err := imp(first, false, false)
	require.NoError(t, err)
	require.Equal(t, 2, rep.Written)
	n := events()

	for _, dry := range []bool{false, true} {
		_, err = imp(first, false, dry)
		var ib *ImportedBeforeError
		require.ErrorAs(t, err, &ib, "dry run %v", dry)
		assert.Equal(t, "march.jsonl", ib.Before.File)
		assert.Equal(t, 2, ib.Before.Written)
		assert.Equal(t, rep.SHA256, ib.Before.SHA256)
		assert.Contains(t, err.Error(), "march.jsonl was imported before (by ada on 2026-03-02 10:00 UTC, 2 events written")
		assert.Contains(t, err.Error(), "give --again")
	}
	_, err = imp(write("copy.jsonl", lines), false, false)
	assert.ErrorContains(t, err, "copy.jsonl holds the same bytes as march.jsonl, imported before")
	assert.Equal(t, n, events(), "nothing written twice")

	// Through a pipe the file is not known ahead.
	rep, err = s.ImportConsents(admin, "pipe", io.MultiReader(strings.NewReader(lines)), true)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Written)

	rep, err = imp(first, true, false)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Written)
	assert.Equal(t, n+2, events(), "imported again on purpose")

	bad := write("bad.jsonl", `{"customer":1,"channel":"fax","purpose":"newsletter","kind":"opt_in","at":"2025-01-01T10:00:00Z"}`+"\n")
	for range 2 {
		rep, err = imp(bad, false, false)
		require.NoError(t, err, "a file that wrote nothing may come again")
		assert.Equal(t, 1, rep.Rejected)
	}
}

// FuzzConsentImportNeverPanics imports arbitrary bytes as a dry run: lines
// may be rejected, the file as a whole refused, but the import never
// crashes.
//
//	go test ./store -run '^$' -fuzz FuzzConsentImportNeverPanics -fuzztime 2m
func FuzzConsentImportNeverPanics(f *testing.F) {
	f.Add(importTestLines(5, 7))
	f.Add([]byte(`{"customer_email":"Neu@Example.de","channel":"sms","purpose":"newsletter","kind":"doi_confirmed","at":"2025-01-01T10:00:00+01:00","recorded_at":"2025-01-02T10:00:00Z","evidence":{"ip":"192.0.2.1"}}` + "\n" + `{"customer":" 3 ","kind":"objection","at":"2025-01-01T10:00:00Z","basis":"consent","text_version":"v1"}`))
	f.Add([]byte("null\n[]\n{}\n\xef\xbb\xbf{\"customer\":1}"))
	s := newImportStore(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := s.ImportConsents(admin, "fuzz.jsonl", bytes.NewReader(data), true)
		if err == nil && rep.Read != rep.Written+rep.Rejected {
			t.Fatalf("read %d, written %d, rejected %d", rep.Read, rep.Written, rep.Rejected)
		}
	})
}
