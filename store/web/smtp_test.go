package web

import (
	"bytes"
	"context"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

// mailbox is an in-process SMTP server that keeps what it receives.
type mailbox struct {
	mu    sync.Mutex
	mails [][]byte
}

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{box: m}, nil }

func (m *mailbox) received() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([][]byte(nil), m.mails...)
}

type mailSession struct{ box *mailbox }

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Reset()                               {}
func (s *mailSession) Logout() error                        { return nil }

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	s.box.mails = append(s.box.mails, b)
	s.box.mu.Unlock()
	return nil
}

func startMailbox(t *testing.T) (*mailbox, int) {
	t.Helper()
	box := &mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return box, ln.Addr().(*net.TCPAddr).Port
}

// mailText reads a received mail as a mail client would: headers and the
// decoded text body.
func mailText(t *testing.T, raw []byte) (mail.Header, string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(msg.Body)
	}
	b, err := io.ReadAll(body)
	require.NoError(t, err)
	return msg.Header, string(b)
}

var linkPattern = regexp.MustCompile(`https?://\S+/doi/[A-Za-z0-9_-]+`)

// The acceptance test of the DOI flow: a request sends an email through
// the smtp connector to a local SMTP server; the link in it confirms.
func TestDOIEndToEndThroughSMTP(t *testing.T) {
	box, port := startMailbox(t)
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

	mails := box.received()
	require.Len(t, mails, 1)
	h, body := mailText(t, mails[0])
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
	require.Len(t, box.received(), 2)
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
