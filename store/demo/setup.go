package demo

import (
	"fmt"
	"time"

	"karton/model"
	"karton/store"
)

// The fixed part of the demo: channels, purposes, users, segments and
// campaigns. Their definitions carry what the customer generator needs to
// produce consistent activity (which segment a step targets, how many of
// its audience it reaches), and setup writes them before any customer.

// Channel indexes into channelDefs.
const (
	chNewsletter = iota
	chServiceMail
	chSMS
	chPostal
	chCallCentre
	chWeb
	chSocial
	chEvents
	chMessenger
	numChannels
)

func channelDefs() []model.Channel {
	return []model.Channel{
		chNewsletter: {
			Kind: model.KindEmail, Name: "Newsletter", Software: "CleverReach",
			Connector: model.Connector{Kind: model.ConnectorDry, Settings: map[string]string{
				"note": "demo: records each contact without sending; switch to smtp to send for real",
			}},
			// Newsletter tools charge 0.1–0.5 ct per mail; Money counts whole
			// cents, so the smallest non-zero cost is used.
			CostPerContact: 1,
		},
		chServiceMail: {
			Kind: model.KindEmail, Name: "Service-Mails", Software: "Shopware Mailer",
			Connector:      model.Connector{Kind: model.ConnectorDry, Settings: map[string]string{"note": "demo: transactional mails, recorded only"}},
			CostPerContact: 1,
		},
		chSMS: {
			Kind: model.KindSMS, Name: "SMS-Gateway", Software: "LINK Mobility",
			Connector: model.Connector{Kind: model.ConnectorWebhook, Settings: map[string]string{
				"url": "http://127.0.0.1:8089/karton/sms", "secret": "demo-sms-signing-key",
			}},
			CostPerContact: 8,
		},
		chPostal: {
			Kind: model.KindPostal, Name: "Postmailing Druckerei", Software: "Lettershop Druckhaus Lindner",
			Connector:      model.Connector{Kind: model.ConnectorFile, Settings: map[string]string{"dir": "outbox/print", "format": "csv"}},
			CostPerContact: 85,
		},
		chCallCentre: {
			Kind: model.KindPhone, Name: "Callcenter", Software: "Callcenter Nordwest (CTI)",
			Connector:      model.Connector{Kind: model.ConnectorFile, Settings: map[string]string{"dir": "outbox/callcenter", "format": "csv"}},
			CostPerContact: 250,
		},
		chWeb: {
			Kind: model.KindWeb, Name: "Web-Shop-Personalisierung", Software: "Shopware + Empfehlungs-Engine",
			Connector: model.Connector{Kind: model.ConnectorWebhook, Settings: map[string]string{
				"url": "http://127.0.0.1:8090/karton/personalisation", "secret": "demo-web-signing-key",
			}},
			CostPerContact: 0,
		},
		chSocial: {
			Kind: model.KindSocial, Name: "Social Ads (Custom Audiences)", Software: "Meta Ads Manager",
			Connector:      model.Connector{Kind: model.ConnectorFile, Settings: map[string]string{"dir": "outbox/social", "format": "csv"}},
			CostPerContact: 35,
		},
		chEvents: {
			Kind: model.KindEvent, Name: "Events & Webinare", Software: "pretix",
			Connector:      model.Connector{Kind: model.ConnectorDry, Settings: map[string]string{"note": "demo: participant lists are kept in the campaign"}},
			CostPerContact: 0,
		},
		chMessenger: {
			Kind: model.KindMessenger, Name: "WhatsApp Business", Software: "WhatsApp Business API",
			Connector:      model.Connector{Kind: model.ConnectorDry, Settings: map[string]string{"note": "pilot paused until the DPA is signed"}},
			CostPerContact: 6,
			Status:         model.ChannelPaused,
		},
	}
}

// Purpose indexes into purposeDefs.
const (
	puNewsletter = iota
	puOffers
	puSurveys
	puEvents
	puService
	puProfiling
	numPurposes
)

func purposeDefs() []model.Purpose {
	return []model.Purpose{
		puNewsletter: {Name: "newsletter", Title: "Monatlicher Newsletter", Category: model.CategoryMarketing, OwnSimilarProducts: true,
			Description: "Neuigkeiten, Ratgeber und Angebote aus dem eigenen Sortiment"},
		puOffers: {Name: "offers", Title: "Angebote & Aktionen", Category: model.CategoryMarketing, OwnSimilarProducts: true,
			Description: "Rabattaktionen und Produktempfehlungen zu ähnlichen Waren"},
		puSurveys: {Name: "surveys", Title: "Kundenbefragungen", Category: model.CategoryMarketing,
			Description: "Zufriedenheits- und Marktforschungsumfragen (gelten als Werbung)"},
		puEvents: {Name: "event-invitations", Title: "Einladungen zu Events & Webinaren", Category: model.CategoryMarketing,
			Description: "Messen, Workshops in den Filialen und Online-Webinare"},
		puService: {Name: "service-reminders", Title: "Service-Erinnerungen", Category: model.CategoryService,
			Description: "Pflege- und Garantiehinweise zu gekauften Produkten"},
		puProfiling: {Name: "profiling", Title: "Personalisierung & Profilbildung", Category: model.CategoryProfiling,
			Description: "Auswertung von Kauf- und Surfverhalten für persönliche Empfehlungen"},
	}
}

// demoUsers has one user per role. The operator plans and submits
// campaigns, the manager approves them: the four-eyes rule holds.
var demoUsers = []model.User{
	{Name: "anna", Role: model.RoleAdmin},
	{Name: "markus", Role: model.RoleManager},
	{Name: "olga", Role: model.RoleOperator},
	{Name: "alex", Role: model.RoleAnalyst},
	{Name: "vera", Role: model.RoleViewer},
}

// Actors the demo writes as. The importer stands for the shop, CRM and
// newsletter-tool imports that brought the customers in.
var (
	actorAdmin    = model.Actor{Name: "anna", Role: model.RoleAdmin, Via: "demo"}
	actorManager  = model.Actor{Name: "markus", Role: model.RoleManager, Via: "demo"}
	actorOperator = model.Actor{Name: "olga", Role: model.RoleOperator, Via: "demo"}
	actorImporter = model.Actor{Name: "import", Role: model.RoleOperator, Via: "demo"}
)

// Segment indexes into segmentDefs.
const (
	sgNewsletter = iota
	sgVIPBerlin
	sgLapsed
	sgBusiness
	sgYoungAdults
	sgChampions
	sgGarden
	sgNorth
	sgHighValue
	sgInactive
	sgEnglish
	sgDACH
	sgStudents
	sgEventGuests
	sgBavaria
	sgRecentBuyers
	numSegments
)

func cond(field, op, value string) model.Condition {
	return model.Condition{Field: field, Op: op, Value: value}
}

func segmentDefs() []model.Segment {
	return []model.Segment{
		sgNewsletter: {Name: "Newsletter readers", Description: "Everyone tagged as a confirmed newsletter subscriber",
			Conditions: []model.Condition{cond(model.CondTag, "has", "newsletter")}},
		sgVIPBerlin: {Name: "VIP Berlin", Description: "VIP customers living in Berlin",
			Conditions: []model.Condition{cond(model.CondTag, "has", "vip"), cond(model.CondCity, "=", "Berlin")}},
		sgLapsed: {Name: "Lapsed buyers 180d+", Description: "Bought before, but not in the last 180 days",
			Conditions: []model.Condition{cond(model.CondPurchaseCount, ">=", "1"), cond(model.CondLastPurchaseDays, ">=", "180")}},
		sgBusiness: {Name: "Business contacts", Description: "Companies: gastronomy, hotels, landscapers, offices",
			Conditions: []model.Condition{cond(model.CondType, "=", "business")}},
		sgYoungAdults: {Name: "Young adults 18–25", Description: "Customers aged 18 to 25 (known birth date)",
			Conditions: []model.Condition{cond(model.CondAge, ">=", "18"), cond(model.CondAge, "<=", "25")}},
		sgChampions: {Name: "Champions & Loyal", Description: "Best RFM segments",
			Conditions: []model.Condition{cond(model.CondRFMSegment, "in", "Champions,Loyal")}},
		sgGarden: {Name: "Garden lovers", Description: "Main interest: garden",
			Conditions: []model.Condition{cond(model.CondAttributePrefix+"interest", "=", "garten")}},
		sgNorth: {Name: "Hamburg & Norden (PLZ 2)", Description: "German postcodes starting with 2",
			Conditions: []model.Condition{cond(model.CondCountry, "=", "DE"), cond(model.CondPostcode, "prefix", "2")}},
		sgHighValue: {Name: "High value (≥ 500 €)", Description: "Lifetime revenue of at least 500 €",
			Conditions: []model.Condition{cond(model.CondRevenue, ">=", "50000")}},
		sgInactive: {Name: "Inactive 12 months", Description: "No purchase or interaction for a year",
			Conditions: []model.Condition{cond(model.CondLastActivityDays, ">=", "365")}},
		sgEnglish: {Name: "English speakers", Description: "Prefer to be addressed in English",
			Conditions: []model.Condition{cond(model.CondPreferencePrefix+"language", "=", "en")}},
		sgDACH: {Name: "All customers DACH", Description: "Customers with an address in Germany, Austria or Switzerland",
			Conditions: []model.Condition{cond(model.CondCountry, "in", "DE,AT,CH")}},
		sgStudents: {Name: "Students", Description: "Tagged students (student discount)",
			Conditions: []model.Condition{cond(model.CondTag, "has", "student")}},
		sgEventGuests: {Name: "Event guests", Description: "Attended at least one event or webinar",
			Conditions: []model.Condition{cond(model.CondTag, "has", "event-guest")}},
		sgBavaria: {Name: "München & Oberbayern (PLZ 8)", Description: "German postcodes starting with 8",
			Conditions: []model.Condition{cond(model.CondCountry, "=", "DE"), cond(model.CondPostcode, "prefix", "8")}},
		sgRecentBuyers: {Name: "Buyers of the last 12 months", Description: "At least one purchase in the last year",
			Conditions: []model.Condition{cond(model.CondPurchaseCount, ">=", "1"), cond(model.CondLastPurchaseDays, "<=", "365")}},
	}
}

// stepDef is a campaign step as planned, plus how the generator lets
// customers respond to it.
type stepDef struct {
	name     string
	channel  int
	purpose  int
	segment  int
	creative string
	at       time.Time
	data     []model.DataCategory
	// reach is the share of the eligible audience the step contacted
	// (a sample, a budget cap, a control group).
	reach float64
	// launched: contacts went out (the step is in the past of a running,
	// completed or cancelled-while-running campaign).
	launched bool
	// eventAt is the date of the event an invitation step invites to.
	eventAt time.Time
	// campaign is the index of the owning campaign in the plan.
	campaign int
	// Derived from the definitions for the consent check: a service
	// purpose, a purpose for own similar products, a creative with the
	// objection notice, data that needs a profiling consent.
	service, ownSimilar, notice, profiling bool
}

// budgetDef is a budget line; contact lines get their actual spend from
// the contacts the demo generates, other lines from their plan.
type budgetDef struct {
	label   string
	planned model.Money
	// contact marks the line that contact costs of this channel are
	// booked to ("Contacts: Newsletter").
	contact int // channel index + 1; 0 = not a contact line
}

// campaignDef is one campaign of the plan.
type campaignDef struct {
	name      string
	goal      string
	owner     string
	start     time.Time
	end       time.Time
	status    model.CampaignStatus
	budget    []budgetDef
	staff     []model.StaffAssignment
	creatives []model.Creative
	capacity  int
	steps     []int // indexes into plan.steps
	// rejectNote: the campaign was rejected once with this note (and is
	// in draft again, or was resubmitted when its status is later).
	rejectNote string
	// event: the campaign is an event with a participant list.
	event bool
	// eventStep is the launched invitation step of an event (-1: none).
	eventStep int
}

// plan is the whole fixed part of the demo, derived from AsOf alone.
type plan struct {
	asOf      time.Time
	campaigns []campaignDef
	steps     []stepDef
	// launched lists the launched steps in time order, which is the order
	// customers experience them.
	launched []int
}

// dayAt returns the given calendar day at the hour in UTC.
func dayAt(y int, m time.Month, d, hour int) time.Time {
	return time.Date(y, m, d, hour, 0, 0, 0, time.UTC)
}

// blackFriday returns the Friday after the fourth Thursday of November.
func blackFriday(year int) time.Time {
	t := dayAt(year, time.November, 1, 0)
	for t.Weekday() != time.Thursday {
		t = t.AddDate(0, 0, 1)
	}
	return t.AddDate(0, 0, 22)
}

// occurrence finds the start of a yearly campaign: the k-th most recent
// (k = 0, 1) start on month/day whose window ended before asOf, kept
// within the last 23 months; or, with k < 0, the next start at least 10
// days after asOf.
func occurrence(asOf time.Time, m time.Month, d, days, k int) time.Time {
	if k < 0 {
		for y := asOf.Year(); ; y++ {
			s := dayAt(y, m, d, 8)
			if s.After(asOf.AddDate(0, 0, 10)) {
				return s
			}
		}
	}
	oldest := asOf.AddDate(0, -23, 0)
	var found []time.Time
	for y := asOf.Year(); y >= asOf.Year()-3; y-- {
		s := dayAt(y, m, d, 8)
		if s.AddDate(0, 0, days).Before(asOf.AddDate(0, 0, -3)) && !s.Before(oldest) {
			found = append(found, s)
		}
	}
	if len(found) == 0 {
		return asOf.AddDate(0, 0, -days-30)
	}
	if k >= len(found) {
		k = len(found) - 1
	}
	return found[k]
}

// seasonName names the season of t in German, for running newsletters.
func seasonName(t time.Time) string {
	switch t.Month() {
	case time.March, time.April, time.May:
		return "Frühlings"
	case time.June, time.July, time.August:
		return "Sommer"
	case time.September, time.October, time.November:
		return "Herbst"
	}
	return "Winter"
}

// Shared staff and creatives.
var (
	staffLead       = model.StaffAssignment{Name: "Olga Petrenko", Role: "Campaign lead", Hours: 24}
	staffCopy       = model.StaffAssignment{Name: "Lena Vogt", Role: "Copywriter", Hours: 16}
	staffDesign     = model.StaffAssignment{Name: "Tim Hoffmann", Role: "Designer", Hours: 20}
	staffAnalyst    = model.StaffAssignment{Name: "Alex Krüger", Role: "Data analyst", Hours: 8}
	staffApprove    = model.StaffAssignment{Name: "Markus Brandt", Role: "Approver (Head of Marketing)", Hours: 3}
	staffAgency     = model.StaffAssignment{Name: "Fuchs & Eule Werbeagentur", Role: "Agency", Hours: 40}
	staffCallCentre = model.StaffAssignment{Name: "Callcenter Nordwest", Role: "Call-centre team", Hours: 120}
	staffEvents     = model.StaffAssignment{Name: "Jana Weiß", Role: "Event manager", Hours: 60}
)

const unsubscribeLine = "Sie möchten keine E-Mails mehr? Hier abmelden: {{unsubscribe_url}}"

// objectionNotice is the UWG §7(3) no. 4 notice existing-customer mails
// must carry.
const objectionNotice = "Sie können der Verwendung Ihrer E-Mail-Adresse für Werbung jederzeit widersprechen, ohne dass hierfür andere als die Übermittlungskosten nach den Basistarifen entstehen: {{unsubscribe_url}}"

func mailCreative(name, subject, body string, notice bool, links ...string) model.Creative {
	footer := unsubscribeLine
	if notice {
		footer = objectionNotice
	}
	// The registered targets appear in the body: the dispatcher replaces
	// each with its click link (store/links.go).
	for i, l := range links {
		if i == 0 {
			body += "\n\n→ " + l
		} else {
			body += "\n→ " + l
		}
	}
	return model.Creative{
		Name: name, Kind: model.KindEmail, Subject: subject,
		Body:            body + "\n\nHerzliche Grüße\nIhr " + companyName + "-Team\n\n" + footer,
		ObjectionNotice: notice, Links: links,
	}
}

func newPlan(asOf time.Time) *plan {
	p := &plan{asOf: asOf}
	add := func(c campaignDef, steps ...stepDef) {
		ci := len(p.campaigns)
		for _, s := range steps {
			s.campaign = ci
			c.steps = append(c.steps, len(p.steps))
			p.steps = append(p.steps, s)
		}
		p.campaigns = append(p.campaigns, c)
	}
	y := func(t time.Time) string { return fmt.Sprint(t.Year()) }
	profilingData := []model.DataCategory{model.DataContact, model.DataPurchases, model.DataScores}

	// Completed campaigns, spread over the last two years.
	spring := occurrence(asOf, time.March, 10, 21, 1)
	add(campaignDef{
		name: "Frühlingserwachen " + y(spring), goal: "Saisonstart Garten: 4 % Klickrate, 1.500 Bestellungen aus dem Newsletter",
		owner: "olga", start: spring, end: spring.AddDate(0, 0, 21), status: model.StatusCompleted,
		budget: []budgetDef{{"Agency", 180000, 0}, {"Contacts: Newsletter", 60000, chNewsletter + 1}},
		staff:  []model.StaffAssignment{staffLead, staffCopy, staffDesign, staffApprove},
		creatives: []model.Creative{
			mailCreative("Newsletter März", "{{first_name|Hallo}}, der Garten ruft! 🌱", "{{greeting}},\n\ndie ersten Sonnenstrahlen sind da – und mit ihnen unsere neuen Hochbeete aus Lärchenholz. Entdecken Sie jetzt das Frühjahrssortiment.", false, shopURL+"/fruehling", shopURL+"/garten/hochbeete"),
			mailCreative("Erinnerung", "Nur noch bis Sonntag: 15 % auf Saatgut", "{{greeting}},\n\nunsere Saatgut-Wochen enden am Sonntag. Jetzt noch zugreifen!", false, shopURL+"/garten/saatgut"),
		},
	},
		stepDef{name: "Newsletter März", channel: chNewsletter, purpose: puNewsletter, segment: sgNewsletter, creative: "Newsletter März", at: spring.AddDate(0, 0, 2), data: []model.DataCategory{model.DataContact}, reach: 0.95},
		stepDef{name: "Erinnerung Saatgut", channel: chNewsletter, purpose: puNewsletter, segment: sgNewsletter, creative: "Erinnerung", at: spring.AddDate(0, 0, 14), data: []model.DataCategory{model.DataContact}, reach: 0.6},
	)

	smsStart := occurrence(asOf, time.April, 15, 14, 1)
	add(campaignDef{
		name: "Gartensaison-Start per SMS " + y(smsStart), goal: "Abverkauf Gartenwerkzeug: 300 Bestellungen mit Code GARTEN10",
		owner: "olga", start: smsStart, end: smsStart.AddDate(0, 0, 14), status: model.StatusCompleted,
		budget: []budgetDef{{"Contacts: SMS-Gateway", 40000, chSMS + 1}},
		staff:  []model.StaffAssignment{staffLead, staffCopy, staffApprove},
		creatives: []model.Creative{{Name: "SMS Gartensaison", Kind: model.KindSMS,
			Body: companyName + ": {{first_name|Hallo}}, 10 % auf Gartenwerkzeug mit Code GARTEN10 bis So. " + shopURL + "/garten Abmelden: STOP an 81188", Links: []string{shopURL + "/garten"}}},
	},
		stepDef{name: "SMS Gartensaison", channel: chSMS, purpose: puOffers, segment: sgDACH, creative: "SMS Gartensaison", at: smsStart.AddDate(0, 0, 1).Add(2 * time.Hour), data: []model.DataCategory{model.DataContact}, reach: 1},
	)

	autumn := occurrence(asOf, time.September, 5, 30, 1)
	add(campaignDef{
		name: "Herbstkatalog " + y(autumn), goal: "Katalog an 40 % der Bestandskunden, Umsatz 250.000 € in 6 Wochen",
		owner: "markus", start: autumn, end: autumn.AddDate(0, 0, 30), status: model.StatusCompleted,
		budget: []budgetDef{{"Print", 1200000, 0}, {"Contacts: Postmailing Druckerei", 900000, chPostal + 1}, {"Contacts: Newsletter", 10000, chNewsletter + 1}, {"Agency", 350000, 0}},
		staff:  []model.StaffAssignment{staffLead, staffDesign, staffAgency, staffAnalyst, staffApprove},
		creatives: []model.Creative{
			{Name: "Katalog Herbst", Kind: model.KindPostal, Subject: "Herbstkatalog",
				Body: "{{greeting}},\n\nder Herbst wird gemütlich: Entdecken Sie in unserem neuen Katalog Wolldecken, Kerzen und alles für den Garten im Herbst. Mit Ihrem persönlichen Gutscheincode HERBST15 sparen Sie 15 %."},
			mailCreative("Nachfass Herbst", "{{first_name|Hallo}}, Ihr Herbstkatalog ist da", "{{greeting}},\n\nhaben Sie schon in unserem Herbstkatalog geblättert? Ihr letzter Einkauf am {{last_purchase_date|}} ist eine Weile her – mit HERBST15 sparen Sie 15 %.", true, shopURL+"/herbst"),
		},
	},
		stepDef{name: "Katalogversand", channel: chPostal, purpose: puOffers, segment: sgDACH, creative: "Katalog Herbst", at: autumn.AddDate(0, 0, 3), data: []model.DataCategory{model.DataContact, model.DataMasterData}, reach: 0.4},
		stepDef{name: "Nachfass-Mail", channel: chNewsletter, purpose: puOffers, segment: sgHighValue, creative: "Nachfass Herbst", at: autumn.AddDate(0, 0, 17), data: []model.DataCategory{model.DataContact, model.DataPurchases}, reach: 0.9},
	)

	// The last two Black Fridays whose week is over.
	var bfs []time.Time
	for yr := asOf.Year(); len(bfs) < 2; yr-- {
		if bf := blackFriday(yr); bf.AddDate(0, 0, 4).Before(asOf.AddDate(0, 0, -3)) {
			bfs = append(bfs, bf)
		}
	}
	for k := 1; k >= 0; k-- {
		bf := bfs[k]
		start := bf.AddDate(0, 0, -6).Add(8 * time.Hour)
		add(campaignDef{
			name: "Black Friday Week " + y(bf), goal: "Umsatz +35 % gegenüber Vorjahreswoche; 5.000 Bestellungen",
			owner: "olga", start: start, end: bf.AddDate(0, 0, 4), status: model.StatusCompleted,
			budget: []budgetDef{{"Media", 1500000, 0}, {"Contacts: Newsletter", 20000, chNewsletter + 1}, {"Contacts: SMS-Gateway", 120000, chSMS + 1}, {"Contacts: Social Ads (Custom Audiences)", 400000, chSocial + 1}},
			staff:  []model.StaffAssignment{staffLead, staffCopy, staffDesign, staffAnalyst, staffApprove},
			creatives: []model.Creative{
				mailCreative("Teaser", "{{first_name|Psst}}, Black Friday startet früher – für Sie", "{{greeting}},\n\nals Newsletter-Leser:in shoppen Sie schon ab Montag mit bis zu 30 % Rabatt.", false, shopURL+"/black-friday"),
				{Name: "SMS Black Friday", Kind: model.KindSMS, Body: companyName + ": Black Friday! Bis zu 30 % auf alles, nur bis Montag. " + shopURL + "/bf STOP an 81188", Links: []string{shopURL + "/bf"}},
				{Name: "Anzeige Black Friday", Kind: model.KindSocial, Body: "Black Friday bei " + companyName + ": bis zu 30 % Rabatt auf Küche, Wohnen & Garten. " + shopURL + "/black-friday", Links: []string{shopURL + "/black-friday"}},
			},
		},
			stepDef{name: "Teaser-Mail", channel: chNewsletter, purpose: puNewsletter, segment: sgNewsletter, creative: "Teaser", at: bf.AddDate(0, 0, -4).Add(7 * time.Hour), data: []model.DataCategory{model.DataContact}, reach: 1},
			stepDef{name: "Black-Friday-SMS", channel: chSMS, purpose: puOffers, segment: sgDACH, creative: "SMS Black Friday", at: bf.Add(9 * time.Hour), data: []model.DataCategory{model.DataContact}, reach: 1},
			stepDef{name: "Custom Audience Bestkunden", channel: chSocial, purpose: puOffers, segment: sgChampions, creative: "Anzeige Black Friday", at: bf.AddDate(0, 0, -5).Add(6 * time.Hour), data: profilingData, reach: 1},
		)
	}

	xmas := occurrence(asOf, time.December, 1, 22, 0)
	add(campaignDef{
		name: "Weihnachtsmailing Stammkunden " + y(xmas), goal: "Stammkunden binden: 20 % Rücklauf über Gutscheincode XMAS",
		owner: "markus", start: xmas, end: xmas.AddDate(0, 0, 22), status: model.StatusCompleted,
		budget: []budgetDef{{"Print", 450000, 0}, {"Postage", 300000, 0}, {"Contacts: Postmailing Druckerei", 250000, chPostal + 1}, {"Contacts: Newsletter", 5000, chNewsletter + 1}},
		staff:  []model.StaffAssignment{staffLead, staffCopy, staffDesign, staffApprove},
		creatives: []model.Creative{
			{Name: "Weihnachtsbrief", Kind: model.KindPostal, Subject: "Frohe Weihnachten",
				Body: "{{greeting}},\n\nvielen Dank, dass Sie uns auch in diesem Jahr die Treue gehalten haben. Als kleines Dankeschön schenken wir Ihnen 10 € – einfach Code XMAS10 im Shop oder in der Filiale einlösen."},
			mailCreative("Weihnachts-Mail", "{{first_name|Hallo}}, ein Dankeschön zu Weihnachten", "{{greeting}},\n\nIhr letzter Einkauf über {{last_purchase_amount|}} hat uns gefreut. Zu Weihnachten schenken wir Ihnen 10 € mit dem Code XMAS10.", true, shopURL+"/weihnachten"),
		},
	},
		stepDef{name: "Weihnachtsbrief", channel: chPostal, purpose: puOffers, segment: sgChampions, creative: "Weihnachtsbrief", at: xmas.AddDate(0, 0, 1), data: profilingData, reach: 1},
		stepDef{name: "Weihnachts-Mail", channel: chNewsletter, purpose: puOffers, segment: sgHighValue, creative: "Weihnachts-Mail", at: xmas.AddDate(0, 0, 9), data: []model.DataCategory{model.DataContact, model.DataPurchases}, reach: 1},
	)

	survey := occurrence(asOf, time.January, 20, 28, 0)
	add(campaignDef{
		name: "Kundenzufriedenheit " + y(survey), goal: "1.000 ausgefüllte Fragebögen, NPS messen",
		owner: "olga", start: survey, end: survey.AddDate(0, 0, 28), status: model.StatusCompleted,
		budget:    []budgetDef{{"Survey tool", 90000, 0}, {"Prizes", 50000, 0}, {"Contacts: Newsletter", 2000, chNewsletter + 1}},
		staff:     []model.StaffAssignment{staffLead, staffAnalyst, staffApprove},
		creatives: []model.Creative{mailCreative("Umfrage", "{{first_name|Ihre Meinung}}: 3 Minuten für uns?", "{{greeting}},\n\nwie zufrieden sind Sie mit "+companyName+"? Unter allen Teilnehmenden verlosen wir 10 Gutscheine über 50 €.", false, shopURL+"/umfrage")},
	},
		stepDef{name: "Umfrage-Einladung", channel: chNewsletter, purpose: puSurveys, segment: sgDACH, creative: "Umfrage", at: survey.AddDate(0, 0, 1), data: []model.DataCategory{model.DataContact}, reach: 1},
	)

	fair := occurrence(asOf, time.February, 20, 30, 0)
	fairDay := fair.AddDate(0, 0, 28).Add(2 * time.Hour)
	add(campaignDef{
		name: "Gartenmesse Hamburg " + y(fair), goal: "Messestand: 250 Gäste, 60 Neukunden", event: true,
		owner: "olga", start: fair, end: fair.AddDate(0, 0, 30), status: model.StatusCompleted, capacity: 250,
		budget: []budgetDef{{"Venue", 800000, 0}, {"Catering", 150000, 0}, {"Contacts: Newsletter", 1000, chNewsletter + 1}},
		staff:  []model.StaffAssignment{staffLead, staffEvents, staffDesign, staffApprove},
		creatives: []model.Creative{
			mailCreative("Einladung Messe", "Einladung: "+companyName+" auf der Gartenmesse Hamburg", "{{greeting}},\n\nbesuchen Sie uns am Stand B12 – mit Freikarte und einem Kaffee aufs Haus. Jetzt anmelden:", false, shopURL+"/messe-hamburg"),
			mailCreative("Erinnerung Messe", "Noch 5 Tage: Gartenmesse Hamburg", "{{greeting}},\n\nwir freuen uns auf Sie! Ihre Freikarte liegt bereit.", false, shopURL+"/messe-hamburg"),
		},
	},
		stepDef{name: "Einladung", channel: chNewsletter, purpose: puEvents, segment: sgNorth, creative: "Einladung Messe", at: fair.AddDate(0, 0, 1), data: []model.DataCategory{model.DataContact, model.DataMasterData}, reach: 1, eventAt: fairDay},
		stepDef{name: "Erinnerung", channel: chNewsletter, purpose: puEvents, segment: sgNorth, creative: "Erinnerung Messe", at: fair.AddDate(0, 0, 23), data: []model.DataCategory{model.DataContact}, reach: 0.5, eventAt: fairDay},
	)

	winback := occurrence(asOf, time.May, 5, 35, 0)
	add(campaignDef{
		name: "Reaktivierung Schläfer " + y(winback), goal: "8 % der inaktiven Käufer:innen reaktivieren",
		owner: "olga", start: winback, end: winback.AddDate(0, 0, 35), status: model.StatusCompleted,
		budget: []budgetDef{{"Contacts: Newsletter", 3000, chNewsletter + 1}, {"Contacts: Callcenter", 600000, chCallCentre + 1}, {"Vouchers", 200000, 0}},
		staff:  []model.StaffAssignment{staffLead, staffCallCentre, staffAnalyst, staffApprove},
		creatives: []model.Creative{
			mailCreative("Wir vermissen Sie", "{{first_name|Hallo}}, wir vermissen Sie!", "{{greeting}},\n\nseit Ihrem letzten Einkauf am {{last_purchase_date|}} hat sich viel getan. Als Willkommen zurück gibt es 15 € Rabatt ab 60 € Einkaufswert.", true, shopURL+"/willkommen-zurueck"),
			{Name: "Gesprächsleitfaden", Kind: model.KindPhone, Body: "Begrüßung: {{greeting}}. Anlass: Willkommen-zurück-Gutschein, Frage nach Zufriedenheit mit der letzten Bestellung."},
		},
	},
		stepDef{name: "Winback-Mail", channel: chNewsletter, purpose: puOffers, segment: sgLapsed, creative: "Wir vermissen Sie", at: winback.AddDate(0, 0, 2), data: []model.DataCategory{model.DataContact, model.DataPurchases}, reach: 1},
		stepDef{name: "Nachfass-Anruf", channel: chCallCentre, purpose: puOffers, segment: sgLapsed, creative: "Gesprächsleitfaden", at: winback.AddDate(0, 0, 16), data: []model.DataCategory{model.DataContact, model.DataPurchases}, reach: 0.6},
	)

	summer := occurrence(asOf, time.July, 1, 31, 0)
	add(campaignDef{
		name: "Sommer-Sale Outdoor " + y(summer), goal: "Lagerabbau Outdoor: 120.000 € Umsatz",
		owner: "olga", start: summer, end: summer.AddDate(0, 0, 31), status: model.StatusCompleted,
		budget: []budgetDef{{"Media", 600000, 0}, {"Contacts: Social Ads (Custom Audiences)", 150000, chSocial + 1}},
		staff:  []model.StaffAssignment{staffLead, staffDesign, staffAnalyst, staffApprove},
		creatives: []model.Creative{
			{Name: "Teaser Onsite", Kind: model.KindWeb, Subject: "Sommer-Sale", Body: "{{first_name|Hallo}}, passend zu Ihrem Einkauf: Picknick & Outdoor bis −40 % " + shopURL + "/sale/outdoor", Links: []string{shopURL + "/sale/outdoor"}},
			{Name: "Retargeting", Kind: model.KindSocial, Body: "Sommer-Sale bei " + companyName + ": Outdoor bis −40 %. " + shopURL + "/sale/outdoor", Links: []string{shopURL + "/sale/outdoor"}},
		},
	},
		stepDef{name: "On-Site-Teaser", channel: chWeb, purpose: puOffers, segment: sgGarden, creative: "Teaser Onsite", at: summer.AddDate(0, 0, 1), data: []model.DataCategory{model.DataWebBehaviour, model.DataPurchases}, reach: 1},
		stepDef{name: "Social Retargeting", channel: chSocial, purpose: puOffers, segment: sgYoungAdults, creative: "Retargeting", at: summer.AddDate(0, 0, 3), data: []model.DataCategory{model.DataWebBehaviour}, reach: 1},
	)

	b2b := occurrence(asOf, time.October, 1, 30, 0)
	add(campaignDef{
		name: "B2B-Frühbezug Gastronomie " + y(b2b), goal: "Frühbezugsrabatt: 80 Gewerbekunden ordern Terrassen-Ausstattung vor",
		owner: "markus", start: b2b, end: b2b.AddDate(0, 0, 30), status: model.StatusCompleted,
		budget: []budgetDef{{"Print", 150000, 0}, {"Contacts: Postmailing Druckerei", 20000, chPostal + 1}, {"Contacts: Callcenter", 150000, chCallCentre + 1}},
		staff:  []model.StaffAssignment{{Name: "Markus Brandt", Role: "Campaign lead", Hours: 30}, staffCallCentre, {Name: "Olga Petrenko", Role: "Approver (deputy)", Hours: 2}},
		creatives: []model.Creative{
			{Name: "B2B-Katalog", Kind: model.KindPostal, Subject: "Frühbezug", Body: "Sehr geehrte Damen und Herren der {{company|Firma}},\n\nsichern Sie sich bis 31.10. 12 % Frühbezugsrabatt auf Terrassenmöbel und Heizstrahler."},
			{Name: "Telefonleitfaden B2B", Kind: model.KindPhone, Body: "{{greeting}} – Anlass: Frühbezugsrabatt für {{company|Ihr Unternehmen}}, Termin für Musterbesuch anbieten."},
		},
	},
		stepDef{name: "Katalog B2B", channel: chPostal, purpose: puOffers, segment: sgBusiness, creative: "B2B-Katalog", at: b2b.AddDate(0, 0, 1), data: []model.DataCategory{model.DataContact, model.DataMasterData}, reach: 1},
		stepDef{name: "Telefonakquise", channel: chCallCentre, purpose: puOffers, segment: sgBusiness, creative: "Telefonleitfaden B2B", at: b2b.AddDate(0, 0, 10), data: []model.DataCategory{model.DataContact}, reach: 0.8},
	)

	web := occurrence(asOf, time.April, 20, 25, 0)
	webDay := web.AddDate(0, 0, 21).Add(10 * time.Hour)
	add(campaignDef{
		name: "Webinar: Balkongärten " + y(web), goal: "500 Anmeldungen, 40 % Teilnahmequote", event: true,
		owner: "olga", start: web, end: web.AddDate(0, 0, 25), status: model.StatusCompleted, capacity: 500,
		budget:    []budgetDef{{"Webinar tool", 30000, 0}, {"Speaker fee", 80000, 0}},
		staff:     []model.StaffAssignment{staffEvents, staffCopy, staffApprove},
		creatives: []model.Creative{mailCreative("Einladung Webinar", "Live-Webinar: Mehr Grün auf dem Balkon", "{{greeting}},\n\nunsere Gärtnerin Frieda zeigt live, wie Kräuter und Tomaten auf kleinstem Raum gedeihen. Kostenlos – jetzt Platz sichern:", false, shopURL+"/webinar-balkon")},
	},
		stepDef{name: "Einladung Webinar", channel: chNewsletter, purpose: puEvents, segment: sgGarden, creative: "Einladung Webinar", at: web.AddDate(0, 0, 1), data: []model.DataCategory{model.DataContact}, reach: 1, eventAt: webDay},
	)

	// Running campaigns around today.
	nlStart := asOf.AddDate(0, 0, -21).Truncate(24 * time.Hour).Add(8 * time.Hour)
	add(campaignDef{
		name: seasonName(asOf) + "-Newsletter " + y(asOf), goal: "Öffnungsrate ≥ 30 %, Klickrate ≥ 4 %",
		owner: "olga", start: nlStart, end: nlStart.AddDate(0, 0, 60), status: model.StatusRunning,
		budget: []budgetDef{{"Agency", 90000, 0}, {"Contacts: Newsletter", 30000, chNewsletter + 1}},
		staff:  []model.StaffAssignment{staffLead, staffCopy, staffApprove},
		creatives: []model.Creative{
			mailCreative("Ausgabe 1", "{{first_name|Hallo}}, neu im Sortiment", "{{greeting}},\n\nfrisch eingetroffen: unsere Teekannen aus Gusseisen und die Merino-Decken für kühle Abende.", false, shopURL+"/neuheiten"),
			mailCreative("Ausgabe 2", "Ratgeber: So pflegen Sie Gusseisen", "{{greeting}},\n\nmit drei Handgriffen hält Ihre Gusseisenkanne ein Leben lang.", false, shopURL+"/ratgeber/gusseisen-pflegen"),
			mailCreative("Ausgabe 3", "{{first_name|Hallo}}, unsere Lieblinge des Monats", "{{greeting}},\n\ndiese fünf Produkte hat unser Team in diesem Monat am häufigsten empfohlen.", false, shopURL+"/lieblinge"),
		},
	},
		stepDef{name: "Ausgabe 1", channel: chNewsletter, purpose: puNewsletter, segment: sgNewsletter, creative: "Ausgabe 1", at: nlStart.AddDate(0, 0, 3), data: []model.DataCategory{model.DataContact}, reach: 1},
		stepDef{name: "Ausgabe 2", channel: chNewsletter, purpose: puNewsletter, segment: sgNewsletter, creative: "Ausgabe 2", at: nlStart.AddDate(0, 0, 17), data: []model.DataCategory{model.DataContact}, reach: 1},
		stepDef{name: "Ausgabe 3", channel: chNewsletter, purpose: puNewsletter, segment: sgNewsletter, creative: "Ausgabe 3", at: nlStart.AddDate(0, 0, 31), data: []model.DataCategory{model.DataContact}, reach: 1},
	)

	svcStart := asOf.AddDate(0, 0, -60).Truncate(24 * time.Hour).Add(7 * time.Hour)
	add(campaignDef{
		name: "Service: Pflege-Erinnerung", goal: "Weniger Reklamationen: Pflegehinweise 30 Tage nach dem Kauf",
		owner: "olga", start: svcStart, end: svcStart.AddDate(0, 0, 180), status: model.StatusRunning,
		budget: []budgetDef{{"Contacts: Service-Mails", 5000, chServiceMail + 1}, {"Contacts: SMS-Gateway", 20000, chSMS + 1}},
		staff:  []model.StaffAssignment{staffLead, staffCopy},
		creatives: []model.Creative{
			{Name: "Pflegehinweis", Kind: model.KindEmail, Subject: "Ihr Einkauf vom {{last_purchase_date}}: So bleibt er schön",
				Body: "{{greeting}},\n\ndanke für Ihren Einkauf über {{last_purchase_amount}}. Hier finden Sie Pflegehinweise zu Ihren Produkten: " + shopURL + "/pflege\n\nIhr " + companyName + "-Kundenservice"},
			{Name: "Pflege-SMS", Kind: model.KindSMS, Body: companyName + ": Pflegetipps zu Ihrem Einkauf: " + shopURL + "/pflege"},
		},
	},
		stepDef{name: "Pflegehinweis E-Mail", channel: chServiceMail, purpose: puService, segment: sgRecentBuyers, creative: "Pflegehinweis", at: svcStart.AddDate(0, 0, 2), data: []model.DataCategory{model.DataContact, model.DataPurchases}, reach: 0.5},
		stepDef{name: "Pflegehinweis SMS", channel: chSMS, purpose: puService, segment: sgRecentBuyers, creative: "Pflege-SMS", at: svcStart.AddDate(0, 0, 40), data: []model.DataCategory{model.DataContact}, reach: 0.3},
	)

	recoStart := asOf.AddDate(0, 0, -90).Truncate(24 * time.Hour).Add(6 * time.Hour)
	add(campaignDef{
		name: "Personalisierte Empfehlungen", goal: "Warenkorbwert +8 % durch Empfehlungen im Shop",
		owner: "olga", start: recoStart, end: recoStart.AddDate(0, 0, 180), status: model.StatusRunning,
		budget: []budgetDef{{"Recommendation engine licence", 240000, 0}},
		staff:  []model.StaffAssignment{staffAnalyst, {Name: "Deniz Yıldız", Role: "Web developer", Hours: 32}, staffApprove},
		creatives: []model.Creative{{Name: "Empfehlungs-Widget", Kind: model.KindWeb, Subject: "Für Sie ausgewählt",
			Body: "{{first_name|Für Sie}}: Das passt zu Ihrem letzten Einkauf " + shopURL + "/empfehlungen", Links: []string{shopURL + "/empfehlungen"}}},
	},
		stepDef{name: "Empfehlungs-Widget", channel: chWeb, purpose: puOffers, segment: sgDACH, creative: "Empfehlungs-Widget", at: recoStart.AddDate(0, 0, 5), data: []model.DataCategory{model.DataPurchases, model.DataWebBehaviour}, reach: 1},
	)

	// Planned campaigns: approved, submitted, draft.
	nextBF := blackFriday(asOf.Year())
	if !nextBF.AddDate(0, 0, -6).After(asOf.AddDate(0, 0, 7)) {
		nextBF = blackFriday(asOf.Year() + 1)
	}
	add(campaignDef{
		name: "Black Friday Week " + y(nextBF), goal: "Umsatz +25 % gegenüber Vorjahr bei gleichem Mediabudget",
		owner: "olga", start: nextBF.AddDate(0, 0, -6).Add(8 * time.Hour), end: nextBF.AddDate(0, 0, 4), status: model.StatusApproved,
		budget: []budgetDef{{"Media", 1500000, 0}, {"Contacts: Newsletter", 25000, chNewsletter + 1}, {"Contacts: Postmailing Druckerei", 500000, chPostal + 1}},
		staff:  []model.StaffAssignment{staffLead, staffCopy, staffDesign, staffApprove},
		creatives: []model.Creative{
			mailCreative("Teaser", "{{first_name|Psst}}, Black Friday startet früher – für Sie", "{{greeting}},\n\nab Montag gibt es für Newsletter-Leser:innen bis zu 30 % Rabatt.", false, shopURL+"/black-friday"),
			{Name: "Postkarte", Kind: model.KindPostal, Subject: "Black Friday", Body: "{{greeting}}, Ihr persönlicher Black-Friday-Code: BF{{customer_id}} – 20 % auf alles."},
		},
	},
		stepDef{name: "Teaser-Mail", channel: chNewsletter, purpose: puNewsletter, segment: sgNewsletter, creative: "Teaser", at: nextBF.AddDate(0, 0, -4).Add(7 * time.Hour)},
		stepDef{name: "Postkarte Bestkunden", channel: chPostal, purpose: puOffers, segment: sgHighValue, creative: "Postkarte", at: nextBF.AddDate(0, 0, -7)},
	)

	wb := asOf.AddDate(0, 0, 20).Truncate(24 * time.Hour).Add(8 * time.Hour)
	add(campaignDef{
		name: "Webinar: Gusseisen richtig pflegen", goal: "300 Teilnehmende, Kundenbindung", event: true,
		owner: "olga", start: wb, end: wb.AddDate(0, 0, 15), status: model.StatusApproved, capacity: 300,
		budget:    []budgetDef{{"Webinar tool", 30000, 0}, {"Contacts: Newsletter", 1000, chNewsletter + 1}},
		staff:     []model.StaffAssignment{staffEvents, staffCopy, staffApprove},
		creatives: []model.Creative{mailCreative("Einladung", "Live: Gusseisen richtig pflegen", "{{greeting}},\n\nin 45 Minuten zeigen wir, wie Ihre Gusseisenkanne ein Leben lang hält.", false, shopURL+"/webinar-gusseisen")},
	},
		stepDef{name: "Einladung", channel: chNewsletter, purpose: puEvents, segment: sgEventGuests, creative: "Einladung", at: wb.AddDate(0, 0, 1)},
	)

	xmasNext := occurrence(asOf, time.December, 1, 22, -1)
	add(campaignDef{
		name: "Weihnachtskatalog " + y(xmasNext), goal: "Katalog an alle Käufer:innen der letzten 12 Monate",
		owner: "markus", start: xmasNext.AddDate(0, 0, -10), end: xmasNext.AddDate(0, 0, 22), status: model.StatusSubmitted,
		budget: []budgetDef{{"Print", 1400000, 0}, {"Contacts: Postmailing Druckerei", 1100000, chPostal + 1}, {"Agency", 300000, 0}},
		staff:  []model.StaffAssignment{staffLead, staffDesign, staffAgency},
		creatives: []model.Creative{{Name: "Weihnachtskatalog", Kind: model.KindPostal, Subject: "Weihnachtskatalog",
			Body: "{{greeting}},\n\nunser Weihnachtskatalog ist da – mit Geschenkideen aus Küche, Garten und Wohnen."}},
	},
		stepDef{name: "Katalogversand", channel: chPostal, purpose: puOffers, segment: sgRecentBuyers, creative: "Weihnachtskatalog", at: xmasNext.AddDate(0, 0, -8)},
	)

	ny := occurrence(asOf, time.January, 2, 5, -1)
	add(campaignDef{
		name: "Neujahrsgruß per SMS " + y(ny), goal: "Januar-Loch füllen: 400 Bestellungen mit NEU10",
		owner: "olga", start: ny, end: ny.AddDate(0, 0, 5), status: model.StatusSubmitted,
		rejectNote: "Budget zu hoch – bitte nur an Käufer:innen der letzten 12 Monate senden",
		budget:     []budgetDef{{"Contacts: SMS-Gateway", 60000, chSMS + 1}},
		staff:      []model.StaffAssignment{staffLead, staffCopy},
		creatives: []model.Creative{{Name: "SMS Neujahr", Kind: model.KindSMS,
			Body: companyName + ": Frohes neues Jahr, {{first_name|}}! 10 % mit NEU10 bis 6.1. " + shopURL + " STOP an 81188", Links: []string{shopURL}}},
	},
		stepDef{name: "Neujahrs-SMS", channel: chSMS, purpose: puOffers, segment: sgRecentBuyers, creative: "SMS Neujahr", at: ny.Add(3 * time.Hour)},
	)

	spr := occurrence(asOf, time.March, 15, 21, -1)
	add(campaignDef{
		name: "Frühjahrsputz-Aktion " + y(spr), goal: "Abverkauf Reinigung & Aufbewahrung",
		owner: "olga", start: spr, end: spr.AddDate(0, 0, 21), status: model.StatusDraft,
		budget:    []budgetDef{{"Contacts: Newsletter", 20000, chNewsletter + 1}},
		staff:     []model.StaffAssignment{staffLead},
		creatives: []model.Creative{mailCreative("Frühjahrsputz", "{{first_name|Hallo}}, Zeit für frischen Wind", "{{greeting}},\n\nalles für den Frühjahrsputz – jetzt 20 % auf Aufbewahrung.", false, shopURL+"/fruehjahrsputz")},
	},
		stepDef{name: "Newsletter Frühjahrsputz", channel: chNewsletter, purpose: puNewsletter, segment: sgNewsletter, creative: "Frühjahrsputz", at: spr.AddDate(0, 0, 1)},
	)

	ls := asOf.AddDate(0, 0, 45).Truncate(24 * time.Hour).Add(9 * time.Hour)
	add(campaignDef{
		name: "Kundenbefragung Lieferzeiten", goal: "Ursachen für Lieferbeschwerden verstehen",
		owner: "olga", start: ls, end: ls.AddDate(0, 0, 21), status: model.StatusDraft,
		rejectNote: "Bitte Fragebogen auf höchstens 5 Fragen kürzen und Datenschutzhinweis ergänzen",
		budget:     []budgetDef{{"Survey tool", 40000, 0}, {"Contacts: Newsletter", 1500, chNewsletter + 1}},
		staff:      []model.StaffAssignment{staffAnalyst, staffCopy},
		creatives:  []model.Creative{mailCreative("Umfrage Lieferung", "Wie war Ihre letzte Lieferung?", "{{greeting}},\n\nIhr Paket vom {{last_purchase_date|}} ist hoffentlich gut angekommen. Verraten Sie uns, wie zufrieden Sie waren?", false, shopURL+"/umfrage-lieferung")},
	},
		stepDef{name: "Umfrage", channel: chNewsletter, purpose: puSurveys, segment: sgRecentBuyers, creative: "Umfrage Lieferung", at: ls.AddDate(0, 0, 1)},
	)

	// Cancelled campaigns: one before approval, one after its invitations
	// had gone out.
	easter := occurrence(asOf, time.March, 28, 14, 0)
	add(campaignDef{
		name: "Oster-Gewinnspiel " + y(easter), goal: "2.000 neue Newsletter-Anmeldungen",
		owner: "olga", start: easter, end: easter.AddDate(0, 0, 14), status: model.StatusCancelled,
		budget: []budgetDef{{"Prizes", 150000, 0}, {"Media", 200000, 0}},
		staff:  []model.StaffAssignment{staffLead, staffCopy},
		creatives: []model.Creative{{Name: "Gewinnspiel-Anzeige", Kind: model.KindSocial,
			Body: "Gewinnen Sie eines von 10 Hochbeeten! Jetzt mitmachen: " + shopURL + "/gewinnspiel", Links: []string{shopURL + "/gewinnspiel"}}},
	},
		stepDef{name: "Gewinnspiel-Anzeige", channel: chSocial, purpose: puOffers, segment: sgYoungAdults, creative: "Gewinnspiel-Anzeige", at: easter.AddDate(0, 0, 1), data: []model.DataCategory{model.DataContact}},
	)

	fest := occurrence(asOf, time.June, 10, 30, 0)
	festDay := fest.AddDate(0, 0, 25).Add(8 * time.Hour)
	add(campaignDef{
		name: "Sommerfest Berlin " + y(fest), goal: "Stammkunden-Fest mit 400 Gästen", event: true,
		owner: "olga", start: fest, end: fest.AddDate(0, 0, 30), status: model.StatusCancelled, capacity: 400,
		budget: []budgetDef{{"Venue", 500000, 0}, {"Catering", 300000, 0}, {"Contacts: Newsletter", 1000, chNewsletter + 1}},
		staff:  []model.StaffAssignment{staffEvents, staffLead, staffApprove},
		creatives: []model.Creative{
			mailCreative("Einladung Sommerfest", "Einladung zum Sommerfest in Berlin", "{{greeting}},\n\nfeiern Sie mit uns im Garten unserer Filiale in Berlin-Mitte!", false, shopURL+"/sommerfest"),
			mailCreative("Absage", "Absage: Sommerfest Berlin", "{{greeting}},\n\nleider müssen wir das Sommerfest wegen Unwetterwarnung absagen.", false),
		},
	},
		stepDef{name: "Einladung", channel: chNewsletter, purpose: puEvents, segment: sgChampions, creative: "Einladung Sommerfest", at: fest.AddDate(0, 0, 2), data: []model.DataCategory{model.DataContact, model.DataScores}, reach: 1, eventAt: festDay},
		stepDef{name: "Erinnerung", channel: chNewsletter, purpose: puEvents, segment: sgChampions, creative: "Einladung Sommerfest", at: fest.AddDate(0, 0, 20)},
	)

	// A step is launched when its campaign ran and its time has passed;
	// the cancelled summer party's invitation went out before the
	// cancellation, its reminder never did.
	for ci := range p.campaigns {
		p.campaigns[ci].eventStep = -1
	}
	purposes := purposeDefs()
	for i := range p.steps {
		s := &p.steps[i]
		c := p.campaigns[s.campaign]
		pu := purposes[s.purpose]
		s.service = pu.Category == model.CategoryService
		s.ownSimilar = pu.OwnSimilarProducts
		for _, cr := range c.creatives {
			if cr.Name == s.creative {
				s.notice = cr.ObjectionNotice
			}
		}
		for _, d := range s.data {
			s.profiling = s.profiling || d.NeedsProfiling()
		}
		switch c.status {
		case model.StatusCompleted, model.StatusRunning:
			s.launched = !s.at.After(asOf)
		case model.StatusCancelled:
			s.launched = c.event && s.reach > 0 && !s.at.After(asOf)
		}
		if s.launched {
			p.launched = append(p.launched, i)
			if !s.eventAt.IsZero() && p.campaigns[s.campaign].eventStep < 0 {
				p.campaigns[s.campaign].eventStep = i
			}
		}
	}
	sortStepsByTime(p)
	return p
}

// sortStepsByTime orders the launched steps by time (insertion sort: a
// few dozen).
func sortStepsByTime(p *plan) {
	l := p.launched
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && p.steps[l[j]].at.Before(p.steps[l[j-1]].at); j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}

// world holds the ids the store assigned to the fixed part.
type world struct {
	plan       *plan
	channels   []model.Channel
	purposes   []model.Purpose
	segments   []model.Segment
	campaignID []model.CampaignID
	stepID     []model.StepID
}

// setup writes channels, purposes, users, segments and the campaigns
// (still in draft: their participants and spend follow the customers).
func setup(s *store.Store, p *plan, rep *Report) (*world, error) {
	w := &world{plan: p, channels: channelDefs(), purposes: purposeDefs(), segments: segmentDefs()}
	err := s.Update(actorAdmin, func(tx *store.Tx) error {
		for i := range demoUsers {
			u := demoUsers[i]
			if _, err := tx.Reader().User(u.Name); err == nil {
				continue // e.g. the local OS user is called anna
			}
			if err := tx.InsertUser(&u); err != nil {
				return fmt.Errorf("demo user %s: %w", u.Name, err)
			}
			rep.Users++
		}
		for i := range w.channels {
			if err := tx.InsertChannel(&w.channels[i]); err != nil {
				return fmt.Errorf("demo channel %q: %w", w.channels[i].Name, err)
			}
			rep.Channels++
		}
		for i := range w.purposes {
			if err := tx.InsertPurpose(&w.purposes[i]); err != nil {
				return fmt.Errorf("demo purpose %q: %w", w.purposes[i].Name, err)
			}
			rep.Purposes++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.Update(actorOperator, func(tx *store.Tx) error {
		for i := range w.segments {
			if err := tx.InsertSegment(&w.segments[i]); err != nil {
				return fmt.Errorf("demo segment %q: %w", w.segments[i].Name, err)
			}
			rep.Segments++
		}
		w.campaignID = make([]model.CampaignID, len(p.campaigns))
		w.stepID = make([]model.StepID, len(p.steps))
		for ci, cd := range p.campaigns {
			c := model.Campaign{
				Name: cd.name, Goal: cd.goal, Owner: cd.owner, Start: cd.start, End: cd.end,
				Currency: model.DefaultCurrency, Staff: cd.staff, Creatives: cd.creatives, Capacity: cd.capacity,
				CreatedAt: cd.start.AddDate(0, 0, -30),
			}
			if c.CreatedAt.After(p.asOf) {
				c.CreatedAt = p.asOf.AddDate(0, 0, -3)
			}
			for _, b := range cd.budget {
				c.Budget = append(c.Budget, model.BudgetLine{Label: b.label, Planned: b.planned})
			}
			if err := tx.InsertCampaign(&c); err != nil {
				return fmt.Errorf("demo campaign %q: %w", cd.name, err)
			}
			w.campaignID[ci] = c.ID
			rep.Campaigns++
			for _, si := range cd.steps {
				sd := p.steps[si]
				st := model.Step{
					CampaignID: c.ID, Name: sd.name, ChannelID: w.channels[sd.channel].ID,
					PurposeID: w.purposes[sd.purpose].ID, SegmentID: w.segments[sd.segment].ID,
					Creative: sd.creative, ScheduledAt: sd.at, DataCategories: sd.data,
				}
				if err := tx.InsertStep(&st); err != nil {
					return fmt.Errorf("demo campaign %q step %q: %w", cd.name, sd.name, err)
				}
				w.stepID[si] = st.ID
				rep.Steps++
			}
		}
		return nil
	})
	return w, err
}
