package warehouse

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/chart"
	"karton/tui/theme"
)

// clvLoadedMsg carries the latest CLV scoring run and the model it used.
type clvLoadedMsg struct {
	seq      uint64
	sum      store.CLVSummary
	fit      store.CLVFit
	ok, fok  bool
	currency string
	err      error
}

// clv is the distribution of customer lifetime value: how many customers
// are expected to bring how much, with a drill-down from each bar.
type clv struct {
	c        *common.Context
	ld       loadState
	sum      store.CLVSummary
	fit      store.CLVFit
	has, fok bool
	currency string
	sel      pick
	w, h     int

	open  key.Binding
	drawn string
}

func newCLV(c *common.Context) *clv {
	return &clv{c: c, ld: loadState{task: "warehouse:clv", label: "CLV distribution", slowAfter: slowLoad},
		open: key.NewBinding(key.WithKeys(c.Keys.Open.Keys()...), key.WithHelp("enter", "customers in the range")),
	}
}

func (v *clv) id() string               { return "clv" }
func (v *clv) title() string            { return "CLV" }
func (v *clv) state() *loadState        { return &v.ld }
func (v *clv) keys() []key.Binding      { return []key.Binding{v.open} }
func (v *clv) setTheme(th *theme.Theme) { v.redraw() }
func (v *clv) setSize(w, h int)         { v.w, v.h = w, h; v.redraw() }
func (v *clv) view() string             { return v.drawn }
func (v *clv) redraw()                  { v.drawn = block(v.render(), v.w, v.h) }

func (v *clv) affectedBy(ch []store.Change) bool {
	for _, c := range ch {
		if c.Kind == store.ChangeBulk || c.Kind == store.ChangeSettings {
			return true
		}
	}
	return false
}

func (v *clv) load() tea.Cmd {
	s, actor := v.c.Store, v.c.Actor
	cmd := v.ld.run(func(seq uint64) tea.Msg {
		m := clvLoadedMsg{seq: seq, currency: s.Settings().Currency}
		m.err = s.View(actor, func(r *store.Reader) error {
			var err error
			if m.sum, m.ok, err = r.CLVSnapshot(); err != nil {
				return err
			}
			m.fit, m.fok, err = r.CLVModel()
			return err
		})
		return m
	})
	v.redraw()
	return cmd
}

func (v *clv) update(msg tea.Msg) tea.Cmd {
	switch m := msg.(type) {
	case loadRanLongMsg:
		return v.ld.ranLong(m)
	case clvLoadedMsg:
		ok, done := v.ld.accept(m.seq, m.err)
		if !ok {
			return nil
		}
		if m.err != nil {
			v.redraw()
			return tea.Batch(done, common.Fail("read the CLV scores", m.err))
		}
		v.sum, v.fit, v.has, v.fok, v.currency = m.sum, m.fit, m.ok, m.fok, m.currency
		if v.currency == "" {
			v.currency = model.DefaultCurrency
		}
		v.sel.clamp(len(v.sum.Histogram), len(v.sum.Histogram))
		v.redraw()
		return done
	case tea.KeyPressMsg:
		if key.Matches(m, v.open) {
			return v.drill()
		}
		if pickKey(v.c.Keys, m, &v.sel, len(v.sum.Histogram), len(v.sum.Histogram)) {
			v.redraw()
		}
	}
	return nil
}

// drill opens the customers whose CLV falls into the selected bin.
func (v *clv) drill() tea.Cmd {
	if v.sel.pos >= len(v.sum.Histogram) {
		return nil
	}
	b := v.sum.Histogram[v.sel.pos]
	return drillFilter(clvExpr(b), "CLV "+v.binLabel(b))
}

// clvExpr is the Customers box's filter for a bin, in minor units so no
// rounding moves a customer across an edge: "clv:1000-5000" (cents).
func clvExpr(b store.CLVBin) string {
	to := ""
	if b.To > 0 {
		to = strconv.FormatInt(int64(b.To), 10)
	}
	return "clv:" + strconv.FormatInt(int64(b.From), 10) + "-" + to
}

func (v *clv) binLabel(b store.CLVBin) string {
	if b.To <= 0 {
		return moneyShort(b.From, v.currency) + "+"
	}
	return moneyShort(b.From, v.currency) + "–" + moneyShort(b.To, v.currency)
}

func (v *clv) render() string {
	th := v.c.Theme
	w, h := v.w, v.h
	if w <= 0 || h <= 0 {
		return ""
	}
	if !v.ld.loaded {
		if v.ld.err != nil {
			return th.Bad.Render("Could not read the CLV scores: "+v.ld.err.Error()) + "\n" + th.Muted.Render("Press r to try again.")
		}
		return th.Muted.Render("Reading the CLV scores…")
	}
	if !v.has {
		return strings.Join([]string{th.Title.Render("Customer lifetime value"), "",
			"No CLV scores have been computed for this store yet. They come from the BG/NBD and",
			"Gamma-Gamma models fitted to the purchase history, computed by", "",
			"    " + th.Accent.Render(scoresCommand), "",
			th.Muted.Render("Run it, then press r here. Too few repeat buyers and the run says why it skipped CLV.")}, "\n")
	}
	s := &v.sum
	head := th.Title.Render("Customer lifetime value") + th.Muted.Render(fmt.Sprintf(" · expected over %d months, %s discount a year", s.Months, fmtPercent(s.AnnualDiscount)))
	lines := []string{joinEnds(head, th.Muted.Render("computed "+fmtWhen(s.ComputedAt)), w)}
	figures := fmt.Sprintf("%s customers · total %s · mean %s · median %s · top 10%% from %s · mean P(alive) %s",
		fmtInt(int64(s.Scored)), moneyShort(s.Total, v.currency), moneyShort(s.Mean, v.currency), moneyShort(s.Median, v.currency),
		moneyShort(s.P90, v.currency), fmtPercent(s.MeanPAlive))
	lines = append(lines, fit(th.Accent.Render(figures), w))
	if v.fok {
		lines = append(lines, fit(th.Muted.Render(fmt.Sprintf("model: BG/NBD r=%.3f α=%.3f a=%.3f b=%.3f · Gamma-Gamma p=%.2f q=%.2f γ=%.2f",
			v.fit.R, v.fit.Alpha, v.fit.A, v.fit.B, v.fit.P, v.fit.Q, v.fit.Gamma)), w))
	}
	lines = append(lines, "")
	rest := h - len(lines)
	if len(s.Histogram) == 0 {
		return strings.Join(append(lines, th.Muted.Render("No customer was scored.")), "\n")
	}
	listW := min(max(w*2/5, 36), 56)
	if w < 2*minChartWidth+chartGap {
		listW = w
	}
	list := v.binList(listW)
	if listW == w {
		return strings.Join(append(lines, list), "\n")
	}
	chartW := w - listW - chartGap
	points := make([]chart.Point, len(s.Histogram))
	for i, b := range s.Histogram {
		label := v.binLabel(b)
		if i == v.sel.pos {
			label = "▸" + label
		}
		points[i] = chart.Point{Label: label, Value: float64(b.Customers)}
	}
	colH := min(rest, maxChartHeight)
	body := joinColumns([]string{block(list, listW, colH), block(th.Title.Render("Customers per value range")+"\n"+chart.Columns(th, points, chartW, colH-1), chartW, colH)}, chartGap)
	return strings.Join(append(lines, body), "\n")
}

// binList is the histogram as a selectable list.
func (v *clv) binList(w int) string {
	th := v.c.Theme
	const rangeW, countW = 16, 8
	barW := max(w-2-rangeW-countW-2, 6)
	lines := []string{fit("  "+fit(th.Muted.Render("Expected value"), rangeW)+fitRight(th.Muted.Render("Cust."), countW)+"  "+th.Muted.Render("Share · enter: who"), w)}
	for i, b := range v.sum.Histogram {
		share := 0.0
		if v.sum.Scored > 0 {
			share = float64(b.Customers) / float64(v.sum.Scored)
		}
		line := cursorMark(i == v.sel.pos) + fit(v.binLabel(b), rangeW) + fitRight(fmtInt(int64(b.Customers)), countW) + "  " + chart.Percent(th, share, barW)
		if i == v.sel.pos {
			line = th.TableSelected.Render(fit(line, w))
		}
		lines = append(lines, fit(line, w))
	}
	return strings.Join(lines, "\n")
}
