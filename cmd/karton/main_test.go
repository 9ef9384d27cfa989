package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// karton runs the CLI in-process and returns exit code, stdout and stderr.
func karton(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsageErrorsExitTwo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	for _, args := range [][]string{
		{"no-such-command"},
		{"--db", db, "user", "add"},
		{"--db", db, "user", "add", "bob"},
		{"--db", db, "user", "add", "bob", "--role", "king"},
		{"--db", db, "stats", "--bogus"},
	} {
		code, _, stderr := karton(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.NotEmpty(t, stderr)
	}
}

func TestUsersAndRoles(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	code, out, stderr := karton(t, "user", "add", "vera", "--role", "viewer", "--db", db)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "added user vera as viewer")

	code, out, _ = karton(t, "--db", db, "user", "list", "--json")
	require.Equal(t, 0, code)
	var users []struct{ Name, Role string }
	require.NoError(t, json.Unmarshal([]byte(out), &users))
	roles := map[string]string{}
	for _, u := range users {
		roles[u.Name] = u.Role
	}
	assert.Equal(t, "viewer", roles["vera"])
	assert.Equal(t, "admin", roles[osUserName()], "the local OS user is an admin")

	code, _, stderr = karton(t, "--db", db, "--as", "vera", "user", "add", "max", "--role", "admin")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "vera is a viewer and may not manage users")
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, "errors are one line")

	code, _, stderr = karton(t, "--db", db, "--as", "nobody", "stats")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "no such user")

	code, out, _ = karton(t, "--db", db, "user", "set-role", "vera", "operator")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "vera is now operator")
	code, _, stderr = karton(t, "--db", db, "user", "set-role", osUserName(), "viewer")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "last admin")
}

func TestStatsJSONKeys(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	code, out, stderr := karton(t, "stats", "--db", db, "--json")
	require.Equal(t, 0, code, stderr)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	for _, k := range []string{"customers", "channels", "purposes", "campaigns", "consent_events", "interactions", "purchases", "schema_version", "file_bytes"} {
		assert.Contains(t, m, k)
	}
}

func TestBackupMakesAUsableCopy(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	code, _, stderr := karton(t, "--db", db, "user", "add", "vera", "--role", "viewer")
	require.Equal(t, 0, code, stderr)
	code, out, stderr := karton(t, "--db", db, "backup", filepath.Join(dir, "copy.db"))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "checked")
	code, out, _ = karton(t, "--db", filepath.Join(dir, "copy.db"), "user", "list")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "vera")
}

func TestNotAStoreIsOneClearLine(t *testing.T) {
	code, _, stderr := karton(t, "--db", "main.go", "stats")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "not a Karton store")
	assert.NotContains(t, strings.TrimSpace(stderr), "\n")
}

// Every command refuses arguments beyond the ones its usage line names: a
// stray word (a value given without its flag, a quoted pair split by the
// shell) must not be ignored while the command runs as if it were absent.
func TestStrayArgumentsAreRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	for _, c := range commands {
		args := append([]string{"--db", db}, strings.Fields(c.path)...)
		for range maxPositional(c.args) {
			args = append(args, "x")
		}
		args = append(args, "stray")
		code, stdout, stderr := karton(t, args...)
		assert.Equal(t, 2, code, "%s: %s%s", c.path, stdout, stderr)
		assert.Contains(t, stderr, `unexpected argument "stray"`, c.path)
	}
}

func TestMaxPositional(t *testing.T) {
	for args, want := range map[string]int{
		"":                                0,
		"[--json]":                        0,
		"--customer ID|EMAIL [--json]":    0,
		"ID|EMAIL [--json]":               1,
		"NAME ROLE":                       2,
		"ID | --step STEP | --all":        1,
		"customers|purchases FILE [--x]":  2,
		"NAME --role ROLE [--key KEY]...": 1,
	} {
		assert.Equal(t, want, maxPositional(args), args)
	}
}

func TestTableCellsAreSafeForTheTerminal(t *testing.T) {
	for in, want := range map[string]string{
		"Anna":                      "Anna",
		"Am Markt 1\nHinterhaus":    "Am Markt 1 / Hinterhaus",
		"Am Markt 1\r\nHinterhaus":  "Am Markt 1 / Hinterhaus",
		"a\tb":                      "a b",
		"\x1b]0;pwned\a\x1b[31mRED": "\uFFFD]0;pwned\uFFFD\uFFFD[31mRED",
		"csi\u009b2J":               "csi\uFFFD2J",
	} {
		assert.Equal(t, want, cell(in), "%q", in)
	}
	var out bytes.Buffer
	require.NoError(t, table(&out, []string{"NAME"}, [][]string{{"\x1b[2Jx"}}))
	assert.NotContains(t, out.String(), "\x1b")
}

// A name with an escape sequence is refused with the field named, and
// nothing is created.
func TestCustomerAddRefusesControlCharacters(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	code, _, stderr := karton(t, "--db", db, "customer", "add", "--email", "esc@example.de", "--first-name", "\x1b]0;pwned\a\x1b[31mRED")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "first_name contains the control character U+001B (escape)")
	code, _, _ = karton(t, "--db", db, "customer", "show", "esc@example.de")
	assert.Equal(t, 1, code, "nothing was created")
}
