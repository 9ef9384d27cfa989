package channels

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePairs(t *testing.T) {
	got, err := parsePairs("dir = outbox/print\n\n format=csv \nnote=a; b=c")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"dir": "outbox/print", "format": "csv", "note": "a; b=c"}, got)
	got, err = parsePairs("  \n")
	require.NoError(t, err)
	assert.Nil(t, got)
	_, err = parsePairs("dir=a\nformat=csv\ndir=b")
	assert.EqualError(t, err, `line 3: "dir" is given twice; give each key once`)
	_, err = parsePairs("dir=a\n=b")
	assert.EqualError(t, err, `line 2 "=b" is not key=value`)
	_, err = parsePairs("just text")
	assert.Error(t, err)
}

func TestParseCost(t *testing.T) {
	m, err := parseCost(" 0,85 € ")
	require.NoError(t, err)
	assert.EqualValues(t, 85, m)
	_, err = parseCost("-0.10")
	assert.EqualError(t, err, "must not be negative")
	_, err = parseCost("ein Euro")
	assert.EqualError(t, err, `"ein Euro" is not an amount like 0.85`)
}

func FuzzChannelFormParsers(f *testing.F) {
	for _, s := range []string{"dir=a\nformat=csv", "0,85", "=", "a=b=c", "\n\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if m, err := parsePairs(s); err == nil {
			for k := range m {
				if k == "" {
					t.Fatalf("%q gave an empty key", s)
				}
			}
		}
		if m, err := parseCost(s); err == nil && m < 0 {
			t.Fatalf("%q gave a negative cost", s)
		}
	})
}
