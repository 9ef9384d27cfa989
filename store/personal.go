package store

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
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

// StepFilesOf lists the files outside the store that a file connector
// wrote the customer's messages to (sent, or claimed for sending when a
// run stopped), where the channels' current settings put them, and that
// exist. Erasure does not reach them: they are handed on to a print shop
// or a call centre, and the operator deletes or redacts them.
func (r *Reader) StepFilesOf(cid model.CustomerID) ([]string, error) {
	messages, err := r.customerMessages(cid)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
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
		if path == "" || seen[path] {
			continue
		}
		seen[path] = true
		if path = r.s.besideStore(path); fileExists(path) {
			out = append(out, path)
		}
	}
	slices.Sort(out)
	return out, nil
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
