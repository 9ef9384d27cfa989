package store

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"karton/model"
)

func TestOpenCreatesParentDirectoriesAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "k.db")
	s, err := Open(path, Options{})
	require.NoError(t, err)
	id := addCustomer(t, s, model.Customer{FirstName: "Jürgen", LastName: "Groß", Email: "j@example.de"})
	require.NoError(t, s.Close())

	s, err = Open(path, Options{})
	require.NoError(t, err)
	defer s.Close()
	st, err := s.Stats()
	require.NoError(t, err)
	assert.EqualValues(t, 1, st.Customers)
	assert.Equal(t, SchemaVersion, st.SchemaVersion)
	require.NoError(t, s.View(admin, func(r *Reader) error {
		c, err := r.Customer(id)
		require.NoError(t, err)
		assert.Equal(t, "Groß", c.LastName)
		return nil
	}))
}

func TestOpenRefusesFilesThatAreNotStores(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(text, []byte(strings.Repeat("hello world\n", 500)), 0o600))
	short := filepath.Join(dir, "short.txt")
	require.NoError(t, os.WriteFile(short, []byte("hi"), 0o600))
	empty := filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	foreign := filepath.Join(dir, "foreign.db")
	db, err := bolt.Open(foreign, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err }))
	require.NoError(t, db.Close())

	for name, tc := range map[string]struct{ path, says string }{
		"text file":     {text, "not a bbolt database"},
		"too short":     {short, "too short"},
		"empty file":    {empty, "empty"},
		"foreign bbolt": {foreign, "not a Karton store"},
		"a directory":   {dir, "is a directory"},
	} {
		t.Run(name, func(t *testing.T) {
			before, _ := os.ReadFile(tc.path)
			_, err := Open(tc.path, Options{})
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrNotKarton)
			assert.Contains(t, err.Error(), tc.says)
			after, _ := os.ReadFile(tc.path)
			assert.Equal(t, before, after, "a refused file must not be changed")
		})
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := Open(path, Options{})
	require.NoError(t, err)
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put([]byte("schema"), u64(SchemaVersion+1))
	}))
	require.NoError(t, s.Close())
	_, err = Open(path, Options{})
	require.ErrorIs(t, err, ErrNewerSchema)
	assert.Contains(t, err.Error(), "newer Karton")
	assert.Contains(t, err.Error(), "upgrade")
}

func TestOpenMigratesOlderSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := Open(path, Options{})
	require.NoError(t, err)
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put([]byte("schema"), u64(0))
	}))
	require.NoError(t, s.Close())
	called := false
	migrations[0] = func(*bolt.Tx) error { called = true; return nil }
	defer delete(migrations, 0)
	s, err = Open(path, Options{})
	require.NoError(t, err)
	defer s.Close()
	assert.True(t, called)
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		assert.EqualValues(t, SchemaVersion, readU64(tx.Bucket(bMeta).Get([]byte("schema"))))
		return nil
	}))
}

func TestOpenInUnwritableLocation(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, []byte("x"), 0o600))
	_, err := Open(filepath.Join(blocker, "sub", "k.db"), Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is a file, not a directory")

	if os.Geteuid() != 0 { // root ignores directory modes
		ro := filepath.Join(dir, "ro")
		require.NoError(t, os.Mkdir(ro, 0o500))
		_, err = Open(filepath.Join(ro, "k.db"), Options{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "choose a writable location")
	}
}

// TestOpenHeldByAnotherProcess runs a second process (this test binary)
// that tries to open a store this process holds.
func TestOpenHeldByAnotherProcess(t *testing.T) {
	if path := os.Getenv("KARTON_TEST_OPEN"); path != "" {
		_, err := Open(path, Options{})
		if errors.Is(err, ErrInUse) {
			os.Stdout.WriteString("IN USE: " + err.Error())
			os.Exit(3)
		}
		os.Exit(0)
	}
	s, _ := openTest(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenHeldByAnotherProcess$")
	cmd.Env = append(os.Environ(), "KARTON_TEST_OPEN="+s.Path())
	start := time.Now()
	out, err := cmd.Output()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 3, exit.ExitCode())
	assert.Contains(t, string(out), "in use by another Karton process")
	assert.Contains(t, string(out), "karton serve")
	assert.Less(t, time.Since(start), 10*time.Second)
}
