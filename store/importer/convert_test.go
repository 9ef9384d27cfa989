package importer

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"karton/store"
)

// TestContentKeyIsStable pins how a row's content key is made: the
// entity, then each mapped non-empty value in column order as field, zero
// byte, value, zero byte, hashed with SHA-256 and cut to 16 bytes. Stores
// keep these keys to recognise a file imported again, so a change here
// would import every row of an old file a second time.
func TestContentKeyIsStable(t *testing.T) {
	var cols []Column
	var pending *rawRecord
	opts := &Options{Entity: store.ImportCustomers}
	header := rawRecord{line: 1, vals: []string{"E-Mail", "Vorname", "Nachname", "Notiz", "Ort"}}
	require.NoError(t, setupColumns(&cols, &pending, header, opts))
	lk := &lookups{region: "DE", currency: "EUR", now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), loc: time.UTC}
	rec := rawRecord{line: 2, vals: []string{" anna@example.de ", "Anna", "Müller", "", "Köln"}}
	out := lk.convert(store.ImportCustomers, cols, rec)
	require.Empty(t, out.problem)

	h := sha256.New()
	for _, part := range []string{"customers", "email", "\x00", "anna@example.de", "\x00", "first_name", "\x00", "Anna", "\x00",
		"last_name", "\x00", "Müller", "\x00", "city", "\x00", "Köln", "\x00"} {
		h.Write([]byte(part))
	}
	require.Equal(t, hex.EncodeToString(h.Sum(nil)[:16]), hex.EncodeToString(out.key[:]))
	// The same digest as a literal, as the stores written so far hold it.
	require.Equal(t, "46143070495412544c2cd4652a219cd0", hex.EncodeToString(out.key[:]))
	require.Equal(t, []string{"email", "first_name", "last_name", "city"}, out.present)
}

// A row that still crashes the conversion is rejected, naming the crash,
// instead of taking the program down from a converter goroutine.
func TestConvertSafelyRejectsARowThatCrashes(t *testing.T) {
	var cols []Column
	var pending *rawRecord
	opts := &Options{Entity: store.ImportInteractions}
	header := rawRecord{line: 1, vals: []string{"email", "kind", "channel", "at"}}
	require.NoError(t, setupColumns(&cols, &pending, header, opts))
	var lk *lookups // nothing to look channels up in: convert crashes
	rec := rawRecord{line: 7, vals: []string{"anna@example.de", "visit", "web", "2025-01-01"}}
	require.Panics(t, func() { lk.convert(store.ImportInteractions, cols, rec) })
	out := lk.convertSafely(store.ImportInteractions, cols, rec)
	require.Equal(t, 7, out.line)
	require.Contains(t, out.problem, "the row could not be read (Karton failed on it: runtime error")
}
