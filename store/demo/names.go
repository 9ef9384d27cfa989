package demo

// Name tables. German first names follow the birth year (an Ursula is
// rarely born in 2005, a Mia never in 1950); the other origins mirror the
// larger communities in Germany and neighbours with their own spelling,
// so the demo shows umlauts, ß, Polish, Turkish, Nordic and other letters
// that sorting, search and email transliteration must handle.

// nameOrigin is one group of first and last names with its share of the
// customer base.
type nameOrigin struct {
	key    string
	weight float64
	// language is the preferred language of most people of this origin
	// living in the DACH region (most still prefer German).
	language string
	female   []string
	male     []string
	last     []string
}

// German first names by birth cohort.
var (
	germanFemaleOld = []string{
		"Ursula", "Helga", "Gisela", "Ingrid", "Renate", "Monika", "Brigitte", "Karin", "Erika", "Elke",
		"Gertrud", "Hannelore", "Christa", "Marianne", "Waltraud", "Irmgard", "Rosemarie", "Inge", "Edith", "Bärbel",
		"Jutta", "Heidemarie", "Sieglinde", "Gudrun", "Margot", "Annegret", "Dörte", "Hildegard", "Lieselotte", "Käthe",
	}
	germanMaleOld = []string{
		"Hans", "Klaus", "Jürgen", "Dieter", "Peter", "Wolfgang", "Günter", "Horst", "Manfred", "Gerhard",
		"Werner", "Heinz", "Helmut", "Rolf", "Bernd", "Rainer", "Uwe", "Karl-Heinz", "Hans-Peter", "Siegfried",
		"Lothar", "Joachim", "Eberhard", "Reinhard", "Friedhelm", "Günther", "Wilfried", "Ulrich", "Detlef", "Jörg",
	}
	germanFemaleMid = []string{
		"Sabine", "Petra", "Andrea", "Claudia", "Susanne", "Nicole", "Stefanie", "Katrin", "Anja", "Tanja",
		"Sandra", "Julia", "Christina", "Daniela", "Melanie", "Kerstin", "Birgit", "Silke", "Heike", "Martina",
		"Katharina", "Nadine", "Jana", "Simone", "Yvonne", "Maren", "Britta", "Antje", "Ute", "Doreen",
		"Anke", "Bettina", "Ines", "Manuela", "Sünje",
	}
	germanMaleMid = []string{
		"Thomas", "Michael", "Andreas", "Stefan", "Frank", "Markus", "Christian", "Martin", "Sven", "Torsten",
		"Matthias", "Oliver", "Alexander", "Jens", "Dirk", "Carsten", "Sebastian", "Daniel", "Tobias", "Florian",
		"Björn", "Jan", "Marco", "Ralf", "Holger", "Kai", "Volker", "André", "René", "Timo",
		"Maik", "Nils", "Lars", "Jörn", "Sönke",
	}
	germanFemaleYoung = []string{
		"Lena", "Anna", "Laura", "Lea", "Hannah", "Sophie", "Marie", "Lisa", "Leonie", "Johanna",
		"Emma", "Mia", "Clara", "Lina", "Paula", "Charlotte", "Luisa", "Greta", "Jule", "Amelie",
		"Emilia", "Ida", "Nele", "Frieda", "Mathilda", "Anna-Lena", "Zoë", "Maja", "Chiara", "Käthe",
	}
	germanMaleYoung = []string{
		"Lukas", "Leon", "Jonas", "Finn", "Felix", "Paul", "Maximilian", "Niklas", "Tim", "Luca",
		"Elias", "Noah", "Ben", "Jannik", "Moritz", "Julian", "Fabian", "Till", "Henrik", "Mats",
		"Ole", "Emil", "Anton", "Theo", "Jakob", "Malte", "Lennart", "Bastian", "Jannis", "Sören",
	}
)

// germanLast is weighted by repetition at the top: the common names come
// first and are drawn from a skewed distribution.
var germanLast = []string{
	"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
	"Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
	"Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
	"Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber",
	"Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert",
	"Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz",
	"Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin",
	"Schumacher", "Krämer", "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß", "Seidel", "Heinrich",
	"Brandt", "Haas", "Schreiber", "Graf", "Schulte", "Dietrich", "Ziegler", "Kuhn", "Kühn", "Pohl",
	"Engel", "Horn", "Busch", "Bergmann", "Thomas", "Voigt", "Sauer", "Arnold", "Wolff", "Pfeiffer",
	"Strauß", "Voß", "Nußbaum", "Preuß", "Großmann", "Rößler", "Süß", "Heß", "Weißenborn", "Fleißner",
	"Brückner", "Böttcher", "Lüdtke", "Jürgens", "Hübner", "Döring", "Gärtner", "Töpfer", "Müller-Lüdenscheidt", "Schäfer-Gümbel",
	"Ehlers", "Thiele", "Behrens", "Lindner", "Rademacher", "Wendt", "Janssen", "Hansen", "Petersen", "Carstensen",
	"Oberhuber", "Wimmer", "Brunner", "Eder", "Steiner", "Moser", "Gruber", "Leitner", "Aigner", "Pichler",
	"von Bülow", "von der Heide", "zu Salm", "Freiherr von Stein", "Özdemir-Hartmann", "Meyer-Landrut",
}

// nameOrigins lists the origins with their shares. The German entry's
// first names are replaced by the cohort tables above.
var nameOrigins = []nameOrigin{
	{key: "de", weight: 76, language: "de"},
	{
		key: "tr", weight: 6, language: "de",
		female: []string{"Özlem", "Ayşe", "Fatma", "Elif", "Zeynep", "Emine", "Hülya", "Gül", "Derya", "Büşra", "Merve", "Şeyma", "Yasemin", "Gülşen", "Melike", "Esra"},
		male:   []string{"Mehmet", "Mustafa", "Ahmet", "Emre", "Can", "Burak", "Hüseyin", "Murat", "Yusuf", "Ömer", "Serkan", "Tarık", "Oğuz", "Barış", "Cem", "İsmail"},
		last:   []string{"Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Koç", "Kurt", "Özkan", "Şimşek", "Güneş", "Erdoğan"},
	},
	{
		key: "pl", weight: 5, language: "de",
		female: []string{"Małgorzata", "Agnieszka", "Katarzyna", "Magdalena", "Joanna", "Dorota", "Ewa", "Beata", "Anna", "Grażyna", "Żaneta", "Justyna"},
		male:   []string{"Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Marek", "Michał", "Łukasz", "Grzegorz", "Jakub", "Wojciech", "Przemysław"},
		last:   []string{"Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Krawczyk", "Piątek", "Grabowski", "Nowakowski", "Pawłowski", "Michalski"},
	},
	{
		key: "it", weight: 2.5, language: "de",
		female: []string{"Giulia", "Francesca", "Chiara", "Alessandra", "Federica", "Valentina", "Sara", "Elena", "Martina", "Rosaria"},
		male:   []string{"Marco", "Giuseppe", "Luca", "Alessandro", "Matteo", "Francesco", "Antonio", "Davide", "Salvatore", "Nicolò"},
		last:   []string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Costa", "D'Angelo"},
	},
	{
		key: "ru", weight: 3, language: "de",
		female: []string{"Olga", "Natalia", "Swetlana", "Irina", "Tatjana", "Jelena", "Anastasia", "Julia", "Walentina", "Ljudmila", "Oksana", "Xenia"},
		male:   []string{"Sergej", "Alexander", "Dmitri", "Andrej", "Wladimir", "Viktor", "Juri", "Maxim", "Nikolai", "Eugen", "Waldemar", "Artjom"},
		last:   []string{"Schmidt", "Wagner", "Iwanow", "Petrow", "Smirnow", "Kusnezow", "Popow", "Wolkow", "Lebedew", "Fischer", "Koslow", "Nowikow", "Morosow", "Sokolow", "Becker", "Hermann"},
	},
	{
		key: "gr", weight: 1.5, language: "de",
		female: []string{"Eleni", "Maria", "Georgia", "Dimitra", "Sofia", "Katerina", "Vasiliki", "Ioanna"},
		male:   []string{"Georgios", "Dimitrios", "Konstantinos", "Nikolaos", "Ioannis", "Christos", "Panagiotis", "Vasilios"},
		last:   []string{"Papadopoulos", "Pappas", "Georgiou", "Nikolaidis", "Oikonomou", "Vlachos", "Karagiannis", "Dimitriou", "Christodoulou", "Alexiou"},
	},
	{
		key: "hr", weight: 2, language: "de",
		female: []string{"Ivana", "Marija", "Ana", "Jelena", "Snežana", "Mirjana", "Dragana", "Vesna", "Tijana", "Milica"},
		male:   []string{"Ivan", "Marko", "Luka", "Nikola", "Dragan", "Goran", "Zoran", "Miloš", "Stjepan", "Dražen"},
		last:   []string{"Horvat", "Kovačević", "Babić", "Marić", "Jurić", "Novak", "Petrović", "Jovanović", "Nikolić", "Đorđević", "Perić", "Knežević", "Vuković", "Šarić"},
	},
	{
		key: "nordic", weight: 1, language: "de",
		female: []string{"Ingrid", "Astrid", "Sigrid", "Freja", "Maja", "Solveig", "Karin", "Linnéa", "Åsa", "Birgitta"},
		male:   []string{"Søren", "Lars", "Erik", "Nils", "Magnus", "Anders", "Bjørn", "Jesper", "Mikael", "Håkan"},
		last:   []string{"Ødegaard", "Jørgensen", "Sørensen", "Nielsen", "Andersson", "Johansson", "Lindqvist", "Halvorsen", "Bergström", "Åberg", "Kjær", "Løvås"},
	},
	{
		key: "nl", weight: 1, language: "de",
		female: []string{"Anouk", "Sanne", "Femke", "Lotte", "Marloes", "Ilse", "Eline", "Noor"},
		male:   []string{"Daan", "Bram", "Sem", "Thijs", "Joost", "Maarten", "Ruud", "Pieter"},
		last:   []string{"de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "van der Meer", "Mulder"},
	},
	{
		key: "es", weight: 1, language: "de",
		female: []string{"María", "Lucía", "Carmen", "Inês", "Beatriz", "Sofía", "Joana", "Marta"},
		male:   []string{"José", "Javier", "Andrés", "João", "Rui", "Sergio", "Álvaro", "Tomás"},
		last:   []string{"García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gonçalves", "Conceição", "Muñoz", "Peña"},
	},
	{
		key: "ar", weight: 1, language: "de",
		female: []string{"Fatima", "Leila", "Amira", "Yasmin", "Nour", "Rania", "Samira", "Huda"},
		male:   []string{"Ahmad", "Mohammed", "Omar", "Karim", "Tarek", "Khaled", "Samir", "Youssef"},
		last:   []string{"Al-Hassan", "Haddad", "Khalil", "Mansour", "Nasser", "Saleh", "Hamdan", "El-Amin", "Aziz", "Rahman"},
	},
	{
		key: "fr", weight: 1, language: "de",
		female: []string{"Camille", "Chloé", "Élodie", "Amélie", "Hélène", "Céline", "Manon", "Léa"},
		male:   []string{"Julien", "Mathieu", "Théo", "Nicolas", "Clément", "Étienne", "Hugo", "Raphaël"},
		last:   []string{"Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau", "Fontaine", "Chevalier", "Lemaître"},
	},
}

// companyStems and companyTrades build business names such as
// "Schneider Haustechnik GmbH" or "Nordlicht Medien GmbH & Co. KG".
var (
	companyTrades = []string{
		"Haustechnik", "Gartenbau", "Gastronomie", "Hotelbedarf", "Bäckerei", "Blumenhandel", "Floristik",
		"Landschaftsbau", "Innenausbau", "Raumausstattung", "Küchenstudio", "Einrichtungen", "Immobilien",
		"Steuerberatung", "Medien", "Logistik", "Feinkost", "Café & Rösterei", "Catering", "Tischlerei",
		"Bürobedarf", "Eventservice", "Kita-Ausstattung", "Pflegedienst", "Weinhandel", "Baumschule",
	}
	companyFancy = []string{
		"Nordlicht", "Alpenblick", "Elbufer", "Rheingold", "Sonnenhof", "Lindenhof", "Spreewerk", "Isartal",
		"Mainufer", "Hafenkante", "Grünwerk", "Bergquell", "Ostseewind", "Schwarzwald", "Weserbogen", "Altstadt",
	}
	companyForms = []string{"GmbH", "GmbH", "GmbH", "GmbH", "GmbH & Co. KG", "AG", "KG", "e.K.", "OHG", "UG (haftungsbeschränkt)"}
	jobTitles    = []string{"Geschäftsführung", "Einkauf", "Inhaber", "Inhaberin", "Office Management", "Filialleitung", "Marketing", "Facility Management"}
)
