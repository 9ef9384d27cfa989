package store

import (
	"fmt"
	"sort"
	"strings"

	"karton/model"
)

// Channels, purposes and segments: small sets an admin or operator manages.

// InsertChannel adds a channel (admin only).
func (t *Tx) InsertChannel(ch *model.Channel) error {
	if err := t.require(model.PermAdminister, "manage channels"); err != nil {
		return err
	}
	if ch.Status == "" {
		ch.Status = model.ChannelActive
	}
	if ch.Currency == "" {
		ch.Currency = t.s.settings.Currency
	}
	if err := ch.Validate(); err != nil {
		return err
	}
	if err := t.uniqueChannelName(ch.Name, 0); err != nil {
		return err
	}
	id, err := t.nextID(bChannels)
	if err != nil {
		return err
	}
	ch.ID = model.ChannelID(id)
	ch.CreatedAt, ch.UpdatedAt = t.now, t.now
	b := encodeChannel(ch)
	if err := t.bucket(bChannels).Put(u64(id), b); err != nil {
		return err
	}
	t.count("channels", 1)
	t.change(ChangeChannel, id)
	return t.Audit("channel.create", fmt.Sprintf("channel:%d", id), b)
}

// UpdateChannel edits a channel (admin only).
func (t *Tx) UpdateChannel(id model.ChannelID, edit func(ch *model.Channel) error) error {
	if err := t.require(model.PermAdminister, "manage channels"); err != nil {
		return err
	}
	ch, err := t.Reader().Channel(id)
	if err != nil {
		return err
	}
	created := ch.CreatedAt
	if err := edit(&ch); err != nil {
		return err
	}
	ch.ID, ch.CreatedAt, ch.UpdatedAt = id, created, t.now
	if err := ch.Validate(); err != nil {
		return err
	}
	if err := t.uniqueChannelName(ch.Name, id); err != nil {
		return err
	}
	b := encodeChannel(&ch)
	if err := t.bucket(bChannels).Put(u64(uint64(id)), b); err != nil {
		return err
	}
	t.change(ChangeChannel, uint64(id))
	return t.Audit("channel.update", fmt.Sprintf("channel:%d", id), b)
}

func (t *Tx) uniqueChannelName(name string, self model.ChannelID) error {
	chs, err := t.Reader().Channels()
	if err != nil {
		return err
	}
	for _, c := range chs {
		if c.ID != self && strings.EqualFold(c.Name, name) {
			return &ConflictError{What: fmt.Sprintf("a channel named %q exists already (id %d)", c.Name, c.ID)}
		}
	}
	return nil
}

// Channel returns one channel.
func (r *Reader) Channel(id model.ChannelID) (model.Channel, error) {
	var ch model.Channel
	v := r.tx.Bucket(bChannels).Get(u64(uint64(id)))
	if v == nil {
		return ch, notFound("channel", id.String())
	}
	return ch, decodeChannel(v, &ch)
}

// Channels lists every channel in id order (a company has tens, not
// thousands).
func (r *Reader) Channels() ([]model.Channel, error) {
	var out []model.Channel
	err := r.tx.Bucket(bChannels).ForEach(func(k, v []byte) error {
		var ch model.Channel
		if err := decodeChannel(v, &ch); err != nil {
			return fmt.Errorf("channel %d: %w", readU64(k), err)
		}
		out = append(out, ch)
		return nil
	})
	return out, err
}

// FindChannel resolves an id or a (case-insensitive) name.
func (r *Reader) FindChannel(ref string) (model.Channel, error) {
	if id, err := model.ParseID(ref); err == nil {
		return r.Channel(model.ChannelID(id))
	}
	chs, err := r.Channels()
	if err != nil {
		return model.Channel{}, err
	}
	for _, c := range chs {
		if strings.EqualFold(c.Name, strings.TrimSpace(ref)) {
			return c, nil
		}
	}
	return model.Channel{}, notFound("channel", fmt.Sprintf("%q (see `karton channel list`)", ref))
}

// InsertPurpose adds a purpose (admin only). Names are unique.
func (t *Tx) InsertPurpose(p *model.Purpose) error {
	if err := t.require(model.PermAdminister, "manage purposes"); err != nil {
		return err
	}
	p.Name = strings.ToLower(strings.TrimSpace(p.Name))
	if err := p.Validate(); err != nil {
		return err
	}
	names := t.bucket(bPurposeNames)
	if v := names.Get([]byte(p.Name)); v != nil {
		return &ConflictError{What: fmt.Sprintf("a purpose named %q exists already (id %d)", p.Name, readU64(v))}
	}
	id, err := t.nextID(bPurposes)
	if err != nil {
		return err
	}
	p.ID = model.PurposeID(id)
	p.CreatedAt = t.now
	b := encodePurpose(p)
	if err := t.bucket(bPurposes).Put(u64(id), b); err != nil {
		return err
	}
	if err := names.Put([]byte(p.Name), u64(id)); err != nil {
		return err
	}
	t.count("purposes", 1)
	t.change(ChangePurpose, id)
	return t.Audit("purpose.create", "purpose:"+p.Name, b)
}

// Purpose returns one purpose.
func (r *Reader) Purpose(id model.PurposeID) (model.Purpose, error) {
	if p, ok := r.s.purposes.Load(id); ok {
		return p.(model.Purpose), nil
	}
	var p model.Purpose
	v := r.tx.Bucket(bPurposes).Get(u64(uint64(id)))
	if v == nil {
		return p, notFound("purpose", id.String())
	}
	if err := decodePurpose(v, &p); err != nil {
		return p, err
	}
	if !r.tx.Writable() {
		// Only what a read transaction sees is committed: a purpose a
		// write transaction inserts may yet be rolled back, and its id
		// given to another.
		r.s.purposes.Store(id, p)
	}
	return p, nil
}

// PurposeByName finds a purpose by its slug.
func (r *Reader) PurposeByName(name string) (model.Purpose, error) {
	v := r.tx.Bucket(bPurposeNames).Get([]byte(strings.ToLower(strings.TrimSpace(name))))
	if v == nil {
		return model.Purpose{}, notFound("purpose", fmt.Sprintf("%q (see `karton purpose list`)", name))
	}
	return r.Purpose(model.PurposeID(readU64(v)))
}

// Purposes lists every purpose in id order.
func (r *Reader) Purposes() ([]model.Purpose, error) {
	var out []model.Purpose
	err := r.tx.Bucket(bPurposes).ForEach(func(k, v []byte) error {
		var p model.Purpose
		if err := decodePurpose(v, &p); err != nil {
			return fmt.Errorf("purpose %d: %w", readU64(k), err)
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// InsertSegment saves an audience definition.
func (t *Tx) InsertSegment(s *model.Segment) error {
	if err := t.require(model.PermEditCampaigns, "create segments"); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if err := model.ValidateConditions(s.Conditions); err != nil {
		return err
	}
	id, err := t.nextID(bSegments)
	if err != nil {
		return err
	}
	s.ID = model.SegmentID(id)
	s.CreatedAt, s.UpdatedAt = t.now, t.now
	if err := t.bucket(bSegments).Put(u64(id), encodeSegment(s)); err != nil {
		return err
	}
	t.count("segments", 1)
	t.change(ChangeSegment, id)
	return nil
}

// UpdateSegment edits a segment.
func (t *Tx) UpdateSegment(id model.SegmentID, edit func(s *model.Segment) error) error {
	if err := t.require(model.PermEditCampaigns, "edit segments"); err != nil {
		return err
	}
	s, err := t.Reader().Segment(id)
	if err != nil {
		return err
	}
	created := s.CreatedAt
	if err := edit(&s); err != nil {
		return err
	}
	s.ID, s.CreatedAt, s.UpdatedAt = id, created, t.now
	if err := s.Validate(); err != nil {
		return err
	}
	if err := model.ValidateConditions(s.Conditions); err != nil {
		return err
	}
	t.change(ChangeSegment, uint64(id))
	return t.bucket(bSegments).Put(u64(uint64(id)), encodeSegment(&s))
}

// Segment returns one segment.
func (r *Reader) Segment(id model.SegmentID) (model.Segment, error) {
	var s model.Segment
	v := r.tx.Bucket(bSegments).Get(u64(uint64(id)))
	if v == nil {
		return s, notFound("segment", id.String())
	}
	return s, decodeSegment(v, &s)
}

// Segments lists every segment by name.
func (r *Reader) Segments() ([]model.Segment, error) {
	var out []model.Segment
	err := r.tx.Bucket(bSegments).ForEach(func(k, v []byte) error {
		var s model.Segment
		if err := decodeSegment(v, &s); err != nil {
			return fmt.Errorf("segment %d: %w", readU64(k), err)
		}
		out = append(out, s)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out, err
}
