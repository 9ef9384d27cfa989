package palette

import (
	"unicode"
)

// Scoring weights. A matched character is worth matchScore; matching at the
// start of a word or right after the previous match is worth more, because
// that is how people abbreviate ("nc" for New Campaign); skipped characters
// cost a little, so tighter matches win.
const (
	matchScore       = 16
	wordStartBonus   = 10
	consecutiveBonus = 8
	gapPenalty       = 1
	maxLeadPenalty   = 5 // characters before the first match stop costing after this
)

// Result is a successful fuzzy match.
type Result struct {
	Score int
	// Positions are the rune indices of text that matched the pattern, in
	// increasing order, for highlighting.
	Positions []int
}

// Match reports whether the characters of pattern appear in text in order
// (a subsequence), ignoring case, spaces in the pattern and the accents of
// common Latin letters (so "muller" finds "Müller"). It returns the best
// scoring alignment. An empty pattern matches everything with score 0.
func Match(pattern, text string) (Result, bool) {
	var p []rune
	for _, r := range pattern {
		if !unicode.IsSpace(r) {
			p = append(p, fold(r))
		}
	}
	if len(p) == 0 {
		return Result{}, true
	}
	t := []rune(text)
	n, m := len(t), len(p)
	if m > n {
		return Result{}, false
	}
	tl := make([]rune, n)
	bonus := make([]int, n)
	for j, r := range t {
		tl[j] = fold(r)
		if wordStart(t, j) {
			bonus[j] = wordStartBonus
		}
	}

	const none = -1 << 30
	prev, cur := make([]int, n), make([]int, n)
	from := make([][]int32, m) // from[i][j]: where p[i-1] matched when p[i] matched at j
	for j := range n {
		prev[j] = none
		if tl[j] == p[0] {
			prev[j] = matchScore + bonus[j] - min(j, maxLeadPenalty)*gapPenalty
		}
	}
	for i := 1; i < m; i++ {
		from[i] = make([]int32, n)
		// gapBest is the best prev[k] - (j-1-k)*gapPenalty over k ≤ j-2,
		// kept up to date as j advances so the whole pass is O(n).
		gapBest, gapArg := none, -1
		for j := range n {
			if j >= 2 {
				if gapBest != none {
					gapBest -= gapPenalty
				}
				if prev[j-2] != none && prev[j-2]-gapPenalty > gapBest {
					gapBest, gapArg = prev[j-2]-gapPenalty, j-2
				}
			}
			cur[j] = none
			if tl[j] != p[i] {
				continue
			}
			best, arg := none, -1
			if j >= 1 && prev[j-1] != none {
				best, arg = prev[j-1]+consecutiveBonus, j-1
			}
			if gapBest != none && gapBest > best {
				best, arg = gapBest, gapArg
			}
			if best == none {
				continue
			}
			cur[j] = best + matchScore + bonus[j]
			from[i][j] = int32(arg)
		}
		prev, cur = cur, prev
	}

	end, score := -1, none
	for j := range n {
		if prev[j] > score {
			end, score = j, prev[j]
		}
	}
	if end < 0 {
		return Result{}, false
	}
	pos := make([]int, m)
	pos[m-1] = end
	for i := m - 1; i > 0; i-- {
		pos[i-1] = int(from[i][pos[i]])
	}
	return Result{Score: score, Positions: pos}, true
}

// wordStart reports whether t[j] begins a word: the first rune, a rune after
// a separator, an upper-case letter after a lower-case one (camelCase), or
// the first digit or letter after the other kind.
func wordStart(t []rune, j int) bool {
	if j == 0 {
		return true
	}
	a, b := t[j-1], t[j]
	switch {
	case !unicode.IsLetter(a) && !unicode.IsDigit(a):
		return unicode.IsLetter(b) || unicode.IsDigit(b)
	case unicode.IsLower(a) && unicode.IsUpper(b):
		return true
	case unicode.IsDigit(a) != unicode.IsDigit(b):
		return true
	}
	return false
}

// foldTable maps accented Latin letters to their base letter, lower case.
var foldTable = map[rune]rune{
	'à': 'a', 'á': 'a', 'â': 'a', 'ã': 'a', 'ä': 'a', 'å': 'a', 'æ': 'a',
	'ç': 'c', 'è': 'e', 'é': 'e', 'ê': 'e', 'ë': 'e',
	'ì': 'i', 'í': 'i', 'î': 'i', 'ï': 'i', 'ñ': 'n',
	'ò': 'o', 'ó': 'o', 'ô': 'o', 'õ': 'o', 'ö': 'o', 'ø': 'o',
	'ù': 'u', 'ú': 'u', 'û': 'u', 'ü': 'u', 'ý': 'y', 'ÿ': 'y', 'ß': 's',
	'ł': 'l', 'š': 's', 'ž': 'z', 'č': 'c', 'ř': 'r', 'ě': 'e', 'ő': 'o', 'ű': 'u',
}

func fold(r rune) rune {
	r = unicode.ToLower(r)
	if f, ok := foldTable[r]; ok {
		return f
	}
	return r
}
