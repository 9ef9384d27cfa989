package store

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// The outbox holds one message per allowing launch decision, written in
// the decision's transaction, until the dispatcher hands it to the
// channel's connector. Entries are never deleted; their status says what
// became of them:
//
//	pending                 waiting for its first or next attempt (DueAt)
//	sending                 claimed by a dispatcher; if that dispatcher dies,
//	                        the claim expires at DueAt and the entry is
//	                        tried again (connectors drop duplicates by id)
//	sent                    handed over; an interaction records it and its
//	                        cost is booked to the campaign
//	suppressed_at_dispatch  the consent re-check just before sending denied
//	                        (Reason, EventID): nothing was sent
//	cancelled               the campaign was cancelled before it was sent
//	dead                    failed for good (LastError); a dead letter
//	                        stays until an operator retries it
//
//	bucket outbox        id(8)           entry (outboxVersion)
//	bucket outbox_due    time(8) id(8)   -   waiting entries by DueAt (see below)
//	bucket outbox_dead   id(8)           -   dead letters
//	meta   outbox_cursor                 id(8): the last id the dispatchers took
//
// Ids come from the outbox's sequence, so a launch appends its messages
// in customer order at the right edge. A new message is not put in the due
// index: the dispatchers take new messages in id order from the outbox
// itself, after outbox_cursor, which saves a write per message at launch
// and a delete at dispatch. The due index holds the waiting entries the
// dispatchers have already taken (a retry, a claim's lease, a paused
// channel) and dead letters queued again. So a waiting entry is in the due
// index exactly when its id is at most the cursor.

// OutboxID identifies an outbox message; it is dispatch.Message.ID and the
// base of every idempotency key.
type OutboxID uint64

// String is the id in decimal, as the CLI and files show it.
func (id OutboxID) String() string { return strconv.FormatUint(uint64(id), 10) }

// OutboxStatus is where a message is in its life.
type OutboxStatus string

// The outbox statuses; see the package comment above.
const (
	OutboxPending    OutboxStatus = "pending"
	OutboxSending    OutboxStatus = "sending"
	OutboxSent       OutboxStatus = "sent"
	OutboxSuppressed OutboxStatus = "suppressed_at_dispatch"
	OutboxCancelled  OutboxStatus = "cancelled"
	OutboxDead       OutboxStatus = "dead"
)

// OutboxStatuses lists every status in life order.
var OutboxStatuses = []OutboxStatus{OutboxPending, OutboxSending, OutboxSent, OutboxSuppressed, OutboxCancelled, OutboxDead}

// ParseOutboxStatus validates a status typed by a user.
func ParseOutboxStatus(s string) (OutboxStatus, error) {
	for _, x := range OutboxStatuses {
		if string(x) == s {
			return x, nil
		}
	}
	return "", fmt.Errorf("unknown outbox status %q (one of pending, sending, sent, suppressed_at_dispatch, cancelled, dead)", s)
}

// Final reports whether nothing more will happen to the message unless an
// operator retries it.
func (s OutboxStatus) Final() bool { return s != OutboxPending && s != OutboxSending }

func (s OutboxStatus) code() byte {
	for i, x := range OutboxStatuses {
		if x == s {
			return byte(i + 1)
		}
	}
	return 0
}

func outboxStatusFromCode(b byte) OutboxStatus {
	if b == 0 || int(b) > len(OutboxStatuses) {
		return ""
	}
	return OutboxStatuses[b-1]
}

// OutboxEntry is one message in the outbox. Its content is rendered when it
// is sent, from the customer record as it is then, so the outbox keeps no
// copy of personal data.
type OutboxEntry struct {
	ID         OutboxID          `json:"id"`
	StepID     model.StepID      `json:"step_id"`
	CampaignID model.CampaignID  `json:"campaign_id"`
	ChannelID  model.ChannelID   `json:"channel_id"`
	Channel    model.ChannelKind `json:"channel"`
	PurposeID  model.PurposeID   `json:"purpose_id"`
	CustomerID model.CustomerID  `json:"customer_id"`
	DecisionID model.DecisionID  `json:"decision_id"`
	Status     OutboxStatus      `json:"status"`
	// Attempts counts hand-overs tried (a claim counts as one).
	Attempts  int       `json:"attempts"`
	CreatedAt time.Time `json:"created_at"`
	// DueAt is when a pending entry is next tried, or when the claim of a
	// sending entry expires.
	DueAt     time.Time `json:"due_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at"`
	SentAt    time.Time `json:"sent_at,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	// Reason, EventID, CheckedAt and LedgerPosition record the dispatch
	// re-check that suppressed the message.
	Reason         model.Reason  `json:"reason,omitempty"`
	EventID        model.EventID `json:"event,omitempty"`
	CheckedAt      time.Time     `json:"checked_at,omitzero"`
	LedgerPosition model.EventID `json:"ledger_position,omitempty"`
	// Cost is what sending it cost (the channel's cost per contact then).
	Cost model.Money `json:"cost,omitempty"`
}

const outboxVersion = 1

func encodeOutbox(buf []byte, m *OutboxEntry) []byte {
	e := encoder{buf: buf[:0]}
	e.byte1(outboxVersion)
	e.uvarint(uint64(m.ID))
	e.uvarint(uint64(m.StepID))
	e.uvarint(uint64(m.CampaignID))
	e.uvarint(uint64(m.ChannelID))
	e.byte1(m.Channel.Code())
	e.uvarint(uint64(m.PurposeID))
	e.uvarint(uint64(m.CustomerID))
	e.uvarint(uint64(m.DecisionID))
	e.byte1(m.Status.code())
	e.uvarint(uint64(m.Attempts))
	e.time(m.CreatedAt)
	e.time(m.DueAt)
	e.time(m.UpdatedAt)
	e.time(m.SentAt)
	e.str(m.LastError)
	e.byte1(reasonCode(m.Reason))
	e.uvarint(uint64(m.EventID))
	e.time(m.CheckedAt)
	e.uvarint(uint64(m.LedgerPosition))
	e.varint(int64(m.Cost))
	return e.buf
}

func decodeOutbox(b []byte, m *OutboxEntry) error {
	d := decoder{b: b}
	d.version(outboxVersion, "outbox entry")
	m.ID = OutboxID(d.uvarint())
	m.StepID = model.StepID(d.uvarint())
	m.CampaignID = model.CampaignID(d.uvarint())
	m.ChannelID = model.ChannelID(d.uvarint())
	m.Channel = model.KindFromCode(d.byte1())
	m.PurposeID = model.PurposeID(d.uvarint())
	m.CustomerID = model.CustomerID(d.uvarint())
	m.DecisionID = model.DecisionID(d.uvarint())
	m.Status = outboxStatusFromCode(d.byte1())
	m.Attempts = int(d.uvarint())
	m.CreatedAt = d.time()
	m.DueAt = d.time()
	m.UpdatedAt = d.time()
	m.SentAt = d.time()
	m.LastError = d.str()
	m.Reason = reasonFromCode(d.byte1())
	m.EventID = model.EventID(d.uvarint())
	m.CheckedAt = d.time()
	m.LedgerPosition = model.EventID(d.uvarint())
	m.Cost = model.Money(d.varint())
	return d.done("outbox entry")
}

func dueKey(at time.Time, id OutboxID) []byte {
	return appendU64(u64(timeKey(at)), uint64(id))
}

// outboxCounter names the maintained count of messages in a status, for
// all steps (step 0) or one.
func outboxCounter(step model.StepID, s OutboxStatus) string {
	if step == 0 {
		return "outbox:" + string(s)
	}
	return "outbox:" + step.String() + ":" + string(s)
}

var metaOutboxCursor = []byte("outbox_cursor")

// outboxWriter writes outbox entries with their indexes and counters; a
// transaction that writes many (a launch batch, a dispatch batch) looks the
// buckets up once.
type outboxWriter struct {
	t                  *Tx
	entries, due, dead *bolt.Bucket
	counters           map[stepStatus]string // counter names, built once
	// cursor is outbox_cursor as this transaction sees it (cursorSet:
	// moved, to be written by finish); start is where it stood when the
	// transaction began, which says whether a stored entry is in the due
	// index (each entry is written at most once per transaction).
	cursor, start OutboxID
	cursorSet     bool
}

type stepStatus struct {
	step   model.StepID
	status OutboxStatus
}

// count moves the counters of a status, for all steps and for the step.
func (w *outboxWriter) count(step model.StepID, s OutboxStatus, delta int64) {
	for _, k := range [2]stepStatus{{0, s}, {step, s}} {
		name, ok := w.counters[k]
		if !ok {
			name = outboxCounter(k.step, k.status)
			w.counters[k] = name
		}
		w.t.count(name, delta)
	}
}

func (t *Tx) outboxWriter() (*outboxWriter, error) {
	w := &outboxWriter{t: t, counters: map[stepStatus]string{}}
	var err error
	if w.entries, err = t.ensure(bOutbox); err != nil {
		return nil, err
	}
	// Entries are appended at the right edge but rewritten as their status
	// changes (a little longer with an error text): leave a little room.
	w.entries.FillPercent = 0.9
	if w.due, err = t.ensure(bOutboxDue); err != nil {
		return nil, err
	}
	if w.dead, err = t.ensure(bOutboxDead); err != nil {
		return nil, err
	}
	w.cursor = OutboxID(readU64(t.tx.Bucket(bMeta).Get(metaOutboxCursor)))
	w.start = w.cursor
	return w, nil
}

// takeNew moves the cursor over a new message the dispatcher takes: from
// now on the message is tracked by the due index.
func (w *outboxWriter) takeNew(id OutboxID) {
	if id > w.cursor {
		w.cursor, w.cursorSet = id, true
	}
}

// finish writes the cursor if it moved.
func (w *outboxWriter) finish() error {
	if !w.cursorSet {
		return nil
	}
	w.cursorSet = false
	return w.t.tx.Bucket(bMeta).Put(metaOutboxCursor, u64(uint64(w.cursor)))
}

// indexed reports whether an entry in its new state belongs in the due
// index; wasIndexed whether it is there as stored.
func (w *outboxWriter) indexed(m *OutboxEntry) bool    { return !m.Status.Final() && m.ID <= w.cursor }
func (w *outboxWriter) wasIndexed(m *OutboxEntry) bool { return !m.Status.Final() && m.ID <= w.start }

// put writes an entry whose status changed from old (nil for a new one),
// keeping the due and dead indexes and the counters in step.
func (w *outboxWriter) put(m *OutboxEntry, old *OutboxEntry) error {
	t := w.t
	m.UpdatedAt = t.now
	if old != nil {
		if w.wasIndexed(old) && (!w.indexed(m) || !old.DueAt.Equal(m.DueAt)) {
			if err := w.due.Delete(dueKey(old.DueAt, old.ID)); err != nil {
				return err
			}
		}
		if old.Status == OutboxDead {
			if err := w.dead.Delete(u64(uint64(old.ID))); err != nil {
				return err
			}
		}
		if old.Status != m.Status {
			w.count(m.StepID, old.Status, -1)
		}
	}
	if old == nil || old.Status != m.Status {
		w.count(m.StepID, m.Status, 1)
	}
	if w.indexed(m) && (old == nil || !w.wasIndexed(old) || !old.DueAt.Equal(m.DueAt)) {
		if err := w.due.Put(dueKey(m.DueAt, m.ID), nil); err != nil {
			return err
		}
	}
	if m.Status == OutboxDead {
		if err := w.dead.Put(u64(uint64(m.ID)), nil); err != nil {
			return err
		}
	}
	t.change(ChangeOutbox, uint64(m.StepID))
	return w.entries.Put(u64(uint64(m.ID)), t.keep(encodeOutbox(t.scratch[:0], m)))
}

// OutboxEntry returns one message.
func (r *Reader) OutboxEntry(id OutboxID) (OutboxEntry, error) {
	var m OutboxEntry
	b := bucketOrNil(r.tx, bOutbox)
	if b == nil {
		return m, notFound("outbox message", id.String())
	}
	v := b.Get(u64(uint64(id)))
	if v == nil {
		return m, notFound("outbox message", id.String())
	}
	return m, decodeOutbox(v, &m)
}

// OutboxFilter narrows an outbox listing; zero fields select everything.
type OutboxFilter struct {
	Step   model.StepID
	Status OutboxStatus
}

// maxOutboxScan bounds the entries one filtered page looks at, so a rare
// filter cannot stall a screen; the page comes back short with a cursor.
const maxOutboxScan = 50000

// Outbox lists up to limit messages with ids after the id after (0: from
// the first), in id order. The second result is the id to continue from,
// 0 when the listing is complete. Dead letters alone are listed faster
// with DeadLetters.
func (r *Reader) Outbox(f OutboxFilter, after OutboxID, limit int) ([]OutboxEntry, OutboxID, error) {
	b := bucketOrNil(r.tx, bOutbox)
	if b == nil {
		return nil, 0, nil
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var out []OutboxEntry
	c := b.Cursor()
	scanned := 0
	var last OutboxID
	for k, v := c.Seek(u64(uint64(after) + 1)); k != nil; k, v = c.Next() {
		if len(out) == limit || scanned == maxOutboxScan {
			return out, last, nil
		}
		scanned++
		var m OutboxEntry
		if err := decodeOutbox(v, &m); err != nil {
			return out, 0, fmt.Errorf("outbox message %d: %w", readU64(k), err)
		}
		last = m.ID
		if (f.Step == 0 || m.StepID == f.Step) && (f.Status == "" || m.Status == f.Status) {
			out = append(out, m)
		}
	}
	return out, 0, nil
}

// DeadLetters lists up to limit dead letters after the id after, oldest
// first, for the cockpit's retry screen. The second result continues the
// listing (0: complete).
func (r *Reader) DeadLetters(after OutboxID, limit int) ([]OutboxEntry, OutboxID, error) {
	b := bucketOrNil(r.tx, bOutboxDead)
	if b == nil {
		return nil, 0, nil
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var out []OutboxEntry
	c := b.Cursor()
	for k, _ := c.Seek(u64(uint64(after) + 1)); k != nil; k, _ = c.Next() {
		if len(out) == limit {
			return out, out[len(out)-1].ID, nil
		}
		m, err := r.OutboxEntry(OutboxID(readU64(k)))
		if err != nil {
			return out, 0, err
		}
		out = append(out, m)
	}
	return out, 0, nil
}

// OutboxCounts is how many messages are in each status.
type OutboxCounts struct {
	Pending    int64 `json:"pending"`
	Sending    int64 `json:"sending"`
	Sent       int64 `json:"sent"`
	Suppressed int64 `json:"suppressed_at_dispatch"`
	Cancelled  int64 `json:"cancelled"`
	Dead       int64 `json:"dead"`
}

// Total is the number of messages.
func (c OutboxCounts) Total() int64 {
	return c.Pending + c.Sending + c.Sent + c.Suppressed + c.Cancelled + c.Dead
}

// OutboxCounts reads the maintained counts of one step (0: all steps).
func (r *Reader) OutboxCounts(step model.StepID) OutboxCounts {
	n := func(s OutboxStatus) int64 { return r.Counter(outboxCounter(step, s)) }
	return OutboxCounts{
		Pending: n(OutboxPending), Sending: n(OutboxSending), Sent: n(OutboxSent),
		Suppressed: n(OutboxSuppressed), Cancelled: n(OutboxCancelled), Dead: n(OutboxDead),
	}
}

// NextDue returns when the earliest waiting message is due (zero when
// none waits), so a dispatcher can sleep until then. A message no
// dispatcher has taken yet is due when it was created.
func (r *Reader) NextDue() time.Time {
	var next time.Time
	if b := bucketOrNil(r.tx, bOutboxDue); b != nil {
		if k, _ := b.Cursor().First(); len(k) == 16 {
			next = timeFromKey(readU64(k))
		}
	}
	if b := bucketOrNil(r.tx, bOutbox); b != nil {
		cursor := readU64(r.tx.Bucket(bMeta).Get(metaOutboxCursor))
		if k, v := b.Cursor().Seek(u64(cursor + 1)); k != nil {
			var m OutboxEntry
			if decodeOutbox(v, &m) == nil && (next.IsZero() || m.CreatedAt.Before(next)) {
				next = m.CreatedAt
			}
		}
	}
	return next
}

// ErrNotDead is returned when a message that is not a dead letter is
// retried.
var ErrNotDead = errors.New("only dead letters can be retried")

// RetryDeadLetter puts a dead letter back into the queue with a fresh
// count of attempts; the consent re-check at dispatch applies as always.
// It needs the permission to launch steps and is audited.
func (t *Tx) RetryDeadLetter(id OutboxID) error {
	if err := t.require(model.PermEditCampaigns, "retry dead letters"); err != nil {
		return err
	}
	m, err := t.Reader().OutboxEntry(id)
	if err != nil {
		return err
	}
	if m.Status != OutboxDead {
		return fmt.Errorf("outbox message %d is %s: %w", id, m.Status, ErrNotDead)
	}
	old := m
	m.Status, m.Attempts, m.DueAt = OutboxPending, 0, t.now
	w, err := t.outboxWriter()
	if err != nil {
		return err
	}
	if err := w.put(&m, &old); err != nil {
		return err
	}
	if err := w.finish(); err != nil {
		return err
	}
	return t.Audit("outbox.retry", fmt.Sprintf("customer:%d", m.CustomerID), []byte(fmt.Sprintf("message %d of step %d; last error: %s", id, m.StepID, old.LastError)))
}

// RetryDeadLetters retries every dead letter of a step (0: of all steps),
// in transactions of a few thousand, and returns how many it retried.
func (s *Store) RetryDeadLetters(by model.Actor, step model.StepID) (int, error) {
	if err := by.Require(model.PermEditCampaigns, "retry dead letters"); err != nil {
		return 0, err
	}
	total := 0
	var after OutboxID
	for {
		n := 0
		var last OutboxID
		err := s.Update(by, func(t *Tx) error {
			b := bucketOrNil(t.tx, bOutboxDead)
			if b == nil {
				return nil
			}
			var ids []OutboxID
			c := b.Cursor()
			for k, _ := c.Seek(u64(uint64(after) + 1)); k != nil && len(ids) < 2000; k, _ = c.Next() {
				ids = append(ids, OutboxID(readU64(k)))
			}
			for _, id := range ids {
				last = id
				if step != 0 {
					m, err := t.Reader().OutboxEntry(id)
					if err != nil {
						return err
					}
					if m.StepID != step {
						continue
					}
				}
				if err := t.RetryDeadLetter(id); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if last == 0 {
			return total, nil
		}
		after = last
	}
}
