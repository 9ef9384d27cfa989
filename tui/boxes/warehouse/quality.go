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

// qualityCommand computes the report from the command line; the view names
// it beside its own c key.
const qualityCommand = "karton quality"

// maxDrillIDs is how many affected customers a quality drill-down hands to
// the Customers box: a page an operator works through, not an export.
const maxDrillIDs = 1000

// qualityLoadedMsg carries the stored quality report.
type qualityLoadedMsg struct {
	seq uint64
	q   store.QualityOverview
	ok  bool
	err error
}

// qualityComputedMsg reports that a recomputation of the report finished.
type qualityComputedMsg struct {
	q   store.QualityOverview
	err error
}

// issue is one line of the cockpit: a field with a problem (or a record
// level problem), how many customers have it and what drills down to them.
type issue struct {
	field   string // a model.Quality* field, or "" for record problems
	problem string // store.Issue*
	count   int
	fq      *model.FieldQuality
}

// label names the issue for the table and the drill-down's title.
func (is issue) label() string {
	switch is.problem {
	case store.IssueDuplicate:
		return "suspected duplicates"
	case store.IssueNoContactPoint:
		return "no contact point"
	}
	return strings.ReplaceAll(is.field, "_", " ") + " " + is.problem
}

// quality is the data-quality cockpit: the score per source, the fields
// worst first, and the customers behind each figure.
type quality struct {
	c     *common.Context
	ld    loadState
	q     store.QualityOverview
	has   bool // a report was computed at least once
	scope int  // 0: all sources; i: q.Sources[i-1]
	sel   pick
	w, h  int

	computing bool

	compute, open, nextSource, prevSource key.Binding
	drawn                                 string
}

func newQuality(c *common.Context) *quality {
	return &quality{c: c, ld: loadState{task: "warehouse:quality", label: "quality report", slowAfter: slowLoad},
		compute:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "recompute")),
		open:       key.NewBinding(key.WithKeys(c.Keys.Open.Keys()...), key.WithHelp("enter", "affected customers")),
		nextSource: key.NewBinding(key.WithKeys("s"), key.WithHelp("s/S", "next/previous source")),
		prevSource: key.NewBinding(key.WithKeys("S")),
	}
}

func (v *quality) id() string               { return "quality" }
func (v *quality) title() string            { return "Quality" }
func (v *quality) state() *loadState        { return &v.ld }
func (v *quality) setTheme(th *theme.Theme) { v.redraw() }
func (v *quality) setSize(w, h int)         { v.w, v.h = w, h; v.redraw() }
func (v *quality) view() string             { return v.drawn }
func (v *quality) redraw()                  { v.drawn = block(v.render(), v.w, v.h) }

func (v *quality) keys() []key.Binding {
	return []key.Binding{v.open, v.nextSource, v.compute}
}

// affectedBy: the report is a snapshot, rewritten by imports, the analytics
// run and this view; merges change the duplicate count it shows.
func (v *quality) affectedBy(ch []store.Change) bool {
	for _, c := range ch {
		switch c.Kind {
		case store.ChangeBulk, store.ChangeImport, store.ChangeSettings:
			return true
		}
	}
	return false
}

func (v *quality) load() tea.Cmd {
	s, actor := v.c.Store, v.c.Actor
	cmd := v.ld.run(func(seq uint64) tea.Msg {
		m := qualityLoadedMsg{seq: seq}
		m.err = s.View(actor, func(r *store.Reader) error {
			var err error
			m.q, m.ok, err = r.QualitySnapshot()
			return err
		})
		return m
	})
	v.redraw()
	return cmd
}

// recompute runs ComputeQuality (a scan of every customer) as a task in
// the status bar; the store offers no way to stop it half-way, and it
// writes only its snapshot at the end.
func (v *quality) recompute() tea.Cmd {
	if v.computing {
		return nil
	}
	v.computing = true
	v.redraw()
	s, actor := v.c.Store, v.c.Actor
	return tea.Batch(
		func() tea.Msg {
			return common.TaskStartedMsg{ID: "warehouse:quality:compute", Label: "computing data quality"}
		},
		func() tea.Msg {
			q, err := s.ComputeQuality(actor, model.QualityOptions{})
			return qualityComputedMsg{q: q, err: err}
		})
}

func (v *quality) update(msg tea.Msg) tea.Cmd {
	switch m := msg.(type) {
	case loadRanLongMsg:
		return v.ld.ranLong(m)
	case qualityLoadedMsg:
		ok, done := v.ld.accept(m.seq, m.err)
		if !ok {
			return nil
		}
		if m.err != nil {
			v.redraw()
			return tea.Batch(done, common.Fail("read the quality report", m.err))
		}
		v.set(m.q, m.ok)
		return done
	case qualityComputedMsg:
		v.computing = false
		end := func() tea.Msg { return common.TaskEndedMsg{ID: "warehouse:quality:compute"} }
		if m.err != nil {
			v.redraw()
			return tea.Batch(end, common.Fail("compute the quality report", m.err))
		}
		v.set(m.q, true)
		return tea.Batch(end, common.Info(fmt.Sprintf("quality score %.1f / 100", m.q.Overall.Score)))
	case tea.KeyPressMsg:
		return v.key(m)
	}
	return nil
}

func (v *quality) set(q store.QualityOverview, ok bool) {
	v.q, v.has = q, ok
	if v.scope > len(q.Sources) {
		v.scope = 0
	}
	v.sel.clamp(len(v.issues()), v.listRoom())
	v.redraw()
}

func (v *quality) key(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, v.compute):
		return v.recompute()
	case !v.has:
		return nil
	case key.Matches(msg, v.nextSource):
		v.scope = (v.scope + 1) % (len(v.q.Sources) + 1)
		v.sel = pick{}
	case key.Matches(msg, v.prevSource):
		v.scope = (v.scope + len(v.q.Sources)) % (len(v.q.Sources) + 1)
		v.sel = pick{}
	case key.Matches(msg, v.open):
		return v.drill()
	default:
		if !pickKey(v.c.Keys, msg, &v.sel, len(v.issues()), v.listRoom()) {
			return nil
		}
	}
	v.redraw()
	return nil
}

// report is the report of the chosen scope.
func (v *quality) report() model.QualityReport {
	if v.scope > 0 && v.scope <= len(v.q.Sources) {
		return v.q.Sources[v.scope-1].QualityReport
	}
	return v.q.Overall
}

// source is the chosen scope as the store names it ("" for all).
func (v *quality) source() string {
	if v.scope > 0 && v.scope <= len(v.q.Sources) {
		return v.q.Sources[v.scope-1].Source
	}
	return ""
}

// issues lists the problems of the scope: fields worst first (each with
// its missing and its invalid values when there are any), then the
// record-level problems.
func (v *quality) issues() []issue {
	r := v.report()
	var out []issue
	worst := r.Worst()
	for i := range worst {
		f := &worst[i]
		if n := f.Missing(); n > 0 {
			out = append(out, issue{field: f.Field, problem: store.IssueMissing, count: n, fq: f})
		}
		if n := f.Invalid(); n > 0 {
			out = append(out, issue{field: f.Field, problem: store.IssueInvalid, count: n, fq: f})
		}
	}
	if r.Duplicates > 0 {
		out = append(out, issue{problem: store.IssueDuplicate, count: r.Duplicates})
	}
	if r.NoContactPoint > 0 {
		out = append(out, issue{problem: store.IssueNoContactPoint, count: r.NoContactPoint})
	}
	return out
}

// drill reads the customers behind the selected issue (up to maxDrillIDs)
// and opens them in the Customers box.
func (v *quality) drill() tea.Cmd {
	list := v.issues()
	if v.sel.pos >= len(list) {
		return nil
	}
	is := list[v.sel.pos]
	src := v.source()
	s, actor := v.c.Store, v.c.Actor
	return func() tea.Msg {
		ids, more, err := qualityIssueIDs(s, actor, store.QualityIssueQuery{Source: src, Field: is.field, Problem: is.problem}, maxDrillIDs)
		if err != nil {
			return common.ToastMsg{What: "read the customers with " + is.label(), Err: err}
		}
		if len(ids) == 0 {
			return common.ToastMsg{Text: "no customer has " + is.label() + " any more; recompute the report (c)"}
		}
		title := is.label()
		if src != "" {
			title += " · " + src
		}
		if more {
			title += " · first " + fmtInt(int64(len(ids)))
		}
		return drillIDs(ids, title)()
	}
}

// qualityIssueIDs pages through the store's drill-down until it has limit
// customers or the store has no more; each page is its own short read
// transaction.
func qualityIssueIDs(s *store.Store, actor model.Actor, q store.QualityIssueQuery, limit int) (ids []model.CustomerID, more bool, err error) {
	for {
		var page store.QualityIssuePage
		q.Limit = min(limit-len(ids), 1000)
		err = s.View(actor, func(r *store.Reader) error {
			var err error
			page, err = r.QualityIssues(q)
			return err
		})
		if err != nil {
			return ids, false, err
		}
		for i := range page.Customers {
			ids = append(ids, page.Customers[i].ID)
		}
		if !page.More {
			return ids, false, nil
		}
		if len(ids) >= limit {
			return ids, true, nil
		}
		q.After = page.Next
	}
}

// listRoom is the number of issue rows that fit.
func (v *quality) listRoom() int { return max(v.h-7, 1) }

func (v *quality) render() string {
	th := v.c.Theme
	w, h := v.w, v.h
	if w <= 0 || h <= 0 {
		return ""
	}
	if !v.ld.loaded {
		if v.ld.err != nil {
			return th.Bad.Render("Could not read the quality report: "+v.ld.err.Error()) + "\n" + th.Muted.Render("Press r to try again.")
		}
		return th.Muted.Render("Reading the quality report…")
	}
	if !v.has {
		lines := []string{
			th.Title.Render("Data quality"), "",
			"No quality report has been computed for this store yet.", "",
			"Press " + th.Accent.Render("c") + " to compute it now (one pass over every customer), or run",
			"", "    " + th.Accent.Render(qualityCommand), "",
			th.Muted.Render("Imports and the analytics run refresh it as well."),
		}
		if v.computing {
			lines[2] = th.Accent.Render("Computing the quality report…")
		}
		return strings.Join(lines, "\n")
	}
	r := v.report()
	scope := "all sources"
	if s := v.source(); s != "" {
		scope = "source " + s
	}
	head := th.Title.Render("Data quality") + th.Muted.Render(" · "+scope)
	when := th.Muted.Render("computed " + fmtWhen(v.q.ComputedAt))
	if v.computing {
		when = th.Accent.Render("recomputing… ") + when
	}
	score := th.Accent.Render(fmt.Sprintf("Score %.1f / 100", r.Score))
	detail := th.Muted.Render(fmt.Sprintf("complete %s · valid %s · %s records · %s suspected duplicates · %s without contact point",
		fmtPercent(r.Completeness), fmtPercent(r.Validity), fmtInt(int64(r.Records)), fmtInt(int64(r.Duplicates)), fmtInt(int64(r.NoContactPoint))))
	lines := []string{joinEnds(head, when, w)}
	if widthOf(score)+3+widthOf(detail) <= w {
		lines = append(lines, score+"   "+detail, "")
	} else {
		lines = append(lines, fit(score, w), fit(detail, w), "")
	}
	bodyH := h - len(lines)
	if w >= 100 {
		leftW := min(max(w/3, 34), 56)
		rightW := w - leftW - chartGap
		body := joinColumns([]string{
			block(v.issueTable(rightW, bodyH), rightW, bodyH),
			block(v.sourceBars(leftW), leftW, bodyH),
		}, chartGap)
		lines = append(lines, body)
	} else {
		lines = append(lines, v.issueTable(w, bodyH))
	}
	return strings.Join(lines, "\n")
}

// issueTable lists the scope's problems, worst fields first.
func (v *quality) issueTable(w, h int) string {
	th := v.c.Theme
	list := v.issues()
	if len(list) == 0 {
		return th.Good.Render("Nothing to fix: every checked field is present and valid.")
	}
	const probW, countW, pctW = 24, 9, 9
	r := v.report()
	barW := max(w-2-probW-countW-2*pctW-4, 6)
	head := "  " + fit(th.Muted.Render("Worst first"), probW) + fitRight(th.Muted.Render("Customers"), countW) + " " +
		fit(th.Muted.Render("Share of records"), barW) + " " + fitRight(th.Muted.Render("Complete"), pctW) + " " + fitRight(th.Muted.Render("Valid"), pctW)
	lines := []string{fit(head, w)}
	room := max(h-2, 1)
	v.sel.clamp(len(list), room)
	for i := v.sel.top; i < len(list) && i < v.sel.top+room; i++ {
		is := list[i]
		share := 0.0
		if r.Records > 0 {
			share = float64(is.count) / float64(r.Records)
		}
		comp, valid := "", ""
		if is.fq != nil {
			comp, valid = fmtPercent(is.fq.Completeness), fmtPercent(is.fq.Validity)
			if is.fq.Rejected > 0 && is.problem == store.IssueInvalid {
				valid += "*"
			}
		}
		line := cursorMark(i == v.sel.pos) + fit(is.label(), probW) + fitRight(fmtInt(int64(is.count)), countW) + " " +
			chart.Percent(th, share, barW) + " " + fitRight(comp, pctW) + " " + fitRight(valid, pctW)
		if i == v.sel.pos {
			line = th.TableSelected.Render(fit(line, w))
		}
		lines = append(lines, fit(line, w))
	}
	foot := "enter: the customers behind the selected line"
	if hasRejected(r) {
		foot += " · * counts values rejected at import"
	}
	lines = append(lines, th.Muted.Render(fit(foot, w)))
	return strings.Join(lines, "\n")
}

func hasRejected(r model.QualityReport) bool {
	for _, f := range r.Fields {
		if f.Rejected > 0 {
			return true
		}
	}
	return false
}

// sourceBars is the score of every source, the chosen one marked.
func (v *quality) sourceBars(w int) string {
	th := v.c.Theme
	bars := []chart.Bar{{Label: mark(v.scope == 0) + "all sources", Value: v.q.Overall.Score, Display: score1(v.q.Overall.Score)}}
	for i, s := range v.q.Sources {
		bars = append(bars, chart.Bar{Label: mark(v.scope == i+1) + s.Source, Value: s.Score, Display: score1(s.Score)})
	}
	return th.Title.Render("Score per source") + th.Muted.Render(" · s/S choose") + "\n" + chart.Bars(th, bars, w)
}

func mark(on bool) string {
	if on {
		return "▸"
	}
	return " "
}

func score1(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
