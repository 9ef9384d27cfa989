package store

import (
	"time"

	"karton/model"
)

// Encoders and decoders for each stored entity. Field order is the format:
// append new fields at the end and raise the version byte.

func encodeDate(e *encoder, d model.Date) {
	e.uvarint(uint64(d.Year))
	e.byte1(byte(d.Month))
	e.byte1(byte(d.Day))
}

func decodeDate(d *decoder) model.Date {
	return model.Date{Year: int(d.uvarint()), Month: time.Month(d.byte1()), Day: int(d.byte1())}
}

const customerVersion = 1

func encodeCustomer(buf []byte, c *model.Customer) []byte {
	e := encoder{buf: buf[:0]}
	e.byte1(customerVersion)
	e.uvarint(uint64(c.ID))
	e.str(string(c.Type))
	e.str(c.Salutation)
	e.str(c.FirstName)
	e.str(c.LastName)
	e.str(c.Company)
	e.str(c.Email)
	e.str(c.Phone)
	e.str(c.Address.Street)
	e.str(c.Address.PostalCode)
	e.str(c.Address.City)
	e.str(c.Address.Country)
	encodeDate(&e, c.BirthDate)
	e.strMap(c.Attributes)
	e.strMap(c.Preferences)
	e.strs(c.Tags)
	e.uvarint(uint64(len(c.Sources)))
	for _, s := range c.Sources {
		e.str(s.Source)
		e.str(s.ExternalID)
	}
	e.time(c.CreatedAt)
	e.time(c.UpdatedAt)
	e.bool(c.Erased)
	e.time(c.ErasedAt)
	e.bool(c.Suppressed)
	e.time(c.LastActivityAt)
	e.uvarint(uint64(c.PurchaseCount))
	e.varint(int64(c.Revenue))
	e.time(c.FirstPurchaseAt)
	e.time(c.LastPurchaseAt)
	e.bool(c.EmailFromPurchase)
	e.uvarint(uint64(c.ContactPoints))
	return e.buf
}

func decodeCustomer(b []byte, c *model.Customer) error {
	d := decoder{b: b}
	d.version(customerVersion, "customer")
	c.ID = model.CustomerID(d.uvarint())
	c.Type = model.ContactType(d.str())
	c.Salutation = d.str()
	c.FirstName = d.str()
	c.LastName = d.str()
	c.Company = d.str()
	c.Email = d.str()
	c.Phone = d.str()
	c.Address.Street = d.str()
	c.Address.PostalCode = d.str()
	c.Address.City = d.str()
	c.Address.Country = d.str()
	c.BirthDate = decodeDate(&d)
	c.Attributes = d.strMap()
	c.Preferences = d.strMap()
	c.Tags = d.strs()
	if n := d.count(); n > 0 {
		c.Sources = make([]model.SourceRef, n)
		for i := range c.Sources {
			c.Sources[i] = model.SourceRef{Source: d.str(), ExternalID: d.str()}
		}
	} else {
		c.Sources = nil
	}
	c.CreatedAt = d.time()
	c.UpdatedAt = d.time()
	c.Erased = d.bool()
	c.ErasedAt = d.time()
	c.Suppressed = d.bool()
	c.LastActivityAt = d.time()
	c.PurchaseCount = int(d.uvarint())
	c.Revenue = model.Money(d.varint())
	c.FirstPurchaseAt = d.time()
	c.LastPurchaseAt = d.time()
	c.EmailFromPurchase = d.bool()
	c.ContactPoints = model.ContactPoints(d.uvarint())
	return d.done("customer")
}

const channelVersion = 1

func encodeChannel(c *model.Channel) []byte {
	var e encoder
	e.byte1(channelVersion)
	e.uvarint(uint64(c.ID))
	e.str(string(c.Kind))
	e.str(c.Name)
	e.str(c.Software)
	e.str(string(c.Connector.Kind))
	e.strMap(c.Connector.Settings)
	e.varint(int64(c.CostPerContact))
	e.str(c.Currency)
	e.str(string(c.Status))
	e.time(c.CreatedAt)
	e.time(c.UpdatedAt)
	return e.buf
}

func decodeChannel(b []byte, c *model.Channel) error {
	d := decoder{b: b}
	d.version(channelVersion, "channel")
	c.ID = model.ChannelID(d.uvarint())
	c.Kind = model.ChannelKind(d.str())
	c.Name = d.str()
	c.Software = d.str()
	c.Connector.Kind = model.ConnectorKind(d.str())
	c.Connector.Settings = d.strMap()
	c.CostPerContact = model.Money(d.varint())
	c.Currency = d.str()
	c.Status = model.ChannelStatus(d.str())
	c.CreatedAt = d.time()
	c.UpdatedAt = d.time()
	return d.done("channel")
}

const purposeVersion = 1

func encodePurpose(p *model.Purpose) []byte {
	var e encoder
	e.byte1(purposeVersion)
	e.uvarint(uint64(p.ID))
	e.str(p.Name)
	e.str(p.Title)
	e.str(string(p.Category))
	e.bool(p.OwnSimilarProducts)
	e.str(p.Description)
	e.time(p.CreatedAt)
	return e.buf
}

func decodePurpose(b []byte, p *model.Purpose) error {
	d := decoder{b: b}
	d.version(purposeVersion, "purpose")
	p.ID = model.PurposeID(d.uvarint())
	p.Name = d.str()
	p.Title = d.str()
	p.Category = model.PurposeCategory(d.str())
	p.OwnSimilarProducts = d.bool()
	p.Description = d.str()
	p.CreatedAt = d.time()
	return d.done("purpose")
}

const campaignVersion = 1

func encodeCampaign(c *model.Campaign) []byte {
	var e encoder
	e.byte1(campaignVersion)
	e.uvarint(uint64(c.ID))
	e.str(c.Name)
	e.str(c.Goal)
	e.str(c.Owner)
	e.time(c.Start)
	e.time(c.End)
	e.str(string(c.Status))
	e.str(c.Currency)
	e.uvarint(uint64(len(c.Budget)))
	for _, b := range c.Budget {
		e.str(b.Label)
		e.varint(int64(b.Planned))
		e.varint(int64(b.Actual))
	}
	e.uvarint(uint64(len(c.Staff)))
	for _, s := range c.Staff {
		e.str(s.Name)
		e.str(s.Role)
		e.float(s.Hours)
	}
	e.uvarint(uint64(len(c.Creatives)))
	for _, cr := range c.Creatives {
		e.str(cr.Name)
		e.str(string(cr.Kind))
		e.str(cr.Subject)
		e.str(cr.Body)
		e.bool(cr.ObjectionNotice)
		e.strs(cr.Links)
	}
	e.uvarint(uint64(c.Capacity))
	e.uvarint(uint64(len(c.Participants)))
	for _, p := range c.Participants {
		e.uvarint(uint64(p.CustomerID))
		e.str(string(p.Status))
		e.time(p.At)
	}
	e.time(c.CreatedAt)
	e.time(c.UpdatedAt)
	e.str(c.SubmittedBy)
	e.time(c.SubmittedAt)
	e.str(c.ApprovedBy)
	e.time(c.ApprovedAt)
	e.str(c.RejectedBy)
	e.str(c.RejectionNote)
	return e.buf
}

func decodeCampaign(b []byte, c *model.Campaign) error {
	d := decoder{b: b}
	d.version(campaignVersion, "campaign")
	c.ID = model.CampaignID(d.uvarint())
	c.Name = d.str()
	c.Goal = d.str()
	c.Owner = d.str()
	c.Start = d.time()
	c.End = d.time()
	c.Status = model.CampaignStatus(d.str())
	c.Currency = d.str()
	c.Budget = make([]model.BudgetLine, d.count())
	for i := range c.Budget {
		c.Budget[i] = model.BudgetLine{Label: d.str(), Planned: model.Money(d.varint()), Actual: model.Money(d.varint())}
	}
	c.Staff = make([]model.StaffAssignment, d.count())
	for i := range c.Staff {
		c.Staff[i] = model.StaffAssignment{Name: d.str(), Role: d.str(), Hours: d.float()}
	}
	c.Creatives = make([]model.Creative, d.count())
	for i := range c.Creatives {
		c.Creatives[i] = model.Creative{Name: d.str(), Kind: model.ChannelKind(d.str()), Subject: d.str(), Body: d.str(), ObjectionNotice: d.bool(), Links: d.strs()}
	}
	c.Capacity = int(d.uvarint())
	c.Participants = make([]model.Participant, d.count())
	for i := range c.Participants {
		c.Participants[i] = model.Participant{CustomerID: model.CustomerID(d.uvarint()), Status: model.ParticipantStatus(d.str()), At: d.time()}
	}
	c.CreatedAt = d.time()
	c.UpdatedAt = d.time()
	c.SubmittedBy = d.str()
	c.SubmittedAt = d.time()
	c.ApprovedBy = d.str()
	c.ApprovedAt = d.time()
	c.RejectedBy = d.str()
	c.RejectionNote = d.str()
	return d.done("campaign")
}

const stepVersion = 1

func encodeStep(s *model.Step) []byte {
	var e encoder
	e.byte1(stepVersion)
	e.uvarint(uint64(s.ID))
	e.uvarint(uint64(s.CampaignID))
	e.str(s.Name)
	e.uvarint(uint64(s.ChannelID))
	e.uvarint(uint64(s.PurposeID))
	e.uvarint(uint64(s.SegmentID))
	e.str(s.Creative)
	e.time(s.ScheduledAt)
	e.uvarint(uint64(len(s.DataCategories)))
	for _, c := range s.DataCategories {
		e.str(string(c))
	}
	e.str(string(s.Status))
	e.time(s.LaunchedAt)
	e.str(s.LaunchedBy)
	return e.buf
}

func decodeStep(b []byte, s *model.Step) error {
	d := decoder{b: b}
	d.version(stepVersion, "step")
	s.ID = model.StepID(d.uvarint())
	s.CampaignID = model.CampaignID(d.uvarint())
	s.Name = d.str()
	s.ChannelID = model.ChannelID(d.uvarint())
	s.PurposeID = model.PurposeID(d.uvarint())
	s.SegmentID = model.SegmentID(d.uvarint())
	s.Creative = d.str()
	s.ScheduledAt = d.time()
	if n := d.count(); n > 0 {
		s.DataCategories = make([]model.DataCategory, n)
		for i := range s.DataCategories {
			s.DataCategories[i] = model.DataCategory(d.str())
		}
	} else {
		s.DataCategories = nil
	}
	s.Status = model.StepStatus(d.str())
	s.LaunchedAt = d.time()
	s.LaunchedBy = d.str()
	return d.done("step")
}

const segmentVersion = 1

func encodeSegment(s *model.Segment) []byte {
	var e encoder
	e.byte1(segmentVersion)
	e.uvarint(uint64(s.ID))
	e.str(s.Name)
	e.str(s.Description)
	e.uvarint(uint64(len(s.Conditions)))
	for _, c := range s.Conditions {
		e.str(c.Field)
		e.str(c.Op)
		e.str(c.Value)
	}
	e.time(s.CreatedAt)
	e.time(s.UpdatedAt)
	return e.buf
}

func decodeSegment(b []byte, s *model.Segment) error {
	d := decoder{b: b}
	d.version(segmentVersion, "segment")
	s.ID = model.SegmentID(d.uvarint())
	s.Name = d.str()
	s.Description = d.str()
	if n := d.count(); n > 0 {
		s.Conditions = make([]model.Condition, n)
		for i := range s.Conditions {
			s.Conditions[i] = model.Condition{Field: d.str(), Op: d.str(), Value: d.str()}
		}
	} else {
		s.Conditions = nil
	}
	s.CreatedAt = d.time()
	s.UpdatedAt = d.time()
	return d.done("segment")
}

const consentVersion = 1

func encodeConsent(buf []byte, ev *model.ConsentEvent) []byte {
	e := encoder{buf: buf[:0]}
	e.byte1(consentVersion)
	e.uvarint(uint64(ev.ID))
	e.uvarint(uint64(ev.CustomerID))
	e.byte1(ev.Channel.Code())
	e.uvarint(uint64(ev.PurposeID))
	e.str(string(ev.Kind))
	e.str(string(ev.Basis))
	e.time(ev.EffectiveAt)
	e.time(ev.RecordedAt)
	e.str(ev.Source)
	e.str(ev.Actor)
	e.str(ev.TextVersion)
	e.bool(ev.HasEvidence)
	if ev.HasEvidence {
		e.fixed32(ev.EvidenceHash)
	}
	return e.buf
}

func decodeConsent(b []byte, ev *model.ConsentEvent) error {
	d := decoder{b: b}
	d.version(consentVersion, "consent event")
	ev.ID = model.EventID(d.uvarint())
	ev.CustomerID = model.CustomerID(d.uvarint())
	ev.Channel = model.KindFromCode(d.byte1())
	ev.PurposeID = model.PurposeID(d.uvarint())
	ev.Kind = model.ConsentKind(d.str())
	ev.Basis = model.LegalBasis(d.str())
	ev.EffectiveAt = d.time()
	ev.RecordedAt = d.time()
	ev.Source = d.str()
	ev.Actor = d.str()
	ev.TextVersion = d.str()
	ev.HasEvidence = d.bool()
	if ev.HasEvidence {
		ev.EvidenceHash = d.fixed32()
	} else {
		ev.EvidenceHash = [32]byte{}
	}
	return d.done("consent event")
}

const interactionVersion = 1

// Interactions are keyed by (customer, time, id), so the record repeats
// neither the customer nor the time.
func encodeInteraction(buf []byte, i *model.Interaction) []byte {
	e := encoder{buf: buf[:0]}
	e.byte1(interactionVersion)
	e.byte1(i.Kind.Code())
	e.byte1(i.Channel.Code())
	e.uvarint(uint64(i.ChannelID))
	e.uvarint(uint64(i.CampaignID))
	e.uvarint(uint64(i.StepID))
	e.varint(int64(i.Value))
	e.str(i.Note)
	return e.buf
}

func decodeInteraction(key, b []byte, i *model.Interaction) error {
	cid, at, id, ok := splitActivityKey(key)
	if !ok {
		return errCorrupt
	}
	d := decoder{b: b}
	d.version(interactionVersion, "interaction")
	i.ID = model.InteractionID(id)
	i.CustomerID = model.CustomerID(cid)
	i.At = at
	i.Kind = model.InteractionKindFromCode(d.byte1())
	i.Channel = model.KindFromCode(d.byte1())
	i.ChannelID = model.ChannelID(d.uvarint())
	i.CampaignID = model.CampaignID(d.uvarint())
	i.StepID = model.StepID(d.uvarint())
	i.Value = model.Money(d.varint())
	i.Note = d.str()
	return d.done("interaction")
}

const purchaseVersion = 1

func encodePurchase(buf []byte, p *model.Purchase) []byte {
	e := encoder{buf: buf[:0]}
	e.byte1(purchaseVersion)
	e.str(p.OrderID)
	e.str(p.Source)
	e.varint(int64(p.Amount))
	e.str(p.Currency)
	e.uvarint(uint64(len(p.Items)))
	for _, it := range p.Items {
		e.str(it.SKU)
		e.str(it.Name)
		e.uvarint(uint64(it.Quantity))
		e.varint(int64(it.UnitPrice))
	}
	e.bool(p.EmailCollected)
	e.bool(p.ObjectionNotice)
	return e.buf
}

func decodePurchase(key, b []byte, p *model.Purchase) error {
	cid, at, id, ok := splitActivityKey(key)
	if !ok {
		return errCorrupt
	}
	d := decoder{b: b}
	d.version(purchaseVersion, "purchase")
	p.ID = model.PurchaseID(id)
	p.CustomerID = model.CustomerID(cid)
	p.At = at
	p.OrderID = d.str()
	p.Source = d.str()
	p.Amount = model.Money(d.varint())
	p.Currency = d.str()
	if n := d.count(); n > 0 {
		p.Items = make([]model.PurchaseItem, n)
		for i := range p.Items {
			p.Items[i] = model.PurchaseItem{SKU: d.str(), Name: d.str(), Quantity: int(d.uvarint()), UnitPrice: model.Money(d.varint())}
		}
	} else {
		p.Items = nil
	}
	p.EmailCollected = d.bool()
	p.ObjectionNotice = d.bool()
	return d.done("purchase")
}

const userVersion = 1

func encodeUser(u *model.User) []byte {
	var e encoder
	e.byte1(userVersion)
	e.str(u.Name)
	e.str(string(u.Role))
	e.strs(u.PublicKeys)
	e.time(u.CreatedAt)
	e.str(u.CreatedBy)
	return e.buf
}

func decodeUser(b []byte, u *model.User) error {
	d := decoder{b: b}
	d.version(userVersion, "user")
	u.Name = d.str()
	u.Role = model.Role(d.str())
	u.PublicKeys = d.strs()
	u.CreatedAt = d.time()
	u.CreatedBy = d.str()
	return d.done("user")
}

const settingsVersion = 1

func encodeSettings(s *model.Settings) []byte {
	var e encoder
	e.byte1(settingsVersion)
	e.uvarint(uint64(s.StaleMonths))
	e.uvarint(uint64(s.MinAge))
	e.str(s.Region)
	e.str(s.Currency)
	e.uvarint(uint64(len(s.Caps)))
	for _, k := range model.ChannelKinds { // fixed order
		if c, ok := s.Caps[k]; ok {
			e.byte1(k.Code())
			e.uvarint(uint64(c.Max))
			e.uvarint(uint64(c.Days))
		}
	}
	return e.buf
}

func decodeSettings(b []byte, s *model.Settings) error {
	d := decoder{b: b}
	d.version(settingsVersion, "settings")
	s.StaleMonths = int(d.uvarint())
	s.MinAge = int(d.uvarint())
	s.Region = d.str()
	s.Currency = d.str()
	if n := d.count(); n > 0 {
		s.Caps = make(map[model.ChannelKind]model.FrequencyCap, n)
		for range n {
			k := model.KindFromCode(d.byte1())
			s.Caps[k] = model.FrequencyCap{Max: int(d.uvarint()), Days: int(d.uvarint())}
		}
	}
	return d.done("settings")
}
