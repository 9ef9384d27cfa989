// Package jsonkeys finds repeated keys in JSON objects, which
// encoding/json accepts silently.
package jsonkeys

import (
	"bytes"
	"encoding/json"
)

// Repeated finds the first key that an object of raw (valid JSON) holds
// twice, and returns it as a path (evidence.ip). encoding/json keeps the
// last value of a repeated key without a word; an importer that must not
// guess which one was meant asks this first.
func Repeated(raw []byte) (string, bool) {
	type object struct {
		path  string
		keys  map[string]bool // nil for an array
		value bool            // a key was read: its value comes next
	}
	join := func(path, key string) string {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var stack []*object
	var key string // the last key read
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		var top *object
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		d, delim := tok.(json.Delim)
		switch {
		case delim && (d == '}' || d == ']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				stack[len(stack)-1].value = false // the nested value is done
			}
		case top != nil && top.keys != nil && !top.value:
			k, _ := tok.(string) // an object's tokens alternate key, value
			if top.keys[k] {
				return join(top.path, k), true
			}
			top.keys[k], top.value, key = true, true, k
		case delim: // an object or array as a value
			o := &object{}
			if d == '{' {
				o.keys = map[string]bool{}
			}
			if top != nil && top.keys != nil {
				o.path = join(top.path, key)
			}
			stack = append(stack, o)
		case top != nil:
			top.value = false
		}
	}
}
