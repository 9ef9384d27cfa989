package web

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store/dispatch/smtptest"
)

var linkPattern = regexp.MustCompile(`https?://\S+/doi/[A-Za-z0-9_-]+`)

// The acceptance test of the DOI flow: a request sends an email through
// the smtp connector to a local SMTP server; the link in it confirms.
func TestDOIEndToEndThroughSMTP(t *testing.T) {
	box := smtptest.Start(t)
	port := box.Port
	f := newFixture(t, fixtureOptions{
		connector: model.Connector{Kind: model.ConnectorSMTP, Settings: map[string]string{
			"host": "127.0.0.1", "port": strconv.Itoa(port), "tls": "none", "from": "news@gartenglueck.example", "from_name": "Gartenglück",
		}},
		opts: Options{Organisation: "Gartenglück"},
	})
	cid := f.addCustomer(t, "neu@example.de", f.newsletter, model.ConsentOptIn)
	res, err := f.srv.RequestDOI(context.Background(), admin, DOIRequest{Customer: cid, Channel: model.KindEmail, Purpose: f.newsletter})
	require.NoError(t, err)
	require.True(t, res.Sent, res.NotSent)

	mails := box.Received()
	require.Len(t, mails, 1)
	h, body := smtptest.Read(t, mails[0])
	assert.Contains(t, h.Get("To"), "neu@example.de")
	assert.Contains(t, h.Get("Subject"), "Please confirm")
	assert.Empty(t, h.Get("List-Unsubscribe"), "a confirmation request is not marketing")
	assert.Contains(t, body, "Gartenglück")
	link := linkPattern.FindString(body)
	require.NotEmpty(t, link, body)
	assert.Equal(t, res.URL, link)

	assert.Equal(t, model.ReasonPendingDOI, f.check(t, cid, f.newsletter).Reason)
	resp, page := do(t, http.MethodGet, link, "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, page, "Gartenglück")
	resp, _ = do(t, http.MethodPost, link, formType, []byte("confirm=yes"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, model.ReasonConsentDOI, f.check(t, cid, f.newsletter).Reason)

	// A sign-up through the inbound API sends its confirmation the same way.
	addSource(t, f)
	resp, out := post(t, f, `{"id":"s1","type":"signup","customer":{"email":"web@example.de"},"channel":"email","purpose":"offers"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	r := decodeEvents(t, out)
	assert.Equal(t, "sent", r.Results[0].DOI, out)
	require.Len(t, box.Received(), 2)
}

func TestDOIRequestReportsAnUnreachableRelay(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there
	f := newFixture(t, fixtureOptions{connector: model.Connector{Kind: model.ConnectorSMTP, Settings: map[string]string{
		"host": "127.0.0.1", "port": strconv.Itoa(port), "tls": "none", "from": "news@example.de", "timeout": "2s",
	}}})
	cid := f.addCustomer(t, "neu@example.de", f.newsletter, model.ConsentOptIn)
	res, err := f.srv.RequestDOI(context.Background(), admin, DOIRequest{Customer: cid, Channel: model.KindEmail, Purpose: f.newsletter})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is recorded but its email was not sent")
	assert.False(t, res.Sent)
	assert.NotZero(t, res.Request.ID, "the request stays recorded")
}
