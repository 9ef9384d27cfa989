package customers

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/confirm"
	"karton/tui/components/palette"
)

// Erasure from the cockpit: `karton serve` holds the store, so an admin
// working over SSH erases here (the CLI's `customer erase` needs the store
// to itself). The command is in the palette only, for the customer whose
// 360° view is open, and asks first.

// itemErasePrefix is the palette item that erases the open customer.
const itemErasePrefix = "customers:erase:"

// customerErasedMsg reports an erasure: the store's, then the step files'.
type customerErasedMsg struct {
	id    model.CustomerID
	files []store.StepFileRedaction
	err   error
}

// eraseItem is the palette command for the open customer, for roles that
// may erase.
func (b *Box) eraseItem() (palette.Item, bool) {
	d := b.view.data
	if d == nil || d.Customer.Erased || !b.c.Can(model.PermAdminister) || b.view.id != d.Customer.ID {
		return palette.Item{}, false
	}
	return palette.Item{
		ID:       itemErasePrefix + d.Customer.ID.String(),
		Title:    "Erase customer " + d.Customer.DisplayName(),
		Subtitle: fmt.Sprintf("#%d · remove personal data, suppress contact points", d.Customer.ID),
		Kind:     "command",
	}, true
}

// askErase opens the question for the customer the item names; it must
// still be the one on screen.
func (b *Box) askErase(it palette.Item) tea.Cmd {
	want, ok := b.eraseItem()
	if !ok || want.ID != it.ID {
		return common.Info("open the customer to erase first")
	}
	if b.form != nil {
		return common.Info("finish or cancel the open form first (esc)")
	}
	c := b.view.data.Customer
	b.confirm.Open(confirm.Prompt{
		ID:    it.ID,
		Title: fmt.Sprintf("Erase %s (#%d)?", c.DisplayName(), c.ID),
		Body: "Removes their profile, consent evidence and the notes of their interactions, blanks their " +
			"records in the step files the file connectors wrote, and puts their email and phone on the " +
			"suppression list. Ledger and audit chain keep pseudonymous entries. This cannot be undone.",
		Yes:    "Erase",
		No:     "Keep",
		Danger: true,
	})
	return nil
}

// answered handles the dialog's answer: yes erases, in a command.
func (b *Box) answered(msg confirm.AnsweredMsg) tea.Cmd {
	rest, ok := strings.CutPrefix(msg.ID, itemErasePrefix)
	if !ok || !msg.Confirmed {
		return nil
	}
	id, err := model.ParseID(rest)
	if err != nil {
		return nil
	}
	b.erasing = true
	s, actor, cid := b.c.Store, b.c.Actor, model.CustomerID(id)
	return func() tea.Msg {
		files, err := s.EraseCustomer(actor, cid)
		return customerErasedMsg{id: cid, files: files, err: err}
	}
}

// customerErased reports the erasure and reloads what shows the customer.
func (b *Box) customerErased(msg customerErasedMsg) tea.Cmd {
	b.erasing = false
	reload := tea.Batch(b.list.reload(), b.view.refreshAll())
	if msg.err != nil && len(msg.files) == 0 {
		return tea.Batch(common.Fail(fmt.Sprintf("erase customer %d", msg.id), msg.err), reload)
	}
	text := fmt.Sprintf("Customer %d erased", msg.id)
	var failed []string
	blanked := 0
	for _, f := range msg.files {
		if f.Err != "" {
			failed = append(failed, f.Err)
			continue
		}
		blanked += f.Rows
	}
	if blanked > 0 {
		text += fmt.Sprintf("; %d record(s) blanked in the step files", blanked)
	}
	if len(failed) > 0 {
		return tea.Batch(common.Fail(text+", but a step file still holds their messages",
			fmt.Errorf("%s (delete it, or remove the records with customer_id %d)", strings.Join(failed, "; "), msg.id)), reload)
	}
	if msg.err != nil {
		return tea.Batch(common.Fail(text+", but", msg.err), reload)
	}
	return tea.Batch(common.Info(text), reload)
}
