package store

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"karton/model"
)

// InsertCustomer validates and stores a new customer, assigning its id.
// The email address and source ids must not belong to another customer.
func (t *Tx) InsertCustomer(c *model.Customer) error {
	return t.insertCustomer(c, nil)
}

// insertHints are what an import worked out about a new customer before
// inserting it (ImportSession.PrepareCustomer, customerRow).
type insertHints struct {
	// unique says the email and source ids were looked up in this
	// transaction and are free.
	unique bool
	// valid is Validate's answer for the record on the UTC day validOn
	// (0: not asked).
	valid   error
	validOn int
	// derived holds values derived from the record, if known.
	derived *derivedFacts
}

func (t *Tx) insertCustomer(c *model.Customer, h *insertHints) error {
	if err := t.require(model.PermEditCustomers, "create customers"); err != nil {
		return err
	}
	if err := c.Normalize(t.s.settings.Region); err != nil {
		return err
	}
	if h != nil && h.validOn != 0 && h.validOn == utcDay(t.now) {
		// Validate's answer depends on the day only (birth dates).
		if h.valid != nil {
			return h.valid
		}
	} else if err := c.Validate(t.now); err != nil {
		return err
	}
	id, err := t.nextID(bCustomers)
	if err != nil {
		return err
	}
	c.ID = model.CustomerID(id)
	if c.CreatedAt.IsZero() {
		c.CreatedAt = t.now
	}
	c.UpdatedAt = t.now
	// Aggregates are maintained by the store from purchases and interactions.
	c.PurchaseCount, c.Revenue = 0, 0
	c.FirstPurchaseAt, c.LastPurchaseAt, c.LastActivityAt = time.Time{}, time.Time{}, time.Time{}
	c.EmailFromPurchase, c.Erased, c.ErasedAt, c.Suppressed = false, false, time.Time{}, false
	if err := t.putUnique(nil, c, h != nil && h.unique); err != nil {
		return err
	}
	if err := t.checkSuppression(c); err != nil {
		return err
	}
	if t.customers == nil {
		t.customers = make(map[model.CustomerID]*cachedCustomer)
	}
	cc := &cachedCustomer{cur: c, dirty: true, created: true}
	if h != nil {
		cc.derived = h.derived
	}
	t.customers[c.ID] = cc
	t.markConsentDirty(c.ID)
	t.count("customers", 1)
	t.change(ChangeCustomer, id)
	return nil
}

// utcDay numbers t's UTC date (never 0).
func utcDay(t time.Time) int {
	y, m, d := t.UTC().Date()
	return y*10000 + int(m)*100 + d + 1<<30
}

// derivedFacts are values derived from a customer record ahead of the
// writer, with a copy of the record they were derived from: the writer
// uses them while the customer still has that data, and derives afresh
// otherwise.
type derivedFacts struct {
	from  model.Customer
	cp    model.ContactPoints
	texts indexTexts
}

func deriveFacts(c *model.Customer) *derivedFacts {
	return &derivedFacts{from: *c, cp: model.ContactPointsOf(c), texts: indexTextsOf(c)}
}

// UpdateCustomer applies edit to a copy of the customer, validates the
// result and stores it. Fields the store maintains (aggregates, erasure and
// suppression state, id, creation time) cannot be changed this way.
func (t *Tx) UpdateCustomer(id model.CustomerID, edit func(c *model.Customer) error) error {
	if err := t.require(model.PermEditCustomers, "edit customers"); err != nil {
		return err
	}
	cc, err := t.cachedCustomer(id)
	if err != nil {
		return err
	}
	if cc.cur.Erased {
		return fmt.Errorf("customer %d was erased and cannot be edited", id)
	}
	before := *cc.cur
	next := cloneCustomer(cc.cur)
	if err := edit(next); err != nil {
		return err
	}
	next.ID, next.CreatedAt = before.ID, before.CreatedAt
	next.Erased, next.ErasedAt, next.Suppressed = before.Erased, before.ErasedAt, before.Suppressed
	next.LastActivityAt, next.PurchaseCount, next.Revenue = before.LastActivityAt, before.PurchaseCount, before.Revenue
	next.FirstPurchaseAt, next.LastPurchaseAt, next.EmailFromPurchase = before.FirstPurchaseAt, before.LastPurchaseAt, before.EmailFromPurchase
	if err := next.Normalize(t.s.settings.Region); err != nil {
		return err
	}
	if err := next.Validate(t.now); err != nil {
		return err
	}
	next.UpdatedAt = t.now
	if err := t.putUniqueIndexes(&before, next); err != nil {
		return err
	}
	if err := t.checkSuppression(next); err != nil {
		return err
	}
	cc.cur, cc.dirty = next, true
	t.markConsentDirty(id)
	t.change(ChangeCustomer, uint64(id))
	return nil
}

// cachedCustomer loads a customer into the transaction's cache.
func (t *Tx) cachedCustomer(id model.CustomerID) (*cachedCustomer, error) {
	if cc, ok := t.customers[id]; ok {
		return cc, nil
	}
	v := t.tx.Bucket(bCustomers).Get(u64(uint64(id)))
	if v == nil {
		return nil, noCustomer(t.tx, id)
	}
	old := new(model.Customer)
	if err := decodeCustomer(v, old); err != nil {
		return nil, fmt.Errorf("customer %d: %w", id, err)
	}
	if t.customers == nil {
		t.customers = make(map[model.CustomerID]*cachedCustomer)
	}
	cc := &cachedCustomer{old: old, cur: cloneCustomer(old)}
	t.customers[id] = cc
	return cc, nil
}

// touchCustomer returns the customer for an aggregate update and marks it
// to be rewritten at the end of the transaction.
func (t *Tx) touchCustomer(id model.CustomerID) (*model.Customer, error) {
	cc, err := t.cachedCustomer(id)
	if err != nil {
		return nil, err
	}
	cc.dirty = true
	return cc.cur, nil
}

func cloneCustomer(c *model.Customer) *model.Customer {
	n := *c
	n.Attributes = cloneMap(c.Attributes)
	n.Preferences = cloneMap(c.Preferences)
	n.Tags = append([]string(nil), c.Tags...)
	n.Sources = append([]model.SourceRef(nil), c.Sources...)
	return &n
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	n := make(map[string]string, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n
}

// putUniqueIndexes moves the email and source-id indexes from old to new,
// refusing values another customer holds. These are written at once (not
// at flush) so that a second insert in the same transaction sees them.
func (t *Tx) putUniqueIndexes(old, c *model.Customer) error {
	return t.putUnique(old, c, false)
}

// putUnique is putUniqueIndexes; free says the new email and source ids
// are known to be free (looked up in this transaction), so they are
// written without looking again.
func (t *Tx) putUnique(old, c *model.Customer, free bool) error {
	emails := t.bucket(bCustEmail)
	oldEmail, newEmail := "", model.NormalizeEmail(c.Email)
	if old != nil {
		oldEmail = model.NormalizeEmail(old.Email)
	}
	if c.Erased {
		newEmail = ""
	}
	if newEmail != oldEmail {
		if newEmail != "" && !free {
			if v := emails.Get([]byte(newEmail)); v != nil && model.CustomerID(readU64(v)) != c.ID {
				return &ConflictError{What: fmt.Sprintf("email %s already belongs to customer %d", c.Email, readU64(v))}
			}
		}
		if b := t.bulk; b != nil {
			// The index does not hold the load's customers yet; the load
			// remembers their addresses.
			if newEmail != "" && !free {
				holder, err := b.emailHolder(t, newEmail, c.ID)
				if err != nil {
					return err
				}
				if holder != 0 {
					return &ConflictError{What: fmt.Sprintf("email %s already belongs to customer %d", c.Email, holder)}
				}
			}
			if b.owns(c.ID) {
				if newEmail != "" {
					if err := b.addEmail(t, newEmail, c.ID); err != nil {
						return err
					}
				}
				newEmail, oldEmail = "", "" // indexed at Finish
			}
		}
		if oldEmail != "" {
			if err := emails.Delete([]byte(oldEmail)); err != nil {
				return err
			}
		}
		if newEmail != "" {
			if err := emails.Put([]byte(newEmail), u64(uint64(c.ID))); err != nil {
				return err
			}
		}
	}
	sources := t.bucket(bCustSource)
	var oldRefs []model.SourceRef
	if old != nil {
		oldRefs = old.Sources
	}
	for _, r := range oldRefs {
		if !hasRef(c.Sources, r) {
			if err := sources.Delete(sourceKey(r.Source, r.ExternalID)); err != nil {
				return err
			}
		}
	}
	for _, r := range c.Sources {
		k := sourceKey(r.Source, r.ExternalID)
		if free {
			if err := sources.Put(k, u64(uint64(c.ID))); err != nil {
				return err
			}
			continue
		}
		if v := sources.Get(k); v != nil {
			if model.CustomerID(readU64(v)) != c.ID {
				return &ConflictError{What: fmt.Sprintf("%s id %s already belongs to customer %d", r.Source, r.ExternalID, readU64(v))}
			}
			continue
		}
		if err := sources.Put(k, u64(uint64(c.ID))); err != nil {
			return err
		}
	}
	return nil
}

func hasRef(refs []model.SourceRef, r model.SourceRef) bool {
	for _, x := range refs {
		if x == r {
			return true
		}
	}
	return false
}

// sortedIndexKeys lists the non-unique index entries of a customer.
func sortedIndexKeys(c *model.Customer) map[string][][]byte {
	keys := make(map[string][][]byte, 6)
	eachIndexKey(c, func(i int, k []byte) {
		n := string(deferredIndexes[i])
		keys[n] = append(keys[n], k)
	})
	return keys
}

// eachIndexKey visits the non-unique index entries of a customer with the
// index's position in deferredIndexes; every key is a new slice.
func eachIndexKey(c *model.Customer, fn func(i int, key []byte)) {
	eachIndexKeyWith(c, nil, fn)
}

// indexTexts are the folded texts of a customer's name and city keys.
type indexTexts struct {
	name, firstName, city string
}

func indexTextsOf(c *model.Customer) indexTexts {
	var x indexTexts
	switch {
	case c.Erased:
		x.name = erasedSortKey
	case c.FirstName != "" || c.LastName != "":
		x.name = model.Fold(c.LastName + " " + c.FirstName)
		x.firstName = model.Fold(c.FirstName + " " + c.LastName)
	case c.Company != "":
		x.name = model.Fold(c.Company)
	default:
		x.name = model.Fold(c.Email)
	}
	if c.Address.City != "" {
		x.city = model.Fold(c.Address.City)
	}
	return x
}

// eachIndexKeyWith is eachIndexKey with the folded texts known (texts may
// be nil).
func eachIndexKeyWith(c *model.Customer, texts *indexTexts, fn func(i int, key []byte)) {
	eachIndexKeyInto(c, texts, nil, fn)
}

// eachIndexKeyInto is eachIndexKeyWith building the keys one after another
// in scratch, which it returns (grown) for the next call. A key stays
// valid until scratch is used again; with a nil scratch, for good.
func eachIndexKeyInto(c *model.Customer, texts *indexTexts, scratch []byte, fn func(i int, key []byte)) []byte {
	mark := len(scratch)
	key := func(i int) {
		fn(i, scratch[mark:len(scratch):len(scratch)])
		mark = len(scratch)
	}
	scratch = appendActivityIndexKey(scratch, c)
	key(diActivity)
	scratch = appendValueIndexKey(scratch, c)
	key(diValue)
	var x indexTexts
	if texts != nil {
		x = *texts
	} else {
		x = indexTextsOf(c)
	}
	// Erased people keep a place in the name order (so every index
	// holds every customer) under a key that says nothing about them.
	scratch = appendTextKey(scratch, x.name, c.ID)
	key(diName)
	if c.Erased {
		return scratch
	}
	if c.FirstName != "" || c.LastName != "" {
		scratch = appendTextKey(scratch, x.firstName, c.ID)
		key(diFirstName)
	}
	if c.Phone != "" {
		scratch = appendTextKey(scratch, c.Phone, c.ID)
		key(diPhone)
	}
	if c.Address.City != "" {
		scratch = appendTextKey(scratch, x.city, c.ID)
		key(diCity)
	}
	for _, tag := range c.Tags {
		scratch = appendTextKey(scratch, strings.ToLower(strings.TrimSpace(tag)), c.ID)
		key(diTag)
	}
	return scratch
}

// sameIndexedText reports whether every field the text indexes of
// sortedIndexKeys read is unchanged, so that only the activity and value
// keys can differ.
func sameIndexedText(a, b *model.Customer) bool {
	return a.Erased == b.Erased && a.FirstName == b.FirstName && a.LastName == b.LastName && a.Company == b.Company &&
		a.Email == b.Email && a.Phone == b.Phone && a.Address.City == b.Address.City && slices.Equal(a.Tags, b.Tags)
}

// erasedSortKey sorts erased customers after every name.
const erasedSortKey = "~erased"

// writeCustomer stores the record and brings its sorted indexes from the
// state before the transaction to the current one (the index changes are
// applied in key order at the end of the flush, flushIndexOps).
func (t *Tx) writeCustomer(cc *cachedCustomer) error {
	if cc.old == nil || contactDataChanged(cc.old, cc.cur) {
		if d := cc.derived; d != nil && !contactDataChanged(&d.from, cc.cur) {
			cc.cur.ContactPoints = d.cp
		} else {
			cc.cur.ContactPoints = model.ContactPointsOf(cc.cur)
		}
	}
	val := t.keep(encodeCustomer(t.scratch[:0], cc.cur))
	if err := t.bucket(bCustomers).Put(u64(uint64(cc.cur.ID)), val); err != nil {
		return err
	}
	if t.bulk != nil && t.bulk.owns(cc.cur.ID) {
		// Indexed when the bulk load finishes. Nothing runs after the
		// flush, so the cache entry needs no copy.
		t.bulk.deferCustomer(cc)
		cc.dirty = false
		return nil
	}
	// Nothing after the flush changes the cached customer, so the state
	// just written becomes the stored one without a copy.
	if t.bulk != nil {
		// A bulk load moves the activity and value keys of the customers
		// it did not create at its end, all in key order (see movedKeys).
		t.bulk.noteMove(cc.old, cc.cur)
	}
	if cc.old != nil && sameIndexedText(cc.old, cc.cur) {
		// Only aggregates changed (an interaction, a purchase): only the
		// activity and value keys can move, and folding names is skipped.
		if t.bulk != nil {
			cc.old, cc.dirty = cc.cur, false
			return nil
		}
		if o, c := activityIndexKey(cc.old), activityIndexKey(cc.cur); !bytes.Equal(o, c) {
			t.addIndexOp(diActivity, o, true)
			t.addIndexOp(diActivity, c, false)
		}
		if o, c := valueIndexKey(cc.old), valueIndexKey(cc.cur); !bytes.Equal(o, c) {
			t.addIndexOp(diValue, o, true)
			t.addIndexOp(diValue, c, false)
		}
		cc.old, cc.dirty = cc.cur, false
		return nil
	}
	var oldKeys, newKeys [numDeferred][][]byte
	if cc.old != nil {
		eachIndexKey(cc.old, func(i int, k []byte) { oldKeys[i] = append(oldKeys[i], k) })
	}
	eachIndexKeyWith(cc.cur, cc.texts(), func(i int, k []byte) { newKeys[i] = append(newKeys[i], k) })
	if t.bulk != nil {
		oldKeys[diActivity], oldKeys[diValue], newKeys[diActivity], newKeys[diValue] = nil, nil, nil, nil
	}
	for i := range oldKeys {
		for _, k := range oldKeys[i] {
			if !containsKey(newKeys[i], k) {
				t.addIndexOp(i, k, true)
			}
		}
		for _, k := range newKeys[i] {
			if !containsKey(oldKeys[i], k) {
				t.addIndexOp(i, k, false)
			}
		}
	}
	cc.old, cc.dirty = cc.cur, false
	return nil
}

// texts returns the derived index texts while the customer has the data
// they were derived from, else nil.
func (cc *cachedCustomer) texts() *indexTexts {
	if d := cc.derived; d != nil && sameIndexedText(&d.from, cc.cur) {
		return &d.texts
	}
	return nil
}

func contactDataChanged(a, b *model.Customer) bool {
	return a.Email != b.Email || a.Phone != b.Phone || a.Address != b.Address || a.Erased != b.Erased ||
		!slices.Equal(a.Sources, b.Sources)
}

func containsKey(keys [][]byte, k []byte) bool {
	for _, x := range keys {
		if bytes.Equal(x, k) {
			return true
		}
	}
	return false
}

// Customer returns one customer (masked for actors who may not see
// personal data).
func (r *Reader) Customer(id model.CustomerID) (model.Customer, error) {
	c, err := r.customerRaw(id)
	if err != nil {
		return model.Customer{}, err
	}
	return r.present(c), nil
}

// CustomerByEmail finds the customer holding an email address.
func (r *Reader) CustomerByEmail(email string) (model.Customer, error) {
	v := r.tx.Bucket(bCustEmail).Get([]byte(model.NormalizeEmail(email)))
	if v == nil {
		return model.Customer{}, notFound("customer with email", email)
	}
	return r.Customer(model.CustomerID(readU64(v)))
}

// CustomerBySource finds the customer with an id in a source system.
func (r *Reader) CustomerBySource(source, externalID string) (model.Customer, error) {
	v := r.tx.Bucket(bCustSource).Get(sourceKey(source, externalID))
	if v == nil {
		return model.Customer{}, notFound("customer with "+source+" id", externalID)
	}
	return r.Customer(model.CustomerID(readU64(v)))
}

// CustomerIDsByPhone lists the customers sharing a phone number (E.164).
func (r *Reader) CustomerIDsByPhone(e164 string) []model.CustomerID {
	var ids []model.CustomerID
	prefix := append([]byte(e164), 0)
	c := r.tx.Bucket(bCustPhone).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, idFromIndexKey(k))
	}
	return ids
}

// FindCustomer resolves what a user typed: an id, or an email address.
func (r *Reader) FindCustomer(ref string) (model.Customer, error) {
	ref = strings.TrimSpace(ref)
	if strings.Contains(ref, "@") {
		return r.CustomerByEmail(ref)
	}
	id, err := model.ParseID(ref)
	if err != nil {
		return model.Customer{}, fmt.Errorf("%q is neither a customer id nor an email address", ref)
	}
	return r.Customer(model.CustomerID(id))
}
