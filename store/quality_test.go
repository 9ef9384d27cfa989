package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

func TestQualityReportPerSourceWithDrillDown(t *testing.T) {
	s, _ := openTest(t)
	addCustomer(t, s, model.Customer{FirstName: "Hand", LastName: "Eingabe", Email: "hand@example.de",
		Address: model.Address{Street: "Weg 1", PostalCode: "10115", City: "Berlin", Country: "DE"}})
	sess, err := s.BeginImport(admin, ImportSpec{Entity: ImportCustomers, Source: "shop", File: "shop.csv"})
	require.NoError(t, err)
	require.NoError(t, sess.Customers([]CustomerImportRow{
		{Line: 2, ExternalID: "1", Customer: model.Customer{FirstName: "Ada", LastName: "Alt", Email: "ada@example.de"}},
		{Line: 3, ExternalID: "2", Customer: model.Customer{FirstName: "Ada", LastName: "Alt", Phone: "+4915112345678",
			BirthDate: model.Date{Year: 1990, Month: 1, Day: 1}}},
		{Line: 4, ExternalID: "3"}, // nothing but an id: reachable on the web only
	}))
	sess.Reject(5, "email: \"x@\" is not a valid email address")
	_, err = sess.Finish(context.Background(), FinishInfo{Fields: []FieldStat{{Field: "email", Present: 2, Invalid: 1}}})
	require.NoError(t, err)
	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.SuggestMerge(2, 3) }))
	addCustomer(t, s, model.Customer{LastName: "Niemand"}) // no contact point at all

	q, err := s.ComputeQuality(admin, model.QualityOptions{})
	require.NoError(t, err)
	assert.Equal(t, 5, q.Overall.Records)
	assert.Equal(t, 1, q.Overall.NoContactPoint)
	require.Len(t, q.Sources, 2)
	manual, ok := q.Source(ManualSource)
	require.True(t, ok)
	assert.Equal(t, 2, manual.Records)
	shop, ok := q.Source("shop")
	require.True(t, ok)
	assert.Equal(t, 3, shop.Records)
	assert.Equal(t, 2, shop.Duplicates)
	assert.Zero(t, shop.NoContactPoint)
	email := shop.Fields[0]
	assert.Equal(t, model.QualityEmail, email.Field)
	assert.Equal(t, 1, email.Present)
	assert.Equal(t, 1, email.Rejected)
	assert.InDelta(t, 0.5, email.Validity, 1e-9)
	require.NotNil(t, shop.Import)
	assert.Equal(t, 4, shop.Import.Read)
	assert.Equal(t, 1, shop.Import.Rejected)
	assert.Greater(t, shop.Score, 0.0)

	var snap QualityOverview
	require.NoError(t, s.View(admin, func(r *Reader) error {
		var ok bool
		snap, ok, err = r.QualitySnapshot()
		assert.True(t, ok)
		return err
	}))
	assert.Equal(t, q.Overall.Score, snap.Overall.Score)

	viewer := model.Actor{Name: "v", Role: model.RoleViewer}
	require.NoError(t, s.View(viewer, func(r *Reader) error {
		page, err := r.QualityIssues(QualityIssueQuery{Source: "shop", Field: model.QualityEmail, Problem: IssueMissing})
		require.NoError(t, err)
		require.Len(t, page.Customers, 2)
		assert.EqualValues(t, 3, page.Customers[0].ID)
		assert.NotEqual(t, "+4915112345678", page.Customers[0].Phone, "masked for a viewer")
		page, err = r.QualityIssues(QualityIssueQuery{Problem: IssueNoContactPoint})
		require.NoError(t, err)
		require.Len(t, page.Customers, 1)
		assert.EqualValues(t, 5, page.Customers[0].ID)
		page, err = r.QualityIssues(QualityIssueQuery{Problem: IssueDuplicate, Limit: 1})
		require.NoError(t, err)
		require.Len(t, page.Customers, 1)
		assert.True(t, page.More)
		page, err = r.QualityIssues(QualityIssueQuery{Problem: IssueDuplicate, After: page.Next})
		require.NoError(t, err)
		assert.Len(t, page.Customers, 1)
		_, err = r.QualityIssues(QualityIssueQuery{Problem: "ugly"})
		assert.Error(t, err)
		return nil
	}))
}
