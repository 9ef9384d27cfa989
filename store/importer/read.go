package importer

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"karton/internal/jsonkeys"
	"karton/store"
)

// rawRecord is one data row as read: its first line number and its values
// by column. problem is set when the row could not be read (bad quoting,
// a wrong number of fields, broken JSON); it is then rejected.
type rawRecord struct {
	line    int
	vals    []string
	problem string
}

// recordReader yields the rows of a file. next returns io.EOF at the end;
// any other error is a problem with the file as a whole.
type recordReader interface {
	next() (rawRecord, error)
	// columns are the columns known so far (JSON Lines may add some).
	columns() []Column
}

// maxJSONLine caps one JSON line.
const maxJSONLine = 1 << 20

// countingReader counts the bytes read (for progress) and hashes them
// (for the batch record).
type countingReader struct {
	r    io.Reader
	n    atomic.Int64
	hash hash.Hash
}

func newCountingReader(r io.Reader) *countingReader {
	return &countingReader{r: r, hash: sha256.New()}
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.hash.Write(p[:n])
		c.n.Add(int64(n))
	}
	return n, err
}

// openRecords opens a pass over the file: decoding, the header row and the
// columns' mapping.
func openRecords(src Source, det detected, opts *Options) (recordReader, *countingReader, io.Closer, error) {
	f, err := src.Open()
	if err != nil {
		return nil, nil, nil, err
	}
	cr := newCountingReader(f)
	br := bufio.NewReaderSize(cr, 256<<10)
	if det.bomLen > 0 {
		if _, err := br.Discard(det.bomLen); err != nil {
			f.Close()
			return nil, nil, nil, err
		}
	}
	text := decoder(br, det.encoding)
	var rr recordReader
	switch {
	case det.format == FormatJSONL:
		rr, err = newJSONReader(text, opts)
	case det.delimiter == WhitespaceDelimiter:
		rr, err = newFieldsReader(text, opts)
	default:
		rr, err = newCSVReader(text, det.delimiter, opts)
	}
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	return rr, cr, f, nil
}

// ---------------------------------------------------------------------------
// Delimited text

type csvReader struct {
	r       *csv.Reader
	cols    []Column
	pending *rawRecord
	lastEnd int // line the previous record ended on
}

func newCSVReader(r io.Reader, delim rune, opts *Options) (*csvReader, error) {
	c := csv.NewReader(r)
	c.Comma = delim
	c.FieldsPerRecord = -1
	c.LazyQuotes = false
	cr := &csvReader{r: c}
	first, err := cr.read()
	if err == io.EOF {
		return nil, ErrEmpty
	}
	if err != nil {
		return nil, err
	}
	if first.problem != "" {
		return nil, fmt.Errorf("line %d, the first row: %s", first.line, first.problem)
	}
	if err := setupColumns(&cr.cols, &cr.pending, first, opts); err != nil {
		return nil, err
	}
	return cr, nil
}

// setupColumns decides whether the first row is a header and maps the
// columns.
func setupColumns(cols *[]Column, pending **rawRecord, first rawRecord, opts *Options) error {
	header := isHeader(opts.Entity, first.vals)
	if opts.Header != nil {
		header = *opts.Header
	}
	for i, v := range first.vals {
		h := fmt.Sprintf("column %d", i+1)
		if header {
			h = strings.TrimSpace(strings.TrimPrefix(v, "\uFEFF"))
			if h == "" {
				h = fmt.Sprintf("column %d", i+1)
			}
		}
		*cols = append(*cols, Column{Index: i, Header: h})
	}
	if header {
		seen := map[string]bool{}
		for _, c := range *cols {
			if seen[c.Header] {
				return fmt.Errorf("line %d: the header names column %q twice", first.line, c.Header)
			}
			seen[c.Header] = true
		}
	} else {
		f := first
		*pending = &f
	}
	return applyMap(opts.Entity, *cols, opts.Map)
}

// isHeader guesses whether a first row names the columns: one of its cells
// is a known field name, or none of them holds a digit or an '@'.
func isHeader(entity store.ImportEntity, vals []string) bool {
	dataLike := false
	for _, v := range vals {
		if def, _, _ := recognise(entity, v); def != nil {
			return true
		}
		if strings.ContainsAny(v, "0123456789@") {
			dataLike = true
		}
	}
	return !dataLike
}

func (c *csvReader) columns() []Column { return c.cols }

func (c *csvReader) read() (rawRecord, error) {
	vals, err := c.r.Read()
	var pe *csv.ParseError
	switch {
	case err == nil:
		line, _ := c.r.FieldPos(0)
		return rawRecord{line: line, vals: vals}, nil
	case errors.As(err, &pe):
		start := pe.StartLine
		if start == 0 {
			start = pe.Line
		}
		reason := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
			reason = "a quote is not closed or stands inside an unquoted field (" + pe.Err.Error() + "); if this is the last line, the file may be cut off"
		}
		return rawRecord{line: start, problem: reason}, nil
	}
	return rawRecord{}, err
}

func (c *csvReader) next() (rawRecord, error) {
	if c.pending != nil {
		r := *c.pending
		c.pending = nil
		return checkWidth(r, len(c.cols)), nil
	}
	r, err := c.read()
	if err != nil || r.problem != "" {
		return r, err
	}
	return checkWidth(r, len(c.cols)), nil
}

// checkWidth refuses rows with more or fewer fields than columns (extra
// empty fields, as spreadsheets write them, are fine).
func checkWidth(r rawRecord, n int) rawRecord {
	if r.problem != "" {
		return r
	}
	for len(r.vals) > n && strings.TrimSpace(r.vals[len(r.vals)-1]) == "" {
		r.vals = r.vals[:len(r.vals)-1]
	}
	switch {
	case len(r.vals) > n:
		r.problem = fmt.Sprintf("has %d fields but the file has %d columns (a delimiter inside an unquoted value?)", len(r.vals), n)
	case len(r.vals) < n && len(r.vals) == 1 && strings.TrimSpace(r.vals[0]) == "":
		r.problem = "is empty"
	case len(r.vals) < n:
		r.problem = fmt.Sprintf("has %d fields but the file has %d columns (cut off?)", len(r.vals), n)
	}
	return r
}

// ---------------------------------------------------------------------------
// Fields separated by runs of whitespace (no quoting)

type fieldsReader struct {
	br      *bufio.Reader
	line    int
	cols    []Column
	pending *rawRecord
}

func newFieldsReader(r io.Reader, opts *Options) (*fieldsReader, error) {
	fr := &fieldsReader{br: bufio.NewReaderSize(r, 64<<10)}
	first, err := fr.read()
	if err == io.EOF {
		return nil, ErrEmpty
	}
	if err != nil {
		return nil, err
	}
	if err := setupColumns(&fr.cols, &fr.pending, first, opts); err != nil {
		return nil, err
	}
	return fr, nil
}

func (f *fieldsReader) columns() []Column { return f.cols }

func (f *fieldsReader) read() (rawRecord, error) {
	for {
		l, err := f.br.ReadString('\n')
		if l == "" && err != nil {
			return rawRecord{}, err
		}
		f.line++
		if err != nil && err != io.EOF {
			return rawRecord{}, err
		}
		fields := strings.Fields(l)
		if len(fields) == 0 {
			continue
		}
		return rawRecord{line: f.line, vals: fields}, nil
	}
}

func (f *fieldsReader) next() (rawRecord, error) {
	if f.pending != nil {
		r := *f.pending
		f.pending = nil
		return checkWidth(r, len(f.cols)), nil
	}
	r, err := f.read()
	if err != nil {
		return r, err
	}
	return checkWidth(r, len(f.cols)), nil
}

// ---------------------------------------------------------------------------
// JSON Lines

type jsonReader struct {
	br      *bufio.Reader
	line    int
	opts    *Options
	cols    []Column
	byKey   map[string]int
	pending []rawRecord
}

func newJSONReader(r io.Reader, opts *Options) (*jsonReader, error) {
	jr := &jsonReader{br: bufio.NewReaderSize(r, 256<<10), opts: opts, byKey: map[string]int{}}
	// Learn the keys from the first lines so that the mapping can be
	// shown and checked before anything is imported; keys that appear
	// later are mapped when they appear.
	var keys []string
	for len(jr.pending) < 200 {
		rec, obj, err := jr.readObject()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if obj != nil {
			for _, k := range sortedKeys(obj) {
				if _, ok := jr.byKey[k]; !ok {
					jr.byKey[k] = len(keys)
					keys = append(keys, k)
				}
			}
		}
		rec.vals = nil
		if obj != nil {
			rec.vals = jr.place(obj)
		}
		jr.pending = append(jr.pending, rec)
	}
	if len(jr.pending) == 0 {
		return nil, ErrEmpty
	}
	for i, k := range keys {
		jr.cols = append(jr.cols, Column{Index: i, Header: k, Hint: HintEnglish})
	}
	if err := applyMap(opts.Entity, jr.cols, opts.Map); err != nil {
		return nil, err
	}
	return jr, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (j *jsonReader) columns() []Column { return j.cols }

// place puts an object's values into the column order, adding columns for
// new keys.
func (j *jsonReader) place(obj map[string]string) []string {
	for _, k := range sortedKeys(obj) {
		if _, ok := j.byKey[k]; !ok {
			j.byKey[k] = len(j.byKey)
		}
	}
	vals := make([]string, len(j.byKey))
	for k, v := range obj {
		vals[j.byKey[k]] = v
	}
	return vals
}

// addColumns maps keys that appeared after the first lines. A key that
// would fill a field another column fills already is ignored.
func (j *jsonReader) addColumns() {
	if len(j.cols) == len(j.byKey) {
		return
	}
	names := make([]string, len(j.byKey))
	for k, i := range j.byKey {
		names[i] = k
	}
	for i := len(j.cols); i < len(names); i++ {
		col := Column{Index: i, Header: names[i], Hint: HintEnglish}
		tmp := []Column{col}
		if applyMap(j.opts.Entity, tmp, nil) == nil {
			col = tmp[0]
		}
		for _, m := range j.opts.Map {
			if m.Column == col.Header {
				one := []Column{{Index: i, Header: col.Header, Hint: HintEnglish}}
				if applyMap(j.opts.Entity, one, []MapSpec{m}) == nil {
					col = one[0]
				}
			}
		}
		for _, c := range j.cols {
			if col.Field != "" && c.Field == col.Field {
				col.Field, col.def, col.dyn, col.By = "", nil, "", ""
			}
		}
		// Copy on write: chunks already handed out keep their slice.
		j.cols = append(j.cols[:len(j.cols):len(j.cols)], col)
	}
}

func (j *jsonReader) readObject() (rawRecord, map[string]string, error) {
	for {
		raw, err := j.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Keep reading to the end of this line, then report it.
			var buf bytes.Buffer
			buf.Write(raw)
			for errors.Is(err, bufio.ErrBufferFull) && buf.Len() <= maxJSONLine {
				raw, err = j.br.ReadSlice('\n')
				buf.Write(raw)
			}
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = j.br.ReadSlice('\n')
			}
			j.line++
			if buf.Len() > maxJSONLine {
				return rawRecord{line: j.line, problem: fmt.Sprintf("is longer than %d KiB; is this a JSON Lines file?", maxJSONLine>>10)}, nil, nil
			}
			raw = buf.Bytes()
		} else {
			if len(raw) == 0 && err != nil {
				return rawRecord{}, nil, err
			}
			j.line++
		}
		if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
			return rawRecord{}, nil, err
		}
		t := bytes.TrimSpace(raw)
		if len(t) == 0 {
			if err == io.EOF {
				return rawRecord{}, nil, io.EOF
			}
			continue
		}
		obj, perr := flattenJSON(t)
		if perr != nil {
			return rawRecord{line: j.line, problem: perr.Error()}, nil, nil
		}
		return rawRecord{line: j.line}, obj, nil
	}
}

func (j *jsonReader) next() (rawRecord, error) {
	if len(j.pending) > 0 {
		r := j.pending[0]
		j.pending = j.pending[1:]
		return r, nil
	}
	rec, obj, err := j.readObject()
	if err != nil || obj == nil {
		return rec, err
	}
	rec.vals = j.place(obj)
	j.addColumns()
	return rec, nil
}

// flattenJSON reads one object into "key" → text, with nested objects as
// "key.sub" and arrays of scalars joined by commas (tags).
func flattenJSON(line []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("is not valid JSON: %v", jsonReason(err))
	}
	if dec.More() {
		return nil, errors.New("holds more than one JSON value; write one object per line")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("is not a JSON object ({…})")
	}
	if dup, ok := jsonkeys.Repeated(line); ok {
		return nil, fmt.Errorf("gives field %s twice; keep one", dup)
	}
	out := make(map[string]string, len(obj))
	var walk func(prefix string, m map[string]any) error
	walk = func(prefix string, m map[string]any) error {
		for k, x := range m {
			key := prefix + k
			switch t := x.(type) {
			case nil:
				out[key] = ""
			case string:
				out[key] = t
			case json.Number:
				out[key] = t.String()
			case bool:
				out[key] = strconv.FormatBool(t)
			case map[string]any:
				if err := walk(key+".", t); err != nil {
					return err
				}
			case []any:
				parts := make([]string, 0, len(t))
				for _, e := range t {
					switch s := e.(type) {
					case string:
						parts = append(parts, s)
					case json.Number:
						parts = append(parts, s.String())
					case bool:
						parts = append(parts, strconv.FormatBool(s))
					default:
						return fmt.Errorf("field %s: lists may hold only text, numbers or true/false", key)
					}
				}
				out[key] = strings.Join(parts, ",")
			}
		}
		return nil
	}
	if err := walk("", obj); err != nil {
		return nil, err
	}
	return out, nil
}

func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the line ends in the middle of the object (cut off?)"
	}
	return err.Error()
}
