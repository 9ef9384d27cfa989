package store

import "sync"

// ChangeKind names what a committed transaction changed.
type ChangeKind string

const (
	ChangeCustomer    ChangeKind = "customer"
	ChangeConsent     ChangeKind = "consent" // ID is the customer
	ChangeInteraction ChangeKind = "interaction"
	ChangePurchase    ChangeKind = "purchase"
	ChangeCampaign    ChangeKind = "campaign"
	ChangeStep        ChangeKind = "step"
	ChangeChannel     ChangeKind = "channel"
	ChangePurpose     ChangeKind = "purpose"
	ChangeSegment     ChangeKind = "segment"
	ChangeUser        ChangeKind = "user"
	ChangeSettings    ChangeKind = "settings"
	ChangeOutbox      ChangeKind = "outbox"
	ChangeImport      ChangeKind = "import"
	ChangeBulk        ChangeKind = "bulk" // many records: refresh everything
)

// Change is one thing a commit touched. ID is the record's id where there
// is one (the customer for consent, interactions and purchases).
type Change struct {
	Kind ChangeKind
	ID   uint64
}

// feedLimit caps the changes in one published batch; a larger commit (an
// import, the demo) is announced as a single bulk change.
const feedLimit = 256

// feed fans committed changes out to subscribers without ever blocking a
// writer: a subscriber that does not keep up loses batches but is told so
// through a bulk change, after which it reloads everything.
type feed struct {
	mu     sync.Mutex
	subs   map[int]chan []Change
	next   int
	closed bool
}

func newFeed() *feed { return &feed{subs: make(map[int]chan []Change)} }

// Subscribe returns a channel of change batches and a function that ends
// the subscription. The channel is closed when the store closes.
func (s *Store) Subscribe() (<-chan []Change, func()) {
	f := s.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan []Change, 64)
	if f.closed {
		close(ch)
		return ch, func() {}
	}
	id := f.next
	f.next++
	f.subs[id] = ch
	return ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if c, ok := f.subs[id]; ok {
			delete(f.subs, id)
			close(c)
		}
	}
}

func (f *feed) publish(set map[Change]struct{}) {
	batch := make([]Change, 0, min(len(set), feedLimit))
	if len(set) > feedLimit {
		batch = append(batch, Change{Kind: ChangeBulk})
	} else {
		for c := range set {
			batch = append(batch, c)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.subs {
		select {
		case ch <- batch:
		default:
			// Full: replace what is queued by one bulk change so the
			// subscriber reloads everything when it catches up.
			select {
			case <-ch:
			default:
			}
			select {
			case ch <- []Change{{Kind: ChangeBulk}}:
			default:
			}
		}
	}
}

func (f *feed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for id, ch := range f.subs {
		close(ch)
		delete(f.subs, id)
	}
}
