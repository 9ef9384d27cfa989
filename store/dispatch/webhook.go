package dispatch

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Webhook header names; see the package documentation for the scheme.
const (
	HeaderSignature      = "X-Karton-Signature"
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderAttempt        = "X-Karton-Attempt"
)

// maxBackoff caps the wait between two webhook attempts, including waits a
// receiver asks for with Retry-After.
const maxBackoff = time.Minute

type webhookConnector struct {
	url     string
	secret  []byte
	timeout time.Duration
	retries int
	backoff time.Duration
	client  *http.Client
	opts    Options
	closed  atomic.Bool
}

func newWebhook(s *settingsReader, opts Options) Connector {
	c := &webhookConnector{opts: opts}
	c.url = s.required("url", "the endpoint that receives the POSTs")
	if c.url != "" {
		if u, err := url.Parse(c.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			s.add("connector.url", "%q is not an http(s) URL with a host", c.url)
		}
	}
	secret, ref := s.str("secret", ""), s.str("secret_ref", "")
	switch {
	case secret != "" && ref != "":
		s.add("connector.secret", "is set together with secret_ref; keep one")
	case secret == "" && ref == "":
		s.add("connector.secret", `is missing: the key receivers use to verify the signature ("file:/path" to read it from a file)`)
	case ref != "":
		c.secret = []byte(s.secret("secret_ref", ref, opts.ReadFile))
	default:
		c.secret = []byte(s.secret("secret", secret, opts.ReadFile))
	}
	c.timeout = s.duration("timeout", 10*time.Second, time.Millisecond, 10*time.Minute)
	c.retries = s.integer("retries", 3, 0, 10)
	c.backoff = s.duration("backoff", time.Second, 0, maxBackoff)
	c.client = &http.Client{
		Timeout: c.timeout,
		// A redirected POST may turn into a GET or land somewhere else; the
		// operator should configure the final URL instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// Send POSTs the message as JSON and retries retryable failures with
// exponential backoff and jitter. Every attempt carries the same body and
// Idempotency-Key, and a fresh signature.
func (c *webhookConnector) Send(ctx context.Context, m Message) error {
	if c.closed.Load() {
		return ErrClosed
	}
	body, err := json.Marshal(m)
	if err != nil {
		return permanent(0, "encode message %d: %w", m.ID, err)
	}
	var last *SendError
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		wait, err := c.post(ctx, m, body, attempt)
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		err.Attempts = attempt
		last = err
		if err.Permanent || attempt > c.retries {
			return last
		}
		if wait <= 0 {
			wait = c.delay(attempt)
		}
		if err := c.opts.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// delay is the wait before retry n (1-based): backoff·2^(n-1), capped, and
// "equal jitter" (half fixed, half random) so many failing senders spread
// out without any of them retrying at once.
func (c *webhookConnector) delay(n int) time.Duration {
	d := c.backoff
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	half := d / 2
	return half + time.Duration(c.opts.Jitter()*float64(d-half))
}

// post makes one request. wait is the receiver's Retry-After, if any.
func (c *webhookConnector) post(ctx context.Context, m Message, body []byte, attempt int) (wait time.Duration, _ *SendError) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return 0, permanent(0, "build request: %w", err)
	}
	now := c.opts.Now()
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Karton-Dispatch/1")
	req.Header.Set(HeaderIdempotencyKey, m.IdempotencyKey())
	req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
	req.Header.Set(HeaderSignature, Sign(c.secret, now.Unix(), body))
	resp, err := c.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && ue.Timeout() {
			return 0, retryable(0, fmt.Errorf("webhook %s did not answer within %s", c.url, c.timeout))
		}
		return 0, retryable(0, fmt.Errorf("webhook %s: %w", c.url, err))
	}
	defer resp.Body.Close()
	// Read a little of the answer for the error message, and drain so the
	// connection can be reused.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return 0, nil
	}
	msg := fmt.Errorf("webhook %s answered %s%s", c.url, resp.Status, describeBody(snippet))
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code == http.StatusTooEarly || code >= 500:
		return retryAfter(resp.Header.Get("Retry-After"), now), retryable(code, msg)
	case code >= 300 && code < 400:
		return 0, permanent(code, "%w (redirect to %q; configure the final URL)", msg, resp.Header.Get("Location"))
	default:
		return 0, permanent(code, "%w", msg)
	}
}

func describeBody(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	return ": " + strings.Join(strings.Fields(s), " ")
}

// retryAfter reads seconds or an HTTP date, capped at maxBackoff.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(strings.TrimSpace(h)); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxBackoff)
}

// Sync has nothing to do: Send returns only after the receiver answered.
func (c *webhookConnector) Sync() error { return nil }

// Close stops further sends and releases idle connections.
func (c *webhookConnector) Close() error {
	c.closed.Store(true)
	c.client.CloseIdleConnections()
	return nil
}

// Sign returns the X-Karton-Signature value for a body sent at unix time t.
func Sign(secret []byte, t int64, body []byte) string {
	ts := strconv.FormatInt(t, 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// VerifySignature checks an X-Karton-Signature header the way a receiver
// should: the HMAC must match in constant time and the timestamp must lie
// within tolerance of now, so a captured request cannot be replayed later.
func VerifySignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	sig, err := ParseSignature(header)
	if err != nil {
		return err
	}
	if d := now.Sub(time.Unix(sig.T, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("signature timestamp is %s away from now (tolerance %s)", d.Round(time.Second), tolerance)
	}
	if !sig.Matches(secret, body) {
		return errors.New("signature does not match the body")
	}
	return nil
}

// Signature is a parsed X-Karton-Signature header: the signing time and
// the v1 signatures (a sender rotating its secret may send several).
type Signature struct {
	T  int64 // unix seconds
	ts string
	v1 [][]byte
}

// ParseSignature reads an X-Karton-Signature header
// ("t=<unix seconds>,v1=<hex>[,v1=<hex>…]"); the error names what is
// missing.
func ParseSignature(header string) (Signature, error) {
	var sig Signature
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			sig.ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sig.v1 = append(sig.v1, b)
			}
		}
	}
	t, err := strconv.ParseInt(sig.ts, 10, 64)
	if err != nil {
		return sig, fmt.Errorf("signature header %q has no timestamp t=<unix seconds>", header)
	}
	if len(sig.v1) == 0 {
		return sig, fmt.Errorf("signature header %q has no v1=<hex> signature", header)
	}
	sig.T = t
	return sig, nil
}

// Matches reports whether one of the signatures is the HMAC of the
// timestamp and body under secret. Every candidate is compared in
// constant time, so the answer's timing says nothing about which matched.
func (s Signature) Matches(secret, body []byte) bool {
	want := mac(secret, s.ts, body)
	ok := false
	for _, v := range s.v1 {
		ok = hmac.Equal(v, want) || ok
	}
	return ok
}
