package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/stretchr/testify/require"
	gossh "golang.org/x/crypto/ssh"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/palette"
	"karton/tui/internal/screentest"
	"karton/tui/theme"
)

// waitLimit bounds every wait for the server; it is a guard against a hung
// test, not a speed requirement.
const waitLimit = 15 * time.Second

// Test users, one per role that matters here.
var testUsers = []struct {
	name string
	role model.Role
}{
	{"anna", model.RoleAdmin},
	{"olga", model.RoleOperator},
	{"alex", model.RoleAnalyst},
	{"vera", model.RoleViewer},
	{"bob", model.RoleOperator},
}

var fixtureAdmin = model.Actor{Name: "anna", Role: model.RoleAdmin, Via: "test"}

// fixture is a store with users, their keys, a purpose and one customer
// who has confirmed email consent, served on 127.0.0.1:0.
type fixture struct {
	t       *testing.T
	st      *store.Store
	path    string
	srv     *Server
	addr    string
	hostKey gossh.PublicKey
	cancel  context.CancelFunc
	done    chan error
	logs    *syncBuffer
	signers map[string]gossh.Signer
	purpose model.PurposeID
	cid     model.CustomerID
	stopped bool
}

func newFixture(t *testing.T, configure ...func(*Options)) *fixture {
	t.Helper()
	f := &fixture{t: t, logs: &syncBuffer{}, signers: map[string]gossh.Signer{}}
	dir := t.TempDir()
	f.path = filepath.Join(dir, "karton.db")
	st, err := store.Open(f.path, store.Options{Now: screentest.Now})
	require.NoError(t, err)
	f.st = st
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Update(store.SystemActor, func(tx *store.Tx) error {
		for _, u := range testUsers {
			signer := newSigner(t)
			f.signers[u.name] = signer
			user := model.User{Name: u.name, Role: u.role, PublicKeys: []string{authorized(signer.PublicKey(), u.name+"@test")}}
			if err := tx.InsertUser(&user); err != nil {
				return err
			}
		}
		p := model.Purpose{Name: "newsletter", Category: model.CategoryMarketing}
		if err := tx.InsertPurpose(&p); err != nil {
			return err
		}
		f.purpose = p.ID
		c := model.Customer{FirstName: "Jana", LastName: "Meier", Email: "jana@example.de"}
		if err := tx.InsertCustomer(&c); err != nil {
			return err
		}
		f.cid = c.ID
		at := screentest.Now().Add(-48 * time.Hour)
		for _, k := range []model.ConsentKind{model.ConsentOptIn, model.ConsentDOIConfirmed} {
			ev := model.ConsentEvent{CustomerID: c.ID, Channel: model.KindEmail, PurposeID: p.ID, Kind: k, EffectiveAt: at, Source: "form"}
			if err := tx.AppendConsent(&ev, nil); err != nil {
				return err
			}
			at = at.Add(time.Hour)
		}
		return nil
	}))

	opts := Options{
		HostKeyPath: filepath.Join(dir, "host_ed25519"),
		Logger:      slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:         screentest.Now,
		NoColor:     true,
		Boxes:       f.boxes,
	}
	for _, c := range configure {
		c(&opts)
	}
	srv, err := New(st, opts)
	require.NoError(t, err)
	f.srv = srv
	pemBytes, _, err := loadOrCreateHostKey(opts.HostKeyPath)
	require.NoError(t, err)
	hs, err := gossh.ParsePrivateKey(pemBytes)
	require.NoError(t, err)
	f.hostKey = hs.PublicKey()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan error, 1)
	go func() { f.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		if !f.stopped {
			_ = f.stop()
		}
	})
	return f
}

// stop shuts the server down and returns Serve's result.
func (f *fixture) stop() error {
	f.t.Helper()
	f.stopped = true
	f.cancel()
	select {
	case err := <-f.done:
		return err
	case <-time.After(waitLimit):
		f.t.Fatal("the server did not stop")
		return nil
	}
}

// boxes are the sessions' dashboards: the probe first, then stand-ins so
// the tab row looks like the cockpit's.
func (f *fixture) boxes(c *common.Context) []common.Box {
	return []common.Box{
		&probeBox{c: c, cid: f.cid, purpose: f.purpose},
		&stubBox{title: "Campaigns"}, &stubBox{title: "Customers"}, &stubBox{title: "Warehouse"},
	}
}

func newSigner(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	s, err := gossh.NewSignerFromKey(priv)
	require.NoError(t, err)
	return s
}

func authorized(pub gossh.PublicKey, comment string) string {
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(pub))) + " " + comment
}

func (f *fixture) clientConfig(auth ...gossh.AuthMethod) *gossh.ClientConfig {
	return &gossh.ClientConfig{User: "someone", Auth: auth, HostKeyCallback: gossh.FixedHostKey(f.hostKey), Timeout: waitLimit}
}

func (f *fixture) dial(auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", f.addr, f.clientConfig(auth...))
}

// client is one ssh session as a user's terminal sees it.
type client struct {
	t     *testing.T
	conn  *gossh.Client
	sess  *gossh.Session
	stdin io.WriteCloser
	scr   *screen
	raw   *syncBuffer
	exit  chan error
}

const termW, termH = 120, 40

// connect logs in as user with a PTY and starts the shell.
func (f *fixture) connect(user string) *client {
	f.t.Helper()
	c := f.open(user, true, "")
	return c
}

// open starts a session; pty says whether to request a terminal, command
// runs instead of a shell when set.
func (f *fixture) open(user string, pty bool, command string) *client {
	t := f.t
	t.Helper()
	conn, err := f.dial(gossh.PublicKeys(f.signers[user]))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return startSession(t, conn, pty, command)
}

// startSessionFrom starts a shell with a PTY on a session the caller has
// prepared (environment variables).
func startSessionFrom(t *testing.T, sess *gossh.Session) *client {
	t.Helper()
	return startPrepared(t, sess, true, "")
}

func startSession(t *testing.T, conn *gossh.Client, pty bool, command string) *client {
	t.Helper()
	sess, err := conn.NewSession()
	require.NoError(t, err)
	return startPrepared(t, sess, pty, command)
}

func startPrepared(t *testing.T, sess *gossh.Session, pty bool, command string) *client {
	t.Helper()
	var err error
	c := &client{t: t, sess: sess, scr: newScreen(termW, termH), raw: &syncBuffer{}, exit: make(chan error, 1)}
	if pty {
		require.NoError(t, sess.RequestPty("xterm-256color", termH, termW, gossh.TerminalModes{}))
	}
	c.stdin, err = sess.StdinPipe()
	require.NoError(t, err)
	out, err := sess.StdoutPipe()
	require.NoError(t, err)
	sess.Stderr = c.raw
	if command != "" {
		require.NoError(t, sess.Start(command))
	} else {
		require.NoError(t, sess.Shell())
	}
	go func() {
		_, _ = io.Copy(io.MultiWriter(c.scr, c.raw), out)
		c.exit <- sess.Wait()
	}()
	return c
}

// waitFor waits until the screen shows every text.
func (c *client) waitFor(texts ...string) string {
	c.t.Helper()
	return c.waitUntil(fmt.Sprintf("the screen to show %q", texts), func(s string) bool {
		for _, x := range texts {
			if !strings.Contains(s, x) {
				return false
			}
		}
		return true
	})
}

func (c *client) waitUntil(what string, ok func(screen string) bool) string {
	c.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		s := c.scr.Text()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("waited %s for %s; the screen is:\n%s", waitLimit, what, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// press sends keys as a terminal would (plain characters).
func (c *client) press(keys string) {
	c.t.Helper()
	_, err := c.stdin.Write([]byte(keys))
	require.NoError(c.t, err)
}

// ended waits for the session to end and returns its exit status and
// everything the client received, without escape sequences.
func (c *client) ended() (int, string) {
	c.t.Helper()
	select {
	case err := <-c.exit:
		text := ansi.Strip(c.raw.String())
		var ee *gossh.ExitError
		switch {
		case err == nil:
			return 0, text
		case errors.As(err, &ee):
			return ee.ExitStatus(), text
		default:
			c.t.Fatalf("session ended without an exit status: %v", err)
		}
	case <-time.After(waitLimit):
		c.t.Fatalf("the session did not end; the screen is:\n%s", c.scr.Text())
	}
	return 0, ""
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// probeBox is the tests' dashboard. It shows customer cid as the session's
// user may see them and the current email/newsletter decision, reloading
// on store changes; "o" records an opt-out as the session's user (the
// store decides whether that is allowed), "p" panics, and every other key
// is counted so that a test can see keys arrive.
type probeBox struct {
	c       *common.Context
	cid     model.CustomerID
	purpose model.PurposeID
	line    string
	keys    int
	seq     uint64
	w, h    int
}

type probeLoadedMsg struct {
	seq  uint64
	line string
}

func (b *probeBox) Title() string         { return "Probe" }
func (b *probeBox) Short() string         { return "Prb" }
func (b *probeBox) Init() tea.Cmd         { return b.load() }
func (b *probeBox) SetSize(w, h int)      { b.w, b.h = w, h }
func (b *probeBox) SetTheme(*theme.Theme) {}
func (b *probeBox) Capturing() bool       { return false }

func (b *probeBox) load() tea.Cmd {
	b.seq++
	seq, c, cid, purpose := b.seq, b.c, b.cid, b.purpose
	return func() tea.Msg {
		var line string
		err := c.Store.View(c.Actor, func(r *store.Reader) error {
			cu, err := r.Customer(cid)
			if err != nil {
				return err
			}
			state := "none"
			if cs, err := r.ConsentState(cid); err != nil {
				return err
			} else if cs != nil {
				if sc, ok := cs.Scope(model.KindEmail, purpose); ok {
					state = string(sc.Reason)
				}
			}
			line = fmt.Sprintf("customer %s %s <%s> email/newsletter=%s", cu.FirstName, cu.LastName, cu.Email, state)
			return nil
		})
		if err != nil {
			line = "load failed: " + err.Error()
		}
		return probeLoadedMsg{seq: seq, line: line}
	}
}

func (b *probeBox) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case probeLoadedMsg:
		if msg.seq == b.seq {
			b.line = msg.line
		}
	case tea.KeyPressMsg:
		switch msg.String() {
		case "o":
			c, cid, purpose := b.c, b.cid, b.purpose
			return func() tea.Msg {
				err := c.Store.Update(c.Actor, func(tx *store.Tx) error {
					ev := model.ConsentEvent{CustomerID: cid, Channel: model.KindEmail, PurposeID: purpose, Kind: model.ConsentOptOut, EffectiveAt: c.Now(), Source: "operator"}
					return tx.AppendConsent(&ev, nil)
				})
				if err != nil {
					return common.ToastMsg{What: "record consent", Err: err}
				}
				return common.ToastMsg{Text: "opt-out recorded"}
			}
		case "p":
			panic("probe: panic on request")
		default:
			b.keys++
		}
	}
	return nil
}

func (b *probeBox) View() string {
	return fmt.Sprintf("%s\nkeys %d", b.line, b.keys)
}

func (b *probeBox) StoreChanged(changes []store.Change) tea.Cmd {
	for _, ch := range changes {
		if ch.Kind == store.ChangeBulk || (ch.Kind == store.ChangeConsent || ch.Kind == store.ChangeCustomer) && ch.ID == uint64(b.cid) {
			return b.load()
		}
	}
	return nil
}

func (b *probeBox) PaletteItems() []palette.Item               { return nil }
func (b *probeBox) PaletteChosen(palette.Item) (tea.Cmd, bool) { return nil, false }
func (b *probeBox) ShortHelp() []key.Binding                   { return nil }
func (b *probeBox) FullHelp() [][]key.Binding                  { return nil }
func (s *stubBox) Title() string                               { return s.title }
func (s *stubBox) Short() string                               { return s.title[:3] }
func (s *stubBox) Init() tea.Cmd                               { return nil }
func (s *stubBox) Update(tea.Msg) tea.Cmd                      { return nil }
func (s *stubBox) View() string                                { return s.title + " stand-in" }
func (s *stubBox) SetSize(int, int)                            {}
func (s *stubBox) SetTheme(*theme.Theme)                       {}
func (s *stubBox) Capturing() bool                             { return false }
func (s *stubBox) StoreChanged([]store.Change) tea.Cmd         { return nil }
func (s *stubBox) PaletteItems() []palette.Item                { return nil }
func (s *stubBox) PaletteChosen(palette.Item) (tea.Cmd, bool)  { return nil, false }
func (s *stubBox) ShortHelp() []key.Binding                    { return nil }
func (s *stubBox) FullHelp() [][]key.Binding                   { return nil }

// stubBox stands in for a dashboard the tests do not use.
type stubBox struct{ title string }
