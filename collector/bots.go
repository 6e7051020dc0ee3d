package collector

import (
	"net/http"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/themes"
)

// honeypot answers a post whose hidden "website" field is filled in:
// people do not see that field, form-filling bots do. The bot gets the
// same answer as a recorded decision (201 or the thank-you page, with a
// fresh id and a receipt link that leads nowhere), so it cannot learn that
// it was caught; nothing is written. A person whose browser filled the
// field by mistake is not bound by anything either: without a record there
// is no consent.
func (s *Server) honeypot(w http.ResponseWriter, r *http.Request, enc int, req *Request, emailDropped bool) {
	s.o.Logger.Info("honeypot field filled; answered as if recorded, nothing written")
	id := newID()
	url := s.ReceiptURL(id)
	if enc == encJSON {
		writeJSON(w, http.StatusCreated, createdJSON(id, url, emailDropped))
		return
	}
	lang := s.clientLang(r, req)
	decision := ledger.Granted
	if req.Decision == ledger.Refused {
		decision = ledger.Refused
	}
	s.render(w, http.StatusOK, themes.LayoutThanks, &themes.Page{
		Lang: lang, Title: s.o.Theme.Strings(lang)["thanks_title"],
		Result: &themes.Result{Decision: decision, RecordID: id, ReceiptURL: url, EmailDropped: emailDropped},
	})
}

// tooMany answers a client over its rate (collector.rate_per_minute) with
// 429 and Retry-After (RFC 6585 §4): JSON, or a page in the client's
// language for a form post.
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, enc int, req *Request, wait time.Duration) {
	s.o.Logger.Info("rate limited", "retry_after", retryAfter(wait))
	w.Header().Set("Retry-After", retryAfter(wait))
	if enc == encJSON {
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": "too many requests from this address; try again in " + retryAfter(wait) + " s"})
		return
	}
	s.errorPage(w, http.StatusTooManyRequests, s.clientLang(r, req), "too_many_title", "too_many")
}
