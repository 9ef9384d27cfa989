package dispatch

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"karton/model"
)

// fileColumns is the CSV header; see FileColumns.
var fileColumns = []string{
	"message_id", "customer_id", "campaign_id", "step_id", "channel_id", "kind", "attempt", "created_at",
	"salutation", "first_name", "last_name", "company", "email", "phone",
	"street", "postal_code", "city", "country", "subject", "body", "unsubscribe_url",
}

// FileColumns returns the CSV columns in order. JSON Lines records carry
// the same data in the Message's JSON form.
func FileColumns() []string { return slices.Clone(fileColumns) }

const (
	formatCSV   = "csv"
	formatJSONL = "jsonl"
	utf8BOM     = "\ufeff"
	// fileBufSize batches writes; a step file sees one write per 256 KiB.
	fileBufSize = 256 << 10
)

// fileConnector appends messages to one file per step. Writes are buffered;
// Sync flushes and fsyncs them. When a step file already exists (a resumed
// dispatch) it is checked first: a record cut off by a crash is removed, and
// the message ids already in the file are remembered so that messages
// written before the crash are not written twice.
type fileConnector struct {
	dir    string
	format string
	comma  rune
	bom    bool

	mu      sync.Mutex
	files   map[model.StepID]*stepFile
	dirSync bool // a file was created since the last Sync
	closed  bool
}

type stepFile struct {
	path  string
	f     *os.File
	w     *bufio.Writer
	csv   *csv.Writer
	json  *json.Encoder
	seen  map[uint64]struct{} // ids found in the file when it was opened
	dirty bool
	rec   []string
}

// fileLayout is where and how a file connector writes its step files.
type fileLayout struct {
	dir    string
	format string
	comma  rune
	bom    bool
}

// readFileLayout reads a file connector's settings; problems go to s.
func readFileLayout(s *settingsReader) fileLayout {
	l := fileLayout{comma: ','}
	l.dir = s.required("dir", "the directory the step files are written to")
	l.format = s.oneOf("format", formatCSV, formatCSV, formatJSONL)
	if d, ok := s.settings["delimiter"]; ok && d != "" {
		if r, ok := parseDelimiter(d); ok {
			l.comma = r
		} else {
			s.add("connector.delimiter", "%q must be a single character other than a quote or line break, or tab, space, comma, semicolon or pipe", d)
		}
	}
	l.bom = s.boolean("bom", false)
	if l.bom && l.format != formatCSV {
		s.add("connector.bom", "only applies to csv files")
	}
	return l
}

// parseDelimiter reads a delimiter setting: one character, taken as it is
// (a tab or a space too, which other settings would trim away), or the
// name of one.
func parseDelimiter(d string) (rune, bool) {
	switch strings.ToLower(strings.TrimSpace(d)) {
	case "tab", `\t`:
		return '\t', true
	case "space":
		return ' ', true
	case "comma":
		return ',', true
	case "semicolon":
		return ';', true
	case "pipe":
		return '|', true
	}
	if t := strings.TrimSpace(d); t != "" {
		d = t // " ; " is ";", but " " and "\t" are themselves
	}
	r, size := utf8.DecodeRuneInString(d)
	if size != len(d) || r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError {
		return 0, false
	}
	return r, true
}

func newFile(s *settingsReader) Connector {
	l := readFileLayout(s)
	c := &fileConnector{files: map[model.StepID]*stepFile{}, dir: l.dir, format: l.format, comma: l.comma, bom: l.bom}
	if len(s.problems) == 0 {
		if err := os.MkdirAll(c.dir, 0o750); err != nil {
			s.add("connector.dir", "cannot create %s: %v", c.dir, err)
		}
	}
	return c
}

func (c *fileConnector) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.ID == 0 || m.StepID == 0 {
		return permanent(0, "message %d for step %d: a file message needs a message id and a step id", m.ID, m.StepID)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	sf, err := c.open(m.StepID)
	if err != nil {
		return retryable(0, err)
	}
	if _, dup := sf.seen[m.ID]; dup {
		return nil // written by an earlier run before it could record the send
	}
	if err := sf.write(m); err != nil {
		c.drop(m.StepID, sf)
		return retryable(0, fmt.Errorf("write %s: %w", sf.path, err))
	}
	sf.dirty = true
	return nil
}

func (sf *stepFile) write(m Message) error {
	if sf.json != nil {
		return sf.json.Encode(m)
	}
	r := sf.rec[:0]
	r = append(r,
		strconv.FormatUint(m.ID, 10), m.CustomerID.String(), m.CampaignID.String(), m.StepID.String(),
		m.ChannelID.String(), string(m.Kind), strconv.Itoa(m.Attempt), formatTime(m.CreatedAt),
		m.Recipient.Salutation, m.Recipient.FirstName, m.Recipient.LastName, m.Recipient.Company,
		m.Recipient.Email, m.Recipient.Phone, m.Recipient.Street, m.Recipient.PostalCode,
		m.Recipient.City, m.Recipient.Country, m.Subject, m.Body, m.UnsubscribeURL)
	sf.rec = r
	return sf.csv.Write(r)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// stepPath is the file a step's messages go to.
func stepPath(dir, format string, step model.StepID) string {
	return filepath.Join(dir, "step-"+step.String()+"."+format)
}

// StepFile is the file a file connector with these settings writes a
// step's messages to; a relative dir stays relative (the dispatcher takes
// it from the store's directory). Settings it would refuse give "".
func StepFile(settings map[string]string, step model.StepID) string {
	s := &settingsReader{settings: settings}
	l := readFileLayout(s)
	if l.dir == "" || len(s.problems) > 0 {
		return ""
	}
	return stepPath(l.dir, l.format, step)
}

// open returns the step's file, creating or recovering it on first use.
func (c *fileConnector) open(step model.StepID) (*stepFile, error) {
	if sf, ok := c.files[step]; ok {
		return sf, nil
	}
	path := stepPath(c.dir, c.format, step)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open step file: %w", err)
	}
	sf := &stepFile{path: path, f: f, w: bufio.NewWriterSize(f, fileBufSize)}
	if err := c.recover(sf); err != nil {
		_ = f.Close()
		return nil, err
	}
	if c.format == formatJSONL {
		sf.json = json.NewEncoder(sf.w)
		sf.json.SetEscapeHTML(false) // keep URLs readable: & stays &
	} else {
		sf.csv = csv.NewWriter(sf.w) // shares sf.w: bufio reuses a big enough writer
		sf.csv.Comma = c.comma
	}
	c.files[step] = sf
	return sf, nil
}

// recover checks an existing file, cuts off a record left incomplete by a
// crash, collects the ids already written, and writes the header of a new
// CSV file.
func (c *fileConnector) recover(sf *stepFile) error {
	st, err := sf.f.Stat()
	if err != nil {
		return err
	}
	var keep int64
	if st.Size() > 0 {
		if c.format == formatJSONL {
			keep, err = scanJSONL(sf)
		} else {
			keep, err = c.scanCSV(sf)
		}
		if err != nil {
			return fmt.Errorf("step file %s: %w; move it aside to start a new one", sf.path, err)
		}
		if keep < st.Size() {
			if err := sf.f.Truncate(keep); err != nil {
				return fmt.Errorf("cut the incomplete last record of %s: %w", sf.path, err)
			}
		}
	} else {
		c.dirSync = true
	}
	if keep == 0 && c.format == formatCSV {
		if c.bom {
			_, _ = sf.w.WriteString(utf8BOM)
		}
		hw := csv.NewWriter(sf.w)
		hw.Comma = c.comma
		if err := hw.Write(fileColumns); err != nil {
			return err
		}
		hw.Flush()
		sf.dirty = true
		return hw.Error()
	}
	return nil
}

// scanJSONL returns the length of the complete lines and collects the
// message ids in them.
func scanJSONL(sf *stepFile) (int64, error) {
	sf.seen = map[uint64]struct{}{}
	return walkJSONL(sf.f, func(line []byte, n int, _ int64) error {
		var rec struct {
			ID uint64 `json:"id"`
		}
		if err := json.Unmarshal(line, &rec); err != nil || rec.ID == 0 {
			return fmt.Errorf("line %d is not a message record", n)
		}
		sf.seen[rec.ID] = struct{}{}
		return nil
	})
}

// walkJSONL hands each complete line of a step file (with its newline, its
// number and its offset) to fn, and returns the length of the complete
// lines. A line cut off by a crash has no final newline; any other
// unreadable line is damage the connector must not paper over (fn says
// which lines it cannot read).
func walkJSONL(f io.ReaderAt, fn func(line []byte, n int, start int64) error) (int64, error) {
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 64<<10)
	var off int64
	for n := 1; ; n++ {
		b, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return off, nil // b, if any, is the incomplete tail
		}
		if err != nil {
			return 0, err
		}
		if err := fn(b, n, off); err != nil {
			return 0, err
		}
		off += int64(len(b))
	}
}

// scanCSV does for CSV what scanJSONL does for lines.
func (c *fileConnector) scanCSV(sf *stepFile) (int64, error) {
	sf.seen = map[uint64]struct{}{}
	return walkCSV(sf.f, c.comma, func(rec []string, line int, _, _ int64) error {
		id, err := strconv.ParseUint(rec[0], 10, 64)
		if err != nil || id == 0 {
			return fmt.Errorf("line %d has no message id", line)
		}
		sf.seen[id] = struct{}{}
		return nil
	})
}

// walkCSV checks a step file's header and hands each complete record after
// it to fn, with the line it starts on and its byte range (its line break
// included); it returns the end of the last complete record, 0 when not
// even the header is complete. Fields may contain line breaks, so records
// are found with the CSV reader, and a record only counts when a newline
// follows it.
func walkCSV(f io.ReaderAt, comma rune, fn func(rec []string, line int, start, end int64) error) (int64, error) {
	data := io.NewSectionReader(f, 0, 1<<62)
	var base int64
	head := make([]byte, len(utf8BOM))
	if n, _ := data.ReadAt(head, 0); n == len(head) && string(head) == utf8BOM {
		base = int64(len(head))
	}
	br := bufio.NewReaderSize(io.NewSectionReader(f, base, 1<<62), 64<<10)
	r := csv.NewReader(br)
	r.Comma = comma
	r.FieldsPerRecord = len(fileColumns)

	good := base // end of the last confirmed record
	var pending []string
	pendingLine, pendingEnd := 0, int64(-1)
	header := true
	confirm := func() error {
		if pendingEnd < 0 {
			return nil
		}
		start := good
		good, pendingEnd = pendingEnd, -1
		if pending == nil {
			return nil // the header
		}
		return fn(pending, pendingLine, start, good)
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A crash leaves at most one damaged record, at the very end.
			// The record before it was followed by more data, so it is whole.
			if _, next := r.Read(); errors.Is(next, io.EOF) {
				if err := confirm(); err != nil {
					return 0, err
				}
				break
			}
			if header {
				return 0, fmt.Errorf("its header is not Karton's (a different format or delimiter?): %w", err)
			}
			return 0, fmt.Errorf("unreadable CSV: %w", err)
		}
		if err := confirm(); err != nil {
			return 0, err
		}
		end := base + r.InputOffset()
		if header {
			if !slices.Equal(rec, fileColumns) {
				return 0, errors.New("its header is not Karton's (a different format or delimiter?)")
			}
			header = false
			pending, pendingEnd = nil, end
			continue
		}
		pendingLine, _ = r.FieldPos(0)
		pending, pendingEnd = rec, end
	}
	if pendingEnd >= 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, pendingEnd-1); err == nil && last[0] == '\n' {
			if err := confirm(); err != nil {
				return 0, err
			}
		}
	}
	if good == base {
		return 0, nil // not even the header is complete: the file starts afresh
	}
	return good, nil
}

// drop forgets a step file after a write error; the next Send reopens and
// re-checks it, so whatever reached the disk is found again.
func (c *fileConnector) drop(step model.StepID, sf *stepFile) {
	_ = sf.f.Close()
	delete(c.files, step)
}

// Sync flushes every step file and fsyncs it, and the directory when files
// were created, so a crash after Sync loses nothing that Send accepted.
func (c *fileConnector) Sync() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.syncLocked()
}

func (c *fileConnector) syncLocked() error {
	var errs []error
	for step, sf := range c.files {
		if !sf.dirty {
			continue
		}
		err := sf.flush()
		if err == nil {
			err = sf.f.Sync()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("sync %s: %w", sf.path, err))
			c.drop(step, sf)
			continue
		}
		sf.dirty = false
	}
	if c.dirSync && len(errs) == 0 {
		if err := syncDir(c.dir); err != nil {
			errs = append(errs, err)
		} else {
			c.dirSync = false
		}
	}
	if len(errs) > 0 {
		return retryable(0, errors.Join(errs...))
	}
	return nil
}

func (sf *stepFile) flush() error {
	if sf.csv != nil {
		sf.csv.Flush()
		if err := sf.csv.Error(); err != nil {
			return err
		}
	}
	return sf.w.Flush()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// Close syncs and closes every step file.
func (c *fileConnector) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	err := c.syncLocked()
	for step, sf := range c.files {
		if cerr := sf.f.Close(); cerr != nil && err == nil {
			err = cerr
		}
		delete(c.files, step)
	}
	return err
}
