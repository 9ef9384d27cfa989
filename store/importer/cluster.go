package importer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"karton/model"
	"karton/store"
)

// Clustered writing of large purchase and interaction files.
//
// Shops export orders by date, so consecutive rows belong to customers all
// over the store. Written in file order, every transaction touches a
// different page of the customers, purchases and consent-state buckets
// for almost every row, and each commit rewrites tens of megabytes: a
// million orders took minutes, almost all of it writing pages. Records of
// one customer are stored next to each other (keys start with the
// customer id), so the importer first reads and converts the whole file,
// keeping the rows in a compact buffer, resolves each row's customer, and
// writes in customer order: a transaction then touches a few hundred
// neighbouring pages. Rows whose customer matches nobody (rejected, or
// created with --create-missing) come last, in file order.
//
// Memory: about 80 bytes a row plus 16 for its place in the order, so
// 100 MB for a million rows.

// ClusterMode chooses between writing in file order and in customer
// order (see above).
type ClusterMode uint8

// The cluster modes.
const (
	ClusterAuto ClusterMode = iota // customer order for purchase and interaction files over 1 MB
	ClusterOff
	ClusterOn
)

const clusterAutoBytes = 1 << 20

// clusterBatch is the transaction size in customer order. The customers'
// pages are neighbours, but the order index (keyed by order id) is not: in
// customer order every transaction touches order-index pages all over the
// index, and a commit rewrites each of them. Fewer, larger transactions
// rewrite them fewer times: a million orders took 33 s in transactions of
// 20,000 rows, 25 s at 50,000, 20 s at 100,000 and 19 s at 250,000 (where
// the dirty pages held until the commit pushed the peak RSS from 1.5 to
// 2.1 GB).
const clusterBatch = 100000

type clusterItem struct {
	cid  uint64 // math.MaxUint64 for rows whose customer is not stored yet
	line uint32
	off  uint32
}

// clusterBuf keeps converted rows encoded in one buffer.
type clusterBuf struct {
	entity store.ImportEntity
	buf    []byte
	items  []clusterItem
}

func (c *clusterBuf) add(r *converted) error {
	if len(c.buf) > math.MaxUint32-1<<20 {
		return errors.New("the file is too large to sort by customer in memory; import it with the cluster mode off")
	}
	off := uint32(len(c.buf))
	switch c.entity {
	case store.ImportPurchases:
		c.buf = appendPurchaseRow(c.buf, &r.purch)
	case store.ImportInteractions:
		c.buf = appendInteractionRow(c.buf, &r.inter)
	}
	c.items = append(c.items, clusterItem{line: uint32(r.line), off: off})
	return nil
}

func appendRef(b []byte, r *store.CustomerRef) []byte {
	b = binary.AppendUvarint(b, uint64(r.ID))
	b = appendStr(b, r.ExternalID)
	b = appendStr(b, r.Email)
	return appendStr(b, r.Phone)
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, math.MinInt64)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

func appendPurchaseRow(b []byte, r *store.PurchaseImportRow) []byte {
	b = binary.AppendUvarint(b, uint64(r.Line))
	b = appendStr(b, string(r.Key))
	b = appendRef(b, &r.Customer)
	p := &r.Purchase
	b = appendStr(b, p.OrderID)
	b = appendTime(b, p.At)
	b = binary.AppendVarint(b, int64(p.Amount))
	b = appendStr(b, p.Currency)
	flags := byte(0)
	if p.EmailCollected {
		flags |= 1
	}
	if p.ObjectionNotice {
		flags |= 2
	}
	return append(b, flags)
}

func appendInteractionRow(b []byte, r *store.InteractionImportRow) []byte {
	b = binary.AppendUvarint(b, uint64(r.Line))
	b = appendStr(b, string(r.Key))
	b = appendStr(b, r.EventID)
	b = appendRef(b, &r.Customer)
	in := &r.Interaction
	b = append(b, in.Kind.Code(), in.Channel.Code())
	b = binary.AppendUvarint(b, uint64(in.ChannelID))
	b = binary.AppendUvarint(b, uint64(in.CampaignID))
	b = appendTime(b, in.At)
	b = binary.AppendVarint(b, int64(in.Value))
	return appendStr(b, in.Note)
}

// rowReader decodes what the append functions wrote; the buffer is ours,
// so a short read is a bug, reported as an error rather than a panic.
type rowReader struct {
	b   []byte
	err error
}

func (r *rowReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rowReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rowReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *rowReader) byte1() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *rowReader) time() time.Time {
	v := r.varint()
	if v == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}

func (r *rowReader) fail() {
	if r.err == nil {
		r.err = errors.New("importer: damaged row buffer")
	}
	r.b = nil
}

func (r *rowReader) ref() store.CustomerRef {
	return store.CustomerRef{ID: model.CustomerID(r.uvarint()), ExternalID: r.str(), Email: r.str(), Phone: r.str()}
}

func readPurchaseRow(b []byte) (store.PurchaseImportRow, error) {
	r := rowReader{b: b}
	var row store.PurchaseImportRow
	row.Line = int(r.uvarint())
	row.Key = []byte(r.str())
	row.Customer = r.ref()
	row.Purchase.OrderID = r.str()
	row.Purchase.At = r.time()
	row.Purchase.Amount = model.Money(r.varint())
	row.Purchase.Currency = r.str()
	flags := r.byte1()
	row.Purchase.EmailCollected, row.Purchase.ObjectionNotice = flags&1 != 0, flags&2 != 0
	return row, r.err
}

func readInteractionRow(b []byte) (store.InteractionImportRow, error) {
	r := rowReader{b: b}
	var row store.InteractionImportRow
	row.Line = int(r.uvarint())
	row.Key = []byte(r.str())
	row.EventID = r.str()
	row.Customer = r.ref()
	in := &row.Interaction
	in.Kind = model.InteractionKindFromCode(r.byte1())
	in.Channel = model.KindFromCode(r.byte1())
	in.ChannelID = model.ChannelID(r.uvarint())
	in.CampaignID = model.CampaignID(r.uvarint())
	in.At = r.time()
	in.Value = model.Money(r.varint())
	in.Note = r.str()
	return row, r.err
}

// write resolves the rows' customers, sorts the rows by customer and hands
// them to the session in transactions of batch rows.
func (c *clusterBuf) write(ctx context.Context, st *store.Store, by model.Actor, sess *store.ImportSession, batch, workers int, progress func()) error {
	if err := c.resolve(ctx, st, by, sess.Spec().Source, workers); err != nil {
		return err
	}
	slices.SortFunc(c.items, func(a, b clusterItem) int {
		switch {
		case a.cid < b.cid:
			return -1
		case a.cid > b.cid:
			return 1
		}
		return int(a.line) - int(b.line)
	})
	var purch []store.PurchaseImportRow
	var inter []store.InteractionImportRow
	flush := func() error {
		var err error
		if len(purch) > 0 {
			err = sess.Purchases(purch)
		}
		if len(inter) > 0 && err == nil {
			err = sess.Interactions(inter)
		}
		purch, inter = purch[:0], inter[:0]
		progress()
		if err == nil {
			err = ctx.Err()
		}
		return err
	}
	for i, it := range c.items {
		switch c.entity {
		case store.ImportPurchases:
			row, err := readPurchaseRow(c.buf[it.off:])
			if err != nil {
				return err
			}
			purch = append(purch, row)
		case store.ImportInteractions:
			row, err := readInteractionRow(c.buf[it.off:])
			if err != nil {
				return err
			}
			inter = append(inter, row)
		}
		if len(purch)+len(inter) >= batch || i == len(c.items)-1 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// refAt decodes the customer reference of the row at off.
func (c *clusterBuf) refAt(off uint32) (store.CustomerRef, error) {
	r := rowReader{b: c.buf[off:]}
	r.uvarint() // line
	r.str()     // key
	if c.entity == store.ImportInteractions {
		r.str() // event id
	}
	ref := r.ref()
	if r.err != nil {
		return ref, fmt.Errorf("importer: %w", r.err)
	}
	return ref, nil
}

// resolve finds each row's customer: chunks of rows, one short read
// transaction each, on several goroutines (lookups only read).
func (c *clusterBuf) resolve(ctx context.Context, st *store.Store, by model.Actor, source string, workers int) error {
	const chunk = 20000
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < max(1, workers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lo := range next {
				hi := min(lo+chunk, len(c.items))
				err := st.View(by, func(r *store.Reader) error {
					for i := lo; i < hi; i++ {
						it := &c.items[i]
						ref, err := c.refAt(it.off)
						if err != nil {
							return err
						}
						id, _, err := r.ResolveCustomer(source, ref)
						if err != nil {
							return err
						}
						it.cid = uint64(id)
						if id == 0 {
							it.cid = math.MaxUint64
						}
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for lo := 0; lo < len(c.items); lo += chunk {
		select {
		case next <- lo:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err == nil {
		err = <-errs // nil when the channel is empty
	}
	return err
}
