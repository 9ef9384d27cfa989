package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"karton/model"
	"karton/store"
)

func customerAddCmd(fs *flag.FlagSet) runFunc {
	var c model.Customer
	fs.StringVar(&c.FirstName, "first-name", "", "first name")
	fs.StringVar(&c.LastName, "last-name", "", "last name")
	fs.StringVar(&c.Salutation, "salutation", "", "Frau, Herr, …")
	fs.StringVar(&c.Email, "email", "", "email address")
	fs.StringVar(&c.Phone, "phone", "", "phone number (national numbers are read in the store's region)")
	fs.StringVar(&c.Company, "company", "", "company (makes a business contact)")
	fs.StringVar(&c.Address.Street, "street", "", "street and number")
	fs.StringVar(&c.Address.PostalCode, "postal-code", "", "postal code")
	fs.StringVar(&c.Address.City, "city", "", "city")
	fs.StringVar(&c.Address.Country, "country", "", "country code (default: the store's region)")
	birth := fs.String("birth-date", "", "birth date YYYY-MM-DD")
	tags := fs.String("tags", "", "comma-separated tags")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		if *birth != "" {
			d, err := model.ParseDate(*birth)
			if err != nil {
				return usagef("--birth-date: %v", err)
			}
			c.BirthDate = d
		}
		for _, t := range strings.Split(*tags, ",") {
			if t = strings.TrimSpace(t); t != "" {
				c.Tags = append(c.Tags, t)
			}
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		if err := st.Update(e.actor, func(tx *store.Tx) error { return tx.InsertCustomer(&c) }); err != nil {
			return err
		}
		if *asJSON {
			var rec store.CustomerRecord
			if err := st.View(e.actor, func(r *store.Reader) (err error) {
				rec, err = r.CustomerRecord(&c)
				return err
			}); err != nil {
				return err
			}
			return printJSON(e.stdout, rec)
		}
		fmt.Fprintf(e.stdout, "created customer %d (%s)", c.ID, c.DisplayName())
		if c.Suppressed {
			fmt.Fprint(e.stdout, "; SUPPRESSED: a contact point belongs to an erased person, so nobody may contact this customer until a new explicit opt-in with evidence is recorded")
		}
		fmt.Fprintln(e.stdout)
		return nil
	}
}

func customerShowCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		if len(args) != 1 {
			return usagef("give one customer id or email address")
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		var v store.CustomerView
		var sum store.CustomerSummary
		err = st.View(e.actor, func(r *store.Reader) error {
			c, err := r.FindCustomer(args[0])
			if err != nil {
				return err
			}
			if *asJSON {
				sum, err = r.CustomerSummary(c.ID, 10)
			} else {
				v, err = r.CustomerView(c.ID, 10)
			}
			return err
		})
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, sum)
		}
		c := v.Customer
		cur := st.Settings().Currency
		rows := [][]string{
			{"id", c.ID.String()}, {"name", c.DisplayName()}, {"type", string(c.Type)}, {"email", c.Email}, {"phone", c.Phone},
			{"address", strings.Trim(fmt.Sprintf("%s, %s %s, %s", c.Address.Street, c.Address.PostalCode, c.Address.City, c.Address.Country), ", ")},
			{"birth date", c.BirthDate.String()}, {"tags", strings.Join(c.Tags, ", ")},
			{"purchases", fmt.Sprintf("%d, %s", c.PurchaseCount, c.Revenue.Format(cur))},
			{"last activity", fmtTime(c.LastActivityAt)}, {"consent events", fmt.Sprint(len(v.Consents))},
		}
		if c.Suppressed {
			rows = append(rows, []string{"suppressed", "yes: a contact point matches an erased person"})
		}
		return table(e.stdout, []string{"FIELD", "VALUE"}, rows)
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func customerExportCmd(fs *flag.FlagSet) runFunc {
	return func(e *env, args []string) error {
		if len(args) != 1 {
			return usagef("give one customer id or email address")
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		var id model.CustomerID
		if err := st.View(e.actor, func(r *store.Reader) error {
			c, err := r.FindCustomer(args[0])
			id = c.ID
			return err
		}); err != nil {
			return err
		}
		pd, err := st.ExportPersonalData(e.actor, id)
		if err != nil {
			return err
		}
		return printJSON(e.stdout, pd)
	}
}

func customerEraseCmd(fs *flag.FlagSet) runFunc {
	return func(e *env, args []string) error {
		if len(args) != 1 {
			return usagef("give one customer id or email address")
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		var c model.Customer
		if err := st.View(e.actor, func(r *store.Reader) error {
			c, err = r.FindCustomer(args[0])
			return err
		}); err != nil {
			return err
		}
		var files []store.StepFileRedaction
		if c.Erased {
			// Run again to finish what a failure left: the files.
			fmt.Fprintf(e.stdout, "customer %d was erased already (on %s)\n", c.ID, c.ErasedAt.UTC().Format("2006-01-02"))
			files, err = st.RedactStepFiles(e.actor, c.ID)
		} else {
			files, err = st.EraseCustomer(e.actor, c.ID)
			if err == nil || len(files) > 0 {
				fmt.Fprintf(e.stdout, "erased customer %d: personal data, consent evidence and the notes of their interactions removed, contact points suppressed; the ledger and audit chain keep their pseudonymous entries\n", c.ID)
			}
		}
		if err != nil && len(files) == 0 {
			return err
		}
		failed := 0
		for _, f := range files {
			if f.Err != "" {
				failed++
				fmt.Fprintf(e.stdout, "could not blank their records: %s\n", cell(f.Err))
				continue
			}
			if f.Rows == 0 {
				fmt.Fprintf(e.stdout, "no records of theirs left to blank in %s\n", cell(f.Path))
				continue
			}
			fmt.Fprintf(e.stdout, "blanked their %d record(s) in %s (name, addresses, subject, body, unsubscribe link; ids and times stay)\n", f.Rows, cell(f.Path))
		}
		if len(files) > 0 {
			fmt.Fprintln(e.stdout, "these files are the store's copies of what a file connector handed on: copies made from them (at a print shop, a call centre) are beyond Karton")
		}
		if failed > 0 {
			return fmt.Errorf("%d file(s) still hold customer %d's messages: delete them, or remove the records with customer_id %d by hand, then run this again", failed, c.ID, c.ID)
		}
		return err // the files were blanked, but recording that in the audit chain failed
	}
}
