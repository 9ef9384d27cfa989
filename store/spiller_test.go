package store

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSpillerWritesEveryTransactionsKeysInOrder(t *testing.T) {
	spills, err := newSpillSet(t.TempDir())
	require.NoError(t, err)
	defer spills.close()
	sp := startSpiller(spills)
	var want [numDeferred][]byte
	var keys [numDeferred][]byte
	for tx := range 5 {
		for i := range keys {
			for j := range 3 {
				k := fmt.Appendf(nil, "tx%d-index%d-key%d", tx, i, j)
				keys[i] = appendEntry(keys[i], k, nil)
				want[i] = appendEntry(want[i], k, nil)
			}
		}
		keys, err = sp.hand(keys)
		require.NoError(t, err)
		for i := range keys {
			assert.Empty(t, keys[i], "hand returns empty buffers")
		}
	}
	require.NoError(t, sp.stop())
	for i := range want {
		got, err := spills.load(i)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want[i], got), "index %d", i)
	}
	assert.NoError(t, (*spiller)(nil).stop(), "a load that wrote nothing has no spiller")
}

func TestSpillerReportsAFailedWrite(t *testing.T) {
	spills, err := newSpillSet(t.TempDir())
	require.NoError(t, err)
	defer spills.close()
	spills.files[2].Close() // writes to index 2's file fail once its buffer fills
	sp := startSpiller(spills)
	var keys [numDeferred][]byte
	big := bytes.Repeat([]byte("k"), 1000)
	var handErr error
	for range 600 { // 600 kB: more than the 256 kB buffer
		keys[2] = appendEntry(keys[2], big, nil)
		if keys, handErr = sp.hand(keys); handErr != nil {
			break
		}
	}
	stopErr := sp.stop()
	require.Error(t, stopErr, "stop reports the failure")
	if handErr != nil {
		assert.ErrorIs(t, handErr, stopErr)
	}
}
