package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"karton/store"
)

func exportCmd(fs *flag.FlagSet) runFunc {
	format := fs.String("format", "", "csv or jsonl (default: from the --out file name, else csv)")
	out := fs.String("out", "", "write to this file instead of standard output (replaced only when the export succeeds)")
	return func(e *env, args []string) error {
		if len(args) != 1 {
			return usagef("give what to export: customers, purchases, interactions, consents, decisions or audit")
		}
		entity, err := store.ParseExportEntity(args[0])
		if err != nil {
			return usagef("%v", err)
		}
		f := *format
		if f == "" {
			f = "csv"
			if ext := strings.ToLower(filepath.Ext(*out)); ext == ".jsonl" || ext == ".ndjson" || ext == ".json" {
				f = "jsonl"
			}
		}
		if f != "csv" && f != "jsonl" {
			return usagef("--format %q: use csv or jsonl", f)
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		ctx, stop := e.interruptible()
		defer stop()
		if *out == "" {
			w := bufio.NewWriterSize(e.stdout, 256<<10)
			if _, err := st.Export(ctx, e.actor, entity, f, w); err != nil {
				w.Flush()
				return err
			}
			return w.Flush()
		}
		// Write next to the target and rename, so a failed export never
		// leaves a half-written file under the expected name.
		tmp, err := os.CreateTemp(filepath.Dir(*out), ".karton-export-*")
		if err != nil {
			return fmt.Errorf("--out: cannot write in %s: %w", filepath.Dir(*out), errors.Unwrap(err))
		}
		defer os.Remove(tmp.Name())
		w := bufio.NewWriterSize(tmp, 256<<10)
		sum, err := st.Export(ctx, e.actor, entity, f, w)
		if err == nil {
			err = w.Flush()
		}
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), *out)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "exported %d %s to %s (%s); the export is recorded in the audit chain\n", sum.Rows, entity, *out, f)
		return nil
	}
}
