package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/store"
)

// remoteStore is a store with a purpose, a customer and a user of each
// role but admin, opened as `karton serve` holds it; run sends a command
// as ssh would, as the named user.
type remoteStore struct {
	t   *testing.T
	dir string
	st  *store.Store
}

func newRemoteStore(t *testing.T) *remoteStore {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	mustRun(t, "--db", db, "purpose", "add", "newsletter", "--category", "marketing")
	mustRun(t, "--db", db, "customer", "add", "--email", "jana@example.de", "--first-name", "Jana")
	for _, u := range [][2]string{{"mara", "manager"}, {"otto", "operator"}, {"vera", "viewer"}} {
		mustRun(t, "--db", db, "user", "add", u[0], "--role", u[1])
	}
	st, err := store.Open(db, store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return &remoteStore{t: t, dir: dir, st: st}
}

func (r *remoteStore) run(user, stdin string, args ...string) (int, string, string) {
	r.t.Helper()
	actor, err := r.st.Actor(user, "ssh")
	require.NoError(r.t, err)
	var out, errOut bytes.Buffer
	code := remoteCommand(r.st)(context.Background(), actor, args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestRemoteDataSubjectRequests: while the server holds the store, an
// operator imports consent files sent on standard input and a manager
// exports a person's data to their own machine, each as themselves.
func TestRemoteDataSubjectRequests(t *testing.T) {
	r := newRemoteStore(t)
	lines := `{"customer_email":"jana@example.de","channel":"email","purpose":"newsletter","kind":"opt_in","at":"2026-01-10T09:00:00Z","evidence":{"form":"footer"}}
{"customer_email":"jana@example.de","channel":"fax","purpose":"newsletter","kind":"opt_in","at":"2026-01-10T09:00:00Z"}
`
	code, out, errOut := r.run("otto", lines, "consent", "import", "-", "--dry-run")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "dry run: would import 1 of 2 events")
	code, out, errOut = r.run("otto", lines, "karton", "consent", "import", "-")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "imported 1 of 2 events")
	assert.Contains(t, out, `line 2: channel: unknown channel kind "fax"`)
	code, _, errOut = r.run("otto", lines, "consent", "import", "-")
	assert.Equal(t, 1, code, "the same bytes again")
	assert.Contains(t, errOut, "stdin was imported before (by otto")
	code, _, errOut = r.run("otto", "", "consent", "import", filepath.Join(r.dir, "k.db"))
	assert.Equal(t, 2, code, "a file on the server is not read by name")
	assert.Contains(t, errOut, "over ssh the file comes on standard input")

	// A client that goes away while sending: nothing of it is imported.
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	otto, err := r.st.Actor("otto", "ssh")
	require.NoError(t, err)
	var cut bytes.Buffer
	other := strings.Replace(lines, "footer", "header", 1)
	assert.Equal(t, 1, remoteCommand(r.st)(gone, otto, []string{"consent", "import", "-"}, strings.NewReader(other), &cut, &cut))
	assert.Contains(t, cut.String(), "the connection ended while the file was sent; nothing was imported")

	code, out, errOut = r.run("otto", "", "consent", "check", "--customer", "jana@example.de", "--channel", "email", "--purpose", "newsletter", "--json")
	require.Equal(t, 0, code, errOut)
	var c checkJSON
	require.NoError(t, json.Unmarshal([]byte(out), &c))
	assert.Equal(t, "PENDING_DOI", c.Reason)

	code, _, errOut = r.run("otto", "", "customer", "export-data", "jana@example.de")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "otto is an operator and may not export personal data")
	code, out, errOut = r.run("mara", "", "customer", "export-data", "jana@example.de")
	require.Equal(t, 0, code, errOut)
	var pd store.PersonalData
	require.NoError(t, json.Unmarshal([]byte(out), &pd))
	assert.Equal(t, "mara", pd.ExportedBy)
	require.Len(t, pd.Consents, 1)
	assert.Equal(t, "footer", pd.Consents[0].Evidence["form"])

	out = filepath.Join(r.dir, "out.csv")
	code, _, errOut = r.run("mara", "", "export", "consents", "--out", out)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--out is not available over ssh")
	assert.NoFileExists(t, out)
	code, out, errOut = r.run("mara", "", "export", "audit", "--format", "jsonl")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `"action":"customer.export".*"actor":"mara"|"actor":"mara".*"action":"customer.export"`, out, "the export is audited as the session's user")

	code, out, errOut = r.run("vera", "", "customer", "show", "1")
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, out, "jana@example.de", "a viewer sees personal data masked, over ssh as anywhere")
}

// TestRemoteCommandsAreListedAndRefused: help lists every command with a
// summary, each answers --help, and what works on the server's files or
// identity is refused with what to do instead.
func TestRemoteCommandsAreListedAndRefused(t *testing.T) {
	r := newRemoteStore(t)
	code, help, _ := r.run("vera", "", "help")
	require.Equal(t, 0, code)
	for _, c := range remoteCommands() {
		assert.NotEmpty(t, c.summary, c.path)
		assert.Contains(t, help, c.path)
		code, out, errOut := r.run("vera", "", append(strings.Fields(c.path), "--help")...)
		assert.Equal(t, 0, code, "%s --help: %s", c.path, errOut)
		assert.Contains(t, out, "usage: karton "+c.path, c.path)
		assert.NotContains(t, out, "-db string", "%s --help over ssh offers no flag it refuses", c.path)
	}
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"backup", "/tmp/x.db"}, `"backup /tmp/x.db" is not a command the server runs over ssh`},
		{[]string{"stats"}, "not a command the server runs"},
		{[]string{"customer", "show", "1", "--db", "/etc/passwd"}, "--db is not available over ssh"},
		{[]string{"customer", "show", "1", "--as=anna"}, "--as is not available over ssh"},
		{[]string{"user", "add", "x", "--role", "viewer", "--key-file", "/root/.ssh/id.pub"}, "give keys with --key"},
	} {
		code, _, errOut := r.run("vera", "", tc.args...)
		assert.Equal(t, 2, code, "%v", tc.args)
		assert.Contains(t, errOut, tc.says, "%v", tc.args)
	}
	// "customer export-data" is not taken for "export" with a stray word.
	code, _, errOut := r.run("vera", "", "customer", "export-data", "1")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "vera is a viewer and may not export personal data")
	_, err := os.Stat(filepath.Join(r.dir, "x.db"))
	assert.True(t, os.IsNotExist(err))
}

// TestConsentImportFromStandardInput: `-` reads the lines from standard
// input locally too, with the same refusal of a file imported before.
func TestConsentImportFromStandardInput(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "--db", db, "purpose", "add", "newsletter", "--category", "marketing")
	line := `{"customer_email":"neu@example.de","channel":"email","purpose":"newsletter","kind":"opt_in","at":"2026-01-10T09:00:00Z"}` + "\n"
	importStdin := func() (int, string, string) {
		var out, errOut bytes.Buffer
		code := run([]string{"--db", db, "consent", "import", "-"}, strings.NewReader(line), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, out, errOut := importStdin()
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "imported 1 of 1 events (1 new customers)")
	code, _, errOut = importStdin()
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "was imported before")
}

// TestRemoteImportFromStandardInput: a CSV sent on standard input is
// previewed and imported as a batch under the name given; a file named on
// the server is refused, and so is --name with a file.
func TestRemoteImportFromStandardInput(t *testing.T) {
	r := newRemoteStore(t)
	csv := "Kundennr;Vorname;E-Mail\nX-1;Ida;ida@example.de\nX-2;Bo;kaputt-at-example\n"
	code, out, errOut := r.run("otto", csv, "import", "preview", "customers", "-")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "stdin: csv, utf-8, delimiter ;, header row")
	code, out, errOut = r.run("otto", csv, "import", "customers", "-", "--source", "crm2", "--name", "kunden.csv")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "imported customers from kunden.csv (source crm2")
	assert.Contains(t, out, "1 created")
	assert.Contains(t, out, `line 3: email (column "E-Mail")`)
	code, out, errOut = r.run("vera", "", "import", "list")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `crm2\s+customers\s+kunden\.csv\s+complete`, out)

	code, _, errOut = r.run("otto", "", "import", "customers", filepath.Join(r.dir, "k.db"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "over ssh the file comes on standard input: ssh … import customers - <")
	code, _, errOut = r.run("vera", csv, "import", "customers", "-")
	assert.Equal(t, 1, code, "a viewer may not import")
	assert.Contains(t, errOut, "vera is a viewer")

	code, _, errOut = karton(t, "--db", filepath.Join(t.TempDir(), "x.db"), "import", "customers", "kunden.csv", "--name", "x")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--name names what comes on standard input")
}
