//go:build !linux

package store

// releasePages is Linux-only (it reads /proc/self/maps); elsewhere the
// kernel alone decides which mapped store pages stay resident.
func (s *Store) releasePages() {}

// readAhead is Linux-only (posix_fadvise); elsewhere scans fault the store
// in as they go.
func (s *Store) readAhead() (stop func()) { return func() {} }
