package serve

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/stretchr/testify/require"
	gossh "golang.org/x/crypto/ssh"

	"karton/model"
	"karton/store"
	"karton/store/demo"
	"karton/tui"
	"karton/tui/common"
	"karton/tui/components/vtable"
	"karton/tui/internal/screentest"
	"karton/tui/keys"
	"karton/tui/theme"
)

// The load benchmark (issue 7): 50 sessions scroll the customer list of a
// 100k-customer store at once. The server runs in its own process (this
// test binary, re-executed) so that its RSS is the server's alone.
//
//	go test -run '^$' -bench Sessions50 -benchtime 3000x -count 5 ./tui/serve/
//
// Reported: p50-ms and p99-ms from a key press sent to the first bytes of
// the screen update received (target p99 ≤ 50 ms), bytes/step sent per
// scroll step, and the server's rss-MB at the end and peak-rss-MB (target
// ≤ 400 MB), and server-cpu-ms/step. For diagnosis: KARTON_BENCH_SESSIONS
// (fewer sessions), KARTON_BENCH_THINK (pause between key presses, default
// 30ms) and KARTON_BENCH_CPUPROFILE=FILE (the server's CPU profile of the timed phase).
const (
	benchCustomers = 100_000
	benchSessions  = 50
	// benchThink is the pause between a session's key presses: about the
	// key-repeat rate of a held arrow key.
	benchThink = 30 * time.Millisecond
)

// benchData is the store shared by every run of the benchmark in this
// process: generating 100k customers takes seconds.
var benchData struct {
	once    sync.Once
	dir     string
	path    string
	signers []gossh.Signer
	err     error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchData.dir != "" {
		os.RemoveAll(benchData.dir)
	}
	os.Exit(code)
}

func benchStore(b *testing.B) (string, []gossh.Signer) {
	b.Helper()
	benchData.once.Do(func() {
		dir, err := os.MkdirTemp("", "karton-bench-")
		if err != nil {
			benchData.err = err
			return
		}
		benchData.dir = dir
		benchData.path = filepath.Join(dir, "bench.db")
		st, err := store.Open(benchData.path, store.Options{Now: screentest.Now, Secret: demo.Secret(7)})
		if err != nil {
			benchData.err = err
			return
		}
		defer st.Close()
		if _, err := demo.Generate(context.Background(), st, demo.Options{Customers: benchCustomers, Seed: 7, AsOf: screentest.AsOf}); err != nil {
			benchData.err = err
			return
		}
		benchData.err = st.Update(store.SystemActor, func(tx *store.Tx) error {
			for i := range benchSessions {
				s := newSigner(b)
				benchData.signers = append(benchData.signers, s)
				u := model.User{Name: fmt.Sprintf("op%02d", i+1), Role: model.RoleOperator, PublicKeys: []string{authorized(s.PublicKey(), "bench")}}
				if err := tx.InsertUser(&u); err != nil {
					return err
				}
			}
			return nil
		})
	})
	require.NoError(b, benchData.err)
	return benchData.path, benchData.signers
}

// realCustomersBox reports whether the cockpit has its own customers box
// yet; until then the benchmark scrolls a stand-in built the same way (a
// vtable paging through store.CustomerPage).
func realCustomersBox() bool {
	c := &common.Context{Ctx: context.Background(), Now: screentest.Now, Theme: theme.New(true), Keys: keys.New()}
	return len(tui.DefaultBoxes(c)) > common.BoxCustomers
}

func BenchmarkSessions50(b *testing.B) {
	path, signers := benchStore(b)
	srv := startServerProcess(b, path)
	defer srv.stop()

	if n, err := strconv.Atoi(os.Getenv("KARTON_BENCH_SESSIONS")); err == nil && n > 0 && n < len(signers) {
		signers = signers[:n] // fewer sessions, for diagnosis
	}
	think := benchThink
	if d, err := time.ParseDuration(os.Getenv("KARTON_BENCH_THINK")); err == nil {
		think = d
	}
	clients := make([]*benchClient, len(signers))
	var wg sync.WaitGroup
	for i, s := range signers {
		wg.Go(func() { clients[i] = dialBench(b, srv.addr, s) })
	}
	wg.Wait()
	for _, c := range clients {
		defer c.close()
		c.settle(b)
		if realCustomersBox() {
			c.press("3")
			c.settle(b)
		}
	}

	var mu sync.Mutex
	var latencies []time.Duration
	var bytes int64
	var timeouts int
	_, _ = io.WriteString(srv.stdin, "measure\n")
	cpu0, self0 := srv.cpu(b), selfCPU()
	b.ResetTimer()
	for i, c := range clients {
		n := b.N / len(clients)
		if i < b.N%len(clients) {
			n++
		}
		wg.Go(func() {
			lat, sent, lost := c.scroll(n, think)
			mu.Lock()
			latencies = append(latencies, lat...)
			bytes += sent
			timeouts += lost
			mu.Unlock()
		})
	}
	wg.Wait()
	b.StopTimer()
	cpu, self := srv.cpu(b)-cpu0, selfCPU()-self0

	require.Zero(b, timeouts, "key presses without a screen update")
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		i := min(int(p*float64(len(latencies))), len(latencies)-1)
		return float64(latencies[i].Microseconds()) / 1000
	}
	rss, peak := srv.memory(b)
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(bytes)/float64(len(latencies)), "bytes/step")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(latencies)), "server-cpu-ms/step")
	b.ReportMetric(float64(self.Microseconds())/1000/float64(len(latencies)), "client-cpu-ms/step")
	b.ReportMetric(rss, "rss-MB")
	b.ReportMetric(peak, "peak-rss-MB")
}

// serverProcess is the benchmark's server, this binary re-executed.
type serverProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

func startServerProcess(b *testing.B, path string) *serverProcess {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchServerProcess$")
	cmd.Env = append(os.Environ(), "KARTON_BENCH_SERVER="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(b, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, cmd.Start())
	p := &serverProcess{cmd: cmd, stdin: stdin}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
			p.addr = addr
			break
		}
	}
	if p.addr == "" {
		p.stop()
		b.Fatal("the server process did not start")
	}
	go io.Copy(io.Discard, stdout)
	return p
}

func (p *serverProcess) stop() {
	p.stdin.Close() // the server shuts down gracefully on EOF
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

// cpu reads the server's user and system CPU time so far.
func (p *serverProcess) cpu(b *testing.B) time.Duration {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): utime and
	// stime are the 12th and 13th, in clock ticks (100 per second on Linux).
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// selfCPU is this process's CPU time: the clients' share of the machine.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memory reads the server's resident and peak resident set in MB.
func (p *serverProcess) memory(b *testing.B) (rss, peak float64) {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		b.Logf("no /proc: RSS not measured (%v)", err)
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		case "RssAnon:", "RssFile:":
			b.Logf("server %s %.0f MB", strings.TrimSuffix(f[0], ":"), kb/1024)
		}
	}
	return rss, peak
}

// TestBenchServerProcess is the benchmark's server when run by
// startServerProcess; otherwise it does nothing.
func TestBenchServerProcess(t *testing.T) {
	path := os.Getenv("KARTON_BENCH_SERVER")
	if path == "" {
		t.Skip("runs only as the load benchmark's server process")
	}
	st, err := store.Open(path, store.Options{Now: screentest.Now})
	require.NoError(t, err)
	opts := Options{
		HostKeyPath: filepath.Join(t.TempDir(), "host"),
		MaxSessions: DefaultMaxSessions,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:         screentest.Now,
	}
	if !realCustomersBox() {
		opts.Boxes = func(c *common.Context) []common.Box { return []common.Box{newListBox(c)} }
	}
	srv, err := New(st, opts)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	// The benchmark writes "measure" when its timed phase starts (the CPU
	// profile covers only that phase) and closes stdin to shut down.
	prof := os.Getenv("KARTON_BENCH_CPUPROFILE")
	go func() {
		var f *os.File
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if sc.Text() == "measure" && prof != "" && f == nil {
				var err error
				if f, err = os.Create(prof); err == nil && pprof.StartCPUProfile(f) != nil {
					f.Close()
				}
			}
		}
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
		}
		cancel()
	}()
	fmt.Printf("LISTENING %s\n", ln.Addr())
	require.NoError(t, srv.Serve(ctx, ln))
}

// benchClient is one scrolling user.
type benchClient struct {
	conn    *gossh.Client
	sess    *gossh.Session
	stdin   io.WriteCloser
	arrived chan time.Time
	mu      sync.Mutex
	bytes   int64
}

func dialBench(b *testing.B, addr string, s gossh.Signer) *benchClient {
	conn, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User: "bench", Auth: []gossh.AuthMethod{gossh.PublicKeys(s)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 30 * time.Second,
	})
	require.NoError(b, err)
	sess, err := conn.NewSession()
	require.NoError(b, err)
	require.NoError(b, sess.RequestPty("xterm-256color", termH, termW, gossh.TerminalModes{}))
	c := &benchClient{conn: conn, sess: sess, arrived: make(chan time.Time, 1)}
	c.stdin, err = sess.StdinPipe()
	require.NoError(b, err)
	out, err := sess.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, sess.Shell())
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := out.Read(buf)
			if n > 0 {
				at := time.Now()
				c.mu.Lock()
				c.bytes += int64(n)
				c.mu.Unlock()
				select {
				case c.arrived <- at:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return c
}

// settle waits until the screen has been drawn and the output is quiet.
func (c *benchClient) settle(b *testing.B) {
	b.Helper()
	select {
	case <-c.arrived:
	case <-time.After(30 * time.Second):
		b.Fatal("a session never drew its screen")
	}
	for {
		select {
		case <-c.arrived:
		case <-time.After(200 * time.Millisecond):
			return
		}
	}
}

func (c *benchClient) press(k string) { _, _ = c.stdin.Write([]byte(k)) }

func (c *benchClient) received() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// scroll presses j n times, each time measuring until the first bytes of
// the update arrive, then pausing like a held key.
func (c *benchClient) scroll(n int, think time.Duration) (lat []time.Duration, sent int64, lost int) {
	start := c.received()
	// Independent users: a random start and a pause that varies around
	// think (±50%), so the sessions do not press in lockstep.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	time.Sleep(time.Duration(rng.Int64N(int64(think) + 1)))
	for range n {
		select { // an update still in flight from the previous step
		case <-c.arrived:
		default:
		}
		t0 := time.Now()
		c.press("j")
		select {
		case at := <-c.arrived:
			lat = append(lat, at.Sub(t0))
		case <-time.After(5 * time.Second):
			lost++
		}
		time.Sleep(think/2 + time.Duration(rng.Int64N(int64(think)+1)))
	}
	return lat, c.received() - start, lost
}

func (c *benchClient) close() {
	c.stdin.Close()
	c.sess.Close()
	c.conn.Close()
}

// listBox is the benchmark's stand-in for the customers box: a vtable
// paging through the customer list by name, as that box does.
type listBox struct {
	stubBox
	c     *common.Context
	table *vtable.Table
}

func newListBox(c *common.Context) *listBox {
	lb := &listBox{stubBox: stubBox{title: "Customers"}, c: c}
	lb.table = vtable.New("customers", c.Theme, c.Keys, lb.fetch)
	lb.table.SetColumns([]vtable.Column{{Title: "Name", Flex: 2}, {Title: "Email", Flex: 3}, {Title: "City", Flex: 1}, {Title: "Purchases", Width: 9, Align: vtable.AlignRight}})
	lb.table.Focus()
	return lb
}

func (lb *listBox) fetch(req vtable.FetchRequest) tea.Cmd {
	c := lb.c
	return func() tea.Msg {
		var page store.CustomerPage
		err := c.Store.View(c.Actor, func(r *store.Reader) (err error) {
			page, err = r.CustomerPage(store.PageQuery{Order: store.ByName, After: req.After, Backward: req.Backward, Limit: req.Limit})
			return err
		})
		rows := make([]vtable.Row, len(page.Rows))
		for i, r := range page.Rows {
			cu := r.Customer
			rows[i] = vtable.Row{Key: r.Pos, Cells: []string{cu.LastName + ", " + cu.FirstName, cu.Email, cu.Address.City, strconv.Itoa(cu.PurchaseCount)}}
		}
		return req.Reply(rows, !page.More, err)
	}
}

// listTotalMsg carries the number of customers.
type listTotalMsg struct{ total int64 }

func (lb *listBox) Init() tea.Cmd {
	s := lb.c.Store
	return tea.Batch(lb.table.Init(), func() tea.Msg {
		st, _ := s.Stats()
		return listTotalMsg{st.Customers}
	})
}

func (lb *listBox) Update(msg tea.Msg) tea.Cmd {
	if m, ok := msg.(listTotalMsg); ok {
		lb.table.SetTotal(int(m.total))
		return nil
	}
	return lb.table.Update(msg)
}
func (lb *listBox) View() string     { return lb.table.View() }
func (lb *listBox) SetSize(w, h int) { lb.table.SetSize(w, h) }
