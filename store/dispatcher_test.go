package store

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store/dispatch"
	"karton/store/dispatch/smtptest"
	"karton/store/links"
)

// fileLines reads the JSON Lines a file connector wrote for a step.
func fileLines(t testing.TB, dir string, step model.StepID) []dispatch.Message {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, fmt.Sprintf("step-%d.jsonl", step)))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	defer f.Close()
	var out []dispatch.Message
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m dispatch.Message
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		out = append(out, m)
	}
	require.NoError(t, sc.Err())
	return out
}

func (f *fixture) dispatcher(t testing.TB, opts DispatcherOptions) *Dispatcher {
	t.Helper()
	d, err := NewDispatcher(f.s, operator, opts)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}

func (f *fixture) launch(t testing.TB) LaunchResult {
	t.Helper()
	res, err := f.s.Launch(context.Background(), operator, f.step.ID, LaunchOptions{BatchSize: 200})
	require.NoError(t, err)
	require.True(t, res.Complete)
	return res
}

func (f *fixture) setConnector(t testing.TB, c model.Connector, cost model.Money) {
	t.Helper()
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		return tx.UpdateChannel(f.email.ID, func(ch *model.Channel) error {
			ch.Connector, ch.CostPerContact = c, cost
			return nil
		})
	}))
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		var err error
		f.email, err = r.Channel(f.email.ID)
		return err
	}))
}

// withdraw records an opt-out for the customer on the fixture's scope now.
func (f *fixture) withdraw(t testing.TB, cid model.CustomerID) model.EventID {
	t.Helper()
	ev := model.ConsentEvent{CustomerID: cid, Channel: model.KindEmail, PurposeID: f.newsletter.ID, Kind: model.ConsentOptOut, EffectiveAt: f.clock.t, Source: "unsubscribe-link"}
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error { return tx.AppendConsent(&ev, nil) }))
	return ev.ID
}

func (f *fixture) allowedDecisions(t testing.TB) []DecisionRecord {
	t.Helper()
	var out []DecisionRecord
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		ds, _, err := r.Decisions(f.step.ID, 0, 1<<30)
		for _, d := range ds {
			if d.Allow {
				out = append(out, d)
			}
		}
		return err
	}))
	return out
}

func TestDispatchFileConnector(t *testing.T) {
	f := newFixture(t, 400, 5)
	dir := f.email.Connector.Settings["dir"]
	f.approve(t)
	res := f.launch(t)
	require.Greater(t, res.Allowed, 20)
	allowed := f.allowedDecisions(t)

	// Between launch and dispatch two customers withdraw, and one is erased.
	f.clock.t = f.clock.t.Add(time.Hour)
	w1 := f.withdraw(t, allowed[0].CustomerID)
	f.withdraw(t, allowed[5].CustomerID)
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error { return tx.EraseCustomer(allowed[9].CustomerID) }))
	f.clock.t = f.clock.t.Add(time.Hour)

	var batches []DispatchReport
	d := f.dispatcher(t, DispatcherOptions{BatchSize: 50, OnBatch: func(r DispatchReport) { batches = append(batches, r) }})
	rep, err := d.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, res.Allowed, rep.Claimed)
	assert.Equal(t, res.Allowed-3, rep.Sent)
	assert.Equal(t, 3, rep.Suppressed)
	assert.Equal(t, map[model.Reason]int{model.ReasonWithdrawn: 2, model.ReasonErasedSuppressed: 1}, rep.ByReason)
	assert.Equal(t, model.Money(2*rep.Sent), rep.Cost)
	assert.Greater(t, len(batches), 1)

	lines := fileLines(t, dir, f.step.ID)
	require.Len(t, lines, res.Allowed-3, "exactly the allowed, minus those who withdrew")
	sent := map[model.CustomerID]bool{}
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		for _, l := range lines {
			m, err := r.OutboxEntry(OutboxID(l.ID))
			require.NoError(t, err)
			assert.Equal(t, OutboxSent, m.Status)
			assert.Equal(t, m.CustomerID, l.CustomerID)
			assert.NotEmpty(t, l.Recipient.Email)
			assert.Empty(t, l.Recipient.Street, "an email channel gets no postal address")
			assert.True(t, strings.HasPrefix(l.Body, "Liebe Kundin"), l.Body)
			assert.Contains(t, l.Subject, "es blüht")
			sent[l.CustomerID] = true
		}
		m, err := r.OutboxEntry(allowed[0].MessageID)
		require.NoError(t, err)
		assert.Equal(t, OutboxSuppressed, m.Status)
		assert.Equal(t, model.ReasonWithdrawn, m.Reason)
		assert.Equal(t, w1, m.EventID, "the suppression names the withdrawal")
		assert.Equal(t, OutboxCounts{Sent: int64(res.Allowed - 3), Suppressed: 3}, r.OutboxCounts(f.step.ID))
		c, err := r.Campaign(f.campaign.ID)
		require.NoError(t, err)
		assert.Equal(t, model.Money(2*(res.Allowed-3)), c.Spent(), "each send books its cost")
		is, _, err := r.Interactions(lines[0].CustomerID, nil, 10)
		require.NoError(t, err)
		require.Len(t, is, 1)
		assert.Equal(t, model.InteractionSent, is[0].Kind)
		assert.Equal(t, f.step.ID, is[0].StepID)
		assert.Equal(t, model.Money(2), is[0].Value)
		st, err := r.ConsentState(lines[0].CustomerID)
		require.NoError(t, err)
		sc, _ := st.Scope(model.KindEmail, f.newsletter.ID)
		assert.Equal(t, f.clock.t, sc.LastContact, "the send is a use of the consent (rule 8)")
		return nil
	}))
	assert.False(t, sent[allowed[0].CustomerID])
	assert.False(t, sent[allowed[9].CustomerID])

	// Nothing is due any more: a second run sends nothing.
	rep, err = d.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Zero(t, rep.Claimed)
	assert.Len(t, fileLines(t, dir, f.step.ID), res.Allowed-3)
	v, err := f.s.VerifyAudit()
	require.NoError(t, err)
	assert.True(t, v.OK)
	_, diffs, err := f.s.VerifyRollups()
	require.NoError(t, err)
	assert.Empty(t, diffs)
	checkOutboxIndexes(t, f.s)
}

// TestDispatchLeaseExpiry: a dispatcher that dies after sending and before
// recording leaves its messages sending; after the lease they are sent
// again under the same id, and the file connector drops the duplicates.
func TestDispatchLeaseExpiry(t *testing.T) {
	f := newFixture(t, 100, 6)
	dir := f.email.Connector.Settings["dir"]
	f.approve(t)
	res := f.launch(t)
	// A connector from Connect is never sent inside the claim: the
	// three-step path with its lease.
	viaConnect := func(ch model.Channel) (dispatch.Connector, error) { return dispatch.New(ch, dispatch.Options{}) }
	d := f.dispatcher(t, DispatcherOptions{Lease: time.Minute, Connect: viaConnect})
	b, err := d.claim(context.Background())
	require.NoError(t, err)
	require.Len(t, b.items, res.Allowed)
	d.send(context.Background(), b)
	// ... and the process dies here: nothing recorded.
	require.NoError(t, d.Close())
	require.Len(t, fileLines(t, dir, f.step.ID), res.Allowed)
	checkOutboxIndexes(t, f.s)

	d2 := f.dispatcher(t, DispatcherOptions{Lease: time.Minute, Connect: viaConnect})
	rep, err := d2.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Zero(t, rep.Claimed, "the lease still holds")
	f.clock.t = f.clock.t.Add(2 * time.Minute)
	rep, err = d2.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, res.Allowed, rep.Sent)
	assert.Len(t, fileLines(t, dir, f.step.ID), res.Allowed, "no duplicate lines")
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		assert.Equal(t, int64(res.Allowed), r.OutboxCounts(0).Sent)
		return nil
	}))
	checkOutboxIndexes(t, f.s)
}

func TestDispatchWebhookRetriesThenDeadLetter(t *testing.T) {
	f := newFixture(t, 60, 7)
	f.approve(t)
	const secret = "s3cret"
	var mu sync.Mutex
	requests := 0
	got := map[string]dispatch.Message{}
	var rejectEmail string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := dispatch.VerifySignature([]byte(secret), r.Header.Get(dispatch.HeaderSignature), body, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var m dispatch.Message
		if err := json.Unmarshal(body, &m); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		requests++
		if requests <= 3 { // the receiver is down at first
			http.Error(w, "starting up", http.StatusServiceUnavailable)
			return
		}
		if m.Recipient.Email == rejectEmail {
			http.Error(w, "unknown recipient", http.StatusUnprocessableEntity)
			return
		}
		assert.Equal(t, m.IdempotencyKey(), r.Header.Get(dispatch.HeaderIdempotencyKey))
		got[r.Header.Get(dispatch.HeaderIdempotencyKey)] = m
	}))
	defer srv.Close()
	f.setConnector(t, model.Connector{Kind: model.ConnectorWebhook, Settings: map[string]string{
		"url": srv.URL, "secret": secret, "retries": "0", "timeout": "5s"}}, 5)
	res := f.launch(t)
	allowed := f.allowedDecisions(t)
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		c, err := r.customerRaw(allowed[len(allowed)-1].CustomerID)
		rejectEmail = c.Email
		return err
	}))

	d := f.dispatcher(t, DispatcherOptions{NetworkBatchSize: 10, RetryBackoff: time.Minute, MaxAttempts: 3})
	rep, err := d.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Retrying, "the first three attempts failed and wait")
	assert.Equal(t, 1, rep.Dead, "a 422 is permanent")
	assert.Equal(t, res.Allowed-4, rep.Sent)
	assert.Contains(t, strings.Join(rep.Errors, "\n"), "503")
	checkOutboxIndexes(t, f.s)

	rep, err = d.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Zero(t, rep.Claimed, "retries wait for their backoff")
	f.clock.t = f.clock.t.Add(time.Minute)
	rep, err = d.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Sent)
	assert.Len(t, got, res.Allowed-1)

	var dead []OutboxEntry
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		dead, _, err = r.DeadLetters(0, 10)
		return err
	}))
	require.Len(t, dead, 1)
	assert.Equal(t, allowed[len(allowed)-1].MessageID, dead[0].ID)
	assert.Contains(t, dead[0].LastError, "422")

	// The operator fixes the address at the receiver and retries.
	rejectEmail = ""
	require.ErrorIs(t, f.s.Update(operator, func(tx *Tx) error { return tx.RetryDeadLetter(allowed[0].MessageID) }), ErrNotDead)
	n, err := f.s.RetryDeadLetters(operator, f.step.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	rep, err = d.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Sent)
	assert.Len(t, got, res.Allowed)
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		assert.Equal(t, OutboxCounts{Sent: int64(res.Allowed)}, r.OutboxCounts(f.step.ID))
		c, err := r.Campaign(f.campaign.ID)
		assert.Equal(t, model.Money(5*res.Allowed), c.Spent())
		return err
	}))
	checkOutboxIndexes(t, f.s)
}

func TestDispatchGivesUpAfterMaxAttempts(t *testing.T) {
	f := newFixture(t, 20, 8)
	f.approve(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()
	f.setConnector(t, model.Connector{Kind: model.ConnectorWebhook, Settings: map[string]string{"url": srv.URL, "secret": "k", "retries": "0"}}, 0)
	res := f.launch(t)
	d := f.dispatcher(t, DispatcherOptions{MaxAttempts: 2, RetryBackoff: time.Second})
	rep, err := d.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, res.Allowed, rep.Retrying)
	f.clock.t = f.clock.t.Add(time.Hour)
	rep, err = d.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, res.Allowed, rep.Dead)
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		dead, _, err := r.DeadLetters(0, 1000)
		require.Len(t, dead, res.Allowed, "never silently dropped")
		assert.Contains(t, dead[0].LastError, "gave up after 2 attempts")
		assert.Equal(t, 2, dead[0].Attempts)
		return err
	}))
	checkOutboxIndexes(t, f.s)
}

func TestDispatchSMTP(t *testing.T) {
	f := newFixture(t, 30, 9)
	f.approve(t)
	box := smtptest.Start(t)
	f.setConnector(t, model.Connector{Kind: model.ConnectorSMTP, Settings: map[string]string{
		"host": "127.0.0.1", "port": strconv.Itoa(box.Port), "tls": "none",
		"from": "news@gartenglueck.example", "unsubscribe_base": "https://gartenglueck.example/abmelden"}}, 1)
	res := f.launch(t)
	d := f.dispatcher(t, DispatcherOptions{ConnectorOptions: dispatch.Options{SMTP: dispatch.SMTPOptions{HELO: "karton.test"}}})
	rep, err := d.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, res.Allowed, rep.Sent)
	mails := box.Received()
	require.Len(t, mails, res.Allowed)
	header, text := smtptest.Read(t, mails[0])
	unsub := header.Get("List-Unsubscribe")
	assert.True(t, strings.HasPrefix(unsub, "<https://gartenglueck.example/abmelden/u/"), unsub)
	assert.Equal(t, "List-Unsubscribe=One-Click", header.Get("List-Unsubscribe-Post"))
	assert.Contains(t, header.Get("Message-Id"), "@gartenglueck.example")
	assert.Contains(t, string(text), "Liebe Kundin")
	link := strings.Trim(unsub, "<>")
	assert.Contains(t, string(text), "Abmelden: "+link, "the link is in the body too")
	// The token in the link is a links token of this store naming the
	// message, its customer, channel kind and purpose.
	signer, err := links.NewSigner(f.s.DeriveKey(links.KeyLabel))
	require.NoError(t, err)
	tok, err := signer.Open(strings.TrimPrefix(link, "https://gartenglueck.example/abmelden/u/"), f.clock.t)
	require.NoError(t, err)
	assert.Equal(t, links.KindUnsubscribe, tok.Kind)
	assert.Equal(t, model.KindEmail, tok.Channel)
	assert.Equal(t, f.newsletter.ID, tok.Purpose)
	assert.Equal(t, f.step.ID, tok.Step)
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		m, err := r.OutboxEntry(OutboxID(tok.Message))
		assert.Equal(t, OutboxSent, m.Status)
		assert.Equal(t, m.CustomerID, tok.Customer)
		return err
	}))
}

func TestDispatchFrequencyCap(t *testing.T) {
	f := newFixture(t, 80, 10)
	st := f.s.Settings()
	st.Caps = map[model.ChannelKind]model.FrequencyCap{model.KindEmail: {Max: 1, Days: 7}}
	require.NoError(t, f.s.UpdateSettings(admin, st))
	// Two more steps to the same audience on the same channel kind.
	second, third := f.step, f.step
	second.ID, second.Name = 0, "Mail 2"
	third.ID, third.Name = 0, "Mail 3"
	require.NoError(t, f.s.Update(operator, func(tx *Tx) error { return errors.Join(tx.InsertStep(&second), tx.InsertStep(&third)) }))
	f.approve(t)
	first := f.launch(t)
	res2, err := f.s.Launch(context.Background(), operator, second.ID, LaunchOptions{})
	require.NoError(t, err)
	assert.Equal(t, first.Allowed, res2.Allowed, "nothing was sent yet, so the cap does not stop anyone at launch")

	d := f.dispatcher(t, DispatcherOptions{})
	rep, err := d.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, first.Allowed, rep.Sent, "one message per customer")
	assert.Equal(t, first.Allowed, rep.ByReason[model.ReasonFrequencyCap], "the second is stopped by the cap at dispatch")

	// Launched now, the third step meets the cap at launch.
	res3, err := f.s.Launch(context.Background(), operator, third.ID, LaunchOptions{})
	require.NoError(t, err)
	assert.Zero(t, res3.Allowed)
	assert.Equal(t, first.Allowed, res3.ByReason[model.ReasonFrequencyCap])

	// A week later the cap has passed.
	f.clock.t = f.clock.t.AddDate(0, 0, 8)
	pre, err := f.s.Preflight(context.Background(), operator, third.ID, PreflightOptions{})
	require.NoError(t, err)
	assert.Zero(t, pre.ByReason[model.ReasonFrequencyCap])
	checkOutboxIndexes(t, f.s)
}

func TestDispatchCancelledCampaignAndPausedChannel(t *testing.T) {
	f := newFixture(t, 50, 11)
	f.approve(t)
	res := f.launch(t)
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		return tx.UpdateChannel(f.email.ID, func(ch *model.Channel) error { ch.Status = model.ChannelPaused; return nil })
	}))
	d := f.dispatcher(t, DispatcherOptions{PausedDelay: time.Hour})
	rep, err := d.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, res.Allowed, rep.Deferred)
	assert.Zero(t, rep.Sent)
	checkOutboxIndexes(t, f.s)
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		return tx.TransitionCampaign(f.campaign.ID, model.ActionCancel, "")
	}))
	f.clock.t = f.clock.t.Add(2 * time.Hour)
	rep, err = d.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, res.Allowed, rep.Cancelled)
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		assert.Equal(t, OutboxCounts{Cancelled: int64(res.Allowed)}, r.OutboxCounts(f.step.ID))
		return nil
	}))
	checkOutboxIndexes(t, f.s)
}

func TestDispatcherRunStopsWithContext(t *testing.T) {
	f := newFixture(t, 40, 12)
	dir := f.email.Connector.Settings["dir"]
	f.approve(t)
	d := f.dispatcher(t, DispatcherOptions{PollInterval: time.Hour})
	sent := make(chan DispatchReport, 10)
	d.opts.OnBatch = func(r DispatchReport) { sent <- r }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	res := f.launch(t) // Run wakes on the outbox change
	total := 0
	for total < res.Allowed {
		total += (<-sent).Sent
	}
	cancel()
	require.NoError(t, <-done)
	assert.Len(t, fileLines(t, dir, f.step.ID), res.Allowed)
}

func TestDispatcherNeedsPermission(t *testing.T) {
	f := newFixture(t, 1, 13)
	_, err := NewDispatcher(f.s, analyst, DispatcherOptions{})
	var pe *model.PermissionError
	assert.ErrorAs(t, err, &pe)
}

// TestSendUsesTheConsent: a send is a use of the consent (rule 8). A stale
// consent that is used becomes fresh again in the projection; a fresh one
// keeps its decision and records the use.
func TestSendUsesTheConsent(t *testing.T) {
	f := newFixture(t, 0, 14)
	var stale, fresh model.CustomerID
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		for i, ago := range []int{30, 2} { // months since the confirmation
			c := model.Customer{Email: fmt.Sprintf("use%d@example.de", i), Tags: []string{"launch"}}
			if err := tx.InsertCustomer(&c); err != nil {
				return err
			}
			at := f.clock.t.AddDate(0, -ago, 0)
			for _, k := range []model.ConsentKind{model.ConsentOptIn, model.ConsentDOIConfirmed} {
				if err := tx.AppendConsent(&model.ConsentEvent{CustomerID: c.ID, Channel: model.KindEmail, PurposeID: f.newsletter.ID, Kind: k, EffectiveAt: at}, nil); err != nil {
					return err
				}
			}
			if i == 0 {
				stale = c.ID
			} else {
				fresh = c.ID
			}
		}
		return nil
	}))
	scope := func(cid model.CustomerID) ScopeState {
		var sc ScopeState
		require.NoError(t, f.s.View(admin, func(r *Reader) error {
			st, err := r.ConsentState(cid)
			sc, _ = st.Scope(model.KindEmail, f.newsletter.ID)
			return err
		}))
		return sc
	}
	reach := func() int64 {
		var n int64
		require.NoError(t, f.s.View(admin, func(r *Reader) error { n = r.Reach(model.KindEmail, f.newsletter.ID); return nil }))
		return n
	}
	assert.Equal(t, model.ReasonConsentStale, scope(stale).Reason)
	assert.Equal(t, model.ReasonConsentDOI, scope(fresh).Reason)
	assert.Equal(t, int64(1), reach())
	f.clock.t = f.clock.t.Add(time.Hour)
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		for _, cid := range []model.CustomerID{stale, fresh} {
			if err := tx.AddInteraction(&model.Interaction{CustomerID: cid, Kind: model.InteractionSent, Channel: model.KindEmail, StepID: f.step.ID, At: f.clock.t}); err != nil {
				return err
			}
		}
		return nil
	}))
	for _, cid := range []model.CustomerID{stale, fresh} {
		sc := scope(cid)
		assert.Equal(t, model.ReasonConsentDOI, sc.Reason, "customer %d", cid)
		assert.Equal(t, f.clock.t, sc.LastContact, "the use is kept")
	}
	assert.Equal(t, int64(2), reach(), "the used consent counts again")

	// The activity index follows the sends: one entry per customer, at its
	// last activity.
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		n := 0
		err := r.tx.Bucket(bCustActivity).ForEach(func(k, _ []byte) error {
			c, err := r.customerRaw(idFromIndexKey(k))
			require.NoError(t, err)
			assert.Equal(t, activityIndexKey(c), k)
			n++
			return nil
		})
		assert.Equal(t, 2, n)
		return err
	}))
}

// checkOutboxIndexes verifies the outbox's invariants: a waiting entry is
// in the due index (at its DueAt) exactly when its id is at most the
// dispatch cursor, the due index holds nothing else, the dead index holds
// exactly the dead letters, and the counters match the entries.
func checkOutboxIndexes(t testing.TB, s *Store) {
	t.Helper()
	require.NoError(t, s.View(admin, func(r *Reader) error {
		cursor := readU64(r.tx.Bucket(bMeta).Get(metaOutboxCursor))
		due, dead := map[string]bool{}, map[uint64]bool{}
		if b := r.tx.Bucket(bOutboxDue); b != nil {
			require.NoError(t, b.ForEach(func(k, _ []byte) error { due[string(k)] = true; return nil }))
		}
		if b := r.tx.Bucket(bOutboxDead); b != nil {
			require.NoError(t, b.ForEach(func(k, _ []byte) error { dead[readU64(k)] = true; return nil }))
		}
		counts := map[OutboxStatus]int64{}
		b := r.tx.Bucket(bOutbox)
		if b == nil {
			return nil
		}
		require.NoError(t, b.ForEach(func(k, v []byte) error {
			var m OutboxEntry
			require.NoError(t, decodeOutbox(v, &m))
			counts[m.Status]++
			key := string(dueKey(m.DueAt, m.ID))
			if !m.Status.Final() && uint64(m.ID) <= cursor {
				assert.True(t, due[key], "message %d (%s) waits in the due index", m.ID, m.Status)
				delete(due, key)
			}
			assert.Equal(t, m.Status == OutboxDead, dead[uint64(m.ID)], "message %d in the dead index", m.ID)
			return nil
		}))
		assert.Empty(t, due, "nothing else in the due index")
		c := r.OutboxCounts(0)
		assert.Equal(t, OutboxCounts{Pending: counts[OutboxPending], Sending: counts[OutboxSending], Sent: counts[OutboxSent],
			Suppressed: counts[OutboxSuppressed], Cancelled: counts[OutboxCancelled], Dead: counts[OutboxDead]}, c)
		return nil
	}))
}

// Erasure removes the free text kept about a person's activity — what
// they wrote, what a connector said about their address — and the merge
// suggestions naming them, and keeps the facts the counts are made of.
func TestEraseRemovesActivityTextAndSuggestions(t *testing.T) {
	f := newFixture(t, 40, 9)
	f.approve(t)
	var rejectEmail string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m dispatch.Message
		body, _ := io.ReadAll(r.Body)
		require.NoError(t, json.Unmarshal(body, &m))
		if m.Recipient.Email == rejectEmail {
			http.Error(w, "unknown recipient <"+m.Recipient.Email+">", http.StatusUnprocessableEntity)
		}
	}))
	defer srv.Close()
	f.setConnector(t, model.Connector{Kind: model.ConnectorWebhook, Settings: map[string]string{
		"url": srv.URL, "secret": "k", "retries": "0", "timeout": "5s"}}, 1)
	f.launch(t)
	allowed := f.allowedDecisions(t)
	gone, kept := allowed[0], allowed[1]
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		c, err := r.customerRaw(gone.CustomerID)
		rejectEmail = c.Email
		return err
	}))
	d := f.dispatcher(t, DispatcherOptions{})
	rep, err := d.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, rep.Dead)

	at := f.clock.t.Add(-time.Minute)
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		for _, cid := range []model.CustomerID{gone.CustomerID, kept.CustomerID} {
			if err := tx.AddInteraction(&model.Interaction{CustomerID: cid, Kind: model.InteractionReplied, Channel: model.KindEmail,
				At: at, Note: "Antwort: bitte an meine neue Adresse in der Gartenstraße 5"}); err != nil {
				return err
			}
		}
		return tx.SuggestMerge(gone.CustomerID, kept.CustomerID)
	}))
	counts := func() (int64, OutboxCounts) {
		var open int64
		var oc OutboxCounts
		require.NoError(t, f.s.View(admin, func(r *Reader) error {
			open, oc = r.OpenSuggestions(), r.OutboxCounts(f.step.ID)
			return nil
		}))
		return open, oc
	}
	open, outbox := counts()
	require.EqualValues(t, 1, open)

	require.NoError(t, f.s.Update(admin, func(tx *Tx) error { return tx.EraseCustomer(gone.CustomerID) }))

	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		for _, cid := range []model.CustomerID{gone.CustomerID, kept.CustomerID} {
			is, _, err := r.Interactions(cid, nil, 100)
			require.NoError(t, err)
			var replies []model.Interaction
			for _, i := range is {
				if i.Kind == model.InteractionReplied {
					replies = append(replies, i)
				}
			}
			require.Len(t, replies, 1, "customer %d: the interaction itself stays", cid)
			assert.True(t, replies[0].At.Equal(at))
			if cid == gone.CustomerID {
				assert.Empty(t, replies[0].Note, "what the erased person wrote is gone")
				for _, i := range is {
					assert.Empty(t, i.Note, "interaction %d of the erased person", i.ID)
				}
			} else {
				assert.NotEmpty(t, replies[0].Note, "another customer's note stays")
			}
		}
		m, err := r.OutboxEntry(gone.MessageID)
		require.NoError(t, err)
		assert.Equal(t, OutboxDead, m.Status)
		assert.NotContains(t, m.LastError, "@")
		assert.Equal(t, erasedText, m.LastError)
		sugg, err := r.SuggestionsFor(kept.CustomerID)
		require.NoError(t, err)
		assert.Empty(t, sugg, "no suggestion to merge with an erased record")
		return nil
	}))
	openAfter, outboxAfter := counts()
	assert.Zero(t, openAfter)
	assert.Equal(t, outbox, outboxAfter, "the message keeps its status and its count")
	checkOutboxIndexes(t, f.s)
	v, err := f.s.VerifyAudit()
	require.NoError(t, err)
	assert.True(t, v.OK, v.Reason)
}
