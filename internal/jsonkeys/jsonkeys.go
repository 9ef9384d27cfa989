// Package jsonkeys finds repeated keys in JSON objects, which
// encoding/json accepts silently (it keeps the last value).
package jsonkeys

import (
	"bytes"
	"encoding/json"
)

// Repeated finds the first key that an object of raw holds twice, and
// returns it as a path (evidence.ip). An importer that must not guess
// which of two values was meant asks this after encoding/json accepted the
// line; raw is expected to be valid JSON, and anything malformed ends the
// search with false.
func Repeated(raw []byte) (string, bool) {
	s := scanner{b: raw}
	return s.value("")
}

// scanner walks valid JSON without decoding it (a line of an import is
// scanned once more after it was decoded, so this must cost little).
type scanner struct {
	b   []byte
	i   int
	bad bool // malformed: every level stops
}

func (s *scanner) peek() byte {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return c
		}
	}
	return 0
}

func (s *scanner) value(path string) (string, bool) {
	switch s.peek() {
	case '{':
		return s.object(path)
	case '[':
		return s.array(path)
	case '"':
		if _, ok := s.str(); !ok {
			s.bad = true
		}
	default: // a number, true, false or null
		start := s.i
		for ; s.i < len(s.b); s.i++ {
			switch s.b[s.i] {
			case ',', '}', ']', ':', '"', '{', '[', ' ', '\t', '\r', '\n':
				s.bad = s.i == start
				return "", false
			}
		}
		s.bad = s.i == start
	}
	return "", false
}

func (s *scanner) object(path string) (string, bool) {
	s.i++ // {
	var buf [16][]byte
	seen := buf[:0]
	for !s.bad {
		switch s.peek() {
		case '}':
			s.i++
			return "", false
		case ',':
			s.i++
			continue
		case '"':
		default:
			s.bad = true
			return "", false
		}
		key, ok := s.str()
		if !ok {
			s.bad = true
			return "", false
		}
		for _, k := range seen {
			if bytes.Equal(k, key) {
				return join(path, string(key)), true
			}
		}
		seen = append(seen, key)
		if s.peek() != ':' {
			s.bad = true
			return "", false
		}
		s.i++
		var found bool
		var dup string
		switch s.peek() {
		case '{', '[': // the path of what it holds, built only here
			dup, found = s.value(join(path, string(key)))
		default:
			dup, found = s.value("")
		}
		if found {
			return dup, true
		}
	}
	return "", false
}

func (s *scanner) array(path string) (string, bool) {
	s.i++ // [
	for !s.bad {
		switch s.peek() {
		case ']':
			s.i++
			return "", false
		case ',':
			s.i++
		case 0:
			s.bad = true
		default:
			if dup, found := s.value(path); found {
				return dup, true
			}
		}
	}
	return "", false
}

// str reads a string at s.i and returns its text: the raw bytes, or, if
// it holds an escape, the decoded text (so that "a" and "\u0061" are one
// key).
func (s *scanner) str() ([]byte, bool) {
	start := s.i
	s.i++ // "
	escaped := false
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			escaped = true
			s.i += 2
			continue
		case '"':
			s.i++
			if !escaped {
				return s.b[start+1 : s.i-1], true
			}
			var text string
			if json.Unmarshal(s.b[start:s.i], &text) != nil {
				return nil, false
			}
			return []byte(text), true
		}
		s.i++
	}
	return nil, false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
