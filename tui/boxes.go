package tui

import (
	"karton/tui/boxes/campaigns"
	"karton/tui/boxes/channels"
	"karton/tui/boxes/customers"
	"karton/tui/boxes/warehouse"
	"karton/tui/common"
)

// DefaultBoxes builds the four dashboards in tab order (common.BoxChannels
// … common.BoxWarehouse) for one session.
func DefaultBoxes(c *common.Context) []common.Box {
	return []common.Box{
		channels.New(c),  // common.BoxChannels
		campaigns.New(c), // common.BoxCampaigns
		customers.New(c), // common.BoxCustomers
		warehouse.New(c), // common.BoxWarehouse
	}
}
