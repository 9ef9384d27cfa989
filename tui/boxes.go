package tui

import (
	"karton/tui/boxes/warehouse"
	"karton/tui/common"
)

// DefaultBoxes builds the four dashboards in tab order (common.BoxChannels
// … common.BoxWarehouse) for one session.
func DefaultBoxes(c *common.Context) []common.Box {
	return []common.Box{
		warehouse.New(c), // common.BoxWarehouse
	}
}
