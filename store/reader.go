package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// Reader answers queries on behalf of an actor. Personal data is masked for
// actors who may not see it (PRODUCT.md §5), so a screen or an export built
// on a Reader cannot leak it by accident.
type Reader struct {
	s     *Store
	tx    *bolt.Tx
	actor model.Actor
	w     *Tx // set when reading inside a write transaction
}

// Actor is who this reader reads for.
func (r *Reader) Actor() model.Actor { return r.actor }

// Unmasked reports whether the actor sees personal data in clear.
func (r *Reader) Unmasked() bool { return r.actor.Can(model.PermSeePersonalData) }

func (r *Reader) present(c *model.Customer) model.Customer {
	if r.Unmasked() {
		return *c
	}
	return c.Masked()
}

// customerRaw reads a customer without masking, seeing this transaction's
// own pending changes when inside a Tx.
func (r *Reader) customerRaw(id model.CustomerID) (*model.Customer, error) {
	if r.w != nil {
		if c, ok := r.w.customers[id]; ok {
			return c.cur, nil
		}
	}
	v := r.tx.Bucket(bCustomers).Get(u64(uint64(id)))
	if v == nil {
		return nil, noCustomer(r.tx, id)
	}
	c := new(model.Customer)
	if err := decodeCustomer(v, c); err != nil {
		return nil, err
	}
	return c, nil
}

// customerFacts reads what the decision table knows of a customer
// (model.StoredFactsOf) without decoding the whole record.
func (r *Reader) customerFacts(id model.CustomerID) (model.CustomerFacts, error) {
	if r.w != nil {
		if c, ok := r.w.customers[id]; ok {
			return model.StoredFactsOf(c.cur, c.cur.ContactPoints), nil
		}
	}
	v := r.tx.Bucket(bCustomers).Get(u64(uint64(id)))
	if v == nil {
		return model.CustomerFacts{}, noCustomer(r.tx, id)
	}
	var f customerFacts
	if err := decodeCustomerFacts(v, &f); err != nil {
		return model.CustomerFacts{}, err
	}
	return f.decision(), nil
}

// NotFoundError names the record that does not exist.
type NotFoundError struct {
	Entity string
	Key    string
	Detail string // what became of it, when known
}

func (e *NotFoundError) Error() string {
	if e.Detail != "" {
		return "no " + e.Entity + " " + e.Key + ": " + e.Detail
	}
	return "no " + e.Entity + " " + e.Key
}
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

func notFound(entity, key string) error { return &NotFoundError{Entity: entity, Key: key} }

// noCustomer is the error for a customer id the store does not hold: for
// one a merge absorbed, it names the customer it lives on in.
func noCustomer(tx *bolt.Tx, id model.CustomerID) error {
	err := &NotFoundError{Entity: "customer", Key: id.String()}
	first, ok := mergeOf(tx, id)
	if !ok {
		return err
	}
	into := first.Survivor
	for range 64 { // merged into one that was merged in turn
		rec, ok := mergeOf(tx, into)
		if !ok {
			break
		}
		into = rec.Survivor
	}
	err.Detail = fmt.Sprintf("it was merged into customer %d on %s", into, first.At.Format("2006-01-02"))
	return err
}

// ConflictError names the record a new one clashes with.
type ConflictError struct {
	What string
}

func (e *ConflictError) Error() string { return e.What }
func (e *ConflictError) Unwrap() error { return ErrConflict }

// releaseEvery is how many records a full scan reads between returning the
// store pages it touched (see Store.releasePages).
const releaseEvery = 1 << 16

// release returns the store pages this reader's scan touched to the page
// cache, so a scan over a million customers does not leave the process a
// gigabyte of resident mapping. Inside a write transaction it does nothing.
func (r *Reader) release() {
	if !r.tx.Writable() {
		r.s.releasePages()
	}
}
