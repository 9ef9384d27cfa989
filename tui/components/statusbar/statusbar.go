// Package statusbar draws the bottom line of the screen: the store file, the
// acting user and role, a few counts, every running background task with a
// spinner and a label, and a hint on the right.
//
// The line always fits its width. When it does not, parts give way in order
// of how little they are missed: the directory of the store path (the file
// name stays), then the counts, the hint, all but the first task, then the task label is shortened,
// and last the store and the role.
package statusbar

import (
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"karton/tui/components/internal/txt"
	"karton/tui/theme"
)

// Count is one number shown in the bar, e.g. {"customers", 12345}.
type Count struct {
	Label string
	Value int64
}

type task struct {
	id    string
	label string
	spin  spinner.Model
}

// Bar is the status bar. Build it with New.
type Bar struct {
	th     *theme.Theme
	width  int
	store  string
	user   string
	role   string
	counts []Count
	tasks  []*task
	hint   string
}

// New builds an empty status bar.
func New(th *theme.Theme) *Bar { return &Bar{th: th} }

// SetTheme replaces the theme, including the running spinners' style.
func (b *Bar) SetTheme(th *theme.Theme) {
	b.th = th
	for _, t := range b.tasks {
		t.spin.Style = th.StatusSpinner
	}
}

// SetSize sets the width; the bar is one line high.
func (b *Bar) SetSize(w, _ int) { b.width = max(w, 0) }

// SetStore sets the path of the open store file.
func (b *Bar) SetStore(path string) { b.store = path }

// SetUser sets the acting user and their role.
func (b *Bar) SetUser(name, role string) { b.user, b.role = name, role }

// SetCounts replaces the counts.
func (b *Bar) SetCounts(counts ...Count) { b.counts = append([]Count(nil), counts...) }

// SetHint sets the right-aligned hint, e.g. "? help".
func (b *Bar) SetHint(hint string) { b.hint = hint }

// StartTask shows a running background task and returns the command that
// starts its spinner. Starting an id that is already running only changes
// its label.
func (b *Bar) StartTask(id, label string) tea.Cmd {
	if t := b.find(id); t != nil {
		t.label = label
		return nil
	}
	t := &task{id: id, label: label, spin: spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(b.th.StatusSpinner))}
	b.tasks = append(b.tasks, t)
	return t.spin.Tick
}

// SetTaskLabel changes a running task's label, e.g. to show progress.
func (b *Bar) SetTaskLabel(id, label string) {
	if t := b.find(id); t != nil {
		t.label = label
	}
}

// EndTask removes a task; its spinner stops with the next tick.
func (b *Bar) EndTask(id string) {
	for i, t := range b.tasks {
		if t.id == id {
			b.tasks = append(b.tasks[:i], b.tasks[i+1:]...)
			return
		}
	}
}

// Tasks returns the ids of the running tasks in the order they started.
func (b *Bar) Tasks() []string {
	ids := make([]string, len(b.tasks))
	for i, t := range b.tasks {
		ids[i] = t.id
	}
	return ids
}

// Update advances the spinners. Ticks of ended tasks are dropped, which
// stops their loop.
func (b *Bar) Update(msg tea.Msg) tea.Cmd {
	tick, ok := msg.(spinner.TickMsg)
	if !ok {
		return nil
	}
	for _, t := range b.tasks {
		if t.spin.ID() == tick.ID {
			var cmd tea.Cmd
			t.spin, cmd = t.spin.Update(tick)
			return cmd
		}
	}
	return nil
}

func (b *Bar) find(id string) *task {
	for _, t := range b.tasks {
		if t.id == id {
			return t
		}
	}
	return nil
}

// plan says which parts are drawn and how; plans are tried from the most
// to the least complete until one fits.
type plan struct {
	counts    bool
	fullStore bool
	store     bool
	role      bool
	hint      bool
	allTasks  bool
	taskWidth int // 0: labels in full
}

func (b *Bar) plans() []plan {
	full := plan{counts: true, fullStore: true, store: true, role: true, hint: true, allTasks: true}
	out := []plan{full}
	add := func(change func(*plan)) {
		p := out[len(out)-1]
		change(&p)
		out = append(out, p)
	}
	add(func(p *plan) { p.fullStore = false })
	add(func(p *plan) { p.counts = false })
	add(func(p *plan) { p.hint = false })
	add(func(p *plan) { p.allTasks = false })
	add(func(p *plan) { p.taskWidth = 24 })
	add(func(p *plan) { p.taskWidth = 12 })
	add(func(p *plan) { p.store = false })
	add(func(p *plan) { p.role = false })
	return out
}

// View draws the bar, exactly as wide as the size given.
func (b *Bar) View() string {
	if b.width <= 0 {
		return ""
	}
	var left, right string
	for _, p := range b.plans() {
		left, right = b.render(p)
		if txt.Width(left)+txt.Width(right) <= b.width {
			break
		}
	}
	gap := b.width - txt.Width(left) - txt.Width(right)
	if gap < 0 {
		// Even the barest plan is too wide: cut the left side.
		left = txt.Truncate(left, b.width-txt.Width(right))
		gap = b.width - txt.Width(left) - txt.Width(right)
	}
	return left + b.th.StatusBar.Render(strings.Repeat(" ", max(gap, 0))) + right
}

func (b *Bar) render(p plan) (left, right string) {
	var parts []string
	if p.store && b.store != "" {
		path := b.store
		if !p.fullStore {
			path = filepath.Base(path)
		}
		parts = append(parts, b.th.StatusStore.Render(path))
	}
	if b.user != "" {
		who := b.user
		if p.role && b.role != "" {
			who += " · " + b.role
		}
		parts = append(parts, b.th.StatusUser.Render(who))
	}
	if p.counts && len(b.counts) > 0 {
		cs := make([]string, len(b.counts))
		for i, c := range b.counts {
			cs[i] = txt.Int(c.Value) + " " + c.Label
		}
		parts = append(parts, b.th.StatusCounts.Render(strings.Join(cs, " · ")))
	}
	if len(b.tasks) > 0 {
		parts = append(parts, b.renderTasks(p))
	}
	sep := b.th.StatusBar.Render(" ")
	if b.th.Colorless {
		sep = b.th.StatusSeparator.Render("│")
	}
	left = strings.Join(parts, sep)
	if p.hint && b.hint != "" {
		right = b.th.StatusHint.Render(b.hint)
	}
	return left, right
}

func (b *Bar) renderTasks(p plan) string {
	shown := b.tasks
	if !p.allTasks {
		shown = shown[:1]
	}
	var out []string
	for _, t := range shown {
		label := t.label
		if p.taskWidth > 0 {
			label = txt.Truncate(label, p.taskWidth)
		}
		out = append(out, t.spin.View()+b.th.StatusTask.Render(" "+label))
	}
	s := strings.Join(out, b.th.StatusTask.Render("  "))
	if more := len(b.tasks) - len(shown); more > 0 {
		s += b.th.StatusTask.Render(" +" + txt.Int(int64(more)))
	}
	return b.th.StatusTask.Render(" ") + s + b.th.StatusTask.Render(" ")
}
