// Command karton is the terminal marketing cockpit. This package only
// parses flags, opens the store and calls into store and tui.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	"karton/model"
	"karton/store"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// command is one subcommand, e.g. "user add".
type command struct {
	path string // words after "karton"
	args string // positional arguments, for usage
	// ownArgs: the command checks its positional arguments itself (serve's
	// --http takes its address as the next word); otherwise runCommand
	// refuses more than args names.
	ownArgs bool
	summary string
	// setup declares the command's own flags on fs and returns the function
	// that runs it; the flags are bound to variables the closure captures.
	setup func(fs *flag.FlagSet) runFunc
}

type runFunc func(e *env, args []string) error

// noFlags adapts a command without flags of its own.
func noFlags(run runFunc) func(*flag.FlagSet) runFunc {
	return func(*flag.FlagSet) runFunc { return run }
}

// env carries what every command shares: the global flags, the streams and
// the store once opened.
type env struct {
	dbPath string
	as     string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	st    *store.Store
	actor model.Actor

	// ctx is set for a command sent over ssh: it ends when the client
	// goes away. remote says the command runs on the server's store for a
	// client elsewhere, whose files are not the server's.
	ctx    context.Context
	remote bool
}

// interruptible is the context of a long-running command: the ssh
// session's, or one that ends on the given signals (os.Interrupt if none).
func (e *env) interruptible(sigs ...os.Signal) (context.Context, context.CancelFunc) {
	if e.ctx != nil {
		return context.WithCancel(e.ctx)
	}
	if len(sigs) == 0 {
		sigs = []os.Signal{os.Interrupt}
	}
	return signal.NotifyContext(context.Background(), sigs...)
}

// usageError makes the program exit with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	defer func() {
		if e.st != nil {
			e.st.Close()
		}
	}()
	// Global flags may come before the command as well as after it.
	global := flag.NewFlagSet("karton", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	addGlobalFlags(global, e)
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stdout)
			return 0
		}
		fmt.Fprintf(stderr, "karton: %v\n", err)
		return 2
	}
	rest := global.Args()
	cmd, cmdArgs := findCommand(rest)
	if cmd == nil {
		if len(rest) == 0 {
			cmd = cockpitCommand()
		} else {
			if rest[0] == "help" {
				printHelp(stdout)
				return 0
			}
			fmt.Fprintf(stderr, "karton: unknown command %q; run `karton help` for the list\n", strings.Join(rest, " "))
			return 2
		}
	}
	err := runCommand(e, cmd, cmdArgs)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "karton %s: %v\n", cmd.path, err)
		fmt.Fprintf(stderr, "usage: karton %s %s (see `karton %s --help`)\n", cmd.path, cmd.args, cmd.path)
		return 2
	}
	var ee exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(stderr, "karton: %s\n", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "karton: %s\n", oneLine(err.Error()))
	return 1
}

// exitError ends a command with a given status without the usual "karton:"
// line when msg is empty (the command printed its own result).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// oneLine puts a message on one line, any control character left (from a
// value quoted in it) shown as the replacement character.
func oneLine(s string) string { return cell(strings.Join(strings.Fields(s), " ")) }

func addGlobalFlags(fs *flag.FlagSet, e *env) {
	fs.StringVar(&e.dbPath, "db", e.dbPath, "store file (default $KARTON_DB, else the XDG data directory)")
	fs.StringVar(&e.as, "as", e.as, "act as this Karton user (default: your OS user, an admin on local files)")
}

func findCommand(args []string) (*command, []string) {
	var best *command
	bestLen := 0
	for i := range commands {
		words := strings.Fields(commands[i].path)
		if len(words) <= len(args) && len(words) > bestLen && equalWords(words, args[:len(words)]) {
			best, bestLen = &commands[i], len(words)
		}
	}
	if best == nil {
		return nil, nil
	}
	return best, args[bestLen:]
}

func equalWords(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// runCommand parses the command's flags, which may be mixed with its
// positional arguments ("karton customer erase 42 --json").
func runCommand(e *env, cmd *command, args []string) error {
	fs := flag.NewFlagSet("karton "+cmd.path, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if !e.remote { // over ssh the server's store and the session's user
		addGlobalFlags(fs, e)
	}
	run := cmd.setup(fs)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printCommandHelp(e.stdout, cmd, fs)
				return flag.ErrHelp
			}
			return usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if n := maxPositional(cmd.args); len(positional) > n && !cmd.ownArgs {
		return usagef("unexpected argument %q", positional[n])
	}
	return run(e, positional)
}

// maxPositional is how many positional arguments a usage line names: the
// words before its first flag or optional part ("ID|EMAIL [--json]" names
// one, "--customer ID|EMAIL" none; a lone "|" separates alternatives, a
// lone "-" stands for standard input).
func maxPositional(usage string) int {
	n := 0
	for _, w := range strings.Fields(usage) {
		if strings.HasPrefix(w, "-") && w != "-" || strings.HasPrefix(w, "[") {
			break
		}
		if w != "|" {
			n++
		}
	}
	return n
}

func printCommandHelp(w io.Writer, cmd *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: karton %s %s\n\n%s\n\nflags:\n", cmd.path, cmd.args, cmd.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "Karton — terminal marketing cockpit")
	fmt.Fprintln(w, "\nusage: karton [--db PATH] [--as USER] [command] [flags]")
	fmt.Fprintln(w, "\nWithout a command, karton opens the cockpit on the store.")
	fmt.Fprintln(w, "\ncommands:")
	list := append([]command(nil), commands...)
	sort.Slice(list, func(i, j int) bool { return list[i].path < list[j].path })
	for _, c := range list {
		fmt.Fprintf(w, "  %-24s %s\n", c.path, c.summary)
	}
	fmt.Fprintln(w, "\nRun `karton COMMAND --help` for a command's flags.")
}

// defaultDBPath is $KARTON_DB, else $XDG_DATA_HOME/karton/karton.db, else
// ~/.local/share/karton/karton.db.
func defaultDBPath(name string) string {
	if name == "karton.db" {
		if p := os.Getenv("KARTON_DB"); p != "" {
			return p
		}
	}
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "karton", name)
}

func (e *env) path() string {
	if e.dbPath != "" {
		return e.dbPath
	}
	return defaultDBPath("karton.db")
}

// open opens the store (once) and resolves the acting user.
func (e *env) open() (*store.Store, error) {
	if e.st != nil {
		return e.st, nil
	}
	st, err := store.Open(e.path(), store.Options{})
	if err != nil {
		return nil, err
	}
	e.st = st
	if err := repairInterruptedLoad(e, st); err != nil {
		return nil, err
	}
	if e.actor, err = resolveActor(st, e.as); err != nil {
		return nil, err
	}
	return st, nil
}

func resolveActor(st *store.Store, as string) (model.Actor, error) {
	if as != "" {
		a, err := st.Actor(as, "cli")
		if errors.Is(err, store.ErrNotFound) {
			return a, fmt.Errorf("--as %s: there is no such user; add one with `karton user add %s --role ROLE`", as, as)
		}
		return a, err
	}
	return st.LocalActor(osUserName())
}

func osUserName() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	// Stored user names are restricted (letters, digits, . _ -); map what
	// a system might use (e.g. "DOMAIN\\jane") onto that.
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		}
	}
	s := b.String()
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		s = "local" + s
	}
	if len(s) > 32 {
		s = s[:32]
	}
	return s
}

func version() string {
	v := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}

// repairInterruptedLoad rebuilds the customer indexes when a bulk load (demo
// generation, a large import) was killed before it finished, so lists and
// searches never silently miss customers.
func repairInterruptedLoad(e *env, st *store.Store) error {
	pending, err := st.BulkLoadPending()
	if err != nil || !pending {
		return err
	}
	fmt.Fprintln(e.stderr, "karton: a bulk load was interrupted; rebuilding the customer indexes…")
	system := model.Actor{Name: "karton", Role: model.RoleAdmin, Via: "system"}
	if err := st.RebuildCustomerIndexes(context.Background(), system); err != nil {
		return fmt.Errorf("rebuild the customer indexes after an interrupted load: %w", err)
	}
	return nil
}
