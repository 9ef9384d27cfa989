package warehouse

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"karton/model"
)

// fmtInt writes n with thousands separators: 1234567 → "1,234,567".
func fmtInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	pre := len(s) % 3
	if pre == 0 {
		pre = 3
	}
	b.WriteString(s[:pre])
	for i := pre; i < len(s); i += 3 {
		b.WriteByte(',')
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// fmtShare writes part/whole as a percentage, with one decimal below 10 %
// so small rates (conversions, unsubscribes) do not all read "0%".
func fmtShare(part, whole int64) string {
	if whole <= 0 {
		return "–"
	}
	return fmtPercent(float64(part) / float64(whole))
}

// fmtPercent writes a fraction as a percentage ("61%", "4.2%").
func fmtPercent(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "–"
	}
	p := f * 100
	if p != 0 && math.Abs(p) < 9.95 {
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(math.Round(p), 'f', 0, 64) + "%"
}

// trend compares a value with the one of the period before: "▲ 8%",
// "▼ 3%", "± 0%"; the bool says whether it went up (nil: no comparison
// possible because the earlier period had nothing).
func trend(cur, prev float64) (string, *bool) {
	if prev <= 0 || math.IsNaN(cur) || math.IsNaN(prev) {
		return "", nil
	}
	change := (cur - prev) / prev
	up := change > 0
	switch {
	case math.Abs(change) < 0.005:
		return "± 0%", nil
	case up:
		return "▲ " + fmtPercent(change), &up
	default:
		return "▼ " + fmtPercent(-change), &up
	}
}

// monthLabel is "Mar" for a chart axis, "Mar 25" when the year matters.
func monthLabel(m model.YearMonth, withYear bool) string {
	name := m.Month().String()[:3]
	if withYear {
		return fmt.Sprintf("%s %02d", name, m.Year()%100)
	}
	return name
}

// fmtWhen writes a time for a footnote: "14 Mar 2026 09:30" (UTC).
func fmtWhen(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04") }

// fit cuts or pads a (possibly styled) line to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	if pad := w - lipgloss.Width(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// fitRight cuts or pads a line to w cells, aligned right.
func fitRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) > w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-lipgloss.Width(s)) + s
}

// block makes s exactly w×h cells: every line fitted, missing lines blank,
// extra lines dropped. Panels are composed side by side with it, so a
// short panel never shifts its neighbour.
func block(s string, w, h int) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	out := make([]string, h)
	for i := range out {
		line := ""
		if i < len(lines) {
			line = lines[i]
		}
		out[i] = fit(line, w)
	}
	return strings.Join(out, "\n")
}

// height is the number of lines of s (0 for the empty string).
func height(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, "\n") + 1
}

// money is a whole amount in the store's currency for tiles and notes.
func money(m model.Money, currency string) string { return m.Format(currency) }

// moneyShort is the compact form ("€12.3k") for tight cells.
func moneyShort(m model.Money, currency string) string { return m.FormatShort(currency) }
