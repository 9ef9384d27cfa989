package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

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
