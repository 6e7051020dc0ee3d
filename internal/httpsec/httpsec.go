// Package httpsec sets the security headers of every HTTP answer
// chatconsent gives a browser: the collector's routes (forms, thank-you,
// error, withdrawal and invite pages, receipts, /log/, /healthz, the
// mux's own 404 and 405), and the site that "chatconsent serve" previews.
// It is the one place they are spelled; a handler may override a header
// after [Handler] set it (the log's immutable files their Cache-Control,
// the preview's pages a CSP that allows their reload script by hash, the
// owner console a CSP that allows its one script).
//
// # Headers
//
//   - Content-Security-Policy [CSP]: nothing from anywhere (default-src
//     'none'), no third-party source at all; inline styles (the theme's
//     style sheet is inlined), images only as data: URLs (the logo), forms
//     posting to this origin only, no framing (frame-ancestors 'none'), no
//     <base>.
//   - X-Content-Type-Options: nosniff.
//   - X-Frame-Options: DENY (frame-ancestors for browsers without CSP 2).
//   - Referrer-Policy: same-origin: a same-origin form post carries its
//     Origin, another site learns nothing of the page.
//   - Cache-Control: no-store: a data subject's page stays out of shared
//     and browser caches.
//
// No answer to a data subject sets a cookie: [Handler] drops every
// Set-Cookie header before the answer's headers are sent (the data
// subject's pages need none, so no consent banner either; ePrivacy
// Directive Art. 5(3)). Only the owner console keeps its session cookie
// ([WithCookies]).
package httpsec

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// CSP is the Content-Security-Policy of every answer.
const CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// CSPSelfScript is [CSP] that also runs scripts from this origin (never
// inline ones) and lets them connect to it: the owner console's, whose
// passkey and copy scripts the collector serves itself.
const CSPSelfScript = CSP + "; script-src 'self'; connect-src 'self'"

// CSPWithScript is [CSP] that also runs one inline script, allowed by its
// SHA-256 hash (CSP Level 2 hash source), and lets it connect to this
// origin: the live-reload script of "chatconsent serve"'s pages.
func CSPWithScript(script string) string {
	sum := sha256.Sum256([]byte(script))
	return CSP + "; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; connect-src 'self'"
}

// Headers are the headers [Handler] sets on every answer, name → value.
var Headers = map[string]string{
	"Content-Security-Policy": CSP,
	"X-Content-Type-Options":  "nosniff",
	"X-Frame-Options":         "DENY",
	"Referrer-Policy":         "same-origin",
	"Cache-Control":           "no-store",
}

// Set writes [Headers] into h.
func Set(h http.Header) {
	for k, v := range Headers {
		h.Set(k, v)
	}
}

// WithCookies returns next with [Headers] set on every answer before next
// runs, and its cookies kept: only for the owner console, whose session
// cookie is its sign-in (data subjects' routes go through [Handler]).
func WithCookies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Set(w.Header())
		next.ServeHTTP(w, r)
	})
}

// Handler returns next with [Headers] set on every answer before next
// runs, and every Set-Cookie header removed before the answer's headers
// are sent. The returned writer unwraps to next's (for
// http.ResponseController: Flush, deadlines).
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Set(w.Header())
		next.ServeHTTP(&noCookies{ResponseWriter: w}, r)
	})
}

// noCookies drops Set-Cookie when the headers go out.
type noCookies struct {
	http.ResponseWriter
	sent bool
}

func (w *noCookies) WriteHeader(code int) {
	if !w.sent {
		w.Header().Del("Set-Cookie")
		if code >= 200 { // 1xx answers come before the final one
			w.sent = true
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *noCookies) Write(b []byte) (int, error) {
	if !w.sent {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// FlushError sends the headers (without cookies) and flushes next's
// writer; the error is the wrapped writer's (e.g. a closed connection).
func (w *noCookies) FlushError() error {
	if !w.sent {
		w.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush is [noCookies.FlushError] for callers that want an http.Flusher.
func (w *noCookies) Flush() { w.FlushError() }

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *noCookies) Unwrap() http.ResponseWriter { return w.ResponseWriter }
