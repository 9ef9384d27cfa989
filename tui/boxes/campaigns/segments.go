package campaigns

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
)

// The segments view lists the saved audiences with their sizes, counted
// in one pass over the customers off the update loop; n and e open the
// segment form. The creative preview (v on a step) renders the step's
// creative for a customer chosen by id or email with the store's renderer:
// a customer for whom a field has no value gets the render error, never a
// half-filled message.

// segmentsState is the cursor of the segments view.
type segmentsState struct {
	cursor, offset int
}

// capturing: the segments view has no input of its own (its form is the
// box's form).
func (s *segmentsState) capturing() bool { return false }

func (s *segmentsState) help(b *Box) []key.Binding {
	km := b.c.Keys
	out := []key.Binding{b.nextView, km.Down, km.Up, km.Refresh}
	if b.canEdit() {
		out = append(out, km.New, km.Edit)
	}
	return out
}

func (b *Box) selectedSegment() (model.Segment, bool) {
	if b.snap == nil || b.segs.cursor < 0 || b.segs.cursor >= len(b.snap.segments) {
		return model.Segment{}, false
	}
	return b.snap.segments[b.segs.cursor], true
}

func (b *Box) segmentsKey(msg tea.KeyPressMsg) tea.Cmd {
	km, s := b.c.Keys, &b.segs
	n := 0
	if b.snap != nil {
		n = len(b.snap.segments)
	}
	switch {
	case key.Matches(msg, km.Down):
		s.cursor++
	case key.Matches(msg, km.Up):
		s.cursor--
	case key.Matches(msg, km.Top):
		s.cursor = 0
	case key.Matches(msg, km.Bottom):
		s.cursor = n - 1
	case key.Matches(msg, km.New):
		if !b.canEdit() {
			return common.Info(fmt.Sprintf("%s may not create segments", b.c.Actor.Role))
		}
		b.form = &activeForm{kind: formSegment, gv: &segmentValues{}, title: "New segment"}
		return b.buildForm()
	case key.Matches(msg, km.Edit):
		if !b.canEdit() {
			return common.Info(fmt.Sprintf("%s may not edit segments", b.c.Actor.Role))
		}
		sg, ok := b.selectedSegment()
		if !ok {
			return nil
		}
		b.form = &activeForm{kind: formSegment, id: uint64(sg.ID), gv: segmentValuesFrom(&sg), title: "Edit segment " + sg.Name + " · #" + sg.ID.String()}
		return b.buildForm()
	}
	s.cursor = max(min(s.cursor, n-1), 0)
	return nil
}

// conditionsText renders a segment's conditions ("everyone" when none).
// Money conditions are stored in minor units; they read as amounts
// ("revenue >= €500.00"), not as "revenue >= 50000".
func conditionsText(sg model.Segment, currency string) string {
	parts := make([]string, len(sg.Conditions))
	for i, c := range sg.Conditions {
		v := c.Value
		if c.Field == model.CondRevenue || c.Field == model.CondCLV {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				v = model.Money(n).Format(currency)
			}
		}
		parts[i] = c.Field + " " + c.Op + " " + v
	}
	if len(parts) == 0 {
		return "everyone"
	}
	return strings.Join(parts, " and ")
}

func (b *Box) segmentsView(h int) string {
	th, s, w := b.c.Theme, &b.segs, b.w
	segs := b.snap.segments
	if len(segs) == 0 {
		hint := "no segments yet"
		if b.canEdit() {
			hint += " — n creates one"
		}
		return th.Muted.Render(hint)
	}
	nameW := min(max(w/4, 14), 28)
	sizeW := 10
	condW := max(w-nameW-sizeW-2, 10)
	lines := []string{th.TableHeader.Render(fit(padRight("segment", nameW)+" "+padLeft("size", sizeW)+" conditions", w))}
	rows := max(h-3, 1)
	if s.cursor < s.offset {
		s.offset = s.cursor
	}
	if s.cursor >= s.offset+rows {
		s.offset = s.cursor - rows + 1
	}
	for i := s.offset; i < len(segs) && i < s.offset+rows; i++ {
		sg := segs[i]
		size := b.spin.View() + " …"
		if n, ok := b.sizes[sg.ID]; ok && n >= 0 {
			size = groupInt(int64(n))
		} else if ok {
			size = th.Bad.Render("invalid")
		} else if !b.counting {
			size = "–"
		}
		line := fit(sg.Name, nameW) + " " + padLeft(size, sizeW) + " " + fit(conditionsText(sg, b.c.Store.Settings().Currency), condW)
		if i == s.cursor {
			line = th.TableSelected.Render(fit(stripStyles(line), w))
		}
		lines = append(lines, fit(line, w))
	}
	if sg, ok := b.selectedSegment(); ok {
		lines = append(lines, "")
		detail := sg.Description
		if err := b.sizeErrs[sg.ID]; err != nil {
			detail = th.Bad.Render(err.Error())
		}
		lines = append(lines, fit(th.Muted.Render(orDash(detail)), w))
	}
	return strings.Join(lines, "\n")
}

// --- creative preview -------------------------------------------------------

// previewScreen previews a step's creative for one customer.
type previewScreen struct {
	seq     uint64
	step    model.Step
	input   textinput.Model
	loading bool
	res     *store.MessagePreview
	name    string
	err     error
}

type previewDoneMsg struct {
	seq  uint64
	res  store.MessagePreview
	name string
	err  error
}

func (b *Box) openPreview() tea.Cmd {
	st, ok := b.selectedStep()
	if !ok {
		if _, has := b.selected(); has {
			return common.Info(errNoSteps.Error())
		}
		return nil
	}
	if st.Creative == "" {
		return common.Info(fmt.Sprintf("step %s has no creative to preview", st.Name))
	}
	in := textinput.New()
	in.Prompt = "customer (id or email): "
	in.Placeholder = "42 or jane@example.com"
	in.CharLimit = 254
	in.SetStyles(b.c.Theme.TextInput())
	b.preSeq++
	b.preview = &previewScreen{seq: b.preSeq, step: st, input: in}
	return b.preview.input.Focus()
}

func (p *previewScreen) update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return cmd
}

func (p *previewScreen) help() []key.Binding {
	return []key.Binding{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "preview")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	}
}

func (b *Box) previewKeys(msg tea.KeyPressMsg) tea.Cmd {
	p, km := b.preview, b.c.Keys
	switch {
	case key.Matches(msg, km.Back):
		b.preview = nil
		return nil
	case key.Matches(msg, km.Open):
		q := strings.TrimSpace(p.input.Value())
		if q == "" || p.loading {
			return nil
		}
		p.loading, p.err = true, nil
		return loadPreview(b.c, p.seq, p.step.ID, q)
	}
	return p.update(msg)
}

// loadPreview finds the customer by id or email and renders the step's
// creative for them.
func loadPreview(c *common.Context, seq uint64, step model.StepID, query string) tea.Cmd {
	s, actor := c.Store, c.Actor
	return func() tea.Msg {
		msg := previewDoneMsg{seq: seq}
		msg.err = s.View(actor, func(r *store.Reader) error {
			var cust model.Customer
			var err error
			if id, perr := model.ParseID(strings.TrimPrefix(query, "#")); perr == nil {
				cust, err = r.Customer(model.CustomerID(id))
			} else {
				cust, err = r.CustomerByEmail(query)
			}
			if err != nil {
				return err
			}
			msg.name = fmt.Sprintf("%s (#%s)", cust.DisplayName(), cust.ID)
			msg.res, err = r.PreviewMessage(step, cust.ID)
			return err
		})
		return msg
	}
}

func (b *Box) previewDone(msg previewDoneMsg) tea.Cmd {
	p := b.preview
	if p == nil || msg.seq != p.seq {
		return nil
	}
	p.loading = false
	if msg.err != nil {
		p.err, p.res = msg.err, nil
		return nil
	}
	p.res, p.name = &msg.res, msg.name
	return nil
}

func (b *Box) previewView(h int) string {
	th, p, w := b.c.Theme, b.preview, b.w
	var out []string
	add := func(s string) { out = append(out, fit(s, w)) }
	add(th.Title.Render("Preview · "+p.step.Name) + th.Muted.Render(" · creative "+p.step.Creative))
	add(p.input.View())
	add("")
	switch {
	case p.loading:
		add(b.spin.View() + " rendering…")
	case p.err != nil:
		add(th.Bad.Render("cannot preview: ") + p.err.Error())
	case p.res != nil:
		r := p.res
		aud := th.Good.Render("in the audience")
		if !r.InAudience {
			aud = th.Warn.Render("not in the audience")
		}
		dec := th.Allow.Render("allowed")
		if !r.Decision.Allow {
			dec = th.Deny.Render("denied")
		}
		add(p.name + " · " + aud + " · consent now: " + dec)
		for _, l := range wrapText(r.Decision.Explain(), w-2) {
			add("  " + th.Muted.Render(l))
		}
		add("")
		if r.Error != "" {
			add(th.Bad.Render("render error for this recipient: ") + r.Error)
			add(th.Muted.Render("a launch records this recipient's message as a dead letter; nothing half-filled is sent"))
			break
		}
		if r.Subject != "" {
			add(th.Muted.Render("Subject ") + r.Subject)
			add("")
		}
		for _, para := range strings.Split(r.Body, "\n") {
			for _, l := range wrapText(para, w-2) {
				if len(out) >= h {
					break
				}
				add("  " + l)
			}
		}
	default:
		add(th.Muted.Render("enter a customer id or email, then enter"))
	}
	if len(out) > h {
		out = out[:h]
	}
	return strings.Join(out, "\n")
}
