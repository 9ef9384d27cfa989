package customers

import (
	"fmt"

	"karton/model"
	"karton/store"
	"karton/tui/common"
	"karton/tui/components/vtable"
)

// The Timeline section: a customer's interactions across channels, newest
// first, paged from the store (see activityPane).

const timelineTableID = "customer-timeline"

func newTimelinePane(c *common.Context) *activityPane {
	cols := []vtable.Column{
		{Title: "when", Width: 16},
		{Title: "event", Width: 11},
		{Title: "channel", Width: 9},
		{Title: "via", Width: 12, Flex: 1},
		{Title: "campaign", Width: 14, Flex: 2},
		{Title: "value", Width: 8, Align: vtable.AlignRight},
		{Title: "note", Width: 10, Flex: 1},
	}
	unmasked := c.Can(model.PermSeePersonalData)
	s := c.Store
	return newActivityPane(c, timelineTableID, cols, func(r *store.Reader, cid model.CustomerID, before []byte, limit int) ([][]string, []byte, error) {
		items, next, err := r.Interactions(cid, before, limit)
		if err != nil {
			return nil, nil, err
		}
		names := newNamer(r)
		currency := s.Settings().Currency
		cells := make([][]string, len(items))
		for i := range items {
			it := &items[i]
			value := ""
			if it.Value != 0 {
				value = it.Value.Format(currency)
			}
			note := it.Note
			if !unmasked {
				// Notes are free text (a call summary may name a
				// person); the masked roles see that there is one.
				if note != "" {
					note = "(hidden)"
				}
			}
			cells[i] = []string{
				it.At.UTC().Format("2006-01-02 15:04"),
				string(it.Kind),
				string(it.Channel),
				names.channel(it.ChannelID),
				names.campaign(it.CampaignID),
				value,
				note,
			}
		}
		return cells, next, nil
	})
}

// namer looks up channel and campaign names once per page.
type namer struct {
	r         *store.Reader
	channels  map[model.ChannelID]string
	campaigns map[model.CampaignID]string
}

func newNamer(r *store.Reader) *namer {
	return &namer{r: r, channels: map[model.ChannelID]string{}, campaigns: map[model.CampaignID]string{}}
}

func (n *namer) channel(id model.ChannelID) string {
	if id == 0 {
		return ""
	}
	if s, ok := n.channels[id]; ok {
		return s
	}
	s := fmt.Sprintf("#%d", id)
	if ch, err := n.r.Channel(id); err == nil {
		s = ch.Name
	}
	n.channels[id] = s
	return s
}

func (n *namer) campaign(id model.CampaignID) string {
	if id == 0 {
		return ""
	}
	if s, ok := n.campaigns[id]; ok {
		return s
	}
	s := fmt.Sprintf("#%d", id)
	if c, err := n.r.Campaign(id); err == nil {
		s = c.Name
	}
	n.campaigns[id] = s
	return s
}
