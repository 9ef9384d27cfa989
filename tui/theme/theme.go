// Package theme holds every style the Karton TUI draws with, so that colours
// are chosen in one place and can follow the terminal's background.
//
// A Theme is built per session by New(isDark) and rebuilt when the root App
// receives a tea.BackgroundColorMsg; components keep a *Theme and are handed a
// new one through their SetTheme method. A Theme is never mutated after it is
// built, so sharing one between components is safe.
//
// WithoutColor returns the same theme with every colour removed but the text
// attributes (bold, underline, reverse) kept, so the selected row, the active
// tab and the focused button stay visible when the user sets NO_COLOR. Golden
// tests render with it to get stable, readable screens.
package theme

import (
	"image/color"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// Palette is the set of raw colours a theme is built from. Components that
// draw something the named styles do not cover (chart series, heat maps) take
// their colours from here rather than inventing their own.
type Palette struct {
	Text      color.Color // ordinary text
	Muted     color.Color // secondary text: hints, units, subtitles
	Subtle    color.Color // borders and separators
	Surface   color.Color // zebra rows, status bar background
	Overlay   color.Color // selected-row and segment backgrounds
	Accent    color.Color // focus, active tab, keys in help
	AccentAlt color.Color // a second emphasis (user segment, titles)
	OnAccent  color.Color // text drawn on an Accent background
	Good      color.Color // allowed, success, on budget
	Warn      color.Color // attention, near a limit
	Bad       color.Color // denied, failed, over budget
	// Series are the colours of chart series in the order they are used.
	Series []color.Color
	// Heat runs from cold (low values) to hot (high values) for grids.
	Heat []color.Color
}

// Theme is the complete set of styles. Fields are grouped by the component
// that uses them; the zero Theme is not useful, build one with New.
type Theme struct {
	// IsDark reports which background the theme was built for.
	IsDark bool
	// Colorless is true for a theme made by WithoutColor.
	Colorless bool
	// Palette holds the raw colours; in a colourless theme every entry is
	// lipgloss.NoColor.
	Palette Palette

	// Text.
	Base   lipgloss.Style // ordinary text
	Muted  lipgloss.Style // secondary text
	Accent lipgloss.Style // emphasised text
	Title  lipgloss.Style // headings inside boxes and dialogs

	// Box frames: the focused box gets BorderFocused.
	Border        lipgloss.Style
	BorderFocused lipgloss.Style

	// Tabs.
	TabActive   lipgloss.Style
	TabInactive lipgloss.Style
	TabNumber   lipgloss.Style // the digit in front of an inactive tab
	TabBadge    lipgloss.Style // a small count after an inactive tab's title

	// Tables.
	TableHeader          lipgloss.Style
	TableRow             lipgloss.Style
	TableZebra           lipgloss.Style // every other row
	TableSelected        lipgloss.Style // cursor row of the focused table
	TableSelectedBlurred lipgloss.Style // cursor row when the table has no focus
	TableLoading         lipgloss.Style // placeholder for rows still being fetched
	TableError           lipgloss.Style // a failed fetch, shown in place of rows
	TablePosition        lipgloss.Style // "12,345 / 1,000,000"

	// Status bar.
	StatusBar       lipgloss.Style // the whole line
	StatusStore     lipgloss.Style // store file segment
	StatusUser      lipgloss.Style // acting user and role
	StatusCounts    lipgloss.Style
	StatusTask      lipgloss.Style // label of a running background task
	StatusSpinner   lipgloss.Style
	StatusHint      lipgloss.Style // right-aligned hint
	StatusSeparator lipgloss.Style

	// Verdicts: consent decisions, budget state, task outcomes.
	Good  lipgloss.Style
	Warn  lipgloss.Style
	Bad   lipgloss.Style
	Allow lipgloss.Style // a consent decision that permits contact
	Deny  lipgloss.Style // a consent decision that forbids contact

	// Charts.
	ChartAxis  lipgloss.Style // y scale, x labels, zero line
	ChartLabel lipgloss.Style // bar and funnel labels
	ChartValue lipgloss.Style // numbers printed beside bars
	ChartTrack lipgloss.Style // the unfilled part of a percentage bar

	// Toasts.
	ToastInfo  lipgloss.Style // frame of an informational toast
	ToastError lipgloss.Style // frame of an error toast

	// Dialogs (confirm, palette).
	Dialog             lipgloss.Style // frame
	DialogDanger       lipgloss.Style // frame of a destructive confirmation
	DialogTitle        lipgloss.Style
	DialogBody         lipgloss.Style
	DialogButton       lipgloss.Style
	DialogButtonActive lipgloss.Style

	// Command palette.
	PalettePrompt   lipgloss.Style
	PaletteItem     lipgloss.Style
	PaletteSelected lipgloss.Style
	PaletteMatch    lipgloss.Style // matched characters of a title
	PaletteSubtitle lipgloss.Style
	PaletteKind     lipgloss.Style

	// Help and footer.
	HelpKey       lipgloss.Style
	HelpDesc      lipgloss.Style
	HelpSeparator lipgloss.Style
}

// New builds the colour theme for a dark (isDark) or light background.
func New(isDark bool) *Theme {
	return build(isDark, colourPalette(isDark), false)
}

// WithoutColor returns a copy of t with every colour removed. Text attributes
// stay, so emphasis survives NO_COLOR.
func (t *Theme) WithoutColor() *Theme {
	return build(t.IsDark, noColourPalette(), true)
}

// NoColorRequested reports whether environ (KEY=value pairs, as in
// os.Environ or a session's tea.EnvMsg) asks for no colour. Following
// no-color.org, NO_COLOR counts when it is present and not empty. The
// environment is passed in because over SSH it is the client's, not ours.
func NoColorRequested(environ []string) bool {
	for _, kv := range environ {
		v, ok := strings.CutPrefix(kv, "NO_COLOR=")
		if ok && v != "" {
			return true
		}
	}
	return false
}

// Series returns the colour of chart series i, cycling through the palette.
func (t *Theme) Series(i int) color.Color {
	s := t.Palette.Series
	if len(s) == 0 {
		return lipgloss.NoColor{}
	}
	if i < 0 {
		i = -i
	}
	return s[i%len(s)]
}

// SeriesStyle returns a foreground style in the colour of series i.
func (t *Theme) SeriesStyle(i int) lipgloss.Style {
	if t.Colorless {
		return lipgloss.NewStyle()
	}
	return lipgloss.NewStyle().Foreground(t.Series(i))
}

// HeatColor maps frac in [0,1] onto the heat scale; values outside are
// clamped and NaN counts as 0.
func (t *Theme) HeatColor(frac float64) color.Color {
	h := t.Palette.Heat
	if len(h) == 0 {
		return lipgloss.NoColor{}
	}
	if !(frac > 0) { // also catches NaN
		return h[0]
	}
	if frac >= 1 {
		return h[len(h)-1]
	}
	return h[int(frac*float64(len(h)))]
}

// Help returns styles for the bubbles help view, matching this theme.
func (t *Theme) Help() help.Styles {
	return help.Styles{
		Ellipsis:       t.HelpSeparator,
		ShortKey:       t.HelpKey,
		ShortDesc:      t.HelpDesc,
		ShortSeparator: t.HelpSeparator,
		FullKey:        t.HelpKey,
		FullDesc:       t.HelpDesc,
		FullSeparator:  t.HelpSeparator,
	}
}

// TextInput returns styles for a bubbles text input, matching this theme.
// The cursor does not blink: a blinking cursor costs a redraw every half
// second on every SSH session for no information.
func (t *Theme) TextInput() textinput.Styles {
	state := textinput.StyleState{
		Text:        t.Base,
		Placeholder: t.Muted,
		Suggestion:  t.Muted,
		Prompt:      t.PalettePrompt,
	}
	blurred := state
	blurred.Text = t.Muted
	return textinput.Styles{
		Focused: state,
		Blurred: blurred,
		Cursor: textinput.CursorStyle{
			Color: t.Palette.Accent,
			Shape: tea.CursorBlock,
			Blink: false,
		},
	}
}

func colourPalette(isDark bool) Palette {
	ld := lipgloss.LightDark(isDark)
	c := lipgloss.Color
	p := Palette{
		Text:      ld(c("#1F2328"), c("#CAD3F5")),
		Muted:     ld(c("#6E7781"), c("#8087A2")),
		Subtle:    ld(c("#D0D7DE"), c("#494D64")),
		Surface:   ld(c("#F3F4F6"), c("#1E2030")),
		Overlay:   ld(c("#DDF4FF"), c("#363A4F")),
		Accent:    ld(c("#0969DA"), c("#8AADF4")),
		AccentAlt: ld(c("#8250DF"), c("#C6A0F6")),
		OnAccent:  ld(c("#FFFFFF"), c("#181926")),
		Good:      ld(c("#1A7F37"), c("#A6DA95")),
		Warn:      ld(c("#9A6700"), c("#EED49F")),
		Bad:       ld(c("#CF222E"), c("#ED8796")),
	}
	if isDark {
		p.Series = []color.Color{c("#8AADF4"), c("#A6DA95"), c("#F5A97F"), c("#C6A0F6"), c("#EED49F"), c("#8BD5CA")}
		p.Heat = lipgloss.Blend1D(5, c("#363A4F"), c("#8AADF4"), c("#F5A97F"))
	} else {
		p.Series = []color.Color{c("#0969DA"), c("#1A7F37"), c("#BC4C00"), c("#8250DF"), c("#9A6700"), c("#1B7C83")}
		p.Heat = lipgloss.Blend1D(5, c("#DDF4FF"), c("#0969DA"), c("#BC4C00"))
	}
	return p
}

func noColourPalette() Palette {
	n := lipgloss.NoColor{}
	return Palette{
		Text: n, Muted: n, Subtle: n, Surface: n, Overlay: n, Accent: n,
		AccentAlt: n, OnAccent: n, Good: n, Warn: n, Bad: n,
		Series: []color.Color{n},
		Heat:   []color.Color{n},
	}
}

// build derives every style from the palette. In the colourless theme the
// colour calls are harmless no-ops (NoColor), so only the places where colour
// carried the meaning need an attribute instead; those test t.Colorless.
func build(isDark bool, p Palette, colorless bool) *Theme {
	s := lipgloss.NewStyle
	fg := func(c color.Color) lipgloss.Style { return s().Foreground(c) }

	t := &Theme{IsDark: isDark, Colorless: colorless, Palette: p}

	t.Base = fg(p.Text)
	t.Muted = fg(p.Muted)
	t.Accent = fg(p.Accent).Bold(true)
	t.Title = fg(p.AccentAlt).Bold(true)

	t.Border = s().Border(lipgloss.RoundedBorder()).BorderForeground(p.Subtle)
	t.BorderFocused = s().Border(lipgloss.RoundedBorder()).BorderForeground(p.Accent)

	t.TabActive = s().Foreground(p.OnAccent).Background(p.Accent).Bold(true).Padding(0, 1)
	t.TabInactive = fg(p.Muted).Padding(0, 1)
	t.TabNumber = fg(p.Accent)
	t.TabBadge = fg(p.Muted)

	t.TableHeader = fg(p.Muted).Bold(true)
	t.TableRow = fg(p.Text)
	t.TableZebra = s().Foreground(p.Text).Background(p.Surface)
	t.TableSelected = s().Foreground(p.Text).Background(p.Overlay).Bold(true)
	t.TableSelectedBlurred = s().Foreground(p.Text).Background(p.Overlay)
	t.TableLoading = fg(p.Muted).Italic(true)
	t.TableError = fg(p.Bad)
	t.TablePosition = fg(p.Muted)

	t.StatusBar = s().Foreground(p.Text).Background(p.Surface)
	t.StatusStore = s().Foreground(p.Text).Background(p.Overlay).Padding(0, 1)
	t.StatusUser = s().Foreground(p.OnAccent).Background(p.AccentAlt).Bold(true).Padding(0, 1)
	t.StatusCounts = s().Foreground(p.Muted).Background(p.Surface).Padding(0, 1)
	t.StatusTask = s().Foreground(p.Text).Background(p.Surface)
	t.StatusSpinner = s().Foreground(p.Accent).Background(p.Surface)
	t.StatusHint = s().Foreground(p.Muted).Background(p.Surface).Padding(0, 1)
	t.StatusSeparator = s().Foreground(p.Subtle).Background(p.Surface)

	t.Good = fg(p.Good)
	t.Warn = fg(p.Warn)
	t.Bad = fg(p.Bad)
	t.Allow = fg(p.Good).Bold(true)
	t.Deny = fg(p.Bad).Bold(true)

	t.ChartAxis = fg(p.Muted)
	t.ChartLabel = fg(p.Text)
	t.ChartValue = fg(p.Muted)
	t.ChartTrack = fg(p.Subtle)

	t.ToastInfo = s().Border(lipgloss.RoundedBorder()).BorderForeground(p.Accent).Foreground(p.Text).Padding(0, 1)
	t.ToastError = s().Border(lipgloss.ThickBorder()).BorderForeground(p.Bad).Foreground(p.Text).Padding(0, 1)

	t.Dialog = s().Border(lipgloss.RoundedBorder()).BorderForeground(p.Accent).Padding(0, 1)
	t.DialogDanger = s().Border(lipgloss.ThickBorder()).BorderForeground(p.Bad).Padding(0, 1)
	t.DialogTitle = fg(p.AccentAlt).Bold(true)
	t.DialogBody = fg(p.Text)
	t.DialogButton = fg(p.Muted).Padding(0, 1)
	t.DialogButtonActive = s().Foreground(p.OnAccent).Background(p.Accent).Bold(true).Padding(0, 1)

	t.PalettePrompt = fg(p.Accent).Bold(true)
	t.PaletteItem = fg(p.Text)
	t.PaletteSelected = s().Foreground(p.Text).Background(p.Overlay).Bold(true)
	t.PaletteMatch = fg(p.Accent).Bold(true).Underline(true)
	t.PaletteSubtitle = fg(p.Muted)
	t.PaletteKind = fg(p.AccentAlt)

	t.HelpKey = fg(p.Accent)
	t.HelpDesc = fg(p.Muted)
	t.HelpSeparator = fg(p.Subtle)

	if colorless {
		// Where a background colour alone marked the state, use reverse video.
		t.TabActive = s().Reverse(true).Bold(true).Padding(0, 1)
		t.TableZebra = s()
		t.TableSelected = s().Reverse(true)
		t.TableSelectedBlurred = s().Bold(true)
		t.StatusBar = s()
		t.StatusStore = s().Padding(0, 1)
		t.StatusUser = s().Bold(true).Padding(0, 1)
		t.DialogButtonActive = s().Reverse(true).Bold(true).Padding(0, 1)
		t.PaletteSelected = s().Reverse(true)
		t.PaletteMatch = s().Underline(true)
		t.Muted = s()
		t.TableHeader = s().Bold(true)
	}
	return t
}
