package store

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store/dispatch"
	"karton/store/links"
)

// withLinks gives the fixture's creative registered link targets and a
// body that uses them, one unregistered URL and one URL that merely
// starts like a registered one.
func (f *fixture) withLinks(t testing.TB) {
	t.Helper()
	require.NoError(t, f.s.Update(operator, func(tx *Tx) error {
		return tx.UpdateCampaign(f.campaign.ID, func(c *model.Campaign) error {
			c.Creatives[0].Links = []string{"https://shop.example/sale", "https://shop.example/sale/rosen", "javascript:alert(1)"}
			c.Creatives[0].Body = "{{greeting}},\n\nZum Sale: https://shop.example/sale.\nRosen: https://shop.example/sale/rosen\n" +
				"Nicht registriert: https://shop.example/blog\nLänger: https://shop.example/sale-2\n\nAbmelden: {{unsubscribe_url|im Kundenkonto}}"
			return nil
		})
	}))
	require.NoError(t, f.s.View(admin, func(r *Reader) (err error) { f.campaign, err = r.Campaign(f.campaign.ID); return err }))
}

func TestMessagesCarryReturnChannelLinks(t *testing.T) {
	f := newFixture(t, 60, 3)
	dir := f.email.Connector.Settings["dir"]
	f.withLinks(t)
	require.NoError(t, f.s.Update(admin, func(tx *Tx) error { return tx.SetLinkBase("https://k.example/r/") }))
	base, err := f.s.LinkBase()
	require.NoError(t, err)
	assert.Equal(t, "https://k.example/r", base, "the base is stored normalised")
	f.approve(t)
	res := f.launch(t)
	require.Positive(t, res.Allowed)
	// The fallback of the dispatcher does not win over the stored base.
	d := f.dispatcher(t, DispatcherOptions{LinkBase: "http://127.0.0.1:8080"})
	rep, err := d.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, res.Allowed, rep.Sent)

	signer, err := links.NewSigner(f.s.DeriveKey(links.KeyLabel))
	require.NoError(t, err)
	msgs := fileLines(t, dir, f.step.ID)
	require.Len(t, msgs, res.Allowed)
	seen := map[string]bool{}
	for _, m := range msgs {
		require.True(t, strings.HasPrefix(m.UnsubscribeURL, "https://k.example/r/u/"), m.UnsubscribeURL)
		assert.False(t, seen[m.UnsubscribeURL], "every message has its own link")
		seen[m.UnsubscribeURL] = true
		assert.Contains(t, m.Body, "Abmelden: "+m.UnsubscribeURL)
		tok, err := signer.Open(strings.TrimPrefix(m.UnsubscribeURL, "https://k.example/r/u/"), f.clock.t)
		require.NoError(t, err)
		assert.Equal(t, links.Token{Kind: links.KindUnsubscribe, Customer: m.CustomerID, Channel: model.KindEmail,
			Purpose: f.newsletter.ID, Step: f.step.ID, Message: m.ID}, tok)

		// Registered targets became click links; the rest stayed.
		assert.NotContains(t, m.Body, "https://shop.example/sale.\n")
		assert.NotContains(t, m.Body, "https://shop.example/sale/rosen")
		assert.Contains(t, m.Body, "Nicht registriert: https://shop.example/blog\n")
		assert.Contains(t, m.Body, "Länger: https://shop.example/sale-2\n", "a longer URL is not cut")
		var clicks []links.Token
		for _, line := range strings.Split(m.Body, "\n") {
			_, rest, ok := strings.Cut(line, "https://k.example/r/c/")
			if !ok {
				continue
			}
			rest = strings.TrimSuffix(rest, ".")
			tok, err := signer.Open(rest, f.clock.t)
			require.NoError(t, err, line)
			clicks = append(clicks, tok)
		}
		require.Len(t, clicks, 2, m.Body)
		assert.Equal(t, 0, clicks[0].Link)
		assert.Equal(t, links.TargetSum("https://shop.example/sale"), clicks[0].Target)
		assert.Equal(t, 1, clicks[1].Link)
		assert.Equal(t, links.TargetSum("https://shop.example/sale/rosen"), clicks[1].Target)
		for _, c := range clicks {
			assert.Equal(t, links.KindClick, c.Kind)
			assert.Equal(t, m.CustomerID, c.Customer)
			assert.Equal(t, f.step.ID, c.Step)
			assert.Equal(t, m.ID, c.Message)
		}
	}
}

func TestLinkBaseChoice(t *testing.T) {
	for _, tc := range []struct {
		name      string
		channel   string // the channel's unsubscribe_base
		stored    string
		option    string
		connector model.ConnectorKind
		want      string // prefix of the unsubscribe link; "" none
	}{
		{name: "none", connector: model.ConnectorFile},
		{name: "dispatcher fallback", option: "http://127.0.0.1:8080", connector: model.ConnectorFile, want: "http://127.0.0.1:8080/u/"},
		{name: "stored beats fallback", stored: "https://k.example", option: "http://127.0.0.1:8080", connector: model.ConnectorFile, want: "https://k.example/u/"},
		{name: "channel beats stored", channel: "https://brand.example/links", stored: "https://k.example", connector: model.ConnectorFile, want: "https://brand.example/links/u/"},
		{name: "dry stand-in", connector: model.ConnectorDry, want: dryLinkBase + "/u/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 30, 4)
			dir := t.TempDir()
			settings := map[string]string{"dir": dir, "format": "jsonl"}
			if tc.connector == model.ConnectorDry {
				settings = nil
			}
			if tc.channel != "" {
				settings["unsubscribe_base"] = tc.channel
			}
			if tc.stored != "" {
				require.NoError(t, f.s.Update(admin, func(tx *Tx) error { return tx.SetLinkBase(tc.stored) }))
			}
			var got []string
			opts := DispatcherOptions{LinkBase: tc.option}
			if tc.connector == model.ConnectorDry {
				opts.Connect = func(model.Channel) (dispatch.Connector, error) {
					return recordingConnector(func(m dispatch.Message) { got = append(got, m.UnsubscribeURL) }), nil
				}
			}
			f.setConnector(t, model.Connector{Kind: tc.connector, Settings: settings}, 0)
			f.approve(t)
			res := f.launch(t)
			require.Positive(t, res.Allowed)
			_, err := f.dispatcher(t, opts).RunOnce(context.Background())
			require.NoError(t, err)
			if tc.connector == model.ConnectorFile {
				for _, m := range fileLines(t, dir, f.step.ID) {
					got = append(got, m.UnsubscribeURL)
				}
			}
			require.Len(t, got, res.Allowed)
			for _, u := range got {
				if tc.want == "" {
					assert.Empty(t, u)
				} else {
					assert.True(t, strings.HasPrefix(u, tc.want), u)
				}
			}
		})
	}
}

func TestSetLinkBase(t *testing.T) {
	s, _ := openTest(t)
	err := s.Update(admin, func(tx *Tx) error { return tx.SetLinkBase("ftp://k.example") })
	var ve *model.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, err.Error(), "absolute http(s) URL")
	err = s.Update(operator, func(tx *Tx) error { return tx.SetLinkBase("https://k.example") })
	require.Error(t, err, "a setting: admins only")

	before, err := s.VerifyAudit()
	require.NoError(t, err)
	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.SetLinkBase("https://k.example/") }))
	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.SetLinkBase("https://k.example") }))
	after, err := s.VerifyAudit()
	require.NoError(t, err)
	assert.Equal(t, before.Entries+1, after.Entries, "a change is audited, setting the same base again is not a change")
	require.NoError(t, s.Update(admin, func(tx *Tx) error { return tx.SetLinkBase("") }))
	b, err := s.LinkBase()
	require.NoError(t, err)
	assert.Empty(t, b)
}

// A creative that shows the unsubscribe link cannot be sent without one:
// its messages end as dead letters that say why, nothing half filled.
func TestBadLinkBaseIsADeadLetter(t *testing.T) {
	f := newFixture(t, 20, 2)
	f.approve(t)
	res := f.launch(t)
	require.Positive(t, res.Allowed)
	rep, err := f.dispatcher(t, DispatcherOptions{LinkBase: "not a url"}).RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, res.Allowed, rep.Dead)
	require.NotEmpty(t, rep.Errors)
	assert.Contains(t, rep.Errors[0], "absolute http(s) URL")
}

// Two dispatchers on one store (the server's and a cockpit's, or two
// servers' after a failover) never send a message twice: claims are taken
// in write transactions, and a claimed message is leased.
func TestTwoDispatchersNeverSendTwice(t *testing.T) {
	for _, network := range []bool{false, true} {
		name := "local"
		if network {
			name = "network"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, 600, 11)
			dir := f.email.Connector.Settings["dir"]
			f.approve(t)
			res := f.launch(t)
			require.Greater(t, res.Allowed, 100)

			var mu sync.Mutex
			sends := map[uint64]int{}
			count := func(m dispatch.Message) {
				mu.Lock()
				sends[m.ID]++
				mu.Unlock()
			}
			var wg sync.WaitGroup
			reports := make([]DispatchReport, 2)
			for i := range reports {
				opts := DispatcherOptions{BatchSize: 20, NetworkBatchSize: 7}
				if network {
					// A connector from Connect is never local: claim, send
					// outside the transaction, record.
					opts.Connect = func(model.Channel) (dispatch.Connector, error) { return recordingConnector(count), nil }
				}
				d := f.dispatcher(t, opts)
				wg.Go(func() {
					for range 3 {
						rep, err := d.RunOnce(context.Background())
						assert.NoError(t, err)
						reports[i].add(rep)
					}
				})
			}
			wg.Wait()
			if !network {
				for _, m := range fileLines(t, dir, f.step.ID) {
					sends[m.ID]++
				}
			}
			require.Len(t, sends, res.Allowed, "every allowed message was sent")
			for id, n := range sends {
				assert.Equal(t, 1, n, "message %d was sent %d times", id, n)
			}
			assert.Equal(t, res.Allowed, reports[0].Sent+reports[1].Sent)
			require.NoError(t, f.s.View(admin, func(r *Reader) error {
				assert.Equal(t, OutboxCounts{Sent: int64(res.Allowed)}, r.OutboxCounts(f.step.ID))
				return nil
			}))
			checkOutboxIndexes(t, f.s)
		})
	}
}

// recordingConnector hands every message to a function.
type recordingConnector func(dispatch.Message)

func (c recordingConnector) Send(ctx context.Context, m dispatch.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c(m)
	return nil
}
func (c recordingConnector) Sync() error  { return nil }
func (c recordingConnector) Close() error { return nil }

// Without any link base, a creative that shows the unsubscribe link is
// launched (the base may be set before the dispatch) and its messages end
// as dead letters at dispatch, saying what to do.
func TestMissingLinkBaseIsExplained(t *testing.T) {
	f := newFixture(t, 20, 2)
	require.NoError(t, f.s.Update(operator, func(tx *Tx) error {
		return tx.UpdateCampaign(f.campaign.ID, func(c *model.Campaign) error {
			c.Creatives[0].Body = "{{greeting}}\n\nAbmelden: {{unsubscribe_url}}"
			return nil
		})
	}))
	f.approve(t)
	res := f.launch(t)
	require.Positive(t, res.Allowed)
	rep, err := f.dispatcher(t, DispatcherOptions{}).RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, res.Allowed, rep.Dead)
	require.NotEmpty(t, rep.Errors)
	assert.Contains(t, rep.Errors[0], "{{unsubscribe_url}}")
	assert.Contains(t, rep.Errors[0], "karton serve --http ADDR --base URL")
}
