package channels

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"karton/model"
	"karton/store"
	"karton/tui/components/form"
	"karton/tui/theme"
)

// The channel form (n: new, e: edit; admins only). Each field checks what
// it can on its own; on submit the whole channel is built and checked with
// the model's Validate (a webhook needs a URL, an smtp connector a host…)
// before anything is written, and the store checks again (permission,
// unique name) in the write transaction. A refused submission reopens the
// form with what was typed and the reason above it; nothing is written.

// channelValues are the form's fields as typed.
type channelValues struct {
	Name      string
	Kind      model.ChannelKind
	Software  string
	Connector model.ConnectorKind
	Settings  string
	Cost      string
	Currency  string
	Status    model.ChannelStatus
}

// valuesFrom fills the form from a channel.
func valuesFrom(ch *model.Channel) *channelValues {
	return &channelValues{
		Name: ch.Name, Kind: ch.Kind, Software: ch.Software,
		Connector: ch.Connector.Kind, Settings: joinLines(ch.Connector.Settings),
		Cost: formatCost(ch.CostPerContact), Currency: ch.Currency, Status: ch.Status,
	}
}

// formatCost renders minor units as the form's plain amount ("0.85").
func formatCost(m model.Money) string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s%d.%02d", sign, m/100, m%100)
}

// apply writes the form's values onto ch. It fails only on text that cannot
// be read at all (an amount, a key=value list); the rest is left to the
// model's validation.
func (v *channelValues) apply(ch *model.Channel) error {
	ch.Name, ch.Software = strings.TrimSpace(v.Name), strings.TrimSpace(v.Software)
	ch.Kind, ch.Status = v.Kind, v.Status
	cost, err := parseCost(v.Cost)
	if err != nil {
		return fieldError("cost_per_contact", err)
	}
	ch.CostPerContact = cost
	ch.Currency = strings.ToUpper(strings.TrimSpace(v.Currency))
	settings, err := parsePairs(v.Settings)
	if err != nil {
		return fieldError("connector.settings", err)
	}
	ch.Connector = model.Connector{Kind: v.Connector, Settings: settings}
	return nil
}

// build returns the channel the form would write over base, validated.
func (v *channelValues) build(base model.Channel) (model.Channel, error) {
	ch := base
	if err := v.apply(&ch); err != nil {
		return ch, err
	}
	if ch.Currency == "" {
		return ch, fieldError("currency", errors.New("is empty (an ISO 4217 code like EUR)"))
	}
	return ch, ch.Validate()
}

func parseCost(s string) (model.Money, error) {
	m, err := model.ParseMoney(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not an amount like 0.85", strings.TrimSpace(s))
	}
	if m < 0 {
		return 0, errors.New("must not be negative")
	}
	return m, nil
}

func fieldError(field string, err error) error {
	return &model.ValidationError{Entity: "channel", Fields: []model.FieldError{{Field: field, Reason: err.Error()}}}
}

// joinPairs renders settings as "key=value; key=value", sorted by key, for
// display.
func joinPairs(m map[string]string) string {
	return strings.Join(pairs(m), "; ")
}

// joinLines renders settings one "key=value" per line, for the form: a
// value may contain ';' (a note), never a line break.
func joinLines(m map[string]string) string {
	return strings.Join(pairs(m), "\n")
}

func pairs(m map[string]string) []string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return parts
}

// parsePairs reads one "key=value" per line; blank lines are skipped, an
// empty text is no settings, and a key given twice is refused (which of
// two directories was meant?).
func parsePairs(s string) (map[string]string, error) {
	var m map[string]string
	for n, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("line %d %q is not key=value", n+1, line)
		}
		if m == nil {
			m = map[string]string{}
		}
		if _, twice := m[k]; twice {
			return nil, fmt.Errorf("line %d: %q is given twice; give each key once", n+1, k)
		}
		m[k] = v
	}
	return m, nil
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

// activeForm is the open form and what it edits.
type activeForm struct {
	form   *huh.Form
	seq    uint64
	id     model.ChannelID // 0: a new channel
	base   model.Channel   // edit: the channel as the form was filled
	values *channelValues
	title  string
	// message says why the last submission was refused.
	message string
	saving  bool
}

// Messages of the form; each carries the form's sequence number so an
// answer for a form closed since is dropped.
type (
	formSubmittedMsg struct{ seq uint64 }
	formCancelledMsg struct{ seq uint64 }
	channelSavedMsg  struct {
		seq     uint64
		channel model.Channel
		created bool
		err     error
	}
)

// errChangedMeanwhile refuses an edit of a channel another session changed
// since the form was filled.
var errChangedMeanwhile = errors.New("the channel was changed by someone else since the form was opened; close the form (esc) and edit the current version")

// saveChannel writes the form: a new channel, or the edit of the stored
// one if it still is what the form was filled from.
func saveChannel(s *store.Store, actor model.Actor, seq uint64, id model.ChannelID, base model.Channel, v channelValues) tea.Cmd {
	filled := *valuesFrom(&base)
	return func() tea.Msg {
		var saved model.Channel
		err := s.Update(actor, func(tx *store.Tx) error {
			if id == 0 {
				ch, err := v.build(base)
				if err != nil {
					return err
				}
				if err := tx.InsertChannel(&ch); err != nil {
					return err
				}
				saved = ch
				return nil
			}
			if err := tx.UpdateChannel(id, func(ch *model.Channel) error {
				if *valuesFrom(ch) != filled {
					return errChangedMeanwhile
				}
				return v.apply(ch)
			}); err != nil {
				return err
			}
			var err error
			saved, err = tx.Reader().Channel(id)
			return err
		})
		return channelSavedMsg{seq: seq, channel: saved, created: id == 0, err: err}
	}
}

// newChannelForm builds the huh form over v.
func newChannelForm(v *channelValues) *huh.Form {
	var kinds []huh.Option[model.ChannelKind]
	for _, k := range model.ChannelKinds {
		kinds = append(kinds, huh.NewOption(string(k), k))
	}
	var conns []huh.Option[model.ConnectorKind]
	for _, k := range []model.ConnectorKind{model.ConnectorFile, model.ConnectorWebhook, model.ConnectorSMTP, model.ConnectorDry} {
		conns = append(conns, huh.NewOption(string(k), k))
	}
	var statuses []huh.Option[model.ChannelStatus]
	for _, s := range []model.ChannelStatus{model.ChannelActive, model.ChannelPaused, model.ChannelRetired} {
		statuses = append(statuses, huh.NewOption(string(s), s))
	}
	in := func(title string, val *string) *huh.Input {
		return huh.NewInput().Title(title).Value(val).Inline(true)
	}
	required := func(s string) error {
		if strings.TrimSpace(s) == "" {
			return errors.New("is needed")
		}
		return nil
	}
	cost := func(s string) error { _, err := parseCost(s); return err }
	pairs := func(s string) error { _, err := parsePairs(s); return err }
	return huh.NewForm(
		huh.NewGroup(
			in("Name      ", &v.Name).CharLimit(80).Validate(required),
			huh.NewSelect[model.ChannelKind]().Title("Kind      ").Options(kinds...).Value(&v.Kind).Inline(true),
			in("Software  ", &v.Software).CharLimit(120).Placeholder("CleverReach, call-centre CTI, print shop…"),
			huh.NewSelect[model.ChannelStatus]().Title("Status    ").Options(statuses...).Value(&v.Status).Inline(true),
		).Title("Channel"),
		huh.NewGroup(
			huh.NewSelect[model.ConnectorKind]().Title("Connector ").Options(conns...).Value(&v.Connector).Inline(true),
			huh.NewText().Title("Settings (one key=value per line; ctrl+j new line)").Value(&v.Settings).Lines(3).Validate(pairs).
				Placeholder("url=https://…  or  dir=outbox/print"),
			in("Cost      ", &v.Cost).Validate(cost).Placeholder("0.85 per contact"),
			in("Currency  ", &v.Currency).CharLimit(3).Placeholder("EUR"),
		).Title("Hand-over and cost"),
	)
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
