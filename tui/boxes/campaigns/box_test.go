package campaigns

import (
	"context"
	"regexp"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/tui/internal/screentest"
)

func isDraft(cp model.Campaign) bool { return cp.Status == model.StatusDraft }

// singleUserStore is a store with one user (the admin) and one draft
// campaign.
func singleUserStore(t *testing.T) *store.Store {
	t.Helper()
	s := screentest.EmptyStore(t)
	require.NoError(t, s.Update(screentest.Admin, func(tx *store.Tx) error {
		if err := tx.InsertUser(&model.User{Name: screentest.Admin.Name, Role: model.RoleAdmin}); err != nil {
			return err
		}
		return tx.InsertCampaign(&model.Campaign{Name: "Solo-Aktion", Start: screentest.AsOf, End: screentest.AsOf.AddDate(0, 0, 14),
			Budget: []model.BudgetLine{{Label: "Print", Planned: 50000}}})
	}))
	return s
}

func TestFourEyes(t *testing.T) {
	tests := []struct {
		name  string
		store func(*testing.T) *store.Store
		// approver approves after the admin submitted; nil: the admin
		// (the submitter) tries.
		approver   *model.Actor
		wantStatus model.CampaignStatus
		wantToast  string
		wantAudit  string
	}{
		{name: "submitter refused when others may approve", store: func(t *testing.T) *store.Store { return screentest.DemoStore(t, 100) },
			wantStatus: model.StatusSubmitted, wantToast: "four-eyes rule"},
		{name: "another approver approves", store: func(t *testing.T) *store.Store { return screentest.DemoStore(t, 100) },
			approver: &manager, wantStatus: model.StatusApproved, wantToast: "Approved", wantAudit: "campaign.approve"},
		{name: "single-user store self-approves, audited", store: singleUserStore,
			wantStatus: model.StatusApproved, wantToast: "Self-approved", wantAudit: "campaign.self_approve"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.store(t)
			h := newHarness(t, s, screentest.Admin, 120, 37)
			cp := h.selectWhere(isDraft)
			h.press("s")
			require.True(t, h.b.confirm.Active(), "submit asks first")
			h.press("y")
			assert.Contains(t, h.lastToast(), "Submitted "+cp.Name)
			require.Equal(t, model.StatusSubmitted, campaignOf(t, s, cp.ID).Status)
			require.Equal(t, screentest.Admin.Name, campaignOf(t, s, cp.ID).SubmittedBy)

			if tc.approver != nil {
				h = newHarness(t, s, *tc.approver, 120, 37)
				h.selectWhere(func(c model.Campaign) bool { return c.ID == cp.ID })
			}
			h.press("a")
			require.True(t, h.b.confirm.Active())
			if tc.approver == nil && tc.wantStatus == model.StatusSubmitted {
				assert.Contains(t, screentest.Plain(h.b.confirm.View()), "four-eyes", "the dialog warns before the store refuses")
			}
			h.press("y")
			assert.Contains(t, h.lastToast(), tc.wantToast)
			got := campaignOf(t, s, cp.ID)
			assert.Equal(t, tc.wantStatus, got.Status)
			if tc.wantStatus == model.StatusSubmitted {
				assert.Empty(t, got.ApprovedBy, "a refused approval changes nothing")
				assert.Contains(t, h.screen(), "awaiting approval", "the screen does not pretend it was approved")
			} else {
				assert.Contains(t, h.screen(), string(model.StatusApproved))
			}
			if tc.wantAudit != "" {
				var last []store.AuditEntry
				require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
					var err error
					last, err = r.AuditLatest(1)
					return err
				}))
				require.Len(t, last, 1)
				assert.Equal(t, tc.wantAudit, last[0].Action)
			}
		})
	}
}

func TestRejectAsksForANoteAndGoesBackToDraft(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	h := newHarness(t, s, manager, 120, 37)
	cp := h.selectWhere(func(c model.Campaign) bool { return c.Status == model.StatusSubmitted })
	h.press("x")
	require.NotNil(t, h.b.form)
	h.press("enter") // an empty note is refused by the field
	require.NotNil(t, h.b.form)
	assert.Equal(t, model.StatusSubmitted, campaignOf(t, s, cp.ID).Status)
	h.typeText("Budget zu hoch")
	h.press("enter")
	require.Nil(t, h.b.form, h.screen())
	got := campaignOf(t, s, cp.ID)
	assert.Equal(t, model.StatusDraft, got.Status)
	assert.Equal(t, "Budget zu hoch", got.RejectionNote)
	assert.Contains(t, h.lastToast(), "Rejected")
}

func TestRolesSeeOnlyTheirActions(t *testing.T) {
	tests := []struct {
		actor                         model.Actor
		submit, approve, reject, edit bool
	}{
		{screentest.Admin, true, true, true, true},
		{manager, true, true, true, true},
		{operator, true, false, false, true},
		{analyst, false, false, false, false},
		{viewer, false, false, false, false},
	}
	for _, tc := range tests {
		t.Run(string(tc.actor.Role), func(t *testing.T) {
			s := screentest.DemoStore(t, 100)
			h := newHarness(t, s, tc.actor, 120, 37)
			has := func(b key.Binding) bool {
				for _, k := range h.b.ShortHelp() {
					if k.Help().Key == b.Help().Key && k.Help().Desc == b.Help().Desc {
						return true
					}
				}
				return false
			}
			assert.Equal(t, tc.submit, has(h.b.submitKey), "submit")
			assert.Equal(t, tc.approve, has(h.b.approveKey), "approve")
			assert.Equal(t, tc.reject, has(h.b.rejectKey), "reject")
			assert.Equal(t, tc.edit, has(h.b.c.Keys.New), "new")
			assert.True(t, has(h.b.preflightKey), "everyone may preflight")

			// A hidden action pressed anyway is refused with a message and
			// changes nothing.
			before := campaignsOf(t, s)
			if !tc.approve {
				h.selectWhere(func(c model.Campaign) bool { return c.Status == model.StatusSubmitted })
				h.press("a")
				assert.False(t, h.b.confirm.Active())
				assert.Contains(t, h.lastToast(), "may not approve")
			}
			if !tc.edit {
				h.press("n")
				assert.Nil(t, h.b.form)
				assert.Contains(t, h.lastToast(), "may not create")
			}
			assert.Equal(t, before, campaignsOf(t, s))
		})
	}
}

func TestInvalidCampaignFormIsRefusedAndNothingWritten(t *testing.T) {
	tests := []struct {
		name   string
		typing func(h *harness)
		want   string
	}{
		{name: "end before start", want: "not saved: end 2026-01-01 is before the start", typing: func(h *harness) {
			h.typeText("Osteraktion")
			h.press("enter", "enter", "enter", "enter") // goal, owner, start, to the end
			for range 10 {
				h.press("backspace")
			}
			h.typeText("2026-01-01")
			h.press("enter", "enter") // currency, next page
			h.press("enter", "enter", "enter")
		}},
		{name: "bad currency", want: `not saved: currency "EU1" is not an ISO 4217 code`, typing: func(h *harness) {
			h.typeText("Osteraktion")
			h.press("enter", "enter", "enter", "enter", "enter")
			h.press("backspace", "backspace", "backspace")
			h.typeText("EU1")
			h.press("enter", "enter", "enter", "enter")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := screentest.DemoStore(t, 100)
			before := campaignsOf(t, s)
			h := newHarness(t, s, operator, 120, 37)
			h.press("n")
			require.NotNil(t, h.b.form)
			require.True(t, h.b.Capturing())
			tc.typing(h)
			require.NotNil(t, h.b.form, "the form stays open")
			assert.Contains(t, h.screen(), tc.want)
			assert.Equal(t, "Osteraktion", h.b.form.cv.Name, "what was typed is kept")
			assert.Equal(t, before, campaignsOf(t, s), "nothing was written")
			h.press("esc")
			assert.Nil(t, h.b.form)
			assert.Equal(t, before, campaignsOf(t, s))
		})
	}
}

func TestCreateCampaignAndStep(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	n := len(campaignsOf(t, s))
	h := newHarness(t, s, operator, 120, 37)
	h.press("n")
	h.typeText("Osteraktion")
	h.press("enter")
	h.typeText("Mehr Umsatz")
	h.press("enter", "enter", "enter", "enter", "enter") // owner, start, end, currency, next page
	h.typeText("Print = 300")
	h.press("enter", "enter", "enter")
	require.Nil(t, h.b.form, h.screen())
	assert.Contains(t, h.lastToast(), "Created campaign Osteraktion")
	after := campaignsOf(t, s)
	require.Len(t, after, n+1)
	cp, ok := h.b.selected()
	require.True(t, ok)
	assert.Equal(t, "Osteraktion", cp.Name, "the new campaign is selected")
	assert.Equal(t, model.Money(30000), cp.Planned())
	assert.Equal(t, "olga", cp.Owner)

	// A step with a schedule that is not a time stays in the form.
	h.press("+")
	require.NotNil(t, h.b.form)
	h.typeText("Mail")
	h.press("enter", "enter", "enter", "enter", "enter") // channel, purpose, audience, creative, to schedule
	for range 20 {
		h.press("backspace")
	}
	h.typeText("soon")
	h.press("enter")
	require.NotNil(t, h.b.form)
	assert.Empty(t, h.b.snap.steps[cp.ID])
	for range 4 {
		h.press("backspace")
	}
	h.typeText("2026-04-02 10:00")
	h.press("enter", "enter")
	require.Nil(t, h.b.form, h.screen())
	require.Len(t, h.b.snap.steps[cp.ID], 1)
	assert.Equal(t, "Mail", h.b.snap.steps[cp.ID][0].Name)
	assert.Equal(t, time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC), h.b.snap.steps[cp.ID][0].ScheduledAt)
}

func TestPreflightMatchesTheStore(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	h := newHarness(t, s, viewer, 120, 37)
	_, st := h.selectLaunchable()
	h.press("p")
	require.NotNil(t, h.b.pre)
	require.NotNil(t, h.b.pre.res, h.screen())
	want, err := s.Preflight(context.Background(), viewer, st.ID, store.PreflightOptions{Sample: sampleSize})
	require.NoError(t, err)
	assert.Equal(t, want, *h.b.pre.res)
	assert.Equal(t, want.Audience, want.Allowed+want.Denied)
	screen := h.screen()
	assert.Contains(t, screen, "Audience "+groupInt(int64(want.Audience)))
	for r, n := range want.ByReason {
		assert.Regexp(t, string(r)+` +`+groupInt(int64(n))+` `, screen)
	}
	assert.Contains(t, screen, "budget left "+want.BudgetLeft.Format(want.Currency))
	assert.NotContains(t, screen, "L launches", "a viewer is not offered the launch")
	h.press("L")
	assert.False(t, h.b.confirm.Active())
	assert.Contains(t, h.lastToast(), "viewer may not launch")
	h.press("esc")
	assert.Nil(t, h.b.pre)
}

func TestPreflightOfAnUnapprovedCampaignOffersNoLaunch(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	h := newHarness(t, s, screentest.Admin, 120, 37)
	h.selectWhere(func(c model.Campaign) bool { return c.Status == model.StatusSubmitted && len(h.b.snap.steps[c.ID]) > 0 })
	h.press("p")
	require.NotNil(t, h.b.pre.res)
	assert.Contains(t, h.screen(), "cannot launch now:")
	h.press("L")
	assert.False(t, h.b.confirm.Active())
	assert.Contains(t, h.lastToast(), "only steps of approved campaigns can be launched")
}

func decisionsOf(t *testing.T, s *store.Store, id model.StepID) (store.LaunchState, bool) {
	t.Helper()
	var st store.LaunchState
	var ok bool
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		var err error
		st, ok, err = r.LaunchState(id)
		return err
	}))
	return st, ok
}

func TestLaunchRunsToTheEnd(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	h := newHarness(t, s, operator, 120, 37)
	h.b.batch = 25
	_, st := h.selectLaunchable()
	h.press("p")
	pre := *h.b.pre.res
	h.press("L")
	require.True(t, h.b.confirm.Active())
	h.press("y")
	out := h.b.pre.launched
	require.NotNil(t, out, h.screen())
	require.NoError(t, out.err)
	assert.True(t, out.res.Complete)
	assert.False(t, out.cancelled)
	assert.Equal(t, pre.Audience, out.res.Audience)
	assert.Equal(t, pre.Allowed, out.res.Allowed)
	assert.Equal(t, 1.0, h.b.pre.prog.Fraction(), "the bar reached the end")
	ls, ok := decisionsOf(t, s, st.ID)
	require.True(t, ok)
	assert.Equal(t, pre.Audience, ls.Decided)
	assert.Contains(t, h.screen(), "done: "+groupInt(int64(pre.Audience))+" decided")
	assert.Contains(t, h.lastToast(), "Launched "+st.Name)
	h.press("L")
	assert.Contains(t, h.lastToast(), "cannot launch")
}

// TestLaunchCancelKeepsWhatIsDone drives the launch by hand: it takes the
// first progress report, presses esc, then lets the launch finish.
func TestLaunchCancelKeepsWhatIsDone(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	h := newHarness(t, s, operator, 120, 37)
	h.b.batch = 10
	_, st := h.selectLaunchable()
	h.press("p")
	pre := *h.b.pre.res
	require.Greater(t, pre.Audience, 40, "the audience spans several batches")
	h.press("L")
	require.True(t, h.b.confirm.Active())

	// The confirmation's answer starts the launch; its commands run until
	// the first progress report, which is taken but not yet followed.
	answer := h.b.Update(screentest.KeyPress("y"))
	first := h.runUntil(answer, func(m tea.Msg) bool { _, ok := m.(launchProgressMsg); return ok })
	require.IsType(t, launchProgressMsg{}, first)
	require.True(t, h.b.pre.launching)
	rest := h.b.Update(first)
	assert.Equal(t, 10, h.b.pre.prog.Decided)
	assert.Contains(t, h.screen(), "Launching")

	h.press("esc")
	require.NotNil(t, h.b.pre, "esc cancels the launch, it does not close the screen")
	assert.Contains(t, h.screen(), "Cancelling after the batch in flight")
	h.run(rest)

	out := h.b.pre.launched
	require.NotNil(t, out)
	require.NoError(t, out.err)
	assert.True(t, out.cancelled)
	assert.False(t, out.res.Complete)
	assert.Less(t, out.res.DecidedNow, pre.Audience)
	assert.Positive(t, out.res.DecidedNow)
	ls, ok := decisionsOf(t, s, st.ID)
	require.True(t, ok)
	assert.Equal(t, out.res.Audience, ls.Decided, "what was reported is what is stored")
	assert.Equal(t, out.res.DecidedNow, ls.Decided)
	assert.False(t, ls.Finished())
	screen := h.screen()
	assert.Contains(t, screen, "cancelled: "+groupInt(int64(ls.Decided))+" decisions recorded")
	assert.Contains(t, h.lastToast(), "cancelled")

	// L resumes the launch; nobody gets a second decision.
	h.press("L", "y")
	out = h.b.pre.launched
	require.NotNil(t, out)
	require.NoError(t, out.err)
	assert.True(t, out.res.Complete)
	assert.True(t, out.res.Resumed)
	assert.Equal(t, pre.Audience, out.res.Audience)
	assert.Equal(t, pre.Audience-ls.Decided, out.res.DecidedNow)
}

func TestTimelineScrollsByMonth(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	h := newHarness(t, s, viewer, 120, 37)
	h.press("t")
	require.Equal(t, viewTimeline, h.b.sub)
	tests := []struct {
		keys  []string
		month string
	}{
		{nil, "March 2026"},
		{[]string{"]"}, "April 2026"},
		{[]string{"]", "]", "]", "]", "]", "]", "]", "]", "]", "]"}, "February 2027"},
		{[]string{"["}, "January 2027"},
		{[]string{"g"}, "March 2026"},
		{[]string{"[", "[", "[", "["}, "November 2025"},
	}
	for _, tc := range tests {
		h.press(tc.keys...)
		screen := h.screen()
		assert.Contains(t, screen, tc.month, "after %v", tc.keys)
		first, next := h.b.timeline.month, h.b.timeline.month.AddDate(0, 1, 0)
		for _, cp := range h.b.snap.campaigns {
			overlaps := cp.Start.Before(next) && !cp.End.Before(first)
			if overlaps {
				assert.Contains(t, screen, cp.Name[:min(len(cp.Name), 10)], "%s runs in %s", cp.Name, tc.month)
			}
		}
	}
	h.press("t")
	assert.Equal(t, viewCampaigns, h.b.sub)
}

func TestSegmentsListedWithTheirSizes(t *testing.T) {
	s := screentest.DemoStore(t, 300)
	h := newHarness(t, s, operator, 120, 37)
	h.press("l", "l")
	require.Equal(t, viewSegments, h.b.sub)
	var segs []model.Segment
	var sizes []int
	require.NoError(t, s.View(operator, func(r *store.Reader) error {
		var err error
		if segs, err = r.Segments(); err != nil {
			return err
		}
		sizes, _, err = r.SegmentSizes(segs)
		return err
	}))
	screen := h.screen()
	for i, sg := range segs {
		assert.Equal(t, sizes[i], h.b.sizes[sg.ID], sg.Name)
		assert.Regexp(t, regexp.QuoteMeta(sg.Name)+` +`+groupInt(int64(sizes[i]))+` `, screen)
	}

	// An invalid condition is refused by the form; nothing is written.
	h.press("n")
	require.NotNil(t, h.b.form)
	h.typeText("Berliner")
	h.press("enter", "enter")
	h.typeText("town = Berlin")
	h.press("enter")
	require.NotNil(t, h.b.form)
	assert.Contains(t, h.screen(), "town")
	h.press("ctrl+a")
	for range 20 {
		h.press("backspace")
	}
	h.typeText("city = Berlin")
	h.press("enter")
	require.Nil(t, h.b.form, h.screen())
	assert.Contains(t, h.lastToast(), "Created segment Berliner")
	require.Len(t, h.b.snap.segments, len(segs)+1)
	added := h.b.snap.segments[len(segs)]
	var want int
	require.NoError(t, s.View(operator, func(r *store.Reader) error {
		var err error
		want, err = r.SegmentSize(added.ID)
		return err
	}))
	assert.Equal(t, want, h.b.sizes[added.ID])
}

func TestStoreChangesReloadTheBox(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	h := newHarness(t, s, viewer, 120, 37)
	cp := h.selectWhere(func(c model.Campaign) bool { return c.Status == model.StatusSubmitted })
	assert.Contains(t, h.screen(), "awaiting approval")
	feed, stop := s.Subscribe()
	defer stop()
	// Another session approves it.
	require.NoError(t, s.Update(manager, func(tx *store.Tx) error {
		return tx.TransitionCampaign(cp.ID, model.ActionApprove, "")
	}))
	h.run(h.b.StoreChanged(<-feed))
	got, ok := h.b.selected()
	require.True(t, ok)
	assert.Equal(t, cp.ID, got.ID, "the cursor stays on the campaign")
	assert.Equal(t, model.StatusApproved, got.Status)
	assert.Contains(t, h.screen(), "approved by markus")
	assert.Nil(t, h.b.StoreChanged([]store.Change{{Kind: store.ChangeConsent}}), "consent changes do not reload campaigns")
}

func TestFilterTheTable(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	h := newHarness(t, s, viewer, 120, 37)
	all := len(h.b.rows)
	h.press("/")
	require.True(t, h.b.Capturing(), "the filter has the keyboard")
	h.typeText("running")
	require.NotEmpty(t, h.b.rows)
	assert.Less(t, len(h.b.rows), all)
	for _, cp := range h.b.rows {
		assert.Equal(t, model.StatusRunning, cp.Status, cp.Name)
	}
	h.press("enter")
	assert.False(t, h.b.Capturing())
	assert.Contains(t, h.screen(), "filter: running · "+groupInt(int64(len(h.b.rows)))+" of ")
	h.press("j")
	cp, ok := h.b.selected()
	require.True(t, ok)
	assert.Equal(t, model.StatusRunning, cp.Status)
	h.press("esc")
	assert.Len(t, h.b.rows, all)
	got, _ := h.b.selected()
	assert.Equal(t, cp.ID, got.ID, "clearing the filter keeps the campaign selected")
	h.press("/")
	h.typeText("zzz")
	assert.Contains(t, h.screen(), "no campaign matches")
	h.press("esc")
	assert.Len(t, h.b.rows, all)
}

func TestCreativeFormRefusesAnUnknownFieldAndSavesAValidOne(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	h := newHarness(t, s, operator, 120, 37)
	cp := h.selectWhere(func(c model.Campaign) bool {
		return isDraft(c) && len(c.Creatives) > 0 && len(h.b.snap.steps[c.ID]) > 0
	})
	name := h.b.snap.steps[cp.ID][0].Creative
	require.NotEmpty(t, name)
	h.press("c")
	require.NotNil(t, h.b.form)
	assert.Contains(t, h.screen(), "Edit creative "+name)
	h.press("enter", "enter", "ctrl+u")
	h.typeText("Hallo {{shoe_size}}")
	h.press("enter")
	require.NotNil(t, h.b.form)
	assert.Equal(t, cp, campaignOf(t, s, cp.ID), "nothing was written")
	assert.Contains(t, h.screen(), "shoe_size")
	h.press("ctrl+u")
	h.typeText("Hallo {{first_name|du}}")
	h.press("enter", "enter", "enter")
	require.Nil(t, h.b.form, h.screen())
	assert.Contains(t, h.lastToast(), "Saved creative "+name)
	got := campaignOf(t, s, cp.ID)
	cr, ok := got.Creative(name)
	require.True(t, ok)
	assert.Equal(t, "Hallo {{first_name|du}}", cr.Subject)
	assert.Len(t, got.Creatives, len(cp.Creatives))
}
