package store

import (
	"encoding/binary"
	"time"

	"karton/model"
)

// Every bucket and every key layout lives in this file.
//
// Integers in keys are fixed-width big-endian, so byte order is numeric
// order. Times are nanoseconds since the Unix epoch with the sign bit
// flipped (so times before 1970 sort first). Ids are per-entity sequences
// handed out in creation order, so primary keys are time-ordered and bulk
// inserts append at the right edge of the B+tree.
//
//	bucket            key                                   value
//	meta              "magic" "schema" "secret" ...         see store.go
//	counters          name                                  int64 (8 bytes BE)
//	users             name                                  user
//	customers         cid                                   customer
//	cust_email        normalised email                      cid            (unique)
//	cust_phone        E.164 0x00 cid                        -              (shared phones allowed)
//	cust_source       source 0x00 external id               cid            (unique)
//	cust_name         fold(last first) 0x00 cid             -              (sort + prefix search)
//	cust_fname        fold(first last) 0x00 cid             -              (prefix search)
//	cust_activity     time cid                              -              (sort by last activity)
//	cust_value        revenue cid                           -              (sort by value)
//	cust_city         fold(city) 0x00 cid                   -              (filter)
//	cust_tag          fold(tag) 0x00 cid                    -              (filter)
//	interactions      cid time iid                          interaction    (clustered by customer)
//	purchases         cid time pid                          purchase       (clustered by customer)
//	purchase_orders   source 0x00 order id                  purchases key  (unique, idempotent imports)
//	consent           cid eid(first of the chunk)           chunk of the customer's events as the decision table reads them (ledger_codec.go)
//	consent_ids       eid                                   cid + full consent event (ledger order)
//	evidence          eid                                   evidence       (erasable)
//	channels          chid                                  channel
//	purposes          pid                                   purpose
//	purpose_names     name                                  pid
//	campaigns         cmid                                  campaign
//	steps             sid                                   step
//	campaign_steps    cmid sid                              -
//	segments          sgid                                  segment
//	audit             seq                                   audit entry    (append-only chain)
//	scores            cid                                   RFM and CLV (scores.go)
//	rollups           see rollups.go                        counts and sums per day
//	consent_state     cid                                   projection: decision per scope, in runs (consentstate_codec.go)
//	suppression       HMAC-SHA256(secret, contact point)    time added     (erased people)
//	decisions         sid cid                               decision       (launch: one per step × audience member)
//	launches          sid                                   launch state   (cursor and counts of a step's launch)
//	outbox            message id                            outbox entry   (one per allowed decision)
//	outbox_due        time message id                       -              (waiting entries by next attempt)
//	outbox_dead       message id                            -              (dead letters)
//	imports           batch id                              import batch   (imports.go; JSON)
//	import_keys       source 0x00 entity(1) row key         record ref     (idempotent re-imports)
//	merge_hints       cid cid (both orders)                 merge suggestion (identity.go)
//	merges            absorbed cid                          merge record   (lineage; merge.go)
//	analytics         name                                  latest run's summary (analytics.go; JSON)
//	attribution       day(4) kind(1) channel(8) campaign(8) count(8) revenue(8) (analytics.go)
//	sources           name                                  inbound source and its secret (sources.go)
//	inbound_events    source 0x00 event id                  outcome        (idempotent inbound events)
//	doi_spent         doi_requested event id                confirmation   (single-use DOI links, tokens.go)
//	consent_files     SHA-256 of an imported consent file   its last import (JSON; consentimport.go)
//
// Activity (interactions, purchases) and consent history are clustered
// under the customer id instead of keeping a separate customer → records
// index: the 360° view is one range scan, and a write is one Put, not two.
var (
	bMeta           = []byte("meta")
	bCounters       = []byte("counters")
	bUsers          = []byte("users")
	bCustomers      = []byte("customers")
	bCustEmail      = []byte("cust_email")
	bCustPhone      = []byte("cust_phone")
	bCustSource     = []byte("cust_source")
	bCustName       = []byte("cust_name")
	bCustFirstName  = []byte("cust_fname")
	bCustActivity   = []byte("cust_activity")
	bCustValue      = []byte("cust_value")
	bCustCity       = []byte("cust_city")
	bCustTag        = []byte("cust_tag")
	bInteractions   = []byte("interactions")
	bPurchases      = []byte("purchases")
	bPurchaseOrders = []byte("purchase_orders")
	bConsent        = []byte("consent")
	bConsentIDs     = []byte("consent_ids")
	bEvidence       = []byte("evidence")
	bChannels       = []byte("channels")
	bPurposes       = []byte("purposes")
	bPurposeNames   = []byte("purpose_names")
	bCampaigns      = []byte("campaigns")
	bSteps          = []byte("steps")
	bCampaignSteps  = []byte("campaign_steps")
	bSegments       = []byte("segments")
	bAudit          = []byte("audit")
	bSuppression    = []byte("suppression")
	bDecisions      = []byte("decisions")
	bLaunches       = []byte("launches")
	bOutbox         = []byte("outbox")
	bOutboxDue      = []byte("outbox_due")
	bOutboxDead     = []byte("outbox_dead")
	bImports        = []byte("imports")
	bImportKeys     = []byte("import_keys")
	bMergeHints     = []byte("merge_hints")
	bMerges         = []byte("merges")
	bAnalytics      = []byte("analytics")
	bAttribution    = []byte("attribution")
	bSources        = []byte("sources")
	bInboundEvents  = []byte("inbound_events")
	bDOISpent       = []byte("doi_spent")
	bConsentFiles   = []byte("consent_files")
)

// allBuckets is created on a new store and by migrations.
var allBuckets = [][]byte{
	bMeta, bCounters, bUsers, bCustomers, bCustEmail, bCustPhone, bCustSource, bCustName,
	bCustFirstName, bCustActivity, bCustValue, bCustCity, bCustTag, bInteractions, bPurchases,
	bPurchaseOrders, bConsent, bConsentIDs, bEvidence, bChannels, bPurposes, bPurposeNames,
	bCampaigns, bSteps, bCampaignSteps, bSegments, bAudit, bSuppression, bConsentState, bRollups, bScores,
	bDecisions, bLaunches, bOutbox, bOutboxDue, bOutboxDead,
	bImports, bImportKeys, bMergeHints, bMerges, bAnalytics, bAttribution,
	bSources, bInboundEvents, bDOISpent,
}

// Buckets added after schema 1 was fixed (the launch pipeline, the
// warehouse, the return channel) are created in older stores by their first
// write that needs them (Tx.ensure), so no migration is needed; readers treat
// a missing one as empty.

// appendOnly buckets only ever grow at their right edge, so their pages can
// be filled completely (bbolt's FillPercent).
var appendOnly = map[string]bool{"audit": true, "consent_ids": true, "decisions": true}

func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

func appendU64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

func readU64(b []byte) uint64 {
	if len(b) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// timeKey orders times, including the zero time (which sorts first).
func timeKey(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano()) ^ (1 << 63)
}

func timeFromKey(v uint64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(v^(1<<63))).UTC()
}

// signedKey orders signed integers (money) as unsigned bytes.
func signedKey(v int64) uint64 { return uint64(v) ^ (1 << 63) }

// activityKey is the key of an interaction or purchase: customer, time, id.
func activityKey(cid model.CustomerID, at time.Time, id uint64) []byte {
	b := make([]byte, 0, 24)
	b = appendU64(b, uint64(cid))
	b = appendU64(b, timeKey(at))
	return appendU64(b, id)
}

func splitActivityKey(k []byte) (cid uint64, at time.Time, id uint64, ok bool) {
	if len(k) != 24 {
		return 0, time.Time{}, 0, false
	}
	return readU64(k), timeFromKey(readU64(k[8:])), readU64(k[16:]), true
}

// textKey is a folded text, a 0x00 separator and the customer id; used by
// the name, city, tag and phone indexes.
func textKey(text string, cid model.CustomerID) []byte {
	return appendTextKey(make([]byte, 0, len(text)+9), text, cid)
}

func appendTextKey(b []byte, text string, cid model.CustomerID) []byte {
	b = append(b, text...)
	b = append(b, 0)
	return appendU64(b, uint64(cid))
}

// idFromIndexKey reads the customer id at the end of any customer index key.
func idFromIndexKey(k []byte) model.CustomerID {
	if len(k) < 8 {
		return 0
	}
	return model.CustomerID(readU64(k[len(k)-8:]))
}

func nameKey(c *model.Customer) []byte {
	return textKey(model.Fold(c.LastName+" "+c.FirstName), c.ID)
}

func firstNameKey(c *model.Customer) []byte {
	return textKey(model.Fold(c.FirstName+" "+c.LastName), c.ID)
}

func activityIndexKey(c *model.Customer) []byte {
	return appendActivityIndexKey(make([]byte, 0, 16), c)
}

func appendActivityIndexKey(b []byte, c *model.Customer) []byte {
	return appendU64(appendU64(b, timeKey(c.LastActivityAt)), uint64(c.ID))
}

func valueIndexKey(c *model.Customer) []byte { return appendValueIndexKey(make([]byte, 0, 16), c) }

func appendValueIndexKey(b []byte, c *model.Customer) []byte {
	return appendU64(appendU64(b, signedKey(int64(c.Revenue))), uint64(c.ID))
}

func sourceKey(source, ext string) []byte {
	b := make([]byte, 0, len(source)+len(ext)+1)
	b = append(b, source...)
	b = append(b, 0)
	return append(b, ext...)
}
