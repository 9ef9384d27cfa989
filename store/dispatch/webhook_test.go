package dispatch

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

var testNow = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

// fakeWait records the waits Send asks for instead of sleeping.
type fakeWait struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (f *fakeWait) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.sleeps = append(f.sleeps, d)
	f.mu.Unlock()
	return ctx.Err()
}

func (f *fakeWait) options() Options {
	return Options{Now: func() time.Time { return testNow }, Sleep: f.sleep, Jitter: func() float64 { return 0.5 }}
}

// request is what the test receiver saw.
type request struct {
	key, sig, attempt, contentType string
	body                           []byte
}

// receiver answers with the given statuses in turn (200 once they run out).
type receiver struct {
	mu       sync.Mutex
	statuses []int
	header   http.Header
	seen     []request
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.seen = append(rc.seen, request{
		key: r.Header.Get(HeaderIdempotencyKey), sig: r.Header.Get(HeaderSignature),
		attempt: r.Header.Get(HeaderAttempt), contentType: r.Header.Get("Content-Type"), body: body,
	})
	status := http.StatusOK
	if len(rc.statuses) > 0 {
		status, rc.statuses = rc.statuses[0], rc.statuses[1:]
	}
	rc.mu.Unlock()
	for k, v := range rc.header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(http.StatusText(status)))
}

func newWebhookConnector(t *testing.T, url string, extra map[string]string, opts Options) Connector {
	t.Helper()
	settings := map[string]string{"url": url, "secret": "whsec-test", "backoff": "1s"}
	for k, v := range extra {
		settings[k] = v
	}
	c, err := New(channel(model.ConnectorWebhook, settings), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestWebhookRetriesThenSucceeds(t *testing.T) {
	rc := &receiver{statuses: []int{503, 500, 429}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	fw := &fakeWait{}
	c := newWebhookConnector(t, srv.URL, nil, fw.options())

	m := sample(42)
	require.NoError(t, c.Send(context.Background(), m))

	require.Len(t, rc.seen, 4)
	for i, r := range rc.seen {
		assert.Equal(t, "karton-msg-42", r.key, "same idempotency key on every attempt")
		assert.Equal(t, strconv.Itoa(i+1), r.attempt)
		assert.Equal(t, "application/json; charset=utf-8", r.contentType)
		assert.Equal(t, rc.seen[0].body, r.body, "same body on every attempt")
		assert.NoError(t, VerifySignature([]byte("whsec-test"), r.sig, r.body, testNow.Add(3*time.Second), 5*time.Minute))
	}
	var got Message
	require.NoError(t, json.Unmarshal(rc.seen[3].body, &got))
	assert.Equal(t, m, got)
	// backoff 1s doubling, half fixed and half jitter (0.5): 0.75s, 1.5s, 3s.
	assert.Equal(t, []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second}, fw.sleeps)
}

func TestWebhookHonoursRetryAfter(t *testing.T) {
	rc := &receiver{statuses: []int{429}, header: http.Header{"Retry-After": {"7"}}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	fw := &fakeWait{}
	c := newWebhookConnector(t, srv.URL, nil, fw.options())
	require.NoError(t, c.Send(context.Background(), sample(1)))
	assert.Equal(t, []time.Duration{7 * time.Second}, fw.sleeps)
}

func TestWebhookFailures(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		header    http.Header
		retries   string
		permanent bool
		code      int
		requests  int
		msg       string
	}{
		{"400 is permanent and not retried", []int{400}, nil, "3", true, 400, 1, "400 Bad Request: Bad Request"},
		{"422 is permanent", []int{422}, nil, "3", true, 422, 1, "422"},
		{"redirect is permanent", []int{308}, http.Header{"Location": {"https://elsewhere.example/"}}, "3", true, 308, 1, "configure the final URL"},
		{"5xx until retries run out", []int{500, 502, 503}, nil, "2", false, 503, 3, "after 3 attempts"},
		{"no retries configured", []int{503}, nil, "0", false, 503, 1, "503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &receiver{statuses: tt.statuses, header: tt.header}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			fw := &fakeWait{}
			c := newWebhookConnector(t, srv.URL, map[string]string{"retries": tt.retries}, fw.options())
			err := c.Send(context.Background(), sample(1))
			require.Error(t, err)
			assert.Equal(t, tt.permanent, IsPermanent(err), "%v", err)
			var se *SendError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.code, se.Code)
			assert.Len(t, rc.seen, tt.requests)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestWebhookTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // answer only when the client has given up
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	fw := &fakeWait{}
	c := newWebhookConnector(t, srv.URL, map[string]string{"timeout": "50ms", "retries": "1"}, fw.options())
	err := c.Send(context.Background(), sample(1))
	require.Error(t, err)
	assert.True(t, IsRetryable(err))
	assert.Contains(t, err.Error(), "did not answer within 50ms")
	assert.Contains(t, err.Error(), "after 2 attempts")
	assert.Len(t, fw.sleeps, 1)
}

func TestWebhookUnreachableIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := newWebhookConnector(t, url, map[string]string{"retries": "0"}, (&fakeWait{}).options())
	err := c.Send(context.Background(), sample(1))
	require.Error(t, err)
	assert.True(t, IsRetryable(err), "%v", err)
}

func TestWebhookCancelledWhileWaiting(t *testing.T) {
	rc := &receiver{statuses: []int{503, 503}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	opts := (&fakeWait{}).options()
	opts.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	c := newWebhookConnector(t, srv.URL, nil, opts)
	err := c.Send(ctx, sample(1))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Len(t, rc.seen, 1)
}

func TestWebhookSecretFromFile(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	opts := (&fakeWait{}).options()
	opts.ReadFile = func(name string) ([]byte, error) {
		assert.Equal(t, "/run/secrets/karton-webhook", name)
		return []byte("from-file\n"), nil
	}
	c, err := New(channel(model.ConnectorWebhook, map[string]string{"url": srv.URL, "secret": "file:/run/secrets/karton-webhook"}), opts)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Send(context.Background(), sample(1)))
	require.Len(t, rc.seen, 1)
	assert.NoError(t, VerifySignature([]byte("from-file"), rc.seen[0].sig, rc.seen[0].body, testNow, time.Minute))
}

func TestVerifySignature(t *testing.T) {
	secret, body := []byte("k"), []byte(`{"id":1}`)
	good := Sign(secret, testNow.Unix(), body)
	tests := []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		errMsg string
	}{
		{"valid", good, body, testNow, ""},
		{"tampered body", good, []byte(`{"id":2}`), testNow, "does not match"},
		{"replayed later", good, body, testNow.Add(10 * time.Minute), "away from now"},
		{"wrong secret", Sign([]byte("other"), testNow.Unix(), body), body, testNow, "does not match"},
		{"no timestamp", "v1=abcd", body, testNow, "no timestamp"},
		{"no signature", "t=1741953600", body, testNow, "no v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(secret, tt.header, tt.body, tt.now, 5*time.Minute)
			if tt.errMsg == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.errMsg)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	assert.Equal(t, time.Duration(0), retryAfter("", testNow))
	assert.Equal(t, 5*time.Second, retryAfter("5", testNow))
	assert.Equal(t, maxBackoff, retryAfter("3600", testNow))
	assert.Equal(t, 30*time.Second, retryAfter(testNow.Add(30*time.Second).Format(http.TimeFormat), testNow))
	assert.Equal(t, time.Duration(0), retryAfter("soon", testNow))
}

// A sender rotating its secret signs with both; either one matches, and a
// signature over another timestamp does not.
func TestSignatureWithSeveralV1(t *testing.T) {
	body := []byte(`{"id":1}`)
	oldSig := Sign([]byte("old"), 1741953600, body)
	newSig := Sign([]byte("new"), 1741953600, body)
	_, newV1, _ := strings.Cut(newSig, ",")
	sig, err := ParseSignature(oldSig + "," + newV1)
	require.NoError(t, err)
	require.Equal(t, int64(1741953600), sig.T)
	require.True(t, sig.Matches([]byte("old"), body))
	require.True(t, sig.Matches([]byte("new"), body))
	require.False(t, sig.Matches([]byte("other"), body))
	later, err := ParseSignature("t=1741953601," + newV1)
	require.NoError(t, err)
	require.False(t, later.Matches([]byte("new"), body), "the timestamp is signed too")
}
