package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

// fixture is a store with a campaign ready to launch: an email step to a
// segment ("tag has launch") over customers with random consent histories.
type fixture struct {
	s          *Store
	clock      *testClock
	newsletter model.Purpose
	email      model.Channel
	campaign   model.Campaign
	step       model.Step
	segment    model.Segment
	customers  []model.CustomerID
}

var (
	operator = model.Actor{Name: "olga", Role: model.RoleOperator, Via: "test"}
	manager  = model.Actor{Name: "markus", Role: model.RoleManager, Via: "test"}
	analyst  = model.Actor{Name: "alex", Role: model.RoleAnalyst, Via: "test"}
)

// consentStory writes one of a few typical consent histories for the
// scope (email, purpose) and returns its name.
func consentStory(tx *Tx, rng *rand.Rand, cid model.CustomerID, p model.PurposeID, now time.Time) (string, error) {
	at := func(daysAgo int) time.Time { return now.AddDate(0, 0, -daysAgo).Add(-time.Hour) }
	ev := func(kind model.ConsentKind, t time.Time) error {
		e := model.ConsentEvent{CustomerID: cid, Kind: kind, EffectiveAt: t, Source: "test"}
		if kind.Scoped() {
			e.Channel, e.PurposeID = model.KindEmail, p
		}
		return tx.AppendConsent(&e, nil)
	}
	story := []string{"doi", "doi", "doi", "pending", "withdrawn", "objection", "none", "reconfirmed"}[rng.IntN(8)]
	var err error
	switch story {
	case "doi":
		err = errors.Join(ev(model.ConsentOptIn, at(30)), ev(model.ConsentDOIConfirmed, at(29)))
	case "pending":
		err = ev(model.ConsentOptIn, at(3))
	case "withdrawn":
		err = errors.Join(ev(model.ConsentOptIn, at(90)), ev(model.ConsentDOIConfirmed, at(89)), ev(model.ConsentOptOut, at(10)))
	case "objection":
		err = errors.Join(ev(model.ConsentOptIn, at(90)), ev(model.ConsentDOIConfirmed, at(89)), ev(model.ConsentObjection, at(5)))
	case "reconfirmed":
		err = errors.Join(ev(model.ConsentOptOut, at(200)), ev(model.ConsentOptIn, at(20)), ev(model.ConsentDOIConfirmed, at(19)))
	}
	return story, err
}

// newFixture builds the fixture with n customers; about one in ten is not
// in the audience and one in twenty has no email address.
func newFixture(t testing.TB, n int, seed uint64) *fixture {
	t.Helper()
	s, clock := openTest(t)
	f := &fixture{s: s, clock: clock}
	rng := rand.New(rand.NewPCG(seed, 7))
	dir := t.TempDir()
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		f.newsletter = model.Purpose{Name: "newsletter", Category: model.CategoryMarketing, OwnSimilarProducts: true}
		if err := tx.InsertPurpose(&f.newsletter); err != nil {
			return err
		}
		f.email = model.Channel{Kind: model.KindEmail, Name: "Newsletter", CostPerContact: 2,
			Connector: model.Connector{Kind: model.ConnectorFile, Settings: map[string]string{"dir": dir, "format": "jsonl"}}}
		return tx.InsertChannel(&f.email)
	}))
	for start := 0; start < n; start += 1000 {
		require.NoError(t, s.Update(admin, func(tx *Tx) error {
			for i := start; i < min(n, start+1000); i++ {
				c := model.Customer{FirstName: fmt.Sprintf("Kundin%d", i), LastName: "Test", Salutation: "Frau", Tags: []string{"launch"}}
				if i%20 != 7 {
					c.Email = fmt.Sprintf("k%d@example.de", i)
				} else {
					c.Address = model.Address{Street: "Weg 1", PostalCode: "10115", City: "Berlin", Country: "DE"}
				}
				if i%10 == 3 {
					c.Tags = nil
				}
				if err := tx.InsertCustomer(&c); err != nil {
					return err
				}
				f.customers = append(f.customers, c.ID)
				if _, err := consentStory(tx, rng, c.ID, f.newsletter.ID, clock.t); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	require.NoError(t, s.Update(operator, func(tx *Tx) error {
		f.segment = model.Segment{Name: "Launch", Conditions: []model.Condition{{Field: model.CondTag, Op: "has", Value: "launch"}}}
		if err := tx.InsertSegment(&f.segment); err != nil {
			return err
		}
		f.campaign = model.Campaign{Name: "Frühling", Owner: "olga", Start: testNow, End: testNow.AddDate(0, 1, 0),
			Budget: []model.BudgetLine{{Label: "Contacts: Newsletter", Planned: 100000}},
			Creatives: []model.Creative{{Name: "Mail", Kind: model.KindEmail, Subject: "{{first_name|Hallo}}, es blüht",
				Body: "{{greeting}},\n\nder Frühling ist da.\n\nAbmelden: {{unsubscribe_url|im Kundenkonto}}"}}}
		if err := tx.InsertCampaign(&f.campaign); err != nil {
			return err
		}
		f.step = model.Step{CampaignID: f.campaign.ID, Name: "Mail 1", ChannelID: f.email.ID, PurposeID: f.newsletter.ID,
			SegmentID: f.segment.ID, Creative: "Mail", ScheduledAt: testNow, DataCategories: []model.DataCategory{model.DataContact}}
		return tx.InsertStep(&f.step)
	}))
	return f
}

// approve takes the campaign through submit and approval.
func (f *fixture) approve(t testing.TB) {
	t.Helper()
	require.NoError(t, f.s.Update(operator, func(tx *Tx) error {
		return tx.TransitionCampaign(f.campaign.ID, model.ActionSubmit, "")
	}))
	require.NoError(t, f.s.Update(manager, func(tx *Tx) error {
		return tx.TransitionCampaign(f.campaign.ID, model.ActionApprove, "")
	}))
}

// checkLaunched verifies the launch invariants: one decision per audience
// member and nobody else, one outbox message per allowing decision, the
// launch state's counts equal the records, and the audit chain holds.
func (f *fixture) checkLaunched(t testing.TB) LaunchState {
	t.Helper()
	var st LaunchState
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		var ok bool
		var err error
		st, ok, err = r.LaunchState(f.step.ID)
		require.NoError(t, err)
		require.True(t, ok)
		p, err := model.CompileSegment(st.Conditions, st.StartedAt)
		require.NoError(t, err)
		members, err := r.AudienceMembers(p, 0, 1<<30)
		require.NoError(t, err)
		ds, next, err := r.Decisions(f.step.ID, 0, 1<<30)
		require.NoError(t, err)
		require.Zero(t, next)
		require.Len(t, ds, len(members), "one decision per audience member")
		allowed := 0
		msgs := map[OutboxID]model.CustomerID{}
		for i, d := range ds {
			assert.Equal(t, members[i], d.CustomerID)
			if d.Allow {
				allowed++
				require.NotZero(t, d.MessageID)
				m, err := r.OutboxEntry(d.MessageID)
				require.NoError(t, err)
				assert.Equal(t, d.CustomerID, m.CustomerID)
				assert.Equal(t, d.ID, m.DecisionID)
				msgs[m.ID] = m.CustomerID
			} else {
				assert.Zero(t, d.MessageID)
			}
		}
		n := 0
		for after := OutboxID(0); ; {
			page, next, err := r.Outbox(OutboxFilter{Step: f.step.ID}, after, 1000)
			require.NoError(t, err)
			for _, m := range page {
				assert.Equal(t, msgs[m.ID], m.CustomerID, "no outbox message without its decision")
			}
			n += len(page)
			if next == 0 {
				break
			}
			after = next
		}
		assert.Equal(t, len(msgs), n, "one outbox message per allowing decision")
		assert.Equal(t, st.Decided, len(ds))
		assert.Equal(t, st.Allowed, allowed)
		assert.Equal(t, st.Messages, allowed)
		a, d, err := r.CountDecisions(f.step.ID)
		require.NoError(t, err)
		assert.Equal(t, allowed, a)
		assert.Equal(t, len(ds)-allowed, d)
		return nil
	}))
	v, err := f.s.VerifyAudit()
	require.NoError(t, err)
	require.True(t, v.OK, "%+v", v)
	return st
}

func TestPreflightThenLaunch(t *testing.T) {
	f := newFixture(t, 600, 1)
	f.approve(t)
	pre, err := f.s.Preflight(context.Background(), operator, f.step.ID, PreflightOptions{Sample: 5})
	require.NoError(t, err)
	assert.Empty(t, pre.Blocker)
	assert.Equal(t, pre.Audience, pre.Allowed+pre.Denied)
	assert.Equal(t, 540, pre.Audience, "every tenth customer lacks the tag")
	sum := 0
	for r, n := range pre.ByReason {
		sum += n
		assert.NotZero(t, r.Rule())
	}
	assert.Equal(t, pre.Audience, sum)
	assert.Greater(t, pre.ByReason[model.ReasonNoContactPoint], 0)
	assert.Greater(t, pre.ByReason[model.ReasonWithdrawn], 0)
	assert.Greater(t, pre.ByReason[model.ReasonObjection], 0)
	assert.Greater(t, pre.ByReason[model.ReasonPendingDOI], 0)
	assert.Len(t, pre.Sample, 5)
	assert.Equal(t, model.Money(pre.Allowed*2), pre.EstimatedCost)
	assert.Equal(t, model.Money(100000), pre.BudgetLeft)
	assert.Equal(t, "Frühling", pre.CampaignName)

	head := auditCount(t, f.s)
	var progress []LaunchProgress
	res, err := f.s.Launch(context.Background(), operator, f.step.ID, LaunchOptions{BatchSize: 100, Progress: func(p LaunchProgress) { progress = append(progress, p) }})
	require.NoError(t, err)
	assert.True(t, res.Complete)
	assert.False(t, res.Resumed)
	assert.Equal(t, pre.Audience, res.Audience)
	assert.Equal(t, pre.Allowed, res.Allowed)
	assert.Equal(t, pre.ByReason, res.ByReason)
	assert.Equal(t, res.Audience, res.DecidedNow)
	assert.GreaterOrEqual(t, len(progress), 6)
	assert.Equal(t, 1.0, progress[len(progress)-1].Fraction())
	st := f.checkLaunched(t)
	assert.Equal(t, 1, st.Runs)
	assert.Greater(t, auditCount(t, f.s), head+uint64(res.Audience), "an audit entry per decision, plus the launch")

	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		c, err := r.Campaign(f.campaign.ID)
		require.NoError(t, err)
		assert.Equal(t, model.StatusRunning, c.Status, "the first launch starts the campaign")
		s, err := r.Step(f.step.ID)
		require.NoError(t, err)
		assert.Equal(t, model.StepLaunched, s.Status)
		assert.Equal(t, "olga", s.LaunchedBy)
		assert.Equal(t, int64(res.Allowed), r.OutboxCounts(f.step.ID).Pending)
		assert.Equal(t, int64(res.Audience), r.Counter("decisions"))
		return nil
	}))

	// Launching again changes nothing.
	head = auditCount(t, f.s)
	_, err = f.s.Launch(context.Background(), operator, f.step.ID, LaunchOptions{})
	require.ErrorIs(t, err, ErrAlreadyLaunched)
	assert.Contains(t, err.Error(), "was launched on 2026-03-02 10:00 by olga")
	assert.Equal(t, head, auditCount(t, f.s))
	pre2, err := f.s.Preflight(context.Background(), operator, f.step.ID, PreflightOptions{})
	require.NoError(t, err)
	assert.Contains(t, pre2.Blocker, "cannot be launched twice")
}

func auditCount(t testing.TB, s *Store) uint64 {
	t.Helper()
	v, err := s.VerifyAudit()
	require.NoError(t, err)
	return v.Entries
}

func TestLaunchRefusals(t *testing.T) {
	f := newFixture(t, 30, 2)
	_, err := f.s.Launch(context.Background(), operator, f.step.ID, LaunchOptions{})
	require.ErrorIs(t, err, ErrNotApproved)
	assert.Contains(t, err.Error(), `campaign 1 "Frühling" is draft`)
	pre, err := f.s.Preflight(context.Background(), analyst, f.step.ID, PreflightOptions{})
	require.NoError(t, err, "anyone may preflight")
	assert.Contains(t, pre.Blocker, "only steps of approved campaigns")
	for _, s := range pre.Sample {
		assert.NotContains(t, s.Name, "Kundin", "names are masked for analysts")
	}

	f.approve(t)
	for _, a := range []model.Actor{analyst, {Name: "vera", Role: model.RoleViewer}} {
		_, err = f.s.Launch(context.Background(), a, f.step.ID, LaunchOptions{})
		var pe *model.PermissionError
		require.ErrorAs(t, err, &pe, a.Name)
		assert.Contains(t, err.Error(), "may not launch campaign steps")
	}
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		_, ok, err := r.LaunchState(f.step.ID)
		assert.False(t, ok, "refused launches leave no trace")
		return err
	}))

	// A paused channel blocks the launch.
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		return tx.UpdateChannel(f.email.ID, func(ch *model.Channel) error { ch.Status = model.ChannelPaused; return nil })
	}))
	_, err = f.s.Launch(context.Background(), operator, f.step.ID, LaunchOptions{})
	assert.ErrorContains(t, err, `channel "Newsletter" is paused`)
	_, err = f.s.Launch(context.Background(), operator, 999, LaunchOptions{})
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestLaunchCancelAndResume(t *testing.T) {
	f := newFixture(t, 500, 3)
	f.approve(t)
	ctx, cancel := context.WithCancel(context.Background())
	batches := 0
	res, err := f.s.Launch(ctx, operator, f.step.ID, LaunchOptions{BatchSize: 50, Progress: func(LaunchProgress) {
		if batches++; batches == 3 {
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, res.Complete)
	assert.Equal(t, 150, res.DecidedNow, "what is done stays done and is reported")
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		s, err := r.Step(f.step.ID)
		assert.Equal(t, model.StepLaunching, s.Status)
		return err
	}))
	pre, err := f.s.Preflight(context.Background(), operator, f.step.ID, PreflightOptions{})
	require.NoError(t, err)
	assert.Empty(t, pre.Blocker, "a launching step can be resumed")

	// A customer joins the audience while the launch is paused, and the
	// segment changes: the launch keeps the audience it started with.
	require.NoError(t, f.s.Update(operator, func(tx *Tx) error {
		return tx.UpdateSegment(f.segment.ID, func(s *model.Segment) error {
			s.Conditions = []model.Condition{{Field: "tag", Op: "has", Value: "other"}}
			return nil
		})
	}))
	var late model.CustomerID
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		c := model.Customer{Email: "late@example.de", Tags: []string{"launch"}}
		err := tx.InsertCustomer(&c)
		late = c.ID
		return err
	}))
	res, err = f.s.Launch(context.Background(), operator, f.step.ID, LaunchOptions{BatchSize: 70})
	require.NoError(t, err)
	assert.True(t, res.Complete)
	assert.True(t, res.Resumed)
	st := f.checkLaunched(t)
	assert.Equal(t, 2, st.Runs)
	assert.Equal(t, res.Audience, 150+res.DecidedNow)
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		d, ok, err := r.Decision(f.step.ID, late)
		require.True(t, ok)
		assert.Equal(t, model.ReasonNoValidBasis, d.Reason)
		return err
	}))
}

func TestExportIncludesDecisions(t *testing.T) {
	f := newFixture(t, 40, 4)
	f.approve(t)
	_, err := f.s.Launch(context.Background(), operator, f.step.ID, LaunchOptions{})
	require.NoError(t, err)
	pd, err := f.s.ExportPersonalData(admin, f.customers[0])
	require.NoError(t, err)
	require.Len(t, pd.Decisions, 1)
	var d struct {
		StepID      model.StepID `json:"step_id"`
		Reason      model.Reason `json:"reason"`
		Explanation string       `json:"explanation"`
		Ledger      uint64       `json:"ledger_position"`
	}
	require.NoError(t, json.Unmarshal(pd.Decisions[0], &d))
	assert.Equal(t, f.step.ID, d.StepID)
	assert.NotEmpty(t, d.Reason)
	assert.NotEmpty(t, d.Explanation)
	assert.NotZero(t, d.Ledger)
}

func TestDecisionCodecs(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	d := DecisionRecord{ID: 9, StepID: 2, CampaignID: 3, CustomerID: 4, ChannelID: 5, Channel: model.KindSMS, PurposeID: 6,
		Allow: true, Reason: model.ReasonConsentDOI, Rule: 9, EventID: 77, EventKind: model.ConsentDOIConfirmed, EventAt: at,
		At: at, LedgerPosition: 80, DataCategories: []model.DataCategory{model.DataContact}, DecidedBy: "olga", MessageID: 12}
	var back DecisionRecord
	require.NoError(t, decodeDecision(encodeDecision(nil, &d), &back))
	assert.Equal(t, d, back)
	m := OutboxEntry{ID: 12, StepID: 2, CampaignID: 3, ChannelID: 5, Channel: model.KindSMS, PurposeID: 6, CustomerID: 4, DecisionID: 9,
		Status: OutboxSuppressed, Attempts: 2, CreatedAt: at, DueAt: at, UpdatedAt: at, SentAt: at, LastError: "x",
		Reason: model.ReasonWithdrawn, EventID: 81, CheckedAt: at, LedgerPosition: 82, Cost: 8}
	var mb OutboxEntry
	require.NoError(t, decodeOutbox(encodeOutbox(nil, &m), &mb))
	assert.Equal(t, m, mb)
	l := LaunchState{StepID: 2, StartedAt: at, StartedBy: "olga", Conditions: []model.Condition{{Field: "a", Op: "=", Value: "b"}},
		Cursor: 7, Decided: 5, Allowed: 3, Denied: 2, Messages: 3, Unrenderable: 1, ByReason: map[model.Reason]int{model.ReasonConsentDOI: 3, model.ReasonWithdrawn: 2}, Runs: 2, FinishedAt: at}
	var lb LaunchState
	require.NoError(t, decodeLaunch(encodeLaunch(&l), &lb))
	assert.Equal(t, l, lb)
	assert.Error(t, decodeDecision([]byte{9}, &back), "a newer format is refused")
}

// TestLeanConsentDecoder keeps the ledger's decision readers in step with
// decodeConsent, for both ledger formats: a full record (format 1) and a
// chunk (format 2).
func TestLeanConsentDecoder(t *testing.T) {
	at := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	key := appendU64(u64(6), 5)
	for _, k := range model.ConsentKinds {
		ev := model.ConsentEvent{ID: 5, CustomerID: 6, Channel: model.KindPhone, PurposeID: 3, Kind: k, Basis: model.BasisConsent,
			EffectiveAt: at, RecordedAt: at.Add(time.Hour), Source: "form", Actor: "x", TextVersion: "v1", HasEvidence: true}
		var full model.ConsentEvent
		b := encodeConsent(nil, &ev)
		require.NoError(t, decodeConsent(b, &full))
		want := model.ConsentEvent{ID: full.ID, CustomerID: full.CustomerID, Channel: full.Channel, PurposeID: full.PurposeID,
			Kind: full.Kind, EffectiveAt: full.EffectiveAt, RecordedAt: full.RecordedAt}
		chunk := appendLedgerEntry([]byte{consentChunkVersion}, &ev)
		for _, rec := range [][]byte{b, chunk} {
			lean, err := appendRecordDecisions(nil, 6, key, rec)
			require.NoError(t, err)
			assert.Equal(t, []model.ConsentEvent{want}, lean, "format %d", rec[0])
		}
	}
}

// TestLaunchNeverDecidesTwice: a decision found past the launch's cursor
// (which the launch itself never leaves) is kept, and nobody gets a second.
func TestLaunchNeverDecidesTwice(t *testing.T) {
	f := newFixture(t, 300, 15)
	f.approve(t)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := f.s.Launch(ctx, operator, f.step.ID, LaunchOptions{BatchSize: 40, Progress: func(LaunchProgress) { cancel() }})
	require.ErrorIs(t, err, context.Canceled)
	var planted model.CustomerID
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		st, _, err := tx.Reader().LaunchState(f.step.ID)
		if err != nil {
			return err
		}
		p, err := model.CompileSegment(st.Conditions, st.StartedAt)
		require.NoError(t, err)
		members, err := tx.Reader().AudienceMembers(p, st.Cursor+50, 1)
		require.NoError(t, err)
		planted = members[0]
		d := DecisionRecord{ID: 999999, StepID: f.step.ID, CustomerID: planted, Reason: model.ReasonNoValidBasis, DecidedBy: "someone else"}
		return tx.bucket(bDecisions).Put(decisionKey(f.step.ID, planted), encodeDecision(nil, &d))
	}))
	res, err := f.s.Launch(context.Background(), operator, f.step.ID, LaunchOptions{BatchSize: 40})
	require.NoError(t, err)
	require.True(t, res.Complete)
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		d, ok, err := r.Decision(f.step.ID, planted)
		require.True(t, ok)
		assert.Equal(t, "someone else", d.DecidedBy, "the existing decision stands")
		ds, _, err2 := r.Decisions(f.step.ID, 0, 1<<30)
		seen := map[model.CustomerID]bool{}
		for _, d := range ds {
			assert.False(t, seen[d.CustomerID])
			seen[d.CustomerID] = true
		}
		assert.Equal(t, res.Audience+1, len(ds))
		return errors.Join(err, err2)
	}))
}

func TestPreviewMessage(t *testing.T) {
	f := newFixture(t, 20, 16)
	var pv MessagePreview
	require.NoError(t, f.s.View(operator, func(r *Reader) error {
		var err error
		pv, err = r.PreviewMessage(f.step.ID, f.customers[0])
		return err
	}))
	assert.True(t, pv.InAudience)
	assert.Equal(t, "Kundin0, es blüht", pv.Subject)
	assert.True(t, strings.HasPrefix(pv.Body, "Liebe Kundin0,"), pv.Body)
	assert.NotZero(t, pv.Decision.Rule)
	require.NoError(t, f.s.View(analyst, func(r *Reader) error {
		var err error
		pv, err = r.PreviewMessage(f.step.ID, f.customers[0])
		return err
	}))
	assert.NotContains(t, pv.Body, "Kundin0", "masked for an analyst")
	// A creative that needs a value the customer lacks is an error, not a half-filled message.
	require.NoError(t, f.s.Update(operator, func(tx *Tx) error {
		return tx.UpdateCampaign(f.campaign.ID, func(c *model.Campaign) error {
			c.Creatives[0].Body = "Hallo {{company}}"
			return nil
		})
	}))
	require.NoError(t, f.s.View(operator, func(r *Reader) error {
		var err error
		pv, err = r.PreviewMessage(f.step.ID, f.customers[0])
		return err
	}))
	assert.Empty(t, pv.Body)
	assert.Contains(t, pv.Error, "{{company}}")
}

// TestUnrenderableBecomesDeadLetter: an allowed customer for whom the
// creative cannot be filled in gets a dead letter naming the missing
// field, never a half-filled message.
func TestUnrenderableBecomesDeadLetter(t *testing.T) {
	f := newFixture(t, 200, 17)
	require.NoError(t, f.s.Update(operator, func(tx *Tx) error {
		return tx.UpdateCampaign(f.campaign.ID, func(c *model.Campaign) error {
			c.Creatives[0].Body = "{{greeting}}, Ihr Gutschein für {{city}}"
			return nil
		})
	}))
	f.approve(t)
	pre, err := f.s.Preflight(context.Background(), operator, f.step.ID, PreflightOptions{})
	require.NoError(t, err)
	require.Positive(t, pre.Unrenderable, "customers with an email but no address lack a city")
	assert.Equal(t, model.Money((pre.Allowed-pre.Unrenderable)*2), pre.EstimatedCost)
	res := f.launch(t)
	assert.Equal(t, pre.Unrenderable, res.Unrenderable)
	d := f.dispatcher(t, DispatcherOptions{})
	rep, err := d.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, res.Allowed-res.Unrenderable, rep.Sent)
	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		dead, _, err := r.DeadLetters(0, 1000)
		require.Len(t, dead, res.Unrenderable)
		assert.Contains(t, dead[0].LastError, "no value for {{city}}")
		return err
	}))
	checkOutboxIndexes(t, f.s)
}
