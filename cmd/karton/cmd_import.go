package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"karton/model"
	"karton/store"
	"karton/store/importer"
)

// mapFlag collects repeated --map COLUMN=FIELD[:HINT] flags.
type mapFlag []importer.MapSpec

func (m *mapFlag) String() string { return "" }

func (m *mapFlag) Set(v string) error {
	spec, err := importer.ParseMap(v)
	if err != nil {
		return err
	}
	*m = append(*m, spec)
	return nil
}

// importFlags are the flags import and import preview share.
type importFlags struct {
	source, format, encoding, delimiter, tz, bulk string
	name                                          string // of standard input
	header, noHeader, createMissing               bool
	maps                                          mapFlag
}

func addImportFlags(fs *flag.FlagSet) *importFlags {
	f := &importFlags{}
	fs.StringVar(&f.source, "source", "", "the system the file comes from (shop, crm, …); its ids are that system's (default: import)")
	fs.StringVar(&f.format, "format", "", "csv or jsonl (default: detected)")
	fs.StringVar(&f.encoding, "encoding", "", "utf-8, windows-1252, iso-8859-1 or utf-16le (default: detected)")
	fs.StringVar(&f.delimiter, "delimiter", "", "CSV field separator: , ; tab | or whitespace (default: detected)")
	fs.BoolVar(&f.header, "header", false, "the first row names the columns (default: detected)")
	fs.BoolVar(&f.noHeader, "no-header", false, "the first row is data; map columns by number (--map 3=at)")
	fs.Var(&f.maps, "map", "COLUMN=FIELD[:HINT] (repeat): map a column by header or number; HINT de|en|dmy|mdy; FIELD - ignores it")
	fs.StringVar(&f.tz, "tz", "UTC", "time zone of dates and times written without one, e.g. Europe/Berlin")
	fs.BoolVar(&f.createMissing, "create-missing", false, "purchases, interactions, consents: create customers that match nobody")
	fs.StringVar(&f.bulk, "bulk", "auto", "write new customers through a bulk load: auto (files over 8 MB), on, off")
	fs.StringVar(&f.name, "name", "", "with FILE -: the name the batch record keeps for what came on standard input (default stdin)")
	return f
}

func (f *importFlags) options(entity store.ImportEntity) (importer.Options, error) {
	opts := importer.Options{Entity: entity, Source: f.source, Format: importer.Format(f.format), Encoding: f.encoding,
		Map: f.maps, CreateMissing: f.createMissing}
	if opts.Source == "" {
		opts.Source = "import"
	}
	if f.format != "" && f.format != "csv" && f.format != "jsonl" {
		return opts, usagef("--format %q: use csv or jsonl", f.format)
	}
	d, err := importer.ParseDelimiter(f.delimiter)
	if err != nil {
		return opts, usagef("--delimiter: %v", err)
	}
	opts.Delimiter = d
	switch {
	case f.header && f.noHeader:
		return opts, usagef("--header and --no-header contradict each other")
	case f.header:
		yes := true
		opts.Header = &yes
	case f.noHeader:
		no := false
		opts.Header = &no
	}
	loc, err := time.LoadLocation(f.tz)
	if err != nil {
		return opts, usagef("--tz %q: not a time zone (UTC, Europe/Berlin, …)", f.tz)
	}
	opts.Location = loc
	switch f.bulk {
	case "auto":
		opts.Bulk = importer.BulkAuto
	case "on":
		opts.Bulk = importer.BulkOn
	case "off":
		opts.Bulk = importer.BulkOff
	default:
		return opts, usagef("--bulk %q: use auto, on or off", f.bulk)
	}
	return opts, nil
}

// importArgs reads the entity and the file of an import: a path, or - for
// standard input (the only way over ssh), held in a temporary file that
// done removes.
func importArgs(e *env, args []string, f *importFlags) (entity store.ImportEntity, src importer.Source, done func(), err error) {
	done = func() {}
	if len(args) != 2 {
		return "", src, done, usagef("give what to import (customers, purchases, interactions or consents) and a file, or - for standard input")
	}
	if entity, err = store.ParseImportEntity(args[0]); err != nil {
		return "", src, done, usagef("%v", err)
	}
	if f.name != "" && args[1] != "-" {
		return "", src, done, usagef("--name names what comes on standard input (FILE -); a file keeps its own name")
	}
	switch {
	case args[1] == "-":
		tmp, err := spoolStdin(e, "karton-import-*")
		if err != nil {
			return "", src, done, err
		}
		tmp.Close()
		done = func() { os.Remove(tmp.Name()) }
		if src, err = importer.FileSource(tmp.Name()); err != nil {
			done()
			return "", src, func() {}, err
		}
		src.Name = cmp.Or(f.name, "stdin")
		return entity, src, done, nil
	case e.remote:
		return "", src, done, usagef("over ssh the file comes on standard input: ssh … import %s - < %s", args[0], args[1])
	}
	src, err = importer.FileSource(args[1])
	return entity, src, done, err
}

func importCmd(fs *flag.FlagSet) runFunc {
	f := addImportFlags(fs)
	dryRun := fs.Bool("dry-run", false, "check every row against the store and report; write nothing")
	strict := fs.Bool("strict", false, "write nothing if any row is rejected")
	report := fs.String("report", "", "write every rejected row (line and reason) to this file as CSV")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		entity, src, done, err := importArgs(e, args, f)
		if err != nil {
			return err
		}
		defer done()
		opts, err := f.options(entity)
		if err != nil {
			return err
		}
		opts.DryRun, opts.Strict = *dryRun, *strict
		var rep *bufio.Writer
		if *report != "" {
			file, err := os.Create(*report)
			if err != nil {
				return fmt.Errorf("--report: cannot write %s: %w", *report, errors.Unwrap(err))
			}
			defer file.Close()
			rep = bufio.NewWriter(file)
			fmt.Fprintln(rep, "line,reason")
			opts.OnReject = func(r store.Rejection) {
				fmt.Fprintf(rep, "%d,%q\n", r.Line, strings.ReplaceAll(r.Reason, `"`, `'`))
			}
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		ctx, stop := e.interruptible()
		defer stop()
		if isTerminalWriter(e.stderr) && !*asJSON {
			opts.Progress = func(p importer.Progress) {
				if p.Phase == "done" {
					fmt.Fprint(e.stderr, "\r\033[K")
					return
				}
				fmt.Fprintf(e.stderr, "\r\033[K%s: %3.0f%%  %d rows, %d rejected", p.Phase, 100*p.Fraction(), p.Batch.Read, p.Batch.Rejected)
			}
		}
		b, runErr := importer.Run(ctx, st, e.actor, src, opts)
		if rep != nil {
			if err := rep.Flush(); err != nil && runErr == nil {
				runErr = fmt.Errorf("--report: %w", err)
			}
		}
		if b.Entity == "" && runErr != nil {
			return runErr // nothing started: a file or mapping problem
		}
		if runErr == nil && !b.DryRun && b.Written() > 0 {
			// Keep the Warehouse box's quality figures current.
			if _, err := st.ComputeQuality(e.actor, model.QualityOptions{}); err != nil {
				runErr = fmt.Errorf("import done, quality report failed: %w", err)
			}
		}
		if *asJSON {
			if err := printJSON(e.stdout, b); err != nil {
				return err
			}
		} else {
			printBatch(e.stdout, b)
		}
		switch {
		case runErr == nil:
			return nil
		case errors.Is(runErr, store.ErrStrict):
			return exitError{code: 1, msg: "strict: " + runErr.Error()}
		case errors.Is(runErr, context.Canceled):
			return exitError{code: 130, msg: "import cancelled; what was written stays, and importing the file again completes it"}
		}
		return runErr
	}
}

func printBatch(w io.Writer, b store.ImportBatch) {
	verb := "imported"
	if b.DryRun {
		verb = "dry run, nothing written:"
	}
	fmt.Fprintf(w, "%s %s from %s (source %s, %s, %s): %d rows read, %d created, %d updated, %d merged, %d unchanged, %d rejected",
		verb, b.Entity, b.File, b.Source, b.Format, b.Encoding, b.Read, b.Created, b.Updated, b.Merged, b.Unchanged, b.Rejected)
	if b.CustomersCreated > 0 {
		fmt.Fprintf(w, "; %d customers created", b.CustomersCreated)
	}
	if b.Suggestions > 0 {
		fmt.Fprintf(w, "; %d merge suggestions (karton merge suggestions)", b.Suggestions)
	}
	if b.Suppressed > 0 {
		fmt.Fprintf(w, "; %d suppressed: their email or phone belongs to an erased person, and no one may contact them until an opt-in with evidence", b.Suppressed)
	}
	fmt.Fprintln(w)
	if b.ID != 0 {
		fmt.Fprintf(w, "batch %d, status %s, sha256 %s\n", b.ID, b.Status, b.SHA256)
	}
	if b.Error != "" {
		fmt.Fprintf(w, "  %s\n", b.Error)
	}
	for _, r := range b.Rejections {
		fmt.Fprintf(w, "  line %d: %s\n", r.Line, r.Reason)
	}
	if n := b.Rejected - len(b.Rejections); n > 0 {
		fmt.Fprintf(w, "  … and %d more (write them all with --report FILE)\n", n)
	}
}

func importPreviewCmd(fs *flag.FlagSet) runFunc {
	f := addImportFlags(fs)
	rows := fs.Int("rows", 5, "how many rows to show")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		entity, src, done, err := importArgs(e, args, f)
		if err != nil {
			return err
		}
		defer done()
		opts, err := f.options(entity)
		if err != nil {
			return err
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		plan, err := importer.Inspect(st, e.actor, src, opts, *rows)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, plan)
		}
		fmt.Fprintf(e.stdout, "%s: %s, %s", plan.File, plan.Format, plan.Encoding)
		if plan.Delimiter != "" {
			fmt.Fprintf(e.stdout, ", delimiter %s", plan.Delimiter)
		}
		if plan.Header {
			fmt.Fprint(e.stdout, ", header row")
		}
		fmt.Fprintln(e.stdout)
		out := make([][]string, 0, len(plan.Columns))
		for _, c := range plan.Columns {
			field := c.Field
			if field == "" {
				field = "(ignored)"
			}
			out = append(out, []string{fmt.Sprint(c.Index + 1), c.Header, field, c.Hint, c.By})
		}
		if err := table(e.stdout, []string{"#", "COLUMN", "FIELD", "FORMAT", "BY"}, out); err != nil {
			return err
		}
		if plan.Problem != "" {
			fmt.Fprintf(e.stdout, "problem: %s\n", plan.Problem)
		}
		for _, r := range plan.Rows {
			if r.Problem != "" {
				fmt.Fprintf(e.stdout, "line %d: rejected: %s\n", r.Line, r.Problem)
				continue
			}
			parts := make([]string, 0, len(r.Values))
			for _, c := range plan.Columns {
				if v, ok := r.Values[c.Field]; ok && c.Field != "" {
					parts = append(parts, c.Field+"="+v)
				}
			}
			fmt.Fprintf(e.stdout, "line %d: %s\n", r.Line, strings.Join(parts, "  "))
		}
		return nil
	}
}

func importListCmd(fs *flag.FlagSet) runFunc {
	limit := fs.Int("limit", 20, "how many batches, newest first")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		var list []store.ImportBatch
		if err := st.View(e.actor, func(r *store.Reader) error {
			list, err = r.ImportBatches(0, *limit)
			return err
		}); err != nil {
			return err
		}
		if *asJSON {
			if list == nil {
				list = []store.ImportBatch{}
			}
			return printJSON(e.stdout, list)
		}
		rows := make([][]string, 0, len(list))
		for _, b := range list {
			rows = append(rows, []string{fmt.Sprint(b.ID), b.FinishedAt.Format("2006-01-02 15:04"), b.Source, string(b.Entity), b.File,
				b.Status, fmt.Sprint(b.Read), fmt.Sprint(b.Created), fmt.Sprint(b.Updated + b.Merged), fmt.Sprint(b.Unchanged), fmt.Sprint(b.Rejected), b.Actor})
		}
		return table(e.stdout, []string{"BATCH", "FINISHED", "SOURCE", "ENTITY", "FILE", "STATUS", "READ", "CREATED", "UPDATED", "UNCHANGED", "REJECTED", "BY"}, rows)
	}
}
