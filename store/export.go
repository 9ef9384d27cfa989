package store

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"karton/model"
)

// Exports of every entity as CSV or JSON Lines. Everything but the audit
// chain is about people, so every export needs the permission to export
// personal data (managers and admins) and is recorded in the audit chain
// with what was exported and how many rows. The audit chain export needs
// the same permission: its subjects name customers.
//
// An export reads in pages of exportPage records, each in its own short
// read transaction, so a large export does not hold the store; records
// written while it runs may or may not be in it (`karton backup` gives a
// consistent copy).

// ExportEntity is what an export writes.
type ExportEntity string

// The exportable entities.
const (
	ExportCustomers    ExportEntity = "customers"
	ExportPurchases    ExportEntity = "purchases"
	ExportInteractions ExportEntity = "interactions"
	ExportConsents     ExportEntity = "consents"
	ExportDecisions    ExportEntity = "decisions"
	ExportAudit        ExportEntity = "audit"
)

// ExportEntities lists them in CLI order.
var ExportEntities = []ExportEntity{ExportCustomers, ExportPurchases, ExportInteractions, ExportConsents, ExportDecisions, ExportAudit}

// ParseExportEntity validates an entity name.
func ParseExportEntity(s string) (ExportEntity, error) {
	e := ExportEntity(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(ExportEntities, e) {
		return e, nil
	}
	return "", fmt.Errorf("cannot export %q: choose customers, purchases, interactions, consents, decisions or audit", s)
}

// ExportSummary says what an export wrote.
type ExportSummary struct {
	Entity ExportEntity `json:"entity"`
	Format string       `json:"format"`
	Rows   int          `json:"rows"`
}

const exportPage = 10000

// exportRow is a row with its CSV form; JSON Lines use the struct itself.
type exportRow interface{ csv() []string }

// Export writes every record of an entity to w as "csv" or "jsonl", and
// records the export in the audit chain. Cancelling ctx stops it between
// pages (the audit entry then says how far it got).
func (s *Store) Export(ctx context.Context, by model.Actor, entity ExportEntity, format string, w io.Writer) (ExportSummary, error) {
	sum := ExportSummary{Entity: entity, Format: format}
	if err := by.Require(model.PermExportPersonal, "export "+string(entity)); err != nil {
		return sum, err
	}
	if format != "csv" && format != "jsonl" {
		return sum, fmt.Errorf("export format %q: use csv or jsonl", format)
	}
	if _, err := ParseExportEntity(string(entity)); err != nil {
		return sum, err
	}
	var cw *csv.Writer
	var enc *json.Encoder
	if format == "csv" {
		cw = csv.NewWriter(w)
		if h := exportHeader(entity); h != nil {
			if err := cw.Write(h); err != nil {
				return sum, err
			}
		}
	} else {
		enc = json.NewEncoder(w)
		enc.SetEscapeHTML(false)
	}
	var decisionHeader []string
	emit := func(row any) error {
		sum.Rows++
		if enc != nil {
			return enc.Encode(row)
		}
		if r, ok := row.(exportRow); ok {
			return cw.Write(r.csv())
		}
		// Decisions come as JSON objects from the launch pipeline: their
		// top-level keys become the columns, taken from the first one.
		obj := map[string]any{}
		if err := json.Unmarshal(row.(json.RawMessage), &obj); err != nil {
			return fmt.Errorf("decision: %w", err)
		}
		if decisionHeader == nil {
			for k := range obj {
				decisionHeader = append(decisionHeader, k)
			}
			sort.Strings(decisionHeader)
			if err := cw.Write(decisionHeader); err != nil {
				return err
			}
		}
		rec := make([]string, len(decisionHeader))
		for i, k := range decisionHeader {
			switch v := obj[k].(type) {
			case nil:
			case string:
				rec[i] = v
			default:
				b, _ := json.Marshal(v)
				rec[i] = string(b)
			}
		}
		return cw.Write(rec)
	}
	err := s.exportRecords(ctx, by, entity, emit)
	if cw != nil {
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
	}
	payload, _ := json.Marshal(map[string]any{"entity": entity, "format": format, "rows": sum.Rows, "complete": err == nil})
	if aerr := s.Update(by, func(t *Tx) error {
		return t.Audit("export."+string(entity), "export", payload)
	}); aerr != nil && err == nil {
		err = aerr
	}
	return sum, err
}

// exportRecords walks the entity's bucket page by page.
func (s *Store) exportRecords(ctx context.Context, by model.Actor, entity ExportEntity, emit func(any) error) error {
	var bucket []byte
	switch entity {
	case ExportCustomers, ExportDecisions:
		bucket = bCustomers
	case ExportPurchases:
		bucket = bPurchases
	case ExportInteractions:
		bucket = bInteractions
	case ExportConsents:
		bucket = bConsentIDs // ledger order
	case ExportAudit:
		bucket = bAudit
	}
	var purposes map[model.PurposeID]string
	if entity == ExportConsents {
		purposes = map[model.PurposeID]string{}
		err := s.View(by, func(r *Reader) error {
			ps, err := r.Purposes()
			for _, p := range ps {
				purposes[p.ID] = p.Name
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	var after []byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var rows []any
		done := false
		err := s.View(by, func(r *Reader) error {
			c := r.tx.Bucket(bucket).Cursor()
			k, v := c.First()
			if after != nil {
				k, v = c.Seek(after)
				if k != nil && bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			n := 0
			for ; k != nil && n < exportPage; k, v = c.Next() {
				n++
				after = append(after[:0], k...)
				row, err := exportRecord(r, entity, k, v, purposes)
				if err != nil {
					return err
				}
				switch x := row.(type) {
				case nil:
				case []json.RawMessage:
					for _, d := range x {
						rows = append(rows, d)
					}
				default:
					rows = append(rows, row)
				}
			}
			done = k == nil
			return nil
		})
		if err != nil {
			return err
		}
		for _, row := range rows {
			if err := emit(row); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
	}
}

func exportRecord(r *Reader, entity ExportEntity, k, v []byte, purposes map[model.PurposeID]string) (any, error) {
	switch entity {
	case ExportCustomers:
		var c model.Customer
		if err := decodeCustomer(v, &c); err != nil {
			return nil, fmt.Errorf("customer %d: %w", readU64(k), err)
		}
		return customerRecord(r, &c)
	case ExportPurchases:
		var p model.Purchase
		if err := decodePurchase(k, v, &p); err != nil {
			return nil, fmt.Errorf("purchase %x: %w", k, err)
		}
		return purchaseRecord(&p), nil
	case ExportInteractions:
		var i model.Interaction
		if err := decodeInteraction(k, v, &i); err != nil {
			return nil, fmt.Errorf("interaction %x: %w", k, err)
		}
		return interactionRecord(&i), nil
	case ExportConsents:
		ev, err := r.ConsentEvent(model.EventID(readU64(k)))
		if err != nil {
			return nil, err
		}
		evi, err := r.Evidence(ev.ID)
		if err != nil {
			return nil, err
		}
		return NewConsentRecord(&ev, purposes[ev.PurposeID], evi), nil
	case ExportDecisions:
		var out []json.RawMessage
		for _, ex := range r.s.decisionExporters {
			d, err := ex(r, model.CustomerID(readU64(k)))
			if err != nil {
				return nil, err
			}
			out = append(out, d...)
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	case ExportAudit:
		var a AuditEntry
		if err := decodeAudit(v, &a); err != nil {
			return nil, fmt.Errorf("audit entry %d: %w", readU64(k), err)
		}
		return auditRow{Seq: a.Seq, At: a.At, Actor: a.Actor, Action: a.Action, Subject: a.Subject,
			PayloadHash: hex.EncodeToString(a.PayloadHash[:]), PrevHash: hex.EncodeToString(a.PrevHash[:]), Hash: hex.EncodeToString(a.Hash[:])}, nil
	}
	return nil, fmt.Errorf("cannot export %s", entity)
}

// money renders minor units as a decimal ("12.34").
func money(m model.Money) string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func joinPairs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, "|")
}

func exportHeader(e ExportEntity) []string {
	switch e {
	case ExportCustomers:
		return []string{"id", "type", "salutation", "first_name", "last_name", "company", "email", "phone", "street", "postal_code",
			"city", "country", "birth_date", "tags", "sources", "attributes", "preferences", "created_at", "updated_at", "erased",
			"purchase_count", "revenue", "first_purchase_at", "last_purchase_at", "last_activity_at", "rfm_segment", "r", "f", "m", "clv", "p_alive"}
	case ExportPurchases:
		return []string{"id", "customer_id", "order_id", "source", "at", "amount", "currency", "items", "email_collected", "objection_notice"}
	case ExportInteractions:
		return []string{"id", "customer_id", "at", "kind", "channel", "channel_id", "campaign_id", "step_id", "value", "note"}
	case ExportConsents:
		return []string{"id", "customer_id", "channel", "purpose", "kind", "basis", "effective_at", "recorded_at", "source", "actor",
			"text_version", "evidence_hash", "evidence"}
	case ExportAudit:
		return []string{"seq", "at", "actor", "action", "subject", "payload_hash", "prev_hash", "hash"}
	}
	return nil // decisions: from the first record
}

// CustomerRecord is a customer as the exports show it (JSON and CSV).
type CustomerRecord struct {
	ID              model.CustomerID  `json:"id"`
	Type            model.ContactType `json:"type"`
	Salutation      string            `json:"salutation,omitempty"`
	FirstName       string            `json:"first_name,omitempty"`
	LastName        string            `json:"last_name,omitempty"`
	Company         string            `json:"company,omitempty"`
	Email           string            `json:"email,omitempty"`
	Phone           string            `json:"phone,omitempty"`
	Street          string            `json:"street,omitempty"`
	PostalCode      string            `json:"postal_code,omitempty"`
	City            string            `json:"city,omitempty"`
	Country         string            `json:"country,omitempty"`
	BirthDate       string            `json:"birth_date,omitempty"`
	Tags            []string          `json:"tags,omitempty"`
	Sources         map[string]string `json:"sources,omitempty"`
	Attributes      map[string]string `json:"attributes,omitempty"`
	Preferences     map[string]string `json:"preferences,omitempty"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
	Erased          bool              `json:"erased,omitempty"`
	ErasedAt        time.Time         `json:"erased_at,omitzero"`   // JSON only
	Suppressed      bool              `json:"suppressed,omitempty"` // JSON only
	PurchaseCount   int               `json:"purchase_count"`
	Revenue         string            `json:"revenue"`
	FirstPurchaseAt time.Time         `json:"first_purchase_at,omitzero"`
	LastPurchaseAt  time.Time         `json:"last_purchase_at,omitzero"`
	LastActivityAt  time.Time         `json:"last_activity_at,omitzero"`
	RFMSegment      string            `json:"rfm_segment,omitempty"`
	R               uint8             `json:"r,omitempty"`
	F               uint8             `json:"f,omitempty"`
	M               uint8             `json:"m,omitempty"`
	CLV             string            `json:"clv,omitempty"`
	PAlive          float64           `json:"p_alive,omitempty"`
}

// customerRecord is a customer as exports show it, with its scores.
func customerRecord(r *Reader, c *model.Customer) (CustomerRecord, error) {
	row := CustomerRecord{ID: c.ID, Type: c.Type, Salutation: c.Salutation, FirstName: c.FirstName, LastName: c.LastName, Company: c.Company,
		Email: c.Email, Phone: c.Phone, Street: c.Address.Street, PostalCode: c.Address.PostalCode, City: c.Address.City,
		Country: c.Address.Country, BirthDate: c.BirthDate.String(), Tags: c.Tags, Attributes: c.Attributes, Preferences: c.Preferences,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Erased: c.Erased, ErasedAt: c.ErasedAt, Suppressed: c.Suppressed,
		PurchaseCount: c.PurchaseCount, Revenue: money(c.Revenue), FirstPurchaseAt: c.FirstPurchaseAt, LastPurchaseAt: c.LastPurchaseAt,
		LastActivityAt: c.LastActivityAt}
	if len(c.Sources) > 0 {
		row.Sources = map[string]string{}
		for _, s := range c.Sources {
			row.Sources[s.Source] = s.ExternalID
		}
	}
	sc, ok, err := r.Scores(c.ID)
	if err != nil {
		return row, err
	}
	if ok {
		row.RFMSegment, row.R, row.F, row.M = sc.Segment.String(), sc.R, sc.F, sc.M
		if sc.R == 0 {
			row.RFMSegment = ""
		}
		if sc.CLV != 0 || sc.PAlive != 0 {
			row.CLV, row.PAlive = money(sc.CLV), sc.PAlive
		}
	}
	return row, nil
}

func (r CustomerRecord) csv() []string {
	b := func(v bool) string { return strconv.FormatBool(v) }
	u := func(v uint8) string {
		if v == 0 {
			return ""
		}
		return strconv.Itoa(int(v))
	}
	p := ""
	if r.PAlive != 0 {
		p = strconv.FormatFloat(r.PAlive, 'f', 4, 64)
	}
	return []string{r.ID.String(), string(r.Type), r.Salutation, r.FirstName, r.LastName, r.Company, r.Email, r.Phone, r.Street,
		r.PostalCode, r.City, r.Country, r.BirthDate, strings.Join(r.Tags, "|"), joinPairs(r.Sources), joinPairs(r.Attributes),
		joinPairs(r.Preferences), timeText(r.CreatedAt), timeText(r.UpdatedAt), b(r.Erased), strconv.Itoa(r.PurchaseCount), r.Revenue,
		timeText(r.FirstPurchaseAt), timeText(r.LastPurchaseAt), timeText(r.LastActivityAt), r.RFMSegment, u(r.R), u(r.F), u(r.M), r.CLV, p}
}

// PurchaseRecord is a purchase as the exports show it. Lines (JSON only)
// is filled in the export of a person's data; the bulk export counts
// items.
type PurchaseRecord struct {
	ID              model.PurchaseID `json:"id"`
	Customer        model.CustomerID `json:"customer_id"`
	OrderID         string           `json:"order_id"`
	Source          string           `json:"source,omitempty"`
	At              time.Time        `json:"at"`
	Amount          string           `json:"amount"`
	Currency        string           `json:"currency"`
	Items           int              `json:"items"`
	EmailCollected  bool             `json:"email_collected"`
	ObjectionNotice bool             `json:"objection_notice"`
	Lines           []PurchaseLine   `json:"lines,omitempty"`
}

// PurchaseLine is one item of a purchase.
type PurchaseLine struct {
	SKU       string `json:"sku,omitempty"`
	Name      string `json:"name,omitempty"`
	Quantity  int    `json:"quantity"`
	UnitPrice string `json:"unit_price"`
}

func purchaseRecord(p *model.Purchase) PurchaseRecord {
	return PurchaseRecord{ID: p.ID, Customer: p.CustomerID, OrderID: p.OrderID, Source: p.Source, At: p.At, Amount: money(p.Amount),
		Currency: p.Currency, Items: len(p.Items), EmailCollected: p.EmailCollected, ObjectionNotice: p.ObjectionNotice}
}

func (r PurchaseRecord) csv() []string {
	return []string{r.ID.String(), r.Customer.String(), r.OrderID, r.Source, timeText(r.At), r.Amount, r.Currency, strconv.Itoa(r.Items),
		strconv.FormatBool(r.EmailCollected), strconv.FormatBool(r.ObjectionNotice)}
}

// InteractionRecord is an interaction as the exports show it.
type InteractionRecord struct {
	ID        model.InteractionID   `json:"id"`
	Customer  model.CustomerID      `json:"customer_id"`
	At        time.Time             `json:"at"`
	Kind      model.InteractionKind `json:"kind"`
	Channel   model.ChannelKind     `json:"channel"`
	ChannelID model.ChannelID       `json:"channel_id,omitempty"`
	Campaign  model.CampaignID      `json:"campaign_id,omitempty"`
	Step      model.StepID          `json:"step_id,omitempty"`
	Value     string                `json:"value"`
	Note      string                `json:"note,omitempty"`
}

func interactionRecord(i *model.Interaction) InteractionRecord {
	return InteractionRecord{ID: i.ID, Customer: i.CustomerID, At: i.At, Kind: i.Kind, Channel: i.Channel, ChannelID: i.ChannelID,
		Campaign: i.CampaignID, Step: i.StepID, Value: money(i.Value), Note: i.Note}
}

func (r InteractionRecord) csv() []string {
	id := func(v uint64) string {
		if v == 0 {
			return ""
		}
		return strconv.FormatUint(v, 10)
	}
	return []string{r.ID.String(), r.Customer.String(), timeText(r.At), string(r.Kind), string(r.Channel), id(uint64(r.ChannelID)),
		id(uint64(r.Campaign)), id(uint64(r.Step)), r.Value, r.Note}
}

// ConsentRecord is a ledger event with its evidence as the exports,
// `karton consent history --json` and the export of a person's data show
// it.
type ConsentRecord struct {
	ID           model.EventID     `json:"id"`
	Customer     model.CustomerID  `json:"customer_id"`
	Channel      model.ChannelKind `json:"channel,omitempty"`
	Purpose      string            `json:"purpose,omitempty"`
	Kind         model.ConsentKind `json:"kind"`
	Basis        model.LegalBasis  `json:"basis"`
	EffectiveAt  time.Time         `json:"effective_at"`
	RecordedAt   time.Time         `json:"recorded_at"`
	Source       string            `json:"source,omitempty"`
	Actor        string            `json:"actor,omitempty"`
	TextVersion  string            `json:"text_version,omitempty"`
	EvidenceHash string            `json:"evidence_hash,omitempty"`
	Evidence     map[string]string `json:"evidence,omitempty"`
}

// NewConsentRecord shows ev, whose purpose is named purpose, with its
// evidence (nil if none or erased).
func NewConsentRecord(ev *model.ConsentEvent, purpose string, evidence model.Evidence) ConsentRecord {
	row := ConsentRecord{ID: ev.ID, Customer: ev.CustomerID, Channel: ev.Channel, Purpose: purpose, Kind: ev.Kind,
		Basis: ev.Basis, EffectiveAt: ev.EffectiveAt, RecordedAt: ev.RecordedAt, Source: ev.Source, Actor: ev.Actor,
		TextVersion: ev.TextVersion, Evidence: evidence}
	if ev.HasEvidence {
		row.EvidenceHash = hex.EncodeToString(ev.EvidenceHash[:])
	}
	return row
}

func (r ConsentRecord) csv() []string {
	return []string{r.ID.String(), r.Customer.String(), string(r.Channel), r.Purpose, string(r.Kind), string(r.Basis), timeText(r.EffectiveAt),
		timeText(r.RecordedAt), r.Source, r.Actor, r.TextVersion, r.EvidenceHash, joinPairs(r.Evidence)}
}

type auditRow struct {
	Seq         uint64    `json:"seq"`
	At          time.Time `json:"at"`
	Actor       string    `json:"actor"`
	Action      string    `json:"action"`
	Subject     string    `json:"subject"`
	PayloadHash string    `json:"payload_hash"`
	PrevHash    string    `json:"prev_hash"`
	Hash        string    `json:"hash"`
}

func (r auditRow) csv() []string {
	return []string{strconv.FormatUint(r.Seq, 10), timeText(r.At), r.Actor, r.Action, r.Subject, r.PayloadHash, r.PrevHash, r.Hash}
}
