// Package links makes and reads the signed tokens in the links Karton puts
// into messages and confirmation emails: double opt-in confirmation
// (/doi/{token}), one-click unsubscribe (/u/{token}, RFC 8058) and click
// tracking (/c/{token}). Package web serves these paths.
//
// # Building links (the seam for the launch pipeline and the outbox)
//
// A Signer is made once from the store's derived key:
//
//	signer, err := links.NewSigner(st.DeriveKey(links.KeyLabel))
//
// and is safe for concurrent use. The outbox, rendering a marketing
// message, adds the unsubscribe header and click links with one call each:
//
//	m := links.Message{Customer: cid, Channel: model.KindEmail, Purpose: step.PurposeID, Step: step.ID, ID: msgID}
//	msg.UnsubscribeURL, err = links.Unsubscribe(base, signer, m)       // → List-Unsubscribe (store/dispatch smtp)
//	href, err := links.Click(base, signer, m, i, creative.Links[i])    // for each registered link i
//
// base is the public address of the HTTP listener (`karton http --base`,
// or a channel's unsubscribe_base setting), e.g. https://k.example.com; a
// path prefix is kept. The DOI request (package web) uses links.DOI.
// Building a link needs no store access and writes nothing: a token
// carries everything its handler needs.
//
// # Token format
//
// A token is base64url (no padding, canonical) of
//
//	version (1 byte) ‖ tag (16 bytes) ‖ AES-256-CTR(encKey, IV = tag, payload)
//
// where tag = HMAC-SHA256(macKey, version ‖ payload) truncated to 128
// bits. This is the SIV construction (deterministic authenticated
// encryption, RFC 5297 with HMAC-SHA256 as its PRF): the tag authenticates
// the payload and is the IV of its encryption. encKey and macKey are
// derived from the store key with HMAC-SHA256, and the store key from the
// per-store secret (store.DeriveKey), so tokens of one store are worthless
// to another.
//
// The payload is the kind (DOI, unsubscribe, click) and the fields the
// handler needs — customer id, channel kind, purpose id, campaign step,
// outbox message id, click target index and a checksum of the target URL,
// the id of the doi_requested event, and the expiry — as varints, zero
// padded to a multiple of 16 bytes so that the length does not hint at
// the size of the ids.
//
// # Why encrypted, not merely signed
//
// A link in an email is seen by mail gateways, link scanners, browser
// histories and anyone the email is forwarded to. A signed-only token would
// show the customer id (and, with the ledger, who the person is) to all of
// them. Encrypting the payload makes the token say nothing about the person
// when read; an opaque random id would do the same but would need a store
// write for every link of every message. Deterministic encryption means the
// same payload always gives the same token — harmless here, since the
// payload names one message (or one DOI request), and useful: a message
// rendered twice carries the same links.
//
// Open checks the tag in constant time (hmac.Equal) before it parses
// anything, then the expiry. DOI tokens expire (DefaultDOITTL: 7 days);
// unsubscribe and click tokens do not by default, because a withdrawal
// must keep working for as long as the message sits in a mailbox. DOI
// tokens are single-use: the store marks the doi_requested event's link as
// spent in the transaction that records the confirmation
// (store.Tx.ConfirmDOI). A version byte leaves room for key rotation.
package links
