package links

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"karton/model"
)

// KeyLabel names the store key links are made with:
// links.NewSigner(st.DeriveKey(links.KeyLabel)).
const KeyLabel = "links/v1"

// DefaultDOITTL is how long a DOI confirmation link stays valid.
const DefaultDOITTL = 7 * 24 * time.Hour

// The paths package web serves; each is followed by the token.
const (
	PathDOI         = "/doi/"
	PathUnsubscribe = "/u/"
	PathClick       = "/c/"
)

// MaxTokenLen caps the text of a token that Open will look at; real tokens
// are well under 100 characters.
const MaxTokenLen = 256

const (
	version = 1
	tagLen  = 16
	padTo   = 16
)

// Kind says what a token is for.
type Kind byte

// The token kinds. The values are part of the token format.
const (
	KindDOI         Kind = 1
	KindUnsubscribe Kind = 2
	KindClick       Kind = 3
)

func (k Kind) String() string {
	switch k {
	case KindDOI:
		return "doi"
	case KindUnsubscribe:
		return "unsubscribe"
	case KindClick:
		return "click"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// Token is what a link carries. Which fields are set depends on the kind
// (see Validate); the rest are zero.
type Token struct {
	Kind     Kind
	Customer model.CustomerID
	Channel  model.ChannelKind
	Purpose  model.PurposeID
	// Step is the campaign step the message belongs to (0 outside campaigns).
	Step model.StepID
	// Message is the outbox message id (0 when not known).
	Message uint64
	// Link is the index of the click target in the creative's Links, and
	// Target the checksum of that URL (TargetSum) at the time of sending.
	Link   int
	Target uint32
	// Request is the doi_requested event a DOI link confirms.
	Request model.EventID
	// Expires is when the token stops working (second precision); zero
	// means never.
	Expires time.Time
}

// Validate checks that the token has what its kind needs.
func (t Token) Validate() error {
	var missing []string
	need := func(ok bool, field string) {
		if !ok {
			missing = append(missing, field)
		}
	}
	switch t.Kind {
	case KindDOI:
		need(t.Customer != 0, "customer")
		need(t.Channel.Valid(), "channel")
		need(t.Purpose != 0, "purpose")
		need(t.Request != 0, "request")
		need(!t.Expires.IsZero(), "expiry")
	case KindUnsubscribe:
		need(t.Customer != 0, "customer")
		need(t.Channel.Valid(), "channel")
		need(t.Purpose != 0, "purpose")
	case KindClick:
		need(t.Customer != 0, "customer")
		need(t.Step != 0, "step")
		need(t.Link >= 0 && t.Link < 1<<16, "link index")
	default:
		return fmt.Errorf("link token: unknown kind %d", t.Kind)
	}
	if t.Channel != "" && !t.Channel.Valid() {
		missing = append(missing, "valid channel")
	}
	if !t.Expires.IsZero() && t.Expires.Unix() <= 0 {
		missing = append(missing, "expiry after 1970")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s link token needs %s", t.Kind, strings.Join(missing, ", "))
	}
	return nil
}

// Errors Open returns; test with errors.Is.
var (
	// ErrMalformed: not a token at all (bad length or characters, unknown
	// version, or a payload that does not parse).
	ErrMalformed = errors.New("the link is not valid")
	// ErrForged: the tag does not match — the token was altered or made
	// with another store's key.
	ErrForged = errors.New("the link is not genuine")
	// ErrExpired: the token is genuine but past its expiry. Open returns
	// the token with it, so a page can say what the link was for.
	ErrExpired = errors.New("the link has expired")
)

// Signer seals and opens tokens with one store's key. It is safe for
// concurrent use.
type Signer struct {
	block  cipher.Block
	macKey []byte
}

// NewSigner makes a Signer from a key of at least 32 bytes, normally
// st.DeriveKey(KeyLabel).
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("link key is %d bytes; it needs at least 32", len(key))
	}
	sub := func(label string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(sub("enc"))
	if err != nil {
		return nil, err
	}
	return &Signer{block: block, macKey: sub("mac")}, nil
}

// tag is the truncated HMAC of the version and payload.
func (s *Signer) tag(payload []byte) []byte {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte{version})
	m.Write(payload)
	return m.Sum(nil)[:tagLen]
}

// Seal makes the text of a token.
func (s *Signer) Seal(t Token) (string, error) {
	if err := t.Validate(); err != nil {
		return "", err
	}
	payload := encodePayload(t)
	tag := s.tag(payload)
	out := make([]byte, 1+tagLen+len(payload))
	out[0] = version
	copy(out[1:], tag)
	cipher.NewCTR(s.block, tag).XORKeyStream(out[1+tagLen:], payload)
	return base64.RawURLEncoding.EncodeToString(out), nil
}

var strictB64 = base64.RawURLEncoding.Strict()

// Open reads a token made by Seal with the same key and checks it was not
// altered (in constant time, before anything else is read) and has not
// expired at now. On ErrExpired the token is returned as well.
func (s *Signer) Open(text string, now time.Time) (Token, error) {
	if len(text) == 0 || len(text) > MaxTokenLen || !urlSafe(text) {
		return Token{}, ErrMalformed
	}
	raw, err := strictB64.DecodeString(text)
	if err != nil || len(raw) < 1+tagLen+padTo || (len(raw)-1-tagLen)%padTo != 0 || raw[0] != version {
		return Token{}, ErrMalformed
	}
	tag := raw[1 : 1+tagLen]
	payload := make([]byte, len(raw)-1-tagLen)
	cipher.NewCTR(s.block, tag).XORKeyStream(payload, raw[1+tagLen:])
	if !hmac.Equal(tag, s.tag(payload)) {
		return Token{}, ErrForged
	}
	t, ok := decodePayload(payload)
	if !ok || t.Validate() != nil {
		// Only a bug (or a leaked key) can produce a genuine tag over a bad payload.
		return Token{}, ErrMalformed
	}
	if !t.Expires.IsZero() && !now.Before(t.Expires) {
		return t, ErrExpired
	}
	return t, nil
}

// urlSafe reports whether text holds only base64url characters; the
// decoder alone would skip line breaks, letting many texts stand for one
// token.
func urlSafe(text string) bool {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func encodePayload(t Token) []byte {
	b := make([]byte, 0, 64)
	b = append(b, byte(t.Kind))
	b = binary.AppendUvarint(b, uint64(t.Customer))
	b = append(b, t.Channel.Code())
	b = binary.AppendUvarint(b, uint64(t.Purpose))
	b = binary.AppendUvarint(b, uint64(t.Step))
	b = binary.AppendUvarint(b, t.Message)
	b = binary.AppendUvarint(b, uint64(t.Link))
	b = binary.AppendUvarint(b, uint64(t.Target))
	b = binary.AppendUvarint(b, uint64(t.Request))
	var exp uint64
	if !t.Expires.IsZero() {
		exp = uint64(t.Expires.Unix())
	}
	b = binary.AppendUvarint(b, exp)
	for len(b)%padTo != 0 {
		b = append(b, 0)
	}
	return b
}

// decodePayload parses a payload strictly: every field present, only zero
// padding after the last, and the padding shorter than a block.
func decodePayload(b []byte) (Token, bool) {
	var t Token
	ok := true
	next := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			ok = false
			return 0
		}
		b = b[n:]
		return v
	}
	byte1 := func() byte {
		if len(b) == 0 {
			ok = false
			return 0
		}
		c := b[0]
		b = b[1:]
		return c
	}
	t.Kind = Kind(byte1())
	t.Customer = model.CustomerID(next())
	if c := byte1(); c != 0 {
		if t.Channel = model.KindFromCode(c); t.Channel == "" {
			ok = false
		}
	}
	t.Purpose = model.PurposeID(next())
	t.Step = model.StepID(next())
	t.Message = next()
	link := next()
	target := next()
	t.Request = model.EventID(next())
	exp := next()
	if !ok || link >= 1<<16 || target > 1<<32-1 || exp > 1<<40 || len(b) >= padTo {
		return Token{}, false
	}
	for _, c := range b {
		if c != 0 {
			return Token{}, false
		}
	}
	t.Link, t.Target = int(link), uint32(target)
	if exp != 0 {
		t.Expires = time.Unix(int64(exp), 0).UTC()
	}
	return t, true
}

// Hash is the hex SHA-256 of a token's text, recorded as evidence
// ("token_sha256") so a confirmation can be tied to its link without
// storing the link itself.
func Hash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// TargetSum is the checksum of a click target a click token carries, so a
// click is refused if the creative's link at that index changed since.
func TargetSum(target string) uint32 {
	h := sha256.Sum256([]byte(target))
	return binary.BigEndian.Uint32(h[:4])
}

// Message names the contact a link belongs to: what the outbox knows when
// it renders a message.
type Message struct {
	Customer model.CustomerID
	Channel  model.ChannelKind
	Purpose  model.PurposeID
	Step     model.StepID
	ID       uint64 // outbox message id
}

// Unsubscribe returns the one-click unsubscribe URL of a message, for the
// List-Unsubscribe header (RFC 8058) and the footer link. It does not
// expire.
func Unsubscribe(base string, s *Signer, m Message) (string, error) {
	return build(base, PathUnsubscribe, s, Token{
		Kind: KindUnsubscribe, Customer: m.Customer, Channel: m.Channel, Purpose: m.Purpose, Step: m.Step, Message: m.ID,
	})
}

// Click returns the tracked URL for link number index of the message's
// creative, whose URL is target. The redirect goes to the creative's
// registered link, never to a URL read from the token.
func Click(base string, s *Signer, m Message, index int, target string) (string, error) {
	if err := ValidateTarget(target); err != nil {
		return "", err
	}
	return build(base, PathClick, s, Token{
		Kind: KindClick, Customer: m.Customer, Channel: m.Channel, Purpose: m.Purpose, Step: m.Step, Message: m.ID,
		Link: index, Target: TargetSum(target),
	})
}

// DOIRequest names what a DOI confirmation link confirms.
type DOIRequest struct {
	Customer model.CustomerID
	Channel  model.ChannelKind
	Purpose  model.PurposeID
	// Request is the doi_requested event the link is sent for.
	Request model.EventID
	// Expires is when the link stops working (e.g. now + DefaultDOITTL).
	Expires time.Time
}

// DOI returns the confirmation URL for a DOI request and its token (the
// token's Hash goes into the confirmation's evidence).
func DOI(base string, s *Signer, r DOIRequest) (string, error) {
	return build(base, PathDOI, s, Token{
		Kind: KindDOI, Customer: r.Customer, Channel: r.Channel, Purpose: r.Purpose, Request: r.Request, Expires: r.Expires,
	})
}

func build(base, path string, s *Signer, t Token) (string, error) {
	b, err := NormalizeBase(base)
	if err != nil {
		return "", err
	}
	tok, err := s.Seal(t)
	if err != nil {
		return "", err
	}
	return b + path + tok, nil
}

// NormalizeBase checks a public base URL (absolute http or https, with an
// optional path prefix, no query or fragment) and drops a trailing slash.
func NormalizeBase(base string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("base URL %q must be an absolute http(s) URL without query, like https://karton.example.com", base)
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// ValidateTarget checks a click target: an absolute http(s) URL. Anything
// else (javascript:, data:, relative paths) is never redirected to.
func ValidateTarget(target string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(target, " \t\r\n") {
		return fmt.Errorf("link %q is not an absolute http(s) URL", target)
	}
	return nil
}
