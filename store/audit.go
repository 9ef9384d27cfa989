package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The audit chain: one append-only sequence of every security-relevant act
// (consent events, decisions, approvals, launches, exports of personal data,
// erasures, imports, user and role changes). Each entry holds the hash of
// its payload (the record the act wrote) and the hash of the previous entry,
// so changing, removing or reordering any entry breaks every hash after it.
// The newest sequence number and hash are also kept in meta, so cutting
// entries off the end is detected too.

// AuditEntry is one link of the chain.
type AuditEntry struct {
	Seq         uint64
	At          time.Time
	Actor       string
	Action      string // "consent.record", "campaign.approve", "customer.erase", ...
	Subject     string // "customer:42", "campaign:7", "user:jana"
	PayloadHash [32]byte
	PrevHash    [32]byte
	Hash        [32]byte
}

const auditVersion = 1

var metaAuditHead = []byte("audit_head")

// body is the part of the entry the hash covers.
func (a *AuditEntry) body() []byte { return a.appendBody(nil) }

// appendBody appends the body to buf (the transaction's scratch buffer
// when an entry is written: an import writes one per event).
func (a *AuditEntry) appendBody(buf []byte) []byte {
	e := encoder{buf: buf}
	e.byte1(auditVersion)
	e.uvarint(a.Seq)
	e.time(a.At)
	e.str(a.Actor)
	e.str(a.Action)
	e.str(a.Subject)
	e.fixed32(a.PayloadHash)
	e.fixed32(a.PrevHash)
	return e.buf
}

func (a *AuditEntry) encode() []byte {
	b := a.body()
	return append(b, a.Hash[:]...)
}

func decodeAudit(b []byte, a *AuditEntry) error {
	d := decoder{b: b}
	d.version(auditVersion, "audit entry")
	a.Seq = d.uvarint()
	a.At = d.time()
	a.Actor = d.str()
	a.Action = d.str()
	a.Subject = d.str()
	a.PayloadHash = d.fixed32()
	a.PrevHash = d.fixed32()
	a.Hash = d.fixed32()
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	return d.done("audit entry")
}

// auditHead caches the chain's head during a transaction.
type auditHead struct {
	loaded  bool
	changed bool
	seq     uint64
	hash    [32]byte
}

func (h *auditHead) load(t *Tx) {
	if h.loaded {
		return
	}
	h.loaded = true
	if v := t.tx.Bucket(bMeta).Get(metaAuditHead); len(v) == 40 {
		h.seq = readU64(v)
		copy(h.hash[:], v[8:])
	}
}

func (h *auditHead) flush(t *Tx) error {
	if !h.changed {
		return nil
	}
	v := make([]byte, 0, 40)
	v = appendU64(v, h.seq)
	v = append(v, h.hash[:]...)
	return t.tx.Bucket(bMeta).Put(metaAuditHead, v)
}

// Audit appends an entry for an act of this transaction's actor. payload is
// the record the act wrote (or a description of it); only its hash is
// chained.
func (t *Tx) Audit(action, subject string, payload []byte) error {
	t.audit.load(t)
	e := AuditEntry{
		Seq:         t.audit.seq + 1,
		At:          t.now,
		Actor:       t.actor.Name,
		Action:      action,
		Subject:     subject,
		PayloadHash: sha256.Sum256(payload),
		PrevHash:    t.audit.hash,
	}
	body := e.appendBody(t.scratch[:0])
	e.Hash = sha256.Sum256(body)
	val := t.keep(append(body, e.Hash[:]...)) // = e.encode(), without encoding twice
	if err := t.bucket(bAudit).Put(t.keep(appendU64(t.scratch[:0], e.Seq)), val); err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	t.audit.seq, t.audit.hash, t.audit.changed = e.Seq, e.Hash, true
	return nil
}

// VerifyResult is the outcome of walking the chain.
type VerifyResult struct {
	OK      bool   `json:"ok"`
	Entries uint64 `json:"entries"`
	Head    string `json:"head"` // hex hash of the last entry
	// BrokenSeq is the first sequence number that does not check out, and
	// Reason says why; both are empty when OK.
	BrokenSeq uint64 `json:"broken_seq,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// VerifyAudit recomputes the whole chain and names the first broken entry.
func (s *Store) VerifyAudit() (VerifyResult, error) {
	var res VerifyResult
	err := s.db.View(func(tx *bolt.Tx) error {
		res = verifyChain(tx)
		return nil
	})
	return res, err
}

func verifyChain(tx *bolt.Tx) VerifyResult {
	var prev [32]byte
	var expect uint64 = 1
	var e AuditEntry
	broken := func(seq uint64, format string, args ...any) VerifyResult {
		return VerifyResult{Entries: expect - 1, BrokenSeq: seq, Reason: fmt.Sprintf(format, args...), Head: hex.EncodeToString(prev[:])}
	}
	c := tx.Bucket(bAudit).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 8 {
			return broken(expect, "entry %d: a key of %d bytes is in the chain", expect, len(k))
		}
		key := readU64(k)
		if key != expect {
			if key > expect {
				return broken(expect, "entry %d is missing (the next one stored is %d)", expect, key)
			}
			return broken(expect, "entry %d is out of order", key)
		}
		if err := decodeAudit(v, &e); err != nil {
			return broken(key, "entry %d cannot be read: %v", key, err)
		}
		if e.Seq != key {
			return broken(key, "entry %d holds the content of entry %d (moved or swapped)", key, e.Seq)
		}
		if e.PrevHash != prev {
			return broken(key, "entry %d does not follow entry %d (previous hash differs)", key, key-1)
		}
		if sha256.Sum256(e.body()) != e.Hash {
			return broken(key, "entry %d was altered (its hash does not match its content)", key)
		}
		prev = e.Hash
		expect++
	}
	head := tx.Bucket(bMeta).Get(metaAuditHead)
	if len(head) == 40 {
		if n := readU64(head); n != expect-1 {
			return broken(expect, "the chain ends at entry %d but %d entries were written (entries cut off the end)", expect-1, n)
		}
		if !bytes.Equal(head[8:], prev[:]) {
			return broken(expect-1, "the last entry %d differs from the recorded head", expect-1)
		}
	} else if expect > 1 {
		return broken(1, "the chain's head record is missing")
	}
	return VerifyResult{OK: true, Entries: expect - 1, Head: hex.EncodeToString(prev[:])}
}

// AuditEntries returns up to limit entries starting at sequence from (1 =
// the first), for listing and export.
func (r *Reader) AuditEntries(from uint64, limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	c := r.tx.Bucket(bAudit).Cursor()
	for k, v := c.Seek(u64(from)); k != nil && len(out) < limit; k, v = c.Next() {
		var e AuditEntry
		if err := decodeAudit(v, &e); err != nil {
			return out, fmt.Errorf("audit entry %d: %w", readU64(k), err)
		}
		out = append(out, e)
	}
	return out, nil
}

// AuditLatest returns up to limit of the newest entries, newest first.
func (r *Reader) AuditLatest(limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	c := r.tx.Bucket(bAudit).Cursor()
	for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
		var e AuditEntry
		if err := decodeAudit(v, &e); err != nil {
			return out, fmt.Errorf("audit entry %d: %w", readU64(k), err)
		}
		out = append(out, e)
	}
	return out, nil
}
