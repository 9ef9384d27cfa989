package warehouse

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/tui/common"
	"karton/tui/components/palette"
	"karton/tui/keys"
)

// pick is a cursor over a list of n rows of which h are visible: the
// selection the drill-downs and actions of the newer views work on.
type pick struct {
	pos, top int
}

// move shifts the cursor by d rows within n and keeps it in the window of
// h rows.
func (p *pick) move(d, n, h int) {
	p.pos = max(0, min(p.pos+d, n-1))
	p.clamp(n, h)
}

// clamp keeps the cursor and the window valid after the list or the room
// changed.
func (p *pick) clamp(n, h int) {
	if n <= 0 {
		p.pos, p.top = 0, 0
		return
	}
	p.pos = max(0, min(p.pos, n-1))
	h = max(h, 1)
	if p.pos < p.top {
		p.top = p.pos
	}
	if p.pos >= p.top+h {
		p.top = p.pos - h + 1
	}
	p.top = max(0, min(p.top, max(n-h, 0)))
}

// pickKey moves p for the list keys (j/k, g/G, ctrl+d/u) and reports
// whether the key was one of them.
func pickKey(km *keys.KeyMap, msg tea.KeyPressMsg, p *pick, n, h int) bool {
	switch {
	case key.Matches(msg, km.Up):
		p.move(-1, n, h)
	case key.Matches(msg, km.Down):
		p.move(1, n, h)
	case key.Matches(msg, km.Top):
		p.move(-n, n, h)
	case key.Matches(msg, km.Bottom):
		p.move(n, n, h)
	case key.Matches(msg, km.HalfPageDown):
		p.move(max(h/2, 1), n, h)
	case key.Matches(msg, km.HalfPageUp):
		p.move(-max(h/2, 1), n, h)
	default:
		return false
	}
	return true
}

// drillFilter opens the Customers box filtered by expr (its filter
// language, e.g. "segment:champions"); title says who they are.
func drillFilter(expr, title string) tea.Cmd {
	return common.Goto(common.BoxCustomers, palette.Item{ID: common.ItemCustomerFilter + expr, Title: title, Kind: "customers"})
}

// drillIDs opens the Customers box on exactly these customers.
func drillIDs(ids []model.CustomerID, title string) tea.Cmd {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatUint(uint64(id), 10)
	}
	return common.Goto(common.BoxCustomers, palette.Item{ID: common.ItemCustomerIDs + strings.Join(parts, ","), Title: title, Kind: "customers"})
}

// quoteValue quotes a filter value holding a space.
func quoteValue(v string) string {
	if strings.ContainsAny(v, " \t") {
		return `"` + v + `"`
	}
	return v
}

// cursorMark is drawn in front of the selected row.
func cursorMark(selected bool) string {
	if selected {
		return "▸ "
	}
	return "  "
}
