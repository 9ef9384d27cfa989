package palette

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMatchSubsequence(t *testing.T) {
	tests := []struct {
		pattern, text string
		ok            bool
		positions     []int
	}{
		{"", "anything", true, nil},
		{"   ", "anything", true, nil},
		{"cust", "Customers", true, []int{0, 1, 2, 3}},
		{"CUST", "customers", true, []int{0, 1, 2, 3}},
		{"nc", "New campaign", true, []int{0, 4}},
		{"new camp", "New campaign", true, []int{0, 1, 2, 4, 5, 6, 7}},
		{"muller", "Jürgen Müller", true, []int{7, 8, 9, 10, 11, 12}},
		{"grosse", "Größe", false, nil}, // ß folds to one s: "grose" would match
		{"grose", "Größe", true, []int{0, 1, 2, 3, 4}},
		{"xyz", "Customers", false, nil},
		{"sremotsuc", "Customers", false, nil},
		{"toolong", "tool", false, nil},
		{"fb", "fooBar", true, []int{0, 3}},
		{"q2", "report Q2 2025", true, []int{7, 8}},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+"→"+tc.text, func(t *testing.T) {
			r, ok := Match(tc.pattern, tc.text)
			require.Equal(t, tc.ok, ok)
			if tc.ok {
				assert.Equal(t, tc.positions, r.Positions)
			}
		})
	}
}

func TestMatchPrefersWordStartsAndRuns(t *testing.T) {
	rank := func(pattern string, texts ...string) []string {
		type scored struct {
			text  string
			score int
		}
		var out []scored
		for _, tx := range texts {
			if r, ok := Match(pattern, tx); ok {
				out = append(out, scored{tx, r.Score})
			}
		}
		sort.SliceStable(out, func(a, b int) bool { return out[a].score > out[b].score })
		var names []string
		for _, s := range out {
			names = append(names, s.text)
		}
		return names
	}
	assert.Equal(t, []string{"New campaign", "Cancel launch"}, rank("nc", "Cancel launch", "New campaign"))
	assert.Equal(t, []string{"Customers", "Discount rules"}, rank("cus", "Discount rules", "Customers"))
	assert.Equal(t, []string{"Expert console", "Export consent"}, rank("exco", "Expert console", "Export consent"), "ties keep input order")
	assert.Equal(t, []string{"Go to Warehouse", "Show raw events"}, rank("wa", "Show raw events", "Go to Warehouse"))
}

func TestMatchPicksBestAlignment(t *testing.T) {
	// The greedy first 'c' would be inside "Accounts"; the best alignment is
	// the word start of "Campaigns".
	r, ok := Match("camp", "Accounts: Campaigns")
	require.True(t, ok)
	assert.Equal(t, []int{10, 11, 12, 13}, r.Positions)
}

func BenchmarkMatch(b *testing.B) {
	for b.Loop() {
		Match("mlr", "Jürgen Müller-Lüdenscheidt <juergen.mueller@example.com>")
	}
}
