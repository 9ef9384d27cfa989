package demo

// Places: German cities with their real postcode ranges and dialling codes
// (weighted roughly by population), street names, and a few cities in
// Austria, Switzerland and the Netherlands. Postcodes are drawn from the
// city's range, so "Köln 50667" and "München 80331" look right and postcode
// prefix segments ("PLZ 8…") select the right region.

// city is one place addresses are drawn from.
type city struct {
	name    string
	country string // ISO 3166 alpha-2
	lo, hi  int    // postcode range (inclusive); NL codes get two letters appended
	area    string // dialling code without the leading 0
	weight  float64
	streets []string // local streets, used for part of the addresses
}

var germanCities = []city{
	{name: "Berlin", lo: 10115, hi: 14199, area: "30", weight: 3700, streets: berlinStreets},
	{name: "Hamburg", lo: 20095, hi: 22769, area: "40", weight: 1900, streets: hamburgStreets},
	{name: "München", lo: 80331, hi: 81929, area: "89", weight: 1500, streets: munichStreets},
	{name: "Köln", lo: 50667, hi: 51149, area: "221", weight: 1080, streets: cologneStreets},
	{name: "Frankfurt am Main", lo: 60306, hi: 60599, area: "69", weight: 760, streets: frankfurtStreets},
	{name: "Stuttgart", lo: 70173, hi: 70629, area: "711", weight: 630},
	{name: "Düsseldorf", lo: 40210, hi: 40629, area: "211", weight: 620},
	{name: "Leipzig", lo: 4103, hi: 4357, area: "341", weight: 600},
	{name: "Dortmund", lo: 44135, hi: 44388, area: "231", weight: 590},
	{name: "Essen", lo: 45127, hi: 45359, area: "201", weight: 580},
	{name: "Bremen", lo: 28195, hi: 28779, area: "421", weight: 570},
	{name: "Dresden", lo: 1067, hi: 1328, area: "351", weight: 560},
	{name: "Hannover", lo: 30159, hi: 30669, area: "511", weight: 540},
	{name: "Nürnberg", lo: 90402, hi: 90491, area: "911", weight: 520},
	{name: "Duisburg", lo: 47051, hi: 47279, area: "203", weight: 500},
	{name: "Bochum", lo: 44787, hi: 44894, area: "234", weight: 365},
	{name: "Wuppertal", lo: 42103, hi: 42399, area: "202", weight: 355},
	{name: "Bielefeld", lo: 33602, hi: 33739, area: "521", weight: 335},
	{name: "Bonn", lo: 53111, hi: 53229, area: "228", weight: 330},
	{name: "Münster", lo: 48143, hi: 48167, area: "251", weight: 320},
	{name: "Mannheim", lo: 68159, hi: 68309, area: "621", weight: 310},
	{name: "Karlsruhe", lo: 76131, hi: 76229, area: "721", weight: 305},
	{name: "Augsburg", lo: 86150, hi: 86199, area: "821", weight: 300},
	{name: "Wiesbaden", lo: 65183, hi: 65207, area: "611", weight: 280},
	{name: "Mönchengladbach", lo: 41061, hi: 41239, area: "2161", weight: 260},
	{name: "Gelsenkirchen", lo: 45879, hi: 45899, area: "209", weight: 260},
	{name: "Aachen", lo: 52062, hi: 52080, area: "241", weight: 250},
	{name: "Braunschweig", lo: 38100, hi: 38126, area: "531", weight: 250},
	{name: "Chemnitz", lo: 9111, hi: 9247, area: "371", weight: 245},
	{name: "Kiel", lo: 24103, hi: 24159, area: "431", weight: 245},
	{name: "Halle (Saale)", lo: 6108, hi: 6132, area: "345", weight: 238},
	{name: "Magdeburg", lo: 39104, hi: 39130, area: "391", weight: 236},
	{name: "Freiburg im Breisgau", lo: 79098, hi: 79117, area: "761", weight: 232},
	{name: "Krefeld", lo: 47798, hi: 47839, area: "2151", weight: 227},
	{name: "Mainz", lo: 55116, hi: 55131, area: "6131", weight: 218},
	{name: "Lübeck", lo: 23552, hi: 23570, area: "451", weight: 216},
	{name: "Erfurt", lo: 99084, hi: 99099, area: "361", weight: 214},
	{name: "Oberhausen", lo: 46045, hi: 46149, area: "208", weight: 209},
	{name: "Rostock", lo: 18055, hi: 18147, area: "381", weight: 209},
	{name: "Kassel", lo: 34117, hi: 34134, area: "561", weight: 201},
	{name: "Hagen", lo: 58089, hi: 58135, area: "2331", weight: 189},
	{name: "Potsdam", lo: 14467, hi: 14482, area: "331", weight: 183},
	{name: "Saarbrücken", lo: 66111, hi: 66133, area: "681", weight: 180},
	{name: "Hamm", lo: 59063, hi: 59077, area: "2381", weight: 179},
	{name: "Ludwigshafen am Rhein", lo: 67059, hi: 67071, area: "621", weight: 172},
	{name: "Mülheim an der Ruhr", lo: 45468, hi: 45481, area: "208", weight: 170},
	{name: "Oldenburg", lo: 26121, hi: 26135, area: "441", weight: 170},
	{name: "Osnabrück", lo: 49074, hi: 49090, area: "541", weight: 165},
	{name: "Leverkusen", lo: 51371, hi: 51381, area: "214", weight: 163},
	{name: "Heidelberg", lo: 69115, hi: 69126, area: "6221", weight: 160},
	{name: "Darmstadt", lo: 64283, hi: 64297, area: "6151", weight: 160},
	{name: "Solingen", lo: 42651, hi: 42719, area: "212", weight: 159},
	{name: "Regensburg", lo: 93047, hi: 93059, area: "941", weight: 153},
	{name: "Herne", lo: 44623, hi: 44653, area: "2323", weight: 156},
	{name: "Paderborn", lo: 33098, hi: 33106, area: "5251", weight: 152},
	{name: "Neuss", lo: 41460, hi: 41472, area: "2131", weight: 152},
	{name: "Ingolstadt", lo: 85049, hi: 85057, area: "841", weight: 139},
	{name: "Offenbach am Main", lo: 63065, hi: 63075, area: "69", weight: 131},
	{name: "Fürth", lo: 90762, hi: 90768, area: "911", weight: 129},
	{name: "Würzburg", lo: 97070, hi: 97084, area: "931", weight: 127},
	{name: "Ulm", lo: 89073, hi: 89081, area: "731", weight: 126},
	{name: "Heilbronn", lo: 74072, hi: 74081, area: "7131", weight: 126},
	{name: "Pforzheim", lo: 75172, hi: 75181, area: "7231", weight: 125},
	{name: "Wolfsburg", lo: 38440, hi: 38448, area: "5361", weight: 124},
	{name: "Göttingen", lo: 37073, hi: 37085, area: "551", weight: 118},
	{name: "Bottrop", lo: 46236, hi: 46244, area: "2041", weight: 117},
	{name: "Reutlingen", lo: 72760, hi: 72770, area: "7121", weight: 116},
	{name: "Koblenz", lo: 56068, hi: 56077, area: "261", weight: 114},
	{name: "Bremerhaven", lo: 27568, hi: 27580, area: "471", weight: 113},
	{name: "Recklinghausen", lo: 45657, hi: 45665, area: "2361", weight: 111},
	{name: "Erlangen", lo: 91052, hi: 91058, area: "9131", weight: 113},
	{name: "Bergisch Gladbach", lo: 51427, hi: 51469, area: "2202", weight: 111},
	{name: "Remscheid", lo: 42853, hi: 42899, area: "2191", weight: 111},
	{name: "Jena", lo: 7743, hi: 7751, area: "3641", weight: 110},
	{name: "Trier", lo: 54290, hi: 54296, area: "651", weight: 110},
	{name: "Salzgitter", lo: 38226, hi: 38259, area: "5341", weight: 104},
	{name: "Moers", lo: 47441, hi: 47447, area: "2841", weight: 103},
	{name: "Siegen", lo: 57072, hi: 57080, area: "271", weight: 101},
	{name: "Hildesheim", lo: 31134, hi: 31141, area: "5121", weight: 101},
	{name: "Gütersloh", lo: 33330, hi: 33335, area: "5241", weight: 101},
	{name: "Cottbus", lo: 3042, hi: 3055, area: "355", weight: 99},
	{name: "Kaiserslautern", lo: 67655, hi: 67663, area: "631", weight: 99},
	{name: "Witten", lo: 58452, hi: 58456, area: "2302", weight: 96},
	{name: "Schwerin", lo: 19053, hi: 19063, area: "385", weight: 96},
	{name: "Zwickau", lo: 8056, hi: 8066, area: "375", weight: 88},
	{name: "Gera", lo: 7545, hi: 7557, area: "365", weight: 93},
	{name: "Iserlohn", lo: 58636, hi: 58644, area: "2371", weight: 92},
	{name: "Düren", lo: 52349, hi: 52355, area: "2421", weight: 91},
	{name: "Esslingen am Neckar", lo: 73728, hi: 73734, area: "711", weight: 94},
	{name: "Ratingen", lo: 40878, hi: 40885, area: "2102", weight: 87},
	{name: "Flensburg", lo: 24937, hi: 24944, area: "461", weight: 92},
	{name: "Lünen", lo: 44532, hi: 44536, area: "2306", weight: 86},
	{name: "Ludwigsburg", lo: 71634, hi: 71642, area: "7141", weight: 93},
	{name: "Konstanz", lo: 78462, hi: 78467, area: "7531", weight: 86},
	{name: "Worms", lo: 67547, hi: 67551, area: "6241", weight: 84},
	{name: "Villingen-Schwenningen", lo: 78048, hi: 78056, area: "7721", weight: 86},
	{name: "Marburg", lo: 35037, hi: 35043, area: "6421", weight: 77},
	{name: "Gießen", lo: 35390, hi: 35398, area: "641", weight: 92},
	{name: "Tübingen", lo: 72070, hi: 72076, area: "7071", weight: 91},
	{name: "Bamberg", lo: 96047, hi: 96052, area: "951", weight: 78},
	{name: "Bayreuth", lo: 95444, hi: 95448, area: "921", weight: 74},
	{name: "Passau", lo: 94032, hi: 94036, area: "851", weight: 53},
	{name: "Rosenheim", lo: 83022, hi: 83026, area: "8031", weight: 64},
	{name: "Landshut", lo: 84028, hi: 84036, area: "871", weight: 74},
	{name: "Kempten (Allgäu)", lo: 87435, hi: 87439, area: "831", weight: 70},
	{name: "Fulda", lo: 36037, hi: 36043, area: "661", weight: 69},
	{name: "Lüneburg", lo: 21335, hi: 21339, area: "4131", weight: 77},
	{name: "Celle", lo: 29221, hi: 29229, area: "5141", weight: 70},
	{name: "Wilhelmshaven", lo: 26382, hi: 26389, area: "4421", weight: 76},
	{name: "Stralsund", lo: 18435, hi: 18439, area: "3831", weight: 59},
	{name: "Greifswald", lo: 17489, hi: 17493, area: "3834", weight: 59},
	{name: "Neubrandenburg", lo: 17033, hi: 17036, area: "395", weight: 63},
	{name: "Frankfurt (Oder)", lo: 15230, hi: 15236, area: "335", weight: 57},
	{name: "Dessau-Roßlau", lo: 6842, hi: 6849, area: "340", weight: 75},
	{name: "Weimar", lo: 99423, hi: 99428, area: "3643", weight: 65},
	{name: "Görlitz", lo: 2826, hi: 2828, area: "3581", weight: 56},
	{name: "Plauen", lo: 8523, hi: 8529, area: "3741", weight: 64},
	{name: "Wismar", lo: 23966, hi: 23970, area: "3841", weight: 43},
	{name: "Emden", lo: 26721, hi: 26725, area: "4921", weight: 50},
	{name: "Garmisch-Partenkirchen", lo: 82467, hi: 82467, area: "8821", weight: 27},
	{name: "Starnberg", lo: 82319, hi: 82319, area: "8151", weight: 23},
	{name: "Baden-Baden", lo: 76530, hi: 76534, area: "7221", weight: 55},
	{name: "Offenburg", lo: 77652, hi: 77656, area: "781", weight: 60},
	{name: "Friedrichshafen", lo: 88045, hi: 88048, area: "7541", weight: 61},
	{name: "Aschaffenburg", lo: 63739, hi: 63743, area: "6021", weight: 71},
	{name: "Schweinfurt", lo: 97421, hi: 97424, area: "9721", weight: 54},
	{name: "Hof", lo: 95028, hi: 95032, area: "9281", weight: 46},
	{name: "Detmold", lo: 32756, hi: 32760, area: "5231", weight: 74},
	{name: "Minden", lo: 32423, hi: 32429, area: "571", weight: 81},
	{name: "Herford", lo: 32049, hi: 32052, area: "5221", weight: 67},
	{name: "Bocholt", lo: 46395, hi: 46399, area: "2871", weight: 71},
	{name: "Wesel", lo: 46483, hi: 46487, area: "281", weight: 60},
	{name: "Soest", lo: 59494, hi: 59494, area: "2921", weight: 48},
	{name: "Lippstadt", lo: 59555, hi: 59558, area: "2941", weight: 68},
	{name: "Cuxhaven", lo: 27472, hi: 27478, area: "4721", weight: 48},
	{name: "Stade", lo: 21680, hi: 21684, area: "4141", weight: 47},
	{name: "Husum", lo: 25813, hi: 25813, area: "4841", weight: 23},
	{name: "Neumünster", lo: 24534, hi: 24539, area: "4321", weight: 79},
	{name: "Norderstedt", lo: 22844, hi: 22851, area: "40", weight: 80},
	{name: "Elmshorn", lo: 25335, hi: 25337, area: "4121", weight: 50},
	{name: "Lörrach", lo: 79539, hi: 79541, area: "7621", weight: 49},
	{name: "Ravensburg", lo: 88212, hi: 88214, area: "751", weight: 50},
	{name: "Memmingen", lo: 87700, hi: 87700, area: "8331", weight: 44},
	{name: "Straubing", lo: 94315, hi: 94315, area: "9421", weight: 48},
	{name: "Deggendorf", lo: 94469, hi: 94469, area: "991", weight: 34},
	{name: "Amberg", lo: 92224, hi: 92224, area: "9621", weight: 42},
	{name: "Coburg", lo: 96450, hi: 96450, area: "9561", weight: 41},
	{name: "Ansbach", lo: 91522, hi: 91522, area: "981", weight: 42},
	{name: "Aalen", lo: 73430, hi: 73434, area: "7361", weight: 68},
	{name: "Göppingen", lo: 73033, hi: 73037, area: "7161", weight: 58},
	{name: "Böblingen", lo: 71032, hi: 71034, area: "7031", weight: 50},
	{name: "Speyer", lo: 67346, hi: 67346, area: "6232", weight: 51},
	{name: "Landau in der Pfalz", lo: 76829, hi: 76829, area: "6341", weight: 47},
	{name: "Hanau", lo: 63450, hi: 63457, area: "6181", weight: 97},
	{name: "Wetzlar", lo: 35576, hi: 35586, area: "6441", weight: 53},
	{name: "Bad Homburg vor der Höhe", lo: 61348, hi: 61352, area: "6172", weight: 54},
	{name: "Meißen", lo: 1662, hi: 1662, area: "3521", weight: 28},
	{name: "Bautzen", lo: 2625, hi: 2625, area: "3591", weight: 38},
	{name: "Weiden in der Oberpfalz", lo: 92637, hi: 92637, area: "961", weight: 43},
	{name: "Eisenach", lo: 99817, hi: 99817, area: "3691", weight: 42},
	{name: "Gotha", lo: 99867, hi: 99867, area: "3621", weight: 45},
	{name: "Quedlinburg", lo: 6484, hi: 6484, area: "3946", weight: 24},
	{name: "Wernigerode", lo: 38855, hi: 38855, area: "3943", weight: 32},
}

// foreignCities are the neighbours' share of the customer base.
var foreignCities = []city{
	{name: "Wien", country: "AT", lo: 1010, hi: 1230, area: "1", weight: 190, streets: viennaStreets},
	{name: "Graz", country: "AT", lo: 8010, hi: 8055, area: "316", weight: 30, streets: austrianStreets},
	{name: "Linz", country: "AT", lo: 4020, hi: 4040, area: "732", weight: 21, streets: austrianStreets},
	{name: "Salzburg", country: "AT", lo: 5020, hi: 5026, area: "662", weight: 16, streets: austrianStreets},
	{name: "Innsbruck", country: "AT", lo: 6020, hi: 6080, area: "512", weight: 13, streets: austrianStreets},
	{name: "Zürich", country: "CH", lo: 8001, hi: 8057, area: "44", weight: 42, streets: swissStreets},
	{name: "Basel", country: "CH", lo: 4051, hi: 4059, area: "61", weight: 18, streets: swissStreets},
	{name: "Bern", country: "CH", lo: 3005, hi: 3027, area: "31", weight: 14, streets: swissStreets},
	{name: "Luzern", country: "CH", lo: 6003, hi: 6006, area: "41", weight: 8, streets: swissStreets},
	{name: "St. Gallen", country: "CH", lo: 9000, hi: 9016, area: "71", weight: 8, streets: swissStreets},
	{name: "Amsterdam", country: "NL", lo: 1011, hi: 1109, area: "20", weight: 30, streets: dutchStreets},
	{name: "Rotterdam", country: "NL", lo: 3011, hi: 3089, area: "10", weight: 22, streets: dutchStreets},
	{name: "Utrecht", country: "NL", lo: 3511, hi: 3585, area: "30", weight: 12, streets: dutchStreets},
	{name: "Den Haag", country: "NL", lo: 2491, hi: 2597, area: "70", weight: 18, streets: dutchStreets},
	{name: "Maastricht", country: "NL", lo: 6211, hi: 6229, area: "43", weight: 6, streets: dutchStreets},
}

// germanStreets are the names found in almost every German town.
var germanStreets = []string{
	"Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße", "Birkenweg",
	"Lindenstraße", "Kirchstraße", "Waldstraße", "Ringstraße", "Schillerstraße", "Goethestraße", "Jahnstraße",
	"Wiesenweg", "Am Sportplatz", "Mühlenweg", "Rosenstraße", "Blumenstraße", "Feldstraße", "Mozartstraße",
	"Beethovenstraße", "Lessingstraße", "Amselweg", "Buchenweg", "Eichenweg", "Ahornweg", "Tulpenweg",
	"Finkenweg", "Drosselweg", "Meisenweg", "Kastanienallee", "Parkstraße", "Poststraße", "Am Markt",
	"Friedrich-Ebert-Straße", "Kantstraße", "Uhlandstraße", "Heinrich-Heine-Straße", "Wilhelmstraße",
	"Kaiserstraße", "Königstraße", "Luisenstraße", "Am Anger", "Talstraße", "Hochstraße", "Brunnenstraße",
	"Bachstraße", "Mittelweg", "Sonnenstraße", "Steinweg", "Grüner Weg", "Im Winkel", "Zur Mühle",
	"An der Kirche", "Rathausstraße", "Breite Straße", "Lange Straße", "Neue Straße", "Große Straße",
	"Schloßstraße", "Weißdornweg", "Gießereistraße", "Mühlbachstraße", "Käthe-Kollwitz-Straße",
	"Geschwister-Scholl-Straße", "Robert-Koch-Straße", "Albert-Schweitzer-Straße", "Konrad-Adenauer-Straße",
	"Bismarckstraße", "Moltkestraße", "Am Bürgerpark", "Hölderlinweg", "Rüdesheimer Straße", "Lärchenweg",
	"Fliederweg", "Holunderweg", "Am Hügel", "Triftstraße", "Kiefernweg", "Erlenstraße", "Ulmenstraße",
	"Weidenweg", "Industriestraße", "Gewerbestraße", "Siemensstraße", "Am Hafen", "Kanalstraße",
}

var (
	berlinStreets = []string{
		"Kurfürstendamm", "Karl-Marx-Allee", "Prenzlauer Allee", "Schönhauser Allee", "Kastanienallee",
		"Torstraße", "Oranienstraße", "Sonnenallee", "Hermannstraße", "Bergmannstraße", "Kantstraße",
		"Greifswalder Straße", "Frankfurter Allee", "Müllerstraße", "Boxhagener Straße", "Schloßstraße",
		"Kollwitzstraße", "Weserstraße", "Danziger Straße", "Friedrichstraße",
	}
	hamburgStreets = []string{
		"Eppendorfer Landstraße", "Osterstraße", "Elbchaussee", "Mühlenkamp", "Lange Reihe", "Schanzenstraße",
		"Ottenser Hauptstraße", "Fuhlsbüttler Straße", "Bahrenfelder Straße", "Winterhuder Weg",
		"Grindelallee", "Wandsbeker Chaussee", "Bramfelder Straße", "Hoheluftchaussee",
	}
	munichStreets = []string{
		"Leopoldstraße", "Lindwurmstraße", "Sendlinger Straße", "Schwanthalerstraße", "Nymphenburger Straße",
		"Rosenheimer Straße", "Landsberger Straße", "Dachauer Straße", "Türkenstraße", "Wörthstraße",
		"Fraunhoferstraße", "Ungererstraße", "Belgradstraße", "Weißenburger Straße",
	}
	cologneStreets = []string{
		"Aachener Straße", "Venloer Straße", "Severinstraße", "Zülpicher Straße", "Neusser Straße",
		"Bonner Straße", "Dürener Straße", "Subbelrather Straße", "Berrenrather Straße", "Merowingerstraße",
		"Luxemburger Straße", "Deutz-Mülheimer Straße",
	}
	frankfurtStreets = []string{
		"Berger Straße", "Leipziger Straße", "Schweizer Straße", "Oeder Weg", "Mainzer Landstraße",
		"Eschersheimer Landstraße", "Hanauer Landstraße", "Textorstraße", "Gräfstraße", "Rotlintstraße",
	}
	viennaStreets = []string{
		"Mariahilfer Straße", "Landstraßer Hauptstraße", "Favoritenstraße", "Währinger Straße",
		"Josefstädter Straße", "Neubaugasse", "Praterstraße", "Thaliastraße", "Wiedner Hauptstraße", "Ottakringer Straße",
	}
	austrianStreets = []string{"Hauptplatz", "Herrengasse", "Bahnhofstraße", "Schulgasse", "Kirchengasse", "Lindengasse", "Grazer Straße", "Landstraße"}
	swissStreets    = []string{"Bahnhofstrasse", "Seestrasse", "Dorfstrasse", "Hauptstrasse", "Kirchgasse", "Rosenweg", "Schulhausstrasse", "Zürcherstrasse", "Badenerstrasse", "Weinbergstrasse"}
	dutchStreets    = []string{"Prinsengracht", "Kalverstraat", "Dorpsstraat", "Kerkstraat", "Molenweg", "Stationsweg", "Nieuwe Binnenweg", "Oudegracht", "Herengracht", "Javastraat"}
)

// mobilePrefixes are German mobile network ranges (without the leading 0)
// with the number of digits that follow.
var mobilePrefixes = []struct {
	prefix string
	digits int
}{
	{"1511", 7}, {"1512", 7}, {"1514", 7}, {"1515", 7}, {"1516", 7}, {"1517", 7},
	{"1520", 7}, {"1522", 7}, {"1523", 7}, {"1525", 7},
	{"1570", 7}, {"1573", 7}, {"1575", 7}, {"1577", 7}, {"1578", 7}, {"1590", 7},
	{"160", 7}, {"162", 7}, {"163", 7},
	{"170", 7}, {"171", 7}, {"172", 7}, {"173", 7}, {"174", 7}, {"175", 7},
	{"176", 8}, {"177", 8}, {"178", 8}, {"179", 7},
}

// foreignMobile are mobile prefixes of the neighbours (country code,
// national prefix without 0, digits that follow).
var foreignMobile = map[string][]struct {
	cc, prefix string
	digits     int
}{
	"AT": {{"43", "664", 7}, {"43", "676", 7}, {"43", "650", 7}, {"43", "699", 8}},
	"CH": {{"41", "79", 7}, {"41", "78", 7}, {"41", "76", 7}},
	"NL": {{"31", "6 1", 7}, {"31", "6 2", 7}, {"31", "6 3", 7}, {"31", "6 4", 7}, {"31", "6 5", 7}},
}

// foreignCountryCode is the dialling code of each neighbour.
var foreignCountryCode = map[string]string{"AT": "43", "CH": "41", "NL": "31"}
