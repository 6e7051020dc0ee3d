package collector

import (
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/themes"
)

// Which pages may post decisions.
//
// A plain HTML form on the static site posts across origins without CORS;
// browsers mark such a POST with Sec-Fetch-Site and Origin, and
// [http.CrossOriginProtection] refuses it unless the Origin is one of
// collector.allowed_origins. (The site's pages use the referrer policy
// "strict-origin": under "no-referrer" a browser sends "Origin: null" on a
// cross-origin POST, Fetch standard §3.1 "append a request Origin header",
// and the form would be refused.) A fetch() with a JSON body is a CORS
// request: its preflight and its answer get the exact allowed origin back,
// never "*", with "Vary: Origin" (Fetch standard §3.2). Requests without
// those headers (scripts, curl) are not browsers' and pass.

// newCrossOrigin returns the guard for POST requests, trusting the
// allowed origins and the collector's own.
func newCrossOrigin(allowed []string, publicURL string) (*http.CrossOriginProtection, error) {
	cop := http.NewCrossOriginProtection()
	trusted := allowed
	if o, ok := config.Origin(publicURL); ok {
		trusted = append(trusted[:len(trusted):len(trusted)], o)
	}
	for _, o := range trusted {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("collector.allowed_origins: %w", err)
		}
	}
	return cop, nil
}

// allowedOrigin reports whether r's Origin header names an allowed origin.
func (s *Server) allowedOrigin(r *http.Request) (string, bool) {
	o := r.Header.Get("Origin")
	if o == "" {
		return "", false
	}
	_, ok := s.origins[o]
	return o, ok
}

// withCORS adds the CORS answer headers to every answer of h, refusals
// included.
func (s *Server) withCORS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		if o, ok := s.allowedOrigin(r); ok {
			w.Header().Set("Access-Control-Allow-Origin", o)
		}
		h.ServeHTTP(w, r)
	})
}

// handlePreflight answers a CORS preflight (OPTIONS) for POST /v1/consent
// with a JSON body: 204 and the exact origin if it is allowed, else 403
// without CORS headers, which the browser reports as a CORS failure.
func (s *Server) handlePreflight(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	w.Header().Add("Vary", "Access-Control-Request-Method")
	w.Header().Add("Vary", "Access-Control-Request-Headers")
	o, ok := s.allowedOrigin(r)
	if !ok || r.Header.Get("Access-Control-Request-Method") != http.MethodPost {
		s.o.Logger.Info("preflight refused", "origin", safeName(r.Header.Get("Origin")))
		w.WriteHeader(http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", o)
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// forbidden answers a cross-origin POST from a page that is not allowed.
func (s *Server) forbidden(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	s.o.Logger.Info("cross-origin post refused", "origin", safeName(r.Header.Get("Origin")), "fetch_site", safeName(r.Header.Get("Sec-Fetch-Site")))
	if wantsJSON(r) {
		writeJSON(w, http.StatusForbidden, map[string]any{"error": "cross-origin request refused: this page's origin is not in collector.allowed_origins"})
		return
	}
	s.errorPage(w, http.StatusForbidden, s.clientLang(r, nil), "forbidden_title", "forbidden")
}

// wantsJSON reports whether r came with a JSON body (so the answer is JSON).
func wantsJSON(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/json" || (ct != "application/x-www-form-urlencoded" && !strings.Contains(r.Header.Get("Accept"), "text/html"))
}

// errorPage renders the theme's error page with the strings titleKey and
// msgKey in lang.
func (s *Server) errorPage(w http.ResponseWriter, status int, lang, titleKey, msgKey string) {
	t := s.o.Theme.Strings(lang)
	s.render(w, status, themes.LayoutError, &themes.Page{
		Lang: lang, Title: t[titleKey],
		Content: themes.Text(t[msgKey]).HTML(),
	})
}
