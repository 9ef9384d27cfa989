package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// The facts decoder skips what it does not need; it must read the same
// values as the full decoder, for analytics and for the decision table.
func TestCustomerFactsMatchTheRecord(t *testing.T) {
	check := func(v []byte) {
		var c model.Customer
		require.NoError(t, decodeCustomer(v, &c))
		var f customerFacts
		require.NoError(t, decodeCustomerFacts(v, &f))
		assert.Equal(t, customerFacts{id: c.ID, business: c.Type == model.Business, birth: c.BirthDate, erased: c.Erased,
			suppressed: c.Suppressed, purchases: c.PurchaseCount, revenue: c.Revenue, first: c.FirstPurchaseAt,
			last: c.LastPurchaseAt, emailFromPurchase: c.EmailFromPurchase, contactPoints: c.ContactPoints}, f)
		assert.Equal(t, model.StoredFactsOf(&c, c.ContactPoints), f.decision(), "customer %d", c.ID)
	}
	s, _ := openTest(t)
	loadCustomers(t, s.Update, 0, 30, 30)
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bCustomers).ForEach(func(k, v []byte) error {
			check(v)
			return nil
		})
	}))
	// Every field set, in turn and together.
	at := time.Date(2025, 5, 6, 7, 8, 9, 10, time.UTC)
	full := model.Customer{ID: 7, Type: model.Business, Salutation: "Frau", FirstName: "Jana", LastName: "Meier", Company: "Meier GmbH",
		Email: "jana@example.de", Phone: "+4915112345678", Address: model.Address{Street: "Am Markt 1\nHinterhaus", PostalCode: "10115", City: "Berlin", Country: "DE"},
		BirthDate: model.Date{Year: 1990, Month: 4, Day: 1}, Attributes: map[string]string{"tier": "gold", "since": "2020"},
		Preferences: map[string]string{"language": "de"}, Tags: []string{"vip", "b2b"},
		Sources:   []model.SourceRef{{Source: "crm", ExternalID: "A-1"}, {Source: "shop", ExternalID: "K-9"}},
		CreatedAt: at, UpdatedAt: at.Add(time.Hour), Suppressed: true, LastActivityAt: at, PurchaseCount: 3, Revenue: 12345,
		FirstPurchaseAt: at.Add(-time.Hour), LastPurchaseAt: at, EmailFromPurchase: true, ContactPoints: 5}
	check(encodeCustomer(nil, &full))
	check(encodeCustomer(nil, &model.Customer{ID: 8, Type: model.Consumer, LastName: "X"}))
	check(encodeCustomer(nil, &model.Customer{ID: 9, Type: model.Consumer, Erased: true, ErasedAt: at, FirstPurchaseAt: at}))
}

// kpiFixture is two channels, a campaign, contacts and purchases.
type kpiFixture struct {
	s                  *Store
	news, post         model.Channel
	camp               model.CampaignID
	day                time.Time
	anna, ben, cem, do model.CustomerID
}

func newKPIFixture(t *testing.T) *kpiFixture {
	s, _ := openTest(t)
	f := &kpiFixture{s: s, day: time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)}
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		f.news = model.Channel{Name: "Newsletter", Kind: model.KindEmail, Connector: model.Connector{Kind: model.ConnectorDry}, CostPerContact: 1, Currency: "EUR", Status: model.ChannelActive}
		if err := tx.InsertChannel(&f.news); err != nil {
			return err
		}
		f.post = model.Channel{Name: "Postkarte", Kind: model.KindPostal, Connector: model.Connector{Kind: model.ConnectorDry}, CostPerContact: 80, Currency: "EUR", Status: model.ChannelActive}
		if err := tx.InsertChannel(&f.post); err != nil {
			return err
		}
		c := model.Campaign{Name: "Frühling", Owner: "ada", Start: f.day, End: f.day.AddDate(0, 1, 0), Currency: "EUR"}
		if err := tx.InsertCampaign(&c); err != nil {
			return err
		}
		f.camp = c.ID
		return nil
	}))
	f.anna = addCustomer(t, s, model.Customer{LastName: "Anna", Email: "anna@example.de"})
	f.ben = addCustomer(t, s, model.Customer{LastName: "Ben", Email: "ben@example.de"})
	f.cem = addCustomer(t, s, model.Customer{LastName: "Cem", Address: model.Address{Street: "Weg 1", PostalCode: "10115", City: "Berlin", Country: "DE"}})
	f.do = addCustomer(t, s, model.Customer{LastName: "Do", Email: "do@example.de"})
	d := f.day
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		for _, in := range []model.Interaction{
			{CustomerID: f.anna, Kind: model.InteractionSent, Channel: model.KindEmail, ChannelID: f.news.ID, CampaignID: f.camp, At: d, Value: 1},
			{CustomerID: f.ben, Kind: model.InteractionSent, Channel: model.KindEmail, ChannelID: f.news.ID, CampaignID: f.camp, At: d, Value: 1},
			{CustomerID: f.anna, Kind: model.InteractionDelivered, Channel: model.KindEmail, ChannelID: f.news.ID, CampaignID: f.camp, At: d},
			{CustomerID: f.ben, Kind: model.InteractionDelivered, Channel: model.KindEmail, ChannelID: f.news.ID, CampaignID: f.camp, At: d},
			{CustomerID: f.anna, Kind: model.InteractionOpened, Channel: model.KindEmail, ChannelID: f.news.ID, CampaignID: f.camp, At: d.Add(time.Hour)},
			{CustomerID: f.anna, Kind: model.InteractionClicked, Channel: model.KindEmail, ChannelID: f.news.ID, CampaignID: f.camp, At: d.Add(time.Hour)},
			{CustomerID: f.cem, Kind: model.InteractionSent, Channel: model.KindPostal, ChannelID: f.post.ID, At: d, Value: 80},
			{CustomerID: f.cem, Kind: model.InteractionBounced, Channel: model.KindPostal, ChannelID: f.post.ID, At: d.AddDate(0, 0, 3)},
		} {
			if err := tx.AddInteraction(&in); err != nil {
				return err
			}
		}
		for i, p := range []model.Purchase{
			{CustomerID: f.anna, At: d.AddDate(0, 0, 2), Amount: 5000},                  // within 30 days of the newsletter
			{CustomerID: f.anna, At: d.AddDate(0, 0, -1), Amount: 700},                  // before any contact: organic
			{CustomerID: f.ben, At: d.AddDate(0, 0, 45), Amount: 3000},                  // too late: organic
			{CustomerID: f.cem, At: d.AddDate(0, 0, 10), Amount: 12000},                 // the postcard
			{CustomerID: f.do, At: d.AddDate(0, 0, 5), Amount: 100, OrderID: "no-send"}, // never contacted
		} {
			if p.OrderID == "" {
				p.OrderID = fmt.Sprint("o", i)
			}
			p.Source = "shop"
			if err := tx.AddPurchase(&p); err != nil {
				return err
			}
		}
		return nil
	}))
	return f
}

func TestKPIsFromRollupsAndLastContactAttribution(t *testing.T) {
	f := newKPIFixture(t)
	sum, err := f.s.RunAttribution(context.Background(), admin, AttributionOptions{})
	require.NoError(t, err)
	assert.Equal(t, AttributionSummary{ComputedAt: testNow, WindowDays: 30, Purchases: 5, Attributed: 2, Revenue: 20800, AttributedRevenue: 17000}, sum)

	from, to := f.day.AddDate(0, 0, -10), f.day.AddDate(0, 0, 60)
	var rep KPIReport
	require.NoError(t, f.s.View(admin, func(r *Reader) (err error) {
		rep, err = r.KPIs(KPIQuery{From: from, To: to, By: KPIByChannel})
		return err
	}))
	require.Len(t, rep.Rows, 2)
	news, post := rep.Rows[0], rep.Rows[1]
	assert.Equal(t, "Newsletter", news.Label)
	assert.EqualValues(t, 2, news.Contacts)
	assert.EqualValues(t, 2, news.Delivered)
	assert.InDelta(t, 1.0, news.DeliveryRate, 1e-9)
	assert.InDelta(t, 0.5, news.OpenRate, 1e-9)
	assert.InDelta(t, 0.5, news.ClickRate, 1e-9)
	assert.InDelta(t, 0.5, news.ResponseRate, 1e-9)
	assert.EqualValues(t, 1, news.Conversions)
	assert.Equal(t, model.Money(5000), news.Revenue)
	assert.Equal(t, model.Money(2), news.Cost)
	require.NotNil(t, news.ROI)
	assert.InDelta(t, (5000.0-2)/2, *news.ROI, 1e-9)
	require.NotNil(t, news.CPA)
	assert.Equal(t, model.Money(2), *news.CPA)

	assert.Equal(t, "Postkarte", post.Label)
	assert.EqualValues(t, 0, post.Delivered, "no delivery reports: contacts minus bounces")
	assert.Equal(t, model.Money(12000), post.Revenue)
	assert.Equal(t, model.Money(20800), rep.Revenue)
	assert.Equal(t, model.Money(3800), rep.Organic)
	assert.EqualValues(t, 3, rep.Total.Contacts)
	assert.Equal(t, model.Money(17000), rep.Total.Revenue)

	require.NoError(t, f.s.View(admin, func(r *Reader) (err error) {
		rep, err = r.KPIs(KPIQuery{From: from, To: to, By: KPIByCampaign})
		return err
	}))
	require.Len(t, rep.Rows, 1)
	assert.Equal(t, "Frühling", rep.Rows[0].Label)
	assert.EqualValues(t, 2, rep.Rows[0].Contacts)

	require.NoError(t, f.s.View(admin, func(r *Reader) error {
		months, err := r.RevenueByMonth(model.MakeYearMonth(2025, 12), model.MakeYearMonth(2026, 2))
		require.NoError(t, err)
		assert.Equal(t, []MonthRevenue{
			{Month: model.MakeYearMonth(2025, 12), Label: "2025-12"},
			{Month: model.MakeYearMonth(2026, 1), Label: "2026-01", Purchases: 4, Revenue: 17800},
			{Month: model.MakeYearMonth(2026, 2), Label: "2026-02", Purchases: 1, Revenue: 3000},
		}, months)
		return nil
	}))
}

func TestRFMScoresAndSegmentsForAudiences(t *testing.T) {
	s, _ := openTest(t)
	var ids []model.CustomerID
	for i := 0; i < 10; i++ {
		ids = append(ids, addCustomer(t, s, model.Customer{LastName: fmt.Sprint("K", i), Email: fmt.Sprintf("k%d@example.de", i)}))
	}
	addCustomer(t, s, model.Customer{LastName: "Nie", Email: "nie@example.de"}) // never bought
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		for i, id := range ids {
			// Customer i bought i+1 times, the last time i·30 days ago.
			for n := 0; n <= i; n++ {
				at := testNow.AddDate(0, 0, -i*30-n)
				if err := tx.AddPurchase(&model.Purchase{CustomerID: id, OrderID: fmt.Sprint(i, "-", n), Source: "shop", At: at, Amount: model.Money(1000 * (i + 1))}); err != nil {
					return err
				}
			}
		}
		return nil
	}))
	sum, err := s.ScoreRFM(context.Background(), admin, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, 10, sum.Scored)
	assert.Equal(t, 1, sum.Unscored)
	total := 0
	for _, seg := range sum.Segments {
		total += seg.Customers
	}
	assert.Equal(t, 10, total)
	require.NoError(t, s.View(admin, func(r *Reader) error {
		newest, ok, err := r.Scores(ids[0])
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, uint8(5), newest.R)
		assert.Equal(t, uint8(1), newest.F)
		oldest, _, err := r.Scores(ids[9])
		require.NoError(t, err)
		assert.Equal(t, uint8(1), oldest.R)
		assert.Equal(t, uint8(5), oldest.F)
		assert.Equal(t, model.RFMCantLoseThem, oldest.Segment)
		got, _, next, err := r.ScoredCustomers(ScoreFilter{Segment: model.RFMCantLoseThem}, 0, 10)
		require.NoError(t, err)
		assert.Contains(t, got, ids[9])
		assert.Zero(t, next)
		snap, ok, err := r.RFMSnapshot()
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, sum.Grid, snap.Grid)
		return nil
	}))
}

func TestRunAnalyticsSkipsCLVWithTooLittleData(t *testing.T) {
	f := newKPIFixture(t)
	run, err := f.s.RunAnalytics(context.Background(), admin, AnalyticsOptions{})
	require.NoError(t, err)
	// One repeat buyer: the purchase model fits, the spend model cannot.
	require.NotNil(t, run.CLVFit)
	assert.Contains(t, run.Skipped["clv"], "spend model")
	assert.Nil(t, run.CLV)
	assert.Equal(t, 4, run.RFM.Scored)
	assert.Equal(t, 4, run.Quality.Overall.Records)
	var jan CohortFigure
	for _, c := range run.Cohorts.Cohorts {
		if c.Month == "2026-01" {
			jan = c
		}
	}
	assert.Equal(t, 3, jan.Size, "Anna, Cem and Do first bought in January")
	assert.Equal(t, []int{3, 0, 0}, jan.Active)
}
