package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Format is the file format of an import.
type Format string

// The formats an import reads.
const (
	FormatCSV   Format = "csv"   // delimited text: , ; tab | or runs of spaces
	FormatJSONL Format = "jsonl" // one JSON object per line
)

// Encodings an import reads. Without a byte order mark, a file that is
// valid UTF-8 is read as UTF-8; otherwise as Windows-1252 when it uses the
// bytes 0x80–0x9F (€, „, “, … in Windows-1252, control codes in ISO-8859-1),
// else as ISO-8859-1 (the two agree on every other byte).
const (
	EncUTF8    = "utf-8"
	EncUTF8BOM = "utf-8-bom"
	EncUTF16LE = "utf-16le"
	EncUTF16BE = "utf-16be"
	EncCP1252  = "windows-1252"
	EncLatin1  = "iso-8859-1"
)

// WhitespaceDelimiter stands for "fields separated by runs of spaces or
// tabs" (fixed-width log exports such as the CDNOW purchase log).
const WhitespaceDelimiter = ' '

// sampleSize is how much of the file detection looks at.
const sampleSize = 64 << 10

// Source is a file to import. Open is called once per pass (preview, dry
// run and run each read from the start).
type Source struct {
	Name string // shown in the batch record: the file's base name
	Size int64  // bytes, for progress; 0 when unknown
	Open func() (io.ReadCloser, error)
}

// FileSource is a Source for a file on disk.
func FileSource(path string) (Source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Source{}, fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
	}
	if fi.IsDir() {
		return Source{}, fmt.Errorf("%s is a directory, not a file", path)
	}
	return Source{Name: filepath.Base(path), Size: fi.Size(), Open: func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
		}
		return f, nil
	}}, nil
}

// BytesSource is a Source over bytes in memory (tests, pasted data).
func BytesSource(name string, b []byte) Source {
	return Source{Name: name, Size: int64(len(b)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}}
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Errors for files that cannot be imported at all.
var (
	ErrEmpty  = errors.New("the file is empty")
	ErrBinary = errors.New("the file is not text (it looks like a binary file: a spreadsheet, archive or image?); export it as CSV or JSON Lines")
)

// detected is what sniffing found out about a file.
type detected struct {
	format    Format
	encoding  string
	bomLen    int
	delimiter rune
}

// sniff looks at the start of a file. Options that are set win over what
// the sample suggests.
func sniff(sample []byte, name string, opts *Options) (detected, error) {
	var d detected
	if len(bytes.TrimSpace(sample)) == 0 {
		return d, ErrEmpty
	}
	switch {
	case bytes.HasPrefix(sample, []byte{0xEF, 0xBB, 0xBF}):
		d.encoding, d.bomLen = EncUTF8BOM, 3
	case bytes.HasPrefix(sample, []byte{0xFF, 0xFE}):
		d.encoding, d.bomLen = EncUTF16LE, 0 // the decoder consumes the BOM
	case bytes.HasPrefix(sample, []byte{0xFE, 0xFF}):
		d.encoding, d.bomLen = EncUTF16BE, 0
	}
	if opts.Encoding != "" {
		enc, err := parseEncoding(opts.Encoding)
		if err != nil {
			return d, err
		}
		if d.encoding == EncUTF8BOM && enc == EncUTF8 {
			enc = EncUTF8BOM
		}
		d.encoding = enc
	}
	if d.encoding == "" {
		if looksBinary(sample) {
			return d, ErrBinary
		}
		d.encoding = guessEncoding(sample)
	}
	text, err := decodeSample(sample[d.bomLen:], d.encoding)
	if err != nil {
		return d, err
	}
	if d.encoding != EncUTF16LE && d.encoding != EncUTF16BE && looksBinary([]byte(text)) {
		return d, ErrBinary
	}
	if len(strings.TrimSpace(text)) == 0 {
		return d, ErrEmpty
	}
	d.format = opts.Format
	if d.format == "" {
		ext := strings.ToLower(filepath.Ext(name))
		switch {
		case ext == ".jsonl" || ext == ".ndjson" || ext == ".json":
			d.format = FormatJSONL
		case strings.HasPrefix(strings.TrimSpace(text), "{"):
			d.format = FormatJSONL
		default:
			d.format = FormatCSV
		}
	}
	if d.format != FormatCSV && d.format != FormatJSONL {
		return d, fmt.Errorf("format %q: use csv or jsonl", d.format)
	}
	if d.format == FormatCSV {
		d.delimiter = opts.Delimiter
		if d.delimiter == 0 {
			d.delimiter = guessDelimiter(text)
		}
	}
	return d, nil
}

// parseEncoding accepts the usual spellings of the supported encodings.
func parseEncoding(s string) (string, error) {
	switch strings.ToLower(strings.NewReplacer("_", "-", " ", "").Replace(strings.TrimSpace(s))) {
	case "utf-8", "utf8":
		return EncUTF8, nil
	case "utf-8-bom":
		return EncUTF8BOM, nil
	case "utf-16le", "utf-16":
		return EncUTF16LE, nil
	case "utf-16be":
		return EncUTF16BE, nil
	case "windows-1252", "cp1252", "win1252", "ansi":
		return EncCP1252, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "iso-latin-1":
		return EncLatin1, nil
	}
	return "", fmt.Errorf("encoding %q: use utf-8, windows-1252, iso-8859-1 or utf-16le", s)
}

// looksBinary: text files have no NUL bytes and few control characters.
func looksBinary(b []byte) bool {
	if len(b) > 8192 {
		b = b[:8192]
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	ctl := 0
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' {
			ctl++
		}
	}
	return ctl*100 > len(b) // more than 1 %
}

func guessEncoding(sample []byte) string {
	s := sample
	if len(sample) == sampleSize {
		// The sample may end inside a UTF-8 sequence.
		for i := 0; i < 3 && len(s) > 0 && !utf8.Valid(s); i++ {
			s = s[:len(s)-1]
		}
	}
	if utf8.Valid(s) {
		return EncUTF8
	}
	for _, c := range sample {
		if c >= 0x80 && c <= 0x9F {
			return EncCP1252
		}
	}
	return EncLatin1
}

// decoder wraps r so that it yields UTF-8.
func decoder(r io.Reader, encoding string) io.Reader {
	switch encoding {
	case EncCP1252:
		return transform.NewReader(r, charmap.Windows1252.NewDecoder())
	case EncLatin1:
		return transform.NewReader(r, charmap.ISO8859_1.NewDecoder())
	case EncUTF16LE:
		return transform.NewReader(r, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder())
	case EncUTF16BE:
		return transform.NewReader(r, unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder())
	}
	return r
}

func decodeSample(b []byte, encoding string) (string, error) {
	out, err := io.ReadAll(decoder(bytes.NewReader(b), encoding))
	if err != nil && len(out) == 0 {
		return "", fmt.Errorf("the file cannot be read as %s: %v", encoding, err)
	}
	return string(out), nil
}

// guessDelimiter counts the candidates outside quotes on the first lines
// and takes the one that splits them most consistently; runs of spaces
// when no candidate occurs but the lines have several space-separated
// fields; else a comma (a single column).
func guessDelimiter(text string) rune {
	lines := logicalLines(text, 20)
	best, bestScore := rune(0), 0
	for _, cand := range []rune{';', ',', '\t', '|'} {
		counts := make([]int, len(lines))
		for i, l := range lines {
			counts[i] = countOutsideQuotes(l, cand)
		}
		if len(counts) == 0 || counts[0] == 0 {
			continue
		}
		same := 0
		for _, c := range counts {
			if c == counts[0] {
				same++
			}
		}
		// Consistency first, then how many fields it makes.
		score := same*1000 + counts[0]
		if score > bestScore {
			best, bestScore = cand, score
		}
	}
	if best != 0 {
		return best
	}
	if len(lines) > 0 {
		n := len(strings.Fields(lines[0]))
		same := 0
		for _, l := range lines {
			if len(strings.Fields(l)) == n {
				same++
			}
		}
		if n > 1 && same*10 >= len(lines)*8 {
			return WhitespaceDelimiter
		}
	}
	return ','
}

// logicalLines splits the first n records, keeping quoted newlines inside.
func logicalLines(text string, n int) []string {
	var out []string
	inQuote := false
	start := 0
	for i := 0; i < len(text) && len(out) < n; i++ {
		switch text[i] {
		case '"':
			inQuote = !inQuote
		case '\n':
			if !inQuote {
				if l := strings.TrimRight(text[start:i], "\r"); strings.TrimSpace(l) != "" {
					out = append(out, l)
				}
				start = i + 1
			}
		}
	}
	if len(out) < n && start < len(text) && !inQuote {
		if l := strings.TrimRight(text[start:], "\r"); strings.TrimSpace(l) != "" && len(out) == 0 {
			out = append(out, l)
		}
	}
	return out
}

func countOutsideQuotes(line string, delim rune) int {
	n := 0
	inQuote := false
	for _, r := range line {
		switch {
		case r == '"':
			inQuote = !inQuote
		case r == delim && !inQuote:
			n++
		}
	}
	return n
}

// DelimiterName renders a delimiter for reports.
func DelimiterName(r rune) string {
	switch r {
	case 0:
		return ""
	case '\t':
		return "tab"
	case WhitespaceDelimiter:
		return "whitespace"
	}
	return string(r)
}

// ParseDelimiter reads a --delimiter value: one character, or "tab",
// "whitespace"/"space", "semicolon", "comma", "pipe".
func ParseDelimiter(s string) (rune, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return 0, nil
	case "tab", `\t`:
		return '\t', nil
	case "whitespace", "space", "spaces", " ":
		return WhitespaceDelimiter, nil
	case "semicolon":
		return ';', nil
	case "comma":
		return ',', nil
	case "pipe":
		return '|', nil
	}
	if r, size := utf8.DecodeRuneInString(s); size == len(s) && r != utf8.RuneError && r != '"' && r != '\n' && r != '\r' {
		return r, nil
	}
	return 0, fmt.Errorf("delimiter %q: give one character, or tab, whitespace, semicolon, comma, pipe", s)
}
