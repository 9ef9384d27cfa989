package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/store/links"
	"karton/store/web"
)

func TestSourceCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	secret := filepath.Join(dir, "shop.secret")
	require.NoError(t, os.WriteFile(secret, []byte("0123456789abcdef0123456789abcdef\n"), 0o600))
	out := mustRun(t, "--db", db, "source", "add", "shop", "--secret-file", secret)
	fp := store.SecretFingerprint([]byte("0123456789abcdef0123456789abcdef"))
	assert.Contains(t, out, "added source shop (secret fingerprint "+fp+")", "the final newline is not part of the secret")
	assert.Contains(t, out, "X-Karton-Signature")

	var list []struct{ Name, Fingerprint string }
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "source", "list", "--json")), &list))
	require.Len(t, list, 1)
	assert.Equal(t, "shop", list[0].Name)
	assert.Equal(t, fp, list[0].Fingerprint)
	assert.NotContains(t, mustRun(t, "--db", db, "source", "list"), "0123456789abcdef", "the secret is never shown")

	short := filepath.Join(dir, "short")
	require.NoError(t, os.WriteFile(short, []byte("abc"), 0o600))
	for _, args := range [][]string{
		{"source", "add", "crm", "--secret-file", short},
		{"source", "add", "crm", "--secret-file", filepath.Join(dir, "missing")},
		{"source", "add", "shop", "--secret-file", secret},
		{"source", "add", "Bad Name", "--secret-file", secret},
		{"source", "remove", "crm"},
	} {
		code, _, stderr := karton(t, append([]string{"--db", db}, args...)...)
		assert.Equal(t, 1, code, "%v", args)
		assert.NotEmpty(t, stderr)
	}
	code, _, _ := karton(t, "--db", db, "source", "add", "crm")
	assert.Equal(t, 2, code, "--secret-file is required")
	assert.Contains(t, mustRun(t, "--db", db, "source", "remove", "shop"), "removed source shop")
}

func setupConsentStore(t *testing.T, db string) {
	t.Helper()
	mustRun(t, "--db", db, "purpose", "add", "newsletter", "--category", "marketing", "--title", "Monthly newsletter")
	mustRun(t, "--db", db, "channel", "add", "Newsletter", "--kind", "email")
	mustRun(t, "--db", db, "customer", "add", "--email", "jana@example.de", "--first-name", "Jana")
	mustRun(t, "--db", db, "consent", "record", "--customer", "jana@example.de", "--channel", "email", "--purpose", "newsletter", "--kind", "opt_in", "--evidence", "ip=192.0.2.1")
}

var doiLink = regexp.MustCompile(`https?://\S+/doi/[A-Za-z0-9_-]+`)

func TestRequestDOIAndConfirmThroughTheLink(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	setupConsentStore(t, db)
	var h http.Handler = http.NotFoundHandler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer ts.Close()

	out := mustRun(t, "--db", db, "consent", "request-doi", "--customer", "jana@example.de", "--channel", "email", "--purpose", "newsletter", "--base", ts.URL, "--text-version", "v7")
	assert.Contains(t, out, "recorded doi_requested")
	assert.Contains(t, out, "not sent: channel Newsletter uses the dry connector")
	assert.Contains(t, out, "To: jana@example.de")
	link := doiLink.FindString(out)
	require.True(t, strings.HasPrefix(link, ts.URL+"/doi/"), out)
	assert.Equal(t, "PENDING_DOI", checkScope(t, db).Reason)

	var js map[string]any
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "consent", "request-doi", "--customer", "jana@example.de", "--purpose", "newsletter", "--base", ts.URL, "--json")), &js))
	assert.Equal(t, false, js["sent"])
	assert.Contains(t, js["url"], ts.URL+"/doi/")

	// The server on the same store confirms through the first link.
	st, err := store.Open(db, store.Options{})
	require.NoError(t, err)
	srv, err := web.New(st, web.Options{Base: ts.URL, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	h = srv.Handler()
	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("confirm=yes"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, st.Close())

	assert.Equal(t, "CONSENT_DOI", checkScope(t, db).Reason)
	var hist []struct {
		Kind        string `json:"kind"`
		TextVersion string `json:"text_version"`
	}
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "consent", "history", "--customer", "jana@example.de", "--json")), &hist))
	assert.Equal(t, "doi_confirmed", hist[len(hist)-1].Kind)
	assert.Equal(t, "v7", hist[len(hist)-1].TextVersion)

	for _, args := range [][]string{
		{"consent", "request-doi", "--customer", "jana@example.de", "--channel", "sms", "--purpose", "newsletter"},
		{"consent", "request-doi", "--customer", "nobody@example.de", "--purpose", "newsletter"},
		{"consent", "request-doi", "--customer", "jana@example.de", "--purpose", "newsletter", "--via", "Nope"},
	} {
		code, _, stderr := karton(t, append([]string{"--db", db}, args...)...)
		assert.Equal(t, 1, code, "%v", args)
		assert.NotEmpty(t, stderr)
	}
	code, _, _ := karton(t, "--db", db, "consent", "request-doi", "--customer", "jana@example.de", "--purpose", "newsletter", "--base", "ftp://x")
	assert.Equal(t, 2, code)
}

// The acceptance test of the one-click unsubscribe: with `karton http`
// running, a POST on a message's unsubscribe link returns 200, and
// `karton consent check` then denies with WITHDRAWN.
func TestHTTPCommandOneClickUnsubscribe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	setupConsentStore(t, db)
	mustRun(t, "--db", db, "consent", "record", "--customer", "jana@example.de", "--channel", "email", "--purpose", "newsletter", "--kind", "doi_confirmed")
	require.Equal(t, "CONSENT_DOI", checkScope(t, db).Reason)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr

	// What the outbox will do when it renders the message.
	st, err := store.Open(db, store.Options{})
	require.NoError(t, err)
	signer, err := links.NewSigner(st.DeriveKey(links.KeyLabel))
	require.NoError(t, err)
	var purpose model.PurposeID
	require.NoError(t, st.View(store.SystemActor, func(r *store.Reader) error {
		p, err := r.PurposeByName("newsletter")
		purpose = p.ID
		return err
	}))
	link, err := links.Unsubscribe(base, signer, links.Message{Customer: 1, Channel: model.KindEmail, Purpose: purpose, ID: 1})
	require.NoError(t, err)
	require.NoError(t, st.Close())

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	e := &env{dbPath: db, stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	done := make(chan error, 1)
	go func() {
		done <- runHTTP(ctx, e, web.Options{Addr: addr, Base: base, Logger: slog.New(slog.NewTextHandler(&stderr, nil))})
	}()
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)

	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, body)

	cancel()
	require.NoError(t, <-done)
	require.NoError(t, e.st.Close())
	assert.Contains(t, stdout.String(), "serving the return channel on "+addr)
	assert.NotContains(t, stderr.String(), strings.TrimPrefix(link, base+"/u/"), "tokens never reach the log")

	c := checkScope(t, db)
	assert.False(t, c.Allow)
	assert.Equal(t, "WITHDRAWN", c.Reason)
	assert.Equal(t, base, mustMeta(t, db), "request-doi will build links for the same listener")
}

func mustMeta(t *testing.T, db string) string {
	t.Helper()
	st, err := store.Open(db, store.Options{})
	require.NoError(t, err)
	defer st.Close()
	v, err := st.Meta(store.MetaLinkBase)
	require.NoError(t, err)
	return v
}
