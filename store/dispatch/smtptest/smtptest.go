// Package smtptest is an in-process SMTP server for tests: it accepts every
// message on 127.0.0.1 and keeps it, so a test can send through Karton's
// smtp connector and read what a mail client would receive (the way
// net/http/httptest serves HTTP tests).
package smtptest

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
)

// Mailbox is a running server and what it received.
type Mailbox struct {
	// Port is the server's port on 127.0.0.1.
	Port  int
	mu    sync.Mutex
	mails [][]byte
}

// Start serves a new mailbox until the test ends.
func Start(t testing.TB) *Mailbox {
	t.Helper()
	box := &Mailbox{}
	srv := smtp.NewServer(backend{box})
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	box.Port = ln.Addr().(*net.TCPAddr).Port
	return box
}

// Received returns a copy of the raw messages received so far, in order.
func (m *Mailbox) Received() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([][]byte(nil), m.mails...)
}

// Read parses a raw message as a mail client would: its headers and its
// text body, quoted-printable decoded.
func Read(t testing.TB, raw []byte) (mail.Header, string) {
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

type backend struct{ box *Mailbox }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return session(b), nil }

type session struct{ box *Mailbox }

func (session) Mail(string, *smtp.MailOptions) error { return nil }
func (session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (session) Reset()                               {}
func (session) Logout() error                        { return nil }

func (s session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	s.box.mails = append(s.box.mails, b)
	s.box.mu.Unlock()
	return nil
}
