package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

// importCustomers runs one import session over rows.
func importCustomers(t *testing.T, s *Store, source string, rows ...CustomerImportRow) ImportBatch {
	t.Helper()
	sess, err := s.BeginImport(admin, ImportSpec{Entity: ImportCustomers, Source: source, File: "t.csv", Format: "csv"})
	require.NoError(t, err)
	for i := range rows {
		rows[i].Line = i + 2
		rows[i].Key = []byte{byte(i)}
	}
	require.NoError(t, sess.Customers(rows))
	b, err := sess.Finish(context.Background(), FinishInfo{})
	require.NoError(t, err)
	return b
}

func suggestionsOf(t *testing.T, s *Store) map[[2]model.CustomerID]SuggestionReason {
	t.Helper()
	out := map[[2]model.CustomerID]SuggestionReason{}
	require.NoError(t, s.View(admin, func(r *Reader) error {
		list, err := r.MergeSuggestions(0, 0, 100, false)
		for _, x := range list {
			out[[2]model.CustomerID{x.A, x.B}] = x.Reasons
		}
		return err
	}))
	return out
}

func TestIdentityResolutionMatchesSurelyAndSuggestsTheRest(t *testing.T) {
	s, _ := openTest(t)
	anna := addCustomer(t, s, model.Customer{FirstName: "Anna", LastName: "Schulz", Email: "anna@example.de",
		Address: model.Address{Street: "Weg 1", PostalCode: "50667", City: "Köln", Country: "DE"}})
	otto := addCustomer(t, s, model.Customer{FirstName: "Otto", LastName: "Lang", Phone: "+4915112345678", BirthDate: model.Date{Year: 1970, Month: 5, Day: 1}})

	b := importCustomers(t, s, "shop",
		// Matched by email (case and spaces ignored): gets the shop id, its
		// gaps filled, its own data kept.
		CustomerImportRow{ExternalID: "S1", Customer: model.Customer{FirstName: "Annabell", Email: " ANNA@example.de ", Phone: "0151 99887766"}},
		// Matched by phone.
		CustomerImportRow{ExternalID: "S2", Customer: model.Customer{FirstName: "Otto", LastName: "Lang", Phone: "0151 12345678"}},
		// Same name and postcode as Anna, but no certain identifier: a new
		// customer and a suggestion.
		CustomerImportRow{ExternalID: "S3", Customer: model.Customer{FirstName: "Anna", LastName: "Schulz", Email: "a.schulz@example.com",
			Address: model.Address{Street: "Weg 1a", PostalCode: "50667", City: "Köln"}}},
		// Same name and birth date as Otto.
		CustomerImportRow{ExternalID: "S4", Customer: model.Customer{FirstName: "Otto", LastName: "Lang", Email: "otto@example.de", BirthDate: model.Date{Year: 1970, Month: 5, Day: 1}}},
		// The shop id of S3 with Anna's email: refused, and suggested.
		CustomerImportRow{ExternalID: "S3", Customer: model.Customer{Email: "anna@example.de"}},
	)
	assert.Equal(t, 2, b.Merged, "%v", b.Rejections)
	assert.Equal(t, 2, b.Created)
	assert.Equal(t, 1, b.Rejected)
	require.Len(t, b.Rejections, 1)
	assert.Contains(t, b.Rejections[0].Reason, "belongs to customer")

	var s3, s4 model.CustomerID
	require.NoError(t, s.View(admin, func(r *Reader) error {
		c, err := r.Customer(anna)
		require.NoError(t, err)
		assert.Equal(t, "Anna", c.FirstName, "a match by email only fills gaps")
		assert.Equal(t, "+4915199887766", c.Phone)
		id, _ := c.SourceID("shop")
		assert.Equal(t, "S1", id)
		x, err := r.CustomerBySource("shop", "S2")
		require.NoError(t, err)
		assert.Equal(t, otto, x.ID)
		c3, err := r.CustomerBySource("shop", "S3")
		require.NoError(t, err)
		c4, err := r.CustomerBySource("shop", "S4")
		require.NoError(t, err)
		s3, s4 = c3.ID, c4.ID
		return nil
	}))
	sug := suggestionsOf(t, s)
	assert.Equal(t, ReasonNamePostcode|ReasonEmailConflict, sug[[2]model.CustomerID{anna, s3}])
	assert.Equal(t, ReasonNameBirthDate, sug[[2]model.CustomerID{otto, s4}])
	assert.Len(t, sug, 2)

	// A dismissed pair is not suggested again.
	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.DismissSuggestion(s4, otto) }))
	assert.Len(t, suggestionsOf(t, s), 1)
	n, err := s.RescanLookAlikes(admin)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Len(t, suggestionsOf(t, s), 1)

	// Re-import: the shop's own ids make the rows authoritative.
	again := importCustomers(t, s, "shop",
		CustomerImportRow{ExternalID: "S1", Customer: model.Customer{FirstName: "Annabell", Email: "anna@example.de", Phone: "0151 99887766"}},
		CustomerImportRow{ExternalID: "S2", Customer: model.Customer{FirstName: "Otto", LastName: "Lang", Phone: "0151 12345678"}},
	)
	assert.Equal(t, 1, again.Updated)
	assert.Equal(t, 1, again.Unchanged)
	require.NoError(t, s.View(admin, func(r *Reader) error {
		c, err := r.Customer(anna)
		assert.Equal(t, "Annabell", c.FirstName)
		return err
	}))
}

func TestSharedPhonesAreNotMatched(t *testing.T) {
	s, _ := openTest(t)
	a := addCustomer(t, s, model.Customer{FirstName: "Eva", LastName: "Haus", Phone: "+49301234567"})
	b := addCustomer(t, s, model.Customer{FirstName: "Ede", LastName: "Haus", Phone: "+49301234567"})
	bt := importCustomers(t, s, "crm", CustomerImportRow{Customer: model.Customer{FirstName: "Emil", LastName: "Haus", Phone: "030 1234567"}})
	assert.Equal(t, 1, bt.Created)
	sug := suggestionsOf(t, s)
	assert.Len(t, sug, 2)
	for pair, why := range sug {
		assert.Contains(t, []model.CustomerID{a, b}, pair[0])
		assert.Equal(t, ReasonSharedPhone, why)
	}
}

func TestCommonNamesAreNotSuggested(t *testing.T) {
	s, _ := openTest(t)
	var rows []CustomerImportRow
	for i := 0; i < maxLookAlikes+2; i++ {
		rows = append(rows, CustomerImportRow{ExternalID: fmt.Sprint(i), Customer: model.Customer{FirstName: "Thomas", LastName: "Müller",
			Email: fmt.Sprintf("t%d@example.de", i), Address: model.Address{PostalCode: "10115", City: "Berlin"}}})
	}
	// A pair with a rarer name in the same import is still found.
	rows = append(rows,
		CustomerImportRow{ExternalID: "a", Customer: model.Customer{FirstName: "Ottilie", LastName: "Quast", Email: "o1@example.de", Address: model.Address{PostalCode: "10115"}}},
		CustomerImportRow{ExternalID: "b", Customer: model.Customer{FirstName: "Ottilie", LastName: "Quast", Email: "o2@example.de", Address: model.Address{PostalCode: "10115"}}})
	b := importCustomers(t, s, "shop", rows...)
	assert.Equal(t, 1, b.Suggestions)
	assert.Len(t, suggestionsOf(t, s), 1)
}

// The look-alike list files its entries in chunks; groups that span
// chunks, and entries filed after a probe's sort, still pair up.
func TestLookAlikeIndexPairsAcrossChunks(t *testing.T) {
	x := newLookAlikeIndex()
	assert.True(t, x.empty())
	n := 2*lookAlikeChunk + 10
	for i := 1; i <= n; i++ {
		x.file(uint64(i), ReasonNamePostcode, model.CustomerID(i), true)
	}
	x.file(0, ReasonNamePostcode, 999999, true) // no key: not filed
	x.file(7, ReasonNameBirthDate, model.CustomerID(n+1), true)
	x.file(uint64(lookAlikeChunk+3), ReasonNameBirthDate, model.CustomerID(n+2), true)
	assert.False(t, x.empty())
	assert.Equal(t, n+2, x.n)

	x.sort()
	x.touched = len(x.entries)
	x.file(uint64(n), ReasonNameBirthDate, model.CustomerID(n+3), false) // as a probe files
	assert.Equal(t, map[[2]model.CustomerID]SuggestionReason{
		{7, model.CustomerID(n + 1)}:                                    ReasonNamePostcode, // the first filed gives the reason
		{model.CustomerID(lookAlikeChunk + 3), model.CustomerID(n + 2)}: ReasonNamePostcode,
		{model.CustomerID(n), model.CustomerID(n + 3)}:                  ReasonNamePostcode,
	}, x.pairs())
	assert.Len(t, x.entries, n+3, "every filing is in the sorted list once")
}
