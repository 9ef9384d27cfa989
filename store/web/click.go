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

// click records a clicked interaction for the message's campaign step and
// redirects to the link registered in the step's creative. The target is
// never read from the request: the token names an index into the
// creative's Links and the checksum of the URL that was sent, so nothing
// but a registered link can be reached (no open redirect), and a creative
// whose link changed since sending does not send people somewhere else.
func (s *Server) click(w http.ResponseWriter, r *http.Request) {
	arrived := s.st.Now()
	_, tok, err := s.openToken(r, links.KindClick)
	expired := errors.Is(err, links.ErrExpired)
	if err != nil && !expired {
		s.invalidLink(w)
		return
	}
	var target string
	var step model.Step
	err = s.st.View(linkActor, func(rd *store.Reader) error {
		var err error
		if step, err = rd.Step(tok.Step); err != nil {
			return err
		}
		cp, err := rd.Campaign(step.CampaignID)
		if err != nil {
			return err
		}
		target, err = registeredTarget(&cp, &step, tok)
		return err
	})
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, errUnregistered) {
			s.log.Error("resolve click", "err", err)
		}
		s.render(w, http.StatusNotFound, page{
			Title: "This link is not available",
			Lines: []string{"The page this link pointed to is no longer part of our message."},
		})
		return
	}
	// A HEAD (link checkers, previews) is not a click; an expired link
	// still takes the person where they wanted to go, uncounted.
	if r.Method == http.MethodGet && !expired {
		err := s.commit.Update(linkActor, func(tx *store.Tx) error {
			return recordClick(tx, tok, arrived)
		})
		if err != nil {
			// The person should reach the page even if counting failed.
			s.log.Error("record click", "customer", uint64(tok.Customer), "err", err)
		}
	}
	http.Redirect(w, r, target, http.StatusFound)
}

var errUnregistered = errors.New("click target is not registered in the creative")

// registeredTarget is the creative link a click token points at.
func registeredTarget(cp *model.Campaign, step *model.Step, tok links.Token) (string, error) {
	cr, ok := cp.Creative(step.Creative)
	if !ok {
		return "", fmt.Errorf("step %d: creative %q: %w", step.ID, step.Creative, errUnregistered)
	}
	if tok.Link < 0 || tok.Link >= len(cr.Links) {
		return "", fmt.Errorf("creative %q has no link %d: %w", cr.Name, tok.Link, errUnregistered)
	}
	target := cr.Links[tok.Link]
	if links.TargetSum(target) != tok.Target || links.ValidateTarget(target) != nil {
		return "", fmt.Errorf("creative %q link %d changed or is not http(s): %w", cr.Name, tok.Link, errUnregistered)
	}
	return target, nil
}

// recordClick adds the clicked interaction, unless the customer was
// erased or no longer exists.
func recordClick(tx *store.Tx, tok links.Token, at time.Time) error {
	r := tx.Reader()
	c, err := r.Customer(tok.Customer)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.Erased {
		return nil
	}
	i := model.Interaction{
		CustomerID: tok.Customer, Kind: model.InteractionClicked, Channel: tok.Channel, At: at,
		Note: fmt.Sprintf("link %d of message %d", tok.Link, tok.Message),
	}
	if err := stepContext(r, tok.Step, &i); err != nil {
		return err
	}
	if err := tx.AddInteraction(&i); err != nil {
		return err
	}
	// Like every event of the return channel, the click is in the audit
	// chain, by the actor "web" (links) that recorded it.
	return tx.Audit("interaction.clicked", fmt.Sprintf("customer:%d", tok.Customer),
		fmt.Appendf(nil, "interaction %d: link %d of step %d, message %d", i.ID, tok.Link, tok.Step, tok.Message))
}
