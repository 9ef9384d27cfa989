package customers

import (
	"context"
	"encoding/binary"
	"strings"

	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/vtable"
)

// sortOrder is one entry of the cycle the sort key steps through.
type sortOrder struct {
	order store.CustomerOrder
	desc  bool
	label string
}

// sortOrders is the cycle: name A–Z, most recent activity first, highest
// value first — each served by its own store index.
var sortOrders = [...]sortOrder{
	{store.ByName, false, "name ↑"},
	{store.ByActivity, true, "last activity ↓"},
	{store.ByValue, true, "value ↓"},
}

// customerQuery is what one fetch reads: immutable once built, so the
// command reading it off the update loop shares nothing mutable with it.
type customerQuery struct {
	order  store.CustomerOrder
	desc   bool
	filter filterSpec
}

// list is the customer table: a virtual table over the whole store, with
// its sort order and filter.
type list struct {
	c     *common.Context
	table *vtable.Table

	sort   int // index into sortOrders
	filter filterSpec

	totalSeq     uint64
	totalPending bool

	// scanCtx ends a filtered scan still running for a filter or order the
	// user has left, so a rare consent filter does not keep reading after
	// the user moved on.
	scanCtx    context.Context
	scanCancel context.CancelFunc
}

// tableID names the customer table in fetch requests and replies.
const tableID = "customers"

// Column positions; the order puts what matters most on the left because
// the table drops columns from the right when the terminal is narrow.
var listColumns = []vtable.Column{
	{Title: "name", Width: 16, Flex: 3},
	{Title: "email", Width: 20, Flex: 2},
	{Title: "last active", Width: 11},
	{Title: "value", Width: 8, Align: vtable.AlignRight},
	{Title: "consent", Width: 14, Flex: 2},
	{Title: "city", Width: 12, Flex: 1},
	{Title: "tags", Width: 10, Flex: 1},
}

func newList(c *common.Context) *list {
	l := &list{c: c}
	l.table = vtable.New(tableID, c.Theme, c.Keys, l.fetch)
	l.table.SetColumns(listColumns)
	l.table.Focus()
	l.newScan()
	return l
}

func (l *list) newScan() {
	if l.scanCancel != nil {
		l.scanCancel()
	}
	parent := l.c.Ctx
	if parent == nil {
		parent = context.Background()
	}
	l.scanCtx, l.scanCancel = context.WithCancel(parent)
}

func (l *list) query() customerQuery {
	so := sortOrders[l.sort]
	return customerQuery{order: so.order, desc: so.desc, filter: l.filter}
}

// fetch is the table's FetchFunc: the read happens in the command.
func (l *list) fetch(req vtable.FetchRequest) tea.Cmd {
	q, s, actor, ctx := l.query(), l.c.Store, l.c.Actor, l.scanCtx
	return func() tea.Msg {
		if q.filter.ids != nil {
			rows, atEdge, err := readIDRows(s, actor, q.filter.ids, req)
			return req.Reply(rows, atEdge, err)
		}
		rows, atEdge, err := readCustomerRows(ctx, s, actor, q, req)
		return req.Reply(rows, atEdge, err)
	}
}

// totalLoadedMsg carries the number of customers for the table footer.
type totalLoadedMsg struct {
	seq   uint64
	total int64
	err   error
}

// loadTotal reads the maintained customer counter; under a filter the
// total is unknown until the table has seen both ends.
func (l *list) loadTotal() tea.Cmd {
	l.totalSeq++
	if l.filter.ids != nil {
		l.totalPending = false
		l.table.SetTotal(len(l.filter.ids))
		return nil
	}
	if !l.filter.empty() {
		l.totalPending = false
		l.table.SetTotal(-1)
		return nil
	}
	l.totalPending = true
	seq, s, actor := l.totalSeq, l.c.Store, l.c.Actor
	return func() tea.Msg {
		var n int64
		err := s.View(actor, func(r *store.Reader) error {
			n = r.Counter("customers")
			return nil
		})
		return totalLoadedMsg{seq: seq, total: n, err: err}
	}
}

// reset reloads from the top, for a new order or filter.
func (l *list) reset() tea.Cmd {
	l.newScan()
	return tea.Batch(l.loadTotal(), l.table.Reset())
}

// reload refetches the rows on screen, keeping the cursor.
func (l *list) reload() tea.Cmd {
	return tea.Batch(l.loadTotal(), l.table.Reload())
}

// cycleSort steps to the next sort order.
func (l *list) cycleSort() tea.Cmd {
	l.sort = (l.sort + 1) % len(sortOrders)
	return l.reset()
}

// setFilter applies a parsed filter.
func (l *list) setFilter(f filterSpec) tea.Cmd {
	l.filter = f
	return l.reset()
}

// loading reports whether a page or the total is being read.
func (l *list) loading() bool { return l.totalPending || l.table.Loading() }

// selectedID is the customer under the cursor, if its row is loaded.
func (l *list) selectedID() (model.CustomerID, bool) {
	row, ok := l.table.Selected()
	if !ok {
		return 0, false
	}
	_, id := splitRowKey(row.Key)
	return id, id != 0
}

// visible reports whether a customer's row is on screen.
func (l *list) visible(id model.CustomerID) bool {
	for _, r := range l.table.VisibleRows() {
		if _, rid := splitRowKey(r.Key); rid == id {
			return true
		}
	}
	return false
}

func (l *list) update(msg tea.Msg) tea.Cmd {
	if m, ok := msg.(totalLoadedMsg); ok {
		if m.seq != l.totalSeq {
			return nil
		}
		l.totalPending = false
		if m.err != nil {
			return common.Fail("count customers", m.err)
		}
		l.table.SetTotal(int(m.total))
		return nil
	}
	return l.table.Update(msg)
}

// header is the line above the table: count, order and filter.
func (l *list) header() string {
	var b strings.Builder
	b.WriteString("sort: ")
	if d := l.filter.describe(); d != "" {
		b.WriteString(d)
	} else {
		b.WriteString(sortOrders[l.sort].label)
	}
	if !l.filter.empty() {
		b.WriteString(" · filter: ")
		b.WriteString(l.filter.Raw)
	}
	return b.String()
}

// Row keys are the store's list position followed by the customer id
// (8 bytes, big-endian), so the box knows which customer a row shows
// without a lookup; the position alone goes back to the store.
func rowKey(pos []byte, id model.CustomerID) []byte {
	k := make([]byte, len(pos)+8)
	copy(k, pos)
	binary.BigEndian.PutUint64(k[len(pos):], uint64(id))
	return k
}

func splitRowKey(k []byte) ([]byte, model.CustomerID) {
	if len(k) < 8 {
		return nil, 0
	}
	n := len(k) - 8
	return k[:n], model.CustomerID(binary.BigEndian.Uint64(k[n:]))
}

// postFilterChunk is how many rows a filtered scan asks the store for at a
// time; each is checked against the conditions the index did not serve.
const postFilterChunk = 256

// readCustomerRows answers a table request in one read transaction. The
// store serves the sort order, or the one filter condition it has an index
// for; any other condition is checked here, row by row, continuing from
// the last row looked at until the page is full or the list ends. This
// loop, not the store's scan limit, bounds a filtered page, so a rare
// filter costs time (under the session's context) but never a row that
// cannot be continued from.
func readCustomerRows(ctx context.Context, s *store.Store, actor model.Actor, q customerQuery, req vtable.FetchRequest) (rows []vtable.Row, atEdge bool, err error) {
	limit := req.Limit
	if limit <= 0 {
		limit = vtable.DefaultPageSize
	}
	currency := s.Settings().Currency
	err = s.View(actor, func(r *store.Reader) error {
		purposes, err := r.Purposes()
		if err != nil {
			return err
		}
		marketing := marketingPurposes(purposes)
		pq := store.PageQuery{Order: q.order, Desc: q.desc, Backward: req.Backward, Filter: q.filter.storeFilter()}
		after, _ := splitRowKey(req.After)
		if req.Inclusive && after != nil {
			// The store pages exclusively: start from the row before
			// the anchor so the anchor itself comes back if it still
			// exists.
			prev, err := r.CustomerPage(store.PageQuery{Order: q.order, Desc: q.desc, Backward: true, After: after, Limit: 1, Filter: pq.Filter})
			if err != nil {
				return err
			}
			after = nil
			if len(prev.Rows) > 0 {
				after = prev.Rows[0].Pos
			}
		}
		post := q.filter.needsPostFilter()
		chunk := limit
		if post {
			chunk = max(limit, postFilterChunk)
		}
		for len(rows) < limit {
			if err := ctx.Err(); err != nil {
				return err
			}
			pq.After, pq.Limit = after, min(chunk, 1000)
			page, err := r.CustomerPage(pq)
			if err != nil {
				return err
			}
			n := len(page.Rows)
			for i := range n {
				// Walk in the direction of travel: nearest row first.
				row := &page.Rows[i]
				if req.Backward {
					row = &page.Rows[n-1-i]
				}
				after = row.Pos
				cs, err := r.ConsentState(row.Customer.ID)
				if err != nil {
					return err
				}
				if post && !q.filter.matches(&row.Customer, cs, marketing) {
					continue
				}
				if q.filter.Score != nil {
					sc, ok, err := r.Scores(row.Customer.ID)
					if err != nil {
						return err
					}
					if !q.filter.Score.matches(sc, ok) {
						continue
					}
				}
				rows = append(rows, vtable.Row{Key: rowKey(row.Pos, row.Customer.ID), Cells: customerCells(&row.Customer, cs, marketing, currency)})
				if len(rows) == limit {
					atEdge = i == n-1 && !page.More
					break
				}
			}
			if len(rows) < limit && (!page.More || n == 0) {
				atEdge = true
				break
			}
		}
		return nil
	})
	if req.Backward {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	return rows, atEdge, err
}

// customerCells renders one row in listColumns order. Personal data comes
// masked from the store for actors who may not see it; nothing here
// reads around the Reader.
func customerCells(c *model.Customer, cs *store.ConsentState, marketing map[model.PurposeID]bool, currency string) []string {
	last := "—"
	if !c.LastActivityAt.IsZero() {
		last = c.LastActivityAt.UTC().Format("2006-01-02")
	}
	email := c.Email
	if email == "" {
		email = "—"
	}
	return []string{
		c.DisplayName(),
		email,
		last,
		c.Revenue.FormatShort(currency),
		consentSummary(c, cs, marketing),
		c.Address.City,
		strings.Join(c.Tags, " "),
	}
}

// kindShort names channel kinds in the narrow consent column.
func kindShort(k model.ChannelKind) string {
	switch k {
	case model.KindMessenger:
		return "msgr"
	case model.KindPostal:
		return "post"
	}
	return string(k)
}

// consentSummary lists the channel kinds on which some marketing purpose
// may reach the customer now, from the maintained projection.
func consentSummary(c *model.Customer, cs *store.ConsentState, marketing map[model.PurposeID]bool) string {
	switch {
	case c.Erased:
		return "erased"
	case c.Suppressed:
		return "suppressed"
	case cs == nil:
		return "?"
	}
	var kinds []string
	for _, k := range model.ChannelKinds {
		for _, s := range cs.Scopes {
			if s.Channel == k && marketing[s.Purpose] && s.Allow() {
				kinds = append(kinds, kindShort(k))
				break
			}
		}
	}
	if len(kinds) == 0 {
		return "none"
	}
	return strings.Join(kinds, " ")
}
