package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"karton/store"
	"karton/store/web"
)

// httpCmd runs the HTTP return channel on its own: no SSH, no dispatcher.
// `karton serve --http ADDR` runs the same server next to the SSH cockpit
// and the dispatcher (and `karton serve --http ADDR --no-ssh` without SSH).
func httpCmd(fs *flag.FlagSet) runFunc {
	listen := fs.String("listen", web.DefaultAddr, "address to listen on")
	base := fs.String("base", "", "public address links point to, e.g. https://k.example.com; remembered in the store for the links in messages and DOI emails (default: the remembered one, else http://LISTEN)")
	org := fs.String("organisation", "", "sender name shown on pages and in confirmation emails")
	doiChannel := fs.String("doi-channel", "", "email channel (name or id) that sends DOI confirmation emails for sign-ups")
	trustProxy := fs.Bool("trust-proxy", false, "take the client address from X-Forwarded-For (only behind a proxy that sets it)")
	return func(e *env, args []string) error {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runHTTP(ctx, e, web.Options{
			Addr: *listen, Base: *base, Organisation: *org, DOIChannel: *doiChannel, TrustForwardedFor: *trustProxy,
			Logger: slog.New(slog.NewTextHandler(e.stderr, nil)),
		})
	}
}

// runHTTP serves until ctx ends.
func runHTTP(ctx context.Context, e *env, opts web.Options) error {
	st, err := e.open()
	if err != nil {
		return err
	}
	given := opts.Base != ""
	if !given {
		if opts.Base, err = st.LinkBase(); err != nil {
			return err
		}
	}
	srv, err := web.New(st, opts)
	if err != nil {
		return usagef("--base: %v", err)
	}
	if given {
		if err := st.Update(e.actor, func(tx *store.Tx) error { return tx.SetLinkBase(srv.Base()) }); err != nil {
			return fmt.Errorf("--base: %w", err)
		}
	}
	fmt.Fprintf(e.stdout, "karton http: serving the return channel on %s (links point to %s); stop with Ctrl-C\n", opts.Addr, srv.Base())
	return srv.ListenAndServe(ctx)
}
