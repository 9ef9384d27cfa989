package channels

import (
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
)

// activityDays is the span of the detail's activity chart; the table's
// contacts column and sparkline use the last tableDays of it.
const (
	activityDays = 90
	tableDays    = 30
)

// overview is everything the box shows except the consent coverage, read
// in one short transaction from maintained counters and rollups: the
// channels, the purposes, reach per kind × purpose, each channel's activity
// over activityDays and its outbox counts.
type overview struct {
	channels []model.Channel
	purposes []model.Purpose
	currency string
	// reach[kind][i] is the reach of purposes[i] on that kind.
	reach    map[model.ChannelKind][]int64
	activity map[model.ChannelID][]store.ChannelDay
	outbox   map[model.ChannelID]store.ChannelOutbox
	asOf     time.Time
}

// channel returns the channel with id, and false if it is gone.
func (o *overview) channel(id model.ChannelID) (model.Channel, bool) {
	for _, ch := range o.channels {
		if ch.ID == id {
			return ch, true
		}
	}
	return model.Channel{}, false
}

// headlineReach is the table's reach figure for a channel: the widest reach
// among the marketing purposes (what campaigns can use), or among all
// purposes when there is no marketing purpose. It returns the purpose too,
// so the detail can say which one the table shows.
func (o *overview) headlineReach(k model.ChannelKind) (int64, model.Purpose) {
	var best int64 = -1
	var bestP model.Purpose
	for pass := range 2 {
		for i, p := range o.purposes {
			if pass == 0 && p.Category != model.CategoryMarketing {
				continue
			}
			if r := o.reach[k][i]; r > best {
				best, bestP = r, p
			}
		}
		if best >= 0 {
			return best, bestP
		}
	}
	return 0, bestP
}

// last sums the last n days of a channel's activity.
func (o *overview) last(id model.ChannelID, n int) store.ChannelDay {
	var sum store.ChannelDay
	days := o.activity[id]
	for _, d := range days[max(len(days)-n, 0):] {
		sum.Contacts += d.Contacts
		sum.Delivered += d.Delivered
		sum.Bounced += d.Bounced
		sum.Responses += d.Responses
		sum.Conversions += d.Conversions
		sum.Cost += d.Cost
	}
	return sum
}

// contactsSeries is the per-day contacts of a channel's last n days.
func (o *overview) contactsSeries(id model.ChannelID, n int) []float64 {
	days := o.activity[id]
	if len(days) == 0 {
		// A channel without any activity draws a flat line like one that
		// was quiet only lately, not a gap.
		return make([]float64, n)
	}
	days = days[max(len(days)-n, 0):]
	out := make([]float64, len(days))
	for i, d := range days {
		out[i] = float64(d.Contacts)
	}
	return out
}

// overviewLoadedMsg carries an overview read.
type overviewLoadedMsg struct {
	seq  uint64
	data *overview
	err  error
}

// loadOverview reads the overview in a command.
func loadOverview(c *common.Context, seq uint64) tea.Cmd {
	s, actor, now := c.Store, c.Actor, c.Now()
	return func() tea.Msg {
		o := &overview{currency: s.Settings().Currency, asOf: now,
			reach: map[model.ChannelKind][]int64{}}
		to := store.DayOf(now)
		err := s.View(actor, func(r *store.Reader) error {
			var err error
			if o.channels, err = r.Channels(); err != nil {
				return fmt.Errorf("channels: %w", err)
			}
			if o.purposes, err = r.Purposes(); err != nil {
				return fmt.Errorf("purposes: %w", err)
			}
			for _, k := range model.ChannelKinds {
				rs := make([]int64, len(o.purposes))
				for i, p := range o.purposes {
					rs[i] = r.Reach(k, p.ID)
				}
				o.reach[k] = rs
			}
			if o.activity, err = r.ChannelActivity(to-activityDays+1, to); err != nil {
				return fmt.Errorf("activity: %w", err)
			}
			if o.outbox, err = r.OutboxByChannel(); err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
			return nil
		})
		return overviewLoadedMsg{seq: seq, data: o, err: err}
	}
}

// The consent coverage is tallied over every customer's projection, which
// takes about a second per million customers: it runs chunk by chunk, one
// command (and one short read transaction) per chunk, so the status bar
// shows its progress, a newer request drops the older one's chunks, and
// the update loop is never blocked.

// coverageChunk is the number of projections one command tallies.
const coverageChunk = 100_000

// coverageTask names the count in the status bar.
const coverageTask = "channels:coverage"

// coverageChunkMsg carries the tally after one chunk; next is where the
// following chunk starts (0: done).
type coverageChunkMsg struct {
	seq  uint64
	cov  *store.Coverage
	next model.CustomerID
	err  error
}

// countCoverage tallies one chunk of projections after the id after.
func countCoverage(c *common.Context, seq uint64, cov *store.Coverage, after model.CustomerID) tea.Cmd {
	s, actor := c.Store, c.Actor
	return func() tea.Msg {
		var next model.CustomerID
		err := s.View(actor, func(r *store.Reader) error {
			var err error
			next, err = r.ConsentCoverage(cov, after, coverageChunk)
			return err
		})
		if err == nil && next == 0 {
			cov.Complete()
		}
		return coverageChunkMsg{seq: seq, cov: cov, next: next, err: err}
	}
}

// customersCount reads the customer counter, for the coverage progress.
type customersCountedMsg struct {
	seq uint64
	n   int64
}

func countCustomers(c *common.Context, seq uint64) tea.Cmd {
	s, actor := c.Store, c.Actor
	return func() tea.Msg {
		var n int64
		_ = s.View(actor, func(r *store.Reader) error { n = r.Counter("customers"); return nil })
		return customersCountedMsg{seq: seq, n: n}
	}
}

// refreshDueMsg is the coalesced reload after store changes.
type refreshDueMsg struct{ seq uint64 }

// refreshDelay coalesces the store's change batches into one reload; the
// coverage, which costs a full pass, waits longer.
const (
	refreshDelay  = 300 * time.Millisecond
	coverageDelay = 3 * time.Second
)

// coverageDueMsg is the coalesced recount of the coverage.
type coverageDueMsg struct{ seq uint64 }

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
