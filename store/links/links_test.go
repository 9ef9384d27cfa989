package links

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

var now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func testSigner(t testing.TB, seed byte) *Signer {
	t.Helper()
	s, err := NewSigner(bytes.Repeat([]byte{seed}, 32))
	require.NoError(t, err)
	return s
}

func sampleTokens() map[string]Token {
	return map[string]Token{
		"doi":         {Kind: KindDOI, Customer: 123456, Channel: model.KindEmail, Purpose: 3, Request: 987654, Expires: now.Add(DefaultDOITTL)},
		"unsubscribe": {Kind: KindUnsubscribe, Customer: 1, Channel: model.KindEmail, Purpose: 2, Step: 9, Message: 1 << 40},
		"click":       {Kind: KindClick, Customer: 1 << 62, Channel: model.KindSMS, Purpose: 2, Step: 9, Message: 77, Link: 3, Target: 0xdeadbeef},
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	s := testSigner(t, 1)
	for name, tok := range sampleTokens() {
		text, err := s.Seal(tok)
		require.NoError(t, err, name)
		assert.LessOrEqual(t, len(text), 100, name)
		assert.NotContains(t, text, "=", "no padding")
		got, err := s.Open(text, now)
		require.NoError(t, err, name)
		assert.Equal(t, tok, got, name)
		again, _ := s.Seal(tok)
		assert.Equal(t, text, again, "%s: deterministic", name)
	}
}

func TestTokensSayNothingAboutThePerson(t *testing.T) {
	s := testSigner(t, 1)
	a, _ := s.Seal(Token{Kind: KindUnsubscribe, Customer: 1, Channel: model.KindEmail, Purpose: 1})
	b, _ := s.Seal(Token{Kind: KindUnsubscribe, Customer: 2, Channel: model.KindEmail, Purpose: 1})
	c, _ := s.Seal(Token{Kind: KindUnsubscribe, Customer: 1 << 40, Channel: model.KindEmail, Purpose: 1})
	assert.Equal(t, len(a), len(c), "length does not grow with the id")
	raw, _ := base64.RawURLEncoding.DecodeString(a)
	rawB, _ := base64.RawURLEncoding.DecodeString(b)
	assert.NotEqual(t, raw[17:], rawB[17:], "the payload is encrypted: one id apart changes everything")
	diff := 0
	for i := 17; i < len(raw); i++ {
		if raw[i] != rawB[i] {
			diff++
		}
	}
	assert.Greater(t, diff, len(raw[17:])/2)
}

func TestOpenRefuses(t *testing.T) {
	s := testSigner(t, 1)
	good, err := s.Seal(sampleTokens()["doi"])
	require.NoError(t, err)

	_, err = s.Open(good, now.Add(DefaultDOITTL))
	assert.ErrorIs(t, err, ErrExpired, "expired exactly at the expiry")
	tok, err := s.Open(good, now.Add(DefaultDOITTL+time.Hour))
	assert.ErrorIs(t, err, ErrExpired)
	assert.EqualValues(t, 987654, tok.Request, "an expired token still says what it was for")

	_, err = testSigner(t, 2).Open(good, now)
	assert.ErrorIs(t, err, ErrForged, "another store's key")

	raw, _ := base64.RawURLEncoding.DecodeString(good)
	for i := range raw {
		for _, bit := range []byte{1, 0x80} {
			alt := bytes.Clone(raw)
			alt[i] ^= bit
			_, err := s.Open(base64.RawURLEncoding.EncodeToString(alt), now)
			if i == 0 {
				assert.ErrorIs(t, err, ErrMalformed, "version byte")
			} else {
				assert.ErrorIs(t, err, ErrForged, "byte %d bit %x", i, bit)
			}
		}
	}
	for name, text := range map[string]string{
		"empty":             "",
		"too long":          strings.Repeat("A", MaxTokenLen+1),
		"not base64":        "%%%%",
		"padded":            good + "==",
		"line break":        good[:10] + "\r\n" + good[10:],
		"truncated":         good[:len(good)-3],
		"short":             "AQ",
		"extended":          good + "AAAAAAAAAAAAAAAAAAAAAA",
		"non-canonical b64": good[:len(good)-1] + string(nonCanonical(good[len(good)-1])),
	} {
		_, err := s.Open(text, now)
		assert.Error(t, err, name)
		assert.NotErrorIs(t, err, ErrExpired, name)
	}
}

// nonCanonical returns another base64url character that decodes to the
// same bytes when it is the last of an unpadded string (it differs only in
// the unused low bits), or the character itself if there is none.
func nonCanonical(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return alphabet[i^1]
}

func TestSealValidates(t *testing.T) {
	s := testSigner(t, 1)
	for name, tok := range map[string]Token{
		"no kind":                     {Customer: 1},
		"doi without expiry":          {Kind: KindDOI, Customer: 1, Channel: model.KindEmail, Purpose: 1, Request: 1},
		"doi without request":         {Kind: KindDOI, Customer: 1, Channel: model.KindEmail, Purpose: 1, Expires: now},
		"unsubscribe without purpose": {Kind: KindUnsubscribe, Customer: 1, Channel: model.KindEmail},
		"bad channel":                 {Kind: KindUnsubscribe, Customer: 1, Channel: "fax", Purpose: 1},
		"click without step":          {Kind: KindClick, Customer: 1},
		"negative link":               {Kind: KindClick, Customer: 1, Step: 1, Link: -1},
	} {
		_, err := s.Seal(tok)
		assert.Error(t, err, name)
	}
	_, err := NewSigner([]byte("short"))
	assert.Error(t, err)
}

func TestURLBuilders(t *testing.T) {
	s := testSigner(t, 1)
	m := Message{Customer: 5, Channel: model.KindEmail, Purpose: 2, Step: 7, ID: 99}

	u, err := Unsubscribe("https://k.example.com/", s, m)
	require.NoError(t, err)
	tokText, ok := strings.CutPrefix(u, "https://k.example.com/u/")
	require.True(t, ok, u)
	tok, err := s.Open(tokText, now)
	require.NoError(t, err)
	assert.Equal(t, Token{Kind: KindUnsubscribe, Customer: 5, Channel: model.KindEmail, Purpose: 2, Step: 7, Message: 99}, tok)

	u, err = Click("http://127.0.0.1:8080/karton", s, m, 1, "https://shop.example.com/sale?x=1")
	require.NoError(t, err)
	tokText, ok = strings.CutPrefix(u, "http://127.0.0.1:8080/karton/c/")
	require.True(t, ok, u)
	tok, err = s.Open(tokText, now)
	require.NoError(t, err)
	assert.Equal(t, 1, tok.Link)
	assert.Equal(t, TargetSum("https://shop.example.com/sale?x=1"), tok.Target)

	u, err = DOI("https://k.example.com", s, DOIRequest{Customer: 5, Channel: model.KindEmail, Purpose: 2, Request: 11, Expires: now.Add(time.Hour)})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(u, "https://k.example.com/doi/"), u)

	for _, base := range []string{"", "k.example.com", "ftp://k.example.com", "https://k.example.com/?a=1", "https://user@k.example.com", "/relative"} {
		_, err := Unsubscribe(base, s, m)
		assert.Error(t, err, base)
	}
	for _, target := range []string{"javascript:alert(1)", "/local", "data:text/html,x", "https://", "https://x.example/a b"} {
		_, err := Click("https://k.example.com", s, m, 0, target)
		assert.Error(t, err, target)
	}
}

func TestHash(t *testing.T) {
	assert.Len(t, Hash("abc"), 64)
	assert.NotEqual(t, Hash("abc"), Hash("abd"))
}

// FuzzOpen feeds arbitrary text to Open: it must never panic, and whatever
// it accepts must be exactly what Seal makes of the token it read (so there
// is one text per token, which keeps token hashes meaningful).
func FuzzOpen(f *testing.F) {
	s := testSigner(f, 1)
	for _, tok := range sampleTokens() {
		text, _ := s.Seal(tok)
		f.Add(text)
		f.Add(text[:len(text)-1])
	}
	f.Add("")
	f.Add("AQ")
	f.Add(strings.Repeat("_", 70))
	f.Fuzz(func(t *testing.T, text string) {
		tok, err := s.Open(text, now)
		if err != nil {
			return
		}
		again, err := s.Seal(tok)
		require.NoError(t, err)
		assert.Equal(t, text, again)
	})
}
