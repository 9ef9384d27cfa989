package jsonkeys

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRepeated(t *testing.T) {
	for raw, want := range map[string]string{
		`{"a":1,"b":2}`:                        "-",
		`{"a":1,"a":2}`:                        "a",
		`{"evidence":{"ip":"1","ip":"2"}}`:     "evidence.ip",
		`{"evidence":{"ip":"1"},"ip":"2"}`:     "-",
		`{"x":[{"a":1},{"a":1}],"y":{"":1}}`:   "-",
		`{"x":{"y":{"z":1,"z":2}}}`:            "x.y.z",
		`{"":1,"":2}`:                          "",
		`{"e":{},"e":1}`:                       "e",
		`{"e":[1,{"k":1,"k":2}]}`:              "e.k",
		`{"a":1,"\u0061":2}`:                   "a",
		`{"a\"b":1,"a\"b":2}`:                  "a\"b",
		`{"a":"x,}]","a":1}`:                   "a",
		`{"a":1,`:                              "-",
		`{"a":"unterminated`:                   "-",
		``:                                     "-",
		`{"a" 1,"a":2}`:                        "-",
		`{"customer":7,"customer":"8","a":[]}`: "customer",
	} {
		dup, ok := Repeated([]byte(raw))
		if want == "-" {
			assert.False(t, ok, raw)
			continue
		}
		assert.True(t, ok, raw)
		assert.Equal(t, want, dup, raw)
	}
}

// Whatever the bytes, Repeated answers without panicking.
func FuzzRepeated(f *testing.F) {
	for _, seed := range []string{`{"a":1,"a":2}`, `{"e":[1,{"k":"\u0061"}]}`, `{"a\"`, `[[[`, `{"a":tru`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		Repeated(raw)
	})
}
