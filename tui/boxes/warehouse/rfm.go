package warehouse

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/chart"
	"karton/tui/theme"
)

// scoresCommand is the command that computes the analytics scores the RFM
// view reads; the view names it when there are none yet. `karton analytics
// run` scores RFM and CLV in one go (`karton rfm` alone leaves CLV empty,
// `karton clv score` alone leaves the segments empty). Keep it in step with
// the command table in cmd/karton/commands.go.
const scoresCommand = "karton analytics run"

// rfmData is the scores' distribution and the number of customers it is
// measured against.
type rfmData struct {
	sum       store.ScoreSummary
	customers int64
	currency  string
}

// scoresLoadedMsg carries the RFM view's data.
type scoresLoadedMsg struct {
	seq  uint64
	data rfmData
	err  error
}

// rfm is the RFM sub-view.
type rfm struct {
	c    *common.Context
	ld   loadState
	data rfmData
	w, h int
	sel  pick // the segment under the cursor, in model.RFMSegments order

	open  key.Binding
	drawn string
}

func newRFM(c *common.Context) *rfm {
	return &rfm{c: c, ld: loadState{task: "warehouse:rfm", label: "RFM scores", slowAfter: slowLoad},
		open: key.NewBinding(key.WithKeys(c.Keys.Open.Keys()...), key.WithHelp("enter", "the segment's customers"))}
}

func (v *rfm) id() string               { return "rfm" }
func (v *rfm) title() string            { return "RFM" }
func (v *rfm) state() *loadState        { return &v.ld }
func (v *rfm) keys() []key.Binding      { return []key.Binding{v.open} }
func (v *rfm) setTheme(th *theme.Theme) { v.redraw() }
func (v *rfm) setSize(w, h int)         { v.w, v.h = w, h; v.redraw() }
func (v *rfm) view() string             { return v.drawn }
func (v *rfm) redraw()                  { v.drawn = block(v.render(), v.w, v.h) }

// affectedBy: scores are rewritten in bulk by the analytics run; a new
// purchase or customer changes who would be scored how.
func (v *rfm) affectedBy(ch []store.Change) bool {
	for _, c := range ch {
		switch c.Kind {
		case store.ChangeBulk, store.ChangeImport, store.ChangeCustomer, store.ChangePurchase, store.ChangeSettings:
			return true
		}
	}
	return false
}

func (v *rfm) load() tea.Cmd {
	s, actor, ctx := v.c.Store, v.c.Actor, v.c.Ctx
	cmd := v.ld.run(func(seq uint64) tea.Msg {
		var d rfmData
		d.currency = s.Settings().Currency
		err := s.View(actor, func(r *store.Reader) error {
			d.customers = r.Counter("customers")
			var err error
			d.sum, err = r.ScoreSummary(ctx)
			return err
		})
		return scoresLoadedMsg{seq: seq, data: d, err: err}
	})
	v.redraw()
	return cmd
}

func (v *rfm) update(msg tea.Msg) tea.Cmd {
	switch m := msg.(type) {
	case loadRanLongMsg:
		return v.ld.ranLong(m)
	case scoresLoadedMsg:
		ok, done := v.ld.accept(m.seq, m.err)
		if !ok {
			return nil
		}
		if m.err != nil {
			v.redraw()
			return tea.Batch(done, common.Fail("read the RFM scores", m.err))
		}
		v.data = m.data
		if v.data.currency == "" {
			v.data.currency = model.DefaultCurrency
		}
		v.redraw()
		return done
	case tea.KeyPressMsg:
		segs := model.RFMSegments()
		if key.Matches(m, v.open) {
			if v.data.sum.Customers == 0 || v.sel.pos >= len(segs) {
				return nil
			}
			seg := segs[v.sel.pos]
			return drillFilter("segment:"+quoteValue(seg.String()), "RFM segment "+seg.String())
		}
		if pickKey(v.c.Keys, m, &v.sel, len(segs), len(segs)) {
			v.redraw()
		}
	}
	return nil
}

func (v *rfm) render() string {
	th := v.c.Theme
	w, h := v.w, v.h
	if w <= 0 || h <= 0 {
		return ""
	}
	if !v.ld.loaded {
		if v.ld.err != nil {
			return th.Bad.Render("Could not read the RFM scores: "+v.ld.err.Error()) + "\n" + th.Muted.Render("Press r to try again.")
		}
		return th.Muted.Render("Reading the RFM scores…")
	}
	d := &v.data
	sum := &d.sum
	if sum.Customers == 0 {
		return strings.Join([]string{
			th.Title.Render("RFM segments"),
			"",
			"No RFM scores have been computed for this store yet.",
			"",
			"Scores (recency, frequency and monetary quintiles, the segment, and the",
			"customer lifetime value) are computed by the analytics run:",
			"",
			"    " + th.Accent.Render(scoresCommand),
			"",
			th.Muted.Render("Run it, then press r here. Customers without a purchase are never scored."),
		}, "\n")
	}
	scored := sum.Customers - sum.Unscored
	head := th.Title.Render("RFM segments") + th.Muted.Render(" · "+fmtInt(scored)+" of "+fmtInt(d.customers)+" customers scored")
	when := th.Muted.Render("computed " + fmtWhen(sum.Latest))
	if !sum.Earliest.Equal(sum.Latest) && !sum.Earliest.IsZero() {
		when = th.Warn.Render("computed " + fmtWhen(sum.Earliest) + " – " + fmtWhen(sum.Latest))
	}
	if v.ld.loading {
		when = th.Muted.Render("refreshing… ") + when
	}
	lines := []string{joinEnds(head, when, w), ""}

	grid := v.grid(sum)
	const gap = 3
	if w >= 78 {
		gridW := min(max(w*2/5, 38), 60)
		segW := w - gridW - gap
		segs := v.segments(d, segW)
		bodyH := max(height(grid), height(segs))
		body := joinColumns([]string{block(grid, gridW, bodyH), block(segs, segW, bodyH)}, gap)
		lines = append(lines, body)
	} else {
		lines = append(lines, grid, "", v.segments(d, w))
	}
	if sum.Unscored > 0 {
		lines = append(lines, "", th.Muted.Render(fmtInt(sum.Unscored)+" customers had no purchase when scored and have no segment."))
	}
	return strings.Join(lines, "\n")
}

// grid is the R × FM heat grid: best recency on top, so Champions sit at
// the top right and Lost at the bottom left.
func (v *rfm) grid(sum *store.ScoreSummary) string {
	th := v.c.Theme
	rows := make([][]float64, 5)
	labels := make([]string, 5)
	for i := range rows {
		r := 4 - i
		labels[i] = "R" + string(rune('5'-i))
		rows[i] = make([]float64, 5)
		for fm := range 5 {
			rows[i][fm] = float64(sum.Grid[r][fm])
		}
	}
	cols := []string{"FM1", "FM2", "FM3", "FM4", "FM5"}
	w := min(max(v.w*2/5, 38), 60)
	if v.w < 78 {
		w = min(v.w, 60)
	}
	title := th.Title.Render("Recency × frequency & spend")
	foot := th.Muted.Render("customers per cell · 5 = best quintile")
	return fit(title, w) + "\n" + chart.Heatmap(th, rows, labels, cols, w) + "\n" + fit(foot, w)
}

// segments lists the named segments, best first, with their share and,
// when CLV was computed, the mean expected value and P(alive); wide screens
// add what each segment means.
func (v *rfm) segments(d *rfmData, w int) string {
	th := v.c.Theme
	sum := &d.sum
	scored := sum.Customers - sum.Unscored
	withCLV := sum.WithCLV > 0
	const nameW, countW = 18, 7
	valueW := 0
	if withCLV {
		valueW = 17 // "  €1,234    81%"
	}
	fixed := nameW + 1 + countW + 1 + valueW
	barW := min(max(w-fixed, 8), 30)
	descW := w - fixed - barW - 2
	header := fit(th.Muted.Render("Segment"), nameW) + " " + fitRight(th.Muted.Render("Cust."), countW) + " " + fit(th.Muted.Render("Share"), barW)
	if withCLV {
		header += fitRight(th.Muted.Render("⌀ CLV  P(alive)"), valueW)
	}
	if descW >= 24 {
		header += "  " + th.Muted.Render("Who they are")
	}
	lines := []string{fit("  "+header, w)}
	for i, seg := range model.RFMSegments() {
		t := sum.Segments[seg]
		share := 0.0
		if scored > 0 {
			share = float64(t.Customers) / float64(scored)
		}
		line := cursorMark(i == v.sel.pos) + fit(seg.String(), nameW) + " " + fitRight(fmtInt(t.Customers), countW) + " " + chart.Percent(th, share, barW)
		if withCLV {
			val := "–"
			if t.Customers > 0 {
				val = moneyShort(t.CLV/model.Money(t.Customers), d.currency) + "  " + fitRight(fmtPercent(t.PAlive/float64(t.Customers)), 5)
			}
			line += fitRight(val, valueW)
		}
		if descW >= 24 {
			line += "  " + th.Muted.Render(fit(seg.Description(), descW-2))
		}
		if i == v.sel.pos {
			line = th.TableSelected.Render(fit(line, w))
		}
		lines = append(lines, fit(line, w))
	}
	return strings.Join(lines, "\n")
}
