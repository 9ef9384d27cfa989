package campaigns

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/form"
	"karton/tui/theme"
)

// The box's forms: a campaign (n new, e edit), a step (+ new, E edit), a
// rejection note (x) and a segment (in the segments view). Each field
// checks what it can on its own; on submit the whole record is built and
// checked with the model's Validate before anything is written, and the
// store checks again (role, draft status, the step's channel, purpose,
// audience and creative) in the write transaction, which writes nothing if
// it refuses. A refused submission reopens the form with what was typed
// and the reason above it.

type formKind int

const (
	formCampaign formKind = iota
	formStep
	formReject
	formSegment
	formCreative
)

// activeForm is the open form and what it edits.
type activeForm struct {
	kind  formKind
	form  *huh.Form
	seq   uint64
	title string
	// id is what the form edits (a campaign, step or segment id; 0: new);
	// campaign is the campaign of a step or rejection.
	id       uint64
	campaign model.Campaign
	cv       *campaignValues
	sv       *stepValues
	note     *string
	gv       *segmentValues
	crv      *creativeValues
	// message says why the last submission was refused.
	message string
	saving  bool
}

// Messages of the forms; each carries the form's sequence number so an
// answer for a form closed since is dropped.
type (
	formSubmittedMsg struct{ seq uint64 }
	formCancelledMsg struct{ seq uint64 }
	formSavedMsg     struct {
		seq  uint64
		text string // the confirmation toast
		what string // what failed, for the error toast
		id   uint64 // the campaign to select afterwards
		err  error
	}
)

const dateLayout = "2006-01-02"
const scheduleLayout = "2006-01-02 15:04"

// --- campaign ---------------------------------------------------------------

// campaignValues are the campaign form's fields as typed.
type campaignValues struct {
	Name, Goal, Owner, Start, End, Currency, Budget, Staff, Capacity string
}

func campaignValuesFrom(c *model.Campaign) *campaignValues {
	v := &campaignValues{Name: c.Name, Goal: c.Goal, Owner: c.Owner, Currency: c.Currency}
	if !c.Start.IsZero() {
		v.Start = c.Start.Format(dateLayout)
	}
	if !c.End.IsZero() {
		v.End = c.End.Format(dateLayout)
	}
	var lines []string
	for _, b := range c.Budget {
		lines = append(lines, b.Label+" = "+formatMoney(b.Planned))
	}
	v.Budget = strings.Join(lines, "\n")
	lines = nil
	for _, s := range c.Staff {
		lines = append(lines, fmt.Sprintf("%s, %s, %s", s.Name, s.Role, strconv.FormatFloat(s.Hours, 'f', -1, 64)))
	}
	v.Staff = strings.Join(lines, "\n")
	if c.Capacity > 0 {
		v.Capacity = strconv.Itoa(c.Capacity)
	}
	return v
}

// formatMoney renders minor units as the form's plain amount ("1200.00").
func formatMoney(m model.Money) string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s%d.%02d", sign, m/100, m%100)
}

func fieldError(entity, field string, err error) error {
	return &model.ValidationError{Entity: entity, Fields: []model.FieldError{{Field: field, Reason: err.Error()}}}
}

// parseDate reads a form date; a date equal to keep's keeps keep's time of
// day, so editing other fields does not move a window's end.
func parseDate(s string, keep time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("is empty (a date like 2026-04-01)")
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date like 2026-04-01", s)
	}
	if !keep.IsZero() && keep.Format(dateLayout) == s {
		return keep, nil
	}
	return t, nil
}

// parseBudget reads one "label = amount" per line.
func parseBudget(s string) ([]model.BudgetLine, error) {
	var out []model.BudgetLine
	for n, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		i := strings.LastIndexAny(line, "=:")
		if i < 0 {
			return nil, fmt.Errorf("line %d %q is not label = amount", n+1, line)
		}
		label, amount := strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		if label == "" {
			return nil, fmt.Errorf("line %d %q has no label", n+1, line)
		}
		m, err := model.ParseMoney(amount)
		if err != nil || m < 0 {
			return nil, fmt.Errorf("line %d: %q is not an amount like 1200.00", n+1, amount)
		}
		out = append(out, model.BudgetLine{Label: label, Planned: m})
	}
	return out, nil
}

// parseStaff reads one "name, role, hours" per line; hours may have a
// decimal comma ("Anna, Design, 7,5").
func parseStaff(s string) ([]model.StaffAssignment, error) {
	var out []model.StaffAssignment
	for n, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, ",", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("line %d %q is not name, role, hours", n+1, line)
		}
		hours := strings.TrimSpace(parts[2])
		h, err := parseHours(hours)
		if err != nil {
			return nil, fmt.Errorf("line %d: %q is not a number of hours like 7.5", n+1, hours)
		}
		out = append(out, model.StaffAssignment{Name: strings.TrimSpace(parts[0]), Role: strings.TrimSpace(parts[1]), Hours: h})
	}
	return out, nil
}

// parseHours reads a plain decimal number of hours, with a decimal point
// or comma; not NaN, infinities or exponents, which ParseFloat would take.
func parseHours(s string) (float64, error) {
	s = strings.Replace(s, ",", ".", 1)
	if s == "" || strings.Trim(s, "0123456789.") != "" {
		return 0, errors.New("not a number")
	}
	return strconv.ParseFloat(s, 64)
}

func parseCapacity(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a whole number of places (empty: no event)", s)
	}
	return n, nil
}

// apply writes the form's values onto c; it fails on text that cannot be
// read at all, the rest is left to the model's validation.
func (v *campaignValues) apply(c *model.Campaign) error {
	const e = "campaign"
	c.Name, c.Goal, c.Owner = strings.TrimSpace(v.Name), strings.TrimSpace(v.Goal), strings.TrimSpace(v.Owner)
	c.Currency = strings.ToUpper(strings.TrimSpace(v.Currency))
	var err error
	if c.Start, err = parseDate(v.Start, c.Start); err != nil {
		return fieldError(e, "start", err)
	}
	if c.End, err = parseDate(v.End, c.End); err != nil {
		return fieldError(e, "end", err)
	}
	budget, err := parseBudget(v.Budget)
	if err != nil {
		return fieldError(e, "budget", err)
	}
	for i := range budget { // actual spend stays what dispatch booked
		for _, old := range c.Budget {
			if old.Label == budget[i].Label {
				budget[i].Actual = old.Actual
			}
		}
	}
	c.Budget = budget
	if c.Staff, err = parseStaff(v.Staff); err != nil {
		return fieldError(e, "staff", err)
	}
	if c.Capacity, err = parseCapacity(v.Capacity); err != nil {
		return fieldError(e, "capacity", err)
	}
	return nil
}

// build returns the campaign the form would write over base, validated.
func (v *campaignValues) build(base model.Campaign) (model.Campaign, error) {
	c := base
	if err := v.apply(&c); err != nil {
		return c, err
	}
	if c.Status == "" {
		c.Status = model.StatusDraft
	}
	return c, c.Validate()
}

func newCampaignForm(v *campaignValues) *huh.Form {
	date := func(s string) error { _, err := parseDate(s, time.Time{}); return err }
	budget := func(s string) error { _, err := parseBudget(s); return err }
	staff := func(s string) error { _, err := parseStaff(s); return err }
	capacity := func(s string) error { _, err := parseCapacity(s); return err }
	return huh.NewForm(
		huh.NewGroup(
			in("Name      ", &v.Name).CharLimit(120).Validate(required),
			in("Goal      ", &v.Goal).CharLimit(300).Placeholder("what the campaign should achieve"),
			in("Owner     ", &v.Owner).CharLimit(60).Validate(required),
			in("Start     ", &v.Start).CharLimit(10).Validate(date).Placeholder("2026-04-01"),
			in("End       ", &v.End).CharLimit(10).Validate(date).Placeholder("2026-04-30"),
			in("Currency  ", &v.Currency).CharLimit(3).Placeholder("EUR"),
		).Title("Campaign"),
		huh.NewGroup(
			huh.NewText().Title("Budget (one label = amount per line; ctrl+j new line)").Value(&v.Budget).Lines(3).Validate(budget).
				Placeholder("Print = 1200.00"),
			huh.NewText().Title("Staff (one name, role, hours per line)").Value(&v.Staff).Lines(3).Validate(staff).
				Placeholder("olga, Campaign lead, 12"),
			in("Capacity  ", &v.Capacity).CharLimit(7).Validate(capacity).Placeholder("places, for events"),
		).Title("Budget, staff, event"),
	)
}

func (b *Box) openNewCampaign() tea.Cmd {
	if !b.canEdit() {
		return common.Info(fmt.Sprintf("%s may not create campaigns", b.c.Actor.Role))
	}
	now := b.c.Now()
	base := model.Campaign{Owner: b.c.Actor.Name, Currency: b.c.Store.Settings().Currency,
		Start: monthOf(now).AddDate(0, 1, 0), End: monthOf(now).AddDate(0, 2, -1)}
	b.form = &activeForm{kind: formCampaign, campaign: base, cv: campaignValuesFrom(&base), title: "New campaign"}
	return b.buildForm()
}

func (b *Box) openEditCampaign() tea.Cmd {
	if !b.canEdit() {
		return common.Info(fmt.Sprintf("%s may not edit campaigns", b.c.Actor.Role))
	}
	cp, ok := b.selected()
	if !ok {
		return nil
	}
	if !cp.Status.Editable() {
		return common.Info(fmt.Sprintf("%s is %s; only a draft can be edited (reject it back to draft first)", cp.Name, cp.Status))
	}
	b.form = &activeForm{kind: formCampaign, id: uint64(cp.ID), campaign: cp, cv: campaignValuesFrom(&cp), title: "Edit " + cp.Name + " · #" + cp.ID.String()}
	return b.buildForm()
}

func saveCampaign(c *common.Context, seq uint64, id model.CampaignID, base model.Campaign, v campaignValues) tea.Cmd {
	s, actor := c.Store, c.Actor
	return func() tea.Msg {
		msg := formSavedMsg{seq: seq}
		var saved model.Campaign
		msg.err = s.Update(actor, func(tx *store.Tx) error {
			if id == 0 {
				cp, err := v.build(base)
				if err != nil {
					return err
				}
				if err := tx.InsertCampaign(&cp); err != nil {
					return err
				}
				saved = cp
				return nil
			}
			if err := tx.UpdateCampaign(id, func(cp *model.Campaign) error {
				if !cp.UpdatedAt.Equal(base.UpdatedAt) {
					return errChangedMeanwhile
				}
				return v.apply(cp)
			}); err != nil {
				return err
			}
			var err error
			saved, err = tx.Reader().Campaign(id)
			return err
		})
		if id == 0 {
			msg.what, msg.text = "create campaign", fmt.Sprintf("Created campaign %s (#%s)", saved.Name, saved.ID)
		} else {
			msg.what, msg.text = "save campaign #"+id.String(), fmt.Sprintf("Saved campaign %s", saved.Name)
		}
		msg.id = uint64(saved.ID)
		return msg
	}
}

// errChangedMeanwhile refuses an edit of a record another session changed
// since the form was filled.
var errChangedMeanwhile = errors.New("it was changed by someone else since the form was opened; close the form (esc) and edit the current version")

// --- step -------------------------------------------------------------------

// stepValues are the step form's fields.
type stepValues struct {
	Name       string
	Channel    model.ChannelID
	Purpose    model.PurposeID
	Segment    model.SegmentID
	Creative   string
	Schedule   string
	Categories []model.DataCategory
}

func stepValuesFrom(s *model.Step) *stepValues {
	v := &stepValues{Name: s.Name, Channel: s.ChannelID, Purpose: s.PurposeID, Segment: s.SegmentID, Creative: s.Creative,
		Categories: append([]model.DataCategory(nil), s.DataCategories...)}
	if !s.ScheduledAt.IsZero() {
		v.Schedule = s.ScheduledAt.Format(scheduleLayout)
	}
	return v
}

func parseSchedule(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("is empty (a time like 2026-04-02 10:00)")
	}
	t, err := time.Parse(scheduleLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a time like 2026-04-02 10:00", s)
	}
	return t, nil
}

func (v *stepValues) apply(s *model.Step) error {
	s.Name = strings.TrimSpace(v.Name)
	s.ChannelID, s.PurposeID, s.SegmentID, s.Creative = v.Channel, v.Purpose, v.Segment, v.Creative
	s.DataCategories = append([]model.DataCategory(nil), v.Categories...)
	t, err := parseSchedule(v.Schedule)
	if err != nil {
		return fieldError("step", "schedule", err)
	}
	s.ScheduledAt = t
	return nil
}

func (v *stepValues) build(base model.Step) (model.Step, error) {
	s := base
	if err := v.apply(&s); err != nil {
		return s, err
	}
	if s.Status == "" {
		s.Status = model.StepPlanned
	}
	return s, s.Validate()
}

func newStepForm(v *stepValues, snap *snapshot, cp model.Campaign) *huh.Form {
	var chans []huh.Option[model.ChannelID]
	for _, ch := range snap.chanList {
		if ch.Status != model.ChannelRetired {
			chans = append(chans, huh.NewOption(fmt.Sprintf("%s (%s)", ch.Name, ch.Kind), ch.ID))
		}
	}
	var purps []huh.Option[model.PurposeID]
	for _, p := range snap.purpList {
		purps = append(purps, huh.NewOption(p.Name, p.ID))
	}
	var segs []huh.Option[model.SegmentID]
	for _, sg := range snap.segments {
		segs = append(segs, huh.NewOption(sg.Name, sg.ID))
	}
	creatives := []huh.Option[string]{huh.NewOption("(none)", "")}
	for _, cr := range cp.Creatives {
		creatives = append(creatives, huh.NewOption(cr.Name, cr.Name))
	}
	var cats []huh.Option[model.DataCategory]
	for _, d := range model.DataCategories() {
		cats = append(cats, huh.NewOption(string(d), d))
	}
	schedule := func(s string) error { _, err := parseSchedule(s); return err }
	return huh.NewForm(
		huh.NewGroup(
			in("Name      ", &v.Name).CharLimit(120).Validate(required),
			huh.NewSelect[model.ChannelID]().Title("Channel   ").Options(chans...).Value(&v.Channel).Inline(true),
			huh.NewSelect[model.PurposeID]().Title("Purpose   ").Options(purps...).Value(&v.Purpose).Inline(true),
			huh.NewSelect[model.SegmentID]().Title("Audience  ").Options(segs...).Value(&v.Segment).Inline(true),
			huh.NewSelect[string]().Title("Creative  ").Options(creatives...).Value(&v.Creative).Inline(true),
			in("Schedule  ", &v.Schedule).CharLimit(16).Validate(schedule).Placeholder("2026-04-02 10:00"),
		).Title("Step"),
		huh.NewGroup(
			huh.NewMultiSelect[model.DataCategory]().Title("Data categories it uses (space toggles)").Options(cats...).Value(&v.Categories).Height(10),
		).Title("Data"),
	)
}

func (b *Box) openNewStep() tea.Cmd {
	if !b.canEdit() {
		return common.Info(fmt.Sprintf("%s may not edit campaigns", b.c.Actor.Role))
	}
	cp, ok := b.selected()
	if !ok {
		return nil
	}
	if !cp.Status.Editable() {
		return common.Info(fmt.Sprintf("%s is %s; steps can only be added to a draft", cp.Name, cp.Status))
	}
	base := model.Step{CampaignID: cp.ID, ScheduledAt: time.Date(cp.Start.Year(), cp.Start.Month(), cp.Start.Day(), 10, 0, 0, 0, time.UTC), DataCategories: []model.DataCategory{model.DataContact}}
	if len(b.snap.chanList) > 0 {
		base.ChannelID = b.snap.chanList[0].ID
	}
	if len(b.snap.purpList) > 0 {
		base.PurposeID = b.snap.purpList[0].ID
	}
	if len(b.snap.segments) > 0 {
		base.SegmentID = b.snap.segments[0].ID
	}
	if len(cp.Creatives) > 0 {
		base.Creative = cp.Creatives[0].Name
		for _, ch := range b.snap.chanList { // a channel the creative is written for
			if ch.Kind == cp.Creatives[0].Kind && ch.Status == model.ChannelActive {
				base.ChannelID = ch.ID
				break
			}
		}
	}
	b.form = &activeForm{kind: formStep, campaign: cp, sv: stepValuesFrom(&base), title: "New step of " + cp.Name}
	return b.buildForm()
}

func (b *Box) openEditStep() tea.Cmd {
	if !b.canEdit() {
		return common.Info(fmt.Sprintf("%s may not edit campaigns", b.c.Actor.Role))
	}
	cp, _ := b.selected()
	st, ok := b.selectedStep()
	if !ok {
		return nil
	}
	if !cp.Status.Editable() || st.Status != model.StepPlanned {
		return common.Info(fmt.Sprintf("step %s is %s in a %s campaign; only planned steps of drafts can be edited", st.Name, st.Status, cp.Status))
	}
	b.form = &activeForm{kind: formStep, id: uint64(st.ID), campaign: cp, sv: stepValuesFrom(&st), title: "Edit step " + st.Name + " · #" + st.ID.String()}
	return b.buildForm()
}

func saveStep(c *common.Context, seq uint64, cid model.CampaignID, id model.StepID, v stepValues) tea.Cmd {
	s, actor := c.Store, c.Actor
	return func() tea.Msg {
		msg := formSavedMsg{seq: seq, id: uint64(cid)}
		var saved model.Step
		msg.err = s.Update(actor, func(tx *store.Tx) error {
			if id == 0 {
				st, err := v.build(model.Step{CampaignID: cid})
				if err != nil {
					return err
				}
				if err := tx.InsertStep(&st); err != nil {
					return err
				}
				saved = st
				return nil
			}
			if err := tx.UpdateStep(id, func(st *model.Step) error { return v.apply(st) }); err != nil {
				return err
			}
			var err error
			saved, err = tx.Reader().Step(id)
			return err
		})
		if id == 0 {
			msg.what, msg.text = "add step", fmt.Sprintf("Added step %s (#%s)", saved.Name, saved.ID)
		} else {
			msg.what, msg.text = "save step #"+id.String(), "Saved step "+saved.Name
		}
		return msg
	}
}

// --- rejection --------------------------------------------------------------

func (b *Box) openReject() tea.Cmd {
	if !b.canApprove() {
		return common.Info(fmt.Sprintf("%s may not reject campaigns", b.c.Actor.Role))
	}
	cp, ok := b.selected()
	if !ok || b.acting {
		return nil
	}
	if _, err := cp.Status.Transition(model.ActionReject); err != nil {
		return common.Info(err.Error())
	}
	note := ""
	b.form = &activeForm{kind: formReject, id: uint64(cp.ID), campaign: cp, note: &note, title: "Reject " + cp.Name + " back to draft"}
	return b.buildForm()
}

func newRejectForm(note *string) *huh.Form {
	return huh.NewForm(huh.NewGroup(
		huh.NewText().Title("Why? (the submitter reads this)").Value(note).Lines(3).CharLimit(500).Validate(required),
	))
}

// --- segment ----------------------------------------------------------------

// segmentValues are the segment form's fields; conditions are one
// "field op value" per line.
type segmentValues struct {
	Name, Description, Conditions string
}

func segmentValuesFrom(s *model.Segment) *segmentValues {
	lines := make([]string, len(s.Conditions))
	for i, c := range s.Conditions {
		lines[i] = c.Field + " " + c.Op + " " + c.Value
	}
	return &segmentValues{Name: s.Name, Description: s.Description, Conditions: strings.Join(lines, "\n")}
}

// parseConditions reads one "field op value" per line and checks them
// against the fields and operators segments know.
func parseConditions(s string) ([]model.Condition, error) {
	var out []model.Condition
	for n, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		field, rest := cutWord(line)
		op, value := cutWord(rest)
		if value == "" {
			return nil, fmt.Errorf("line %d %q is not field op value (e.g. city = Berlin)", n+1, line)
		}
		out = append(out, model.Condition{Field: field, Op: op, Value: value})
	}
	if err := model.ValidateConditions(out); err != nil {
		return nil, err
	}
	return out, nil
}

// cutWord splits s at its first run of white space (two spaces or a tab
// between field and operator are as good as one).
func cutWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

func (v *segmentValues) apply(s *model.Segment) error {
	s.Name, s.Description = strings.TrimSpace(v.Name), strings.TrimSpace(v.Description)
	conds, err := parseConditions(v.Conditions)
	if err != nil {
		return fieldError("segment", "conditions", err)
	}
	s.Conditions = conds
	return nil
}

func (v *segmentValues) build(base model.Segment) (model.Segment, error) {
	s := base
	if err := v.apply(&s); err != nil {
		return s, err
	}
	return s, s.Validate()
}

func newSegmentForm(v *segmentValues) *huh.Form {
	conds := func(s string) error { _, err := parseConditions(s); return err }
	return huh.NewForm(huh.NewGroup(
		in("Name        ", &v.Name).CharLimit(120).Validate(required),
		in("Description ", &v.Description).CharLimit(300),
		huh.NewText().Title("Conditions, all must hold (one field op value per line; ctrl+j new line)").Value(&v.Conditions).Lines(5).Validate(conds).
			Placeholder("city in Berlin, Hamburg\nlast_purchase_days <= 180"),
	).Title("Segment").Description("fields: type tag city postcode country age purchase_count revenue last_purchase_days last_activity_days attribute.NAME preference.NAME rfm_segment clv — revenue and clv in cents (50000 = 500.00)"))
}

func saveSegment(c *common.Context, seq uint64, id model.SegmentID, v segmentValues) tea.Cmd {
	s, actor := c.Store, c.Actor
	return func() tea.Msg {
		msg := formSavedMsg{seq: seq}
		var saved model.Segment
		msg.err = s.Update(actor, func(tx *store.Tx) error {
			if id == 0 {
				sg, err := v.build(model.Segment{})
				if err != nil {
					return err
				}
				if err := tx.InsertSegment(&sg); err != nil {
					return err
				}
				saved = sg
				return nil
			}
			if err := tx.UpdateSegment(id, func(sg *model.Segment) error { return v.apply(sg) }); err != nil {
				return err
			}
			var err error
			saved, err = tx.Reader().Segment(id)
			return err
		})
		if id == 0 {
			msg.what, msg.text = "create segment", fmt.Sprintf("Created segment %s (#%s)", saved.Name, saved.ID)
		} else {
			msg.what, msg.text = "save segment #"+id.String(), "Saved segment "+saved.Name
		}
		return msg
	}
}

// --- creative ---------------------------------------------------------------

// creativeValues are the creative form's fields. A creative is stored in
// its campaign; saving one with the name of an existing creative replaces
// it.
type creativeValues struct {
	Name            string
	Kind            model.ChannelKind
	Subject, Body   string
	ObjectionNotice bool
	// was is the name of the creative being edited ("" for a new one).
	was string
}

func (v *creativeValues) build() (model.Creative, error) {
	cr := model.Creative{Name: strings.TrimSpace(v.Name), Kind: v.Kind, Subject: strings.TrimSpace(v.Subject), Body: v.Body, ObjectionNotice: v.ObjectionNotice}
	if cr.Name == "" {
		return cr, fieldError("creative", "name", errors.New("is empty"))
	}
	if _, err := model.ParseCreative(cr); err != nil {
		return cr, fieldError("creative", "template", err)
	}
	return cr, nil
}

// applyTo puts the creative into c, replacing the one edited.
func (v *creativeValues) applyTo(c *model.Campaign) error {
	cr, err := v.build()
	if err != nil {
		return err
	}
	for i := range c.Creatives {
		if c.Creatives[i].Name == v.was || c.Creatives[i].Name == cr.Name {
			c.Creatives[i] = cr
			return nil
		}
	}
	c.Creatives = append(c.Creatives, cr)
	return nil
}

func newCreativeForm(v *creativeValues) *huh.Form {
	var kinds []huh.Option[model.ChannelKind]
	for _, k := range model.ChannelKinds {
		kinds = append(kinds, huh.NewOption(string(k), k))
	}
	tmpl := func(s string) error {
		_, err := model.ParseTemplate(s)
		return err
	}
	return huh.NewForm(
		huh.NewGroup(
			in("Name      ", &v.Name).CharLimit(80).Validate(required),
			huh.NewSelect[model.ChannelKind]().Title("Kind      ").Options(kinds...).Value(&v.Kind).Inline(true),
			in("Subject   ", &v.Subject).CharLimit(200).Validate(tmpl).Placeholder("{{first_name|Hallo}}, …"),
			huh.NewConfirm().Title("Carries the objection notice (rule 11)?").Value(&v.ObjectionNotice),
		).Title("Creative"),
		huh.NewGroup(
			huh.NewText().Title("Body (ctrl+j new line)").Value(&v.Body).Lines(8).CharLimit(10000).Validate(tmpl).
				Placeholder("{{greeting}}\n\n…"),
		).Title("Text").Description("fields: "+strings.Join(model.TemplateFieldNames(), " ")+"; {{field|default}} gives a default"),
	)
}

func (b *Box) openCreative() tea.Cmd {
	if !b.canEdit() {
		return common.Info(fmt.Sprintf("%s may not edit campaigns", b.c.Actor.Role))
	}
	cp, ok := b.selected()
	if !ok {
		return nil
	}
	if !cp.Status.Editable() {
		return common.Info(fmt.Sprintf("%s is %s; creatives can only change in a draft", cp.Name, cp.Status))
	}
	v := &creativeValues{Kind: model.KindEmail}
	title := "New creative for " + cp.Name
	if st, ok := b.selectedStep(); ok && st.Creative != "" {
		if cr, ok := cp.Creative(st.Creative); ok {
			v = &creativeValues{Name: cr.Name, Kind: cr.Kind, Subject: cr.Subject, Body: cr.Body, ObjectionNotice: cr.ObjectionNotice, was: cr.Name}
			title = "Edit creative " + cr.Name + " of " + cp.Name
		}
	}
	if v.Kind == "" {
		v.Kind = model.KindEmail
	}
	b.form = &activeForm{kind: formCreative, id: uint64(cp.ID), campaign: cp, crv: v, title: title}
	return b.buildForm()
}

func saveCreative(c *common.Context, seq uint64, base model.Campaign, v creativeValues) tea.Cmd {
	s, actor := c.Store, c.Actor
	return func() tea.Msg {
		msg := formSavedMsg{seq: seq, id: uint64(base.ID), what: "save creative " + v.Name}
		msg.err = s.Update(actor, func(tx *store.Tx) error {
			return tx.UpdateCampaign(base.ID, func(cp *model.Campaign) error {
				if !cp.UpdatedAt.Equal(base.UpdatedAt) {
					return errChangedMeanwhile
				}
				return v.applyTo(cp)
			})
		})
		msg.text = fmt.Sprintf("Saved creative %s of %s", strings.TrimSpace(v.Name), base.Name)
		return msg
	}
}

// --- the form's life cycle ---------------------------------------------------

func in(title string, val *string) *huh.Input {
	return huh.NewInput().Title(title).Value(val).Inline(true)
}

func required(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("is needed")
	}
	return nil
}

// buildForm (re)creates the huh form over the form's values, keeping what
// was typed when a submission was refused.
func (b *Box) buildForm() tea.Cmd {
	a := b.form
	b.formSeq++
	a.seq = b.formSeq
	var f *huh.Form
	switch a.kind {
	case formCampaign:
		f = newCampaignForm(a.cv)
	case formStep:
		f = newStepForm(a.sv, b.snap, a.campaign)
	case formReject:
		f = newRejectForm(a.note)
	case formSegment:
		f = newSegmentForm(a.gv)
	case formCreative:
		f = newCreativeForm(a.crv)
	}
	a.form = prepare(f, a.seq, b.c.Theme, b.w-2)
	b.layout()
	return a.form.Init()
}

func (b *Box) formSubmitted(msg formSubmittedMsg) tea.Cmd {
	a := b.form
	if a == nil || msg.seq != a.seq {
		return nil
	}
	var err error
	var save tea.Cmd
	switch a.kind {
	case formCampaign:
		if _, err = a.cv.build(a.campaign); err == nil {
			save = saveCampaign(b.c, a.seq, model.CampaignID(a.id), a.campaign, *a.cv)
		}
	case formStep:
		base := model.Step{CampaignID: a.campaign.ID}
		if _, err = a.sv.build(base); err == nil {
			save = saveStep(b.c, a.seq, a.campaign.ID, model.StepID(a.id), *a.sv)
		}
	case formReject:
		if err = required(*a.note); err != nil {
			err = fieldError("rejection", "note", err)
		} else {
			b.form = nil
			b.acting = true
			b.layout()
			return transition(b.c, a.campaign, model.ActionReject, strings.TrimSpace(*a.note))
		}
	case formSegment:
		if _, err = a.gv.build(model.Segment{}); err == nil {
			save = saveSegment(b.c, a.seq, model.SegmentID(a.id), *a.gv)
		}
	case formCreative:
		probe := a.campaign
		probe.Creatives = append([]model.Creative(nil), a.campaign.Creatives...)
		if err = a.crv.applyTo(&probe); err == nil {
			if err = probe.Validate(); err == nil {
				save = saveCreative(b.c, a.seq, a.campaign, *a.crv)
			}
		}
	}
	if err != nil {
		a.message = refusal(err)
		return b.buildForm()
	}
	a.saving = true
	return save
}

func (b *Box) formSaved(msg formSavedMsg) tea.Cmd {
	a := b.form
	if a == nil || msg.seq != a.seq {
		return nil
	}
	if msg.err != nil {
		a.saving = false
		a.message = refusal(msg.err)
		return tea.Batch(common.Fail(msg.what, msg.err), b.buildForm())
	}
	kind := a.kind
	b.form = nil
	b.layout()
	cmds := []tea.Cmd{common.Info(msg.text), b.reload()}
	if kind == formSegment {
		cmds = append(cmds, b.recountSizes())
	}
	if kind == formCampaign && msg.id != 0 {
		b.pendingSelect = model.CampaignID(msg.id)
	}
	return tea.Batch(cmds...)
}

// refusal renders a refused submission for the line above the form.
func refusal(err error) string {
	if ve, ok := model.AsValidation(err); ok {
		lines := make([]string, len(ve.Fields))
		for i, f := range ve.Fields {
			lines[i] = strings.ReplaceAll(f.Field, "_", " ") + " " + f.Reason
		}
		return "not saved: " + strings.Join(lines, "; ")
	}
	return "not saved: " + err.Error()
}

func (b *Box) formView() string {
	th, w := b.c.Theme, b.w
	lines := []string{fit(th.Title.Render(b.form.title), w)}
	if b.form.message != "" {
		for _, l := range strings.Split(lipgloss.NewStyle().Width(max(w, 20)).Render(b.form.message), "\n") {
			lines = append(lines, fit(th.Bad.Render(l), w))
		}
	}
	if b.form.saving {
		lines = append(lines, fit(b.spin.View()+" saving…", w))
	} else {
		lines = append(lines, "", b.form.form.View())
	}
	return strings.Join(lines, "\n")
}

// prepare wires a huh form into the box: callbacks as messages carrying
// the form's sequence, Karton's theme and keys, no help of its own (the
// footer shows the form's keys).
func prepare(f *huh.Form, seq uint64, th *theme.Theme, w int) *huh.Form {
	return form.Prepare(f, th, w, formSubmittedMsg{seq: seq}, formCancelledMsg{seq: seq})
}

// help is the footer while the form is open: its field's keys and esc.
func (a *activeForm) help() []key.Binding {
	if a.form == nil || a.saving {
		return nil
	}
	return append(a.form.KeyBinds(), key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")))
}
