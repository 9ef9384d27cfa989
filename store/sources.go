package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
	"unicode/utf8"

	"karton/model"
)

// Inbound sources are the systems (shop, website, CRM) allowed to post
// events to Karton's HTTP return channel. Each has a name and a secret
// with which it signs its requests (HMAC-SHA256). The secret has to be
// kept in clear to check signatures; only admins read it, and listings
// show a fingerprint instead.
//
// Inbound events are idempotent by the source's event id: bucket
// inbound_events remembers, per source and id, what the first delivery
// did, so a retried or replayed delivery writes nothing.

// MinSourceSecretBytes is the shortest secret a source may have: a short
// HMAC key can be guessed offline from one signed request.
const MinSourceSecretBytes = 16

// MaxInboundIDBytes caps an inbound event id.
const MaxInboundIDBytes = 200

// Source is a system allowed to post inbound events.
type Source struct {
	Name      string
	Secret    []byte // HMAC-SHA256 key; only from Reader.SourceSecret
	CreatedAt time.Time
	CreatedBy string
	// Fingerprint identifies the secret without revealing it: the first 8
	// bytes of its SHA-256, in hex. Operators compare it with the sending
	// system's configuration.
	Fingerprint string
}

// SecretFingerprint is the fingerprint shown for a secret.
func SecretFingerprint(secret []byte) string {
	h := sha256.Sum256(secret)
	return hex.EncodeToString(h[:8])
}

// ValidateSourceName checks a source name: 1–40 lower-case letters, digits,
// '-' or '_' (it is typed on the command line and sent in a header).
func ValidateSourceName(name string) error {
	ok := len(name) > 0 && len(name) <= 40
	for _, r := range name {
		ok = ok && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}
	if !ok {
		return &model.ValidationError{Entity: "source", Fields: []model.FieldError{{Field: "name", Reason: fmt.Sprintf("%q must be 1–40 lower-case letters, digits, '-' or '_'", name)}}}
	}
	return nil
}

const sourceVersion = 1

func encodeSource(s *Source) []byte {
	var e encoder
	e.byte1(sourceVersion)
	e.bytes(s.Secret)
	e.time(s.CreatedAt)
	e.str(s.CreatedBy)
	return e.buf
}

func decodeSource(name string, b []byte, s *Source) error {
	d := decoder{b: b}
	d.version(sourceVersion, "source")
	s.Name = name
	s.Secret = d.bytes()
	s.CreatedAt = d.time()
	s.CreatedBy = d.str()
	s.Fingerprint = SecretFingerprint(s.Secret)
	return d.done("source")
}

// InsertSource registers an inbound source with its secret (admin only).
// The audit entry records the name and fingerprint, never the secret.
func (t *Tx) InsertSource(src *Source) error {
	if err := t.require(model.PermAdminister, "manage inbound sources"); err != nil {
		return err
	}
	if err := ValidateSourceName(src.Name); err != nil {
		return err
	}
	if len(src.Secret) < MinSourceSecretBytes {
		return &model.ValidationError{Entity: "source", Fields: []model.FieldError{{Field: "secret", Reason: fmt.Sprintf("is %d bytes; it needs at least %d (generate one with `openssl rand -hex 32`)", len(src.Secret), MinSourceSecretBytes)}}}
	}
	b, err := t.ensure(bSources)
	if err != nil {
		return err
	}
	if b.Get([]byte(src.Name)) != nil {
		return &ConflictError{What: fmt.Sprintf("source %s exists already (remove it first to change its secret)", src.Name)}
	}
	src.CreatedAt, src.CreatedBy = t.now, t.actor.Name
	src.Fingerprint = SecretFingerprint(src.Secret)
	if err := b.Put([]byte(src.Name), encodeSource(src)); err != nil {
		return err
	}
	return t.Audit("source.add", "source:"+src.Name, []byte(src.Name+"\x00"+src.Fingerprint))
}

// RemoveSource deletes an inbound source (admin only): its requests are
// refused from now on. Its processed event ids stay, so a later source of
// the same name cannot replay them.
func (t *Tx) RemoveSource(name string) error {
	if err := t.require(model.PermAdminister, "manage inbound sources"); err != nil {
		return err
	}
	b := t.bucket(bSources)
	if b == nil || b.Get([]byte(name)) == nil {
		return notFound("source", name+" (see `karton source list`)")
	}
	if err := b.Delete([]byte(name)); err != nil {
		return err
	}
	return t.Audit("source.remove", "source:"+name, []byte(name))
}

// Sources lists the inbound sources by name, without their secrets.
func (r *Reader) Sources() ([]Source, error) {
	b := r.tx.Bucket(bSources)
	if b == nil {
		return nil, nil
	}
	var out []Source
	err := b.ForEach(func(k, v []byte) error {
		var s Source
		if err := decodeSource(string(k), v, &s); err != nil {
			return fmt.Errorf("source %s: %w", k, err)
		}
		s.Secret = nil
		out = append(out, s)
		return nil
	})
	return out, err
}

// SourceSecret returns a source's secret, for checking signatures (admin
// only: the HTTP server reads it as SystemActor).
func (r *Reader) SourceSecret(name string) ([]byte, error) {
	if err := r.actor.Require(model.PermAdminister, "read source secrets"); err != nil {
		return nil, err
	}
	b := r.tx.Bucket(bSources)
	var v []byte
	if b != nil {
		v = b.Get([]byte(name))
	}
	if v == nil {
		return nil, notFound("source", name)
	}
	var s Source
	if err := decodeSource(name, v, &s); err != nil {
		return nil, fmt.Errorf("source %s: %w", name, err)
	}
	return s.Secret, nil
}

// InboundStatus is what the first delivery of an inbound event did.
type InboundStatus byte

const (
	// InboundAccepted: the event was recorded.
	InboundAccepted InboundStatus = 1
	// InboundIgnored: the event was valid but there was nothing to record
	// (an unsubscribe for an unknown person, a withdrawal already in force).
	InboundIgnored InboundStatus = 2
)

func (s InboundStatus) String() string {
	switch s {
	case InboundAccepted:
		return "accepted"
	case InboundIgnored:
		return "ignored"
	}
	return "unknown"
}

// InboundOutcome is remembered per processed inbound event.
type InboundOutcome struct {
	Status   InboundStatus
	Customer model.CustomerID
	At       time.Time // when it was processed
}

// ValidateInboundID checks an inbound event id: 1–200 bytes of text
// without NUL (it is part of a key).
func ValidateInboundID(id string) error {
	if id == "" || len(id) > MaxInboundIDBytes || !utf8.ValidString(id) || bytes.IndexByte([]byte(id), 0) >= 0 {
		return fmt.Errorf("id must be 1–%d bytes of text", MaxInboundIDBytes)
	}
	return nil
}

func inboundKey(source, id string) []byte {
	k := make([]byte, 0, len(source)+1+len(id))
	k = append(k, source...)
	k = append(k, 0)
	return append(k, id...)
}

// InboundSeen returns what the first delivery of an event did, if there
// was one.
func (r *Reader) InboundSeen(source, id string) (InboundOutcome, bool, error) {
	b := r.tx.Bucket(bInboundEvents)
	if b == nil {
		return InboundOutcome{}, false, nil
	}
	v := b.Get(inboundKey(source, id))
	if v == nil {
		return InboundOutcome{}, false, nil
	}
	if len(v) != 17 {
		return InboundOutcome{}, false, fmt.Errorf("inbound event %s/%s: %w", source, id, errCorrupt)
	}
	return InboundOutcome{Status: InboundStatus(v[0]), Customer: model.CustomerID(readU64(v[1:])), At: timeFromKey(readU64(v[9:]))}, true, nil
}

// MarkInbound remembers that an inbound event was processed, in the
// transaction that recorded what it brought. An id seen before is a
// ConflictError.
func (t *Tx) MarkInbound(source, id string, o InboundOutcome) error {
	if err := t.require(model.PermEditCustomers, "record inbound events"); err != nil {
		return err
	}
	if err := ValidateInboundID(id); err != nil {
		return err
	}
	b, err := t.ensure(bInboundEvents)
	if err != nil {
		return err
	}
	k := inboundKey(source, id)
	if b.Get(k) != nil {
		return &ConflictError{What: fmt.Sprintf("inbound event %q from %s was processed already", id, source)}
	}
	if o.At.IsZero() {
		o.At = t.now
	}
	v := make([]byte, 0, 17)
	v = append(v, byte(o.Status))
	v = appendU64(v, uint64(o.Customer))
	v = appendU64(v, timeKey(o.At))
	return b.Put(k, v)
}
