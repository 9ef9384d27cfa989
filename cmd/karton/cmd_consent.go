package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"karton/model"
	"karton/store"
)

// keyValueFlag collects a repeated key=value flag (--evidence,
// --setting). A key given twice is refused rather than overwritten: which
// of two values was meant is not for Karton to guess.
type keyValueFlag map[string]string

func (f keyValueFlag) String() string { return "" }

func (f keyValueFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return fmt.Errorf("%q is not key=value", v)
	}
	if _, dup := f[k]; dup {
		return fmt.Errorf("%s is given twice", k)
	}
	f[k] = val
	return nil
}

func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, usagef("--%s: %q is not an RFC 3339 time like 2025-03-01T12:00:00Z", name, v)
	}
	return t.UTC(), nil
}

// scope resolves the customer, channel kind and purpose named on the
// command line.
func resolveScope(r *store.Reader, customer, channel, purpose string) (model.Customer, model.ChannelKind, model.Purpose, error) {
	var c model.Customer
	var p model.Purpose
	if customer == "" {
		return c, "", p, usagef("--customer is required (an id or an email address)")
	}
	kind, err := model.ParseChannelKind(channel)
	if err != nil {
		return c, "", p, usagef("--channel: %v", err)
	}
	if purpose == "" {
		return c, "", p, usagef("--purpose is required (see `karton purpose list`)")
	}
	if p, err = r.PurposeByName(purpose); err != nil {
		return c, "", p, err
	}
	c, err = r.FindCustomer(customer)
	return c, kind, p, err
}

func consentRecordCmd(fs *flag.FlagSet) runFunc {
	customer := fs.String("customer", "", "customer id or email address")
	channel := fs.String("channel", "", "channel kind: email, sms, messenger, phone, postal, web, social, event")
	purpose := fs.String("purpose", "", "purpose name (see `karton purpose list`)")
	kind := fs.String("kind", "", "opt_in, doi_requested, doi_confirmed, opt_out, objection, parental_consent, b2b_basis")
	basis := fs.String("basis", "", "legal basis: consent, contract, legal_obligation, legitimate_interest (default: by kind)")
	at := fs.String("at", "", "when it happened, RFC 3339 (default: now)")
	source := fs.String("source", "operator", "where it came from: form, call, letter, import batch, …")
	textVersion := fs.String("text-version", "", "version of the consent text the person saw")
	evidence := keyValueFlag{}
	fs.Var(evidence, "evidence", "evidence as key=value (repeat): ip=…, user_agent=…, call_recording=…")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		k, err := model.ParseConsentKind(*kind)
		if err != nil {
			return usagef("--kind: %v", err)
		}
		if k == model.ConsentErasure {
			return usagef("--kind erasure: erase a customer with `karton customer erase`")
		}
		if !k.Scoped() && (*channel != "" || *purpose != "") {
			return usagef("--kind %s covers every channel and purpose; leave out --channel and --purpose", k)
		}
		b, err := model.ParseLegalBasis(*basis)
		if err != nil {
			return usagef("--basis: %v", err)
		}
		when, err := parseTimeFlag("at", *at)
		if err != nil {
			return err
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		if when.IsZero() {
			when = st.Now()
		}
		ev := model.ConsentEvent{Kind: k, Basis: b, EffectiveAt: when, Source: *source, TextVersion: *textVersion}
		var purposeName string
		var wasSuppressed, stillSuppressed bool
		err = st.Update(e.actor, func(tx *store.Tx) error {
			r := tx.Reader()
			if k.Scoped() {
				c, ch, p, err := resolveScope(r, *customer, *channel, *purpose)
				if err != nil {
					return err
				}
				ev.CustomerID, ev.Channel, ev.PurposeID = c.ID, ch, p.ID
				purposeName, wasSuppressed = p.Name, c.Suppressed
			} else {
				c, err := r.FindCustomer(*customer)
				if err != nil {
					return err
				}
				ev.CustomerID, wasSuppressed = c.ID, c.Suppressed
			}
			if err := tx.AppendConsent(&ev, model.Evidence(evidence)); err != nil {
				return err
			}
			if wasSuppressed {
				// An opt-in with evidence may have lifted it, in this transaction.
				c, err := r.Customer(ev.CustomerID)
				stillSuppressed = c.Suppressed
				return err
			}
			return nil
		})
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, store.NewConsentRecord(&ev, purposeName, model.Evidence(evidence)))
		}
		fmt.Fprintf(e.stdout, "recorded %s #%d for customer %d", ev.Kind, ev.ID, ev.CustomerID)
		if ev.Channel != "" {
			fmt.Fprintf(e.stdout, " on %s/%s", ev.Channel, purposeName)
		}
		fmt.Fprintf(e.stdout, ", effective %s\n", ev.EffectiveAt.Format(time.RFC3339))
		switch {
		case wasSuppressed && !stillSuppressed:
			fmt.Fprintf(e.stdout, "suppression lifted: customer %d may be contacted again where the ledger allows it (audited)\n", ev.CustomerID)
		case stillSuppressed && ev.Kind == model.ConsentOptIn && len(evidence) == 0:
			fmt.Fprintf(e.stdout, "customer %d stays suppressed (a contact point of an erased person): only an opt-in with --evidence lifts it\n", ev.CustomerID)
		case stillSuppressed && ev.Kind == model.ConsentOptIn:
			fmt.Fprintf(e.stdout, "customer %d stays suppressed: another of their contact points belongs to an erased person; an opt-in with evidence on its channel lifts it\n", ev.CustomerID)
		case stillSuppressed:
			fmt.Fprintf(e.stdout, "customer %d stays suppressed (a contact point of an erased person) until an opt-in with evidence is recorded\n", ev.CustomerID)
		}
		return nil
	}
}

func consentCheckCmd(fs *flag.FlagSet) runFunc {
	customer := fs.String("customer", "", "customer id or email address")
	channel := fs.String("channel", "", "channel kind")
	purpose := fs.String("purpose", "", "purpose name")
	at := fs.String("at", "", "evaluate at this time t, RFC 3339 (default: now)")
	knownAt := fs.String("known-at", "", "use only what was recorded by this time k, RFC 3339 (default: now)")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		t, err := parseTimeFlag("at", *at)
		if err != nil {
			return err
		}
		k, err := parseTimeFlag("known-at", *knownAt)
		if err != nil {
			return err
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		var res store.CheckResult
		err = st.View(e.actor, func(r *store.Reader) error {
			c, ch, p, err := resolveScope(r, *customer, *channel, *purpose)
			if err != nil {
				return err
			}
			res, err = r.Check(store.CheckInput{Customer: c.ID, Channel: ch, Purpose: p.ID, At: t, KnownAt: k})
			return err
		})
		if err != nil {
			return err
		}
		if *asJSON {
			event := ""
			if res.EventID != 0 {
				event = res.EventID.String()
			}
			return printJSON(e.stdout, map[string]any{
				"allow": res.Allow, "reason": res.Reason, "rule": res.Rule, "event": event,
				"at": res.At.Format(time.RFC3339), "known_at": res.KnownAt.Format(time.RFC3339),
				"ledger_position": uint64(res.LedgerPosition), "explanation": res.Reason.Explain(),
			})
		}
		fmt.Fprintln(e.stdout, res.Explain())
		return nil
	}
}

func consentHistoryCmd(fs *flag.FlagSet) runFunc {
	customer := fs.String("customer", "", "customer id or email address")
	channel := fs.String("channel", "", "only the events for this channel kind (and those covering every channel)")
	purpose := fs.String("purpose", "", "only the events for this purpose (and those covering every purpose)")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		if *customer == "" {
			return usagef("--customer is required")
		}
		st, err := e.open()
		if err != nil {
			return err
		}
		var rows []store.ConsentRecord
		masked := false
		err = st.View(e.actor, func(r *store.Reader) error {
			masked = !r.Unmasked()
			var kind model.ChannelKind
			if *channel != "" {
				if kind, err = model.ParseChannelKind(*channel); err != nil {
					return usagef("--channel: %v", err)
				}
			}
			var pid model.PurposeID
			if *purpose != "" {
				p, err := r.PurposeByName(*purpose)
				if err != nil {
					return err
				}
				pid = p.ID
			}
			c, err := r.FindCustomer(*customer)
			if err != nil {
				return err
			}
			evs, err := r.ConsentHistoryFor(c.ID, kind, pid)
			if err != nil {
				return err
			}
			names := map[model.PurposeID]string{}
			ps, err := r.Purposes()
			if err != nil {
				return err
			}
			for _, p := range ps {
				names[p.ID] = p.Name
			}
			for _, ev := range evs {
				evi, err := r.Evidence(ev.ID)
				if err != nil {
					return err
				}
				rows = append(rows, store.NewConsentRecord(&ev, names[ev.PurposeID], evi))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if *asJSON {
			if rows == nil {
				rows = []store.ConsentRecord{}
			}
			return printJSON(e.stdout, rows)
		}
		out := make([][]string, 0, len(rows))
		for _, r := range rows {
			scope := "all channels and purposes"
			if r.Channel != "" {
				scope = string(r.Channel) + "/" + r.Purpose
			}
			rec := ""
			if r.RecordedAt.Sub(r.EffectiveAt) > time.Minute {
				rec = r.RecordedAt.Format("2006-01-02 15:04")
			}
			out = append(out, []string{"#" + r.ID.String(), r.EffectiveAt.Format("2006-01-02 15:04"), rec, string(r.Kind), scope, r.Source, r.Actor, evidenceCell(r, masked)})
		}
		return table(e.stdout, []string{"EVENT", "EFFECTIVE", "RECORDED (IF LATER)", "KIND", "SCOPE", "SOURCE", "ACTOR", "EVIDENCE"}, out)
	}
}

// evidenceCell shows an event's evidence in the history table
// (model.EvidenceCell), cut at 48 characters (--json has it whole).
func evidenceCell(r store.ConsentRecord, masked bool) string {
	s := model.EvidenceCell(r.EvidenceHash != "", masked, r.Evidence)
	if runes := []rune(s); len(runes) > 48 {
		s = string(runes[:47]) + "…"
	}
	return s
}

func consentRefreshCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		ctx, stop := e.interruptible()
		defer stop()
		customers, changed, err := st.RefreshConsentState(ctx, e.actor)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, map[string]int{"customers": customers, "changed": changed})
		}
		fmt.Fprintf(e.stdout, "refreshed the consent projection of %d customers: %d changed with the passing of time\n", customers, changed)
		return nil
	}
}

func consentImportCmd(fs *flag.FlagSet) runFunc {
	dryRun := fs.Bool("dry-run", false, "check every line and report, write nothing")
	again := fs.Bool("again", false, "import a file that was imported before (its events are recorded once more)")
	stdinName := fs.String("name", "", "with FILE -: the name the report and the import record keep for standard input (default stdin)")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		if len(args) != 1 {
			return usagef("give one JSON Lines file, or - for standard input")
		}
		if *stdinName != "" && args[0] != "-" {
			return usagef("--name names what comes on standard input (-); a file keeps its own name")
		}
		importConsents := (*store.Store).ImportConsents
		if *again {
			importConsents = (*store.Store).ImportConsentsAgain
		}
		var f *os.File
		name := filepath.Base(args[0])
		switch {
		case args[0] == "-":
			var err error
			if f, err = spoolStdin(e, "karton-consents-*.jsonl"); err != nil {
				return err
			}
			name = cmp.Or(*stdinName, "stdin")
			defer os.Remove(f.Name())
		case e.remote:
			return usagef("over ssh the file comes on standard input: ssh … consent import - < %s", args[0])
		default:
			var err error
			if f, err = os.Open(args[0]); err != nil {
				return fmt.Errorf("cannot read %s: %w", args[0], errors.Unwrap(err))
			}
		}
		defer f.Close()
		st, err := e.open()
		if err != nil {
			return err
		}
		rep, err := importConsents(st, e.actor, name, f, *dryRun)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, rep)
		}
		verb := "imported"
		if rep.DryRun {
			verb = "dry run: would import"
		}
		fmt.Fprintf(e.stdout, "%s %d of %d events (%d new customers), %d rejected\n", verb, rep.Written, rep.Read, rep.CustomersCreated, rep.Rejected)
		const shown = 100
		for _, r := range rep.Rejections[:min(len(rep.Rejections), shown)] {
			fmt.Fprintf(e.stdout, "  line %d: %s\n", r.Line, r.Reason)
		}
		if n := len(rep.Rejections) - shown; n > 0 {
			fmt.Fprintf(e.stdout, "  … and %d more (--json lists every one)\n", n)
		}
		return nil
	}
}

func auditVerifyCmd(fs *flag.FlagSet) runFunc {
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		res, err := st.VerifyAudit()
		if err != nil {
			return err
		}
		if *asJSON {
			if err := printJSON(e.stdout, res); err != nil {
				return err
			}
		} else if res.OK {
			fmt.Fprintf(e.stdout, "audit chain intact: %d entries, head %s\n", res.Entries, res.Head)
		}
		if !res.OK {
			msg := fmt.Sprintf("audit chain broken at entry %d: %s", res.BrokenSeq, res.Reason)
			if *asJSON {
				msg = ""
			}
			return exitError{code: 1, msg: msg}
		}
		return nil
	}
}
