package web

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
)

// Every event that comes back through the return channel is in the audit
// chain with who brought it — "web" for links, "source:NAME" for inbound
// events — and responses land in the rollups the Warehouse counts.
func TestReturnChannelEventsAreAuditedAndCounted(t *testing.T) {
	f := newFixture(t)
	addSource(t, f)
	start, err := f.st.VerifyAudit()
	require.NoError(t, err)

	_, doi := requestDOI(t, f)
	resp, _ := do(t, http.MethodPost, doi.URL, formType, []byte("confirm=yes"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = do(t, http.MethodGet, clickURL(t, f, 0, f.links[0]), "", nil)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	resp, _ = do(t, http.MethodPost, unsubscribeURL(t, f, f.cid, f.newsletter), formType, []byte("List-Unsubscribe=One-Click"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body := post(t, f, `{"id":"r1","type":"interaction","customer":{"email":"jana@example.de"},"kind":"replied","channel":"email"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)

	var entries []store.AuditEntry
	require.NoError(t, f.st.View(admin, func(r *store.Reader) (err error) {
		entries, err = r.AuditEntries(start.Entries+1, 100)
		return err
	}))
	type act struct{ actor, action string }
	var got []act
	for _, e := range entries {
		got = append(got, act{e.Actor, e.Action})
	}
	for _, want := range []act{
		{"ada", "consent.doi_requested"},
		{"web", "consent.doi_confirmed"},
		{"web", "interaction.clicked"},
		{"web", "consent.opt_out"},
		{"source:shop", "inbound.events"},
	} {
		assert.Contains(t, got, want)
	}
	v, err := f.st.VerifyAudit()
	require.NoError(t, err)
	assert.True(t, v.OK)

	counts := map[model.InteractionKind]int64{}
	require.NoError(t, f.st.View(admin, func(r *store.Reader) error {
		day := store.DayOf(f.clock.now())
		return r.InteractionRollups(day, day, func(x store.InteractionRollup) error {
			if x.Kind == model.InteractionClicked {
				assert.Equal(t, f.campaign, x.Campaign, "a click counts for its campaign")
			}
			counts[x.Kind] += x.Count
			return nil
		})
	}))
	assert.Equal(t, int64(1), counts[model.InteractionClicked])
	assert.Equal(t, int64(1), counts[model.InteractionReplied])
	assert.Equal(t, int64(1), counts[model.InteractionUnsubscribed])
	var kpi store.KPIReport
	require.NoError(t, f.st.View(admin, func(r *store.Reader) (err error) {
		kpi, err = r.KPIs(store.KPIQuery{From: f.clock.now(), To: f.clock.now()})
		return err
	}))
	assert.Equal(t, int64(2), kpi.Total.Responses, "the click and the reply are responses")
	_, diffs, err := f.st.VerifyRollups()
	require.NoError(t, err)
	assert.Empty(t, diffs)
}
