package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDemoAcceptance is issue 2's acceptance: the generator's report equals
// the store's stats, and the same seed gives identical stats and records.
func TestDemoAcceptance(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	args := []string{"demo", "--no-tui", "--customers", "300", "--seed", "7", "--as-of", "2026-03-15"}
	code, report, stderr := karton(t, append(args, "--db", a)...)
	require.Equal(t, 0, code, stderr)

	var st map[string]any
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", a, "stats", "--json")), &st))
	for label, key := range map[string]string{
		"customers": "customers", "channels": "channels", "purposes": "purposes", "campaigns": "campaigns",
		"steps": "steps", "segments": "segments", "users": "users", "consent events": "consent_events",
		"interactions": "interactions", "purchases": "purchases",
	} {
		m := regexp.MustCompile(`(?m)^\s+` + label + `\s+(\d+)$`).FindStringSubmatch(report)
		require.NotNil(t, m, "report line %q in\n%s", label, report)
		n, _ := strconv.Atoi(m[1])
		assert.EqualValues(t, n, st[key], label)
	}

	code, _, stderr = karton(t, append(args, "--db", b)...)
	require.Equal(t, 0, code, stderr)
	strip := func(s string) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(s), &m))
		delete(m, "path")
		delete(m, "file_bytes")
		return m
	}
	assert.Equal(t, strip(mustRun(t, "--db", a, "stats", "--json")), strip(mustRun(t, "--db", b, "stats", "--json")))
	for _, id := range []int{1, 2, 150, 300} {
		for _, cmd := range [][]string{{"customer", "show"}, {"consent", "history", "--customer"}} {
			args := append(append([]string{}, cmd...), fmt.Sprint(id), "--json")
			assert.Equal(t, mustRun(t, append([]string{"--db", a}, args...)...), mustRun(t, append([]string{"--db", b}, args...)...), "%v", args)
		}
	}
}

func TestDemoReusesRegeneratesAndRefuses(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "d.db")
	args := []string{"demo", "--no-tui", "--db", db, "--customers", "50", "--seed", "3", "--as-of", "2026-03-15"}
	mustRun(t, args...)

	code, out, stderr := karton(t, args...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "Using the demo store")
	assert.Empty(t, out, "an existing demo store generated the same way is reused, not rebuilt")

	code, out, stderr = karton(t, "demo", "--no-tui", "--db", db, "--customers", "60", "--seed", "3", "--as-of", "2026-03-15")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "60", "a demo store generated differently is regenerated")

	own := filepath.Join(dir, "own.db")
	mustRun(t, "--db", own, "customer", "add", "--email", "kim@example.com")
	code, _, stderr = karton(t, "demo", "--no-tui", "--db", own, "--customers", "10")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "not a demo store; refusing to replace it")
	assert.Contains(t, mustRun(t, "--db", own, "customer", "show", "kim@example.com"), "kim@example.com", "nothing was lost")

	text := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(text, []byte("my notes"), 0o600))
	code, _, stderr = karton(t, "demo", "--no-tui", "--db", text, "--customers", "10")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "cannot be opened as a Karton store")
	data, _ := os.ReadFile(text)
	assert.Equal(t, "my notes", string(data))

	for _, bad := range [][]string{{"--customers", "0"}, {"--as-of", "15.03.2026"}, {"--as-of", "2999-01-01"}} {
		code, _, stderr = karton(t, append([]string{"demo", "--no-tui", "--db", filepath.Join(dir, "x.db")}, bad...)...)
		assert.Equal(t, 2, code, "%v: %s", bad, stderr)
	}
}
