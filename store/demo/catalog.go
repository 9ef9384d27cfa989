package demo

import "karton/model"

// The demo company is "Gartenglück", a German retailer for garden, kitchen
// and home goods with a web shop and a few stores. Its catalogue, email
// providers, browsers and the notes operators type are the small tables
// below.

// companyName and shopURL appear in creatives and links. The domain is
// under the reserved .example TLD so that a demo never points at a real
// site.
const (
	companyName = "Gartenglück"
	shopURL     = "https://www.gartenglueck.example"
)

// product is one catalogue entry; its category's row of categorySeason
// says in which months it sells.
type product struct {
	sku      string
	name     string
	price    model.Money
	category int
}

// Product categories; seasonal demand differs per category.
const (
	catGarden = iota
	catKitchen
	catHome
	catOutdoor
	catGifts
	catBath
	numCategories
)

// categorySeason is the relative demand of each category per month.
var categorySeason = [numCategories][12]float64{
	catGarden:  {0.3, 0.4, 1.2, 2.2, 2.4, 1.9, 1.4, 1.0, 0.8, 0.6, 0.3, 0.3},
	catKitchen: {0.9, 0.8, 0.8, 0.8, 0.9, 1.0, 1.0, 0.9, 1.0, 1.1, 1.5, 1.8},
	catHome:    {1.1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.5, 0.6, 0.9, 1.3, 1.7, 1.9},
	catOutdoor: {0.4, 0.5, 0.8, 1.2, 1.6, 2.0, 2.1, 1.8, 1.1, 0.7, 0.5, 0.6},
	catGifts:   {0.4, 0.6, 0.5, 0.6, 0.7, 0.4, 0.3, 0.3, 0.4, 0.7, 2.2, 3.5},
	catBath:    {1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9, 0.9, 1.0, 1.0, 1.2, 1.4},
}

var products = []product{
	{"GA-1001", "Gießkanne Zink 10 l", 2990, catGarden},
	{"GA-1002", "Gartenschere Bypass", 2495, catGarden},
	{"GA-1003", "Kräutertopf-Set, 3-tlg.", 1999, catGarden},
	{"GA-1004", "Hochbeet Lärche 120 × 80 cm", 18900, catGarden},
	{"GA-1005", "Saatgut-Box Gemüse", 1490, catGarden},
	{"GA-1006", "Vogelhaus Kiefer", 3490, catGarden},
	{"GA-1007", "Lichterkette Solar 20 m", 2799, catGarden},
	{"GA-1008", "Gartenhandschuhe Leder", 1295, catGarden},
	{"GA-1009", "Pflanzkübel Terrakotta Ø 40 cm", 4490, catGarden},
	{"GA-1010", "Rasendünger Bio 5 kg", 2249, catGarden},
	{"GA-1011", "Hängematte Baumwolle", 5900, catGarden},
	{"GA-1012", "Feuerschale Cortenstahl", 12900, catGarden},
	{"KU-2001", "Espressokocher Edelstahl, 6 Tassen", 3490, catKitchen},
	{"KU-2002", "Schneidebrett Eiche", 3900, catKitchen},
	{"KU-2003", "Küchenwaage digital", 1995, catKitchen},
	{"KU-2004", "Teekanne Gusseisen 1,2 l", 4990, catKitchen},
	{"KU-2005", "Brotkasten Bambus", 3250, catKitchen},
	{"KU-2006", "Messerset Damast, 3-tlg.", 14900, catKitchen},
	{"KU-2007", "Grillzange Edelstahl", 1690, catKitchen},
	{"KU-2008", "Thermobecher 0,5 l", 2195, catKitchen},
	{"KU-2009", "Gewürzregal Buche", 2700, catKitchen},
	{"WO-3001", "Duftkerze Lavendel", 995, catHome},
	{"WO-3002", "Wolldecke Merino", 8900, catHome},
	{"WO-3003", "Kissenhülle Leinen 50 × 50 cm", 1990, catHome},
	{"WO-3004", "Bettwäsche Leinen 135 × 200 cm", 11900, catHome},
	{"WO-3005", "Wärmflasche mit Strickbezug", 1795, catHome},
	{"WO-3006", "Fußmatte Kokos", 2490, catHome},
	{"WO-3007", "Stehleuchte Messing", 17900, catHome},
	{"WO-3008", "Bilderrahmen Eiche 30 × 40 cm", 2200, catHome},
	{"WO-3009", "Vase Steingut", 2900, catHome},
	{"OU-4001", "Picknickdecke, wasserfest", 3495, catOutdoor},
	{"OU-4002", "Thermoskanne 1 l", 2995, catOutdoor},
	{"OU-4003", "Campingstuhl, faltbar", 4900, catOutdoor},
	{"OU-4004", "Wanderrucksack 22 l", 7900, catOutdoor},
	{"OU-4005", "Stirnlampe LED", 2499, catOutdoor},
	{"OU-4006", "Weinkühler Edelstahl", 3990, catOutdoor},
	{"GE-5001", "Geschenkgutschein 25 €", 2500, catGifts},
	{"GE-5002", "Geschenkgutschein 50 €", 5000, catGifts},
	{"GE-5003", "Geschenkset Kräutergarten", 3990, catGifts},
	{"GE-5004", "Tee-Adventskalender", 2995, catGifts},
	{"BA-6001", "Handtuchset Bio-Baumwolle", 4990, catBath},
	{"BA-6002", "Seifenschale Olivenholz", 1290, catBath},
	{"BA-6003", "Badematte Waffelpiqué", 2795, catBath},
}

// Shipping lines are added to web-shop orders below the free-shipping
// threshold.
var (
	shippingStandard = product{"SHIP-STD", "Versand Standard", 495, -1}
	shippingExpress  = product{"SHIP-EXP", "Expressversand", 995, -1}
)

// freeShippingFrom is the order value from which standard shipping is free.
const freeShippingFrom model.Money = 5000

// emailProviders per country, weighted by market share.
var emailProviders = map[string][]weightedString{
	"DE": {
		{"gmail.com", 19}, {"gmx.de", 16}, {"web.de", 16}, {"t-online.de", 10}, {"gmx.net", 5},
		{"yahoo.de", 4}, {"icloud.com", 4}, {"outlook.de", 3}, {"hotmail.de", 3}, {"freenet.de", 3},
		{"googlemail.com", 2}, {"posteo.de", 2}, {"outlook.com", 2}, {"mailbox.org", 1}, {"aol.com", 1},
		{"arcor.de", 1}, {"online.de", 1}, {"me.com", 1}, {"live.de", 1},
	},
	"AT": {{"gmail.com", 30}, {"gmx.at", 25}, {"aon.at", 15}, {"a1.net", 8}, {"chello.at", 5}, {"outlook.com", 8}, {"icloud.com", 5}},
	"CH": {{"gmail.com", 30}, {"bluewin.ch", 30}, {"gmx.ch", 15}, {"hispeed.ch", 5}, {"sunrise.ch", 5}, {"outlook.com", 8}, {"icloud.com", 5}},
	"NL": {{"gmail.com", 35}, {"hotmail.com", 20}, {"ziggo.nl", 15}, {"outlook.com", 10}, {"kpnmail.nl", 10}, {"xs4all.nl", 5}},
}

// weightedString is a table entry with a relative weight.
type weightedString struct {
	s string
	w float64
}

// userAgents seen on consent forms.
var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.2420.81",
	"Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (iPad; CPU OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
	"Mozilla/5.0 (Linux; Android 12; moto g(60)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Mobile Safari/537.36",
}

// ipv4Blocks are the first two octets of access networks of large German
// providers, so evidence IPs look like consumer lines.
var ipv4Blocks = [][2]byte{
	{79, 194}, {79, 211}, {84, 132}, {84, 150}, {87, 123}, {87, 161}, {91, 4}, {91, 47}, {93, 199},
	{93, 222}, {178, 1}, {178, 24}, {188, 96}, {188, 174}, {217, 84}, {217, 229}, {95, 90}, {46, 114},
}

// ipv6Prefixes of the same providers.
var ipv6Prefixes = []string{"2003:e6", "2003:c2", "2a02:8108", "2a02:810d", "2a01:c22", "2001:16b8"}

// Notes operators and systems attach to interactions.
var (
	inboundCallNotes = []string{
		"Frage zum Lieferstatus", "Reklamation: Ware beschädigt angekommen", "Produktberatung Hochbeet",
		"Rücksendung angemeldet", "Adressänderung durchgegeben", "Frage zur Rechnung", "Gutschein eingelöst?",
		"Terminwunsch Lieferung per Spedition", "Lob für schnelle Lieferung", "Frage zu Öffnungszeiten der Filiale",
	}
	outboundCallNotes = []string{
		"Erreicht: Interesse, Angebot per Mail", "Erreicht: kein Bedarf", "Nicht erreicht, Mailbox",
		"Rückruf vereinbart", "Erreicht: Bestellung aufgenommen", "Erreicht: bitte nicht mehr anrufen",
	}
	chatNotes = []string{
		"Chat: Frage zur Verfügbarkeit", "Chat: Größe Bettwäsche", "Chat: Versandkosten Österreich",
		"Chat: Retoure", "Chat: Pflegehinweise Gusseisen", "Chat: Gutscheincode funktioniert nicht",
	}
	visitPages = []string{
		"/garten/giesskannen", "/garten/hochbeete", "/kueche/espressokocher", "/wohnen/decken", "/wohnen/kerzen",
		"/outdoor/picknick", "/geschenke/gutscheine", "/sale", "/neuheiten", "/filialen", "/ratgeber/balkongarten",
		"/ratgeber/gusseisen-pflegen", "/warenkorb", "/kundenkonto",
	}
	hardBounces = []string{"550 5.1.1 Mailbox unavailable", "550 5.1.1 User unknown", "553 5.1.3 Invalid recipient"}
	softBounces = []string{"452 4.2.2 Mailbox full", "421 4.7.0 Try again later", "450 4.2.1 Mailbox temporarily disabled"}
	replyNotes  = []string{
		"Antwort: Abwesenheitsnotiz", "Antwort: Frage zum Angebot", "Antwort: Bitte Rückruf",
		"Antwort: Danke für den Hinweis!", "Antwort: Ist der Artikel auch in Grün lieferbar?",
	}
)
