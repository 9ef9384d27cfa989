package palette

import (
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/tui/keys"
	"karton/tui/theme"
)

var commands = []Item{
	{ID: "box:1", Title: "Channels", Subtitle: "go to box 1", Kind: "box"},
	{ID: "box:2", Title: "Campaigns", Subtitle: "go to box 2", Kind: "box"},
	{ID: "box:3", Title: "Customers", Subtitle: "go to box 3", Kind: "box"},
	{ID: "box:4", Title: "Warehouse", Subtitle: "go to box 4", Kind: "box"},
	{ID: "cmd:new-campaign", Title: "New campaign", Subtitle: "create a draft", Kind: "command"},
	{ID: "cmd:import", Title: "Import customers", Subtitle: "CSV or JSONL", Kind: "command"},
	{ID: "cmd:backup", Title: "Backup store", Subtitle: "hot copy of karton.db", Kind: "command"},
	{ID: "cmd:cancel", Title: "Cancel launch", Subtitle: "stop a running campaign", Kind: "command"},
}

// searcher records the requests the palette makes; replies are delivered by
// the test, so it decides which answers are stale.
type searcher struct{ reqs []SearchRequest }

func (s *searcher) search(req SearchRequest) tea.Cmd {
	s.reqs = append(s.reqs, req)
	return func() tea.Msg { return req.Reply(nil, nil) }
}

func (s *searcher) last() SearchRequest { return s.reqs[len(s.reqs)-1] }

func newPalette(opts ...Option) (*Palette, *searcher) {
	s := &searcher{}
	p := New(theme.New(true).WithoutColor(), keys.New(), s.search, append([]Option{WithDebounce(0)}, opts...)...)
	p.SetSize(80, 16)
	p.SetItems(commands)
	p.Open()
	return p, s
}

func typeText(p *Palette, s string) {
	for _, r := range s {
		p.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func press(code rune) tea.KeyPressMsg { return tea.KeyPressMsg{Code: code} }

func titles(items []Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Title
	}
	return out
}

func msgOf[T any](t *testing.T, cmd tea.Cmd) T {
	t.Helper()
	require.NotNil(t, cmd)
	m, ok := cmd().(T)
	require.True(t, ok)
	return m
}

func TestOpenListsStaticItemsInOrder(t *testing.T) {
	p, s := newPalette()
	assert.True(t, p.Active())
	assert.Equal(t, titles(commands), titles(p.Results()))
	assert.Empty(t, s.reqs, "no search for an empty query")
	sel, ok := p.Selected()
	require.True(t, ok)
	assert.Equal(t, "Channels", sel.Title)
}

func TestTypingRanksStaticItems(t *testing.T) {
	p, _ := newPalette()
	typeText(p, "nc")
	require.NotEmpty(t, p.Results())
	assert.Equal(t, "New campaign", p.Results()[0].Title)
	assert.Equal(t, "nc", p.Query())

	p.Update(press(tea.KeyBackspace))
	p.Update(press(tea.KeyBackspace))
	assert.Equal(t, titles(commands), titles(p.Results()), "empty query: back to all in order")
}

func TestSubtitleMatchesWhenTitleDoesNot(t *testing.T) {
	p, _ := newPalette(WithMaxRows(3))
	typeText(p, "jsonl")
	assert.Equal(t, []string{"Import customers"}, titles(p.Results()))
}

func TestDynamicItemsAndStaleReplies(t *testing.T) {
	p, s := newPalette()
	typeText(p, "mül")
	require.Len(t, s.reqs, 3, "one search per change without debounce")
	assert.Equal(t, "mül", s.last().Query)
	assert.Less(t, s.reqs[0].Seq, s.reqs[2].Seq)

	anna := Item{ID: "customer:C1", Title: "Anna Müller", Subtitle: "anna@example.com", Kind: "customer"}
	stale := Item{ID: "customer:C9", Title: "Mücke", Kind: "customer"}
	p.Update(s.reqs[1].Reply([]Item{stale}, nil))
	assert.NotContains(t, titles(p.Results()), "Mücke", "answer to an older query is dropped")
	assert.Contains(t, ansi.Strip(p.View()), "searching…")

	p.Update(s.last().Reply([]Item{anna}, nil))
	assert.Equal(t, []string{"Anna Müller"}, titles(p.Results()))
	assert.NotContains(t, ansi.Strip(p.View()), "searching…")

	// Typing on keeps Anna listed while the next answer is on its way,
	// because she still matches.
	typeText(p, "l")
	assert.Equal(t, []string{"Anna Müller"}, titles(p.Results()))
	typeText(p, "zz")
	assert.Empty(t, p.Results(), "a leftover that no longer matches goes")

	// The owner's search may match on fields the palette cannot see.
	p.Update(s.last().Reply([]Item{{ID: "customer:C2", Title: "Jo Bloggs", Subtitle: "mullzz@example.com"}}, nil))
	assert.Equal(t, []string{"Jo Bloggs"}, titles(p.Results()))
}

func TestSearchErrorIsShown(t *testing.T) {
	p, s := newPalette()
	typeText(p, "camp")
	p.Update(s.last().Reply(nil, errors.New("store is closed")))
	assert.Equal(t, "Campaigns", p.Results()[0].Title, "static items still work")
	p.SetSize(80, 30)
	typeText(p, "x")
	p.Update(s.last().Reply(nil, errors.New("store is closed")))
	assert.Contains(t, ansi.Strip(p.View()), "search failed: store is closed")
}

func TestDebounce(t *testing.T) {
	s := &searcher{}
	p := New(theme.New(true), keys.New(), s.search)
	p.SetItems(commands)
	p.Open()
	typeText(p, "ab")
	assert.Empty(t, s.reqs, "no search while typing")
	first := p.seq - 1
	assert.Nil(t, p.Update(QueryPausedMsg{Seq: first}), "pause of an older query")
	assert.NotNil(t, p.Update(QueryPausedMsg{Seq: p.seq}))
	require.Len(t, s.reqs, 1)
	assert.Equal(t, "ab", s.reqs[0].Query)
}

func TestNoSearcher(t *testing.T) {
	p := New(theme.New(true), keys.New(), nil, WithDebounce(0))
	p.SetItems(commands)
	p.Open()
	typeText(p, "ware")
	assert.Equal(t, []string{"Warehouse"}, titles(p.Results()))
	assert.Nil(t, p.Update(QueryPausedMsg{Seq: p.seq}))
}

func TestChooseAndClose(t *testing.T) {
	p, _ := newPalette()
	typeText(p, "c")
	p.Update(press(tea.KeyDown))
	p.Update(press(tea.KeyDown))
	p.Update(press(tea.KeyUp))
	want := p.Results()[1]
	got := msgOf[ItemChosenMsg](t, p.Update(press(tea.KeyEnter)))
	assert.Equal(t, ItemChosenMsg{Item: want, Query: "c"}, got)
	assert.False(t, p.Active())
	assert.Empty(t, p.View())
	assert.Nil(t, p.Update(press(tea.KeyEnter)), "closed: ignores keys")

	p.Open()
	assert.Empty(t, p.Query(), "reopens empty")
	msgOf[DismissedMsg](t, p.Update(press(tea.KeyEscape)))
	assert.False(t, p.Active())

	p.Open()
	typeText(p, "zzzz")
	assert.Nil(t, p.Update(press(tea.KeyEnter)), "nothing to choose")
	assert.True(t, p.Active())
}

func TestQAndJAreText(t *testing.T) {
	p, _ := newPalette()
	typeText(p, "qj")
	assert.Equal(t, "qj", p.Query())
	assert.True(t, p.Active())
}

func TestSelectionScrolls(t *testing.T) {
	p, _ := newPalette(WithMaxRows(3))
	for range 5 {
		p.Update(press(tea.KeyDown))
	}
	sel, _ := p.Selected()
	assert.Equal(t, commands[5].Title, sel.Title)
	v := ansi.Strip(p.View())
	assert.Contains(t, v, commands[5].Title)
	assert.NotContains(t, v, commands[0].Title)
	for range 20 {
		p.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	}
	sel, _ = p.Selected()
	assert.Equal(t, commands[len(commands)-1].Title, sel.Title, "clamped at the end")
}

func TestClickChooses(t *testing.T) {
	p, _ := newPalette()
	p.SetOrigin(4, 2)
	// Frame line, input line, rule, then results.
	i, ok := p.HitTest(4+2, 2+1+2+2)
	require.True(t, ok)
	assert.Equal(t, 2, i)
	_, ok = p.HitTest(4+2, 2+1)
	assert.False(t, ok, "input line")
	_, ok = p.HitTest(0, 2+4)
	assert.False(t, ok, "left of the box")
	got := msgOf[ItemChosenMsg](t, p.Update(tea.MouseClickMsg{X: 4 + 2, Y: 2 + 1 + 2 + 2, Button: tea.MouseLeft}))
	assert.Equal(t, "Customers", got.Item.Title)
}

func TestViewFitsAndHelp(t *testing.T) {
	for _, size := range [][2]int{{80, 16}, {40, 10}, {120, 40}} {
		p, _ := newPalette()
		p.SetSize(size[0], size[1])
		lines := strings.Split(p.View(), "\n")
		assert.LessOrEqual(t, len(lines), size[1])
		for _, l := range lines {
			assert.Equal(t, min(size[0], 72), ansi.StringWidth(l), "%v %q", size, l)
		}
	}
	p, _ := newPalette()
	p.SetSize(8, 10)
	assert.Empty(t, p.View(), "no room")
	assert.Len(t, p.ShortHelp(), 4)
	assert.Len(t, p.FullHelp(), 1)
	p.SetTheme(theme.New(false))
}

func TestViewGolden(t *testing.T) {
	anna := []Item{
		{ID: "customer:C1", Title: "Anna Müller", Subtitle: "anna.mueller@example.com · Köln", Kind: "customer"},
		{ID: "customer:C2", Title: "東京 営業部 Customer Care", Subtitle: "care@example.jp", Kind: "customer"},
	}
	t.Run("open_w80", func(t *testing.T) {
		p, _ := newPalette()
		golden.RequireEqual(t, p.View())
	})
	t.Run("query_with_dynamic_w80", func(t *testing.T) {
		p, s := newPalette()
		typeText(p, "cu")
		p.Update(s.last().Reply(anna, nil))
		p.Update(press(tea.KeyDown))
		golden.RequireEqual(t, p.View())
	})
	t.Run("searching_w40", func(t *testing.T) {
		p, _ := newPalette()
		p.SetSize(40, 10)
		typeText(p, "ex")
		golden.RequireEqual(t, p.View())
	})
}
