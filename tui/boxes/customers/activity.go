package customers

import (
	"encoding/binary"
	"maps"
	"math"

	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/vtable"
)

// readPage reads up to limit of a customer's records, newest first, from a
// store cursor (nil: the newest), renders them as table cells, and returns
// the cursor that continues after the last one (nil when the list ended).
type readPage func(r *store.Reader, cid model.CustomerID, before []byte, limit int) (cells [][]string, next []byte, err error)

// activityPane is a paged table of one customer's records, newest first:
// the timeline of interactions and the purchases.
//
// The store pages these lists with a cursor that only continues towards
// older records. The pane numbers rows from the newest (their ordinal is
// the row key) and remembers the store cursor at the end of every page it
// has read, so any window the table asks for — the next page, the page
// above after the table dropped it, a reload, the end — is read by
// continuing from the nearest remembered page end at or before it.
type activityPane struct {
	c     *common.Context
	id    string
	table *vtable.Table
	read  readPage

	cid model.CustomerID
	// gen changes with the customer, so cursors learned for another
	// customer are never used.
	gen     uint64
	cursors map[int][]byte // ordinal → store cursor reading from that ordinal

	// header draws the line above the table (totals), or nil.
	header func(d *customerData, w int) string
	data   *customerData

	w, h int
}

// activityFetchedMsg wraps the table's reply with the page ends the read
// learned, so the pane's cursor map is only changed on the update loop.
type activityFetchedMsg struct {
	pane    string
	gen     uint64
	learned map[int][]byte
	reply   vtable.RowsFetchedMsg
}

func newActivityPane(c *common.Context, id string, cols []vtable.Column, read readPage) *activityPane {
	p := &activityPane{c: c, id: id, read: read}
	p.table = vtable.New(id, c.Theme, c.Keys, p.fetch)
	p.table.SetColumns(cols)
	return p
}

// open starts the list of a customer from its newest record; for the
// customer already shown it starts again from the top as well, because new
// records arrive at the top and shift every ordinal.
func (p *activityPane) open(cid model.CustomerID) tea.Cmd {
	p.cid = cid
	p.gen++
	p.cursors = map[int][]byte{0: nil}
	return p.table.Reset()
}

func (p *activityPane) reload() tea.Cmd {
	if p.cid == 0 {
		return nil
	}
	return p.open(p.cid)
}

func (p *activityPane) close() {
	p.cid = 0
	p.gen++
	p.cursors = nil
	p.data = nil
}

func (p *activityPane) setData(d *customerData) { p.data = d }

func (p *activityPane) setFocus(f bool) {
	if f {
		p.table.Focus()
	} else {
		p.table.Blur()
	}
}

func (p *activityPane) headerLines() int {
	if p.header != nil {
		return 1
	}
	return 0
}

func (p *activityPane) setSize(w, h int) {
	p.w, p.h = w, h
	p.table.SetSize(w, max(h-p.headerLines(), 0))
}

func (p *activityPane) setOrigin(x, y int) { p.table.SetOrigin(x, y+p.headerLines()) }

func (p *activityPane) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case activityFetchedMsg:
		if msg.pane != p.id {
			return nil
		}
		if msg.gen == p.gen && p.cursors != nil {
			maps.Copy(p.cursors, msg.learned)
		}
		// The table drops a reply to a request it no longer waits for
		// (its sequence number), so only the cursors need the check.
		return p.table.Update(msg.reply)
	case vtable.RowsFetchedMsg:
		return nil // ours arrive wrapped
	}
	return p.table.Update(msg)
}

func (p *activityPane) View() string {
	if p.h <= 0 {
		return ""
	}
	if p.header == nil {
		return p.table.View()
	}
	return fit(p.header(p.data, p.w), p.w) + "\n" + p.table.View()
}

func ordinalKey(i int) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(i))
	return k
}

func ordinalOf(k []byte) int {
	if len(k) != 8 {
		return 0
	}
	return int(binary.BigEndian.Uint64(k))
}

// fetch is the table's FetchFunc; see the type comment for the paging.
func (p *activityPane) fetch(req vtable.FetchRequest) tea.Cmd {
	if p.cid == 0 {
		return nil
	}
	id, gen, cid, read := p.id, p.gen, p.cid, p.read
	s, actor := p.c.Store, p.c.Actor
	cursors := maps.Clone(p.cursors)
	return func() tea.Msg {
		learned := map[int][]byte{}
		var rows []vtable.Row
		atEdge := false
		err := s.View(actor, func(r *store.Reader) error {
			// The window wanted: [from, from+count), or the last
			// req.Limit rows when toEnd.
			from, count, toEnd := 0, req.Limit, false
			switch {
			case req.After == nil && req.Backward:
				from, toEnd = math.MaxInt, true
			case req.After == nil:
			case req.Backward:
				k := ordinalOf(req.After)
				from = max(k-req.Limit, 0)
				count = k - from
			case req.Inclusive:
				from = ordinalOf(req.After)
			default:
				from = ordinalOf(req.After) + 1
			}
			start := 0
			var cursor []byte
			for o, c := range cursors {
				if o <= from && o > start {
					start, cursor = o, c
				}
			}
			limit := math.MaxInt32 // to the end: every row after start
			if !toEnd {
				limit = from - start + count
			}
			cells, next, err := read(r, cid, cursor, limit)
			if err != nil {
				return err
			}
			if next != nil {
				learned[start+len(cells)] = next
			}
			end := start + len(cells)
			if toEnd {
				from = max(end-req.Limit, start)
				count = end - from
			}
			for o := from; o < from+count && o < end; o++ {
				rows = append(rows, vtable.Row{Key: ordinalKey(o), Cells: cells[o-start]})
			}
			if req.Backward {
				atEdge = from == 0
			} else {
				atEdge = next == nil && from+count >= end
			}
			return nil
		})
		return activityFetchedMsg{pane: id, gen: gen, learned: learned, reply: req.Reply(rows, atEdge, err)}
	}
}
