package channels

import (
	"encoding/binary"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/vtable"
	"karton/tui/theme"
)

// The Outbox view: per channel how many messages are queued, sent,
// suppressed at dispatch (the consent re-check denied), cancelled and dead,
// and the dead letters of the selected channel with their reason. Failures
// are never dropped: a dead letter stays listed until an operator retries
// it (r) or all of the channel's (R); the dispatch re-check applies to a
// retried message as to any other.

// deadTableID names the dead-letter table in fetch requests and replies.
const deadTableID = "channels:dead"

var deadColumns = []vtable.Column{
	{Title: "message", Width: 8, Align: vtable.AlignRight},
	{Title: "failed", Width: 16},
	{Title: "reason", Width: 20, Flex: 4},
	{Title: "step", Width: 5, Align: vtable.AlignRight},
	{Title: "customer", Width: 8, Align: vtable.AlignRight},
	{Title: "tries", Width: 5, Align: vtable.AlignRight},
}

// maxBackwardScan bounds what a jump to the end of the dead letters reads
// (the store lists them forward only).
const maxBackwardScan = 20000

// fetchDead reads dead letters of a channel for the table.
func fetchDead(c *common.Context, ch model.ChannelID, req vtable.FetchRequest) tea.Cmd {
	s, actor := c.Store, c.Actor
	return func() tea.Msg {
		var rows []vtable.Row
		atEdge := false
		err := s.View(actor, func(r *store.Reader) error {
			if !req.Backward {
				var after store.OutboxID
				if req.After != nil {
					after = store.OutboxID(binary.BigEndian.Uint64(req.After))
					if req.Inclusive && after > 0 {
						after--
					}
				}
				for len(rows) < req.Limit {
					page, next, err := r.ChannelDeadLetters(ch, after, req.Limit-len(rows))
					if err != nil {
						return err
					}
					for i := range page {
						rows = append(rows, deadRow(&page[i]))
					}
					if next == 0 {
						atEdge = true
						return nil
					}
					after = next
				}
				return nil
			}
			// Backward: walk forward up to the anchor and keep the tail.
			var before store.OutboxID = 1<<63 - 1
			if req.After != nil {
				before = store.OutboxID(binary.BigEndian.Uint64(req.After))
				if req.Inclusive {
					before++
				}
			}
			var after store.OutboxID
			var tail []store.OutboxEntry
			scanned, seen := 0, 0
			for scanned < maxBackwardScan {
				page, next, err := r.ChannelDeadLetters(ch, after, 1000)
				if err != nil {
					return err
				}
				scanned += len(page)
				for _, m := range page {
					if m.ID >= before {
						next = 0
						break
					}
					seen++
					tail = append(tail, m)
					if len(tail) > req.Limit {
						tail = tail[1:]
					}
				}
				if next == 0 {
					break
				}
				after = next
			}
			atEdge = seen <= req.Limit && scanned < maxBackwardScan
			for i := range tail {
				rows = append(rows, deadRow(&tail[i]))
			}
			return nil
		})
		return req.Reply(rows, atEdge, err)
	}
}

func deadRow(m *store.OutboxEntry) vtable.Row {
	reason := m.LastError
	if reason == "" {
		reason = "(no error recorded)"
	}
	return vtable.Row{
		Key: binary.BigEndian.AppendUint64(nil, uint64(m.ID)),
		Cells: []string{
			m.ID.String(), m.UpdatedAt.UTC().Format("2006-01-02 15:04"), strings.ReplaceAll(reason, "\n", " "),
			m.StepID.String(), m.CustomerID.String(), fmt.Sprint(m.Attempts),
		},
	}
}

// selectedDead returns the dead letter under the table's cursor.
func selectedDead(t *vtable.Table) (store.OutboxID, bool) {
	row, ok := t.Selected()
	if !ok || len(row.Key) != 8 {
		return 0, false
	}
	return store.OutboxID(binary.BigEndian.Uint64(row.Key)), true
}

// Retry messages.
type (
	deadRetriedMsg struct {
		id  store.OutboxID
		err error
	}
	channelRetriedMsg struct {
		channel model.ChannelID
		name    string
		n       int
		err     error
	}
)

func retryOne(c *common.Context, id store.OutboxID) tea.Cmd {
	s, actor := c.Store, c.Actor
	return func() tea.Msg {
		err := s.Update(actor, func(tx *store.Tx) error { return tx.RetryDeadLetter(id) })
		return deadRetriedMsg{id: id, err: err}
	}
}

func retryChannel(c *common.Context, ch model.Channel) tea.Cmd {
	s, actor := c.Store, c.Actor
	return func() tea.Msg {
		n, err := s.RetryChannelDeadLetters(actor, ch.ID)
		return channelRetriedMsg{channel: ch.ID, name: ch.Name, n: n, err: err}
	}
}

// outboxSummary draws the per-channel counts with the cursor row marked,
// exactly w cells wide.
func outboxSummary(th *theme.Theme, o *overview, cursor int, focused bool, w int) []string {
	cols := []struct {
		title string
		width int
	}{{"queued", 8}, {"sent", 9}, {"suppressed", 10}, {"cancelled", 9}, {"dead", 7}}
	nums := 0
	for _, c := range cols {
		nums += c.width + 1
	}
	nameW := max(w-nums, 8)
	head := fit("channel", nameW)
	for _, c := range cols {
		head += " " + fitRight(c.title, c.width)
	}
	lines := []string{th.TableHeader.Render(fit(head, w))}
	for i, ch := range o.channels {
		ob := o.outbox[ch.ID]
		vals := []int64{ob.Queued(), ob.Counts.Sent, ob.Counts.Suppressed, ob.Counts.Cancelled, ob.Counts.Dead}
		line := fit(ch.Name, nameW)
		for j, c := range cols {
			cell := fitRight(groupInt(vals[j]), c.width)
			if j == len(cols)-1 && vals[j] > 0 && i != cursor {
				cell = th.Bad.Render(cell)
			}
			line += " " + cell
		}
		line = fit(line, w)
		if i == cursor {
			if focused {
				line = th.TableSelected.Render(line)
			} else {
				line = th.TableSelectedBlurred.Render(line)
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// fitRight cuts or pads a plain text to w cells, aligned right.
func fitRight(s string, w int) string {
	if len([]rune(s)) >= w {
		return fit(s, w)
	}
	return strings.Repeat(" ", w-len([]rune(s))) + s
}
