package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/store"
	"karton/store/demo"
)

// demoDB writes a small demo store and returns its path. The demo's "today"
// is a day before the real clock, which the CLI runs on.
func demoDB(t *testing.T, customers int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "demo.db")
	asOf := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Hour)
	s, err := store.Open(path, store.Options{Now: func() time.Time { return asOf }, Secret: demo.Secret(3)})
	require.NoError(t, err)
	_, err = demo.Generate(context.Background(), s, demo.Options{Customers: customers, Seed: 3, AsOf: asOf})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	return path
}

type campaignRow struct {
	ID     uint64 `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

type campaignJSON struct {
	ID     uint64 `json:"ID"`
	Status string `json:"Status"`
	Steps  []struct {
		ID      uint64 `json:"ID"`
		Name    string `json:"Name"`
		Status  string `json:"Status"`
		Channel string `json:"channel"`
	} `json:"steps"`
}

// findStep returns the id of the named step of the first campaign in the
// given status.
func findStep(t *testing.T, db, status, step string) uint64 {
	_, s := findCampaignStep(t, db, status, step)
	return s
}

// findCampaignStep is findStep with the campaign's id.
func findCampaignStep(t *testing.T, db, status, step string) (campaign, stepID uint64) {
	t.Helper()
	var cs []campaignRow
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "campaign", "list", "--json")), &cs))
	for _, c := range cs {
		if c.Status != status {
			continue
		}
		var cj campaignJSON
		require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "campaign", "show", "--json", itoa(c.ID))), &cj))
		for _, s := range cj.Steps {
			if s.Name == step || step == "" {
				return c.ID, s.ID
			}
		}
	}
	t.Fatalf("no step %q in a %s campaign", step, status)
	return 0, 0
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// TestLaunchAcceptance is the acceptance flow of issue 5 on a demo store:
// preflight's allowed + denied = audience; launch writes that many
// decisions; dispatch through the file connector writes exactly the allowed
// lines minus whoever objected in between; launching again changes
// nothing; the audit chain verifies.
func TestLaunchAcceptance(t *testing.T) {
	db := demoDB(t, 400)
	campaign, step := findCampaignStep(t, db, "approved", "Postkarte Bestkunden")
	sid := itoa(step)

	var pre struct {
		Audience      int            `json:"audience"`
		Allowed       int            `json:"allowed"`
		Denied        int            `json:"denied"`
		ByReason      map[string]int `json:"by_reason"`
		EstimatedCost int64          `json:"estimated_cost"`
		BudgetLeft    int64          `json:"budget_left"`
	}
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "campaign", "preflight", sid, "--json")), &pre))
	require.Greater(t, pre.Allowed, 5)
	assert.Equal(t, pre.Audience, pre.Allowed+pre.Denied)
	assert.Equal(t, int64(pre.Allowed)*85, pre.EstimatedCost, "postal costs 0.85 per letter")
	assert.Positive(t, pre.BudgetLeft)
	text := mustRun(t, "--db", db, "campaign", "preflight", sid)
	assert.Contains(t, text, "ready: `karton campaign launch")

	// Nobody without the permission, and no unapproved campaign.
	code, _, stderr := karton(t, "--db", db, "--as", "vera", "campaign", "launch", sid)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "vera is a viewer and may not launch campaign steps")
	draft := findStep(t, db, "submitted", "")
	code, _, stderr = karton(t, "--db", db, "campaign", "launch", itoa(draft))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "only steps of approved campaigns can be launched")
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, "one clear line")

	var launched struct {
		Complete bool           `json:"complete"`
		Audience int            `json:"audience"`
		Allowed  int            `json:"allowed"`
		Denied   int            `json:"denied"`
		ByReason map[string]int `json:"by_reason"`
		Messages int            `json:"messages"`
	}
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "campaign", "launch", sid, "--json")), &launched))
	assert.True(t, launched.Complete)
	assert.Equal(t, pre.Audience, launched.Audience, "exactly one decision per audience member")
	assert.Equal(t, pre.Allowed, launched.Allowed)
	assert.Equal(t, pre.ByReason, launched.ByReason)

	// One allowed customer objects before the letters go out.
	var ob struct {
		Messages []struct {
			CustomerID uint64 `json:"customer_id"`
		} `json:"messages"`
	}
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "outbox", "list", "--step", sid, "--json")), &ob))
	require.Len(t, ob.Messages, min(50, pre.Allowed))
	objector := itoa(ob.Messages[0].CustomerID)
	mustRun(t, "--db", db, "consent", "record", "--customer", objector, "--kind", "objection")

	var rep struct {
		Sent       int            `json:"sent"`
		Suppressed int            `json:"suppressed_at_dispatch"`
		ByReason   map[string]int `json:"by_reason"`
		Dead       int            `json:"dead"`
	}
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "dispatch", "--once", "--json")), &rep))
	assert.Equal(t, pre.Allowed-1, rep.Sent)
	assert.Equal(t, 1, rep.Suppressed)
	assert.Equal(t, map[string]int{"OBJECTION": 1}, rep.ByReason)
	assert.Zero(t, rep.Dead)

	f, err := os.Open(filepath.Join(filepath.Dir(db), "outbox", "print", "step-"+sid+".csv"))
	require.NoError(t, err, "the print shop's file is next to the store")
	records, err := csv.NewReader(f).ReadAll()
	f.Close()
	require.NoError(t, err)
	require.Len(t, records, 1+pre.Allowed-1, "a header and exactly the allowed letters minus the objector")
	assert.Equal(t, "message_id", records[0][0])
	for _, r := range records[1:] {
		assert.NotEqual(t, objector, r[1])
		assert.NotEmpty(t, r[14], "letters carry the street")
	}

	// Launching again changes nothing.
	before := mustRun(t, "--db", db, "audit", "verify", "--json")
	code, _, stderr = karton(t, "--db", db, "campaign", "launch", sid)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "a step cannot be launched twice")
	assert.Equal(t, before, mustRun(t, "--db", db, "audit", "verify", "--json"))
	assert.Contains(t, mustRun(t, "--db", db, "audit", "verify"), "intact")
	rep2 := mustRun(t, "--db", db, "dispatch", "--once")
	assert.Contains(t, rep2, "sent 0,")

	show := mustRun(t, "--db", db, "campaign", "show", itoa(campaign))
	assert.Contains(t, show, "running")
	assert.Contains(t, show, "Postkarte Bestkunden")
	var export struct {
		Decisions []struct {
			StepID uint64 `json:"step_id"`
			Reason string `json:"reason"`
		} `json:"decisions"`
	}
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "customer", "export-data", objector)), &export))
	require.NotEmpty(t, export.Decisions)
	assert.Equal(t, step, export.Decisions[len(export.Decisions)-1].StepID)

	// Erasing a recipient blanks their letter in the print shop's file,
	// which the store's erasure does not reach; erasing the objector, whose
	// letter was never written, touches no file.
	printFile := filepath.Join(filepath.Dir(db), "outbox", "print", "step-"+sid+".csv")
	original, err := os.ReadFile(printFile)
	require.NoError(t, err)
	erased := records[1]
	out := mustRun(t, "--db", db, "customer", "erase", erased[1])
	assert.Contains(t, out, "blanked their 1 record(s) in "+printFile+" (")
	after, err := os.ReadFile(printFile)
	require.NoError(t, err)
	assert.Len(t, after, len(original), "blanked in place")
	require.Contains(t, erased[19], "BF"+erased[1], "the body holds the person's code")
	assert.NotContains(t, string(after), erased[19])
	rows, err := csv.NewReader(bytes.NewReader(after)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, len(records), len(rows))
	assert.Equal(t, records[2:], rows[2:], "the other letters stay")
	assert.Equal(t, erased[:8], rows[1][:8], "ids, kind, attempt and time stay")
	for _, f := range rows[1][8:] {
		assert.Empty(t, strings.TrimSpace(f))
	}
	assert.Contains(t, mustRun(t, "--db", db, "audit", "verify"), "intact")
	out = mustRun(t, "--db", db, "customer", "erase", erased[1])
	assert.Contains(t, out, "was erased already")
	assert.Contains(t, out, "no records of theirs left to blank in "+printFile)
	out = mustRun(t, "--db", db, "customer", "erase", objector)
	assert.NotContains(t, out, "file")
	assert.NotContains(t, out, "blank")

	// A file it cannot read is named, the erasure stands, and a run after
	// the file is mended finishes the job.
	third := rows[3]
	header, data, _ := bytes.Cut(after, []byte("\n"))
	damaged := slices.Concat(header, []byte("\nnot,a,record\n"), data)
	require.NoError(t, os.WriteFile(printFile, damaged, 0o600))
	code, out, stderr = karton(t, "--db", db, "customer", "erase", third[1])
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "erased customer "+third[1])
	assert.Contains(t, out, "could not blank their records: "+printFile+": unreadable CSV: record on line 2")
	assert.Contains(t, stderr, "1 file(s) still hold customer "+third[1]+"'s messages")
	assert.Equal(t, damaged, must(os.ReadFile(printFile)), "nothing was changed in the file")
	require.NoError(t, os.WriteFile(printFile, after, 0o600))
	out = mustRun(t, "--db", db, "customer", "erase", third[1])
	assert.Contains(t, out, "blanked their 1 record(s)")
	assert.NotContains(t, string(must(os.ReadFile(printFile))), third[19])

	// Each run that found the file is in the audit chain.
	st, err := store.Open(db, store.Options{})
	require.NoError(t, err)
	defer st.Close()
	var redactions []string
	require.NoError(t, st.View(store.SystemActor, func(r *store.Reader) error {
		es, err := r.AuditLatest(20)
		for _, e := range es {
			if e.Action == "customer.erase.files" {
				redactions = append(redactions, e.Subject)
			}
		}
		return err
	}))
	assert.ElementsMatch(t, []string{"customer:" + erased[1], "customer:" + erased[1], "customer:" + third[1], "customer:" + third[1]}, redactions)
}

// must is v, failing the test on err.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestCampaignCommands(t *testing.T) {
	db := demoDB(t, 100)
	out := mustRun(t, "--db", db, "campaign", "list")
	assert.Contains(t, out, "Black Friday Week")
	out = mustRun(t, "--db", db, "segment", "list")
	assert.Contains(t, out, "CONDITIONS")
	var segs []struct {
		Name string `json:"name"`
		Size int    `json:"size"`
	}
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "segment", "list", "--json")), &segs))
	require.NotEmpty(t, segs)
	total := 0
	for _, s := range segs {
		total += s.Size
	}
	assert.Positive(t, total)

	// The approval flow: submit as the operator, approve as the manager.
	var cs []campaignRow
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "--db", db, "campaign", "list", "--json")), &cs))
	var draft uint64
	for _, c := range cs {
		if c.Status == "draft" {
			draft = c.ID
		}
	}
	require.NotZero(t, draft)
	id := itoa(draft)
	assert.Contains(t, mustRun(t, "--db", db, "--as", "olga", "campaign", "submit", id), "is now submitted")
	code, _, stderr := karton(t, "--db", db, "--as", "olga", "campaign", "approve", id)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "olga is an operator and may not approve campaigns")
	assert.Contains(t, mustRun(t, "--db", db, "--as", "markus", "campaign", "reject", id, "--note", "zu teuer"), "is now draft")
	assert.Contains(t, mustRun(t, "--db", db, "campaign", "show", id), "rejected by markus: zu teuer")

	for _, args := range [][]string{
		{"campaign", "launch"},
		{"campaign", "launch", "x"},
		{"campaign", "preflight", "1", "2"},
		{"outbox", "retry"},
		{"outbox", "list", "--status", "lost"},
	} {
		code, _, stderr := karton(t, append([]string{"--db", db}, args...)...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
	}
	code, _, stderr = karton(t, "--db", db, "campaign", "preflight", "9999")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "no step 9999")
}
