package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type checkJSON struct {
	Allow  bool   `json:"allow"`
	Reason string `json:"reason"`
	Rule   int    `json:"rule"`
	Event  string `json:"event"`
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, stderr := karton(t, args...)
	require.Equal(t, 0, code, "%v: %s", args, stderr)
	return out
}

func checkScope(t *testing.T, db string, extra ...string) checkJSON {
	t.Helper()
	args := append([]string{"--db", db, "consent", "check", "--customer", "jana@example.de", "--channel", "email", "--purpose", "newsletter", "--json"}, extra...)
	var c checkJSON
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, args...)), &c))
	return c
}

func TestConsentAcceptanceFlow(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "--db", db, "purpose", "add", "newsletter", "--category", "marketing", "--own-similar-products")
	mustRun(t, "--db", db, "customer", "add", "--email", "jana@example.de", "--first-name", "Jana")
	before := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	mustRun(t, "--db", db, "consent", "record", "--customer", "jana@example.de", "--channel", "email", "--purpose", "newsletter", "--kind", "opt_in", "--at", before, "--evidence", "ip=192.0.2.1")
	mustRun(t, "--db", db, "consent", "record", "--customer", "jana@example.de", "--channel", "email", "--purpose", "newsletter", "--kind", "doi_confirmed", "--at", before)
	c := checkScope(t, db)
	assert.True(t, c.Allow)
	assert.Equal(t, "CONSENT_DOI", c.Reason)
	assert.Equal(t, 9, c.Rule)

	mustRun(t, "--db", db, "consent", "record", "--customer", "jana@example.de", "--channel", "email", "--purpose", "newsletter", "--kind", "opt_out")
	c = checkScope(t, db)
	assert.False(t, c.Allow)
	assert.Equal(t, "WITHDRAWN", c.Reason)
	assert.Equal(t, "CONSENT_DOI", checkScope(t, db, "--at", before).Reason, "before the opt-out it allowed")

	assert.Contains(t, mustRun(t, "--db", db, "audit", "verify"), "intact")
	mustRun(t, "--db", db, "customer", "erase", "jana@example.de")
	assert.Contains(t, mustRun(t, "--db", db, "audit", "verify"), "intact")
	code, out, _ := karton(t, "--db", db, "consent", "check", "--customer", "1", "--channel", "email", "--purpose", "newsletter", "--json")
	require.Equal(t, 0, code)
	require.NoError(t, json.Unmarshal([]byte(out), &c))
	assert.Equal(t, "ERASED_SUPPRESSED", c.Reason)
	assert.Contains(t, mustRun(t, "--db", db, "customer", "add", "--email", "JANA@example.de"), "SUPPRESSED")
	assert.Equal(t, "ERASED_SUPPRESSED", checkScope(t, db).Reason)
}

func TestConsentRecordRejectsBadInput(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "--db", db, "purpose", "add", "newsletter", "--category", "marketing")
	mustRun(t, "--db", db, "customer", "add", "--email", "jana@example.de")
	base := []string{"--db", db, "consent", "record", "--customer", "jana@example.de", "--purpose", "newsletter"}
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"--channel", "email", "--kind", "maybe"}, 2, "unknown consent kind"},
		{[]string{"--channel", "fax", "--kind", "opt_in"}, 2, "unknown channel kind"},
		{[]string{"--channel", "email", "--kind", "opt_in", "--at", "yesterday"}, 2, "RFC 3339"},
		{[]string{"--channel", "email", "--kind", "opt_in", "--at", "2099-01-01T00:00:00Z"}, 1, "in the future"},
		{[]string{"--channel", "email", "--kind", "opt_in", "--evidence", "blob=" + strings.Repeat("x", 5000)}, 1, "limit is 4096 bytes"},
		{[]string{"--channel", "email", "--kind", "opt_in", "--purpose", "nope"}, 1, "no purpose"},
		{[]string{"--channel", "email", "--kind", "opt_in", "--customer", "nobody@example.de"}, 1, "no customer"},
		{[]string{"--channel", "email", "--kind", "opt_in", "--evidence", "ip=192.0.2.1", "--evidence", "ip=192.0.2.2"}, 2, "ip is given twice"},
		{[]string{"--channel", "email", "--kind", "objection"}, 2, "covers every channel and purpose"},
		{[]string{"--kind", "erasure"}, 2, "karton customer erase"},
	} {
		code, _, stderr := karton(t, append(append([]string{}, base...), tc.args...)...)
		assert.Equal(t, tc.code, code, "%v: %s", tc.args, stderr)
		assert.Contains(t, stderr, tc.says, "%v", tc.args)
	}
	var hist []any
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "consent", "history", "--customer", "jana@example.de", "--json")), &hist))
	assert.Empty(t, hist, "nothing was written")
}

func TestConsentImportReportsEveryBadLine(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	mustRun(t, "--db", db, "purpose", "add", "newsletter", "--category", "marketing")
	mustRun(t, "--db", db, "customer", "add", "--email", "known@example.de")
	lines := []string{
		`{"customer_email":"known@example.de","channel":"email","purpose":"newsletter","kind":"opt_in","at":"2025-01-01T10:00:00Z","evidence":{"ip":"192.0.2.1"}}`,
		`{"customer_email":"new@example.de","channel":"email","purpose":"newsletter","kind":"opt_in","at":"2025-01-01T10:00:00Z"}`,
		`{"customer":1,"channel":"email","purpose":"newsletter","kind":"doi_confirmed","at":"2025-01-01T10:05:00Z"}`,
		`this is not json`,
		`{"customer":1,"channel":"email","purpose":"newsletter","kind":"opt_in","at":"01.01.2025"}`,
		`{"customer":1,"channel":"email","purpose":"nope","kind":"opt_in","at":"2025-01-01T10:00:00Z"}`,
		`{"customer":999,"channel":"email","purpose":"newsletter","kind":"opt_in","at":"2025-01-01T10:00:00Z"}`,
		`{"customer":1,"channel":"email","purpose":"newsletter","kind":"opt_in","at":"2099-01-01T10:00:00Z"}`,
		``,
		`{"customer_email":"broken@","channel":"email","purpose":"newsletter","kind":"opt_in","at":"2025-01-01T10:00:00Z"}`,
		`{"customer":1,"channel":"email","purpose":"newsletter","kind":"opt_out","at":"2025-01-01T10:00:00Z"} {"customer":1}`,
	}
	file := filepath.Join(dir, "consents.jsonl")
	require.NoError(t, os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600))

	var rep struct {
		Read, Written, Rejected int
		CustomersCreated        int `json:"customers_created"`
		Rejections              []struct {
			Line   int
			Reason string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "consent", "import", file, "--dry-run", "--json")), &rep))
	assert.Equal(t, 10, rep.Read)
	assert.Equal(t, 3, rep.Written)
	assert.Equal(t, 7, rep.Rejected)
	stats := mustRun(t, "--db", db, "stats", "--json")
	assert.Contains(t, stats, `"consent_events": 0`, "a dry run writes nothing")

	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "consent", "import", file, "--json")), &rep))
	assert.Equal(t, 3, rep.Written)
	assert.Equal(t, 1, rep.CustomersCreated)
	lines2 := map[int]string{}
	for _, r := range rep.Rejections {
		lines2[r.Line] = r.Reason
	}
	assert.Contains(t, lines2[4], "not a JSON object")
	assert.Contains(t, lines2[5], "RFC 3339")
	assert.Contains(t, lines2[6], "unknown purpose")
	assert.Contains(t, lines2[7], "no customer 999")
	assert.Contains(t, lines2[8], "in the future")
	assert.Contains(t, lines2[10], "customer_email")
	assert.Contains(t, lines2[11], "one event a line", "a second object on a line is not dropped quietly")
	assert.Contains(t, mustRun(t, "--db", db, "stats", "--json"), `"consent_events": 3`)
	assert.Contains(t, mustRun(t, "--db", db, "audit", "verify"), "intact")

	// Running the same import twice does not record its events twice.
	code, _, stderr := karton(t, "--db", db, "consent", "import", file)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "consents.jsonl was imported before (by ")
	assert.Contains(t, stderr, "3 events written")
	assert.Contains(t, mustRun(t, "--db", db, "stats", "--json"), `"consent_events": 3`)
	assert.Contains(t, mustRun(t, "--db", db, "consent", "import", file, "--again"), "imported 3 of 10 events")
	assert.Contains(t, mustRun(t, "--db", db, "stats", "--json"), `"consent_events": 6`)
}

func TestAuditVerifyJSON(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "--db", db, "purpose", "add", "newsletter", "--category", "marketing")
	var v struct {
		OK      bool
		Entries int
		Head    string
	}
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "audit", "verify", "--json")), &v))
	assert.True(t, v.OK)
	assert.Equal(t, 2, v.Entries)
	assert.Len(t, v.Head, 64)
}

// `consent history --json` and `customer export-data` show consent events
// alike, in the shape of `karton export consents`: snake_case keys, the
// evidence hash in hex, the evidence itself; export-data's lists are
// present even when empty.
func TestConsentJSONShapes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "--db", db, "purpose", "add", "newsletter", "--category", "marketing")
	mustRun(t, "--db", db, "customer", "add", "--email", "jana@example.de", "--first-name", "Jana", "--birth-date", "1990-04-01")
	mustRun(t, "--db", db, "consent", "record", "--customer", "jana@example.de", "--channel", "email", "--purpose", "newsletter", "--kind", "opt_in", "--evidence", "ip=192.0.2.1")

	var hist []map[string]any
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "consent", "history", "--customer", "jana@example.de", "--json")), &hist))
	require.Len(t, hist, 1)
	ev := hist[0]
	for _, k := range []string{"id", "customer_id", "channel", "purpose", "kind", "basis", "effective_at", "recorded_at", "actor", "evidence_hash", "evidence"} {
		assert.Contains(t, ev, k)
	}
	assert.Equal(t, "newsletter", ev["purpose"])
	assert.Regexp(t, "^[0-9a-f]{64}$", ev["evidence_hash"])
	assert.Equal(t, map[string]any{"ip": "192.0.2.1"}, ev["evidence"])

	var pd map[string]any
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "customer", "export-data", "jana@example.de")), &pd))
	for _, k := range []string{"consents", "current_consent_state", "interactions", "purchases", "decisions"} {
		assert.IsType(t, []any{}, pd[k], "%s is a list, not null", k)
	}
	consents := pd["consents"].([]any)
	require.Len(t, consents, 1)
	assert.Equal(t, ev, consents[0], "the same record as the history")
	customer := pd["customer"].(map[string]any)
	assert.Equal(t, "jana@example.de", customer["email"])
	assert.Equal(t, "1990-04-01", customer["birth_date"])
}

// The history table shows what the evidence says, not how many keys it
// has; after erasure, that it was erased.
func TestConsentHistoryShowsEvidence(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "--db", db, "purpose", "add", "newsletter", "--category", "marketing")
	mustRun(t, "--db", db, "customer", "add", "--email", "jana@example.de")
	mustRun(t, "--db", db, "consent", "record", "--customer", "jana@example.de", "--channel", "email", "--purpose", "newsletter", "--kind", "opt_in",
		"--evidence", "ip=192.0.2.1", "--evidence", "form=footer signup", "--evidence", "user_agent=Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0")
	mustRun(t, "--db", db, "consent", "record", "--customer", "jana@example.de", "--channel", "email", "--purpose", "newsletter", "--kind", "opt_out")

	out := mustRun(t, "--db", db, "consent", "history", "--customer", "jana@example.de")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	assert.True(t, strings.HasSuffix(lines[1], "form=footer signup, ip=192.0.2.1, user_agent=Mo…"), lines[1])
	assert.True(t, strings.HasSuffix(lines[2], " -"), lines[2])

	mustRun(t, "--db", db, "user", "add", "vera", "--role", "viewer")
	out = mustRun(t, "--db", db, "--as", "vera", "consent", "history", "--customer", "1")
	assert.Contains(t, strings.Split(out, "\n")[1], "withheld", "a viewer may not see personal data")
	assert.NotContains(t, out, "192.0.2.1")

	mustRun(t, "--db", db, "customer", "erase", "1")
	out = mustRun(t, "--db", db, "consent", "history", "--customer", "1")
	assert.Contains(t, out, "opt_in")
	assert.Contains(t, strings.Split(out, "\n")[1], "erased")
	assert.NotContains(t, out, "192.0.2.1")
}

// Recording an event for a suppressed customer says whether the
// suppression stays, and why; the opt-in with evidence that lifts it says so.
func TestConsentRecordSaysWhetherSuppressionStays(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "--db", db, "purpose", "add", "newsletter", "--category", "marketing")
	mustRun(t, "--db", db, "customer", "add", "--email", "jana@example.de", "--phone", "+491701234567")
	mustRun(t, "--db", db, "customer", "erase", "1")
	assert.Contains(t, mustRun(t, "--db", db, "customer", "add", "--email", "jana@example.de", "--phone", "+491701234567"), "SUPPRESSED")
	record := func(args ...string) string {
		return mustRun(t, append([]string{"--db", db, "consent", "record", "--customer", "2", "--purpose", "newsletter"}, args...)...)
	}
	assert.Contains(t, record("--channel", "email", "--kind", "opt_in"), "stays suppressed (a contact point of an erased person): only an opt-in with --evidence lifts it")
	assert.Contains(t, record("--channel", "email", "--kind", "opt_out"), "stays suppressed (a contact point of an erased person) until an opt-in with evidence")
	assert.Contains(t, record("--channel", "email", "--kind", "opt_in", "--evidence", "form=footer"), "stays suppressed: another of their contact points")
	assert.Contains(t, record("--channel", "sms", "--kind", "opt_in", "--evidence", "form=checkout"), "suppression lifted")
	out := record("--channel", "sms", "--kind", "opt_out")
	assert.NotContains(t, out, "suppress")
	assert.NotContains(t, mustRun(t, "--db", db, "customer", "show", "2"), "suppressed")
}

// A file that is not JSON Lines at all gets a readable report: the first
// hundred rejections and how many more --json lists.
func TestConsentImportReportIsReadableForAFileOfGarbage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "--db", db, "purpose", "add", "newsletter", "--category", "marketing")
	file := filepath.Join(t.TempDir(), "garbage.jsonl")
	require.NoError(t, os.WriteFile(file, []byte(strings.Repeat("PK\x03\x04 not json\n", 250)), 0o644))
	out := mustRun(t, "--db", db, "consent", "import", file)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Equal(t, "imported 0 of 250 events (0 new customers), 250 rejected", lines[0])
	assert.Len(t, lines, 1+100+1)
	assert.Equal(t, "  … and 150 more (--json lists every one)", lines[len(lines)-1])
	var rep struct{ Rejections []any }
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "consent", "import", file, "--json")), &rep))
	assert.Len(t, rep.Rejections, 250)
}

func TestConsentHistoryOfAScope(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "--db", db, "purpose", "add", "newsletter", "--category", "marketing")
	mustRun(t, "--db", db, "purpose", "add", "offers", "--category", "marketing")
	mustRun(t, "--db", db, "customer", "add", "--email", "jana@example.de", "--phone", "+491701234567")
	rec := func(args ...string) {
		mustRun(t, append([]string{"--db", db, "consent", "record", "--customer", "1"}, args...)...)
	}
	rec("--channel", "email", "--purpose", "newsletter", "--kind", "opt_in")
	rec("--channel", "sms", "--purpose", "offers", "--kind", "opt_in")
	rec("--kind", "objection")
	out := mustRun(t, "--db", db, "consent", "history", "--customer", "1", "--channel", "email", "--purpose", "newsletter")
	assert.Contains(t, out, "email/newsletter")
	assert.Contains(t, out, "all channels and purposes")
	assert.NotContains(t, out, "sms/offers")
	code, _, stderr := karton(t, "--db", db, "consent", "history", "--customer", "1", "--channel", "fax")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--channel")
	code, _, stderr = karton(t, "--db", db, "consent", "history", "--customer", "1", "--purpose", "nope")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `no purpose "nope"`)
}

// An import says how many of the customers it created or changed are
// suppressed because a contact point belongs to an erased person.
func TestImportCountsSuppressedCustomers(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "--db", db, "customer", "add", "--email", "gone@example.de", "--phone", "+491701234567")
	mustRun(t, "--db", db, "customer", "add", "--email", "other@example.de")
	mustRun(t, "--db", db, "customer", "erase", "1")
	file := filepath.Join(t.TempDir(), "c.csv")
	require.NoError(t, os.WriteFile(file, []byte("email,first_name,phone\n"+
		"gone@example.de,Back,\n"+ // created, suppressed by its email
		"other@example.de,Other,+491701234567\n"+ // updated to the erased phone
		"fresh@example.de,Fresh,\n"), 0o644))
	var b struct{ Created, Updated, Suppressed int }
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "import", "customers", file, "--source", "crm", "--json")), &b))
	assert.Equal(t, 2, b.Created)
	assert.Equal(t, 1, b.Updated)
	assert.Equal(t, 2, b.Suppressed)
	out := mustRun(t, "--db", db, "import", "customers", file, "--source", "crm2", "--dry-run")
	assert.NotContains(t, out, "suppressed", "nothing new is suppressed by a second import")
}
