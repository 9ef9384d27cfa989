package main

import "fmt"

// cockpitCommand runs when karton is called without a command.
func cockpitCommand() *command {
	return &command{path: "", summary: "open the cockpit", setup: noFlags(runCockpit)}
}

func runCockpit(e *env, args []string) error {
	st, err := e.open()
	if err != nil {
		return err
	}
	s, err := st.Stats()
	if err != nil {
		return err
	}
	printStats(e, s)
	if s.Customers == 0 {
		fmt.Fprintln(e.stdout, "\nThe store is empty. Load demo data with `karton demo`, or import your own with `karton import`.")
	}
	return nil
}
