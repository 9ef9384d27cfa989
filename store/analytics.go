package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"karton/model"
)

// Analytics: the numbers marketing plans and controls with.
//
// KPIs per channel and campaign are read from the rollups (maintained with
// every interaction and purchase, rollups.go) and from the attribution
// table, so a dashboard reads a few thousand rows whatever the number of
// events. RFM scores, CLV and cohorts need every customer's history; they
// are computed by analytics runs (ScoreRFM, FitCLV + ScoreCLV,
// ComputeCohorts, RunAttribution, or all of them: RunAnalytics) that write
// per-customer results into the scores bucket (scores.go) and a summary of
// each run into the analytics bucket, which the cockpit reads.
//
// Revenue attribution (RunAttribution): a purchase is credited to the
// customer's last contact — the latest interaction of kind "sent" — in the
// attribution window before it (default 30 days), i.e. to that contact's
// channel and campaign, on the day of the purchase. Purchases without a
// contact in the window are "organic" (not credited to any channel). The
// attribution table is rebuilt from the raw records by each run and shows
// the time of its run.

// ---------------------------------------------------------------------------
// Snapshots

func (t *Tx) putSnapshot(name string, v any) error {
	val, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b, err := t.ensure(bAnalytics)
	if err != nil {
		return err
	}
	return b.Put([]byte(name), val)
}

func (r *Reader) snapshot(name string, v any) (bool, error) {
	b := r.tx.Bucket(bAnalytics)
	if b == nil {
		return false, nil
	}
	val := b.Get([]byte(name))
	if val == nil {
		return false, nil
	}
	if err := json.Unmarshal(val, v); err != nil {
		return false, fmt.Errorf("analytics %s: %w", name, errCorrupt)
	}
	return true, nil
}

func (s *Store) saveSnapshot(by model.Actor, name string, v any) error {
	return s.Update(by, func(t *Tx) error {
		if err := t.require(model.PermSeeAggregates, "store analytics"); err != nil {
			return err
		}
		return t.putSnapshot(name, v)
	})
}

// ---------------------------------------------------------------------------
// Customer facts without decoding the whole record

// customerFacts are the fields of a customer that are not personal data:
// what analytics runs read of every customer, and what the decision table
// reads in Check.
type customerFacts struct {
	id         model.CustomerID
	business   bool
	birth      model.Date
	erased     bool
	suppressed bool
	purchases  int
	revenue    model.Money
	first      time.Time
	last       time.Time
	// emailFromPurchase and contactPoints: see model.Customer.
	emailFromPurchase bool
	contactPoints     model.ContactPoints
}

// decision is what the decision table knows of the customer, as
// model.StoredFactsOf tells it from the whole record.
func (f *customerFacts) decision() model.CustomerFacts {
	return model.CustomerFacts{
		ID: f.id, Business: f.business, BirthDate: f.birth, Erased: f.erased, Suppressed: f.suppressed,
		ContactPoints: f.contactPoints, HasPurchase: f.purchases > 0 || !f.first.IsZero(),
		EmailCollectedWithPurchase: f.emailFromPurchase, ObjectionNoticeAtCollection: f.emailFromPurchase,
	}
}

// decodeCustomerFacts reads the facts of a stored customer, skipping the
// personal data without allocating it (a million customers: ~0.2 s
// instead of ~1 s; a Check reads one customer per decision). It walks the
// field order of encodeCustomer; TestCustomerFactsMatchTheRecord keeps
// the two in step.
func decodeCustomerFacts(b []byte, f *customerFacts) error {
	d := decoder{b: b}
	d.version(customerVersion, "customer")
	f.id = model.CustomerID(d.uvarint())
	f.business = string(d.raw()) == string(model.Business)
	for range 10 { // salutation … country
		d.raw()
	}
	f.birth = decodeDate(&d)
	d.skipStrs(2 * d.count()) // attributes
	d.skipStrs(2 * d.count()) // preferences
	d.skipStrs(d.count())     // tags
	d.skipStrs(2 * d.count()) // sources
	d.varint()                // created
	d.varint()                // updated
	f.erased = d.bool()
	d.varint() // erased at
	f.suppressed = d.bool()
	d.varint() // last activity
	f.purchases = int(d.uvarint())
	f.revenue = model.Money(d.varint())
	f.first = d.time()
	f.last = d.time()
	f.emailFromPurchase = d.bool()
	f.contactPoints = model.ContactPoints(d.uvarint())
	return d.done("customer")
}

// forCustomerFacts visits every customer's facts in id order, a page per
// read transaction.
func (s *Store) forCustomerFacts(ctx context.Context, fn func(f *customerFacts)) error {
	var after uint64
	for {
		n := 0
		err := s.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bCustomers).Cursor()
			var f customerFacts
			for k, v := c.Seek(u64(after + 1)); k != nil && n < 100000; k, v = c.Next() {
				after = readU64(k)
				n++
				if err := decodeCustomerFacts(v, &f); err != nil {
					return fmt.Errorf("customer %d: %w", after, err)
				}
				fn(&f)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n < 100000 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// ---------------------------------------------------------------------------
// KPIs

// KPIDimension is what a KPI report groups by.
type KPIDimension string

// The groupings of a KPI report.
const (
	KPIByChannel     KPIDimension = "channel"      // each channel (and, per kind, contacts without one)
	KPIByChannelKind KPIDimension = "channel_kind" // email, sms, …: the funnel per channel kind
	KPIByCampaign    KPIDimension = "campaign"
)

// ParseKPIDimension validates a grouping name.
func ParseKPIDimension(s string) (KPIDimension, error) {
	switch d := KPIDimension(s); d {
	case KPIByChannel, KPIByChannelKind, KPIByCampaign:
		return d, nil
	case "kind":
		return KPIByChannelKind, nil
	}
	return "", fmt.Errorf("group KPIs by channel, channel_kind or campaign, not %q", s)
}

// KPIQuery asks for KPIs of the days From..To (UTC, inclusive).
type KPIQuery struct {
	From, To time.Time
	By       KPIDimension
}

// KPIRow is the figures of one channel or campaign (or the total). Counts
// are events, so a person opening twice counts twice.
//
//	Contacts        interactions "sent"
//	Delivered       "delivered" events; for channels that report none
//	                (post, phone), contacts minus bounces
//	Responses       clicked + replied + registered
//	Conversions     purchases attributed to this row's contacts
//	Revenue         their value (see the attribution rule above)
//	Cost            contact costs (the value of "sent" interactions); for
//	                a campaign the actual spend of its budget when booked
//	DeliveryRate    Delivered / Contacts
//	OpenRate        Opened / Delivered
//	ClickRate       Clicked / Delivered
//	ResponseRate    Responses / Contacts
//	ConversionRate  Conversions / Contacts
//	ROI             (Revenue − Cost) / Cost, absent without cost
//	CPA             Cost / Conversions, absent without conversions
type KPIRow struct {
	Label     string            `json:"label"`
	Channel   model.ChannelKind `json:"channel,omitempty"`
	ChannelID model.ChannelID   `json:"channel_id,omitempty"`
	Campaign  model.CampaignID  `json:"campaign,omitempty"`

	Contacts     int64 `json:"contacts"`
	Delivered    int64 `json:"delivered"`
	Bounced      int64 `json:"bounced"`
	Opened       int64 `json:"opened"`
	Clicked      int64 `json:"clicked"`
	Replied      int64 `json:"replied"`
	Registered   int64 `json:"registered"`
	Attended     int64 `json:"attended"`
	Unsubscribed int64 `json:"unsubscribed"`
	Responses    int64 `json:"responses"`
	// ReportedConversions are "converted" events the channel's software
	// reported, with their value; Conversions are attributed purchases.
	ReportedConversions int64       `json:"reported_conversions"`
	ReportedValue       model.Money `json:"reported_value"`
	Conversions         int64       `json:"conversions"`
	Revenue             model.Money `json:"revenue"`
	Cost                model.Money `json:"cost"`

	DeliveryRate   float64      `json:"delivery_rate"`
	OpenRate       float64      `json:"open_rate"`
	ClickRate      float64      `json:"click_rate"`
	ResponseRate   float64      `json:"response_rate"`
	ConversionRate float64      `json:"conversion_rate"`
	ROI            *float64     `json:"roi"`
	CPA            *model.Money `json:"cpa"`

	reportsDelivery bool
}

// KPIReport is a KPI table with its total.
type KPIReport struct {
	From  time.Time    `json:"from"`
	To    time.Time    `json:"to"`
	By    KPIDimension `json:"by"`
	Rows  []KPIRow     `json:"rows"`
	Total KPIRow       `json:"total"`
	// Revenue is every purchase of the period, Organic the part no contact
	// is credited with.
	Revenue   model.Money `json:"revenue"`
	Purchases int64       `json:"purchases"`
	Organic   model.Money `json:"organic"`
	// Attribution says which run the attributed figures come from (zero
	// when none ran yet).
	Attribution AttributionSummary `json:"attribution"`
}

func (k *KPIRow) add(o *KPIRow) {
	k.Contacts += o.Contacts
	k.Delivered += o.Delivered
	k.Bounced += o.Bounced
	k.Opened += o.Opened
	k.Clicked += o.Clicked
	k.Replied += o.Replied
	k.Registered += o.Registered
	k.Attended += o.Attended
	k.Unsubscribed += o.Unsubscribed
	k.ReportedConversions += o.ReportedConversions
	k.ReportedValue += o.ReportedValue
	k.Conversions += o.Conversions
	k.Revenue += o.Revenue
	k.Cost += o.Cost
	k.reportsDelivery = k.reportsDelivery || o.reportsDelivery
}

// finish computes the derived figures.
func (k *KPIRow) finish() {
	if !k.reportsDelivery {
		k.Delivered = max(0, k.Contacts-k.Bounced)
	}
	k.Responses = k.Clicked + k.Replied + k.Registered
	ratio := func(a, b int64) float64 {
		if b <= 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	k.DeliveryRate = ratio(k.Delivered, k.Contacts)
	k.OpenRate = ratio(k.Opened, k.Delivered)
	k.ClickRate = ratio(k.Clicked, k.Delivered)
	k.ResponseRate = ratio(k.Responses, k.Contacts)
	k.ConversionRate = ratio(k.Conversions, k.Contacts)
	k.ROI, k.CPA = nil, nil
	if k.Cost > 0 {
		roi := float64(k.Revenue-k.Cost) / float64(k.Cost)
		k.ROI = &roi
	}
	if k.Conversions > 0 {
		cpa := model.Money(math.Round(float64(k.Cost) / float64(k.Conversions)))
		k.CPA = &cpa
	}
}

type kpiKey struct {
	kind     model.ChannelKind
	channel  model.ChannelID
	campaign model.CampaignID
}

// KPIs computes the KPI table of a period from the rollups and the
// attribution table; it reads no raw events.
func (r *Reader) KPIs(q KPIQuery) (KPIReport, error) {
	rep := KPIReport{From: q.From.UTC(), To: q.To.UTC(), By: q.By}
	if q.By == "" {
		rep.By, q.By = KPIByChannel, KPIByChannel
	}
	if q.To.Before(q.From) {
		return rep, fmt.Errorf("KPIs: %s lies before %s", q.To.Format("2006-01-02"), q.From.Format("2006-01-02"))
	}
	from, to := DayOf(q.From), DayOf(q.To)
	group := func(kind model.ChannelKind, ch model.ChannelID, cm model.CampaignID) kpiKey {
		switch q.By {
		case KPIByChannelKind:
			return kpiKey{kind: kind}
		case KPIByCampaign:
			return kpiKey{campaign: cm}
		}
		return kpiKey{kind: kind, channel: ch}
	}
	rows := map[kpiKey]*KPIRow{}
	row := func(k kpiKey) *KPIRow {
		x := rows[k]
		if x == nil {
			x = &KPIRow{Channel: k.kind, ChannelID: k.channel, Campaign: k.campaign}
			rows[k] = x
		}
		return x
	}
	err := r.InteractionRollups(from, to, func(x InteractionRollup) error {
		k := group(x.Channel, x.ChannelID, x.Campaign)
		if q.By == KPIByCampaign && x.Campaign == 0 {
			return nil // contacts outside campaigns belong to no campaign row
		}
		w := row(k)
		switch x.Kind {
		case model.InteractionSent:
			w.Contacts += x.Count
			w.Cost += x.Value
		case model.InteractionDelivered:
			w.Delivered += x.Count
			w.reportsDelivery = true
		case model.InteractionBounced:
			w.Bounced += x.Count
		case model.InteractionOpened:
			w.Opened += x.Count
		case model.InteractionClicked:
			w.Clicked += x.Count
		case model.InteractionReplied:
			w.Replied += x.Count
		case model.InteractionConverted:
			w.ReportedConversions += x.Count
			w.ReportedValue += x.Value
		case model.InteractionRegistered:
			w.Registered += x.Count
		case model.InteractionAttended:
			w.Attended += x.Count
		case model.InteractionUnsubscribed:
			w.Unsubscribed += x.Count
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	err = r.attributionRows(from, to, func(kind model.ChannelKind, ch model.ChannelID, cm model.CampaignID, count int64, revenue model.Money) {
		if kind == "" {
			rep.Organic += revenue
			return
		}
		if q.By == KPIByCampaign && cm == 0 {
			return
		}
		w := row(group(kind, ch, cm))
		w.Conversions += count
		w.Revenue += revenue
	})
	if err != nil {
		return rep, err
	}
	if _, err := r.snapshot("attribution", &rep.Attribution); err != nil {
		return rep, err
	}
	pr, err := r.PurchaseRollups(from, to)
	if err != nil {
		return rep, err
	}
	for _, p := range pr {
		rep.Revenue += p.Revenue
		rep.Purchases += p.Count
	}
	names := map[model.ChannelID]string{}
	if q.By == KPIByChannel {
		chs, err := r.Channels()
		if err != nil {
			return rep, err
		}
		for _, c := range chs {
			names[c.ID] = c.Name
		}
	}
	for k, w := range rows {
		switch q.By {
		case KPIByChannelKind:
			w.Label = string(k.kind)
		case KPIByCampaign:
			c, err := r.Campaign(k.campaign)
			switch {
			case err == nil:
				w.Label = c.Name
				if spent := c.Spent(); spent > 0 {
					w.Cost = spent
				}
			case errors.Is(err, ErrNotFound):
				w.Label = fmt.Sprintf("campaign %d (deleted)", k.campaign)
			default:
				return rep, err
			}
		default:
			if n, ok := names[k.channel]; ok {
				w.Label = n
			} else {
				w.Label = fmt.Sprintf("%s (no channel)", k.kind)
			}
		}
		w.finish()
		rep.Total.add(w)
		rep.Rows = append(rep.Rows, *w)
	}
	rep.Total.Label = "total"
	rep.Total.finish()
	sort.Slice(rep.Rows, func(i, j int) bool {
		a, b := rep.Rows[i], rep.Rows[j]
		if a.Contacts != b.Contacts {
			return a.Contacts > b.Contacts
		}
		return a.Label < b.Label
	})
	return rep, nil
}

// MonthRevenue is the purchases of one calendar month (UTC).
type MonthRevenue struct {
	Month     model.YearMonth `json:"-"`
	Label     string          `json:"month"`
	Purchases int64           `json:"purchases"`
	Revenue   model.Money     `json:"revenue"`
}

// RevenueByMonth sums the purchase rollups per month, every month of the
// range included (zero when quiet).
func (r *Reader) RevenueByMonth(from, through model.YearMonth) ([]MonthRevenue, error) {
	if through < from || int(through-from) >= model.MaxCohortMonths {
		return nil, fmt.Errorf("revenue by month: %s..%s is not a range of at most %d months", from, through, model.MaxCohortMonths)
	}
	out := make([]MonthRevenue, int(through-from)+1)
	for i := range out {
		out[i].Month = from + model.YearMonth(i)
		out[i].Label = out[i].Month.String()
	}
	start := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(through.Year(), through.Month()+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	pr, err := r.PurchaseRollups(DayOf(start), DayOf(end))
	for _, p := range pr {
		m := model.YearMonthOf(p.Day.Time())
		if m >= from && m <= through {
			out[m-from].Purchases += p.Count
			out[m-from].Revenue += p.Revenue
		}
	}
	return out, err
}

// ---------------------------------------------------------------------------
// Attribution

// AttributionOptions configure an attribution run.
type AttributionOptions struct {
	// WindowDays is how long after a contact a purchase is credited to it;
	// default 30.
	WindowDays int
}

// AttributionSummary describes the latest attribution run.
type AttributionSummary struct {
	ComputedAt        time.Time   `json:"computed_at"`
	WindowDays        int         `json:"window_days"`
	Purchases         int64       `json:"purchases"`
	Attributed        int64       `json:"attributed"`
	Revenue           model.Money `json:"revenue"`
	AttributedRevenue model.Money `json:"attributed_revenue"`
}

// attributionKey: day(4) kind(1) channel(8) campaign(8); kind 0 is
// organic (no contact in the window).
func attributionKey(day Day, kind model.ChannelKind, ch model.ChannelID, cm model.CampaignID) []byte {
	k := make([]byte, 21)
	binary.BigEndian.PutUint32(k, uint32(day))
	k[4] = kind.Code()
	binary.BigEndian.PutUint64(k[5:], uint64(ch))
	binary.BigEndian.PutUint64(k[13:], uint64(cm))
	return k
}

func (r *Reader) attributionRows(from, to Day, fn func(kind model.ChannelKind, ch model.ChannelID, cm model.CampaignID, count int64, revenue model.Money)) error {
	b := r.tx.Bucket(bAttribution)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	start := make([]byte, 4)
	binary.BigEndian.PutUint32(start, uint32(from))
	for k, v := c.Seek(start); k != nil; k, v = c.Next() {
		if len(k) != 21 || len(v) != 16 {
			return fmt.Errorf("attribution row %x: %w", k, errCorrupt)
		}
		if Day(binary.BigEndian.Uint32(k)) > to {
			break
		}
		kind := model.ChannelKind("")
		if k[4] != 0 {
			kind = model.KindFromCode(k[4])
		}
		fn(kind, model.ChannelID(binary.BigEndian.Uint64(k[5:])), model.CampaignID(binary.BigEndian.Uint64(k[13:])),
			int64(binary.BigEndian.Uint64(v)), model.Money(int64(binary.BigEndian.Uint64(v[8:]))))
	}
	return nil
}

// sendPoint is one contact as attribution needs it.
type sendPoint struct {
	at       time.Time
	kind     model.ChannelKind
	channel  model.ChannelID
	campaign model.CampaignID
}

// RunAttribution rebuilds the attribution table from the raw interactions
// and purchases (one pass over each, in customer order).
func (s *Store) RunAttribution(ctx context.Context, by model.Actor, opt AttributionOptions) (AttributionSummary, error) {
	sum := AttributionSummary{WindowDays: opt.WindowDays}
	if err := by.Require(model.PermSeeAggregates, "run the revenue attribution"); err != nil {
		return sum, err
	}
	defer s.readAhead()() // it reads every interaction and purchase
	if sum.WindowDays <= 0 {
		sum.WindowDays = 30
	}
	window := time.Duration(sum.WindowDays) * 24 * time.Hour
	type acc struct{ count, revenue int64 }
	table := map[string]*acc{}
	sentCode := model.InteractionSent.Code()
	err := s.db.View(func(tx *bolt.Tx) error {
		ic := tx.Bucket(bInteractions).Cursor()
		pc := tx.Bucket(bPurchases).Cursor()
		ik, iv := ic.First()
		var sends []sendPoint
		var owner uint64
		var in model.Interaction
		var p model.Purchase
		n := 0
		for pk, pv := pc.First(); pk != nil; pk, pv = pc.Next() {
			if n++; n%100000 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := decodePurchase(pk, pv, &p); err != nil {
				return fmt.Errorf("purchase %x: %w", pk, err)
			}
			cid := uint64(p.CustomerID)
			if cid != owner {
				// The first purchase of this customer: collect their
				// contacts, skipping those of customers without purchases.
				sends, owner = sends[:0], cid
				for ik != nil && readU64(ik) <= cid {
					// The kind is the record's second byte (after the
					// version), so other interactions need no decoding.
					if readU64(ik) == cid && len(iv) > 1 && iv[1] == sentCode {
						if err := decodeInteraction(ik, iv, &in); err != nil {
							return fmt.Errorf("interaction %x: %w", ik, err)
						}
						sends = append(sends, sendPoint{at: in.At, kind: in.Channel, channel: in.ChannelID, campaign: in.CampaignID})
					}
					ik, iv = ic.Next()
				}
			}
			// The last contact at or before the purchase, within the window.
			i := sort.Search(len(sends), func(i int) bool { return sends[i].at.After(p.At) }) - 1
			key := attributionKey(DayOf(p.At), "", 0, 0)
			sum.Purchases++
			sum.Revenue += p.Amount
			if i >= 0 && p.At.Sub(sends[i].at) <= window {
				sp := sends[i]
				key = attributionKey(DayOf(p.At), sp.kind, sp.channel, sp.campaign)
				sum.Attributed++
				sum.AttributedRevenue += p.Amount
			}
			a := table[string(key)]
			if a == nil {
				a = &acc{}
				table[string(key)] = a
			}
			a.count++
			a.revenue += int64(p.Amount)
		}
		return nil
	})
	if err != nil {
		return sum, err
	}
	keys := make([]string, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	sum.ComputedAt = s.now()
	err = s.Update(by, func(t *Tx) error {
		if err := t.require(model.PermSeeAggregates, "store the attribution"); err != nil {
			return err
		}
		if t.tx.Bucket(bAttribution) != nil {
			if err := t.tx.DeleteBucket(bAttribution); err != nil {
				return err
			}
		}
		b, err := t.tx.CreateBucket(bAttribution)
		if err != nil {
			return err
		}
		b.FillPercent = 1
		for _, k := range keys {
			a := table[k]
			v := make([]byte, 16)
			binary.BigEndian.PutUint64(v, uint64(a.count))
			binary.BigEndian.PutUint64(v[8:], uint64(a.revenue))
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return t.putSnapshot("attribution", sum)
	})
	return sum, err
}

// ---------------------------------------------------------------------------
// The Warehouse box

// Dashboard is everything the Warehouse box shows, read in one short read
// transaction from counters, rollups and the latest analytics runs (no raw
// events): sources with their imports, KPI tiles and the KPI table per
// channel, the funnel per channel kind, revenue per month, and the latest
// RFM grid, CLV distribution, quality report and cohorts. The snapshots
// are nil until their first run.
type Dashboard struct {
	From, To        time.Time
	Customers       int64
	Purchases       int64
	Revenue         model.Money
	Interactions    int64
	ConsentEvents   int64
	OpenSuggestions int64
	Sources         []SourceSummary
	Channels        KPIReport      // KPIs per channel in From..To
	Funnel          KPIReport      // the same per channel kind
	Months          []MonthRevenue // the twelve months up to To
	RFM             *RFMSummary
	CLV             *CLVSummary
	CLVModel        *CLVFit
	Quality         *QualityOverview
	Cohorts         *CohortReport
}

// Dashboard reads the Warehouse box's figures for the days from..to.
func (r *Reader) Dashboard(from, to time.Time) (Dashboard, error) {
	d := Dashboard{From: from.UTC(), To: to.UTC()}
	if err := r.actor.Require(model.PermSeeAggregates, "see the warehouse"); err != nil {
		return d, err
	}
	d.Customers, d.Purchases, d.Revenue = r.Counter("customers"), r.Counter("purchases"), model.Money(r.Counter("revenue"))
	d.Interactions, d.ConsentEvents, d.OpenSuggestions = r.Counter("interactions"), r.Counter("consent_events"), r.OpenSuggestions()
	var err error
	if d.Sources, err = r.SourceSummaries(); err != nil {
		return d, err
	}
	if d.Channels, err = r.KPIs(KPIQuery{From: from, To: to, By: KPIByChannel}); err != nil {
		return d, err
	}
	if d.Funnel, err = r.KPIs(KPIQuery{From: from, To: to, By: KPIByChannelKind}); err != nil {
		return d, err
	}
	last := model.YearMonthOf(to.UTC())
	if d.Months, err = r.RevenueByMonth(last-11, last); err != nil {
		return d, err
	}
	var rfm RFMSummary
	var clv CLVSummary
	var q QualityOverview
	var co CohortReport
	if ok, err := r.snapshot("rfm", &rfm); err != nil {
		return d, err
	} else if ok {
		d.RFM = &rfm
	}
	if ok, err := r.snapshot("clv", &clv); err != nil {
		return d, err
	} else if ok {
		d.CLV = &clv
	}
	if fit, ok, err := r.CLVModel(); err != nil {
		return d, err
	} else if ok {
		d.CLVModel = &fit
	}
	if ok, err := r.snapshot("quality", &q); err != nil {
		return d, err
	} else if ok {
		d.Quality = &q
	}
	if ok, err := r.snapshot("cohorts", &co); err != nil {
		return d, err
	} else if ok {
		d.Cohorts = &co
	}
	return d, nil
}
