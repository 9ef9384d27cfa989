package demo

import (
	"math"
	"strconv"
	"time"

	"karton/model"
)

// poisson draws a Poisson count (Knuth; the means here are small).
func (r rng) poisson(mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		return int(math.Max(0, math.Round(mean+math.Sqrt(mean)*r.NormFloat64())))
	}
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// ia appends an interaction on channel ch (index into channelDefs),
// linked to launched step si when si >= 0. Times after AsOf have not
// happened yet and are dropped.
func (k *cust) ia(kind model.InteractionKind, ch int, at time.Time, si int, value model.Money, note string) bool {
	if at.After(k.g.asOf) {
		return false
	}
	w := k.g.w
	in := model.Interaction{Kind: kind, Channel: w.channels[ch].Kind, ChannelID: w.channels[ch].ID, At: at, Value: value, Note: note}
	if si >= 0 {
		in.CampaignID = w.campaignID[k.g.p.steps[si].campaign]
		in.StepID = w.stepID[si]
	}
	k.plan.interactions = append(k.plan.interactions, in)
	return true
}

// organic draws what happens without a campaign: visits to the shop
// (before online orders and in between), calls and chats.
func (k *cust) organic() {
	g, r, c := k.g, k.r, k.c
	online := c.Email != "" && k.origin != acqStore
	years := g.asOf.Sub(k.created).Hours() / (24 * 365)
	for _, b := range k.buys {
		if b.pos {
			continue
		}
		for n := 1 + r.IntN(3); n > 0; n-- {
			k.ia(model.InteractionVisit, chWeb, b.at.Add(-r.dur(time.Minute, 36*time.Hour)), -1, 0, pick(r, visitPages))
		}
		if r.chance(0.03) {
			note := pick(r, inboundCallNotes)
			k.complained = k.complained || note[:4] == "Rekl"
			in := model.Interaction{Kind: model.InteractionCall, Channel: model.KindPhone, At: b.at.Add(r.dur(24*time.Hour, 9*24*time.Hour)), Note: note}
			if !in.At.After(g.asOf) {
				k.plan.interactions = append(k.plan.interactions, in) // inbound: no channel id
			}
		}
		if r.chance(0.04) {
			k.ia(model.InteractionChat, chWeb, b.at.Add(-r.dur(time.Minute, 3*time.Hour)), -1, 0, pick(r, chatNotes))
		}
	}
	if online {
		engagement := r.gamma(0.8, 1/0.8)
		for n := r.poisson(engagement * 1.9 * years); n > 0; n-- {
			k.ia(model.InteractionVisit, chWeb, k.randomTime(), -1, 0, pick(r, visitPages))
		}
		for n := r.poisson(0.05 * years); n > 0; n-- {
			k.ia(model.InteractionChat, chWeb, k.randomTime(), -1, 0, pick(r, chatNotes))
		}
	}
	for n := r.poisson(0.1 * years); n > 0; n-- {
		note := pick(r, inboundCallNotes)
		k.complained = k.complained || note[:4] == "Rekl"
		k.plan.interactions = append(k.plan.interactions, model.Interaction{Kind: model.InteractionCall, Channel: model.KindPhone, At: k.randomTime(), Note: note})
	}
	// The migration brought the last send of the old newsletter tool, so
	// the imported consents count as used (rule 8).
	if k.origin == acqCRM && !k.dormant && k.hasConfirmed(model.KindEmail, puNewsletter) {
		at := g.migrationAt.Add(-r.dur(3*24*time.Hour, 25*24*time.Hour))
		in := model.Interaction{Kind: model.InteractionSent, Channel: model.KindEmail, ChannelID: g.w.channels[chNewsletter].ID, At: at, Note: "Import: letzter Versand aus dem Altsystem"}
		k.plan.interactions = append(k.plan.interactions, in)
		k.lastContact[model.KindEmail.Code()][puNewsletter] = at
	}
}

// randomTime is a time between sign-up and AsOf at a plausible hour.
func (k *cust) randomTime() time.Time {
	span := k.g.asOf.Sub(k.created)
	if span <= 0 {
		return k.created
	}
	t := k.created.Add(time.Duration(k.r.Int64N(int64(span)))).Truncate(24 * time.Hour).Add(k.r.clock(k.g.tab))
	if t.Before(k.created) {
		t = k.created.Add(time.Minute)
	}
	if t.After(k.g.asOf) {
		t = k.g.asOf.Add(-time.Minute)
	}
	return t
}

func (k *cust) hasConfirmed(ch model.ChannelKind, pu int) bool {
	for i := range k.plan.consents {
		e := &k.plan.consents[i].ev
		if e.Kind == model.ConsentDOIConfirmed && e.Channel == ch && k.plan.consents[i].purpose == pu {
			return true
		}
	}
	return false
}

// audience mirrors the step's segment at time t, as the segment would
// have selected the customer then.
func (k *cust) audience(seg int, t time.Time) bool {
	c := k.c
	switch seg {
	case sgNewsletter:
		return true // the consent check below decides
	case sgVIPBerlin:
		return k.vip && c.Address.City == "Berlin"
	case sgLapsed:
		last, n := k.lastBuyBefore(t)
		return n > 0 && t.Sub(last) >= 180*24*time.Hour
	case sgBusiness:
		return k.id.business
	case sgYoungAdults:
		if k.id.birth.IsZero() {
			return false
		}
		a := k.id.birth.AgeAt(t)
		return a >= 18 && a <= 25
	case sgChampions:
		n, rev := 0, model.Money(0)
		for _, b := range k.buys {
			if b.at.Before(t) && t.Sub(b.at) < 365*24*time.Hour {
				n++
				rev += b.amount
			}
		}
		return n >= 3 || (n >= 2 && rev >= 30000)
	case sgGarden:
		return k.interest == 0
	case sgNorth:
		return c.Address.Country == "DE" && len(c.Address.PostalCode) > 0 && c.Address.PostalCode[0] == '2'
	case sgBavaria:
		return c.Address.Country == "DE" && len(c.Address.PostalCode) > 0 && c.Address.PostalCode[0] == '8'
	case sgHighValue:
		var rev model.Money
		for _, b := range k.buys {
			if b.at.Before(t) {
				rev += b.amount
			}
		}
		return rev >= 50000
	case sgDACH:
		switch c.Address.Country {
		case "DE", "AT", "CH":
			return true
		}
		return false
	case sgStudents:
		return k.student
	case sgEventGuests:
		return k.attended
	case sgRecentBuyers:
		last, n := k.lastBuyBefore(t)
		return n > 0 && t.Sub(last) <= 365*24*time.Hour
	}
	return false
}

func (k *cust) lastBuyBefore(t time.Time) (time.Time, int) {
	var last time.Time
	n := 0
	for _, b := range k.buys {
		if b.at.Before(t) {
			n++
			if b.at.After(last) {
				last = b.at
			}
		}
	}
	return last, n
}

// eligible applies the consent rules of PRODUCT.md §2 to the customer's
// history as known at t, so that the demo only ever contacts people the
// consent engine would have allowed.
func (k *cust) eligible(s *stepDef, t time.Time) bool {
	c := k.c
	kind := k.g.w.channels[s.channel].Kind
	// Rule 2: contact point.
	switch kind {
	case model.KindEmail:
		if c.Email == "" || k.emailDead {
			return false
		}
	case model.KindSMS, model.KindMessenger:
		if !k.mobile {
			return false
		}
	case model.KindPhone:
		if c.Phone == "" {
			return false
		}
	case model.KindPostal:
		if !c.Address.Complete() {
			return false
		}
	case model.KindSocial:
		if c.Email == "" && c.Phone == "" {
			return false
		}
	}
	if s.service {
		return true // rule 3
	}
	var objection, optIn, optOut, confirmed, parental, b2b, profiling, profilingOut *model.ConsentEvent
	later := func(a, b *model.ConsentEvent) bool { return b == nil || a.EffectiveAt.After(b.EffectiveAt) }
	for i := range k.plan.consents {
		cr := &k.plan.consents[i]
		e := &cr.ev
		if e.EffectiveAt.After(t) || e.RecordedAt.After(t) {
			continue
		}
		scope := e.Channel == kind && cr.purpose == s.purpose
		switch e.Kind {
		case model.ConsentObjection:
			if later(e, objection) {
				objection = e
			}
		case model.ConsentOptIn:
			if scope && later(e, optIn) {
				optIn = e
			}
			if cr.purpose == puProfiling && later(e, profiling) {
				profiling = e
			}
		case model.ConsentOptOut:
			if scope && later(e, optOut) {
				optOut = e
			}
			if cr.purpose == puProfiling && later(e, profilingOut) {
				profilingOut = e
			}
		case model.ConsentDOIConfirmed:
			if scope && later(e, confirmed) {
				confirmed = e
			}
		case model.ConsentParental:
			if e.Channel == kind && cr.purpose == s.purpose {
				parental = e
			}
		case model.ConsentB2BBasis:
			if e.Channel == model.KindPhone && cr.purpose == s.purpose {
				b2b = e
			}
		}
	}
	// Rule 4: objection, unless a later opt-in of this scope.
	if objection != nil && (optIn == nil || !optIn.EffectiveAt.After(objection.EffectiveAt)) {
		return false
	}
	// Rule 5: withdrawn.
	if optOut != nil && (optIn == nil || !optIn.EffectiveAt.After(optOut.EffectiveAt)) {
		return false
	}
	// Rule 6: minors need their parents' consent.
	if !k.id.birth.IsZero() && k.id.birth.AgeAt(t) < 16 && parental == nil {
		return false
	}
	// Rule 7: profiling data needs a profiling consent.
	if s.profiling {
		if profiling == nil || (profilingOut != nil && !profiling.EffectiveAt.After(profilingOut.EffectiveAt)) ||
			(objection != nil && !profiling.EffectiveAt.After(objection.EffectiveAt)) {
			return false
		}
	}
	if kind.Electronic() {
		if confirmed != nil && (optOut == nil || confirmed.EffectiveAt.After(optOut.EffectiveAt)) &&
			(objection == nil || confirmed.EffectiveAt.After(objection.EffectiveAt)) {
			// Rule 8: stale when old and unused since.
			boundary := t.AddDate(0, -staleMonths, 0)
			last := k.lastContact[kind.Code()][s.purpose]
			if confirmed.EffectiveAt.Before(boundary) && last.Before(boundary) {
				return false
			}
			return true // rule 9
		}
		if optIn != nil {
			return false // rule 10: pending DOI
		}
	}
	switch kind {
	case model.KindEmail:
		// Rule 11: existing customer, own similar products, notice given.
		if !s.ownSimilar || !s.notice {
			return false
		}
		for _, b := range k.buys {
			if b.emailCollected && b.notice && b.at.Before(t) {
				return true
			}
		}
		return false
	case model.KindPhone:
		if k.id.business {
			return b2b != nil // rule 13
		}
		return optIn != nil // rule 12
	case model.KindPostal:
		return true // rule 14
	case model.KindWeb, model.KindSocial:
		return optIn != nil // rule 15
	}
	return false
}

// staleMonths is the default stale window (model.DefaultSettings).
const staleMonths = 24

// campaigns lets the customer experience every launched step in time
// order: audience, consent, reach, then the response funnel.
func (k *cust) campaigns() {
	g, r := k.g, k.r
	p := g.p
	for _, si := range p.launched {
		s := &p.steps[si]
		if !k.created.Before(s.at) || !k.audience(s.segment, s.at) {
			continue
		}
		if !r.chance(s.reach) || !k.eligible(s, s.at) {
			continue
		}
		if s.segment == sgNewsletter && k.dormant {
			continue
		}
		k.contact(si, s)
	}
}

// contact draws the funnel of one contact.
func (k *cust) contact(si int, s *stepDef) {
	g, r := k.g, k.r
	ch := g.w.channels[s.channel]
	cost := ch.CostPerContact
	t := s.at.Add(r.dur(0, 90*time.Minute))
	if !k.ia(model.InteractionSent, s.channel, t, si, cost, "") {
		return
	}
	k.lastContact[ch.Kind.Code()][s.purpose] = t
	switch ch.Kind {
	case model.KindEmail:
		switch x := r.Float64(); {
		case x < 0.005:
			k.ia(model.InteractionBounced, s.channel, t.Add(r.dur(time.Second, time.Minute)), si, 0, pick(r, hardBounces))
			k.emailDead = true
			return
		case x < 0.02:
			k.ia(model.InteractionBounced, s.channel, t.Add(r.dur(time.Minute, 4*time.Hour)), si, 0, pick(r, softBounces))
			return
		}
		k.ia(model.InteractionDelivered, s.channel, t.Add(r.dur(time.Second, 40*time.Second)), si, 0, "")
		if !r.chance(k.openRate) {
			return
		}
		opened := t.Add(r.logNormalDur(3*time.Hour, 1.4))
		if opened.Sub(t) > 10*24*time.Hour {
			opened = t.Add(r.dur(time.Hour, 10*24*time.Hour))
		}
		if !k.ia(model.InteractionOpened, s.channel, opened, si, 0, "") {
			return
		}
		if r.chance(0.004) {
			k.ia(model.InteractionReplied, s.channel, opened.Add(r.dur(time.Minute, 3*time.Hour)), si, 0, pick(r, replyNotes))
		}
		if !s.eventAt.IsZero() && k.vip {
			k.invite(s.campaign, si, t) // best customers are on the list by name
		}
		registered := false
		if !s.eventAt.IsZero() && r.chance(0.15) {
			registered = k.register(si, s, opened.Add(r.dur(time.Minute, 20*time.Minute)))
		}
		if !r.chance(k.clickRate * 1.2) {
			return
		}
		clicked := opened.Add(r.dur(5*time.Second, 4*time.Minute))
		if !k.ia(model.InteractionClicked, s.channel, clicked, si, 0, "") {
			return
		}
		if !s.eventAt.IsZero() {
			if !registered && r.chance(0.55) {
				k.register(si, s, clicked.Add(r.dur(time.Minute, 15*time.Minute)))
			}
			return
		}
		if r.chance(0.12) {
			k.convert(si, s.channel, clicked.Add(r.logNormalDur(15*time.Minute, 1.2)), false)
		}
	case model.KindSMS:
		if r.chance(0.012) {
			k.ia(model.InteractionBounced, s.channel, t.Add(r.dur(time.Second, time.Minute)), si, 0, "Zustellung fehlgeschlagen: Rufnummer nicht erreichbar")
			return
		}
		k.ia(model.InteractionDelivered, s.channel, t.Add(r.dur(time.Second, 20*time.Second)), si, 0, "")
		if s.service || !r.chance(0.07) {
			return
		}
		clicked := t.Add(r.logNormalDur(12*time.Minute, 1.5))
		if k.ia(model.InteractionClicked, s.channel, clicked, si, 0, "") && r.chance(0.12) {
			k.convert(si, s.channel, clicked.Add(r.logNormalDur(10*time.Minute, 1)), false)
		}
	case model.KindPostal:
		if r.chance(0.03) {
			k.convert(si, s.channel, t.Add(r.dur(2*24*time.Hour, 21*24*time.Hour)), k.homeStore != "" && r.chance(0.4))
		}
	case model.KindPhone:
		call := t.Add(r.dur(0, 8*24*time.Hour)).Truncate(24 * time.Hour).Add(time.Duration(9+r.IntN(9))*time.Hour + r.dur(0, time.Hour))
		note := pick(r, outboundCallNotes)
		k.ia(model.InteractionCall, s.channel, call, si, 0, note)
		if note == "Erreicht: Bestellung aufgenommen" || (note[:8] == "Erreicht" && r.chance(0.08)) {
			k.convert(si, s.channel, call.Add(r.dur(time.Minute, 15*time.Minute)), false)
		}
	case model.KindSocial:
		if r.chance(0.018) {
			clicked := t.Add(r.dur(time.Hour, 7*24*time.Hour))
			if k.ia(model.InteractionClicked, s.channel, clicked, si, 0, "") && r.chance(0.12) {
				k.convert(si, s.channel, clicked.Add(r.logNormalDur(8*time.Minute, 1)), false)
			}
		}
	case model.KindWeb:
		if !r.chance(0.45) {
			return
		}
		visit := t.Add(r.dur(time.Hour, 25*24*time.Hour))
		if !k.ia(model.InteractionVisit, s.channel, visit, si, 0, "Empfehlung angezeigt") || !r.chance(0.1) {
			return
		}
		clicked := visit.Add(r.dur(5*time.Second, 3*time.Minute))
		if k.ia(model.InteractionClicked, s.channel, clicked, si, 0, "") && r.chance(0.15) {
			k.convert(si, s.channel, clicked.Add(r.logNormalDur(6*time.Minute, 1)), false)
		}
	}
}

// register signs the customer up for the step's event.
func (k *cust) register(si int, s *stepDef, at time.Time) bool {
	return k.registerFor(s.campaign, si, s.eventAt, at)
}

// registerFor signs the customer up for an event (si < 0: on their own,
// not from an invitation) and, if it took place, lets them attend. The
// writer admits registrations up to the event's capacity.
func (k *cust) registerFor(ci, si int, eventAt, at time.Time) bool {
	if at.After(k.g.asOf) || !at.Before(eventAt) {
		return false
	}
	var pa *participation
	for i := range k.plan.participations {
		if o := &k.plan.participations[i]; o.campaign == ci {
			if !o.registeredAt.IsZero() {
				return true // one place per event
			}
			pa = o // personally invited, now registered
		}
	}
	if pa == nil {
		k.plan.participations = append(k.plan.participations, participation{campaign: ci, step: si})
		pa = &k.plan.participations[len(k.plan.participations)-1]
	}
	pa.registeredAt = at
	c := k.g.p.campaigns[ci]
	attendP := 0.72
	if c.capacity >= 500 {
		attendP = 0.45 // webinars: many register, fewer join
	}
	switch {
	case c.status == model.StatusCancelled || eventAt.After(k.g.asOf):
	case k.r.chance(0.05):
		pa.cancelled = true // could not come after all, and said so
	case k.r.chance(attendP):
		pa.attendedAt = eventAt.Add(k.r.dur(-15*time.Minute, 40*time.Minute))
		k.attended = true
	}
	return true
}

// invite puts the customer on an event's list by name.
func (k *cust) invite(ci, si int, at time.Time) {
	for _, o := range k.plan.participations {
		if o.campaign == ci {
			return
		}
	}
	k.plan.participations = append(k.plan.participations, participation{campaign: ci, step: si, invitedAt: at})
}

// segmentShare is roughly the share of all customers a segment selects;
// it scales sign-ups so that events fill up to about their capacity
// whatever the size of the data set.
var segmentShare = [numSegments]float64{
	sgNorth: 0.11, sgGarden: 0.36, sgChampions: 0.06, sgEventGuests: 0.01, sgVIPBerlin: 0.003,
}

// events lets customers sign up for events on their own — on the website,
// from a newsletter teaser, told by a friend — besides answering an
// invitation.
func (k *cust) events() {
	g, r := k.g, k.r
	for ci := range g.p.campaigns {
		cd := &g.p.campaigns[ci]
		if cd.eventStep < 0 || k.c.Email == "" {
			continue
		}
		s := &g.p.steps[cd.eventStep]
		opens := s.eventAt.AddDate(0, 0, -35)
		if !k.created.Before(opens) || !k.audience(s.segment, opens) {
			continue
		}
		share := max(segmentShare[s.segment], 0.01)
		if !r.chance(min(0.2, 0.8*float64(cd.capacity)/(float64(g.n)*share))) {
			continue
		}
		k.registerFor(ci, -1, s.eventAt, s.eventAt.Add(-r.dur(24*time.Hour, 30*24*time.Hour)))
	}
}

// convert records a purchase caused by a contact and the conversion.
func (k *cust) convert(si, ch int, at time.Time, pos bool) {
	if at.After(k.g.asOf) || len(k.buys) >= maxPurchases {
		return
	}
	b := k.makeBuy(at, k.spend(), pos)
	k.buys = append(k.buys, b)
	k.ia(model.InteractionConverted, ch, at, si, b.amount, "Bestellung über Kampagne")
}

// maxPurchases bounds one customer's orders (order numbers reserve 64).
const maxPurchases = 64

// spend draws an order value in euros from the customer's spend level.
func (k *cust) spend() float64 {
	return k.r.gamma(6, 1/k.nu)
}

// makeBuy fills an order with catalogue items that come to about target
// euros, seasonal and matching the customer's interest.
func (k *cust) makeBuy(at time.Time, target float64, pos bool) buy {
	r, g := k.r, k.g
	month := at.Month() - 1
	var w [numCategories]float64
	total := 0.0
	for c := range w {
		w[c] = categorySeason[c][month]
		if c == k.interest || (k.interest == 0 && c == catGarden) || (k.interest == 1 && c == catKitchen) || (k.interest == 2 && c == catHome) || (k.interest == 3 && c == catOutdoor) {
			w[c] *= 3
		}
		total += w[c]
	}
	b := buy{at: at, pos: pos}
	var sum model.Money
	targetC := model.Money(target * 100)
	for len(b.items) < 6 && (len(b.items) == 0 || sum < targetC*8/10) {
		x := r.Float64() * total
		cat := 0
		for cat < numCategories-1 && x >= w[cat] {
			x -= w[cat]
			cat++
		}
		pr := products[pick(r, g.tab.byCategory[cat])]
		if len(b.items) > 0 && sum+pr.price > targetC*13/10 {
			break
		}
		q := 1
		if x := r.Float64(); x < 0.12 {
			q = 2
		} else if x < 0.16 {
			q = 3 + r.IntN(2)
		}
		if k.id.business && r.chance(0.5) {
			q *= 2 + r.IntN(5) // trade buys in quantities
		}
		dup := false
		for i := range b.items {
			if b.items[i].SKU == pr.sku {
				b.items[i].Quantity += q
				dup = true
			}
		}
		if !dup {
			b.items = append(b.items, model.PurchaseItem{SKU: pr.sku, Name: pr.name, Quantity: q, UnitPrice: pr.price})
		}
		sum += model.Money(q) * pr.price
	}
	if !pos && sum < freeShippingFrom {
		ship := shippingStandard
		if r.chance(0.1) {
			ship = shippingExpress
		}
		b.items = append(b.items, model.PurchaseItem{SKU: ship.sku, Name: ship.name, Quantity: 1, UnitPrice: ship.price})
		sum += ship.price
	}
	b.amount = sum
	return b
}

// unsubscribeInteractions adds the "unsubscribed" clicks that go with
// opt-outs through the unsubscribe link, linked to the mail that carried
// the link when it came recently.
func (k *cust) unsubscribeInteractions() {
	for _, at := range k.unsubs {
		si := -1
		// The newest newsletter send before the click.
		for _, x := range k.g.p.launched {
			s := &k.g.p.steps[x]
			if s.channel == chNewsletter && s.at.Before(at) && at.Sub(s.at) < 45*24*time.Hour && k.wasSent(x) {
				si = x
			}
		}
		k.ia(model.InteractionUnsubscribed, chNewsletter, at, si, 0, "Abmeldung über Link im Newsletter")
	}
}

func (k *cust) wasSent(si int) bool {
	id := k.g.w.stepID[si]
	for i := range k.plan.interactions {
		if in := &k.plan.interactions[i]; in.StepID == id && in.Kind == model.InteractionSent {
			return true
		}
	}
	return false
}

// finishPurchases turns the buys into orders with numbers, sources and the
// existing-customer flags.
func (k *cust) finishPurchases() {
	// Conversions were appended after the base purchases; number in time
	// order.
	bs := k.buys
	for i := 1; i < len(bs); i++ {
		for j := i; j > 0 && bs[j].at.Before(bs[j-1].at); j-- {
			bs[j], bs[j-1] = bs[j-1], bs[j]
		}
	}
	for i, b := range bs {
		p := model.Purchase{At: b.at, Amount: b.amount, Currency: model.DefaultCurrency, Items: b.items,
			EmailCollected: b.emailCollected, ObjectionNotice: b.notice}
		n := int64(k.idx)*maxPurchases + int64(i)
		if b.pos {
			p.Source = "pos"
			p.OrderID = "B" + strconv.FormatInt(200000000+n, 10)
		} else {
			p.Source = "shop"
			p.OrderID = strconv.FormatInt(100000000+n, 10)
		}
		k.plan.purchases = append(k.plan.purchases, p)
	}
}

// describe derives tags, attributes, preferences and source ids.
func (k *cust) describe() {
	r, c := k.r, k.c
	var revenue model.Money
	for _, b := range k.buys {
		revenue += b.amount
	}
	if k.currentlySubscribed() {
		c.Tags = append(c.Tags, "newsletter")
	}
	if k.vip {
		c.Tags = append(c.Tags, "vip")
	}
	if k.id.business {
		c.Tags = append(c.Tags, "b2b")
		if revenue >= 200000 {
			c.Tags = append(c.Tags, "wholesale")
		}
	}
	if k.student {
		c.Tags = append(c.Tags, "student")
	}
	if k.attended {
		c.Tags = append(c.Tags, "event-guest")
	}
	if k.origin == acqStore || (k.homeStore != "" && r.chance(0.15)) {
		c.Tags = append(c.Tags, "loyalty-card")
	}
	if k.origin == acqShop && r.chance(0.1) {
		c.Tags = append(c.Tags, "app-user")
	}
	if k.complained {
		c.Tags = append(c.Tags, "complaint")
	}
	if len(k.buys) >= 5 {
		c.Tags = append(c.Tags, "regular")
	}

	c.Attributes = map[string]string{
		"acquisition": acquisitionNames[k.origin],
		"interest":    interestNames[k.interest],
	}
	since := k.created.Year()
	if k.origin == acqCRM {
		since = k.created.Year() - 1 - r.IntN(12)
	}
	c.Attributes["customer_since"] = strconv.Itoa(since)
	if len(k.buys) > 0 {
		tier := "bronze"
		switch {
		case revenue >= 150000:
			tier = "platinum"
		case revenue >= 50000:
			tier = "gold"
		case revenue >= 10000:
			tier = "silver"
		}
		c.Attributes["loyalty_tier"] = tier
	}
	if k.id.jobTitle != "" {
		c.Attributes["job_title"] = k.id.jobTitle
	}
	if k.homeStore != "" {
		c.Attributes["home_store"] = k.homeStore
	}

	c.Preferences = map[string]string{"language": k.language()}
	switch x := r.Float64(); {
	case x < 0.14:
		c.Preferences["frequency"] = "weekly"
	case x < 0.66:
		c.Preferences["frequency"] = "monthly"
	case x < 0.86:
		c.Preferences["frequency"] = "quarterly"
	}
	if r.chance(0.45) {
		pref := "email"
		switch x := r.Float64(); {
		case c.Address.Complete() && x < 0.3:
			pref = "post"
		case c.Phone != "" && x < 0.4:
			pref = "phone"
		case k.mobile && x < 0.5:
			pref = "sms"
		case c.Email == "":
			pref = "post"
		}
		c.Preferences["preferred_channel"] = pref
	}
	if c.Address.Complete() && r.chance(0.3) {
		c.Preferences["paper_catalogue"] = []string{"yes", "no"}[r.IntN(2)]
	}

	idx := int64(k.idx)
	switch k.origin {
	case acqShop:
		c.Sources = append(c.Sources, model.SourceRef{Source: "shop", ExternalID: "K" + strconv.FormatInt(1000000+idx, 10)})
	case acqNewsletter:
		c.Sources = append(c.Sources, model.SourceRef{Source: "newsletter", ExternalID: strconv.FormatInt(40000000+idx*7+int64(r.IntN(7)), 10)})
	case acqSocial:
		c.Sources = append(c.Sources, model.SourceRef{Source: "social", ExternalID: "lead-" + strconv.FormatInt(7000000+idx, 10)})
	case acqEvent:
		c.Sources = append(c.Sources, model.SourceRef{Source: "events", ExternalID: "PX" + strconv.FormatInt(300000+idx, 36)})
	case acqStore:
		c.Sources = append(c.Sources, model.SourceRef{Source: "pos", ExternalID: "KK-" + pad(int(10000000+idx), 8)})
	case acqCRM:
		c.Sources = append(c.Sources, model.SourceRef{Source: "crm", ExternalID: "ADR-" + pad(int(100000+idx), 7)})
	case acqB2B:
		c.Sources = append(c.Sources, model.SourceRef{Source: "crm", ExternalID: "B2B-" + pad(int(10000+idx), 6)})
	}
	if k.origin != acqShop && len(k.buys) > 0 && hasOnlineBuy(k.buys) {
		c.Sources = append(c.Sources, model.SourceRef{Source: "shop", ExternalID: "K" + strconv.FormatInt(1000000+idx, 10)})
	}
	if k.origin != acqNewsletter && k.hasConfirmed(model.KindEmail, puNewsletter) && r.chance(0.8) {
		c.Sources = append(c.Sources, model.SourceRef{Source: "newsletter", ExternalID: strconv.FormatInt(40000000+idx*7+int64(r.IntN(7)), 10)})
	}
}

func hasOnlineBuy(bs []buy) bool {
	for _, b := range bs {
		if !b.pos {
			return true
		}
	}
	return false
}

// currentlySubscribed reports a confirmed newsletter subscription at AsOf
// that was neither withdrawn nor objected to.
func (k *cust) currentlySubscribed() bool {
	var conf, out, obj time.Time
	for i := range k.plan.consents {
		cr := &k.plan.consents[i]
		e := &cr.ev
		switch {
		case e.Kind == model.ConsentObjection:
			obj = maxTime(obj, e.EffectiveAt)
		case e.Channel != model.KindEmail || cr.purpose != puNewsletter:
		case e.Kind == model.ConsentDOIConfirmed:
			conf = maxTime(conf, e.EffectiveAt)
		case e.Kind == model.ConsentOptOut:
			out = maxTime(out, e.EffectiveAt)
		}
	}
	return !conf.IsZero() && conf.After(out) && conf.After(obj)
}

// language is the customer's preferred language.
func (k *cust) language() string {
	r := k.r
	if k.c.Address.Country == "NL" && r.chance(0.6) {
		return "nl"
	}
	if r.chance(0.035) {
		return "en"
	}
	switch nameOrigins[k.id.origin].key {
	case "tr":
		if r.chance(0.2) {
			return "tr"
		}
	case "pl":
		if r.chance(0.15) {
			return "pl"
		}
	case "ru":
		if r.chance(0.1) {
			return "ru"
		}
	case "fr":
		if r.chance(0.25) {
			return "fr"
		}
	case "it":
		if r.chance(0.1) {
			return "it"
		}
	}
	return "de"
}
