package store

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
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

// A bulk load builds each customer's index keys in one reused buffer; the
// entries must be those built one by one.
func TestDeferredKeysInAReusedBufferAreTheSame(t *testing.T) {
	customers := []model.Customer{
		{ID: 1, FirstName: "Jörg", LastName: "Müller", Email: "Joerg@Example.de", Phone: "+4915112345678", Address: model.Address{City: "Köln"}, Tags: []string{" VIP ", "b2b"}},
		{ID: 2, Company: "Beispiel GmbH", Email: "info@beispiel.de", Revenue: 12345},
		{ID: 3, Email: "nur@mail.de"},
		{ID: 4, FirstName: "Erika", LastName: "Mustermann", Email: "erika@example.de", Erased: true},
		{ID: 1 << 40, LastName: "Lang", Address: model.Address{City: "Berlin"}, Tags: []string{strings.Repeat("t", 300)}},
	}
	type entry struct {
		i        int
		key, val string
	}
	var scratch []byte
	for _, c := range customers {
		var want, got []entry
		deferredKeys(&c, nil, func(i int, k, v []byte) { want = append(want, entry{i, string(k), string(v)}) })
		scratch = deferredKeysInto(&c, nil, scratch[:0], func(i int, k, v []byte) { got = append(got, entry{i, string(k), string(v)}) })
		assert.Equal(t, want, got, "customer %d", c.ID)
		require.NotEmpty(t, want)

		var kept [][]byte // keys built without a scratch buffer stay valid
		eachIndexKeyWith(&c, nil, func(i int, k []byte) { kept = append(kept, k) })
		var fresh [][]byte
		eachIndexKeyWith(&c, nil, func(i int, k []byte) { fresh = append(fresh, bytes.Clone(k)) })
		assert.Equal(t, fresh, kept)
		assert.Equal(t, textKey(indexTextsOf(&c).name, c.ID), kept[2], "the name key")
	}
}

func TestCmpKey16OrdersAsBytesCompare(t *testing.T) {
	keys := [][16]byte{{}, {0xff}, {0, 0, 0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 0, 0xff}, {15: 1}, {7: 1, 15: 0xff}}
	for _, x := range keys {
		for _, y := range keys {
			assert.Equal(t, bytes.Compare(x[:], y[:]), cmpKey16(x, y), "%x %x", x, y)
		}
	}
}
