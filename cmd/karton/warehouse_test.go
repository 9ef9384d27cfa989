package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixturePath(name string) string { return filepath.Join("..", "..", "testdata", "import", name) }

func TestImportTwiceChangesNothingAndRollupsVerify(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	mustRun(t, "--db", db, "purpose", "add", "newsletter", "--category", "marketing")
	type batch struct {
		ID                                             uint64
		Read, Created, Updated, Merged, Unchanged      int
		Rejected, CustomersCreated                     int
		Rejections                                     []struct{ Line int }
		Status, Encoding, Format, Source, Entity, File string
	}
	imp := func(args ...string) batch {
		t.Helper()
		var b batch
		out := mustRun(t, append([]string{"--db", db, "import", "--json"}, args...)...)
		require.NoError(t, json.Unmarshal([]byte(out), &b), out)
		return b
	}
	files := [][]string{
		{"customers", fixturePath("kunden_de_cp1252.csv"), "--source", "crm"},
		{"purchases", fixturePath("bestellungen_datumsformate.csv"), "--source", "crm"},
		{"interactions", fixturePath("interactions.csv"), "--source", "mailer"},
		{"consents", fixturePath("consents_broken.jsonl"), "--source", "forms"},
	}
	for _, f := range files {
		b := imp(f...)
		assert.NotZero(t, b.Created, "%v", f)
		assert.Equal(t, "complete", b.Status)
	}
	stats := mustRun(t, "--db", db, "stats", "--json")
	for _, f := range files {
		b := imp(f...)
		assert.Zero(t, b.Created+b.Updated+b.Merged+b.CustomersCreated, "second import of %s", f[1])
		assert.NotZero(t, b.Unchanged)
	}
	var s1, s2 map[string]any
	require.NoError(t, json.Unmarshal([]byte(stats), &s1))
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "stats", "--json")), &s2))
	for _, k := range []string{"customers", "purchases", "interactions", "consent_events", "revenue_minor"} {
		assert.Equal(t, s1[k], s2[k], k)
	}
	assert.Contains(t, mustRun(t, "--db", db, "rollups", "verify"), "rollups match")
	assert.Contains(t, mustRun(t, "--db", db, "audit", "verify"), "intact")

	var list []batch
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "import", "list", "--json")), &list))
	assert.Len(t, list, 8)

	// The quality report is current after imports.
	var q struct {
		Overall struct {
			Records int
			Score   float64
		}
		Sources []struct{ Source string }
	}
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "quality", "--json")), &q))
	assert.Equal(t, 4, q.Overall.Records)
	assert.Greater(t, q.Overall.Score, 50.0)
}

func TestImportRejectionsDryRunStrictAndReport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	report := filepath.Join(dir, "rejected.csv")
	code, out, stderr := karton(t, "--db", db, "import", "customers", fixturePath("customers_invalid.csv"), "--strict")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, stderr, "strict")
	assert.Contains(t, out, "line 4: phone")
	out = mustRun(t, "--db", db, "import", "customers", fixturePath("customers_invalid.csv"), "--dry-run")
	assert.Contains(t, out, "dry run, nothing written")
	assert.Contains(t, mustRun(t, "--db", db, "stats"), "customers       0")
	out = mustRun(t, "--db", db, "import", "customers", fixturePath("customers_invalid.csv"), "--report", report)
	assert.Contains(t, out, "2 created")
	rep, err := os.ReadFile(report)
	require.NoError(t, err)
	assert.Equal(t, 4, strings.Count(string(rep), "\n"), "a header and three rejected rows:\n%s", rep)

	for _, bad := range []string{"empty.csv", "binary.png"} {
		code, _, stderr := karton(t, "--db", db, "import", "customers", fixturePath(bad))
		assert.Equal(t, 1, code)
		assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, "one clear error: %s", stderr)
	}
	code, _, stderr = karton(t, "--db", db, "import", "shoes", fixturePath("empty.csv"))
	assert.Equal(t, 2, code, stderr)
	code, _, stderr = karton(t, "--db", db, "import", "customers", fixturePath("customers_bom.csv"), "--map", "nonsense")
	assert.Equal(t, 2, code, stderr)
}

func TestCDNOWThroughTheCLI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	cdnow := filepath.Join("..", "..", "testdata", "cdnow", "CDNOW_sample.txt")
	mustRun(t, "--db", db, "import", "purchases", cdnow, "--source", "cdnow", "--no-header",
		"--map", "2=customer_id", "--map", "3=at", "--map", "5=amount", "--create-missing")
	var fit map[string]any
	out := mustRun(t, "--db", db, "clv", "fit", "--calibration-end", "1997-09-30", "--unit", "week", "--json")
	require.NoError(t, json.Unmarshal([]byte(out), &fit), out)
	for _, k := range []string{"r", "alpha", "a", "b", "bgnbd_log_likelihood", "p", "q", "gamma", "gamma_gamma_log_likelihood"} {
		assert.IsType(t, 0.0, fit[k], k)
	}
	assert.InEpsilon(t, 0.243, fit["r"], 0.01)
	assert.InDelta(t, -9582.4, fit["bgnbd_log_likelihood"], 0.5)
	assert.Contains(t, mustRun(t, "--db", db, "clv", "score", "--as-of", "1997-09-30"), "2357 customers scored")
	assert.Contains(t, mustRun(t, "--db", db, "rfm"), "customers scored")
	assert.Contains(t, mustRun(t, "--db", db, "cohorts", "--from", "1997-01", "--through", "1998-06"), "1997-01")
	assert.Contains(t, mustRun(t, "--db", db, "analytics", "run"), "CLV:")
}

func TestMergeAndExportThroughTheCLI(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	mustRun(t, "--db", db, "customer", "add", "--email", "a@example.de", "--first-name", "Ida", "--last-name", "Ober")
	mustRun(t, "--db", db, "customer", "add", "--email", "b@example.de", "--first-name", "Ida", "--last-name", "Ober")
	mustRun(t, "--db", db, "merge", "rescan")
	// Same name, but neither postcode nor birth date: no suggestion.
	assert.NotContains(t, mustRun(t, "--db", db, "merge", "suggestions"), "Ida Ober")
	out := mustRun(t, "--db", db, "merge", "1", "2")
	assert.Contains(t, out, "merged customer 2 into 1")
	code, _, stderr := karton(t, "--db", db, "merge", "1", "2")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "no customer 2")

	file := filepath.Join(dir, "customers.jsonl")
	mustRun(t, "--db", db, "export", "customers", "--out", file)
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(b), "\n"))
	mustRun(t, "--db", db, "user", "add", "olga", "--role", "operator")
	code, _, stderr = karton(t, "--db", db, "--as", "olga", "export", "customers")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "permission denied")
	assert.Contains(t, mustRun(t, "--db", db, "export", "audit"), "export.customers")
}
