package dispatch

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"karton/model"
)

// personalColumns are the CSV columns that say who a message went to and
// what it said; redaction blanks them. The ids, kind, attempt and time
// stay, pseudonymous, so that the file still accounts for every message.
var personalColumns = []string{
	"salutation", "first_name", "last_name", "company", "email", "phone",
	"street", "postal_code", "city", "country", "subject", "body", "unsubscribe_url",
}

// RedactStepFile removes a person's data from a step file that a file
// connector with these settings wrote: in every record of customer cid the
// recipient (name, company, addresses, phone), the subject, the body and
// the unsubscribe link are blanked. It returns how many records it
// changed.
//
// Records are overwritten in place and keep their length (the blanked
// record is padded at its end with spaces, or tabs where the delimiter is
// a space), so no copy of the old bytes is
// left in a renamed-away file, the other records and their offsets do not
// move, and a connector appending to the file meanwhile is not disturbed.
// A record cut off by a crash at the end of the file is left for the
// connector, which removes it when it next opens the file.
func RedactStepFile(path string, settings map[string]string, cid model.CustomerID) (int, error) {
	n, err := redactStepFile(path, settings, cid)
	var pe *os.PathError
	if err != nil && !errors.As(err, &pe) {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return n, err
}

func redactStepFile(path string, settings map[string]string, cid model.CustomerID) (int, error) {
	s := &settingsReader{settings: settings}
	l := readFileLayout(s)
	if err := s.err(); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	type change struct {
		at  int64
		rec []byte
	}
	var changes []change
	if l.format == formatJSONL {
		_, err = walkJSONL(f, func(line []byte, n int, start int64) error {
			var m Message
			if err := json.Unmarshal(line, &m); err != nil || m.ID == 0 {
				return fmt.Errorf("line %d is not a message record", n)
			}
			if m.CustomerID != cid || m.Recipient == (Recipient{}) && m.Subject == "" && m.Body == "" && m.UnsubscribeURL == "" {
				return nil
			}
			rec, err := redactJSONL(m, line)
			if err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
			changes = append(changes, change{start, rec})
			return nil
		})
	} else {
		id := cid.String()
		var orig []byte
		_, err = walkCSV(f, l.comma, func(rec []string, line int, start, end int64) error {
			if rec[1] != id || blank(rec) {
				return nil
			}
			orig = slices.Grow(orig[:0], int(end-start))[:end-start]
			if _, err := f.ReadAt(orig, start); err != nil {
				return err
			}
			red, err := redactCSV(rec, l.comma, orig)
			if err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
			changes = append(changes, change{start, red})
			return nil
		})
	}
	if err != nil {
		return 0, err
	}
	for _, c := range changes {
		if _, err := f.WriteAt(c.rec, c.at); err != nil {
			return 0, err
		}
	}
	if len(changes) > 0 {
		if err := f.Sync(); err != nil {
			return 0, err
		}
	}
	return len(changes), f.Close()
}

// blank reports whether a CSV record's personal columns are empty (but for
// the padding a redacted record ends with).
func blank(rec []string) bool {
	for i, col := range fileColumns {
		if slices.Contains(personalColumns, col) && strings.TrimRight(rec[i], " \t") != "" {
			return false
		}
	}
	return true
}

// errNoRoom says a record cannot be blanked in place: its blanked form is
// longer than it (it was not written by Karton, or was rewritten by
// another program that quotes less).
var errNoRoom = errors.New("its blanked form would be longer than the record; it was not written as Karton writes it")

// redactJSONL is m without its personal data, encoded as the connector
// encodes it and padded with spaces to the length of line.
func redactJSONL(m Message, line []byte) ([]byte, error) {
	m.Recipient = Recipient{}
	m.Subject, m.Body, m.UnsubscribeURL = "", "", ""
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	body, nl := bytes.TrimRight(buf.Bytes(), "\n"), lineEnd(line)
	return pad(body, len(line)-len(nl), ' ', nl)
}

// redactCSV is rec with its personal columns blank, encoded with comma and
// padded to the length of orig (the record's bytes, line break included).
// The padding goes into the last column, the unsubscribe link, which is
// blanked too: a space, or a tab where the delimiter is a space.
func redactCSV(rec []string, comma rune, orig []byte) ([]byte, error) {
	out := slices.Clone(rec)
	for i, col := range fileColumns {
		if slices.Contains(personalColumns, col) {
			out[i] = ""
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Comma = comma
	if err := w.Write(out); err != nil {
		return nil, err
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	padding := byte(' ')
	if comma == ' ' {
		padding = '\t'
	}
	body, nl := bytes.TrimRight(buf.Bytes(), "\n"), lineEnd(orig)
	return pad(body, len(orig)-len(nl), padding, nl)
}

// lineEnd is the line break that ends b: "\r\n", "\n" or none.
func lineEnd(b []byte) []byte {
	switch {
	case bytes.HasSuffix(b, []byte("\r\n")):
		return []byte("\r\n")
	case bytes.HasSuffix(b, []byte("\n")):
		return []byte("\n")
	}
	return nil
}

// pad is body followed by c up to size bytes, then nl.
func pad(body []byte, size int, c byte, nl []byte) ([]byte, error) {
	if len(body) > size {
		return nil, errNoRoom
	}
	out := make([]byte, 0, size+len(nl))
	out = append(out, body...)
	for len(out) < size {
		out = append(out, c)
	}
	return append(out, nl...), nil
}
