package warehouse

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/chart"
	"karton/tui/theme"
)

// Periods of the overview. Revenue and contacts are compared over 90 days
// (long enough to smooth out weekly rhythms, short enough to show a
// trend); the revenue chart spans up to two years so a season can be
// compared with the same season a year before.
const (
	periodDays   = 90
	chartMonths  = 24
	minTileWidth = 20
)

// overviewData is everything the overview shows, read in one transaction
// from counters, rollups and the small catalog buckets: no raw event is
// scanned, so the load costs the same on a million customers as on ten.
type overviewData struct {
	asOf     time.Time
	currency string

	customers    int64
	lifetime     model.Money // revenue over all purchases (counter)
	rev, revPrev model.Money // this period and the one before
	ord, ordPrev int64       // orders in the same periods

	// months are the last chartMonths calendar months up to asOf's,
	// oldest first; the last one is the month to date.
	months []monthTotal
	// days is the revenue of each day of the period, oldest first.
	days []model.Money

	reach []kindReach

	contacts    []channelContacts // sent per channel this period, most first
	sent        int64
	converted   int64
	unsubscribe int64

	running, approved, submitted int
	planned, spent               model.Money // budget of running campaigns
	otherCurrency                int         // running campaigns not in the store's currency
	runningList                  []campaignBudget
}

// campaignBudget is one running campaign's budget, for the budget panel.
type campaignBudget struct {
	name           string
	end            time.Time
	planned, spent model.Money
}

type monthTotal struct {
	month   model.YearMonth
	revenue model.Money
	orders  int64
}

// kindReach is how many customers may be contacted now on one channel
// kind: the widest of its marketing purposes (the consent engine's reach
// counters are per kind and purpose).
type kindReach struct {
	kind    model.ChannelKind
	reach   int64
	purpose string // the purpose with that reach
}

type channelContacts struct {
	name string
	sent int64
}

// overviewLoadedMsg carries the overview's data.
type overviewLoadedMsg struct {
	seq  uint64
	data overviewData
	err  error
}

// loadOverview reads the overview's data as actor, with now as "today".
func loadOverview(s *store.Store, actor model.Actor, now time.Time) (overviewData, error) {
	now = now.UTC()
	d := overviewData{asOf: now, currency: s.Settings().Currency}
	if d.currency == "" {
		d.currency = model.DefaultCurrency
	}
	today := store.DayOf(now)
	periodStart := today - periodDays + 1
	prevStart := periodStart - periodDays
	firstMonth := model.YearMonthOf(now) - chartMonths + 1
	monthStart := store.DayOf(time.Date(firstMonth.Year(), firstMonth.Month(), 1, 0, 0, 0, 0, time.UTC))

	err := s.View(actor, func(r *store.Reader) error {
		d.customers = r.Counter("customers")
		d.lifetime = model.Money(r.Counter("revenue"))

		// Revenue: one scan over the purchase rollups of the chart's span,
		// which includes both 90-day periods (chartMonths ≥ 7).
		from := min(monthStart, prevStart)
		days, err := r.PurchaseRollups(from, today)
		if err != nil {
			return err
		}
		d.months = make([]monthTotal, chartMonths)
		for i := range d.months {
			d.months[i].month = firstMonth + model.YearMonth(i)
		}
		d.days = make([]model.Money, periodDays)
		for _, p := range days {
			switch {
			case p.Day >= periodStart:
				d.rev += p.Revenue
				d.ord += p.Count
				d.days[p.Day-periodStart] += p.Revenue
			case p.Day >= prevStart:
				d.revPrev += p.Revenue
				d.ordPrev += p.Count
			}
			if i := int(model.YearMonthOf(p.Day.Time()) - firstMonth); i >= 0 && i < len(d.months) {
				d.months[i].revenue += p.Revenue
				d.months[i].orders += p.Count
			}
		}

		channels, err := r.Channels()
		if err != nil {
			return err
		}
		names := make(map[model.ChannelID]string, len(channels))
		for _, ch := range channels {
			names[ch.ID] = ch.Name
		}
		sent := map[model.ChannelID]int64{}
		err = r.InteractionRollups(periodStart, today, func(x store.InteractionRollup) error {
			switch x.Kind {
			case model.InteractionSent:
				sent[x.ChannelID] += x.Count
				d.sent += x.Count
			case model.InteractionConverted:
				d.converted += x.Count
			case model.InteractionUnsubscribed:
				d.unsubscribe += x.Count
			}
			return nil
		})
		if err != nil {
			return err
		}
		for id, n := range sent {
			name, ok := names[id]
			if !ok {
				name = "unknown channel"
				if id == 0 {
					name = "no channel"
				}
			}
			d.contacts = append(d.contacts, channelContacts{name: name, sent: n})
		}
		slices.SortFunc(d.contacts, func(a, b channelContacts) int {
			return cmp.Or(cmp.Compare(b.sent, a.sent), strings.Compare(a.name, b.name))
		})

		purposes, err := r.Purposes()
		if err != nil {
			return err
		}
		d.reach = reachByKind(r, channels, purposes)

		campaigns, err := r.Campaigns()
		if err != nil {
			return err
		}
		for i := range campaigns {
			c := &campaigns[i]
			switch c.Status {
			case model.StatusRunning:
				d.running++
				if c.Currency != "" && c.Currency != d.currency {
					d.otherCurrency++
					continue
				}
				d.planned += c.Planned()
				d.spent += c.Spent()
				d.runningList = append(d.runningList, campaignBudget{name: c.Name, end: c.End, planned: c.Planned(), spent: c.Spent()})
			case model.StatusApproved:
				d.approved++
			case model.StatusSubmitted:
				d.submitted++
			}
		}
		slices.SortFunc(d.runningList, func(a, b campaignBudget) int {
			return cmp.Or(a.end.Compare(b.end), strings.Compare(a.name, b.name))
		})
		return nil
	})
	return d, err
}

// reachByKind lists, for each channel kind that has an active channel, the
// widest reach over the marketing purposes. Service purposes are left out
// on purpose: a transactional mail is not a marketing audience.
func reachByKind(r *store.Reader, channels []model.Channel, purposes []model.Purpose) []kindReach {
	active := map[model.ChannelKind]bool{}
	for _, ch := range channels {
		if ch.Status == model.ChannelActive {
			active[ch.Kind] = true
		}
	}
	var out []kindReach
	for _, k := range model.ChannelKinds {
		if !active[k] {
			continue
		}
		best := kindReach{kind: k}
		for _, p := range purposes {
			if p.Category != model.CategoryMarketing {
				continue
			}
			if n := r.Reach(k, p.ID); n > best.reach {
				best.reach, best.purpose = n, p.Name
			}
		}
		out = append(out, best)
	}
	return out
}

// overview is the first sub-view.
type overview struct {
	c    *common.Context
	ld   loadState
	data overviewData
	w, h int

	drawn string // the cached drawing (STYLE.md rule 7)
}

func newOverview(c *common.Context) *overview {
	return &overview{c: c, ld: loadState{task: "warehouse:overview", label: "warehouse overview", slowAfter: slowLoad}}
}

func (o *overview) id() string               { return "overview" }
func (o *overview) title() string            { return "Overview" }
func (o *overview) state() *loadState        { return &o.ld }
func (o *overview) keys() []key.Binding      { return nil }
func (o *overview) setTheme(th *theme.Theme) { o.redraw() }
func (o *overview) setSize(w, h int)         { o.w, o.h = w, h; o.redraw() }
func (o *overview) view() string             { return o.drawn }
func (o *overview) affectedBy(ch []store.Change) bool {
	for _, c := range ch {
		switch c.Kind {
		case store.ChangeCustomer, store.ChangeConsent, store.ChangeInteraction, store.ChangePurchase,
			store.ChangeCampaign, store.ChangeChannel, store.ChangePurpose, store.ChangeSettings,
			store.ChangeImport, store.ChangeBulk:
			return true
		}
	}
	return false
}

func (o *overview) load() tea.Cmd {
	s, actor, now := o.c.Store, o.c.Actor, o.c.Now()
	cmd := o.ld.run(func(seq uint64) tea.Msg {
		d, err := loadOverview(s, actor, now)
		return overviewLoadedMsg{seq: seq, data: d, err: err}
	})
	o.redraw()
	return cmd
}

func (o *overview) update(msg tea.Msg) tea.Cmd {
	switch m := msg.(type) {
	case loadRanLongMsg:
		return o.ld.ranLong(m)
	case overviewLoadedMsg:
		ok, done := o.ld.accept(m.seq, m.err)
		if !ok {
			return nil
		}
		if m.err != nil {
			o.redraw()
			return tea.Batch(done, common.Fail("load the warehouse overview", m.err))
		}
		o.data = m.data
		o.redraw()
		return done
	}
	return nil
}

// redraw lays the overview out for the current data, size and theme.
func (o *overview) redraw() {
	o.drawn = block(o.render(), o.w, o.h)
}

func (o *overview) render() string {
	th := o.c.Theme
	w, h := o.w, o.h
	if w <= 0 || h <= 0 {
		return ""
	}
	if !o.ld.loaded {
		if o.ld.err != nil {
			return th.Bad.Render("Could not load the overview: "+o.ld.err.Error()) + "\n" + th.Muted.Render("Press r to try again.")
		}
		return th.Muted.Render("Loading the warehouse overview…")
	}
	d := &o.data

	var parts []string
	// Charts need about a dozen lines to be readable; extra KPI tiles take
	// a row only when the charts keep that much room.
	const chartRoom = 12
	fixed := 1 /*title*/ + 1 /*blank*/ + 1 /*reach title*/ + 1 /*blank*/
	reach := o.reachRows(d, w)
	required, optional := o.tiles(d)
	tiles := chooseTiles(required, optional, w, func(rows int) bool {
		return h-fixed-rows*tileHeight-height(reach) >= chartRoom
	})

	parts = append(parts, o.header(d, w), renderTiles(th, tiles, w), "", reach)
	used := height(strings.Join(parts, "\n"))
	if room := h - used - 1; room >= 4 {
		parts = append(parts, "", o.charts(d, w, room))
	}
	return strings.Join(parts, "\n")
}

// header is the title line with the date the numbers are as of.
func (o *overview) header(d *overviewData, w int) string {
	th := o.c.Theme
	title := th.Title.Render("Overview")
	asOf := th.Muted.Render("as of " + d.asOf.Format("2 Jan 2006") + " · " + d.currency)
	if o.ld.loading {
		asOf = th.Muted.Render("refreshing… ") + asOf
	}
	if o.ld.err != nil {
		asOf = th.Bad.Render("refresh failed (r) ") + asOf
	}
	return joinEnds(title, asOf, w)
}

// tiles returns the KPI tiles: the ones the overview always shows and the
// ones it adds when there is room, most useful first.
func (o *overview) tiles(d *overviewData) (required, optional []tile) {
	cur := d.currency
	revTrend, revUp := trend(float64(d.rev), float64(d.revPrev))
	ordTrend, ordUp := trend(float64(d.ord), float64(d.ordPrev))
	var aov, aovPrev model.Money
	if d.ord > 0 {
		aov = d.rev / model.Money(d.ord)
	}
	if d.ordPrev > 0 {
		aovPrev = d.revPrev / model.Money(d.ordPrev)
	}
	aovTrend, aovUp := trend(float64(aov), float64(aovPrev))

	budget := tile{label: "Running budget", value: "–", note: "no running campaign"}
	if d.planned > 0 || d.spent > 0 {
		frac := 0.0
		if d.planned > 0 {
			frac = float64(d.spent) / float64(d.planned)
		}
		spent, planned := moneyShort(d.spent, cur), moneyShort(d.planned, cur)
		budget = tile{label: "Running budget", bar: &frac,
			note: spent + " of " + planned + " planned", short: spent + " of " + planned}
		if d.otherCurrency > 0 {
			budget.note += " · " + fmtInt(int64(d.otherCurrency)) + " in other currencies"
		}
	}
	approved, submitted := fmtInt(int64(d.approved)), fmtInt(int64(d.submitted))

	required = []tile{
		{label: "Customers", value: fmtInt(d.customers),
			note: moneyShort(d.lifetime, cur) + " revenue all time", short: moneyShort(d.lifetime, cur) + " all time"},
		{label: "Revenue 90d", value: money(d.rev, cur), note: vsPrior(revTrend, false), short: vsPrior(revTrend, true), up: revUp},
		{label: "Running campaigns", value: fmtInt(int64(d.running)),
			note: approved + " approved · " + submitted + " to approve", short: submitted + " to approve"},
		budget,
	}
	optional = []tile{
		{label: "Orders 90d", value: fmtInt(d.ord), note: vsPrior(ordTrend, false), short: vsPrior(ordTrend, true), up: ordUp},
		{label: "Avg order 90d", value: money(aov, cur), note: vsPrior(aovTrend, false), short: vsPrior(aovTrend, true), up: aovUp},
		{label: "Contacts 90d", value: fmtInt(d.sent), note: "sent on " + fmtInt(int64(len(d.contacts))) + " channels", short: fmtInt(int64(len(d.contacts))) + " channels"},
		{label: "Conversions 90d", value: fmtInt(d.converted), note: fmtShare(d.converted, d.sent) + " of contacts"},
		{label: "Unsubscribes 90d", value: fmtInt(d.unsubscribe), note: fmtShare(d.unsubscribe, d.sent) + " of contacts"},
	}
	return required, optional
}

// vsPrior words a trend against the previous 90 days.
func vsPrior(t string, short bool) string {
	switch {
	case t == "" && short:
		return "none before"
	case t == "":
		return "none in the 90 days before"
	case short:
		return t + " vs prior"
	}
	return t + " vs the 90 days before"
}

// reachRows draws the reach per channel kind as cells that reflow like the
// tiles.
func (o *overview) reachRows(d *overviewData, w int) string {
	th := o.c.Theme
	title := firstFit(w,
		th.Title.Render("Contactable now")+th.Muted.Render(" · customers reachable for the widest marketing purpose of each channel kind"),
		th.Title.Render("Contactable now")+th.Muted.Render(" · widest marketing purpose per channel kind"),
		th.Title.Render("Contactable now"))
	if len(d.reach) == 0 {
		return title + "\n" + th.Muted.Render("No active channel.")
	}
	cols := max(1, min(len(d.reach), w/minTileWidth))
	cellW := w / cols
	labelW, numW := 0, 0
	for _, r := range d.reach {
		labelW = max(labelW, widthOf(kindTitle(r.kind)))
		numW = max(numW, widthOf(fmtInt(r.reach)))
	}
	cells := make([]string, len(d.reach))
	for i, r := range d.reach {
		cell := fit(kindTitle(r.kind), labelW) + " " + th.Accent.Render(fitRight(fmtInt(r.reach), numW)) + " " +
			th.Muted.Render(fitRight(fmtShare(r.reach, d.customers), 4))
		if r.purpose != "" && cellW-widthOf(cell) >= 12 {
			cell += th.Muted.Render(" " + r.purpose)
		}
		cells[i] = fit(cell, cellW-1) + " "
	}
	lines := []string{title}
	for i := 0; i < len(cells); i += cols {
		lines = append(lines, strings.Join(cells[i:min(i+cols, len(cells))], ""))
	}
	return strings.Join(lines, "\n")
}

// firstFit returns the first variant that fits in w cells, or the last one
// cut to w.
func firstFit(w int, variants ...string) string {
	for _, v := range variants {
		if widthOf(v) <= w {
			return v
		}
	}
	return fit(variants[len(variants)-1], w)
}

// kindTitle is a channel kind as a label: "email" → "Email".
func kindTitle(k model.ChannelKind) string {
	s := string(k)
	if s == "" {
		return "Unknown"
	}
	if k == model.KindSMS {
		return "SMS"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Chart layout limits: a column chart taller than maxChartHeight only
// stretches its bars; below minChartWidth a chart's labels crowd out its
// bars.
const (
	maxChartHeight = 22
	minChartWidth  = 36
	chartGap       = 3
)

// charts lays out the panels under the tiles: revenue by month, contacts
// by channel and, when there are running campaigns and room for them, their
// budgets. Wide screens get three columns, ordinary ones two with the
// budgets below, narrow ones a stack. Tall screens add revenue by day.
func (o *overview) charts(d *overviewData, w, h int) string {
	budgetH := 0
	if len(d.runningList) > 0 {
		budgetH = 1 + len(d.runningList)
	}
	if w < 2*minChartWidth+chartGap {
		top := h / 2
		return block(o.revenueChart(d, w, top), w, top) + "\n" + o.contactsChart(d, w, h-top)
	}
	top := min(h, maxChartHeight+1)
	var panels []string
	if budgetH > 0 && w >= 160 {
		budW := min(max((w-2*chartGap)*3/10, 56), 80)
		conW := min(max((w-2*chartGap-budW)*2/5, minChartWidth), 70)
		revW := w - 2*chartGap - budW - conW
		panels = append(panels, joinColumns([]string{
			block(o.revenueChart(d, revW, top), revW, top),
			block(o.contactsChart(d, conW, top), conW, top),
			block(o.budgetPanel(d, budW, top), budW, top),
		}, chartGap))
		budgetH = 0
	} else {
		if budgetH > 0 && h-top-1 < budgetH && h-budgetH-1 >= 10 {
			top = h - budgetH - 1 // shorter charts, but the budgets show
		}
		leftW := (w - chartGap) * 3 / 5
		rightW := w - chartGap - leftW
		panels = append(panels, joinColumns([]string{
			block(o.revenueChart(d, leftW, top), leftW, top),
			block(o.contactsChart(d, rightW, top), rightW, top),
		}, chartGap))
	}
	rest := h - top
	if budgetH > 0 && rest-1 >= budgetH {
		panels = append(panels, "", o.budgetPanel(d, w, rest-1))
		rest -= budgetH + 1
	}
	if rest-1 >= 8 {
		panels = append(panels, "", o.dailyChart(d, w, min(rest-1, maxChartHeight)))
	}
	return strings.Join(panels, "\n")
}

// dailyChart is revenue per day over the period, for tall screens: the
// monthly columns hide a campaign's spike, the days show it.
func (o *overview) dailyChart(d *overviewData, w, h int) string {
	th := o.c.Theme
	title := firstFit(w, th.Title.Render("Revenue by day")+th.Muted.Render(" · "+d.currency+", last 90 days, newest at the right"), th.Title.Render("Revenue by day"))
	points := make([]chart.Point, len(d.days))
	var total model.Money
	for i, m := range d.days {
		// Every day gets a label; the chart shows as many as fit.
		day := d.asOf.AddDate(0, 0, i-len(d.days)+1)
		points[i] = chart.Point{Label: day.Format("2 Jan"), Value: float64(m) / 100}
		total += m
	}
	if total == 0 {
		return title + "\n" + th.Muted.Render("No purchases in the last 90 days.")
	}
	return title + "\n" + chart.Columns(th, points, w, h-1)
}

// revenueChart is a column per month; with less room it keeps the latest
// twelve months, and with one-cell columns the month's initial.
func (o *overview) revenueChart(d *overviewData, w, h int) string {
	th := o.c.Theme
	months := d.months
	if fitN := max((w-8)/3, 1); len(months) > fitN {
		months = months[len(months)-min(fitN, 12):]
	}
	var total model.Money
	points := make([]chart.Point, len(months))
	narrow := (w-5)/max(len(months), 1) < 4
	for i, m := range months {
		label := monthLabel(m.month, false)
		if narrow {
			label = label[:1]
		}
		points[i] = chart.Point{Label: label, Value: float64(m.revenue) / 100}
		total += m.revenue
	}
	last := monthLabel(months[len(months)-1].month, false)
	title := firstFit(w,
		th.Title.Render("Revenue by month")+th.Muted.Render(" · "+d.currency+", "+fmtInt(int64(len(months)))+" months, "+last+" to date"),
		th.Title.Render("Revenue by month")+th.Muted.Render(" · "+d.currency),
		th.Title.Render("Revenue by month"))
	if total == 0 {
		return title + "\n" + th.Muted.Render("No purchases in these months.")
	}
	return title + "\n" + chart.Columns(th, points, w, min(h-1, maxChartHeight))
}

// contactsChart is a bar per channel with the contacts sent over the
// period, the busiest first; channels that do not fit are left out and the
// title says so.
func (o *overview) contactsChart(d *overviewData, w, h int) string {
	th := o.c.Theme
	head := th.Title.Render("Contacts by channel")
	if len(d.contacts) == 0 {
		return fit(head, w) + "\n" + th.Muted.Render("No contacts sent in the last 90 days.")
	}
	rows := d.contacts
	more := ""
	if len(rows) > h-1 {
		rows = rows[:max(h-1, 1)]
		more = ", top " + fmtInt(int64(len(rows)))
	}
	title := firstFit(w, head+th.Muted.Render(" · sent, last 90 days"+more), head+th.Muted.Render(" · 90d"+more), head)
	bars := make([]chart.Bar, len(rows))
	for i, c := range rows {
		bars[i] = chart.Bar{Label: c.name, Value: float64(c.sent), Display: fmtInt(c.sent)}
	}
	return title + "\n" + chart.Bars(th, bars, w)
}

// budgetPanel lists the running campaigns with their budget bars, the
// ones that end first on top.
func (o *overview) budgetPanel(d *overviewData, w, h int) string {
	th := o.c.Theme
	title := firstFit(w, th.Title.Render("Running campaigns")+th.Muted.Render(" · budget spent of planned"), th.Title.Render("Running campaigns"))
	lines := []string{title}
	nameW := min(max(w/3, 12), 32)
	endW := 10 // "until 23 Apr"
	amountW := 0
	for _, c := range d.runningList {
		amountW = max(amountW, widthOf(moneyShort(c.spent, d.currency)+" of "+moneyShort(c.planned, d.currency)))
	}
	barW := max(w-nameW-endW-amountW-3, 8)
	for i, c := range d.runningList {
		if i >= h-1 {
			break
		}
		frac := 0.0
		if c.planned > 0 {
			frac = float64(c.spent) / float64(c.planned)
		}
		amount := moneyShort(c.spent, d.currency) + " of " + moneyShort(c.planned, d.currency)
		if c.planned == 0 {
			amount = moneyShort(c.spent, d.currency) + " unplanned"
		}
		line := fit(c.name, nameW) + " " + th.Muted.Render(fit("to "+c.end.Format("2 Jan"), endW)) + " " +
			chart.Budget(th, frac, barW) + " " + th.Muted.Render(amount)
		lines = append(lines, fit(line, w))
	}
	return strings.Join(lines, "\n")
}

// joinEnds puts left at the start and right at the end of a w-cell line,
// dropping right when both do not fit.
func joinEnds(left, right string, w int) string {
	gap := w - widthOf(left) - widthOf(right)
	if gap < 1 {
		return fit(left, w)
	}
	return left + strings.Repeat(" ", gap) + right
}

// joinColumns puts blocks of equal height side by side with gap blanks.
func joinColumns(blocks []string, gap int) string {
	if len(blocks) == 0 {
		return ""
	}
	split := make([][]string, len(blocks))
	n := 0
	for i, b := range blocks {
		split[i] = strings.Split(b, "\n")
		n = max(n, len(split[i]))
	}
	sep := strings.Repeat(" ", gap)
	lines := make([]string, n)
	for row := range n {
		parts := make([]string, len(blocks))
		for i := range blocks {
			if row < len(split[i]) {
				parts[i] = split[i][row]
			}
		}
		lines[row] = strings.Join(parts, sep)
	}
	return strings.Join(lines, "\n")
}
