package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	gossh "golang.org/x/crypto/ssh"
)

func newKey(t *testing.T, comment string) (gossh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	s, err := gossh.NewSignerFromKey(priv)
	require.NoError(t, err)
	return s, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s.PublicKey()))) + " " + comment
}

func TestUserKeys(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	_, laptop := newKey(t, "jana@laptop")
	desk, deskLine := newKey(t, "jana@desk")
	file := filepath.Join(dir, "keys.pub")
	require.NoError(t, os.WriteFile(file, []byte("# Jana's desk\n"+deskLine+"\n"), 0o600))

	out := mustRun(t, "--db", db, "user", "add", "jana", "--role", "operator", "--key", laptop)
	assert.Contains(t, out, "added user jana as operator with 1 SSH key")

	out = mustRun(t, "--db", db, "user", "keys", "jana", "--key-file", file)
	assert.Contains(t, out, gossh.FingerprintSHA256(desk.PublicKey()))
	assert.Contains(t, out, "jana@laptop")

	var keys []struct{ Fingerprint, Comment string }
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "user", "keys", "jana", "--json")), &keys))
	require.Len(t, keys, 2)
	assert.Equal(t, "jana@desk", keys[1].Comment)

	mustRun(t, "--db", db, "user", "keys", "jana", "--add", laptop) // already there: no duplicate
	out = mustRun(t, "--db", db, "user", "keys", "jana", "--remove", keys[0].Fingerprint)
	assert.NotContains(t, out, "jana@laptop")
	assert.Contains(t, out, "jana@desk")

	code, _, stderr := karton(t, "--db", db, "user", "add", "max", "--role", "viewer", "--key-file", file)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "already belongs to user jana")

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"user", "add", "eve", "--role", "viewer", "--key", "ssh-ed25519 nonsense"}, 2, "not an SSH public key"},
		{[]string{"user", "add", "eve", "--role", "viewer", "--key-file", filepath.Join(dir, "missing.pub")}, 1, "no such file"},
		{[]string{"user", "keys", "jana", "--remove", "SHA256:nope"}, 1, "no key with this fingerprint"},
		{[]string{"user", "keys", "nobody"}, 1, "no user nobody"},
		{[]string{"--as", "jana", "user", "keys", "jana", "--add", laptop}, 1, "may not manage users"},
	} {
		code, _, stderr := karton(t, append([]string{"--db", db}, tc.args...)...)
		assert.Equal(t, tc.code, code, "%v: %s", tc.args, stderr)
		assert.Contains(t, stderr, tc.want, "%v", tc.args)
	}
}

func TestServeFlagsAreValidated(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--max-sessions", "0"}, 2, "--max-sessions must be between 1"},
		{[]string{"--idle-timeout", "-1s"}, 2, "--idle-timeout must be 0"},
		{[]string{"--idle-timeout", "soon"}, 2, "idle-timeout"},
		{[]string{"--listen", "2222"}, 2, "give HOST:PORT"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
		{[]string{"--listen", busy.Addr().String(), "--host-key", filepath.Join(t.TempDir(), "hk")}, 1, "address already in use"},
	} {
		code, _, stderr := karton(t, append([]string{"--db", db, "serve"}, tc.args...)...)
		assert.Equal(t, tc.code, code, "%v: %s", tc.args, stderr)
		assert.Contains(t, stderr, tc.want, "%v", tc.args)
	}
}

// TestServeEndToEnd starts `karton serve`, logs in with a key added by
// `karton user add --key-file`, and stops the server with SIGINT.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	signer, line := newKey(t, "anna@test")
	pub := filepath.Join(dir, "anna.pub")
	require.NoError(t, os.WriteFile(pub, []byte(line+"\n"), 0o600))
	mustRun(t, "--db", db, "user", "add", "anna", "--role", "admin", "--key-file", pub)
	bob, bobLine := newKey(t, "bob@test")
	mustRun(t, "--db", db, "user", "add", "bob", "--role", "viewer", "--key", bobLine)
	mustRun(t, "--db", db, "purpose", "add", "newsletter", "--category", "marketing")

	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"--db", db, "serve", "--listen", "127.0.0.1:0"}, strings.NewReader(""), out, errOut)
	}()
	port := waitMatch(t, out, regexp.MustCompile(`ssh -p (\d+) localhost`))
	assert.Contains(t, out.String(), "generated now")
	hk, err := os.Stat(filepath.Join(dir, "ssh_host_ed25519_key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), hk.Mode().Perm())

	conn, err := gossh.Dial("tcp", "127.0.0.1:"+port, &gossh.ClientConfig{
		User: "whoever", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
	})
	require.NoError(t, err)
	defer conn.Close()
	sess, err := conn.NewSession()
	require.NoError(t, err)
	require.NoError(t, sess.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}))
	stdout, err := sess.StdoutPipe()
	require.NoError(t, err)
	stdin, err := sess.StdinPipe() // open: a closed stdin ends the session
	require.NoError(t, err)
	defer stdin.Close()
	require.NoError(t, sess.Shell())
	screen := &lockedBuffer{}
	ended := make(chan error, 1)
	go func() {
		_, _ = io.Copy(screen, stdout)
		ended <- sess.Wait()
	}()
	waitMatch(t, screen, regexp.MustCompile(`(anna)`))

	// While the server holds the store, users are managed over ssh, as
	// the session's user; a removed user's session ends.
	bobConn, err := gossh.Dial("tcp", "127.0.0.1:"+port, &gossh.ClientConfig{
		User: "bob", Auth: []gossh.AuthMethod{gossh.PublicKeys(bob)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
	})
	require.NoError(t, err)
	defer bobConn.Close()
	out3, err := sshRun(bobConn, "user remove anna")
	assert.Error(t, err, "a viewer may not manage users")
	assert.Contains(t, out3, "bob is a viewer and may not manage users")
	out3, err = sshRun(bobConn, "user list --db /etc/passwd")
	assert.Error(t, err)
	assert.Contains(t, out3, "not available over ssh")
	out3, err = sshRun(bobConn, "backup /tmp/x.db")
	assert.Error(t, err)
	assert.Contains(t, out3, "not a command the server runs over ssh")
	// Data requests too: a consent file sent on standard input, and a
	// person's data back on standard output.
	sess2, err := conn.NewSession()
	require.NoError(t, err)
	sess2.Stdin = strings.NewReader(`{"customer_email":"neu@example.de","channel":"email","purpose":"newsletter","kind":"opt_in","at":"2026-01-10T09:00:00Z"}` + "\n")
	imported, err := sess2.CombinedOutput("consent import -")
	sess2.Close()
	require.NoError(t, err, string(imported))
	assert.Contains(t, string(imported), "imported 1 of 1 events (1 new customers)")
	out3, err = sshRun(conn, "customer export-data neu@example.de")
	require.NoError(t, err, out3)
	assert.Contains(t, out3, `"exported_by": "anna"`)
	assert.Contains(t, out3, `"email": "neu@example.de"`)
	out3, err = sshRun(bobConn, "customer export-data neu@example.de")
	assert.Error(t, err)
	assert.Contains(t, out3, "bob is a viewer and may not export personal data")

	out3, err = sshRun(conn, "karton user remove bob")
	require.NoError(t, err, out3)
	assert.Contains(t, out3, "removed user bob")
	_, err = sshRun(bobConn, "user list")
	assert.Error(t, err, "bob's connection is refused now")

	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGINT))
	select {
	case code := <-done:
		assert.Equal(t, 0, code, errOut.String())
	case <-time.After(10 * time.Second):
		t.Fatal("karton serve did not stop on SIGINT")
	}
	select {
	case err := <-ended:
		var ee *gossh.ExitError
		require.True(t, errors.As(err, &ee), "%v: %q\n%s", err, ansi.Strip(screen.String()), errOut.String())
		assert.Equal(t, 1, ee.ExitStatus())
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end")
	}
	assert.Contains(t, ansi.Strip(screen.String()), "the Karton server is shutting down")
	assert.Contains(t, out.String(), "Karton server stopped")
	assert.Contains(t, errOut.String(), "msg=login")

	// The store was closed cleanly: the CLI opens it and the chain holds.
	out2 := mustRun(t, "--db", db, "audit", "verify")
	assert.Contains(t, out2, "audit chain intact")
}

// sshRun runs a command in a new session and returns its output.
func sshRun(conn *gossh.Client, command string) (string, error) {
	sess, err := conn.NewSession()
	if err != nil {
		return "", err
	}
	defer sess.Close()
	out, err := sess.CombinedOutput(command)
	return string(out), err
}

// lockedBuffer is written by the server's goroutines and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitMatch waits until re matches the buffer and returns the first group.
func waitMatch(t *testing.T, b *lockedBuffer, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(ansi.Strip(b.String())); m != nil {
			return m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no match for %s in:\n%s", re, b.String())
	return ""
}
