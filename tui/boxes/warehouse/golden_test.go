package warehouse_test

import (
	"fmt"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"karton/model"
	"karton/store"
	"karton/tui"
	"karton/tui/boxes/warehouse"
	"karton/tui/common"
	"karton/tui/components/palette"
	"karton/tui/internal/screentest"
	"karton/tui/theme"
)

// otherBox stands in for the three boxes built on other branches, so the
// goldens show the warehouse in the real frame without depending on them.
type otherBox struct{ title string }

func (b otherBox) Title() string                              { return b.title }
func (b otherBox) Short() string                              { return b.title[:4] }
func (b otherBox) Init() tea.Cmd                              { return nil }
func (b otherBox) Update(tea.Msg) tea.Cmd                     { return nil }
func (b otherBox) View() string                               { return b.title }
func (b otherBox) SetSize(int, int)                           {}
func (b otherBox) SetTheme(*theme.Theme)                      {}
func (b otherBox) Capturing() bool                            { return false }
func (b otherBox) StoreChanged([]store.Change) tea.Cmd        { return nil }
func (b otherBox) PaletteItems() []palette.Item               { return nil }
func (b otherBox) PaletteChosen(palette.Item) (tea.Cmd, bool) { return nil, false }
func (b otherBox) ShortHelp() []key.Binding                   { return nil }
func (b otherBox) FullHelp() [][]key.Binding                  { return nil }

func newApp(s *store.Store) *tui.App {
	return tui.New(s, screentest.Admin, tui.Options{Now: screentest.Now, NoColor: true, NoFeed: true, Environ: []string{}, StoreLabel: "demo.db",
		Boxes: func(c *common.Context) []common.Box {
			return []common.Box{otherBox{"Channels"}, otherBox{"Campaigns"}, otherBox{"Customers"}, warehouse.New(c)}
		}})
}

// TestGolden drives the real frame with teatest on the demo store (seed 7,
// 2,000 customers, fixed clock), opens the Warehouse box and each of its
// views, and compares the final screen with testdata/TestGolden/*.golden.
func TestGolden(t *testing.T) {
	plain := screentest.DemoStore(t, 2000)
	scored := screentest.DemoStore(t, 2000)
	warehouse.PutDemoScores(t, scored)
	checked := screentest.DemoStore(t, 2000)
	warehouse.LookAlikes(t, checked)
	warehouse.LookAlikes(t, checked)
	if _, err := checked.ComputeQuality(screentest.Admin, model.QualityOptions{}); err != nil {
		t.Fatal(err)
	}
	typePath := []string{"enter"}
	for _, r := range "../../../testdata/import/customers_bom.csv" {
		typePath = append(typePath, string(r))
	}
	typePath = append(typePath, "enter", "enter", "s", "h", "o", "p", "enter")
	tests := []struct {
		name  string
		store *store.Store
		keys  []string
		wait  []string // texts the finished view shows
	}{
		{"overview", plain, nil, []string{"Contactable now", "Revenue by month", "Contacts by channel"}},
		{"rfm_without_scores", plain, []string{"l"}, []string{"No RFM scores"}},
		{"rfm", scored, []string{"l"}, []string{"customers scored", "Champions"}},
		{"cohorts", plain, []string{"l", "l"}, []string{"first-purchase month", "Mar 26"}},
		{"clv_without_scores", plain, []string{"l", "l", "l"}, []string{"No CLV scores"}},
		{"sources", checked, []string{"l", "l", "l", "l"}, []string{"Source systems", "Funnel"}},
		{"quality_without_report", plain, []string{"l", "l", "l", "l", "l"}, []string{"No quality report"}},
		{"quality", checked, []string{"l", "l", "l", "l", "l"}, []string{"Worst first"}},
		{"merges", checked, []string{"h", "h"}, []string{"Merge suggestions", "created"}},
		{"import", plain, []string{"h"}, []string{"Nothing is written before"}},
		{"import_preview", plain, append([]string{"h"}, typePath...), []string{"First rows", "line 4"}},
	}
	for _, tc := range tests {
		for _, size := range [][2]int{{80, 24}, {120, 40}} {
			t.Run(fmt.Sprintf("%s_%dx%d", tc.name, size[0], size[1]), func(t *testing.T) {
				tm := screentest.Run(t, newApp(tc.store), size[0], size[1])
				screentest.Key(tm, "4")
				if len(tc.keys) > 0 {
					// WaitFor consumes the output it reads: wait for the
					// overview before moving on, then for the view.
					screentest.WaitFor(t, tm, "Contactable now")
					for _, k := range tc.keys {
						screentest.Key(tm, k)
					}
				}
				screentest.WaitFor(t, tm, tc.wait...)
				screentest.Golden(t, screentest.Screen(screentest.Finish(t, tm)))
			})
		}
	}
}
