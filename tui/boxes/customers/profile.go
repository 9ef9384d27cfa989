package customers

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/tui/common"
)

// profilePane shows who the customer is: identity, contact points,
// attributes, preferences, sources and value. The lines are built when the
// data or the width changes, and scrolled with j/k.
type profilePane struct {
	c      *common.Context
	data   *customerData
	lines  []string
	scroll int
	w, h   int
}

func newProfilePane(c *common.Context) *profilePane { return &profilePane{c: c} }

func (p *profilePane) setData(d *customerData) {
	p.data = d
	p.build()
}

func (p *profilePane) setSize(w, h int) {
	p.w, p.h = w, h
	p.build()
}

func (p *profilePane) maxScroll() int { return max(len(p.lines)-p.h, 0) }

func (p *profilePane) update(msg tea.Msg) tea.Cmd {
	km := p.c.Keys
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, km.Down):
			p.scroll++
		case key.Matches(msg, km.Up):
			p.scroll--
		case key.Matches(msg, km.HalfPageDown, km.PageDown):
			p.scroll += max(p.h/2, 1)
		case key.Matches(msg, km.HalfPageUp, km.PageUp):
			p.scroll -= max(p.h/2, 1)
		case key.Matches(msg, km.Top):
			p.scroll = 0
		case key.Matches(msg, km.Bottom):
			p.scroll = p.maxScroll()
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelDown:
			p.scroll += 3
		case tea.MouseWheelUp:
			p.scroll -= 3
		}
	}
	p.scroll = min(max(p.scroll, 0), p.maxScroll())
	return nil
}

func (p *profilePane) View() string {
	if p.h <= 0 {
		return ""
	}
	end := min(p.scroll+p.h, len(p.lines))
	return strings.Join(p.lines[min(p.scroll, end):end], "\n")
}

// labelWidth is the width of the section labels on the left.
const labelWidth = 13

// build lays the profile out as label/value lines.
func (p *profilePane) build() {
	p.lines = p.lines[:0]
	if p.data == nil || p.w <= 0 {
		return
	}
	th := p.c.Theme
	d := p.data
	c := &d.Customer
	valueW := max(p.w-labelWidth, 10)
	add := func(label string, values ...string) {
		for i, v := range values {
			l := ""
			if i == 0 {
				l = label
			}
			for j, part := range strings.Split(wrapText(v, valueW), "\n") {
				if j > 0 {
					l = ""
				}
				p.lines = append(p.lines, fit(th.Muted.Render(fit(l, labelWidth))+part, p.w))
			}
		}
	}
	none := th.Muted.Render("—")
	hidden := th.Muted.Render("hidden: needs permission to see personal data")
	or := func(s string) string {
		if strings.TrimSpace(s) == "" {
			return none
		}
		return s
	}

	if c.Erased {
		add("Identity", fmt.Sprintf("erased on %s · customer #%d", c.ErasedAt.UTC().Format("2006-01-02"), c.ID),
			"personal data and consent evidence were removed; the ledger keeps the pseudonymous entries")
		p.addValue(add)
		return
	}

	name := strings.TrimSpace(strings.Join([]string{c.Salutation, c.FirstName, c.LastName}, " "))
	identity := []string{or(name)}
	if c.Company != "" {
		identity = append(identity, "company "+c.Company)
	}
	kind := string(c.Type)
	if !c.BirthDate.IsZero() {
		if d.Unmasked {
			kind += fmt.Sprintf(" · born %s (%d)", c.BirthDate, c.BirthDate.AgeAt(p.c.Now()))
		} else {
			kind += fmt.Sprintf(" · born %d", c.BirthDate.Year)
		}
	}
	identity = append(identity, kind)
	identity = append(identity, fmt.Sprintf("customer #%d · since %s · updated %s", c.ID,
		c.CreatedAt.UTC().Format("2006-01-02"), c.UpdatedAt.UTC().Format("2006-01-02")))
	if c.Suppressed {
		identity = append(identity, th.Deny.Render("suppressed: a contact point matches an erased person"))
	}
	add("Identity", identity...)
	p.blank()

	add("Email", or(c.Email))
	add("Phone", or(c.Phone))
	addr := c.Address
	street := strings.TrimSpace(addr.Street)
	town := strings.TrimSpace(strings.Join([]string{addr.PostalCode, addr.City}, " "))
	if addr.Country != "" && town != "" {
		town += ", " + addr.Country
	}
	switch {
	case street == "" && town == "":
		add("Address", none)
	case street == "":
		add("Address", town)
	default:
		add("Address", street, town)
	}
	var reach []string
	for _, k := range model.ChannelKinds {
		if c.ContactPoints.Has(k) {
			reach = append(reach, string(k))
		}
	}
	add("Reachable", or(strings.Join(reach, ", ")))
	p.blank()

	if d.Unmasked {
		add("Attributes", keyValues(c.Attributes, none)...)
	} else {
		add("Attributes", hidden)
	}
	add("Preferences", keyValues(c.Preferences, none)...)
	add("Tags", or(strings.Join(c.Tags, ", ")))
	if d.Unmasked {
		var src []string
		for _, s := range c.Sources {
			src = append(src, s.Source+" "+s.ExternalID)
		}
		add("Sources", or(strings.Join(src, " · ")))
	} else {
		add("Sources", hidden)
	}
	p.blank()
	p.addValue(add)
}

// addValue adds the purchase aggregates and, when computed, the scores.
func (p *profilePane) addValue(add func(string, ...string)) {
	d := p.data
	c := &d.Customer
	value := []string{c.Revenue.Format(d.Currency) + " revenue · " + plural(c.PurchaseCount, "purchase")}
	if !c.LastPurchaseAt.IsZero() {
		value = append(value, fmt.Sprintf("first %s · last %s", c.FirstPurchaseAt.UTC().Format("2006-01-02"), c.LastPurchaseAt.UTC().Format("2006-01-02")))
	}
	if !c.LastActivityAt.IsZero() {
		value = append(value, "last activity "+c.LastActivityAt.UTC().Format("2006-01-02 15:04")+" ("+ago(p.c.Now(), c.LastActivityAt)+")")
	}
	add("Value", value...)
	if d.Scored {
		s := d.Scores
		add("Scores", fmt.Sprintf("RFM %d%d%d %s · CLV %s · P(alive) %.0f%%", s.R, s.F, s.M, s.Segment, s.CLV.Format(d.Currency), s.PAlive*100),
			"computed "+s.ComputedAt.UTC().Format("2006-01-02"))
	}
}

func (p *profilePane) blank() { p.lines = append(p.lines, strings.Repeat(" ", p.w)) }

// keyValues renders a map as sorted "key value" lines.
func keyValues(m map[string]string, none string) []string {
	if len(m) == 0 {
		return []string{none}
	}
	keys := slices.Sorted(maps.Keys(m))
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + ": " + m[k]
	}
	return out
}
