package main

import (
	"flag"
	"fmt"
	"io"

	"karton/model"
	"karton/store"
)

func qualityCmd(fs *flag.FlagSet) runFunc {
	source := fs.String("source", "", "only this source (see the list without it); (manual) for records no import brought")
	parse := fs.Bool("parse-phones", false, "re-parse every stored phone number (slow: ~25 µs a number)")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		q, err := st.ComputeQuality(e.actor, model.QualityOptions{ParsePhones: *parse})
		if err != nil {
			return err
		}
		if *source != "" {
			sq, ok := q.Source(*source)
			if !ok {
				return fmt.Errorf("no customers come from source %q", *source)
			}
			if *asJSON {
				return printJSON(e.stdout, sq)
			}
			return printQuality(e.stdout, sq.QualityReport)
		}
		if *asJSON {
			return printJSON(e.stdout, q)
		}
		if err := printQuality(e.stdout, q.Overall); err != nil {
			return err
		}
		rows := make([][]string, 0, len(q.Sources))
		for _, s := range q.Sources {
			last, rejected := "", ""
			if s.Import != nil {
				last = s.Import.LastImport.Format("2006-01-02 15:04")
				rejected = fmt.Sprintf("%d of %d", s.Import.Rejected, s.Import.Read)
			}
			rows = append(rows, []string{s.Source, fmt.Sprint(s.Records), fmt.Sprintf("%.1f", s.Score), pct(s.Completeness), pct(s.Validity),
				fmt.Sprint(s.Duplicates), fmt.Sprint(s.NoContactPoint), last, rejected})
		}
		fmt.Fprintln(e.stdout)
		return table(e.stdout, []string{"SOURCE", "RECORDS", "SCORE", "COMPLETE", "VALID", "DUPLICATES", "NO CONTACT", "LAST IMPORT", "ROWS REJECTED"}, rows)
	}
}

func pct(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }

func printQuality(w io.Writer, r model.QualityReport) error {
	name := r.Source
	if name == "" {
		name = "all sources"
	}
	fmt.Fprintf(w, "data quality of %s: score %.1f / 100 (%d records, %d suspected duplicates, %d without a contact point)\n\n",
		name, r.Score, r.Records, r.Duplicates, r.NoContactPoint)
	rows := make([][]string, 0, len(r.Fields))
	for _, f := range r.Worst() {
		rows = append(rows, []string{f.Field, pct(f.Completeness), pct(f.Validity), fmt.Sprint(f.Missing()), fmt.Sprint(f.Invalid()), fmt.Sprint(f.Rejected), fmt.Sprint(f.Weight)})
	}
	if err := table(w, []string{"FIELD (WORST FIRST)", "COMPLETE", "VALID", "MISSING", "INVALID", "REJECTED AT IMPORT", "WEIGHT"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nscore = 100·(0.4·completeness + 0.4·validity + 0.1·(1 − duplicate share) + 0.1·(1 − unreachable share)),")
	fmt.Fprintln(w, "completeness and validity weighted by the fields' weights; values rejected at import count as invalid")
	return nil
}

func qualityIssuesCmd(fs *flag.FlagSet) runFunc {
	source := fs.String("source", "", "only this source")
	field := fs.String("field", "", "email, phone, name, street, postal_code, city, country, birth_date")
	problem := fs.String("problem", "missing", "missing, invalid, duplicate or no_contact_point")
	after := fs.Uint64("after", 0, "continue after this customer id")
	limit := fs.Int("limit", 50, "how many")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		var page store.QualityIssuePage
		// --json: the customers as `karton export customers` writes them.
		out := struct {
			Customers []store.CustomerRecord `json:"customers"`
			Next      model.CustomerID       `json:"next,omitempty"`
			More      bool                   `json:"more"`
		}{Customers: []store.CustomerRecord{}}
		if err := st.View(e.actor, func(r *store.Reader) (err error) {
			page, err = r.QualityIssues(store.QualityIssueQuery{Source: *source, Field: *field, Problem: *problem,
				After: model.CustomerID(*after), Limit: *limit})
			if err != nil || !*asJSON {
				return err
			}
			out.Next, out.More = page.Next, page.More
			for i := range page.Customers {
				rec, err := r.CustomerRecord(&page.Customers[i])
				if err != nil {
					return err
				}
				out.Customers = append(out.Customers, rec)
			}
			return nil
		}); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, out)
		}
		rows := make([][]string, 0, len(page.Customers))
		for _, c := range page.Customers {
			rows = append(rows, []string{c.ID.String(), c.DisplayName(), c.Email, c.Phone, c.Address.PostalCode + " " + c.Address.City})
		}
		if err := table(e.stdout, []string{"ID", "NAME", "EMAIL", "PHONE", "PLACE"}, rows); err != nil {
			return err
		}
		if page.More {
			fmt.Fprintf(e.stdout, "more: --after %d\n", page.Next)
		}
		return nil
	}
}

func rollupsVerifyCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		rows, diffs, err := st.VerifyRollups()
		if err != nil {
			return err
		}
		if *asJSON {
			if diffs == nil {
				diffs = []store.RollupDiff{}
			}
			if err := printJSON(e.stdout, map[string]any{"ok": len(diffs) == 0, "rows": rows, "diffs": diffs}); err != nil {
				return err
			}
		} else if len(diffs) == 0 {
			fmt.Fprintf(e.stdout, "rollups match the raw events: %d rows\n", rows)
		} else {
			for _, d := range diffs {
				fmt.Fprintf(e.stdout, "%s: maintained %v, rebuilt %v\n", d.Key, d.Maintained, d.Rebuilt)
			}
		}
		if len(diffs) > 0 {
			return exitError{code: 1, msg: fmt.Sprintf("%d rollup rows differ from the raw events", len(diffs))}
		}
		return nil
	}
}
