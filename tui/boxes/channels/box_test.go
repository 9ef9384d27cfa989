package channels

import (
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/tui/internal/screentest"
)

var (
	operator = model.Actor{Name: "olga", Role: model.RoleOperator, Via: "test"}
	viewer   = model.Actor{Name: "vera", Role: model.RoleViewer, Via: "test"}
)

func TestCreateRefusesAnInvalidChannelAndWritesNothing(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	before := channels(t, s)
	h := newHarness(t, s, screentest.Admin, 120, 37)
	h.press("n")
	require.NotNil(t, h.b.form)
	require.True(t, h.b.Capturing(), "the form has the keyboard")
	h.typeText("Push")
	h.press("enter", "enter", "enter", "enter") // kind, software, status, next page
	h.press("enter", "enter")                   // connector, settings
	h.typeText("0.10")
	h.press("enter") // currency
	h.press("backspace", "backspace", "backspace")
	h.typeText("E1X")
	h.press("enter")

	require.NotNil(t, h.b.form, "the form stays open")
	assert.Contains(t, h.screen(), `not saved: currency "E1X" is not an ISO 4217 code like EUR`)
	assert.Equal(t, "Push", h.b.form.values.Name, "what was typed is kept")
	assert.Equal(t, before, channels(t, s), "nothing was written")
	h.press("esc")
	assert.Nil(t, h.b.form)
	assert.Equal(t, before, channels(t, s))
}

func TestCreateValidChannel(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	n := len(channels(t, s))
	h := newHarness(t, s, screentest.Admin, 120, 37)
	h.press("n")
	h.typeText("Push")
	h.press("enter", "enter")
	h.typeText("OneSignal")
	h.press("enter", "enter", "enter")
	h.typeText("dir=outbox/push")
	h.press("enter")
	h.typeText("0.02")
	h.press("enter", "enter")
	require.Nil(t, h.b.form, h.screen())
	assert.Contains(t, h.lastToast(), "Created channel Push")
	after := channels(t, s)
	require.Len(t, after, n+1)
	ch := after[n]
	assert.Equal(t, "Push", ch.Name)
	assert.Equal(t, "OneSignal", ch.Software)
	assert.Equal(t, model.Money(2), ch.CostPerContact)
	assert.Equal(t, map[string]string{"dir": "outbox/push"}, ch.Connector.Settings)
	assert.Contains(t, h.screen(), "Push", "the table shows the new channel")
}

func TestEditAsAdminSaves(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	h := newHarness(t, s, screentest.Admin, 120, 37)
	first := channels(t, s)[0]
	h.press("e")
	require.NotNil(t, h.b.form)
	assert.Contains(t, h.screen(), "Edit "+first.Name)
	h.press("enter", "enter", "enter", "enter", "enter", "enter") // to the cost
	h.press("backspace", "backspace", "backspace", "backspace")
	h.typeText("0.03")
	h.press("enter", "enter")
	require.Nil(t, h.b.form, h.screen())
	assert.Contains(t, h.lastToast(), "Saved channel "+first.Name)
	got := channels(t, s)[0]
	assert.Equal(t, model.Money(3), got.CostPerContact)
	assert.Equal(t, first.Connector.Settings, got.Connector.Settings, "settings with ';' in a value survive the form")
	assert.Contains(t, h.screen(), "€0.03")
}

func TestNonAdminSeesNoCreateOrEdit(t *testing.T) {
	s := screentest.DemoStore(t, 50)
	for _, actor := range []model.Actor{operator, viewer} {
		t.Run(string(actor.Role), func(t *testing.T) {
			h := newHarness(t, s, actor, 120, 37)
			var shown []string
			for _, b := range h.b.ShortHelp() {
				shown = append(shown, b.Help().Key)
			}
			for _, g := range h.b.FullHelp() {
				for _, b := range g {
					shown = append(shown, b.Help().Key)
				}
			}
			assert.NotContains(t, shown, "e")
			assert.NotContains(t, shown, "n")
			h.press("e")
			assert.Nil(t, h.b.form)
			assert.Contains(t, h.lastToast(), "only admins manage channels")
			h.press("n")
			assert.Nil(t, h.b.form)
			for _, it := range h.b.PaletteItems() {
				assert.NotEqual(t, itemNew, it.ID)
			}
		})
	}
}

func TestStoreRefusesEditEvenIfTheScreenWouldAllow(t *testing.T) {
	s := screentest.DemoStore(t, 50)
	ch := channels(t, s)[0]
	cmd := saveChannel(s, operator, 1, ch.ID, ch, *valuesFrom(&ch))
	msg := cmd().(channelSavedMsg)
	require.Error(t, msg.err)
	assert.Contains(t, msg.err.Error(), "manage channels")
}

func TestRetryDeadLetter(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	postal, dead := withDeadLetters(t, s)
	h := newHarness(t, s, operator, 120, 37)
	for range indexOf(t, s, postal.ID) {
		h.press("j")
	}
	h.press("l")
	require.Equal(t, viewOutbox, h.b.sub)
	require.Equal(t, postal.ID, h.b.deadFor)
	assert.Contains(t, h.screen(), "print shop rejected the address")
	h.press("enter")
	id, ok := selectedDead(h.b.dead)
	require.True(t, ok)
	h.press("r")
	assert.Contains(t, h.lastToast(), "queued again")
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		m, err := r.OutboxEntry(id)
		assert.Equal(t, store.OutboxPending, m.Status, "the retried letter is queued")
		return err
	}))
	assert.Equal(t, int64(dead-1), h.b.data.outbox[postal.ID].Counts.Dead)
	assert.Equal(t, int64(1), h.b.data.outbox[postal.ID].Queued())
	if next, ok := selectedDead(h.b.dead); ok {
		assert.NotEqual(t, id, next, "the retried letter left the list")
	}

	// R asks first; n declines, y retries the rest.
	h.press("R")
	require.True(t, h.b.confirm.Active())
	assert.Contains(t, h.screen(), "Retry")
	h.press("n")
	assert.Equal(t, int64(dead-1), h.b.data.outbox[postal.ID].Counts.Dead)
	h.press("R", "y")
	assert.Contains(t, h.lastToast(), "queued again")
	assert.Zero(t, h.b.data.outbox[postal.ID].Counts.Dead)
	assert.Equal(t, int64(dead), h.b.data.outbox[postal.ID].Queued())
	assert.Contains(t, h.screen(), "nothing failed for good")
}

func TestViewerMayNotRetry(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	postal, dead := withDeadLetters(t, s)
	h := newHarness(t, s, viewer, 120, 37)
	for range indexOf(t, s, postal.ID) {
		h.press("j")
	}
	h.press("l", "enter", "r")
	assert.Contains(t, h.lastToast(), "may not retry")
	for _, b := range h.b.ShortHelp() {
		assert.False(t, key.Matches(screentest.KeyPress("R"), b), "R is not offered")
	}
	assert.Equal(t, int64(dead), h.b.data.outbox[postal.ID].Counts.Dead)
}

func TestAnotherOperatorsOptOutReloadsReach(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	h := newHarness(t, s, viewer, 120, 37)
	newsletter := channels(t, s)[0]
	require.Equal(t, model.KindEmail, newsletter.Kind)
	reach, purpose := h.b.data.headlineReach(model.KindEmail)
	require.Positive(t, reach)
	covBefore := h.b.cov.cov.For(model.KindEmail)

	// Someone allowed on that scope opts out in another session.
	var cid model.CustomerID
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		for i := model.CustomerID(1); i <= 100 && cid == 0; i++ {
			cs, err := r.ConsentState(i)
			if err != nil {
				return err
			}
			if sc, ok := cs.Scope(model.KindEmail, purpose.ID); ok && sc.Allow() {
				cid = i
			}
		}
		return nil
	}))
	require.NotZero(t, cid)
	feed, stop := s.Subscribe()
	defer stop()
	ev := model.ConsentEvent{CustomerID: cid, Channel: model.KindEmail, PurposeID: purpose.ID, Kind: model.ConsentOptOut,
		EffectiveAt: screentest.Now(), Source: "unsubscribe-link"}
	require.NoError(t, s.Update(operator, func(tx *store.Tx) error { return tx.AppendConsent(&ev, nil) }))
	h.run(h.b.StoreChanged(<-feed))

	after, _ := h.b.data.headlineReach(model.KindEmail)
	assert.Equal(t, reach-1, after, "reach follows the maintained counter")
	row, ok := h.b.table.Selected()
	require.True(t, ok)
	assert.True(t, strings.Contains(strings.Join(row.Cells, " "), groupInt(after)), "the table shows the new reach: %v", row.Cells)
	require.False(t, h.b.cov.running)
	require.False(t, h.b.cov.stale, "the coverage was recounted")
	for i, sc := range h.b.cov.cov.For(model.KindEmail) {
		if sc.Purpose == purpose.ID {
			assert.Equal(t, covBefore[i].Allowed-1, sc.Allowed)
			assert.Equal(t, covBefore[i].ByReason[model.ReasonWithdrawn]+1, sc.ByReason[model.ReasonWithdrawn])
		}
	}
}

func TestSliceFetchPagesLikeAStore(t *testing.T) {
	s := screentest.DemoStore(t, 20)
	h := newHarness(t, s, viewer, 80, 12) // a table shorter than the channels
	n := len(channels(t, s))
	for range n + 3 {
		h.press("j")
	}
	ch, ok := h.b.selected()
	require.True(t, ok)
	assert.Equal(t, channels(t, s)[n-1].ID, ch.ID, "the cursor stops at the last channel")
	h.press("g")
	ch, _ = h.b.selected()
	assert.Equal(t, channels(t, s)[0].ID, ch.ID)
	h.press("G")
	ch, _ = h.b.selected()
	assert.Equal(t, channels(t, s)[n-1].ID, ch.ID)
}
