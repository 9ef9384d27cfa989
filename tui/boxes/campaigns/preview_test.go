package campaigns

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/tui/internal/screentest"
)

// withPurchaseCreative adds a draft campaign whose creative needs the last
// purchase date (no default) and a step using it.
func withPurchaseCreative(t *testing.T, s *store.Store) (model.Campaign, model.Step) {
	t.Helper()
	var cp model.Campaign
	var st model.Step
	require.NoError(t, s.Update(screentest.Admin, func(tx *store.Tx) error {
		r := tx.Reader()
		chans, err := r.Channels()
		if err != nil {
			return err
		}
		purps, err := r.Purposes()
		if err != nil {
			return err
		}
		segs, err := r.Segments()
		if err != nil {
			return err
		}
		var email model.Channel
		for _, ch := range chans {
			if ch.Kind == model.KindEmail && email.ID == 0 {
				email = ch
			}
		}
		cp = model.Campaign{Name: "AAA Dankeschön", Start: screentest.AsOf.AddDate(1, 0, 0), End: screentest.AsOf.AddDate(1, 0, 10),
			Creatives: []model.Creative{{Name: "Dank", Kind: model.KindEmail, Subject: "Danke, {{first_name|Hallo}}",
				Body: "Ihr letzter Einkauf am {{last_purchase_date}}."}}}
		if err := tx.InsertCampaign(&cp); err != nil {
			return err
		}
		st = model.Step{CampaignID: cp.ID, Name: "Dankesmail", ChannelID: email.ID, PurposeID: purps[0].ID, SegmentID: segs[0].ID,
			Creative: "Dank", ScheduledAt: cp.Start}
		return tx.InsertStep(&st)
	}))
	return cp, st
}

func TestPreviewRendersOrShowsTheRecipientsError(t *testing.T) {
	s := screentest.DemoStore(t, 100)
	cp, st := withPurchaseCreative(t, s)
	// One customer the creative renders for, one it cannot.
	var ok, bad model.Customer
	var okPreview store.MessagePreview
	var badPreview store.MessagePreview
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		for id := model.CustomerID(1); id <= 100 && (ok.ID == 0 || bad.ID == 0); id++ {
			pv, err := r.PreviewMessage(st.ID, id)
			if err != nil {
				continue
			}
			c, err := r.Customer(id)
			if err != nil {
				return err
			}
			if pv.Error == "" && ok.ID == 0 && c.Email != "" {
				ok, okPreview = c, pv
			}
			if pv.Error != "" && bad.ID == 0 {
				bad, badPreview = c, pv
			}
		}
		return nil
	}))
	require.NotZero(t, ok.ID)
	require.NotZero(t, bad.ID)

	h := newHarness(t, s, screentest.Admin, 120, 37)
	h.selectWhere(func(c model.Campaign) bool { return c.ID == cp.ID })
	h.press("v")
	require.NotNil(t, h.b.preview)
	require.True(t, h.b.Capturing())

	h.typeText(ok.Email)
	h.press("enter")
	screen := h.screen()
	assert.Contains(t, screen, okPreview.Subject)
	assert.Contains(t, screen, okPreview.Body)
	assert.NotContains(t, screen, "render error")

	for range len(ok.Email) {
		h.press("backspace")
	}
	h.typeText(bad.ID.String())
	h.press("enter")
	screen = h.screen()
	assert.Contains(t, screen, "render error for this recipient: ")
	assert.Contains(t, screen, badPreview.Error[:min(len(badPreview.Error), 40)])
	assert.NotContains(t, screen, "Ihr letzter Einkauf", "nothing half-filled is shown")

	for range len(bad.ID.String()) {
		h.press("backspace")
	}
	h.typeText("nobody@example.invalid")
	h.press("enter")
	assert.Contains(t, h.screen(), "cannot preview: ")
	h.press("esc")
	assert.Nil(t, h.b.preview)
}
