package model

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// ChannelKind is the fixed set of ways Karton talks to customers. Consent
// is scoped by kind, not by individual channel: an opt-in for email covers
// every email channel.
type ChannelKind string

const (
	KindEmail     ChannelKind = "email"
	KindSMS       ChannelKind = "sms"
	KindMessenger ChannelKind = "messenger"
	KindPhone     ChannelKind = "phone"
	KindPostal    ChannelKind = "postal"
	KindWeb       ChannelKind = "web"
	KindSocial    ChannelKind = "social"
	KindEvent     ChannelKind = "event"
)

// ChannelKinds lists every kind in display order. The position is also the
// kind's one-byte code in store keys, so new kinds are only ever appended.
var ChannelKinds = []ChannelKind{KindEmail, KindSMS, KindMessenger, KindPhone, KindPostal, KindWeb, KindSocial, KindEvent}

// ParseChannelKind validates a kind typed by a user or read from a file.
func ParseChannelKind(s string) (ChannelKind, error) {
	k := ChannelKind(strings.ToLower(strings.TrimSpace(s)))
	if k.Valid() {
		return k, nil
	}
	return "", fmt.Errorf("unknown channel kind %q (one of %s)", s, joinKinds())
}

func joinKinds() string {
	s := make([]string, len(ChannelKinds))
	for i, k := range ChannelKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Valid reports whether k is one of ChannelKinds.
func (k ChannelKind) Valid() bool { return k.Code() > 0 }

// Code is the kind's 1-based position in ChannelKinds (0 = unknown); store
// keys use it.
func (k ChannelKind) Code() byte {
	for i, c := range ChannelKinds {
		if c == k {
			return byte(i + 1)
		}
	}
	return 0
}

// KindFromCode is the inverse of Code.
func KindFromCode(c byte) ChannelKind {
	if c == 0 || int(c) > len(ChannelKinds) {
		return ""
	}
	return ChannelKinds[c-1]
}

// Electronic reports whether the kind is one where German law (UWG §7) needs
// prior express consent confirmed by double opt-in: email, SMS, messenger.
func (k ChannelKind) Electronic() bool {
	return k == KindEmail || k == KindSMS || k == KindMessenger
}

// ConnectorKind says how Karton hands contacts over to a channel's software.
type ConnectorKind string

const (
	ConnectorFile    ConnectorKind = "file"    // CSV/JSONL files for print shop or call centre
	ConnectorWebhook ConnectorKind = "webhook" // signed JSON POST
	ConnectorSMTP    ConnectorKind = "smtp"    // real email through a relay
	ConnectorDry     ConnectorKind = "dry"     // records without sending (demos)
)

var connectorKinds = []ConnectorKind{ConnectorFile, ConnectorWebhook, ConnectorSMTP, ConnectorDry}

// Valid reports whether c is a known connector kind.
func (c ConnectorKind) Valid() bool {
	for _, k := range connectorKinds {
		if k == c {
			return true
		}
	}
	return false
}

// Connector is a channel's hand-over configuration. Settings are
// connector-specific (file: dir, format; webhook: url, secret_ref; smtp:
// host, port, from, unsubscribe_base).
type Connector struct {
	Kind     ConnectorKind
	Settings map[string]string
}

// ChannelStatus is whether a channel may be used for new steps.
type ChannelStatus string

const (
	ChannelActive  ChannelStatus = "active"
	ChannelPaused  ChannelStatus = "paused"
	ChannelRetired ChannelStatus = "retired"
)

// Channel is one concrete way of reaching customers, e.g. "Newsletter" of
// kind email served by a newsletter tool.
type Channel struct {
	ID             ChannelID
	Kind           ChannelKind
	Name           string
	Software       string // the system that serves it: "Mailjet", "call-centre CTI", ...
	Connector      Connector
	CostPerContact Money
	Currency       string
	Status         ChannelStatus
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Validate checks the channel and returns every problem at once.
func (c *Channel) Validate() error {
	p := problems{entity: "channel"}
	if strings.TrimSpace(c.Name) == "" {
		p.add("name", "is empty")
	} else if len(c.Name) > 80 {
		p.add("name", "is longer than 80 characters")
	} else {
		p.plain("name", c.Name)
	}
	p.plain("software", c.Software)
	for k, v := range c.Connector.Settings {
		p.plain("connector."+k, v)
	}
	if !c.Kind.Valid() {
		p.add("kind", "%q is not a channel kind (one of %s)", c.Kind, joinKinds())
	}
	if !c.Connector.Kind.Valid() {
		p.add("connector", "%q is not a connector (file, webhook, smtp or dry)", c.Connector.Kind)
	}
	switch c.Connector.Kind {
	case ConnectorWebhook:
		if u, err := url.Parse(c.Connector.Settings["url"]); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add("connector.url", "must be an http(s) URL for a webhook connector")
		}
	case ConnectorSMTP:
		if c.Connector.Settings["host"] == "" {
			p.add("connector.host", "is needed for an smtp connector")
		}
		if from := c.Connector.Settings["from"]; from != "" {
			if err := ValidateEmail(from); err != nil {
				p.add("connector.from", "%v", err)
			}
		}
	}
	if c.CostPerContact < 0 {
		p.add("cost_per_contact", "must not be negative")
	}
	if c.Currency != "" && !validCurrency(c.Currency) {
		p.add("currency", "%q is not an ISO 4217 code like EUR", c.Currency)
	}
	switch c.Status {
	case ChannelActive, ChannelPaused, ChannelRetired:
	default:
		p.add("status", "%q is not active, paused or retired", c.Status)
	}
	return p.err()
}

// PurposeCategory classifies a purpose for the consent rules.
type PurposeCategory string

const (
	CategoryService   PurposeCategory = "service"   // transactional, contract
	CategoryMarketing PurposeCategory = "marketing" // advertising; surveys count as advertising
	CategoryProfiling PurposeCategory = "profiling" // behavioural data for targeting
)

// Purpose is why a customer is contacted or their data used.
type Purpose struct {
	ID       PurposeID
	Name     string // short unique slug used on the command line: "newsletter"
	Title    string // human label: "Monthly newsletter"
	Category PurposeCategory
	// OwnSimilarProducts marks advertising for the company's own similar
	// products, which the existing-customer rule (UWG §7(3)) needs.
	OwnSimilarProducts bool
	Description        string
	CreatedAt          time.Time
}

// Validate checks the purpose.
func (pu *Purpose) Validate() error {
	p := problems{entity: "purpose"}
	if !validSlug(pu.Name) {
		p.add("name", "%q must be 1–40 lower-case letters, digits, '-' or '_'", pu.Name)
	}
	p.plain("title", pu.Title)
	p.lines("description", pu.Description)
	switch pu.Category {
	case CategoryService, CategoryMarketing, CategoryProfiling:
	default:
		p.add("category", "%q is not service, marketing or profiling", pu.Category)
	}
	return p.err()
}

func validSlug(s string) bool {
	if len(s) == 0 || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
