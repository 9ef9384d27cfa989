package store

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"karton/model"
)

// InsertCampaign creates a campaign in draft.
func (t *Tx) InsertCampaign(c *model.Campaign) error {
	if err := t.require(model.PermEditCampaigns, "create campaigns"); err != nil {
		return err
	}
	if c.Status == "" {
		c.Status = model.StatusDraft
	}
	if c.Currency == "" {
		c.Currency = t.s.settings.Currency
	}
	if c.Owner == "" {
		c.Owner = t.actor.Name
	}
	if err := c.Validate(); err != nil {
		return err
	}
	id, err := t.nextID(bCampaigns)
	if err != nil {
		return err
	}
	c.ID = model.CampaignID(id)
	if c.CreatedAt.IsZero() {
		c.CreatedAt = t.now
	}
	c.UpdatedAt = t.now
	b := encodeCampaign(c)
	if err := t.bucket(bCampaigns).Put(u64(id), b); err != nil {
		return err
	}
	t.count("campaigns", 1)
	t.change(ChangeCampaign, id)
	return t.Audit("campaign.create", fmt.Sprintf("campaign:%d", id), b)
}

// UpdateCampaign edits a campaign's plan. Only drafts may change their
// plan; a submitted or approved campaign must be rejected back to draft
// first, so that what was approved is what runs.
func (t *Tx) UpdateCampaign(id model.CampaignID, edit func(c *model.Campaign) error) error {
	if err := t.require(model.PermEditCampaigns, "edit campaigns"); err != nil {
		return err
	}
	c, err := t.Reader().Campaign(id)
	if err != nil {
		return err
	}
	if !c.Status.Editable() {
		return fmt.Errorf("campaign %d is %s; only a draft can be edited (reject it back to draft first)", id, c.Status)
	}
	keep := c
	if err := edit(&c); err != nil {
		return err
	}
	c.ID, c.Status, c.CreatedAt, c.UpdatedAt = id, keep.Status, keep.CreatedAt, t.now
	c.SubmittedBy, c.SubmittedAt, c.ApprovedBy, c.ApprovedAt = keep.SubmittedBy, keep.SubmittedAt, keep.ApprovedBy, keep.ApprovedAt
	for i := range c.Budget { // actual spend is booked by dispatch only
		c.Budget[i].Actual = 0
		for _, k := range keep.Budget {
			if k.Label == c.Budget[i].Label {
				c.Budget[i].Actual = k.Actual
			}
		}
	}
	if err := c.Validate(); err != nil {
		return err
	}
	return t.putCampaign(&c, "campaign.update")
}

func (t *Tx) putCampaign(c *model.Campaign, action string) error {
	b := encodeCampaign(c)
	if err := t.bucket(bCampaigns).Put(u64(uint64(c.ID)), b); err != nil {
		return err
	}
	t.change(ChangeCampaign, uint64(c.ID))
	if action == "" {
		return nil
	}
	return t.Audit(action, fmt.Sprintf("campaign:%d", c.ID), b)
}

// ErrFourEyes is returned when the submitter tries to approve their own
// campaign in a store with more than one user.
var ErrFourEyes = errors.New("four-eyes rule: a campaign must be approved by someone other than who submitted it")

// TransitionCampaign moves a campaign through its life cycle, checking the
// permission each step needs and the four-eyes rule for approvals. note is
// kept with a rejection.
func (t *Tx) TransitionCampaign(id model.CampaignID, action model.CampaignAction, note string) error {
	perm := model.PermEditCampaigns
	if action == model.ActionApprove || action == model.ActionReject {
		perm = model.PermApproveCampaigns
	}
	if err := t.require(perm, string(action)+" campaigns"); err != nil {
		return err
	}
	c, err := t.Reader().Campaign(id)
	if err != nil {
		return err
	}
	next, err := c.Status.Transition(action)
	if err != nil {
		return fmt.Errorf("campaign %d: %w", id, err)
	}
	auditAction := "campaign." + string(action)
	switch action {
	case model.ActionSubmit:
		c.SubmittedBy, c.SubmittedAt = t.actor.Name, t.now
		c.RejectedBy, c.RejectionNote = "", ""
	case model.ActionApprove:
		if c.SubmittedBy == t.actor.Name {
			n, err := t.Reader().UserCount()
			if err != nil {
				return err
			}
			if n > 1 {
				return fmt.Errorf("campaign %d: %w (%s submitted it)", id, ErrFourEyes, c.SubmittedBy)
			}
			auditAction = "campaign.self_approve" // single-user store: allowed, and said so
		}
		c.ApprovedBy, c.ApprovedAt = t.actor.Name, t.now
	case model.ActionReject:
		c.RejectedBy, c.RejectionNote = t.actor.Name, note
		c.ApprovedBy, c.ApprovedAt = "", time.Time{}
	}
	c.Status, c.UpdatedAt = next, t.now
	return t.putCampaign(&c, auditAction)
}

// BookSpend adds an actual cost to one of the campaign's budget lines
// (created if missing), e.g. contact costs as dispatch sends messages.
func (t *Tx) BookSpend(id model.CampaignID, label string, amount model.Money) error {
	c, err := t.Reader().Campaign(id)
	if err != nil {
		return err
	}
	found := false
	for i := range c.Budget {
		if c.Budget[i].Label == label {
			c.Budget[i].Actual += amount
			found = true
		}
	}
	if !found {
		c.Budget = append(c.Budget, model.BudgetLine{Label: label, Actual: amount})
	}
	c.UpdatedAt = t.now
	return t.putCampaign(&c, "")
}

// Campaign returns one campaign.
func (r *Reader) Campaign(id model.CampaignID) (model.Campaign, error) {
	var c model.Campaign
	v := r.tx.Bucket(bCampaigns).Get(u64(uint64(id)))
	if v == nil {
		return c, notFound("campaign", id.String())
	}
	return c, decodeCampaign(v, &c)
}

// Campaigns lists campaigns, newest window first. Campaigns number in the
// hundreds, so the list is read whole.
func (r *Reader) Campaigns() ([]model.Campaign, error) {
	var out []model.Campaign
	err := r.tx.Bucket(bCampaigns).ForEach(func(k, v []byte) error {
		var c model.Campaign
		if err := decodeCampaign(v, &c); err != nil {
			return fmt.Errorf("campaign %d: %w", readU64(k), err)
		}
		out = append(out, c)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.After(out[j].Start) })
	return out, err
}

// InsertStep adds a step to a draft campaign, checking that its channel,
// purpose, audience and creative exist.
func (t *Tx) InsertStep(s *model.Step) error {
	if err := t.require(model.PermEditCampaigns, "edit campaigns"); err != nil {
		return err
	}
	if s.Status == "" {
		s.Status = model.StepPlanned
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if err := t.checkStepRefs(s); err != nil {
		return err
	}
	id, err := t.nextID(bSteps)
	if err != nil {
		return err
	}
	s.ID = model.StepID(id)
	b := encodeStep(s)
	if err := t.bucket(bSteps).Put(u64(id), b); err != nil {
		return err
	}
	if err := t.bucket(bCampaignSteps).Put(appendU64(u64(uint64(s.CampaignID)), id), nil); err != nil {
		return err
	}
	t.count("steps", 1)
	t.change(ChangeStep, id)
	t.change(ChangeCampaign, uint64(s.CampaignID))
	return t.Audit("step.create", fmt.Sprintf("step:%d", id), b)
}

// UpdateStep edits a planned step of a draft campaign.
func (t *Tx) UpdateStep(id model.StepID, edit func(s *model.Step) error) error {
	if err := t.require(model.PermEditCampaigns, "edit campaigns"); err != nil {
		return err
	}
	s, err := t.Reader().Step(id)
	if err != nil {
		return err
	}
	keep := s
	if err := edit(&s); err != nil {
		return err
	}
	s.ID, s.CampaignID, s.Status, s.LaunchedAt, s.LaunchedBy = keep.ID, keep.CampaignID, keep.Status, keep.LaunchedAt, keep.LaunchedBy
	if err := s.Validate(); err != nil {
		return err
	}
	if err := t.checkStepRefs(&s); err != nil {
		return err
	}
	b := encodeStep(&s)
	if err := t.bucket(bSteps).Put(u64(uint64(id)), b); err != nil {
		return err
	}
	t.change(ChangeStep, uint64(id))
	return t.Audit("step.update", fmt.Sprintf("step:%d", id), b)
}

// PutStepState stores a step's launch state (used by the launch pipeline).
func (t *Tx) PutStepState(s *model.Step) error {
	b := encodeStep(s)
	if err := t.bucket(bSteps).Put(u64(uint64(s.ID)), b); err != nil {
		return err
	}
	t.change(ChangeStep, uint64(s.ID))
	return nil
}

func (t *Tx) checkStepRefs(s *model.Step) error {
	r := t.Reader()
	c, err := r.Campaign(s.CampaignID)
	if err != nil {
		return err
	}
	if !c.Status.Editable() {
		return fmt.Errorf("campaign %d is %s; steps can only be changed in a draft", c.ID, c.Status)
	}
	ch, err := r.Channel(s.ChannelID)
	if err != nil {
		return err
	}
	if ch.Status == model.ChannelRetired {
		return fmt.Errorf("channel %q is retired", ch.Name)
	}
	if _, err := r.Purpose(s.PurposeID); err != nil {
		return err
	}
	if _, err := r.Segment(s.SegmentID); err != nil {
		return err
	}
	if s.Creative != "" {
		cr, ok := c.Creative(s.Creative)
		if !ok {
			return fmt.Errorf("campaign %d has no creative named %q", c.ID, s.Creative)
		}
		if cr.Kind != "" && cr.Kind != ch.Kind {
			return fmt.Errorf("creative %q is written for %s, but channel %q is %s", cr.Name, cr.Kind, ch.Name, ch.Kind)
		}
	}
	return nil
}

// Step returns one step.
func (r *Reader) Step(id model.StepID) (model.Step, error) {
	var s model.Step
	v := r.tx.Bucket(bSteps).Get(u64(uint64(id)))
	if v == nil {
		return s, notFound("step", id.String())
	}
	return s, decodeStep(v, &s)
}

// Steps lists a campaign's steps in creation order.
func (r *Reader) Steps(cid model.CampaignID) ([]model.Step, error) {
	var out []model.Step
	prefix := u64(uint64(cid))
	c := r.tx.Bucket(bCampaignSteps).Cursor()
	for k, _ := c.Seek(prefix); k != nil && len(k) == 16 && readU64(k) == uint64(cid); k, _ = c.Next() {
		s, err := r.Step(model.StepID(readU64(k[8:])))
		if err != nil {
			return out, err
		}
		out = append(out, s)
	}
	return out, nil
}
