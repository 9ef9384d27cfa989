package store

import (
	"bytes"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// CustomerOrder is a sort order of the customer list, each backed by an
// index so that any page is one Seek and a few dozen Next calls.
type CustomerOrder int

const (
	ByName     CustomerOrder = iota // last name, first name (DIN 5007-1 folding)
	ByActivity                      // last activity (purchase or interaction)
	ByValue                         // revenue
	ByID                            // creation order
)

func (o CustomerOrder) String() string {
	return [...]string{"name", "activity", "value", "id"}[o]
}

// CustomerFilter narrows the list. Prefix matches the start of the last
// name (or the email address when it contains '@'); Tag and City match
// exactly (case-insensitive). With a filter the rows come in the order of
// the index that serves the filter, not in the requested sort order.
type CustomerFilter struct {
	Prefix string
	Tag    string
	City   string
}

// Empty reports whether the filter selects everyone.
func (f CustomerFilter) Empty() bool { return f.Prefix == "" && f.Tag == "" && f.City == "" }

// PageQuery asks for a window of the customer list.
type PageQuery struct {
	Order CustomerOrder
	// Desc reverses the order (newest activity or highest value first).
	Desc bool
	// After is the position of a row returned earlier; the page starts
	// just past it in the direction of travel. nil starts at the edge: the
	// top of the list, or its bottom when Backward.
	After []byte
	// Backward walks towards the top of the list.
	Backward bool
	Limit    int
	Filter   CustomerFilter
}

// CustomerRow is a customer with its position in the list.
type CustomerRow struct {
	Pos      []byte
	Customer model.Customer
}

// CustomerPage is a window of the list, always in display order (top to
// bottom) whichever way it was fetched. More says whether rows follow in the
// direction of travel.
type CustomerPage struct {
	Rows []CustomerRow
	More bool
}

// maxScanPerPage bounds the rows a filtered page may examine, so a rare
// filter value cannot stall a screen; the page then comes back short with
// More set, and the next request continues where it stopped.
const maxScanPerPage = 20000

// CustomerPage returns one page of customers.
func (r *Reader) CustomerPage(q PageQuery) (CustomerPage, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 50
	}
	bucket, prefix, valueIsID := r.driver(q)
	b := r.tx.Bucket(bucket)
	towardsSmaller := q.Desc != q.Backward
	var page CustomerPage
	scanned := 0
	more, err := walk(b.Cursor(), prefix, q.After, towardsSmaller, func(k, v []byte) (bool, error) {
		scanned++
		if len(page.Rows) == q.Limit || scanned > maxScanPerPage {
			return false, nil
		}
		id := idFromIndexKey(k)
		if valueIsID {
			id = model.CustomerID(readU64(v))
		}
		c, err := r.customerRaw(id)
		if err != nil {
			return false, fmt.Errorf("index %s points at customer %d: %w", bucket, id, err)
		}
		if !q.Filter.matches(c) {
			return true, nil
		}
		page.Rows = append(page.Rows, CustomerRow{Pos: append([]byte(nil), k...), Customer: r.present(c)})
		return true, nil
	})
	if err != nil {
		return page, err
	}
	page.More = more
	if q.Backward {
		for i, j := 0, len(page.Rows)-1; i < j; i, j = i+1, j-1 {
			page.Rows[i], page.Rows[j] = page.Rows[j], page.Rows[i]
		}
	}
	return page, nil
}

// driver picks the index that serves a query: the filter's own index when
// there is a filter, else the index of the sort order.
func (r *Reader) driver(q PageQuery) (bucket, prefix []byte, valueIsID bool) {
	f := q.Filter
	switch {
	case strings.Contains(f.Prefix, "@"):
		return bCustEmail, []byte(model.NormalizeEmail(f.Prefix)), true
	case f.Prefix != "":
		return bCustName, []byte(model.Fold(f.Prefix)), false
	case f.Tag != "":
		return bCustTag, append([]byte(strings.ToLower(strings.TrimSpace(f.Tag))), 0), false
	case f.City != "":
		return bCustCity, append([]byte(model.Fold(f.City)), 0), false
	}
	switch q.Order {
	case ByActivity:
		return bCustActivity, nil, false
	case ByValue:
		return bCustValue, nil, false
	case ByID:
		return bCustomers, nil, false
	}
	return bCustName, nil, false
}

func (f CustomerFilter) matches(c *model.Customer) bool {
	if f.Tag != "" && !c.HasTag(f.Tag) {
		return false
	}
	if f.City != "" && model.Fold(c.Address.City) != model.Fold(f.City) {
		return false
	}
	return true
}

// walk visits keys with the prefix starting just past `after` (or at the
// edge when nil), towards smaller keys if backward. fn returns false to
// stop; walk then reports whether a further key with the prefix exists.
func walk(c *bolt.Cursor, prefix, after []byte, backward bool, fn func(k, v []byte) (bool, error)) (bool, error) {
	var k, v []byte
	switch {
	case !backward && after == nil:
		k, v = c.Seek(prefix)
	case !backward:
		k, v = c.Seek(after)
		if k != nil && bytes.Equal(k, after) {
			k, v = c.Next()
		}
	default:
		start := after
		if start == nil {
			start = prefixEnd(prefix)
		}
		if start == nil {
			k, v = c.Last()
		} else if k, _ = c.Seek(start); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	}
	for k != nil && bytes.HasPrefix(k, prefix) {
		ok, err := fn(k, v)
		if err != nil {
			return false, err
		}
		if !ok {
			return true, nil
		}
		if backward {
			k, v = c.Prev()
		} else {
			k, v = c.Next()
		}
	}
	return false, nil
}

// SearchCustomers finds up to limit customers whose last name, first name
// or email starts with the query (for the command palette and the CLI).
// Results come name matches first, then first-name and email matches.
func (r *Reader) SearchCustomers(query string, limit int) ([]model.Customer, error) {
	query = strings.TrimSpace(query)
	if query == "" || limit <= 0 {
		return nil, nil
	}
	seen := make(map[model.CustomerID]bool)
	var out []model.Customer
	add := func(id model.CustomerID) (bool, error) {
		if seen[id] {
			return true, nil
		}
		seen[id] = true
		c, err := r.customerRaw(id)
		if err != nil {
			return false, err
		}
		out = append(out, r.present(c))
		return len(out) < limit, nil
	}
	type source struct {
		bucket    []byte
		prefix    []byte
		valueIsID bool
	}
	folded := []byte(model.Fold(query))
	sources := []source{
		{bCustName, folded, false},
		{bCustFirstName, folded, false},
		{bCustEmail, []byte(model.NormalizeEmail(query)), true},
	}
	if strings.Contains(query, "@") {
		sources = sources[2:]
	}
	for _, s := range sources {
		if !r.Unmasked() && !bytes.Equal(s.bucket, bCustName) {
			continue // masked users may find people by name initial only, not by email
		}
		_, err := walk(r.tx.Bucket(s.bucket).Cursor(), s.prefix, nil, false, func(k, v []byte) (bool, error) {
			id := idFromIndexKey(k)
			if s.valueIsID {
				id = model.CustomerID(readU64(v))
			}
			return add(id)
		})
		if err != nil || len(out) >= limit {
			return out, err
		}
	}
	return out, nil
}

// CustomerView is the 360° view's data: a customer with the latest
// interactions, purchases and the full consent history.
type CustomerView struct {
	Customer     model.Customer
	Interactions []model.Interaction // newest first
	Purchases    []model.Purchase    // newest first
	Consents     []model.ConsentEvent
	// MoreInteractions and MorePurchases continue the listings (pass to
	// Interactions / Purchases as `before`); nil when complete.
	MoreInteractions []byte
	MorePurchases    []byte
}

// CustomerView reads a customer with its latest n interactions and
// purchases and its consent history.
func (r *Reader) CustomerView(id model.CustomerID, n int) (CustomerView, error) {
	var v CustomerView
	c, err := r.Customer(id)
	if err != nil {
		return v, err
	}
	v.Customer = c
	if v.Interactions, v.MoreInteractions, err = r.Interactions(id, nil, n); err != nil {
		return v, err
	}
	if v.Purchases, v.MorePurchases, err = r.Purchases(id, nil, n); err != nil {
		return v, err
	}
	v.Consents, err = r.ConsentHistory(id)
	return v, err
}

// ConsentHistoryFor returns the customer's consent events that bear on a
// scope, in ledger order: those recorded for its channel kind and purpose,
// and those that cover every channel and purpose (an objection, an
// erasure). An empty channel kind or a zero purpose matches any.
func (r *Reader) ConsentHistoryFor(id model.CustomerID, k model.ChannelKind, p model.PurposeID) ([]model.ConsentEvent, error) {
	all, err := r.ConsentHistory(id)
	if err != nil || (k == "" && p == 0) {
		return all, err
	}
	out := all[:0]
	for _, ev := range all {
		if !ev.Kind.Scoped() || (k == "" || ev.Channel == k) && (p == 0 || ev.PurposeID == p) {
			out = append(out, ev)
		}
	}
	return out, nil
}

// ConsentHistory returns a customer's consent events in ledger order.
func (r *Reader) ConsentHistory(id model.CustomerID) ([]model.ConsentEvent, error) {
	var out []model.ConsentEvent
	prefix := u64(uint64(id))
	c := r.tx.Bucket(bConsent).Cursor()
	var fulls [][]byte
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var err error
		if fulls, err = fullConsents(r.tx, k, v, fulls[:0]); err != nil {
			return out, err
		}
		for _, full := range fulls {
			var ev model.ConsentEvent
			if err := decodeConsent(full, &ev); err != nil {
				return out, fmt.Errorf("consent event of customer %d: %w", id, err)
			}
			out = append(out, ev)
		}
	}
	return out, nil
}
