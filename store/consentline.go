package store

import (
	"encoding/json"
	"unicode/utf8"
)

// A fast path for decoding one import line. encoding/json (reflection, a
// decoder per line for DisallowUnknownFields) was the largest part of an
// import's CPU time outside the store. Lines as exporters write them — one
// flat object, the exact field names, strings without escapes, the
// customer as a plain number or string — are decoded here; anything else
// (escapes, other spellings of a field name, a repeated field,
// nesting beyond evidence, trailing text) makes parseConsentLineFast
// report false, and the line goes to encoding/json, so accepted lines,
// decoded values and error messages stay exactly what encoding/json gives.

// parseConsentLineFast decodes raw into l and reports whether it could;
// when it reports false, l must be decoded again by encoding/json (from a
// zero ConsentLine). l.Customer points into raw; the strings are copies.
func parseConsentLineFast(raw []byte, l *ConsentLine) bool {
	*l = ConsentLine{}
	p := fastParser{b: raw}
	if !p.consume('{') {
		return false
	}
	var seen uint16
	p.space()
	if p.peek() == '}' {
		p.i++
		return p.atEnd()
	}
	for {
		key, ok := p.str()
		if !ok || !p.consume(':') {
			return false
		}
		f := consentLineField(key)
		if f < 0 || seen&(1<<f) != 0 {
			return false // unknown (or differently spelled) or repeated: encoding/json decides
		}
		seen |= 1 << f
		p.space()
		switch {
		case p.null():
			// encoding/json leaves a string or a map at its zero value and
			// hands "null" to the json.RawMessage.
			if f == fieldCustomer {
				l.Customer = json.RawMessage(p.b[p.i-4 : p.i])
			}
		case f == fieldCustomer:
			v, ok := p.customer()
			if !ok {
				return false
			}
			l.Customer = json.RawMessage(v)
		case f == fieldEvidence:
			if !p.evidence(l) {
				return false
			}
		default:
			v, ok := p.str()
			if !ok {
				return false
			}
			*l.stringField(f) = string(v)
		}
		p.space()
		switch p.peek() {
		case ',':
			p.i++
			p.space()
		case '}':
			p.i++
			return p.atEnd()
		default:
			return false
		}
	}
}

const (
	fieldCustomer = iota
	fieldCustomerEmail
	fieldChannel
	fieldPurpose
	fieldKind
	fieldBasis
	fieldAt
	fieldRecordedAt
	fieldSource
	fieldTextVersion
	fieldEvidence
)

// consentLineField names the field of an exactly spelled key, or -1.
func consentLineField(key []byte) int {
	switch string(key) {
	case "customer":
		return fieldCustomer
	case "customer_email":
		return fieldCustomerEmail
	case "channel":
		return fieldChannel
	case "purpose":
		return fieldPurpose
	case "kind":
		return fieldKind
	case "basis":
		return fieldBasis
	case "at":
		return fieldAt
	case "recorded_at":
		return fieldRecordedAt
	case "source":
		return fieldSource
	case "text_version":
		return fieldTextVersion
	case "evidence":
		return fieldEvidence
	}
	return -1
}

func (l *ConsentLine) stringField(f int) *string {
	switch f {
	case fieldCustomerEmail:
		return &l.CustomerEmail
	case fieldChannel:
		return &l.Channel
	case fieldPurpose:
		return &l.Purpose
	case fieldKind:
		return &l.Kind
	case fieldBasis:
		return &l.Basis
	case fieldAt:
		return &l.At
	case fieldRecordedAt:
		return &l.RecordedAt
	case fieldSource:
		return &l.Source
	default: // fieldTextVersion
		return &l.TextVersion
	}
}

type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// space skips JSON whitespace.
func (p *fastParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// consume skips whitespace and then c, reporting whether c was there.
func (p *fastParser) consume(c byte) bool {
	p.space()
	if p.peek() != c {
		return false
	}
	p.i++
	return true
}

// null skips a null literal, reporting whether there was one.
func (p *fastParser) null() bool {
	if len(p.b)-p.i >= 4 && string(p.b[p.i:p.i+4]) == "null" {
		p.i += 4
		return true
	}
	return false
}

// atEnd reports whether only whitespace follows.
func (p *fastParser) atEnd() bool {
	p.space()
	return p.i == len(p.b)
}

// str reads a string without escapes or control characters and with
// valid UTF-8 (encoding/json would replace invalid bytes), returning its
// content.
func (p *fastParser) str() ([]byte, bool) {
	p.space()
	if p.peek() != '"' {
		return nil, false
	}
	start := p.i + 1
	ascii := true
	for j := start; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			s := p.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			p.i = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false
}

// customer reads the customer's value as encoding/json keeps it in a
// json.RawMessage: a plain string, or an integer without sign, fraction
// or exponent.
func (p *fastParser) customer() ([]byte, bool) {
	start := p.i
	switch c := p.peek(); {
	case c == '"':
		if _, ok := p.str(); !ok {
			return nil, false
		}
	case c == '0':
		p.i++
	case c >= '1' && c <= '9':
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
	default:
		return nil, false
	}
	if c := p.peek(); c == '.' || c == 'e' || c == 'E' || (c >= '0' && c <= '9') {
		return nil, false
	}
	return p.b[start:p.i], true
}

// evidence reads a flat object of strings with distinct keys.
func (p *fastParser) evidence(l *ConsentLine) bool {
	if !p.consume('{') {
		return false
	}
	l.Evidence = map[string]string{}
	p.space()
	if p.peek() == '}' {
		p.i++
		return true
	}
	for {
		k, ok := p.str()
		if !ok || !p.consume(':') {
			return false
		}
		v, ok := p.str()
		if !ok {
			return false
		}
		if _, dup := l.Evidence[string(k)]; dup {
			return false
		}
		l.Evidence[string(k)] = string(v)
		p.space()
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return true
		default:
			return false
		}
	}
}
