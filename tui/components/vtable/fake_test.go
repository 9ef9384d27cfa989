package vtable

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	tea "charm.land/bubbletea/v2"

	"karton/tui/keys"
	"karton/tui/theme"
)

// fakeStore is an in-memory keyset store over n synthetic rows whose keys are
// the big-endian row numbers, answering like a bbolt cursor would.
type fakeStore struct {
	n       uint64
	version string // changes the cell text, to observe reloads
	fail    error  // when set, every answer fails with it
	cells   func(i uint64) []string
	calls   []FetchRequest
}

func encodeKey(i uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, i)
}

func decodeKey(k []byte) uint64 { return binary.BigEndian.Uint64(k) }

func (f *fakeStore) fetch(req FetchRequest) tea.Cmd {
	f.calls = append(f.calls, req)
	return func() tea.Msg { return f.answer(req) }
}

func (f *fakeStore) answer(req FetchRequest) RowsFetchedMsg {
	if f.fail != nil {
		return req.Reply(nil, false, f.fail)
	}
	limit := uint64(req.Limit)
	var start, end uint64 // rows [start, end)
	if req.Backward {
		end = f.n
		if req.After != nil {
			end = min(decodeKey(req.After), f.n)
			if req.Inclusive && end < f.n {
				end++
			}
		}
		start = end - min(end, limit)
	} else {
		if req.After != nil {
			start = decodeKey(req.After) + 1
			if req.Inclusive {
				start--
			}
		}
		start = min(start, f.n)
		end = min(start+limit, f.n)
	}
	rows := make([]Row, 0, end-start)
	for i := start; i < end; i++ {
		rows = append(rows, f.row(i))
	}
	atEdge := end == f.n
	if req.Backward {
		atEdge = start == 0
	}
	return req.Reply(rows, atEdge, nil)
}

func (f *fakeStore) row(i uint64) Row {
	if f.cells != nil {
		return Row{Key: encodeKey(i), Cells: f.cells(i)}
	}
	return Row{Key: encodeKey(i), Cells: []string{
		fmt.Sprintf("%d", i),
		fmt.Sprintf("Customer %d%s", i, f.version),
		fmt.Sprintf("%d.%02d", i%1000, i%100),
	}}
}

var errStoreClosed = errors.New("store is closed")

var testColumns = []Column{
	{Title: "#", Width: 7, Align: AlignRight},
	{Title: "Name", Width: 12, Flex: 1},
	{Title: "Revenue", Width: 9, Align: AlignRight},
}

// newTestTable builds a focused table over a fake store of n rows with the
// total known, sized w×h, and loads the first page.
func newTestTable(n uint64, w, h int, opts ...Option) (*Table, *fakeStore) {
	f := &fakeStore{n: n}
	tbl := New("customers", theme.New(true).WithoutColor(), keys.New(), f.fetch, opts...)
	tbl.SetColumns(testColumns)
	tbl.SetSize(w, h)
	tbl.SetTotal(int(n))
	tbl.Focus()
	run(tbl, tbl.Init())
	return tbl, f
}

// run feeds the messages cmd produces back into the table until it stops
// asking for more, like the Bubble Tea loop with an instant store. It
// returns the largest window seen along the way.
func run(tbl *Table, cmd tea.Cmd) (maxWindow int) {
	maxWindow = len(tbl.buf)
	for cmd != nil {
		msg := cmd()
		cmd = tbl.Update(msg)
		maxWindow = max(maxWindow, len(tbl.buf))
	}
	return maxWindow
}

// send delivers msg and runs the fetches it causes.
func send(tbl *Table, msg tea.Msg) int { return run(tbl, tbl.Update(msg)) }

func press(s string) tea.KeyPressMsg {
	special := map[string]tea.KeyPressMsg{
		"up":     {Code: tea.KeyUp},
		"down":   {Code: tea.KeyDown},
		"home":   {Code: tea.KeyHome},
		"end":    {Code: tea.KeyEnd},
		"pgup":   {Code: tea.KeyPgUp},
		"pgdown": {Code: tea.KeyPgDown},
		"ctrl+d": {Code: 'd', Mod: tea.ModCtrl},
		"ctrl+u": {Code: 'u', Mod: tea.ModCtrl},
	}
	if m, ok := special[s]; ok {
		return m
	}
	return tea.KeyPressMsg{Code: []rune(s)[0], Text: s}
}

func visibleKeys(tbl *Table) []uint64 {
	var out []uint64
	for _, r := range tbl.VisibleRows() {
		out = append(out, decodeKey(r.Key))
	}
	return out
}

func seq(from, n uint64) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = from + uint64(i)
	}
	return out
}

// The fake answers the way the store's keyset queries do; the table's tests
// rely on it, so its edges are checked here.
func TestFakeStoreAnswersLikeACursor(t *testing.T) {
	f := &fakeStore{n: 10}
	keysOf := func(m RowsFetchedMsg) []uint64 {
		var out []uint64
		for _, r := range m.Rows {
			out = append(out, decodeKey(r.Key))
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		req    FetchRequest
		want   []uint64
		atEdge bool
	}{
		{"first page", FetchRequest{Limit: 3}, []uint64{0, 1, 2}, false},
		{"after a key", FetchRequest{Limit: 3, After: encodeKey(6)}, []uint64{7, 8, 9}, true},
		{"from a key, inclusive", FetchRequest{Limit: 2, After: encodeKey(6), Inclusive: true}, []uint64{6, 7}, false},
		{"past the end", FetchRequest{Limit: 3, After: encodeKey(9)}, nil, true},
		{"last page", FetchRequest{Limit: 3, Backward: true}, []uint64{7, 8, 9}, false},
		{"before a key", FetchRequest{Limit: 3, Backward: true, After: encodeKey(2)}, []uint64{0, 1}, true},
		{"up to a key, inclusive", FetchRequest{Limit: 2, Backward: true, After: encodeKey(5), Inclusive: true}, []uint64{4, 5}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := f.answer(tc.req)
			require.NoError(t, m.Err)
			require.Equal(t, tc.want, keysOf(m))
			require.Equal(t, tc.atEdge, m.AtEdge)
		})
	}
	f.fail = errStoreClosed
	require.ErrorIs(t, f.answer(FetchRequest{Limit: 3}).Err, errStoreClosed)
}
