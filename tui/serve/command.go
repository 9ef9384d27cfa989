package serve

import (
	"errors"
	"strings"
)

// splitCommand splits the command line a client sent (`ssh HOST consent
// record --evidence 'note=clicked the link'`) into words as a POSIX shell
// would: blanks separate words; single quotes keep everything up to the
// next one; double quotes keep everything but a backslash before \, ", $
// or `; a backslash outside quotes keeps the next character. A line the
// shell would not accept (an open quote, a trailing backslash) is an error,
// not a guess: run cut short, a command could do something else than meant.
func splitCommand(raw string) ([]string, error) {
	var (
		words  []string
		w      strings.Builder
		inWord bool
	)
	rs := []rune(raw)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case r == '\\':
			if i+1 == len(rs) {
				return nil, errors.New("it ends with a backslash")
			}
			i++
			if rs[i] != '\n' { // a backslash-newline continues the line
				w.WriteRune(rs[i])
				inWord = true
			}
		case r == '\'':
			end := indexRune(rs, i+1, '\'')
			if end < 0 {
				return nil, errors.New("a single quote (') is not closed")
			}
			w.WriteString(string(rs[i+1 : end]))
			i, inWord = end, true
		case r == '"':
			i++
			for ; i < len(rs) && rs[i] != '"'; i++ {
				if rs[i] == '\\' && i+1 < len(rs) && strings.ContainsRune("\\\"$`", rs[i+1]) {
					i++
				}
				w.WriteRune(rs[i])
			}
			if i == len(rs) {
				return nil, errors.New(`a double quote (") is not closed`)
			}
			inWord = true
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

func indexRune(rs []rune, from int, r rune) int {
	for i := from; i < len(rs); i++ {
		if rs[i] == r {
			return i
		}
	}
	return -1
}
