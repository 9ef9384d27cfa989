package store

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeConsentLineJSON is the reference: what the import did before the
// fast path, and still does for every line the fast path declines.
func decodeConsentLineJSON(raw []byte) (ConsentLine, error) {
	var l ConsentLine
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(&l)
	return l, err
}

// checkFastLine holds the fast path to encoding/json on one line: if it
// decodes the line, encoding/json must accept it with the same values.
func checkFastLine(t *testing.T, raw []byte) bool {
	t.Helper()
	var fast ConsentLine
	if !parseConsentLineFast(raw, &fast) {
		return false
	}
	want, err := decodeConsentLineJSON(raw)
	require.NoError(t, err, "the fast path accepted %q", raw)
	assert.Equal(t, string(want.Customer), string(fast.Customer), "%q", raw)
	fast.Customer, want.Customer = nil, nil
	assert.Equal(t, want, fast, "%q", raw)
	return true
}

func TestConsentLineFastPathAgreesWithEncodingJSON(t *testing.T) {
	cases := []struct {
		line string
		fast bool // whether the fast path takes it
	}{
		{`{"customer":42,"channel":"email","purpose":"newsletter","kind":"opt_in","at":"2025-01-01T10:00:00Z"}`, true},
		{` { "customer" : "42" , "kind":"opt_out" , "evidence" : { "ip" : "192.0.2.1", "form":"ä-Formular" } } `, true},
		{`{"customer_email":"a@example.de","source":"","text_version":"v3","basis":"consent","recorded_at":"2025-01-01T10:00:00Z"}`, true},
		{`{}`, true},
		{`{"evidence":{}}`, true},
		{`{"customer":0}`, true},
		{"{\"kind\":\"opt_in\"}\r", true},
		{`{"Kind":"opt_in"}`, false},                           // encoding/json matches field names case-insensitively
		{`{"kind":"opt_in","kind":"opt_out"}`, false},          // the last one wins there
		{`{"evidence":{"a":"1"},"evidence":{"b":"2"}}`, false}, // and maps are merged
		{`{"evidence":{"a":"1","a":"2"}}`, false},
		{`{"kind":"opt\u005fin"}`, false},
		{`{"kind":"a\"b"}`, false},
		{"{\"kind\":\"\xff\"}", false}, // replaced by U+FFFD there
		{"{\"kind\":\"a\tb\"}", false},
		{`{"kind":null,"evidence":null,"customer":null}`, true}, // as json.Encoder writes empty fields
		{`{"kind":nul}`, false},
		{`{"kind":nullx}`, false},
		{`{"customer":-1}`, false},
		{`{"customer":1.5}`, false},
		{`{"customer":1e3}`, false},
		{`{"customer":01}`, false},
		{`{"customer":{"id":1}}`, false},
		{`{"customer":true}`, false},
		{`{"colour":"blue"}`, false},
		{`{"kind":"opt_in",}`, false},
		{`{"kind":"opt_in"} trailing`, false},
		{`{"kind":"opt_in"}{"kind":"opt_out"}`, false},
		{`{"kind":"opt_in"`, false},
		{`{"kind" "opt_in"}`, false},
		{`{"kind":1}`, false},
		{`{"evidence":{"a":1}}`, false},
		{`{"evidence":["a"]}`, false},
		{`["kind"]`, false},
		{`this is not json`, false},
		{"\ufeff{}", false},
	}
	for _, c := range cases {
		assert.Equal(t, c.fast, checkFastLine(t, []byte(c.line)), "%s", c.line)
	}
}

func TestConsentLineFastPathOnGeneratedLines(t *testing.T) {
	n := 0
	for _, raw := range bytes.Split(importTestLines(9, 2000), []byte("\n")) {
		raw = bytes.TrimSpace(raw)
		if len(raw) > 0 && checkFastLine(t, raw) {
			n++
		}
	}
	assert.Greater(t, n, 1800, "lines as exporters write them take the fast path")

	// json.Encoder on a ConsentLine writes every field, empty ones as "" and null.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	require.NoError(t, enc.Encode(ConsentLine{Customer: json.RawMessage("7"), Kind: "opt_in", Evidence: map[string]string{"ip": "192.0.2.1"}}))
	require.NoError(t, enc.Encode(ConsentLine{CustomerEmail: "a@example.de", Kind: "opt_out", At: "2025-01-01T10:00:00Z"}))
	for _, raw := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		assert.True(t, checkFastLine(t, raw), "%s", raw)
	}
}

func FuzzConsentLineFastPath(f *testing.F) {
	for _, raw := range strings.Split(string(importTestLines(10, 40)), "\n") {
		f.Add(raw)
	}
	f.Add(`{"customer":"x@example.de","evidence":{"k":"v","k2":""}}`)
	f.Fuzz(func(t *testing.T, line string) {
		checkFastLine(t, []byte(line))
	})
}
