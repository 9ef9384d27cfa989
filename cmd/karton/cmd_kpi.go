package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"karton/model"
	"karton/store"
)

// parseDateFlag reads YYYY-MM-DD (or the German DD.MM.YYYY).
func parseDateFlag(name, v string) (model.Date, error) {
	if v == "" {
		return model.Date{}, nil
	}
	if d, err := model.ParseDate(v); err == nil {
		return d, nil
	}
	if t, err := time.Parse("02.01.2006", strings.TrimSpace(v)); err == nil {
		return model.DateOf(t), nil
	}
	return model.Date{}, usagef("--%s: %q is not a date like 2025-12-31", name, v)
}

func parseMonthFlag(name, v string) (model.YearMonth, error) {
	if v == "" {
		return 0, nil
	}
	t, err := time.Parse("2006-01", strings.TrimSpace(v))
	if err != nil {
		return 0, usagef("--%s: %q is not a month like 2025-12", name, v)
	}
	return model.YearMonthOf(t), nil
}

func rate(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }

func kpiCmd(fs *flag.FlagSet) runFunc {
	by := fs.String("by", "channel", "group by channel, channel_kind or campaign")
	from := fs.String("from", "", "first day, YYYY-MM-DD (default: 90 days ago)")
	to := fs.String("to", "", "last day, YYYY-MM-DD (default: today)")
	attribute := fs.Bool("attribute", false, "rerun the revenue attribution first (last contact within 30 days)")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		dim, err := store.ParseKPIDimension(*by)
		if err != nil {
			return usagef("--by: %v", err)
		}
		f, err := parseDateFlag("from", *from)
		if err != nil {
			return err
		}
		t, err := parseDateFlag("to", *to)
		if err != nil {
			return err
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		if t.IsZero() {
			t = model.DateOf(st.Now())
		}
		if f.IsZero() {
			f = model.DateOf(t.Time().AddDate(0, 0, -89))
		}
		if *attribute {
			ctx, stop := e.interruptible()
			defer stop()
			if _, err := st.RunAttribution(ctx, e.actor, store.AttributionOptions{}); err != nil {
				return err
			}
		}
		var rep store.KPIReport
		if err := st.View(e.actor, func(r *store.Reader) (err error) {
			rep, err = r.KPIs(store.KPIQuery{From: f.Time(), To: t.Time(), By: dim})
			return err
		}); err != nil {
			return err
		}
		if *asJSON {
			if rep.Rows == nil {
				rep.Rows = []store.KPIRow{}
			}
			return printJSON(e.stdout, rep)
		}
		cur := st.Settings().Currency
		rows := make([][]string, 0, len(rep.Rows)+1)
		for _, k := range append(rep.Rows, rep.Total) {
			roi, cpa := "–", "–"
			if k.ROI != nil {
				roi = rate(*k.ROI)
			}
			if k.CPA != nil {
				cpa = k.CPA.Format(cur)
			}
			rows = append(rows, []string{k.Label, fmt.Sprint(k.Contacts), rate(k.DeliveryRate), rate(k.OpenRate), rate(k.ClickRate),
				rate(k.ResponseRate), rate(k.ConversionRate), k.Revenue.Format(cur), k.Cost.Format(cur), roi, cpa})
		}
		fmt.Fprintf(e.stdout, "KPIs by %s, %s to %s\n\n", rep.By, f, t)
		if err := table(e.stdout, []string{"", "CONTACTS", "DELIVERED", "OPENED", "CLICKED", "RESPONDED", "CONVERTED", "REVENUE", "COST", "ROI", "CPA"}, rows); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "\nall purchases in the period: %d for %s, of which %s organic (no contact within the window)\n",
			rep.Purchases, rep.Revenue.Format(cur), rep.Organic.Format(cur))
		if rep.Attribution.ComputedAt.IsZero() {
			fmt.Fprintln(e.stdout, "revenue is not attributed yet: run `karton kpi --attribute` or `karton analytics run`")
		} else {
			fmt.Fprintf(e.stdout, "attribution: last contact within %d days, computed %s\n", rep.Attribution.WindowDays, rep.Attribution.ComputedAt.Format("2006-01-02 15:04"))
		}
		return nil
	}
}

func rfmCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		ctx, stop := e.interruptible()
		defer stop()
		sum, err := st.ScoreRFM(ctx, e.actor, time.Time{})
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, sum)
		}
		cur := st.Settings().Currency
		rows := make([][]string, 0, len(sum.Segments))
		for _, s := range sum.Segments {
			share := 0.0
			if sum.Scored > 0 {
				share = float64(s.Customers) / float64(sum.Scored)
			}
			rows = append(rows, []string{s.Segment, fmt.Sprint(s.Customers), rate(share), s.Revenue.Format(cur), model.RFMSegment(s.Code).Description()})
		}
		fmt.Fprintf(e.stdout, "RFM as of %s: %d customers scored, %d without purchases\n\n", sum.AsOf.Format("2006-01-02"), sum.Scored, sum.Unscored)
		if err := table(e.stdout, []string{"SEGMENT", "CUSTOMERS", "SHARE", "REVENUE", "WHO"}, rows); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, "\nR (rows, 5 = most recent) × FM (columns, 5 = most and biggest purchases):")
		grid := make([][]string, 5)
		for r := 5; r >= 1; r-- {
			line := []string{fmt.Sprint("R", r)}
			for fm := 1; fm <= 5; fm++ {
				line = append(line, fmt.Sprint(sum.Grid[r-1][fm-1]))
			}
			grid[5-r] = line
		}
		return table(e.stdout, []string{"", "FM1", "FM2", "FM3", "FM4", "FM5"}, grid)
	}
}

func cohortsCmd(fs *flag.FlagSet) runFunc {
	from := fs.String("from", "", "first cohort month, YYYY-MM (default: 23 months before --through)")
	through := fs.String("through", "", "last month, YYYY-MM (default: this month)")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		f, err := parseMonthFlag("from", *from)
		if err != nil {
			return err
		}
		t, err := parseMonthFlag("through", *through)
		if err != nil {
			return err
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		if f != 0 && t == 0 {
			t = model.YearMonthOf(st.Now())
		}
		ctx, stop := e.interruptible()
		defer stop()
		rep, err := st.ComputeCohorts(ctx, e.actor, f, t)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, rep)
		}
		header := []string{"COHORT", "SIZE"}
		for k := 0; k <= min(12, len(rep.Cohorts)-1); k++ {
			header = append(header, fmt.Sprint("M", k))
		}
		rows := [][]string{}
		for _, c := range rep.Cohorts {
			if c.Size == 0 {
				continue
			}
			line := []string{c.Month, fmt.Sprint(c.Size)}
			for k := 0; k < len(header)-2; k++ {
				if k < len(c.Retention) {
					line = append(line, fmt.Sprintf("%.0f%%", 100*c.Retention[k]))
				} else {
					line = append(line, "")
				}
			}
			rows = append(rows, line)
		}
		fmt.Fprintf(e.stdout, "share of each first-purchase cohort buying again k months later (%s to %s)\n\n", rep.From, rep.Through)
		return table(e.stdout, header, rows)
	}
}

func analyticsRunCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		ctx, stop := e.interruptible()
		defer stop()
		run, err := st.RunAnalytics(ctx, e.actor, store.AnalyticsOptions{})
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, run)
		}
		cur := st.Settings().Currency
		fmt.Fprintf(e.stdout, "attribution: %d of %d purchases credited to a contact (%s of %s) [%s]\n", run.Attribution.Attributed, run.Attribution.Purchases,
			run.Attribution.AttributedRevenue.Format(cur), run.Attribution.Revenue.Format(cur), run.Elapsed["attribution"])
		fmt.Fprintf(e.stdout, "RFM: %d customers scored [%s]\n", run.RFM.Scored, run.Elapsed["rfm"])
		if run.CLV != nil {
			fmt.Fprintf(e.stdout, "CLV: %d customers scored", run.CLV.Scored)
			if run.CLV.Failed > 0 {
				fmt.Fprintf(e.stdout, " (%d could not be: too few repeat buyers for a stable spend model?)", run.CLV.Failed)
			}
			fmt.Fprintf(e.stdout, ", mean %s over %d months, total %s [%s]\n", run.CLV.Mean.Format(cur), run.CLV.Months, run.CLV.Total.Format(cur), run.Elapsed["clv"])
		}
		for step, why := range run.Skipped {
			fmt.Fprintf(e.stdout, "%s skipped: %s\n", step, why)
		}
		fmt.Fprintf(e.stdout, "cohorts: %s to %s [%s]\n", run.Cohorts.From, run.Cohorts.Through, run.Elapsed["cohorts"])
		fmt.Fprintf(e.stdout, "data quality: %.1f / 100 [%s]\n", run.Quality.Overall.Score, run.Elapsed["quality"])
		return nil
	}
}
