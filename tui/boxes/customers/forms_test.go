package customers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The key=value fields of the forms (evidence, attributes, preferences)
// read what the CLI's repeated flags read, and refuse a key given twice
// instead of keeping one of its values.
func TestParsePairs(t *testing.T) {
	m, err := parsePairs(" call_ref = 4711 ; note=asked by phone;; ")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"call_ref": "4711", "note": "asked by phone"}, m)

	m, err = parsePairs("")
	require.NoError(t, err)
	assert.Nil(t, m)

	_, err = parsePairs("ip=192.0.2.1; ip=192.0.2.2")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"ip" is given twice`)

	_, err = parsePairs("just text")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not key=value")
}
