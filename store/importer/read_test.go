package importer

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A JSON line is one object whose fields are given once; encoding/json
// alone would keep the last of a repeated field.
func TestFlattenJSONRefusesWhatItWouldGuess(t *testing.T) {
	got, err := flattenJSON([]byte(`{"customer":"10","evidence":{"ip":"192.0.2.1"},"tags":["a","b"]}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"customer": "10", "evidence.ip": "192.0.2.1", "tags": "a,b"}, got)
	for line, says := range map[string]string{
		`{"customer":"10","customer":"11"}`:                "gives field customer twice",
		`{"evidence":{"ip":"192.0.2.1","ip":"192.0.2.2"}}`: "gives field evidence.ip twice",
		`{"a":1} {"b":2}`:                                  "more than one JSON value",
		`[1,2]`:                                            "is not a JSON object",
		`{"a":}`:                                           "is not valid JSON",
	} {
		_, err := flattenJSON([]byte(line))
		require.Error(t, err, line)
		assert.Contains(t, err.Error(), says, line)
	}
}
