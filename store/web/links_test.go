package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/store/links"
)

// requestDOI records a DOI request for a new customer with an unconfirmed
// newsletter opt-in and returns the customer and the link.
func requestDOI(t *testing.T, f *fixture) (model.CustomerID, DOIResult) {
	t.Helper()
	cid := f.addCustomer(t, "neu@example.de", f.newsletter, model.ConsentOptIn)
	require.Equal(t, model.ReasonPendingDOI, f.check(t, cid, f.newsletter).Reason)
	res, err := f.srv.RequestDOI(context.Background(), admin, DOIRequest{Customer: cid, Channel: model.KindEmail, Purpose: f.newsletter, TextVersion: "nl-2026-01"})
	require.NoError(t, err)
	return cid, res
}

func TestDOIFlow(t *testing.T) {
	f := newFixture(t)
	cid, res := requestDOI(t, f)
	assert.False(t, res.Sent, "the dry connector delivers nothing")
	assert.Contains(t, res.NotSent, "dry connector")
	assert.Equal(t, model.ConsentDOIRequested, res.Request.Kind)
	assert.True(t, strings.HasPrefix(res.URL, f.ts.URL+"/doi/"), res.URL)
	assert.Equal(t, t0.Add(links.DefaultDOITTL), res.Expires)
	assert.Equal(t, "neu@example.de", res.Message.Recipient.Email)
	assert.Contains(t, res.Message.Body, res.URL)
	assert.Contains(t, res.Message.Subject, "Monthly newsletter")
	assert.Equal(t, model.ReasonPendingDOI, f.check(t, cid, f.newsletter).Reason, "a request confirms nothing")

	resp, body := do(t, http.MethodGet, res.URL, "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "Yes, I confirm")
	assert.Contains(t, body, "Monthly newsletter")
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
	assert.Equal(t, model.ReasonPendingDOI, f.check(t, cid, f.newsletter).Reason, "opening the link confirms nothing")

	f.clock.advance(time.Hour)
	resp, body = do(t, http.MethodPost, res.URL, formType, form(url.Values{"confirm": {"yes"}}))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "confirmed")
	check := f.check(t, cid, f.newsletter)
	assert.True(t, check.Allow)
	assert.Equal(t, model.ReasonConsentDOI, check.Reason)

	evs := f.history(t, cid)
	last := evs[len(evs)-1]
	assert.Equal(t, model.ConsentDOIConfirmed, last.Kind)
	assert.Equal(t, t0.Add(time.Hour), last.EffectiveAt, "effective when the click arrived")
	assert.Equal(t, "nl-2026-01", last.TextVersion, "the text version of the request")
	assert.Equal(t, "doi-link", last.Source)
	assert.Equal(t, "web", last.Actor)
	ev := f.evidence(t, last.ID)
	assert.Equal(t, "127.0.0.1", ev["ip"])
	assert.Equal(t, "KartonTest/1.0", ev["user_agent"])
	assert.Equal(t, links.Hash(tokenOf(res.URL)), ev["token_sha256"])
	assert.Equal(t, res.Request.ID.String(), ev["request_event"])

	// Reuse is refused and writes nothing.
	before := f.snapshot(t)
	resp, body = do(t, http.MethodPost, res.URL, formType, nil)
	assert.Equal(t, http.StatusGone, resp.StatusCode)
	assert.Contains(t, body, "Already confirmed")
	resp, _ = do(t, http.MethodGet, res.URL, "", nil)
	assert.Equal(t, http.StatusGone, resp.StatusCode)
	assert.Equal(t, before, f.snapshot(t))
}

func TestDOIExpiredLinkIsRefused(t *testing.T) {
	f := newFixture(t)
	cid, res := requestDOI(t, f)
	f.clock.advance(links.DefaultDOITTL + time.Second)
	before := f.snapshot(t)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		resp, body := do(t, method, res.URL, formType, nil)
		assert.Equal(t, http.StatusGone, resp.StatusCode, method)
		assert.Contains(t, body, "expired", method)
	}
	assert.Equal(t, before, f.snapshot(t))
	assert.Equal(t, model.ReasonPendingDOI, f.check(t, cid, f.newsletter).Reason)
}

func TestDOIAlteredOrForeignTokenIsRefused(t *testing.T) {
	f := newFixture(t)
	cid, res := requestDOI(t, f)
	tok := tokenOf(res.URL)
	unsub, err := links.Unsubscribe(f.ts.URL, f.signer(t), f.message(cid, f.newsletter))
	require.NoError(t, err)
	other := newFixture(t)
	foreign, err := links.DOI(f.ts.URL, other.signer(t), links.DOIRequest{Customer: cid, Channel: model.KindEmail, Purpose: f.newsletter, Request: res.Request.ID, Expires: t0.Add(time.Hour)})
	require.NoError(t, err)
	before := f.snapshot(t)
	for name, u := range map[string]string{
		"altered start":       f.ts.URL + "/doi/" + flip(tok, 3),
		"altered end":         f.ts.URL + "/doi/" + flip(tok, len(tok)-2),
		"truncated":           f.ts.URL + "/doi/" + tok[:len(tok)-4],
		"unsubscribe token":   f.ts.URL + "/doi/" + tokenOf(unsub),
		"other store's token": f.ts.URL + "/doi/" + tokenOf(foreign),
		"garbage":             f.ts.URL + "/doi/%3Cscript%3E",
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			resp, body := do(t, method, u, formType, nil)
			assert.Equal(t, http.StatusNotFound, resp.StatusCode, "%s %s", name, method)
			assert.Contains(t, body, "not valid", name)
			assert.NotContains(t, body, "<script>", name)
		}
	}
	assert.Equal(t, before, f.snapshot(t))
}

func TestDOIRequestNeedsAnEmailChannelAndAddress(t *testing.T) {
	f := newFixture(t)
	noEmail := model.Customer{FirstName: "Ohne", LastName: "Adresse"}
	require.NoError(t, f.st.Update(admin, func(tx *store.Tx) error { return tx.InsertCustomer(&noEmail) }))
	for name, req := range map[string]DOIRequest{
		"sms":             {Customer: f.cid, Channel: model.KindSMS, Purpose: f.newsletter},
		"service purpose": {Customer: f.cid, Channel: model.KindEmail, Purpose: 3},
		"no such purpose": {Customer: f.cid, Channel: model.KindEmail, Purpose: 99},
		"no such person":  {Customer: 999, Channel: model.KindEmail, Purpose: f.newsletter},
		"no address":      {Customer: noEmail.ID, Channel: model.KindEmail, Purpose: f.newsletter},
	} {
		before := f.snapshot(t)
		_, err := f.srv.RequestDOI(context.Background(), admin, req)
		assert.Error(t, err, name)
		assert.Equal(t, before, f.snapshot(t), name)
	}
}

func unsubscribeURL(t *testing.T, f *fixture, cid model.CustomerID, p model.PurposeID) string {
	t.Helper()
	u, err := links.Unsubscribe(f.ts.URL, f.signer(t), f.message(cid, p))
	require.NoError(t, err)
	return u
}

func TestOneClickUnsubscribe(t *testing.T) {
	f := newFixture(t)
	require.Equal(t, model.ReasonConsentDOI, f.check(t, f.cid, f.newsletter).Reason)
	u := unsubscribeURL(t, f, f.cid, f.newsletter)

	resp, body := do(t, http.MethodPost, u, formType, []byte("List-Unsubscribe=One-Click"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, body, "one-click answers without a page")
	check := f.check(t, f.cid, f.newsletter)
	assert.False(t, check.Allow)
	assert.Equal(t, model.ReasonWithdrawn, check.Reason)
	assert.Equal(t, model.ReasonConsentDOI, f.check(t, f.cid, f.offer).Reason, "other purposes stay")

	evs := f.history(t, f.cid)
	last := evs[len(evs)-1]
	assert.Equal(t, model.ConsentOptOut, last.Kind)
	assert.Equal(t, t0, last.EffectiveAt, "effective at arrival")
	assert.Equal(t, "unsubscribe-link", last.Source)
	ev := f.evidence(t, last.ID)
	assert.Equal(t, "one-click (RFC 8058)", ev["method"])
	assert.Equal(t, links.Hash(tokenOf(u)), ev["token_sha256"])
	assert.Equal(t, "KartonTest/1.0", ev["user_agent"])

	is := f.interactions(t, f.cid)
	require.Len(t, is, 1)
	assert.Equal(t, model.InteractionUnsubscribed, is[0].Kind)
	assert.Equal(t, f.campaign, is[0].CampaignID, "the warehouse counts it for the campaign")
	assert.Equal(t, f.step, is[0].StepID)
	assert.Equal(t, f.channel.ID, is[0].ChannelID)

	// Idempotent: again (and from a client sending no body) changes nothing.
	before := f.snapshot(t)
	f.clock.advance(time.Minute)
	for _, b := range [][]byte{[]byte("List-Unsubscribe=One-Click"), nil} {
		resp, _ = do(t, http.MethodPost, u, formType, b)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	assert.Equal(t, before, f.snapshot(t))

	// After a new opt-in, the same link withdraws again.
	require.NoError(t, f.st.Update(admin, func(tx *store.Tx) error {
		ev := model.ConsentEvent{CustomerID: f.cid, Channel: model.KindEmail, PurposeID: f.newsletter, Kind: model.ConsentOptIn, EffectiveAt: f.clock.now(), Source: "test"}
		return tx.AppendConsent(&ev, nil)
	}))
	f.clock.advance(time.Minute)
	resp, _ = do(t, http.MethodPost, u, formType, []byte("List-Unsubscribe=One-Click"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, model.ReasonWithdrawn, f.check(t, f.cid, f.newsletter).Reason)
}

func TestUnsubscribePageOffersTheChoices(t *testing.T) {
	f := newFixture(t)
	u := unsubscribeURL(t, f, f.cid, f.newsletter)
	before := f.snapshot(t)
	resp, body := do(t, http.MethodGet, u, "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `name="choice" value="this"`)
	assert.Contains(t, body, "Unsubscribe from Monthly newsletter")
	assert.Contains(t, body, `name="choice" value="all"`)
	assert.Contains(t, body, "Your other subscriptions stay as they are")
	assert.Contains(t, body, "To keep receiving everything, simply close this page")
	assert.Equal(t, before, f.snapshot(t), "showing the page records nothing")

	resp, _ = do(t, http.MethodPost, u, formType, form(url.Values{"choice": {"maybe"}}))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, before, f.snapshot(t))

	resp, body = do(t, http.MethodPost, u, formType, form(url.Values{"choice": {"this"}}))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "You are unsubscribed")
	assert.Equal(t, model.ReasonWithdrawn, f.check(t, f.cid, f.newsletter).Reason)
	assert.Equal(t, model.ReasonConsentDOI, f.check(t, f.cid, f.offer).Reason, "keeps the other purposes")
	_, body = do(t, http.MethodGet, u, "", nil)
	assert.Contains(t, body, "unsubscribed from")

	resp, body = do(t, http.MethodPost, u, formType, form(url.Values{"choice": {"all"}}))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "no more advertising")
	assert.Equal(t, model.ReasonObjection, f.check(t, f.cid, f.offer).Reason, "all marketing: an objection")
	evs := f.history(t, f.cid)
	last := evs[len(evs)-1]
	assert.Equal(t, model.ConsentObjection, last.Kind)
	assert.Equal(t, "unsubscribe page: all marketing", f.evidence(t, last.ID)["method"])

	before = f.snapshot(t)
	resp, _ = do(t, http.MethodPost, u, formType, form(url.Values{"choice": {"all"}}))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, before, f.snapshot(t), "an objection in force is not recorded twice")
}

// flip returns s with its i-th character replaced by another base64url
// character; a fixed replacement would, now and then, equal the original
// (the tokens differ from store to store) and alter nothing.
func flip(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func TestFlipAltersEveryPosition(t *testing.T) {
	for _, s := range []string{"AAAA", "BBBB", "xxAB"} {
		for i := range s {
			got := flip(s, i)
			assert.Len(t, got, len(s))
			assert.NotEqual(t, s[i], got[i], "%q at %d", s, i)
			assert.Equal(t, s[:i]+s[i+1:], got[:i]+got[i+1:], "%q at %d: only that character", s, i)
		}
	}
}

func TestUnsubscribeRefusesBadTokensAndHonoursExpiredOnes(t *testing.T) {
	f := newFixture(t)
	u := unsubscribeURL(t, f, f.cid, f.newsletter)
	before := f.snapshot(t)
	for _, bad := range []string{flip(u, len(u)-2), f.ts.URL + "/u/nonsense"} {
		resp, _ := do(t, http.MethodPost, bad, formType, []byte("List-Unsubscribe=One-Click"))
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	}
	resp, _ := do(t, http.MethodPost, u, formType, []byte("x="+strings.Repeat("a", maxFormBytes)))
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Equal(t, before, f.snapshot(t))

	// A withdrawal is valid at any time, even through an expired link.
	tok, err := f.signer(t).Seal(links.Token{Kind: links.KindUnsubscribe, Customer: f.cid, Channel: model.KindEmail, Purpose: f.newsletter, Expires: t0.Add(-time.Hour)})
	require.NoError(t, err)
	resp, _ = do(t, http.MethodPost, f.ts.URL+"/u/"+tok, formType, []byte("List-Unsubscribe=One-Click"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, model.ReasonWithdrawn, f.check(t, f.cid, f.newsletter).Reason)
}

func TestUnsubscribeOfAnErasedCustomerWritesNothing(t *testing.T) {
	f := newFixture(t)
	u := unsubscribeURL(t, f, f.cid, f.newsletter)
	require.NoError(t, f.st.Update(admin, func(tx *store.Tx) error { return tx.EraseCustomer(f.cid) }))
	before := f.snapshot(t)
	resp, _ := do(t, http.MethodPost, u, formType, []byte("List-Unsubscribe=One-Click"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, before, f.snapshot(t))
}

func clickURL(t *testing.T, f *fixture, index int, target string) string {
	t.Helper()
	u, err := links.Click(f.ts.URL, f.signer(t), f.message(f.cid, f.newsletter), index, target)
	require.NoError(t, err)
	return u
}

func TestClickRedirectsOnlyToRegisteredTargets(t *testing.T) {
	f := newFixture(t)
	u := clickURL(t, f, 1, f.links[1])
	resp, _ := do(t, http.MethodGet, u, "", nil)
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, f.links[1], resp.Header.Get("Location"))
	is := f.interactions(t, f.cid)
	require.Len(t, is, 1)
	assert.Equal(t, model.InteractionClicked, is[0].Kind)
	assert.Equal(t, f.campaign, is[0].CampaignID)
	assert.Equal(t, f.step, is[0].StepID)
	assert.Equal(t, t0, is[0].At)

	before := f.snapshot(t)
	resp, _ = do(t, http.MethodHead, u, "", nil)
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, before, f.snapshot(t), "a HEAD (link checker) is not a click")

	for name, bad := range map[string]string{
		"unregistered index": clickURL(t, f, 5, "https://evil.example.com/"),
		"unregistered URL":   clickURL(t, f, 0, "https://evil.example.com/"),
		"altered":            flip(u, len(u)-3),
		"unsubscribe token":  f.ts.URL + "/c/" + tokenOf(unsubscribeURL(t, f, f.cid, f.newsletter)),
	} {
		resp, _ := do(t, http.MethodGet, bad, "", nil)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, name)
		assert.Empty(t, resp.Header.Get("Location"), name)
	}
	// A URL in the path is cleaned by the router and stays on this server.
	resp, _ = do(t, http.MethodGet, f.ts.URL+"/c/https://evil.example.com/", "", nil)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Empty(t, loc.Host, "never off-site")
	resp, _ = do(t, http.MethodGet, f.ts.URL+loc.Path, "", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, before, f.snapshot(t), "refused clicks count nothing")

	// Whatever else the request carries, only the registered link is a target.
	resp, _ = do(t, http.MethodGet, u+"?to=https://evil.example.com/&url=https://evil.example.com/", "", nil)
	assert.Equal(t, f.links[1], resp.Header.Get("Location"))
}

// A control character in the User-Agent header (HTTP allows a tab; a
// client may send worse) is not stored: evidence refuses control
// characters, and the person's click must still count.
func TestLinkEvidenceDropsControlCharacters(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "/doi/x", nil)
	req.Header.Set("User-Agent", "Odd\x01Agent\x1b[31m/1.0\tx")
	ev := (&Server{}).linkEvidence(req, "tok", "click")
	assert.Equal(t, "Odd?Agent?[31m/1.0?x", ev["user_agent"])
	assert.NoError(t, model.ValidateEvidence(ev))
}
