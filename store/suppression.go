package store

import (
	"crypto/hmac"
	"crypto/sha256"

	"karton/model"
)

// The suppression list holds a keyed hash (HMAC-SHA256 with the store's
// secret) of each normalised contact point of an erased person. It lets a
// later import or sign-up with the same email or phone be recognised and
// kept from contact without keeping the address itself.

// contactHash is the suppression key of a normalised contact point. The
// kind prefix keeps an email and a phone with the same text apart.
func (s *Store) contactHash(kind, normalized string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(normalized))
	return m.Sum(nil)
}

// contactHashes lists the suppression keys of a customer's contact points.
func (s *Store) contactHashes(c *model.Customer) [][]byte {
	var hs [][]byte
	if e := model.NormalizeEmail(c.Email); e != "" {
		hs = append(hs, s.contactHash("email", e))
	}
	if c.Phone != "" {
		hs = append(hs, s.contactHash("phone", c.Phone))
	}
	return hs
}

// checkSuppression marks a customer whose contact point is on the list.
func (t *Tx) checkSuppression(c *model.Customer) error {
	b := t.tx.Bucket(bSuppression)
	if k, _ := b.Cursor().First(); k == nil {
		return nil // an empty list: no need to hash the contact points
	}
	for _, h := range t.s.contactHashes(c) {
		if b.Get(h) != nil {
			c.Suppressed = true
			return nil
		}
	}
	return nil
}

// suppress adds a customer's contact points to the list.
func (t *Tx) suppress(c *model.Customer) error {
	b := t.bucket(bSuppression)
	for _, h := range t.s.contactHashes(c) {
		if err := b.Put(h, u64(timeKey(t.now))); err != nil {
			return err
		}
	}
	return nil
}

// unsuppress removes a customer's contact points from the list.
func (t *Tx) unsuppress(c *model.Customer) error {
	b := t.bucket(bSuppression)
	for _, h := range t.s.contactHashes(c) {
		if err := b.Delete(h); err != nil {
			return err
		}
	}
	return nil
}
