package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"karton/model"
	"karton/store"
	"karton/store/dispatch"
	"karton/store/links"
)

// loadClients fires n requests from the given number of concurrent
// clients over loopback and reports throughput and the 99th percentile of
// latency. build(i) makes request i; it returns the requests per second.
func loadClients(b *testing.B, clients, n int, build func(i int) *http.Request) float64 {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t := time.Now()
				resp, err := client.Do(build(i))
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed", f, n)
	}
	slices.Sort(lat)
	rps := float64(n) / elapsed.Seconds()
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(float64(lat[n*99/100].Microseconds())/1000, "p99-ms")
	return rps
}

// BenchmarkUnsubscribeOneClick: 64 concurrent mail clients POST one-click
// unsubscribes for distinct customers over loopback; every request is a
// durable consent write (fsync on). Target: ≥ 3,000 req/s, p99 ≤ 50 ms.
//
//	go test ./web -run XXX -bench UnsubscribeOneClick -benchtime 20000x -count 5
func BenchmarkUnsubscribeOneClick(b *testing.B) {
	f := newFixture(b)
	n := b.N
	signer := f.signer(b)
	urls := make([]string, 0, n)
	for start := 0; start < n; start += 5000 {
		require.NoError(b, f.st.Update(admin, func(tx *store.Tx) error {
			for i := start; i < min(start+5000, n); i++ {
				c := model.Customer{Email: fmt.Sprintf("bench%d@example.de", i)}
				if err := tx.InsertCustomer(&c); err != nil {
					return err
				}
				for _, k := range []model.ConsentKind{model.ConsentOptIn, model.ConsentDOIConfirmed} {
					ev := model.ConsentEvent{CustomerID: c.ID, Channel: model.KindEmail, PurposeID: f.newsletter, Kind: k, EffectiveAt: t0.Add(-time.Hour), Source: "bench"}
					if err := tx.AppendConsent(&ev, nil); err != nil {
						return err
					}
				}
				u, err := links.Unsubscribe(f.ts.URL, signer, f.message(c.ID, f.newsletter))
				if err != nil {
					return err
				}
				urls = append(urls, u)
			}
			return nil
		}))
	}
	body := []byte("List-Unsubscribe=One-Click")
	loadClients(b, 64, n, func(i int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, urls[i], bytes.NewReader(body))
		req.Header.Set("Content-Type", formType)
		return req
	})
	var withdrawn int64
	require.NoError(b, f.st.View(admin, func(r *store.Reader) error {
		withdrawn = r.Counter("consent_events")
		return nil
	}))
	require.EqualValues(b, 4+3*n, withdrawn, "every request wrote its opt_out")
}

// BenchmarkInboundEvents: signed batches of 100 events (a quarter
// sign-ups with DOI requests, half purchases, a quarter visits; new
// customers as they come) from 4 concurrent sources. Target: ≥ 20,000
// events/s.
//
//	go test ./web -run XXX -bench InboundEvents -benchtime 200x -count 5
func BenchmarkInboundEvents(b *testing.B) {
	f := newFixture(b)
	addSource(b, f)
	const perBatch = 100
	bodies := make([][]byte, b.N)
	for i := range bodies {
		var sb strings.Builder
		sb.WriteByte('[')
		for j := range perBatch {
			k := i*perBatch + j
			if j > 0 {
				sb.WriteByte(',')
			}
			cust := fmt.Sprintf(`{"external_id":"C-%d","email":"c%d@example.de"}`, k/2, k/2)
			switch j % 4 {
			case 0:
				fmt.Fprintf(&sb, `{"id":"e%d","type":"signup","customer":%s,"channel":"email","purpose":"newsletter","evidence":{"ip":"198.51.100.7"}}`, k, cust)
			case 1, 3:
				fmt.Fprintf(&sb, `{"id":"e%d","type":"purchase","customer":%s,"order_id":"O-%d","amount":"19.90"}`, k, cust, k)
			case 2:
				fmt.Fprintf(&sb, `{"id":"e%d","type":"interaction","customer":%s,"kind":"visit","channel":"web"}`, k, cust)
			}
		}
		sb.WriteByte(']')
		bodies[i] = []byte(sb.String())
	}
	now := f.clock.now().Unix()
	rps := loadClients(b, 4, b.N, func(i int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/events", bytes.NewReader(bodies[i]))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderSource, "shop")
		req.Header.Set(HeaderSignature, dispatch.Sign(shopSecret, now, bodies[i]))
		return req
	})
	b.ReportMetric(rps*perBatch, "events/s")
	var purchases int64
	require.NoError(b, f.st.View(admin, func(r *store.Reader) error { purchases = r.Counter("purchases"); return nil }))
	require.EqualValues(b, b.N*perBatch/2, purchases)
}
