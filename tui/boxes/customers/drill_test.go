package customers

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/palette"
	"karton/tui/internal/screentest"
)

// scoreSome gives customers 1..n alternating segments and CLVs: odd ids
// Champions with CLV 200.00, even ids Lost with CLV 5.00.
func scoreSome(t *testing.T, s *store.Store, n int) {
	t.Helper()
	require.NoError(t, s.Update(screentest.Admin, func(tx *store.Tx) error {
		for id := 1; id <= n; id++ {
			sc := store.CustomerScores{R: 5, F: 5, M: 5, Segment: model.RFMChampions, CLV: 20000, ComputedAt: screentest.AsOf}
			if id%2 == 0 {
				sc = store.CustomerScores{R: 1, F: 1, M: 1, Segment: model.RFMLost, CLV: 500, ComputedAt: screentest.AsOf}
			}
			if err := tx.PutScores(model.CustomerID(id), sc); err != nil {
				return err
			}
		}
		return nil
	}))
}

func TestDrillDownBySegmentAndCLV(t *testing.T) {
	s := screentest.DemoStore(t, 60)
	scoreSome(t, s, 20)
	tests := []struct {
		name, expr string
		want       func(id model.CustomerID) bool
	}{
		{"segment", `segment:"Champions"`, func(id model.CustomerID) bool { return id <= 20 && id%2 == 1 }},
		{"segment folded", `segment:lost`, func(id model.CustomerID) bool { return id <= 20 && id%2 == 0 }},
		{"clv range", `clv:1000-30000`, func(id model.CustomerID) bool { return id <= 20 && id%2 == 1 }},
		{"clv open range", `clv:0-`, func(id model.CustomerID) bool { return id <= 20 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, s, screentest.Admin, 120, 40)
			cmd, ok := h.b.PaletteChosen(palette.Item{ID: common.ItemCustomerFilter + tc.expr, Title: tc.name})
			require.True(t, ok)
			h.run(cmd)
			ids := h.visibleIDs()
			require.NotEmpty(t, ids, h.lastToast())
			var want []model.CustomerID
			for id := model.CustomerID(1); id <= 60; id++ {
				if tc.want(id) {
					want = append(want, id)
				}
			}
			slices.Sort(ids)
			assert.Equal(t, want, ids)
			assert.Contains(t, h.screen(), "filter: "+tc.expr)
		})
	}
}

func TestDrillDownByIDList(t *testing.T) {
	s := screentest.DemoStore(t, 60)
	h := newHarness(t, s, screentest.Admin, 120, 40)
	cmd, ok := h.b.PaletteChosen(palette.Item{ID: common.ItemCustomerIDs + "7,3,42", Title: "email invalid · shop"})
	require.True(t, ok)
	h.run(cmd)
	assert.Equal(t, []model.CustomerID{7, 3, 42}, h.visibleIDs(), "the list's order, nothing else")
	assert.Contains(t, h.screen(), "email invalid · shop")
	h.press("j", "k", "G", "g")
	assert.Equal(t, []model.CustomerID{7, 3, 42}, h.visibleIDs())

	cmd, ok = h.b.PaletteChosen(palette.Item{ID: common.ItemCustomerIDs + "7,x"})
	require.True(t, ok)
	h.run(cmd)
	assert.Contains(t, h.lastToast(), `"x" is not a customer id`)
}

func TestDrillDownFilterErrors(t *testing.T) {
	s := screentest.DemoStore(t, 20)
	analyst := model.Actor{Name: "ana", Role: model.RoleAnalyst, Via: "test"}
	tests := []struct {
		name  string
		actor model.Actor
		expr  string
		want  string
	}{
		{"unknown segment", screentest.Admin, "segment:gold", "not an RFM segment"},
		{"bad clv", screentest.Admin, "clv:abc", "range in cents"},
		{"clv upside down", screentest.Admin, "clv:500-100", "upper bound"},
		{"source hidden from analysts", analyst, "source:shop", "needs permission to see personal data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, s, tc.actor, 100, 30)
			cmd, ok := h.b.PaletteChosen(palette.Item{ID: common.ItemCustomerFilter + tc.expr, Title: tc.name})
			require.True(t, ok)
			h.run(cmd)
			assert.Contains(t, h.lastToast(), tc.want)
		})
	}
}

func TestDrillDownBySource(t *testing.T) {
	s := screentest.DemoStore(t, 60)
	h := newHarness(t, s, screentest.Admin, 120, 40)
	src := customer(t, s, 1).Sources[0].Source
	cmd, ok := h.b.PaletteChosen(palette.Item{ID: common.ItemCustomerFilter + "source:" + src})
	require.True(t, ok)
	h.run(cmd)
	ids := h.visibleIDs()
	require.NotEmpty(t, ids)
	for _, id := range ids {
		c := customer(t, s, id)
		_, has := c.SourceID(src)
		assert.True(t, has, "customer %d comes from %s", id, src)
	}
}
