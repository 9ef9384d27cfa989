//go:build !unix

package importer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cpuTime is not measured here.
func cpuTime() time.Duration { return 0 }

// peakRSS is not measured here.
func peakRSS() int64 { return 0 }

// Where getrusage is missing the figures read 0, which the report prints
// as such rather than as a measurement.
func TestCPUTimeAndPeakRSSUnknown(t *testing.T) {
	require.Zero(t, cpuTime())
	require.Zero(t, peakRSS())
}
