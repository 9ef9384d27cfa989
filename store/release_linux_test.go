package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"karton/model"
)

// mappedRSS is the resident size in KiB of this process's mappings of the
// store file, from /proc/self/smaps.
func mappedRSS(t *testing.T, s *Store) int {
	t.Helper()
	fi, err := os.Stat(s.path)
	require.NoError(t, err)
	ino := strconv.FormatUint(fi.Sys().(*syscall.Stat_t).Ino, 10)
	f, err := os.Open("/proc/self/smaps")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	in, total := false, 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = fields[4] == ino
			continue
		}
		if in && len(fields) >= 2 && fields[0] == "Rss:" {
			kb, _ := strconv.Atoi(fields[1])
			total += kb
		}
	}
	return total
}

// A full scan leaves the store pages it touched resident only until the
// scan returns them; the data reads the same afterwards.
func TestScansReturnTheirPages(t *testing.T) {
	s, _ := openTest(t)
	require.NoError(t, s.Update(admin, func(tx *Tx) error {
		for i := range 3000 {
			c := model.Customer{FirstName: fmt.Sprintf("Name%04d", i), LastName: "Muster", Attributes: map[string]string{"a": strings.Repeat("x", 90), "b": strings.Repeat("y", 90), "c": strings.Repeat("z", 90), "d": strings.Repeat("w", 90)}}
			c.Address.City = "Berlin"
			if err := tx.InsertCustomer(&c); err != nil {
				return err
			}
		}
		return nil
	}))
	segs := []model.Segment{{ID: 1, Name: "Berlin", Conditions: []model.Condition{{Field: "city", Op: "=", Value: "Berlin"}}}}

	// Touch every customer page without releasing, as a plain read does.
	require.NoError(t, s.View(admin, func(r *Reader) error {
		c := r.tx.Bucket(bCustomers).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			_ = v[len(v)-1]
		}
		return nil
	}))
	touched := mappedRSS(t, s)
	require.Greater(t, touched, 1000, "reading 3,000 customers of ~0.5 KB maps over a megabyte")

	require.NoError(t, s.View(admin, func(r *Reader) error {
		sizes, _, err := r.SegmentSizes(segs)
		require.Equal(t, []int{3000}, sizes)
		return err
	}))
	after := mappedRSS(t, s)
	require.Less(t, after, touched/4, "the segment count returned the pages (%d KiB → %d KiB)", touched, after)

	// Reads fault them back in with the same data.
	require.NoError(t, s.View(admin, func(r *Reader) error {
		sizes, _, err := r.segmentSizes(segs)
		require.Equal(t, []int{3000}, sizes)
		return err
	}))
	s.ReleasePages()
	require.Less(t, mappedRSS(t, s), touched/4)
}

// Reading ahead is a hint: it may be stopped at once, more than once in
// parallel, and on a store whose file is gone it does nothing.
func TestReadAheadStopsAndTakesNoHarm(t *testing.T) {
	s, _ := openTest(t)
	addCustomer(t, s, model.Customer{FirstName: "Anna", Email: "anna@example.de"})
	stop1, stop2 := s.readAhead(), s.readAhead()
	stop2()
	stop1()
	moved := &Store{path: filepath.Join(t.TempDir(), "gone.db")}
	moved.readAhead()()
	_, err := s.RunAttribution(context.Background(), admin, AttributionOptions{})
	require.NoError(t, err)
}
