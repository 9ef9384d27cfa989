package theme

import (
	"reflect"
	"regexp"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// colourSGR matches any SGR sequence that sets a foreground, background or
// underline colour (basic, 256 or true colour).
var colourSGR = regexp.MustCompile(`\x1b\[[0-9;:]*(?:3[0-9]|4[0-9]|9[0-7]|10[0-7]|58)[;m:]`)

// styles returns every lipgloss.Style field of t by name.
func styles(t *Theme) map[string]lipgloss.Style {
	out := map[string]lipgloss.Style{}
	v := reflect.ValueOf(t).Elem()
	for i := range v.NumField() {
		if s, ok := v.Field(i).Interface().(lipgloss.Style); ok {
			out[v.Type().Field(i).Name] = s
		}
	}
	return out
}

func TestNewBuildsEveryStyleForBothBackgrounds(t *testing.T) {
	for _, dark := range []bool{true, false} {
		th := New(dark)
		assert.Equal(t, dark, th.IsDark)
		assert.False(t, th.Colorless)
		coloured := 0
		for name, s := range styles(th) {
			out := s.Render("x")
			assert.Contains(t, out, "x", name)
			if colourSGR.MatchString(out) {
				coloured++
			}
		}
		assert.Greater(t, coloured, 40, "most styles carry colour")
		assert.Len(t, th.Palette.Series, 6)
		assert.Len(t, th.Palette.Heat, 5)
	}
}

func TestDarkAndLightDiffer(t *testing.T) {
	assert.NotEqual(t, New(true).Palette.Text, New(false).Palette.Text)
	assert.NotEqual(t, New(true).Base.Render("x"), New(false).Base.Render("x"))
}

func TestWithoutColorRendersNoColour(t *testing.T) {
	for _, dark := range []bool{true, false} {
		th := New(dark).WithoutColor()
		require.True(t, th.Colorless)
		assert.Equal(t, dark, th.IsDark)
		for name, s := range styles(th) {
			out := s.Render("x")
			assert.False(t, colourSGR.MatchString(out), "%s rendered colour: %q", name, out)
		}
		assert.False(t, colourSGR.MatchString(th.SeriesStyle(3).Render("x")))
	}
}

func TestWithoutColorKeepsStateVisible(t *testing.T) {
	th := New(true).WithoutColor()
	// Selection and focus must not depend on colour alone.
	assert.True(t, th.TableSelected.GetReverse())
	assert.True(t, th.TabActive.GetReverse())
	assert.True(t, th.DialogButtonActive.GetReverse())
	assert.True(t, th.PaletteSelected.GetReverse())
	assert.NotEqual(t, th.TableSelected.Render("row"), th.TableRow.Render("row"))
}

func TestNoColorRequested(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want bool
	}{
		{"absent", []string{"TERM=xterm", "HOME=/root"}, false},
		{"empty value does not count", []string{"NO_COLOR="}, false},
		{"set", []string{"TERM=xterm", "NO_COLOR=1"}, true},
		{"any value", []string{"NO_COLOR=yes please"}, true},
		{"prefix of another name", []string{"NO_COLORS=1"}, false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, NoColorRequested(tc.env))
		})
	}
}

func TestSeriesAndHeatAreTotal(t *testing.T) {
	th := New(true)
	assert.Equal(t, th.Series(0), th.Series(6), "series colours cycle")
	assert.Equal(t, th.Series(1), th.Series(-1))
	assert.Equal(t, th.Palette.Heat[0], th.HeatColor(-3))
	assert.Equal(t, th.Palette.Heat[0], th.HeatColor(nan()))
	assert.Equal(t, th.Palette.Heat[4], th.HeatColor(1))
	assert.Equal(t, th.Palette.Heat[4], th.HeatColor(7))
	assert.Equal(t, th.Palette.Heat[2], th.HeatColor(0.5))

	var empty Theme
	assert.Equal(t, lipgloss.NoColor{}, empty.Series(2))
	assert.Equal(t, lipgloss.NoColor{}, empty.HeatColor(0.5))
}

func TestHelpAndTextInputStyles(t *testing.T) {
	th := New(false)
	h := th.Help()
	assert.Equal(t, th.HelpKey.Render("k"), h.ShortKey.Render("k"))
	ti := th.TextInput()
	assert.False(t, ti.Cursor.Blink)
	assert.Equal(t, th.Palette.Accent, ti.Cursor.Color)
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}
