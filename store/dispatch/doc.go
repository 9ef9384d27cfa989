// Package dispatch hands rendered messages over to a channel's software
// through a connector: files for a print shop or call centre, a signed
// webhook, an SMTP relay, or a dry run that only counts.
//
// A connector sends exactly what it is given: consent has been checked and
// the creative rendered before a Message reaches it. Every failure is
// classified so that the outbox relay knows whether to try again later
// (IsRetryable: network trouble, timeouts, HTTP 5xx/429, SMTP 4xx) or to
// give up on this message and show why (IsPermanent: HTTP 4xx, SMTP 5xx,
// a bad address, a message the connector cannot carry).
//
// # Delivery guarantees
//
// Message.ID is the idempotency key base: it is the same for every attempt
// at one message, so receivers can drop duplicates (webhook Idempotency-Key,
// SMTP Message-ID, the message_id column of files). A connector counts a
// message as handed over only after Sync returns nil; the relay calls Sync
// before it marks a batch of outbox entries done. The file connector buffers
// and makes the batch durable in Sync; the others deliver inside Send.
//
// # Settings
//
// A channel's model.Connector.Settings configure its connector. New checks
// them and names every problem at once; unknown keys are errors so that a
// typo does not silently fall back to a default. Durations use Go syntax
// ("500ms", "10s", "1m"). Settings lists the keys with defaults for help
// screens.
//
// file — one file per campaign step in dir, named step-<step id>.csv or
// step-<step id>.jsonl:
//
//	dir        directory to write into; created if missing (required)
//	format     csv | jsonl (default csv)
//	delimiter  CSV field separator: one character (default ","; ";" for German
//	           Excel), or tab, space, comma, semicolon, pipe
//	bom        true | false: start new CSV files with a UTF-8 byte order mark
//	           so Excel reads umlauts correctly (default false)
//
// webhook — one JSON POST per message (the body is the Message as JSON):
//
//	url          http(s) endpoint (required)
//	secret       HMAC key; "file:/path" reads it from a file (trimmed), which
//	             is how production should configure it; any other value is
//	             the key itself, for development (required)
//	secret_ref   accepted instead of secret (the name model.Connector documents)
//	timeout      per request (default 10s)
//	retries      retries after the first attempt for retryable failures, 0–10 (default 3)
//	backoff      wait before the first retry, doubled each time with jitter,
//	             capped at 1m; a Retry-After answer is honoured up to the cap (default 1s)
//
// smtp — real email through a relay:
//
//	host              relay host name (required)
//	port              1–65535 (default 25 for tls=none, 587 for starttls, 465 for tls)
//	from              sender address, plain "news@example.de" (required)
//	from_name         sender display name (optional)
//	username          SMTP AUTH user (optional; then password is required)
//	password          SMTP AUTH password; "file:/path" reads it from a file
//	tls               none | starttls | tls (default starttls)
//	timeout           connect and command timeout (default 30s)
//	unsubscribe_base  see below
//
// file, webhook and smtp also take
//
//	unsubscribe_base  public address of the return channel (`karton serve
//	                  --http`) for this channel's links, e.g. a brand's own
//	                  domain proxied to it; default: the store's link base.
//	                  Not read by the connector: the outbox relay puts the
//	                  per-message unsubscribe link into Message.UnsubscribeURL
//	                  (smtp: List-Unsubscribe and List-Unsubscribe-Post
//	                  headers; file: the unsubscribe_url column; webhook: the
//	                  unsubscribe_url field) and click links into the body.
//
// dry — no settings; records nothing outside and counts what it was given.
//
// # Webhook signature
//
// Each request carries
//
//	X-Karton-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//	Idempotency-Key: karton-msg-<message id>
//	X-Karton-Attempt: <n>   (1 for the first request of this Send)
//
// A receiver recomputes the HMAC over the decimal timestamp, a '.', and the
// raw request body, compares it in constant time, and rejects timestamps far
// from its clock to stop replays (VerifySignature does exactly this). The
// timestamp is fresh on each retry; the body and Idempotency-Key are not.
package dispatch
