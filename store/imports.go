package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"karton/model"
)

// Imports from other systems (the warehouse's collecting side). The
// package store/importer reads files and turns their rows into the row
// types below; an ImportSession writes them, a slice of rows per write
// transaction, resolving identities (identity.go) as it goes, and records
// the import as a batch with an audit entry.
//
// Re-importing the same data changes nothing: customers are found again by
// their source id, email or phone (or, for rows with no identifier, by the
// row's content key); purchases by (source, order id), or by content key
// when the file has no order ids; interactions by their event id or content
// key; consent events by content key. Content keys are computed by the
// importer from a row's values and its occurrence number, so two identical
// rows in one file stay two records.
//
// Each row is written whole or not at all: every check that can fail runs
// before the row's first write, and a row that fails is reported as a
// rejection (line and reason) while the rest of its transaction goes on.

// ImportEntity is what an import file holds.
type ImportEntity string

// The entities an import can bring in.
const (
	ImportCustomers    ImportEntity = "customers"
	ImportPurchases    ImportEntity = "purchases"
	ImportInteractions ImportEntity = "interactions"
	ImportConsents     ImportEntity = "consents"
)

// ImportEntities lists the entities in the order the CLI documents them.
var ImportEntities = []ImportEntity{ImportCustomers, ImportPurchases, ImportInteractions, ImportConsents}

// ParseImportEntity validates an entity name.
func ParseImportEntity(s string) (ImportEntity, error) {
	e := ImportEntity(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(ImportEntities, e) {
		return e, nil
	}
	return "", fmt.Errorf("cannot import %q: choose customers, purchases, interactions or consents", s)
}

// code is the entity's byte in import_keys.
func (e ImportEntity) code() byte {
	switch e {
	case ImportCustomers:
		return 'c'
	case ImportPurchases:
		return 'p'
	case ImportInteractions:
		return 'i'
	case ImportConsents:
		return 'k'
	}
	return '?'
}

// CustomerImportRow is one imported customer record. The importer has already
// normalised and validated it; the session checks again (cheaply) because
// it is the last line of defence.
type CustomerImportRow struct {
	Line int
	// Key is the row's content key (see the package comment); used only
	// when the row carries no identifier at all.
	Key        []byte
	ExternalID string // id in the source system; may be empty
	Customer   model.Customer
	// TypeGiven says the file had a type column, so the type may overwrite
	// the stored one (otherwise it is only the default Normalize chose).
	TypeGiven bool

	prep *customerPrep // see ImportSession.PrepareCustomer
}

// PurchaseImportRow is one imported order. An empty OrderID is replaced by
// "row:" and the content key, which makes re-imports of files without order
// numbers idempotent.
type PurchaseImportRow struct {
	Line     int
	Key      []byte
	Customer CustomerRef
	Purchase model.Purchase
}

// InteractionImportRow is one imported interaction. EventID is the source's id
// of it, if the file has one; otherwise the content key identifies it.
type InteractionImportRow struct {
	Line        int
	Key         []byte
	EventID     string
	Customer    CustomerRef
	Interaction model.Interaction
}

// ConsentImportRow is one imported consent event, in the fields of a consent
// import line; the customer is named by Customer (the line's own customer
// fields are ignored).
type ConsentImportRow struct {
	Line     int
	Key      []byte
	Customer CustomerRef
	Consent  ConsentLine
}

// FieldStat counts, for one field of the rows read, how many had a value
// and how many of those values were invalid (their rows were rejected for
// it). The quality report uses them as the source's validity.
type FieldStat struct {
	Field   string `json:"field"`
	Present int    `json:"present"`
	Invalid int    `json:"invalid"`
}

// ImportBatch is the record of one import: where the data came from, what
// it did, and every rejected row (up to ImportSpec.MaxRejections; Rejected
// counts them all).
type ImportBatch struct {
	ID       uint64       `json:"id"` // 0 for a dry run, which is not stored
	Entity   ImportEntity `json:"entity"`
	Source   string       `json:"source"`
	File     string       `json:"file"`
	SHA256   string       `json:"sha256"`
	Format   string       `json:"format"`
	Encoding string       `json:"encoding,omitempty"`
	Actor    string       `json:"actor"`
	DryRun   bool         `json:"dry_run"`
	// Status is "complete", "cancelled" (stopped on request; what was
	// written stays and a re-import completes it) or "failed" (Error says
	// why; the same holds).
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`

	Read      int `json:"read"`      // data rows read
	Created   int `json:"created"`   // new records
	Updated   int `json:"updated"`   // customers whose stored data changed
	Merged    int `json:"merged"`    // customers matched by email or phone and given this source's id
	Unchanged int `json:"unchanged"` // already there (re-import)
	Rejected  int `json:"rejected"`
	// CustomersCreated counts customers that purchases, interactions or
	// consent events created for themselves (--create-missing).
	CustomersCreated int `json:"customers_created"`
	// Suggestions is the number of new merge suggestions the import found.
	Suggestions int `json:"suggestions"`
	// Suppressed counts the customers this import created or changed
	// whose email or phone belongs to an erased person: they are kept from
	// all contact until an opt-in with evidence lifts it.
	Suppressed int         `json:"suppressed"`
	Fields     []FieldStat `json:"fields,omitempty"`
	Rejections []Rejection `json:"rejections"`
}

// Written is the number of rows that changed the store.
func (b *ImportBatch) Written() int { return b.Created + b.Updated + b.Merged }

// ImportSpec configures an import session.
type ImportSpec struct {
	Entity ImportEntity
	// Source names the system the data comes from ("shop", "crm"): external
	// ids are per source. A slug: lower-case letters, digits, '-', '_'.
	Source   string
	File     string // file name for the batch record
	Format   string // "csv" or "jsonl", for the record
	Encoding string // for the record
	// DryRun checks every row against the store and writes nothing (each
	// transaction is rolled back). Rows that match a customer created
	// earlier in the same dry run count as updated.
	DryRun bool
	// CreateMissing lets a purchase, interaction or consent event whose
	// customer matches nobody create that customer from its reference.
	CreateMissing bool
	// Bulk writes through a bulk load (BeginBulkLoad): much faster for
	// large loads, but other writers wait until the import ends, new
	// customers appear in lists only then, and lists ordered by last
	// activity or value show the touched customers where they were.
	Bulk bool
	// MaxRejections is how many rejections the batch record keeps (default
	// 1000); OnReject, if set, sees every one as it happens (to write a
	// full report file).
	MaxRejections int
	OnReject      func(Rejection)
}

// ErrStrict is returned (wrapped) by importers in strict mode when rows
// were rejected and nothing was written.
var ErrStrict = errors.New("strict import: rows were rejected, so nothing was written")

// ambiguousID marks a phone held by several customers of one import.
const ambiguousID = ^model.CustomerID(0)

// ImportSession writes one import. It is not safe for concurrent use: one
// goroutine feeds it, in file order.
type ImportSession struct {
	s     *Store
	by    model.Actor
	spec  ImportSpec
	bulk  *BulkLoad
	batch ImportBatch
	// firstNew is the first customer id the import could create: customers
	// from it on were compared for look-alikes as they were written.
	firstNew model.CustomerID

	// Identities the import created, by hash of the normalised value, so
	// that later rows find them even where the indexes do not hold them
	// yet (a bulk load defers them, the phone index is written at commit,
	// a dry run rolls everything back). 0 is "created in this dry run".
	seed    maphash.Seed
	emails  map[uint64]model.CustomerID
	phones  map[uint64]model.CustomerID
	sources map[uint64]model.CustomerID // dry run only
	keys    map[uint64]uint64           // dry run only: content / order keys seen → data hash
	touched map[model.CustomerID]struct{}
	alike   *lookAlikeIndex

	purposes  map[string]model.PurposeID
	campaigns map[model.CampaignID]bool
	region    string
}

// BeginImport starts an import session. It checks the permission to import
// and the spec; with Bulk it starts a bulk load.
func (s *Store) BeginImport(by model.Actor, spec ImportSpec) (*ImportSession, error) {
	if err := by.Require(model.PermEditCustomers, "import "+string(spec.Entity)); err != nil {
		return nil, err
	}
	if _, err := ParseImportEntity(string(spec.Entity)); err != nil {
		return nil, err
	}
	if !validSourceName(spec.Source) {
		return nil, fmt.Errorf("source %q: name the source system with 1–40 lower-case letters, digits, '-' or '_' (e.g. shop, crm)", spec.Source)
	}
	if spec.MaxRejections <= 0 {
		spec.MaxRejections = 1000
	}
	is := &ImportSession{
		s: s, by: by, spec: spec, seed: maphash.MakeSeed(),
		emails: map[uint64]model.CustomerID{}, phones: map[uint64]model.CustomerID{},
		touched: map[model.CustomerID]struct{}{}, alike: newLookAlikeIndex(),
		campaigns: map[model.CampaignID]bool{}, region: s.Settings().Region,
		batch: ImportBatch{Entity: spec.Entity, Source: spec.Source, File: spec.File, Format: spec.Format, Encoding: spec.Encoding,
			Actor: by.Name, DryRun: spec.DryRun, StartedAt: s.now(), Rejections: []Rejection{}},
	}
	if spec.DryRun {
		is.sources, is.keys = map[uint64]model.CustomerID{}, map[uint64]uint64{}
	}
	err := s.View(by, func(r *Reader) error {
		is.firstNew = model.CustomerID(r.tx.Bucket(bCustomers).Sequence() + 1)
		ps, err := r.Purposes()
		is.purposes = make(map[string]model.PurposeID, len(ps))
		for _, p := range ps {
			is.purposes[p.Name] = p.ID
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if spec.Bulk && !spec.DryRun {
		b, err := s.BeginBulkLoad(by)
		if err != nil {
			return nil, err
		}
		is.bulk = b
		is.firstNew = b.first
	}
	return is, nil
}

func validSourceName(s string) bool {
	if len(s) == 0 || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Spec returns the session's configuration.
func (is *ImportSession) Spec() ImportSpec { return is.spec }

// Progress returns the counts so far (a copy).
func (is *ImportSession) Progress() ImportBatch {
	b := is.batch
	b.Rejections = nil
	return b
}

// Reject records a row the importer could not read or convert.
func (is *ImportSession) Reject(line int, reason string) {
	is.batch.Read++
	is.reject(line, reason)
}

func (is *ImportSession) reject(line int, reason string) {
	r := Rejection{Line: line, Reason: reason}
	is.batch.Rejected++
	if len(is.batch.Rejections) < is.spec.MaxRejections {
		is.batch.Rejections = append(is.batch.Rejections, r)
	}
	if is.spec.OnReject != nil {
		is.spec.OnReject(r)
	}
}

// update runs fn in one write transaction (of the bulk load, if any),
// rolled back in a dry run.
func (is *ImportSession) update(fn func(t *Tx) error) error {
	wrapped := func(t *Tx) error {
		// Orders come in customer order, so their (source, order id)
		// keys are scattered: written sorted at the end.
		t.deferOrderPuts = is.spec.Entity == ImportPurchases
		if err := fn(t); err != nil {
			return err
		}
		if is.spec.DryRun {
			return errDryRun
		}
		t.change(ChangeImport, 0)
		return nil
	}
	var err error
	if is.bulk != nil {
		err = is.bulk.Update(is.by, wrapped)
	} else {
		err = is.s.Update(is.by, wrapped)
	}
	if errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

// rowError turns a row's failure into a rejection, or returns the store
// failure that must stop the import.
func (is *ImportSession) rowError(line int, err error) error {
	if err == nil {
		return nil
	}
	if isRowError(err) {
		is.reject(line, err.Error())
		return nil
	}
	return fmt.Errorf("line %d: %w", line, err)
}

func (is *ImportSession) hash(kind byte, v string) uint64 {
	var h maphash.Hash
	h.SetSeed(is.seed)
	h.WriteByte(kind)
	h.WriteString(v)
	return h.Sum64()
}

// findSource finds the customer with the source id; virtual reports a
// customer created earlier in this dry run.
func (is *ImportSession) findSource(t *Tx, ext string) (id model.CustomerID, virtual bool) {
	if ext == "" {
		return 0, false
	}
	if v := t.tx.Bucket(bCustSource).Get(sourceKey(is.spec.Source, ext)); v != nil {
		return model.CustomerID(readU64(v)), false
	}
	if is.sources != nil {
		if _, ok := is.sources[is.hash('s', ext)]; ok {
			return 0, true
		}
	}
	return 0, false
}

// findEmail finds the holder of a normalised email.
func (is *ImportSession) findEmail(t *Tx, email string) (id model.CustomerID, virtual bool, err error) {
	if email == "" {
		return 0, false, nil
	}
	if v := t.tx.Bucket(bCustEmail).Get([]byte(email)); v != nil {
		return model.CustomerID(readU64(v)), false, nil
	}
	if is.bulk != nil {
		id, err := is.bulk.emailHolder(t, email, 0)
		return id, false, err
	}
	id, ok := is.emails[is.hash('e', email)]
	if !ok {
		return 0, false, nil
	}
	if id == 0 {
		return 0, true, nil
	}
	c, err := t.Reader().customerRaw(id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return 0, false, nil
		}
		return 0, false, err
	}
	if !c.Erased && model.NormalizeEmail(c.Email) == email {
		return id, false, nil
	}
	return 0, false, nil
}

// findPhone lists the holders of an E.164 number (the index, and the
// customers this import created, which the index may not show yet).
func (is *ImportSession) findPhone(t *Tx, phone string) (ids []model.CustomerID, virtual bool, err error) {
	if phone == "" {
		return nil, false, nil
	}
	ids = t.Reader().CustomerIDsByPhone(phone)
	switch id, ok := is.phones[is.hash('p', phone)]; {
	case !ok:
	case id == 0:
		virtual = true
	case id == ambiguousID:
		// Several of the import's customers share it: find them by
		// reading those the index lacks is not worth it; two is enough to
		// make the match uncertain.
		if len(ids) < 2 {
			ids = append(ids, ambiguousID)
		}
	default:
		if !slices.Contains(ids, id) {
			c, err := t.Reader().customerRaw(id)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, false, err
			}
			if err == nil && !c.Erased && c.Phone == phone {
				ids = append(ids, id)
			}
		}
	}
	return ids, virtual, nil
}

// findKey looks up a content or event key of this source and entity; it
// returns the stored reference (customer id for customers).
func (is *ImportSession) findKey(t *Tx, entity byte, key []byte) (ref []byte, virtual bool) {
	if len(key) == 0 {
		return nil, false
	}
	k := importKey(is.spec.Source, entity, key)
	if v := t.pendingImportKey(k); v != nil {
		return v, false
	}
	if b := t.tx.Bucket(bImportKeys); b != nil {
		if v := b.Get(k); v != nil {
			return v, false
		}
	}
	if is.keys != nil {
		if _, ok := is.keys[is.hash(entity, string(key))]; ok {
			return nil, true
		}
	}
	return nil, false
}

func importKey(source string, entity byte, key []byte) []byte {
	b := make([]byte, 0, len(source)+2+len(key))
	b = append(b, source...)
	b = append(b, 0, entity)
	return append(b, key...)
}

func (is *ImportSession) putKey(t *Tx, entity byte, key, ref []byte) {
	if len(key) == 0 {
		return
	}
	if is.keys != nil {
		is.keys[is.hash(entity, string(key))] = 0
	}
	t.putImportKey(importKey(is.spec.Source, entity, key), t.keep(ref))
}

// remember files the identities of a customer the import created or
// changed, for the rows that follow.
func (is *ImportSession) remember(c *model.Customer, ext string) {
	var keys [2]uint64
	if !is.spec.DryRun {
		keys[0], keys[1] = lookAlikeKeys(is.alike.seed, c)
	}
	is.rememberKeys(c, ext, keys)
}

// rememberKeys is remember with the customer's look-alike keys known.
func (is *ImportSession) rememberKeys(c *model.Customer, ext string, alike [2]uint64) {
	id := c.ID
	if is.spec.DryRun {
		id = 0
		if ext != "" {
			is.sources[is.hash('s', ext)] = 0
		}
	}
	// The email index holds the address at once, and a bulk load keeps
	// its own table of the addresses it added (putUniqueIndexes); only a
	// dry run, which rolls both back, needs to remember them here.
	if is.spec.DryRun {
		if e := model.NormalizeEmail(c.Email); e != "" {
			is.emails[is.hash('e', e)] = id
		}
	}
	if c.Phone != "" {
		h := is.hash('p', c.Phone)
		if prev, ok := is.phones[h]; ok && prev != id {
			is.phones[h] = ambiguousID
		} else {
			is.phones[h] = id
		}
	}
	if !is.spec.DryRun {
		if c.ID < is.firstNew {
			// Customers the import created are compared as they are
			// filed; only older ones that it changed must be skipped by
			// the scan of the rest.
			is.touched[c.ID] = struct{}{}
		}
		is.alike.file(alike[0], ReasonNamePostcode, c.ID, true)
		is.alike.file(alike[1], ReasonNameBirthDate, c.ID, true)
	}
}

// followMerges maps a customer id that a merge absorbed to its survivor.
func followMerges(t *Tx, id model.CustomerID) model.CustomerID {
	if s, ok := t.Reader().MergedInto(id); ok {
		return s
	}
	return id
}

// ---------------------------------------------------------------------------
// Customers

// Customers writes customer rows in one transaction.
func (is *ImportSession) Customers(rows []CustomerImportRow) error {
	if is.spec.Entity != ImportCustomers {
		return fmt.Errorf("this session imports %s, not customers", is.spec.Entity)
	}
	return is.update(func(t *Tx) error {
		for i := range rows {
			is.batch.Read++
			if err := is.customerRow(t, &rows[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (is *ImportSession) customerRow(t *Tx, row *CustomerImportRow) error {
	// The preparation is used up here (a new customer is inserted from it
	// in place): were the rows handed in again, they would be prepared
	// again from row.Customer.
	p := row.prep
	row.prep = nil
	if p == nil {
		p = is.prepare(row, t.now, false)
	}
	if p.tooLong {
		is.reject(row.Line, "external id is longer than 100 characters")
		return nil
	}
	if p.err != nil {
		return is.rowError(row.Line, p.err)
	}
	in, ext, email := &p.in, p.ext, p.email
	var target model.CustomerID
	how := MatchNone
	virtual := false
	if ext != "" {
		target, virtual = is.findSource(t, ext)
		if target != 0 || virtual {
			how = MatchSourceID
		}
	}
	if email != "" {
		holder, v, err := is.findEmail(t, email)
		if err != nil {
			return err
		}
		switch {
		case how == MatchSourceID && holder != 0 && holder != target:
			if err := t.suggest(target, holder, ReasonEmailConflict, 0); err != nil {
				return err
			}
			is.reject(row.Line, fmt.Sprintf("%s id %s is customer %d, but email %s belongs to customer %d; if they are one person, merge them (karton merge), else correct the row", is.spec.Source, ext, target, in.Email, holder))
			return nil
		case how == MatchNone && (holder != 0 || v):
			target, virtual, how = holder, v, MatchEmail
		}
	}
	var sharedPhone []model.CustomerID
	if how == MatchNone && in.Phone != "" {
		ids, v, err := is.findPhone(t, in.Phone)
		if err != nil {
			return err
		}
		switch {
		case v && len(ids) == 0:
			virtual, how = true, MatchPhone
		case len(ids) == 1 && ids[0] != ambiguousID:
			target, how = ids[0], MatchPhone
		case len(ids) > 1:
			sharedPhone = ids
		}
	}
	if how == MatchNone && ext == "" && email == "" && in.Phone == "" {
		ref, v := is.findKey(t, 'c', row.Key)
		switch {
		case v:
			virtual, how = true, MatchContent
		case len(ref) == 8:
			target, how = followMerges(t, model.CustomerID(readU64(ref))), MatchContent
		}
	}
	if virtual {
		is.batch.Updated++
		return nil
	}
	if target != 0 {
		return is.updateCustomer(t, row.Line, in, row.TypeGiven, target, how, ext)
	}
	c := in // p is this row's own: inserted as it is, not copied
	// The lookups above found the email and the source id free.
	h := insertHints{unique: true, validOn: p.validOn, valid: p.valid, derived: p.derived}
	if err := t.insertCustomer(c, &h); err != nil {
		return is.rowError(row.Line, err)
	}
	if ext == "" && email == "" && c.Phone == "" {
		is.putKey(t, 'c', row.Key, u64(uint64(c.ID)))
	}
	for _, other := range sharedPhone {
		if other != ambiguousID && !is.spec.DryRun {
			if err := t.suggest(c.ID, other, ReasonSharedPhone, 0); err != nil {
				return err
			}
		}
	}
	alike := p.alike
	if p.validOn == 0 && !is.spec.DryRun {
		alike[0], alike[1] = lookAlikeKeys(is.alike.seed, c)
	}
	is.rememberKeys(c, ext, alike)
	is.batch.Created++
	if c.Suppressed {
		is.batch.Suppressed++
	}
	return nil
}

// customerPrep is a customer row as the session writes it, with what
// writing it derives: worked out ahead of the writer (PrepareCustomer) or
// by it (customerRow).
type customerPrep struct {
	ext     string
	tooLong bool           // the external id is too long
	in      model.Customer // normalised, with the source id
	err     error          // Normalize's complaint
	email   string         // normalised
	// valid is Validate's answer for in on the UTC day validOn (0: not
	// asked); derived and alike what a new customer's record derives.
	valid   error
	validOn int
	derived *derivedFacts
	alike   [2]uint64
}

// PrepareCustomer does the part of writing a customer row that needs no
// store — normalising and validating it and deriving its contact points,
// index texts and look-alike keys — so that it can run on other goroutines
// than the writer: it is safe for concurrent use on different rows.
// Customers then takes the row as it was when prepared. Preparing is
// optional. It returns what Validate says of the row as the session
// writes it (with the source id, which identifies a customer without a
// name), or the error of Normalize or of a too long source id: the row's
// rejection, if it has one.
func (is *ImportSession) PrepareCustomer(row *CustomerImportRow) error {
	p := is.prepare(row, is.s.now(), true)
	row.prep = p
	switch {
	case p.tooLong:
		return &model.ValidationError{Entity: "customer", Fields: []model.FieldError{{Field: "sources", Reason: "is longer than 100 characters"}}}
	case p.err != nil:
		return p.err
	}
	return p.valid
}

// prepare reads a row; derive also works out what inserting it would
// validate and derive (at now).
func (is *ImportSession) prepare(row *CustomerImportRow, now time.Time, derive bool) *customerPrep {
	p := &customerPrep{ext: strings.TrimSpace(row.ExternalID)}
	if len(p.ext) > 100 {
		p.tooLong = true
		return p
	}
	p.in = row.Customer
	p.in.ID, p.in.Sources = 0, nil
	if p.ext != "" {
		// The source id identifies a customer with no other data.
		p.in.Sources = []model.SourceRef{{Source: is.spec.Source, ExternalID: p.ext}}
	}
	// Normalise (a no-op for rows the importer normalised already) so
	// that the lookups see canonical values. Validation happens where the
	// record is written (InsertCustomer, UpdateCustomer).
	if err := p.in.Normalize(is.region); err != nil {
		p.err = err
		return p
	}
	p.email = model.NormalizeEmail(p.in.Email)
	if derive {
		p.valid, p.validOn = p.in.Validate(now), utcDay(now)
		if p.valid == nil {
			p.derived = deriveFacts(&p.in)
		}
		p.alike[0], p.alike[1] = lookAlikeKeys(is.alike.seed, &p.in)
	}
	return p
}

// updateCustomer applies a matched row to the stored customer. A match by
// the source's own id (or the row's content) makes the row authoritative:
// its non-empty fields replace the stored ones. A match by email or phone
// only fills gaps, so one system's import does not overwrite what another
// system knows better. Empty fields never erase anything.
func (is *ImportSession) updateCustomer(t *Tx, line int, in *model.Customer, typeGiven bool, target model.CustomerID, how MatchKind, ext string) error {
	cc, err := t.cachedCustomer(target)
	if err != nil {
		return is.rowError(line, err)
	}
	stored := cc.cur
	if stored.Erased {
		is.reject(line, fmt.Sprintf("customer %d was erased; the row is not imported", target))
		return nil
	}
	newRef := false
	if ext != "" {
		if have, ok := stored.SourceID(is.spec.Source); ok && have != ext {
			is.reject(line, fmt.Sprintf("matched customer %d by %s, but that customer is %s id %s, not %s: two %s records share it; correct the row or the other record",
				target, how, is.spec.Source, have, ext, is.spec.Source))
			return nil
		} else if !ok {
			newRef = true
		}
	}
	authoritative := how == MatchSourceID || how == MatchContent
	next := applyIncoming(stored, in, authoritative, typeGiven)
	if newRef {
		next.Sources = append(next.Sources, model.SourceRef{Source: is.spec.Source, ExternalID: ext})
	}
	if sameCustomerData(stored, next) {
		is.batch.Unchanged++
		return nil
	}
	wasSuppressed := stored.Suppressed
	err = t.UpdateCustomer(target, func(c *model.Customer) error {
		c.Salutation, c.FirstName, c.LastName, c.Company = next.Salutation, next.FirstName, next.LastName, next.Company
		c.Email, c.Phone, c.Address, c.BirthDate, c.Type = next.Email, next.Phone, next.Address, next.BirthDate, next.Type
		c.Attributes, c.Preferences, c.Tags, c.Sources = next.Attributes, next.Preferences, next.Tags, next.Sources
		return nil
	})
	if err != nil {
		return is.rowError(line, err)
	}
	is.remember(t.customers[target].cur, ext)
	if t.customers[target].cur.Suppressed && !wasSuppressed {
		is.batch.Suppressed++
	}
	if newRef {
		is.batch.Merged++
	} else {
		is.batch.Updated++
	}
	return nil
}

// applyIncoming returns a copy of stored with the imported record's data.
func applyIncoming(stored, in *model.Customer, authoritative, typeGiven bool) *model.Customer {
	next := cloneCustomer(stored)
	set := func(dst *string, v string) {
		if v != "" && (authoritative || *dst == "") {
			*dst = v
		}
	}
	set(&next.Salutation, in.Salutation)
	set(&next.FirstName, in.FirstName)
	set(&next.LastName, in.LastName)
	set(&next.Company, in.Company)
	if model.NormalizeEmail(in.Email) != model.NormalizeEmail(next.Email) {
		set(&next.Email, in.Email)
	}
	set(&next.Phone, in.Phone)
	if !in.Address.IsZero() && (authoritative || next.Address.IsZero()) {
		next.Address = in.Address
	}
	if !in.BirthDate.IsZero() && (authoritative || next.BirthDate.IsZero()) {
		next.BirthDate = in.BirthDate
	}
	if typeGiven && authoritative && in.Type != "" {
		next.Type = in.Type
	}
	mergeMap := func(dst *map[string]string, src map[string]string) {
		for k, v := range src {
			if v == "" || (!authoritative && (*dst)[k] != "") {
				continue
			}
			if *dst == nil {
				*dst = map[string]string{}
			}
			(*dst)[k] = v
		}
	}
	mergeMap(&next.Attributes, in.Attributes)
	mergeMap(&next.Preferences, in.Preferences)
	for _, tag := range in.Tags {
		if !next.HasTag(tag) {
			next.Tags = append(next.Tags, tag)
		}
	}
	return next
}

// sameCustomerData compares what an import can change.
func sameCustomerData(a, b *model.Customer) bool {
	return a.Salutation == b.Salutation && a.FirstName == b.FirstName && a.LastName == b.LastName &&
		a.Company == b.Company && a.Email == b.Email && a.Phone == b.Phone && a.Address == b.Address &&
		a.BirthDate == b.BirthDate && a.Type == b.Type && maps2Equal(a.Attributes, b.Attributes) &&
		maps2Equal(a.Preferences, b.Preferences) && slices.Equal(a.Tags, b.Tags) && slices.Equal(a.Sources, b.Sources)
}

func maps2Equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// The customer of an activity row

// activityCustomer finds (or, with CreateMissing, creates) the customer a
// row names. ok is false when the row was rejected; virtual when it is a
// customer created earlier in this dry run.
func (is *ImportSession) activityCustomer(t *Tx, line int, ref CustomerRef) (id model.CustomerID, virtual, ok bool, err error) {
	if ref.IsZero() {
		is.reject(line, "names no customer: give a customer id, email or phone column")
		return 0, false, false, nil
	}
	if ref.ID != 0 {
		c, err := t.Reader().customerRaw(ref.ID)
		switch {
		case err == nil && !c.Erased:
			return ref.ID, false, true, nil
		case err == nil:
			is.reject(line, fmt.Sprintf("customer %d was erased", ref.ID))
			return 0, false, false, nil
		case !errors.Is(err, ErrNotFound):
			return 0, false, false, err
		}
		if merged := followMerges(t, ref.ID); merged != ref.ID {
			return merged, false, true, nil
		}
	}
	if id, v := is.findSource(t, ref.ExternalID); id != 0 || v {
		return id, v, true, nil
	}
	email := model.NormalizeEmail(ref.Email)
	if id, v, err := is.findEmail(t, email); err != nil || id != 0 || v {
		return id, v, err == nil, err
	}
	if ref.Phone != "" {
		ids, v, err := is.findPhone(t, ref.Phone)
		if err != nil {
			return 0, false, false, err
		}
		switch {
		case len(ids) == 1 && ids[0] != ambiguousID:
			return ids[0], false, true, nil
		case len(ids) > 1:
			is.reject(line, fmt.Sprintf("phone %s belongs to several customers; name the customer by id or email", ref.Phone))
			return 0, false, false, nil
		case v:
			return 0, true, true, nil
		}
	}
	if !is.spec.CreateMissing || (ref.ExternalID == "" && email == "" && ref.Phone == "") {
		hint := "import the customers first, or pass --create-missing"
		if ref.ExternalID == "" && email == "" && ref.Phone == "" {
			hint = "no customer has that id"
		}
		is.reject(line, fmt.Sprintf("no customer matches %s (%s)", ref, hint))
		return 0, false, false, nil
	}
	c := model.Customer{Email: strings.TrimSpace(ref.Email), Phone: ref.Phone}
	if ref.ExternalID != "" {
		if len(ref.ExternalID) > 100 {
			is.reject(line, "customer id is longer than 100 characters")
			return 0, false, false, nil
		}
		c.Sources = []model.SourceRef{{Source: is.spec.Source, ExternalID: ref.ExternalID}}
	}
	if err := t.InsertCustomer(&c); err != nil {
		if isRowError(err) {
			is.reject(line, "creating the missing customer: "+err.Error())
			return 0, false, false, nil
		}
		return 0, false, false, err
	}
	is.remember(&c, ref.ExternalID)
	is.batch.CustomersCreated++
	return c.ID, false, true, nil
}

// ---------------------------------------------------------------------------
// Purchases

// Purchases writes purchase rows in one transaction.
func (is *ImportSession) Purchases(rows []PurchaseImportRow) error {
	if is.spec.Entity != ImportPurchases {
		return fmt.Errorf("this session imports %s, not purchases", is.spec.Entity)
	}
	return is.update(func(t *Tx) error {
		// Which orders are stored already, asked in key order: the rows
		// come in customer order, which scatters them over the index.
		keys := make([][]byte, len(rows))
		for i := range rows {
			if id := orderIDOf(&rows[i]); id != "" {
				keys[i] = sourceKey(is.spec.Source, id)
			}
		}
		stored, twice := t.lookupOrders(keys)
		pf, ids, loaded := is.prefetchRowCustomers(t, len(rows), func(i int) CustomerRef { return rows[i].Customer })
		defer pf.stop()
		for i := range rows {
			is.batch.Read++
			pf.wait(i)
			t.adoptCustomer(ids[i], loaded[i])
			if err := is.purchaseRow(t, &rows[i], stored[i], twice[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// prefetchRowCustomers loads the customers that rows name by id, source
// id or email (the common cases; the rows' own resolution decides, and
// finds the others) on the other cores: ids[i] and loaded[i] are row i's,
// ready after pf.wait(i).
func (is *ImportSession) prefetchRowCustomers(t *Tx, n int, ref func(i int) CustomerRef) (pf *customerPrefetch, ids []model.CustomerID, loaded []*cachedCustomer) {
	ids, loaded = make([]model.CustomerID, n), make([]*cachedCustomer, n)
	pf = t.prefetchCustomers(n, func(v *prefetchView, i int) {
		r := ref(i)
		cid := r.ID
		if cid == 0 {
			cid = v.bySource(is.spec.Source, r.ExternalID)
		}
		if cid == 0 {
			cid = v.byEmail(model.NormalizeEmail(r.Email))
		}
		ids[i], loaded[i] = cid, v.customer(cid)
	})
	return pf, ids, loaded
}

// orderIDOf is the order id a purchase row is recorded under: its own, or
// "row:" and its content key; "" if it has neither.
func orderIDOf(row *PurchaseImportRow) string {
	if id := strings.TrimSpace(row.Purchase.OrderID); id != "" {
		return id
	}
	if len(row.Key) == 0 {
		return ""
	}
	return "row:" + hex.EncodeToString(row.Key)
}

// purchaseRow records one purchase row; stored is what the order index
// held for its order before this transaction, twice whether another row of
// the transaction has the same order (Tx.lookupOrders).
func (is *ImportSession) purchaseRow(t *Tx, row *PurchaseImportRow, stored []byte, twice bool) error {
	p := row.Purchase
	p.Source = is.spec.Source
	p.OrderID = orderIDOf(row)
	if p.OrderID == "" {
		is.reject(row.Line, "order_id: is empty")
		return nil
	}
	cid, virtual, ok, err := is.activityCustomer(t, row.Line, row.Customer)
	if err != nil || !ok {
		return err
	}
	orderKey := sourceKey(p.Source, p.OrderID)
	if v := t.orderFound(orderKey, stored, twice); v != nil {
		var old model.Purchase
		if err := decodePurchase(v, t.tx.Bucket(bPurchases).Get(v), &old); err != nil {
			return fmt.Errorf("line %d: order %s: %w", row.Line, p.OrderID, err)
		}
		if (virtual || old.CustomerID == cid) && old.Amount == p.Amount && old.At.Equal(p.At.UTC()) {
			is.batch.Unchanged++
			return nil
		}
		is.reject(row.Line, fmt.Sprintf("order %s from %s is recorded already with other data (customer %d, %s on %s)",
			p.OrderID, p.Source, old.CustomerID, old.Amount.Format(old.Currency), old.At.Format("2006-01-02")))
		return nil
	}
	var dataHash uint64 // what a dry run remembers of the order
	if is.keys != nil {
		dataHash = is.hash('d', fmt.Sprint(row.Customer, p.At.UnixNano(), int64(p.Amount)))
		if h, seen := is.keys[is.hash('o', string(orderKey))]; seen {
			if h == dataHash {
				is.batch.Unchanged++
			} else {
				is.reject(row.Line, fmt.Sprintf("order %s appears earlier in the file with other data", p.OrderID))
			}
			return nil
		}
	}
	if virtual {
		p.CustomerID = 1 // stands in for the customer this dry run created
		if p.Currency == "" {
			p.Currency = is.s.Settings().Currency
		}
		if err := p.Validate(t.now); err != nil {
			return is.rowError(row.Line, err)
		}
	} else {
		p.CustomerID = cid
		if err := t.AddPurchase(&p); err != nil {
			return is.rowError(row.Line, err)
		}
	}
	if is.keys != nil {
		is.keys[is.hash('o', string(orderKey))] = dataHash
	}
	is.batch.Created++
	return nil
}

// ---------------------------------------------------------------------------
// Interactions

// Interactions writes interaction rows in one transaction.
func (is *ImportSession) Interactions(rows []InteractionImportRow) error {
	if is.spec.Entity != ImportInteractions {
		return fmt.Errorf("this session imports %s, not interactions", is.spec.Entity)
	}
	return is.update(func(t *Tx) error {
		pf, ids, loaded := is.prefetchRowCustomers(t, len(rows), func(i int) CustomerRef { return rows[i].Customer })
		defer pf.stop()
		for i := range rows {
			is.batch.Read++
			pf.wait(i)
			t.adoptCustomer(ids[i], loaded[i])
			if err := is.interactionRow(t, &rows[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (is *ImportSession) interactionRow(t *Tx, row *InteractionImportRow) error {
	key := row.Key
	if row.EventID != "" {
		key = append([]byte("id:"), row.EventID...)
	}
	if ref, v := is.findKey(t, 'i', key); ref != nil || v {
		is.batch.Unchanged++
		return nil
	}
	in := row.Interaction
	if in.StepID != 0 {
		is.reject(row.Line, "step ids cannot be imported; name the campaign instead")
		return nil
	}
	if in.CampaignID != 0 {
		known, ok := is.campaigns[in.CampaignID]
		if !ok {
			_, err := t.Reader().Campaign(in.CampaignID)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			known = err == nil
			is.campaigns[in.CampaignID] = known
		}
		if !known {
			is.reject(row.Line, fmt.Sprintf("campaign: there is no campaign %d", in.CampaignID))
			return nil
		}
	}
	cid, virtual, ok, err := is.activityCustomer(t, row.Line, row.Customer)
	if err != nil || !ok {
		return err
	}
	if virtual {
		in.CustomerID = 1
		if err := in.Validate(t.now); err != nil {
			return is.rowError(row.Line, err)
		}
		is.keys[is.hash('i', string(key))] = 0
		is.batch.Created++
		return nil
	}
	in.CustomerID = cid
	if err := t.AddInteraction(&in); err != nil {
		return is.rowError(row.Line, err)
	}
	is.putKey(t, 'i', key, activityKey(in.CustomerID, in.At, uint64(in.ID)))
	is.batch.Created++
	return nil
}

// ---------------------------------------------------------------------------
// Consent events

// Consents writes consent rows in one transaction, through the same checks
// as `karton consent import` and AppendConsent.
func (is *ImportSession) Consents(rows []ConsentImportRow) error {
	if is.spec.Entity != ImportConsents {
		return fmt.Errorf("this session imports %s, not consent events", is.spec.Entity)
	}
	return is.update(func(t *Tx) error {
		for i := range rows {
			is.batch.Read++
			if err := is.consentRow(t, &rows[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (is *ImportSession) consentRow(t *Tx, row *ConsentImportRow) error {
	if ref, v := is.findKey(t, 'k', row.Key); ref != nil || v {
		is.batch.Unchanged++
		return nil
	}
	l := row.Consent
	// toEvent checks everything that needs no store; the customer is
	// resolved here, so give it a placeholder it accepts.
	l.Customer, l.CustomerEmail = json.RawMessage("1"), ""
	ev, evi, _, _, err := l.toEvent(is.purposes)
	if err != nil {
		is.reject(row.Line, err.Error())
		return nil
	}
	if strings.TrimSpace(row.Consent.Source) == "" {
		ev.Source = "import:" + is.spec.Source
	}
	cid, virtual, ok, err := is.activityCustomer(t, row.Line, row.Customer)
	if err != nil || !ok {
		return err
	}
	if virtual {
		ev.CustomerID = 1
		if err := ev.Validate(t.now); err != nil {
			return is.rowError(row.Line, err)
		}
		is.keys[is.hash('k', string(row.Key))] = 0
		is.batch.Created++
		return nil
	}
	ev.CustomerID = cid
	if err := t.AppendConsent(&ev, evi); err != nil {
		return is.rowError(row.Line, err)
	}
	is.putKey(t, 'k', row.Key, u64(uint64(ev.ID)))
	is.batch.Created++
	return nil
}

// ---------------------------------------------------------------------------
// The end of an import

// FinishInfo is what the importer knows at the end: the file's hash, the
// field statistics, and why it stopped early, if it did.
type FinishInfo struct {
	SHA256 string
	Fields []FieldStat
	// Err is the reason the import stopped before the end of the file
	// (context.Canceled for a cancellation), or nil.
	Err error
}

// lookAlikeResult is what findLookAlikes found.
type lookAlikeResult struct {
	pairs map[[2]model.CustomerID]SuggestionReason
	err   error
}

// findLookAlikes compares the customers the import wrote with each other
// and with the customers already in the store that it left alone.
func (is *ImportSession) findLookAlikes() lookAlikeResult {
	err := is.s.scanLookAlikes(is.alike, is.firstNew, func(id model.CustomerID) bool {
		_, ok := is.touched[id]
		return ok
	})
	if err != nil {
		return lookAlikeResult{err: err}
	}
	return lookAlikeResult{pairs: is.alike.pairs()}
}

// Finish ends the session: it finishes the bulk load (if any), looks for
// look-alikes of the customers the import created or changed, and stores
// the batch record with an audit entry (not in a dry run). It returns the
// batch. Call it also when the import stopped early (info.Err), so that
// what was written is recorded; it must be called exactly once.
func (is *ImportSession) Finish(ctx context.Context, info FinishInfo) (ImportBatch, error) {
	b := &is.batch
	b.SHA256, b.Fields = info.SHA256, info.Fields
	b.Status = "complete"
	switch {
	case info.Err == nil:
	case errors.Is(info.Err, context.Canceled), errors.Is(info.Err, context.DeadlineExceeded):
		b.Status, b.Error = "cancelled", "cancelled before the end of the file; what was written stays, and importing the file again completes it"
	default:
		b.Status, b.Error = "failed", info.Err.Error()
	}
	slices.SortStableFunc(b.Rejections, func(x, y Rejection) int { return x.Line - y.Line })
	// The search for look-alikes reads only customers the import did not
	// write and the import's own keys, so it runs while a bulk load builds
	// its indexes (on another core); the pairs are stored afterwards.
	var alike chan lookAlikeResult
	if !is.spec.DryRun && !is.alike.empty() {
		alike = make(chan lookAlikeResult, 1)
		go func() { alike <- is.findLookAlikes() }()
	}
	if is.bulk != nil {
		if err := is.bulk.Finish(context.WithoutCancel(ctx), nil); err != nil {
			if alike != nil {
				<-alike
			}
			return *b, fmt.Errorf("import: build the customer indexes: %w", err)
		}
	}
	if is.spec.DryRun {
		b.FinishedAt = is.s.now()
		return *b, nil
	}
	if alike != nil {
		found := <-alike
		if found.err != nil {
			return *b, fmt.Errorf("import: look for duplicates: %w", found.err)
		}
		n, err := is.s.storePairs(is.by, found.pairs, 0)
		if err != nil {
			return *b, fmt.Errorf("import: store merge suggestions: %w", err)
		}
		b.Suggestions = n
	}
	b.FinishedAt = is.s.now()
	err := is.s.Update(is.by, func(t *Tx) error {
		bk, err := t.ensure(bImports)
		if err != nil {
			return err
		}
		id, err := bk.NextSequence()
		if err != nil {
			return err
		}
		b.ID = id
		val, err := json.Marshal(b)
		if err != nil {
			return err
		}
		if err := bk.Put(u64(id), val); err != nil {
			return err
		}
		t.count("imports", 1)
		t.change(ChangeImport, id)
		return t.Audit("import."+string(b.Entity), fmt.Sprintf("import:%d", id), val)
	})
	return *b, err
}

// ImportBatches lists stored import batches, newest first, up to limit,
// starting below the id before (0 = from the newest).
func (r *Reader) ImportBatches(before uint64, limit int) ([]ImportBatch, error) {
	bk := r.tx.Bucket(bImports)
	if bk == nil || limit <= 0 {
		return nil, nil
	}
	var out []ImportBatch
	c := bk.Cursor()
	var k, v []byte
	if before == 0 {
		k, v = c.Last()
	} else {
		c.Seek(u64(before))
		k, v = c.Prev()
	}
	for ; k != nil && len(out) < limit; k, v = c.Prev() {
		var b ImportBatch
		if err := json.Unmarshal(v, &b); err != nil {
			return out, fmt.Errorf("import batch %d: %w", readU64(k), errCorrupt)
		}
		out = append(out, b)
	}
	return out, nil
}

// ImportBatch returns one stored batch.
func (r *Reader) ImportBatch(id uint64) (ImportBatch, error) {
	var b ImportBatch
	bk := r.tx.Bucket(bImports)
	var v []byte
	if bk != nil {
		v = bk.Get(u64(id))
	}
	if v == nil {
		return b, notFound("import batch", fmt.Sprint(id))
	}
	if err := json.Unmarshal(v, &b); err != nil {
		return b, fmt.Errorf("import batch %d: %w", id, errCorrupt)
	}
	return b, nil
}

// SourceSummary is what the Warehouse box shows per source system.
type SourceSummary struct {
	Source     string       `json:"source"`
	Batches    int          `json:"batches"`
	Entities   []string     `json:"entities"`
	LastImport time.Time    `json:"last_import"`
	LastBatch  uint64       `json:"last_batch"`
	LastStatus string       `json:"last_status"`
	Read       int          `json:"read"`
	Written    int          `json:"written"`
	Rejected   int          `json:"rejected"`
	Customers  int          `json:"customers,omitempty"` // filled by the quality report
	Fields     []FieldStat  `json:"fields,omitempty"`    // summed over the batches
	Latest     *ImportBatch `json:"-"`
}

// SourceSummaries sums the stored batches per source, by source name.
func (r *Reader) SourceSummaries() ([]SourceSummary, error) {
	bk := r.tx.Bucket(bImports)
	if bk == nil {
		return nil, nil
	}
	by := map[string]*SourceSummary{}
	err := bk.ForEach(func(k, v []byte) error {
		var b ImportBatch
		if err := json.Unmarshal(v, &b); err != nil {
			return fmt.Errorf("import batch %d: %w", readU64(k), errCorrupt)
		}
		s := by[b.Source]
		if s == nil {
			s = &SourceSummary{Source: b.Source}
			by[b.Source] = s
		}
		s.Batches++
		if !slices.Contains(s.Entities, string(b.Entity)) {
			s.Entities = append(s.Entities, string(b.Entity))
		}
		if !b.FinishedAt.Before(s.LastImport) {
			s.LastImport, s.LastBatch, s.LastStatus = b.FinishedAt, b.ID, b.Status
			bb := b
			s.Latest = &bb
		}
		s.Read += b.Read
		s.Written += b.Written()
		s.Rejected += b.Rejected
		for _, f := range b.Fields {
			i := slices.IndexFunc(s.Fields, func(x FieldStat) bool { return x.Field == f.Field })
			if i < 0 {
				s.Fields = append(s.Fields, FieldStat{Field: f.Field})
				i = len(s.Fields) - 1
			}
			s.Fields[i].Present += f.Present
			s.Fields[i].Invalid += f.Invalid
		}
		return nil
	})
	out := make([]SourceSummary, 0, len(by))
	for _, s := range by {
		slices.Sort(s.Entities)
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b SourceSummary) int { return strings.Compare(a.Source, b.Source) })
	return out, err
}
