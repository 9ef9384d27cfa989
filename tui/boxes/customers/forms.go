package customers

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"karton/model"
	"karton/store"
	"karton/tui/components/form"
	"karton/tui/theme"
)

// The two forms of the 360° view: editing the profile (e) and recording a
// consent event (n). Both are huh forms checked field by field with the
// model's own rules, then as a whole record before anything is written,
// and finally by the store in the write transaction. A refused submission
// reopens the form with what the user typed and the reason shown above it;
// nothing on screen pretends the write succeeded.

type formKind int

const (
	formEditProfile formKind = iota + 1
	formRecordConsent
)

// profileValues are the edit form's fields as text.
type profileValues struct {
	Salutation, FirstName, LastName, Company string
	Email, Phone                             string
	Street, PostalCode, City, Country        string
	BirthDate, Tags, Preferences, Attributes string
}

// consentValues are the consent form's fields.
type consentValues struct {
	Kind     model.ConsentKind
	Channel  model.ChannelKind
	Purpose  model.PurposeID
	Basis    model.LegalBasis // "" is the kind's default
	At       string
	Evidence string
}

// activeForm is the open form and what it edits.
type activeForm struct {
	kind  formKind
	form  *huh.Form
	seq   uint64
	cid   model.CustomerID
	title string

	base     model.Customer // edit: the record the form was filled from
	profile  *profileValues
	consent  *consentValues
	purposes []model.Purpose

	// message says why the last submission was refused.
	message string
	saving  bool
}

// Messages of the forms. Each carries the form's sequence number, so an
// answer for a form the user has since closed is dropped.
type (
	formSubmittedMsg  struct{ seq uint64 }
	formCancelledMsg  struct{ seq uint64 }
	customerEditedMsg struct {
		seq uint64
		id  model.CustomerID
		err error
	}
	consentRecordedMsg struct {
		seq   uint64
		id    model.CustomerID
		event model.ConsentEvent
		err   error
	}
)

const timeLayout = "2006-01-02 15:04"

// profileFrom fills the edit form from a customer read in clear.
func profileFrom(c *model.Customer) *profileValues {
	v := &profileValues{
		Salutation: c.Salutation, FirstName: c.FirstName, LastName: c.LastName, Company: c.Company,
		Email: c.Email, Phone: c.Phone,
		Street: c.Address.Street, PostalCode: c.Address.PostalCode, City: c.Address.City, Country: c.Address.Country,
		Tags:        strings.Join(c.Tags, ", "),
		Preferences: joinPairs(c.Preferences),
		Attributes:  joinPairs(c.Attributes),
	}
	if !c.BirthDate.IsZero() {
		v.BirthDate = c.BirthDate.String()
	}
	return v
}

// apply writes the form's values onto a customer. It fails only on text
// that cannot be read at all (a date, a key=value list); everything else
// is left to the model's validation.
func (v *profileValues) apply(c *model.Customer) error {
	c.Salutation, c.FirstName, c.LastName, c.Company = v.Salutation, v.FirstName, v.LastName, v.Company
	c.Email, c.Phone = strings.TrimSpace(v.Email), strings.TrimSpace(v.Phone)
	c.Address = model.Address{Street: v.Street, PostalCode: v.PostalCode, City: v.City, Country: v.Country}
	c.BirthDate = model.Date{}
	if strings.TrimSpace(v.BirthDate) != "" {
		d, err := model.ParseDate(v.BirthDate)
		if err != nil {
			return fieldError("birth_date", err)
		}
		c.BirthDate = d
	}
	c.Tags = nil
	for _, t := range strings.Split(v.Tags, ",") {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(c.Tags, t) {
			c.Tags = append(c.Tags, t)
		}
	}
	prefs, err := parsePairs(v.Preferences)
	if err != nil {
		return fieldError("preferences", err)
	}
	attrs, err := parsePairs(v.Attributes)
	if err != nil {
		return fieldError("attributes", err)
	}
	c.Preferences, c.Attributes = prefs, attrs
	return nil
}

func fieldError(field string, err error) error {
	return &model.ValidationError{Entity: "customer", Fields: []model.FieldError{{Field: field, Reason: err.Error()}}}
}

// joinPairs renders a map as "key=value; key=value", sorted by key.
func joinPairs(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, "; ")
}

// parsePairs reads "key=value; key=value"; an empty text is an empty map.
func parsePairs(s string) (map[string]string, error) {
	var m map[string]string
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key=value (separate pairs with ';')", part)
		}
		if m == nil {
			m = map[string]string{}
		}
		if _, twice := m[k]; twice {
			return nil, fmt.Errorf("%q is given twice; give each key once", k)
		}
		m[k] = v
	}
	return m, nil
}

// checkProfile builds the record the edit would write and runs the
// model's normalisation and validation on it, so an invalid record is
// refused before any write (the store checks again in the transaction).
func checkProfile(base model.Customer, v *profileValues, region string, now time.Time) error {
	c := base
	if err := v.apply(&c); err != nil {
		return err
	}
	if err := c.Normalize(region); err != nil {
		return err
	}
	return c.Validate(now)
}

// refusal renders a refused submission for the line above the form: one
// line per field for validation errors.
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

// errChangedMeanwhile refuses an edit of fields another session has
// changed since the form was filled.
var errChangedMeanwhile = errors.New("the customer was changed by someone else since the form was opened; close the form (esc) and edit the current version")

// saveProfile writes the edit. Only the form's fields are copied onto the
// stored record, and only if none of them changed since the form was
// filled (comparing the fields, not UpdatedAt, so a change elsewhere in the
// record — a purchase, say — does not block the edit, and two edits within
// one clock tick are still caught).
func saveProfile(s *store.Store, actor model.Actor, seq uint64, base model.Customer, v profileValues) tea.Cmd {
	filled := *profileFrom(&base)
	return func() tea.Msg {
		err := s.Update(actor, func(tx *store.Tx) error {
			return tx.UpdateCustomer(base.ID, func(c *model.Customer) error {
				if *profileFrom(c) != filled {
					return errChangedMeanwhile
				}
				return v.apply(c)
			})
		})
		return customerEditedMsg{seq: seq, id: base.ID, err: err}
	}
}

// buildConsentEvent turns the consent form into an event and its evidence,
// validated by the model.
func buildConsentEvent(cid model.CustomerID, v *consentValues, actor model.Actor, now time.Time) (model.ConsentEvent, model.Evidence, error) {
	ev := model.ConsentEvent{
		CustomerID: cid, Kind: v.Kind, Basis: v.Basis,
		Source: "operator", Actor: actor.Name,
	}
	if v.Kind.Scoped() {
		ev.Channel, ev.PurposeID = v.Channel, v.Purpose
	}
	at, err := parseEffective(v.At)
	if err != nil {
		return ev, nil, &model.ValidationError{Entity: "consent event", Fields: []model.FieldError{{Field: "effective_at", Reason: err.Error()}}}
	}
	ev.EffectiveAt = at
	pairs, err := parsePairs(v.Evidence)
	if err != nil {
		return ev, nil, &model.ValidationError{Entity: "consent event", Fields: []model.FieldError{{Field: "evidence", Reason: err.Error()}}}
	}
	evidence := model.Evidence(pairs)
	if err := ev.Validate(now); err != nil {
		return ev, nil, err
	}
	if len(evidence) > 0 {
		if err := model.ValidateEvidence(evidence); err != nil {
			return ev, nil, err
		}
	}
	return ev, evidence, nil
}

func parseEffective(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a time like 2026-03-15 09:30 (UTC)", s)
	}
	return t, nil
}

// recordConsent appends the event in a write transaction.
func recordConsent(s *store.Store, actor model.Actor, seq uint64, ev model.ConsentEvent, evidence model.Evidence) tea.Cmd {
	return func() tea.Msg {
		err := s.Update(actor, func(tx *store.Tx) error { return tx.AppendConsent(&ev, evidence) })
		return consentRecordedMsg{seq: seq, id: ev.CustomerID, event: ev, err: err}
	}
}

// --- building the huh forms ----------------------------------------------

// newProfileForm builds the edit form over v; its fields check what they
// can on their own with the model's rules.
func newProfileForm(v *profileValues, region string) *huh.Form {
	optionalEmail := func(s string) error {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		return model.ValidateEmail(s)
	}
	optionalPhone := func(s string) error {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		_, err := model.NormalizePhone(s, region)
		return err
	}
	optionalDate := func(s string) error {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		_, err := model.ParseDate(s)
		return err
	}
	pairs := func(s string) error { _, err := parsePairs(s); return err }
	in := func(title string, val *string) *huh.Input {
		return huh.NewInput().Title(title).Value(val).Inline(true)
	}
	return huh.NewForm(
		huh.NewGroup(
			in("Salutation  ", &v.Salutation).CharLimit(20),
			in("First name  ", &v.FirstName).CharLimit(100),
			in("Last name   ", &v.LastName).CharLimit(100),
			in("Company     ", &v.Company).CharLimit(200),
		).Title("Name"),
		huh.NewGroup(
			in("Email       ", &v.Email).Validate(optionalEmail),
			in("Phone       ", &v.Phone).Validate(optionalPhone).Placeholder("+49 30 1234567"),
		).Title("Contact"),
		huh.NewGroup(
			in("Street      ", &v.Street).CharLimit(200),
			in("Postal code ", &v.PostalCode).CharLimit(10),
			in("City        ", &v.City).CharLimit(100),
			in("Country     ", &v.Country).CharLimit(2).Placeholder("DE"),
		).Title("Address"),
		huh.NewGroup(
			in("Birth date  ", &v.BirthDate).Validate(optionalDate).Placeholder("YYYY-MM-DD"),
			in("Tags        ", &v.Tags).Placeholder("vip, newsletter"),
			in("Preferences ", &v.Preferences).Validate(pairs).Placeholder("language=de; frequency=monthly"),
			in("Attributes  ", &v.Attributes).Validate(pairs).Placeholder("loyalty_tier=gold"),
		).Title("More"),
	)
}

// consentKinds are the kinds an operator records by hand; erasure has its
// own operation (it removes data, it is not a consent decision).
func consentKinds() []model.ConsentKind {
	var out []model.ConsentKind
	for _, k := range model.ConsentKinds {
		if k != model.ConsentErasure {
			out = append(out, k)
		}
	}
	return out
}

// newConsentForm builds the consent form over v.
func newConsentForm(v *consentValues, purposes []model.Purpose) *huh.Form {
	var kinds []huh.Option[model.ConsentKind]
	for _, k := range consentKinds() {
		kinds = append(kinds, huh.NewOption(string(k), k))
	}
	var channels []huh.Option[model.ChannelKind]
	for _, k := range model.ChannelKinds {
		channels = append(channels, huh.NewOption(string(k), k))
	}
	var ps []huh.Option[model.PurposeID]
	for _, p := range purposes {
		ps = append(ps, huh.NewOption(p.Name+" — "+p.Title, p.ID))
	}
	bases := []huh.Option[model.LegalBasis]{huh.NewOption("default for the kind", model.LegalBasis(""))}
	for _, b := range []model.LegalBasis{model.BasisConsent, model.BasisContract, model.BasisLegalObligation, model.BasisLegitimateInterest} {
		bases = append(bases, huh.NewOption(string(b), b))
	}
	scopeTitle := func(label string) func() string {
		return func() string {
			if !v.Kind.Scoped() {
				return label + " (not used: " + string(v.Kind) + " covers every channel and purpose)"
			}
			return label
		}
	}
	return huh.NewForm(
		huh.NewGroup(
			huh.NewSelect[model.ConsentKind]().Title("Event   ").Options(kinds...).Value(&v.Kind).Inline(true),
			huh.NewSelect[model.ChannelKind]().TitleFunc(scopeTitle("Channel "), &v.Kind).Options(channels...).Value(&v.Channel).Inline(true),
			huh.NewSelect[model.PurposeID]().TitleFunc(scopeTitle("Purpose "), &v.Kind).Options(ps...).Value(&v.Purpose).Inline(true),
		).Title("What happened"),
		huh.NewGroup(
			huh.NewSelect[model.LegalBasis]().Title("Basis   ").Options(bases...).Value(&v.Basis).Inline(true),
			huh.NewInput().Title("When    ").Value(&v.At).Inline(true).Placeholder("2026-03-15 09:30").
				Validate(func(s string) error { _, err := parseEffective(s); return err }),
			huh.NewInput().Title("Evidence").Value(&v.Evidence).Inline(true).Placeholder("call_ref=4711; note=asked by phone").
				Validate(func(s string) error { _, err := parsePairs(s); return err }),
		).Title("Basis and evidence"),
	)
}

// prepare wires a huh form into the box: callbacks as messages carrying
// the form's sequence, Karton's theme and keys, no help of its own (the
// footer shows the form's keys), and the width it is drawn at. The height
// is left to the groups: a fixed height would give the fields all the room
// and push a field's error message out of the box; every group here is a
// few lines high.
func prepare(f *huh.Form, seq uint64, th *theme.Theme, w int) *huh.Form {
	return form.Prepare(f, th, w, formSubmittedMsg{seq: seq}, formCancelledMsg{seq: seq})
}

// formHelp is the footer while a form is open: its field's keys and esc.
func (a *activeForm) help() []key.Binding {
	if a.form == nil || a.saving {
		return nil
	}
	out := a.form.KeyBinds()
	return append(out, key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")))
}
