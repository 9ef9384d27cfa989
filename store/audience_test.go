package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

// randomCustomers writes n customers with varied segment facts: type,
// city, postcode, tags, attributes, preferences, birth dates, purchases
// and (for some) scores.
func randomCustomers(t testing.TB, s *Store, rng *rand.Rand, n int) {
	t.Helper()
	cities := []struct{ city, zip string }{{"Berlin", "10115"}, {"München", "80331"}, {"Hamburg", "20095"}, {"Köln", "50667"}, {"", ""}}
	tags := []string{"newsletter", "vip", "student", "event-guest"}
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		for i := range n {
			city := cities[rng.IntN(len(cities))]
			c := model.Customer{
				FirstName: fmt.Sprintf("F%d", i), LastName: "L", Email: fmt.Sprintf("c%d@example.de", i),
				Attributes:  map[string]string{},
				Preferences: map[string]string{},
			}
			if city.city != "" {
				c.Address = model.Address{Street: "Weg 1", PostalCode: city.zip, City: city.city, Country: "DE"}
			}
			if rng.IntN(5) == 0 {
				c.Company = "Firma " + fmt.Sprint(i)
			}
			for _, tg := range tags {
				if rng.IntN(3) == 0 {
					c.Tags = append(c.Tags, tg)
				}
			}
			if rng.IntN(2) == 0 {
				c.Attributes["interest"] = []string{"garten", "kueche", "Garten-Deko"}[rng.IntN(3)]
			}
			if rng.IntN(2) == 0 {
				c.Preferences["language"] = []string{"de", "en"}[rng.IntN(2)]
			}
			if rng.IntN(4) > 0 {
				c.BirthDate = model.Date{Year: 1950 + rng.IntN(60), Month: time.Month(1 + rng.IntN(12)), Day: 1 + rng.IntN(28)}
			}
			if err := tx.InsertCustomer(&c); err != nil {
				return err
			}
			for p := range rng.IntN(4) {
				if err := tx.AddPurchase(&model.Purchase{CustomerID: c.ID, OrderID: fmt.Sprintf("o%d-%d", i, p), Source: "shop",
					At: testNow.AddDate(0, 0, -rng.IntN(700)), Amount: model.Money(rng.IntN(40000))}); err != nil {
					return err
				}
			}
			if rng.IntN(3) == 0 {
				if err := tx.AddInteraction(&model.Interaction{CustomerID: c.ID, Kind: model.InteractionVisit, Channel: model.KindWeb, At: testNow.AddDate(0, 0, -rng.IntN(500))}); err != nil {
					return err
				}
			}
			if rng.IntN(2) == 0 {
				segs := model.RFMSegments()
				if err := tx.PutScores(c.ID, CustomerScores{Segment: segs[rng.IntN(len(segs))], CLV: model.Money(rng.IntN(50000))}); err != nil {
					return err
				}
			}
		}
		return nil
	}))
}

var testSegments = [][]model.Condition{
	nil,
	{{Field: "tag", Op: "has", Value: "vip"}, {Field: "city", Op: "=", Value: "munchen"}},
	{{Field: "type", Op: "=", Value: "business"}},
	{{Field: "age", Op: ">=", Value: "18"}, {Field: "age", Op: "<=", Value: "40"}},
	{{Field: "purchase_count", Op: ">=", Value: "1"}, {Field: "last_purchase_days", Op: ">=", Value: "180"}},
	{{Field: "revenue", Op: ">=", Value: "30000"}},
	{{Field: "last_activity_days", Op: "<", Value: "100"}},
	{{Field: "attribute.interest", Op: "prefix", Value: "garten"}},
	{{Field: "preference.language", Op: "!=", Value: "en"}},
	{{Field: "country", Op: "in", Value: "DE,AT"}, {Field: "postcode", Op: "prefix", Value: "8"}},
	{{Field: "rfm_segment", Op: "in", Value: "Champions,Loyal,Unscored"}},
	{{Field: "clv", Op: ">", Value: "25000"}, {Field: "tag", Op: "!has", Value: "student"}},
	{{Field: "city", Op: "in", Value: "Berlin,Köln"}},
}

// TestAudienceMatchesFullDecode checks the lean reader against the plain
// way: decode every customer, take model.AudienceFactsOf and the scores,
// and match.
func TestAudienceMatchesFullDecode(t *testing.T) {
	s, _ := openTest(t)
	randomCustomers(t, s, rand.New(rand.NewPCG(1, 2)), 400)
	var segs []model.Segment
	for i, conds := range testSegments {
		segs = append(segs, model.Segment{ID: model.SegmentID(i + 1), Name: fmt.Sprint(i), Conditions: conds})
	}
	require.NoError(t, s.View(admin, func(r *Reader) error {
		sizes, errs, err := r.SegmentSizes(segs)
		require.NoError(t, err)
		assert.Nil(t, errs)
		for i, sg := range segs {
			p, err := s.CompileSegment(sg)
			require.NoError(t, err)
			var want []model.CustomerID
			c := r.tx.Bucket(bCustomers).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				var cu model.Customer
				require.NoError(t, decodeCustomer(v, &cu))
				f := model.AudienceFactsOf(&cu)
				sc, ok, err := r.Scores(cu.ID)
				require.NoError(t, err)
				f.HasScores, f.RFMSegment, f.CLV = ok, sc.Segment, sc.CLV
				if p.Match(&f) {
					want = append(want, cu.ID)
				}
			}
			got, err := r.AudienceMembers(p, 0, 1<<30)
			require.NoError(t, err)
			assert.Equal(t, want, got, "segment %d %v", i, sg.Conditions)
			n, err := r.CountAudience(p)
			require.NoError(t, err)
			assert.Equal(t, len(want), n)
			assert.Equal(t, len(want), sizes[i])
			if i > 0 {
				assert.Greater(t, len(want), 0, "segment %d selects someone in the fixture", i)
				assert.Less(t, len(want), 400, "segment %d leaves someone out", i)
			}
			// A scan that starts in the middle sees the rest.
			if len(want) > 2 {
				rest, err := r.AudienceMembers(p, want[1], 1<<30)
				require.NoError(t, err)
				assert.Equal(t, want[2:], rest)
			}
		}
		return nil
	}))
}

func TestSegmentSizeErrors(t *testing.T) {
	s, _ := openTest(t)
	require.NoError(t, s.View(admin, func(r *Reader) error {
		sizes, errs, err := r.SegmentSizes([]model.Segment{{Name: "ok"}, {ID: 7, Name: "bad", Conditions: []model.Condition{{Field: "x", Op: "=", Value: "1"}}}})
		require.NoError(t, err)
		assert.Equal(t, []int{0, -1}, sizes)
		require.Len(t, errs, 2)
		assert.ErrorContains(t, errs[1], `segment 7 "bad"`)
		assert.ErrorContains(t, errs[1], `unknown field "x"`)
		_, err = r.SegmentSize(99)
		assert.ErrorIs(t, err, ErrNotFound)
		return nil
	}))
}

func TestSegmentConditionsValidatedOnSave(t *testing.T) {
	s, _ := openTest(t)
	err := s.Update(admin, func(tx *Tx) error {
		return tx.InsertSegment(&model.Segment{Name: "Typo", Conditions: []model.Condition{{Field: "citty", Op: "=", Value: "Berlin"}}})
	})
	ve, ok := model.AsValidation(err)
	require.True(t, ok, "%v", err)
	assert.True(t, ve.Has("conditions[0]"))
	assert.ErrorContains(t, err, `unknown field "citty"`)
	seg := model.Segment{Name: "Berlin", Conditions: []model.Condition{{Field: "city", Op: "=", Value: "Berlin"}}}
	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.InsertSegment(&seg) }))
	err = s.Update(admin, func(tx *Tx) error {
		return tx.UpdateSegment(seg.ID, func(sg *model.Segment) error {
			sg.Conditions[0].Op = "has"
			return nil
		})
	})
	assert.ErrorContains(t, err, `city does not take the operator "has" (use =, !=, in)`)
}
