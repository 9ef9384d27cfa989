package demo

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
)

var testAsOf = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

var reader = model.Actor{Name: "test", Role: model.RoleAdmin, Via: "test"}

func openStore(t testing.TB, seed uint64) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "demo.db"), store.Options{
		Now: func() time.Time { return testAsOf }, Secret: Secret(seed),
	})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func generate(t testing.TB, n int, seed uint64) (*store.Store, Report) {
	t.Helper()
	s := openStore(t, seed)
	rep, err := Generate(context.Background(), s, Options{Customers: n, Seed: seed, AsOf: testAsOf})
	require.NoError(t, err)
	return s, rep
}

// The shared 2,000-customer data set most tests look at, generated once.
var (
	sharedOnce  sync.Once
	sharedDir   string
	sharedRep   Report
	sharedErr   error
	sharedCount = 2000
)

func shared(t *testing.T) (*store.Store, Report) {
	t.Helper()
	sharedOnce.Do(func() {
		dir, err := mkdirTemp()
		if err != nil {
			sharedErr = err
			return
		}
		sharedDir = dir
		s, err := store.Open(filepath.Join(dir, "demo.db"), store.Options{Now: func() time.Time { return testAsOf }, Secret: Secret(7)})
		if err != nil {
			sharedErr = err
			return
		}
		defer s.Close()
		sharedRep, sharedErr = Generate(context.Background(), s, Options{Customers: sharedCount, Seed: 7, AsOf: testAsOf})
	})
	require.NoError(t, sharedErr)
	s, err := store.Open(filepath.Join(sharedDir, "demo.db"), store.Options{Now: func() time.Time { return testAsOf }, ReadOnly: true})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, sharedRep
}

// everything is one customer with all that belongs to them, as read back.
type everything struct {
	store.CustomerView
	Evidence []model.Evidence
}

func readAll(t *testing.T, s *store.Store, n int) []everything {
	t.Helper()
	out := make([]everything, 0, n)
	require.NoError(t, s.View(reader, func(r *store.Reader) error {
		for id := 1; id <= n; id++ {
			v, err := r.CustomerView(model.CustomerID(id), 10000)
			if err != nil {
				return err
			}
			e := everything{CustomerView: v}
			for _, ev := range v.Consents {
				evd, err := r.Evidence(ev.ID)
				if err != nil {
					return err
				}
				e.Evidence = append(e.Evidence, evd)
			}
			out = append(out, e)
		}
		return nil
	}))
	return out
}

func comparableStats(t *testing.T, s *store.Store) store.Stats {
	st, err := s.Stats()
	require.NoError(t, err)
	st.Path, st.FileBytes = "", 0
	return st
}

func TestSameSeedGivesIdenticalData(t *testing.T) {
	const n = 1500
	a, _ := generate(t, n, 11)
	b, _ := generate(t, n, 11)
	c, _ := generate(t, n, 12)

	assert.Equal(t, comparableStats(t, a), comparableStats(t, b))
	recA, recB := readAll(t, a, n), readAll(t, b, n)
	for i := range recA {
		require.Equal(t, recA[i], recB[i], "customer %d", i+1)
	}
	// The audit chain hashes every consent event, campaign, step, user and
	// channel in order: equal heads mean equal histories.
	va, err := a.VerifyAudit()
	require.NoError(t, err)
	vb, err := b.VerifyAudit()
	require.NoError(t, err)
	assert.True(t, va.OK)
	assert.Equal(t, va.Head, vb.Head)
	var campA, campB []model.Campaign
	require.NoError(t, a.View(reader, func(r *store.Reader) error { campA, err = r.Campaigns(); return err }))
	require.NoError(t, b.View(reader, func(r *store.Reader) error { campB, err = r.Campaigns(); return err }))
	assert.Equal(t, campA, campB)

	recC := readAll(t, c, n)
	same := 0
	for i := range recA {
		if recA[i].Customer.Email == recC[i].Customer.Email && recA[i].Customer.LastName == recC[i].Customer.LastName {
			same++
		}
	}
	assert.Less(t, same, n/50, "another seed gives other people")
	vc, err := c.VerifyAudit()
	require.NoError(t, err)
	assert.NotEqual(t, va.Head, vc.Head)
}

// A customer depends only on (seed, index, N, AsOf): not on which worker
// draws it, in which order, or in which batch.
func TestCustomersDependOnlyOnSeedAndIndex(t *testing.T) {
	s := openStore(t, 3)
	p := newPlan(testAsOf)
	w, err := setup(s, p, &Report{})
	require.NoError(t, err)
	g := newGenerator(3, 500, testAsOf, w)
	forward := make([]custPlan, 500)
	for i := range forward {
		forward[i] = g.customer(i)
	}
	for i := 499; i >= 0; i -= 7 {
		assert.Equal(t, forward[i], g.customer(i), "customer %d drawn again, out of order", i)
	}
}

func TestReportEqualsStats(t *testing.T) {
	s, rep := shared(t)
	st, err := s.Stats()
	require.NoError(t, err)
	assert.Equal(t, Report{
		Customers: int(st.Customers), Channels: int(st.Channels), Purposes: int(st.Purposes), Campaigns: int(st.Campaigns),
		Steps: int(st.Steps), Segments: int(st.Segments), Users: int(st.Users), ConsentEvents: int(st.ConsentEvents),
		Interactions: int(st.Interactions), Purchases: int(st.Purchases), Elapsed: rep.Elapsed,
	}, rep)
	assert.Equal(t, sharedCount, rep.Customers)
	// The ratios the demo promises: ~3 consent events, ~10 interactions,
	// ~2 purchases per customer.
	n := float64(rep.Customers)
	assert.InDelta(t, 3, float64(rep.ConsentEvents)/n, 0.6)
	assert.InDelta(t, 10, float64(rep.Interactions)/n, 2)
	assert.InDelta(t, 2, float64(rep.Purchases)/n, 0.5)
	pending, err := s.BulkLoadPending()
	require.NoError(t, err)
	assert.False(t, pending)
	res, err := s.VerifyAudit()
	require.NoError(t, err)
	assert.True(t, res.OK, res.Reason)
}

func TestEveryRecordValidates(t *testing.T) {
	s, _ := shared(t)
	all := readAll(t, s, sharedCount)
	orders := map[string]bool{}
	var steps map[model.StepID]model.Step
	var campaigns map[model.CampaignID]model.Campaign
	require.NoError(t, s.View(reader, func(r *store.Reader) error {
		cs, err := r.Campaigns()
		campaigns = map[model.CampaignID]model.Campaign{}
		steps = map[model.StepID]model.Step{}
		for _, c := range cs {
			campaigns[c.ID] = c
			assert.NoError(t, c.Validate(), c.Name)
			st, err := r.Steps(c.ID)
			if err != nil {
				return err
			}
			for _, x := range st {
				assert.NoError(t, x.Validate(), "%s / %s", c.Name, x.Name)
				steps[x.ID] = x
			}
		}
		chs, err := r.Channels()
		for _, ch := range chs {
			assert.NoError(t, ch.Validate(), ch.Name)
		}
		return err
	}))
	for _, e := range all {
		c := e.Customer
		assert.NoError(t, c.Validate(testAsOf), "customer %d", c.ID)
		if c.Phone != "" {
			assert.True(t, model.IsE164(c.Phone), "phone %s of customer %d", c.Phone, c.ID)
		}
		for _, ev := range e.Consents {
			assert.NoError(t, ev.Validate(testAsOf), "consent %d", ev.ID)
			assert.False(t, ev.RecordedAt.Before(ev.EffectiveAt), "consent %d recorded before it happened", ev.ID)
		}
		for _, in := range e.Interactions {
			assert.NoError(t, in.Validate(testAsOf), "interaction %d", in.ID)
			assert.False(t, in.At.Before(c.CreatedAt.Add(-48*time.Hour)) && in.Note != "Import: letzter Versand aus dem Altsystem", "interaction %d before the customer existed", in.ID)
			if in.StepID != 0 {
				st, ok := steps[in.StepID]
				require.True(t, ok, "interaction %d names step %d", in.ID, in.StepID)
				assert.Equal(t, st.CampaignID, in.CampaignID)
				assert.Equal(t, model.StepLaunched, st.Status, "contacts only from launched steps")
			}
			if in.CampaignID != 0 {
				status := campaigns[in.CampaignID].Status
				assert.Contains(t, []model.CampaignStatus{model.StatusRunning, model.StatusCompleted, model.StatusCancelled}, status)
			}
		}
		for _, p := range e.Purchases {
			assert.NoError(t, p.Validate(testAsOf), "purchase %s", p.OrderID)
			var sum model.Money
			for _, it := range p.Items {
				sum += model.Money(it.Quantity) * it.UnitPrice
			}
			assert.Equal(t, p.Amount, sum, "order %s adds up", p.OrderID)
			key := p.Source + "/" + p.OrderID
			assert.False(t, orders[key], "order %s twice", key)
			orders[key] = true
			assert.Equal(t, "EUR", p.Currency)
		}
	}
}

func TestEveryConsentKindButErasureAppears(t *testing.T) {
	s, _ := shared(t)
	kinds := map[model.ConsentKind]int{}
	late, stale, lateWithdrawal := 0, 0, 0
	for _, e := range readAll(t, s, sharedCount) {
		lastEmailSend := time.Time{}
		for _, in := range e.Interactions {
			if in.Kind == model.InteractionSent && in.Channel == model.KindEmail && in.At.After(lastEmailSend) {
				lastEmailSend = in.At
			}
		}
		for i, ev := range e.Consents {
			kinds[ev.Kind]++
			if ev.RecordedAt.After(ev.EffectiveAt) {
				late++
				if ev.Kind == model.ConsentOptOut && ev.RecordedAt.Sub(ev.EffectiveAt) >= 24*time.Hour {
					lateWithdrawal++
				}
			}
			assert.NotEmpty(t, e.Evidence[i], "consent %d has evidence", ev.ID)
			boundary := testAsOf.AddDate(0, -24, 0)
			if ev.Kind == model.ConsentDOIConfirmed && ev.EffectiveAt.Before(boundary) && lastEmailSend.Before(boundary) {
				stale++
			}
		}
	}
	for _, k := range model.ConsentKinds {
		if k == model.ConsentErasure {
			assert.Zero(t, kinds[k])
			continue
		}
		assert.Positive(t, kinds[k], "no %s events", k)
	}
	assert.Positive(t, late, "some events are recorded after they happened")
	assert.Positive(t, lateWithdrawal, "some withdrawals arrive days late")
	assert.Positive(t, stale, "some confirmed opt-ins are old and unused")
	n := float64(sharedCount)
	assert.InDelta(t, 0.02, float64(kinds[model.ConsentObjection])/n, 0.012, "about 2 %% object")
}

func TestCampaignsCoverEveryStatusWithFourEyes(t *testing.T) {
	s, _ := shared(t)
	var cs []model.Campaign
	require.NoError(t, s.View(reader, func(r *store.Reader) (err error) { cs, err = r.Campaigns(); return }))
	assert.GreaterOrEqual(t, len(cs), 18)
	statuses := map[model.CampaignStatus]int{}
	participants := 0
	for _, c := range cs {
		statuses[c.Status]++
		if c.ApprovedBy != "" {
			assert.NotEqual(t, c.SubmittedBy, c.ApprovedBy, "%s: four eyes", c.Name)
		}
		switch c.Status {
		case model.StatusRunning, model.StatusCompleted:
			assert.Positive(t, c.Spent(), "%s has spent money", c.Name)
		case model.StatusDraft, model.StatusSubmitted, model.StatusApproved:
			assert.Zero(t, c.Spent(), "%s has not run", c.Name)
		}
		assert.NotEmpty(t, c.Goal)
		assert.NotEmpty(t, c.Staff)
		assert.NotEmpty(t, c.Creatives)
		for _, cr := range c.Creatives {
			for _, f := range placeholders(cr.Subject + cr.Body) {
				assert.Contains(t, templateFields, f, "%s / %s uses an unknown field", c.Name, cr.Name)
			}
		}
		if c.Capacity > 0 {
			inv, reg, att := c.ParticipantCounts()
			assert.LessOrEqual(t, reg, c.Capacity)
			assert.LessOrEqual(t, att, reg)
			assert.LessOrEqual(t, reg, inv)
			participants += len(c.Participants)
		}
		if c.RejectionNote != "" {
			assert.Equal(t, model.StatusDraft, c.Status, "%s: a rejected campaign is a draft until resubmitted", c.Name)
		}
	}
	for _, st := range model.CampaignStatuses {
		assert.Positive(t, statuses[st], "no %s campaign", st)
	}
	assert.Positive(t, participants, "events have participants")
}

// templateFields is the personalisation field set of model/template.go.
var templateFields = []string{"salutation", "first_name", "last_name", "full_name", "greeting", "company", "email", "city",
	"last_purchase_date", "last_purchase_amount", "customer_id", "campaign_name", "unsubscribe_url", "doi_url"}

// placeholders lists the field names of {{field}} and {{field|default}}.
func placeholders(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			return out
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return append(out, "unterminated")
		}
		f := s[i+2 : i+j]
		if k := strings.IndexByte(f, '|'); k >= 0 {
			f = f[:k]
		}
		out = append(out, strings.TrimSpace(f))
		s = s[i+j+2:]
	}
}

// Contacts respect the consent rules: nobody who objected gets marketing
// afterwards (unless they opted in again), nobody gets SMS without a
// mobile number or a letter without an address.
func TestContactsRespectConsent(t *testing.T) {
	s, _ := shared(t)
	var steps map[model.StepID]model.Step
	var purposes map[model.PurposeID]model.Purpose
	require.NoError(t, s.View(reader, func(r *store.Reader) error {
		steps, purposes = map[model.StepID]model.Step{}, map[model.PurposeID]model.Purpose{}
		ps, err := r.Purposes()
		for _, p := range ps {
			purposes[p.ID] = p
		}
		cs, _ := r.Campaigns()
		for _, c := range cs {
			st, _ := r.Steps(c.ID)
			for _, x := range st {
				steps[x.ID] = x
			}
		}
		return err
	}))
	checked := 0
	for _, e := range readAll(t, s, sharedCount) {
		var objection, reOptIn time.Time
		for _, ev := range e.Consents {
			switch {
			case ev.Kind == model.ConsentObjection && objection.IsZero():
				objection = ev.RecordedAt // known from then on
			case ev.Kind == model.ConsentOptIn && !objection.IsZero() && ev.EffectiveAt.After(objection):
				reOptIn = ev.EffectiveAt
			}
		}
		for _, in := range e.Interactions {
			if in.Kind != model.InteractionSent || in.StepID == 0 {
				continue
			}
			st := steps[in.StepID]
			checked++
			switch in.Channel {
			case model.KindSMS:
				assert.True(t, model.IsMobile(e.Customer.Phone), "SMS to a landline (customer %d)", e.Customer.ID)
			case model.KindPostal:
				assert.True(t, e.Customer.Address.Complete(), "letter without address (customer %d)", e.Customer.ID)
			case model.KindEmail:
				assert.NotEmpty(t, e.Customer.Email)
			}
			if purposes[st.PurposeID].Category == model.CategoryService || objection.IsZero() || !reOptIn.IsZero() {
				continue
			}
			assert.True(t, in.At.Before(objection), "customer %d contacted by step %d after objecting", e.Customer.ID, st.ID)
		}
	}
	assert.Greater(t, checked, sharedCount, "campaigns made contacts")
}

func TestPeopleLookReal(t *testing.T) {
	s, _ := shared(t)
	var umlaut, eszett, foreign, business, minors, noEmail, noPhone, noAddress, mobile, landline, abroad, noSalutation int
	forms := map[string]int{}
	for _, e := range readAll(t, s, sharedCount) {
		c := e.Customer
		name := c.FirstName + " " + c.LastName
		if strings.ContainsAny(name, "äöüÄÖÜ") {
			umlaut++
		}
		if strings.ContainsRune(name+c.Address.Street, 'ß') {
			eszett++
		}
		if strings.ContainsAny(name, "łśżąęćńğışçøåéñ") {
			foreign++
		}
		if c.Type == model.Business {
			business++
			assert.NotEmpty(t, c.Company)
			for _, f := range []string{"GmbH", "AG", "KG", "e.K.", "OHG", "UG"} {
				if strings.Contains(c.Company, f) {
					forms[f]++
				}
			}
		}
		if !c.BirthDate.IsZero() && c.BirthDate.AgeAt(testAsOf) < 16 {
			minors++
		}
		if !c.BirthDate.IsZero() {
			assert.True(t, c.BirthDate.Year >= testAsOf.Year()-87 && c.BirthDate.Year <= testAsOf.Year()-13, "born %s", c.BirthDate)
		}
		switch c.Salutation {
		case "Frau", "Herr", "Mx":
		case "":
			noSalutation++
		default:
			t.Errorf("salutation %q", c.Salutation)
		}
		if c.Email == "" {
			noEmail++
		} else {
			local := c.Email[:strings.IndexByte(c.Email, '@')]
			for _, r := range local {
				assert.True(t, r < unicode.MaxASCII, "email %s is transliterated", c.Email)
			}
		}
		switch {
		case c.Phone == "":
			noPhone++
		case model.IsMobile(c.Phone):
			mobile++
		default:
			landline++
		}
		if c.Address.IsZero() {
			noAddress++
		} else if c.Address.Country != "DE" {
			abroad++
		}
	}
	n := sharedCount
	for name, v := range map[string]int{"umlauts": umlaut, "ß": eszett, "foreign letters": foreign, "minors": minors,
		"no email": noEmail, "no address": noAddress, "mobile": mobile, "landline": landline, "abroad": abroad, "no salutation": noSalutation} {
		assert.Positive(t, v, name)
	}
	assert.InDelta(t, 0.08, float64(business)/float64(n), 0.03, "business contacts")
	assert.Greater(t, noPhone, n/4)
	assert.Positive(t, forms["GmbH"])
}

func TestRefusesANonEmptyStore(t *testing.T) {
	s := openStore(t, 1)
	require.NoError(t, s.Update(reader, func(tx *store.Tx) error {
		return tx.InsertCustomer(&model.Customer{LastName: "Schon-da"})
	}))
	_, err := Generate(context.Background(), s, Options{Customers: 10, AsOf: testAsOf})
	assert.ErrorIs(t, err, ErrNotEmpty)
	st, err := s.Stats()
	require.NoError(t, err)
	assert.EqualValues(t, 1, st.Customers)
	assert.Zero(t, st.Campaigns, "nothing was written")
}

func TestRefusesAnAsOfAfterTheStoreClock(t *testing.T) {
	s := openStore(t, 1)
	_, err := Generate(context.Background(), s, Options{Customers: 10, AsOf: testAsOf.AddDate(0, 0, 1)})
	assert.ErrorContains(t, err, "after the store's clock")
	_, err = Generate(context.Background(), s, Options{Customers: -1, AsOf: testAsOf})
	assert.Error(t, err)
}

func TestCancellationStopsEarlyAndKeepsAUsableStore(t *testing.T) {
	s := openStore(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 20000
	var phases []string
	rep, err := Generate(ctx, s, Options{Customers: n, Seed: 5, AsOf: testAsOf, Progress: func(p Progress) {
		phases = append(phases, p.Phase)
		if p.Phase == "customers" && p.Done > 0 {
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, rep.Customers, n)
	assert.Positive(t, rep.Customers)
	assert.Contains(t, phases, "indexes", "what was written is indexed")

	st, err := s.Stats()
	require.NoError(t, err)
	assert.EqualValues(t, rep.Customers, st.Customers)
	pending, err := s.BulkLoadPending()
	require.NoError(t, err)
	assert.False(t, pending)
	require.NoError(t, s.View(reader, func(r *store.Reader) error {
		page, err := r.CustomerPage(store.PageQuery{Order: store.ByName, Limit: 1000})
		if err == nil {
			assert.Len(t, page.Rows, min(rep.Customers, 1000), "customers are in the name index")
		}
		return err
	}))
	assert.NoError(t, s.Update(reader, func(tx *store.Tx) error { return nil }), "the store takes writes again")

	// Cancelled before anything started: nothing written.
	s2 := openStore(t, 5)
	cancel2, stop := context.WithCancel(context.Background())
	stop()
	_, err = Generate(cancel2, s2, Options{Customers: 10, AsOf: testAsOf})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestProgressIsReported(t *testing.T) {
	s := openStore(t, 9)
	var last = map[string]Progress{}
	_, err := Generate(context.Background(), s, Options{Customers: 300, Seed: 9, AsOf: testAsOf, Progress: func(p Progress) {
		last[p.Phase] = p
	}})
	require.NoError(t, err)
	for _, ph := range []string{"setup", "customers", "indexes", "campaigns"} {
		p, ok := last[ph]
		if assert.True(t, ok, ph) {
			assert.Equal(t, p.Total, p.Done, "%s ends complete", ph)
		}
	}
}

func TestSecretIsDerivedFromTheSeed(t *testing.T) {
	assert.Len(t, Secret(1), 32)
	assert.Equal(t, Secret(1), Secret(1))
	assert.NotEqual(t, Secret(1), Secret(2))
	assert.NotEqual(t, sha256.Sum256(nil), [32]byte(Secret(0)))
}

func TestDefaultsAndLookups(t *testing.T) {
	assert.Equal(t, "baeckerei-gross.de", companyDomain("Bäckerei Groß e.K.", "DE"))
	assert.Equal(t, "hahn-und-vogel.at", companyDomain("Hahn & Vogel KG", "AT"))
	assert.Equal(t, "juergen", translit("Jürgen"))
	assert.Equal(t, "oezlemyilmaz", translit("Özlem Yılmaz"))
	assert.Equal(t, "malgorzata", translit("Małgorzata"))
	assert.Equal(t, "sorenodegaard", translit("Søren Ødegaard"))
	assert.Equal(t, "vonbuelow", translit("von Bülow"))
	assert.Equal(t, time.Date(2025, 11, 28, 0, 0, 0, 0, time.UTC), blackFriday(2025))
	assert.Equal(t, time.Date(2024, 11, 29, 0, 0, 0, 0, time.UTC), blackFriday(2024))
	p := newPlan(testAsOf)
	names := map[string]bool{}
	for _, c := range p.campaigns {
		assert.False(t, names[c.name], "campaign name %q twice", c.name)
		names[c.name] = true
		assert.False(t, c.end.Before(c.start), c.name)
	}
	for _, si := range p.launched {
		assert.False(t, p.steps[si].at.After(testAsOf))
	}
}

func mkdirTemp() (string, error) { return os.MkdirTemp("", "karton-demo-test-") }

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// The dispatcher turns a creative's registered link targets into click
// links only where the body shows them; a registered target that the body
// never mentions would be a link nobody can click.
func TestCreativesShowTheirRegisteredLinks(t *testing.T) {
	p := newPlan(testAsOf)
	n := 0
	for _, c := range p.campaigns {
		for _, cr := range c.creatives {
			for _, l := range cr.Links {
				n++
				require.Contains(t, cr.Body, l, "creative %q registers %s but its body does not show it", cr.Name, l)
			}
		}
	}
	require.Positive(t, n)
}
