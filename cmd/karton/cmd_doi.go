package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"karton/model"
	"karton/store"
	"karton/store/web"
)

func consentRequestDOICmd(fs *flag.FlagSet) runFunc {
	customer := fs.String("customer", "", "customer id or email address")
	channel := fs.String("channel", "email", "channel kind to confirm (email)")
	purpose := fs.String("purpose", "", "purpose name (see `karton purpose list`)")
	via := fs.String("via", "", "email channel (name or id) whose connector sends the email (default: the first active email channel, preferring smtp)")
	base := fs.String("base", "", "public address of `karton http` the link points to (default: the store's, set by `karton serve --base` or `karton http --base`, else the channel's unsubscribe_base)")
	textVersion := fs.String("text-version", "", "version of the consent text the person agreed to")
	source := fs.String("source", "operator", "where the request came from: operator, form, call, …")
	asJSON := jsonFlag(fs)
	return func(e *env, args []string) error {
		st, err := e.open()
		if err != nil {
			return err
		}
		b := *base
		if b == "" {
			if b, err = st.LinkBase(); err != nil {
				return err
			}
		}
		srv, err := web.New(st, web.Options{Base: b, DOIChannel: *via, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			return usagef("--base: %v", err)
		}
		var req web.DOIRequest
		err = st.View(e.actor, func(r *store.Reader) error {
			c, ch, p, err := resolveScope(r, *customer, *channel, *purpose)
			req = web.DOIRequest{Customer: c.ID, Channel: ch, Purpose: p.ID, Source: *source, TextVersion: *textVersion}
			return err
		})
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, sendErr := srv.RequestDOI(ctx, e.actor, req)
		if res.Request.ID == 0 {
			return sendErr // nothing was recorded
		}
		if *asJSON {
			out := map[string]any{
				"request_event": uint64(res.Request.ID), "customer": uint64(res.Request.CustomerID),
				"channel": res.Request.Channel, "purpose": *purpose, "via": res.Via.Name,
				"url": res.URL, "expires": res.Expires.Format(time.RFC3339), "sent": res.Sent,
			}
			if !res.Sent {
				out["not_sent"] = res.NotSent
				out["message"] = map[string]string{"to": res.Message.Recipient.Email, "subject": res.Message.Subject, "body": res.Message.Body}
			}
			if err := printJSON(e.stdout, out); err != nil {
				return err
			}
			return sendErr
		}
		fmt.Fprintf(e.stdout, "recorded %s #%d for customer %d on %s/%s; the link works until %s\n",
			model.ConsentDOIRequested, res.Request.ID, res.Request.CustomerID, res.Request.Channel, *purpose, res.Expires.Format(time.RFC3339))
		switch {
		case res.Sent:
			fmt.Fprintf(e.stdout, "confirmation email sent through %s to %s\n", res.Via.Name, res.Message.Recipient.Email)
		case sendErr == nil:
			fmt.Fprintf(e.stdout, "not sent: %s. This is the email that would have been sent:\n\n", res.NotSent)
			fmt.Fprintf(e.stdout, "To: %s\nSubject: %s\n\n%s", res.Message.Recipient.Email, res.Message.Subject, res.Message.Body)
		}
		return sendErr
	}
}
