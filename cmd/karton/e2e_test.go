package main

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tmuxSession drives the real karton binary in a detached tmux session, as
// a user at a terminal would: keys in, screen text out.
type tmuxSession struct {
	t    *testing.T
	name string
}

// buildKarton compiles the binary once per test into a temp dir.
func buildKarton(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "karton")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

func startTmux(t *testing.T, w, h int, env []string, args ...string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("the end-to-end test needs tmux: apt-get install tmux (.ci/run installs it)")
	}
	name := "karton-e2e-" + strings.ReplaceAll(t.Name(), "/", "-")
	_ = exec.Command("tmux", "kill-session", "-t", name).Run()
	cmdline := strings.Join(append(env, args...), " ")
	tmuxArgs := []string{"new-session", "-d", "-s", name, "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), "env " + cmdline + "; sleep 30"}
	out, err := exec.Command("tmux", tmuxArgs...).CombinedOutput()
	require.NoError(t, err, "tmux: %s", out)
	s := &tmuxSession{t: t, name: name}
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", name).Run() })
	return s
}

// send types keys: tmux key names ("Enter", "Escape", "Tab") or literal text.
func (s *tmuxSession) send(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		out, err := exec.Command("tmux", "send-keys", "-t", s.name, k).CombinedOutput()
		require.NoError(s.t, err, "send-keys %q: %s", k, out)
		time.Sleep(60 * time.Millisecond)
	}
}

// text types literal text (no key-name interpretation).
func (s *tmuxSession) text(txt string) {
	s.t.Helper()
	out, err := exec.Command("tmux", "send-keys", "-t", s.name, "-l", txt).CombinedOutput()
	require.NoError(s.t, err, "send-keys -l %q: %s", txt, out)
	time.Sleep(60 * time.Millisecond)
}

func (s *tmuxSession) screen() string {
	out, err := exec.Command("tmux", "capture-pane", "-p", "-t", s.name).CombinedOutput()
	require.NoError(s.t, err, "capture-pane: %s", out)
	return string(out)
}

// waitFor polls the screen until it shows every text, and fails with the
// last screen when it does not within the timeout.
func (s *tmuxSession) waitFor(timeout time.Duration, texts ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		scr := s.screen()
		missing := ""
		for _, txt := range texts {
			if !strings.Contains(scr, txt) {
				missing = txt
				break
			}
		}
		if missing == "" {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %q within %s; last screen:\n%s", missing, timeout, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCockpitEndToEnd starts `karton demo` in tmux as a user would, visits
// the four boxes, opens a customer, records a consent event from the 360°
// view and quits; then checks from the CLI that the event is in the ledger.
func TestCockpitEndToEnd(t *testing.T) {
	bin := buildKarton(t)
	db := filepath.Join(t.TempDir(), "e2e.db")
	s := startTmux(t, 120, 40, []string{"TERM=xterm-256color"}, bin, "demo", "--customers", "2000", "--seed", "7", "--db", db)
	s.waitFor(60*time.Second, "Campaigns", "Customers", "Warehouse", "2,000 customers")

	// Every box shows data from the store.
	s.send("1")
	s.waitFor(10*time.Second, "reach")
	s.send("2")
	s.waitFor(10*time.Second, "Frühjahrsputz-Aktion", "approval")
	s.send("4")
	s.waitFor(10*time.Second, "Revenue")
	s.send("?")
	s.waitFor(5*time.Second, "Everywhere")
	s.send("Escape")

	// Open the first customer, go to the consent matrix, record an opt-in.
	s.send("3")
	s.waitFor(10*time.Second, "1 / 2,000")
	s.send("Enter")
	s.waitFor(10*time.Second, "[Profile]")
	s.send("]")
	scr := s.waitFor(10*time.Second, "[Consents]", "History")
	require.NotContains(t, scr, "operator", "the first customer has no operator-recorded event yet")
	s.send("n")
	s.waitFor(5*time.Second, "Record consent event")
	for range 6 { // event opt_in, channel email, purpose newsletter; default basis, time, evidence
		s.send("Enter")
		time.Sleep(150 * time.Millisecond)
	}
	s.waitFor(10*time.Second, "opt_in", "operator", "email/newsletter")

	s.send("q")
	s.waitFor(10*time.Second, "Demo store")

	out, err := exec.Command(bin, "--db", db, "audit", "verify").CombinedOutput()
	require.NoError(t, err, "%s", out)
}
