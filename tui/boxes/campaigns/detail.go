package campaigns

import (
	"fmt"
	"sort"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"karton/model"
	"karton/tui/components/chart"
	"karton/tui/theme"
)

// detailInput is what the detail of one campaign is drawn from.
type detailInput struct {
	th    *theme.Theme
	snap  *snapshot
	cp    model.Campaign
	sizes map[model.SegmentID]int
	// counting: segment sizes are being counted.
	counting bool
	step     int // the selected step
	w        int
}

// renderDetail draws the campaign's detail as lines of exactly in.w cells.
func renderDetail(in detailInput) []string {
	th, cp, w := in.th, in.cp, in.w
	var out []string
	add := func(s string) { out = append(out, fit(s, w)) }
	blank := func() { out = append(out, strings.Repeat(" ", max(w, 0))) }
	label := func(l string) string { return th.Muted.Render(fmt.Sprintf("%-9s", l)) }
	wrap := func(prefix, text string) {
		pw := lipgloss.Width(prefix)
		for i, l := range wrapText(text, max(w-pw, 10)) {
			if i == 0 {
				add(prefix + l)
			} else {
				add(strings.Repeat(" ", pw) + l)
			}
		}
	}

	add(th.Title.Render(cp.Name) + th.Muted.Render(" · #"+cp.ID.String()+" · ") + statusText(th, cp.Status))
	wrap(label("Goal"), orDash(cp.Goal))
	add(label("Owner") + cp.Owner)
	add(label("Window") + windowLong(cp))
	add(label("Approval") + approvalLong(th, cp))
	if cp.RejectedBy != "" {
		wrap(label("Rejected"), cp.RejectedBy+": "+orDash(cp.RejectionNote))
	}

	// Steps.
	blank()
	steps := in.snap.steps[cp.ID]
	hint := ""
	if len(steps) > 1 {
		hint = "  [/] step"
	}
	add(th.Title.Render(fmt.Sprintf("Steps (%d)", len(steps))) + th.Muted.Render(hint))
	if len(steps) == 0 {
		add(th.Muted.Render("  no steps yet"))
	}
	for i, st := range steps {
		mark := "  "
		name := st.Name
		if i == in.step {
			mark = th.Accent.Render("› ")
			name = th.Accent.Render(name)
		}
		add(mark + name + th.Muted.Render(" · #"+st.ID.String()+" · ") + stepStatusText(th, st.Status))
		ch := in.snap.channels[st.ChannelID]
		pu := in.snap.purposes[st.PurposeID]
		chName := ch.Name
		if chName == "" {
			chName = "channel #" + st.ChannelID.String()
		}
		purpose := pu.Name
		if purpose == "" {
			purpose = "purpose #" + st.PurposeID.String()
		}
		wrap("    ", fmt.Sprintf("%s (%s) · %s · %s", chName, ch.Kind, purpose, st.ScheduledAt.Format("2006-01-02 15:04")))
		aud := "audience #" + st.SegmentID.String()
		if sg, ok := in.snap.segment(st.SegmentID); ok {
			aud = "audience " + sg.Name
		}
		switch n, ok := in.sizes[st.SegmentID]; {
		case ok && n >= 0:
			aud += " (" + groupInt(int64(n)) + ")"
		case ok:
			aud += " (invalid conditions)"
		case in.counting:
			aud += " (counting…)"
		}
		creative := "no creative"
		if st.Creative != "" {
			creative = "creative " + st.Creative
		}
		wrap("    ", aud+" · "+creative)
	}

	// Budget.
	blank()
	cur := cp.Currency
	add(th.Title.Render("Budget") + th.Muted.Render("  planned vs actual"))
	if len(cp.Budget) == 0 {
		add(th.Muted.Render("  no budget lines"))
	} else {
		lw := 6
		for _, b := range cp.Budget {
			lw = max(lw, lipgloss.Width(b.Label))
		}
		lw = min(lw, max(w/3, 8))
		barW := max(w-lw-2-12-12-2, 0)
		row := func(labelText string, planned, actual model.Money, style func(string) string) {
			line := "  " + padRight(ansi.Truncate(labelText, lw, "…"), lw) + padLeft(planned.Format(cur), 12) + padLeft(actual.Format(cur), 12)
			if barW >= 8 {
				line += "  " + chart.Budget(th, ratio(actual, planned), min(barW, 24))
			}
			add(style(line))
		}
		plain := func(s string) string { return s }
		for _, b := range cp.Budget {
			row(b.Label, b.Planned, b.Actual, plain)
		}
		row("total", cp.Planned(), cp.Spent(), func(s string) string { return lipgloss.NewStyle().Bold(true).Render(s) })
	}

	// Staff.
	blank()
	add(th.Title.Render("Staff"))
	if len(cp.Staff) == 0 {
		add(th.Muted.Render("  nobody assigned"))
	}
	var hours float64
	for _, s := range cp.Staff {
		hours += s.Hours
		add(fmt.Sprintf("  %-14s %-18s %6.1f h", ansi.Truncate(s.Name, 14, "…"), ansi.Truncate(orDash(s.Role), 18, "…"), s.Hours))
	}
	if len(cp.Staff) > 1 {
		add(th.Muted.Render(fmt.Sprintf("  %-14s %-18s %6.1f h", "total", "", hours)))
	}

	// Creatives.
	blank()
	add(th.Title.Render("Creatives"))
	if len(cp.Creatives) == 0 {
		add(th.Muted.Render("  none"))
	}
	for _, cr := range cp.Creatives {
		kind := string(cr.Kind)
		if kind == "" {
			kind = "any channel"
		}
		notice := ""
		if cr.ObjectionNotice {
			notice = " · objection notice"
		}
		add("  " + cr.Name + th.Muted.Render(" ("+kind+")"+notice))
		if cr.Subject != "" {
			wrap("    ", th.Muted.Render("subject ")+cr.Subject)
		}
	}
	if len(steps) > 0 {
		add(th.Muted.Render("  v previews the selected step's creative for a customer; c edits it"))
	}

	// Participants.
	if cp.Capacity > 0 || len(cp.Participants) > 0 {
		blank()
		inv, reg, att := cp.ParticipantCounts()
		add(th.Title.Render("Participants"))
		add(fmt.Sprintf("  invited %s · registered %s · attended %s · capacity %s",
			groupInt(int64(inv)), groupInt(int64(reg)), groupInt(int64(att)), capacityText(cp.Capacity)))
		if cp.Capacity > 0 && w >= 30 {
			add("  " + th.Muted.Render("registered ") + chart.Budget(th, float64(reg)/float64(cp.Capacity), min(w-13, 30)))
		}
	}
	return out
}

func capacityText(n int) string {
	if n <= 0 {
		return "unlimited"
	}
	return groupInt(int64(n))
}

// ratio is actual/planned for the bars (spent without a plan counts as
// over budget).
func ratio(actual, planned model.Money) float64 {
	if planned <= 0 {
		if actual > 0 {
			return 2
		}
		return 0
	}
	return float64(actual) / float64(planned)
}

func windowLong(cp model.Campaign) string {
	days := int(cp.End.Sub(cp.Start).Hours()/24) + 1
	return fmt.Sprintf("%s → %s (%d days)", cp.Start.Format("2006-01-02"), cp.End.Format("2006-01-02"), days)
}

// windowShort is the table's window, "2026-11-21–12-23", with the end's
// full date when its year differs from the start's ("2026-11-02–2027-01-01").
func windowShort(cp model.Campaign) string {
	if cp.Start.Year() != cp.End.Year() {
		return cp.Start.Format("2006-01-02") + "–" + cp.End.Format("2006-01-02")
	}
	return cp.Start.Format("2006-01-02") + "–" + cp.End.Format("01-02")
}

// approvalShort is the table's approval state.
func approvalShort(cp model.Campaign) string {
	switch {
	case cp.ApprovedBy != "" && cp.ApprovedBy == cp.SubmittedBy:
		return "self-approved " + cp.ApprovedBy
	case cp.ApprovedBy != "":
		return "✓ " + cp.ApprovedBy
	case cp.Status == model.StatusSubmitted:
		return "awaiting (" + cp.SubmittedBy + ")"
	case cp.RejectedBy != "":
		return "✗ " + cp.RejectedBy
	case cp.Status == model.StatusDraft:
		return "not submitted"
	}
	return "–"
}

func approvalLong(th *theme.Theme, cp model.Campaign) string {
	var parts []string
	if cp.SubmittedBy != "" {
		parts = append(parts, "submitted by "+cp.SubmittedBy+" "+cp.SubmittedAt.Format("2006-01-02"))
	}
	switch {
	case cp.ApprovedBy != "" && cp.ApprovedBy == cp.SubmittedBy:
		parts = append(parts, th.Warn.Render("self-approved")+" "+cp.ApprovedAt.Format("2006-01-02")+" (single-user store)")
	case cp.ApprovedBy != "":
		parts = append(parts, th.Good.Render("approved by "+cp.ApprovedBy)+" "+cp.ApprovedAt.Format("2006-01-02"))
	case cp.Status == model.StatusSubmitted:
		parts = append(parts, th.Warn.Render("awaiting approval"))
	}
	if len(parts) == 0 {
		return th.Muted.Render("not submitted")
	}
	return strings.Join(parts, ", ")
}

func statusText(th *theme.Theme, s model.CampaignStatus) string {
	return statusStyle(th, s).Render(string(s))
}

// statusStyle colours a campaign status: green when it may run, amber
// while it waits for approval, red when cancelled.
func statusStyle(th *theme.Theme, s model.CampaignStatus) lipgloss.Style {
	switch s {
	case model.StatusApproved, model.StatusRunning:
		return th.Good
	case model.StatusSubmitted:
		return th.Warn
	case model.StatusCancelled:
		return th.Bad
	case model.StatusCompleted:
		return th.Muted
	}
	return th.Base
}

func stepStatusText(th *theme.Theme, s model.StepStatus) string {
	switch s {
	case model.StepLaunched:
		return th.Good.Render(string(s))
	case model.StepLaunching:
		return th.Warn.Render(string(s) + " (interrupted: preflight and launch resume it)")
	case model.StepCancelled:
		return th.Bad.Render(string(s))
	}
	return string(s)
}

// reasonsSorted lists the reasons of counts by rule number.
func reasonsSorted(m map[model.Reason]int) []model.Reason {
	out := make([]model.Reason, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rule() != out[j].Rule() {
			return out[i].Rule() < out[j].Rule()
		}
		return out[i] < out[j]
	})
	return out
}

// --- text helpers -----------------------------------------------------------

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "–"
	}
	return s
}

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

func padRight(s string, w int) string {
	if pad := w - lipgloss.Width(s); pad > 0 {
		return s + strings.Repeat(" ", pad)
	}
	return s
}

func padLeft(s string, w int) string {
	if pad := w - lipgloss.Width(s); pad > 0 {
		return strings.Repeat(" ", pad) + s
	}
	return s
}

// wrapText breaks plain text into lines of at most w cells at spaces.
func wrapText(s string, w int) []string {
	if w <= 0 {
		return []string{s}
	}
	wrapped := ansi.Wordwrap(s, w, " ")
	lines := strings.Split(wrapped, "\n")
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			lines[i] = ansi.Truncate(l, w, "…")
		}
	}
	return lines
}

// groupInt renders 1234567 as "1,234,567".
func groupInt(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprint(n)
	var out []byte
	pre := len(s) % 3
	if pre == 0 {
		pre = 3
	}
	out = append(out, s[:pre]...)
	for i := pre; i < len(s); i += 3 {
		out = append(out, ',')
		out = append(out, s[i:i+3]...)
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func stripStyles(s string) string { return ansi.Strip(s) }
