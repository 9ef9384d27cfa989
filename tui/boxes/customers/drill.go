package customers

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/palette"
	"karton/tui/components/vtable"
)

// Drill-downs from other boxes: "the customers behind this figure". The
// Warehouse box hands over either a filter expression
// (common.ItemCustomerFilter, e.g. `segment:"At Risk"`, `clv:10000-50000`,
// `source:shop`) or a fixed list of ids (common.ItemCustomerIDs, e.g. the
// customers with an invalid email as the store's quality drill-down found
// them). Both show in the table like a typed filter; clearing the filter
// (esc on an empty filter input, or the palette's "clear filter") returns
// to all customers.
//
// The conditions segment:, clv: and source: are also typed by hand. They
// are checked row by row (no store index serves them): segment and clv read
// the customer's stored analytics scores, source its lineage.

// scoreCond selects customers by their stored analytics scores.
type scoreCond struct {
	segment  model.RFMSegment // 0: any
	hasCLV   bool
	min, max model.Money // max 0: no upper bound
}

// matches checks one customer's scores (ok false: never scored).
func (sc *scoreCond) matches(s store.CustomerScores, ok bool) bool {
	if !ok {
		return false
	}
	if sc.segment != 0 && s.Segment != sc.segment {
		return false
	}
	if sc.hasCLV && (s.CLV < sc.min || (sc.max > 0 && s.CLV >= sc.max)) {
		return false
	}
	return true
}

// parseSegment reads a segment's name, case- and punctuation-blind:
// "champions", "At Risk", "cant-lose-them".
func parseSegment(v string) (model.RFMSegment, error) {
	want := foldName(v)
	var names []string
	for _, s := range model.RFMSegments() {
		if foldName(s.String()) == want {
			return s, nil
		}
		names = append(names, s.String())
	}
	return 0, fmt.Errorf("segment:%s — not an RFM segment (%s)", v, strings.Join(names, ", "))
}

func foldName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// parseCLVRange reads "clv:FROM-TO" in minor units (cents), TO optional:
// "clv:10000-50000", "clv:100000-".
func parseCLVRange(v string) (model.Money, model.Money, error) {
	from, to, ok := strings.Cut(v, "-")
	lo, err := strconv.ParseInt(strings.TrimSpace(from), 10, 64)
	if !ok || err != nil || lo < 0 {
		return 0, 0, fmt.Errorf("clv:%s — give a range in cents, FROM-TO or FROM-, e.g. clv:10000-50000", v)
	}
	var hi int64
	if t := strings.TrimSpace(to); t != "" {
		if hi, err = strconv.ParseInt(t, 10, 64); err != nil || hi <= lo {
			return 0, 0, fmt.Errorf("clv:%s — the upper bound must be a number above %d", v, lo)
		}
	}
	return model.Money(lo), model.Money(hi), nil
}

// drill handles the drill-down items; ok false for any other item.
func (b *Box) drill(it palette.Item) (tea.Cmd, bool) {
	expr, isFilter := strings.CutPrefix(it.ID, common.ItemCustomerFilter)
	list, isIDs := strings.CutPrefix(it.ID, common.ItemCustomerIDs)
	if !isFilter && !isIDs {
		return nil, false
	}
	if b.form != nil {
		return common.Info("finish or cancel the open form first (esc)"), true
	}
	var f filterSpec
	var ids []model.CustomerID
	if isFilter {
		var err error
		if f, err = parseFilter(expr, b.purposes, b.c.Actor); err != nil {
			return common.Fail("show "+it.Title, err), true
		}
	} else {
		for _, part := range strings.Split(list, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(part), 10, 64)
			if err != nil || n == 0 {
				return common.Fail("show "+it.Title, fmt.Errorf("%q is not a customer id", part)), true
			}
			ids = append(ids, model.CustomerID(n))
		}
		f = filterSpec{Raw: it.Title, ids: ids}
	}
	b.mode, b.filterErr = modeList, ""
	b.view.setFocus(false)
	b.list.table.Focus()
	b.layout()
	return b.list.setFilter(f), true
}

// readIDRows answers a table request over a fixed id list: the row key's
// position is the index in the list, so paging needs no scan.
func readIDRows(s *store.Store, actor model.Actor, ids []model.CustomerID, req vtable.FetchRequest) (rows []vtable.Row, atEdge bool, err error) {
	limit := req.Limit
	if limit <= 0 {
		limit = vtable.DefaultPageSize
	}
	start, step := 0, 1
	if pos, _ := splitRowKey(req.After); len(pos) == 8 {
		at := int(binary.BigEndian.Uint64(pos))
		switch {
		case req.Inclusive:
			start = at
		case req.Backward:
			start = at - 1
		default:
			start = at + 1
		}
	} else if req.Backward {
		start = len(ids) - 1
	}
	if req.Backward {
		step = -1
	}
	currency := s.Settings().Currency
	err = s.View(actor, func(r *store.Reader) error {
		purposes, err := r.Purposes()
		if err != nil {
			return err
		}
		marketing := marketingPurposes(purposes)
		for i := start; i >= 0 && i < len(ids) && len(rows) < limit; i += step {
			c, err := r.Customer(ids[i])
			if err != nil {
				// Merged away or erased since the list was made: the
				// row says so rather than vanishing.
				rows = append(rows, vtable.Row{Key: rowKey(u64key(i), ids[i]), Cells: []string{ids[i].String() + " (gone: " + err.Error() + ")"}})
				continue
			}
			cs, err := r.ConsentState(c.ID)
			if err != nil {
				return err
			}
			rows = append(rows, vtable.Row{Key: rowKey(u64key(i), c.ID), Cells: customerCells(&c, cs, marketing, currency)})
		}
		last := start + step*len(rows)
		atEdge = last < 0 || last >= len(ids)
		return nil
	})
	if req.Backward {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	return rows, atEdge, err
}

func u64key(i int) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(i))
	return k
}
