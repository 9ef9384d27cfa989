package main

import (
	"flag"
	"fmt"
	"strings"

	"karton/model"
	"karton/store"
)

func mergeSuggestionsCmd(fs *flag.FlagSet) runFunc {
	all := fs.Bool("all", false, "include dismissed suggestions")
	limit := fs.Int("limit", 50, "how many")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		type row struct {
			store.MergeSuggestion
			NameA string `json:"name_a"`
			NameB string `json:"name_b"`
		}
		var rows []row
		err = st.View(e.actor, func(r *store.Reader) error {
			list, err := r.MergeSuggestions(0, 0, *limit, *all)
			if err != nil {
				return err
			}
			for _, s := range list {
				a, errA := r.Customer(s.A)
				b, errB := r.Customer(s.B)
				if errA != nil || errB != nil {
					continue
				}
				rows = append(rows, row{s, a.DisplayName(), b.DisplayName()})
			}
			return nil
		})
		if err != nil {
			return err
		}
		if *asJSON {
			if rows == nil {
				rows = []row{}
			}
			return printJSON(e.stdout, rows)
		}
		out := make([][]string, 0, len(rows))
		for _, r := range rows {
			status := "open"
			if r.Dismissed {
				status = "dismissed by " + r.DismissedBy
			}
			out = append(out, []string{r.A.String(), r.NameA, r.B.String(), r.NameB, r.Reasons.String(), status})
		}
		if err := table(e.stdout, []string{"A", "NAME", "B", "NAME", "WHY", "STATUS"}, out); err != nil {
			return err
		}
		if len(rows) > 0 {
			fmt.Fprintln(e.stdout, "merge with `karton merge SURVIVOR ABSORBED`, or `karton merge dismiss A B` if they are two people")
		}
		return nil
	}
}

func parseTwoIDs(args []string, what string) (model.CustomerID, model.CustomerID, error) {
	if len(args) != 2 {
		return 0, 0, usagef("give two customer ids (%s)", what)
	}
	a, err := model.ParseID(args[0])
	if err != nil {
		return 0, 0, usagef("%v", err)
	}
	b, err := model.ParseID(args[1])
	if err != nil {
		return 0, 0, usagef("%v", err)
	}
	return model.CustomerID(a), model.CustomerID(b), nil
}

func mergeCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		surv, abs, err := parseTwoIDs(args, "the survivor, then the record it absorbs")
		if err != nil {
			return err
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		var res store.MergeResult
		if err := st.Update(e.actor, func(tx *store.Tx) (err error) {
			res, err = tx.MergeCustomers(surv, abs)
			return err
		}); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, res)
		}
		fmt.Fprintf(e.stdout, "merged customer %d into %d: moved %d interactions, %d purchases, %d consent events; %d source ids added",
			abs, surv, res.Interactions, res.Purchases, res.ConsentEvents, res.SourcesAdded)
		if len(res.Filled) > 0 {
			fmt.Fprintf(e.stdout, "; filled %s", strings.Join(res.Filled, ", "))
		}
		fmt.Fprintln(e.stdout)
		return nil
	}
}

func mergeDismissCmd(fs *flag.FlagSet) runFunc {
	return func(e *env, args []string) error {
		a, b, err := parseTwoIDs(args, "the pair that is two different people")
		if err != nil {
			return err
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		if err := st.Update(e.actor, func(tx *store.Tx) error { return tx.DismissSuggestion(a, b) }); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "dismissed the suggestion to merge %d and %d; it will not be suggested again\n", a, b)
		return nil
	}
}

func mergeRescanCmd(fs *flag.FlagSet) runFunc {
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		n, err := st.RescanLookAlikes(e.actor)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%d new merge suggestions\n", n)
		return nil
	}
}
