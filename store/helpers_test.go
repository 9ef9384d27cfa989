package store

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"karton/model"
)

// testClock is a fixed, advanceable clock for deterministic tests.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

var testNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

var admin = model.Actor{Name: "ada", Role: model.RoleAdmin, Via: "test"}

func openTest(t testing.TB) (*Store, *testClock) {
	t.Helper()
	clock := &testClock{t: testNow}
	s, err := Open(filepath.Join(t.TempDir(), "k.db"), Options{Now: clock.now})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, clock
}

func addCustomer(t testing.TB, s *Store, c model.Customer) model.CustomerID {
	t.Helper()
	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.InsertCustomer(&c) }))
	return c.ID
}
