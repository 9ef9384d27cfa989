// Package web is Karton's HTTP return channel: what comes back from the
// audience reaches the consent ledger the moment it arrives, not at the
// next batch.
//
//	GET  /doi/{token}   page with a button to confirm a double opt-in
//	POST /doi/{token}   records doi_confirmed (single-use, expiring link)
//	GET  /u/{token}     page: unsubscribe from this purpose, or from all marketing
//	POST /u/{token}     RFC 8058 one-click: records opt_out, answers 200 with no page;
//	                    from the page, choice=all records an objection instead
//	GET  /c/{token}     records a click and redirects to the creative's registered link
//	POST /events        signed inbound events from the shop, website, CRM
//	GET  /healthz       liveness
//
// Tokens are made and read by package links. Every consent write goes
// through the store's ledger (store.Tx.AppendConsent, store.Tx.ConfirmDOI),
// so the projection, the reach counters and the audit chain move in the
// same transaction, and the change feed tells the cockpit at once. A
// withdrawal is effective at its arrival time, taken before the write
// waits for its commit. Writes from many concurrent requests share commits
// (store.Committer): one fsync per group instead of one per request.
//
// # Evidence
//
// A confirmation, withdrawal or objection made through a link records as
// evidence the client's IP address (the last X-Forwarded-For hop when
// Options.TrustForwardedFor is set), its user agent, the SHA-256 of the
// token (never the token, which would let anyone with database access
// replay it) and how it was made (one-click, page). The DOI confirmation
// also names its doi_requested event and takes that request's consent text
// version. The actor is "web"; inbound events act as "source:NAME".
//
// # Inbound events
//
// POST /events takes one JSON event or an array of them (at most
// Options.MaxEvents, at most Options.MaxEventBytes of body). The request
// names its source and is signed with the source's secret (`karton source
// add NAME --secret-file F`) the same way Karton signs its outgoing
// webhooks (store/dispatch):
//
//	X-Karton-Source: shop
//	X-Karton-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
//
// A missing or unknown source, a missing or wrong signature, a timestamp
// outside Options.ReplayWindow (a replay), an oversized body or one that
// is not JSON is answered 4xx with {"error": {"code", "message"}} and
// nothing is written. Otherwise each event is validated like an import
// line and answered in "results", in order: accepted, ignored (valid, but
// nothing to record), duplicate (its id was processed before: events are
// idempotent by source and id) or rejected (with the reason; nothing of it
// is written, and the others are not affected). Event types: signup
// (opt_in, plus a DOI request for email), purchase, interaction,
// unsubscribe (opt_out) and objection. See Event for the fields.
//
// # Why opens are not tracked
//
// Karton does not put tracking pixels into emails. An open pixel reports
// when, how often and where (IP address) a person reads their mail: a
// record of reading behaviour that needs consent of its own (§ 25 TDDDG,
// formerly TTDSG, and Art. 5(3) ePrivacy Directive: reading from the
// recipient's device), which a newsletter opt-in does not give. The
// numbers would be wrong anyway: Apple Mail Privacy Protection loads every
// pixel on delivery, other clients block images. Privacy by default means
// measuring what the recipient actively does: clicks on links (/c/),
// replies, conversions and unsubscribes. Clicks are recorded against the
// campaign step, and used for targeting only where a profiling consent
// allows it (rule 7).
//
// # Mounting
//
// `karton http` runs the listener on its own; `karton serve` mounts it
// next to the SSH server with New(...).Handler() or ListenAndServe(ctx).
// Handler serves the paths above at the root; behind a proxy that keeps a
// path prefix, wrap it in http.StripPrefix and give the prefixed address
// as Options.Base, which is where links point.
package web
