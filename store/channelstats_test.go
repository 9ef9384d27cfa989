package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/store/demo"
	"karton/store/dispatch"
)

var statsAsOf = time.Date(2026, 3, 15, 9, 30, 0, 0, time.UTC)

var statsAdmin = model.Actor{Name: "anna", Role: model.RoleAdmin, Via: "test"}

func statsDemo(t *testing.T, n int) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "demo.db"), store.Options{Now: func() time.Time { return statsAsOf }, Secret: demo.Secret(7)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = demo.Generate(context.Background(), s, demo.Options{Customers: n, Seed: 7, AsOf: statsAsOf})
	require.NoError(t, err)
	return s
}

func TestChannelActivityAddsUpToKPIs(t *testing.T) {
	s := statsDemo(t, 300)
	from, to := store.DayOf(statsAsOf.AddDate(0, 0, -89)), store.DayOf(statsAsOf)
	require.NoError(t, s.View(statsAdmin, func(r *store.Reader) error {
		act, err := r.ChannelActivity(from, to)
		require.NoError(t, err)
		kpis, err := r.KPIs(store.KPIQuery{From: from.Time(), To: to.Time(), By: store.KPIByChannel})
		require.NoError(t, err)
		require.NotEmpty(t, kpis.Rows)
		for _, row := range kpis.Rows {
			days := act[row.ChannelID]
			require.Len(t, days, 90, "dense series for channel %d", row.ChannelID)
			assert.Equal(t, from, days[0].Day)
			assert.Equal(t, to, days[89].Day)
			var contacts, responses, delivered int64
			var cost model.Money
			for _, d := range days {
				contacts += d.Contacts
				responses += d.Responses
				delivered += d.Delivered
				cost += d.Cost
			}
			assert.Equal(t, row.Contacts, contacts, "contacts of %s", row.Label)
			assert.Equal(t, row.Responses, responses, "responses of %s", row.Label)
			assert.Equal(t, row.Delivered, delivered, "delivered of %s", row.Label)
			assert.Equal(t, row.Cost, cost, "cost of %s", row.Label)
		}
		_, err = r.ChannelActivity(to, from)
		assert.Error(t, err, "a reversed range is refused")
		return nil
	}))
}

func TestConsentCoverageMatchesReachCounters(t *testing.T) {
	s := statsDemo(t, 300)
	cov, err := s.ConsentCoverage(context.Background(), model.Actor{Name: "vera", Role: model.RoleViewer}, nil)
	require.NoError(t, err)
	require.NoError(t, s.View(statsAdmin, func(r *store.Reader) error {
		assert.Equal(t, r.Counter("customers"), cov.Customers, "every customer has a projection")
		ps, err := r.Purposes()
		require.NoError(t, err)
		require.Len(t, cov.Scopes, len(model.ChannelKinds)*len(ps))
		for _, k := range model.ChannelKinds {
			reach, err := r.ReachByPurpose(k)
			require.NoError(t, err)
			scopes := cov.For(k)
			require.Len(t, scopes, len(ps))
			for i, sc := range scopes {
				assert.Equal(t, reach[i].Purpose.ID, sc.Purpose)
				assert.Equal(t, reach[i].Reach, sc.Allowed, "%s/%s: coverage agrees with the reach counter", k, reach[i].Purpose.Name)
				assert.Equal(t, cov.Customers, sc.Allowed+sc.Denied, "%s/%s: one decision per customer", k, reach[i].Purpose.Name)
				var sum int64
				for reason, n := range sc.ByReason {
					assert.NotEqual(t, model.Reason("UNKNOWN"), reason)
					sum += n
				}
				assert.Equal(t, cov.Customers, sum)
			}
		}
		// Reading in small chunks gives the same tallies.
		var chunked store.Coverage
		var after model.CustomerID
		for calls := 0; ; calls++ {
			require.Less(t, calls, 100)
			next, err := r.ConsentCoverage(&chunked, after, 37)
			require.NoError(t, err)
			if next == 0 {
				break
			}
			after = next
		}
		chunked.Complete()
		assert.Equal(t, cov.Customers, chunked.Customers)
		assert.Equal(t, cov.Scopes, chunked.Scopes)
		_, err = r.ReachByPurpose("fax")
		assert.Error(t, err)
		return nil
	}))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.ConsentCoverage(ctx, statsAdmin, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

// failing is a connector that refuses every message for good.
type failing struct{}

func (failing) Send(context.Context, dispatch.Message) error {
	return &dispatch.SendError{Permanent: true, Code: 550, Err: errors.New("mailbox unavailable")}
}
func (failing) Sync() error  { return nil }
func (failing) Close() error { return nil }

func TestOutboxByChannelAndDeadLetters(t *testing.T) {
	s := statsDemo(t, 300)
	var step model.Step
	require.NoError(t, s.View(statsAdmin, func(r *store.Reader) error {
		cs, err := r.Campaigns()
		require.NoError(t, err)
		for _, c := range cs {
			if c.Status != model.StatusApproved {
				continue
			}
			sts, err := r.Steps(c.ID)
			require.NoError(t, err)
			for _, st := range sts {
				if st.Name == "Postkarte Bestkunden" {
					step = st
				}
			}
		}
		return nil
	}))
	require.NotZero(t, step.ID, "the demo has an approved postal step")
	res, err := s.Launch(context.Background(), statsAdmin, step.ID, store.LaunchOptions{})
	require.NoError(t, err)
	require.Positive(t, res.Messages)
	d, err := store.NewDispatcher(s, statsAdmin, store.DispatcherOptions{Connect: func(model.Channel) (dispatch.Connector, error) { return failing{}, nil }})
	require.NoError(t, err)
	defer d.Close()
	rep, err := d.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, res.Messages, rep.Dead+rep.Suppressed)

	require.NoError(t, s.View(statsAdmin, func(r *store.Reader) error {
		byCh, err := r.OutboxByChannel()
		require.NoError(t, err)
		require.Len(t, byCh, 1)
		co := byCh[step.ChannelID]
		assert.Equal(t, int64(rep.Dead), co.Counts.Dead)
		assert.Equal(t, int64(rep.Suppressed), co.Counts.Suppressed)
		assert.Zero(t, co.Queued())
		assert.Equal(t, []model.StepID{step.ID}, co.Steps)

		dead, next, err := r.ChannelDeadLetters(step.ChannelID, 0, 5)
		require.NoError(t, err)
		require.Len(t, dead, min(5, rep.Dead))
		assert.Contains(t, dead[0].LastError, "mailbox unavailable")
		if rep.Dead > 5 {
			assert.NotZero(t, next)
			more, _, err := r.ChannelDeadLetters(step.ChannelID, next, 1000)
			require.NoError(t, err)
			assert.Len(t, more, rep.Dead-5)
			assert.Greater(t, more[0].ID, dead[4].ID)
		}
		other, _, err := r.ChannelDeadLetters(step.ChannelID+1, 0, 100)
		require.NoError(t, err)
		assert.Empty(t, other, "another channel has no dead letters")
		return nil
	}))

	_, err = s.RetryChannelDeadLetters(model.Actor{Name: "vera", Role: model.RoleViewer}, step.ChannelID)
	assert.Error(t, err, "a viewer may not retry")
	n, err := s.RetryChannelDeadLetters(statsAdmin, step.ChannelID)
	require.NoError(t, err)
	assert.Equal(t, rep.Dead, n)
	require.NoError(t, s.View(statsAdmin, func(r *store.Reader) error {
		byCh, err := r.OutboxByChannel()
		require.NoError(t, err)
		assert.Zero(t, byCh[step.ChannelID].Counts.Dead)
		assert.Equal(t, int64(rep.Dead), byCh[step.ChannelID].Queued())
		return nil
	}))
}

// BenchmarkConsentCoverage tallies the consent coverage of every scope over
// the bench fixture (100k customers; KARTON_BENCH_1M=1 for 1M): the read
// the Channels box runs in a command behind a spinner.
func BenchmarkConsentCoverage(b *testing.B) {
	fx := benchFixture(b)
	s := fx.openRead(b)
	b.ReportAllocs()
	for b.Loop() {
		cov, err := s.ConsentCoverage(context.Background(), benchAdmin, nil)
		if err != nil {
			b.Fatal(err)
		}
		if cov.Customers < int64(fx.customers) {
			b.Fatalf("tallied %d projections of %d customers", cov.Customers, fx.customers)
		}
	}
	b.ReportMetric(float64(fx.customers), "customers")
}

// BenchmarkChannelActivity90d reads 90 days of per-channel activity from
// the rollups.
func BenchmarkChannelActivity90d(b *testing.B) {
	fx := benchFixture(b)
	s := fx.openRead(b)
	to := store.DayOf(benchAsOf)
	for b.Loop() {
		err := s.View(benchAdmin, func(r *store.Reader) error {
			_, err := r.ChannelActivity(to-89, to)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
