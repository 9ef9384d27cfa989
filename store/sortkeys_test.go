package store

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSortedKeyOrderIsKeyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := 0; round < 200; round++ {
		prefix := []byte("shop\x00B0000")[:r.IntN(11)]
		keys := make([][]byte, r.IntN(60))
		for i := range keys {
			k := append([]byte(nil), prefix...)
			for range r.IntN(20) {
				k = append(k, "0123\x00\xff"[r.IntN(6)])
			}
			keys[i] = k
		}
		got := sortedKeyOrder(keys)
		want := make([]int, len(keys))
		for i := range want {
			want[i] = i
		}
		slices.SortStableFunc(want, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })
		assert.Equal(t, want, got, "%q", keys)
	}
	assert.Empty(t, sortedKeyOrder(nil))
}
