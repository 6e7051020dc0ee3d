package collector

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzHandler posts arbitrary bodies with arbitrary content types through
// the whole handler: it must never panic, never answer 5xx (the disk does
// not fail here), and write a record exactly when it answers success.
func FuzzHandler(f *testing.F) {
	h := newHarness(f, nil)
	for _, seed := range []struct{ ct, body string }{
		{ctJSON, h.jsonBody("de")},
		{ctJSON, h.jsonBody("en", "decision", "refused", "purpose", nil, "email", "a@example.org")},
		{ctJSON + "; charset=utf-8", h.jsonBody("de", "website", "x")},
		{ctForm, h.formBody("de", "")},
		{ctForm, h.formBody("en", "purpose=documents&email=julia%40example.org")},
		{ctForm, h.formBody("de", "website=x")},
		{ctForm, "%zz"},
		{ctJSON, `{"name":"a","name":"b"}`},
		{ctJSON, strings.Replace(h.jsonBody("de"), "Jürgen", `J\ud800rgen`, 1)},
		{"text/plain", "x"},
		{"", ""},
		{"multipart/form-data; boundary=x", "--x\r\n\r\n--x--"},
		{"application/json; charset=\"", "{}"},
	} {
		f.Add(seed.ct, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		before := len(h.records(t))
		w := h.do("POST", "/v1/consent", ct, string(body))
		after := len(h.records(t))
		if w.Code >= 500 {
			t.Fatalf("status %d for %q %q: %s", w.Code, ct, body, w.Body)
		}
		recorded := after - before
		switch {
		case w.Code == http.StatusCreated || w.Code == http.StatusOK:
			if recorded > 1 {
				t.Fatalf("%d records for one post", recorded)
			}
			// 0 records with success is the honeypot.
		case recorded != 0:
			t.Fatalf("status %d but %d records written", w.Code, recorded)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("status %d without security headers", w.Code)
		}
	})
}
