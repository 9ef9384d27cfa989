package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/store/links"
	"karton/store/web"
	"karton/tui/serve"
)

// maxSessionsLimit keeps --max-sessions to what one process and one bbolt
// file can serve.
const maxSessionsLimit = 10000

func serveCmd(fs *flag.FlagSet) runFunc {
	listen := fs.String("listen", serve.DefaultAddr, "SSH address to listen on; 0.0.0.0:2222 serves every interface")
	hostKey := fs.String("host-key", "", "the server's private host key, generated on first start (default: ssh_host_ed25519_key beside the store)")
	maxSessions := fs.Int("max-sessions", serve.DefaultMaxSessions, "sessions served at once; the next is refused with a message")
	idle := fs.Duration("idle-timeout", serve.DefaultIdleTimeout, "end a session after this long without input, e.g. 15m; 0 never does")
	logFile := fs.String("log", "", "append JSON logs to this file instead of writing text logs to stderr")
	demo := fs.Bool("demo", false, "mask personal data for everyone, whatever their role (for screen sharing)")
	httpAddr := &optionalAddr{def: web.DefaultAddr}
	fs.Var(httpAddr, "http", "also serve the HTTP return channel (DOI links, unsubscribes, clicks, inbound events) on ADDR: --http ADDR, or --http alone for "+web.DefaultAddr)
	noSSH := fs.Bool("no-ssh", false, "serve only the HTTP return channel and the dispatcher, no SSH (needs --http)")
	base := fs.String("base", "", "public address the links in messages point to, e.g. https://k.example.com; remembered in the store (default: the remembered one, else http://HTTP-ADDR)")
	org := fs.String("organisation", "", "sender name shown on the return channel's pages and in confirmation emails")
	trustProxy := fs.Bool("trust-proxy", false, "take the client address from X-Forwarded-For (only behind a proxy that sets it)")
	return func(e *env, args []string) error {
		f := serveFlags{listen: *listen, hostKey: *hostKey, maxSessions: *maxSessions, idle: *idle, logFile: *logFile, demo: *demo,
			noSSH: *noSSH, base: *base, organisation: *org, trustProxy: *trustProxy}
		// --http takes its address as the next word too ("--http
		// 127.0.0.1:8080"), which the flag package hands over as an
		// argument because --http may also stand alone.
		if httpAddr.bare && len(args) > 0 {
			if _, _, err := net.SplitHostPort(args[0]); err == nil {
				httpAddr.addr, args = args[0], args[1:]
			}
		}
		f.http = httpAddr.addr
		if f.noSSH {
			var sshOnly []string
			fs.Visit(func(fl *flag.Flag) {
				switch fl.Name {
				case "listen", "host-key", "max-sessions", "idle-timeout", "demo":
					sshOnly = append(sshOnly, "--"+fl.Name)
				}
			})
			if len(sshOnly) > 0 {
				return usagef("%s configure SSH, which --no-ssh turns off", strings.Join(sshOnly, ", "))
			}
		}
		return runServe(e, args, f)
	}
}

// optionalAddr is a flag that may stand alone (--http: the default
// address) or take an address (--http=ADDR, --http ADDR).
type optionalAddr struct {
	def  string
	addr string // "" when not given
	bare bool   // given without an address (so far)
}

func (o *optionalAddr) String() string { return o.addr }

// IsBoolFlag lets the flag stand alone.
func (o *optionalAddr) IsBoolFlag() bool { return true }

func (o *optionalAddr) Set(v string) error {
	switch v {
	case "true":
		o.addr, o.bare = o.def, true
	case "false":
		o.addr, o.bare = "", false
	default:
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("%q: give HOST:PORT, e.g. %s", v, o.def)
		}
		o.addr, o.bare = v, false
	}
	return nil
}

type serveFlags struct {
	listen      string
	hostKey     string
	maxSessions int
	idle        time.Duration
	logFile     string
	demo        bool

	http         string // the return channel's address; "" for none
	noSSH        bool
	base         string
	organisation string
	trustProxy   bool
}

// serveShutdownBudget is how long a stop may take, for everything.
const serveShutdownBudget = serve.DefaultShutdownTimeout

func runServe(e *env, args []string, f serveFlags) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	if f.maxSessions < 1 || f.maxSessions > maxSessionsLimit {
		return usagef("--max-sessions must be between 1 and %d, not %d", maxSessionsLimit, f.maxSessions)
	}
	if f.idle < 0 {
		return usagef("--idle-timeout must be 0 (never) or positive, not %s", f.idle)
	}
	if _, _, err := net.SplitHostPort(f.listen); err != nil {
		return usagef("--listen %q: %v; give HOST:PORT, e.g. 127.0.0.1:2222", f.listen, err)
	}
	if f.noSSH && f.http == "" {
		return usagef("--no-ssh leaves nothing to serve without --http; give --http [ADDR]")
	}
	if f.base != "" {
		if _, err := links.NormalizeBase(f.base); err != nil {
			return usagef("--base: %v", err)
		}
	}
	logger, closeLog, err := serveLogger(e.stderr, f.logFile)
	if err != nil {
		return err
	}
	defer closeLog()

	st, err := e.open()
	if err != nil {
		return err
	}
	if f.base != "" {
		if err := st.Update(e.actor, func(tx *store.Tx) error { return tx.SetLinkBase(f.base) }); err != nil {
			return fmt.Errorf("--base: %w", err)
		}
	}

	// The return channel: its listener is bound now, so that a busy port
	// is an error before anything runs.
	var rc *returnChannel
	if f.http != "" {
		if rc, err = newReturnChannel(st, f, logger); err != nil {
			return err
		}
	}
	linkBase := ""
	if rc != nil {
		linkBase = rc.srv.Base()
	}
	var sessions *serve.Server // set before the services start
	worker := dispatchWorker{st: st, via: "serve", linkBase: linkBase,
		notify: func(m tea.Msg) {
			if sessions != nil {
				sessions.Broadcast(m)
			}
		},
		onBatch: func(r store.DispatchReport) {
			logger.Info("dispatched", "claimed", r.Claimed, "sent", r.Sent, "suppressed_at_dispatch", r.Suppressed, "retrying", r.Retrying,
				"dead", r.Dead, "cancelled", r.Cancelled, "deferred", r.Deferred, "released", r.Released, "cost", int64(r.Cost), "errors", strings.Join(r.Errors, "; "))
		},
		onError: func(err error) { logger.Error("dispatch failed", "err", err) },
	}
	refresh := func(ctx context.Context) error {
		st.RefreshConsentStateEvery(ctx, consentRefreshInterval, func(customers, changed int, err error) {
			if err != nil {
				logger.Error("consent refresh failed", "err", err)
				return
			}
			logger.Info("consent refreshed", "customers", customers, "changed", changed)
		})
		return nil
	}
	services := []func(context.Context) error{worker.run, refresh}
	if rc != nil {
		services = append(services, rc.serve)
	}

	// Signals first, so that a ctrl+c from here on shuts down gracefully.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.noSSH {
		printReturnChannel(e, st, rc)
		err := runServices(ctx, st, logger, services)
		e.st = nil // runServices closed the store
		if err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
		fmt.Fprintln(e.stdout, "Karton server stopped; the store is closed.")
		return nil
	}

	hostKey := f.hostKey
	if hostKey == "" {
		hostKey = filepath.Join(filepath.Dir(e.path()), "ssh_host_ed25519_key")
	}
	idle := f.idle
	if idle == 0 {
		idle = -1 // serve.Options: negative is never, 0 the default
	}
	srv, err := serve.New(st, serve.Options{
		HostKeyPath:     hostKey,
		MaxSessions:     f.maxSessions,
		IdleTimeout:     idle,
		ShutdownTimeout: serveShutdownBudget,
		Demo:            f.demo,
		Logger:          logger,
		Exec:            remoteCommand(st),
		Services:        services,
	})
	if err != nil {
		rc.close()
		return err
	}
	sessions = srv
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		rc.close()
		return fmt.Errorf("cannot listen on %s: %w; choose another address with --listen", f.listen, unwrapOp(err))
	}
	printServing(e, st, srv.HostKey(), ln.Addr(), f.demo)
	printReturnChannel(e, st, rc)

	err = srv.Serve(ctx, ln)
	e.st = nil // Serve closed the store
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Fprintln(e.stdout, "Karton server stopped; the store is closed.")
	return nil
}

// returnChannel is the HTTP return channel inside `karton serve`.
type returnChannel struct {
	srv *web.Server
	ln  net.Listener
}

func newReturnChannel(st *store.Store, f serveFlags, logger *slog.Logger) (*returnChannel, error) {
	base := f.base
	if base == "" {
		var err error
		if base, err = st.LinkBase(); err != nil {
			return nil, err
		}
	}
	if host, _, _ := net.SplitHostPort(f.http); base == "" && (host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified()) {
		return nil, usagef("--http %s listens on every interface, so links cannot point to it; give --base with the public address, e.g. --base https://k.example.com", f.http)
	}
	srv, err := web.New(st, web.Options{
		Addr: f.http, Base: base, Organisation: f.organisation, TrustForwardedFor: f.trustProxy, Logger: logger,
		// Part of serve's budget: the services must stop before the store
		// closes, and everything within serveShutdownBudget.
		ShutdownTimeout: serveShutdownBudget / 2,
	})
	if err != nil {
		return nil, usagef("--base: %v", err)
	}
	ln, err := net.Listen("tcp", f.http)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s for --http: %w; choose another address", f.http, unwrapOp(err))
	}
	return &returnChannel{srv: srv, ln: ln}, nil
}

// serve is the return channel as a service: it serves until ctx ends.
func (rc *returnChannel) serve(ctx context.Context) error {
	err := rc.srv.Serve(ctx, rc.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// close releases the listener of a return channel that never served.
func (rc *returnChannel) close() {
	if rc != nil {
		rc.ln.Close()
	}
}

func printReturnChannel(e *env, st *store.Store, rc *returnChannel) {
	w := e.stdout
	if rc == nil {
		fmt.Fprintln(w, "return channel: off (--http [ADDR] serves DOI links, unsubscribes, clicks and inbound events)")
	} else {
		fmt.Fprintf(w, "return channel: http://%s (links in messages point to %s)\n", rc.ln.Addr(), rc.srv.Base())
	}
	fmt.Fprintf(w, "dispatcher: sends due outbox messages of %s in the background\n", filepath.Base(st.Path()))
}

// runServices runs the services of `karton serve --no-ssh` until ctx ends
// (or one fails), then stops them and closes the store, all within
// serveShutdownBudget.
func runServices(ctx context.Context, st *store.Store, logger *slog.Logger, services []func(context.Context) error) error {
	svcCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	failed := make(chan error, len(services))
	var wg sync.WaitGroup
	for _, svc := range services {
		wg.Go(func() {
			if err := svc(svcCtx); err != nil && !errors.Is(err, context.Canceled) {
				logger.Error("service stopped", "err", err)
				failed <- err
			}
		})
	}
	logger.Info("serving", "store", st.Path(), "ssh", false)
	var errs []error
	select {
	case <-ctx.Done():
	case err := <-failed:
		errs = append(errs, err)
	}
	start := time.Now()
	logger.Info("shutting down")
	cancel()
	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(serveShutdownBudget * 8 / 10):
		errs = append(errs, errors.New("a service did not stop in time"))
	}
	closed := make(chan error, 1)
	go func() { closed <- st.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	case <-time.After(time.Until(start.Add(serveShutdownBudget))):
		errs = append(errs, fmt.Errorf("the store did not close within %s: a transaction is still running; it will be rolled back, committed data is safe", serveShutdownBudget))
	}
	logger.Info("shut down", "took", time.Since(start).String())
	return errors.Join(errs...)
}

func printServing(e *env, st *store.Store, hk serve.HostKey, addr net.Addr, demo bool) {
	w := e.stdout
	fmt.Fprintf(w, "Karton serves %s over SSH on %s\n", st.Path(), addr)
	state := "kept"
	if hk.Created {
		state = "generated now"
	}
	fmt.Fprintf(w, "host key: %s (%s), fingerprint %s\n", hk.Path, state, hk.Fingerprint)
	if tcp, ok := addr.(*net.TCPAddr); ok {
		host := tcp.IP.String()
		if tcp.IP.IsUnspecified() {
			host = "HOST"
		} else if tcp.IP.IsLoopback() {
			host = "localhost"
		}
		fmt.Fprintf(w, "connect:  ssh -p %d %s\n", tcp.Port, host)
	}
	if demo {
		fmt.Fprintln(w, "demo mode: personal data is masked for everyone")
	}
	if n := usersWithKeys(st); n == 0 {
		fmt.Fprintln(w, "note: no user has an SSH key yet, so nobody can log in. Stop the server and add one:")
		fmt.Fprintln(w, "      karton user keys NAME --key-file ~/.ssh/id_ed25519.pub")
	}
	fmt.Fprintln(w, "manage users while serving: ssh … user list | user add NAME --role R --key \"…\" | user keys NAME | user remove NAME")
	fmt.Fprintln(w, "data requests too:  ssh … customer export-data ID > person.json | consent import - < events.jsonl | export consents > c.csv; ssh … help lists all")
	fmt.Fprintln(w, "Stop with ctrl+c (sessions are told, the store is closed cleanly).")
}

func usersWithKeys(st *store.Store) int {
	var users []model.User
	if err := st.View(store.SystemActor, func(r *store.Reader) (err error) { users, err = r.Users(); return }); err != nil {
		return -1
	}
	n := 0
	for _, u := range users {
		if len(u.PublicKeys) > 0 {
			n++
		}
	}
	return n
}

// serveLogger writes text to stderr, or JSON lines to the --log file.
func serveLogger(stderr io.Writer, path string) (*slog.Logger, func(), error) {
	if path == "" {
		return slog.New(slog.NewTextHandler(stderr, nil)), func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("--log %s: %w", path, unwrapOp(err))
	}
	return slog.New(slog.NewJSONHandler(f, nil)), func() { f.Close() }, nil
}

// unwrapOp reduces "listen tcp 127.0.0.1:2222: bind: address already in
// use" and path errors to their cause; the caller names the operation.
func unwrapOp(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		var se *os.SyscallError
		if errors.As(oe.Err, &se) {
			return se.Err
		}
		return oe.Err
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// remoteUsage names the commands the server runs over ssh on its store,
// as the session's user. They read what the client sends on standard input
// and write to the client's standard output: managing users, the
// data-subject requests (show, export, erase a person), the consent ledger
// (record, check, history, import), imports of files sent on standard
// input, bulk exports to standard output, and the lists an operator needs
// to name channels, purposes, segments and campaigns. Commands that read or
// write files on the server by name (backup, import FILE, export --out),
// show the server's paths (stats) or start another server are not here.
// args is the usage line where it differs over ssh ("" keeps the
// command's own).
var remoteUsage = []struct{ path, args string }{
	{"user add", "NAME --role ROLE [--key KEY]..."},
	{"user list", ""},
	{"user set-role", ""},
	{"user remove", ""},
	{"user keys", "NAME [--add KEY]... [--remove FINGERPRINT]... [--json]"},
	{"audit verify", ""},
	{"customer show", ""},
	{"customer export-data", "ID|EMAIL > person.json"},
	{"customer erase", ""},
	{"consent record", ""},
	{"consent check", ""},
	{"consent history", ""},
	{"consent import", "- [--name NAME] [--dry-run] [--again] [--json] < FILE.jsonl"},
	{"import", "customers|purchases|interactions|consents - [--source NAME] [--map COLUMN=FIELD …] [--name NAME] [--dry-run] [--strict] [--json] < FILE"},
	{"import preview", "customers|purchases|interactions|consents - [--map …] [--rows N] [--json] < FILE"},
	{"import list", ""},
	{"export", "customers|purchases|interactions|consents|decisions|audit [--format csv|jsonl] > FILE"},
	{"channel list", ""},
	{"purpose list", ""},
	{"segment list", ""},
	{"campaign list", ""},
	{"campaign show", ""},
	{"campaign preflight", ""},
	{"outbox list", ""},
}

// remoteTable is remoteUsage's commands, taken from the command table in
// init (commands refers to serve, which refers to this: a variable
// initialised from commands would be a cycle).
var remoteTable []command

func init() {
	for _, r := range remoteUsage {
		i := slices.IndexFunc(commands, func(c command) bool { return c.path == r.path })
		if i < 0 {
			panic("remoteUsage: " + r.path + " is not a command") // TestRemoteCommandsAreListedAndRefused runs this
		}
		c := commands[i]
		if r.args != "" {
			c.args = r.args
		}
		remoteTable = append(remoteTable, c)
	}
}

// remoteCommands are the commands the server runs over ssh.
func remoteCommands() []command { return remoteTable }

// remoteRefusedFlags are the flags that name the server's store, another
// identity or a file on the server; over ssh each is refused with how to do
// it instead.
var remoteRefusedFlags = map[string]string{
	"db":       "the server's store is used",
	"as":       "you act as the user your key belongs to",
	"key-file": "give keys with --key or --add",
	"out":      "the output comes to you: redirect it, e.g. ssh … export customers --format jsonl > customers.jsonl",
	"report":   "the report comes to you on standard output",
}

// remoteCommand runs a command sent with ssh on the server's open store as
// the session's user (serve.Options.Exec).
func remoteCommand(st *store.Store) func(ctx context.Context, actor model.Actor, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return func(ctx context.Context, actor model.Actor, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
		if len(args) > 0 && args[0] == "karton" {
			args = args[1:] // "ssh host karton user list" reads naturally too
		}
		allowed := remoteCommands()
		var cmd *command
		var rest []string
		for i := range allowed {
			words := strings.Fields(allowed[i].path)
			// The longest path that matches: "import preview", not
			// "import".
			if len(words) <= len(args) && equalWords(words, args[:len(words)]) && (cmd == nil || len(words) > len(strings.Fields(cmd.path))) {
				cmd, rest = &allowed[i], args[len(words):]
			}
		}
		if cmd == nil {
			if len(args) == 0 || len(args) == 1 && (args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
				printRemoteHelp(stdout, allowed)
				return 0
			}
			fmt.Fprintf(stderr, "karton: %q is not a command the server runs over ssh; these are (`COMMAND --help` shows its flags):\n\n", strings.Join(args, " "))
			printRemoteCommands(stderr, allowed)
			return 2
		}
		for _, a := range rest {
			if a == "--" {
				break
			}
			flagName := strings.SplitN(strings.TrimLeft(a, "-"), "=", 2)[0]
			if why, refused := remoteRefusedFlags[flagName]; refused && strings.HasPrefix(a, "-") {
				fmt.Fprintf(stderr, "karton: --%s is not available over ssh (%s)\n", flagName, why)
				return 2
			}
		}
		e := &env{st: st, actor: actor, stdin: stdin, stdout: stdout, stderr: stderr, ctx: ctx, remote: true}
		return exitStatus(e, cmd, runCommand(e, cmd, rest))
	}
}

// printRemoteHelp says what the server runs over ssh.
func printRemoteHelp(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "Over ssh the Karton server runs these commands on its store, as you (`ssh -p PORT HOST COMMAND`;")
	fmt.Fprintln(w, "`COMMAND --help` shows its flags):")
	fmt.Fprintln(w)
	printRemoteCommands(w, cmds)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "A file to import comes on your standard input, named -: ssh … consent import - < events.jsonl.")
	fmt.Fprintln(w, "What a command prints comes to you: ssh … customer export-data 14 > customer-14.json.")
}

// printRemoteCommands lists the commands the server runs over ssh.
func printRemoteCommands(w io.Writer, cmds []command) {
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.path))
	}
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.path, c.summary)
	}
}

// exitStatus reports a command's error the way run does.
func exitStatus(e *env, cmd *command, err error) int {
	var ue usageError
	var ee exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "karton %s: %v\n", cmd.path, err)
		fmt.Fprintf(e.stderr, "usage: karton %s %s\n", cmd.path, cmd.args)
		return 2
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintf(e.stderr, "karton: %s\n", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintf(e.stderr, "karton: %s\n", oneLine(err.Error()))
	return 1
}
