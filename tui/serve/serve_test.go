package serve

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	gossh "golang.org/x/crypto/ssh"

	"karton/model"
	"karton/store"
	"karton/tui/internal/screentest"
)

func TestKnownKeyLogsInAndSeesTheCockpit(t *testing.T) {
	f := newFixture(t)
	c := f.connect("anna")
	screen := c.waitFor("1 Probe", "2 Campaigns", "3 Customers", "4 Warehouse", "anna · admin", "1 online", "karton.db",
		"customer Jana Meier <jana@example.de> email/newsletter=CONSENT_DOI")
	assert.NotContains(t, screen, filepath.Dir(f.path), "remote users do not learn the server's directories")

	c.press("x")
	c.waitFor("keys 1")
	c.press("q")
	code, _ := c.ended()
	assert.Equal(t, 0, code, "q ends the session normally")

	entries := auditEntries(t, f.st)
	require.NotEmpty(t, entries)
	assert.Contains(t, entries, "anna session.login user:anna")
	assert.Contains(t, f.logs.String(), `"msg":"login"`)
}

func TestDefaultBoxesShowTheFrame(t *testing.T) {
	// Without test boxes: whatever the cockpit's own dashboards are, the
	// frame's status bar names the user and role.
	f := newFixture(t, func(o *Options) { o.Boxes = nil })
	c := f.connect("olga")
	c.waitFor("olga · operator", "karton.db")
	c.press("q")
	code, _ := c.ended()
	assert.Equal(t, 0, code)
}

func TestClientNoColorIsHonoured(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.NoColor = false })
	colours := func(env map[string]string) string {
		conn, err := f.dial(gossh.PublicKeys(f.signers["anna"]))
		require.NoError(t, err)
		defer conn.Close()
		sess, err := conn.NewSession()
		require.NoError(t, err)
		for k, v := range env {
			require.NoError(t, sess.Setenv(k, v))
		}
		c := startSessionFrom(t, sess)
		c.waitFor("anna · admin")
		c.press("q")
		c.ended()
		return c.raw.String()
	}
	assert.True(t, hasColour(colours(map[string]string{"COLORTERM": "truecolor"})), "colours by default")
	assert.False(t, hasColour(colours(map[string]string{"NO_COLOR": "1", "COLORTERM": "truecolor"})), "none when the client sets NO_COLOR")
}

// hasColour reports whether any SGR sequence in s sets a colour.
func hasColour(s string) bool {
	for _, m := range regexp.MustCompile(`\x1b\[([0-9;:]*)m`).FindAllStringSubmatch(s, -1) {
		for _, p := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' }) {
			n, _ := strconv.Atoi(p)
			if n >= 30 && n <= 38 || n >= 40 && n <= 48 || n >= 90 && n <= 97 || n >= 100 && n <= 107 {
				return true
			}
		}
	}
	return false
}

func TestRefusedAuthentication(t *testing.T) {
	f := newFixture(t)
	stranger := newSigner(t)
	for _, tc := range []struct {
		name string
		auth gossh.AuthMethod
	}{
		{"unknown key", gossh.PublicKeys(stranger)},
		{"password", gossh.Password("anna")},
		{"keyboard-interactive", gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return []string{"anna"}, nil
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := f.dial(tc.auth)
			if conn != nil {
				conn.Close()
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "unable to authenticate")
		})
	}
	assert.Contains(t, f.logs.String(), "key refused: no user has it")
	assert.Contains(t, f.logs.String(), gossh.FingerprintSHA256(stranger.PublicKey()))
	for _, e := range auditEntries(t, f.st) {
		assert.NotContains(t, e, "session.login", "nobody logged in")
	}
}

func TestSessionsThatAreNotATerminalGetOneLine(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name    string
		pty     bool
		command string
		want    string
	}{
		{"no pty", false, "", "needs a terminal"},
		{"command", true, "user list", "runs no commands"},
		{"command without pty", false, "ls", "runs no commands"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := f.open("anna", tc.pty, tc.command)
			code, out := c.ended()
			assert.Equal(t, 1, code)
			assert.Contains(t, out, tc.want)
			assert.Equal(t, 1, strings.Count(strings.TrimSpace(out), "\n")+1, "one line: %q", out)
		})
	}
	assert.Equal(t, 0, f.srv.Sessions())
}

func TestExecRunsCommandsAsTheUser(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Exec = func(_ context.Context, actor model.Actor, args []string, _ io.Reader, stdout, stderr io.Writer) int {
			fmt.Fprintf(stdout, "%s/%s/%s ran %q\n", actor.Name, actor.Role, actor.Via, args)
			if args[0] == "fail" {
				fmt.Fprintln(stderr, "it failed")
				return 3
			}
			return 0
		}
	})
	c := f.open("vera", false, "user list --json")
	code, out := c.ended()
	assert.Equal(t, 0, code)
	assert.Contains(t, out, `vera/viewer/ssh ran ["user" "list" "--json"]`)

	c = f.open("anna", false, "fail now")
	code, out = c.ended()
	assert.Equal(t, 3, code, "the command's exit status")
	assert.Contains(t, out, "it failed")

	c = f.open("anna", false, `consent record --evidence 'note=clicked the link' --customer "anna@example.de`)
	code, out = c.ended()
	assert.Equal(t, 2, code, "a line with an open quote runs nothing")
	assert.Contains(t, out, `cannot read the command line: a double quote (") is not closed; nothing was run`)
	assert.NotContains(t, out, "ran")
	c = f.open("anna", false, `consent record --evidence 'note=clicked the link'`)
	_, out = c.ended()
	assert.Contains(t, out, `ran ["consent" "record" "--evidence" "note=clicked the link"]`)

	// The log keeps which command ran, not whom or what it named.
	c = f.open("anna", false, "karton customer erase jana@example.de")
	c.ended()
	assert.Contains(t, f.logs.String(), `"command":"customer erase","arguments":1`)
	assert.NotContains(t, f.logs.String(), "jana@example.de")
	assert.NotContains(t, f.logs.String(), "clicked the link")
	assert.Contains(t, f.logs.String(), `"msg":"command"`)
}

func TestMaxSessionsRefusesTheNextOne(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxSessions = 2 })
	a := f.connect("anna")
	a.waitFor("anna · admin")
	b := f.connect("olga")
	b.waitFor("olga · operator", "2 online")

	c := f.connect("vera")
	code, out := c.ended()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "the Karton server is full: all 2 sessions are in use")
	assert.Contains(t, f.logs.String(), "session refused")

	// A freed slot is usable again.
	b.press("q")
	b.ended()
	d := f.connect("vera")
	d.waitFor("vera · viewer")
	assert.Contains(t, waitAudit(t, f.st, "vera session.refused user:vera"), "vera session.refused user:vera")
}

func TestViewerCannotRecordConsentAndIsTold(t *testing.T) {
	f := newFixture(t)
	c := f.connect("vera")
	c.waitFor("email/newsletter=CONSENT_DOI")
	c.press("o")
	c.waitFor("record consent", "permission denied")
	assert.Contains(t, c.scr.Text(), "email/newsletter=CONSENT_DOI", "nothing changed")

	assert.Contains(t, waitAudit(t, f.st, "vera access.refused user:vera"), "vera access.refused user:vera")
	assert.Contains(t, f.logs.String(), `"msg":"action refused"`)
	var history []model.ConsentEvent
	require.NoError(t, f.st.View(fixtureAdmin, func(r *store.Reader) (err error) {
		history, err = r.ConsentHistory(f.cid)
		return err
	}))
	assert.Len(t, history, 2, "the refused opt-out was not written")
}

func TestPersonalDataIsMaskedByRole(t *testing.T) {
	const clear, masked = "customer Jana Meier <jana@example.de>", "customer J. M. <j***@e***.de>"
	for _, tc := range []struct {
		user string
		demo bool
		want string
	}{
		{"anna", false, clear},
		{"olga", false, clear},
		{"alex", false, masked},
		{"vera", false, masked},
		{"anna", true, masked},
		{"olga", true, masked},
	} {
		name := tc.user
		if tc.demo {
			name += " demo"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.Demo = tc.demo })
			c := f.connect(tc.user)
			screen := c.waitFor(tc.want)
			if tc.want == masked {
				assert.NotContains(t, screen, "ana@example", "no part of the address beyond its first letters")
				assert.NotContains(t, screen, "Meier")
			}
		})
	}
}

func TestLiveUpdateReachesTheOtherSession(t *testing.T) {
	f := newFixture(t)
	a := f.connect("olga")
	b := f.connect("anna")
	a.waitFor("email/newsletter=CONSENT_DOI")
	b.waitFor("email/newsletter=CONSENT_DOI", "2 online")

	a.press("o")
	a.waitFor("opt-out recorded")
	b.waitFor("email/newsletter=WITHDRAWN")
	a.waitFor("email/newsletter=WITHDRAWN")
}

func TestUserChangesEndTheirSessions(t *testing.T) {
	f := newFixture(t)
	removed := f.connect("bob")
	removed.waitFor("bob · operator")
	demoted := f.connect("olga")
	demoted.waitFor("olga · operator")
	revoked := f.connect("alex")
	revoked.waitFor("alex · analyst")
	stays := f.connect("vera")
	stays.waitFor("vera · viewer")

	require.NoError(t, f.st.Update(fixtureAdmin, func(tx *store.Tx) error { return tx.RemoveUser("bob") }))
	code, out := removed.ended()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "your Karton user was removed")

	require.NoError(t, f.st.Update(fixtureAdmin, func(tx *store.Tx) error { return tx.SetUserRole("olga", model.RoleViewer) }))
	code, out = demoted.ended()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "your role changed from operator to viewer")

	other := authorized(newSigner(t).PublicKey(), "new laptop")
	require.NoError(t, f.st.Update(fixtureAdmin, func(tx *store.Tx) error { return tx.SetUserKeys("alex", []string{other}) }))
	code, out = revoked.ended()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "the key you logged in with was removed")

	stays.press("x")
	stays.waitFor("keys 1")
	assert.Equal(t, 1, f.srv.Sessions())

	// And the removed user cannot come back.
	_, err := f.dial(gossh.PublicKeys(f.signers["bob"]))
	require.Error(t, err)
}

func TestPanicEndsOnlyThatSession(t *testing.T) {
	f := newFixture(t)
	a := f.connect("anna")
	b := f.connect("olga")
	a.waitFor("anna · admin")
	b.waitFor("olga · operator")

	a.press("p")
	code, out := a.ended()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "an internal error ended this session")
	logs := f.logs.String()
	assert.Contains(t, logs, "session panicked")
	assert.Contains(t, logs, "probe: panic on request")

	b.press("xy")
	b.waitFor("keys 2")
	assert.Equal(t, 1, f.srv.Sessions())
}

func TestIdleSessionsEnd(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.IdleTimeout = 300 * time.Millisecond })
	c := f.connect("anna")
	code, out := c.ended()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "closed after 300ms without input")
	assert.Contains(t, f.logs.String(), `"reason":"idle"`)
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Minute: "30m", time.Hour: "1h", 90 * time.Minute: "1h30m", 300 * time.Millisecond: "300ms", 45 * time.Second: "45s",
	} {
		assert.Equal(t, want, shortDuration(d))
	}
}

func TestShutdownWithSessionsOpen(t *testing.T) {
	var serviceRan, serviceStopped atomic.Bool
	f := newFixture(t, func(o *Options) {
		o.Services = append(o.Services, func(ctx context.Context) error {
			serviceRan.Store(true)
			<-ctx.Done()
			serviceStopped.Store(true)
			return ctx.Err()
		})
	})
	a := f.connect("anna")
	b := f.connect("olga")
	a.waitFor("anna · admin")
	b.waitFor("olga · operator", "2 online")
	b.press("o")
	b.waitFor("opt-out recorded")

	start := time.Now()
	require.NoError(t, f.stop())
	took := time.Since(start)
	for _, c := range []*client{a, b} {
		code, out := c.ended()
		assert.Equal(t, 1, code)
		assert.Contains(t, out, "the Karton server is shutting down")
	}
	assert.True(t, serviceRan.Load())
	assert.True(t, serviceStopped.Load(), "services stop before Serve returns")
	assert.Less(t, took, DefaultShutdownTimeout, "within the budget")

	// New connections are refused once the server is down.
	_, err := f.dial(gossh.PublicKeys(f.signers["anna"]))
	require.Error(t, err)

	st, err := store.Open(f.path, store.Options{Now: screentest.Now})
	require.NoError(t, err, "the store was closed and is free")
	defer st.Close()
	res, err := st.VerifyAudit()
	require.NoError(t, err)
	assert.True(t, res.OK, "%+v", res)
	var history []model.ConsentEvent
	require.NoError(t, st.View(fixtureAdmin, func(r *store.Reader) (err error) {
		history, err = r.ConsentHistory(f.cid)
		return err
	}))
	assert.Len(t, history, 3, "the opt-out recorded before shutdown is kept")
}

func TestHostKeyIsCreatedOnceAndKeptPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "host")
	_, first, err := loadOrCreateHostKey(path)
	require.NoError(t, err)
	assert.True(t, first.Created)
	assert.True(t, strings.HasPrefix(first.Fingerprint, "SHA256:"))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	_, again, err := loadOrCreateHostKey(path)
	require.NoError(t, err)
	assert.False(t, again.Created)
	assert.Equal(t, first.Fingerprint, again.Fingerprint, "the same key on the next start")

	require.NoError(t, os.Chmod(path, 0o644))
	_, _, err = loadOrCreateHostKey(path)
	assert.ErrorContains(t, err, "readable by other users")

	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("hello"), 0o600))
	_, _, err = loadOrCreateHostKey(bad)
	assert.ErrorContains(t, err, "not a usable private key")
}

func TestParseAuthorizedKey(t *testing.T) {
	signer := newSigner(t)
	line := authorized(signer.PublicKey(), "jana@laptop")
	stored, fp, err := ParseAuthorizedKey("  " + line + "\n")
	require.NoError(t, err)
	assert.Equal(t, line, stored)
	assert.Equal(t, gossh.FingerprintSHA256(signer.PublicKey()), fp)
	assert.True(t, SameKey(line, strings.TrimSuffix(line, " jana@laptop")+" other comment"))
	assert.False(t, SameKey(line, authorized(newSigner(t).PublicKey(), "")))

	for _, tc := range []struct{ in, want string }{
		{"", "empty"},
		{"hello world", "not an SSH public key"},
		{`from="10.0.0.1" ` + line, "key options"},
		{"-----BEGIN OPENSSH PRIVATE KEY-----", "private key"},
		{line + "\n" + line, "more than one key"},
	} {
		_, _, err := ParseAuthorizedKey(tc.in)
		assert.ErrorContains(t, err, tc.want, "%q", tc.in)
	}

	keys, err := ParseAuthorizedKeys("# laptop\n" + line + "\n\n" + authorized(newSigner(t).PublicKey(), "desk") + "\n")
	require.NoError(t, err)
	assert.Len(t, keys, 2)
	_, err = ParseAuthorizedKeys(line + "\nnonsense\n")
	assert.ErrorContains(t, err, "line 2")
	_, err = ParseAuthorizedKeys("# nothing\n")
	assert.ErrorContains(t, err, "no public key")
}

// auditEntries lists the chain as "actor action subject" lines.
func auditEntries(t *testing.T, st *store.Store) []string {
	t.Helper()
	var out []string
	require.NoError(t, st.View(fixtureAdmin, func(r *store.Reader) error {
		entries, err := r.AuditEntries(1, 1000)
		for _, e := range entries {
			out = append(out, e.Actor+" "+e.Action+" "+e.Subject)
		}
		return err
	}))
	return out
}

// waitAudit waits for an audit entry that is written off the session's
// update loop.
func waitAudit(t *testing.T, st *store.Store, want string) string {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		entries := auditEntries(t, st)
		for _, e := range entries {
			if e == want {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit entry %q in %v", want, entries)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
