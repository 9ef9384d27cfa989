package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// spoolStdin copies standard input into a temporary file (readable by its
// owner only: the lines hold personal data) and returns it at its start,
// so that an import can hash it first and refuse a file imported before,
// as it does for a named file. The caller removes it.
func spoolStdin(e *env, pattern string) (*os.File, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return nil, fmt.Errorf("cannot hold standard input in a temporary file: %w", errors.Unwrap(err))
	}
	fail := func(err error) (*os.File, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	if _, err := io.Copy(f, e.stdin); err != nil {
		return fail(fmt.Errorf("holding standard input in a temporary file in %s: %w", os.TempDir(), err))
	}
	if e.ctx != nil && e.ctx.Err() != nil {
		// The ssh client went away: what came may be cut short.
		return fail(fmt.Errorf("the connection ended while the file was sent; nothing was imported"))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	return f, nil
}
