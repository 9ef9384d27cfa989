package campaigns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/tui/common"
)

// snapshot is everything the table, the detail and the timeline show, read
// in one short transaction. Campaigns number in the hundreds, so they are
// read whole (the store lists them newest window first); segment sizes need
// a pass over the customers and are counted apart (sizesCountedMsg).
type snapshot struct {
	campaigns []model.Campaign
	steps     map[model.CampaignID][]model.Step
	channels  map[model.ChannelID]model.Channel
	chanList  []model.Channel
	purposes  map[model.PurposeID]model.Purpose
	purpList  []model.Purpose
	segments  []model.Segment
	// users is the number of users of the store: with one, the four-eyes
	// rule lets the only user approve their own submission.
	users    int
	currency string
}

// campaign returns the campaign with id, and false if it is gone.
func (s *snapshot) campaign(id model.CampaignID) (model.Campaign, bool) {
	for _, c := range s.campaigns {
		if c.ID == id {
			return c, true
		}
	}
	return model.Campaign{}, false
}

// segment returns the segment with id.
func (s *snapshot) segment(id model.SegmentID) (model.Segment, bool) {
	for _, sg := range s.segments {
		if sg.ID == id {
			return sg, true
		}
	}
	return model.Segment{}, false
}

// channelKinds lists the kinds of a campaign's steps' channels, in step
// order without repeats ("email, postal").
func (s *snapshot) channelKinds(id model.CampaignID) string {
	var out []string
	seen := map[model.ChannelKind]bool{}
	for _, st := range s.steps[id] {
		ch, ok := s.channels[st.ChannelID]
		if !ok || seen[ch.Kind] {
			continue
		}
		seen[ch.Kind] = true
		out = append(out, string(ch.Kind))
	}
	return strings.Join(out, ", ")
}

// Messages of the box's reads and writes; each carries the sequence number
// of its request so a stale reply is dropped.
type (
	loadedMsg struct {
		seq  uint64
		snap *snapshot
		err  error
	}
	sizesCountedMsg struct {
		seq   uint64
		sizes map[model.SegmentID]int
		errs  map[model.SegmentID]error
		err   error
	}
	// transitionedMsg answers submit, approve and reject.
	transitionedMsg struct {
		id     model.CampaignID
		name   string
		action model.CampaignAction
		self   bool // a self-approval in a single-user store
		err    error
	}
	refreshDueMsg struct{ seq uint64 }
)

// load reads the snapshot.
func load(c *common.Context, seq uint64) tea.Cmd {
	s, actor := c.Store, c.Actor
	return func() tea.Msg {
		snap := &snapshot{steps: map[model.CampaignID][]model.Step{}, channels: map[model.ChannelID]model.Channel{}, purposes: map[model.PurposeID]model.Purpose{}}
		err := s.View(actor, func(r *store.Reader) error {
			var err error
			if snap.campaigns, err = r.Campaigns(); err != nil {
				return fmt.Errorf("campaigns: %w", err)
			}
			for _, cp := range snap.campaigns {
				st, err := r.Steps(cp.ID)
				if err != nil {
					return fmt.Errorf("steps of campaign %d: %w", cp.ID, err)
				}
				snap.steps[cp.ID] = st
			}
			if snap.chanList, err = r.Channels(); err != nil {
				return fmt.Errorf("channels: %w", err)
			}
			for _, ch := range snap.chanList {
				snap.channels[ch.ID] = ch
			}
			if snap.purpList, err = r.Purposes(); err != nil {
				return fmt.Errorf("purposes: %w", err)
			}
			for _, p := range snap.purpList {
				snap.purposes[p.ID] = p
			}
			if snap.segments, err = r.Segments(); err != nil {
				return fmt.Errorf("segments: %w", err)
			}
			snap.users, err = r.UserCount()
			return err
		})
		snap.currency = s.Settings().Currency
		return loadedMsg{seq: seq, snap: snap, err: err}
	}
}

// countSizes counts every segment in one pass over the customers.
func countSizes(c *common.Context, seq uint64, segs []model.Segment) tea.Cmd {
	s, actor := c.Store, c.Actor
	return func() tea.Msg {
		msg := sizesCountedMsg{seq: seq, sizes: map[model.SegmentID]int{}, errs: map[model.SegmentID]error{}}
		msg.err = s.View(actor, func(r *store.Reader) error {
			sizes, errs, err := r.SegmentSizes(segs)
			if err != nil {
				return err
			}
			for i, sg := range segs {
				msg.sizes[sg.ID] = sizes[i]
				if errs != nil && errs[i] != nil {
					msg.errs[sg.ID] = errs[i]
				}
			}
			return nil
		})
		return msg
	}
}

// transition asks the store to submit, approve or reject a campaign. The
// store checks the role and the four-eyes rule; a refusal comes back as
// the error, shown as a toast.
func transition(c *common.Context, cp model.Campaign, action model.CampaignAction, note string) tea.Cmd {
	s, actor := c.Store, c.Actor
	return func() tea.Msg {
		msg := transitionedMsg{id: cp.ID, name: cp.Name, action: action}
		msg.err = s.Update(actor, func(tx *store.Tx) error {
			if err := tx.TransitionCampaign(cp.ID, action, note); err != nil {
				return err
			}
			after, err := tx.Reader().Campaign(cp.ID)
			msg.self = action == model.ActionApprove && after.SubmittedBy == after.ApprovedBy
			return err
		})
		return msg
	}
}

// refreshDelay coalesces a burst of store changes into one reload.
const refreshDelay = 300 * time.Millisecond

// launchTask names the launch in the status bar.
const launchTask = "campaigns:launch"

// errNoSteps explains why there is nothing to preflight.
var errNoSteps = errors.New("the campaign has no steps yet (+ adds one)")

// ctxOr returns the session's context, or a background one in tests that
// leave it unset.
func ctxOr(c *common.Context) context.Context {
	if c.Ctx != nil {
		return c.Ctx
	}
	return context.Background()
}
