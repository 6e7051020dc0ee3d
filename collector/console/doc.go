// Package console is the owner console under the collector's public URL
// ([Prefix], "/owner/"): a few server-rendered pages (html/template,
// templates/*.html, German and English by the browser's language) for the
// owner's phone and desktop, mounted on the collector's routes beside the
// consent endpoints by `chatconsent collect` ([Attach]).
//
// # Sign-in
//
// Only with a passkey (WebAuthn, github.com/go-webauthn/webauthn, with
// resident keys and user verification required;
// the relying party is the collector's host, see [RelyingParty]): an
// enrolment link made by `chatconsent owner add` registers one, and the
// owners and their passkeys' public keys live in package
// collector/owners's DATA/owners.json. A session is a random id in the
// cookie [CookieName] (HttpOnly, Secure, SameSite=Strict, Path=/owner/,
// [SessionTTL]); sign-in attempts are rate-limited per client address.
// Every POST carries a per-session token and must come from the console's
// own origin (net/http's CrossOriginProtection).
//
// # Pages
//
// Who may be messaged (every person's state per purpose, from
// internal/records' Book) and one person's history; a personal invite link
// (collector/invite) with its WhatsApp link and QR code; recording a
// withdrawal received by phone, mail or in person; the person's receipts,
// each to download, and sending one again; the answer to an access request
// (GDPR Art. 15) as a readable PDF (internal/access) and as JSON; erasure
// (Art. 17) after a confirmation step. Decisions and withdrawals since the
// owner's last visit (kept in owners.json, not in the log) are marked and
// listed first; the personal link has a copy button (copy.js; without
// JavaScript a read-only field to select). Each action is the same operation as its CLI command, done by
// the collector ([collector.Server]) and recorded as a signed event that
// names the signed-in owner (By). See README.md, "The owner console".
package console
