package dispatch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

func channel(kind model.ConnectorKind, settings map[string]string) model.Channel {
	return model.Channel{ID: 7, Kind: model.KindEmail, Name: "Test", Connector: model.Connector{Kind: kind, Settings: settings}, Status: model.ChannelActive}
}

// sample is a message whose fields exercise quoting and encoding.
func sample(id uint64) Message {
	return Message{
		ID: id, CustomerID: 4711, CampaignID: 3, StepID: 9, ChannelID: 7, Kind: model.KindEmail,
		Recipient: Recipient{
			Salutation: "Frau", FirstName: "Jürgen, \"Jü\"", LastName: "Größe-Äbel", Company: "Müller & Söhne; GmbH",
			Email: "jana.mueller@example.de", Phone: "+4915112345678",
			Street: "Hauptstraße 1\nHinterhaus", PostalCode: "80331", City: "München", Country: "DE",
		},
		Subject:        "Grüße aus München – 20 % Rabatt",
		Body:           "Liebe Jana,\n\n\"Sonderangebot\", nur heute!\r\nÄÖÜ äöü ß €\n",
		UnsubscribeURL: "https://k.example/u?id=1&t=abc",
		CreatedAt:      time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC),
		Attempt:        1,
	}
}

func TestNewValidation(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte("s3cret\n"), 0o600))
	tests := []struct {
		name     string
		ch       model.Channel
		problems []string // fields expected in the error; none means valid
	}{
		{"dry", channel(model.ConnectorDry, nil), nil},
		{"dry with setting", channel(model.ConnectorDry, map[string]string{"x": "1"}), []string{"connector.x"}},
		{"unknown connector", channel("ftp", nil), []string{"connector"}},
		{"file ok", channel(model.ConnectorFile, map[string]string{"dir": filepath.Join(dir, "out"), "format": "jsonl"}), nil},
		{"file missing dir, bad format", channel(model.ConnectorFile, map[string]string{"format": "xml"}), []string{"connector.dir", "connector.format"}},
		{"file bad delimiter", channel(model.ConnectorFile, map[string]string{"dir": dir, "delimiter": `""`}), []string{"connector.delimiter"}},
		{"file bom on jsonl", channel(model.ConnectorFile, map[string]string{"dir": dir, "format": "jsonl", "bom": "true"}), []string{"connector.bom"}},
		{"file typo key", channel(model.ConnectorFile, map[string]string{"dir": dir, "fromat": "csv"}), []string{"connector.fromat"}},
		{"webhook ok", channel(model.ConnectorWebhook, map[string]string{"url": "https://h.example/in", "secret": "file:" + secretFile}), nil},
		{"webhook secret_ref", channel(model.ConnectorWebhook, map[string]string{"url": "https://h.example/in", "secret_ref": "file:" + secretFile}), nil},
		{"webhook missing url and secret", channel(model.ConnectorWebhook, map[string]string{}), []string{"connector.url", "connector.secret"}},
		{"webhook bad url", channel(model.ConnectorWebhook, map[string]string{"url": "ftp://x", "secret": "k"}), []string{"connector.url"}},
		{"webhook unreadable secret", channel(model.ConnectorWebhook, map[string]string{"url": "http://x", "secret": "file:/nonexistent/k"}), []string{"connector.secret"}},
		{"webhook bad numbers", channel(model.ConnectorWebhook, map[string]string{"url": "http://x", "secret": "k", "timeout": "soon", "retries": "99", "backoff": "-1s"}),
			[]string{"connector.timeout", "connector.retries", "connector.backoff"}},
		{"smtp ok", channel(model.ConnectorSMTP, map[string]string{"host": "mail.example", "from": "news@example.de", "tls": "tls"}), nil},
		{"smtp missing", channel(model.ConnectorSMTP, map[string]string{}), []string{"connector.host", "connector.from"}},
		{"smtp bad port and tls", channel(model.ConnectorSMTP, map[string]string{"host": "h", "from": "a@b.de", "port": "70000", "tls": "ssl3"}),
			[]string{"connector.port", "connector.tls"}},
		{"smtp user without password", channel(model.ConnectorSMTP, map[string]string{"host": "h", "from": "a@b.de", "username": "u"}), []string{"connector.password"}},
		{"smtp bad from", channel(model.ConnectorSMTP, map[string]string{"host": "h", "from": "nobody"}), []string{"connector.from"}},
		{"smtp on an sms channel", func() model.Channel {
			ch := channel(model.ConnectorSMTP, map[string]string{"host": "h", "from": "a@b.de"})
			ch.Kind = model.KindSMS
			return ch
		}(), []string{"connector"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.ch, Options{})
			if tt.problems == nil {
				require.NoError(t, err)
				require.NotNil(t, c)
				require.NoError(t, c.Close())
				return
			}
			require.Error(t, err)
			assert.Nil(t, c)
			ve, ok := model.AsValidation(err)
			require.True(t, ok, "want a validation error, got %v", err)
			for _, f := range tt.problems {
				assert.True(t, ve.Has(f), "error %q should name %s", err, f)
			}
		})
	}
}

func TestSettingsDocumented(t *testing.T) {
	for _, k := range []model.ConnectorKind{model.ConnectorFile, model.ConnectorWebhook, model.ConnectorSMTP} {
		s := Settings(k)
		require.NotEmpty(t, s, k)
		for _, x := range s {
			assert.NotEmpty(t, x.Help, "%s.%s", k, x.Key)
		}
	}
	assert.Empty(t, Settings(model.ConnectorDry))
}

func TestErrorClassification(t *testing.T) {
	assert.True(t, IsPermanent(permanent(400, "bad")))
	assert.False(t, IsRetryable(permanent(400, "bad")))
	assert.True(t, IsRetryable(retryable(503, errors.New("busy"))))
	assert.False(t, IsPermanent(retryable(503, errors.New("busy"))))
	wrapped := errors.Join(errors.New("outer"), permanent(550, "no such user"))
	assert.True(t, IsPermanent(wrapped))
	assert.True(t, IsRetryable(errors.New("unclassified")), "unknown errors must not drop messages")
	assert.False(t, IsRetryable(nil))
	assert.True(t, IsRetryable(context.Canceled))
}

func TestDry(t *testing.T) {
	c, err := New(channel(model.ConnectorDry, nil), Options{})
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, c.Send(context.Background(), sample(uint64(i+1))))
	}
	require.NoError(t, c.Sync())
	assert.Equal(t, uint64(3), c.(*Dry).Sent())
	require.NoError(t, c.Close())
	assert.ErrorIs(t, c.Send(context.Background(), sample(9)), ErrClosed)
}
