package main

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/tui/common"
)

func TestServeHTTPFlagsAreValidated(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--no-ssh"}, 2, "--no-ssh leaves nothing to serve without --http"},
		{[]string{"--no-ssh", "--http", "--listen", "127.0.0.1:2200"}, 2, "--listen configure SSH, which --no-ssh turns off"},
		{[]string{"--http=8080"}, 2, "give HOST:PORT"},
		{[]string{"--http", "0.0.0.0:0", "--no-ssh"}, 2, "give --base with the public address"},
		{[]string{"--http", "--base", "ftp://k.example", "--no-ssh"}, 2, "--base"},
		{[]string{"--http", busy.Addr().String(), "--no-ssh"}, 1, "address already in use"},
		{[]string{"--http", busy.Addr().String(), "extra"}, 2, `unexpected argument "extra"`},
	} {
		code, _, stderr := karton(t, append([]string{"--db", db, "serve"}, tc.args...)...)
		assert.Equal(t, tc.code, code, "%v: %s", tc.args, stderr)
		assert.Contains(t, stderr, tc.want, "%v", tc.args)
	}
}

var sshPort = regexp.MustCompile(`connect:  ssh -p (\d+) localhost`)

// With SSH and --http, one process serves both, with the dispatcher, and
// stops both within 5 s; the base given is remembered in the store.
func TestServeWithSSHAndHTTP(t *testing.T) {
	bin := buildKarton(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	_, line := newKey(t, "anna@test")
	mustRun(t, "--db", db, "user", "add", "anna", "--role", "admin", "--key", line)
	addr := freeAddr(t)
	srv := startServer(t, bin, "http://"+addr, "--db", db, "serve", "--listen", "127.0.0.1:0", "--host-key", filepath.Join(dir, "hk"),
		"--http", addr, "--base", "https://k.example/r")
	var port string
	require.Eventually(t, func() bool {
		m := sshPort.FindStringSubmatch(srv.out.String())
		if m != nil {
			port = m[1]
		}
		return m != nil
	}, 10*time.Second, 20*time.Millisecond, srv.out.String())
	conn, err := net.Dial("tcp", "127.0.0.1:"+port)
	require.NoError(t, err)
	banner := make([]byte, 16)
	_, err = conn.Read(banner)
	require.NoError(t, err)
	conn.Close()
	assert.Contains(t, string(banner), "SSH-2.0", "the SSH listener answers")
	assert.Contains(t, srv.out.String(), "links in messages point to https://k.example/r")
	took := srv.stop()
	assert.Less(t, took, 5*time.Second)
	assert.Equal(t, "https://k.example/r", mustMeta(t, db))
}

// The cockpit's background dispatcher sends what is due and shows it as a
// task: started, progress, ended, in that order.
func TestDispatchWorkerShowsATask(t *testing.T) {
	db := demoDB(t, 200)
	step := findStep(t, db, "approved", "Postkarte Bestkunden")
	var launched struct {
		Allowed int `json:"allowed"`
	}
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "campaign", "launch", itoa(step), "--json")), &launched))
	require.Positive(t, launched.Allowed)
	e := &env{dbPath: db}
	st, err := e.open()
	require.NoError(t, err)

	msgs := make(chan any, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- dispatchWorker{st: st, via: "cockpit", notify: func(m tea.Msg) { msgs <- m }}.run(ctx)
	}()
	var got []any
	for m := range msgs {
		got = append(got, m)
		if _, ok := m.(common.TaskEndedMsg); ok {
			break
		}
	}
	cancel()
	require.NoError(t, <-done)
	require.GreaterOrEqual(t, len(got), 3)
	assert.Equal(t, common.TaskStartedMsg{ID: dispatchTaskID, Label: "dispatch: sending"}, got[0])
	last := got[len(got)-2].(common.TaskProgressMsg)
	assert.Equal(t, dispatchTaskID, last.ID)
	assert.Contains(t, last.Label, "dispatch: ")
	var out struct {
		Counts struct {
			Sent int `json:"sent"`
		} `json:"counts"`
	}
	require.NoError(t, st.Close())
	e.st = nil
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "outbox", "list", "--step", itoa(step), "--json")), &out))
	assert.Positive(t, out.Counts.Sent)
}
