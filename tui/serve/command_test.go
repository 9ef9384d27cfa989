package serve

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want []string
	}{
		{"user list --json", []string{"user", "list", "--json"}},
		{"  user\tlist  ", []string{"user", "list"}},
		{"", nil},
		{`consent record --evidence 'note=clicked the link'`, []string{"consent", "record", "--evidence", "note=clicked the link"}},
		{`a "b \"c\" \\ \$x \n" d`, []string{"a", `b "c" \ $x \n`, "d"}},
		{`a\ b 'it'"'"'s' ""`, []string{"a b", "it's", ""}},
		{`Zoë "Grüße aus Köln"`, []string{"Zoë", "Grüße aus Köln"}},
		{"a \\\nb", []string{"a", "b"}},
	} {
		got, err := splitCommand(tc.raw)
		require.NoError(t, err, tc.raw)
		assert.Equal(t, tc.want, got, tc.raw)
	}
	for _, tc := range []struct{ raw, says string }{
		{`consent record --customer "neu@example.de`, "double quote"},
		{`customer erase 'anna`, "single quote"},
		{`customer show 14 \`, "backslash"},
	} {
		_, err := splitCommand(tc.raw)
		require.Error(t, err, tc.raw)
		assert.Contains(t, err.Error(), tc.says)
	}
}

func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{"user list", `a 'b c' "d \" e" f\ g`, `"`, `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		words, err := splitCommand(raw)
		if err != nil {
			return
		}
		// Words quoted back the simplest way split into the same words.
		var line string
		for i, w := range words {
			if i > 0 {
				line += " "
			}
			line += "'" + strings.ReplaceAll(w, "'", `'"'"'`) + "'"
		}
		again, err := splitCommand(line)
		if err != nil || len(again) != len(words) {
			t.Fatalf("%q → %q → %q (%v)", raw, words, again, err)
		}
		for i := range words {
			if again[i] != words[i] {
				t.Fatalf("%q → %q → %q", raw, words, again)
			}
		}
	})
}
