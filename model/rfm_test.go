package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRFMQuintiles(t *testing.T) {
	// Ten customers with distinct values: two per quintile. Recency runs the
	// other way (the most recent scores 5).
	in := make([]RFMInput, 10)
	for i := range in {
		in[i] = RFMInput{RecencyDays: float64(100 - 10*i), Frequency: i + 1, Monetary: float64(1000 * (i + 1))}
	}
	got, err := ScoreRFM(in)
	require.NoError(t, err)
	for i, s := range got {
		want := uint8(1 + i/2)
		assert.Equal(t, want, s.R, "R of %d", i)
		assert.Equal(t, want, s.F, "F of %d", i)
		assert.Equal(t, want, s.M, "M of %d", i)
		assert.Equal(t, want, s.FM, "FM of %d", i)
	}
	assert.Equal(t, RFMLost, got[0].Segment)
	assert.Equal(t, RFMChampions, got[9].Segment)
}

func TestRFMTiesAndUnscored(t *testing.T) {
	in := []RFMInput{
		{RecencyDays: 10, Frequency: 1, Monetary: 500},
		{RecencyDays: 0, Frequency: 0, Monetary: 0}, // never bought
		{RecencyDays: 10, Frequency: 1, Monetary: 500},
		{RecencyDays: 10, Frequency: 1, Monetary: 500},
		{RecencyDays: 5, Frequency: 3, Monetary: 900},
		{RecencyDays: 300, Frequency: 1, Monetary: 100},
		{RecencyDays: 1.5, Frequency: 9, Monetary: 5000},
	}
	got, err := ScoreRFM(in)
	require.NoError(t, err)
	require.Len(t, got, len(in))
	assert.Equal(t, RFMScore{}, got[1], "no purchase: zero score")
	assert.Equal(t, RFMUnscored, got[1].Segment)
	assert.Equal(t, got[0], got[2], "equal values, equal scores")
	assert.Equal(t, got[0], got[3])
	// Six scored customers. Frequency 1 is the worst value: F = 1 for all
	// four who share it, although they are two thirds of the base.
	for _, i := range []int{0, 2, 3, 5} {
		assert.Equal(t, uint8(1), got[i].F, "customer %d", i)
	}
	assert.Equal(t, uint8(1+5*4/6), got[4].F)
	assert.Equal(t, uint8(1+5*5/6), got[6].F)
	assert.Equal(t, uint8(1), got[5].R, "the longest ago")
	assert.Equal(t, uint8(1+5*5/6), got[6].R, "the most recent")
	assert.Equal(t, uint8(1+5*1/6), got[0].R, "one customer bought longer ago")
}

// naiveScore is the definition: 1 + ⌊5·(values strictly worse)/n⌋.
func naiveScore(values []float64, v float64) uint8 {
	below := 0
	for _, w := range values {
		if w < v {
			below++
		}
	}
	return uint8(1 + 5*below/len(values))
}

func TestRFMMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 11, 99, 500} {
		in := make([]RFMInput, n)
		for i := range in {
			in[i] = RFMInput{
				RecencyDays: float64(rng.IntN(30)), // heavy ties
				Frequency:   rng.IntN(6),           // some unscored
				Monetary:    math.Round(rng.NormFloat64()*1000) / 10,
			}
		}
		got, err := ScoreRFM(in)
		require.NoError(t, err)
		var r, f, m []float64
		for _, c := range in {
			if c.Frequency > 0 {
				r, f, m = append(r, -c.RecencyDays), append(f, float64(c.Frequency)), append(m, c.Monetary)
			}
		}
		for i, c := range in {
			if c.Frequency == 0 {
				assert.Equal(t, RFMScore{}, got[i])
				continue
			}
			want := RFMScore{R: naiveScore(r, -c.RecencyDays), F: naiveScore(f, float64(c.Frequency)), M: naiveScore(m, c.Monetary)}
			want.FM = (want.F + want.M + 1) / 2
			want.Segment = RFMSegmentOf(want.R, want.FM)
			assert.Equal(t, want, got[i], "n=%d customer %d %+v", n, i, c)
		}
	}
}

func TestRFMSegmentGrid(t *testing.T) {
	cases := []struct {
		r, fm uint8
		want  RFMSegment
	}{
		{5, 5, RFMChampions}, {5, 4, RFMChampions},
		{4, 5, RFMLoyal}, {3, 4, RFMLoyal},
		{5, 3, RFMPotentialLoyalist}, {4, 2, RFMPotentialLoyalist},
		{5, 1, RFMNew},
		{4, 1, RFMPromising},
		{3, 3, RFMNeedAttention},
		{3, 2, RFMAboutToSleep}, {3, 1, RFMAboutToSleep},
		{2, 4, RFMAtRisk}, {1, 3, RFMAtRisk},
		{1, 5, RFMCantLoseThem}, {2, 5, RFMCantLoseThem},
		{1, 1, RFMLost}, {2, 2, RFMLost},
		{0, 3, RFMUnscored}, {3, 6, RFMUnscored},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, RFMSegmentOf(c.r, c.fm), "R=%d FM=%d", c.r, c.fm)
	}

	// Every segment is reachable and the grid uses nothing else.
	seen := map[RFMSegment]bool{}
	for r := uint8(1); r <= 5; r++ {
		for fm := uint8(1); fm <= 5; fm++ {
			seen[RFMSegmentOf(r, fm)] = true
		}
	}
	assert.Len(t, seen, len(RFMSegments()))
	for _, s := range RFMSegments() {
		assert.True(t, seen[s], "%s unreachable", s)
	}
}

func TestRFMSegmentNames(t *testing.T) {
	var names []string
	for _, s := range RFMSegments() {
		names = append(names, s.String())
		assert.NotEmpty(t, s.Description(), s.String())
	}
	assert.Equal(t, []string{"Champions", "Loyal", "Potential Loyalist", "New", "Promising",
		"Need Attention", "About to Sleep", "At Risk", "Can't Lose Them", "Lost"}, names)
	assert.Equal(t, "Unscored", RFMUnscored.String())
	assert.Equal(t, "RFMSegment(99)", RFMSegment(99).String())
	assert.Empty(t, RFMSegment(99).Description())
}

func TestRFMErrors(t *testing.T) {
	cases := []struct {
		name string
		in   RFMInput
		want string
	}{
		{"negative frequency", RFMInput{Frequency: -1}, "frequency -1"},
		{"negative recency", RFMInput{RecencyDays: -2, Frequency: 1}, "recency -2"},
		{"NaN recency", RFMInput{RecencyDays: math.NaN(), Frequency: 1}, "recency NaN"},
		{"infinite spend", RFMInput{Frequency: 1, Monetary: math.Inf(1)}, "monetary value +Inf"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ScoreRFM([]RFMInput{{RecencyDays: 1, Frequency: 1, Monetary: 1}, c.in})
			assert.ErrorContains(t, err, "rfm customer 1: "+c.want)
		})
	}
	// Unscored customers are not checked beyond their frequency.
	got, err := ScoreRFM([]RFMInput{{RecencyDays: math.NaN(), Frequency: 0}})
	require.NoError(t, err)
	assert.Equal(t, []RFMScore{{}}, got)
	got, err = ScoreRFM(nil)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func BenchmarkRFM1M(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	in := make([]RFMInput, 1_000_000)
	for i := range in {
		f := int(rng.ExpFloat64() * 2)
		in[i] = RFMInput{RecencyDays: float64(rng.IntN(730)), Frequency: f, Monetary: float64(rng.IntN(50000) * max(f, 1))}
	}
	for b.Loop() {
		if _, err := ScoreRFM(in); err != nil {
			b.Fatal(err)
		}
	}
}
