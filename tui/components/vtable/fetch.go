package vtable

import tea "charm.land/bubbletea/v2"

// Row is one table row as the owner delivers it.
type Row struct {
	// Key is the row's opaque position in the owner's order, typically the
	// bbolt key of the record or index entry. The table only hands it back
	// in a FetchRequest; it never parses it.
	Key []byte
	// Cells are the column texts in column order. They may carry ANSI
	// styling (a coloured sparkline, a verdict); widths are measured in
	// display cells, not bytes.
	Cells []string
}

// FetchRequest asks the owner for rows next to a known position (keyset
// paging), so the store can answer with one Seek and a few Next calls instead
// of counting from the start.
type FetchRequest struct {
	// Table is the id the table was built with; copy it into the reply so
	// the owner can route the message to the right table.
	Table string
	// Seq identifies this request; the reply must carry it. The table drops
	// replies whose Seq is not the one it is waiting for.
	Seq uint64
	// After is the key of a row already shown. Forward requests want the
	// rows after it, backward requests the rows before it. Nil means from
	// the first row, or (Backward) from the last row.
	After []byte
	// Inclusive asks for the row at After itself to be included if it still
	// exists. Reload uses it to refetch the screen from its top row.
	Inclusive bool
	// Backward asks for rows before After, nearest first when walking the
	// store; the reply still lists them in display (ascending) order.
	Backward bool
	// Limit is the most rows wanted.
	Limit int
}

// Reply builds the message answering r, with the routing fields filled in.
// rows are in display order; atEdge says no rows exist beyond them in the
// requested direction.
func (r FetchRequest) Reply(rows []Row, atEdge bool, err error) RowsFetchedMsg {
	return RowsFetchedMsg{Table: r.Table, Seq: r.Seq, Rows: rows, Backward: r.Backward, AtEdge: atEdge, Err: err}
}

// FetchFunc turns a request into a command that reads the rows (the I/O
// happens inside the command) and returns a RowsFetchedMsg, usually built
// with FetchRequest.Reply.
type FetchFunc func(FetchRequest) tea.Cmd

// RowsFetchedMsg carries the rows for a FetchRequest back to the table.
type RowsFetchedMsg struct {
	Table    string
	Seq      uint64
	Rows     []Row // display (ascending) order, also for backward requests
	Backward bool
	// AtEdge reports that no more rows exist in the requested direction:
	// the last row of the table (forward) or the first (backward).
	AtEdge bool
	// Err is why the rows could not be read; the table shows it in place of
	// the missing rows and retries on the next movement or Reload.
	Err error
}
