package store

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"karton/model"
	"karton/store/dispatch"
)

// PersonalData is everything Karton holds about one person, for access and
// portability requests (GDPR Art. 15 and 20). Its records have the shape
// of the bulk export's (`karton export`); every list is present, empty
// when there is nothing.
type PersonalData struct {
	ExportedAt time.Time `json:"exported_at"`
	ExportedBy string    `json:"exported_by"`
	CustomerSummary
	Decisions []json.RawMessage `json:"decisions"`
}

// CustomerSummary is a customer as `customer show --json` prints it and
// the personal data export holds it: the record of `karton export
// customers`, the consent events with their evidence, the current decision
// per scope, and the interactions and purchases, newest first.
type CustomerSummary struct {
	Customer     CustomerRecord      `json:"customer"`
	Consents     []ConsentRecord     `json:"consents"`
	CurrentState []ScopeDecision     `json:"current_consent_state"`
	Interactions []InteractionRecord `json:"interactions"`
	Purchases    []PurchaseRecord    `json:"purchases"`
	// MoreInteractions and MorePurchases say that a list stops at the
	// limit it was read with.
	MoreInteractions bool `json:"more_interactions,omitempty"`
	MorePurchases    bool `json:"more_purchases,omitempty"`
}

// ScopeDecision is one entry of the current-state projection, readable.
type ScopeDecision struct {
	Channel     model.ChannelKind `json:"channel"`
	Purpose     string            `json:"purpose"`
	Allow       bool              `json:"allow"`
	Reason      model.Reason      `json:"reason"`
	EventID     model.EventID     `json:"event,omitempty"`
	LastContact time.Time         `json:"last_contact,omitzero"`
}

// decisionExporters let later parts of the store (the launch pipeline) add
// a person's recorded decisions to the export without this file knowing
// their layout. Each returns JSON objects.
type decisionExporter func(r *Reader, cid model.CustomerID) ([]json.RawMessage, error)

// ExportPersonalData collects everything held about a customer. It needs
// the permission to export personal data and is audited.
func (s *Store) ExportPersonalData(by model.Actor, cid model.CustomerID) (PersonalData, error) {
	var pd PersonalData
	if err := by.Require(model.PermExportPersonal, "export personal data"); err != nil {
		return pd, err
	}
	err := s.View(by, func(r *Reader) error {
		var err error
		if pd.CustomerSummary, err = r.CustomerSummary(cid, 0); err != nil {
			return err
		}
		for _, ex := range s.decisionExporters {
			d, err := ex(r, cid)
			if err != nil {
				return err
			}
			pd.Decisions = append(pd.Decisions, d...)
		}
		return nil
	})
	if err != nil {
		return pd, err
	}
	pd.ExportedAt, pd.ExportedBy = s.now(), by.Name
	pd.Decisions = nonNil(pd.Decisions)
	err = s.Update(by, func(t *Tx) error {
		return t.Audit("customer.export", fmt.Sprintf("customer:%d", cid), []byte(fmt.Sprintf("%d consents, %d interactions, %d purchases", len(pd.Consents), len(pd.Interactions), len(pd.Purchases))))
	})
	return pd, err
}

// CustomerSummary reads a customer with their consent events and current
// state and their latest limit interactions and purchases (all of them if
// limit <= 0), masked as the reader's actor must see them.
func (r *Reader) CustomerSummary(cid model.CustomerID, limit int) (CustomerSummary, error) {
	var sum CustomerSummary
	c, err := r.Customer(cid)
	if err != nil {
		return sum, err
	}
	if sum.Customer, err = customerRecord(r, &c); err != nil {
		return sum, err
	}
	names := map[model.PurposeID]string{}
	ps, err := r.Purposes()
	if err != nil {
		return sum, err
	}
	for _, p := range ps {
		names[p.ID] = p.Name
	}
	events, err := r.ConsentHistory(cid)
	if err != nil {
		return sum, err
	}
	for _, e := range events {
		ev, err := r.Evidence(e.ID)
		if err != nil {
			return sum, err
		}
		sum.Consents = append(sum.Consents, NewConsentRecord(&e, names[e.PurposeID], ev))
	}
	if st, err := r.ConsentState(cid); err != nil {
		return sum, err
	} else if st != nil {
		for _, sc := range st.Scopes {
			sum.CurrentState = append(sum.CurrentState, ScopeDecision{sc.Channel, names[sc.Purpose], sc.Allow(), sc.Reason, sc.EventID, sc.LastContact})
		}
	}
	sum.MoreInteractions, err = readNewestFirst(limit, func(before []byte, n int) ([]model.Interaction, []byte, error) {
		return r.Interactions(cid, before, n)
	}, func(i *model.Interaction) { sum.Interactions = append(sum.Interactions, interactionRecord(i)) })
	if err != nil {
		return sum, err
	}
	sum.MorePurchases, err = readNewestFirst(limit, func(before []byte, n int) ([]model.Purchase, []byte, error) {
		return r.Purchases(cid, before, n)
	}, func(p *model.Purchase) {
		rec := purchaseRecord(p)
		for _, it := range p.Items {
			rec.Lines = append(rec.Lines, PurchaseLine{SKU: it.SKU, Name: it.Name, Quantity: it.Quantity, UnitPrice: money(it.UnitPrice)})
		}
		sum.Purchases = append(sum.Purchases, rec)
	})
	if err != nil {
		return sum, err
	}
	sum.Consents = nonNil(sum.Consents)
	sum.CurrentState = nonNil(sum.CurrentState)
	sum.Interactions = nonNil(sum.Interactions)
	sum.Purchases = nonNil(sum.Purchases)
	return sum, nil
}

// readNewestFirst pages through a customer's listing (Reader.Interactions
// or Purchases), a thousand at a time, handing each record to add: all of
// them if limit <= 0, else the first limit. more says that records beyond
// the limit were left.
func readNewestFirst[T any](limit int, page func(before []byte, n int) ([]T, []byte, error), add func(*T)) (more bool, err error) {
	read := 0
	for before := []byte(nil); ; {
		n := 1000
		if limit > 0 {
			n = min(n, limit-read)
		}
		got, next, err := page(before, n)
		if err != nil {
			return false, err
		}
		for i := range got {
			add(&got[i])
		}
		read += len(got)
		if next == nil {
			return false, nil
		}
		if limit > 0 && read >= limit {
			return true, nil
		}
		before = next
	}
}

// CustomerRecord is c as `karton export customers` writes it, with the
// customer's scores.
func (r *Reader) CustomerRecord(c *model.Customer) (CustomerRecord, error) {
	return customerRecord(r, c)
}

// nonNil makes an empty list print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// stepFileRef is a file a file connector wrote a customer's messages to,
// with the connector's settings (which say how it is written).
type stepFileRef struct {
	path     string
	settings map[string]string
}

// stepFilesOf lists the files outside the store that a file connector
// wrote the customer's messages to (sent, or claimed for sending when a
// run stopped), where the channels' current settings put them, and that
// exist.
func (r *Reader) stepFilesOf(cid model.CustomerID) ([]stepFileRef, error) {
	messages, err := r.customerMessages(cid)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []stepFileRef
	for _, m := range messages {
		if m.Status != OutboxSent && m.Status != OutboxSending {
			continue
		}
		ch, err := r.Channel(m.ChannelID)
		if err != nil {
			return nil, err
		}
		if ch.Connector.Kind != model.ConnectorFile {
			continue
		}
		path := dispatch.StepFile(ch.Connector.Settings, m.StepID)
		if path == "" {
			continue
		}
		if path = r.s.besideStore(path); !seen[path] && fileExists(path) {
			seen[path] = true
			out = append(out, stepFileRef{path, ch.Connector.Settings})
		}
	}
	slices.SortFunc(out, func(a, b stepFileRef) int { return strings.Compare(a.path, b.path) })
	return out, nil
}

// StepFileRedaction is what erasure did to one file a file connector wrote
// a person's messages to.
type StepFileRedaction struct {
	Path string `json:"path"`
	// Rows is how many of the person's records were blanked.
	Rows int `json:"rows"`
	// Err says why the file could not be redacted; it still holds the
	// person's data.
	Err string `json:"error,omitempty"`
}

// EraseCustomer erases a customer (Tx.EraseCustomer, in a transaction of
// its own) and then blanks their records in the step files
// (RedactStepFiles), so that no caller erases in the store and forgets the
// files. The files' outcome comes back even when err reports that one
// could not be audited.
func (s *Store) EraseCustomer(by model.Actor, cid model.CustomerID) ([]StepFileRedaction, error) {
	if err := s.Update(by, func(tx *Tx) error { return tx.EraseCustomer(cid) }); err != nil {
		return nil, err
	}
	return s.RedactStepFiles(by, cid)
}

// RedactStepFiles blanks an erased customer's records in the files that
// file connectors wrote their messages to (dispatch.RedactStepFile): the
// store's erasure does not reach them, and they are Karton's own copies of
// what went to a print shop or a call centre. Copies handed on are beyond
// it. A file that cannot be redacted is reported with the reason, and the
// others are still redacted. It is audited (customer.erase.files) when
// there were files, and may be run again, e.g. after a failure: records
// blanked before are left as they are. Admin only.
func (s *Store) RedactStepFiles(by model.Actor, cid model.CustomerID) ([]StepFileRedaction, error) {
	if err := by.Require(model.PermAdminister, "redact the files of erased customers"); err != nil {
		return nil, err
	}
	var files []stepFileRef
	err := s.View(by, func(r *Reader) error {
		c, err := r.Customer(cid)
		if err != nil {
			return err
		}
		if !c.Erased {
			return fmt.Errorf("customer %d is not erased: only an erased person's messages are blanked in the files", cid)
		}
		files, err = r.stepFilesOf(cid)
		return err
	})
	if err != nil || len(files) == 0 {
		return nil, err
	}
	out := make([]StepFileRedaction, len(files))
	for i, f := range files {
		out[i].Path = f.path
		if out[i].Rows, err = dispatch.RedactStepFile(f.path, f.settings, cid); err != nil {
			out[i].Err = err.Error()
		}
	}
	payload, err := json.Marshal(out)
	if err != nil {
		return out, err
	}
	return out, s.Update(by, func(tx *Tx) error {
		return tx.Audit("customer.erase.files", fmt.Sprintf("customer:%d", cid), payload)
	})
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
