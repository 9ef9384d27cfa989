package warehouse

import (
	"fmt"
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

// dashboardLoadedMsg carries the store's Dashboard for the Sources view.
type dashboardLoadedMsg struct {
	seq      uint64
	d        store.Dashboard
	currency string
	err      error
}

// sources is the collecting side at a glance: the warehouse's KPI tiles,
// every source system with its imports and quality score, and the funnel
// per channel kind, all from Reader.Dashboard (counters, rollups and
// snapshots: the same figures `karton kpi` and `karton quality` print).
type sources struct {
	c        *common.Context
	ld       loadState
	d        store.Dashboard
	currency string
	sel      pick
	funnel   int // 0: all channel kinds; i: d.Funnel.Rows[i-1]
	w, h     int

	open, nextFunnel key.Binding
	drawn            string
}

func newSources(c *common.Context) *sources {
	return &sources{c: c, ld: loadState{task: "warehouse:sources", label: "warehouse sources", slowAfter: slowLoad},
		open:       key.NewBinding(key.WithKeys(c.Keys.Open.Keys()...), key.WithHelp("enter", "the source's customers")),
		nextFunnel: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "funnel of next channel kind")),
	}
}

func (v *sources) id() string               { return "sources" }
func (v *sources) title() string            { return "Sources" }
func (v *sources) state() *loadState        { return &v.ld }
func (v *sources) keys() []key.Binding      { return []key.Binding{v.open, v.nextFunnel} }
func (v *sources) setTheme(th *theme.Theme) { v.redraw() }
func (v *sources) setSize(w, h int)         { v.w, v.h = w, h; v.redraw() }
func (v *sources) view() string             { return v.drawn }
func (v *sources) redraw()                  { v.drawn = block(v.render(), v.w, v.h) }

func (v *sources) affectedBy(ch []store.Change) bool {
	for _, c := range ch {
		switch c.Kind {
		case store.ChangeCustomer, store.ChangeInteraction, store.ChangePurchase, store.ChangeConsent,
			store.ChangeImport, store.ChangeBulk, store.ChangeSettings, store.ChangeChannel:
			return true
		}
	}
	return false
}

// dashboardPeriod is the span of the KPI figures: the same 90 days up to
// today that `karton kpi` reports by default.
func dashboardPeriod(now time.Time) (from, to time.Time) {
	to = model.DateOf(now).Time()
	return to.AddDate(0, 0, -(periodDays - 1)), to
}

func (v *sources) load() tea.Cmd {
	s, actor, now := v.c.Store, v.c.Actor, v.c.Now()
	cmd := v.ld.run(func(seq uint64) tea.Msg {
		m := dashboardLoadedMsg{seq: seq, currency: s.Settings().Currency}
		from, to := dashboardPeriod(now)
		m.err = s.View(actor, func(r *store.Reader) error {
			var err error
			m.d, err = r.Dashboard(from, to)
			return err
		})
		return m
	})
	v.redraw()
	return cmd
}

func (v *sources) update(msg tea.Msg) tea.Cmd {
	switch m := msg.(type) {
	case loadRanLongMsg:
		return v.ld.ranLong(m)
	case dashboardLoadedMsg:
		ok, done := v.ld.accept(m.seq, m.err)
		if !ok {
			return nil
		}
		if m.err != nil {
			v.redraw()
			return tea.Batch(done, common.Fail("read the warehouse dashboard", m.err))
		}
		v.d, v.currency = m.d, m.currency
		if v.currency == "" {
			v.currency = model.DefaultCurrency
		}
		if v.funnel > len(v.d.Funnel.Rows) {
			v.funnel = 0
		}
		v.redraw()
		return done
	case tea.KeyPressMsg:
		switch {
		case key.Matches(m, v.nextFunnel):
			v.funnel = (v.funnel + 1) % (len(v.d.Funnel.Rows) + 1)
		case key.Matches(m, v.open):
			rows := v.rows()
			if v.sel.pos >= len(rows) {
				return nil
			}
			if !v.c.Can(model.PermSeePersonalData) {
				// A customer's source ids are personal data: masked
				// records carry none, so the filter would find nobody.
				return common.Info("the customers of a source are listed for roles that may see personal data")
			}
			src := rows[v.sel.pos].name
			return drillFilter("source:"+quoteValue(src), "customers from "+src)
		default:
			n := len(v.rows())
			if !pickKey(v.c.Keys, m, &v.sel, n, n) {
				return nil
			}
		}
		v.redraw()
	}
	return nil
}

// srcRow is one source system: its imports (nil when its customers came
// another way, e.g. the demo or `karton customer add --source`) and its
// quality (nil before the first report).
type srcRow struct {
	name    string
	imports *store.SourceSummary
	quality *store.SourceQuality
}

// rows joins the import summaries and the quality report's sources.
func (v *sources) rows() []srcRow {
	var out []srcRow
	for i := range v.d.Sources {
		out = append(out, srcRow{name: v.d.Sources[i].Source, imports: &v.d.Sources[i]})
	}
	if v.d.Quality == nil {
		return out
	}
	for i := range v.d.Quality.Sources {
		q := &v.d.Quality.Sources[i]
		found := false
		for j := range out {
			if out[j].name == q.Source {
				out[j].quality, found = q, true
			}
		}
		if !found && q.Source != store.ManualSource {
			out = append(out, srcRow{name: q.Source, quality: q})
		}
	}
	return out
}

// tiles are the warehouse's headline figures.
func (v *sources) tiles() []tile {
	d, cur := &v.d, v.currency
	t := d.Funnel.Total
	q := tile{label: "Data quality", value: "–", note: "not computed yet (Quality view)"}
	if d.Quality != nil {
		q = tile{label: "Data quality", value: score1(d.Quality.Overall.Score) + " / 100",
			note: fmtInt(int64(len(d.Quality.Sources))) + " sources · " + fmtPercent(d.Quality.Overall.Completeness) + " complete", short: fmtPercent(d.Quality.Overall.Completeness) + " complete"}
	}
	roi := "–"
	if t.ROI != nil {
		roi = fmtPercent(*t.ROI)
	}
	return []tile{
		{label: "Customers", value: fmtInt(d.Customers), note: fmtInt(d.OpenSuggestions) + " merge suggestions open", short: fmtInt(d.OpenSuggestions) + " to merge?"},
		{label: "Revenue all time", value: moneyShort(d.Revenue, cur), note: fmtInt(d.Purchases) + " purchases"},
		q,
		{label: "Contacts 90d", value: fmtInt(t.Contacts), note: fmtPercent(t.DeliveryRate) + " delivered · " + fmtPercent(t.ResponseRate) + " responded", short: fmtPercent(t.ResponseRate) + " responded"},
		{label: "Conversions 90d", value: fmtInt(t.Conversions), note: fmtPercent(t.ConversionRate) + " of contacts · ROI " + roi, short: "ROI " + roi},
		{label: "Events stored", value: fmtInt(d.Interactions), note: fmtInt(d.ConsentEvents) + " consent events", short: fmtInt(d.ConsentEvents) + " consents"},
	}
}

func (v *sources) render() string {
	th := v.c.Theme
	w, h := v.w, v.h
	if w <= 0 || h <= 0 {
		return ""
	}
	if !v.ld.loaded {
		if v.ld.err != nil {
			return th.Bad.Render("Could not read the warehouse: "+v.ld.err.Error()) + "\n" + th.Muted.Render("Press r to try again.")
		}
		return th.Muted.Render("Reading the warehouse…")
	}
	head := th.Title.Render("Sources") + th.Muted.Render(" · what came from where, and how good it is")
	period := th.Muted.Render("KPIs " + v.d.From.Format("2 Jan") + " – " + v.d.To.Format("2 Jan 2006"))
	tiles := v.tiles()
	if h < 30 {
		tiles = tiles[:min(len(tiles), max(w/minTileWidth, 1))]
	}
	lines := []string{joinEnds(head, period, w), renderTiles(th, tiles, w), ""}
	rest := h - height(strings.Join(lines, "\n"))
	table := v.sourceTable(w)
	if w >= 2*minChartWidth+chartGap+40 {
		// Side by side: sources left, funnel right.
		funW := min(max(w/3, minChartWidth), 60)
		tabW := w - funW - chartGap
		table = v.sourceTable(tabW)
		bodyH := max(min(rest, max(height(table), 9)), 1)
		lines = append(lines, joinColumns([]string{block(table, tabW, bodyH), block(v.funnelChart(funW), funW, bodyH)}, chartGap))
		rest -= bodyH
		if rest >= 6 {
			lines = append(lines, "", v.qualityBars(min(w, 90), rest-1))
		}
	} else {
		tabH := min(height(table), max(rest/2, 3))
		lines = append(lines, block(table, w, tabH))
		if rest-tabH >= 8 {
			lines = append(lines, "", v.funnelChart(w))
		}
	}
	return strings.Join(lines, "\n")
}

// sourceTable lists every source system with its imports and quality.
func (v *sources) sourceTable(w int) string {
	th := v.c.Theme
	title := th.Title.Render("Source systems")
	rows := v.rows()
	if len(rows) == 0 {
		return title + "\n" + th.Muted.Render("Nothing imported yet: use the Import view or `karton import`.")
	}
	const nameW, numW, whenW, statW, qW = 14, 8, 16, 9, 7
	lines := []string{title + th.Muted.Render(" · enter: its customers")}
	if len(v.d.Sources) == 0 {
		lines[0] += th.Muted.Render(" · no imports yet")
	}
	header := "  " + fit(th.Muted.Render("Source"), nameW) + fitRight(th.Muted.Render("Batches"), numW) + fitRight(th.Muted.Render("Read"), numW) +
		fitRight(th.Muted.Render("Rejected"), numW+1) + fitRight(th.Muted.Render("Quality"), qW+1) + "  " + fit(th.Muted.Render("Last import"), whenW) + " " + fit(th.Muted.Render("Status"), statW) + " " + th.Muted.Render("Entities")
	lines = append(lines, fit(header, w))
	v.sel.clamp(len(rows), len(rows))
	for i, r := range rows {
		qs := "–"
		if r.quality != nil {
			qs = score1(r.quality.Score)
		}
		batches, read, rej, when, status, ents := "–", "–", "–", "no import", "", ""
		if s := r.imports; s != nil {
			batches, read, rej = fmtInt(int64(s.Batches)), fmtInt(int64(s.Read)), fmtInt(int64(s.Rejected))
			if s.Rejected > 0 {
				rej = th.Warn.Render(rej)
			}
			when, status, ents = s.LastImport.UTC().Format("2006-01-02 15:04"), s.LastStatus, strings.Join(s.Entities, ", ")
			if status != "complete" {
				status = th.Warn.Render(status)
			}
		}
		line := cursorMark(i == v.sel.pos) + fit(r.name, nameW) + fitRight(batches, numW) + fitRight(read, numW) +
			fitRight(rej, numW+1) + fitRight(qs, qW+1) + "  " + fit(when, whenW) + " " + fit(status, statW) + " " + ents
		if i == v.sel.pos {
			line = th.TableSelected.Render(fit(line, w))
		}
		lines = append(lines, fit(line, w))
	}
	return strings.Join(lines, "\n")
}

// funnelChart is contacts → delivered → opened → clicked → responses →
// conversions for all channel kinds or the chosen one.
func (v *sources) funnelChart(w int) string {
	th := v.c.Theme
	row, name := v.d.Funnel.Total, "all channels"
	if v.funnel > 0 && v.funnel <= len(v.d.Funnel.Rows) {
		row = v.d.Funnel.Rows[v.funnel-1]
		name = row.Label
	}
	title := firstFit(w, th.Title.Render("Funnel")+th.Muted.Render(" · "+name+", 90 days · f: next kind"), th.Title.Render("Funnel")+th.Muted.Render(" · "+name))
	if row.Contacts == 0 {
		return title + "\n" + th.Muted.Render("No contacts in these 90 days.")
	}
	stages := []chart.Stage{
		{Label: "contacts", Value: float64(row.Contacts)},
		{Label: "delivered", Value: float64(row.Delivered)},
		{Label: "opened", Value: float64(row.Opened)},
		{Label: "clicked", Value: float64(row.Clicked)},
		{Label: "converted", Value: float64(row.Conversions)},
	}
	// Responses (clicks, replies, registrations) are not a stage: replies
	// need no open, so they would exceed the clicks above them.
	foot := th.Muted.Render(fmt.Sprintf("%s responses (%s) · revenue %s · cost %s", fmtInt(row.Responses), fmtPercent(row.ResponseRate),
		moneyShort(row.Revenue, v.currency), moneyShort(row.Cost, v.currency)))
	return title + "\n" + chart.Funnel(th, stages, w) + "\n" + fit(foot, w)
}

// qualityBars is the quality score per source, for tall screens.
func (v *sources) qualityBars(w, h int) string {
	th := v.c.Theme
	title := th.Title.Render("Quality per source") + th.Muted.Render(" · score 0–100; details in the Quality view")
	if v.d.Quality == nil || len(v.d.Quality.Sources) == 0 {
		return fit(title, w) + "\n" + th.Muted.Render("No quality report yet.")
	}
	var bars []chart.Bar
	for i, s := range v.d.Quality.Sources {
		if i >= h-1 {
			break
		}
		bars = append(bars, chart.Bar{Label: s.Source, Value: s.Score, Display: score1(s.Score)})
	}
	return fit(title, w) + "\n" + chart.Bars(th, bars, w)
}
