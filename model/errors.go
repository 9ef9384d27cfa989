package model

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError says which field of a record is wrong and why.
type FieldError struct {
	Field  string // dotted path, e.g. "address.postal_code"
	Reason string // human sentence fragment, e.g. "is not a valid email address"
}

func (e FieldError) Error() string { return e.Field + " " + e.Reason }

// ValidationError collects every problem found in one record so that a user
// can fix them all at once instead of one per attempt.
type ValidationError struct {
	Entity string // "customer", "campaign", ...
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return fmt.Sprintf("invalid %s: %s", e.Entity, strings.Join(parts, "; "))
}

// Has reports whether the error names the given field.
func (e *ValidationError) Has(field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// problems accumulates field errors while a record is checked.
type problems struct {
	entity string
	fields []FieldError
}

func (p *problems) add(field, format string, args ...any) {
	p.fields = append(p.fields, FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.fields) == 0 {
		return nil
	}
	return &ValidationError{Entity: p.entity, Fields: p.fields}
}

// AsValidation returns the ValidationError inside err, if there is one.
func AsValidation(err error) (*ValidationError, bool) {
	var ve *ValidationError
	ok := errors.As(err, &ve)
	return ve, ok
}
