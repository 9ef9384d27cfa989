package importer

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
)

var (
	testNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	admin   = model.Actor{Name: "ada", Role: model.RoleAdmin, Via: "test"}
)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "k.db"), store.Options{Now: func() time.Time { return testNow }})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Update(admin, func(tx *store.Tx) error {
		return tx.InsertPurpose(&model.Purpose{Name: "newsletter", Title: "Newsletter", Category: model.CategoryMarketing})
	}))
	return st
}

func fixture(t testing.TB, name string) Source {
	t.Helper()
	src, err := FileSource(filepath.Join("..", "..", "testdata", "import", name))
	require.NoError(t, err)
	return src
}

func runImport(t testing.TB, st *store.Store, file string, opts Options) store.ImportBatch {
	t.Helper()
	b, err := Run(context.Background(), st, admin, fixture(t, file), opts)
	require.NoError(t, err)
	return b
}

func customerByEmail(t testing.TB, st *store.Store, email string) model.Customer {
	t.Helper()
	var c model.Customer
	require.NoError(t, st.View(admin, func(r *store.Reader) error {
		var err error
		c, err = r.CustomerByEmail(email)
		return err
	}))
	return c
}

func reasons(b store.ImportBatch) map[int]string {
	out := map[int]string{}
	for _, r := range b.Rejections {
		out[r.Line] = r.Reason
	}
	return out
}

func TestGermanSpreadsheetInWindows1252(t *testing.T) {
	st := openStore(t)
	opts := Options{Entity: store.ImportCustomers, Source: "crm", Map: []MapSpec{{Column: "Notiz", Field: "attribute.notiz"}}}
	plan, err := Inspect(st, admin, fixture(t, "kunden_de_cp1252.csv"), opts, 10)
	require.NoError(t, err)
	assert.Equal(t, EncCP1252, plan.Encoding)
	assert.Equal(t, ";", plan.Delimiter)
	assert.True(t, plan.Header)
	assert.Empty(t, plan.Problem)
	fields := map[string]string{}
	for _, c := range plan.Columns {
		fields[c.Header] = c.Field
	}
	assert.Equal(t, map[string]string{"Kundennummer": "external_id", "Anrede": "salutation", "Vorname": "first_name", "Nachname": "last_name",
		"E-Mail": "email", "Telefon": "phone", "Straße": "street", "PLZ": "postal_code", "Ort": "city", "Land": "country",
		"Geburtsdatum": "birth_date", "Notiz": "attribute.notiz"}, fields)
	require.Len(t, plan.Rows, 4)
	assert.Equal(t, "Jürgen", plan.Rows[0].Values["first_name"])

	b := runImport(t, st, "kunden_de_cp1252.csv", opts)
	assert.Equal(t, 4, b.Read)
	assert.Equal(t, 4, b.Created, "rejections: %v", b.Rejections)
	assert.Equal(t, "complete", b.Status)
	assert.NotZero(t, b.ID)
	c := customerByEmail(t, st, "juergen.mueller@example.de")
	assert.Equal(t, "Jürgen", c.FirstName)
	assert.Equal(t, "Müller", c.LastName)
	assert.Equal(t, "Hauptstraße 5", c.Address.Street)
	assert.Equal(t, "DE", c.Address.Country)
	assert.Equal(t, "+49301234567", c.Phone)
	assert.Equal(t, model.Date{Year: 1980, Month: 2, Day: 1}, c.BirthDate)
	assert.Equal(t, "Stammkunde – zahlt per Rechnung", c.Attributes["notiz"])
	id, ok := c.SourceID("crm")
	assert.True(t, ok)
	assert.Equal(t, "K-1001", id)
	b2 := customerByEmail(t, st, "bjoern@example.de")
	assert.Equal(t, "„Premium“ seit 2019", b2.Attributes["notiz"])
}

func TestReimportChangesNothing(t *testing.T) {
	for _, file := range []string{"kunden_de_cp1252.csv", "customers_bom.csv", "customers_dup_emails.csv", "customers.jsonl"} {
		t.Run(file, func(t *testing.T) {
			st := openStore(t)
			opts := Options{Entity: store.ImportCustomers, Source: "crm"}
			first := runImport(t, st, file, opts)
			require.NotZero(t, first.Created)
			before, err := st.Stats()
			require.NoError(t, err)
			second := runImport(t, st, file, opts)
			assert.Zero(t, second.Created)
			assert.Zero(t, second.Updated)
			assert.Zero(t, second.Merged)
			assert.Equal(t, first.Created+first.Updated+first.Merged+first.Unchanged, second.Unchanged)
			after, err := st.Stats()
			require.NoError(t, err)
			assert.Equal(t, before.Customers, after.Customers)
		})
	}
}

func TestBadInput(t *testing.T) {
	st := openStore(t)
	cust := Options{Entity: store.ImportCustomers, Source: "crm"}

	t.Run("empty file", func(t *testing.T) {
		_, err := Run(context.Background(), st, admin, fixture(t, "empty.csv"), cust)
		require.ErrorIs(t, err, ErrEmpty)
	})
	t.Run("binary file", func(t *testing.T) {
		_, err := Run(context.Background(), st, admin, fixture(t, "binary.png"), cust)
		require.ErrorIs(t, err, ErrBinary)
	})
	t.Run("BOM", func(t *testing.T) {
		b := runImport(t, st, "customers_bom.csv", cust)
		assert.Equal(t, 3, b.Created, "%v", b.Rejections)
		assert.Equal(t, EncUTF8BOM, b.Encoding)
		c := customerByEmail(t, st, "anna.schmidt@example.com")
		assert.Equal(t, []string{"vip", "newsletter"}, c.Tags)
	})
	t.Run("quoted newlines", func(t *testing.T) {
		b := runImport(t, st, "customers_quoted_newlines.csv", cust)
		assert.Equal(t, 2, b.Created, "%v", b.Rejections)
		c := customerByEmail(t, st, "dora@example.de")
		assert.Equal(t, "Am Markt 1\nHinterhaus", c.Address.Street)
	})
	t.Run("duplicate emails differing in case and spaces", func(t *testing.T) {
		b := runImport(t, st, "customers_dup_emails.csv", cust)
		assert.Equal(t, 2, b.Created)
		assert.Equal(t, 2, b.Unchanged)
		assert.Zero(t, b.Rejected)
	})
	t.Run("invalid emails and phones", func(t *testing.T) {
		b := runImport(t, st, "customers_invalid.csv", cust)
		assert.Equal(t, 2, b.Created)
		assert.Equal(t, 3, b.Rejected)
		r := reasons(b)
		assert.Contains(t, r[3], "email")
		assert.Contains(t, r[4], "phone")
		assert.Contains(t, r[5], "email")
		assert.Contains(t, r[5], "phone")
	})
	t.Run("truncated last line", func(t *testing.T) {
		b := runImport(t, st, "customers_truncated.csv", cust)
		assert.Equal(t, 1, b.Created)
		assert.Equal(t, 1, b.Rejected)
		assert.Contains(t, reasons(b)[3], "cut off")
	})
	t.Run("tab separated", func(t *testing.T) {
		b := runImport(t, st, "customers_tab.tsv", cust)
		assert.Equal(t, 2, b.Created, "%v", b.Rejections)
	})
	t.Run("latin-1", func(t *testing.T) {
		b := runImport(t, st, "kunden_latin1.csv", cust)
		assert.Equal(t, EncLatin1, b.Encoding)
		assert.Equal(t, 1, b.Created)
		assert.Equal(t, "Gießen", customerByEmail(t, st, "joerg@example.de").Address.City)
	})
	t.Run("JSON Lines", func(t *testing.T) {
		b := runImport(t, st, "customers.jsonl", cust)
		assert.Equal(t, 2, b.Created)
		assert.Equal(t, 1, b.Rejected)
		assert.Contains(t, reasons(b)[4], "email")
		c := customerByEmail(t, st, "uwe@example.de")
		assert.Equal(t, "gold", c.Attributes["tier"])
		assert.Equal(t, []string{"vip"}, c.Tags)
	})
}

func TestPurchasesDatesAndGermanAmounts(t *testing.T) {
	st := openStore(t)
	runImport(t, st, "kunden_de_cp1252.csv", Options{Entity: store.ImportCustomers, Source: "shop"})
	b := runImport(t, st, "bestellungen_datumsformate.csv", Options{Entity: store.ImportPurchases, Source: "shop"})
	r := reasons(b)
	assert.Equal(t, 4, b.Created, "%v", b.Rejections)
	assert.Contains(t, r[6], "no customer matches")
	assert.Contains(t, r[7], "not a calendar date")
	c := customerByEmail(t, st, "juergen.mueller@example.de")
	assert.Equal(t, 2, c.PurchaseCount)
	assert.Equal(t, model.Money(123456+1999), c.Revenue)
	var ps []model.Purchase
	require.NoError(t, st.View(admin, func(r *store.Reader) error {
		var err error
		ps, _, err = r.Purchases(c.ID, nil, 10)
		return err
	}))
	require.Len(t, ps, 2)
	assert.Equal(t, time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC), ps[0].At)
	assert.Equal(t, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), ps[1].At)

	bjoern := customerByEmail(t, st, "bjoern@example.de")
	require.NoError(t, st.View(admin, func(r *store.Reader) error {
		var err error
		ps, _, err = r.Purchases(bjoern.ID, nil, 10)
		return err
	}))
	require.Len(t, ps, 2)
	assert.Equal(t, time.Date(2025, 2, 4, 0, 0, 0, 0, time.UTC), ps[1].At, "a German header reads 04/02/2025 as 4 February")

	again := runImport(t, st, "bestellungen_datumsformate.csv", Options{Entity: store.ImportPurchases, Source: "shop"})
	assert.Zero(t, again.Created)
	assert.Equal(t, 4, again.Unchanged)

	// Read month first, order B-4 becomes 2 April: not the recorded order.
	mdy := runImport(t, st, "bestellungen_datumsformate.csv", Options{Entity: store.ImportPurchases, Source: "shop",
		Map: []MapSpec{{Column: "Datum", Field: "at", Hint: HintMDY}}})
	assert.Contains(t, reasons(mdy)[5], "recorded already with other data")

	ambiguous := []byte("order_id,customer_id,date,amount\nX-1,K-1001,04/02/2025,1.00\nX-2,K-1001,13/02/2025,1.00\n")
	b, err := Run(context.Background(), st, admin, BytesSource("en.csv", ambiguous), Options{Entity: store.ImportPurchases, Source: "shop"})
	require.NoError(t, err)
	assert.Equal(t, 1, b.Created)
	assert.Contains(t, reasons(b)[2], "ambiguous")
}

func TestConsentsJSONLinesWithABrokenLine(t *testing.T) {
	st := openStore(t)
	runImport(t, st, "kunden_de_cp1252.csv", Options{Entity: store.ImportCustomers, Source: "crm"})
	b := runImport(t, st, "consents_broken.jsonl", Options{Entity: store.ImportConsents, Source: "forms"})
	assert.Equal(t, 4, b.Read)
	assert.Equal(t, 3, b.Created, "%v", b.Rejections)
	assert.Equal(t, 1, b.Rejected)
	assert.Contains(t, reasons(b)[3], "JSON")
	again := runImport(t, st, "consents_broken.jsonl", Options{Entity: store.ImportConsents, Source: "forms"})
	assert.Zero(t, again.Created)
	assert.Equal(t, 3, again.Unchanged)
	st2, err := st.Stats()
	require.NoError(t, err)
	assert.EqualValues(t, 3, st2.ConsentEvents)
}

func TestInteractions(t *testing.T) {
	st := openStore(t)
	runImport(t, st, "kunden_de_cp1252.csv", Options{Entity: store.ImportCustomers, Source: "crm"})
	b := runImport(t, st, "interactions.csv", Options{Entity: store.ImportInteractions, Source: "mailer"})
	assert.Equal(t, 3, b.Created, "%v", b.Rejections)
	r := reasons(b)
	assert.Contains(t, r[5], "no customer matches")
	assert.Contains(t, r[6], "teleported")
	again := runImport(t, st, "interactions.csv", Options{Entity: store.ImportInteractions, Source: "mailer"})
	assert.Equal(t, 3, again.Unchanged)
	_, diffs, err := st.VerifyRollups()
	require.NoError(t, err)
	assert.Empty(t, diffs)
}

func TestDryRunAndStrictWriteNothing(t *testing.T) {
	st := openStore(t)
	dry := runImport(t, st, "customers_invalid.csv", Options{Entity: store.ImportCustomers, Source: "crm", DryRun: true})
	assert.Equal(t, 2, dry.Created)
	assert.Equal(t, 3, dry.Rejected)
	assert.Zero(t, dry.ID)
	before, err := st.Stats()
	require.NoError(t, err)
	_, err = Run(context.Background(), st, admin, fixture(t, "customers_invalid.csv"), Options{Entity: store.ImportCustomers, Source: "crm", Strict: true})
	require.ErrorIs(t, err, store.ErrStrict)
	s, err := st.Stats()
	require.NoError(t, err)
	assert.Zero(t, s.Customers)
	assert.Equal(t, before.AuditEntries, s.AuditEntries)
}

func TestMappingProblemsAreClearErrors(t *testing.T) {
	st := openStore(t)
	_, err := Run(context.Background(), st, admin, fixture(t, "customers_bom.csv"), Options{Entity: store.ImportPurchases, Source: "shop"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no column is mapped to the purchase time")
	_, err = Run(context.Background(), st, admin, fixture(t, "customers_bom.csv"), Options{Entity: store.ImportCustomers, Source: "shop",
		Map: []MapSpec{{Column: "nope", Field: "email"}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no column "nope"`)
	_, err = Run(context.Background(), st, admin, fixture(t, "customers_bom.csv"), Options{Entity: store.ImportCustomers, Source: "shop",
		Map: []MapSpec{{Column: "city", Field: "shoe_size"}}})
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "no field"), err.Error())
}

// TestClusteredWritesTheSameAsFileOrder imports the same files in file
// order and in customer order (cluster.go) and compares the stores.
func TestClusteredWritesTheSameAsFileOrder(t *testing.T) {
	// File order, customer order, and customer order through a bulk load
	// (whose activity and value keys move at the end) give one result.
	modes := []struct {
		cluster ClusterMode
		bulk    BulkMode
	}{{ClusterOff, BulkOff}, {ClusterOn, BulkOff}, {ClusterOn, BulkOn}}
	var stats [3]store.Stats
	var batches [3][]store.ImportBatch
	var orders [3][]model.CustomerID
	for i, m := range modes {
		mode := m.cluster
		st := openStore(t)
		runImport(t, st, "kunden_de_cp1252.csv", Options{Entity: store.ImportCustomers, Source: "shop"})
		for _, f := range []struct {
			file   string
			entity store.ImportEntity
			opts   Options
		}{
			{"bestellungen_datumsformate.csv", store.ImportPurchases, Options{}},
			{"interactions.csv", store.ImportInteractions, Options{}},
			{"../cdnow/CDNOW_sample.txt", store.ImportPurchases, cdnowOptions()},
		} {
			o := f.opts
			o.Entity, o.Cluster, o.Bulk, o.BatchSize = f.entity, mode, m.bulk, 500
			if o.Source == "" {
				o.Source = "shop"
			}
			b := runImport(t, st, f.file, o)
			b.ID, b.StartedAt, b.FinishedAt = 0, time.Time{}, time.Time{}
			batches[i] = append(batches[i], b)
			again := runImport(t, st, f.file, o)
			assert.Zero(t, again.Created, "%s in mode %d", f.file, mode)
		}
		s, err := st.Stats()
		require.NoError(t, err)
		s.Path, s.FileBytes = "", 0
		stats[i] = s
		_, diffs, err := st.VerifyRollups()
		require.NoError(t, err)
		assert.Empty(t, diffs)
		require.NoError(t, st.View(admin, func(r *store.Reader) error {
			for _, order := range []store.CustomerOrder{store.ByValue, store.ByActivity} {
				page, err := r.CustomerPage(store.PageQuery{Order: order, Desc: true, Limit: 100000})
				if err != nil {
					return err
				}
				for _, row := range page.Rows {
					orders[i] = append(orders[i], row.Customer.ID)
				}
			}
			return nil
		}))
	}
	require.NotEmpty(t, orders[0])
	// A bulk load audits itself once more per import (3 files, twice).
	assert.Equal(t, stats[0].AuditEntries+6, stats[2].AuditEntries)
	stats[2].AuditEntries = stats[0].AuditEntries
	for i := 1; i < len(modes); i++ {
		assert.Equal(t, stats[0], stats[i], "mode %d", i)
		assert.Equal(t, batches[0], batches[i], "mode %d", i)
		assert.Equal(t, orders[0], orders[i], "customers by value and by activity, mode %d", i)
	}
}

func TestProgressAndCancellation(t *testing.T) {
	st := openStore(t)
	file := filepath.Join(t.TempDir(), "kunden.csv")
	writeCustomersCSV(t, file, 5000)
	src, err := FileSource(file)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var seen []Progress
	opts := Options{Entity: store.ImportCustomers, Source: "shop", BatchSize: 500, Progress: func(p Progress) {
		seen = append(seen, p)
		if p.Batch.Created >= 1000 {
			cancel()
		}
	}}
	b, err := Run(ctx, st, admin, src, opts)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "cancelled", b.Status)
	assert.NotZero(t, b.ID, "what was written is recorded as a batch")
	assert.Less(t, b.Created, 4995)
	assert.Empty(t, b.SHA256, "the file was not read to the end")
	require.NotEmpty(t, seen)
	assert.Equal(t, "done", seen[len(seen)-1].Phase)
	for _, p := range seen {
		assert.LessOrEqual(t, p.Fraction(), 1.0)
	}

	// Importing again completes it: the rows written stay as they are.
	opts.Progress = nil
	again, err := Run(context.Background(), st, admin, src, opts)
	require.NoError(t, err)
	assert.Equal(t, b.Created, again.Unchanged)
	assert.Equal(t, 4995, again.Created+again.Unchanged)
	assert.Equal(t, "complete", again.Status)
}

func TestUTF16FromExcel(t *testing.T) {
	st := openStore(t)
	text := "E-Mail\tVorname\tNachname\tOrt\r\nmia@example.de\tMia\tKöhler\tWürzburg\r\n"
	u := []byte{0xFF, 0xFE}
	for _, r := range text {
		u = append(u, byte(r), byte(r>>8))
	}
	b, err := Run(context.Background(), st, admin, BytesSource("unicode.txt", u), Options{Entity: store.ImportCustomers, Source: "excel"})
	require.NoError(t, err)
	assert.Equal(t, EncUTF16LE, b.Encoding)
	assert.Equal(t, 1, b.Created, "%v", b.Rejections)
	assert.Equal(t, "Würzburg", customerByEmail(t, st, "mia@example.de").Address.City)
}

func TestConsentsFromCSV(t *testing.T) {
	st := openStore(t)
	runImport(t, st, "kunden_de_cp1252.csv", Options{Entity: store.ImportCustomers, Source: "crm"})
	csvText := "Kundennummer;Kanal;Zweck;Art;Datum;evidence.ip\nK-1001;email;newsletter;opt_in;10.01.2025 09:00;203.0.113.5\nK-1001;email;newsletter;doi_confirmed;10.01.2025 09:05;\nK-1002;fax;newsletter;opt_in;10.01.2025;\n"
	b, err := Run(context.Background(), st, admin, BytesSource("einwilligungen.csv", []byte(csvText)), Options{Entity: store.ImportConsents, Source: "crm"})
	require.NoError(t, err)
	assert.Equal(t, 2, b.Created, "%v", b.Rejections)
	assert.Contains(t, reasons(b)[4], "channel")
	c := customerByEmail(t, st, "juergen.mueller@example.de")
	require.NoError(t, st.View(admin, func(r *store.Reader) error {
		hist, err := r.ConsentHistory(c.ID)
		require.NoError(t, err)
		require.Len(t, hist, 2)
		assert.Equal(t, "import:crm", hist[0].Source)
		ev, err := r.Evidence(hist[0].ID)
		assert.Equal(t, "203.0.113.5", ev["ip"])
		return err
	}))
}

// TestPurchaseOrdersRepeatedInOneFile: an order that comes twice in one
// file is one purchase (the same data) or a rejection (other data), in
// file and customer order, within a transaction and across transactions,
// for real and in a dry run; importing the file again changes nothing.
func TestPurchaseOrdersRepeatedInOneFile(t *testing.T) {
	file := []byte("order_id,customer_id,date,amount\n" +
		"A-1,K-1,2025-01-02,10.00\n" +
		"A-2,K-2,2025-01-03,20.00\n" +
		"A-1,K-1,2025-01-02,10.00\n" +
		"A-2,K-2,2025-01-04,25.00\n" +
		"A-3,K-1,2025-01-05,30.00\n" +
		"A-3,K-1,2025-01-05,30.00\n")
	customers := []byte("customer_id,email\nK-1,k1@example.de\nK-2,k2@example.de\n")
	for _, tc := range []struct {
		name    string
		cluster ClusterMode
		batch   int
	}{
		{"file order", ClusterOff, 0},
		{"file order, a row per transaction", ClusterOff, 1},
		{"customer order", ClusterOn, 0},
		{"customer order, two rows per transaction", ClusterOn, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			_, err := Run(context.Background(), st, admin, BytesSource("k.csv", customers), Options{Entity: store.ImportCustomers, Source: "shop"})
			require.NoError(t, err)
			opts := Options{Entity: store.ImportPurchases, Source: "shop", Cluster: tc.cluster, BatchSize: tc.batch}
			dry := opts
			dry.DryRun = true
			d, err := Run(context.Background(), st, admin, BytesSource("o.csv", file), dry)
			require.NoError(t, err)
			assert.Equal(t, 3, d.Created, "%v", d.Rejections)
			assert.Equal(t, 2, d.Unchanged)
			assert.Equal(t, 1, d.Rejected)
			assert.Contains(t, reasons(d)[5], "with other data") // "recorded already" within a transaction, "earlier in the file" across

			b, err := Run(context.Background(), st, admin, BytesSource("o.csv", file), opts)
			require.NoError(t, err)
			assert.Equal(t, 3, b.Created, "%v", b.Rejections)
			assert.Equal(t, 2, b.Unchanged)
			assert.Equal(t, 1, b.Rejected)
			assert.Contains(t, reasons(b)[5], "recorded already with other data")
			k1 := customerByEmail(t, st, "k1@example.de")
			assert.Equal(t, 2, k1.PurchaseCount)
			assert.Equal(t, model.Money(4000), k1.Revenue)

			again, err := Run(context.Background(), st, admin, BytesSource("o.csv", file), opts)
			require.NoError(t, err)
			assert.Zero(t, again.Created)
			assert.Equal(t, 5, again.Unchanged)
			assert.Equal(t, 1, again.Rejected)
			_, diffs, err := st.VerifyRollups()
			require.NoError(t, err)
			assert.Empty(t, diffs)
		})
	}
}
