package store

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"karton/internal/jsonkeys"
	"karton/model"
)

// ConsentLine is one line of a consent import (JSON Lines), with the same
// fields as `karton consent record`. The customer is named by id or by
// email; a customer named by an email that does not exist yet is created.
type ConsentLine struct {
	Customer      json.RawMessage   `json:"customer"` // id as number or string
	CustomerEmail string            `json:"customer_email"`
	Channel       string            `json:"channel"`
	Purpose       string            `json:"purpose"`
	Kind          string            `json:"kind"`
	Basis         string            `json:"basis"`
	At            string            `json:"at"`          // effective time, RFC 3339
	RecordedAt    string            `json:"recorded_at"` // optional; default: now
	Source        string            `json:"source"`
	TextVersion   string            `json:"text_version"`
	Evidence      map[string]string `json:"evidence"`
}

// Rejection names a line that was not imported and why.
type Rejection struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// ImportReport says what an import did (or, in a dry run, would do).
type ImportReport struct {
	File             string      `json:"file,omitempty"`
	SHA256           string      `json:"sha256"`
	DryRun           bool        `json:"dry_run"`
	Read             int         `json:"read"`
	Written          int         `json:"written"`
	CustomersCreated int         `json:"customers_created"`
	Rejected         int         `json:"rejected"`
	Rejections       []Rejection `json:"rejections"`
}

// PartialImportError is an import that failed after some of its batches
// were committed (an unreadable file, a full disk): the lines through
// Through are in the store, Written events in all, and the lines after
// them are not, except for what Partly says of the window of lines that
// was being written when it failed (a long file is written a window at a
// time in customer order; "" if nothing of that window was written).
type PartialImportError struct {
	Err     error
	Through int
	Written int
	Partly  string
}

func (e *PartialImportError) Error() string {
	if e.Partly == "" {
		return fmt.Sprintf("%v; lines 1–%d were imported before it (%d events written) and stay: import the file from line %d on", e.Err, e.Through, e.Written, e.Through+1)
	}
	msg := e.Err.Error()
	if e.Through > 0 {
		msg += fmt.Sprintf("; lines 1–%d were imported before it and stay", e.Through)
	}
	return msg + "; " + e.Partly + fmt.Sprintf(" (%d events written in all)", e.Written)
}

func (e *PartialImportError) Unwrap() error { return e.Err }

// errDryRun rolls a dry-run batch back after it did all its checks.
var errDryRun = errors.New("dry run")

// maxLineBytes caps one JSON line (evidence is capped at 4 KiB).
const maxLineBytes = 64 << 10

// consentChunk is how many lines are parsed and written in one
// transaction. Each event for a random customer dirties a page of the
// customer-clustered ledger and one of the projection, and every commit
// rewrites the branch pages above them, so fewer, larger transactions
// write less; the cap bounds the memory of one transaction.
//
// Stores of at most smallConsentStore customers take consentChunkSmall:
// there a 50k-event transaction already dirties nearly every page of the
// two customer-keyed buckets (~19k pages at 100k customers), so twice the
// events per transaction write about the same pages once instead of twice
// (100k demo store, interleaved runs: +15–25 % events/s for +0.1 GB peak
// RSS). On larger stores every event dirties pages of its own and larger
// transactions only cost memory (1M store: −8 % and +1 GB).
const (
	consentChunk      = 50_000
	consentChunkSmall = 100_000
	smallConsentStore = 200_000
)

// consentChunkFor is the transaction size for a store of that many
// customers.
func consentChunkFor(customers int64) int {
	if customers <= smallConsentStore {
		return consentChunkSmall
	}
	return consentChunk
}

// A long file is read a window of lines at a time, and a window's events
// are written in the order of the customers they name, a transaction for
// each run of customers (orderByCustomer). Written in file order, each
// transaction of a long file dirties pages all over the two
// customer-keyed buckets, and the next one dirties the same pages again;
// in customer order a window rewrites each page about once. A 500k-event
// file on the 1M store (BenchmarkConsentImportFile, interleaved runs):
// 32.3k events/s in file order, 56.4k and 53.7k in customer order, the
// benchmark's peak RSS the same (2.2–2.3 GB): what a written transaction's
// lines held is let go. The caps bound the memory of the parsed lines; an
// input of known size is cut into windows of equal size (windowBytesFor).
const (
	consentWindowChunks = 12
	consentWindowMax    = 600_000
	consentWindowBytes  = 128 << 20
)

// consentWindowFor is the lines of one window for transactions of
// chunkLines lines.
func consentWindowFor(chunkLines int) int {
	return max(chunkLines, min(chunkLines*consentWindowChunks, consentWindowMax))
}

// tailKey orders last the lines whose customer was not on record when
// their window was ordered: they are written in file order, after the
// others, and create their customers as a file-ordered import would.
const tailKey = ^model.CustomerID(0)

// parsedConsent is a line that passed the checks needing no store.
type parsedConsent struct {
	line  int
	ev    model.ConsentEvent
	evi   model.Evidence
	cid   model.CustomerID
	email string
	norm  string // email, normalized for the index
	// Found by a customerPrefetch: the customer the email belonged to
	// when the batch's transaction began (0 if none), and the customer,
	// loaded (nil if not found).
	known model.CustomerID
	cc    *cachedCustomer
	// Set by orderByCustomer: the customer the line is ordered by
	// (tailKey if none; 0 in a batch that was not ordered).
	key model.CustomerID
}

// orderedByAddress is the customer a line naming its customer by email
// was ordered by, the one the address belonged to then (0 if none): the
// address must still belong to it when the line is written.
func (p *parsedConsent) orderedByAddress() model.CustomerID {
	if p.cid != 0 || p.key == tailKey {
		return 0
	}
	return p.key
}

// ImportConsents reads consent events as JSON Lines and appends the valid
// ones in batches; every invalid line is reported with its number and
// reason and nothing of it is written. With dryRun every check runs
// (including those against the store) and each batch is rolled back.
//
// Lines are parsed in parallel, a window at a time. A window of more lines
// than one transaction takes is written in customer order: first the
// events of customers on record when the window began, by customer id,
// then the others (new addresses, which create their customers) in file
// order; one customer's events always keep their order in the file, and
// a transaction never splits a customer's run (orderByCustomer). Within a
// transaction, events are appended in that order (ledger ids and audit
// entries follow it), with their customers loaded ahead on the other
// cores; their customer-clustered records and projections are written in
// key order at the end of the transaction, the projections computed on
// all cores (flushImportedConsents). The import's own audit entry is written in
// the transaction of the last batch, so the whole import is durable when
// this returns.
//
// A file imported before (the same bytes) is refused with an
// *ImportedBeforeError, so that running an import twice does not record
// every event twice; ImportConsentsAgain imports it all the same. The file
// is recognised only when r can seek (a file, not a pipe): it is read
// twice, once for its hash.
func (s *Store) ImportConsents(by model.Actor, name string, r io.Reader, dryRun bool) (ImportReport, error) {
	return s.importConsents(by, name, r, consentImportOptions{dryRun: dryRun})
}

// ImportConsentsAgain is ImportConsents for a file that may have been
// imported before: its events are appended once more.
func (s *Store) ImportConsentsAgain(by model.Actor, name string, r io.Reader, dryRun bool) (ImportReport, error) {
	return s.importConsents(by, name, r, consentImportOptions{dryRun: dryRun, again: true})
}

type consentImportOptions struct {
	dryRun bool
	again  bool // import a file imported before
	// chunkLines is the lines per transaction (tests use small chunks to
	// cross batch boundaries); 0 chooses by the store's size
	// (consentChunkFor).
	chunkLines int
}

// ImportedBeforeError refuses a consent file whose bytes were imported
// before.
type ImportedBeforeError struct {
	File   string // as named now
	Before ConsentFile
}

func (e *ImportedBeforeError) Error() string {
	b := e.Before
	what := e.File + " was imported before"
	if b.File != e.File {
		what = fmt.Sprintf("%s holds the same bytes as %s, imported before", e.File, b.File)
	}
	return fmt.Sprintf("%s (by %s on %s, %s written; sha256 %.12s…): importing it again would record its events twice; to do that all the same, give --again",
		what, b.By, b.At.Format("2006-01-02 15:04 MST"), eventCount(b.Written), b.SHA256)
}

func eventCount(n int) string {
	if n == 1 {
		return "1 event"
	}
	return strconv.Itoa(n) + " events"
}

// ConsentFile is a consent file as it was imported (consent_files bucket).
type ConsentFile struct {
	SHA256  string    `json:"sha256"`
	File    string    `json:"file"`
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	Written int       `json:"written"`
}

// ConsentFileImported returns the last import of a file with that hash
// (hex SHA-256), if there was one.
func (r *Reader) ConsentFileImported(sum string) (ConsentFile, bool, error) {
	var f ConsentFile
	raw, err := hex.DecodeString(sum)
	b := r.tx.Bucket(bConsentFiles)
	if err != nil || b == nil {
		return f, false, nil
	}
	v := b.Get(raw)
	if v == nil {
		return f, false, nil
	}
	if err := json.Unmarshal(v, &f); err != nil {
		return f, false, fmt.Errorf("imported consent file %.12s: %w", sum, errCorrupt)
	}
	return f, true, nil
}

// fileHash reads r to its end for its SHA-256 and goes back to where it
// was, if r can seek ("" if not).
func fileHash(r io.Reader) (string, error) {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		return "", nil
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return "", nil // a pipe or a terminal: not known ahead
	}
	h := sha256.New()
	if _, err := io.Copy(h, rs); err != nil {
		return "", err
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s *Store) importConsents(by model.Actor, name string, r io.Reader, opts consentImportOptions) (ImportReport, error) {
	dryRun, chunkLines := opts.dryRun, opts.chunkLines
	rep := ImportReport{File: name, DryRun: dryRun, Rejections: []Rejection{}}
	if err := by.Require(model.PermEditCustomers, "import consent events"); err != nil {
		return rep, err
	}
	sum, err := fileHash(r)
	if err != nil {
		return rep, fmt.Errorf("read %s: %w", name, err)
	}
	if sum != "" && !opts.again {
		var before ConsentFile
		var seen bool
		if err := s.View(by, func(rd *Reader) error {
			before, seen, err = rd.ConsentFileImported(sum)
			return err
		}); err != nil {
			return rep, err
		}
		if seen && before.Written > 0 { // nothing would be written twice otherwise
			return rep, &ImportedBeforeError{File: name, Before: before}
		}
	}
	hash := sha256.New()
	lr := lineReader{bufio.NewReaderSize(io.TeeReader(r, hash), maxLineBytes+2)}
	var purposes map[string]model.PurposeID
	if err := s.View(by, func(rd *Reader) error {
		if chunkLines <= 0 {
			chunkLines = consentChunkFor(rd.Counter("customers"))
		}
		ps, err := rd.Purposes()
		purposes = make(map[string]model.PurposeID, len(ps))
		for _, p := range ps {
			purposes[p.Name] = p.ID
		}
		return err
	}); err != nil {
		return rep, err
	}
	var (
		size                     = inputSize(r)
		windowLines, windowBytes = consentWindowFor(chunkLines), windowBytesFor(size)
		chunk                    = newLineChunk(size, windowBytes, windowLines)
		batch                    []parsedConsent
		lineNo                   int
		// dryCreated holds the addresses a dry run's earlier batches
		// created customers for: rolled back, they are created again, but
		// the import would create them once.
		dryCreated = map[string]bool{}
		// done is the last line of the batches committed so far.
		done int
	)
	// partial names what stays of an import that fails midway.
	partial := func(err error) error {
		if done == 0 {
			return err
		}
		return &PartialImportError{Err: err, Through: done, Written: rep.Written}
	}
	for eof := false; !eof; {
		chunk.reset()
		first := lineNo + 1  // the window's first line
		var long []Rejection // lines too long to be events
		for chunk.len() < windowLines && (windowBytes == 0 || len(chunk.buf) < windowBytes) {
			raw, tooLong, err := lr.next()
			if err == io.EOF {
				eof = true
				break
			}
			if err != nil {
				return rep, partial(fmt.Errorf("read %s after line %d: %w", name, lineNo, err))
			}
			lineNo++
			if tooLong {
				long = append(long, Rejection{lineNo, fmt.Sprintf("the line is longer than %d KiB (evidence is capped at %d KiB); one event a line", maxLineBytes>>10, model.MaxEvidenceBytes>>10)})
				continue
			}
			if lineNo == 1 {
				raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")) // a byte order mark, as spreadsheet tools write
			}
			if raw = bytes.TrimSpace(raw); len(raw) > 0 {
				chunk.add(lineNo, raw)
			}
		}
		if eof {
			rep.SHA256 = hex.EncodeToString(hash.Sum(nil))
		}
		rep.Read += len(long)
		rep.Rejected += len(long)
		rep.Rejections = append(rep.Rejections, long...)
		rep.Read += chunk.len()
		var rejected []Rejection
		batch, rejected = chunk.parse(purposes, batch[:0])
		rep.Rejected += len(rejected)
		rep.Rejections = append(rep.Rejections, rejected...)
		if len(batch) == 0 && !(eof && !dryRun) {
			continue
		}
		groups := [][]parsedConsent{batch}
		if len(batch) > chunkLines {
			if err := s.orderByCustomer(by, batch); err != nil {
				return rep, partial(err)
			}
			groups = customerRuns(batch, chunkLines)
		}
		before := rep.Written
		for g, group := range groups {
			err := error(nil)
			if consentGroupHook != nil {
				err = consentGroupHook(g)
			}
			if err == nil {
				err = s.writeConsentBatch(by, group, &rep, dryRun, eof && g == len(groups)-1, dryCreated)
			}
			// What the written lines hold (their customers, evidence) is
			// not needed again.
			for i := range group {
				group[i].cc, group[i].evi, group[i].ev = nil, nil, model.ConsentEvent{}
			}
			if err != nil {
				if g == 0 || dryRun {
					return rep, partial(err)
				}
				last := groups[g-1][len(groups[g-1])-1]
				return rep, &PartialImportError{Err: err, Through: done, Written: rep.Written,
					Partly: windowWritten(first, lineNo, rep.Written-before, last)}
			}
		}
		if !dryRun {
			done = lineNo
		}
	}
	sortRejections(rep.Rejections)
	return rep, nil
}

// consentGroupHook, if set (by tests), runs before each transaction of a
// window (g counts them from 0); an error it returns fails that
// transaction.
var consentGroupHook func(g int) error

// orderByCustomer sorts a window's lines by the customer they name as the
// store holds it now: a line naming a customer on record by id or by an
// address on record takes that customer's id as its key, any other line
// tailKey. Lines of one key keep their file order. An id above the last
// one handed out goes to the tail too, in case the customer is created
// while the window is written: so every customer's lines are in one run,
// whatever happens meanwhile, except where an address moves to another
// customer (an erasure, a merge) before its line is written: that line is
// rejected then (writeConsentBatch), as its place in the order is wrong.
func (s *Store) orderByCustomer(by model.Actor, batch []parsedConsent) error {
	err := s.View(by, func(r *Reader) error {
		last := model.CustomerID(r.tx.Bucket(bCustomers).Sequence())
		emails := r.tx.Bucket(bCustEmail)
		for i := range batch {
			p := &batch[i]
			p.key = tailKey
			switch {
			case p.cid != 0:
				if p.cid <= last {
					p.key = p.cid
				}
			case p.norm != "":
				if v := emails.Get([]byte(p.norm)); v != nil {
					p.key = model.CustomerID(readU64(v))
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Sorted through an index (a parsed line is some 300 bytes), then
	// permuted in place.
	order := make([]int32, len(batch))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(batch[a].key, batch[b].key); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for i := range order {
		if order[i] < 0 {
			continue // placed by an earlier cycle
		}
		// Follow the cycle through i: position j takes the line at order[j].
		held := batch[i]
		j := i
		for {
			k := int(order[j])
			order[j] = -1
			if k == i {
				batch[j] = held
				break
			}
			batch[j] = batch[k]
			j = k
		}
	}
	return nil
}

// customerRuns splits an ordered window into transactions of about
// chunkLines lines, each ending where a customer's run ends (the tail's
// lines, in file order, may be split anywhere).
func customerRuns(batch []parsedConsent, chunkLines int) [][]parsedConsent {
	var groups [][]parsedConsent
	for len(batch) > 0 {
		n := min(chunkLines, len(batch))
		for n < len(batch) && batch[n].key == batch[n-1].key && batch[n].key != tailKey {
			n++
		}
		groups = append(groups, batch[:n])
		batch = batch[n:]
	}
	return groups
}

// windowWritten says what of window first–end was written before a
// transaction failed, when last is the last line written (in the order of
// orderByCustomer).
func windowWritten(first, end, written int, last parsedConsent) string {
	what := fmt.Sprintf("of lines %d–%d (a window written in customer order), %s were written too: ", first, end, eventCount(written))
	if last.key != tailKey {
		return what + fmt.Sprintf("those of customers up to id %d that were on record when the import began (named by id or by an address they had); import the rest of these lines again, then the file from line %d on", last.key, end+1)
	}
	return what + fmt.Sprintf("those of every customer on record when the import began, and of the others, those of lines up to %d; import the rest of these lines again, then the file from line %d on", last.line, end+1)
}

// writeConsentBatch appends a batch of parsed lines in one transaction
// and adds what it did to rep. In the last batch (final) of a real import
// it also writes the import's audit entry with the whole report.
func (s *Store) writeConsentBatch(by model.Actor, batch []parsedConsent, rep *ImportReport, dryRun, final bool, dryCreated map[string]bool) error {
	written, created := 0, 0
	var rejected []Rejection
	var newInBatch []string
	err := s.Update(by, func(t *Tx) error {
		written, created, rejected, newInBatch = 0, 0, rejected[:0], newInBatch[:0]
		t.deferConsentPuts = true
		// Most lines name a customer of their own: sized once, the map of
		// projections to recompute does not grow step by step.
		t.consentDirty = make(map[model.CustomerID]*dirtyScopes, len(batch))
		// Evidence is keyed by event id, so an import appends at the
		// bucket's right edge: full pages instead of bbolt's half-full
		// splits (erasure only ever deletes from it).
		t.bucket(bEvidence).FillPercent = 0.95
		pf := t.prefetchConsentCustomers(batch)
		defer pf.stop()
		emails := t.bucket(bCustEmail)
		for i := range batch {
			p := &batch[i]
			pf.wait(i)
			if owner := p.orderedByAddress(); owner != 0 {
				now := p.known
				if now == 0 {
					if v := emails.Get([]byte(p.norm)); v != nil {
						now = model.CustomerID(readU64(v))
					}
				}
				if now != owner {
					rejected = append(rejected, Rejection{p.line, "customer_email: the address was moved to another customer (an erasure or a merge) while the file was imported; import this line again"})
					continue
				}
			}
			cid := p.cid
			if cid == 0 && p.known != 0 {
				cid = p.known
			}
			t.adoptCustomer(cid, p.cc)
			if cid == 0 {
				// A new address, or one an earlier line of this batch
				// created a customer for.
				norm := p.norm
				if v := emails.Get([]byte(norm)); v != nil {
					cid = model.CustomerID(readU64(v))
				} else {
					// The customer is created only for an event that will
					// be written: a rejected line leaves nothing behind.
					probe := p.ev
					probe.CustomerID = ^model.CustomerID(0) // not known before it is created
					if err := t.checkConsent(&probe, p.evi); err != nil {
						if isRowError(err) {
							rejected = append(rejected, Rejection{p.line, err.Error()})
							continue
						}
						return err
					}
					nc := model.Customer{Email: p.email}
					if err := t.InsertCustomer(&nc); err != nil {
						rejected = append(rejected, Rejection{p.line, "customer_email: " + err.Error()})
						continue
					}
					cid = nc.ID
					if !dryCreated[norm] {
						created++
					}
					if dryRun {
						newInBatch = append(newInBatch, norm)
					}
				}
			}
			if p.cid != 0 && p.norm != "" {
				// Both an id and an email: they must name the same person,
				// or the event might be recorded for the wrong one.
				if cc, err := t.cachedCustomer(cid); err == nil && !cc.cur.Erased {
					if have := model.NormalizeEmail(cc.cur.Email); have != p.norm {
						why := "has another email address"
						if have == "" {
							why = "has no email address on record"
						}
						rejected = append(rejected, Rejection{p.line, fmt.Sprintf("customer_email: customer %d %s; give the id, the email, or both of the same customer", cid, why)})
						continue
					}
				}
			}
			p.ev.CustomerID = cid
			if err := t.AppendConsent(&p.ev, p.evi); err != nil {
				if isRowError(err) {
					rejected = append(rejected, Rejection{p.line, err.Error()})
					continue
				}
				return err
			}
			written++
		}
		if dryRun {
			return errDryRun
		}
		if final {
			sum := *rep
			sum.Written += written
			sum.CustomersCreated += created
			sum.Rejected += len(rejected)
			sum.Rejections = append(slices.Clone(sum.Rejections), rejected...)
			sortRejections(sum.Rejections)
			summary, _ := json.Marshal(sum)
			t.change(ChangeImport, 0)
			if err := t.rememberConsentFile(&sum); err != nil {
				return err
			}
			return t.Audit("import.consents", "file:"+sum.File, summary)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return err
	}
	for _, e := range newInBatch {
		dryCreated[e] = true
	}
	rep.Written += written
	rep.CustomersCreated += created
	rep.Rejected += len(rejected)
	rep.Rejections = append(rep.Rejections, rejected...)
	return nil
}

// rememberConsentFile notes an imported file by its hash, so that
// importing it again is caught.
func (t *Tx) rememberConsentFile(rep *ImportReport) error {
	raw, err := hex.DecodeString(rep.SHA256)
	if err != nil || len(raw) != sha256.Size {
		return fmt.Errorf("import of %s: no SHA-256 of the file", rep.File)
	}
	b, err := t.ensure(bConsentFiles)
	if err != nil {
		return err
	}
	v, err := json.Marshal(ConsentFile{SHA256: rep.SHA256, File: rep.File, At: t.now, By: t.actor.Name, Written: rep.Written})
	if err != nil {
		return err
	}
	return b.Put(raw, v)
}

// prefetchConsentCustomers loads the customers a batch's lines name (by
// id or by email) ahead of the loop that appends their events.
func (t *Tx) prefetchConsentCustomers(batch []parsedConsent) *customerPrefetch {
	return t.prefetchCustomers(len(batch), func(v *prefetchView, i int) {
		p := &batch[i]
		p.known, p.cc = 0, nil
		cid := p.cid
		if cid == 0 {
			if cid = v.byEmail(p.norm); cid == 0 {
				return
			}
			p.known = cid
		}
		p.cc = v.customer(cid)
	})
}

// inputSize is the bytes left to read from r if it knows them (a file, a
// buffer), else -1.
func inputSize(r io.Reader) int64 {
	switch x := r.(type) {
	case interface{ Len() int }:
		return int64(x.Len())
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := x.Stat(); err == nil && fi.Mode().IsRegular() {
			if sk, ok := r.(io.Seeker); ok {
				if at, err := sk.Seek(0, io.SeekCurrent); err == nil {
					return fi.Size() - at
				}
			}
			return fi.Size()
		}
	}
	return -1
}

// windowBytesFor splits an input of size bytes (-1: not known) into
// windows of about equal size, none over consentWindowBytes: a last
// window of a few lines left over would spread its transactions over all
// customers again. 0 means no limit by size.
func windowBytesFor(size int64) int {
	if size <= 0 {
		return 0
	}
	n := (size + consentWindowBytes - 1) / consentWindowBytes
	return int((size + n - 1) / n)
}

// lineReader reads the lines of an import. A line longer than
// maxLineBytes is skipped to its end and reported, so that it is a
// rejected line like any other rather than the end of the import.
type lineReader struct{ br *bufio.Reader }

// next returns the next line (valid until the next call), or tooLong and
// no bytes for a line over the cap; io.EOF after the last line.
func (l *lineReader) next() (line []byte, tooLong bool, err error) {
	line, err = l.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = l.br.ReadSlice('\n')
		}
		if err == io.EOF {
			err = nil // the long line was the last; the next call says so
		}
		return nil, true, err
	}
	if err == io.EOF && len(line) > 0 {
		return line, false, nil // the last line, without a line break
	}
	return line, false, err
}

// lineChunk holds the non-empty lines of one batch, copied into one
// buffer (the reader reuses its own).
type lineChunk struct {
	buf   []byte
	ends  []int // end of each line in buf
	lines []int // line numbers
}

// newLineChunk sizes the buffer for the whole input when its size is
// known (a file, a buffer), up to a cap: growing a buffer of megabytes
// step by step allocates it several times over.
// A window's lines fill at most windowBytes (if not 0) and one line more.
// Growing the buffer of a 100 MB window step by step cost 1.8 s of CPU
// in a 500k-event import (copies, and fresh pages faulted in each time).
func newLineChunk(size int64, windowBytes, windowLines int) lineChunk {
	if size <= 0 {
		return lineChunk{}
	}
	if windowBytes > 0 {
		size = min(size, int64(windowBytes)+maxLineBytes)
	}
	lines := int(min(size/64, int64(windowLines)))
	return lineChunk{buf: make([]byte, 0, size), ends: make([]int, 0, lines), lines: make([]int, 0, lines)}
}

func (c *lineChunk) reset() {
	c.buf, c.ends, c.lines = c.buf[:0], c.ends[:0], c.lines[:0]
}

func (c *lineChunk) len() int { return len(c.lines) }

func (c *lineChunk) add(line int, raw []byte) {
	c.buf = append(c.buf, raw...)
	c.ends = append(c.ends, len(c.buf))
	c.lines = append(c.lines, line)
}

func (c *lineChunk) raw(i int) []byte {
	start := 0
	if i > 0 {
		start = c.ends[i-1]
	}
	return c.buf[start:c.ends[i]]
}

// parse decodes and checks the chunk's lines on all cores, and returns the
// valid ones (appended to out) and the rejections, both in line order.
func (c *lineChunk) parse(purposes map[string]model.PurposeID, out []parsedConsent) ([]parsedConsent, []Rejection) {
	n := c.len()
	// Parsed in place (a line is some 300 bytes parsed), then compacted.
	out = slices.Grow(out[:0], n)[:n]
	errs := make([]string, n)
	workers := min(runtime.GOMAXPROCS(0), max(1, n/512))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				p := &out[i]
				*p = parsedConsent{line: c.lines[i]}
				var l ConsentLine
				if raw := c.raw(i); !parseConsentLineFast(raw, &l) {
					if string(raw) == "null" { // decodes into nothing, without an error
						errs[i] = "not a JSON object with consent fields: the line is JSON null; one event object a line"
						continue
					}
					l = ConsentLine{}
					dec := json.NewDecoder(bytes.NewReader(raw))
					dec.DisallowUnknownFields()
					if err := dec.Decode(&l); err != nil {
						errs[i] = jsonLineError(err)
						continue
					}
					// One object a line: anything after it (a second object,
					// stray text) is a mistake, not something to drop quietly.
					if _, err := dec.Token(); err != io.EOF {
						errs[i] = "not a JSON object with consent fields: more after the object; one event a line"
						continue
					}
					// encoding/json keeps the last of a repeated field;
					// which one was meant is not for Karton to guess.
					if dup, ok := jsonkeys.Repeated(raw); ok {
						errs[i] = fmt.Sprintf("%q is given twice in the line; keep one", dup)
						continue
					}
				}
				var err error
				if p.ev, p.evi, p.cid, p.email, err = l.toEvent(purposes); err != nil {
					errs[i] = err.Error()
				} else if p.email != "" {
					p.norm = model.NormalizeEmail(p.email)
				}
			}
		})
	}
	wg.Wait()
	var rejected []Rejection
	valid := 0
	for i := range out {
		if errs[i] != "" {
			rejected = append(rejected, Rejection{Line: out[i].line, Reason: errs[i]})
			continue
		}
		out[valid] = out[i]
		valid++
	}
	clear(out[valid:]) // let go of what the rejected lines held
	return out[:valid], rejected
}

// jsonLineError says why a line is not a consent event in JSON, in the
// words of the file (field names, JSON types), not of Go.
func jsonLineError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return fmt.Sprintf("not a JSON object with consent fields: the line is a JSON %s; one event object a line", te.Value)
	case errors.As(err, &te):
		if te.Field == "evidence" && te.Type.Kind() == reflect.String {
			return fmt.Sprintf("evidence: values must be text, not a JSON %s (write \"5\", not 5)", te.Value)
		}
		want := "a string"
		if te.Type.Kind() == reflect.Map {
			want = "an object of text values"
		}
		return fmt.Sprintf("%s: expected %s, got a JSON %s", te.Field, want, te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("not a JSON object with consent fields: %v, at byte %d of the line", se, se.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Sprintf("unknown field %s (fields: %s)", strings.TrimPrefix(err.Error(), "json: unknown field "), consentLineFields)
	}
	return fmt.Sprintf("not a JSON object with consent fields: %v", err)
}

// consentLineFields lists the fields of a line, for the error about an
// unknown one.
var consentLineFields = func() string {
	t := reflect.TypeFor[ConsentLine]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		names = append(names, strings.Split(t.Field(i).Tag.Get("json"), ",")[0])
	}
	return strings.Join(names, ", ")
}()

func sortRejections(r []Rejection) {
	slices.SortStableFunc(r, func(a, b Rejection) int { return a.Line - b.Line })
}

// isRowError tells a problem with one record (report it, go on) from a
// failure of the store (stop).
func isRowError(err error) bool {
	var ve *model.ValidationError
	var pe *model.PermissionError
	return errors.As(err, &ve) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.As(err, &pe) ||
		strings.Contains(err.Error(), "was erased")
}

// toEvent checks the fields that need no store access.
func (l *ConsentLine) toEvent(purposes map[string]model.PurposeID) (model.ConsentEvent, model.Evidence, model.CustomerID, string, error) {
	var ev model.ConsentEvent
	kind, err := model.ParseConsentKind(l.Kind)
	if err != nil {
		return ev, nil, 0, "", fmt.Errorf("kind: %v", err)
	}
	ev.Kind = kind
	if kind == model.ConsentErasure {
		return ev, nil, 0, "", errors.New("kind: erasure cannot be imported; erase a customer with `karton customer erase`")
	}
	if kind.Scoped() {
		ch, err := model.ParseChannelKind(l.Channel)
		if err != nil {
			return ev, nil, 0, "", fmt.Errorf("channel: %v", err)
		}
		pid, ok := purposes[strings.ToLower(strings.TrimSpace(l.Purpose))]
		if !ok {
			return ev, nil, 0, "", fmt.Errorf("purpose: unknown purpose %q (see `karton purpose list`)", l.Purpose)
		}
		ev.Channel, ev.PurposeID = ch, pid
	}
	basis, err := model.ParseLegalBasis(l.Basis)
	if err != nil {
		return ev, nil, 0, "", fmt.Errorf("basis: %v", err)
	}
	ev.Basis = basis
	if strings.TrimSpace(l.At) == "" {
		return ev, nil, 0, "", errors.New("at: is missing (RFC 3339 time, e.g. 2025-03-01T12:00:00Z)")
	}
	at, err := time.Parse(time.RFC3339, strings.TrimSpace(l.At))
	if err != nil {
		return ev, nil, 0, "", fmt.Errorf("at: %q is not an RFC 3339 time like 2025-03-01T12:00:00Z", l.At)
	}
	ev.EffectiveAt = at
	if l.RecordedAt != "" {
		rec, err := time.Parse(time.RFC3339, strings.TrimSpace(l.RecordedAt))
		if err != nil {
			return ev, nil, 0, "", fmt.Errorf("recorded_at: %q is not an RFC 3339 time", l.RecordedAt)
		}
		ev.RecordedAt = rec
	}
	ev.Source, ev.TextVersion = l.Source, l.TextVersion
	if ev.Source == "" {
		ev.Source = "import"
	}
	var cid model.CustomerID
	email := strings.TrimSpace(l.CustomerEmail)
	if len(l.Customer) > 0 && string(l.Customer) != "null" {
		s := strings.TrimSpace(strings.Trim(string(l.Customer), `"`))
		id, err := strconv.ParseUint(s, 10, 64)
		if err != nil || id == 0 {
			if strings.Contains(s, "@") && email == "" {
				email = s
			} else {
				return ev, nil, 0, "", fmt.Errorf("customer: %s is not a customer id", l.Customer)
			}
		}
		cid = model.CustomerID(id)
	}
	if cid == 0 && email == "" {
		return ev, nil, 0, "", errors.New("customer: give customer (an id) or customer_email")
	}
	if cid == 0 {
		if err := model.ValidateEmail(email); err != nil {
			return ev, nil, 0, "", fmt.Errorf("customer_email: %v", err)
		}
	}
	var evi model.Evidence
	if len(l.Evidence) > 0 {
		evi = model.Evidence(l.Evidence)
	}
	// The rest (future times, evidence size, …) is checked by AppendConsent.
	return ev, evi, cid, email, nil
}

// flushImportedConsents writes an import batch's ledger records and
// recomputes the projections of its customers: flushConsentPuts and
// flushConsentState in one, with the same decisions, reach counter moves
// and records, but
//
//   - the projections are computed on all cores while this goroutine
//     writes the ledger records: each worker reads the stored history,
//     projection and customers through its own read transaction (which
//     sees what this transaction saw before it wrote) and adds the batch's
//     new events, which are all in consentPuts;
//   - a projection that comes out byte for byte unchanged (most do: a DOI
//     request without consent, an opt-out of what was never allowed) is
//     not written again, which spares the commit a page per customer.
func (t *Tx) flushImportedConsents() error {
	puts := t.consentPuts
	// Keys are customer id and event id, 8 bytes each: integers compare
	// faster than byte strings.
	slices.SortFunc(puts, func(a, b keyVal) int {
		if c := cmp.Compare(binary.BigEndian.Uint64(a.k), binary.BigEndian.Uint64(b.k)); c != 0 {
			return c
		}
		return cmp.Compare(binary.BigEndian.Uint64(a.k[8:]), binary.BigEndian.Uint64(b.k[8:]))
	})
	if len(t.consentDirty) == 0 {
		return t.flushConsentPuts()
	}
	purposes, profiling, err := t.purposesCached()
	if err != nil {
		return err
	}
	ids := make([]model.CustomerID, 0, len(t.consentDirty))
	for id := range t.consentDirty {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	workers := min(runtime.GOMAXPROCS(0), max(1, len(ids)/256))
	parts := make([]projectionPart, workers)
	settings := t.s.Settings()
	var wg sync.WaitGroup
	for w := range workers {
		part := &parts[w]
		part.ids = ids[len(ids)*w/workers : len(ids)*(w+1)/workers]
		wg.Go(func() {
			part.err = t.projectImported(part, puts, purposes, profiling, settings)
		})
	}
	// The workers read puts: written here without sorting again.
	var werr error
	werr = writeLedgerPuts(t.bucket(bConsent), puts)
	t.consentPuts = t.consentPuts[:0]
	wg.Wait()
	if werr != nil {
		return werr
	}
	b := t.bucket(bConsentState)
	for w := range parts {
		part := &parts[w]
		if part.err != nil {
			return part.err
		}
		for _, r := range part.changed {
			val := t.keep(part.buf[r.start:r.end])
			if err := b.Put(t.keep(appendU64(t.scratch[:0], uint64(r.cid))), val); err != nil {
				return err
			}
		}
		for sk, d := range part.reach {
			t.count(reachCounter(sk.k, sk.p), d)
		}
	}
	for _, part := range parts {
		for _, cs := range part.cached {
			t.states[cs.CustomerID] = cs
		}
	}
	t.consentDirty = nil
	return nil
}

// projectionPart is one worker's share of flushImportedConsents: the
// customers it recomputes and what came out.
type projectionPart struct {
	ids     []model.CustomerID
	changed []struct {
		cid        model.CustomerID
		start, end int // the record in buf
	}
	buf    []byte
	reach  map[scopeKey]int64 // moves of the reach counters
	cached []*ConsentState    // new projections of customers in Tx.states
	err    error
}

// projectImported recomputes the projections of part.ids, as
// flushConsentState would in this transaction. It only reads the
// transaction's caches (nothing writes them meanwhile) and the store
// through a read transaction of its own.
func (t *Tx) projectImported(part *projectionPart, puts []keyVal, purposes []model.Purpose, profiling []model.PurposeID, settings model.Settings) error {
	rtx, err := t.s.db.Begin(false)
	if err != nil {
		return err
	}
	defer rtx.Rollback()
	states, ledger, customers := rtx.Bucket(bConsentState), rtx.Bucket(bConsent).Cursor(), rtx.Bucket(bCustomers)
	in := model.DecisionInput{ProfilingPurposes: profiling, Settings: settings, At: t.now, CreativeObjectionNotice: true}
	full := len(model.ChannelKinds) * len(purposes)
	part.reach = make(map[scopeKey]int64)
	var (
		events    []model.ConsentEvent
		key       [8]byte
		old, next ConsentState
		oldScopes []ScopeState // decoded into, reused
		newScopes []ScopeState
	)
	decide := func(k model.ChannelKind, p model.Purpose, prev ScopeState) ScopeState {
		in.Channel, in.Purpose, in.LastContactAt = k, p, prev.LastContact
		d := model.Decide(&in)
		if was := !t.recount && prev.Reason != "" && prev.Allow(); was != d.Allow {
			if d.Allow {
				part.reach[scopeKey{k, p.ID}]++
			} else {
				part.reach[scopeKey{k, p.ID}]--
			}
		}
		return ScopeState{Channel: k, Purpose: p.ID, Reason: d.Reason, EventID: d.EventID, LastContact: prev.LastContact}
	}
	// The batch's new events of the customers from part.ids[0] on.
	if len(part.ids) > 0 {
		binary.BigEndian.PutUint64(key[:], uint64(part.ids[0]))
		first, _ := slices.BinarySearchFunc(puts, key[:], func(kv keyVal, k []byte) int { return bytes.Compare(kv.k[:8], k) })
		puts = puts[first:]
	}
	for _, cid := range part.ids {
		binary.BigEndian.PutUint64(key[:], uint64(cid))
		var fresh []keyVal // this customer's new events
		n := 0
		for n < len(puts) && bytes.Equal(puts[n].k[:8], key[:]) {
			n++
		}
		fresh, puts = puts[:n], puts[n:]
		stored := states.Get(key[:])
		cached, inCache := t.states[cid]
		switch {
		case inCache:
			old = *cached
		case stored != nil:
			old.Scopes = oldScopes
			if err := decodeConsentStateInto(&old, cid, stored); err != nil {
				return err
			}
			oldScopes = old.Scopes
		default:
			old = ConsentState{CustomerID: cid}
		}
		dirty := t.consentDirty[cid]
		if dirty.all || len(dirty.scopes) > 0 || len(old.Scopes) != full || t.recount {
			var c *model.Customer
			if cc, ok := t.customers[cid]; ok {
				c = cc.cur
			} else {
				v := customers.Get(key[:])
				if v == nil {
					return fmt.Errorf("consent state: %w", notFound("customer", cid.String()))
				}
				c = new(model.Customer)
				if err := decodeCustomer(v, c); err != nil {
					return fmt.Errorf("customer %d: %w", cid, err)
				}
			}
			if events, err = appendImportedHistory(events[:0], ledger, key[:], fresh); err != nil {
				return err
			}
			in.Customer = model.StoredFactsOf(c, c.ContactPoints)
			in.Events = events
		}
		next = ConsentState{CustomerID: cid, ComputedAt: t.now}
		if !dirty.all && len(old.Scopes) == full && !t.recount {
			// Only some scopes changed: recompute those, keep the rest.
			next.ComputedAt = old.ComputedAt
			next.Scopes = old.Scopes // this worker's decode buffer: changed in place
			if inCache {
				newScopes = append(newScopes[:0], old.Scopes...)
				next.Scopes = newScopes
			}
			for i, sc := range next.Scopes {
				if slices.Contains(dirty.scopes, scopeKey{sc.Channel, sc.Purpose}) {
					for _, p := range purposes {
						if p.ID == sc.Purpose {
							next.Scopes[i] = decide(sc.Channel, p, sc)
						}
					}
				}
			}
		} else {
			newScopes = newScopes[:0]
			for _, k := range model.ChannelKinds {
				for _, p := range purposes {
					prev, _ := old.Scope(k, p.ID)
					newScopes = append(newScopes, decide(k, p, prev))
				}
			}
			next.Scopes = newScopes
		}
		if inCache {
			// Whoever read the projection in this transaction reads the new one.
			cs := next
			cs.Scopes = slices.Clone(next.Scopes)
			part.cached = append(part.cached, &cs)
		}
		start := len(part.buf)
		part.buf = appendConsentState(part.buf, &next)
		if stored != nil && bytes.Equal(stored, part.buf[start:]) {
			part.buf = part.buf[:start]
			continue
		}
		part.changed = append(part.changed, struct {
			cid        model.CustomerID
			start, end int
		}{cid, start, len(part.buf)})
	}
	return nil
}

// appendImportedHistory appends what Reader.appendDecisionEvents reads
// for a customer once the batch's entries are written: the stored events
// (through the read transaction's cursor), then the new ones (fresh: all
// newer).
func appendImportedHistory(events []model.ConsentEvent, c *bolt.Cursor, prefix []byte, fresh []keyVal) ([]model.ConsentEvent, error) {
	events, err := appendLedgerDecisions(events, c, prefix)
	if err != nil {
		return events, err
	}
	cid := model.CustomerID(readU64(prefix))
	for _, kv := range fresh {
		events = append(events, model.ConsentEvent{CustomerID: cid})
		if _, err := readLedgerEntry(kv.v, &events[len(events)-1]); err != nil {
			return events, fmt.Errorf("consent event %d of customer %d: %w", readU64(kv.k[8:]), cid, err)
		}
	}
	return events, nil
}
