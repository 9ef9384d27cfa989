package channels

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"karton/model"
	"karton/store"
	"karton/tui/components/chart"
	"karton/tui/theme"
)

// coverageState is what the detail knows about the consent coverage.
type coverageState struct {
	cov     *store.Coverage // the last complete count; nil before the first
	running bool
	done    int64 // projections counted by the running count
	total   int64 // customers, for the progress
	stale   bool  // consent changed since cov was counted
	err     error
}

// detailInput is what one drawing of the detail reads.
type detailInput struct {
	th       *theme.Theme
	o        *overview
	ch       model.Channel
	coverage *coverageState
	spinner  string
	w        int
}

// renderDetail draws a channel's detail as lines of exactly w cells: the
// channel's settings, the last 30 days, reach per purpose, consent coverage
// (allowed, and denied by reason) per purpose, contacts over 90 days and
// the costs. The box caches the lines and scrolls them.
func renderDetail(in detailInput) []string {
	th, o, ch, w := in.th, in.o, in.ch, max(in.w, 10)
	var lines []string
	add := func(s ...string) {
		for _, l := range s {
			for _, part := range strings.Split(l, "\n") {
				lines = append(lines, fit(part, w))
			}
		}
	}
	heading := func(s string) { add("", th.Title.Render(s)) }
	dot := th.Muted.Render(" · ")

	add(th.Title.Render(ch.Name) + dot + string(ch.Kind) + dot + statusText(th, ch.Status))
	add(th.Muted.Render("software   ") + orDash(ch.Software))
	conn := string(ch.Connector.Kind)
	if s := showSettings(ch.Connector.Settings); s != "" {
		conn += th.Muted.Render(" · ") + s
	}
	add(th.Muted.Render("connector  ") + conn)
	add(th.Muted.Render("cost       ") + ch.CostPerContact.Format(currencyOf(ch, o)) + th.Muted.Render(" per contact"))

	last30, last90 := o.last(ch.ID, tableDays), o.last(ch.ID, activityDays)
	heading("Last 30 days")
	add(fmt.Sprintf("contacts %s%sdelivered %s%sresponses %s%sconversions %s",
		groupInt(last30.Contacts), dot, groupInt(last30.Delivered), dot, groupInt(last30.Responses), dot, groupInt(last30.Conversions)))

	// Reach per purpose, from the maintained counters.
	_, headline := o.headlineReach(ch.Kind)
	heading("Reach now, per purpose")
	var bars []chart.Bar
	for i, p := range o.purposes {
		bars = append(bars, chart.Bar{Label: p.Name, Value: float64(o.reach[ch.Kind][i]), Display: groupInt(o.reach[ch.Kind][i])})
	}
	if len(bars) == 0 {
		add(th.Muted.Render("no purposes yet (karton purpose add)"))
	} else {
		add(chart.Bars(th, bars, min(w, 72)))
		if headline.Name != "" {
			add(th.Muted.Render("the table shows the widest marketing purpose (" + headline.Name + ")"))
		}
	}

	heading("Consent coverage")
	lines = append(lines, coverageLines(in, w)...)

	heading("Contacts per week, 90 days")
	add(activityChart(th, o, ch.ID, min(w, 80)))

	heading("Costs")
	cur := currencyOf(ch, o)
	costs := []string{"30 days " + last30.Cost.Format(cur), "90 days " + last90.Cost.Format(cur)}
	if last90.Responses > 0 {
		costs = append(costs, "per response "+(last90.Cost/model.Money(last90.Responses)).Format(cur))
	}
	if last90.Conversions > 0 {
		costs = append(costs, "per conversion "+(last90.Cost/model.Money(last90.Conversions)).Format(cur))
	}
	add(strings.Join(costs, dot))
	if ob, ok := o.outbox[ch.ID]; ok && ob.Counts.Dead > 0 {
		add("", th.Bad.Render(fmt.Sprintf("%s dead letters", groupInt(ob.Counts.Dead)))+th.Muted.Render(" — → outbox view to retry"))
	}
	return lines
}

// coverageLines draws the coverage of the channel's kind per purpose: a bar
// of the allowed share with the counts, and a second line with the denials
// by reason, most frequent first.
func coverageLines(in detailInput, w int) []string {
	th, cs := in.th, in.coverage
	var lines []string
	switch {
	case cs.cov == nil && cs.running:
		return []string{fit(in.spinner+" counting "+progressText(cs), w)}
	case cs.cov == nil && cs.err != nil:
		return []string{fit(th.Bad.Render("could not count: "+cs.err.Error()), w)}
	case cs.cov == nil:
		return []string{fit(th.Muted.Render("not counted yet"), w)}
	}
	scopes := cs.cov.For(in.ch.Kind)
	names := map[model.PurposeID]string{}
	labelW := 0
	for _, p := range in.o.purposes {
		names[p.ID] = p.Name
		labelW = max(labelW, len(p.Name))
	}
	labelW = min(labelW, max(w/4, 8))
	for _, sc := range scopes {
		total := sc.Allowed + sc.Denied
		frac := 0.0
		if total > 0 {
			frac = float64(sc.Allowed) / float64(total)
		}
		head := th.ChartLabel.Render(fit(names[sc.Purpose], labelW)) + " " + chart.Percent(th, frac, 14) + " " +
			th.Good.Render("allowed "+groupInt(sc.Allowed)) + th.Muted.Render(" · ") + th.Bad.Render("denied "+groupInt(sc.Denied))
		lines = append(lines, fit(head, w))
		type rc struct {
			r model.Reason
			n int64
		}
		var denied []rc
		for r, n := range sc.ByReason {
			if !r.Allows() {
				denied = append(denied, rc{r, n})
			}
		}
		slices.SortFunc(denied, func(a, b rc) int {
			if a.n != b.n {
				return int(b.n - a.n)
			}
			return strings.Compare(string(a.r), string(b.r))
		})
		parts := make([]string, len(denied))
		for i, d := range denied {
			parts[i] = string(d.r) + " " + groupInt(d.n)
		}
		if len(parts) > 0 {
			lines = append(lines, fit(strings.Repeat(" ", labelW+1)+th.Muted.Render(strings.Join(parts, " · ")), w))
		}
	}
	note := fmt.Sprintf("of %s customers", groupInt(cs.cov.Customers))
	switch {
	case cs.running:
		note += " · " + in.spinner + " recounting " + progressText(cs)
	case cs.stale:
		note += " · consent changed since; recount pending"
	}
	if cs.err != nil {
		note += " · last recount failed: " + cs.err.Error()
	}
	return append(lines, fit(th.Muted.Render(note), w))
}

func progressText(cs *coverageState) string {
	if cs.total <= 0 {
		return "…"
	}
	return fmt.Sprintf("%d%%", min(100, cs.done*100/cs.total))
}

// activityChart draws the channel's contacts per week over the 90 days as
// columns (13 weeks read better than 90 slivers).
func activityChart(th *theme.Theme, o *overview, id model.ChannelID, w int) string {
	days := o.activity[id]
	if len(days) == 0 {
		return th.Muted.Render("no contacts in the last 90 days")
	}
	var points []chart.Point
	var starts []time.Time
	// Weeks end on the last day, so the newest week is complete.
	for end := len(days); end > 0; end -= 7 {
		start := max(end-7, 0)
		var n int64
		for _, d := range days[start:end] {
			n += d.Contacts
		}
		points = append(points, chart.Point{Value: float64(n)})
		starts = append(starts, days[start].Day.Time())
	}
	slices.Reverse(points)
	slices.Reverse(starts)
	// Label the first week of each month with the month: thirteen dates
	// would run into each other under narrow columns.
	for i := range points {
		if i == 0 || starts[i].Month() != starts[i-1].Month() {
			points[i].Label = starts[i].Format("Jan")
		}
	}
	return chart.Columns(th, points, w, 6)
}

// statusText colours a channel status.
func statusText(th *theme.Theme, s model.ChannelStatus) string {
	switch s {
	case model.ChannelActive:
		return th.Good.Render(string(s))
	case model.ChannelPaused:
		return th.Warn.Render(string(s))
	}
	return th.Muted.Render(string(s))
}

// secretKeys are connector settings shown masked: the detail is seen by
// every role, and a webhook's signing key is not for viewers.
var secretKeys = []string{"secret", "password", "token", "key", "pass"}

// showSettings renders connector settings with secrets masked.
func showSettings(m map[string]string) string {
	masked := make(map[string]string, len(m))
	for k, v := range m {
		masked[k] = v
		for _, s := range secretKeys {
			if strings.Contains(strings.ToLower(k), s) && v != "" {
				masked[k] = "••••"
			}
		}
	}
	return joinPairs(masked)
}

func currencyOf(ch model.Channel, o *overview) string {
	if ch.Currency != "" {
		return ch.Currency
	}
	return o.currency
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "–"
	}
	return s
}

// fit cuts or pads a (possibly styled) line to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	if pad := w - lipgloss.Width(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}
