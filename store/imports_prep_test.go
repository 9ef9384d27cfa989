package store

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// prepRows are customer rows of every kind the session treats differently:
// new, matched again by source id, email (any spelling) or phone, updated
// with more data in the same transaction, and rejected for many reasons.
func prepRows() []CustomerImportRow {
	c := func(ext string, cu model.Customer) CustomerImportRow {
		return CustomerImportRow{ExternalID: ext, Customer: cu}
	}
	rows := []CustomerImportRow{
		c("K1", model.Customer{FirstName: "Jürgen", LastName: "Müller", Email: "Juergen@Example.de", Phone: "0151 23456789",
			Address: model.Address{Street: "Hauptstr. 1", PostalCode: "10115", City: "Berlin"}, BirthDate: model.Date{Year: 1970, Month: 5, Day: 1}}),
		c("K2", model.Customer{FirstName: "Anna", LastName: "Schmidt", Email: "anna@example.de"}),
		c("", model.Customer{FirstName: "Jürgen", LastName: "Müller", Email: " juergen@example.DE ", Address: model.Address{City: "Köln"}}),
		c("K3", model.Customer{Company: "Firma GmbH", Type: model.Business, Phone: "+49 30 1234567"}),
		c("K4", model.Customer{FirstName: "Ben", LastName: "Bauer", Phone: "030 1234567"}),
		c("K2", model.Customer{FirstName: "Anna", LastName: "Schmidt-Weber", Phone: "0160 1234567", Address: model.Address{Street: "Ring 2", PostalCode: "20095", City: "Hamburg", Country: "DE"}}),
		c("K5", model.Customer{FirstName: "Zoe", LastName: "Zukunft", Email: "zoe@example.de", BirthDate: model.Date{Year: 2031, Month: 1, Day: 1}}),
		c("K6", model.Customer{FirstName: "Eve", LastName: "Bad", Email: "eve(at)example.de"}),
		c("K7", model.Customer{FirstName: "Tel", LastName: "Bad", Phone: "12"}),
		c(string(bytes.Repeat([]byte("x"), 101)), model.Customer{FirstName: "Long", LastName: "Id"}),
		c("K8", model.Customer{Type: model.Business, FirstName: "No", LastName: "Company"}),
		c("", model.Customer{}),
		c("K9", model.Customer{Email: "anna@example.de", FirstName: "Other"}),
		c("K10", model.Customer{FirstName: "Müller", LastName: "Jürgen", Email: "mj@example.de", Address: model.Address{Street: "A 1", PostalCode: "10115", City: "Berlin"},
			BirthDate: model.Date{Year: 1970, Month: 5, Day: 1}, Tags: []string{"VIP", " neu "}, Attributes: map[string]string{"segment": "a"}}),
		c("", model.Customer{FirstName: "Ohne", LastName: "Id", Address: model.Address{Street: "B 2", PostalCode: "50667", City: "Köln"}}),
		c("", model.Customer{FirstName: "Ohne", LastName: "Id", Address: model.Address{Street: "B 2", PostalCode: "50667", City: "Köln"}}),
	}
	for i := range rows {
		rows[i].Line = i + 2
		rows[i].Key = []byte(fmt.Sprintf("key-%d", i))
	}
	rows[len(rows)-1].Key = rows[len(rows)-2].Key // the same content twice
	return rows
}

// TestPreparedCustomerRowsWriteTheSame imports the same rows with and
// without PrepareCustomer, in one transaction and one per row, bulk and
// not, and with a prepared validation from the day before: every bucket of
// the two stores must be equal, and so must the batch records.
func TestPreparedCustomerRowsWriteTheSame(t *testing.T) {
	for _, tc := range []struct {
		name     string
		bulk     bool
		perRow   bool
		dayEarly bool
	}{
		{name: "one transaction"},
		{name: "a transaction per row", perRow: true},
		{name: "bulk", bulk: true},
		{name: "bulk, a transaction per row", bulk: true, perRow: true},
		{name: "prepared the day before", dayEarly: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(prepare bool) (*Store, ImportBatch) {
				clock := &testClock{t: testNow}
				s, err := Open(filepath.Join(t.TempDir(), "k.db"), Options{Now: clock.now, Secret: []byte("fixed")})
				require.NoError(t, err)
				t.Cleanup(func() { s.Close() })
				// A customer stored before the import, matched by phone.
				require.NoError(t, s.Update(admin, func(tx *Tx) error {
					return tx.InsertCustomer(&model.Customer{FirstName: "Ben", LastName: "Bauer", Phone: "+49301234567"})
				}))
				sess, err := s.BeginImport(admin, ImportSpec{Entity: ImportCustomers, Source: "shop", File: "k.csv", Format: "csv", Bulk: tc.bulk})
				require.NoError(t, err)
				rows := prepRows()
				if prepare {
					if tc.dayEarly {
						// The birth date 2031-01-01 is in the future then
						// and still in the future when written; a date of
						// the writing day is not.
						rows[6].Customer.BirthDate = model.Date{Year: 2026, Month: 3, Day: 3}
						clock.t = testNow.Add(-24 * time.Hour)
					}
					for i := range rows {
						sess.PrepareCustomer(&rows[i])
					}
					clock.t = testNow.Add(24 * time.Hour)
				} else {
					if tc.dayEarly {
						rows[6].Customer.BirthDate = model.Date{Year: 2026, Month: 3, Day: 3}
					}
					clock.t = testNow.Add(24 * time.Hour)
				}
				if tc.perRow {
					for i := range rows {
						require.NoError(t, sess.Customers(rows[i:i+1]))
					}
				} else {
					require.NoError(t, sess.Customers(rows))
				}
				b, err := sess.Finish(context.Background(), FinishInfo{})
				require.NoError(t, err)
				return s, b
			}
			plain, pb := run(false)
			prepared, qb := run(true)
			assert.Equal(t, pb, qb)
			assert.Positive(t, pb.Created)
			assert.Positive(t, pb.Rejected)
			assert.Positive(t, pb.Updated+pb.Merged)
			assertSameBuckets(t, plain, prepared)
		})
	}
}

// assertSameBuckets compares every key and value of two stores.
func assertSameBuckets(t *testing.T, a, b *Store) {
	t.Helper()
	dump := func(s *Store) map[string][][2][]byte {
		out := map[string][][2][]byte{}
		require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
				return bk.ForEach(func(k, v []byte) error {
					out[string(name)] = append(out[string(name)], [2][]byte{bytes.Clone(k), bytes.Clone(v)})
					return nil
				})
			})
		}))
		return out
	}
	da, db := dump(a), dump(b)
	for name := range da {
		assert.Equal(t, da[name], db[name], "bucket %s", name)
	}
	assert.Equal(t, len(da), len(db))
}

// TestPrepareCustomerSaysWhatIsWrong checks the verdict PrepareCustomer
// returns, which the importer turns into the row's rejection: nothing for
// a row the session writes, and the fields at fault otherwise (a source
// id stands in for a missing name).
func TestPrepareCustomerSaysWhatIsWrong(t *testing.T) {
	s, _ := openTest(t)
	sess, err := s.BeginImport(admin, ImportSpec{Entity: ImportCustomers, Source: "shop", File: "k.csv", Format: "csv"})
	require.NoError(t, err)
	fields := func(err error) []string {
		if err == nil {
			return nil
		}
		ve, ok := model.AsValidation(err)
		require.True(t, ok, "%v", err)
		var out []string
		for _, f := range ve.Fields {
			out = append(out, f.Field)
		}
		return out
	}
	rows := prepRows()
	want := map[int][]string{
		0:  nil,            // complete
		1:  nil,            // name and email
		6:  {"birth_date"}, // born in 2031
		7:  {"email"},      // eve(at)example.de
		9:  {"sources"},    // a 101-character source id
		11: {"name"},       // nothing at all
	}
	for i, w := range want {
		err := sess.PrepareCustomer(&rows[i])
		if w == nil {
			assert.NoError(t, err, "row %d", i)
		} else {
			assert.Equal(t, w, fields(err), "row %d: %v", i, err)
		}
	}
	// The phone "12" is Normalize's complaint.
	require.Error(t, sess.PrepareCustomer(&rows[8]))
	require.NoError(t, sess.Customers(rows[:2]))
	b, err := sess.Finish(context.Background(), FinishInfo{})
	require.NoError(t, err)
	assert.Equal(t, 2, b.Created)
}

// An import's row keys are gathered and written in key order when the
// transaction ends; a row repeated within the same transaction must still
// be recognised, and every key must be there for the next import.
func TestImportKeysWithinAndAcrossTransactions(t *testing.T) {
	s, _ := openTest(t)
	cid := addCustomer(t, s, model.Customer{FirstName: "Anna", Email: "anna@example.de"})
	at := testNow.Add(-48 * time.Hour)
	rows := func() []InteractionImportRow {
		var out []InteractionImportRow
		// Keys in descending order, and the third row repeats the first.
		for i, id := range []string{"E9", "E5", "E9", "E1", "E7"} {
			out = append(out, InteractionImportRow{
				Line: i + 2, EventID: id, Customer: CustomerRef{ID: cid},
				Interaction: model.Interaction{Kind: model.InteractionOpened, Channel: model.KindEmail, At: at.Add(time.Duration(i) * time.Minute)},
			})
		}
		return out
	}
	run := func() ImportBatch {
		sess, err := s.BeginImport(admin, ImportSpec{Entity: ImportInteractions, Source: "mailer", File: "e.csv", Format: "csv"})
		require.NoError(t, err)
		require.NoError(t, sess.Interactions(rows()))
		b, err := sess.Finish(context.Background(), FinishInfo{})
		require.NoError(t, err)
		return b
	}
	first := run()
	assert.Equal(t, 4, first.Created, "E9 is one event")
	assert.Equal(t, 1, first.Unchanged, "the repeated E9 within the transaction")
	again := run()
	assert.Zero(t, again.Created)
	assert.Equal(t, 5, again.Unchanged)
	require.NoError(t, s.View(admin, func(r *Reader) error {
		b := r.tx.Bucket(bImportKeys)
		require.NotNil(t, b)
		var keys []string
		require.NoError(t, b.ForEach(func(k, v []byte) error { keys = append(keys, fmt.Sprintf("%q", k)); return nil }))
		assert.Len(t, keys, 4)
		return nil
	}))
}
