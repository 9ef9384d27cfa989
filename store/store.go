// Package store is the only package that touches Karton's bbolt file.
//
// It opens, locks and migrates the file, encodes records with a compact
// binary codec, keeps buckets and secondary indexes consistent within each
// write transaction, answers paged queries through cursors, enforces the
// permission matrix for every operation (each takes the acting user), and
// keeps the append-only audit chain. Key layouts are documented in keys.go.
package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"karton/model"
)

// SchemaVersion is the layout this build writes. Older stores are migrated
// on open; newer ones are refused.
const SchemaVersion = 1

const magic = "karton-store"

// Options configure Open.
type Options struct {
	// Timeout for the file lock; default 1 s. Another Karton process holding
	// the file makes Open fail after this long with ErrInUse.
	Timeout time.Duration
	// ReadOnly opens without writing (shared lock); a missing file is an error.
	ReadOnly bool
	// Now is the clock; default time.Now in UTC. Tests pass a fixed clock.
	Now func() time.Time
	// InitialMmapSize; default 1 GiB of address space (not memory), so
	// readers do not block the writer while the file grows.
	InitialMmapSize int
	// Secret is the per-store key for suppression hashes and signed tokens,
	// used only when the store is created; default 32 random bytes. Demo
	// stores derive it from their seed so that they are reproducible.
	Secret []byte
}

// Store is an open Karton file. It is safe for concurrent use.
type Store struct {
	db     *bolt.DB
	path   string
	now    func() time.Time
	secret []byte

	mu       sync.RWMutex // guards settings
	settings model.Settings

	feed *feed

	// decisionExporters add recorded decisions to personal data exports.
	decisionExporters []decisionExporter

	// bulk is the bulk load (or index rebuild) that owns the store's
	// writes while it runs; see BeginBulkLoad.
	bulk atomic.Pointer[BulkLoad]

	// sizes shares segment counts between readers of the same state.
	sizes sizesMemo

	// purposes caches committed purposes by id (Reader.Purpose): a
	// purpose is never changed or deleted once committed, and Check reads
	// one per decision.
	purposes sync.Map
}

// Sentinel errors callers may test for with errors.Is.
var (
	ErrInUse       = errors.New("store is in use by another Karton process")
	ErrNotKarton   = errors.New("not a Karton store")
	ErrNewerSchema = errors.New("store was written by a newer Karton")
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("conflicts with an existing record")
)

// OpenError explains why a store could not be opened.
type OpenError struct {
	Path   string
	Reason string // what happened and what to do
	Err    error  // one of the sentinels above, or the OS error
}

func (e *OpenError) Error() string { return fmt.Sprintf("cannot open %s: %s", e.Path, e.Reason) }
func (e *OpenError) Unwrap() error { return e.Err }

// Open opens the store at path, creating it (and its parent directories)
// when it does not exist.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Now().UTC() }
	}
	if opts.InitialMmapSize == 0 {
		opts.InitialMmapSize = 1 << 30
	}
	if err := preflight(path, opts.ReadOnly); err != nil {
		return nil, err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         opts.Timeout,
		ReadOnly:        opts.ReadOnly,
		InitialMmapSize: opts.InitialMmapSize,
		FreelistType:    bolt.FreelistMapType,
	})
	if err != nil {
		return nil, openFailure(path, err)
	}
	s := &Store{db: db, path: path, now: opts.Now, feed: newFeed(), secret: opts.Secret,
		decisionExporters: []decisionExporter{exportDecisions}}
	if err := s.init(opts.ReadOnly); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// preflight catches what bbolt would mishandle: it silently initialises an
// empty file, and reports a missing directory with a bare OS error.
func preflight(path string, readOnly bool) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return &OpenError{Path: path, Reason: "it is a directory; give the path of a store file, e.g. " + filepath.Join(path, "karton.db"), Err: ErrNotKarton}
	case err == nil && fi.Size() == 0:
		return &OpenError{Path: path, Reason: "the file is empty, so it is not a Karton store; remove it or choose another --db path", Err: ErrNotKarton}
	case err == nil:
		return checkHeader(path)
	case errors.Is(err, os.ErrNotExist):
		if readOnly {
			return &OpenError{Path: path, Reason: "the file does not exist", Err: err}
		}
		dir := filepath.Dir(path)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return &OpenError{Path: path, Reason: fmt.Sprintf("cannot create the directory %s (%v); choose a writable location with --db or $KARTON_DB", dir, unwrapPathError(err)), Err: err}
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
		if err != nil {
			return &OpenError{Path: path, Reason: fmt.Sprintf("cannot create the file (%v); choose a writable location with --db or $KARTON_DB", unwrapPathError(err)), Err: err}
		}
		f.Close()
		os.Remove(path) // bbolt creates and initialises it; we only proved we can
		return nil
	case errors.Is(err, syscall.ENOTDIR):
		return &OpenError{Path: path, Reason: "a part of the path is a file, not a directory; choose a writable location with --db or $KARTON_DB", Err: err}
	default:
		return &OpenError{Path: path, Reason: unwrapPathError(err).Error(), Err: err}
	}
}

// checkHeader looks for bbolt's magic number in the first meta page, so a
// text file or an image gets a clear answer instead of a checksum error.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &OpenError{Path: path, Reason: unwrapPathError(err).Error(), Err: err}
	}
	defer f.Close()
	var hdr [32]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return &OpenError{Path: path, Reason: "the file is too short to be a Karton store; choose another --db path", Err: ErrNotKarton}
	}
	// page header is 16 bytes; the meta's magic (0xED0CDAED) follows, little-endian.
	if hdr[16] != 0xED || hdr[17] != 0xDA || hdr[18] != 0x0C || hdr[19] != 0xED {
		return &OpenError{Path: path, Reason: "the file is not a Karton store (it is not a bbolt database at all); choose another --db path", Err: ErrNotKarton}
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func openFailure(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return &OpenError{Path: path, Reason: "it is in use by another Karton process; close that one, or connect to it with `karton serve` and ssh instead", Err: ErrInUse}
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return &OpenError{Path: path, Reason: fmt.Sprintf("the file is not a valid Karton store (%v); restore it from a backup or choose another --db path", err), Err: ErrNotKarton}
	case errors.Is(err, os.ErrPermission):
		return &OpenError{Path: path, Reason: "permission denied; check the file's owner and mode, or choose another --db path", Err: err}
	}
	return &OpenError{Path: path, Reason: err.Error(), Err: err}
}

// init creates a new store's buckets, or checks and migrates an existing one.
func (s *Store) init(readOnly bool) error {
	var fresh bool
	var schema uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta == nil {
			empty := true
			tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return &OpenError{Path: s.path, Reason: "the file is a bbolt database but not a Karton store (it has no Karton marker); choose another --db path", Err: ErrNotKarton}
			}
			fresh = true
			return nil
		}
		if string(meta.Get([]byte("magic"))) != magic {
			return &OpenError{Path: s.path, Reason: "the file is a bbolt database but not a Karton store; choose another --db path", Err: ErrNotKarton}
		}
		schema = readU64(meta.Get([]byte("schema")))
		return nil
	})
	if err != nil {
		return err
	}
	if schema > SchemaVersion {
		return &OpenError{Path: s.path, Reason: fmt.Sprintf("it was written by a newer Karton (schema %d; this one knows up to %d); upgrade Karton to open it", schema, SchemaVersion), Err: ErrNewerSchema}
	}
	if fresh || schema < SchemaVersion {
		if readOnly {
			return &OpenError{Path: s.path, Reason: "the store needs to be created or upgraded, which a read-only open cannot do", Err: ErrNotKarton}
		}
		if err := s.db.Update(func(tx *bolt.Tx) error {
			if fresh {
				return s.create(tx)
			}
			return migrate(tx, schema)
		}); err != nil {
			return fmt.Errorf("prepare %s: %w", s.path, err)
		}
	}
	return s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		s.secret = append([]byte(nil), meta.Get([]byte("secret"))...)
		st := model.DefaultSettings()
		if b := meta.Get([]byte("settings")); b != nil {
			if err := decodeSettings(b, &st); err != nil {
				return err
			}
		}
		s.settings = st
		return nil
	})
}

func (s *Store) create(tx *bolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	secret := s.secret
	if len(secret) == 0 {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return fmt.Errorf("make store secret: %w", err)
		}
	}
	meta := tx.Bucket(bMeta)
	st := model.DefaultSettings()
	for k, v := range map[string][]byte{
		"magic":      []byte(magic),
		"schema":     u64(SchemaVersion),
		"secret":     secret,
		"created_at": u64(uint64(s.now().UnixNano())),
		"settings":   encodeSettings(&st),
	} {
		if err := meta.Put([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}

// migrations[v] upgrades a store from schema v to v+1. Each runs inside
// the single transaction that also records the new version, so a crash
// leaves the store at the old version, never half-migrated.
var migrations = map[uint64]func(tx *bolt.Tx) error{}

func migrate(tx *bolt.Tx, from uint64) error {
	for v := from; v < SchemaVersion; v++ {
		m, ok := migrations[v]
		if !ok {
			return fmt.Errorf("no migration from schema %d to %d", v, v+1)
		}
		if err := m(tx); err != nil {
			return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
		}
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return tx.Bucket(bMeta).Put([]byte("schema"), u64(SchemaVersion))
}

// Close releases the file lock.
func (s *Store) Close() error {
	s.feed.close()
	return s.db.Close()
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now() }

// Settings returns the current store-wide settings.
func (s *Store) Settings() model.Settings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.settings
	if st.Caps != nil {
		caps := make(map[model.ChannelKind]model.FrequencyCap, len(st.Caps))
		for k, v := range st.Caps {
			caps[k] = v
		}
		st.Caps = caps
	}
	return st
}

// UpdateSettings validates and stores new settings (admin only).
func (s *Store) UpdateSettings(by model.Actor, st model.Settings) error {
	if err := st.Validate(); err != nil {
		return err
	}
	return s.Update(by, func(tx *Tx) error {
		if err := tx.require(model.PermAdminister, "change settings"); err != nil {
			return err
		}
		b := encodeSettings(&st)
		if err := tx.tx.Bucket(bMeta).Put([]byte("settings"), b); err != nil {
			return err
		}
		tx.onCommit(func() {
			s.mu.Lock()
			s.settings = st
			s.mu.Unlock()
		})
		tx.change(ChangeSettings, 0)
		return tx.Audit("settings.update", "settings", b)
	})
}

// ReleasePages returns the mapped store pages this process touched to the
// kernel's page cache, shrinking its resident set to what it uses next. The
// cockpit and the server call it now and then; reads afterwards fault the
// pages they need back in.
func (s *Store) ReleasePages() {
	_ = s.db.View(func(*bolt.Tx) error {
		s.releasePages()
		return nil
	})
}

// TrimEvery calls ReleasePages every d until ctx ends, so that whatever
// scanned the store (a segment count, a preflight, a warehouse load) leaves
// the long-running cockpit or server with a small resident set.
func (s *Store) TrimEvery(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.ReleasePages()
		}
	}
}
