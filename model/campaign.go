package model

import (
	"fmt"
	"strings"
	"time"
)

// CampaignStatus is a campaign's place in its life cycle:
// draft → submitted → approved → running → completed, or cancelled; a
// rejected campaign goes back to draft.
type CampaignStatus string

const (
	StatusDraft     CampaignStatus = "draft"
	StatusSubmitted CampaignStatus = "submitted"
	StatusApproved  CampaignStatus = "approved"
	StatusRunning   CampaignStatus = "running"
	StatusCompleted CampaignStatus = "completed"
	StatusCancelled CampaignStatus = "cancelled"
)

// CampaignStatuses lists the statuses in life-cycle order.
var CampaignStatuses = []CampaignStatus{StatusDraft, StatusSubmitted, StatusApproved, StatusRunning, StatusCompleted, StatusCancelled}

// CampaignAction is a transition a user asks for.
type CampaignAction string

const (
	ActionSubmit   CampaignAction = "submit"
	ActionApprove  CampaignAction = "approve"
	ActionReject   CampaignAction = "reject"
	ActionStart    CampaignAction = "start" // set by the first launch
	ActionComplete CampaignAction = "complete"
	ActionCancel   CampaignAction = "cancel"
)

// Transition returns the status an action leads to from the current one, or
// an error saying why the action is not possible now.
func (s CampaignStatus) Transition(a CampaignAction) (CampaignStatus, error) {
	next := map[CampaignStatus]map[CampaignAction]CampaignStatus{
		StatusDraft:     {ActionSubmit: StatusSubmitted, ActionCancel: StatusCancelled},
		StatusSubmitted: {ActionApprove: StatusApproved, ActionReject: StatusDraft, ActionCancel: StatusCancelled},
		StatusApproved:  {ActionStart: StatusRunning, ActionCancel: StatusCancelled, ActionReject: StatusDraft},
		StatusRunning:   {ActionComplete: StatusCompleted, ActionCancel: StatusCancelled},
	}[s]
	if n, ok := next[a]; ok {
		return n, nil
	}
	return s, fmt.Errorf("a %s campaign cannot be %s", s, pastTense(a))
}

func pastTense(a CampaignAction) string {
	switch a {
	case ActionSubmit:
		return "submitted"
	case ActionApprove:
		return "approved"
	case ActionReject:
		return "rejected"
	case ActionStart:
		return "started"
	case ActionComplete:
		return "completed"
	case ActionCancel:
		return "cancelled"
	}
	return string(a)
}

// Editable reports whether the campaign's plan may still change.
func (s CampaignStatus) Editable() bool { return s == StatusDraft }

// BudgetLine is one planned cost with what has actually been spent on it.
type BudgetLine struct {
	Label   string `json:"label"` // "Print", "Postage", "Agency", "Contacts: Newsletter"
	Planned Money  `json:"planned"`
	Actual  Money  `json:"actual"`
}

// StaffAssignment is a person working on a campaign.
type StaffAssignment struct {
	Name  string  `json:"name"`
	Role  string  `json:"role"` // "Copywriter", "Campaign lead", ...
	Hours float64 `json:"hours"`
}

// Creative is a message template. Body and Subject may contain
// personalisation fields like {{first_name}} from a fixed documented set.
type Creative struct {
	Name    string      `json:"name"`
	Kind    ChannelKind `json:"kind"` // the channel kind it is written for
	Subject string      `json:"subject,omitempty"`
	Body    string      `json:"body"`
	// ObjectionNotice says the creative tells the recipient they may object
	// at any time (needed by the existing-customer rule, UWG §7(3) no. 4).
	ObjectionNotice bool `json:"objection_notice"`
	// Links are the only URLs click tracking may redirect to.
	Links []string `json:"links,omitempty"`
}

// ParticipantStatus tracks a person through an event.
type ParticipantStatus string

const (
	ParticipantInvited    ParticipantStatus = "invited"
	ParticipantRegistered ParticipantStatus = "registered"
	ParticipantAttended   ParticipantStatus = "attended"
	ParticipantCancelled  ParticipantStatus = "cancelled"
)

// Participant is one customer on an event's list.
type Participant struct {
	CustomerID CustomerID        `json:"customer_id"`
	Status     ParticipantStatus `json:"status"`
	At         time.Time         `json:"at"`
}

// Campaign is a time-limited marketing action over one or several channels.
type Campaign struct {
	ID       CampaignID        `json:"id"`
	Name     string            `json:"name"`
	Goal     string            `json:"goal,omitempty"`
	Owner    string            `json:"owner"` // user name
	Start    time.Time         `json:"start"`
	End      time.Time         `json:"end"`
	Status   CampaignStatus    `json:"status"`
	Currency string            `json:"currency"`
	Budget   []BudgetLine      `json:"budget"`
	Staff    []StaffAssignment `json:"staff"`
	// Creatives are referenced by name from steps.
	Creatives []Creative `json:"creatives"`
	// Capacity and Participants are used by event campaigns.
	Capacity     int           `json:"capacity,omitempty"`
	Participants []Participant `json:"participants,omitempty"`

	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	SubmittedBy   string    `json:"submitted_by,omitempty"`
	SubmittedAt   time.Time `json:"submitted_at,omitzero"`
	ApprovedBy    string    `json:"approved_by,omitempty"`
	ApprovedAt    time.Time `json:"approved_at,omitzero"`
	RejectedBy    string    `json:"rejected_by,omitempty"`
	RejectionNote string    `json:"rejection_note,omitempty"`
}

// Planned and Spent sum the budget lines.
func (c *Campaign) Planned() Money {
	var m Money
	for _, b := range c.Budget {
		m += b.Planned
	}
	return m
}

func (c *Campaign) Spent() Money {
	var m Money
	for _, b := range c.Budget {
		m += b.Actual
	}
	return m
}

// Creative returns the creative with the given name.
func (c *Campaign) Creative(name string) (*Creative, bool) {
	for i := range c.Creatives {
		if c.Creatives[i].Name == name {
			return &c.Creatives[i], true
		}
	}
	return nil, false
}

// ParticipantCounts returns how many are invited, registered and attended.
// A registered participant was invited; an attendee registered, so the
// counts are cumulative along the funnel.
func (c *Campaign) ParticipantCounts() (invited, registered, attended int) {
	for _, p := range c.Participants {
		switch p.Status {
		case ParticipantAttended:
			attended++
			registered++
			invited++
		case ParticipantRegistered:
			registered++
			invited++
		case ParticipantInvited, ParticipantCancelled:
			invited++
		}
	}
	return
}

// Validate checks the campaign.
func (c *Campaign) Validate() error {
	p := problems{entity: "campaign"}
	if strings.TrimSpace(c.Name) == "" {
		p.add("name", "is empty")
	} else if len(c.Name) > 120 {
		p.add("name", "is longer than 120 characters")
	} else {
		p.plain("name", c.Name)
	}
	p.lines("goal", c.Goal)
	if strings.TrimSpace(c.Owner) == "" {
		p.add("owner", "is empty")
	}
	p.plain("owner", c.Owner)
	p.lines("rejection_note", c.RejectionNote)
	if c.Start.IsZero() {
		p.add("start", "is not set")
	}
	if c.End.IsZero() {
		p.add("end", "is not set")
	}
	if !c.Start.IsZero() && !c.End.IsZero() && c.End.Before(c.Start) {
		p.add("end", "%s is before the start %s", c.End.Format("2006-01-02"), c.Start.Format("2006-01-02"))
	}
	valid := false
	for _, s := range CampaignStatuses {
		valid = valid || s == c.Status
	}
	if !valid {
		p.add("status", "%q is not a campaign status", c.Status)
	}
	if c.Currency != "" && !validCurrency(c.Currency) {
		p.add("currency", "%q is not an ISO 4217 code like EUR", c.Currency)
	}
	for i, b := range c.Budget {
		if strings.TrimSpace(b.Label) == "" {
			p.add(fmt.Sprintf("budget[%d].label", i), "is empty")
		}
		p.plain(fmt.Sprintf("budget[%d].label", i), b.Label)
		if b.Planned < 0 {
			p.add(fmt.Sprintf("budget[%d].planned", i), "must not be negative")
		}
		if b.Actual < 0 {
			p.add(fmt.Sprintf("budget[%d].actual", i), "must not be negative")
		}
	}
	for i, s := range c.Staff {
		if strings.TrimSpace(s.Name) == "" {
			p.add(fmt.Sprintf("staff[%d].name", i), "is empty")
		}
		p.plain(fmt.Sprintf("staff[%d].name", i), s.Name)
		p.plain(fmt.Sprintf("staff[%d].role", i), s.Role)
		if !(s.Hours >= 0 && s.Hours <= 10000) { // NaN too
			p.add(fmt.Sprintf("staff[%d].hours", i), "must be between 0 and 10000")
		}
	}
	seen := map[string]bool{}
	for i, cr := range c.Creatives {
		if strings.TrimSpace(cr.Name) == "" {
			p.add(fmt.Sprintf("creatives[%d].name", i), "is empty")
		} else if seen[cr.Name] {
			p.add(fmt.Sprintf("creatives[%d].name", i), "%q is used twice", cr.Name)
		}
		seen[cr.Name] = true
		p.plain(fmt.Sprintf("creatives[%d].name", i), cr.Name)
		p.plain(fmt.Sprintf("creatives[%d].subject", i), cr.Subject)
		p.lines(fmt.Sprintf("creatives[%d].body", i), cr.Body)
		for _, l := range cr.Links {
			p.plain(fmt.Sprintf("creatives[%d].links", i), l)
		}
		if cr.Kind != "" && !cr.Kind.Valid() {
			p.add(fmt.Sprintf("creatives[%d].kind", i), "%q is not a channel kind", cr.Kind)
		}
	}
	if c.Capacity < 0 {
		p.add("capacity", "must not be negative")
	}
	return p.err()
}

// StepStatus tracks a step through launch and dispatch.
type StepStatus string

const (
	StepPlanned   StepStatus = "planned"
	StepLaunching StepStatus = "launching" // decisions being written; resumable
	StepLaunched  StepStatus = "launched"
	StepCancelled StepStatus = "cancelled"
)

// Step is one contact wave of a campaign: a channel, a purpose, an audience,
// a creative, a schedule and the data categories it uses.
type Step struct {
	ID             StepID         `json:"id"`
	CampaignID     CampaignID     `json:"campaign_id"`
	Name           string         `json:"name"`
	ChannelID      ChannelID      `json:"channel_id"`
	PurposeID      PurposeID      `json:"purpose_id"`
	SegmentID      SegmentID      `json:"segment_id"` // the audience
	Creative       string         `json:"creative"`   // name of one of the campaign's creatives
	ScheduledAt    time.Time      `json:"scheduled_at"`
	DataCategories []DataCategory `json:"data_categories"`
	Status         StepStatus     `json:"status"`
	LaunchedAt     time.Time      `json:"launched_at,omitzero"`
	LaunchedBy     string         `json:"launched_by,omitempty"`
}

// Validate checks the step on its own; the store checks that the channel,
// purpose, segment and creative exist.
func (s *Step) Validate() error {
	p := problems{entity: "step"}
	if strings.TrimSpace(s.Name) == "" {
		p.add("name", "is empty")
	}
	p.plain("name", s.Name)
	if s.CampaignID == 0 {
		p.add("campaign", "is not set")
	}
	if s.ChannelID == 0 {
		p.add("channel", "is not set")
	}
	if s.PurposeID == 0 {
		p.add("purpose", "is not set")
	}
	if s.SegmentID == 0 {
		p.add("audience", "is not set")
	}
	if s.ScheduledAt.IsZero() {
		p.add("schedule", "is not set")
	}
	for _, d := range s.DataCategories {
		if !d.Valid() {
			p.add("data_categories", "%q is not a data category (one of %s)", d, joinCategories())
		}
	}
	switch s.Status {
	case StepPlanned, StepLaunching, StepLaunched, StepCancelled:
	default:
		p.add("status", "%q is not a step status", s.Status)
	}
	return p.err()
}

// DataCategory names a kind of personal data a step uses to select or
// personalise. Some need a profiling consent (rule 7).
type DataCategory string

const (
	DataContact      DataCategory = "contact"       // name, contact points
	DataMasterData   DataCategory = "master_data"   // address, birth date, customer type
	DataPreferences  DataCategory = "preferences"   // stated by the customer
	DataPurchases    DataCategory = "purchases"     // purchase history
	DataInteractions DataCategory = "interactions"  // opens, clicks, replies
	DataWebBehaviour DataCategory = "web_behaviour" // visits, browsing
	DataLocation     DataCategory = "location"
	DataScores       DataCategory = "scores" // RFM, CLV, predicted propensities
)

var dataCategories = []DataCategory{DataContact, DataMasterData, DataPreferences, DataPurchases, DataInteractions, DataWebBehaviour, DataLocation, DataScores}

// DataCategories lists every category.
func DataCategories() []DataCategory { return append([]DataCategory(nil), dataCategories...) }

// Valid reports whether d is a known category.
func (d DataCategory) Valid() bool {
	for _, c := range dataCategories {
		if c == d {
			return true
		}
	}
	return false
}

// NeedsProfiling reports whether using the category for targeting or
// personalisation needs a profiling consent: behavioural and derived data do,
// what the customer told us directly does not.
func (d DataCategory) NeedsProfiling() bool {
	switch d {
	case DataInteractions, DataWebBehaviour, DataLocation, DataScores, DataPurchases:
		return true
	}
	return false
}

func joinCategories() string {
	s := make([]string, len(dataCategories))
	for i, c := range dataCategories {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// Segment is a saved audience: a predicate over customers. The predicate
// language is defined with audiences (see segment rules); the foundation
// stores it as a list of conditions combined with AND.
type Segment struct {
	ID          SegmentID
	Name        string
	Description string
	Conditions  []Condition
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Condition is one test in a segment, e.g. {Field: "city", Op: "=", Value: "Berlin"}.
type Condition struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	Value string `json:"value"`
}

// Validate checks the segment's name; the conditions are checked by the
// segment evaluator that knows the fields.
func (s *Segment) Validate() error {
	p := problems{entity: "segment"}
	if strings.TrimSpace(s.Name) == "" {
		p.add("name", "is empty")
	}
	p.plain("name", s.Name)
	for i, c := range s.Conditions {
		if c.Field == "" || c.Op == "" {
			p.add(fmt.Sprintf("conditions[%d]", i), "needs a field and an operator")
		}
		p.plain(fmt.Sprintf("conditions[%d].value", i), c.Value)
	}
	return p.err()
}
