package warehouse

import (
	"math"
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

// cohortMonths is how many first-purchase months the view follows: two
// years show whether this spring's customers stay like last spring's.
const cohortMonths = 24

// cohortData is the retention triangle and the currency of its revenue.
type cohortData struct {
	matrix   *model.CohortMatrix // nil when the store has no purchases
	currency string
	asOf     time.Time
}

// cohortsLoadedMsg carries the cohort view's data.
type cohortsLoadedMsg struct {
	seq  uint64
	data cohortData
	err  error
}

// cohorts is the cohort sub-view.
type cohorts struct {
	c    *common.Context
	ld   loadState
	data cohortData
	w, h int
	top  int // first cohort row shown

	up, down, first, last key.Binding
	drawn                 string
}

func newCohorts(c *common.Context) *cohorts {
	km := c.Keys
	return &cohorts{c: c, ld: loadState{task: "warehouse:cohorts", label: "cohorts", slowAfter: slowLoad},
		up:    key.NewBinding(key.WithKeys(km.Up.Keys()...), key.WithHelp("↑/k", "older cohorts")),
		down:  key.NewBinding(key.WithKeys(km.Down.Keys()...), key.WithHelp("↓/j", "newer cohorts")),
		first: km.Top, last: km.Bottom,
	}
}

func (v *cohorts) id() string               { return "cohorts" }
func (v *cohorts) title() string            { return "Cohorts" }
func (v *cohorts) state() *loadState        { return &v.ld }
func (v *cohorts) keys() []key.Binding      { return []key.Binding{v.up, v.down} }
func (v *cohorts) setTheme(th *theme.Theme) { v.redraw() }
func (v *cohorts) setSize(w, h int)         { v.w, v.h = w, h; v.redraw() }
func (v *cohorts) view() string             { return v.drawn }
func (v *cohorts) redraw()                  { v.drawn = block(v.render(), v.w, v.h) }

func (v *cohorts) affectedBy(ch []store.Change) bool {
	for _, c := range ch {
		switch c.Kind {
		case store.ChangePurchase, store.ChangeCustomer, store.ChangeBulk, store.ChangeImport, store.ChangeSettings:
			return true
		}
	}
	return false
}

func (v *cohorts) load() tea.Cmd {
	s, actor, ctx, now := v.c.Store, v.c.Actor, v.c.Ctx, v.c.Now().UTC()
	cmd := v.ld.run(func(seq uint64) tea.Msg {
		d := cohortData{currency: s.Settings().Currency, asOf: now}
		err := s.View(actor, func(r *store.Reader) error {
			day, ok := r.FirstPurchaseDay()
			if !ok {
				return nil
			}
			through := model.YearMonthOf(now)
			from := max(model.YearMonthOf(day.Time()), through-cohortMonths+1)
			if from > through {
				return nil // every purchase lies in the future
			}
			var err error
			d.matrix, err = r.Cohorts(ctx, from, through)
			return err
		})
		return cohortsLoadedMsg{seq: seq, data: d, err: err}
	})
	v.redraw()
	return cmd
}

func (v *cohorts) update(msg tea.Msg) tea.Cmd {
	switch m := msg.(type) {
	case loadRanLongMsg:
		return v.ld.ranLong(m)
	case cohortsLoadedMsg:
		ok, done := v.ld.accept(m.seq, m.err)
		if !ok {
			return nil
		}
		if m.err != nil {
			v.redraw()
			return tea.Batch(done, common.Fail("compute the cohorts", m.err))
		}
		first := v.data.matrix == nil
		v.data = m.data
		if v.data.currency == "" {
			v.data.currency = model.DefaultCurrency
		}
		if first {
			// Start at the newest cohorts: what this season's customers
			// do matters first; ↑ shows the older ones.
			v.scroll(math.MaxInt32)
		}
		v.redraw()
		return done
	case tea.KeyPressMsg:
		switch {
		case key.Matches(m, v.up):
			v.scroll(v.top - 1)
		case key.Matches(m, v.down):
			v.scroll(v.top + 1)
		case key.Matches(m, v.first):
			v.scroll(0)
		case key.Matches(m, v.last):
			v.scroll(math.MaxInt32)
		}
	case tea.MouseWheelMsg:
		switch m.Button {
		case tea.MouseWheelUp:
			v.scroll(v.top - 1)
		case tea.MouseWheelDown:
			v.scroll(v.top + 1)
		}
	}
	return nil
}

// scroll moves the first shown cohort, kept within the list.
func (v *cohorts) scroll(top int) {
	n := 0
	if v.data.matrix != nil {
		n = len(v.data.matrix.Cohorts)
	}
	top = min(top, n-v.visibleRows())
	v.top = max(top, 0)
	v.redraw()
}

// Layout: title, blank, the grid's header line, cohort rows, blank, foot.
const cohortChrome = 5

func (v *cohorts) visibleRows() int { return max(v.h-cohortChrome, 1) }

func (v *cohorts) render() string {
	th := v.c.Theme
	w, h := v.w, v.h
	if w <= 0 || h <= 0 {
		return ""
	}
	if !v.ld.loaded {
		if v.ld.err != nil {
			return th.Bad.Render("Could not compute the cohorts: "+v.ld.err.Error()) + "\n" + th.Muted.Render("Press r to try again.")
		}
		return th.Muted.Render("Computing the cohorts from every purchase…")
	}
	m := v.data.matrix
	title := th.Title.Render("Cohorts") + th.Muted.Render(" · by first-purchase month: % of each cohort buying again n months later")
	if m == nil || len(m.Cohorts) == 0 {
		return fit(title, w) + "\n\n" + th.Muted.Render("No purchases yet: cohorts start with a customer's first purchase.")
	}
	var customers int64
	for _, c := range m.Cohorts {
		customers += int64(c.Size)
	}
	right := th.Muted.Render(fmtInt(customers) + " customers")
	if v.ld.loading {
		right = th.Muted.Render("refreshing… ") + right
	}

	rows := v.visibleRows()
	top := min(v.top, max(len(m.Cohorts)-rows, 0))
	shown := m.Cohorts[top:min(top+rows, len(m.Cohorts))]

	// The revenue table takes the right side when the grid keeps at
	// least 60 columns beside it.
	const tableW, gap = 44, 3
	gridW := w
	withTable := w-tableW-gap >= 60
	if withTable {
		gridW = w - tableW - gap
	}
	grid := v.grid(shown, gridW)
	body := grid
	if withTable {
		body = joinColumns([]string{block(grid, gridW, len(shown)+1), block(v.table(shown), tableW, len(shown)+1)}, gap)
	}
	// The foot says what the row labels and blanks mean; the scroll
	// position and what lies before the range come first when there is
	// no room for all of it.
	var foot []string
	if len(m.Cohorts) > rows {
		foot = append(foot, "cohorts "+fmtInt(int64(top+1))+"–"+fmtInt(int64(top+len(shown)))+" of "+fmtInt(int64(len(m.Cohorts)))+" (↑/↓)")
	}
	if m.Skipped > 0 {
		foot = append(foot, fmtInt(int64(m.Skipped))+" customers first bought earlier")
	}
	foot = append(foot, "row: first month · cohort size", "blank: not yet observed", "this month to date")
	line := ""
	for _, f := range foot {
		next := f
		if line != "" {
			next = line + " · " + f
		}
		if widthOf(next) > w {
			break
		}
		line = next
	}
	return strings.Join([]string{joinEnds(title, right, w), "", body, "", th.Muted.Render(line)}, "\n")
}

// grid is the retention heat grid: one row per cohort, one column per
// month after the first purchase (the first month itself is always 100 %
// and would only flatten the colour scale, so the row label carries the
// cohort's size instead).
func (v *cohorts) grid(shown []model.Cohort, w int) string {
	th := v.c.Theme
	span := 0
	for _, c := range shown {
		span = max(span, len(c.Active)-1)
	}
	labels := make([]string, len(shown))
	labelW := 0
	for i, c := range shown {
		labels[i] = monthLabel(c.Month, true) + " · " + fmtInt(int64(c.Size))
		labelW = max(labelW, widthOf(labels[i]))
	}
	labelW = min(labelW, w/4)
	cols := min(span, max((w-labelW-1)/6, 1))
	if span == 0 {
		cols = 1
	}
	head := make([]string, cols)
	for k := range head {
		head[k] = "+" + fmtInt(int64(k+1))
	}
	grid := make([][]float64, len(shown))
	for i, c := range shown {
		row := make([]float64, cols)
		for k := range row {
			row[k] = math.NaN()
			if k+1 < len(c.Active) {
				row[k] = math.Round(c.Retention(k+1)*1000) / 10
			}
		}
		grid[i] = row
	}
	return chart.Heatmap(th, grid, labels, head, w)
}

// table is the revenue of each shown cohort: in its first month, to date,
// and per customer to date.
func (v *cohorts) table(shown []model.Cohort) string {
	th := v.c.Theme
	cur := v.data.currency
	lines := []string{th.Muted.Render(fitRight("first month", 14) + fitRight("to date", 14) + fitRight("per cust.", 14))}
	for _, c := range shown {
		var total model.Money
		for _, r := range c.Revenue {
			total += r
		}
		first := model.Money(0)
		if len(c.Revenue) > 0 {
			first = c.Revenue[0]
		}
		per := "–"
		if c.Size > 0 {
			per = money(total/model.Money(c.Size), cur)
		}
		lines = append(lines, fitRight(moneyShort(first, cur), 14)+fitRight(moneyShort(total, cur), 14)+fitRight(per, 14))
	}
	return strings.Join(lines, "\n")
}
