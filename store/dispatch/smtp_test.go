package dispatch

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

// received is one mail the sink accepted.
type received struct {
	from string
	to   []string
	data []byte
}

// mailSink is an in-process SMTP server backend.
type mailSink struct {
	mu       sync.Mutex
	mails    []received
	rcptErr  map[string]*smtp.SMTPError // answer for RCPT TO of an address
	conns    []*smtp.Conn
	sessions int
	user     string // when set, AUTH PLAIN with user/"pw" is offered and required
}

func (s *mailSink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions++
	s.conns = append(s.conns, c)
	return &sinkSession{sink: s}, nil
}

// dropConnections closes every client connection, like a relay's idle timeout.
func (s *mailSink) dropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.conns = nil
}

type sinkSession struct {
	sink   *mailSink
	authed bool
	from   string
	to     []string
}

func (s *sinkSession) AuthMechanisms() []string {
	if s.sink.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *sinkSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.sink.user || pass != "pw" {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.sink.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.sink.mu.Lock()
	e := s.sink.rcptErr[to]
	s.sink.mu.Unlock()
	if e != nil {
		return e
	}
	s.to = append(s.to, to)
	return nil
}

func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.sink.mu.Lock()
	s.sink.mails = append(s.sink.mails, received{from: s.from, to: s.to, data: b})
	s.sink.mu.Unlock()
	return nil
}

func (s *sinkSession) Reset()        { s.from, s.to = "", nil }
func (s *sinkSession) Logout() error { return nil }

// startSink serves the sink on 127.0.0.1 with the given TLS mode and
// returns the port and the client TLS config that trusts it.
func startSink(t *testing.T, sink *mailSink, mode string) (int, *tls.Config) {
	t.Helper()
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.AllowInsecureAuth = false
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var clientTLS *tls.Config
	if mode != "none" {
		cert, pool := selfSigned(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		clientTLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
		if mode == "tls" {
			ln = tls.NewListener(ln, srv.TLSConfig)
		}
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port, clientTLS
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "karton test relay"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func newSMTPConnector(t *testing.T, port int, mode string, clientTLS *tls.Config, extra map[string]string) Connector {
	t.Helper()
	settings := map[string]string{
		"host": "127.0.0.1", "port": strconv.Itoa(port), "tls": mode, "timeout": "10s",
		"from": "news@karton.example", "from_name": "Karton Läden",
	}
	for k, v := range extra {
		settings[k] = v
	}
	opts := (&fakeWait{}).options()
	opts.SMTP = SMTPOptions{TLSConfig: clientTLS, HELO: "karton.test"}
	c, err := New(channel(model.ConnectorSMTP, settings), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// parsed is a received mail taken apart the way a mail client would.
type parsed struct {
	header  mail.Header
	subject string
	to      *mail.Address
	from    *mail.Address
	body    string
}

func parseMail(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	var p parsed
	p.header = msg.Header
	p.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	p.to, err = mail.ParseAddress(msg.Header.Get("To"))
	require.NoError(t, err)
	p.from, err = mail.ParseAddress(msg.Header.Get("From"))
	require.NoError(t, err)
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	require.NoError(t, err)
	p.body = string(b)
	return p
}

func TestSMTPDelivers(t *testing.T) {
	for _, mode := range []string{"none", "starttls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			sink := &mailSink{}
			extra := map[string]string{}
			if mode != "none" { // AUTH only over an encrypted connection
				sink.user = "karton"
				extra = map[string]string{"username": "karton", "password": "pw"}
			}
			port, clientTLS := startSink(t, sink, mode)
			c := newSMTPConnector(t, port, mode, clientTLS, extra)

			m := sample(42)
			require.NoError(t, c.Send(context.Background(), m))
			require.Len(t, sink.mails, 1)
			got := sink.mails[0]
			assert.Equal(t, "news@karton.example", got.from)
			assert.Equal(t, []string{"jana.mueller@example.de"}, got.to)

			p := parseMail(t, got.data)
			assert.Equal(t, m.Subject, p.subject, "umlauts survive encoded-word")
			assert.Equal(t, "jana.mueller@example.de", p.to.Address)
			assert.Equal(t, m.Recipient.Name(), p.to.Name)
			assert.Equal(t, "Karton Läden", p.from.Name)
			assert.Equal(t, "<karton.42@karton.example>", p.header.Get("Message-Id"))
			assert.Equal(t, "<https://k.example/u?id=1&t=abc>", p.header.Get("List-Unsubscribe"))
			assert.Equal(t, "List-Unsubscribe=One-Click", p.header.Get("List-Unsubscribe-Post"))
			date, err := p.header.Date()
			require.NoError(t, err)
			assert.True(t, testNow.Equal(date), "Date from the injected clock, got %s", date)
			mediaType, params, err := mime.ParseMediaType(p.header.Get("Content-Type"))
			require.NoError(t, err)
			assert.Equal(t, "text/plain", mediaType)
			assert.True(t, strings.EqualFold(params["charset"], "UTF-8"))
			assert.Equal(t, strings.ReplaceAll(m.Body, "\r\n", "\n"), strings.ReplaceAll(p.body, "\r\n", "\n"))
		})
	}
}

func TestSMTPWithoutUnsubscribeURLHasNoListHeaders(t *testing.T) {
	sink := &mailSink{}
	port, _ := startSink(t, sink, "none")
	c := newSMTPConnector(t, port, "none", nil, nil)
	m := sample(1)
	m.UnsubscribeURL = ""
	m.Recipient.FirstName, m.Recipient.LastName = "", ""
	require.NoError(t, c.Send(context.Background(), m))
	p := parseMail(t, sink.mails[0].data)
	assert.Empty(t, p.header.Get("List-Unsubscribe"))
	assert.Empty(t, p.header.Get("List-Unsubscribe-Post"))
	assert.Equal(t, "jana.mueller@example.de", p.to.Address)
}

func TestSMTPReusesConnectionAndRecovers(t *testing.T) {
	sink := &mailSink{}
	port, _ := startSink(t, sink, "none")
	c := newSMTPConnector(t, port, "none", nil, nil)
	ctx := context.Background()
	for i := range 3 {
		require.NoError(t, c.Send(ctx, sample(uint64(i+1))))
	}
	assert.Equal(t, 1, sink.sessions, "one session for consecutive messages")

	sink.dropConnections() // the relay's idle timeout
	require.NoError(t, c.Send(ctx, sample(4)), "a dead idle connection is replaced without failing the message")
	assert.Equal(t, 2, sink.sessions)
	assert.Len(t, sink.mails, 4)
}

func TestSMTPRejections(t *testing.T) {
	tests := []struct {
		name      string
		reply     *smtp.SMTPError
		permanent bool
	}{
		{"550 mailbox unknown is permanent", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}, true},
		{"552 is permanent", &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 2, 2}, Message: "mailbox full for good"}, true},
		{"451 greylisting is retryable", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "try again later"}, false},
		{"421 is retryable", &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "busy"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &mailSink{rcptErr: map[string]*smtp.SMTPError{"jana.mueller@example.de": tt.reply}}
			port, _ := startSink(t, sink, "none")
			c := newSMTPConnector(t, port, "none", nil, nil)
			err := c.Send(context.Background(), sample(1))
			require.Error(t, err)
			assert.Equal(t, tt.permanent, IsPermanent(err), "%v", err)
			assert.Equal(t, !tt.permanent, IsRetryable(err))
			var se *SendError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.reply.Code, se.Code)
			assert.Contains(t, err.Error(), tt.reply.Message)

			// The next message goes through on a fresh session.
			ok := sample(2)
			ok.Recipient.Email = "ola@example.no"
			require.NoError(t, c.Send(context.Background(), ok))
			require.Len(t, sink.mails, 1)
		})
	}
}

func TestSMTPBadMessagesArePermanent(t *testing.T) {
	sink := &mailSink{}
	port, _ := startSink(t, sink, "none")
	c := newSMTPConnector(t, port, "none", nil, nil)
	tests := []struct {
		name   string
		mutate func(*Message)
		msg    string
	}{
		{"no address", func(m *Message) { m.Recipient.Email = "" }, "no email address"},
		{"bad address", func(m *Message) { m.Recipient.Email = "jana@@example" }, "jana@@example"},
		{"header injection in unsubscribe URL", func(m *Message) { m.UnsubscribeURL = "https://x.example/u>\r\nBcc: evil@example.com" }, "unsubscribe URL"},
		{"unsubscribe URL not http", func(m *Message) { m.UnsubscribeURL = "mailto:x@example.com" }, "unsubscribe URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sample(1)
			tt.mutate(&m)
			err := c.Send(context.Background(), m)
			require.Error(t, err)
			assert.True(t, IsPermanent(err), "%v", err)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
	assert.Equal(t, 0, sink.sessions, "nothing was sent")
}

func TestSMTPAuthFailureAndUnreachableAreRetryable(t *testing.T) {
	t.Run("wrong password", func(t *testing.T) {
		sink := &mailSink{user: "karton"}
		port, clientTLS := startSink(t, sink, "starttls")
		c := newSMTPConnector(t, port, "starttls", clientTLS, map[string]string{"username": "karton", "password": "wrong"})
		err := c.Send(context.Background(), sample(1))
		require.Error(t, err)
		assert.True(t, IsRetryable(err), "a relay problem is not the message's fault: %v", err)
		assert.Contains(t, err.Error(), "connect to SMTP relay")
	})
	t.Run("nobody listening", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := ln.Addr().(*net.TCPAddr).Port
		require.NoError(t, ln.Close())
		c := newSMTPConnector(t, port, "none", nil, nil)
		err = c.Send(context.Background(), sample(1))
		require.Error(t, err)
		assert.True(t, IsRetryable(err))
	})
	t.Run("cancelled", func(t *testing.T) {
		c := newSMTPConnector(t, 25, "none", nil, nil)
		assert.ErrorIs(t, c.Send(canceled(), sample(1)), context.Canceled)
	})
}

func TestSMTPClose(t *testing.T) {
	sink := &mailSink{}
	port, _ := startSink(t, sink, "none")
	c := newSMTPConnector(t, port, "none", nil, nil)
	require.NoError(t, c.Send(context.Background(), sample(1)))
	require.NoError(t, c.Sync())
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "Close twice is harmless")
	assert.ErrorIs(t, c.Send(context.Background(), sample(2)), ErrClosed)
}

func TestSMTPNameCannotAddRecipients(t *testing.T) {
	sink := &mailSink{}
	port, _ := startSink(t, sink, "none")
	c := newSMTPConnector(t, port, "none", nil, nil)
	m := sample(1)
	m.Recipient.FirstName, m.Recipient.LastName = `x" <evil@example.com>, "y`, "Bcc: evil@example.com"
	require.NoError(t, c.Send(context.Background(), m))
	require.Len(t, sink.mails, 1)
	assert.Equal(t, []string{"jana.mueller@example.de"}, sink.mails[0].to)
	p := parseMail(t, sink.mails[0].data)
	assert.Equal(t, "jana.mueller@example.de", p.to.Address)
	assert.Equal(t, m.Recipient.Name(), p.to.Name)
	assert.Empty(t, p.header.Get("Bcc"))
}
