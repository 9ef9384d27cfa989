package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store/dispatch"
)

// The property of the launch pipeline: with any consent histories, and
// withdrawals, objections and erasures at any time between launch and
// dispatch — even while a batch is being sent — no message ever reaches a
// connector for a customer whose consent denies at that moment, and every
// audience member has exactly one decision.

// oracleConnector checks, for every message handed to it, that a fresh
// consent check at this moment allows it, and may record a withdrawal for
// another customer while a batch is on its way.
type oracleConnector struct {
	t      *testing.T
	s      *Store
	step   model.Step
	notice bool
	data   []model.DataCategory
	rng    *rand.Rand
	inject func(cid model.CustomerID)

	mu   sync.Mutex
	sent map[uint64]int
}

func (o *oracleConnector) Send(_ context.Context, m dispatch.Message) error {
	var res CheckResult
	require.NoError(o.t, o.s.View(admin, func(r *Reader) error {
		ch, err := r.Channel(m.ChannelID)
		if err != nil {
			return err
		}
		res, err = r.Check(CheckInput{Customer: m.CustomerID, Channel: ch.Kind, Purpose: o.step.PurposeID, DataCategories: o.data, WithoutNotice: !o.notice})
		return err
	}))
	assert.True(o.t, res.Allow, "message %d to customer %d left although consent denies now: %s", m.ID, m.CustomerID, res.Explain())
	o.mu.Lock()
	o.sent[m.ID]++
	o.mu.Unlock()
	if o.rng.IntN(3) == 0 {
		// Withdraw for a customer whose message is claimed in this batch
		// and comes after this one: consent changes while the batch is on
		// its way.
		var later []model.CustomerID
		require.NoError(o.t, o.s.View(admin, func(r *Reader) error {
			ms, _, err := r.Outbox(OutboxFilter{Step: o.step.ID, Status: OutboxSending}, OutboxID(m.ID), 1000)
			for _, x := range ms {
				later = append(later, x.CustomerID)
			}
			return err
		}))
		if len(later) > 0 {
			o.inject(later[o.rng.IntN(len(later))])
		}
	}
	return nil
}

func (o *oracleConnector) Sync() error  { return nil }
func (o *oracleConnector) Close() error { return nil }

func TestPropertyNoMessageWithoutConsentAtDispatch(t *testing.T) {
	rounds := 30
	if testing.Short() {
		rounds = 5
	}
	for seed := range rounds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { propertyRound(t, uint64(seed)) })
	}
}

func propertyRound(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	s, clock := openTest(t)
	kinds := []model.ChannelKind{model.KindEmail, model.KindSMS, model.KindPhone, model.KindPostal, model.KindWeb}
	kind := kinds[rng.IntN(len(kinds))]
	var marketing, service, profiling model.Purpose
	var channel model.Channel
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		marketing = model.Purpose{Name: "offers", Category: model.CategoryMarketing, OwnSimilarProducts: rng.IntN(2) == 0}
		service = model.Purpose{Name: "service", Category: model.CategoryService}
		profiling = model.Purpose{Name: "profiling", Category: model.CategoryProfiling}
		channel = model.Channel{Kind: kind, Name: "Channel", Connector: model.Connector{Kind: model.ConnectorDry}, CostPerContact: model.Money(rng.IntN(10))}
		for _, p := range []*model.Purpose{&marketing, &service, &profiling} {
			if err := tx.InsertPurpose(p); err != nil {
				return err
			}
		}
		return tx.InsertChannel(&channel)
	}))
	purpose := marketing
	if rng.IntN(6) == 0 {
		purpose = service
	}
	past := func() time.Time { return clock.t.Add(-time.Duration(rng.Int64N(int64(3 * 365 * 24 * time.Hour)))) }
	randomEvent := func(tx *Tx, cid model.CustomerID, at time.Time) error {
		ev := model.ConsentEvent{CustomerID: cid, EffectiveAt: at, Channel: kind, PurposeID: purpose.ID, Source: "test"}
		switch rng.IntN(10) {
		case 0, 1, 2:
			ev.Kind = model.ConsentOptIn
		case 3, 4:
			ev.Kind = model.ConsentDOIConfirmed
		case 5:
			ev.Kind = model.ConsentOptOut
		case 6:
			ev.Kind = model.ConsentObjection
		case 7:
			ev.Kind = model.ConsentParental
		case 8:
			ev.Kind, ev.Channel = model.ConsentB2BBasis, model.KindPhone
		case 9:
			ev.Kind, ev.PurposeID, ev.Channel = model.ConsentOptIn, profiling.ID, kinds[rng.IntN(len(kinds))]
		}
		return tx.AppendConsent(&ev, nil)
	}
	var customers []model.CustomerID
	n := 30 + rng.IntN(50)
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		for i := range n {
			c := model.Customer{FirstName: fmt.Sprint("P", i), Salutation: "Herr"}
			if rng.IntN(8) > 0 {
				c.Email = fmt.Sprintf("p%d@example.de", i)
			}
			if rng.IntN(3) > 0 {
				c.Phone = []string{"+4915112345678", "+493012345678"}[rng.IntN(2)]
				c.Phone = c.Phone[:len(c.Phone)-3] + fmt.Sprintf("%03d", i)
			}
			if rng.IntN(3) > 0 {
				c.Address = model.Address{Street: "Gasse 2", PostalCode: "20095", City: "Hamburg", Country: "DE"}
			}
			if rng.IntN(5) == 0 {
				c.Company = "Firma"
			}
			if rng.IntN(6) == 0 {
				c.BirthDate = model.DateOf(clock.t.AddDate(-14, 0, 0))
			}
			if rng.IntN(2) == 0 {
				c.Tags = []string{"a"}
			}
			if c.Email == "" && c.Phone == "" && c.FirstName == "" {
				c.Email = fmt.Sprintf("p%d@example.de", i)
			}
			if err := tx.InsertCustomer(&c); err != nil {
				return err
			}
			customers = append(customers, c.ID)
			if rng.IntN(3) == 0 {
				if err := tx.AddPurchase(&model.Purchase{CustomerID: c.ID, OrderID: fmt.Sprint(i), Source: "shop", At: past(), Amount: 1000,
					EmailCollected: true, ObjectionNotice: rng.IntN(2) == 0}); err != nil {
					return err
				}
			}
			for range rng.IntN(6) {
				if err := randomEvent(tx, c.ID, past()); err != nil {
					return err
				}
			}
		}
		return nil
	}))
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		for _, cid := range customers {
			if rng.IntN(30) == 0 {
				if err := tx.EraseCustomer(cid); err != nil {
					return err
				}
			}
		}
		return nil
	}))
	var step model.Step
	var campaign model.Campaign
	notice := rng.IntN(2) == 0
	var data []model.DataCategory
	for _, d := range model.DataCategories() {
		if rng.IntN(5) == 0 {
			data = append(data, d)
		}
	}
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		seg := model.Segment{Name: "S"}
		if rng.IntN(2) == 0 {
			seg.Conditions = []model.Condition{{Field: "tag", Op: "has", Value: "a"}}
		}
		if err := tx.InsertSegment(&seg); err != nil {
			return err
		}
		campaign = model.Campaign{Name: "P", Start: clock.t, End: clock.t.AddDate(0, 1, 0),
			Creatives: []model.Creative{{Name: "C", Body: "{{greeting}}, {{customer_id}}", ObjectionNotice: notice}}}
		if err := tx.InsertCampaign(&campaign); err != nil {
			return err
		}
		step = model.Step{CampaignID: campaign.ID, Name: "S", ChannelID: channel.ID, PurposeID: purpose.ID, SegmentID: seg.ID,
			Creative: "C", ScheduledAt: clock.t, DataCategories: data}
		if err := tx.InsertStep(&step); err != nil {
			return err
		}
		if err := tx.TransitionCampaign(campaign.ID, model.ActionSubmit, ""); err != nil {
			return err
		}
		return tx.TransitionCampaign(campaign.ID, model.ActionApprove, "") // a single-user store may self-approve
	}))

	// Launch, maybe interrupted and resumed at a later time.
	ctx, cancel := context.WithCancel(context.Background())
	stopAfter := rng.IntN(4)
	batches := 0
	_, err := s.Launch(ctx, operator, step.ID, LaunchOptions{BatchSize: 3 + rng.IntN(20), Progress: func(LaunchProgress) {
		if batches++; batches == stopAfter {
			cancel()
		}
	}})
	if err != nil {
		require.ErrorIs(t, err, context.Canceled)
		clock.t = clock.t.Add(time.Duration(rng.IntN(100)) * time.Minute)
		_, err = s.Launch(context.Background(), operator, step.ID, LaunchOptions{BatchSize: 3 + rng.IntN(20)})
		require.NoError(t, err)
	}
	cancel()

	// Exactly one decision per audience member.
	var members []model.CustomerID
	var allowed int
	require.NoError(t, s.View(admin, func(r *Reader) error {
		st, ok, err := r.LaunchState(step.ID)
		require.True(t, ok)
		require.True(t, st.Finished())
		p, err := model.CompileSegment(st.Conditions, st.StartedAt)
		require.NoError(t, err)
		members, err = r.AudienceMembers(p, 0, 1<<30)
		require.NoError(t, err)
		ds, _, err := r.Decisions(step.ID, 0, 1<<30)
		require.NoError(t, err)
		require.Len(t, ds, len(members))
		for i, d := range ds {
			require.Equal(t, members[i], d.CustomerID)
			if d.Allow {
				allowed++
			}
		}
		return err
	}))

	withdraw := func(cid model.CustomerID) {
		require.NoError(t, s.Update(admin, func(tx *Tx) error {
			if c, err := tx.Reader().customerRaw(cid); err != nil || c.Erased {
				return err // nothing more to withdraw
			}
			switch rng.IntN(4) {
			case 0:
				return tx.EraseCustomer(cid)
			case 1:
				return tx.AppendConsent(&model.ConsentEvent{CustomerID: cid, Kind: model.ConsentObjection, EffectiveAt: clock.t}, nil)
			default:
				return tx.AppendConsent(&model.ConsentEvent{CustomerID: cid, Kind: model.ConsentOptOut, Channel: kind, PurposeID: purpose.ID, EffectiveAt: clock.t}, nil)
			}
		}))
	}
	oracle := &oracleConnector{t: t, s: s, step: step, notice: notice, data: data, rng: rng, inject: withdraw, sent: map[uint64]int{}}
	d, err := NewDispatcher(s, operator, DispatcherOptions{BatchSize: 1 + rng.IntN(10), Connect: func(model.Channel) (dispatch.Connector, error) { return oracle, nil }})
	require.NoError(t, err)
	defer d.Close()
	for range 1 + rng.IntN(4) {
		clock.t = clock.t.Add(time.Duration(rng.Int64N(int64(48 * time.Hour))))
		for _, cid := range members {
			if rng.IntN(6) == 0 {
				withdraw(cid)
			}
		}
		_, err := d.RunOnce(context.Background())
		require.NoError(t, err)
	}
	_, err = d.RunOnce(context.Background())
	require.NoError(t, err)

	// Every message ended sent (once) or suppressed with a reason.
	require.NoError(t, s.View(admin, func(r *Reader) error {
		ms, _, err := r.Outbox(OutboxFilter{Step: step.ID}, 0, 1000)
		require.NoError(t, err)
		require.Len(t, ms, allowed)
		for _, m := range ms {
			switch m.Status {
			case OutboxSent:
				assert.Equal(t, 1, oracle.sent[uint64(m.ID)], "message %d sent once", m.ID)
			case OutboxSuppressed:
				assert.False(t, m.Reason.Allows())
				assert.Zero(t, oracle.sent[uint64(m.ID)])
			default:
				t.Errorf("message %d ended %s", m.ID, m.Status)
			}
		}
		return nil
	}))
	checkOutboxIndexes(t, s)
	v, err := s.VerifyAudit()
	require.NoError(t, err)
	require.True(t, v.OK, "%+v", v)
}
