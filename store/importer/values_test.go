package importer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTime(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		in, hint string
		want     time.Time
	}{
		{"2025-12-31", "", day(2025, 12, 31)},
		{"2025-12-31 14:30", "", time.Date(2025, 12, 31, 14, 30, 0, 0, time.UTC)},
		{"2025-12-31T14:30:05", "", time.Date(2025, 12, 31, 14, 30, 5, 0, time.UTC)},
		{"2025-12-31T14:30:05+01:00", "", time.Date(2025, 12, 31, 13, 30, 5, 0, time.UTC)},
		{"31.12.2025", "", day(2025, 12, 31)},
		{"1.2.2025", "", day(2025, 2, 1)},
		{"31.12.2025 14:30:05.25", "", time.Date(2025, 12, 31, 14, 30, 5, 250_000_000, time.UTC)},
		{"20251231", "", day(2025, 12, 31)},
		{"31/12/2025", "", day(2025, 12, 31)},
		{"12/31/2025", "", day(2025, 12, 31)},
		{"01/02/2025", HintDMY, day(2025, 2, 1)},
		{"01/02/2025", HintEnglish, day(2025, 1, 2)},
	} {
		got, err := parseTime(tc.in, tc.hint, time.UTC)
		require.NoError(t, err, tc.in)
		assert.True(t, tc.want.Equal(got), "%s: %s", tc.in, got)
	}
	// Every malformed date is an error that quotes it, never a crash:
	// the German habit of leaving out the year ("15.03.") among them.
	for _, tc := range []struct{ in, reason string }{
		{"", "is empty"},
		{"15.03.", `"15.03." has no year`},
		{"..", `".." has no year`},
		{"1..2025", `"1..2025" is not a date`},
		{"01.02.65", "two-digit year"},
		{"01/02/65", "two-digit year"},
		{"//", "two-digit year"},
		{"--", "is not a date"},
		{"2025--", "is not a date"},
		{"01/02/2025", "ambiguous"},
		{"31.02.2025", "is not a calendar date"},
		{"2025-12-31 25:00", "hour"},
		{"2025-12-31 14:3", "minute"},
		{"morgen", "is not a date"},
	} {
		_, err := parseTime(tc.in, "", time.UTC)
		assert.ErrorContains(t, err, tc.reason, "%q", tc.in)
	}
}
