package campaigns

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/tui/theme"
)

// The timeline (t): the campaigns whose window touches a month, one row
// each, drawn as bars over the month's days; [ and ] scroll by month, j/k
// pick a campaign and enter opens it in the campaigns view.

// timelineState is the month shown and the row under the cursor.
type timelineState struct {
	month            time.Time // the first day of the month shown, UTC
	cursor, offset   int
	prevKey, nextKey key.Binding
}

// monthOf is the first day of t's month.
func monthOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// rows lists the campaigns whose window overlaps the month, by start.
func (t *timelineState) rows(snap *snapshot) []model.Campaign {
	if snap == nil {
		return nil
	}
	first, next := t.month, t.month.AddDate(0, 1, 0)
	var out []model.Campaign
	for _, cp := range snap.campaigns {
		if cp.Start.Before(next) && !cp.End.Before(first) {
			out = append(out, cp)
		}
	}
	// The store lists newest first; the calendar reads better by start.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// sync puts the cursor on the table's campaign if the month shows it.
func (t *timelineState) sync(b *Box) {
	cp, ok := b.selected()
	if !ok {
		return
	}
	for i, r := range t.rows(b.snap) {
		if r.ID == cp.ID {
			t.cursor = i
			return
		}
	}
	t.cursor = 0
}

func (b *Box) shiftMonth(d int) {
	b.timeline.month = b.timeline.month.AddDate(0, d, 0)
	b.timeline.cursor, b.timeline.offset = 0, 0
}

func (b *Box) timelineKey(msg tea.KeyPressMsg) tea.Cmd {
	km, t := b.c.Keys, &b.timeline
	rows := t.rows(b.snap)
	switch {
	case key.Matches(msg, t.prevKey):
		b.shiftMonth(-1)
	case key.Matches(msg, t.nextKey):
		b.shiftMonth(1)
	case key.Matches(msg, km.Top):
		t.month, t.cursor, t.offset = monthOf(b.c.Now()), 0, 0
	case key.Matches(msg, km.Down):
		t.cursor = min(t.cursor+1, len(rows)-1)
	case key.Matches(msg, km.Up):
		t.cursor = max(t.cursor-1, 0)
	case key.Matches(msg, km.Open):
		if t.cursor >= 0 && t.cursor < len(rows) {
			b.selectCampaign(rows[t.cursor].ID)
			b.show(viewCampaigns)
			b.detailFocus = b.arr == arrangeNarrow
		}
	}
	t.cursor = max(min(t.cursor, len(rows)-1), 0)
	return nil
}

// timelineView draws the month: a header of day numbers, a row per
// campaign with a bar over its days, and today marked.
func (b *Box) timelineView(h int) string {
	th, t, w := b.c.Theme, &b.timeline, b.w
	rows := t.rows(b.snap)
	days := t.month.AddDate(0, 1, -1).Day()
	cell := 2
	if w >= 24+days*3 {
		cell = 3
	}
	nameW := max(min(w-days*cell-1, 30), 8)
	var out []string
	add := func(s string) { out = append(out, fit(s, w)) }
	title := th.Title.Render(t.month.Format("January 2006")) + th.Muted.Render(fmt.Sprintf(" · %d campaigns · [/] month · g today", len(rows)))
	add(title)

	today := b.c.Now()
	todayCol := -1
	if monthOf(today).Equal(t.month) {
		todayCol = today.Day() - 1
	}
	// Header: day numbers where they fit, weekends muted.
	var head strings.Builder
	for d := 0; d < days; d++ {
		day := t.month.AddDate(0, 0, d)
		txt := strings.Repeat(" ", cell)
		if cell == 3 {
			txt = padLeft(fmt.Sprint(d+1), 2) + " "
		} else if d%2 == 0 {
			txt = padLeft(fmt.Sprint(d+1), 2)
		}
		if d == todayCol {
			txt = th.Accent.Render(txt)
		} else if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			txt = th.Muted.Render(txt)
		}
		head.WriteString(txt)
	}
	add(th.TableHeader.Render(padRight("campaign", nameW)) + " " + head.String())
	if len(rows) == 0 {
		add(th.Muted.Render(fmt.Sprintf("no campaign runs in %s", t.month.Format("January 2006"))))
		return strings.Join(out, "\n")
	}
	room := max(h-len(out)-2, 1)
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+room {
		t.offset = t.cursor - room + 1
	}
	for i := t.offset; i < len(rows) && i < t.offset+room; i++ {
		cp := rows[i]
		name := fit("  "+cp.Name, nameW)
		if i == t.cursor {
			name = th.TableSelected.Render(fit("› "+cp.Name, nameW))
		}
		add(name + " " + timelineBar(th, cp, t.month, days, cell, todayCol))
	}
	add("")
	cp := rows[min(t.cursor, len(rows)-1)]
	add(th.Muted.Render(cp.Name+": "+windowLong(cp)+" · ") + statusText(th, cp.Status) + th.Muted.Render(" · enter opens it"))
	return strings.Join(out, "\n")
}

// timelineBar draws one campaign's days in the month: a block per day in
// its window, in its status's colour, a dot for the rest.
func timelineBar(th *theme.Theme, cp model.Campaign, month time.Time, days, cell, todayCol int) string {
	var b strings.Builder
	start := time.Date(cp.Start.Year(), cp.Start.Month(), cp.Start.Day(), 0, 0, 0, 0, time.UTC)
	end := time.Date(cp.End.Year(), cp.End.Month(), cp.End.Day(), 0, 0, 0, 0, time.UTC)
	style := statusStyle(th, cp.Status)
	for d := 0; d < days; d++ {
		day := month.AddDate(0, 0, d)
		in := !day.Before(start) && !day.After(end)
		switch {
		case in:
			b.WriteString(style.Render(strings.Repeat("█", cell-1)) + style.Render(fill(day.Equal(end), cell)))
		case d == todayCol:
			b.WriteString(th.Accent.Render(padLeft("│", cell-1) + " "))
		default:
			b.WriteString(th.Muted.Render(padLeft("·", cell-1) + " "))
		}
	}
	return b.String()
}

// fill joins a day's block to the next day's unless the window ends.
func fill(last bool, cell int) string {
	if last || cell < 2 {
		return " "
	}
	return "█"
}
