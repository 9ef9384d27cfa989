package demo

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"karton/model"
)

// Every number the generator writes must pass model.NormalizePhone, and
// mobile numbers must be recognised as mobile (SMS needs them).
func TestPhonesAreValid(t *testing.T) {
	g := &generator{asOf: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	g.tab = newTables(g.asOf)
	r := rng{newStream(7, streamCustomer, 1)}
	all := append(append([]city(nil), germanCities...), foreignCities...)
	for i := range all {
		ct := &all[i]
		for n := 0; n < 30; n++ {
			for _, mobile := range []bool{false, true} {
				p := g.drawPhone(r, ct, mobile)
				e, err := model.NormalizePhone(p, model.DefaultRegion)
				if !assert.NoError(t, err, "%s (%s, mobile %v)", p, ct.name, mobile) {
					continue
				}
				assert.Equal(t, mobile, model.IsMobile(e), "%s → %s (%s) mobile", p, e, ct.name)
			}
		}
	}
}
