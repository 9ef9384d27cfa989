package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"karton/model"
	"karton/store"
	"karton/store/links"
)

// The unsubscribe page's choices (form field "choice").
const (
	choiceThis = "this" // opt_out for the link's channel kind and purpose
	choiceAll  = "all"  // objection: all direct marketing, every channel
)

func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	_, tok, err := s.openToken(r, links.KindUnsubscribe)
	if err != nil && !errors.Is(err, links.ErrExpired) {
		s.invalidLink(w)
		return
	}
	title, err := s.purposeTitle(tok.Purpose)
	if err != nil {
		s.invalidLink(w)
		return
	}
	var reason model.Reason
	if err := s.st.View(linkActor, func(rd *store.Reader) error {
		cs, err := rd.ConsentState(tok.Customer)
		if cs != nil {
			sc, _ := cs.Scope(tok.Channel, tok.Purpose)
			reason = sc.Reason
		}
		return err
	}); err != nil {
		s.log.Error("read consent state", "err", err)
		s.unavailable(w)
		return
	}
	lines := []string{fmt.Sprintf("Do you want to stop receiving %q by %s? Your other subscriptions stay as they are.", title, channelWords(tok.Channel))}
	switch reason {
	case model.ReasonWithdrawn:
		lines = []string{fmt.Sprintf("You are unsubscribed from %q by %s already.", title, channelWords(tok.Channel))}
	case model.ReasonObjection, model.ReasonErasedSuppressed:
		lines = []string{"You receive no advertising from us already."}
	}
	lines = append(lines, "To keep receiving everything, simply close this page.")
	s.render(w, http.StatusOK, page{
		Title: "Unsubscribe",
		Lines: lines,
		Buttons: []button{
			{Name: "choice", Value: choiceThis, Label: "Unsubscribe from " + title},
			{Name: "choice", Value: choiceAll, Label: "Stop all advertising from us, on every channel", Secondary: true},
		},
	})
}

// unsubscribe records a withdrawal, effective at the request's arrival.
// A mail client's one-click POST (RFC 8058) gets 200 with no page; the
// page's form gets a page. Repeating it records nothing new.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	arrived := s.st.Now()
	text, tok, err := s.openToken(r, links.KindUnsubscribe)
	// A withdrawal is valid at any time: an expired (but genuine) link
	// still unsubscribes.
	if err != nil && !errors.Is(err, links.ErrExpired) {
		s.invalidLink(w)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		// Any other body is read as the one-click POST it stands for: the
		// token, not the body, says what to withdraw.
	}
	choice := r.PostForm.Get("choice")
	kind, method := model.ConsentOptOut, "one-click (RFC 8058)"
	switch choice {
	case "":
	case choiceThis:
		method = "unsubscribe page"
	case choiceAll:
		kind, method = model.ConsentObjection, "unsubscribe page: all marketing"
	default:
		http.Error(w, "unknown choice", http.StatusBadRequest)
		return
	}
	evidence := s.linkEvidence(r, text, method)
	var recorded bool
	wd := withdrawal{
		Customer: tok.Customer, Channel: tok.Channel, Purpose: tok.Purpose, Step: tok.Step,
		Kind: kind, At: arrived, Source: "unsubscribe-link", Evidence: evidence,
	}
	err = s.commit.Update(linkActor, func(tx *store.Tx) (err error) {
		recorded, err = withdraw(tx, wd)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.invalidLink(w)
		return
	case err != nil:
		s.log.Error("record withdrawal", "customer", uint64(tok.Customer), "err", err)
		s.unavailable(w)
		return
	}
	if recorded {
		s.log.Info("withdrawal recorded", "customer", uint64(tok.Customer), "kind", string(kind))
	}
	if choice == "" {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	title, _ := s.purposeTitle(tok.Purpose)
	done := page{Title: "You are unsubscribed", Lines: []string{fmt.Sprintf("You will no longer receive %q by %s. Your other subscriptions stay as they are.", title, channelWords(tok.Channel))}}
	if kind == model.ConsentObjection {
		done.Lines = []string{"You will receive no more advertising from us, on any channel. Messages you need for your orders and contracts still reach you."}
	}
	s.render(w, http.StatusOK, done)
}

// withdrawal is an opt_out for one channel kind and purpose, or an
// objection against all marketing, as it arrives.
type withdrawal struct {
	Customer model.CustomerID
	Channel  model.ChannelKind // for an objection: the channel it came by, if any
	Purpose  model.PurposeID   // opt_out only
	Step     model.StepID      // the campaign step of the message, if any
	Kind     model.ConsentKind // opt_out or objection
	At       time.Time
	Source   string
	Evidence model.Evidence
}

// withdraw records a withdrawal and an unsubscribed interaction (for the
// campaign step, when known), unless the same withdrawal is in force
// already: then it records nothing and returns false. An erased customer
// is left alone: there is no one to contact any more.
func withdraw(tx *store.Tx, w withdrawal) (bool, error) {
	r := tx.Reader()
	c, err := r.Customer(w.Customer)
	if err != nil {
		return false, err
	}
	if c.Erased {
		return false, nil
	}
	if w.Kind.Scoped() {
		if _, err := r.Purpose(w.Purpose); err != nil {
			return false, err
		}
	}
	history, err := r.ConsentHistory(w.Customer)
	if err != nil {
		return false, err
	}
	if inForce(history, w.Kind, w.Channel, w.Purpose, w.At) {
		return false, nil
	}
	ev := model.ConsentEvent{CustomerID: w.Customer, Kind: w.Kind, EffectiveAt: w.At, Source: w.Source}
	if w.Kind.Scoped() {
		ev.Channel, ev.PurposeID = w.Channel, w.Purpose
	}
	if err := tx.AppendConsent(&ev, w.Evidence); err != nil {
		return false, err
	}
	note := "unsubscribed from this purpose"
	if w.Kind == model.ConsentObjection {
		note = "objected to all marketing"
	}
	i := model.Interaction{CustomerID: w.Customer, Kind: model.InteractionUnsubscribed, Channel: w.Channel, At: w.At, Note: note}
	if err := stepContext(r, w.Step, &i); err != nil {
		return false, err
	}
	if !i.Channel.Valid() {
		return true, nil // an objection by no particular channel: nothing to count a response on
	}
	return true, tx.AddInteraction(&i)
}

// stepContext fills an interaction's campaign, step and channel from the
// step a link was sent for.
func stepContext(r *store.Reader, step model.StepID, i *model.Interaction) error {
	if step == 0 {
		return nil
	}
	st, err := r.Step(step)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the interaction still counts, without its campaign
	}
	if err != nil {
		return err
	}
	i.StepID, i.CampaignID, i.ChannelID = st.ID, st.CampaignID, st.ChannelID
	if i.Channel == "" {
		ch, err := r.Channel(st.ChannelID)
		if err != nil {
			return err
		}
		i.Channel = ch.Kind
	}
	return nil
}

// inForce reports whether a withdrawal of this kind and scope already
// decides at time at: for opt_out, the scope's latest opt-in/opt-out is an
// opt_out; for an objection, the latest objection is later than every
// opt_in (an opt_in after an objection revives its scope, rule 4).
func inForce(events []model.ConsentEvent, kind model.ConsentKind, ch model.ChannelKind, p model.PurposeID, at time.Time) bool {
	var optIn, optOut, objection, anyOptIn *model.ConsentEvent
	for i := range events {
		e := &events[i]
		if e.EffectiveAt.After(at) {
			continue
		}
		scope := e.Channel == ch && e.PurposeID == p
		switch e.Kind {
		case model.ConsentOptIn:
			anyOptIn = latest(anyOptIn, e)
			if scope {
				optIn = latest(optIn, e)
			}
		case model.ConsentOptOut:
			if scope {
				optOut = latest(optOut, e)
			}
		case model.ConsentObjection:
			objection = latest(objection, e)
		}
	}
	if kind == model.ConsentObjection {
		return objection != nil && (anyOptIn == nil || later(objection, anyOptIn))
	}
	return optOut != nil && (optIn == nil || later(optOut, optIn))
}

// later orders events as the decision table does: by effective time, then
// ledger position.
func later(a, b *model.ConsentEvent) bool {
	if c := a.EffectiveAt.Compare(b.EffectiveAt); c != 0 {
		return c > 0
	}
	return a.ID > b.ID
}

func latest(cur, e *model.ConsentEvent) *model.ConsentEvent {
	if cur == nil || later(e, cur) {
		return e
	}
	return cur
}
