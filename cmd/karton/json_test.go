package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every --json output speaks one dialect, the one of `karton export`:
// snake_case keys, hashes in hex, dates as text. A Go struct printed as it
// is (keys like "CustomerID", a hash as 32 numbers, a birth date as
// {"Year","Month","Day"}) is a defect of the command that printed it.
func TestJSONOutputsSpeakOneDialect(t *testing.T) {
	db := filepath.Join(t.TempDir(), "d.db")
	mustRun(t, "demo", "--no-tui", "--db", db, "--customers", "300", "--seed", "7", "--as-of", "2026-03-15")
	// Keys below these are data (reason codes, source names, attributes).
	dataKeys := map[string]bool{"by_reason": true, "attributes": true, "preferences": true, "sources": true, "evidence": true}
	key := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	var walk func(cmd, path string, v any)
	walk = func(cmd, path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, sub := range x {
				if !key.MatchString(k) {
					t.Errorf("%s: key %q at %s", cmd, k, path)
				}
				if dataKeys[k] {
					continue
				}
				walk(cmd, path+"."+k, sub)
			}
		case []any:
			if len(x) == 32 {
				numbers := true
				for _, e := range x {
					_, ok := e.(float64)
					numbers = numbers && ok
				}
				if numbers {
					t.Errorf("%s: 32 numbers at %s (a hash? print it in hex)", cmd, path)
				}
			}
			for _, e := range x {
				walk(cmd, path+"[]", e)
			}
		}
	}
	for _, cmd := range []string{
		"stats", "channel list", "purpose list", "segment list", "campaign list", "campaign show 1", "customer show 2",
		"customer add --email json.test@example.de --birth-date 1990-04-01", "kpi", "rfm", "cohorts", "clv fit", "clv score",
		"quality", "quality issues --problem missing --field email", "rollups verify", "merge suggestions", "import list",
		"outbox list", "source list", "user list", "audit verify",
		"consent check --customer 2 --channel email --purpose newsletter", "consent history --customer 2",
		"consent record --customer 2 --channel email --purpose offers --kind opt_in --evidence ip=192.0.2.1",
		"analytics run", "campaign preflight 1", "consent refresh",
	} {
		args := append([]string{"--db", db}, strings.Fields(cmd)...)
		var v any
		require.NoError(t, json.Unmarshal([]byte(mustRun(t, append(args, "--json")...)), &v), cmd)
		walk(cmd, "", v)
	}
	var pd any
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "customer", "export-data", "2")), &pd))
	walk("customer export-data", "", pd)
	assert.NotNil(t, pd)
}
