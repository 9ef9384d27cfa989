package vtable

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"karton/tui/keys"
	"karton/tui/theme"
)

// benchTable is a colour table at a large terminal size over a million rows
// whose fake store answers synchronously, so a benchmark op measures what one
// key press costs the update loop: Update, any fetch it triggers, and View.
func benchTable(b *testing.B) *Table {
	b.Helper()
	f := &fakeStore{n: million}
	tbl := New("customers", theme.New(true), keys.New(), f.fetch)
	tbl.SetColumns([]Column{
		{Title: "#", Width: 8, Align: AlignRight},
		{Title: "Name", Width: 16, Flex: 2},
		{Title: "Email", Width: 16, Flex: 2},
		{Title: "City", Width: 10, Flex: 1},
		{Title: "Revenue", Width: 10, Align: AlignRight},
		{Title: "Orders", Width: 6, Align: AlignRight},
	})
	tbl.SetSize(160, 50)
	tbl.SetTotal(million)
	tbl.Focus()
	f.cells = func(i uint64) []string {
		return []string{"123456", "Jürgen Müller-Lüdenscheidt", "juergen.mueller@example.com", "Köln", "12,345.67", "42"}
	}
	run(tbl, tbl.Init())
	return tbl
}

func benchKeys(b *testing.B, msgs ...tea.Msg) {
	tbl := benchTable(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		run(tbl, tbl.Update(msgs[i%len(msgs)]))
		_ = tbl.View()
	}
	b.StopTimer()
	checkBenchView(b, tbl)
}

// checkBenchView fails the benchmark when the table it timed shows no rows
// (a fetch that never answered would make every key press cheap).
func checkBenchView(b *testing.B, tbl *Table) {
	b.Helper()
	if v := tbl.View(); !strings.Contains(v, "Jürgen Müller") {
		b.Fatalf("the table shows no rows:\n%s", v)
	}
}

// BenchmarkKeyPressJ: j through a million rows, crossing page edges (fetch,
// merge, trim) every few dozen presses.
func BenchmarkKeyPressJ(b *testing.B) {
	benchKeys(b, press("j"))
}

// BenchmarkKeyPressPageDown: every press needs a fetch.
func BenchmarkKeyPressPageDown(b *testing.B) {
	benchKeys(b, press("pgdown"), press("pgdown"), press("pgdown"), press("g"))
}

// BenchmarkKeyPressEnds: G and g alternately, each a fresh window.
func BenchmarkKeyPressEnds(b *testing.B) {
	benchKeys(b, press("G"), press("g"))
}

func BenchmarkView(b *testing.B) {
	tbl := benchTable(b)
	checkBenchView(b, tbl)
	b.ReportAllocs()
	for b.Loop() {
		_ = tbl.View()
	}
}
