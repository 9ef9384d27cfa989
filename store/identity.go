package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// Identity resolution: which stored customer an incoming record is.
//
// Certain matches, used automatically (in this order):
//
//  1. the Karton id, when a row names one;
//  2. the id in the importing source system (source, external id);
//  3. the normalised email address (trimmed, lower case; unique in the store);
//  4. the phone number in E.164 (read in the store's default region), when
//     exactly one customer has it (phones may be shared, e.g. a family
//     landline, so two holders make the match uncertain).
//
// Uncertain matches are never merged silently. Customers that only look
// alike — the same name and postcode, or the same name and birth date —,
// share a phone, or collide on a unique identifier in an import become merge
// suggestions, which an operator accepts (MergeCustomers) or dismisses.
// A dismissed pair is remembered and not suggested again.

// MatchKind says how an incoming record was matched to a stored customer.
type MatchKind string

// The ways a record can be matched.
const (
	MatchNone     MatchKind = ""
	MatchKartonID MatchKind = "karton_id"
	MatchSourceID MatchKind = "source_id"
	MatchEmail    MatchKind = "email"
	MatchPhone    MatchKind = "phone"
	MatchContent  MatchKind = "content" // the same row imported before (no identifier in it)
)

// CustomerRef names the customer of an imported purchase, interaction or
// consent event. The first field that is set and matches decides, in the
// order of the fields; a field that is set but matches nobody does not stop
// the next one from matching.
type CustomerRef struct {
	ID         model.CustomerID // Karton's own id
	ExternalID string           // id in the import's source system
	Email      string           // any spelling; normalised before lookup
	Phone      string           // E.164 (the importer normalises it)
}

// IsZero reports whether the reference names nothing at all.
func (r CustomerRef) IsZero() bool {
	return r.ID == 0 && r.ExternalID == "" && r.Email == "" && r.Phone == ""
}

// String describes the reference for rejection messages.
func (r CustomerRef) String() string {
	var parts []string
	if r.ID != 0 {
		parts = append(parts, "id "+r.ID.String())
	}
	if r.ExternalID != "" {
		parts = append(parts, "source id "+r.ExternalID)
	}
	if r.Email != "" {
		parts = append(parts, "email "+r.Email)
	}
	if r.Phone != "" {
		parts = append(parts, "phone "+r.Phone)
	}
	if len(parts) == 0 {
		return "no customer"
	}
	return strings.Join(parts, ", ")
}

// ResolveCustomer finds the customer a reference names, for the given
// source system, using only certain matches. It returns 0 and MatchNone
// when nobody matches; a phone held by several customers matches nobody.
func (r *Reader) ResolveCustomer(source string, ref CustomerRef) (model.CustomerID, MatchKind, error) {
	if ref.ID != 0 {
		c, err := r.customerRaw(ref.ID)
		if err == nil && !c.Erased {
			return ref.ID, MatchKartonID, nil
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return 0, MatchNone, err
		}
	}
	if ref.ExternalID != "" && source != "" {
		if v := r.tx.Bucket(bCustSource).Get(sourceKey(source, ref.ExternalID)); v != nil {
			return model.CustomerID(readU64(v)), MatchSourceID, nil
		}
	}
	if e := model.NormalizeEmail(ref.Email); e != "" {
		if v := r.tx.Bucket(bCustEmail).Get([]byte(e)); v != nil {
			return model.CustomerID(readU64(v)), MatchEmail, nil
		}
	}
	if ref.Phone != "" {
		if ids := r.CustomerIDsByPhone(ref.Phone); len(ids) == 1 {
			return ids[0], MatchPhone, nil
		}
	}
	return 0, MatchNone, nil
}

// ---------------------------------------------------------------------------
// Look-alikes

// lookAlikeKeys are the hashes under which two customers count as looking
// alike: the folded full name with the postcode, and with the birth date.
// Customers without a name (or without postcode / birth date) have no key
// of that kind. A 64-bit hash of the exact folded text stands in for the
// text: a false pair would need a collision (odds ~1e-8 at a million
// customers) and still only becomes a suggestion.
func lookAlikeKeys(seed maphash.Seed, c *model.Customer) (namePostcode, nameBirth uint64) {
	if c.Erased {
		return 0, 0
	}
	first, last := model.Fold(c.FirstName), model.Fold(c.LastName)
	if first == "" || last == "" {
		return 0, 0
	}
	// Streamed into the hash piece by piece (the same as hashing the
	// joined text), so that no key text is built.
	var h maphash.Hash
	h.SetSeed(seed)
	name := func(kind string) {
		h.Reset()
		h.WriteString(kind)
		h.WriteString(last)
		h.WriteByte(0)
		h.WriteString(first)
		h.WriteByte(0)
	}
	if pc := strings.ReplaceAll(c.Address.PostalCode, " ", ""); pc != "" {
		name("p\x00")
		h.WriteString(c.Address.Country)
		h.WriteByte(0)
		h.WriteString(pc)
		namePostcode = h.Sum64() | 1
	}
	if d := c.BirthDate; !d.IsZero() {
		name("b\x00")
		var b [12]byte
		binary.BigEndian.PutUint32(b[0:], uint32(d.Year))
		binary.BigEndian.PutUint32(b[4:], uint32(d.Month))
		binary.BigEndian.PutUint32(b[8:], uint32(d.Day))
		h.Write(b[:])
		nameBirth = h.Sum64() | 1
	}
	return namePostcode, nameBirth
}

// SuggestionReason is a bit set of why two customers may be one person.
type SuggestionReason uint8

// The reasons for a merge suggestion.
const (
	ReasonNamePostcode   SuggestionReason = 1 << iota // same name and postcode
	ReasonNameBirthDate                               // same name and birth date
	ReasonSharedPhone                                 // the same phone number
	ReasonEmailConflict                               // an import row tied one's source id to the other's email
	ReasonSourceConflict                              // two records of one source system share an email
	ReasonOperator                                    // an operator said so
)

var reasonNames = []struct {
	r    SuggestionReason
	name string
}{
	{ReasonNamePostcode, "same name and postcode"},
	{ReasonNameBirthDate, "same name and birth date"},
	{ReasonSharedPhone, "same phone number"},
	{ReasonEmailConflict, "an import tied one's source id to the other's email"},
	{ReasonSourceConflict, "two records of one source share an email"},
	{ReasonOperator, "suggested by an operator"},
}

// Strings names the reasons in the set.
func (r SuggestionReason) Strings() []string {
	var out []string
	for _, x := range reasonNames {
		if r&x.r != 0 {
			out = append(out, x.name)
		}
	}
	return out
}

// String joins the reasons with "; ".
func (r SuggestionReason) String() string { return strings.Join(r.Strings(), "; ") }

// MarshalText renders the reasons as their joined names.
func (r SuggestionReason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// MergeSuggestion is a pair of customers who may be one person. A is the
// smaller id. Dismissed pairs stay stored so they are not suggested again.
type MergeSuggestion struct {
	A, B        model.CustomerID
	Reasons     SuggestionReason
	CreatedAt   time.Time
	Batch       uint64 // the import batch that found it; 0 for a rescan
	Dismissed   bool
	DismissedBy string
	DismissedAt time.Time
}

const suggestionVersion = 1

func encodeSuggestion(s *MergeSuggestion) []byte {
	var e encoder
	e.byte1(suggestionVersion)
	e.byte1(byte(s.Reasons))
	e.time(s.CreatedAt)
	e.uvarint(s.Batch)
	e.bool(s.Dismissed)
	e.str(s.DismissedBy)
	e.time(s.DismissedAt)
	return e.buf
}

func decodeSuggestion(k, v []byte, s *MergeSuggestion) error {
	if len(k) != 16 {
		return errCorrupt
	}
	s.A, s.B = model.CustomerID(readU64(k)), model.CustomerID(readU64(k[8:]))
	d := decoder{b: v}
	d.version(suggestionVersion, "merge suggestion")
	s.Reasons = SuggestionReason(d.byte1())
	s.CreatedAt = d.time()
	s.Batch = d.uvarint()
	s.Dismissed = d.bool()
	s.DismissedBy = d.str()
	s.DismissedAt = d.time()
	return d.done("merge suggestion")
}

func pairKey(a, b model.CustomerID) []byte {
	return appendU64(u64(uint64(a)), uint64(b))
}

// ensure returns a bucket of this transaction, creating it in stores made
// before it existed (see the bucket list in keys.go).
func (t *Tx) ensure(name []byte) (*bolt.Bucket, error) {
	if b := t.bucket(name); b != nil {
		return b, nil
	}
	b, err := t.tx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", name, err)
	}
	return b, nil
}

// suggest records (or widens) a merge suggestion for two customers. A
// dismissed pair stays dismissed; a pair of one customer is ignored.
func (t *Tx) suggest(a, b model.CustomerID, why SuggestionReason, batch uint64) error {
	if a == b || a == 0 || b == 0 {
		return nil
	}
	if a > b {
		a, b = b, a
	}
	bk, err := t.ensure(bMergeHints)
	if err != nil {
		return err
	}
	s := MergeSuggestion{A: a, B: b, Reasons: why, CreatedAt: t.now, Batch: batch}
	if v := bk.Get(pairKey(a, b)); v != nil {
		var old MergeSuggestion
		if err := decodeSuggestion(pairKey(a, b), v, &old); err != nil {
			return err
		}
		if old.Reasons|why == old.Reasons {
			return nil
		}
		old.Reasons |= why
		s = old
	} else {
		t.count("merge_suggestions", 1)
	}
	val := t.keep(encodeSuggestion(&s))
	if err := bk.Put(pairKey(a, b), val); err != nil {
		return err
	}
	// The reverse key lets a customer's suggestions be found by prefix.
	return bk.Put(pairKey(b, a), val)
}

// SuggestMerge records a merge suggestion by hand (an operator who noticed
// two records of one person).
func (t *Tx) SuggestMerge(a, b model.CustomerID) error {
	if err := t.require(model.PermEditCustomers, "suggest merges"); err != nil {
		return err
	}
	for _, id := range []model.CustomerID{a, b} {
		if _, err := t.cachedCustomer(id); err != nil {
			return err
		}
	}
	if a == b {
		return fmt.Errorf("customer %d cannot be merged with itself", a)
	}
	return t.suggest(a, b, ReasonOperator, 0)
}

// DismissSuggestion marks a suggestion as wrong (two different people);
// it is kept so the pair is not suggested again. Audited.
func (t *Tx) DismissSuggestion(a, b model.CustomerID) error {
	if err := t.require(model.PermEditCustomers, "dismiss merge suggestions"); err != nil {
		return err
	}
	if a > b {
		a, b = b, a
	}
	bk := t.bucket(bMergeHints)
	var v []byte
	if bk != nil {
		v = bk.Get(pairKey(a, b))
	}
	if v == nil {
		return notFound("merge suggestion", fmt.Sprintf("%d/%d", a, b))
	}
	var s MergeSuggestion
	if err := decodeSuggestion(pairKey(a, b), v, &s); err != nil {
		return err
	}
	if s.Dismissed {
		return nil
	}
	s.Dismissed, s.DismissedBy, s.DismissedAt = true, t.actor.Name, t.now
	val := t.keep(encodeSuggestion(&s))
	if err := bk.Put(pairKey(a, b), val); err != nil {
		return err
	}
	if err := bk.Put(pairKey(b, a), val); err != nil {
		return err
	}
	t.count("merge_suggestions", -1)
	t.change(ChangeCustomer, uint64(a))
	t.change(ChangeCustomer, uint64(b))
	return t.Audit("customer.merge_dismiss", fmt.Sprintf("customer:%d+%d", a, b), val)
}

// dropSuggestions removes every suggestion that names the customer (after
// a merge absorbed it), open or dismissed.
func (t *Tx) dropSuggestions(id model.CustomerID) error {
	bk := t.bucket(bMergeHints)
	if bk == nil {
		return nil
	}
	prefix := u64(uint64(id))
	var keys [][]byte
	open := 0
	c := bk.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var s MergeSuggestion
		if err := decodeSuggestion(k, v, &s); err != nil {
			return err
		}
		if !s.Dismissed {
			open++
		}
		other := model.CustomerID(readU64(k[8:]))
		keys = append(keys, slices.Clone(k), pairKey(other, id))
	}
	for _, k := range keys {
		if err := bk.Delete(k); err != nil {
			return err
		}
	}
	if open > 0 {
		t.count("merge_suggestions", -int64(open))
	}
	return nil
}

// MergeSuggestions lists open suggestions (or all, with dismissed) in
// customer id order, starting after the pair (afterA, afterB) — pass the
// last pair of the previous page, or zeros for the first page.
func (r *Reader) MergeSuggestions(afterA, afterB model.CustomerID, limit int, withDismissed bool) ([]MergeSuggestion, error) {
	bk := r.tx.Bucket(bMergeHints)
	if bk == nil || limit <= 0 {
		return nil, nil
	}
	var out []MergeSuggestion
	c := bk.Cursor()
	seek := pairKey(afterA, afterB+1)
	if afterB == ^model.CustomerID(0) {
		seek = pairKey(afterA+1, 0)
	}
	for k, v := c.Seek(seek); k != nil && len(out) < limit; k, v = c.Next() {
		if len(k) != 16 || readU64(k) >= readU64(k[8:]) {
			continue // the reverse copy
		}
		var s MergeSuggestion
		if err := decodeSuggestion(k, v, &s); err != nil {
			return out, err
		}
		if s.Dismissed && !withDismissed {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// SuggestionsFor lists the suggestions naming one customer (open ones).
func (r *Reader) SuggestionsFor(id model.CustomerID) ([]MergeSuggestion, error) {
	bk := r.tx.Bucket(bMergeHints)
	if bk == nil {
		return nil, nil
	}
	var out []MergeSuggestion
	prefix := u64(uint64(id))
	c := bk.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var s MergeSuggestion
		other := model.CustomerID(readU64(k[8:]))
		if err := decodeSuggestion(pairKey(min(id, other), max(id, other)), v, &s); err != nil {
			return out, err
		}
		if !s.Dismissed {
			out = append(out, s)
		}
	}
	return out, nil
}

// OpenSuggestions is the number of open merge suggestions (a counter).
func (r *Reader) OpenSuggestions() int64 { return r.Counter("merge_suggestions") }

// maxLookAlikes is the largest group of customers with one look-alike key
// that is still suggested: beyond it the name is simply common there
// ("Thomas Müller" in a big postcode), and pairing everyone with everyone
// would bury the real duplicates under thousands of suggestions.
const maxLookAlikes = 4

// lookAlikeIndex files customers under their look-alike keys and yields
// the pairs that share a key, at least one of them touched by the import.
// Filing appends to a list (an import files a million customers, and a
// hash map of that size spends its time in cache misses); pairs sorts the
// list once and reads the groups off it.
type lookAlikeIndex struct {
	seed maphash.Seed
	// filed holds the entries in the order of filing, in chunks of
	// lookAlikeChunk (a growing slice of two million entries would be
	// copied over and over by the writer); sort moves them to entries.
	filed [][]lookAlikeEntry
	n     int // entries filed in all
	// entries are the filed entries in key order, once sorted.
	entries []lookAlikeEntry
	// touched is how many entries the adds filed, sorted by key when the
	// first probe comes (probes file theirs after them).
	touched int
}

// lookAlikeEntry is one customer under one key; seq is its place in the
// order of filing.
type lookAlikeEntry struct {
	key     uint64
	id      model.CustomerID
	seq     uint32
	why     SuggestionReason
	touched bool
}

func newLookAlikeIndex() *lookAlikeIndex {
	return &lookAlikeIndex{seed: maphash.MakeSeed()}
}

// lookAlikeChunk is the number of entries in a chunk of filed.
const lookAlikeChunk = 1 << 15

func (x *lookAlikeIndex) file(key uint64, why SuggestionReason, id model.CustomerID, touched bool) {
	if key == 0 {
		return
	}
	if k := len(x.filed); k == 0 || len(x.filed[k-1]) == lookAlikeChunk {
		x.filed = append(x.filed, make([]lookAlikeEntry, 0, lookAlikeChunk))
	}
	last := &x.filed[len(x.filed)-1]
	*last = append(*last, lookAlikeEntry{key: key, id: id, seq: uint32(x.n), why: why, touched: touched})
	x.n++
}

// add files a customer the import created or changed.
func (x *lookAlikeIndex) add(c *model.Customer) {
	kp, kb := lookAlikeKeys(x.seed, c)
	x.file(kp, ReasonNamePostcode, c.ID, true)
	x.file(kb, ReasonNameBirthDate, c.ID, true)
}

// sort puts the entries in key order, keeping the order of filing within
// a key (the first filed gives a group its reason).
func (x *lookAlikeIndex) sort() {
	x.entries = slices.Grow(x.entries, x.n-len(x.entries))
	for _, c := range x.filed {
		x.entries = append(x.entries, c...)
	}
	x.filed = nil
	slices.SortFunc(x.entries, func(a, b lookAlikeEntry) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
}

// probe files a customer the import did not touch, if a touched one
// shares a key with it. Call it only after every add.
func (x *lookAlikeIndex) probe(c *model.Customer) {
	if x.touched == 0 {
		x.sort()
		x.touched = len(x.entries)
	}
	kp, kb := lookAlikeKeys(x.seed, c)
	for _, k := range []struct {
		key uint64
		why SuggestionReason
	}{{kp, ReasonNamePostcode}, {kb, ReasonNameBirthDate}} {
		if k.key == 0 {
			continue
		}
		touched := x.entries[:x.touched]
		if _, ok := slices.BinarySearchFunc(touched, k.key, func(e lookAlikeEntry, key uint64) int {
			switch {
			case e.key < key:
				return -1
			case e.key > key:
				return 1
			}
			return 0
		}); ok {
			x.file(k.key, k.why, c.ID, false)
		}
	}
}

// empty reports whether nothing was filed.
func (x *lookAlikeIndex) empty() bool { return x.n == 0 }

// pairs lists the suggestions: every pair of a group of at most
// maxLookAlikes customers with at least one touched member. A customer
// filed twice under a key (changed twice) is one member, touched if
// either filing was.
func (x *lookAlikeIndex) pairs() map[[2]model.CustomerID]SuggestionReason {
	x.sort()
	out := map[[2]model.CustomerID]SuggestionReason{}
	var members []lookAlikeEntry
	for lo := 0; lo < len(x.entries); {
		hi := lo + 1
		for hi < len(x.entries) && x.entries[hi].key == x.entries[lo].key {
			hi++
		}
		group := x.entries[lo:hi]
		why := group[0].why
		lo = hi
		if len(group) == 1 {
			continue
		}
		members = members[:0]
		for _, e := range group {
			if i := slices.IndexFunc(members, func(m lookAlikeEntry) bool { return m.id == e.id }); i >= 0 {
				members[i].touched = members[i].touched || e.touched
				continue
			}
			if len(members) > maxLookAlikes {
				break // a common name there: no suggestions
			}
			members = append(members, e)
		}
		if len(members) > maxLookAlikes {
			continue
		}
		for i, a := range members {
			for _, b := range members[i+1:] {
				if !a.touched && !b.touched {
					continue
				}
				ida, idb := a.id, b.id
				if ida > idb {
					ida, idb = idb, ida
				}
				out[[2]model.CustomerID{ida, idb}] |= why
			}
		}
	}
	return out
}

// scanLookAlikes compares the touched customers with every stored customer
// whose id is below before (those created by the import were compared as
// they were added) and skips the touched ones themselves. It returns the
// pairs found.
func (s *Store) scanLookAlikes(x *lookAlikeIndex, before model.CustomerID, touched func(model.CustomerID) bool) error {
	if x.empty() {
		return nil
	}
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bCustomers).Cursor()
		var cust model.Customer
		for k, v := c.First(); k != nil && model.CustomerID(readU64(k)) < before; k, v = c.Next() {
			id := model.CustomerID(readU64(k))
			if touched(id) {
				continue
			}
			if err := decodeCustomer(v, &cust); err != nil {
				return fmt.Errorf("customer %d: %w", id, err)
			}
			x.probe(&cust)
		}
		return nil
	})
}

// RescanLookAlikes compares every customer with every other and records a
// suggestion for each pair that looks alike (for stores filled before
// suggestions existed, or by a bulk load that does not look). It returns
// the number of new suggestions.
func (s *Store) RescanLookAlikes(by model.Actor) (int, error) {
	if err := by.Require(model.PermEditCustomers, "look for duplicate customers"); err != nil {
		return 0, err
	}
	x := newLookAlikeIndex()
	err := s.db.View(func(tx *bolt.Tx) error {
		var cust model.Customer
		return tx.Bucket(bCustomers).ForEach(func(k, v []byte) error {
			if err := decodeCustomer(v, &cust); err != nil {
				return fmt.Errorf("customer %d: %w", readU64(k), err)
			}
			x.add(&cust)
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	return s.storePairs(by, x.pairs(), 0)
}

// storePairs writes suggestions in batches; it returns how many were new.
func (s *Store) storePairs(by model.Actor, pairs map[[2]model.CustomerID]SuggestionReason, batch uint64) (int, error) {
	keys := make([][2]model.CustomerID, 0, len(pairs))
	for k := range pairs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]model.CustomerID) int {
		if a[0] != b[0] {
			return cmpID(a[0], b[0])
		}
		return cmpID(a[1], b[1])
	})
	n := 0
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), 5000)]
		keys = keys[len(chunk):]
		added := 0
		err := s.Update(by, func(t *Tx) error {
			added = 0
			before := t.counters["merge_suggestions"]
			for _, k := range chunk {
				if err := t.suggest(k[0], k[1], pairs[k], batch); err != nil {
					return err
				}
			}
			added = int(t.counters["merge_suggestions"] - before)
			return nil
		})
		if err != nil {
			return n, err
		}
		n += added
	}
	return n, nil
}

func cmpID(a, b model.CustomerID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
