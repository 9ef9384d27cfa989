package customers

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/tui/components/palette"
	"karton/tui/internal/screentest"
)

// eraseItem finds the erase command among the palette's items.
func (h *harness) eraseItem() (palette.Item, bool) {
	for _, it := range h.b.PaletteItems() {
		if strings.HasPrefix(it.ID, itemErasePrefix) {
			return it, true
		}
	}
	return palette.Item{}, false
}

// An admin working over SSH erases from the palette, after a question that
// defaults to no; the store's erasure follows and the view shows it.
func TestEraseFromThePalette(t *testing.T) {
	s := screentest.DemoStore(t, demoSize)
	c := findCustomer(t, s, func(r *store.Reader, c model.Customer) bool { return !c.Erased && c.Email != "" })
	h := newHarness(t, s, screentest.Admin, 80, 24)
	_, ok := h.eraseItem()
	assert.False(t, ok, "no customer open, nothing to erase")
	h.openCustomer(c.ID)
	it, ok := h.eraseItem()
	require.True(t, ok)
	assert.Equal(t, "Erase customer "+c.DisplayName(), it.Title)

	cmd, ok := h.b.PaletteChosen(it)
	require.True(t, ok)
	h.run(cmd)
	require.True(t, h.b.Capturing(), "the question takes the keys")
	screen := h.screen()
	assert.Contains(t, screen, "Erase "+c.DisplayName())
	assert.Contains(t, screen, "cannot be undone")
	h.press("enter") // the answer defaults to no
	assert.False(t, h.b.Capturing())
	assert.False(t, customer(t, s, c.ID).Erased, "enter on the fresh dialog keeps the customer")

	h.run(must(h.b.PaletteChosen(it)))
	h.press("y")
	assert.True(t, customer(t, s, c.ID).Erased)
	assert.Equal(t, "Customer "+c.ID.String()+" erased", h.lastToast())
	assert.True(t, h.b.view.data.Customer.Erased, "the view reloaded")
	assert.Contains(t, h.screen(), "erased on")
	_, ok = h.eraseItem()
	assert.False(t, ok, "an erased customer is not offered again")

	assert.Equal(t, model.ReasonErasedSuppressed, decision(t, s, c.ID, model.KindEmail, "newsletter").Reason)
}

// Only an admin may erase: other roles are not offered the command, and a
// stale item from before a role change is refused by the box.
func TestOnlyAnAdminIsOfferedErasure(t *testing.T) {
	s := screentest.DemoStore(t, demoSize)
	c := findCustomer(t, s, func(r *store.Reader, c model.Customer) bool { return !c.Erased })
	h := newHarness(t, s, operator, 80, 24)
	h.openCustomer(c.ID)
	_, ok := h.eraseItem()
	assert.False(t, ok)
	h.run(must(h.b.PaletteChosen(palette.Item{ID: itemErasePrefix + c.ID.String()})))
	assert.False(t, h.b.Capturing(), "no question is asked")
	assert.False(t, customer(t, s, c.ID).Erased)
}

// must drops PaletteChosen's ok, for items the box is known to own.
func must[T any](v T, _ bool) T { return v }
