package store_test

// Benchmarks for the performance table of issue 2 (foundation). Demo
// generation (100k, 1M) is measured in store/demo (BenchmarkGenerate100k,
// TestGenerate1M). The fixture (100k customers, or 1M with
// KARTON_BENCH_1M=1) is described in bench_fixture_test.go.
//
//	KARTON_BENCH_1M=1 go test -run '^$' -bench Foundation -count 5 -timeout 60m ./store
//
// Every operation is timed the way a caller pays for it: each iteration
// opens its own read transaction (Store.View), as a screen or a CLI
// command does.

import (
	"strings"
	"testing"
	"unicode/utf8"

	"karton/model"
	"karton/store"
)

// BenchmarkFoundationOpenStats opens the store the way the CLI does
// (read-write, default options: file lock, schema check, settings), reads
// the stats and closes it. Target (1M customers): ≤ 100 ms.
func BenchmarkFoundationOpenStats(b *testing.B) {
	fx := benchFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		s, err := store.Open(fx.path, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		st, err := s.Stats()
		if err != nil {
			b.Fatal(err)
		}
		if st.Customers != fx.stats.Customers {
			b.Fatalf("stats say %d customers, want %d", st.Customers, fx.stats.Customers)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFoundationPage reads one page of 50 customers sorted by name or
// by last activity: at the top, at the bottom, and from positions spread
// over the whole list (each iteration a different one), forwards and
// backwards. Target: ≤ 2 ms.
func BenchmarkFoundationPage(b *testing.B) {
	fx := benchFixture(b)
	s := fx.openRead(b)
	orders := []struct {
		name  string
		order store.CustomerOrder
		pos   [][]byte
	}{
		{"name", store.ByName, fx.namePos},
		{"activity", store.ByActivity, fx.activityPos},
	}
	where := []struct {
		name             string
		middle, backward bool
	}{
		{"top", false, false},
		{"bottom", false, true},
		{"middle-forward", true, false},
		{"middle-backward", true, true},
	}
	for _, o := range orders {
		for _, w := range where {
			b.Run(o.name+"/"+w.name, func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					q := store.PageQuery{Order: o.order, Backward: w.backward, Limit: 50}
					if w.middle {
						q.After = o.pos[i%len(o.pos)]
						i++
					}
					var rows int
					err := s.View(benchAdmin, func(r *store.Reader) error {
						p, err := r.CustomerPage(q)
						rows = len(p.Rows)
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
					if rows != 50 {
						b.Fatalf("page has %d rows, want 50", rows)
					}
				}
			})
		}
	}
}

// BenchmarkFoundationSearch is the prefix search on name or email, first
// 50 hits: the command palette's SearchCustomers (last name, then first
// name, then email) and the customer list's prefix filter (CustomerPage
// with Filter.Prefix: name index, or email index when the query has '@').
// Queries come from real customers, a different one each iteration:
//
//	name-1       first letter of a last name ("m": thousands of hits)
//	name-3       first three letters ("mül")
//	name-full    a whole last name (often fewer than 50 hits, so the
//	             first-name and email indexes are searched too)
//	email-local  local part and '@' ("anna.schmidt@": email index only)
//	email-5      first five characters of an address, no '@' (all three)
//	miss         a prefix nobody has (all three indexes, nothing found)
//
// Target (1M customers): ≤ 20 ms.
func BenchmarkFoundationSearch(b *testing.B) {
	fx := benchFixture(b)
	s := fx.openRead(b)
	firstRunes := func(s string, n int) string {
		i := 0
		for j := range s {
			if i == n {
				return s[:j]
			}
			i++
		}
		return s
	}
	queries := map[string][]string{}
	for _, n := range fx.lastNames {
		queries["name-1"] = append(queries["name-1"], firstRunes(n, 1))
		queries["name-3"] = append(queries["name-3"], firstRunes(n, 3))
		queries["name-full"] = append(queries["name-full"], n)
	}
	for _, e := range fx.emails {
		local, _, _ := strings.Cut(e, "@")
		queries["email-local"] = append(queries["email-local"], local+"@")
		if utf8.RuneCountInString(e) >= 5 {
			queries["email-5"] = append(queries["email-5"], firstRunes(e, 5))
		}
	}
	queries["miss"] = []string{"qxzj", "yyvq", "zzqx"}
	for _, kind := range []string{"name-1", "name-3", "name-full", "email-local", "email-5", "miss"} {
		qs := queries[kind]
		b.Run("palette/"+kind, func(b *testing.B) {
			b.ReportAllocs()
			i, hits := 0, 0
			for b.Loop() {
				q := qs[i%len(qs)]
				i++
				err := s.View(benchAdmin, func(r *store.Reader) error {
					res, err := r.SearchCustomers(q, 50)
					hits += len(res)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			if kind != "miss" && hits == 0 {
				b.Fatalf("no %s query found anyone", kind)
			}
			b.ReportMetric(float64(hits)/float64(i), "hits/op")
		})
	}
	for _, kind := range []string{"name-1", "name-3", "email-local"} {
		qs := queries[kind]
		b.Run("list/"+kind, func(b *testing.B) {
			b.ReportAllocs()
			i, hits := 0, 0
			for b.Loop() {
				q := qs[i%len(qs)]
				i++
				err := s.View(benchAdmin, func(r *store.Reader) error {
					p, err := r.CustomerPage(store.PageQuery{Limit: 50, Filter: store.CustomerFilter{Prefix: q}})
					hits += len(p.Rows)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			if hits == 0 {
				b.Fatalf("no %s query found anyone", kind)
			}
			b.ReportMetric(float64(hits)/float64(i), "hits/op")
		})
	}
}

// BenchmarkFoundationCustomerView reads one customer with the latest 200
// interactions and purchases and the consent history (the 360° view):
// "typical" cycles through random demo customers, "heavy" is a customer
// with 300 interactions, 250 purchases and 40 consent events, so every
// listing is full. Target: ≤ 5 ms.
func BenchmarkFoundationCustomerView(b *testing.B) {
	fx := benchFixture(b)
	s := fx.openRead(b)
	cases := []struct {
		name string
		ids  []model.CustomerID
	}{
		{"typical", fx.sample},
		{"heavy", []model.CustomerID{fx.heavy}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i, rows := 0, 0
			for b.Loop() {
				id := c.ids[i%len(c.ids)]
				i++
				err := s.View(benchAdmin, func(r *store.Reader) error {
					v, err := r.CustomerView(id, 200)
					rows += len(v.Interactions) + len(v.Purchases) + len(v.Consents)
					if c.name == "heavy" && (len(v.Interactions) != 200 || len(v.Purchases) != 200 || len(v.Consents) != heavyConsents) {
						b.Fatalf("heavy view has %d interactions, %d purchases, %d consents", len(v.Interactions), len(v.Purchases), len(v.Consents))
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)/float64(i), "rows/op")
		})
	}
}
