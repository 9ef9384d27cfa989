package dispatch

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

// other is a message for another customer, whose record must not change.
func other(id uint64) Message {
	m := sample(id)
	m.CustomerID = 815
	m.Recipient = Recipient{Salutation: "Herr", FirstName: "Otto", LastName: "Ohnesorg", Company: "Ohnesorg KG",
		Email: "otto@example.de", Phone: "+4930123456", Street: "Ringstraße 9", PostalCode: "10115", City: "Berlin", Country: "DE"}
	m.Subject, m.Body, m.UnsubscribeURL = "Für Otto", "Lieber Otto,\nbis bald.", "https://k.example/u?id=2&t=def"
	return m
}

// personalStrings are pieces of sample's personal fields that survive any
// quoting, to be searched for in a file's bytes; othersStrings those of
// other's.
var (
	personalStrings = []string{"Jürgen", "Größe", "Müller & Söhne", "jana.mueller", "+4915112345678",
		"Hauptstraße", "80331", "München", "Sonderangebot", "t=abc"}
	othersStrings = []string{"Otto", "Ohnesorg KG", "otto@example.de", "+4930123456", "Ringstraße 9", "10115",
		"Berlin", "Für Otto", "bis bald", "t=def"}
)

func TestRedactStepFile(t *testing.T) {
	for _, tt := range []struct {
		name     string
		settings map[string]string
	}{
		{"csv", map[string]string{}},
		{"csv with semicolons and a byte order mark", map[string]string{"delimiter": ";", "bom": "true"}},
		{"csv with spaces between fields", map[string]string{"delimiter": " "}},
		{"jsonl", map[string]string{"format": "jsonl"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			settings := map[string]string{"dir": dir}
			for k, v := range tt.settings {
				settings[k] = v
			}
			path := StepFile(settings, 9)
			c := newFileConnector(t, settings)
			for _, m := range []Message{sample(1), other(2), sample(3), other(4)} {
				require.NoError(t, c.Send(context.Background(), m))
			}
			require.NoError(t, c.Close())
			before, err := os.ReadFile(path)
			require.NoError(t, err)

			n, err := RedactStepFile(path, settings, 4711)
			require.NoError(t, err)
			assert.Equal(t, 2, n)
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Len(t, after, len(before), "records are blanked in place")
			for _, s := range personalStrings {
				assert.True(t, bytes.Contains(before, []byte(s)), s)
				assert.False(t, bytes.Contains(after, []byte(s)), "%s is gone", s)
			}
			for _, s := range othersStrings {
				assert.Equal(t, bytes.Count(before, []byte(s)), bytes.Count(after, []byte(s)), "%s stays", s)
			}

			was, now := records(t, settings, before), records(t, settings, after)
			require.Len(t, now, 4)
			for i, r := range now {
				for j, col := range FileColumns() {
					if r[1] == "4711" && slices.Contains(personalColumns, col) {
						assert.Empty(t, r[j], "record %d, %s", i+1, col)
					} else {
						assert.Equal(t, was[i][j], r[j], "record %d, %s", i+1, col)
					}
				}
			}
			assert.Equal(t, []string{"4711", "815", "4711", "815"}, []string{now[0][1], now[1][1], now[2][1], now[3][1]})

			// The connector reads the redacted file as its own: a message
			// written before is not written again, a new one is appended.
			c = newFileConnector(t, settings)
			require.NoError(t, c.Send(context.Background(), sample(3)))
			require.NoError(t, c.Send(context.Background(), other(5)))
			require.NoError(t, c.Close())
			grown, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Len(t, records(t, settings, grown), 5)

			// Redacting again, or someone who is not in the file, changes
			// nothing: a record whose personal fields are blank is left.
			again, err := os.ReadFile(path)
			require.NoError(t, err)
			for _, cid := range []model.CustomerID{4711, 99} {
				n, err = RedactStepFile(path, settings, cid)
				require.NoError(t, err)
				assert.Zero(t, n)
				now, err := os.ReadFile(path)
				require.NoError(t, err)
				assert.Equal(t, again, now)
			}
		})
	}
}

// records reads a step file as a consumer would, into rows of the CSV
// columns (JSON Lines records are put into the same columns). Fields are
// trimmed of the padding a redacted record ends with.
func records(t *testing.T, settings map[string]string, data []byte) [][]string {
	t.Helper()
	var out [][]string
	if settings["format"] == "jsonl" {
		for _, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
			var m Message
			require.NoError(t, json.Unmarshal(line, &m), string(line))
			r := m.Recipient
			out = append(out, []string{strconv.FormatUint(m.ID, 10), m.CustomerID.String(), m.CampaignID.String(),
				m.StepID.String(), m.ChannelID.String(), string(m.Kind), strconv.Itoa(m.Attempt), formatTime(m.CreatedAt),
				r.Salutation, r.FirstName, r.LastName, r.Company, r.Email, r.Phone, r.Street, r.PostalCode, r.City,
				r.Country, m.Subject, m.Body, m.UnsubscribeURL})
		}
		return out
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte(utf8BOM))))
	if d := settings["delimiter"]; d != "" {
		cr.Comma = []rune(d)[0]
	}
	rows, err := cr.ReadAll()
	require.NoError(t, err)
	require.Equal(t, FileColumns(), rows[0])
	for _, r := range rows[1:] {
		for i := range r {
			r[i] = strings.TrimRight(r[i], " \t")
		}
		out = append(out, r)
	}
	return out
}

func TestRedactStepFileRefusesWhatItCannotRead(t *testing.T) {
	header := strings.Join(FileColumns(), ",") + "\n"
	row := "1,4711,3,9,7,email,1,2025-03-14T10:00:00Z,Frau,Jana" + strings.Repeat(",", len(FileColumns())-10) + "\n"
	for _, tt := range []struct {
		name, format, content, msg string
	}{
		{"foreign header", "csv", "a,b,c\n1,2,3\n", "header"},
		{"another delimiter", "csv", strings.ReplaceAll(header, ",", ";") + row, "header"},
		{"bad json line", "jsonl", jsonLine(t, sample(1)) + "not json\n", "line 2 is not a message record"},
		{"a record quoted less than Karton writes", "csv", header + row +
			"2,4711,3,9,7, email,1,2025-03-14T10:00:00Z,X" + strings.Repeat(",", len(FileColumns())-9) + "\n",
			"line 3: its blanked form would be longer than the record"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			settings := map[string]string{"dir": dir, "format": tt.format}
			path := StepFile(settings, 9)
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			_, err := RedactStepFile(path, settings, 4711)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Contains(t, err.Error(), path)
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tt.content, string(after), "nothing is changed")
		})
	}
	_, err := RedactStepFile(filepath.Join(t.TempDir(), "step-9.csv"), map[string]string{"dir": "x", "format": "xml"}, 4711)
	assert.ErrorContains(t, err, "format")
}

func TestRedactStepFileLeavesATornTail(t *testing.T) {
	dir := t.TempDir()
	settings := map[string]string{"dir": dir}
	path := StepFile(settings, 9)
	c := newFileConnector(t, settings)
	require.NoError(t, c.Send(context.Background(), sample(1)))
	require.NoError(t, c.Close())
	torn := `2,4711,3,9,7,email,1,2025-03-14T10:00:00Z,Frau,Jana`
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(torn)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	n, err := RedactStepFile(path, settings, 4711)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(string(after), "\n"+torn), "the connector cuts the torn record when it next opens the file")
	assert.NotContains(t, string(after), "Jürgen")
}

func TestStepFileWithATornHeaderAfterAByteOrderMark(t *testing.T) {
	dir := t.TempDir()
	settings := map[string]string{"dir": dir, "bom": "true"}
	path := StepFile(settings, 9)
	require.NoError(t, os.WriteFile(path, []byte(utf8BOM+strings.Join(FileColumns(), ",")), 0o600))
	c := newFileConnector(t, settings)
	require.NoError(t, c.Send(context.Background(), sample(1)))
	require.NoError(t, c.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(b), utf8BOM), "the file starts afresh, with one mark")
	rows := records(t, settings, b)
	require.Len(t, rows, 1)
	assert.Equal(t, "1", rows[0][0])
}

// jsonLine is m as the connector writes it.
func jsonLine(t *testing.T, m Message) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(m))
	return buf.String()
}

// redactCSV pads into the last column, which must be one it blanks.
func TestTheLastStepFileColumnIsPersonal(t *testing.T) {
	assert.Contains(t, personalColumns, fileColumns[len(fileColumns)-1])
	for _, col := range personalColumns {
		assert.Contains(t, fileColumns, col)
	}
}
