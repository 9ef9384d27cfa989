package web

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/store/links"
)

// clock is a settable clock shared by the store and the server; handlers
// read it from other goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

var admin = model.Actor{Name: "ada", Role: model.RoleAdmin, Via: "test"}

// fixture is a store with purposes, an email channel, a customer with a
// confirmed newsletter consent, a campaign step with two links, and the
// server on an httptest listener.
type fixture struct {
	st                *store.Store
	clock             *clock
	srv               *Server
	ts                *httptest.Server
	newsletter, offer model.PurposeID
	channel           model.Channel
	campaign          model.CampaignID
	step              model.StepID
	cid               model.CustomerID
	links             []string
}

type fixtureOptions struct {
	connector model.Connector
	opts      Options
}

func newFixture(t testing.TB, fo ...fixtureOptions) *fixture {
	t.Helper()
	var fopt fixtureOptions
	if len(fo) > 0 {
		fopt = fo[0]
	}
	if fopt.connector.Kind == "" {
		fopt.connector = model.Connector{Kind: model.ConnectorDry}
	}
	c := &clock{t: t0}
	st, err := store.Open(filepath.Join(t.TempDir(), "k.db"), store.Options{Now: c.now})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, clock: c, links: []string{"https://shop.example.com/spring", "https://shop.example.com/sale?utm=mail"}}
	require.NoError(t, st.Update(admin, func(tx *store.Tx) error {
		n := model.Purpose{Name: "newsletter", Title: "Monthly newsletter", Category: model.CategoryMarketing}
		if err := tx.InsertPurpose(&n); err != nil {
			return err
		}
		o := model.Purpose{Name: "offers", Title: "Special offers", Category: model.CategoryMarketing}
		if err := tx.InsertPurpose(&o); err != nil {
			return err
		}
		sv := model.Purpose{Name: "orders", Category: model.CategoryService}
		if err := tx.InsertPurpose(&sv); err != nil {
			return err
		}
		f.newsletter, f.offer = n.ID, o.ID
		f.channel = model.Channel{Name: "Newsletter", Kind: model.KindEmail, Connector: fopt.connector}
		if err := tx.InsertChannel(&f.channel); err != nil {
			return err
		}
		seg := model.Segment{Name: "everyone"}
		if err := tx.InsertSegment(&seg); err != nil {
			return err
		}
		cp := model.Campaign{Name: "Spring", Start: t0, End: t0.AddDate(0, 1, 0), Creatives: []model.Creative{{Name: "mail", Kind: model.KindEmail, Subject: "Spring", Body: "Hi", Links: f.links}}}
		if err := tx.InsertCampaign(&cp); err != nil {
			return err
		}
		step := model.Step{CampaignID: cp.ID, Name: "first wave", ChannelID: f.channel.ID, PurposeID: n.ID, SegmentID: seg.ID, Creative: "mail", ScheduledAt: t0}
		if err := tx.InsertStep(&step); err != nil {
			return err
		}
		f.campaign, f.step = cp.ID, step.ID
		cu := model.Customer{FirstName: "Jana", LastName: "Meier", Email: "jana@example.de"}
		if err := tx.InsertCustomer(&cu); err != nil {
			return err
		}
		f.cid = cu.ID
		for _, p := range []model.PurposeID{n.ID, o.ID} {
			for _, k := range []model.ConsentKind{model.ConsentOptIn, model.ConsentDOIConfirmed} {
				ev := model.ConsentEvent{CustomerID: cu.ID, Channel: model.KindEmail, PurposeID: p, Kind: k, EffectiveAt: t0.Add(-time.Hour), Source: "test"}
				if err := tx.AppendConsent(&ev, nil); err != nil {
					return err
				}
			}
		}
		return nil
	}))
	var h http.Handler
	f.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(f.ts.Close)
	opts := fopt.opts
	if opts.Base == "" {
		opts.Base = f.ts.URL
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f.srv, err = New(st, opts)
	require.NoError(t, err)
	h = f.srv.Handler()
	return f
}

// addCustomer creates a customer with the given consent events on email.
func (f *fixture) addCustomer(t testing.TB, email string, purpose model.PurposeID, kinds ...model.ConsentKind) model.CustomerID {
	t.Helper()
	var id model.CustomerID
	require.NoError(t, f.st.Update(admin, func(tx *store.Tx) error {
		c := model.Customer{Email: email}
		if err := tx.InsertCustomer(&c); err != nil {
			return err
		}
		id = c.ID
		for _, k := range kinds {
			ev := model.ConsentEvent{CustomerID: c.ID, Channel: model.KindEmail, PurposeID: purpose, Kind: k, EffectiveAt: f.clock.now().Add(-time.Hour), Source: "test"}
			if err := tx.AppendConsent(&ev, nil); err != nil {
				return err
			}
		}
		return nil
	}))
	return id
}

func (f *fixture) check(t testing.TB, cid model.CustomerID, p model.PurposeID) store.CheckResult {
	t.Helper()
	var res store.CheckResult
	require.NoError(t, f.st.View(admin, func(r *store.Reader) (err error) {
		res, err = r.Check(store.CheckInput{Customer: cid, Channel: model.KindEmail, Purpose: p})
		return err
	}))
	return res
}

func (f *fixture) history(t testing.TB, cid model.CustomerID) []model.ConsentEvent {
	t.Helper()
	var evs []model.ConsentEvent
	require.NoError(t, f.st.View(admin, func(r *store.Reader) (err error) { evs, err = r.ConsentHistory(cid); return }))
	return evs
}

func (f *fixture) evidence(t testing.TB, id model.EventID) model.Evidence {
	t.Helper()
	var ev model.Evidence
	require.NoError(t, f.st.View(admin, func(r *store.Reader) (err error) { ev, err = r.Evidence(id); return }))
	return ev
}

func (f *fixture) interactions(t testing.TB, cid model.CustomerID) []model.Interaction {
	t.Helper()
	var out []model.Interaction
	require.NoError(t, f.st.View(admin, func(r *store.Reader) (err error) { out, _, err = r.Interactions(cid, nil, 100); return }))
	return out
}

// snapshot is everything a refused request must leave unchanged.
type snapshot struct {
	stats  store.Stats
	ledger model.EventID
	audit  uint64
}

func (f *fixture) snapshot(t testing.TB) snapshot {
	t.Helper()
	var s snapshot
	var err error
	s.stats, err = f.st.Stats()
	require.NoError(t, err)
	s.stats.FileBytes = 0
	require.NoError(t, f.st.View(admin, func(r *store.Reader) error { s.ledger = r.LedgerHead(); return nil }))
	res, err := f.st.VerifyAudit()
	require.NoError(t, err)
	require.True(t, res.OK, res.Reason)
	s.audit = res.Entries
	return s
}

func (f *fixture) signer(t testing.TB) *links.Signer {
	t.Helper()
	s, err := links.NewSigner(f.st.DeriveKey(links.KeyLabel))
	require.NoError(t, err)
	return s
}

func (f *fixture) message(cid model.CustomerID, p model.PurposeID) links.Message {
	return links.Message{Customer: cid, Channel: model.KindEmail, Purpose: p, Step: f.step, ID: 4242}
}

// do sends a request to the test server without following redirects.
func do(t testing.TB, method, u, contentType string, body []byte, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	req.Header.Set("User-Agent", "KartonTest/1.0")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func form(values url.Values) []byte { return []byte(values.Encode()) }

const formType = "application/x-www-form-urlencoded"

// tokenOf cuts the token out of a link URL.
func tokenOf(u string) string { return u[strings.LastIndexByte(u, '/')+1:] }
