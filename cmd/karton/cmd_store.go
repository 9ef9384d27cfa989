package main

import (
	"flag"
	"fmt"

	"karton/model"
	"karton/store"
)

func runVersion(e *env, args []string) error {
	fmt.Fprintf(e.stdout, "karton %s (store schema %d)\n", version(), store.SchemaVersion)
	return nil
}

func statsCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error { return runStats(e, *asJSON) }
}

func runStats(e *env, asJSON bool) error {
	st, err := e.open()
	if err != nil {
		return err
	}
	s, err := st.Stats()
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(e.stdout, s)
	}
	printStats(e, s)
	return nil
}

func printStats(e *env, s store.Stats) {
	rows := [][]string{
		{"customers", fmt.Sprint(s.Customers)},
		{"channels", fmt.Sprint(s.Channels)},
		{"purposes", fmt.Sprint(s.Purposes)},
		{"campaigns", fmt.Sprint(s.Campaigns)},
		{"steps", fmt.Sprint(s.Steps)},
		{"segments", fmt.Sprint(s.Segments)},
		{"consent events", fmt.Sprint(s.ConsentEvents)},
		{"interactions", fmt.Sprint(s.Interactions)},
		{"purchases", fmt.Sprint(s.Purchases)},
		{"revenue", model.Money(s.Revenue).Format(s.Currency)},
		{"users", fmt.Sprint(s.Users)},
		{"audit entries", fmt.Sprint(s.AuditEntries)},
		{"schema version", fmt.Sprint(s.SchemaVersion)},
		{"file", fmt.Sprintf("%s (%s)", s.Path, humanBytes(s.FileBytes))},
	}
	table(e.stdout, []string{"WHAT", "COUNT"}, rows)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func runBackup(e *env, args []string) error {
	if len(args) != 1 {
		return usagef("give one backup file")
	}
	st, err := e.open()
	if err != nil {
		return err
	}
	n, err := st.Backup(e.actor, args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backed up %s to %s (%s), checked\n", st.Path(), args[0], humanBytes(n))
	return nil
}
