package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/store/dispatch"
)

var shopSecret = []byte("shop-secret-0123456789abcdef")

func addSource(t testing.TB, f *fixture) {
	t.Helper()
	require.NoError(t, f.st.Update(admin, func(tx *store.Tx) error {
		return tx.InsertSource(&store.Source{Name: "shop", Secret: shopSecret})
	}))
}

// post sends a body signed with the secret at time at.
func post(t testing.TB, f *fixture, body string, header ...string) (*http.Response, string) {
	t.Helper()
	h := []string{
		HeaderSource, "shop",
		HeaderSignature, dispatch.Sign(shopSecret, f.clock.now().Unix(), []byte(body)),
	}
	h = append(h, header...)
	return do(t, http.MethodPost, f.ts.URL+"/events", "application/json", []byte(body), h...)
}

func decodeEvents(t testing.TB, body string) EventsResponse {
	t.Helper()
	var r EventsResponse
	require.NoError(t, json.Unmarshal([]byte(body), &r), body)
	return r
}

const batch = `[
 {"id":"e1","type":"signup","customer":{"external_id":"S-1","email":"lisa@example.de","first_name":"Lisa"},"channel":"email","purpose":"newsletter","text_version":"nl-3","evidence":{"ip":"198.51.100.7","form":"footer"}},
 {"id":"e2","type":"purchase","customer":{"external_id":"S-1"},"order_id":"A-100","amount":"49.90","currency":"EUR","items":[{"sku":"rake","quantity":1,"unit_price":"49.90"}]},
 {"id":"e3","type":"interaction","customer":{"email":"jana@example.de"},"kind":"visit","channel":"web","note":"spring page"},
 {"id":"e4","type":"unsubscribe","customer":{"email":"nobody@example.de"},"channel":"email","purpose":"newsletter"},
 {"id":"e5","type":"unsubscribe","customer":{"email":"jana@example.de"},"channel":"email","purpose":"offers","evidence":{"system":"shop account page"}},
 {"id":"e6","type":"signup","customer":{"email":"max@example.de"},"channel":"email","purpose":"no-such-purpose"},
 {"id":"e7","type":"purchase","customer":{"email":"max@example.de"},"order_id":"A-101","amount":"12","colour":"red"},
 {"id":"e8","type":"teleport","customer":{"email":"max@example.de"}},
 {"type":"purchase","customer":{"email":"max@example.de"},"order_id":"A-102","amount":"1"},
 42
]`

func TestInboundEventsBatch(t *testing.T) {
	f := newFixture(t)
	addSource(t, f)
	resp, body := post(t, f, batch)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	r := decodeEvents(t, body)
	assert.Equal(t, "shop", r.Source)
	assert.Equal(t, 10, r.Received)
	statuses := make([]string, len(r.Results))
	for i, res := range r.Results {
		assert.Equal(t, i, res.Index)
		statuses[i] = res.Status
	}
	assert.Equal(t, []string{"accepted", "accepted", "accepted", "ignored", "accepted", "rejected", "rejected", "rejected", "rejected", "rejected"}, statuses, body)
	assert.Equal(t, 4, r.Accepted)
	assert.Equal(t, 1, r.Ignored)
	assert.Equal(t, 5, r.Rejected)
	assert.Contains(t, r.Results[5].Message, "unknown purpose")
	assert.Contains(t, r.Results[6].Message, "colour")
	assert.Contains(t, r.Results[7].Message, "teleport")
	assert.Contains(t, r.Results[8].Message, "id")
	assert.Contains(t, r.Results[9].Message, "not an event")

	// The sign-up: a new customer with the shop's id, an opt-in with its
	// evidence and a DOI request (not sent: the channel is dry).
	signup := r.Results[0]
	require.Len(t, signup.ConsentEvents, 2)
	assert.Contains(t, signup.DOI, "not sent")
	lisa := model.CustomerID(signup.Customer)
	assert.Equal(t, model.ReasonPendingDOI, f.check(t, lisa, f.newsletter).Reason)
	evs := f.history(t, lisa)
	require.Len(t, evs, 2)
	assert.Equal(t, model.ConsentOptIn, evs[0].Kind)
	assert.Equal(t, "inbound:shop", evs[0].Source)
	assert.Equal(t, "source:shop", evs[0].Actor)
	assert.Equal(t, "nl-3", evs[0].TextVersion)
	assert.Equal(t, model.Evidence{"ip": "198.51.100.7", "form": "footer", "inbound_event": "e1"}, f.evidence(t, evs[0].ID))
	assert.Equal(t, model.ConsentDOIRequested, evs[1].Kind)
	assert.Equal(t, lisa, model.CustomerID(r.Results[1].Customer), "the purchase found her by the shop's id")

	var c model.Customer
	require.NoError(t, f.st.View(admin, func(rd *store.Reader) (err error) { c, err = rd.Customer(lisa); return }))
	assert.Equal(t, "Lisa", c.FirstName)
	assert.Equal(t, 1, c.PurchaseCount)
	assert.Equal(t, model.Money(4990), c.Revenue)

	assert.Equal(t, model.ReasonWithdrawn, f.check(t, f.cid, f.offer).Reason, "the unsubscribe from another system")
	assert.Equal(t, model.ReasonConsentDOI, f.check(t, f.cid, f.newsletter).Reason)

	// Nothing of the rejected events was written: max was never created.
	require.NoError(t, f.st.View(admin, func(rd *store.Reader) error {
		_, err := rd.CustomerByEmail("max@example.de")
		assert.ErrorIs(t, err, store.ErrNotFound)
		return nil
	}))

	// The batch is in the audit chain with its source.
	var entries []store.AuditEntry
	require.NoError(t, f.st.View(admin, func(rd *store.Reader) (err error) { entries, err = rd.AuditLatest(1); return }))
	require.Len(t, entries, 1)
	assert.Equal(t, "inbound.events", entries[0].Action)
	assert.Equal(t, "source:shop", entries[0].Actor)

	// The same events again: duplicates, nothing written.
	before := f.snapshot(t)
	f.clock.advance(time.Minute)
	resp, body = post(t, f, batch)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	r = decodeEvents(t, body)
	assert.Equal(t, 5, r.Duplicates, "the accepted and the ignored ones")
	assert.Equal(t, 5, r.Rejected, "rejected events were not remembered: they may be fixed and sent again")
	assert.Equal(t, "duplicate", r.Results[0].Status)
	assert.Equal(t, uint64(lisa), r.Results[0].Customer)
	assert.Equal(t, before, f.snapshot(t))
}

func TestInboundSingleEventAndDuplicateInOneRequest(t *testing.T) {
	f := newFixture(t)
	addSource(t, f)
	one := `{"id":"p1","type":"purchase","customer":{"email":"jana@example.de"},"order_id":"B-1","amount":19.5}`
	resp, body := post(t, f, one)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	r := decodeEvents(t, body)
	require.Len(t, r.Results, 1)
	assert.Equal(t, "accepted", r.Results[0].Status)

	resp, body = post(t, f, "["+strings.Replace(one, "p1", "p2", 1)+","+strings.Replace(one, "p1", "p2", 1)+"]")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	r = decodeEvents(t, body)
	// p2 names the same order again: the store refuses the second order
	// B-1, and the second p2 is a duplicate of... nothing, since the first
	// was rejected.
	assert.Equal(t, "rejected", r.Results[0].Status)
	assert.Contains(t, r.Results[0].Message, "recorded already")
	assert.Equal(t, "rejected", r.Results[1].Status)

	resp, body = post(t, f, `[{"id":"p3","type":"interaction","customer":{"id":1},"kind":"call","channel":"phone"},{"id":"p3","type":"interaction","customer":{"id":1},"kind":"call","channel":"phone"}]`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	r = decodeEvents(t, body)
	assert.Equal(t, "accepted", r.Results[0].Status)
	assert.Equal(t, "duplicate", r.Results[1].Status, "the same id twice in one request is written once")
	assert.Len(t, f.interactions(t, f.cid), 1)
}

// A rejected event never leaves half of itself: a purchase for a new
// customer whose order turns out to exist creates no customer.
func TestRejectedEventLeavesNothingBehind(t *testing.T) {
	f := newFixture(t)
	addSource(t, f)
	resp, body := post(t, f, `{"id":"a","type":"purchase","customer":{"email":"jana@example.de"},"order_id":"C-1","amount":"5"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	before := f.snapshot(t)
	resp, body = post(t, f, `{"id":"b","type":"purchase","customer":{"email":"new@example.de","external_id":"N-1"},"order_id":"C-1","amount":"5"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	r := decodeEvents(t, body)
	assert.Equal(t, "rejected", r.Results[0].Status, body)
	assert.Equal(t, before, f.snapshot(t))
}

func TestInboundRefusalsWriteNothing(t *testing.T) {
	f := newFixture(t, fixtureOptions{opts: Options{MaxEventBytes: 4096, MaxEvents: 3}})
	addSource(t, f)
	good := `{"id":"x1","type":"interaction","customer":{"email":"jana@example.de"},"kind":"visit","channel":"web"}`
	now := f.clock.now().Unix()
	sign := func(t int64, body string) string { return dispatch.Sign(shopSecret, t, []byte(body)) }
	big := `[` + strings.Repeat(`{"id":"pad","type":"x"},`, 200) + `{}]`
	for name, tc := range map[string]struct {
		body        string
		contentType string
		header      []string
		status      int
		code        string
	}{
		"no source":         {good, "", []string{HeaderSource, "", HeaderSignature, sign(now, good)}, 401, "missing_source"},
		"unknown source":    {good, "", []string{HeaderSource, "crm", HeaderSignature, sign(now, good)}, 401, "unknown_source"},
		"bad source name":   {good, "", []string{HeaderSource, "../etc", HeaderSignature, sign(now, good)}, 401, "unknown_source"},
		"no signature":      {good, "", []string{HeaderSignature, ""}, 401, "missing_signature"},
		"bad signature":     {good, "", []string{HeaderSignature, sign(now, good+" ")}, 401, "bad_signature"},
		"other secret":      {good, "", []string{HeaderSignature, dispatch.Sign([]byte("another-secret-0123456789"), now, []byte(good))}, 401, "bad_signature"},
		"garbled signature": {good, "", []string{HeaderSignature, "v1=zz"}, 401, "bad_signature"},
		"stale (replay)":    {good, "", []string{HeaderSignature, sign(now-600, good)}, 401, "stale_timestamp"},
		"from the future":   {good, "", []string{HeaderSignature, sign(now+600, good)}, 401, "stale_timestamp"},
		"oversized":         {big, "", nil, 413, "too_large"},
		"too many":          {"[" + strings.Repeat(good+",", 3) + good + "]", "", nil, 413, "too_many_events"},
		"malformed JSON":    {`[{"id":"x1",`, "", nil, 400, "malformed"},
		"not an object":     {`"hello"`, "", nil, 400, "malformed"},
		"empty array":       {`[]`, "", nil, 400, "malformed"},
		"empty body":        {``, "", nil, 400, "malformed"},
		"trailing garbage":  {good + `}`, "", nil, 400, "malformed"},
		"form body":         {good, "application/x-www-form-urlencoded", nil, 415, "unsupported_media_type"},
	} {
		t.Run(name, func(t *testing.T) {
			before := f.snapshot(t)
			h := []string{HeaderSource, "shop", HeaderSignature, sign(now, tc.body)}
			h = append(h, tc.header...)
			ct := tc.contentType
			if ct == "" {
				ct = "application/json; charset=utf-8"
			}
			resp, body := do(t, http.MethodPost, f.ts.URL+"/events", ct, []byte(tc.body), h...)
			assert.Equal(t, tc.status, resp.StatusCode, body)
			var e ErrorResponse
			require.NoError(t, json.Unmarshal([]byte(body), &e), body)
			assert.Equal(t, tc.code, e.Error.Code)
			assert.NotEmpty(t, e.Error.Message)
			assert.Equal(t, before, f.snapshot(t))
		})
	}
	resp, _ := do(t, http.MethodGet, f.ts.URL+"/events", "", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// A chunked body (no Content-Length) over the limit is cut off too.
func TestInboundChunkedOversizedBody(t *testing.T) {
	f := newFixture(t, fixtureOptions{opts: Options{MaxEventBytes: 1024}})
	addSource(t, f)
	before := f.snapshot(t)
	body := bytes.Repeat([]byte(" "), 4096)
	req := httptest.NewRequest(http.MethodPost, "/events", struct{ *bytes.Reader }{bytes.NewReader(body)})
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderSource, "shop")
	req.Header.Set(HeaderSignature, dispatch.Sign(shopSecret, f.clock.now().Unix(), body))
	rec := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, rec.Body.String())
	assert.Equal(t, before, f.snapshot(t))
}

func TestInboundObjectionAndErasedCustomers(t *testing.T) {
	f := newFixture(t)
	addSource(t, f)
	resp, body := post(t, f, `{"id":"o1","type":"objection","customer":{"id":1},"evidence":{"letter":"scan-77"}}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "accepted", decodeEvents(t, body).Results[0].Status)
	assert.Equal(t, model.ReasonObjection, f.check(t, f.cid, f.offer).Reason)

	require.NoError(t, f.st.Update(admin, func(tx *store.Tx) error { return tx.EraseCustomer(f.cid) }))
	before := f.snapshot(t)
	resp, body = post(t, f, `[{"id":"o2","type":"interaction","customer":{"id":1},"kind":"visit","channel":"web"},{"id":"o3","type":"unsubscribe","customer":{"email":"jana@example.de"},"channel":"email","purpose":"newsletter"}]`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	r := decodeEvents(t, body)
	assert.Equal(t, "rejected", r.Results[0].Status, "nothing is recorded for an erased customer")
	assert.Equal(t, "ignored", r.Results[1].Status, "the address is gone: no one to unsubscribe")
	after := f.snapshot(t)
	assert.Equal(t, before.ledger, after.ledger)
	assert.Equal(t, before.stats.Interactions, after.stats.Interactions)
}

// FuzzEventsBody posts arbitrary (correctly signed) bodies: the server must
// never fail or panic, answer 200 or a 4xx JSON error, and answer one result
// per event it read.
func FuzzEventsBody(f *testing.F) {
	fx := newFixture(f)
	addSource(f, fx)
	for _, seed := range []string{
		batch,
		`{"id":"s","type":"signup","customer":{"email":"a@example.de"},"channel":"email","purpose":"newsletter"}`,
		`{"id":"p","type":"purchase","customer":{"external_id":"X"},"order_id":"1","amount":"1,50","items":[{"quantity":0}]}`,
		`{"id":"i","type":"interaction","customer":{"phone":"+49 30 1234567"},"kind":"call","channel":"phone","step":1,"campaign":9}`,
		`[{"id":"","type":"objection"},{"id":"u","type":"unsubscribe","customer":{"id":18446744073709551615}}]`,
		`{"id":"t","type":"signup","at":"2099-01-01T00:00:00Z","customer":{"email":"b@example.de"},"channel":"sms","purpose":"offers","evidence":{"bad key!":"x"}}`,
		`[1,"x",null,{}]`, `{`, `[]`, `null`,
	} {
		f.Add(seed)
	}
	h := fx.srv.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/events", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderSource, "shop")
		req.Header.Set(HeaderSignature, dispatch.Sign(shopSecret, fx.clock.now().Unix(), []byte(body)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusOK:
			var r EventsResponse
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &r))
			require.Equal(t, r.Received, len(r.Results))
			require.Equal(t, r.Received, r.Accepted+r.Ignored+r.Duplicates+r.Rejected)
		case rec.Code >= 400 && rec.Code < 500:
			var e ErrorResponse
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
			require.NotEmpty(t, e.Error.Code)
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
	})
}

// Example of a source signing a request, as a shop would.
func ExampleServer_events() {
	secret := []byte("shop-secret-0123456789abcdef")
	body := []byte(`{"id":"order-1001","type":"purchase","customer":{"external_id":"C-77","email":"lisa@example.de"},"order_id":"1001","amount":"49.90"}`)
	req, _ := http.NewRequest(http.MethodPost, "https://k.example.com/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderSource, "shop")
	req.Header.Set(HeaderSignature, dispatch.Sign(secret, 1767225600, body))
	fmt.Println(req.Header.Get(HeaderSignature)[:13])
	// Output: t=1767225600,
}
