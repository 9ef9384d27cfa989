package model

import (
	"fmt"
	"time"
)

// FrequencyCap limits contacts on a channel kind: at most Max contacts in
// the last Days days (PRODUCT.md §2, the contact-pressure policy rule).
type FrequencyCap struct {
	Max  int
	Days int
}

// Settings are the store-wide rules an admin may change.
type Settings struct {
	// StaleMonths: a confirmed opt-in older than this and unused since is
	// stale (rule 8). Default 24.
	StaleMonths int
	// MinAge below which parental consent is needed (rule 6). Default 16.
	MinAge int
	// Caps per channel kind; absent means no cap.
	Caps map[ChannelKind]FrequencyCap
	// Region for phone numbers written without a country code. Default DE.
	Region string
	// Currency of the store's money figures. Default EUR.
	Currency string
}

// DefaultSettings are the values a new store starts with.
func DefaultSettings() Settings {
	return Settings{StaleMonths: 24, MinAge: 16, Region: DefaultRegion, Currency: DefaultCurrency}
}

// StaleBefore returns the instant before which a confirmed opt-in (unused
// since) is stale when evaluated at t.
func (s Settings) StaleBefore(t time.Time) time.Time {
	return t.AddDate(0, -s.StaleMonths, 0)
}

// Validate checks the settings.
func (s *Settings) Validate() error {
	p := problems{entity: "settings"}
	if s.StaleMonths < 1 || s.StaleMonths > 120 {
		p.add("stale_months", "must be between 1 and 120")
	}
	if s.MinAge < 0 || s.MinAge > 21 {
		p.add("min_age", "must be between 0 and 21")
	}
	for k, c := range s.Caps {
		if !k.Valid() {
			p.add("caps", "%q is not a channel kind", k)
		}
		if c.Max < 1 || c.Days < 1 || c.Days > 3650 {
			p.add(fmt.Sprintf("caps.%s", k), "needs at least 1 contact in 1 to 3650 days")
		}
	}
	if len(s.Region) != 2 {
		p.add("region", "%q is not a two-letter country code", s.Region)
	}
	if !validCurrency(s.Currency) {
		p.add("currency", "%q is not an ISO 4217 code like EUR", s.Currency)
	}
	return p.err()
}
