package model

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Events may arrive in any order: every case of the rule table decides the
// same after shuffling, and Decide leaves the caller's slice as it was.
func TestDecideIgnoresEventOrderAndKeepsInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range ruleCases() {
		f := newFixture()
		tc.build(f)
		want := f.decide()
		for range 8 {
			rng.Shuffle(len(f.in.Events), func(i, j int) {
				f.in.Events[i], f.in.Events[j] = f.in.Events[j], f.in.Events[i]
			})
			before := slices.Clone(f.in.Events)
			got := f.decide()
			require.Equal(t, want, got, "%s: order changed the decision", tc.name)
			require.Equal(t, before, f.in.Events, "%s: Decide modified its input", tc.name)
		}
	}
}

// Random histories over every scope and kind: whatever the history, the
// decision is consistent with its reason, names a visible event of the
// input or none, and never panics.
func TestDecideInvariantsOnRandomHistories(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 7))
	kinds := ConsentKinds
	purposes := []PurposeID{pService, pNews, pProfiling, pOffers, pPersonal}
	cats := DataCategories()
	seen := map[Reason]int{}
	for range 20000 {
		f := newFixture()
		f.scope(ChannelKinds[rng.IntN(len(ChannelKinds))], purposes[rng.IntN(len(purposes))])
		f.in.Customer.Business = rng.IntN(3) == 0
		f.in.Customer.Erased = rng.IntN(40) == 0
		f.in.Customer.Suppressed = rng.IntN(40) == 0
		f.in.Customer.ContactPoints = ContactPoints(rng.IntN(1 << 9))
		if rng.IntN(4) == 0 {
			f.in.Customer.BirthDate = Date{2005 + rng.IntN(10), time.Month(1 + rng.IntN(12)), 1 + rng.IntN(28)}
		}
		if rng.IntN(3) == 0 {
			f.existingCustomer()
		}
		if rng.IntN(3) == 0 {
			f.in.DataCategories = []DataCategory{cats[rng.IntN(len(cats))]}
		}
		if rng.IntN(4) == 0 {
			f.in.Settings.Caps = map[ChannelKind]FrequencyCap{f.in.Channel: {Max: 1 + rng.IntN(3), Days: 30}}
			f.in.RecentContacts = rng.IntN(5)
		}
		if rng.IntN(2) == 0 {
			f.in.LastContactAt = tNow.AddDate(0, -rng.IntN(40), 0)
		}
		for range rng.IntN(12) {
			k := kinds[rng.IntN(len(kinds))]
			ch, p := ChannelKinds[rng.IntN(len(ChannelKinds))], purposes[rng.IntN(len(purposes))]
			if rng.IntN(2) == 0 {
				ch, p = f.in.Channel, f.in.Purpose.ID
			}
			if !k.Scoped() {
				ch, p = "", 0
			}
			eff := tNow.Add(-time.Duration(rng.IntN(3*365*24)) * time.Hour).Add(time.Duration(rng.IntN(48)) * time.Hour)
			rec := eff.Add(time.Duration(rng.IntN(72)) * time.Hour)
			f.addRec(k, ch, p, eff, rec)
		}
		d := f.decide()
		seen[d.Reason]++
		require.Positive(t, d.Reason.Rule(), "unknown reason %q", d.Reason)
		require.Equal(t, d.Reason.Rule(), d.Rule)
		require.Equal(t, d.Reason.Allows(), d.Allow)
		if d.EventID != 0 {
			e := findEvent(t, f.in.Events, d.EventID)
			require.False(t, e.EffectiveAt.After(f.in.At), "deciding event effective after t")
			require.False(t, e.RecordedAt.After(f.in.KnownAt), "deciding event unknown at k")
		}
		if d.Allow && f.in.Purpose.Category != CategoryService {
			// No marketing allow while an objection is in force that no
			// later opt-in of the scope lifted.
			for _, e := range f.in.Events {
				if e.Kind == ConsentObjection && f.in.visible(&e) {
					lifted := false
					for _, o := range f.in.Events {
						if o.Kind == ConsentOptIn && o.Channel == f.in.Channel && o.PurposeID == f.in.Purpose.ID &&
							f.in.visible(&o) && later(&o, &e) {
							lifted = true
						}
					}
					require.True(t, lifted, "allowed %s despite objection #%d", d.Reason, e.ID)
				}
			}
		}
	}
	for _, r := range AllReasons() {
		assert.Positive(t, seen[r], "random histories never reached %s", r)
	}
}
