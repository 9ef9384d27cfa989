package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"karton/model"
	"karton/store"
	"karton/tui/serve"
)

// maxSessionsLimit keeps --max-sessions to what one process and one bbolt
// file can serve.
const maxSessionsLimit = 10000

func serveCmd(fs *flag.FlagSet) runFunc {
	listen := fs.String("listen", serve.DefaultAddr, "address to listen on; 0.0.0.0:2222 serves every interface")
	hostKey := fs.String("host-key", "", "the server's private host key, generated on first start (default: ssh_host_ed25519_key beside the store)")
	maxSessions := fs.Int("max-sessions", serve.DefaultMaxSessions, "sessions served at once; the next is refused with a message")
	idle := fs.Duration("idle-timeout", serve.DefaultIdleTimeout, "end a session after this long without input, e.g. 15m; 0 never does")
	logFile := fs.String("log", "", "append JSON logs to this file instead of writing text logs to stderr")
	demo := fs.Bool("demo", false, "mask personal data for everyone, whatever their role (for screen sharing)")
	return func(e *env, args []string) error {
		return runServe(e, args, serveFlags{listen: *listen, hostKey: *hostKey, maxSessions: *maxSessions, idle: *idle, logFile: *logFile, demo: *demo})
	}
}

type serveFlags struct {
	listen      string
	hostKey     string
	maxSessions int
	idle        time.Duration
	logFile     string
	demo        bool
}

func runServe(e *env, args []string, f serveFlags) error {
	if len(args) > 0 {
		return usagef("serve takes no arguments (got %q)", args[0])
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
	logger, closeLog, err := serveLogger(e.stderr, f.logFile)
	if err != nil {
		return err
	}
	defer closeLog()

	st, err := e.open()
	if err != nil {
		return err
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
		HostKeyPath: hostKey,
		MaxSessions: f.maxSessions,
		IdleTimeout: idle,
		Demo:        f.demo,
		Logger:      logger,
		Exec:        remoteCommand(st),
		// The dispatcher (issue 5) joins here:
		// Services: []func(ctx context.Context) error{dispatcher.Run},
	})
	if err != nil {
		return err
	}

	// Signals first, so that a ctrl+c from here on shuts down gracefully.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w; choose another address with --listen", f.listen, unwrapOp(err))
	}
	printServing(e, st, srv.HostKey(), ln.Addr(), f.demo)

	err = srv.Serve(ctx, ln)
	e.st = nil // Serve closed the store
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Fprintln(e.stdout, "Karton server stopped; the store is closed.")
	return nil
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

// remoteCommands may be sent over ssh while the server holds the store:
// managing users (which otherwise needs the server stopped) and checking
// the audit chain. Everything else reads or writes files on the server,
// shows the server's paths (stats), or would start a server inside the
// server. (A list of its own, not a filter over
// commands: that table refers to serve, which refers to this.)
func remoteCommands() []command {
	return []command{
		{path: "user add", args: "NAME --role ROLE [--key KEY]...", setup: userAddCmd},
		{path: "user list", args: "[--json]", setup: userListCmd},
		{path: "user set-role", args: "NAME ROLE", setup: noFlags(runUserSetRole)},
		{path: "user remove", args: "NAME", setup: noFlags(runUserRemove)},
		{path: "user keys", args: "NAME [--add KEY]... [--remove FINGERPRINT]... [--json]", setup: userKeysCmd},
		{path: "audit verify", args: "[--json]", setup: auditVerifyCmd},
	}
}

// remoteCommand runs a command sent with ssh on the server's open store as
// the session's user (serve.Options.Exec).
func remoteCommand(st *store.Store) func(ctx context.Context, actor model.Actor, args []string, stdout, stderr io.Writer) int {
	return func(_ context.Context, actor model.Actor, args []string, stdout, stderr io.Writer) int {
		if len(args) > 0 && args[0] == "karton" {
			args = args[1:] // "ssh host karton user list" reads naturally too
		}
		allowed := remoteCommands()
		var cmd *command
		var rest []string
		for i := range allowed {
			words := strings.Fields(allowed[i].path)
			if len(words) <= len(args) && equalWords(words, args[:len(words)]) {
				cmd, rest = &allowed[i], args[len(words):]
			}
		}
		if cmd == nil {
			names := make([]string, len(allowed))
			for i, c := range allowed {
				names[i] = c.path
			}
			fmt.Fprintf(stderr, "karton: over ssh the server runs only: %s (got %q)\n", strings.Join(names, ", "), strings.Join(args, " "))
			return 2
		}
		for _, a := range rest {
			flagName := strings.SplitN(strings.TrimLeft(a, "-"), "=", 2)[0]
			if strings.HasPrefix(a, "-") && (flagName == "db" || flagName == "as" || flagName == "key-file") {
				fmt.Fprintf(stderr, "karton: --%s is not available over ssh (the server's store and your own identity are used; give keys with --key or --add)\n", flagName)
				return 2
			}
		}
		e := &env{st: st, actor: actor, stdin: strings.NewReader(""), stdout: stdout, stderr: stderr}
		return exitStatus(e, cmd, runCommand(e, cmd, rest))
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
