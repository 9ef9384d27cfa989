//go:build unix

package importer

import (
	"crypto/sha256"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cpuTime is the process's CPU time so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's peak resident memory in bytes (Linux reports
// kilobytes, macOS bytes).
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) << 10
}

// The 1M import figures report CPU time and peak RSS from these; they must
// move with real work, not read 0.
func TestCPUTimeAndPeakRSSMeasure(t *testing.T) {
	before := cpuTime()
	sum := sha256.Sum256(nil)
	for began := time.Now(); time.Since(began) < 50*time.Millisecond; {
		sum = sha256.Sum256(sum[:])
	}
	require.Greater(t, cpuTime(), before, "CPU time after 50 ms of hashing")
	held := make([]byte, 64<<20)
	for i := range held {
		held[i] = byte(i)
	}
	require.GreaterOrEqual(t, peakRSS(), int64(len(held)), "peak RSS after touching 64 MB")
	runtime.KeepAlive(held)
}
