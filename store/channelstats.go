package store

import (
	"context"
	"fmt"
	"slices"

	"karton/model"
)

// Aggregate reads for the cockpit's Channels box: activity per channel and
// day from the rollups, reach per purpose from the reach counters, consent
// coverage (allowed, and denied by reason) from the consent projection, and
// the outbox counts and dead letters of a channel. None of them reads raw
// interactions or consent history.

// ChannelDay is one channel's activity on one day, from the rollups.
// Responses and Delivered follow KPIRow's definitions; Conversions are the
// "converted" events the channel's software reported; Cost is the value of
// the "sent" interactions (each books the channel's cost per contact).
type ChannelDay struct {
	Day         Day
	Contacts    int64
	Delivered   int64
	Bounced     int64
	Responses   int64
	Conversions int64
	Cost        model.Money
}

// ChannelActivity returns every channel's activity per day for the days
// from..to (inclusive), as dense series with one entry per day (index 0 is
// from). Interactions without a channel id (an inbound call) are under
// channel 0. It reads rollup rows only, a few hundred for 90 days.
func (r *Reader) ChannelActivity(from, to Day) (map[model.ChannelID][]ChannelDay, error) {
	if to < from {
		return nil, fmt.Errorf("channel activity: day %d lies before %d", to, from)
	}
	n := int(to-from) + 1
	out := map[model.ChannelID][]ChannelDay{}
	delivered := map[model.ChannelID]bool{} // the channel reports deliveries
	series := func(id model.ChannelID) []ChannelDay {
		s, ok := out[id]
		if !ok {
			s = make([]ChannelDay, n)
			for i := range s {
				s[i].Day = from + Day(i)
			}
			out[id] = s
		}
		return s
	}
	err := r.InteractionRollups(from, to, func(row InteractionRollup) error {
		d := &series(row.ChannelID)[row.Day-from]
		switch row.Kind {
		case model.InteractionSent:
			d.Contacts += row.Count
			d.Cost += row.Value
		case model.InteractionDelivered:
			d.Delivered += row.Count
			delivered[row.ChannelID] = true
		case model.InteractionBounced:
			d.Bounced += row.Count
		case model.InteractionClicked, model.InteractionReplied, model.InteractionRegistered:
			d.Responses += row.Count
		case model.InteractionConverted:
			d.Conversions += row.Count
		}
		return nil
	})
	// Channels that report no deliveries (post, phone) count what was not
	// bounced as delivered, as the KPIs do.
	for id, s := range out {
		if !delivered[id] {
			for i := range s {
				s[i].Delivered = max(0, s[i].Contacts-s[i].Bounced)
			}
		}
	}
	return out, err
}

// PurposeReach is how many customers are contactable now for one purpose on
// a channel kind.
type PurposeReach struct {
	Purpose model.Purpose
	Reach   int64
}

// ReachByPurpose reads the maintained reach counters of a channel kind, one
// per purpose in id order.
func (r *Reader) ReachByPurpose(k model.ChannelKind) ([]PurposeReach, error) {
	if !k.Valid() {
		return nil, fmt.Errorf("reach: unknown channel kind %q", k)
	}
	ps, err := r.Purposes()
	if err != nil {
		return nil, err
	}
	out := make([]PurposeReach, len(ps))
	for i, p := range ps {
		out[i] = PurposeReach{Purpose: p, Reach: r.Reach(k, p.ID)}
	}
	return out, nil
}

// ScopeCoverage is the consent coverage of one channel kind and purpose:
// how many customers' current decisions allow contact, and the count of
// each reason (allowing and denying ones).
type ScopeCoverage struct {
	Channel  model.ChannelKind
	Purpose  model.PurposeID
	Allowed  int64
	Denied   int64
	ByReason map[model.Reason]int64
}

// Coverage is the consent coverage of every scope, tallied from the
// customers' consent projections.
type Coverage struct {
	// Customers is the number of projections tallied.
	Customers int64
	// Scopes are ordered by channel kind, then purpose id.
	Scopes []ScopeCoverage

	// tally state: counts per scope, by reason code; slots remembers the
	// scope at each position of the last projection, which is the same
	// position in every projection of a store, so the lookup is a compare.
	counts map[scopeKey]*[256]int64
	slots  []coverSlot
}

type coverSlot struct {
	key scopeKey
	c   *[256]int64
}

// For returns the scopes of one channel kind, by purpose id.
func (c *Coverage) For(k model.ChannelKind) []ScopeCoverage {
	var out []ScopeCoverage
	for _, s := range c.Scopes {
		if s.Channel == k {
			out = append(out, s)
		}
	}
	return out
}

func (c *Coverage) slot(i int, k scopeKey) *[256]int64 {
	if i < len(c.slots) && c.slots[i].key == k {
		return c.slots[i].c
	}
	if c.counts == nil {
		c.counts = map[scopeKey]*[256]int64{}
	}
	n := c.counts[k]
	if n == nil {
		n = new([256]int64)
		c.counts[k] = n
	}
	for len(c.slots) <= i {
		c.slots = append(c.slots, coverSlot{})
	}
	c.slots[i] = coverSlot{key: k, c: n}
	return n
}

// Complete turns the tallies into Scopes. Store.ConsentCoverage calls it;
// a caller that tallies chunk by chunk with Reader.ConsentCoverage calls it
// after the last chunk.
func (c *Coverage) Complete() {
	c.Scopes = c.Scopes[:0]
	for k, n := range c.counts {
		sc := ScopeCoverage{Channel: k.k, Purpose: k.p, ByReason: map[model.Reason]int64{}}
		for code, v := range n {
			if v == 0 {
				continue
			}
			r := reasonFromCode(byte(code))
			if r == "" {
				r = "UNKNOWN"
			}
			sc.ByReason[r] += v
			if r.Allows() {
				sc.Allowed += v
			} else {
				sc.Denied += v
			}
		}
		c.Scopes = append(c.Scopes, sc)
	}
	slices.SortFunc(c.Scopes, func(a, b ScopeCoverage) int {
		if a.Channel != b.Channel {
			return int(a.Channel.Code()) - int(b.Channel.Code())
		}
		return int(a.Purpose) - int(b.Purpose)
	})
}

// ConsentCoverage tallies the projections of up to limit customers with ids
// after the id after into cov, and returns the id to continue from (0 when
// every projection has been read). Each projection is read in place without
// decoding it into scopes. A screen calls Store.ConsentCoverage, which
// walks the whole store in short read transactions.
func (r *Reader) ConsentCoverage(cov *Coverage, after model.CustomerID, limit int) (model.CustomerID, error) {
	c := r.tx.Bucket(bConsentState).Cursor()
	n := 0
	defer r.release()
	for k, v := c.Seek(u64(uint64(after) + 1)); k != nil; k, v = c.Next() {
		if n == limit {
			return model.CustomerID(readU64(k) - 1), nil
		}
		n++
		if err := cov.tally(v); err != nil {
			return 0, fmt.Errorf("consent state of customer %d: %w", readU64(k), err)
		}
	}
	return 0, nil
}

// tally counts one encoded projection (see encodeConsentState), run by
// run, without decoding it.
func (c *Coverage) tally(b []byte) error {
	_, runs, err := openStateRuns(b)
	if err != nil {
		return err
	}
	var run stateRun
	i := 0 // the position of the run's first scope in the projection
	for runs.next(&run) {
		if run.reason != 0 { // 0: never decided (a use noted before the first decision)
			kind := model.KindFromCode(run.ch)
			for j := range run.n {
				c.slot(i+j, scopeKey{kind, model.PurposeID(run.purpose + uint64(j))})[run.reason]++
			}
		}
		i += run.n
	}
	if err := runs.done(); err != nil {
		return err
	}
	c.Customers++
	return nil
}

// coverageChunk is the number of projections one read transaction of
// Store.ConsentCoverage tallies: long enough to be efficient, short enough
// that a writer's freed pages are reused between chunks.
const coverageChunk = 50000

// ConsentCoverage tallies every customer's consent projection, in read
// transactions of coverageChunk customers, so it never holds one long read
// transaction over a million customers. progress, when set, is told how
// many projections were tallied after each chunk. It stops with ctx's error
// when ctx ends. Any actor may read it (aggregates only).
func (s *Store) ConsentCoverage(ctx context.Context, by model.Actor, progress func(done int64)) (Coverage, error) {
	var cov Coverage
	var after model.CustomerID
	for {
		if err := ctx.Err(); err != nil {
			return cov, err
		}
		var next model.CustomerID
		err := s.View(by, func(r *Reader) error {
			var err error
			next, err = r.ConsentCoverage(&cov, after, coverageChunk)
			return err
		})
		if err != nil {
			return cov, err
		}
		if progress != nil {
			progress(cov.Customers)
		}
		if next == 0 {
			cov.Complete()
			return cov, nil
		}
		after = next
	}
}

// ChannelOutbox is the outbox of one channel: the counts of its steps'
// messages by status, and the steps that have messages.
type ChannelOutbox struct {
	Counts OutboxCounts
	Steps  []model.StepID
}

// Queued is the number of messages waiting or being sent.
func (c ChannelOutbox) Queued() int64 { return c.Counts.Pending + c.Counts.Sending }

// OutboxByChannel adds up the maintained per-step outbox counters by the
// steps' channels (a store has tens or hundreds of steps, not millions).
func (r *Reader) OutboxByChannel() (map[model.ChannelID]ChannelOutbox, error) {
	out := map[model.ChannelID]ChannelOutbox{}
	b := r.tx.Bucket(bSteps)
	if b == nil {
		return out, nil
	}
	err := b.ForEach(func(k, v []byte) error {
		var st model.Step
		if err := decodeStep(v, &st); err != nil {
			return fmt.Errorf("step %d: %w", readU64(k), err)
		}
		c := r.OutboxCounts(st.ID)
		if c.Total() == 0 {
			return nil
		}
		co := out[st.ChannelID]
		co.Counts.Pending += c.Pending
		co.Counts.Sending += c.Sending
		co.Counts.Sent += c.Sent
		co.Counts.Suppressed += c.Suppressed
		co.Counts.Cancelled += c.Cancelled
		co.Counts.Dead += c.Dead
		co.Steps = append(co.Steps, st.ID)
		out[st.ChannelID] = co
		return nil
	})
	return out, err
}

// maxDeadScan bounds the dead letters one ChannelDeadLetters page looks at,
// so a channel with few dead letters among many cannot stall a screen; the
// page comes back short with a cursor to continue from.
const maxDeadScan = 20000

// ChannelDeadLetters lists up to limit dead letters of one channel (0: of
// every channel) with ids after the id after, oldest first. The second
// result continues the listing (0: complete).
func (r *Reader) ChannelDeadLetters(ch model.ChannelID, after OutboxID, limit int) ([]OutboxEntry, OutboxID, error) {
	dead, entries := bucketOrNil(r.tx, bOutboxDead), bucketOrNil(r.tx, bOutbox)
	if dead == nil || entries == nil {
		return nil, 0, nil
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var out []OutboxEntry
	c := dead.Cursor()
	scanned := 0
	for k, _ := c.Seek(u64(uint64(after) + 1)); k != nil; k, _ = c.Next() {
		id := OutboxID(readU64(k))
		if len(out) == limit || scanned == maxDeadScan {
			return out, id - 1, nil
		}
		scanned++
		v := entries.Get(k)
		if v == nil {
			return out, 0, fmt.Errorf("dead letter %d has no outbox entry: %w", id, errCorrupt)
		}
		var m OutboxEntry
		if err := decodeOutbox(v, &m); err != nil {
			return out, 0, fmt.Errorf("outbox message %d: %w", id, err)
		}
		if ch == 0 || m.ChannelID == ch {
			out = append(out, m)
		}
	}
	return out, 0, nil
}

// RetryChannelDeadLetters retries every dead letter of a channel's steps
// (RetryDeadLetters for each step that has any) and returns how many it
// retried. Like RetryDeadLetter it needs the permission to launch steps.
func (s *Store) RetryChannelDeadLetters(by model.Actor, ch model.ChannelID) (int, error) {
	if err := by.Require(model.PermEditCampaigns, "retry dead letters"); err != nil {
		return 0, err
	}
	var steps []model.StepID
	err := s.View(by, func(r *Reader) error {
		byCh, err := r.OutboxByChannel()
		for _, st := range byCh[ch].Steps {
			if r.OutboxCounts(st).Dead > 0 {
				steps = append(steps, st)
			}
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	total := 0
	for _, st := range steps {
		n, err := s.RetryDeadLetters(by, st)
		total += n
		if err != nil {
			return total, fmt.Errorf("retry dead letters of step %d: %w", st, err)
		}
	}
	return total, nil
}
