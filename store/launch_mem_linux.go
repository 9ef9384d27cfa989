//go:build linux

package store

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// releaseMappedPages drops the pages of the store file's memory map from
// the process's resident set. bbolt reads through a shared, read-only
// mapping of the file, so a scan over a million customers leaves every page
// it read resident and counted in the process's RSS, although the kernel
// holds the data in its page cache anyway. madvise(MADV_DONTNEED) on a
// shared file mapping only unmaps the pages: the next read faults them in
// again from the page cache, with the same content (bbolt writes with
// pwrite to the same file).
//
// It must run inside a read transaction: that holds bbolt's mmap lock, so
// the mapping cannot be replaced (and its addresses reused) meanwhile.
// Failing to release is harmless, so errors are ignored.
func releaseMappedPages(path string) {
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	ino := strconv.FormatUint(st.Ino, 10)
	base := filepath.Base(path)
	for _, line := range bytes.Split(maps, []byte{'\n'}) {
		// start-end perms offset dev inode path
		f := bytes.Fields(line)
		if len(f) < 6 || string(f[4]) != ino || filepath.Base(string(f[5])) != base {
			continue
		}
		lo, hi, ok := bytes.Cut(f[0], []byte{'-'})
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), syscall.MADV_DONTNEED)
	}
}
