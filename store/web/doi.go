package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"karton/model"
	"karton/store"
	"karton/store/dispatch"
	"karton/store/links"
)

// DOIRequest asks a customer to confirm a consent by double opt-in.
type DOIRequest struct {
	Customer model.CustomerID
	// Channel is the kind being confirmed; only email has a sender so far.
	Channel model.ChannelKind
	Purpose model.PurposeID
	// Source says where the request came from: "operator", "inbound:shop".
	Source string
	// TextVersion is the version of the consent text the person agreed to;
	// the confirmation takes it over.
	TextVersion string
	// Evidence of the request itself (optional).
	Evidence model.Evidence
	// At is when the request was made (default: now).
	At time.Time
}

// DOIResult says what a DOI request recorded and sent.
type DOIResult struct {
	// Request is the recorded doi_requested event.
	Request model.ConsentEvent
	// URL is the confirmation link. Whoever has it can confirm: show it
	// only to the operator who asked, never log it.
	URL     string
	Expires time.Time
	// Via is the channel whose connector carries the email.
	Via model.Channel
	// Message is the confirmation email.
	Message dispatch.Message
	// Sent is true when the connector accepted the email; otherwise
	// NotSent says why (e.g. a demo channel with the dry connector).
	Sent    bool
	NotSent string
}

// doiJob is a recorded DOI request whose email is still to be sent,
// after the transaction that recorded it committed.
type doiJob struct {
	result DOIResult
}

// doiMessageFlag keeps the ids of DOI emails (doi_requested event ids) apart
// from outbox message ids in Message-IDs and idempotency keys.
const doiMessageFlag = 1 << 63

// RequestDOI records a doi_requested event and sends the advertising-free
// confirmation email with its link through the email channel's connector
// (Options.DOIChannel). Only the smtp connector delivers email; with
// another connector (dry, webhook, file) the request is recorded and the
// result holds the email that would have been sent, with NotSent saying
// why. If sending fails, the request stays recorded and the error says so.
func (s *Server) RequestDOI(ctx context.Context, by model.Actor, req DOIRequest) (DOIResult, error) {
	var job *doiJob
	err := s.st.Update(by, func(tx *store.Tx) (err error) {
		job, err = s.prepareDOI(tx, req)
		return err
	})
	if err != nil {
		return DOIResult{}, err
	}
	if err := s.sendDOIs(ctx, []*doiJob{job}); err != nil {
		return job.result, err
	}
	return job.result, nil
}

// prepareDOI checks a request, chooses the sending channel, records the
// doi_requested event in tx and renders the email.
func (s *Server) prepareDOI(tx *store.Tx, req DOIRequest) (*doiJob, error) {
	if req.Channel != model.KindEmail {
		return nil, fmt.Errorf("double opt-in by %s is not supported: Karton sends confirmation links by email only", req.Channel)
	}
	r := tx.Reader()
	c, err := r.Customer(req.Customer)
	if err != nil {
		return nil, err
	}
	if c.Erased {
		return nil, store.ErrCustomerErased
	}
	if err := model.ValidateEmail(c.Email); err != nil {
		return nil, fmt.Errorf("customer %d has no usable email address to send the confirmation link to", c.ID)
	}
	p, err := r.Purpose(req.Purpose)
	if err != nil {
		return nil, err
	}
	if p.Category == model.CategoryService {
		return nil, fmt.Errorf("purpose %s is a service purpose: it needs no consent, so there is nothing to confirm", p.Name)
	}
	via, err := s.doiChannel(r)
	if err != nil {
		return nil, err
	}
	base := s.opts.Base
	if b := via.Connector.Settings["unsubscribe_base"]; b != "" && !s.ownBase {
		base = b
	}
	at := req.At
	if at.IsZero() {
		at = tx.Now()
	}
	source := req.Source
	if source == "" {
		source = "operator"
	}
	ev := model.ConsentEvent{
		CustomerID: c.ID, Channel: req.Channel, PurposeID: p.ID, Kind: model.ConsentDOIRequested,
		EffectiveAt: at, Source: source, TextVersion: req.TextVersion,
	}
	evidence := model.Evidence{}
	for k, v := range req.Evidence {
		evidence[k] = v
	}
	evidence["via_channel"] = via.ID.String()
	if err := tx.AppendConsent(&ev, evidence); err != nil {
		return nil, err
	}
	expires := tx.Now().Add(s.opts.DOITTL).Truncate(time.Second)
	url, err := links.DOI(base, s.signer, links.DOIRequest{Customer: c.ID, Channel: req.Channel, Purpose: p.ID, Request: ev.ID, Expires: expires})
	if err != nil {
		return nil, err
	}
	title := p.Title
	if title == "" {
		title = p.Name
	}
	msg := dispatch.Message{
		ID: doiMessageFlag | uint64(ev.ID), CustomerID: c.ID, ChannelID: via.ID, Kind: model.KindEmail,
		Recipient: dispatch.Recipient{Salutation: c.Salutation, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email},
		Subject:   "Please confirm: " + title,
		Body:      doiEmailBody(c.FirstName, title, s.opts.Organisation, url, expires),
		CreatedAt: tx.Now(),
		Attempt:   1,
	}
	return &doiJob{result: DOIResult{Request: ev, URL: url, Expires: expires, Via: via, Message: msg}}, nil
}

// doiEmailBody is the confirmation email: what was asked for, the link,
// how long it works, and what happens without it. No advertising: until
// the person confirms, there is no consent to advertise with.
func doiEmailBody(firstName, purpose, org, url string, expires time.Time) string {
	hello := "Hello,"
	if firstName != "" {
		hello = "Hello " + firstName + ","
	}
	return fmt.Sprintf(`%s

you asked to receive %q by email from %s.
Please confirm with this link:

%s

The link works until %s (UTC). If you did not ask for this, ignore this
email: without your confirmation you will receive no advertising from us,
and you can withdraw your consent at any time.

%s
`, hello, purpose, org, url, expires.UTC().Format("2 January 2006, 15:04"), org)
}

// doiChannel is the email channel that sends confirmation emails.
func (s *Server) doiChannel(r *store.Reader) (model.Channel, error) {
	if s.opts.DOIChannel != "" {
		ch, err := r.FindChannel(s.opts.DOIChannel)
		if err != nil {
			return ch, fmt.Errorf("DOI channel: %w", err)
		}
		if ch.Kind != model.KindEmail {
			return ch, fmt.Errorf("DOI channel %s is a %s channel; confirmation links go by email", ch.Name, ch.Kind)
		}
		return ch, nil
	}
	chs, err := r.Channels()
	if err != nil {
		return model.Channel{}, err
	}
	var first *model.Channel
	for i := range chs {
		ch := &chs[i]
		if ch.Kind != model.KindEmail || ch.Status != model.ChannelActive {
			continue
		}
		if ch.Connector.Kind == model.ConnectorSMTP {
			return *ch, nil
		}
		if first == nil {
			first = ch
		}
	}
	if first == nil {
		return model.Channel{}, errors.New("there is no active email channel to send the confirmation link through; add one with `karton channel add NAME --kind email --connector smtp --setting host=… --setting from=…`")
	}
	return *first, nil
}

// sendDOIs hands the emails of committed DOI requests to their channels'
// connectors, one connector per channel. It returns the first failure;
// each job's result says whether its email went out.
func (s *Server) sendDOIs(ctx context.Context, jobs []*doiJob) error {
	conns := map[model.ChannelID]dispatch.Connector{}
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	var first error
	for _, j := range jobs {
		res := &j.result
		if res.Via.Connector.Kind != model.ConnectorSMTP {
			res.NotSent = fmt.Sprintf("channel %s uses the %s connector, which does not deliver email: nothing was sent", res.Via.Name, res.Via.Connector.Kind)
			s.log.Info("DOI email not sent", "customer", uint64(res.Request.CustomerID), "request", uint64(res.Request.ID), "channel", res.Via.Name, "connector", string(res.Via.Connector.Kind))
			continue
		}
		conn, ok := conns[res.Via.ID]
		if !ok {
			var err error
			if conn, err = s.opts.Connect(res.Via); err != nil {
				res.NotSent = fmt.Sprintf("channel %s: %v", res.Via.Name, err)
				first = cmpErr(first, fmt.Errorf("DOI request #%d is recorded but its email was not sent: channel %s: %w", res.Request.ID, res.Via.Name, err))
				continue
			}
			conns[res.Via.ID] = conn
		}
		if err := conn.Send(ctx, res.Message); err != nil {
			res.NotSent = err.Error()
			s.log.Warn("DOI email failed", "customer", uint64(res.Request.CustomerID), "request", uint64(res.Request.ID), "err", err)
			first = cmpErr(first, fmt.Errorf("DOI request #%d is recorded but its email was not sent (%w); request the confirmation again", res.Request.ID, err))
			continue
		}
		res.Sent = true
		s.log.Info("DOI email sent", "customer", uint64(res.Request.CustomerID), "request", uint64(res.Request.ID), "channel", res.Via.Name)
	}
	for _, c := range conns {
		if err := c.Sync(); err != nil {
			first = cmpErr(first, err)
		}
	}
	return first
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// openToken reads a link token of the expected kind. A token of another
// kind is as invalid as a forged one.
func (s *Server) openToken(r *http.Request, kind links.Kind) (string, links.Token, error) {
	text := r.PathValue("token")
	tok, err := s.signer.Open(text, s.st.Now())
	if err == nil && tok.Kind != kind {
		return text, links.Token{}, links.ErrMalformed
	}
	if errors.Is(err, links.ErrExpired) && tok.Kind != kind {
		return text, links.Token{}, links.ErrMalformed
	}
	return text, tok, err
}

// purposeTitle names a purpose for people.
func (s *Server) purposeTitle(id model.PurposeID) (string, error) {
	var p model.Purpose
	err := s.st.View(linkActor, func(r *store.Reader) (err error) { p, err = r.Purpose(id); return })
	if err != nil {
		return "", err
	}
	if p.Title != "" {
		return p.Title, nil
	}
	return p.Name, nil
}

// openDOIToken opens a confirmation link's token; for an expired or
// invalid one it answers the request itself and ok is false.
func (s *Server) openDOIToken(w http.ResponseWriter, r *http.Request) (text string, tok links.Token, ok bool) {
	text, tok, err := s.openToken(r, links.KindDOI)
	switch {
	case errors.Is(err, links.ErrExpired):
		s.doiExpired(w)
		return "", tok, false
	case err != nil:
		s.invalidLink(w)
		return "", tok, false
	}
	return text, tok, true
}

func (s *Server) doiPage(w http.ResponseWriter, r *http.Request) {
	_, tok, ok := s.openDOIToken(w, r)
	if !ok {
		return
	}
	title, err := s.purposeTitle(tok.Purpose)
	if err != nil {
		s.invalidLink(w)
		return
	}
	var spent bool
	if err := s.st.View(linkActor, func(rd *store.Reader) (err error) { _, spent, err = rd.DOITokenSpent(tok.Request); return }); err != nil {
		s.log.Error("read DOI link state", "err", err)
		s.unavailable(w)
		return
	}
	if spent {
		s.doiSpent(w)
		return
	}
	// Opening the link confirms nothing: mail scanners open links too.
	s.render(w, http.StatusOK, page{
		Title: "Please confirm your subscription",
		Lines: []string{
			fmt.Sprintf("You asked to receive %q by %s. Confirm with the button below.", title, channelWords(tok.Channel)),
			"You can withdraw your consent at any time with the link in every message.",
		},
		Buttons: []button{{Name: "confirm", Value: "yes", Label: "Yes, I confirm"}},
	})
}

func (s *Server) doiConfirm(w http.ResponseWriter, r *http.Request) {
	arrived := s.st.Now()
	text, tok, ok := s.openDOIToken(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	_ = r.ParseForm() // nothing in the form matters; the token decides
	title, err := s.purposeTitle(tok.Purpose)
	if err != nil {
		s.invalidLink(w)
		return
	}
	evidence := s.linkEvidence(r, text, "confirmation page")
	evidence["request_event"] = tok.Request.String()
	var ev model.ConsentEvent
	err = s.commit.Update(linkActor, func(tx *store.Tx) (err error) {
		ev, err = tx.ConfirmDOI(store.DOIConfirm{
			Request: tok.Request, Customer: tok.Customer, Channel: tok.Channel, Purpose: tok.Purpose,
			At: arrived, Source: "doi-link", Evidence: evidence,
		})
		return err
	})
	switch {
	case errors.Is(err, store.ErrTokenSpent):
		s.doiSpent(w)
		return
	case errors.Is(err, store.ErrCustomerErased):
		s.render(w, http.StatusGone, page{Title: "This link is no longer valid", Lines: []string{"There is nothing to confirm any more."}})
		return
	case errors.Is(err, store.ErrNotFound):
		s.invalidLink(w)
		return
	case err != nil:
		s.log.Error("record DOI confirmation", "request", uint64(tok.Request), "err", err)
		s.unavailable(w)
		return
	}
	s.log.Info("DOI confirmed", "customer", uint64(tok.Customer), "event", uint64(ev.ID))
	s.render(w, http.StatusOK, page{
		Title: "Thank you — confirmed",
		Lines: []string{fmt.Sprintf("You will receive %q by %s. You can withdraw your consent at any time with the link in every message.", title, channelWords(tok.Channel))},
	})
}

func (s *Server) doiExpired(w http.ResponseWriter) {
	s.render(w, http.StatusGone, page{
		Title: "This link has expired",
		Lines: []string{"Confirmation links work for a limited time. Please sign up again and you will get a new one; until then you will receive nothing from us."},
	})
}

func (s *Server) doiSpent(w http.ResponseWriter) {
	s.render(w, http.StatusGone, page{
		Title: "Already confirmed",
		Lines: []string{"This link was used already, so your subscription is confirmed. There is nothing more to do."},
	})
}

// channelWords names a channel kind in a sentence.
func channelWords(k model.ChannelKind) string {
	switch k {
	case model.KindSMS:
		return "text message"
	case model.KindPostal:
		return "post"
	case "":
		return "message"
	}
	return strings.ReplaceAll(string(k), "_", " ")
}
