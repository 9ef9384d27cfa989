package store

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

// Readers of the same committed state share one pass; a commit or a new
// minute makes a new one, and a write transaction's counts are its own.
func TestSegmentSizesSharedButNeverStale(t *testing.T) {
	s, clock := openTest(t)
	berlin := []model.Segment{{ID: 1, Name: "Berlin", Conditions: []model.Condition{{Field: "city", Op: "=", Value: "Berlin"}}}}
	recent := []model.Segment{{ID: 2, Name: "recent", Conditions: []model.Condition{{Field: "last_activity_days", Op: "<", Value: "1"}}}}
	size := func(segs []model.Segment) int {
		var n int
		require.NoError(t, s.View(admin, func(r *Reader) error {
			sizes, _, err := r.SegmentSizes(segs)
			n = sizes[0]
			return err
		}))
		return n
	}
	add := func(city string) {
		c := model.Customer{FirstName: "A", LastName: city}
		c.Address.City = city
		addCustomer(t, s, c)
	}
	add("Berlin")
	require.Equal(t, 1, size(berlin))
	require.Equal(t, 1, size(berlin), "same state, shared")

	add("Berlin")
	assert.Equal(t, 2, size(berlin), "a commit is a new state")

	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		c := model.Customer{FirstName: "B", LastName: "Berlin"}
		c.Address.City = "Berlin"
		if err := tx.InsertCustomer(&c); err != nil {
			return err
		}
		n := len(s.sizes.entries)
		_, _, err := tx.Reader().SegmentSizes(berlin)
		assert.Equal(t, n, len(s.sizes.entries), "a write transaction's counts are never shared")
		return err
	}))
	assert.Equal(t, 3, size(berlin))

	// Recency depends on the clock: a day later nobody is recent, with no
	// commit in between.
	before := size(recent)
	clock.t = clock.t.Add(48 * time.Hour)
	assert.Equal(t, 0, size(recent), "a new minute is a new count (was %d)", before)
}

// Concurrent callers with one key run the pass once and all get its result,
// each in its own slices.
func TestSizesMemoRunsOncePerKey(t *testing.T) {
	var m sizesMemo
	var calls atomic.Int32
	release := make(chan struct{})
	key := sizesKey{txid: 5, minute: 1}
	var wg sync.WaitGroup
	results := make([][]int, 8)
	for i := range results {
		wg.Go(func() {
			sizes, _, err := m.do(key, func() ([]int, []error, error) {
				calls.Add(1)
				<-release
				return []int{42}, nil, nil
			})
			require.NoError(t, err)
			results[i] = sizes
		})
	}
	time.Sleep(20 * time.Millisecond) // let them all queue on the one pass
	close(release)
	wg.Wait()
	assert.Equal(t, int32(1), calls.Load())
	for _, r := range results {
		assert.Equal(t, []int{42}, r)
	}
	results[0][0] = 7
	assert.Equal(t, 42, results[1][0], "callers do not share slices")

	// A newer state evicts the older entries.
	_, _, _ = m.do(sizesKey{txid: 6}, func() ([]int, []error, error) { return []int{1}, nil, nil })
	assert.Len(t, m.entries, 1)
}
