// Package serve is Karton's SSH server (`karton serve`): marketing operators
// connect with their ordinary ssh client to one process that owns the store,
// and every session gets its own cockpit (a tui.App) acting as the user its
// public key belongs to, so the store enforces that user's role on every
// operation.
//
// Authentication is by public key only; password and keyboard-interactive
// authentication are not offered. Keys are looked up in the store's users
// (`karton user add NAME --role ROLE --key …`); an unknown key is refused
// before a session exists. The server watches the store's change feed and
// ends the sessions of a user who is removed, loses the key they logged in
// with, or changes role (the session's permissions were fixed at login).
//
// A session is handled by a chain of wish middlewares, outermost first:
//
//	recoverPanics  a panic anywhere below is logged and ends only this session
//	logSession     connect and disconnect lines with duration
//	needTerminal   no PTY, a subsystem, a command without Exec: one line, exit 1
//	identify       the user of the key, re-read at session start
//	cockpit        session limit, then a command through Options.Exec, or
//	               the login audit and the App in a tea.Program
//
// Shutdown (the context given to Serve ends) stops accepting connections,
// tells every session why it ends, stops the services, lets running
// transactions finish and closes the store, all within Options.ShutdownTimeout.
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/wish/v2"
	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"

	"karton/model"
	"karton/store"
	"karton/tui/common"
)

// Defaults for Options.
const (
	DefaultAddr            = "127.0.0.1:2222"
	DefaultMaxSessions     = 64
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultShutdownTimeout = 5 * time.Second
)

// Options configure a Server.
type Options struct {
	// HostKeyPath is the server's private host key; an ed25519 key is
	// generated there (mode 0600) when the file does not exist. Required.
	HostKeyPath string
	// MaxSessions caps concurrent sessions; the next one is refused with a
	// message. 0 means DefaultMaxSessions.
	MaxSessions int
	// IdleTimeout ends a session that has had no input for this long.
	// 0 means DefaultIdleTimeout; negative means never.
	IdleTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown; 0 means
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// Demo masks personal data for every session, whatever the role (for
	// screen sharing): it sets model.Actor.MaskPersonalData.
	Demo bool
	// Logger receives structured logs (logins, refusals, errors); nil means
	// slog.Default().
	Logger *slog.Logger
	// Services run beside the sessions for the server's lifetime (the
	// dispatcher: Services: []func(ctx context.Context) error{d.Run}). Their
	// context ends at shutdown, before the store is closed; an error they
	// return is logged.
	Services []func(ctx context.Context) error

	// Exec, when set, runs commands sent with ssh (`ssh -p 2222 HOST user
	// list`) as the session's user and returns the exit status; the store
	// checks the user's role as always. It is how users are managed, and
	// personal data exported or consent files imported, while the server
	// holds the store's lock. stdin is what the client sends (`ssh … consent
	// import - < FILE`); ctx ends when the client goes away. Without Exec
	// commands are refused.
	Exec func(ctx context.Context, actor model.Actor, args []string, stdin io.Reader, stdout, stderr io.Writer) int

	// Now is the cockpit's clock; nil means time.Now.
	Now func() time.Time
	// Boxes builds each session's boxes; nil means the cockpit's own
	// (tui.DefaultBoxes). Tests pass their own.
	Boxes func(*common.Context) []common.Box
	// NoColor forces the colourless theme in every session (tests); users
	// ask for it with NO_COLOR in their environment (ssh -o SendEnv=NO_COLOR).
	NoColor bool
}

// Server serves the cockpit over SSH. Build it with New, run it with Serve.
type Server struct {
	st      *store.Store
	opts    Options
	log     *slog.Logger
	ssh     *ssh.Server
	hostKey HostKey
	label   string // the store's name as sessions see it

	mu       sync.Mutex
	sessions map[uint64]*session
	nextID   uint64
	draining bool

	handlers sync.WaitGroup // session handlers running the cockpit

	bgMu     sync.Mutex
	bg       sync.WaitGroup // audit writes started by sessions
	bgClosed bool

	served atomic.Bool
}

// New prepares a server for the store: it loads or creates the host key and
// sets up authentication. The Server owns the store from here on: Serve
// closes it when it returns.
func New(st *store.Store, opts Options) (*Server, error) {
	if st == nil {
		return nil, errors.New("serve: no store")
	}
	if opts.HostKeyPath == "" {
		return nil, errors.New("serve: no host key path")
	}
	if opts.MaxSessions < 0 {
		return nil, fmt.Errorf("serve: max sessions must be at least 1, not %d", opts.MaxSessions)
	}
	if opts.MaxSessions == 0 {
		opts.MaxSessions = DefaultMaxSessions
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	pemBytes, hk, err := loadOrCreateHostKey(opts.HostKeyPath)
	if err != nil {
		return nil, err
	}
	s := &Server{
		st:       st,
		opts:     opts,
		log:      opts.Logger,
		hostKey:  hk,
		label:    filepath.Base(st.Path()),
		sessions: make(map[uint64]*session),
	}
	sshOpts := []ssh.Option{
		wish.WithHostKeyPEM(pemBytes),
		wish.WithVersion("Karton"),
		wish.WithPublicKeyAuth(s.knownKey),
		// Middlewares compose first to last, so the last listed runs first.
		wish.WithMiddleware(s.cockpit, s.identify, s.needTerminal, s.logSession, s.recoverPanics),
		func(srv *ssh.Server) error {
			srv.ConnectionFailedCallback = s.connectionFailed
			return nil
		},
	}
	if opts.IdleTimeout > 0 {
		// A backstop for connections that never open a session; sessions
		// have their own input-based timer (see watchIdle), which fires
		// first because output also counts as activity for this one.
		sshOpts = append(sshOpts, wish.WithIdleTimeout(opts.IdleTimeout+time.Minute))
	}
	srv, err := wish.NewServer(sshOpts...)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	// wish leaves these nil, which is what "off" means; say it explicitly
	// so that a later default cannot turn them on.
	srv.PasswordHandler = nil
	srv.KeyboardInteractiveHandler = nil
	s.ssh = srv
	return s, nil
}

// HostKey describes the server's host key (path, fingerprint, whether it
// was generated now).
func (s *Server) HostKey() HostKey { return s.hostKey }

// Serve accepts connections on ln until ctx ends, then shuts down
// gracefully (see the package comment) and closes the store. It returns nil
// after a clean shutdown. A Server serves once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if !s.served.CompareAndSwap(false, true) {
		ln.Close()
		return errors.New("serve: the server has already served; build a new one")
	}
	svcCtx, stopServices := context.WithCancel(context.Background())
	defer stopServices()
	var services sync.WaitGroup
	for i, svc := range s.opts.Services {
		services.Go(func() { s.runService(svcCtx, i, svc) })
	}
	services.Go(func() { s.watchUsers(svcCtx) })
	// Scans (segment counts, coverage, preflights) leave store pages mapped;
	// return them to the page cache now and then.
	services.Go(func() { s.st.TrimEvery(svcCtx, 15*time.Second) })

	s.log.Info("serving", "addr", ln.Addr().String(), "store", s.st.Path(), "max_sessions", s.opts.MaxSessions,
		"idle_timeout", s.opts.IdleTimeout.String(), "demo", s.opts.Demo, "host_key", s.hostKey.Fingerprint)
	served := make(chan error, 1)
	go func() { served <- s.ssh.Serve(ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case err := <-served:
		if !errors.Is(err, ssh.ErrServerClosed) {
			serveErr = fmt.Errorf("serve %s: %w", ln.Addr(), err)
			s.log.Error("listener failed", "err", err)
		}
	}
	return errors.Join(serveErr, s.shutdown(stopServices, &services))
}

func (s *Server) runService(ctx context.Context, i int, svc func(context.Context) error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("service panicked", "service", i, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	if err := svc(ctx); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Error("service stopped", "service", i, "err", err)
	}
}

// shutdown runs the phases of a graceful stop, each with a share of the
// time budget, so that a hung session cannot eat the time the store needs.
func (s *Server) shutdown(stopServices func(), services *sync.WaitGroup) error {
	start := time.Now()
	budget := s.opts.ShutdownTimeout
	at := func(share float64) time.Time { return start.Add(time.Duration(float64(budget) * share)) }

	s.mu.Lock()
	s.draining = true
	open := s.sessionList()
	s.mu.Unlock()
	s.log.Info("shutting down", "sessions", len(open))

	// Stop accepting: the SSH server's Shutdown closes its listener at
	// once, then waits for connections, which the steps below end.
	sshCtx, cancelSSH := context.WithDeadline(context.Background(), at(0.8))
	defer cancelSSH()
	sshDone := make(chan error, 1)
	go func() { sshDone <- s.ssh.Shutdown(sshCtx) }()

	stopServices()
	for _, se := range open {
		se.end(endShutdown)
	}
	var errs []error
	if !waitUntil(&s.handlers, at(0.6)) {
		// A program stuck in an update does not read its quit message.
		for _, se := range s.sessionSnapshot() {
			se.kill()
		}
		if !waitUntil(&s.handlers, at(0.7)) {
			errs = append(errs, errors.New("some sessions did not end in time and were cut off"))
		}
	}
	// Clients close their connection once their session has ended; give
	// them a moment (so ssh does not report "closed by remote host"), then
	// close what is left: connections without a session, stuck clients.
	select {
	case <-sshDone:
	case <-time.After(min(budget/10, time.Until(at(0.75)))):
		s.ssh.Close()
		<-sshDone
	}
	if !waitUntil(services, at(0.8)) {
		errs = append(errs, errors.New("a service did not stop in time"))
	}
	s.bgMu.Lock()
	s.bgClosed = true
	s.bgMu.Unlock()
	waitUntil(&s.bg, at(0.85))

	// Closing the store waits for transactions still running (a session's
	// last command, the dispatcher's last batch) to commit or roll back.
	closed := make(chan error, 1)
	go func() { closed <- s.st.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	case <-time.After(time.Until(at(1))):
		errs = append(errs, fmt.Errorf("the store did not close within %s: a transaction is still running; it will be rolled back, committed data is safe", budget))
	}
	err := errors.Join(errs...)
	if err != nil {
		s.log.Error("shutdown incomplete", "err", err, "took", time.Since(start).String())
	} else {
		s.log.Info("shut down", "took", time.Since(start).String())
	}
	return err
}

// waitUntil waits for wg until the deadline and reports whether it finished.
func waitUntil(wg *sync.WaitGroup, deadline time.Time) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(time.Until(deadline)):
		return false
	}
}

// knownKey is the public key callback: a key is accepted when a stored user
// holds it. The user is looked up again when the session starts (identify),
// from the key the connection actually authenticated with.
func (s *Server) knownKey(ctx ssh.Context, key ssh.PublicKey) bool {
	_, err := s.userByKey(key)
	if err == nil {
		return true
	}
	fp := gossh.FingerprintSHA256(key)
	if errors.Is(err, store.ErrNotFound) {
		s.log.Warn("key refused: no user has it", "remote", ctx.RemoteAddr().String(), "ssh_user", ctx.User(), "key", fp)
	} else {
		s.log.Error("key lookup failed", "remote", ctx.RemoteAddr().String(), "key", fp, "err", err)
	}
	return false
}

func (s *Server) userByKey(key gossh.PublicKey) (model.User, error) {
	var u model.User
	err := s.st.View(store.SystemActor, func(r *store.Reader) (err error) {
		u, err = r.UserByKey(func(stored string) bool { return storedIs(stored, key) })
		return err
	})
	return u, err
}

func (s *Server) connectionFailed(conn net.Conn, err error) {
	s.log.Warn("connection refused", "remote", conn.RemoteAddr().String(), "reason", err.Error())
}

// watchUsers ends the sessions of users who were removed, lost their key
// or changed role while connected.
func (s *Server) watchUsers(ctx context.Context) {
	feed, unsubscribe := s.st.Subscribe()
	defer unsubscribe()
	for {
		select {
		case <-ctx.Done():
			return
		case batch, ok := <-feed:
			if !ok {
				return
			}
			for _, c := range batch {
				if c.Kind == store.ChangeUser || c.Kind == store.ChangeBulk {
					s.recheckSessions()
					break
				}
			}
		}
	}
}

func (s *Server) recheckSessions() {
	open := s.sessionSnapshot()
	if len(open) == 0 {
		return
	}
	users := map[string]model.User{}
	err := s.st.View(store.SystemActor, func(r *store.Reader) error {
		all, err := r.Users()
		for _, u := range all {
			users[u.Name] = u
		}
		return err
	})
	if err != nil {
		s.log.Error("re-reading users failed", "err", err)
		return
	}
	for _, se := range open {
		u, ok := users[se.actor.Name]
		switch {
		case !ok:
			se.end(endRemoved)
		case !holdsKey(u, se.key):
			se.end(endKeyRevoked(u.Name))
		case u.Role != se.actor.Role:
			se.end(endRoleChanged(se.actor.Role, u.Role))
		}
	}
}

func holdsKey(u model.User, key gossh.PublicKey) bool {
	for _, k := range u.PublicKeys {
		if storedIs(k, key) {
			return true
		}
	}
	return false
}

// Online is the number of distinct users with an open session, shown in
// every session's status bar.
func (s *Server) Online() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := make(map[string]struct{}, len(s.sessions))
	for _, se := range s.sessions {
		seen[se.actor.Name] = struct{}{}
	}
	return len(seen)
}

// Broadcast sends msg to the cockpit of every open session, in the order
// Broadcast is called, without waiting for them. Services use it to show
// what they do (the dispatcher's task in the status bar: the messages of
// tui/common). A session that opens later does not get earlier messages.
func (s *Server) Broadcast(msg tea.Msg) {
	for _, se := range s.sessionSnapshot() {
		se.post(msg)
	}
}

// Sessions is the number of open sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

func (s *Server) sessionSnapshot() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessionList()
}

func (s *Server) sessionList() []*session {
	out := make([]*session, 0, len(s.sessions))
	for _, se := range s.sessions {
		out = append(out, se)
	}
	return out
}

// audit appends an entry to the store's audit chain as the given actor.
func (s *Server) audit(actor model.Actor, action, subject string, fields map[string]any) error {
	payload, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return s.st.Update(actor, func(tx *store.Tx) error { return tx.Audit(action, subject, payload) })
}

// auditLater writes an audit entry off the caller's goroutine (a session's
// update loop must not wait for a disk sync); shutdown waits for it.
func (s *Server) auditLater(actor model.Actor, action, subject string, fields map[string]any) {
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	if s.bgClosed {
		s.log.Warn("audit entry dropped: the server is shutting down", "action", action, "user", actor.Name)
		return
	}
	s.bg.Go(func() {
		if err := s.audit(actor, action, subject, fields); err != nil {
			s.log.Error("audit write failed", "action", action, "user", actor.Name, "err", err)
		}
	})
}
