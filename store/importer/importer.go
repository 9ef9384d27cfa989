// Package importer brings files from other systems into the warehouse:
// customers, purchases, interactions and consent events as CSV (delimiter
// , ; tab | or runs of spaces, detected) or JSON Lines, in UTF-8 (with or
// without a byte order mark), UTF-16, Windows-1252 or ISO-8859-1
// (detected, or set). Header names in English and German are mapped to
// Karton's fields (E-Mail → email, PLZ → postal_code, Geburtsdatum →
// birth_date, …); other columns are mapped with Options.Map. German number
// and date formats (1.234,56; 31.12.2025) are read where the column says so:
// a German header name, or a ":de" hint in the map.
//
// The steps a wizard shows map onto the API:
//
//	plan, err := importer.Inspect(st, actor, src, opts, 10) // detected format, mapping, first rows
//	opts.Map = append(opts.Map, importer.MapSpec{Column: "Kundengruppe", Field: "attribute.segment"})
//	opts.DryRun = true
//	report, err := importer.Run(ctx, st, actor, src, opts)  // checks every row, writes nothing
//	opts.DryRun, opts.Progress = false, func(p importer.Progress) { … }
//	report, err = importer.Run(ctx, st, actor, src, opts)   // cancel with ctx
//
// Rows are read and converted by a reader and worker goroutines and
// written in file order by one writer, many rows per transaction, through
// a store.ImportSession (identity resolution, idempotent re-imports, the
// batch record and its audit entry). A row with a problem is rejected with
// its line number and the reason, and the rest goes on; a problem with the
// file as a whole (empty, binary, no usable columns) is one error before
// anything is written.
package importer

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"

	"karton/model"
	"karton/store"
)

// Options configure an import. Entity and Source are required.
type Options struct {
	Entity store.ImportEntity
	// Source names the system the file comes from; ids in it are that
	// system's. Default "import".
	Source string
	// Format, Encoding, Delimiter and Header override detection.
	Format    Format
	Encoding  string
	Delimiter rune // WhitespaceDelimiter for runs of spaces
	Header    *bool
	// Map sets or overrides the field of columns (see ParseMap).
	Map []MapSpec
	// Location is the time zone of dates and times written without one;
	// default UTC.
	Location *time.Location

	// DryRun checks every row against the store and writes nothing.
	DryRun bool
	// Strict writes nothing if any row is rejected: the import runs as a
	// dry run first, and for real only when that rejected nothing.
	Strict bool
	// CreateMissing lets purchases, interactions and consent events create
	// a customer that matches nobody, from the reference they carry.
	CreateMissing bool
	// Bulk writes through the store's bulk load: new customers join the
	// sorted indexes at the end, and so do the moved activity and value
	// keys of the customers a purchase or interaction file touches.
	// BulkAuto does so for customer, purchase and interaction files above
	// 8 MB. Other writers wait while a bulk load runs.
	Bulk BulkMode

	// Cluster writes large purchase and interaction files in customer
	// order (cluster.go); ClusterAuto does so above 1 MB.
	Cluster ClusterMode

	// BatchSize is the number of rows per write transaction; default 5000
	// in file order, 100,000 in customer order.
	BatchSize int
	// Workers convert rows in parallel; default GOMAXPROCS, less one
	// while the writer writes during the reading (not in customer order),
	// so that the writer, which sets the pace, has a processor to itself.
	Workers int
	// MaxRejections is how many rejections the report keeps; OnReject sees
	// them all (to write a report file).
	MaxRejections int
	OnReject      func(store.Rejection)
	// Progress is called about ten times a second and once at the end.
	Progress func(Progress)
}

// BulkMode chooses whether new customers go through a bulk load.
type BulkMode uint8

// The bulk modes.
const (
	BulkAuto BulkMode = iota
	BulkOff
	BulkOn
)

// bulkAutoBytes is the file size from which BulkAuto bulk-loads.
const bulkAutoBytes = 8 << 20

// Progress reports a running import.
type Progress struct {
	// Phase is "dry run" or "import" while reading (and writing), "writing"
	// while a file read whole is written in customer order, "indexes"
	// while a bulk load builds its indexes, and "done".
	Phase      string
	Bytes      int64 // of the file read so far
	TotalBytes int64 // 0 when unknown
	// Rows and TotalRows count the rows written of those read, in the
	// writing phase (TotalRows is 0 in the other phases).
	Rows, TotalRows int
	Batch           store.ImportBatch
}

// Fraction is the share done: of the rows in the writing phase, else of
// the file read (0 when the size is unknown).
func (p Progress) Fraction() float64 {
	if p.TotalRows > 0 {
		return min(1, float64(p.Rows)/float64(p.TotalRows))
	}
	if p.TotalBytes <= 0 {
		return 0
	}
	return min(1, float64(p.Bytes)/float64(p.TotalBytes))
}

// Plan is what Inspect found: how the file will be read and mapped, and
// its first rows as they would be imported.
type Plan struct {
	File      string             `json:"file"`
	Entity    store.ImportEntity `json:"entity"`
	Format    Format             `json:"format"`
	Encoding  string             `json:"encoding"`
	Delimiter string             `json:"delimiter,omitempty"`
	Header    bool               `json:"header"`
	Columns   []Column           `json:"columns"`
	// Problem says why the file cannot be imported with this mapping
	// (e.g. no column holds the amount); "" when it can.
	Problem string       `json:"problem,omitempty"`
	Rows    []PreviewRow `json:"rows"`
}

// PreviewRow is one of the first rows: its values by field, or why it
// would be rejected (checks against the store, such as whether the
// customer exists, happen only in a dry run).
type PreviewRow struct {
	Line    int               `json:"line"`
	Values  map[string]string `json:"values"`
	Problem string            `json:"problem,omitempty"`
}

func (o *Options) defaults() error {
	if _, err := store.ParseImportEntity(string(o.Entity)); err != nil {
		return err
	}
	if o.Source == "" {
		o.Source = "import"
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	return nil
}

// detect reads the sample and sniffs the file.
func detect(src Source, opts *Options) (detected, error) {
	f, err := src.Open()
	if err != nil {
		return detected{}, err
	}
	defer f.Close()
	sample := make([]byte, sampleSize)
	n, err := io.ReadFull(f, sample)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return detected{}, fmt.Errorf("read %s: %w", src.Name, err)
	}
	d, err := sniff(sample[:n], src.Name, opts)
	if err != nil {
		return d, fmt.Errorf("%s: %w", src.Name, err)
	}
	return d, nil
}

// Inspect detects the file's format and mapping and converts its first n
// rows without touching the store. A mapping problem is reported in
// Plan.Problem (so a wizard can show it and let the user fix the map);
// a file that cannot be read at all is an error.
func Inspect(st *store.Store, by model.Actor, src Source, opts Options, n int) (*Plan, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	det, err := detect(src, &opts)
	if err != nil {
		return nil, err
	}
	plan := &Plan{File: src.Name, Entity: opts.Entity, Format: det.format, Encoding: det.encoding, Delimiter: DelimiterName(det.delimiter)}
	rr, _, closer, err := openRecords(src, det, &opts)
	if err != nil {
		// A bad map is something to fix in the wizard, not a dead end.
		plan.Problem = err.Error()
		return plan, nil
	}
	defer closer.Close()
	lk, err := loadLookups(st, by, opts.Location)
	if err != nil {
		return nil, err
	}
	plan.Columns = rr.columns()
	plan.Header = len(plan.Columns) > 0 && plan.Columns[0].Header != "column 1"
	if det.format == FormatJSONL {
		plan.Header = true
	}
	if err := checkRequired(opts.Entity, plan.Columns); err != nil {
		plan.Problem = err.Error()
	}
	for len(plan.Rows) < n {
		rec, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", src.Name, err)
		}
		cols := rr.columns()
		row := PreviewRow{Line: rec.line, Values: map[string]string{}}
		for _, c := range cols {
			if c.Field != "" && c.Index < len(rec.vals) && rec.vals[c.Index] != "" {
				row.Values[c.Field] = rec.vals[c.Index]
			}
		}
		if cv := lk.convert(opts.Entity, cols, rec); cv.problem != "" {
			row.Problem = cv.problem
		}
		plan.Rows = append(plan.Rows, row)
	}
	plan.Columns = rr.columns()
	return plan, nil
}

// Run imports the file and returns the batch record. In strict mode a
// dry run goes first and, if it rejected any row, its report is returned
// with an error wrapping store.ErrStrict. A cancelled context stops the
// import between transactions: what was written stays (each row whole),
// the batch is recorded as cancelled, and importing the file again
// completes it.
func Run(ctx context.Context, st *store.Store, by model.Actor, src Source, opts Options) (store.ImportBatch, error) {
	if err := opts.defaults(); err != nil {
		return store.ImportBatch{}, err
	}
	if opts.Strict && !opts.DryRun {
		dry := opts
		dry.DryRun, dry.OnReject = true, nil
		rep, err := run(ctx, st, by, src, dry, "dry run")
		if err != nil {
			return rep, err
		}
		if rep.Rejected > 0 {
			return rep, fmt.Errorf("%d of %d rows rejected: %w", rep.Rejected, rep.Read, store.ErrStrict)
		}
		if rep.Status != "complete" {
			return rep, fmt.Errorf("the dry run stopped early (%s); nothing was written", rep.Status)
		}
	}
	phase := "import"
	if opts.DryRun {
		phase = "dry run"
	}
	return run(ctx, st, by, src, opts, phase)
}

// chunk is a slice of rows on its way from the reader to the writer.
type chunk struct {
	cols []Column
	recs []rawRecord
	out  chan []converted
}

const chunkRows = 1024

// defaultBatch is the number of rows the writer puts in one transaction
// unless Options.BatchSize says otherwise; maxAhead caps how many chunks
// the converters may have done before the writer takes them.
const (
	defaultBatch = 5000
	maxAhead     = 16
)

func run(ctx context.Context, st *store.Store, by model.Actor, src Source, opts Options, phase string) (store.ImportBatch, error) {
	det, err := detect(src, &opts)
	if err != nil {
		return store.ImportBatch{}, err
	}
	rr, counter, closer, err := openRecords(src, det, &opts)
	if err != nil {
		return store.ImportBatch{}, fmt.Errorf("%s: %w", src.Name, err)
	}
	defer closer.Close()
	if err := checkRequired(opts.Entity, rr.columns()); err != nil {
		return store.ImportBatch{}, fmt.Errorf("%s: %w", src.Name, err)
	}
	lk, err := loadLookups(st, by, opts.Location)
	if err != nil {
		return store.ImportBatch{}, err
	}
	bulk := opts.Bulk == BulkOn || (opts.Bulk == BulkAuto && src.Size >= bulkAutoBytes &&
		(opts.Entity == store.ImportCustomers || opts.Entity == store.ImportPurchases || opts.Entity == store.ImportInteractions || opts.CreateMissing))
	sess, err := st.BeginImport(by, store.ImportSpec{
		Entity: opts.Entity, Source: opts.Source, File: src.Name, Format: string(det.format), Encoding: det.encoding,
		DryRun: opts.DryRun, CreateMissing: opts.CreateMissing, Bulk: bulk,
		MaxRejections: opts.MaxRejections, OnReject: opts.OnReject,
	})
	if err != nil {
		return store.ImportBatch{}, err
	}
	if opts.Entity == store.ImportCustomers {
		// What the writer would work out alone, on the converters.
		lk.sess = sess
	}

	clustered := (opts.Entity == store.ImportPurchases || opts.Entity == store.ImportInteractions) &&
		(opts.Cluster == ClusterOn || (opts.Cluster == ClusterAuto && src.Size >= clusterAutoBytes))
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
		if !clustered && workers > 1 {
			workers--
		}
	}

	rctx, stop := context.WithCancel(ctx)
	defer stop()
	// The converters may run up to a batch and a half ahead of the writer
	// (at most maxAhead chunks): it takes no rows while a transaction
	// commits, and with less headroom the converters idle then and the
	// writer waits for them after.
	batch := opts.BatchSize
	if batch <= 0 {
		batch = defaultBatch
	}
	ahead := workers + 2 + min(maxAhead, (batch*3/2+chunkRows-1)/chunkRows)
	jobs := make(chan *chunk, workers)
	order := make(chan *chunk, ahead)
	var readErr error
	go func() { // reader
		defer close(jobs)
		defer close(order)
		for {
			c := &chunk{out: make(chan []converted, 1)}
			for len(c.recs) < chunkRows {
				rec, err := rr.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					readErr = fmt.Errorf("read %s: %w", src.Name, err)
					break
				}
				c.recs = append(c.recs, rec)
			}
			if len(c.recs) > 0 {
				c.cols = rr.columns()
				select {
				case jobs <- c:
				case <-rctx.Done():
					return
				}
				select {
				case order <- c:
				case <-rctx.Done():
					return
				}
			}
			if len(c.recs) < chunkRows || readErr != nil {
				return
			}
		}
	}()
	// The writer hands back the converted rows of each chunk it is done
	// with, and the converters fill them again: a chunk's rows are over a
	// megabyte, and a million rows would otherwise allocate and zero a
	// thousand of them.
	spare := make(chan []converted, ahead+workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() { // converters
			defer wg.Done()
			for c := range jobs {
				var out []converted
				select {
				case out = <-spare:
				default:
				}
				if cap(out) < len(c.recs) {
					out = make([]converted, len(c.recs))
				}
				out = out[:len(c.recs)] // each element is overwritten whole
				for i, rec := range c.recs {
					out[i] = lk.convertSafely(opts.Entity, c.cols, rec)
				}
				c.out <- out
			}
		}()
	}

	w := writer{sess: sess, opts: &opts, stats: map[string]*store.FieldStat{}, occ: map[uint64]uint32{}, batch: opts.BatchSize}
	if clustered {
		w.cluster = &clusterBuf{entity: opts.Entity}
		if w.batch <= 0 {
			w.batch = clusterBatch
		}
	}
	if w.batch <= 0 {
		w.batch = defaultBatch
	}
	last := time.Time{}
	report := func(force bool) {
		if opts.Progress == nil || (!force && time.Since(last) < 100*time.Millisecond) {
			return
		}
		last = time.Now()
		opts.Progress(Progress{Phase: phase, Bytes: counter.n.Load(), TotalBytes: src.Size, Batch: sess.Progress()})
	}
	var runErr error
	for c := range order {
		rows := <-c.out
		if runErr == nil {
			runErr = ctx.Err()
		}
		if runErr != nil {
			continue // drain: the reader stops at the cancelled context
		}
		runErr = w.add(rows)
		select {
		case spare <- rows: // w.add kept copies, not the rows
		default:
		}
		report(false)
	}
	stop()
	wg.Wait()
	if runErr == nil {
		runErr = readErr
	}
	if runErr == nil {
		runErr = w.flush()
	}
	if runErr == nil && w.cluster != nil {
		w.cluster.entity = opts.Entity
		total, read0 := len(w.cluster.items), sess.Progress().Read
		runErr = w.cluster.write(ctx, st, by, sess, w.batch, max(workers, runtime.GOMAXPROCS(0)), func() {
			if opts.Progress == nil || time.Since(last) < 100*time.Millisecond {
				return
			}
			last = time.Now()
			b := sess.Progress()
			opts.Progress(Progress{Phase: "writing", Bytes: counter.n.Load(), TotalBytes: src.Size, Rows: b.Read - read0, TotalRows: total, Batch: b})
		})
		w.cluster = nil
	}
	if runErr == nil {
		runErr = ctx.Err()
	}
	info := store.FinishInfo{Fields: w.fieldStats(), Err: runErr}
	if runErr == nil {
		info.SHA256 = hex.EncodeToString(counter.hash.Sum(nil))
	}
	if opts.Progress != nil && bulk {
		opts.Progress(Progress{Phase: "indexes", Bytes: counter.n.Load(), TotalBytes: src.Size, Batch: sess.Progress()})
	}
	// Finish also after a failure or a cancellation, so that what was
	// written is recorded as a batch.
	b, ferr := sess.Finish(ctx, info)
	if opts.Progress != nil {
		opts.Progress(Progress{Phase: "done", Bytes: counter.n.Load(), TotalBytes: src.Size, Batch: b})
	}
	if runErr != nil || ferr != nil {
		return b, errors.Join(runErr, ferr)
	}
	return b, nil
}

// writer hands converted rows to the session in batches, in file order,
// and keeps the field statistics and the occurrence counts that make
// identical rows distinct.
type writer struct {
	sess  *store.ImportSession
	opts  *Options
	stats map[string]*store.FieldStat
	occ   map[uint64]uint32

	cust  []store.CustomerImportRow
	purch []store.PurchaseImportRow
	inter []store.InteractionImportRow
	cons  []store.ConsentImportRow
	n     int
	batch int
	// cluster, when set, collects the rows to write them in customer
	// order at the end.
	cluster *clusterBuf
}

func (w *writer) stat(field string) *store.FieldStat {
	s := w.stats[field]
	if s == nil {
		s = &store.FieldStat{Field: field}
		w.stats[field] = s
	}
	return s
}

func (w *writer) fieldStats() []store.FieldStat {
	out := make([]store.FieldStat, 0, len(w.stats))
	for _, s := range w.stats {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b store.FieldStat) int {
		switch {
		case a.Field < b.Field:
			return -1
		case a.Field > b.Field:
			return 1
		}
		return 0
	})
	return out
}

// key makes a row's content key: the hash of its values and how many
// identical rows came before it in the file.
func (w *writer) key(h [16]byte) []byte {
	id := binary.BigEndian.Uint64(h[:8])
	n := w.occ[id]
	w.occ[id] = n + 1
	k := make([]byte, 16, 20)
	copy(k, h[:])
	return binary.AppendUvarint(k, uint64(n))
}

func (w *writer) add(rows []converted) error {
	for i := range rows {
		r := &rows[i]
		for _, f := range r.present {
			w.stat(f).Present++
		}
		if r.problem != "" {
			for _, f := range r.invalid {
				w.stat(f).Invalid++
			}
			w.sess.Reject(r.line, r.problem)
			continue
		}
		k := w.key(r.key)
		if w.cluster != nil {
			r.purch.Key, r.inter.Key = k, k
			if err := w.cluster.add(r); err != nil {
				return err
			}
			continue
		}
		switch w.opts.Entity {
		case store.ImportCustomers:
			r.cust.Key = k
			w.cust = append(w.cust, r.cust)
		case store.ImportPurchases:
			r.purch.Key = k
			w.purch = append(w.purch, r.purch)
		case store.ImportInteractions:
			r.inter.Key = k
			w.inter = append(w.inter, r.inter)
		case store.ImportConsents:
			r.cons.Key = k
			w.cons = append(w.cons, r.cons)
		}
		w.n++
		if w.n >= w.batch {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *writer) flush() error {
	if w.n == 0 {
		return nil
	}
	var err error
	switch w.opts.Entity {
	case store.ImportCustomers:
		err = w.sess.Customers(w.cust)
		w.cust = w.cust[:0]
	case store.ImportPurchases:
		err = w.sess.Purchases(w.purch)
		w.purch = w.purch[:0]
	case store.ImportInteractions:
		err = w.sess.Interactions(w.inter)
		w.inter = w.inter[:0]
	case store.ImportConsents:
		err = w.sess.Consents(w.cons)
		w.cons = w.cons[:0]
	}
	w.n = 0
	return err
}
