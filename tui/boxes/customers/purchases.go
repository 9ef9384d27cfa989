package customers

import (
	"fmt"
	"strconv"
	"strings"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/vtable"
)

// The Purchases section: the customer's orders, newest first, paged from
// the store, under a line with the totals the store maintains.

const purchasesTableID = "customer-purchases"

func newPurchasesPane(c *common.Context) *activityPane {
	cols := []vtable.Column{
		{Title: "date", Width: 16},
		{Title: "order", Width: 10},
		{Title: "source", Width: 7},
		{Title: "items", Width: 16, Flex: 1},
		{Title: "amount", Width: 10, Align: vtable.AlignRight},
	}
	p := newActivityPane(c, purchasesTableID, cols, func(r *store.Reader, cid model.CustomerID, before []byte, limit int) ([][]string, []byte, error) {
		items, next, err := r.Purchases(cid, before, limit)
		if err != nil {
			return nil, nil, err
		}
		cells := make([][]string, len(items))
		for i := range items {
			pu := &items[i]
			cells[i] = []string{
				pu.At.UTC().Format("2006-01-02 15:04"),
				pu.OrderID,
				pu.Source,
				itemsSummary(pu.Items),
				pu.Amount.Format(pu.Currency),
			}
		}
		return cells, next, nil
	})
	p.header = purchaseTotals
	return p
}

// purchaseTotals is the line above the list, from the customer's
// maintained aggregates (exact over all purchases, not just the page).
func purchaseTotals(d *customerData, w int) string {
	if d == nil {
		return ""
	}
	c := &d.Customer
	if c.PurchaseCount == 0 {
		return "no purchases"
	}
	avg := model.Money(int64(c.Revenue) / int64(c.PurchaseCount))
	parts := []string{
		plural(c.PurchaseCount, "purchase"),
		c.Revenue.Format(d.Currency) + " total",
		"avg " + avg.Format(d.Currency),
	}
	if !c.FirstPurchaseAt.IsZero() {
		parts = append(parts, "first "+c.FirstPurchaseAt.UTC().Format("2006-01-02"), "last "+c.LastPurchaseAt.UTC().Format("2006-01-02"))
	}
	return strings.Join(parts, " · ")
}

// plural is "1 purchase", "2 purchases".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// itemsSummary is "3× Bettwäsche Leinen +1 more".
func itemsSummary(items []model.PurchaseItem) string {
	if len(items) == 0 {
		return "—"
	}
	s := strconv.Itoa(items[0].Quantity) + "× " + items[0].Name
	if len(items) > 1 {
		s += fmt.Sprintf(" +%d more", len(items)-1)
	}
	return s
}
