package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// Backup writes a consistent copy of the store to path while it stays in
// use: one read transaction streams every page (bbolt's WriteTo) into a
// temporary file beside the target, which is synced, renamed into place,
// reopened and checked. A backup holds all personal data, so it needs the
// permission to export it, and it is audited.
func (s *Store) Backup(by model.Actor, path string) (int64, error) {
	if err := by.Require(model.PermExportPersonal, "back up the store (a backup holds all personal data)"); err != nil {
		return 0, err
	}
	abs, _ := filepath.Abs(path)
	if self, _ := filepath.Abs(s.path); abs == self {
		return 0, errors.New("the backup would overwrite the store itself; choose another file")
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("backup: create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".karton-backup-*")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	var n int64
	err = s.db.View(func(tx *bolt.Tx) error {
		n, err = tx.WriteTo(tmp)
		return err
	})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("backup: write %s: %w", path, err)
	}
	if err := checkCopy(tmp.Name()); err != nil {
		return 0, fmt.Errorf("backup: the copy does not check out: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	err = s.Update(by, func(t *Tx) error {
		return t.Audit("store.backup", "file:"+filepath.Base(path), []byte(abs))
	})
	return n, err
}

// checkCopy reopens a copy read-only and runs bbolt's consistency check.
func checkCopy(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 1e9})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		var first error
		for err := range tx.Check() { // drain: the checker goroutine sends every error
			if first == nil {
				first = err
			}
		}
		if first == nil && tx.Bucket(bMeta) == nil {
			first = errors.New("no meta bucket")
		}
		return first
	})
}
