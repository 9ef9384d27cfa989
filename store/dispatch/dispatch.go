package dispatch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"karton/model"
	"karton/store/links"
)

// Recipient is the contact data a connector needs to reach one person.
// Only what the channel needs is filled in (data minimisation): an email
// channel gets no postal address.
type Recipient struct {
	Salutation string `json:"salutation,omitempty"`
	FirstName  string `json:"first_name,omitempty"`
	LastName   string `json:"last_name,omitempty"`
	Company    string `json:"company,omitempty"`
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"` // E.164
	Street     string `json:"street,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	City       string `json:"city,omitempty"`
	Country    string `json:"country,omitempty"` // ISO 3166 alpha-2
}

// Name is "First Last", whichever parts exist.
func (r Recipient) Name() string {
	return strings.TrimSpace(r.FirstName + " " + r.LastName)
}

// Message is one rendered contact ready to hand over. Its JSON form is the
// webhook body and the JSON Lines record.
type Message struct {
	// ID identifies the outbox entry and stays the same on every attempt,
	// so it is the base of every idempotency key.
	ID         uint64            `json:"id"`
	CustomerID model.CustomerID  `json:"customer_id"`
	CampaignID model.CampaignID  `json:"campaign_id"`
	StepID     model.StepID      `json:"step_id"`
	ChannelID  model.ChannelID   `json:"channel_id"`
	Kind       model.ChannelKind `json:"kind"`
	Recipient  Recipient         `json:"recipient"`
	Subject    string            `json:"subject,omitempty"`
	Body       string            `json:"body"`
	// UnsubscribeURL is the recipient's one-click opt-out link; email gets
	// it as List-Unsubscribe header.
	UnsubscribeURL string    `json:"unsubscribe_url,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	// Attempt counts the relay's tries at this message, starting at 1.
	Attempt int `json:"attempt"`
}

// IdempotencyKey is the same for every attempt at the message.
func (m Message) IdempotencyKey() string {
	return "karton-msg-" + strconv.FormatUint(m.ID, 10)
}

// Connector hands messages to one channel's software. Implementations are
// safe for concurrent use.
type Connector interface {
	// Send hands one message over. A nil error means the connector accepted
	// it; it is handed over for good once Sync returns nil. A non-nil error
	// is classified by IsPermanent / IsRetryable; a cancelled ctx returns
	// ctx.Err(), which is retryable.
	Send(ctx context.Context, m Message) error
	// Sync makes every message accepted so far durable. The relay calls it
	// before marking a batch as sent.
	Sync() error
	// Close syncs and releases files and connections. Send after Close fails.
	Close() error
}

// SendError is a classified hand-over failure.
type SendError struct {
	Permanent bool
	// Code is the HTTP status or SMTP reply code, 0 when there was none
	// (network failure, bad input).
	Code int
	// Attempts is how many requests Send made before giving up.
	Attempts int
	Err      error
}

func (e *SendError) Error() string {
	kind := "retryable"
	if e.Permanent {
		kind = "permanent"
	}
	s := e.Err.Error()
	if e.Attempts > 1 {
		s = fmt.Sprintf("%s (after %d attempts)", s, e.Attempts)
	}
	return kind + ": " + s
}

func (e *SendError) Unwrap() error { return e.Err }

// permanent marks err as not worth retrying.
func permanent(code int, format string, args ...any) *SendError {
	return &SendError{Permanent: true, Code: code, Err: fmt.Errorf(format, args...)}
}

// retryable marks err as worth retrying later.
func retryable(code int, err error) *SendError {
	return &SendError{Code: code, Err: err}
}

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("connector is closed")

// IsPermanent reports whether retrying err cannot help: the message must
// be marked failed with this reason.
func IsPermanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

// IsRetryable reports whether err is a failure that may pass on a later
// attempt. Unclassified errors count as retryable so that nothing is dropped
// by mistake; the relay caps the number of attempts.
func IsRetryable(err error) bool { return err != nil && !IsPermanent(err) }

// Options carries the dependencies a connector takes from its caller, so
// tests can replace the clock and waiting.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Sleep waits d or until ctx ends (default: a timer).
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1) that spreads retries (default math/rand/v2).
	Jitter func() float64
	// ReadFile reads "file:" secrets (default os.ReadFile).
	ReadFile func(name string) ([]byte, error)
	// SMTP adjusts SMTP connections (TLS roots, HELO name).
	SMTP SMTPOptions
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	return o
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Setting documents one configuration key of a connector.
type Setting struct {
	Key      string
	Required bool
	Default  string
	Help     string
}

const unsubscribeBaseHelp = "public address of the return channel for this channel's unsubscribe and click links (default: the store's, `karton serve --base`); read by the outbox relay"

// settingsByKind is the documented key table; New rejects any other key.
var settingsByKind = map[model.ConnectorKind][]Setting{
	model.ConnectorFile: {
		{Key: "dir", Required: true, Help: "directory to write step files into; created if missing"},
		{Key: "format", Default: "csv", Help: "csv or jsonl"},
		{Key: "delimiter", Default: ",", Help: `CSV field separator: one character (";" for German Excel), or tab, space, semicolon, pipe`},
		{Key: "bom", Default: "false", Help: "start new CSV files with a UTF-8 byte order mark for Excel"},
		{Key: "unsubscribe_base", Help: unsubscribeBaseHelp},
	},
	model.ConnectorWebhook: {
		{Key: "url", Required: true, Help: "http(s) endpoint receiving one JSON POST per message"},
		{Key: "secret", Required: true, Help: `HMAC-SHA256 key; "file:/path" reads it from a file`},
		{Key: "secret_ref", Help: "accepted instead of secret"},
		{Key: "timeout", Default: "10s", Help: "per request"},
		{Key: "retries", Default: "3", Help: "retries for retryable failures, 0–10"},
		{Key: "backoff", Default: "1s", Help: "wait before the first retry; doubles with jitter, capped at 1m"},
		{Key: "unsubscribe_base", Help: unsubscribeBaseHelp},
	},
	model.ConnectorSMTP: {
		{Key: "host", Required: true, Help: "SMTP relay host"},
		{Key: "port", Default: "by tls: 25, 587 or 465", Help: "1–65535"},
		{Key: "from", Required: true, Help: "sender address"},
		{Key: "from_name", Help: "sender display name"},
		{Key: "username", Help: "SMTP AUTH user; needs password"},
		{Key: "password", Help: `SMTP AUTH password; "file:/path" reads it from a file`},
		{Key: "tls", Default: "starttls", Help: "none, starttls or tls"},
		{Key: "timeout", Default: "30s", Help: "connect and command timeout"},
		{Key: "unsubscribe_base", Help: unsubscribeBaseHelp},
	},
	model.ConnectorDry: {},
}

// Settings lists the keys a connector kind understands, for help screens
// and forms.
func Settings(kind model.ConnectorKind) []Setting {
	return slices.Clone(settingsByKind[kind])
}

// New builds the connector a channel is configured for. The settings are
// validated; the error is a *model.ValidationError naming every problem.
// New opens no connection: an unreachable server shows up on the first Send
// as a retryable error.
func New(ch model.Channel, opts Options) (Connector, error) {
	opts = opts.withDefaults()
	s := settingsReader{settings: ch.Connector.Settings, known: settingsByKind[ch.Connector.Kind]}
	if !ch.Connector.Kind.Valid() {
		s.add("connector", "%q is not a connector (file, webhook, smtp or dry)", ch.Connector.Kind)
		return nil, s.err()
	}
	s.checkKeys()
	if v := s.str("unsubscribe_base", ""); v != "" {
		if _, err := links.NormalizeBase(v); err != nil {
			s.add("connector.unsubscribe_base", "%q is not an absolute http(s) URL without query, like https://k.example.com", v)
		}
	}
	var c Connector
	// The constructors return nil when the settings are unusable.
	switch ch.Connector.Kind {
	case model.ConnectorFile:
		c = newFile(&s)
	case model.ConnectorWebhook:
		c = newWebhook(&s, opts)
	case model.ConnectorSMTP:
		if ch.Kind != "" && ch.Kind != model.KindEmail {
			s.add("connector", "smtp sends email, but the channel's kind is %s", ch.Kind)
		}
		c = newSMTP(&s, opts)
	case model.ConnectorDry:
		c = &Dry{}
	}
	if err := s.err(); err != nil {
		if c != nil {
			_ = c.Close()
		}
		return nil, err
	}
	return c, nil
}

// settingsReader reads typed settings and collects problems.
type settingsReader struct {
	settings map[string]string
	known    []Setting
	problems []model.FieldError
}

func (s *settingsReader) add(field, format string, args ...any) {
	s.problems = append(s.problems, model.FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (s *settingsReader) err() error {
	if len(s.problems) == 0 {
		return nil
	}
	return &model.ValidationError{Entity: "connector settings", Fields: s.problems}
}

func (s *settingsReader) checkKeys() {
	keys := make([]string, 0, len(s.settings))
	for k := range s.settings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.ContainsFunc(s.known, func(x Setting) bool { return x.Key == k }) {
			names := make([]string, len(s.known))
			for i, x := range s.known {
				names[i] = x.Key
			}
			if len(names) == 0 {
				s.add("connector."+k, "is not a setting of this connector (it takes none)")
			} else {
				s.add("connector."+k, "is not a setting of this connector (known: %s)", strings.Join(names, ", "))
			}
		}
	}
}

// str returns the trimmed value, or def when unset.
func (s *settingsReader) str(key, def string) string {
	if v := strings.TrimSpace(s.settings[key]); v != "" {
		return v
	}
	return def
}

func (s *settingsReader) required(key, why string) string {
	v := s.str(key, "")
	if v == "" {
		s.add("connector."+key, "is missing: %s", why)
	}
	return v
}

func (s *settingsReader) duration(key string, def, min, max time.Duration) time.Duration {
	v := s.str(key, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		s.add("connector."+key, "%q is not a duration like 10s or 500ms", v)
		return def
	}
	if d < min || d > max {
		s.add("connector."+key, "%s is outside %s–%s", d, min, max)
		return def
	}
	return d
}

func (s *settingsReader) integer(key string, def, min, max int) int {
	v := s.str(key, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		s.add("connector."+key, "%q is not a whole number from %d to %d", v, min, max)
		return def
	}
	return n
}

func (s *settingsReader) boolean(key string, def bool) bool {
	v := s.str(key, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		s.add("connector."+key, "%q is not true or false", v)
		return def
	}
	return b
}

func (s *settingsReader) oneOf(key, def string, allowed ...string) string {
	v := strings.ToLower(s.str(key, def))
	if !slices.Contains(allowed, v) {
		s.add("connector."+key, "%q is not one of %s", v, strings.Join(allowed, ", "))
		return def
	}
	return v
}

// secret resolves a value that is either literal or "file:/path". The file
// content is trimmed because editors add a final newline.
func (s *settingsReader) secret(key, value string, readFile func(string) ([]byte, error)) string {
	path, ok := strings.CutPrefix(value, "file:")
	if !ok {
		return value
	}
	b, err := readFile(strings.TrimSpace(path))
	if err != nil {
		s.add("connector."+key, "cannot read the secret file: %v", err)
		return ""
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		s.add("connector."+key, "the secret file %s is empty", path)
	}
	return v
}
