package store

import (
	"os"

	bolt "go.etcd.io/bbolt"
)

// Stats are the store's totals, read from maintained counters (no scans).
type Stats struct {
	Customers     int64  `json:"customers"`
	Channels      int64  `json:"channels"`
	Purposes      int64  `json:"purposes"`
	Campaigns     int64  `json:"campaigns"`
	Steps         int64  `json:"steps"`
	Segments      int64  `json:"segments"`
	ConsentEvents int64  `json:"consent_events"`
	Interactions  int64  `json:"interactions"`
	Purchases     int64  `json:"purchases"`
	Users         int64  `json:"users"`
	AuditEntries  int64  `json:"audit_entries"`
	Revenue       int64  `json:"revenue_minor"`
	Currency      string `json:"currency"`
	SchemaVersion int    `json:"schema_version"`
	FileBytes     int64  `json:"file_bytes"`
	Path          string `json:"path"`
}

// Counter reads one maintained counter.
func (r *Reader) Counter(name string) int64 {
	return int64(readU64(r.tx.Bucket(bCounters).Get([]byte(name))))
}

// Stats reads the counters; any actor may (aggregates only).
func (s *Store) Stats() (Stats, error) {
	st := Stats{SchemaVersion: SchemaVersion, Path: s.path, Currency: s.Settings().Currency}
	err := s.View(SystemActor, func(r *Reader) error {
		st.Customers = r.Counter("customers")
		st.Channels = r.Counter("channels")
		st.Purposes = r.Counter("purposes")
		st.Campaigns = r.Counter("campaigns")
		st.Steps = r.Counter("steps")
		st.Segments = r.Counter("segments")
		st.ConsentEvents = r.Counter("consent_events")
		st.Interactions = r.Counter("interactions")
		st.Purchases = r.Counter("purchases")
		st.Users = r.Counter("users")
		st.Revenue = r.Counter("revenue")
		if v := r.tx.Bucket(bMeta).Get(metaAuditHead); len(v) == 40 {
			st.AuditEntries = int64(readU64(v))
		}
		st.FileBytes = r.tx.Size()
		return nil
	})
	if fi, err := os.Stat(s.path); err == nil {
		st.FileBytes = fi.Size()
	}
	return st, err
}

// Meta reads a small value stored by the application in the meta bucket
// under "app." + key (e.g. what generated a demo store).
func (s *Store) Meta(key string) (string, error) {
	var v string
	err := s.db.View(func(tx *bolt.Tx) error {
		v = string(tx.Bucket(bMeta).Get([]byte("app." + key)))
		return nil
	})
	return v, err
}

// SetMeta stores a small application value in the meta bucket.
func (t *Tx) SetMeta(key, value string) error {
	return t.tx.Bucket(bMeta).Put([]byte("app."+key), []byte(value))
}
