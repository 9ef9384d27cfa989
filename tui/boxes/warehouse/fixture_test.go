package warehouse

import (
	"testing"

	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/tui/internal/screentest"
)

// putDemoScores scores every customer of a demo store with model.ScoreRFM
// (what the analytics run will store) and returns how many records it
// wrote. CLV stays zero: the fixture does not fit a model.
func putDemoScores(t testing.TB, s *store.Store) int {
	t.Helper()
	var ids []model.CustomerID
	var in []model.RFMInput
	require.NoError(t, s.View(screentest.Admin, func(r *store.Reader) error {
		n := r.Counter("customers")
		for id := model.CustomerID(1); id <= model.CustomerID(n); id++ {
			ps, _, err := r.Purchases(id, nil, 10000)
			if err != nil {
				return err
			}
			x := model.RFMInput{Frequency: len(ps)}
			for i, p := range ps {
				if i == 0 {
					x.RecencyDays = screentest.AsOf.Sub(p.At).Hours() / 24
				}
				x.Monetary += float64(p.Amount)
			}
			ids = append(ids, id)
			in = append(in, x)
		}
		return nil
	}))
	scores, err := model.ScoreRFM(in)
	require.NoError(t, err)
	// 10k records per transaction (STYLE.md, bbolt rule 3).
	for from := 0; from < len(ids); from += 10000 {
		require.NoError(t, s.Update(screentest.Admin, func(tx *store.Tx) error {
			for i := from; i < min(from+10000, len(ids)); i++ {
				sc := scores[i]
				if err := tx.PutScores(ids[i], store.CustomerScores{R: sc.R, F: sc.F, M: sc.M, Segment: sc.Segment, ComputedAt: screentest.AsOf}); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	return len(ids)
}
