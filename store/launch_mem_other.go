//go:build !linux

package store

// releaseMappedPages is a no-op where the resident pages of a memory map
// cannot be dropped this way (see the Linux version).
func releaseMappedPages(string) {}
