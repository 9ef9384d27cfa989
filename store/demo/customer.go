package demo

import (
	"slices"
	"strconv"
	"time"

	"karton/model"
)

// generator draws customers. It is read-only after construction, so any
// number of goroutines may call customer concurrently.
type generator struct {
	seed        uint64
	n           int
	asOf        time.Time
	migrationAt time.Time // the CRM migration weekend
	// noticeFrom is when the checkout started showing the objection notice
	// (UWG §7(3)); purchases before it lack the notice.
	noticeFrom time.Time
	tab        *tables
	p          *plan
	w          *world
}

func newGenerator(seed uint64, n int, asOf time.Time, w *world) *generator {
	mig := asOf.AddDate(0, -26, 0).Truncate(24 * time.Hour)
	for mig.Weekday() != time.Saturday {
		mig = mig.AddDate(0, 0, -1)
	}
	return &generator{
		seed: seed, n: n, asOf: asOf,
		migrationAt: mig.Add(20 * time.Hour),
		noticeFrom:  asOf.AddDate(0, -20, 0),
		tab:         newTables(asOf),
		p:           w.plan,
		w:           w,
	}
}

// Acquisition origins: how a customer came to the company.
const (
	acqShop = iota
	acqNewsletter
	acqSocial
	acqEvent
	acqStore
	acqCRM // the legacy CRM migration
	acqB2B // business contacts from sales
)

var acquisitionNames = [...]string{"shop", "newsletter-form", "social-lead-ad", "event", "store", "crm-migration", "sales"}

// stores are the company's shops; customers living in these cities buy
// there too.
var stores = map[string]string{
	"Hamburg": "Filiale Hamburg-Altona", "Berlin": "Filiale Berlin-Mitte", "München": "Filiale München-Schwabing",
	"Köln": "Filiale Köln-Ehrenfeld", "Leipzig": "Filiale Leipzig-Zentrum", "Frankfurt am Main": "Filiale Frankfurt-Bornheim",
}

// consentRec is a consent event waiting to be appended; purpose is an
// index into purposeDefs (-1 for objections).
type consentRec struct {
	ev       model.ConsentEvent
	purpose  int
	evidence model.Evidence
}

// participation is a customer on an event campaign's list; the writer
// admits registrations up to the campaign's capacity.
type participation struct {
	campaign     int
	step         int
	invitedAt    time.Time // personally invited (listed), or zero
	registeredAt time.Time // zero: not registered
	attendedAt   time.Time // zero: did not attend
	cancelled    bool      // registered, then cancelled
}

// custPlan is everything generated for one customer, ready to write.
type custPlan struct {
	idx            int
	c              model.Customer
	consents       []consentRec
	purchases      []model.Purchase
	interactions   []model.Interaction
	participations []participation
}

// buy is a purchase as the generator reasons about it.
type buy struct {
	at     time.Time
	amount model.Money
	pos    bool
	items  []model.PurchaseItem
	// emailCollected and notice: the email address was collected with
	// this sale and the objection notice was shown (UWG §7(3)).
	emailCollected bool
	notice         bool
}

// cust is the working state while one customer is drawn.
type cust struct {
	g         *generator
	r         rng
	idx       int
	plan      *custPlan
	c         *model.Customer
	id        identity
	created   time.Time
	origin    int
	mobile    bool
	homeStore string
	interest  int
	student   bool
	vip       bool
	dormant   bool // legacy subscriber who is never mailed: their consent goes stale
	// behaviour
	openRate   float64
	clickRate  float64
	nu         float64 // spend level of the gamma-gamma model
	emailDead  bool
	buys       []buy
	attended   bool
	complained bool
	// lastContact per channel kind code and purpose, for staleness.
	lastContact [9][numPurposes]time.Time
	// unsubs are the times of newsletter opt-outs by unsubscribe link.
	unsubs []time.Time
}

// customer draws customer idx. The result depends only on the seed, the
// index, N and AsOf.
func (g *generator) customer(idx int) custPlan {
	r := rng{newStream(g.seed, streamCustomer, uint64(idx))}
	cp := custPlan{idx: idx}
	k := &cust{g: g, r: r, idx: idx, plan: &cp, c: &cp.c}
	k.identity()
	k.drawPurchases()
	k.drawConsents()
	k.decideFlags()
	k.organic()
	k.campaigns()
	k.events()
	k.unsubscribeInteractions()
	k.finishPurchases()
	k.describe()
	slices.SortStableFunc(cp.consents, func(a, b consentRec) int { return a.ev.EffectiveAt.Compare(b.ev.EffectiveAt) })
	slices.SortStableFunc(cp.interactions, func(a, b model.Interaction) int { return a.At.Compare(b.At) })
	return cp
}

// identity draws who the customer is and how they can be reached.
func (k *cust) identity() {
	g, r, c := k.g, k.r, k.c
	var legacy bool
	k.created, legacy = g.createdAt(k.idx)
	c.CreatedAt = k.created
	business := false
	switch {
	case legacy:
		k.origin = acqCRM
		business = r.chance(0.10)
	case r.chance(0.07):
		k.origin = acqB2B
		business = true
	default:
		x := r.Float64()
		switch {
		case x < 0.62:
			k.origin = acqShop
		case x < 0.80:
			k.origin = acqNewsletter
		case x < 0.88:
			k.origin = acqSocial
		case x < 0.93:
			k.origin = acqEvent
		default:
			k.origin = acqStore
		}
	}
	k.id = g.drawIdentity(r, c, business)

	type presence struct{ email, phone, mobile, address float64 }
	pr := [...]presence{
		acqShop:       {1.0, 0.45, 0.75, 1.0},
		acqNewsletter: {1.0, 0.05, 0.9, 0.15},
		acqSocial:     {0.92, 0.4, 0.95, 0.1},
		acqEvent:      {0.95, 0.4, 0.8, 0.5},
		acqStore:      {0.6, 0.5, 0.6, 0.97},
		acqCRM:        {0.7, 0.65, 0.45, 0.97},
		acqB2B:        {0.97, 0.97, 0.3, 0.95},
	}[k.origin]
	var ct *city
	if r.chance(pr.address) {
		c.Address, ct = g.drawAddress(r)
		k.homeStore = stores[ct.name]
	} else if r.chance(0.5) {
		// No postal address, but they live somewhere: their region decides
		// the email provider and the phone number.
		_, ct = g.drawAddress(r)
	}
	country := "DE"
	if ct != nil && ct.country != "" {
		country = ct.country
	}
	if r.chance(pr.email) {
		c.Email = g.drawEmail(r, c, k.id, country)
	}
	if r.chance(pr.phone) {
		mobile := r.chance(pr.mobile)
		if k.id.age >= 65 && mobile && r.chance(0.4) {
			mobile = false // older customers more often give the landline
		}
		c.Phone = g.drawPhone(r, ct, mobile)
		k.mobile = mobile
	}
	k.interest = r.weighted(interestCum[:])
	k.student = !business && k.id.age >= 18 && k.id.age <= 27 && r.chance(0.3)
	k.openRate = r.beta(2.2, 4.8)
	k.clickRate = r.beta(1.5, 9)
}

var interestCum = [...]float64{0.38, 0.62, 0.86, 1.0} // garden, kitchen, home, outdoor
var interestNames = [...]string{"garten", "kueche", "wohnen", "outdoor"}

// drawPurchases simulates buying with a BG/NBD-like process: each
// customer buys at a Poisson rate drawn from a gamma distribution and may
// drop out after each purchase with a probability drawn from a beta
// distribution; order values follow a gamma-gamma spend model.
func (k *cust) drawPurchases() {
	g, r := k.g, k.r
	buyerP := [...]float64{acqShop: 1, acqNewsletter: 0.35, acqSocial: 0.25, acqEvent: 0.3, acqStore: 0.9, acqCRM: 0.7, acqB2B: 0.8}[k.origin]
	if !r.chance(buyerP) {
		return
	}
	first := k.created
	switch k.origin {
	case acqShop, acqStore:
		// The first order is the sign-up.
	default:
		first = k.created.Add(time.Duration(r.ExpFloat64() * 70 * 24 * float64(time.Hour)))
	}
	meanDays := 95.0
	if k.id.business {
		meanDays = 45
	}
	lambda := r.gamma(0.9, 1/meanDays/0.9) // purchases per day
	dropout := r.beta(1.1, 2.6)
	// Mean order value: gamma-gamma with p=6, q=4: E[z] = p·γ/(q−1).
	gamma := 30.0
	if k.id.business {
		gamma = 110
	}
	k.nu = r.gamma(4, 1/gamma)
	t := first
	for len(k.buys) < 60 && !t.After(g.asOf) {
		pos := k.homeStore != "" && r.chance(0.35)
		if k.origin == acqStore && len(k.buys) == 0 {
			pos = true
		}
		b := k.makeBuy(t, k.spend(), pos)
		if len(k.buys) == 0 && k.c.Email != "" {
			// The address came with the first sale: the shop's checkout
			// (and the store's e-receipt) collect it, and since noticeFrom
			// the checkout shows the objection notice.
			switch {
			case k.origin == acqShop:
				b.emailCollected = true
				b.notice = !t.Before(g.noticeFrom) || r.chance(0.3)
			case k.origin == acqStore && r.chance(0.5):
				b.emailCollected = true
				b.notice = r.chance(0.6)
			}
		}
		k.buys = append(k.buys, b)
		if r.chance(dropout) {
			break
		}
		gap := r.ExpFloat64() / lambda // days
		if gap > 3*365 {
			break // would come after AsOf anyway (and overflow a Duration)
		}
		if gap < 1 {
			gap = 1 + r.Float64()*3
		}
		day := t.Add(time.Duration(gap*24) * time.Hour).Truncate(24 * time.Hour)
		t = day.Add(r.clock(g.tab))
	}
}

// evidence helpers

func (k *cust) ip() string {
	r := k.r
	if r.chance(0.3) {
		p := pick(r, ipv6Prefixes) // two groups; six more make a full address
		return p + ":" + hex16(r) + ":" + hex16(r) + ":" + hex16(r) + ":" + hex16(r) + ":" + hex16(r) + ":" + hex16(r)
	}
	b := pick(r, ipv4Blocks)
	return strconv.Itoa(int(b[0])) + "." + strconv.Itoa(int(b[1])) + "." + strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(1+r.IntN(254))
}

const hexDigits = "0123456789abcdef"

func hex16(r rng) string {
	v := r.Uint32()
	b := [4]byte{hexDigits[v>>12&15], hexDigits[v>>8&15], hexDigits[v>>4&15], hexDigits[v&15]}
	s := string(b[:])
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

func hexN(r rng, n int) string {
	b := make([]byte, n)
	for i := 0; i < n; i += 16 {
		v := r.Uint64()
		for j := i; j < n && j < i+16; j++ {
			b[j] = hexDigits[v&15]
			v >>= 4
		}
	}
	return string(b)
}

// textVersion names the consent text in force at t (revised twice a
// year).
func textVersion(prefix string, t time.Time) string {
	h := "-01"
	if t.Month() >= time.July {
		h = "-07"
	}
	return prefix + "-" + strconv.Itoa(t.Year()) + h
}

// add appends a consent event; recorded zero means "at once".
func (k *cust) add(kind model.ConsentKind, ch model.ChannelKind, purpose int, eff, rec time.Time, source, actor, text string, ev model.Evidence) {
	if eff.After(k.g.asOf) {
		return
	}
	if rec.IsZero() || rec.Before(eff) {
		rec = eff
	}
	if rec.After(k.g.asOf) {
		rec = k.g.asOf
	}
	k.plan.consents = append(k.plan.consents, consentRec{
		ev: model.ConsentEvent{
			Kind: kind, Channel: ch, EffectiveAt: eff, RecordedAt: rec,
			Source: source, Actor: actor, TextVersion: text,
		},
		purpose: purpose, evidence: ev,
	})
}

// doi records a form opt-in with double opt-in for one or more purposes
// of a channel; it returns the confirmation time (zero if pending).
// imported is the recording time of events that came with the CRM
// migration.
func (k *cust) doi(ch model.ChannelKind, purposes []int, t0 time.Time, source, form string, confirmP float64, imported time.Time) time.Time {
	r := k.r
	ip, ua := k.ip(), pick(r, userAgents)
	prefix := "nl"
	switch {
	case ch == model.KindSMS:
		prefix = "sms"
	case purposes[0] == puSurveys:
		prefix = "survey"
	case purposes[0] == puEvents:
		prefix = "events"
	case purposes[0] == puOffers:
		prefix = "offers"
	}
	text := textVersion(prefix, t0)
	actor := "website"
	if !imported.IsZero() {
		actor = "import"
	}
	var confirmed time.Time
	if r.chance(confirmP) {
		confirmed = t0.Add(time.Minute + r.logNormalDur(4*time.Minute, 1.5))
		if r.chance(0.03) {
			confirmed = t0.Add(r.dur(20*time.Hour, 6*24*time.Hour)) // found it in the spam folder
		}
	}
	for _, pu := range purposes {
		in := model.Evidence{"ip": ip, "user_agent": ua, "form": form}
		if ch == model.KindEmail {
			in["page_url"] = shopURL + pageOf(form)
		}
		if !imported.IsZero() {
			in = model.Evidence{"legacy_system": "CAS genesisWorld", "legacy_record": "ADR-" + pad(100000+k.idx, 7), "form": form}
		}
		k.add(model.ConsentOptIn, ch, pu, t0, imported, source, actor, text, in)
		req := model.Evidence{"message_id": "<" + hexN(r, 24) + "@mailer.gartenglueck.example>"}
		if ch == model.KindSMS {
			req = model.Evidence{"gateway_message_id": "LM-" + hexN(r, 12)}
		}
		k.add(model.ConsentDOIRequested, ch, pu, t0.Add(time.Duration(2+r.IntN(25))*time.Second), imported, "doi-mailer", "karton", text, req)
		if !confirmed.IsZero() {
			conf := model.Evidence{"ip": ip, "user_agent": ua, "token_sha256": hexN(r, 64)}
			if ch == model.KindSMS {
				conf = model.Evidence{"sms_code_sha256": hexN(r, 64), "msisdn_verified": "true"}
			} else if r.chance(0.25) {
				conf["ip"] = k.ip() // confirmed on the phone after signing up on the laptop
			}
			src := "doi-link"
			if ch == model.KindSMS {
				src = "sms-code"
			}
			k.add(model.ConsentDOIConfirmed, ch, pu, confirmed, imported, src, actor, text, conf)
		}
	}
	return confirmed
}

func pageOf(form string) string {
	switch form {
	case "checkout":
		return "/checkout/bestaetigung"
	case "gewinnspiel":
		return "/gewinnspiel"
	case "event-anmeldung":
		return "/events"
	}
	return "/newsletter"
}

// withdraw maybe records an opt-out some time after t.
func (k *cust) withdraw(ch model.ChannelKind, purpose int, after time.Time, p, meanDays float64) {
	r := k.r
	if !r.chance(p) {
		return
	}
	at := after.Add(time.Duration(r.ExpFloat64() * meanDays * 24 * float64(time.Hour)))
	if at.After(k.g.asOf) {
		return
	}
	var rec time.Time
	source, actor := "unsubscribe-link", "website"
	var ev model.Evidence
	switch x := r.Float64(); {
	case ch == model.KindSMS:
		source, actor = "sms-keyword", "sms-gateway"
		ev = model.Evidence{"keyword": "STOP", "gateway_message_id": "LM-" + hexN(r, 12)}
	case ch == model.KindPhone:
		source, actor = "call-centre", "callcenter-nordwest"
		ev = model.Evidence{"call_recording": recordingRef(r, at), "agent": "CC-" + strconv.Itoa(100+r.IntN(60))}
	case ch == model.KindWeb:
		source, actor = "consent-banner", "website"
		ev = model.Evidence{"cmp": "Usercentrics", "consent_id": hexN(r, 32), "ip": k.ip()}
	case x < 0.68:
		ev = model.Evidence{"ip": k.ip(), "user_agent": pick(r, userAgents), "list_unsubscribe": "one-click"}
		if ch == model.KindEmail && purpose == puNewsletter {
			k.unsubs = append(k.unsubs, at)
		}
	case x < 0.82:
		// Unsubscribed in the newsletter tool; the nightly sync brought it
		// in a day or a week later.
		source, actor = "import:cleverreach-sync", "import"
		rec = at.Add(time.Duration(1+r.IntN(7)) * 24 * time.Hour)
		ev = model.Evidence{"sync_batch": "cr-" + at.Format("20060102")}
	case x < 0.93:
		source, actor = "email-reply", "olga"
		rec = at.Add(time.Duration(r.IntN(72)) * time.Hour)
		ev = model.Evidence{"message_id": "<" + hexN(r, 20) + "@" + "mail.example>"}
	default:
		// A letter: scanned and entered days later.
		source, actor = "letter", "olga"
		rec = at.Add(time.Duration(2+r.IntN(12)) * 24 * time.Hour)
		ev = model.Evidence{"scan_ref": "DMS-" + strconv.Itoa(at.Year()) + "-" + pad(r.IntN(99999), 5)}
	}
	k.add(model.ConsentOptOut, ch, purpose, at, rec, source, actor, textVersion(kindPrefix(ch), at), ev)
}

func kindPrefix(ch model.ChannelKind) string {
	switch ch {
	case model.KindSMS:
		return "sms"
	case model.KindPhone:
		return "phone"
	case model.KindWeb:
		return "web"
	case model.KindSocial:
		return "social"
	}
	return "nl"
}

func recordingRef(r rng, at time.Time) string {
	return "rec://callcenter-nordwest/" + at.Format("2006/01/02") + "/" + hexN(r, 10) + ".wav"
}

// drawConsents writes the customer's consent history: double opt-ins for
// email and SMS, phone opt-ins, B2B bases, parental consents, web and
// social opt-ins, withdrawals (some recorded late) and objections.
func (k *cust) drawConsents() {
	g, r, c := k.g, k.r, k.c
	hasEmail := c.Email != ""
	signup := k.created.Add(time.Duration(r.IntN(40)) * time.Second)

	// Email newsletter (and offers, surveys, events) by origin.
	if hasEmail {
		var imported time.Time
		p, confirmP := 0.0, 0.9
		form, source := "newsletter-footer", "form:newsletter-footer"
		t0 := signup
		switch k.origin {
		case acqNewsletter:
			p, confirmP = 0.97, 0.86
		case acqShop:
			p, form, source = 0.32, "checkout", "form:checkout"
		case acqSocial:
			p, confirmP, form, source = 0.45, 0.8, "gewinnspiel", "lead-ad:meta"
		case acqEvent:
			p, form, source = 0.35, "event-anmeldung", "event-registration"
		case acqStore:
			p, confirmP, form, source = 0.25, 0.85, "kundenkarte", "form:kundenkarte"
		case acqCRM:
			p, confirmP = 0.5, 0.95
			imported, source, form = k.created, "import:crm-legacy", "papier-anmeldung"
		case acqB2B:
			p = 0.25
		}
		subscribe := r.chance(p)
		if subscribe && k.origin == acqCRM {
			// Confirmed before the migration: most within the two years
			// before it; the dormant ones long before, and they are never
			// mailed again, so their consent goes stale.
			back := time.Duration(r.uniform(30, 650) * 24 * float64(time.Hour))
			if r.chance(0.3) {
				k.dormant = true
				back = time.Duration(r.uniform(850, 1700) * 24 * float64(time.Hour))
			}
			t0 = k.created.Add(-back)
		}
		if !subscribe && len(k.buys) > 0 && r.chance(0.12) {
			// Some join later, after a purchase.
			t0 = k.buys[0].at.Add(time.Duration(r.uniform(1, 200)*24) * time.Hour)
			subscribe, confirmP, imported = true, 0.85, time.Time{}
			source, form = "form:newsletter-footer", "newsletter-footer"
		}
		if subscribe && !t0.After(g.asOf) {
			purposes := []int{puNewsletter}
			if r.chance(0.38) {
				purposes = append(purposes, puOffers)
			}
			if r.chance(0.12) {
				purposes = append(purposes, puSurveys)
			}
			if k.origin == acqEvent && r.chance(0.85) || r.chance(0.15) {
				purposes = append(purposes, puEvents)
			}
			confirmed := k.doi(model.KindEmail, purposes, t0, source, form, confirmP, imported)
			switch {
			case confirmed.IsZero():
				k.dormant = false
			default:
				if !k.id.birth.IsZero() && k.id.birth.AgeAt(t0) < 16 && r.chance(0.5) {
					k.parental(t0, purposes)
				}
				if !k.dormant {
					for _, pu := range purposes {
						k.withdraw(model.KindEmail, pu, maxTime(confirmed, imported), 0.16, 320)
					}
				}
			}
		} else {
			k.dormant = false
		}
	}

	// SMS offers with double opt-in by code.
	if k.mobile && !k.id.business && r.chance(0.1) {
		t0 := signup.Add(time.Duration(r.uniform(0, 300)*24) * time.Hour)
		if len(k.buys) > 1 && r.chance(0.5) {
			t0 = k.buys[1].at.Add(10 * time.Minute)
		}
		if !t0.After(g.asOf) {
			if conf := k.doi(model.KindSMS, []int{puOffers}, t0, "form:sms-club", "sms-club", 0.85, time.Time{}); !conf.IsZero() {
				k.withdraw(model.KindSMS, puOffers, conf, 0.12, 250)
			}
		}
	}

	// Explicit phone opt-in (consumers): recorded by the call centre.
	if c.Phone != "" && !k.id.business && r.chance(0.06) {
		t0 := signup.Add(time.Duration(r.uniform(0, 400)*24) * time.Hour)
		if !t0.After(g.asOf) {
			k.add(model.ConsentOptIn, model.KindPhone, puOffers, t0, time.Time{}, "call-centre", "callcenter-nordwest", textVersion("phone", t0),
				model.Evidence{"call_recording": recordingRef(r, t0), "agent": "CC-" + strconv.Itoa(100+r.IntN(60)), "script": "einwilligung-telefon-v3"})
			if r.chance(0.3) {
				k.add(model.ConsentOptIn, model.KindPhone, puSurveys, t0, time.Time{}, "call-centre", "callcenter-nordwest", textVersion("phone", t0),
					model.Evidence{"call_recording": recordingRef(r, t0)})
			}
			k.withdraw(model.KindPhone, puOffers, t0, 0.1, 300)
		}
	}

	// Presumed consent of business contacts for phone (documented basis).
	if k.id.business && c.Phone != "" && r.chance(0.75) {
		t0 := k.created.Add(time.Duration(r.uniform(0.5, 30)*24) * time.Hour).Truncate(time.Hour).Add(9 * time.Hour)
		if !t0.After(g.asOf) {
			note := pick(r, b2bNotes)
			k.add(model.ConsentB2BBasis, model.KindPhone, puOffers, t0, time.Time{}, "operator", "markus", "b2b-basis-2024",
				model.Evidence{"basis_note": note, "documented_by": "markus", "crm_ref": "B2B-" + pad(10000+k.idx, 6)})
			if r.chance(0.25) {
				k.add(model.ConsentB2BBasis, model.KindPhone, puEvents, t0, time.Time{}, "operator", "markus", "b2b-basis-2024",
					model.Evidence{"basis_note": "Einladungen zu Fachmessen erwünscht (Gespräch auf der Messe)", "documented_by": "markus"})
			}
		}
	}

	// Web consent banner: profiling and on-site offers.
	online := hasEmail && k.origin != acqCRM && k.origin != acqStore
	if online && r.chance(0.34) {
		t0 := signup.Add(-time.Duration(r.IntN(600)) * time.Second)
		ev := model.Evidence{"cmp": "Usercentrics", "consent_id": hexN(r, 32), "ip": k.ip(), "user_agent": pick(r, userAgents)}
		k.add(model.ConsentOptIn, model.KindWeb, puProfiling, t0, time.Time{}, "consent-banner", "website", textVersion("web", t0), ev)
		if r.chance(0.65) {
			k.add(model.ConsentOptIn, model.KindWeb, puOffers, t0, time.Time{}, "consent-banner", "website", textVersion("web", t0), ev)
		}
		k.withdraw(model.KindWeb, puProfiling, t0, 0.12, 280)
	}

	// Social: lead ads and audience consent.
	if hasEmail && (k.origin == acqSocial || r.chance(0.035)) {
		t0 := signup
		if k.origin != acqSocial {
			t0 = signup.Add(time.Duration(r.uniform(0, 300)*24) * time.Hour)
		}
		if !t0.After(g.asOf) {
			k.add(model.ConsentOptIn, model.KindSocial, puOffers, t0, time.Time{}, "lead-ad:meta", "meta-leads", textVersion("social", t0),
				model.Evidence{"lead_id": strconv.FormatUint(r.Uint64()%1e15, 10), "form": "Gewinnspiel Hochbeet", "platform": "instagram"})
		}
	}

	// Objection under Art. 21 GDPR against all direct marketing.
	if r.chance(0.02) {
		// Some time after sign-up, up to today.
		at := k.created.Add(time.Duration(r.uniform(0.05, 1) * float64(g.asOf.Sub(k.created))))
		if !at.After(g.asOf) {
			var rec time.Time
			var ev model.Evidence
			source, actor := "letter", "olga"
			switch x := r.Float64(); {
			case x < 0.4:
				rec = at.Add(time.Duration(2+r.IntN(9)) * 24 * time.Hour)
				ev = model.Evidence{"scan_ref": "DMS-" + strconv.Itoa(at.Year()) + "-" + pad(r.IntN(99999), 5), "channel": "Brief"}
			case x < 0.8:
				source = "email"
				rec = at.Add(time.Duration(r.IntN(48)) * time.Hour)
				ev = model.Evidence{"message_id": "<" + hexN(r, 20) + "@mail.example>", "channel": "E-Mail an datenschutz@"}
			default:
				source, actor = "call-centre", "callcenter-nordwest"
				ev = model.Evidence{"call_recording": recordingRef(r, at), "channel": "Telefon"}
			}
			k.add(model.ConsentObjection, "", -1, at, rec, source, actor, "art21-2024", ev)
			// A few come back and subscribe again (a fresh explicit opt-in).
			if hasEmail && r.chance(0.1) {
				again := at.Add(time.Duration(r.uniform(60, 300)*24) * time.Hour)
				if !again.After(g.asOf) {
					k.doi(model.KindEmail, []int{puNewsletter}, again, "form:newsletter-footer", "newsletter-footer", 0.9, time.Time{})
				}
			}
		}
	}
}

var b2bNotes = []string{
	"Bestandskunde (Gewerbe), regelmäßige Bestellungen Gastronomiebedarf",
	"Ansprechpartner Einkauf, mutmaßliches Interesse an Terrassenausstattung",
	"Rahmenvertrag Hotelbedarf, telefonische Betreuung vereinbart",
	"Landschaftsbaubetrieb, bezieht Pflanzgefäße und Werkzeug",
	"Büroausstattung, Geschäftsführung wünscht Angebote telefonisch",
}

// parental records the parents' consent for a minor's subscription.
func (k *cust) parental(t0 time.Time, purposes []int) {
	r := k.r
	at := t0.Add(time.Duration(r.uniform(1, 12)*24) * time.Hour).Truncate(time.Hour).Add(10 * time.Hour)
	parent := pick(r, germanFemaleMid) + " " + k.c.LastName
	if r.chance(0.4) {
		parent = pick(r, germanMaleMid) + " " + k.c.LastName
	}
	for _, pu := range purposes {
		k.add(model.ConsentParental, model.KindEmail, pu, at, time.Time{}, "form:eltern-einwilligung", "olga", textVersion("parental", at),
			model.Evidence{"parent_name": parent, "document_ref": "DMS-" + strconv.Itoa(at.Year()) + "-" + pad(r.IntN(99999), 5), "form": "eltern-einwilligung"})
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// decideFlags derives VIP status (used by segments) from the purchases.
func (k *cust) decideFlags() {
	var total model.Money
	for _, b := range k.buys {
		total += b.amount
	}
	k.vip = total >= 100000 || k.r.chance(0.01)
}
