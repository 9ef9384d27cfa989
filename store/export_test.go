package store

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

func TestExportEveryEntityAsCSVAndJSONLines(t *testing.T) {
	f := newKPIFixture(t)
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error {
		p := model.Purpose{Name: "newsletter", Category: model.CategoryMarketing}
		if err := tx.InsertPurpose(&p); err != nil {
			return err
		}
		ev := model.ConsentEvent{CustomerID: f.anna, Channel: model.KindEmail, PurposeID: p.ID, Kind: model.ConsentOptIn, EffectiveAt: f.day}
		return tx.AppendConsent(&ev, model.Evidence{"ip": "203.0.113.9"})
	}))
	want := map[ExportEntity]int{ExportCustomers: 4, ExportPurchases: 5, ExportInteractions: 8, ExportConsents: 1, ExportDecisions: 0}
	for entity, n := range want {
		for _, format := range []string{"csv", "jsonl"} {
			var buf bytes.Buffer
			sum, err := f.s.Export(context.Background(), admin, entity, format, &buf)
			require.NoError(t, err, "%s %s", entity, format)
			assert.Equal(t, n, sum.Rows, "%s %s", entity, format)
			if format == "csv" {
				recs, err := csv.NewReader(&buf).ReadAll()
				require.NoError(t, err)
				if n > 0 {
					assert.Len(t, recs, n+1, "%s: a header and the rows", entity)
					assert.Len(t, recs[1], len(recs[0]))
				}
			} else {
				lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
				if n > 0 {
					assert.Len(t, lines, n)
					var obj map[string]any
					require.NoError(t, json.Unmarshal([]byte(lines[0]), &obj))
				}
			}
		}
	}
	var buf bytes.Buffer
	_, err := f.s.Export(context.Background(), admin, ExportConsents, "jsonl", &buf)
	require.NoError(t, err)
	assert.Contains(t, buf.String(), `"evidence":{"ip":"203.0.113.9"}`)
	assert.Contains(t, buf.String(), `"purpose":"newsletter"`)

	// Exports are audited, and the audit chain itself can be exported.
	buf.Reset()
	sum, err := f.s.Export(context.Background(), admin, ExportAudit, "csv", &buf)
	require.NoError(t, err)
	assert.Contains(t, buf.String(), "export.customers")
	st, err := f.s.Stats()
	require.NoError(t, err)
	assert.EqualValues(t, st.AuditEntries-1, sum.Rows, "all entries but the one for this export")

	operator := model.Actor{Name: "op", Role: model.RoleOperator}
	_, err = f.s.Export(context.Background(), operator, ExportCustomers, "csv", &buf)
	var pe *model.PermissionError
	assert.ErrorAs(t, err, &pe)
	_, err = f.s.Export(context.Background(), admin, ExportCustomers, "xlsx", &buf)
	assert.ErrorContains(t, err, "csv or jsonl")
}

// CustomerSummary reads the latest limit interactions and purchases and
// says whether more are left; without a limit it reads them all, across
// the thousand-record pages it reads in.
func TestCustomerSummaryLimits(t *testing.T) {
	s, _ := openTest(t)
	cid := addCustomer(t, s, model.Customer{Type: model.Consumer, Email: "lim@example.de"})
	add := func(n int) {
		require.NoError(t, s.Update(admin, func(tx *Tx) error {
			for i := range n {
				at := testNow.Add(-time.Duration(i+1) * time.Minute)
				if err := tx.AddInteraction(&model.Interaction{CustomerID: cid, Kind: model.InteractionReplied, Channel: model.KindEmail, At: at}); err != nil {
					return err
				}
				if err := tx.AddPurchase(&model.Purchase{CustomerID: cid, OrderID: fmt.Sprintf("o-%d-%d", n, i), At: at, Amount: 100}); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	summary := func(limit int) CustomerSummary {
		var sum CustomerSummary
		require.NoError(t, s.View(admin, func(r *Reader) (err error) {
			sum, err = r.CustomerSummary(cid, limit)
			return err
		}))
		return sum
	}
	add(10)
	sum := summary(10)
	assert.Len(t, sum.Interactions, 10)
	assert.Len(t, sum.Purchases, 10)
	assert.False(t, sum.MoreInteractions, "exactly the limit: nothing left")
	assert.False(t, sum.MorePurchases)

	add(1100)
	sum = summary(10)
	assert.Len(t, sum.Interactions, 10)
	assert.True(t, sum.MoreInteractions)
	assert.True(t, sum.MorePurchases)
	assert.True(t, sum.Interactions[0].At.After(sum.Interactions[9].At), "newest first")

	sum = summary(0)
	assert.Len(t, sum.Interactions, 1110)
	assert.Len(t, sum.Purchases, 1110)
	assert.False(t, sum.MoreInteractions)
	sum = summary(1005)
	assert.Len(t, sum.Interactions, 1005, "a limit across the page size")
	assert.True(t, sum.MoreInteractions)
}
