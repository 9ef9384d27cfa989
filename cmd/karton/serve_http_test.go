package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/store/dispatch"
	"karton/store/dispatch/smtptest"
	"karton/store/links"
	"karton/store/web"
)

// The acceptance tests of the wiring: `karton serve --http ADDR --no-ssh`
// (the real binary) owns the store, sends the outbox through the smtp
// connector to a local SMTP server and takes the answers on its listener.

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// server is a running karton binary.
type server struct {
	t        *testing.T
	cmd      *exec.Cmd
	out, err *lockedBuffer
	done     chan struct{}
}

// startServer runs the binary with args and waits until base answers
// /healthz.
func startServer(t *testing.T, bin, base string, args ...string) *server {
	t.Helper()
	s := &server{t: t, out: &lockedBuffer{}, err: &lockedBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.err
	s.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	require.NoError(t, s.cmd.Start())
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	require.Eventually(t, func() bool {
		select {
		case <-s.done:
			t.Fatalf("%v ended early: %s %s", args, s.out.String(), s.err.String())
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 25*time.Millisecond, "the server never answered /healthz")
	return s
}

// stop interrupts the server and returns how long it took to exit.
func (s *server) stop() time.Duration {
	s.t.Helper()
	start := time.Now()
	require.NoError(s.t, s.cmd.Process.Signal(syscall.SIGINT))
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.t.Fatalf("the server did not stop: %s %s", s.out.String(), s.err.String())
	}
	took := time.Since(start)
	require.Equal(s.t, 0, s.cmd.ProcessState.ExitCode(), "stdout: %s\nstderr: %s", s.out.String(), s.err.String())
	return took
}

// useSMTP points the demo's Newsletter channel at the local SMTP server,
// and (through reject, edit, submit, approve) makes the Black Friday
// teaser show its registered link in the body.
func useSMTP(t *testing.T, db string, port int) {
	t.Helper()
	st, err := store.Open(db, store.Options{})
	require.NoError(t, err)
	defer func() { require.NoError(t, st.Close()) }()
	require.NoError(t, st.Update(store.SystemActor, func(tx *store.Tx) error {
		chs, err := tx.Reader().Channels()
		if err != nil {
			return err
		}
		for _, ch := range chs {
			if ch.Name != "Newsletter" {
				continue
			}
			return tx.UpdateChannel(ch.ID, func(c *model.Channel) error {
				c.Connector = model.Connector{Kind: model.ConnectorSMTP, Settings: map[string]string{
					"host": "127.0.0.1", "port": strconv.Itoa(port), "tls": "none", "from": "news@gartenglueck.example", "from_name": "Gartenglück",
				}}
				return nil
			})
		}
		return store.ErrNotFound
	}))
	require.NoError(t, st.Update(store.SystemActor, func(tx *store.Tx) error {
		cs, err := tx.Reader().Campaigns()
		if err != nil {
			return err
		}
		for _, c := range cs {
			if c.Name != "Black Friday Week 2027" {
				continue
			}
			if err := tx.TransitionCampaign(c.ID, model.ActionReject, "show the link"); err != nil {
				return err
			}
			return tx.UpdateCampaign(c.ID, func(c *model.Campaign) error {
				cr := &c.Creatives[0]
				cr.Body = strings.Replace(cr.Body, "\n\nHerzliche", "\n\nZu den Angeboten: "+cr.Links[0]+"\n\nHerzliche", 1)
				return nil
			})
		}
		return store.ErrNotFound
	}))
}

var (
	unsubscribeHeader = regexp.MustCompile(`^<(http://[^>]+/u/[A-Za-z0-9_-]+)>$`)
	clickLink         = regexp.MustCompile(`http://\S+/c/[A-Za-z0-9_-]+`)
	doiLinkIn         = regexp.MustCompile(`http://\S+/doi/[A-Za-z0-9_-]+`)
)

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestServeSendsAndTakesTheUnsubscribe is acceptance point (a): a step
// launched on a demo store is sent by serve's dispatcher through the smtp
// connector; each mail carries its one-click unsubscribe link and click
// links; a POST on the link (RFC 8058) answers 200 and `karton consent
// check` then denies with WITHDRAWN. The server stops within 5 s.
func TestServeSendsAndTakesTheUnsubscribe(t *testing.T) {
	bin := buildKarton(t)
	box := smtptest.Start(t)
	port := box.Port
	db := demoDB(t, 300)
	useSMTP(t, db, port)
	campaign, step := findCampaignStep(t, db, "draft", "Teaser-Mail")
	mustRun(t, "--db", db, "--as", "olga", "campaign", "submit", itoa(campaign))
	mustRun(t, "--db", db, "--as", "markus", "campaign", "approve", itoa(campaign))
	var launched struct {
		Allowed int `json:"allowed"`
	}
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "campaign", "launch", itoa(step), "--json")), &launched))
	require.Positive(t, launched.Allowed)

	addr := freeAddr(t)
	base := "http://" + addr
	srv := startServer(t, bin, base, "--db", db, "serve", "--http", addr, "--no-ssh")
	if !assert.Eventually(t, func() bool { return len(box.Received()) >= launched.Allowed }, 60*time.Second, 50*time.Millisecond,
		"serve's dispatcher sends the launched messages") {
		t.Fatalf("%d of %d mails; server:\n%s\n%s", len(box.Received()), launched.Allowed, srv.out.String(), srv.err.String())
	}

	h, body := smtptest.Read(t, box.Received()[0])
	m := unsubscribeHeader.FindStringSubmatch(h.Get("List-Unsubscribe"))
	require.Len(t, m, 2, "List-Unsubscribe: %q", h.Get("List-Unsubscribe"))
	link := m[1]
	assert.True(t, strings.HasPrefix(link, base+links.PathUnsubscribe), link)
	assert.Equal(t, "List-Unsubscribe=One-Click", h.Get("List-Unsubscribe-Post"))
	assert.Contains(t, body, "Hier abmelden: "+link, "the footer has the same link")
	assert.NotContains(t, body, "https://www.gartenglueck.example/black-friday", "the registered target is a click link")
	to, err := mail.ParseAddress(h.Get("To"))
	require.NoError(t, err)

	// The click link counts a response and redirects to the target.
	click := clickLink.FindString(body)
	require.NotEmpty(t, click, body)
	resp, err := noRedirects.Get(click)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, "https://www.gartenglueck.example/black-friday", resp.Header.Get("Location"))

	// One-click unsubscribe (RFC 8058).
	resp, err = http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	took := srv.stop()
	assert.Less(t, took, 5*time.Second, "graceful shutdown within 5 s")
	assert.Contains(t, srv.out.String(), "return channel: "+base)
	assert.Contains(t, srv.out.String(), "the store is closed")
	assert.NotContains(t, srv.err.String(), strings.TrimPrefix(link, base+links.PathUnsubscribe), "tokens never reach the log")

	var c checkJSON
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "consent", "check", "--customer", to.Address, "--channel", "email", "--purpose", "newsletter", "--json")), &c))
	assert.False(t, c.Allow)
	assert.Equal(t, "WITHDRAWN", c.Reason)

	var kpi struct {
		Rows []struct {
			Campaign  uint64 `json:"campaign"`
			Contacts  int64  `json:"contacts"`
			Clicked   int64  `json:"clicked"`
			Responses int64  `json:"responses"`
		} `json:"rows"`
	}
	now := time.Now().UTC()
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "kpi", "--by", "campaign", "--from", now.AddDate(0, 0, -2).Format("2006-01-02"), "--to", now.Format("2006-01-02"), "--json")), &kpi))
	found := false
	for _, r := range kpi.Rows {
		if r.Campaign == campaign {
			found = true
			assert.Equal(t, int64(launched.Allowed), r.Contacts)
			assert.Equal(t, int64(1), r.Clicked)
			assert.Equal(t, int64(1), r.Responses, "the Warehouse counts the click as a response")
		}
	}
	assert.True(t, found, "the campaign has a KPI row")
	assert.Contains(t, mustRun(t, "--db", db, "audit", "verify"), "audit chain intact")
}

// TestServeDOIThroughSMTP is acceptance point (b): a DOI request's email
// goes through the smtp connector, and its link is confirmed through
// serve's listener; a sign-up posted to serve's /events sends its
// confirmation email from the server.
func TestServeDOIThroughSMTP(t *testing.T) {
	bin := buildKarton(t)
	box := smtptest.Start(t)
	port := box.Port
	db := demoDB(t, 200)
	useSMTP(t, db, port)
	addr := freeAddr(t)
	base := "http://" + addr
	mustRun(t, "--db", db, "customer", "add", "--email", "neu@example.de", "--first-name", "Nele")
	mustRun(t, "--db", db, "consent", "record", "--customer", "neu@example.de", "--channel", "email", "--purpose", "newsletter", "--kind", "opt_in", "--evidence", "ip=192.0.2.1")
	secret := filepath.Join(t.TempDir(), "shop.secret")
	require.NoError(t, os.WriteFile(secret, []byte("shop-secret-0123456789abcdef"), 0o600))
	mustRun(t, "--db", db, "source", "add", "shop", "--secret-file", secret)

	out := mustRun(t, "--db", db, "consent", "request-doi", "--customer", "neu@example.de", "--purpose", "newsletter", "--via", "Newsletter", "--base", base)
	assert.Contains(t, out, "confirmation email sent through Newsletter")
	require.Len(t, box.Received(), 1)
	_, body := smtptest.Read(t, box.Received()[0])
	link := doiLinkIn.FindString(body)
	require.True(t, strings.HasPrefix(link, base+links.PathDOI), body)

	srv := startServer(t, bin, base, "--db", db, "serve", "--http", addr, "--no-ssh")
	resp, err := http.Get(link)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("confirm=yes"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// A sign-up from the shop, through the same listener.
	event := []byte(`{"id":"s1","type":"signup","customer":{"email":"web@example.de"},"channel":"email","purpose":"newsletter"}`)
	req, err := http.NewRequest(http.MethodPost, base+"/events", bytes.NewReader(event))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(web.HeaderSource, "shop")
	req.Header.Set(web.HeaderSignature, dispatch.Sign([]byte("shop-secret-0123456789abcdef"), time.Now().Unix(), event))
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(answer))
	require.Eventually(t, func() bool { return len(box.Received()) == 2 }, 10*time.Second, 20*time.Millisecond, "the server sent the sign-up's DOI email")
	_, body = smtptest.Read(t, box.Received()[1])
	second := doiLinkIn.FindString(body)
	require.True(t, strings.HasPrefix(second, base+links.PathDOI), body)
	resp, err = http.Post(second, "application/x-www-form-urlencoded", strings.NewReader("confirm=yes"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	srv.stop()

	for _, email := range []string{"neu@example.de", "web@example.de"} {
		var c checkJSON
		require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "consent", "check", "--customer", email, "--channel", "email", "--purpose", "newsletter", "--json")), &c))
		assert.True(t, c.Allow, email)
		assert.Equal(t, "CONSENT_DOI", c.Reason, email)
	}
}

// TestUnsubscribeBeforeDispatchSuppresses is acceptance point (c): the
// link of a launched message that was not sent yet unsubscribes, and the
// dispatch then stops that message as suppressed_at_dispatch.
func TestUnsubscribeBeforeDispatchSuppresses(t *testing.T) {
	bin := buildKarton(t)
	db := demoDB(t, 200)
	step := findStep(t, db, "approved", "Teaser-Mail")
	mustRun(t, "--db", db, "campaign", "launch", itoa(step))
	addr := freeAddr(t)
	base := "http://" + addr

	// The link dispatch would put into the first message (links are
	// made with the store's key and need no store write).
	st, err := store.Open(db, store.Options{})
	require.NoError(t, err)
	signer, err := links.NewSigner(st.DeriveKey(links.KeyLabel))
	require.NoError(t, err)
	var msg store.OutboxEntry
	require.NoError(t, st.View(store.SystemActor, func(r *store.Reader) error {
		ms, _, err := r.Outbox(store.OutboxFilter{Step: model.StepID(step)}, 0, 1)
		require.Len(t, ms, 1)
		msg = ms[0]
		return err
	}))
	require.NoError(t, st.Close())
	link, err := links.Unsubscribe(base, signer, links.Message{Customer: msg.CustomerID, Channel: msg.Channel, Purpose: msg.PurposeID, Step: msg.StepID, ID: uint64(msg.ID)})
	require.NoError(t, err)

	srv := startServer(t, bin, base, "--db", db, "http", "--listen", addr, "--base", base)
	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	srv.stop()

	var rep struct {
		Suppressed int            `json:"suppressed_at_dispatch"`
		ByReason   map[string]int `json:"by_reason"`
	}
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "dispatch", "--once", "--json")), &rep))
	assert.Equal(t, 1, rep.Suppressed)
	assert.Equal(t, map[string]int{"WITHDRAWN": 1}, rep.ByReason)
	var list struct {
		Messages []struct {
			ID     uint64 `json:"id"`
			Status string `json:"status"`
			Reason string `json:"reason"`
		} `json:"messages"`
	}
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "outbox", "list", "--status", "suppressed_at_dispatch", "--json")), &list))
	require.Len(t, list.Messages, 1)
	assert.Equal(t, uint64(msg.ID), list.Messages[0].ID)
	assert.Equal(t, "WITHDRAWN", list.Messages[0].Reason)
}
