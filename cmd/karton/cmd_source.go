package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"karton/store"
	"karton/store/web"
)

func sourceAddCmd(fs *flag.FlagSet) runFunc {
	secretFile := fs.String("secret-file", "", `file holding the source's signing secret ("-" reads standard input); at least 16 bytes, e.g. from `+"`openssl rand -hex 32`")
	return func(e *env, args []string) error {
		if len(args) != 1 {
			return usagef("give the source's name, e.g. shop")
		}
		if *secretFile == "" {
			return usagef("--secret-file is required (the secret is never given on the command line, where other users could see it)")
		}
		var raw []byte
		var err error
		if *secretFile == "-" {
			raw, err = io.ReadAll(io.LimitReader(e.stdin, 64<<10))
		} else {
			raw, err = os.ReadFile(*secretFile)
		}
		if err != nil {
			return fmt.Errorf("cannot read the secret from %s: %w", *secretFile, unwrapPath(err))
		}
		// Editors and `echo` add a final newline, which is not part of the secret.
		secret := bytes.TrimSpace(raw)
		st, err := e.open()
		if err != nil {
			return err
		}
		src := store.Source{Name: args[0], Secret: secret}
		if err := st.Update(e.actor, func(tx *store.Tx) error { return tx.InsertSource(&src) }); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "added source %s (secret fingerprint %s)\n", src.Name, src.Fingerprint)
		fmt.Fprintf(e.stdout, "It posts to /events with the headers %s: %s and %s: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>.\n", web.HeaderSource, src.Name, web.HeaderSignature)
		return nil
	}
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func sourceListCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		var list []store.Source
		if err := st.View(e.actor, func(r *store.Reader) (err error) { list, err = r.Sources(); return }); err != nil {
			return err
		}
		if *asJSON {
			type row struct {
				Name        string    `json:"name"`
				Fingerprint string    `json:"fingerprint"`
				CreatedAt   time.Time `json:"created_at"`
				CreatedBy   string    `json:"created_by"`
			}
			out := make([]row, 0, len(list))
			for _, s := range list {
				out = append(out, row{s.Name, s.Fingerprint, s.CreatedAt, s.CreatedBy})
			}
			return printJSON(e.stdout, out)
		}
		rows := make([][]string, 0, len(list))
		for _, s := range list {
			rows = append(rows, []string{s.Name, s.Fingerprint, s.CreatedAt.Format("2006-01-02 15:04"), s.CreatedBy})
		}
		return table(e.stdout, []string{"NAME", "SECRET FINGERPRINT", "ADDED", "BY"}, rows)
	}
}

func runSourceRemove(e *env, args []string) error {
	if len(args) != 1 {
		return usagef("give the source's name")
	}
	st, err := e.open()
	if err != nil {
		return err
	}
	if err := st.Update(e.actor, func(tx *store.Tx) error { return tx.RemoveSource(args[0]) }); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed source %s: its requests are refused from now on\n", args[0])
	return nil
}
