package warehouse

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/confirm"
	"karton/tui/theme"
)

// mergePage is how many open suggestions the view reads at once; after a
// merge or dismissal the list is read again from the start.
const mergePage = 200

// pair is one merge suggestion with both records as the actor may see them
// (masked for roles without access to personal data: the Reader masks).
type pair struct {
	s    store.MergeSuggestion
	a, b model.Customer
	// keepB makes B the survivor; by default the record with more data
	// survives, the older one on a tie.
	keepB bool
}

// survivor and absorbed are the records in the merge the pair would make.
func (p *pair) survivor() *model.Customer {
	if p.keepB {
		return &p.b
	}
	return &p.a
}

func (p *pair) absorbed() *model.Customer {
	if p.keepB {
		return &p.a
	}
	return &p.b
}

// mergesLoadedMsg carries a page of suggestions.
type mergesLoadedMsg struct {
	seq   uint64
	pairs []pair
	open  int64
	err   error
}

// mergeDoneMsg reports a merge or a dismissal.
type mergeDoneMsg struct {
	what string // "merge" or "dismiss"
	a, b model.CustomerID
	res  store.MergeResult
	err  error
}

// merges lists the merge suggestions with both records side by side. An
// operator may merge (choosing the survivor) or dismiss; roles that may
// not edit customers see the list without those actions.
type merges struct {
	c     *common.Context
	ld    loadState
	pairs []pair
	open  int64
	sel   pick
	w, h  int

	dialog  *confirm.Dialog
	pending *pair // the pair the open dialog asks about
	busy    bool  // a merge or dismissal is being written

	merge, dismiss, swap key.Binding
	drawn                string
}

func newMerges(c *common.Context) *merges {
	return &merges{c: c, ld: loadState{task: "warehouse:merges", label: "merge suggestions", slowAfter: slowLoad},
		dialog:  confirm.New(c.Theme, c.Keys),
		merge:   key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "merge")),
		dismiss: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "dismiss")),
		swap:    key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "swap survivor")),
	}
}

func (v *merges) id() string        { return "merges" }
func (v *merges) title() string     { return "Merges" }
func (v *merges) state() *loadState { return &v.ld }
func (v *merges) setTheme(th *theme.Theme) {
	v.dialog.SetTheme(th)
	v.redraw()
}
func (v *merges) setSize(w, h int) { v.w, v.h = w, h; v.dialog.SetSize(w, h); v.redraw() }
func (v *merges) view() string     { return v.drawn }
func (v *merges) capturing() bool  { return v.dialog.Active() }

// canEdit says whether the actor may merge and dismiss (the store refuses
// others anyway; the screen does not offer it).
func (v *merges) canEdit() bool { return v.c.Can(model.PermEditCustomers) }

func (v *merges) keys() []key.Binding {
	if v.dialog.Active() {
		return v.dialog.ShortHelp()
	}
	if !v.canEdit() || len(v.pairs) == 0 {
		return nil
	}
	return []key.Binding{v.merge, v.swap, v.dismiss}
}

func (v *merges) affectedBy(ch []store.Change) bool {
	for _, c := range ch {
		switch c.Kind {
		case store.ChangeCustomer, store.ChangeImport, store.ChangeBulk:
			return true
		}
	}
	return false
}

func (v *merges) load() tea.Cmd {
	s, actor := v.c.Store, v.c.Actor
	cmd := v.ld.run(func(seq uint64) tea.Msg {
		m := mergesLoadedMsg{seq: seq}
		m.err = s.View(actor, func(r *store.Reader) error {
			m.open = r.OpenSuggestions()
			list, err := r.MergeSuggestions(0, 0, mergePage, false)
			if err != nil {
				return err
			}
			for _, sg := range list {
				p := pair{s: sg}
				if p.a, err = r.Customer(sg.A); err != nil {
					return fmt.Errorf("customer %d of a suggestion: %w", sg.A, err)
				}
				if p.b, err = r.Customer(sg.B); err != nil {
					return fmt.Errorf("customer %d of a suggestion: %w", sg.B, err)
				}
				p.keepB = filled(&p.b) > filled(&p.a)
				m.pairs = append(m.pairs, p)
			}
			return nil
		})
		return m
	})
	v.redraw()
	return cmd
}

// filled counts the fields a record holds, to pick the default survivor.
func filled(c *model.Customer) int {
	n := 0
	for _, s := range []string{c.FirstName, c.LastName, c.Company, c.Email, c.Phone, c.Address.Street, c.Address.PostalCode, c.Address.City} {
		if s != "" {
			n++
		}
	}
	if !c.BirthDate.IsZero() {
		n++
	}
	return n + c.PurchaseCount
}

func (v *merges) update(msg tea.Msg) tea.Cmd {
	switch m := msg.(type) {
	case loadRanLongMsg:
		return v.ld.ranLong(m)
	case mergesLoadedMsg:
		ok, done := v.ld.accept(m.seq, m.err)
		if !ok {
			return nil
		}
		if m.err != nil {
			v.redraw()
			return tea.Batch(done, common.Fail("read the merge suggestions", m.err))
		}
		v.pairs, v.open = m.pairs, m.open
		v.sel.clamp(len(v.pairs), v.listRoom())
		v.redraw()
		return done
	case confirm.AnsweredMsg:
		if !strings.HasPrefix(m.ID, "warehouse:merge:") || v.pending == nil {
			return nil
		}
		p := *v.pending
		v.pending = nil
		v.redraw()
		if !m.Confirmed {
			return nil
		}
		return v.write(p, true)
	case mergeDoneMsg:
		v.busy = false
		if m.err != nil {
			v.redraw()
			return common.Fail(m.what+" customers "+m.a.String()+" and "+m.b.String(), m.err)
		}
		var note string
		if m.what == "merge" {
			note = fmt.Sprintf("merged %s into %s: %d purchases, %d interactions, %d consent events moved",
				m.res.Absorbed, m.res.Survivor, m.res.Purchases, m.res.Interactions, m.res.ConsentEvents)
		} else {
			note = fmt.Sprintf("dismissed: %s and %s are different people", m.a, m.b)
		}
		return tea.Batch(common.Info(note), v.load())
	case tea.KeyPressMsg:
		if v.dialog.Active() {
			cmd := v.dialog.Update(m)
			v.redraw()
			return cmd
		}
		return v.key(m)
	}
	return nil
}

func (v *merges) key(msg tea.KeyPressMsg) tea.Cmd {
	if pickKey(v.c.Keys, msg, &v.sel, len(v.pairs), v.listRoom()) {
		v.redraw()
		return nil
	}
	if !v.canEdit() || v.busy || v.sel.pos >= len(v.pairs) {
		return nil
	}
	p := &v.pairs[v.sel.pos]
	switch {
	case key.Matches(msg, v.swap):
		p.keepB = !p.keepB
	case key.Matches(msg, v.merge):
		v.pending = p
		keep, gone := p.survivor(), p.absorbed()
		v.dialog.Open(confirm.Prompt{
			ID:    fmt.Sprintf("warehouse:merge:%d:%d", gone.ID, keep.ID),
			Title: fmt.Sprintf("Merge %s into %s?", gone.ID, keep.ID),
			Body: fmt.Sprintf("%s (%s) keeps its data and takes over the empty fields, purchases, interactions, consent history and source ids of %s (%s), which is removed. This cannot be undone. (s swaps the survivor.)",
				keep.ID, keep.DisplayName(), gone.ID, gone.DisplayName()),
			Yes: "Merge", No: "Cancel", Danger: true,
		})
	case key.Matches(msg, v.dismiss):
		return v.write(*p, false)
	default:
		return nil
	}
	v.redraw()
	return nil
}

// write merges or dismisses the pair in one store transaction.
func (v *merges) write(p pair, merge bool) tea.Cmd {
	v.busy = true
	v.redraw()
	s, actor := v.c.Store, v.c.Actor
	keep, gone := p.survivor().ID, p.absorbed().ID
	a, b := p.s.A, p.s.B
	return func() tea.Msg {
		if !merge {
			err := s.Update(actor, func(t *store.Tx) error { return t.DismissSuggestion(a, b) })
			return mergeDoneMsg{what: "dismiss", a: a, b: b, err: err}
		}
		var res store.MergeResult
		err := s.Update(actor, func(t *store.Tx) error {
			var err error
			res, err = t.MergeCustomers(keep, gone)
			return err
		})
		return mergeDoneMsg{what: "merge", a: keep, b: gone, res: res, err: err}
	}
}

func (v *merges) listRoom() int {
	if v.w < 100 {
		return max((v.h-2)/3, 1)
	}
	return max(v.h-3, 1)
}

func (v *merges) redraw() {
	body := block(v.render(), v.w, v.h)
	if v.dialog.Active() {
		d := v.dialog.View()
		body = lipgloss.Place(v.w, v.h, lipgloss.Center, lipgloss.Center, d)
		x := max((v.w-lipgloss.Width(d))/2, 0)
		y := max((v.h-lipgloss.Height(d))/2, 0)
		v.dialog.SetOrigin(x, y+bodyTop+1)
	}
	v.drawn = body
}

func (v *merges) render() string {
	th := v.c.Theme
	w, h := v.w, v.h
	if w <= 0 || h <= 0 {
		return ""
	}
	if !v.ld.loaded {
		if v.ld.err != nil {
			return th.Bad.Render("Could not read the merge suggestions: "+v.ld.err.Error()) + "\n" + th.Muted.Render("Press r to try again.")
		}
		return th.Muted.Render("Reading the merge suggestions…")
	}
	head := th.Title.Render("Merge suggestions") + th.Muted.Render(" · "+fmtInt(v.open)+" open")
	if len(v.pairs) == 0 {
		return strings.Join([]string{fit(head, w), "", "No open merge suggestions.", "",
			th.Muted.Render("Imports suggest look-alikes (same name and postcode or birth date, a shared phone);"),
			th.Muted.Render("`karton merge rescan` compares all customers.")}, "\n")
	}
	note := th.Muted.Render("customers who may be one person; never merged without you")
	switch {
	case v.busy:
		note = th.Accent.Render("writing…")
	case !v.canEdit():
		note = th.Muted.Render("read-only: your role may not merge customers")
	case int64(len(v.pairs)) < v.open:
		note = th.Muted.Render("showing the first " + fmtInt(int64(len(v.pairs))))
	}
	lines := []string{fit(head, w), fit(note, w), ""}
	bodyH := h - len(lines)
	if w >= 100 {
		listW := min(max(w*2/5, 40), 60)
		cmpW := w - listW - chartGap
		lines = append(lines, joinColumns([]string{
			block(v.list(listW, bodyH), listW, bodyH),
			block(v.compare(cmpW), cmpW, bodyH),
		}, chartGap))
	} else {
		listH := min(max(bodyH/3, 3), len(v.pairs)+1)
		lines = append(lines, block(v.list(w, listH), w, listH), v.compare(w))
	}
	return strings.Join(lines, "\n")
}

// list is one line per suggestion: both names and the reason.
func (v *merges) list(w, h int) string {
	th := v.c.Theme
	room := max(h-1, 1)
	v.sel.clamp(len(v.pairs), room)
	lines := []string{fit(th.Muted.Render("  Pair · why"), w)}
	for i := v.sel.top; i < len(v.pairs) && i < v.sel.top+room; i++ {
		p := &v.pairs[i]
		line := cursorMark(i == v.sel.pos) + p.a.DisplayName() + " ↔ " + p.b.DisplayName() + th.Muted.Render(" · "+p.s.Reasons.String())
		if i == v.sel.pos {
			line = th.TableSelected.Render(fit(line, w))
		}
		lines = append(lines, fit(line, w))
	}
	return strings.Join(lines, "\n")
}

// compare shows the selected pair's records side by side, survivor
// marked, fields that differ highlighted.
func (v *merges) compare(w int) string {
	th := v.c.Theme
	if v.sel.pos >= len(v.pairs) {
		return ""
	}
	p := &v.pairs[v.sel.pos]
	const labelW = 12
	colW := max((w-labelW-2)/2, 8)
	role := func(c *model.Customer) string {
		if c == p.survivor() {
			return "survives"
		}
		return "absorbed"
	}
	row := func(label, a, b string) string {
		sa, sb := fit(a, colW), fit(b, colW)
		if a != b {
			sa, sb = th.Warn.Render(sa), th.Warn.Render(sb)
		}
		return fit(th.Muted.Render(fit(label, labelW))+sa+"  "+sb, w)
	}
	lines := []string{
		fit(th.Title.Render("Why: ")+p.s.Reasons.String(), w),
		fit(th.Muted.Render(fit("", labelW))+th.Accent.Render(fit(p.a.ID.String()+" · "+role(&p.a), colW))+"  "+th.Accent.Render(fit(p.b.ID.String()+" · "+role(&p.b), colW)), w),
	}
	for _, f := range compareFields {
		lines = append(lines, row(f.label, f.get(&p.a, v.currency()), f.get(&p.b, v.currency())))
	}
	if v.canEdit() {
		lines = append(lines, "", th.Muted.Render(fit("m merge (asks first) · s swap which record survives · d dismiss: different people", w)))
	}
	return strings.Join(lines, "\n")
}

func (v *merges) currency() string {
	if c := v.c.Store.Settings().Currency; c != "" {
		return c
	}
	return model.DefaultCurrency
}

// compareFields are the rows of the side-by-side comparison.
var compareFields = []struct {
	label string
	get   func(c *model.Customer, currency string) string
}{
	{"name", func(c *model.Customer, _ string) string { return c.DisplayName() }},
	{"email", func(c *model.Customer, _ string) string { return c.Email }},
	{"phone", func(c *model.Customer, _ string) string { return c.Phone }},
	{"street", func(c *model.Customer, _ string) string { return c.Address.Street }},
	{"place", func(c *model.Customer, _ string) string {
		return strings.TrimSpace(c.Address.PostalCode + " " + c.Address.City + " " + c.Address.Country)
	}},
	{"born", func(c *model.Customer, _ string) string {
		if c.BirthDate.IsZero() {
			return ""
		}
		return c.BirthDate.String()
	}},
	{"sources", func(c *model.Customer, _ string) string {
		parts := make([]string, len(c.Sources))
		for i, s := range c.Sources {
			parts[i] = s.Source + ":" + s.ExternalID
		}
		return strings.Join(parts, " ")
	}},
	{"purchases", func(c *model.Customer, cur string) string {
		return fmt.Sprintf("%d · %s", c.PurchaseCount, c.Revenue.FormatShort(cur))
	}},
	{"created", func(c *model.Customer, _ string) string { return c.CreatedAt.UTC().Format("2006-01-02") }},
}
