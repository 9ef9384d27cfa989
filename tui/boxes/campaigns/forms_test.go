package campaigns

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"karton/model"
)

func TestParseStaff(t *testing.T) {
	got, err := parseStaff("Anna, Design, 7,5\n\n  Ben,Text,12  \nCem, Druck, 0")
	require.NoError(t, err)
	assert.Equal(t, []model.StaffAssignment{{Name: "Anna", Role: "Design", Hours: 7.5}, {Name: "Ben", Role: "Text", Hours: 12}, {Name: "Cem", Role: "Druck", Hours: 0}}, got)
	for _, bad := range []string{"Anna, Design", "Anna, Design, NaN", "Anna, Design, Inf", "Anna, Design, -1", "Anna, Design, 1e3",
		"Anna, Design, 7, 5", "Anna, Design, ", "Anna, Design, 0x10", "Anna, Design, 1.2.3"} {
		_, err := parseStaff(bad)
		assert.Error(t, err, "%q", bad)
	}
	_, err = parseStaff("Anna, Design, 8\nBen, Text, NaN")
	assert.ErrorContains(t, err, `line 2: "NaN" is not a number of hours`)
}

// The model refuses hours that are not a number, whatever form or import
// they came from.
func TestCampaignRefusesHoursThatAreNotANumber(t *testing.T) {
	for _, h := range []float64{math.NaN(), math.Inf(1), -1, 10001} {
		c := model.Campaign{Name: "x", Start: time.Now(), End: time.Now().Add(time.Hour),
			Staff: []model.StaffAssignment{{Name: "Anna", Role: "Design", Hours: h}}}
		err := c.Validate()
		require.Error(t, err, "%v", h)
		assert.Contains(t, err.Error(), "staff[0].hours")
	}
}

func TestParseConditions(t *testing.T) {
	got, err := parseConditions("city  in \tBerlin, Hamburg\n\nrevenue >= 50000")
	require.NoError(t, err)
	assert.Equal(t, []model.Condition{{Field: "city", Op: "in", Value: "Berlin, Hamburg"}, {Field: "revenue", Op: ">=", Value: "50000"}}, got)
	for _, bad := range []string{"city", "city =", "city = ", "nosuchfield = 1", "city ~ Berlin"} {
		_, err := parseConditions(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestParseBudget(t *testing.T) {
	got, err := parseBudget("Druck = 1.200,50\nPorto: €300")
	require.NoError(t, err)
	assert.Equal(t, []model.BudgetLine{{Label: "Druck", Planned: 120050}, {Label: "Porto", Planned: 30000}}, got)
	for _, bad := range []string{"Druck", "= 12", "Druck = -5", "Druck = viel"} {
		_, err := parseBudget(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// Whatever an operator types into the campaign and segment forms, the
// parsers answer with values or an error, never a crash, and the values
// they accept pass the model's own checks where it has them.
func FuzzCampaignFormParsers(f *testing.F) {
	for _, s := range []string{"Anna, Design, 7,5", "Druck = 1.200,50", "city in Berlin, Hamburg", "2026-04-02 10:00", "2026-04-01", "x\ny", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if staff, err := parseStaff(s); err == nil {
			for _, st := range staff {
				if !(st.Hours >= 0) || math.IsInf(st.Hours, 0) || strings.Contains(st.Name, "\n") {
					t.Fatalf("%q gave %+v", s, st)
				}
			}
		}
		if lines, err := parseBudget(s); err == nil {
			for _, l := range lines {
				if l.Planned < 0 || l.Label == "" {
					t.Fatalf("%q gave %+v", s, l)
				}
			}
		}
		if conds, err := parseConditions(s); err == nil {
			if err := model.ValidateConditions(conds); err != nil {
				t.Fatalf("%q gave conditions the model refuses: %v", s, err)
			}
		}
		_, _ = parseSchedule(s)
		_, _ = parseDate(s, time.Time{})
		_, _ = parseCapacity(s)
	})
}
