package model

import (
	"fmt"
	"strconv"
	"strings"
)

// Identifiers are unsigned sequence numbers handed out by the store in the
// order records are created, so they are time-ordered. Zero means "not yet
// stored". Each entity has its own type so that a campaign id cannot be
// passed where a customer id is expected.
type (
	CustomerID    uint64
	ChannelID     uint64
	PurposeID     uint64
	CampaignID    uint64
	StepID        uint64
	SegmentID     uint64
	EventID       uint64 // consent event, the ledger position
	InteractionID uint64
	PurchaseID    uint64
	DecisionID    uint64
)

func (id CustomerID) String() string    { return strconv.FormatUint(uint64(id), 10) }
func (id ChannelID) String() string     { return strconv.FormatUint(uint64(id), 10) }
func (id PurposeID) String() string     { return strconv.FormatUint(uint64(id), 10) }
func (id CampaignID) String() string    { return strconv.FormatUint(uint64(id), 10) }
func (id StepID) String() string        { return strconv.FormatUint(uint64(id), 10) }
func (id SegmentID) String() string     { return strconv.FormatUint(uint64(id), 10) }
func (id EventID) String() string       { return strconv.FormatUint(uint64(id), 10) }
func (id InteractionID) String() string { return strconv.FormatUint(uint64(id), 10) }
func (id PurchaseID) String() string    { return strconv.FormatUint(uint64(id), 10) }
func (id DecisionID) String() string    { return strconv.FormatUint(uint64(id), 10) }

// ParseID parses a decimal identifier as typed by a user. A leading '#' is
// accepted because screens show ids that way.
func ParseID(s string) (uint64, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "#")
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("%q is not an id (a positive whole number)", s)
	}
	return v, nil
}
