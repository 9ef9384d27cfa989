package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"karton/model"
	"karton/store"
	"karton/store/dispatch"
)

// Request headers of POST /events.
const (
	HeaderSource    = "X-Karton-Source"
	HeaderSignature = dispatch.HeaderSignature // "X-Karton-Signature"
)

// Event types of POST /events.
const (
	EventSignup      = "signup"      // opt_in; for email also a DOI request
	EventPurchase    = "purchase"    // an order
	EventInteraction = "interaction" // a contact or response on a channel
	EventUnsubscribe = "unsubscribe" // opt_out for a channel kind and purpose
	EventObjection   = "objection"   // against all direct marketing
)

// Event is one inbound event. Which fields apply depends on Type; unknown
// fields are refused, so a typo does not pass silently.
type Event struct {
	// ID is the source's id of the event; a second delivery with the same
	// id is answered "duplicate" and writes nothing. Required.
	ID   string `json:"id"`
	Type string `json:"type"`
	// At is when it happened, RFC 3339 (default: when it arrived).
	At       string        `json:"at,omitempty"`
	Customer EventCustomer `json:"customer"`
	// Channel is a channel kind (signup, unsubscribe, interaction;
	// optional for objection) and Purpose a purpose name (signup,
	// unsubscribe).
	Channel     string            `json:"channel,omitempty"`
	Purpose     string            `json:"purpose,omitempty"`
	TextVersion string            `json:"text_version,omitempty"`
	Evidence    map[string]string `json:"evidence,omitempty"`

	// Purchase.
	OrderID         string      `json:"order_id,omitempty"`
	Amount          json.Number `json:"amount,omitempty"` // "49.90" or 49.90
	Currency        string      `json:"currency,omitempty"`
	Items           []EventItem `json:"items,omitempty"`
	EmailCollected  bool        `json:"email_collected,omitempty"`
	ObjectionNotice bool        `json:"objection_notice,omitempty"`

	// Interaction.
	Kind     string `json:"kind,omitempty"`
	Campaign uint64 `json:"campaign,omitempty"`
	Step     uint64 `json:"step,omitempty"`
	Note     string `json:"note,omitempty"`
}

// EventCustomer names the person an event is about: by Karton id, by the
// source's own id (external_id), by email or by phone, tried in that
// order. Sign-ups, purchases and interactions of someone unknown create
// the customer (with the source's id, so the next event finds them);
// withdrawals never do.
type EventCustomer struct {
	ID         uint64 `json:"id,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	FirstName  string `json:"first_name,omitempty"`
	LastName   string `json:"last_name,omitempty"`
}

// EventItem is one line of a purchase.
type EventItem struct {
	SKU       string      `json:"sku,omitempty"`
	Name      string      `json:"name,omitempty"`
	Quantity  int         `json:"quantity"`
	UnitPrice json.Number `json:"unit_price,omitempty"`
}

// Result statuses of one inbound event.
const (
	StatusAccepted  = "accepted"
	StatusIgnored   = "ignored"
	StatusDuplicate = "duplicate"
	StatusRejected  = "rejected"
)

// EventResult says what became of one event, in the order received.
type EventResult struct {
	Index    int    `json:"index"`
	ID       string `json:"id,omitempty"`
	Status   string `json:"status"`
	Customer uint64 `json:"customer,omitempty"`
	// ConsentEvents are the ledger ids the event recorded.
	ConsentEvents []uint64 `json:"consent_events,omitempty"`
	// DOI says what happened to a sign-up's confirmation email.
	DOI string `json:"doi,omitempty"`
	// Message explains ignored, duplicate and rejected events.
	Message string `json:"message,omitempty"`
}

// EventsResponse is the answer to an accepted POST /events.
type EventsResponse struct {
	Source     string        `json:"source"`
	Received   int           `json:"received"`
	Accepted   int           `json:"accepted"`
	Ignored    int           `json:"ignored"`
	Duplicates int           `json:"duplicates"`
	Rejected   int           `json:"rejected"`
	Results    []EventResult `json:"results"`
}

// ErrorResponse is the answer to a refused POST /events: nothing of it
// was written.
type ErrorResponse struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (s *Server) jsonError(w http.ResponseWriter, status int, code, format string, args ...any) {
	var e ErrorResponse
	e.Error.Code, e.Error.Message = code, fmt.Sprintf(format, args...)
	s.writeJSON(w, status, e)
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode JSON answer", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// events receives signed inbound events. Everything that concerns the
// request as a whole is checked before anything is written.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	arrived := s.st.Now()
	name := r.Header.Get(HeaderSource)
	if name == "" {
		s.jsonError(w, http.StatusUnauthorized, "missing_source", "the %s header naming the source is missing", HeaderSource)
		return
	}
	if store.ValidateSourceName(name) != nil {
		s.jsonError(w, http.StatusUnauthorized, "unknown_source", "there is no source %q (register it with `karton source add`)", name)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		s.jsonError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the events as Content-Type: application/json")
		return
	}
	if r.ContentLength > s.opts.MaxEventBytes {
		s.jsonError(w, http.StatusRequestEntityTooLarge, "too_large", "the body is %d bytes; the limit is %d (send fewer events per request)", r.ContentLength, s.opts.MaxEventBytes)
		return
	}
	var secret []byte
	err := s.st.View(store.SystemActor, func(rd *store.Reader) (err error) { secret, err = rd.SourceSecret(name); return })
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.jsonError(w, http.StatusUnauthorized, "unknown_source", "there is no source %q (register it with `karton source add`)", name)
		return
	case err != nil:
		s.log.Error("read source secret", "source", name, "err", err)
		s.jsonError(w, http.StatusInternalServerError, "internal", "the source could not be checked; try again")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxEventBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.jsonError(w, http.StatusRequestEntityTooLarge, "too_large", "the body is larger than %d bytes (send fewer events per request)", s.opts.MaxEventBytes)
			return
		}
		s.jsonError(w, http.StatusBadRequest, "read_failed", "the body could not be read: %v", err)
		return
	}
	if code, msg := s.verify(secret, r.Header.Get(HeaderSignature), body, arrived); code != "" {
		s.jsonError(w, http.StatusUnauthorized, code, "%s", msg)
		return
	}
	raws, err := splitEvents(body)
	if err != nil {
		s.jsonError(w, http.StatusBadRequest, "malformed", "%v", err)
		return
	}
	if len(raws) > s.opts.MaxEvents {
		s.jsonError(w, http.StatusRequestEntityTooLarge, "too_many_events", "%d events in one request; the limit is %d", len(raws), s.opts.MaxEvents)
		return
	}
	resp, err := s.processEvents(r, name, raws, body, arrived)
	switch {
	case errors.Is(err, store.ErrBulkLoad):
		w.Header().Set("Retry-After", "60")
		s.jsonError(w, http.StatusServiceUnavailable, "busy", "a bulk load owns the store; nothing was written, send the events again later")
		return
	case err != nil:
		s.log.Error("inbound events not recorded", "source", name, "err", err)
		s.jsonError(w, http.StatusInternalServerError, "internal", "the events could not be recorded; nothing was written, send them again")
		return
	}
	s.writeJSON(w, http.StatusOK, resp)
}

// verify checks the signature header; it returns an error code and
// message, or "" when the request is genuine and fresh. The signature is
// checked (in constant time) before the timestamp, so "stale_timestamp"
// is only ever said of a genuine request: a replay.
func (s *Server) verify(secret []byte, header string, body []byte, now time.Time) (code, msg string) {
	if header == "" {
		return "missing_signature", fmt.Sprintf("the %s header is missing; sign t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>", HeaderSignature)
	}
	sig, err := dispatch.ParseSignature(header)
	if err != nil {
		return "bad_signature", fmt.Sprintf("the %s header must be t=<unix seconds>,v1=<hex signature>", HeaderSignature)
	}
	// The same scheme as Karton's outgoing webhooks (dispatch.Sign).
	if !sig.Matches(secret, body) {
		return "bad_signature", "the signature does not match the body and the source's secret"
	}
	if d := now.Sub(time.Unix(sig.T, 0)); d > s.opts.ReplayWindow || d < -s.opts.ReplayWindow {
		return "stale_timestamp", fmt.Sprintf("the signature's timestamp is %s away from the server's clock (allowed: %s); a replayed request, or a clock to fix", d.Round(time.Second), s.opts.ReplayWindow)
	}
	return "", ""
}

// splitEvents reads a body that holds one JSON object or an array of
// them. Elements are decoded one by one later, so one bad event does not
// spoil the rest; the body itself must be well-formed JSON.
func splitEvents(body []byte) ([]json.RawMessage, error) {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return nil, errors.New("the body is empty; send one JSON event or an array of them")
	}
	var raws []json.RawMessage
	switch b[0] {
	case '{':
		var one json.RawMessage
		if err := json.Unmarshal(b, &one); err != nil {
			return nil, fmt.Errorf("the body is not valid JSON: %v", err)
		}
		raws = []json.RawMessage{one}
	case '[':
		if err := json.Unmarshal(b, &raws); err != nil {
			return nil, fmt.Errorf("the body is not valid JSON: %v", err)
		}
		if len(raws) == 0 {
			return nil, errors.New("the array holds no events")
		}
	default:
		if !json.Valid(b) {
			return nil, errors.New("the body is not valid JSON")
		}
		return nil, errors.New("the body must be a JSON object (one event) or an array of objects")
	}
	return raws, nil
}

// rowError is a problem with one event: reported in its result, never
// written, and the others go on.
type rowError struct {
	index int
	err   error
}

func (e *rowError) Error() string { return fmt.Sprintf("event %d: %v", e.index, e.err) }

// eventError is a problem found in an event's content.
type eventError struct{ msg string }

func (e *eventError) Error() string { return e.msg }

func rejectf(format string, args ...any) error { return &eventError{fmt.Sprintf(format, args...)} }

// isRowError tells a problem with one event from a failure of the store.
func isRowError(err error) bool {
	var ve *model.ValidationError
	var pe *model.PermissionError
	var ee *eventError
	return errors.As(err, &ve) || errors.As(err, &ee) || errors.As(err, &pe) ||
		errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrCustomerErased) ||
		strings.Contains(err.Error(), "was erased")
}

// processEvents records the events of one request in one transaction
// (shared with concurrent requests through the committer). An event that
// fails after it wrote something makes the transaction roll back and run
// again without it, so a rejected event never leaves half of itself
// behind. An error means nothing was written.
func (s *Server) processEvents(r *http.Request, source string, raws []json.RawMessage, body []byte, arrived time.Time) (EventsResponse, error) {
	resp := EventsResponse{Source: source, Received: len(raws), Results: make([]EventResult, len(raws))}
	events := make([]*Event, len(raws))
	rejected := map[int]string{}
	for i, raw := range raws {
		var ev Event
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ev); err != nil {
			rejected[i] = "not an event: " + strings.TrimPrefix(err.Error(), "json: ")
			continue
		}
		if err := store.ValidateInboundID(ev.ID); err != nil {
			rejected[i] = err.Error()
		}
		events[i] = &ev
	}
	var purposes map[string]model.Purpose
	if err := s.st.View(linkActor, func(rd *store.Reader) error {
		ps, err := rd.Purposes()
		purposes = make(map[string]model.Purpose, len(ps))
		for _, p := range ps {
			purposes[p.Name] = p
		}
		return err
	}); err != nil {
		return resp, err
	}
	var jobs map[int]*doiJob
	actor := sourceActor(source)
	for {
		err := s.commit.Update(actor, func(tx *store.Tx) error {
			jobs = map[int]*doiJob{}
			accepted := 0
			for i := range raws {
				res := &resp.Results[i]
				*res = EventResult{Index: i}
				if ev := events[i]; ev != nil {
					res.ID = ev.ID
				}
				if msg, bad := rejected[i]; bad {
					res.Status, res.Message = StatusRejected, msg
					continue
				}
				job, err := s.applyEvent(tx, source, events[i], purposes, arrived, res)
				if err != nil {
					if isRowError(err) {
						return &rowError{index: i, err: err}
					}
					return err
				}
				if job != nil {
					jobs[i] = job
				}
				if res.Status == StatusAccepted {
					accepted++
				}
			}
			if accepted == 0 {
				return nil
			}
			// The chain holds the exact body received (as its hash) with
			// the source as the actor.
			return tx.Audit("inbound.events", "source:"+source, body)
		})
		var re *rowError
		if errors.As(err, &re) {
			rejected[re.index] = re.err.Error()
			continue
		}
		if err != nil {
			return resp, err
		}
		break
	}
	if len(jobs) > 0 {
		list := make([]*doiJob, 0, len(jobs))
		for _, j := range jobs {
			list = append(list, j)
		}
		_ = s.sendDOIs(r.Context(), list) // each result says what happened
		for i, j := range jobs {
			switch {
			case j.result.Sent:
				resp.Results[i].DOI = "sent"
			default:
				resp.Results[i].DOI = "not sent: " + j.result.NotSent
			}
		}
	}
	for _, res := range resp.Results {
		switch res.Status {
		case StatusAccepted:
			resp.Accepted++
		case StatusIgnored:
			resp.Ignored++
		case StatusDuplicate:
			resp.Duplicates++
		case StatusRejected:
			resp.Rejected++
		}
	}
	return resp, nil
}

// applyEvent records one event in tx and fills its result.
func (s *Server) applyEvent(tx *store.Tx, source string, ev *Event, purposes map[string]model.Purpose, arrived time.Time, res *EventResult) (*doiJob, error) {
	r := tx.Reader()
	if seen, ok, err := r.InboundSeen(source, ev.ID); err != nil {
		return nil, err
	} else if ok {
		res.Status, res.Customer = StatusDuplicate, uint64(seen.Customer)
		res.Message = fmt.Sprintf("processed already on %s (%s)", seen.At.Format(time.RFC3339), seen.Status)
		return nil, nil
	}
	at := arrived
	if strings.TrimSpace(ev.At) != "" {
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(ev.At))
		if err != nil {
			return nil, rejectf("at: %q is not an RFC 3339 time like 2025-03-01T12:00:00Z", ev.At)
		}
		at = t.UTC()
	}
	var evidence model.Evidence
	if len(ev.Evidence) > 0 {
		evidence = model.Evidence{}
		for k, v := range ev.Evidence {
			evidence[k] = v
		}
	}
	withEvent := func() model.Evidence {
		e := model.Evidence{"inbound_event": ev.ID}
		for k, v := range evidence {
			e[k] = v
		}
		return e
	}
	if evidence != nil {
		if err := model.ValidateEvidence(withEvent()); err != nil {
			return nil, err
		}
	}
	consentSource := "inbound:" + source
	var job *doiJob
	status := store.InboundAccepted
	switch ev.Type {
	case EventSignup:
		ch, p, err := scope(ev, purposes)
		if err != nil {
			return nil, err
		}
		if p.Category == model.CategoryService {
			return nil, rejectf("purpose: %s is a service purpose, which needs no consent", p.Name)
		}
		if ch == model.KindEmail && strings.TrimSpace(ev.Customer.Email) == "" && ev.Customer.ID == 0 && ev.Customer.ExternalID == "" {
			return nil, rejectf("customer.email: a sign-up for email needs the address")
		}
		c, err := s.findOrCreate(tx, source, ev.Customer, true)
		if err != nil {
			return nil, err
		}
		confirmed := false
		if cs, err := r.ConsentState(c.ID); err != nil {
			return nil, err
		} else if cs != nil {
			sc, _ := cs.Scope(ch, p.ID)
			confirmed = sc.Reason == model.ReasonConsentDOI
		}
		optIn := model.ConsentEvent{CustomerID: c.ID, Channel: ch, PurposeID: p.ID, Kind: model.ConsentOptIn, EffectiveAt: at, Source: consentSource, TextVersion: ev.TextVersion}
		if err := tx.AppendConsent(&optIn, withEvent()); err != nil {
			return nil, err
		}
		res.Customer, res.ConsentEvents = uint64(c.ID), []uint64{uint64(optIn.ID)}
		switch {
		case confirmed:
			res.DOI = "confirmed already"
		case ch == model.KindEmail:
			if _, err := s.doiChannel(r); err != nil {
				res.DOI = "not requested: " + err.Error()
				break
			}
			job, err = s.prepareDOI(tx, DOIRequest{
				Customer: c.ID, Channel: ch, Purpose: p.ID, Source: consentSource, TextVersion: ev.TextVersion,
				At: at, Evidence: model.Evidence{"inbound_event": ev.ID},
			})
			if err != nil {
				return nil, err
			}
			res.ConsentEvents = append(res.ConsentEvents, uint64(job.result.Request.ID))
		case ch.Electronic():
			res.DOI = fmt.Sprintf("not requested: Karton sends confirmation links by email only; confirm the %s opt-in in the sending system and import the doi_confirmed", ch)
		}
	case EventPurchase:
		if ev.Amount == "" {
			return nil, rejectf("amount: is missing")
		}
		amount, err := model.ParseMoney(ev.Amount.String())
		if err != nil {
			return nil, rejectf("amount: %v", err)
		}
		items := make([]model.PurchaseItem, 0, len(ev.Items))
		for i, it := range ev.Items {
			var price model.Money
			if it.UnitPrice != "" {
				if price, err = model.ParseMoney(it.UnitPrice.String()); err != nil {
					return nil, rejectf("items[%d].unit_price: %v", i, err)
				}
			}
			items = append(items, model.PurchaseItem{SKU: it.SKU, Name: it.Name, Quantity: it.Quantity, UnitPrice: price})
		}
		pu := model.Purchase{
			OrderID: strings.TrimSpace(ev.OrderID), Source: source, At: at, Amount: amount, Currency: strings.ToUpper(ev.Currency),
			Items: items, EmailCollected: ev.EmailCollected, ObjectionNotice: ev.ObjectionNotice,
		}
		// Validate before anyone is created (the customer is resolved below).
		pu.CustomerID = 1
		if err := pu.Validate(tx.Now()); err != nil {
			return nil, err
		}
		c, err := s.findOrCreate(tx, source, ev.Customer, true)
		if err != nil {
			return nil, err
		}
		pu.CustomerID = c.ID
		res.Customer = uint64(c.ID)
		if err := tx.AddPurchase(&pu); err != nil {
			return nil, err
		}
	case EventInteraction:
		kind, err := model.ParseInteractionKind(ev.Kind)
		if err != nil {
			return nil, rejectf("kind: %v", err)
		}
		ch, err := model.ParseChannelKind(ev.Channel)
		if err != nil {
			return nil, rejectf("channel: %v", err)
		}
		i := model.Interaction{Kind: kind, Channel: ch, At: at, Note: ev.Note, CampaignID: model.CampaignID(ev.Campaign)}
		if ev.Step != 0 {
			st, err := r.Step(model.StepID(ev.Step))
			if err != nil {
				return nil, err
			}
			if ev.Campaign != 0 && st.CampaignID != model.CampaignID(ev.Campaign) {
				return nil, rejectf("step: step %d belongs to campaign %d, not %d", st.ID, st.CampaignID, ev.Campaign)
			}
			i.StepID, i.CampaignID, i.ChannelID = st.ID, st.CampaignID, st.ChannelID
		} else if ev.Campaign != 0 {
			if _, err := r.Campaign(model.CampaignID(ev.Campaign)); err != nil {
				return nil, err
			}
		}
		i.CustomerID = 1 // as for purchases: validate before creating anyone
		if err := i.Validate(tx.Now()); err != nil {
			return nil, err
		}
		c, err := s.findOrCreate(tx, source, ev.Customer, true)
		if err != nil {
			return nil, err
		}
		i.CustomerID = c.ID
		res.Customer = uint64(c.ID)
		if err := tx.AddInteraction(&i); err != nil {
			return nil, err
		}
	case EventUnsubscribe, EventObjection:
		w := withdrawal{Kind: model.ConsentOptOut, Step: model.StepID(ev.Step), At: at, Source: consentSource, Evidence: withEvent()}
		if ev.Type == EventUnsubscribe {
			ch, p, err := scope(ev, purposes)
			if err != nil {
				return nil, err
			}
			w.Channel, w.Purpose = ch, p.ID
		} else {
			w.Kind = model.ConsentObjection
			if ev.Channel != "" {
				ch, err := model.ParseChannelKind(ev.Channel)
				if err != nil {
					return nil, rejectf("channel: %v", err)
				}
				w.Channel = ch
			}
		}
		c, err := s.findOrCreate(tx, source, ev.Customer, false)
		if errors.Is(err, errNoSuchCustomer) {
			res.Status, res.Message = StatusIgnored, "no such customer: there is no one to unsubscribe"
			return nil, tx.MarkInbound(source, ev.ID, store.InboundOutcome{Status: store.InboundIgnored})
		}
		if err != nil {
			return nil, err
		}
		w.Customer = c.ID
		res.Customer = uint64(c.ID)
		recorded, err := withdraw(tx, w)
		if err != nil {
			return nil, err
		}
		if !recorded {
			status = store.InboundIgnored
			res.Message = "the withdrawal is in force already"
		}
	default:
		return nil, rejectf("type: %q is not one of signup, purchase, interaction, unsubscribe, objection", ev.Type)
	}
	res.Status = status.String()
	return job, tx.MarkInbound(source, ev.ID, store.InboundOutcome{Status: status, Customer: model.CustomerID(res.Customer)})
}

// scope reads an event's channel kind and purpose.
func scope(ev *Event, purposes map[string]model.Purpose) (model.ChannelKind, model.Purpose, error) {
	ch, err := model.ParseChannelKind(ev.Channel)
	if err != nil {
		return "", model.Purpose{}, rejectf("channel: %v", err)
	}
	p, ok := purposes[strings.ToLower(strings.TrimSpace(ev.Purpose))]
	if !ok {
		return "", model.Purpose{}, rejectf("purpose: unknown purpose %q", ev.Purpose)
	}
	return ch, p, nil
}

var errNoSuchCustomer = errors.New("no such customer")

// findOrCreate resolves an event's customer: by Karton id, by the
// source's id, by email, by a phone number only one customer has. When
// create is set, someone unknown is created with what the event gives
// (and the source's id, so the next event finds them); an existing
// customer found by email learns the source's id. Otherwise it returns
// errNoSuchCustomer.
func (s *Server) findOrCreate(tx *store.Tx, source string, ec EventCustomer, create bool) (model.Customer, error) {
	r := tx.Reader()
	ext := strings.TrimSpace(ec.ExternalID)
	if len(ext) > 200 {
		return model.Customer{}, rejectf("customer.external_id: is longer than 200 characters")
	}
	found := func(c model.Customer, err error) (model.Customer, bool, error) {
		switch {
		case errors.Is(err, store.ErrNotFound):
			return c, false, nil
		case err != nil:
			return c, false, err
		case c.Erased:
			return c, false, store.ErrCustomerErased
		}
		return c, true, nil
	}
	if ec.ID != 0 {
		c, ok, err := found(r.Customer(model.CustomerID(ec.ID)))
		if err != nil {
			return c, err
		}
		if !ok {
			return c, rejectf("customer.id: there is no customer %d", ec.ID)
		}
		return c, nil
	}
	if ext != "" {
		if c, ok, err := found(r.CustomerBySource(source, ext)); err != nil || ok {
			return c, err
		}
	}
	email := strings.TrimSpace(ec.Email)
	if email != "" {
		if err := model.ValidateEmail(email); err != nil {
			return model.Customer{}, rejectf("customer.email: %v", err)
		}
		c, ok, err := found(r.CustomerByEmail(email))
		if err != nil {
			return c, err
		}
		if ok {
			if ext != "" && create {
				err := tx.UpdateCustomer(c.ID, func(c *model.Customer) error {
					c.Sources = append(c.Sources, model.SourceRef{Source: source, ExternalID: ext})
					return nil
				})
				if err != nil {
					return c, err
				}
			}
			return c, nil
		}
	}
	phone := strings.TrimSpace(ec.Phone)
	if phone != "" {
		e164, err := model.NormalizePhone(phone, s.st.Settings().Region)
		if err != nil {
			return model.Customer{}, rejectf("customer.phone: %v", err)
		}
		if ids := r.CustomerIDsByPhone(e164); len(ids) == 1 {
			if c, ok, err := found(r.Customer(ids[0])); err != nil || ok {
				return c, err
			}
		}
		phone = e164
	}
	if !create {
		return model.Customer{}, errNoSuchCustomer
	}
	if ext == "" && email == "" && phone == "" {
		return model.Customer{}, rejectf("customer: give id, external_id, email or phone")
	}
	c := model.Customer{Email: email, Phone: phone, FirstName: ec.FirstName, LastName: ec.LastName}
	if ext != "" {
		c.Sources = []model.SourceRef{{Source: source, ExternalID: ext}}
	}
	if err := tx.InsertCustomer(&c); err != nil {
		return c, err
	}
	return c, nil
}
