package dispatch

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

func newFileConnector(t testing.TB, settings map[string]string) Connector {
	t.Helper()
	c, err := New(channel(model.ConnectorFile, settings), Options{})
	require.NoError(t, err)
	return c
}

func readCSV(t *testing.T, path string, comma rune) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = comma
	rows, err := r.ReadAll()
	require.NoError(t, err)
	return rows
}

func readJSONL(t *testing.T, path string) []Message {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []Message
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m Message
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), sc.Text())
		out = append(out, m)
	}
	require.NoError(t, sc.Err())
	return out
}

func TestFileCSVRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name  string
		delim string
		bom   bool
	}{
		{"comma", ",", false},
		{"semicolon with BOM for Excel", ";", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out", "nested")
			c := newFileConnector(t, map[string]string{"dir": dir, "delimiter": tt.delim, "bom": strconv.FormatBool(tt.bom)})
			m1, m2 := sample(1), sample(2)
			m2.Recipient = Recipient{FirstName: "Ola", Email: "ola@example.no"}
			m2.StepID = 10
			m3 := sample(3)
			require.NoError(t, c.Send(context.Background(), m1))
			require.NoError(t, c.Send(context.Background(), m2))
			require.NoError(t, c.Send(context.Background(), m3))
			require.NoError(t, c.Close())

			raw, err := os.ReadFile(filepath.Join(dir, "step-9.csv"))
			require.NoError(t, err)
			assert.Equal(t, tt.bom, strings.HasPrefix(string(raw), utf8BOM))
			path := filepath.Join(dir, "step-9.csv")
			if tt.bom {
				require.NoError(t, os.WriteFile(path, raw[len(utf8BOM):], 0o600))
			}
			rows := readCSV(t, path, []rune(tt.delim)[0])
			require.Len(t, rows, 3, "header and two rows")
			assert.Equal(t, FileColumns(), rows[0])
			row := map[string]string{}
			for i, col := range FileColumns() {
				row[col] = rows[1][i]
			}
			assert.Equal(t, "1", row["message_id"])
			assert.Equal(t, "4711", row["customer_id"])
			assert.Equal(t, "email", row["kind"])
			assert.Equal(t, "2025-03-14T10:00:00Z", row["created_at"])
			assert.Equal(t, m1.Recipient.FirstName, row["first_name"])
			assert.Equal(t, m1.Recipient.Company, row["company"])
			assert.Equal(t, m1.Recipient.Street, row["street"])
			assert.Equal(t, m1.Subject, row["subject"])
			// encoding/csv turns \r\n inside quoted fields into \n.
			assert.Equal(t, strings.ReplaceAll(m1.Body, "\r\n", "\n"), row["body"])
			assert.Equal(t, m1.UnsubscribeURL, row["unsubscribe_url"])
			assert.Equal(t, "3", rows[2][0])

			other := readCSV(t, filepath.Join(dir, "step-10.csv"), []rune(tt.delim)[0])
			require.Len(t, other, 2)
			assert.Equal(t, "Ola", other[1][9])
		})
	}
}

func TestFileJSONLRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c := newFileConnector(t, map[string]string{"dir": dir, "format": "jsonl"})
	want := []Message{sample(1), sample(2)}
	for _, m := range want {
		require.NoError(t, c.Send(context.Background(), m))
	}
	require.NoError(t, c.Close())
	got := readJSONL(t, filepath.Join(dir, "step-9.jsonl"))
	assert.Equal(t, want, got)
	raw, err := os.ReadFile(filepath.Join(dir, "step-9.jsonl"))
	require.NoError(t, err)
	assert.Contains(t, string(raw), "?id=1&t=abc", "URLs stay readable")
	assert.Contains(t, string(raw), "München", "UTF-8 written as is")
}

func TestFileAppendsAcrossRunsWithHeaderOnce(t *testing.T) {
	dir := t.TempDir()
	for run := range 3 {
		c := newFileConnector(t, map[string]string{"dir": dir})
		require.NoError(t, c.Send(context.Background(), sample(uint64(run+1))))
		require.NoError(t, c.Close())
	}
	rows := readCSV(t, filepath.Join(dir, "step-9.csv"), ',')
	require.Len(t, rows, 4)
	for i, r := range rows[1:] {
		assert.Equal(t, strconv.Itoa(i+1), r[0])
	}
}

func TestFileResumeSkipsWrittenAndCutsTornRecord(t *testing.T) {
	// A crash in the middle of record 3: its start reached the disk, its end
	// did not.
	tests := []struct{ name, format, torn string }{
		{"csv inside a quoted field", "csv", `3,4711,3,9,7,email,1,2025-03-14T10:00:00Z,Frau,Jana,,,,,,,,,Hallo,"Liebe Jana,` + "\n" + "Zeile"},
		{"csv in the last field", "csv", `3,4711,3,9,7,email,1,2025-03-14T10:00:00Z,Frau,Jana,,,,,,,,,Hallo,Text,https://k.exa`},
		{"csv with too few fields", "csv", `3,4711,3,9`},
		{"jsonl", "jsonl", `{"id":3,"customer_id":4711,"body":"Liebe`},
		{"jsonl complete object without newline", "jsonl", `{"id":3}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "step-9."+tt.format)
			c := newFileConnector(t, map[string]string{"dir": dir, "format": tt.format})
			require.NoError(t, c.Send(context.Background(), sample(1)))
			require.NoError(t, c.Send(context.Background(), sample(2)))
			require.NoError(t, c.Close())

			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteString(tt.torn)
			require.NoError(t, err)
			require.NoError(t, f.Close())

			// The relay resends the batch whose Sync it never saw: 2 and 3.
			c = newFileConnector(t, map[string]string{"dir": dir, "format": tt.format})
			require.NoError(t, c.Send(context.Background(), sample(2)))
			require.NoError(t, c.Send(context.Background(), sample(3)))
			require.NoError(t, c.Close())

			var ids []string
			if tt.format == "csv" {
				rows := readCSV(t, path, ',')
				for _, r := range rows[1:] {
					ids = append(ids, r[0])
				}
				assert.Equal(t, sample(3).UnsubscribeURL, rows[3][20], "record 3 is the resent, whole one")
			} else {
				for _, m := range readJSONL(t, path) {
					ids = append(ids, strconv.FormatUint(m.ID, 10))
				}
			}
			assert.Equal(t, []string{"1", "2", "3"}, ids)
		})
	}
}

func TestFileCSVTornHeaderStartsAfresh(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "step-9.csv"), []byte("message_id,custo"), 0o600))
	c := newFileConnector(t, map[string]string{"dir": dir})
	require.NoError(t, c.Send(context.Background(), sample(1)))
	require.NoError(t, c.Close())
	rows := readCSV(t, filepath.Join(dir, "step-9.csv"), ',')
	require.Len(t, rows, 2)
	assert.Equal(t, FileColumns(), rows[0])
}

func TestFileRefusesForeignOrDamagedFile(t *testing.T) {
	tests := []struct {
		name, format, content, msg string
	}{
		{"foreign header", "csv", "a,b,c\n1,2,3\n", "header"},
		{"damage in the middle", "csv", strings.Join(FileColumns(), ",") + "\n" + "x" + strings.Repeat(",", len(FileColumns())-1) + "\n" +
			"1" + strings.Repeat(",", len(FileColumns())-1) + "\n", "no message id"},
		{"bad json line", "jsonl", "{\"id\":1}\nnot json\n{\"id\":2}\n", "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "step-9."+tt.format)
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			c := newFileConnector(t, map[string]string{"dir": dir, "format": tt.format})
			err := c.Send(context.Background(), sample(5))
			require.Error(t, err)
			assert.True(t, IsRetryable(err), "the file, not the message, is at fault")
			assert.Contains(t, err.Error(), tt.msg)
			assert.Contains(t, err.Error(), "move it aside")
			require.NoError(t, c.Close())
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tt.content, string(after), "a damaged file is left alone")
		})
	}
}

func TestFileRejectsMessageWithoutIDs(t *testing.T) {
	c := newFileConnector(t, map[string]string{"dir": t.TempDir()})
	defer c.Close()
	m := sample(1)
	m.StepID = 0
	assert.True(t, IsPermanent(c.Send(context.Background(), m)))
	assert.ErrorIs(t, c.Send(canceled(), sample(2)), context.Canceled)
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestFileConcurrentSends(t *testing.T) {
	dir := t.TempDir()
	c := newFileConnector(t, map[string]string{"dir": dir, "format": "jsonl"})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 250 {
				m := sample(uint64(w*1000 + i + 1))
				m.StepID = model.StepID(w%2 + 1)
				assert.NoError(t, c.Send(context.Background(), m))
				if i%100 == 0 {
					assert.NoError(t, c.Sync())
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, c.Close())
	n := len(readJSONL(t, filepath.Join(dir, "step-1.jsonl"))) + len(readJSONL(t, filepath.Join(dir, "step-2.jsonl")))
	assert.Equal(t, 1000, n)
	assert.ErrorIs(t, c.Send(context.Background(), sample(1)), ErrClosed)
}

func BenchmarkFileConnector(b *testing.B) {
	for _, format := range []string{"csv", "jsonl"} {
		b.Run(format, func(b *testing.B) {
			c := newFileConnector(b, map[string]string{"dir": b.TempDir(), "format": format})
			m := sample(1)
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				m.ID = uint64(i)
				if err := c.Send(ctx, m); err != nil {
					b.Fatal(err)
				}
				if i%5000 == 0 { // the relay syncs once per batch
					if err := c.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := c.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

func TestStepFile(t *testing.T) {
	for _, tc := range []struct {
		settings map[string]string
		want     string
	}{
		{map[string]string{"dir": "outbox/print"}, filepath.Join("outbox", "print", "step-7.csv")},
		{map[string]string{"dir": " /srv/calls ", "format": "JSONL"}, "/srv/calls/step-7.jsonl"},
		{map[string]string{"dir": "x", "format": "xml"}, ""},
		{map[string]string{"format": "csv"}, ""},
	} {
		assert.Equal(t, tc.want, StepFile(tc.settings, 7), "%v", tc.settings)
	}
}

func TestFileDelimiterSetting(t *testing.T) {
	for _, tt := range []struct {
		setting string
		want    string // the header's first separator
	}{
		{"", ","}, {";", ";"}, {" ; ", ";"}, {"|", "|"},
		{"\t", "\t"}, {"tab", "\t"}, {"TAB", "\t"}, {`\t`, "\t"}, {" ", " "}, {"space", " "},
		{"semicolon", ";"}, {"pipe", "|"}, {"comma", ","},
	} {
		dir := t.TempDir()
		c := newFileConnector(t, map[string]string{"dir": dir, "delimiter": tt.setting})
		require.NoError(t, c.Send(context.Background(), sample(1)), "%q", tt.setting)
		require.NoError(t, c.Close())
		b, err := os.ReadFile(filepath.Join(dir, "step-9.csv"))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(b), "message_id"+tt.want+"customer_id"+tt.want), "%q: %q", tt.setting, b[:30])
	}
	for _, bad := range []string{`""`, "ab", "\n", `"`, "tabs"} {
		_, err := New(channel(model.ConnectorFile, map[string]string{"dir": t.TempDir(), "delimiter": bad}), Options{})
		require.Error(t, err, "%q", bad)
		assert.Contains(t, err.Error(), "connector.delimiter")
		assert.Contains(t, err.Error(), "or tab, space")
	}
}
