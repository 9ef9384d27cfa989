package dispatch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	mail "github.com/wneessen/go-mail"

	"karton/model"
)

// SMTPOptions adjusts the SMTP connection beyond what settings express.
type SMTPOptions struct {
	// TLSConfig replaces the default (system roots, server name = host),
	// for a relay with a private CA.
	TLSConfig *tls.Config
	// HELO is the name announced to the relay (default: this host's name).
	HELO string
}

// smtpConnector sends each message as a plain-text UTF-8 email. It keeps
// one connection open between messages and reconnects after any failure,
// so one bad message never leaves the session in an unknown state.
type smtpConnector struct {
	host     string
	port     int
	from     string
	fromName string
	domain   string // of from, for Message-IDs
	opts     Options

	mu        sync.Mutex
	client    *mail.Client
	connected bool
	closed    bool
}

func newSMTP(s *settingsReader, opts Options) Connector {
	c := &smtpConnector{opts: opts}
	c.host = s.required("host", "the SMTP relay to send through")
	c.from = s.required("from", "the sender address")
	if c.from != "" {
		if err := model.ValidateEmail(c.from); err != nil {
			s.add("connector.from", "%v", err)
		} else {
			c.domain = c.from[strings.LastIndexByte(c.from, '@')+1:]
		}
	}
	c.fromName = s.str("from_name", "")
	mode := s.oneOf("tls", "starttls", "none", "starttls", "tls")
	defPort := map[string]int{"none": 25, "starttls": 587, "tls": 465}[mode]
	c.port = s.integer("port", defPort, 1, 65535)
	timeout := s.duration("timeout", 30*time.Second, time.Second, 10*time.Minute)
	user := s.str("username", "")
	pass := s.str("password", "")
	if pass != "" {
		pass = s.secret("password", pass, opts.ReadFile)
	}
	if user != "" && pass == "" {
		s.add("connector.password", "is missing: username is set, so SMTP AUTH needs a password")
	}
	if user == "" && pass != "" {
		s.add("connector.username", "is missing: a password is set without a user name")
	}
	if len(s.problems) > 0 {
		return nil
	}

	mopts := []mail.Option{mail.WithPort(c.port), mail.WithTimeout(timeout)}
	switch mode {
	case "none":
		mopts = append(mopts, mail.WithTLSPolicy(mail.NoTLS))
	case "starttls":
		mopts = append(mopts, mail.WithTLSPolicy(mail.TLSMandatory))
	case "tls":
		mopts = append(mopts, mail.WithSSL())
	}
	if opts.SMTP.TLSConfig != nil {
		mopts = append(mopts, mail.WithTLSConfig(opts.SMTP.TLSConfig))
	}
	if opts.SMTP.HELO != "" {
		mopts = append(mopts, mail.WithHELO(opts.SMTP.HELO))
	}
	if user != "" {
		// The strongest mechanism the relay offers; PLAIN and LOGIN are
		// refused on an unencrypted connection to another host.
		mopts = append(mopts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(user), mail.WithPassword(pass))
	}
	client, err := mail.NewClient(c.host, mopts...)
	if err != nil {
		s.add("connector", "cannot configure the SMTP client: %v", err)
		return nil
	}
	c.client = client
	return c
}

// MessageID is the Message-ID an email for message id gets; it is the same
// on every attempt, so a resent message can be recognised.
func MessageID(id uint64, domain string) string {
	return "karton." + strconv.FormatUint(id, 10) + "@" + domain
}

func (c *smtpConnector) build(m Message) (*mail.Msg, error) {
	if m.ID == 0 {
		return nil, permanent(0, "message has no id")
	}
	if m.Recipient.Email == "" {
		return nil, permanent(0, "message %d: the recipient has no email address", m.ID)
	}
	if err := model.ValidateEmail(m.Recipient.Email); err != nil {
		return nil, permanent(0, "message %d: %v", m.ID, err)
	}
	if _, err := netmail.ParseAddress(m.Recipient.Email); err != nil {
		return nil, permanent(0, "message %d: recipient address %q: %v", m.ID, m.Recipient.Email, err)
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	// Addresses are passed as structs, never formatted into a string: a
	// name like `x" <other@example.com>` must stay a name.
	msg.FromMailAddress(&netmail.Address{Name: c.fromName, Address: c.from})
	msg.ToMailAddress(&netmail.Address{Name: m.Recipient.Name(), Address: m.Recipient.Email})
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(MessageID(m.ID, c.domain))
	msg.SetDateWithValue(c.opts.Now())
	if m.UnsubscribeURL != "" {
		u, err := url.Parse(m.UnsubscribeURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			strings.ContainsAny(m.UnsubscribeURL, "<> \t\r\n,") {
			return nil, permanent(0, "message %d: unsubscribe URL %q is not a plain http(s) URL", m.ID, m.UnsubscribeURL)
		}
		// RFC 2369 and RFC 8058: mail clients show an unsubscribe button
		// that POSTs to the URL without opening a page.
		msg.SetGenHeaderPreformatted("List-Unsubscribe", "<"+m.UnsubscribeURL+">")
		msg.SetGenHeaderPreformatted("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(mail.TypeTextPlain, m.Body, mail.WithPartCharset(mail.CharsetUTF8))
	return msg, nil
}

// Send delivers one email. A reused connection that turns out to be dead is
// replaced once within the same Send; the message was not transmitted then.
func (c *smtpConnector) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	msg, err := c.build(m)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	for {
		reused := c.connected
		if !c.connected {
			if err := c.client.DialWithContext(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				// Whatever keeps us from the relay (down, refusing, bad login)
				// is not the message's fault: try again later.
				return retryable(0, fmt.Errorf("connect to SMTP relay %s: %w", c.client.ServerAddr(), err))
			}
			c.connected = true
		}
		err := c.client.Send(msg)
		if err == nil {
			return nil
		}
		c.disconnect()
		var se *mail.SendError
		if reused && errors.As(err, &se) && se.Reason == mail.ErrConnCheck {
			continue // the idle connection had died; nothing was sent on it
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return classifySMTP(m.ID, err)
	}
}

// classifySMTP maps SMTP reply codes: 5xx permanent, 4xx retryable. Errors
// without a code are about the connection and worth retrying, except
// address problems found before talking to the relay.
func classifySMTP(id uint64, err error) error {
	var se *mail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		switch {
		case code >= 500:
			return &SendError{Permanent: true, Code: code, Err: fmt.Errorf("message %d: relay refused: %w", id, err)}
		case code >= 400:
			return retryable(code, fmt.Errorf("message %d: relay deferred: %w", id, err))
		case se.Reason == mail.ErrGetSender || se.Reason == mail.ErrGetRcpts || se.Reason == mail.ErrNoUnencoded:
			return &SendError{Permanent: true, Err: fmt.Errorf("message %d: %w", id, err)}
		}
	}
	return retryable(0, fmt.Errorf("message %d: %w", id, err))
}

func (c *smtpConnector) disconnect() {
	if c.connected {
		_ = c.client.Close()
		c.connected = false
	}
}

// Sync has nothing to do: Send returns after the relay accepted the mail.
func (c *smtpConnector) Sync() error { return nil }

// Close ends the SMTP session.
func (c *smtpConnector) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if !c.connected {
		return nil
	}
	c.connected = false
	return c.client.Close()
}
