package warehouse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/store/importer"
	"karton/tui/common"
	"karton/tui/components/chart"
	"karton/tui/theme"
)

// The import wizard's steps.
type wizStep uint8

const (
	stepFile    wizStep = iota // choose file, entity and source
	stepPreview                // detected format and mapping, first rows
	stepRunning                // a dry run or the import, with progress
	stepDone                   // the batch report
)

// previewRows is how many rows the preview converts.
const previewRows = 8

// wizTask names the running import in the status bar.
const wizTask = "warehouse:import"

// Wizard messages. run numbers each dry run or import so a late progress
// report of an earlier run is dropped.
type (
	planLoadedMsg struct {
		seq  uint64
		plan *importer.Plan
		err  error
	}
	importProgressMsg struct {
		run uint64
		p   importer.Progress
	}
	importFinishedMsg struct {
		run     uint64
		b       store.ImportBatch
		err     error
		quality error // refreshing the quality report after the import
	}
)

// wizard is the Import view: pick a file, preview how it will be read and
// mapped, adjust the mapping, dry run, then import with a progress bar
// (esc cancels between transactions; every row is written whole or not at
// all, and importing the file again completes a cancelled import).
type wizard struct {
	c    *common.Context
	step wizStep
	w, h int

	// The file step's inputs; focus is the index of the focused one, or
	// -1 when none has the keyboard (so ←/→ still switch views).
	path, source textinput.Model
	entity       int // index into store.ImportEntities
	focus        int

	// The mapping the user adjusted, applied on top of detection.
	maps    []importer.MapSpec
	planSeq uint64
	plan    *importer.Plan
	planErr error
	sel     pick
	editing bool // the selected column's mapping is being typed
	mapping textinput.Model

	run      uint64
	dry      bool
	cancel   context.CancelFunc
	progress importer.Progress
	batch    store.ImportBatch
	runErr   error
	ld       loadState // unused by loads; the subview interface wants one

	kStart, kEdit, kDry, kRun, kBack, kNew key.Binding
	drawn                                  string
}

func newWizard(c *common.Context) *wizard {
	v := &wizard{c: c, focus: -1, ld: loadState{loaded: true}}
	v.path = textinput.New()
	v.path.Prompt = "File    "
	v.path.Placeholder = "path of a CSV or JSON Lines file, e.g. testdata/import/customers_bom.csv"
	v.source = textinput.New()
	v.source.Prompt = "Source  "
	v.source.Placeholder = "the system it comes from: shop, crm, newsletter … (default import)"
	v.mapping = textinput.New()
	v.mapping.Prompt = "field[:hint] or - to ignore: "
	v.setInputStyles(c.Theme)
	v.kStart = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "edit / preview"))
	v.kEdit = key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "map column"))
	v.kDry = key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "dry run"))
	v.kRun = key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "import"))
	v.kBack = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back / cancel"))
	v.kNew = key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new import"))
	return v
}

func (v *wizard) setInputStyles(th *theme.Theme) {
	for _, in := range []*textinput.Model{&v.path, &v.source, &v.mapping} {
		in.SetStyles(th.TextInput())
	}
}

func (v *wizard) id() string                     { return "import" }
func (v *wizard) title() string                  { return "Import" }
func (v *wizard) state() *loadState              { return &v.ld }
func (v *wizard) load() tea.Cmd                  { return nil }
func (v *wizard) affectedBy([]store.Change) bool { return false }
func (v *wizard) setTheme(th *theme.Theme)       { v.setInputStyles(th); v.redraw() }
func (v *wizard) view() string                   { return v.drawn }
func (v *wizard) redraw()                        { v.drawn = block(v.render(), v.w, v.h) }

func (v *wizard) setSize(w, h int) {
	v.w, v.h = w, h
	for _, in := range []*textinput.Model{&v.path, &v.source, &v.mapping} {
		in.SetWidth(max(w-lenRunes(in.Prompt)-4, 10))
	}
	v.redraw()
}

func lenRunes(s string) int { return len([]rune(s)) }

// capturing: typed text, and a running import (esc cancels it rather than
// anything of the frame).
func (v *wizard) capturing() bool {
	return v.focus >= 0 || v.editing || v.step == stepRunning
}

func (v *wizard) keys() []key.Binding {
	switch v.step {
	case stepFile:
		return []key.Binding{v.kStart, v.kBack}
	case stepPreview:
		return []key.Binding{v.kEdit, v.kDry, v.kRun, v.kBack}
	case stepRunning:
		return []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))}
	}
	return []key.Binding{v.kRun, v.kNew, v.kBack}
}

// options are the importer's options for the current choices.
func (v *wizard) options() importer.Options {
	src := strings.TrimSpace(v.source.Value())
	if src == "" {
		src = "import"
	}
	return importer.Options{Entity: store.ImportEntities[v.entity], Source: src, Map: slices.Clone(v.maps)}
}

// inspect reads the plan for the file with the current mapping.
func (v *wizard) inspect() tea.Cmd {
	v.planSeq++
	seq, s, actor := v.planSeq, v.c.Store, v.c.Actor
	path, opts := strings.TrimSpace(v.path.Value()), v.options()
	return func() tea.Msg {
		src, err := importer.FileSource(path)
		if err != nil {
			return planLoadedMsg{seq: seq, err: err}
		}
		plan, err := importer.Inspect(s, actor, src, opts, previewRows)
		return planLoadedMsg{seq: seq, plan: plan, err: err}
	}
}

// start runs a dry run or the import under a context the user (esc) or
// the session can end. Progress arrives through a channel the view reads
// one message at a time; the run closes it when done.
func (v *wizard) start(dry bool) tea.Cmd {
	v.run++
	v.step, v.dry, v.progress, v.runErr, v.batch = stepRunning, dry, importer.Progress{}, nil, store.ImportBatch{}
	parent := v.c.Ctx
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	v.cancel = cancel
	run, s, actor := v.run, v.c.Store, v.c.Actor
	path, opts := strings.TrimSpace(v.path.Value()), v.options()
	opts.DryRun = dry
	ch := make(chan importProgressMsg, 8)
	opts.Progress = func(p importer.Progress) {
		select {
		case ch <- importProgressMsg{run: run, p: p}:
		default: // the screen is behind; the next report will do
		}
	}
	label := "importing " + string(opts.Entity)
	if dry {
		label = "dry run of " + string(opts.Entity)
	}
	work := func() tea.Msg {
		defer close(ch)
		defer cancel()
		src, err := importer.FileSource(path)
		if err != nil {
			return importFinishedMsg{run: run, err: err}
		}
		b, err := importer.Run(ctx, s, actor, src, opts)
		m := importFinishedMsg{run: run, b: b, err: err}
		if err == nil && !b.DryRun && b.Written() > 0 {
			// Keep the quality figures current, as `karton import` does.
			_, m.quality = s.ComputeQuality(actor, model.QualityOptions{})
		}
		return m
	}
	v.redraw()
	return tea.Batch(
		func() tea.Msg { return common.TaskStartedMsg{ID: wizTask, Label: label} },
		work,
		waitProgress(ch),
	)
}

// waitProgress returns the next progress report, or nil once the run
// closed the channel.
func waitProgress(ch chan importProgressMsg) tea.Cmd {
	return func() tea.Msg {
		m, ok := <-ch
		if !ok {
			return nil
		}
		return progressWithNext{m: m, next: waitProgress(ch)}
	}
}

// progressWithNext carries a report and the command that waits for the
// next one.
type progressWithNext struct {
	m    importProgressMsg
	next tea.Cmd
}

func (v *wizard) update(msg tea.Msg) tea.Cmd {
	switch m := msg.(type) {
	case planLoadedMsg:
		if m.seq != v.planSeq {
			return nil
		}
		if m.err != nil {
			v.planErr = m.err
			v.step = stepFile
			v.redraw()
			return common.Fail("read "+strings.TrimSpace(v.path.Value()), m.err)
		}
		v.plan, v.planErr, v.step = m.plan, nil, stepPreview
		v.sel.clamp(len(v.plan.Columns), v.columnRoom())
		v.redraw()
		return nil
	case progressWithNext:
		if m.m.run == v.run && v.step == stepRunning {
			v.progress = m.m.p
			v.redraw()
			pct := fmt.Sprintf("%s %.0f%%", m.m.p.Phase, 100*m.m.p.Fraction())
			return tea.Batch(m.next, func() tea.Msg { return common.TaskProgressMsg{ID: wizTask, Label: pct} })
		}
		return m.next
	case importFinishedMsg:
		if m.run != v.run {
			return nil
		}
		v.cancel = nil
		v.step, v.batch, v.runErr = stepDone, m.b, m.err
		v.redraw()
		end := func() tea.Msg { return common.TaskEndedMsg{ID: wizTask} }
		switch {
		case m.err != nil && errors.Is(m.err, context.Canceled):
			return tea.Batch(end, common.Info("import cancelled: what was written stays; importing the file again completes it"))
		case m.err != nil:
			return tea.Batch(end, common.Fail("import "+v.batch.File, m.err))
		case m.quality != nil:
			return tea.Batch(end, common.Fail("refresh the quality report after the import", m.quality))
		case m.b.DryRun:
			return tea.Batch(end, common.Info(fmt.Sprintf("dry run: %d rows would be written, %d rejected; nothing written", m.b.Written(), m.b.Rejected)))
		}
		return tea.Batch(end, common.Info(fmt.Sprintf("batch %d: %d created, %d updated, %d rejected", m.b.ID, m.b.Created, m.b.Updated+m.b.Merged, m.b.Rejected)))
	case tea.KeyPressMsg:
		cmd := v.key(m)
		v.redraw()
		return cmd
	}
	return nil
}

func (v *wizard) key(msg tea.KeyPressMsg) tea.Cmd {
	km := v.c.Keys
	switch v.step {
	case stepFile:
		return v.fileKey(msg)
	case stepPreview:
		if v.editing {
			return v.mapKey(msg)
		}
		switch {
		case key.Matches(msg, v.kBack):
			v.step = stepFile
		case key.Matches(msg, v.kEdit):
			if v.plan != nil && v.sel.pos < len(v.plan.Columns) {
				col := v.plan.Columns[v.sel.pos]
				v.editing = true
				val := col.Field
				if col.Hint != "" {
					val += ":" + col.Hint
				}
				v.mapping.SetValue(val)
				v.mapping.CursorEnd()
				return v.mapping.Focus()
			}
		case key.Matches(msg, v.kDry):
			if v.plan != nil && v.plan.Problem == "" {
				return v.start(true)
			}
			return common.Info("fix the mapping first: " + v.plan.Problem)
		case key.Matches(msg, v.kRun):
			if v.plan != nil && v.plan.Problem == "" {
				return v.start(false)
			}
			return common.Info("fix the mapping first: " + v.plan.Problem)
		default:
			if v.plan != nil {
				pickKey(km, msg, &v.sel, len(v.plan.Columns), v.columnRoom())
			}
		}
	case stepRunning:
		if key.Matches(msg, v.kBack) && v.cancel != nil {
			v.cancel()
		}
	case stepDone:
		switch {
		case key.Matches(msg, v.kRun) && v.batch.DryRun && v.runErr == nil:
			return v.start(false)
		case key.Matches(msg, v.kBack):
			v.step = stepPreview
			return v.inspect()
		case key.Matches(msg, v.kNew):
			v.step, v.plan, v.maps = stepFile, nil, nil
		}
	}
	return nil
}

// fileKey handles the file step: enter focuses the first input, then
// moves on and finally reads the preview; ←/→ choose the entity; esc
// leaves the inputs.
func (v *wizard) fileKey(msg tea.KeyPressMsg) tea.Cmd {
	km := v.c.Keys
	if v.focus < 0 {
		switch {
		case key.Matches(msg, v.kStart), key.Matches(msg, km.Edit):
			v.focus = 0
			return v.path.Focus()
		}
		return nil
	}
	switch {
	case key.Matches(msg, v.kBack):
		v.blur()
		return nil
	case msg.String() == "tab" || msg.String() == "down":
		return v.focusOn((v.focus + 1) % 3)
	case msg.String() == "shift+tab" || msg.String() == "up":
		return v.focusOn((v.focus + 2) % 3)
	case msg.String() == "enter":
		if v.focus < 2 {
			return v.focusOn(v.focus + 1)
		}
		if strings.TrimSpace(v.path.Value()) == "" {
			return v.focusOn(0)
		}
		v.blur()
		v.maps = nil
		return v.inspect()
	}
	if v.focus == 1 {
		n := len(store.ImportEntities)
		switch msg.String() {
		case "left", "h":
			v.entity = (v.entity + n - 1) % n
		case "right", "l", " ":
			v.entity = (v.entity + 1) % n
		}
		return nil
	}
	var cmd tea.Cmd
	if v.focus == 0 {
		v.path, cmd = v.path.Update(msg)
	} else {
		v.source, cmd = v.source.Update(msg)
	}
	return cmd
}

func (v *wizard) focusOn(i int) tea.Cmd {
	v.blur()
	v.focus = i
	switch i {
	case 0:
		return v.path.Focus()
	case 2:
		return v.source.Focus()
	}
	return nil
}

func (v *wizard) blur() {
	v.path.Blur()
	v.source.Blur()
	v.focus = -1
}

// mapKey edits the selected column's mapping; enter applies it and reads
// the preview again.
func (v *wizard) mapKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		v.editing = false
		v.mapping.Blur()
		return nil
	case "enter":
		v.editing = false
		v.mapping.Blur()
		col := v.plan.Columns[v.sel.pos]
		spec, err := importer.ParseMap(strconv.Itoa(col.Index+1) + "=" + strings.TrimSpace(v.mapping.Value()))
		if err != nil {
			return common.Fail("map column "+col.Header, err)
		}
		v.maps = slices.DeleteFunc(v.maps, func(m importer.MapSpec) bool { return m.Column == spec.Column })
		v.maps = append(v.maps, spec)
		return v.inspect()
	}
	var cmd tea.Cmd
	v.mapping, cmd = v.mapping.Update(msg)
	return cmd
}

func (v *wizard) columnRoom() int { return max((v.h-8)/2, 3) }

func (v *wizard) render() string {
	th := v.c.Theme
	w, h := v.w, v.h
	if w <= 0 || h <= 0 {
		return ""
	}
	steps := []string{"1 file", "2 preview & mapping", "3 dry run / import", "4 report"}
	var crumbs []string
	for i, s := range steps {
		if wizStep(i) == v.step {
			crumbs = append(crumbs, th.Accent.Render(s))
		} else {
			crumbs = append(crumbs, th.Muted.Render(s))
		}
	}
	head := joinEnds(th.Title.Render("Import"), strings.Join(crumbs, th.Muted.Render(" › ")), w)
	var body string
	switch v.step {
	case stepFile:
		body = v.renderFile(w)
	case stepPreview:
		body = v.renderPreview(w, h-2)
	case stepRunning:
		body = v.renderRunning(w)
	case stepDone:
		body = v.renderDone(w, h-2)
	}
	return head + "\n\n" + body
}

func (v *wizard) renderFile(w int) string {
	th := v.c.Theme
	var ents []string
	for i, e := range store.ImportEntities {
		if i == v.entity {
			ents = append(ents, th.Accent.Render("["+string(e)+"]"))
		} else {
			ents = append(ents, th.Muted.Render(" "+string(e)+" "))
		}
	}
	entLine := "Entity  " + strings.Join(ents, " ")
	if v.focus == 1 {
		entLine += th.Muted.Render("   ←/→ choose")
	}
	lines := []string{fit(v.path.View(), w), fit(entLine, w), fit(v.source.View(), w), ""}
	if v.focus < 0 {
		lines = append(lines, th.Muted.Render("enter: fill in the form · tab/↑/↓ move between fields · enter on the last reads a preview · esc leaves the form"))
	} else {
		lines = append(lines, th.Muted.Render("tab/↑/↓ move · enter next / preview · esc leave the form"))
	}
	if v.planErr != nil {
		lines = append(lines, "", th.Bad.Render(fit("Cannot read the file: "+v.planErr.Error(), w)))
	}
	lines = append(lines, "", th.Muted.Render("CSV (, ; tab | or spaces) or JSON Lines; UTF-8, UTF-16, Windows-1252 or ISO-8859-1; English and German"),
		th.Muted.Render("headers map themselves. Nothing is written before the last step; a dry run checks every row against the store."))
	return strings.Join(lines, "\n")
}

func (v *wizard) renderPreview(w, h int) string {
	th := v.c.Theme
	p := v.plan
	if p == nil {
		return th.Muted.Render("Reading the file…")
	}
	info := fmt.Sprintf("%s · %s · %s", p.File, p.Format, p.Encoding)
	if p.Delimiter != "" {
		info += " · delimiter " + p.Delimiter
	}
	if p.Header {
		info += " · header row"
	}
	info += " · " + string(p.Entity) + " into source " + v.options().Source
	lines := []string{fit(th.Accent.Render(info), w)}
	if p.Problem != "" {
		lines = append(lines, fit(th.Bad.Render("Problem: "+p.Problem+" — select a column and press e to map it"), w))
	}
	const numW, headW, fieldW, hintW = 4, 22, 22, 6
	lines = append(lines, "", fit("  "+fitRight(th.Muted.Render("#"), numW)+"  "+fit(th.Muted.Render("Column"), headW)+fit(th.Muted.Render("Field"), fieldW)+fit(th.Muted.Render("Hint"), hintW)+th.Muted.Render("Chosen by"), w))
	room := v.columnRoom()
	v.sel.clamp(len(p.Columns), room)
	for i := v.sel.top; i < len(p.Columns) && i < v.sel.top+room; i++ {
		c := p.Columns[i]
		field, by := c.Field, c.By
		if field == "" {
			field, by = th.Muted.Render("(ignored)"), ""
		}
		line := cursorMark(i == v.sel.pos) + fitRight(strconv.Itoa(c.Index+1), numW) + "  " + fit(c.Header, headW) + fit(field, fieldW) + fit(c.Hint, hintW) + th.Muted.Render(by)
		if i == v.sel.pos {
			line = th.TableSelected.Render(fit(line, w))
		}
		lines = append(lines, fit(line, w))
	}
	if v.editing {
		lines = append(lines, fit(v.mapping.View(), w))
	}
	lines = append(lines, "", th.Title.Render("First rows as they would be imported"))
	for _, r := range p.Rows {
		if len(lines) >= h-1 {
			break
		}
		if r.Problem != "" {
			lines = append(lines, fit(th.Bad.Render(fmt.Sprintf("line %d rejected: %s", r.Line, r.Problem)), w))
			continue
		}
		var parts []string
		for _, c := range p.Columns {
			if val, ok := r.Values[c.Field]; ok && c.Field != "" && val != "" {
				parts = append(parts, c.Field+"="+val)
			}
		}
		lines = append(lines, fit(th.Muted.Render(fmt.Sprintf("line %d ", r.Line))+strings.Join(parts, "  "), w))
	}
	lines = append(lines, th.Muted.Render(fit("e map the selected column · d dry run (writes nothing) · i import · esc back", w)))
	return strings.Join(lines, "\n")
}

func (v *wizard) renderRunning(w int) string {
	th := v.c.Theme
	p := v.progress
	what := "Importing"
	if v.dry {
		what = "Dry run (nothing is written)"
	}
	phase := p.Phase
	if phase == "" {
		phase = "starting"
	}
	lines := []string{
		th.Accent.Render(what) + th.Muted.Render(" · "+phase),
		"",
		chart.Percent(th, p.Fraction(), min(w, 70)),
		"",
		fmt.Sprintf("%s rows read · %s written · %s unchanged · %s rejected", fmtInt(int64(p.Batch.Read)), fmtInt(int64(p.Batch.Written())),
			fmtInt(int64(p.Batch.Unchanged)), fmtInt(int64(p.Batch.Rejected))),
		"",
		th.Muted.Render("esc cancels between transactions: every row is written whole or not at all."),
	}
	return strings.Join(lines, "\n")
}

func (v *wizard) renderDone(w, h int) string {
	th := v.c.Theme
	b := v.batch
	var lines []string
	switch {
	case v.runErr != nil && errors.Is(v.runErr, context.Canceled):
		lines = append(lines, th.Warn.Render("Cancelled."), th.Muted.Render("What was written stays (each row whole); importing the file again completes it."))
	case v.runErr != nil:
		lines = append(lines, th.Bad.Render(fit("Failed: "+v.runErr.Error(), w)))
	case b.DryRun:
		lines = append(lines, th.Accent.Render("Dry run finished — nothing was written."))
	default:
		lines = append(lines, th.Good.Render(fmt.Sprintf("Imported as batch %d (%s).", b.ID, b.Status)))
	}
	if b.Entity != "" {
		lines = append(lines, "",
			fmt.Sprintf("%s from %s into source %s: %s rows read", b.Entity, b.File, b.Source, fmtInt(int64(b.Read))),
			fmt.Sprintf("%s created · %s updated · %s merged · %s unchanged · %s rejected", fmtInt(int64(b.Created)), fmtInt(int64(b.Updated)),
				fmtInt(int64(b.Merged)), fmtInt(int64(b.Unchanged)), fmtInt(int64(b.Rejected))))
		if b.CustomersCreated > 0 || b.Suggestions > 0 {
			lines = append(lines, fmt.Sprintf("%s customers created · %s merge suggestions (Merges view)", fmtInt(int64(b.CustomersCreated)), fmtInt(int64(b.Suggestions))))
		}
		if b.Suppressed > 0 {
			lines = append(lines, th.Warn.Render(fit(fmt.Sprintf("%s suppressed: their email or phone belongs to an erased person (no contact until an opt-in with evidence)", fmtInt(int64(b.Suppressed))), w)))
		}
	}
	if len(b.Rejections) > 0 {
		lines = append(lines, "", th.Title.Render("Rejected rows"))
		for i, r := range b.Rejections {
			if len(lines) >= h-3 {
				lines = append(lines, th.Muted.Render(fmt.Sprintf("… %d more (karton import --report FILE writes them all)", b.Rejected-i)))
				break
			}
			lines = append(lines, fit(th.Warn.Render(fmt.Sprintf("line %d: ", r.Line))+r.Reason, w))
		}
	}
	hint := "n new import · esc back to the preview"
	if b.DryRun && v.runErr == nil {
		hint = "i import for real · " + hint
	}
	lines = append(lines, "", th.Muted.Render(hint))
	return strings.Join(lines, "\n")
}
