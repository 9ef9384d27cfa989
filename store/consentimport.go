package store

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

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

// errDryRun rolls a dry-run batch back after it did all its checks.
var errDryRun = errors.New("dry run")

// maxLineBytes caps one JSON line (evidence is capped at 4 KiB).
const maxLineBytes = 64 << 10

// ImportConsents reads consent events as JSON Lines and appends the valid
// ones in batches; every invalid line is reported with its number and
// reason and nothing of it is written. With dryRun every check runs
// (including those against the store) and each batch is rolled back.
func (s *Store) ImportConsents(by model.Actor, name string, r io.Reader, dryRun bool) (ImportReport, error) {
	rep := ImportReport{File: name, DryRun: dryRun, Rejections: []Rejection{}}
	if err := by.Require(model.PermEditCustomers, "import consent events"); err != nil {
		return rep, err
	}
	hash := sha256.New()
	sc := bufio.NewScanner(io.TeeReader(r, hash))
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	type parsed struct {
		line  int
		ev    model.ConsentEvent
		evi   model.Evidence
		cid   model.CustomerID
		email string
	}
	var batch []parsed
	lineNo := 0
	reject := func(line int, format string, args ...any) {
		rep.Rejected++
		rep.Rejections = append(rep.Rejections, Rejection{Line: line, Reason: fmt.Sprintf(format, args...)})
	}
	var purposes map[string]model.PurposeID
	if err := s.View(by, func(rd *Reader) error {
		ps, err := rd.Purposes()
		purposes = make(map[string]model.PurposeID, len(ps))
		for _, p := range ps {
			purposes[p.Name] = p.ID
		}
		return err
	}); err != nil {
		return rep, err
	}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		written, created := 0, 0
		var rejected []Rejection
		err := s.Update(by, func(t *Tx) error {
			written, created, rejected = 0, 0, rejected[:0]
			rd := t.Reader()
			for i := range batch {
				p := &batch[i]
				cid := p.cid
				if cid == 0 {
					c, err := rd.CustomerByEmail(p.email)
					switch {
					case err == nil:
						cid = c.ID
					case errors.Is(err, ErrNotFound):
						nc := model.Customer{Email: p.email}
						if err := t.InsertCustomer(&nc); err != nil {
							rejected = append(rejected, Rejection{p.line, "customer_email: " + err.Error()})
							continue
						}
						cid = nc.ID
						created++
					default:
						return err
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
			return nil
		})
		if err != nil && !errors.Is(err, errDryRun) {
			return err
		}
		rep.Written += written
		rep.CustomersCreated += created
		rep.Rejected += len(rejected)
		rep.Rejections = append(rep.Rejections, rejected...)
		batch = batch[:0]
		return nil
	}
	for sc.Scan() {
		lineNo++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		rep.Read++
		var l ConsentLine
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			reject(lineNo, "not a JSON object with consent fields: %v", err)
			continue
		}
		ev, evi, cid, email, err := l.toEvent(purposes)
		if err != nil {
			reject(lineNo, "%v", err)
			continue
		}
		batch = append(batch, parsed{lineNo, ev, evi, cid, email})
		if len(batch) >= 5000 {
			if err := flush(); err != nil {
				return rep, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return rep, fmt.Errorf("line %d is longer than %d KiB; is this a JSON Lines file?", lineNo+1, maxLineBytes>>10)
		}
		return rep, fmt.Errorf("read %s: %w", name, err)
	}
	if err := flush(); err != nil {
		return rep, err
	}
	rep.SHA256 = hex.EncodeToString(hash.Sum(nil))
	sortRejections(rep.Rejections)
	if !dryRun {
		summary, _ := json.Marshal(rep)
		err := s.Update(by, func(t *Tx) error {
			t.change(ChangeImport, 0)
			return t.Audit("import.consents", "file:"+name, summary)
		})
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

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
		s := strings.Trim(string(l.Customer), `"`)
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
