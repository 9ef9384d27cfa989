package store

import (
	"encoding/json"
	"fmt"
	"time"

	"karton/model"
)

// PersonalData is everything Karton holds about one person, for access and
// portability requests (GDPR Art. 15 and 20). Its records have the shape
// of the bulk export's (`karton export`); every list is present, empty
// when there is nothing.
type PersonalData struct {
	ExportedAt   time.Time           `json:"exported_at"`
	ExportedBy   string              `json:"exported_by"`
	Customer     CustomerRecord      `json:"customer"`
	Consents     []ConsentRecord     `json:"consents"`
	CurrentState []ScopeDecision     `json:"current_consent_state"`
	Interactions []InteractionRecord `json:"interactions"`
	Purchases    []PurchaseRecord    `json:"purchases"`
	Decisions    []json.RawMessage   `json:"decisions"`
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
		c, err := r.Customer(cid)
		if err != nil {
			return err
		}
		if pd.Customer, err = customerRecord(r, &c); err != nil {
			return err
		}
		names := map[model.PurposeID]string{}
		ps, err := r.Purposes()
		if err != nil {
			return err
		}
		for _, p := range ps {
			names[p.ID] = p.Name
		}
		events, err := r.ConsentHistory(cid)
		if err != nil {
			return err
		}
		for _, e := range events {
			ev, err := r.Evidence(e.ID)
			if err != nil {
				return err
			}
			pd.Consents = append(pd.Consents, NewConsentRecord(&e, names[e.PurposeID], ev))
		}
		if st, err := r.ConsentState(cid); err != nil {
			return err
		} else if st != nil {
			for _, sc := range st.Scopes {
				pd.CurrentState = append(pd.CurrentState, ScopeDecision{sc.Channel, names[sc.Purpose], sc.Allow(), sc.Reason, sc.EventID, sc.LastContact})
			}
		}
		for before := []byte(nil); ; {
			page, next, err := r.Interactions(cid, before, 1000)
			if err != nil {
				return err
			}
			for i := range page {
				pd.Interactions = append(pd.Interactions, interactionRecord(&page[i]))
			}
			if next == nil {
				break
			}
			before = next
		}
		for before := []byte(nil); ; {
			page, next, err := r.Purchases(cid, before, 1000)
			if err != nil {
				return err
			}
			for i := range page {
				p := &page[i]
				rec := purchaseRecord(p)
				for _, it := range p.Items {
					rec.Lines = append(rec.Lines, PurchaseLine{SKU: it.SKU, Name: it.Name, Quantity: it.Quantity, UnitPrice: money(it.UnitPrice)})
				}
				pd.Purchases = append(pd.Purchases, rec)
			}
			if next == nil {
				break
			}
			before = next
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
	pd.Consents = nonNil(pd.Consents)
	pd.CurrentState = nonNil(pd.CurrentState)
	pd.Interactions = nonNil(pd.Interactions)
	pd.Purchases = nonNil(pd.Purchases)
	pd.Decisions = nonNil(pd.Decisions)
	err = s.Update(by, func(t *Tx) error {
		return t.Audit("customer.export", fmt.Sprintf("customer:%d", cid), []byte(fmt.Sprintf("%d consents, %d interactions, %d purchases", len(pd.Consents), len(pd.Interactions), len(pd.Purchases))))
	})
	return pd, err
}

// nonNil makes an empty list print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
