package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"karton/model"
	"karton/store"
	"karton/store/dispatch"
	"karton/store/links"
)

// DefaultAddr is where the listener binds when none is given: loopback,
// so that exposing it to the internet is a decision (behind a TLS proxy).
const DefaultAddr = "127.0.0.1:8080"

// Defaults for Options.
const (
	DefaultMaxEventBytes = 1 << 20
	DefaultMaxEvents     = 1000
	DefaultReplayWindow  = 5 * time.Minute
	// maxFormBytes caps the body of a page's form or a one-click POST
	// (RFC 8058 sends "List-Unsubscribe=One-Click").
	maxFormBytes = 8 << 10
	// maxUserAgent caps the user agent kept as evidence.
	maxUserAgent = 512
)

// Options configure a Server. The zero value works for a local listener.
type Options struct {
	// Addr is the listen address (default DefaultAddr).
	Addr string
	// Base is the public address links point to, e.g.
	// https://k.example.com (default http://Addr). DOI requests without a
	// Base use the sending channel's unsubscribe_base setting.
	Base string
	// Organisation is the sender's name shown on pages and in DOI emails.
	Organisation string
	// Logger receives one structured line per request (default slog.Default()).
	Logger *slog.Logger

	// Timeouts of the http.Server (defaults 5 s header, 15 s read, 60 s
	// write — a sign-up batch sends its DOI emails before it answers —
	// and 120 s idle).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration

	// MaxEventBytes caps a POST /events body (default 1 MiB); MaxEvents
	// the events in it (default 1000).
	MaxEventBytes int64
	MaxEvents     int
	// ReplayWindow is how far a signature's timestamp may be from the
	// server's clock (default 5 minutes).
	ReplayWindow time.Duration
	// DOITTL is how long DOI links stay valid (default links.DefaultDOITTL).
	DOITTL time.Duration
	// DOIChannel names the email channel (id or name) whose connector
	// sends DOI confirmation emails; default: the first active email
	// channel, preferring one with the smtp connector.
	DOIChannel string
	// Connect makes the connector of a channel (default dispatch.New).
	Connect func(model.Channel) (dispatch.Connector, error)

	// ShutdownTimeout bounds the graceful stop of Serve: requests in flight
	// get this long to finish (default 10 s; `karton serve` gives less, so
	// that the whole server stops within its own budget).
	ShutdownTimeout time.Duration

	// TrustForwardedFor takes the client address for evidence from the
	// last X-Forwarded-For hop; set it only behind a proxy that sets it.
	TrustForwardedFor bool
}

// Server is the HTTP return channel on one store. It is safe for
// concurrent use; Handler may be mounted in another server.
type Server struct {
	st   *store.Store
	opts Options
	// ownBase is set when Options.Base was given; otherwise a DOI email
	// prefers its channel's unsubscribe_base to the listen address.
	ownBase bool
	signer  *links.Signer
	commit  *store.Committer
	log     *slog.Logger
	handler http.Handler
}

// linkActor is who records what people do through links. An operator may
// record consent and interactions, nothing more.
var linkActor = model.Actor{Name: "web", Role: model.RoleOperator, Via: "http"}

// sourceActor is who records a source's inbound events.
func sourceActor(name string) model.Actor {
	return model.Actor{Name: "source:" + name, Role: model.RoleOperator, Via: "http"}
}

// New builds a server on an open store. It opens no socket.
func New(st *store.Store, opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	ownBase := opts.Base != ""
	if !ownBase {
		opts.Base = "http://" + opts.Addr
	}
	base, err := links.NormalizeBase(opts.Base)
	if err != nil {
		return nil, err
	}
	opts.Base = base
	if opts.Organisation == "" {
		opts.Organisation = "Karton"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ReadHeaderTimeout <= 0 {
		opts.ReadHeaderTimeout = 5 * time.Second
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = 15 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 60 * time.Second
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 120 * time.Second
	}
	if opts.MaxEventBytes <= 0 {
		opts.MaxEventBytes = DefaultMaxEventBytes
	}
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = DefaultMaxEvents
	}
	if opts.ReplayWindow <= 0 {
		opts.ReplayWindow = DefaultReplayWindow
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if opts.DOITTL <= 0 {
		opts.DOITTL = links.DefaultDOITTL
	}
	if opts.Connect == nil {
		opts.Connect = func(ch model.Channel) (dispatch.Connector, error) { return dispatch.New(ch, dispatch.Options{}) }
	}
	signer, err := links.NewSigner(st.DeriveKey(links.KeyLabel))
	if err != nil {
		return nil, err
	}
	s := &Server{st: st, opts: opts, ownBase: ownBase, signer: signer, commit: st.NewCommitter(0), log: opts.Logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /doi/{token}", s.doiPage)
	mux.HandleFunc("POST /doi/{token}", s.doiConfirm)
	mux.HandleFunc("GET /u/{token}", s.unsubscribePage)
	mux.HandleFunc("POST /u/{token}", s.unsubscribe)
	mux.HandleFunc("GET /c/{token}", s.click)
	mux.HandleFunc("POST /events", s.events)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	s.handler = s.middleware(mux)
	return s, nil
}

// Base is the public address links point to.
func (s *Server) Base() string { return s.opts.Base }

// Handler serves the return channel's routes.
func (s *Server) Handler() http.Handler { return s.handler }

// ListenAndServe listens on Options.Addr and serves until ctx ends, then
// shuts down gracefully (in-flight requests get up to
// Options.ShutdownTimeout).
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another program using the port? choose one with --listen)", s.opts.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("http return channel listening", "addr", ln.Addr().String(), "base", s.opts.Base)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	s.log.Info("http return channel stopped")
	return err
}

// statusWriter remembers the status and size of a response for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware adds the security headers every answer carries, turns a
// panic into a 500 for that request alone, and logs one line per request.
// The log names the route pattern, never the path: tokens are
// capabilities and must not end up in log files.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic in handler", "route", r.Pattern, "panic", fmt.Sprint(p))
				if sw.status == 0 {
					http.Error(sw, "internal error", http.StatusInternalServerError)
				}
			}
			route := r.Pattern
			if route == "" {
				route = "(no route)"
			}
			level := slog.LevelInfo
			if sw.status >= 500 {
				level = slog.LevelError
			}
			s.log.LogAttrs(r.Context(), level, "http request",
				slog.String("method", r.Method), slog.String("route", route), slog.Int("status", sw.status),
				slog.Int("bytes", sw.bytes), slog.Duration("duration", time.Since(start)))
		}()
		next.ServeHTTP(sw, r)
	})
}

// clientIP is the address recorded as evidence.
func (s *Server) clientIP(r *http.Request) string {
	if s.opts.TrustForwardedFor {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			hops := strings.Split(xff[len(xff)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(hops[len(hops)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// linkEvidence is what a click on a link proves.
func (s *Server) linkEvidence(r *http.Request, token, method string) model.Evidence {
	// Evidence refuses control characters; a client's odd header must not
	// cost the person their confirmation.
	ua := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(r.UserAgent(), "?"))
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
		for !utf8.ValidString(ua) {
			ua = ua[:len(ua)-1]
		}
	}
	ev := model.Evidence{"ip": s.clientIP(r), "token_sha256": links.Hash(token), "method": method}
	if ua != "" {
		ev["user_agent"] = ua
	}
	return ev
}
