package statusbar

import (
	"strings"
	"testing"

	"charm.land/bubbles/v2/spinner"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/tui/theme"
)

func newBar(w int) *Bar {
	b := New(theme.New(true).WithoutColor())
	b.SetSize(w, 1)
	b.SetStore("/home/anna/marketing/karton.db")
	b.SetUser("anna", "admin")
	b.SetCounts(Count{"customers", 1_000_000}, Count{"campaigns", 12})
	b.SetHint("? help")
	return b
}

func plain(b *Bar) string { return ansi.Strip(b.View()) }

func TestFullBarAtWideTerminal(t *testing.T) {
	b := newBar(160)
	b.StartTask("import", "importing customers.csv 45%")
	v := plain(b)
	assert.Equal(t, 160, ansi.StringWidth(v))
	for _, want := range []string{"/home/anna/marketing/karton.db", "anna · admin", "1,000,000 customers · 12 campaigns", "⠋ importing customers.csv 45%", "? help"} {
		assert.Contains(t, v, want)
	}
	assert.True(t, strings.HasSuffix(v, "? help "), "hint is right-aligned: %q", v)
}

func TestDegradesInOrder(t *testing.T) {
	b := newBar(80)
	b.StartTask("import", "importing customers.csv 45%")
	b.StartTask("launch", "launching Spring Sale")
	b.StartTask("backup", "backup")

	type want struct {
		has, hasNot []string
	}
	tests := []struct {
		width int
		want  want
	}{
		{200, want{has: []string{"/home/anna", "customers", "launching Spring Sale", "backup", "? help"}}},
		{140, want{has: []string{"karton.db", "customers ·", "launching", "? help"}, hasNot: []string{"/home/anna"}}},
		{110, want{has: []string{"karton.db", "launching", "? help"}, hasNot: []string{"/home/anna", "customers ·"}}},
		{90, want{has: []string{"karton.db", "anna · admin", "importing customers.csv 45%", "+2"}, hasNot: []string{"launching", "? help"}}},
		{80, want{has: []string{"karton.db", "anna · admin", "importing customers.csv 45%", "+2"}}},
		{50, want{has: []string{"karton.db", "anna · admin", "importing c…", "+2"}}},
		{30, want{has: []string{"anna", "importing c…"}, hasNot: []string{"karton.db", "admin"}}},
		{10, want{}},
	}
	for _, tc := range tests {
		b.SetSize(tc.width, 1)
		v := plain(b)
		assert.Equal(t, tc.width, ansi.StringWidth(v), "width %d: %q", tc.width, v)
		for _, s := range tc.want.has {
			assert.Contains(t, v, s, "width %d", tc.width)
		}
		for _, s := range tc.want.hasNot {
			assert.NotContains(t, v, s, "width %d", tc.width)
		}
	}
}

func TestTasks(t *testing.T) {
	b := newBar(120)
	cmd := b.StartTask("import", "importing")
	require.NotNil(t, cmd)
	assert.Nil(t, b.StartTask("import", "importing 10%"), "restart only relabels")
	assert.Contains(t, plain(b), "importing 10%")
	b.SetTaskLabel("import", "importing 50%")
	b.SetTaskLabel("nope", "x")
	assert.Contains(t, plain(b), "importing 50%")
	assert.Equal(t, []string{"import"}, b.Tasks())

	// The first tick advances this task's spinner and schedules the next.
	tick := cmd()
	before := plain(b)
	assert.NotNil(t, b.Update(tick))
	assert.NotEqual(t, before, plain(b), "spinner moved")

	assert.Nil(t, b.Update(spinner.TickMsg{ID: -42}), "someone else's tick")
	assert.Nil(t, b.Update("not a tick"))

	b.EndTask("import")
	b.EndTask("import")
	assert.Empty(t, b.Tasks())
	assert.Nil(t, b.Update(tick), "ended task: its tick loop stops")
	assert.NotContains(t, plain(b), "importing")
}

func TestSetThemeRestylesSpinners(t *testing.T) {
	b := newBar(80)
	b.StartTask("x", "y")
	th := theme.New(false)
	b.SetTheme(th)
	assert.Equal(t, th.StatusSpinner, b.tasks[0].spin.Style)
}

func TestEmpty(t *testing.T) {
	b := New(theme.New(true))
	assert.Empty(t, b.View())
	b.SetSize(20, 1)
	assert.Equal(t, 20, ansi.StringWidth(b.View()))
}

func TestViewGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		width int
		tasks int
	}{
		{"w120_idle", 120, 0},
		{"w80_one_task", 80, 1},
		{"w80_three_tasks", 80, 3},
		{"w40_three_tasks", 40, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBar(tc.width)
			labels := []string{"importing customers.csv 45%", "launching Spring Sale", "backup"}
			for i := range tc.tasks {
				b.StartTask(labels[i], labels[i])
			}
			golden.RequireEqual(t, b.View())
		})
	}
	t.Run("colour_dark_w80", func(t *testing.T) {
		b := New(theme.New(true))
		b.SetSize(80, 1)
		b.SetStore("karton.db")
		b.SetUser("anna", "admin")
		b.SetCounts(Count{"customers", 1234})
		b.StartTask("import", "importing")
		b.SetHint("? help")
		golden.RequireEqual(t, b.View())
	})
}
