package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"

	"karton/model"
	"karton/tui"
	"karton/tui/common"
)

// endReason says why the server ended a session: the line the user reads
// after the cockpit closes, the exit status their ssh returns, and the word
// the log records.
type endReason struct {
	code    int
	message string
	log     string
}

var (
	endShutdown = endReason{1, "the Karton server is shutting down; your session has ended (everything you saved is kept).", "shutdown"}
	endRemoved  = endReason{1, "your Karton user was removed; the session has ended.", "user removed"}
	endClosed   = endReason{0, "", "client closed"}
	endPanic    = endReason{1, "an internal error ended this session; it has been logged. Reconnect to continue.", "panic"}
)

func endKeyRevoked(user string) endReason {
	return endReason{1, fmt.Sprintf("the key you logged in with was removed from user %s; the session has ended.", user), "key revoked"}
}

func endRoleChanged(from, to model.Role) endReason {
	return endReason{1, fmt.Sprintf("your role changed from %s to %s; reconnect to work with the new role.", from, to), "role changed"}
}

func endIdle(d time.Duration) endReason {
	return endReason{1, fmt.Sprintf("the session was closed after %s without input.", shortDuration(d)), "idle"}
}

// shortDuration drops the zero units a Duration prints: 30m, not 30m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// session is one open cockpit.
type session struct {
	id      uint64
	actor   model.Actor
	key     gossh.PublicKey
	keyFP   string
	remote  string
	started time.Time
	// lastInput is when the client last sent anything (unix nanoseconds).
	lastInput atomic.Int64

	mu      sync.Mutex
	program *tea.Program
	reason  *endReason
	// notes are messages from the server's services waiting to be sent
	// to the program, in order; pumping says a goroutine is sending them.
	notes   []tea.Msg
	pumping bool
}

// maxNotes caps the messages waiting for a session that does not read
// them (a program stuck in an update); later ones are dropped.
const maxNotes = 256

// post hands msg to the session's program in the order posted, without
// waiting for it: a busy session must not hold up the service that tells
// it something (the dispatcher).
func (se *session) post(msg tea.Msg) {
	se.mu.Lock()
	p := se.program
	if p == nil || se.reason != nil || len(se.notes) >= maxNotes {
		se.mu.Unlock()
		return
	}
	se.notes = append(se.notes, msg)
	if se.pumping {
		se.mu.Unlock()
		return
	}
	se.pumping = true
	se.mu.Unlock()
	go func() {
		for {
			se.mu.Lock()
			if len(se.notes) == 0 {
				se.pumping = false
				se.mu.Unlock()
				return
			}
			m := se.notes[0]
			se.notes = se.notes[1:]
			se.mu.Unlock()
			p.Send(m) // returns at once when the program has ended
		}
	}()
}

// end asks the session's program to quit, recording why; the first reason
// given wins.
func (se *session) end(r endReason) {
	se.mu.Lock()
	if se.reason == nil {
		se.reason = &r
	}
	p := se.program
	se.mu.Unlock()
	if p != nil {
		// Quit sends a message; the program may be busy, and the caller
		// (the user watcher, shutdown) must not wait for it.
		go p.Quit()
	}
}

// kill stops the program without waiting for it to read messages.
func (se *session) kill() {
	se.mu.Lock()
	p := se.program
	se.mu.Unlock()
	if p != nil {
		p.Kill()
	}
}

func (se *session) attach(p *tea.Program) {
	se.mu.Lock()
	se.program = p
	ended := se.reason != nil
	se.mu.Unlock()
	if ended {
		go p.Quit()
	}
}

func (se *session) endReason() *endReason {
	se.mu.Lock()
	defer se.mu.Unlock()
	return se.reason
}

func (se *session) logAttrs() []any {
	return []any{"session", se.id, "user", se.actor.Name, "role", string(se.actor.Role), "remote", se.remote}
}

type ctxKey int

const userKey ctxKey = iota

// recoverPanics is the outermost middleware: a panic while handling one
// session is logged with its stack and ends only that session.
func (s *Server) recoverPanics(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("session panicked", "remote", sess.RemoteAddr().String(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				say(sess, endPanic.message)
				_ = sess.Exit(endPanic.code)
			}
		}()
		next(sess)
	}
}

// logSession logs each session's start and end.
func (s *Server) logSession(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		start := time.Now()
		pty, _, hasPty := sess.Pty()
		s.log.Info("ssh session opened", "remote", sess.RemoteAddr().String(), "ssh_user", sess.User(),
			"client", sess.Context().ClientVersion(), "pty", hasPty, "term", pty.Term,
			"width", pty.Window.Width, "height", pty.Window.Height)
		next(sess)
		s.log.Info("ssh session closed", "remote", sess.RemoteAddr().String(), "duration", time.Since(start).Round(time.Millisecond).String())
	}
}

// needTerminal refuses what the server does not offer: subsystems (scp,
// sftp), commands unless Options.Exec runs them, and a shell without a
// PTY, which the cockpit needs.
func (s *Server) needTerminal(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		_, _, hasPty := sess.Pty()
		var refusal string
		switch {
		case sess.Subsystem() != "":
			refusal = fmt.Sprintf("the Karton server offers no %s; connect with plain ssh to open the cockpit.", sess.Subsystem())
		case sess.RawCommand() != "" && s.opts.Exec == nil:
			refusal = "the Karton server runs no commands; connect without one (ssh -p PORT HOST) to open the cockpit."
		case sess.RawCommand() == "" && !hasPty:
			refusal = "the Karton cockpit needs a terminal; connect from an interactive terminal, or force one with ssh -t."
		}
		if refusal != "" {
			s.log.Info("session refused", "remote", sess.RemoteAddr().String(), "reason", refusal)
			say(sess, refusal)
			_ = sess.Exit(1)
			return
		}
		next(sess)
	}
}

// identify resolves the user from the key the connection authenticated
// with. The key was checked during authentication, but the user may have
// been removed since, and the value the public key callback saw is not
// proof of which key finally authenticated.
func (s *Server) identify(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		key := sess.PublicKey()
		if key == nil {
			// Cannot happen with public-key-only authentication; refuse
			// rather than guess.
			s.log.Error("session without a public key refused", "remote", sess.RemoteAddr().String())
			say(sess, "this server accepts public keys only.")
			_ = sess.Exit(1)
			return
		}
		u, err := s.userByKey(key)
		if err != nil {
			s.log.Warn("session refused: key no longer known", "remote", sess.RemoteAddr().String(), "key", gossh.FingerprintSHA256(key), "err", err)
			say(sess, "your key is not known to this Karton server (any more); ask an admin to add it.")
			_ = sess.Exit(1)
			return
		}
		sess.Context().SetValue(userKey, u)
		next(sess)
	}
}

// cockpit runs one App for the session, within the session limit.
func (s *Server) cockpit(_ ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		u, _ := sess.Context().Value(userKey).(model.User)
		actor := model.Actor{Name: u.Name, Role: u.Role, Via: "ssh", MaskPersonalData: s.opts.Demo}
		se := &session{
			actor:   actor,
			key:     sess.PublicKey(),
			keyFP:   gossh.FingerprintSHA256(sess.PublicKey()),
			remote:  sess.RemoteAddr().String(),
			started: time.Now(),
		}
		if refusal := s.register(se); refusal != "" {
			s.log.Warn("session refused", append(se.logAttrs(), "reason", refusal)...)
			s.auditLater(actor, "session.refused", "user:"+actor.Name, map[string]any{"reason": refusal, "remote": se.remote, "key": se.keyFP})
			say(sess, refusal)
			_ = sess.Exit(1)
			return
		}
		defer s.unregister(se)
		if sess.RawCommand() != "" {
			s.exec(sess, se)
			return
		}
		s.run(sess, se)
	}
}

// exec runs a command sent with ssh through Options.Exec, as the session's
// user; the store's permission checks and audit apply as in the cockpit.
func (s *Server) exec(sess ssh.Session, se *session) {
	// Not sess.Command(): it runs what it could read of a line with an open
	// quote.
	args, err := splitCommand(sess.RawCommand())
	if err != nil {
		s.log.Info("command refused", append(se.logAttrs(), "key", se.keyFP, "reason", err.Error())...)
		fmt.Fprintf(sess.Stderr(), "karton: cannot read the command line: %v; nothing was run\n", err)
		_ = sess.Exit(2)
		return
	}
	name, rest := commandName(args)
	s.log.Info("command", append(se.logAttrs(), "key", se.keyFP, "command", name, "arguments", rest)...)
	ctx, cancel := context.WithCancel(sess.Context())
	defer cancel()
	var stdout, stderr io.Writer = sess, sess.Stderr()
	code := s.opts.Exec(ctx, se.actor, args, sess, stdout, stderr)
	s.log.Info("command done", append(se.logAttrs(), "exit", code, "duration", time.Since(se.started).Round(time.Millisecond).String())...)
	_ = sess.Exit(code)
}

// commandName is what the log keeps of a command line: its first two
// words (a command's path, "customer export-data") and how many words
// follow, never those words. They may name a person ("customer erase
// anna@example.com") or hold evidence, and the log is not erased with the
// person; the audit chain records the acts themselves.
func commandName(args []string) (string, int) {
	if len(args) > 0 && args[0] == "karton" {
		args = args[1:]
	}
	n := min(2, len(args))
	if n == 2 && strings.HasPrefix(args[1], "-") {
		n = 1 // "audit --json": a flag, not a word of the path
	}
	return strings.Join(args[:n], " "), len(args) - n
}

// register takes a session slot, or says why there is none.
func (s *Server) register(se *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return "the Karton server is shutting down; try again when it is back."
	}
	if len(s.sessions) >= s.opts.MaxSessions {
		return fmt.Sprintf("the Karton server is full: all %d sessions are in use. Try again in a few minutes, or ask an admin to raise --max-sessions.", s.opts.MaxSessions)
	}
	s.nextID++
	se.id = s.nextID
	s.sessions[se.id] = se
	s.handlers.Add(1)
	return ""
}

func (s *Server) unregister(se *session) {
	s.mu.Lock()
	delete(s.sessions, se.id)
	rest := s.sessionList()
	s.mu.Unlock()
	s.handlers.Done()
	s.announcePresence(rest)
}

// announcePresence makes every listed session re-read the online count.
func (s *Server) announcePresence(list []*session) {
	for _, o := range list {
		o.mu.Lock()
		p := o.program
		o.mu.Unlock()
		if p != nil {
			go p.Send(tui.PresenceChangedMsg{})
		}
	}
}

// run audits the login, then runs the cockpit until the user quits, the
// client goes away or the server ends the session.
func (s *Server) run(sess ssh.Session, se *session) {
	ptyReq, winch, _ := sess.Pty()
	// The login is in the audit chain before the user sees any data.
	if err := s.audit(se.actor, "session.login", "user:"+se.actor.Name, map[string]any{
		"via": "ssh", "remote": se.remote, "key": se.keyFP, "session": se.id, "client": sess.Context().ClientVersion(), "demo": s.opts.Demo,
	}); err != nil {
		s.log.Error("audit of login failed", append(se.logAttrs(), "err", err)...)
	}
	s.log.Info("login", append(se.logAttrs(), "key", se.keyFP, "demo", s.opts.Demo)...)

	ctx, cancel := context.WithCancel(sess.Context())
	defer cancel()
	// Only the client's environment: the server's own (its NO_COLOR, its
	// paths) is none of the session's business. Non-nil, so that the App
	// does not fall back to os.Environ.
	env := append([]string{}, sess.Environ()...)
	env = append(env, "TERM="+ptyReq.Term)

	app := tui.New(s.st, se.actor, tui.Options{
		Ctx:        ctx,
		Now:        s.opts.Now,
		Environ:    env,
		NoColor:    s.opts.NoColor,
		Dark:       true,
		Boxes:      s.opts.Boxes,
		Connected:  s.Online,
		StoreLabel: s.label,
	})
	defer app.Close()

	se.lastInput.Store(time.Now().UnixNano())
	in := &inputWatch{r: sess, touch: func() { se.lastInput.Store(time.Now().UnixNano()) }, closed: func() { se.end(endClosed) }}
	sm := &sessionModel{app: app, srv: s, se: se}
	p := tea.NewProgram(sm,
		tea.WithContext(ctx),
		tea.WithInput(in),
		tea.WithOutput(sess),
		tea.WithEnvironment(env),
		// There is no local terminal to ask: the profile follows the
		// client's TERM, COLORTERM and NO_COLOR.
		tea.WithColorProfile(colorprofile.Env(env)),
		tea.WithWindowSize(ptyReq.Window.Width, ptyReq.Window.Height),
		// Signals are the server's: SIGINT must shut the server down
		// gracefully, not quit every session's program on its own.
		tea.WithoutSignalHandler(),
	)
	se.attach(p)
	s.announcePresence(s.sessionSnapshot())

	go forwardWindowSizes(ctx, p, winch)
	if s.opts.IdleTimeout > 0 {
		go s.watchIdle(ctx, se)
	}

	_, err := p.Run()
	cancel()
	reason := se.endReason()
	switch {
	case sm.panicked.Load():
		reason = &endPanic
	case errors.Is(err, tea.ErrProgramPanic):
		// A panic in a command run by a sequence, caught by Bubble Tea
		// (which printed the stack to the server's stderr).
		s.log.Error("session panicked in a command", se.logAttrs()...)
		reason = &endPanic
	case err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled):
		s.log.Error("session program failed", append(se.logAttrs(), "err", err)...)
	}
	attrs := append(se.logAttrs(), "duration", time.Since(se.started).Round(time.Millisecond).String())
	code := 0
	if reason != nil {
		attrs = append(attrs, "reason", reason.log)
		code = reason.code
		say(sess, reason.message)
	} else {
		attrs = append(attrs, "reason", "quit")
	}
	s.log.Info("logout", attrs...)
	_ = sess.Exit(code)
}

// say writes one line to the client after the cockpit has closed (or
// instead of it).
func say(sess ssh.Session, msg string) {
	if msg == "" {
		return
	}
	_, _ = io.WriteString(sess, "karton: "+msg+"\r\n")
}

func forwardWindowSizes(ctx context.Context, p *tea.Program, winch <-chan ssh.Window) {
	for {
		select {
		case <-ctx.Done():
			return
		case w, ok := <-winch:
			if !ok {
				return
			}
			p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
		}
	}
}

// watchIdle ends the session once the client has sent nothing for the idle
// timeout. Only input counts: live updates written to an unattended
// screen must not keep it open forever.
func (s *Server) watchIdle(ctx context.Context, se *session) {
	idle := s.opts.IdleTimeout
	t := time.NewTimer(idle)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			quiet := time.Since(time.Unix(0, se.lastInput.Load()))
			if quiet >= idle {
				se.end(endIdle(idle))
				return
			}
			t.Reset(idle - quiet)
		}
	}
}

// inputWatch passes the client's input to the program, noting when input
// last arrived and when the client closed its side (Bubble Tea ends its
// reader quietly on EOF and would otherwise keep the session open).
type inputWatch struct {
	r      io.Reader
	touch  func()
	closed func()
	once   sync.Once
}

func (w *inputWatch) Read(b []byte) (int, error) {
	n, err := w.r.Read(b)
	if n > 0 {
		w.touch()
	}
	if err != nil {
		w.once.Do(w.closed)
	}
	return n, err
}

// sessionModel is what the session's program runs: the App, plus what a
// server needs around it and the App must not know about. It contains a
// panic in the App or its commands to this session (logged with the user
// and the stack), and it writes refused actions to the audit chain: boxes
// report a refusal by the store as an error toast (common.Fail), which
// passes through here. Everything the user sees is the App's.
type sessionModel struct {
	app      *tui.App
	srv      *Server
	se       *session
	panicked atomic.Bool
}

// sessionPanickedMsg ends the program after a command panicked.
type sessionPanickedMsg struct{}

func (m *sessionModel) Init() (cmd tea.Cmd) {
	defer m.contain("init", &cmd)
	return m.guard(m.app.Init())
}

func (m *sessionModel) Update(msg tea.Msg) (next tea.Model, cmd tea.Cmd) {
	// next is m even when Update panics: Bubble Tea renders what it gets.
	next = m
	defer m.contain("update", &cmd)
	switch msg := msg.(type) {
	case sessionPanickedMsg:
		return m, tea.Quit
	case tea.SuspendMsg:
		// ctrl+z would suspend the server's program, not the client.
		return m, nil
	case common.ToastMsg:
		var perr *model.PermissionError
		if errors.As(msg.Err, &perr) {
			m.srv.log.Warn("action refused", append(m.se.logAttrs(), "what", msg.What, "permission", string(perr.Permission), "action", perr.Action)...)
			m.srv.auditLater(m.se.actor, "access.refused", "user:"+m.se.actor.Name, map[string]any{
				"what": msg.What, "action": perr.Action, "permission": string(perr.Permission), "session": m.se.id, "via": "ssh",
			})
		}
	}
	_, cmd = m.app.Update(msg)
	return m, m.guard(cmd)
}

func (m *sessionModel) View() (v tea.View) {
	defer func() {
		if r := recover(); r != nil {
			m.recovered("view", r)
			v = tea.NewView("")
			// View cannot return a command; quit from outside the loop.
			go m.se.end(endPanic)
		}
	}()
	return m.app.View()
}

// contain turns a panic in Init or Update into a logged end of session.
func (m *sessionModel) contain(where string, cmd *tea.Cmd) {
	if r := recover(); r != nil {
		m.recovered(where, r)
		*cmd = tea.Quit
	}
}

func (m *sessionModel) recovered(where string, r any) {
	m.panicked.Store(true)
	m.srv.log.Error("session panicked", append(m.se.logAttrs(), "in", where, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))...)
}

// guard wraps a command so that a panic in it ends this session instead
// of the server; batches are wrapped command by command. (Sequences hide
// their commands; Bubble Tea's own recovery catches those.)
func (m *sessionModel) guard(cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() (msg tea.Msg) {
		defer func() {
			if r := recover(); r != nil {
				m.recovered("command", r)
				msg = sessionPanickedMsg{}
			}
		}()
		msg = cmd()
		if batch, ok := msg.(tea.BatchMsg); ok {
			out := make(tea.BatchMsg, len(batch))
			for i, c := range batch {
				out[i] = m.guard(c)
			}
			return out
		}
		return msg
	}
}
