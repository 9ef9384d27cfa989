package customers

import (
	"encoding/binary"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/tui/common"
	"karton/tui/components/vtable"
)

// consentsPane shows the decision now for every channel kind × purpose,
// the full decision for the cell under the cursor, and the consent ledger
// of the customer, newest first.
type consentsPane struct {
	c    *common.Context
	data *customerData

	row, col int // matrix cursor: model.ChannelKinds[row] × Purposes[col]

	history *vtable.Table
	focused bool

	w, h int
}

const (
	historyTableID  = "customer-consent-history"
	matrixLabelW    = 10
	matrixMinCellW  = 11
	matrixMaxCellW  = 16
	cellDetailLines = 2
)

func newConsentsPane(c *common.Context) *consentsPane {
	p := &consentsPane{c: c}
	p.history = vtable.New(historyTableID, c.Theme, c.Keys, p.fetchHistory)
	p.history.SetColumns([]vtable.Column{
		{Title: "effective", Width: 16},
		{Title: "event", Width: 13},
		{Title: "scope", Width: 16, Flex: 1},
		{Title: "basis", Width: 10},
		{Title: "source", Width: 10, Flex: 1},
		{Title: "by", Width: 8},
		{Title: "id", Width: 6, Align: vtable.AlignRight},
		{Title: "evidence", Width: 8, Flex: 2},
	})
	return p
}

func (p *consentsPane) setData(d *customerData) {
	p.data = d
	p.row = min(p.row, len(model.ChannelKinds)-1)
	p.col = min(p.col, max(len(d.Purposes)-1, 0))
}

func (p *consentsPane) resetCursor() { p.row, p.col = 0, 0 }

// historyReset reloads the history table from the newest event.
func (p *consentsPane) historyReset() tea.Cmd {
	if p.data == nil {
		return nil
	}
	p.history.SetTotal(len(p.data.History))
	return p.history.Reset()
}

// fetchHistory serves the history table from the loaded ledger: the rows
// are in memory already, the command only slices them.
func (p *consentsPane) fetchHistory(req vtable.FetchRequest) tea.Cmd {
	d := p.data
	return func() tea.Msg {
		if d == nil {
			return req.Reply(nil, true, nil)
		}
		n := len(d.History)
		from := 0
		if req.After != nil {
			from = int(binary.BigEndian.Uint64(req.After))
			if !req.Inclusive && !req.Backward {
				from++
			}
		} else if req.Backward {
			from = n
		}
		var lo, hi int
		if req.Backward {
			lo, hi = max(from-req.Limit, 0), min(from, n)
		} else {
			lo, hi = min(from, n), min(from+req.Limit, n)
		}
		rows := make([]vtable.Row, 0, hi-lo)
		for i := lo; i < hi; i++ {
			k := make([]byte, 8)
			binary.BigEndian.PutUint64(k, uint64(i))
			rows = append(rows, vtable.Row{Key: k, Cells: historyCells(d, &d.History[i])})
		}
		atEdge := hi == n
		if req.Backward {
			atEdge = lo == 0
		}
		return req.Reply(rows, atEdge, nil)
	}
}

func historyCells(d *customerData, e *model.ConsentEvent) []string {
	scope := "all channels"
	if e.Kind.Scoped() {
		scope = string(e.Channel) + "/" + d.purposeName(e.PurposeID)
	}
	ev := model.EvidenceCell(e.HasEvidence, !d.Unmasked, d.Evidence[e.ID])
	return []string{
		e.EffectiveAt.UTC().Format("2006-01-02 15:04"),
		string(e.Kind),
		scope,
		string(e.Basis),
		e.Source,
		e.Actor,
		"#" + e.ID.String(),
		ev,
	}
}

func (p *consentsPane) setSize(w, h int) {
	p.w, p.h = w, h
	p.history.SetSize(w, p.historyHeight())
}

func (p *consentsPane) setOrigin(x, y int) {
	p.history.SetOrigin(x, y+p.h-p.historyHeight())
}

func (p *consentsPane) matrixHeight() int { return 1 + len(model.ChannelKinds) }

func (p *consentsPane) historyHeight() int {
	return max(p.h-p.matrixHeight()-cellDetailLines-1, 0)
}

func (p *consentsPane) setFocus(f bool) { p.focused = f }

// selected returns the scope under the matrix cursor.
func (p *consentsPane) selected() (model.ChannelKind, model.PurposeID) {
	k := model.ChannelKinds[p.row]
	if p.data == nil || len(p.data.Purposes) == 0 {
		return k, 0
	}
	return k, p.data.Purposes[p.col].ID
}

func (p *consentsPane) update(msg tea.Msg) tea.Cmd {
	km := p.c.Keys
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		nPurposes := 0
		if p.data != nil {
			nPurposes = len(p.data.Purposes)
		}
		switch {
		case key.Matches(msg, km.Down):
			p.row = min(p.row+1, len(model.ChannelKinds)-1)
		case key.Matches(msg, km.Up):
			p.row = max(p.row-1, 0)
		case key.Matches(msg, km.Right):
			p.col = min(p.col+1, max(nPurposes-1, 0))
		case key.Matches(msg, km.Left):
			p.col = max(p.col-1, 0)
		case key.Matches(msg, km.HalfPageDown, km.HalfPageUp, km.PageDown, km.PageUp):
			// The history scrolls with the page keys while the matrix
			// keeps the arrows.
			p.history.Focus()
			cmd := p.history.Update(msg)
			p.history.Blur()
			return cmd
		}
		return nil
	}
	return p.history.Update(msg)
}

// cellWidth is the width of one matrix cell and how many purposes fit.
func (p *consentsPane) cellWidth() (int, int) {
	n := len(p.data.Purposes)
	if n == 0 {
		return 0, 0
	}
	room := p.w - matrixLabelW
	w := min(max(room/n, matrixMinCellW), matrixMaxCellW)
	return w, min(n, max(room/w, 1))
}

func (p *consentsPane) View() string {
	if p.data == nil || p.h <= 0 {
		return ""
	}
	th := p.c.Theme
	d := p.data
	cw, shown := p.cellWidth()
	// Keep the cursor's column on screen when not all purposes fit.
	first := 0
	if p.col >= shown {
		first = p.col - shown + 1
	}
	lines := make([]string, 0, p.h)

	var head strings.Builder
	head.WriteString(fit("", matrixLabelW))
	for j := first; j < first+shown && j < len(d.Purposes); j++ {
		head.WriteString(fit(" "+d.Purposes[j].Name, cw))
	}
	if hidden := len(d.Purposes) - shown; hidden > 0 {
		head.WriteString(fmt.Sprintf(" +%d", hidden))
	}
	lines = append(lines, th.TableHeader.Render(fit(head.String(), p.w)))

	for i, k := range model.ChannelKinds {
		var b strings.Builder
		b.WriteString(th.Muted.Render(fit(string(k), matrixLabelW)))
		for j := first; j < first+shown && j < len(d.Purposes); j++ {
			res := d.Decisions[i][j]
			mark, style := "✗", th.Deny
			if res.Allow {
				mark, style = "✓", th.Allow
			}
			text := fit(" "+mark+" "+reasonShort(res.Reason), cw)
			if i == p.row && j == p.col {
				if p.focused {
					style = th.TableSelected
				} else {
					style = th.TableSelectedBlurred
				}
			}
			b.WriteString(style.Render(text))
		}
		lines = append(lines, fit(b.String(), p.w))
	}

	// The full decision of the cell under the cursor.
	k, pid := p.selected()
	detail := ""
	if len(d.Purposes) > 0 {
		res := d.Decisions[p.row][p.col]
		style := th.Deny
		if res.Allow {
			style = th.Allow
		}
		detail = th.Accent.Render(string(k)+" × "+d.purposeName(pid)) + "  " + style.Render(res.Explain())
	}
	detailLines := strings.Split(wrapText(detail, p.w), "\n")
	for i := range cellDetailLines {
		l := ""
		if i < len(detailLines) {
			l = detailLines[i]
		}
		lines = append(lines, fit(l, p.w))
	}
	lines = append(lines, fit(th.Title.Render("History · "+plural(len(d.History), "event")), p.w))
	if p.historyHeight() > 0 {
		lines = append(lines, p.history.View())
	}
	return strings.Join(lines, "\n")
}

// reasonShort names a reason code in a matrix cell in at most eight
// cells, so six purposes fit at 80 columns; the full code and its
// explanation are shown for the cell under the cursor.
func reasonShort(r model.Reason) string {
	switch r {
	case model.ReasonErasedSuppressed:
		return "erased"
	case model.ReasonNoContactPoint:
		return "no point"
	case model.ReasonContractual:
		return "contract"
	case model.ReasonObjection:
		return "objected"
	case model.ReasonWithdrawn:
		return "withdrew"
	case model.ReasonMinorNoParentalConsent:
		return "minor"
	case model.ReasonProcessingNotPermitted:
		return "no prof."
	case model.ReasonConsentStale:
		return "stale"
	case model.ReasonConsentDOI:
		return "DOI"
	case model.ReasonPendingDOI:
		return "DOI pend"
	case model.ReasonExistingCustomer:
		return "existing"
	case model.ReasonConsentPhone:
		return "phone ok"
	case model.ReasonPresumedB2B:
		return "B2B"
	case model.ReasonLegitimateInterest:
		return "legit."
	case model.ReasonConsent:
		return "consent"
	case model.ReasonNoValidBasis:
		return "no basis"
	case model.ReasonFrequencyCap:
		return "freq cap"
	}
	return string(r)
}
