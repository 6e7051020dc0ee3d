package collector

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/internal/httpsec"
)

// TestEveryRouteCarriesSecurityHeaders walks every route of the
// collector (good and bad requests, the mux's 404 and 405, a 503 from a
// full disk, the transparency log under /log/) and checks that each
// answer has the headers of [httpsec.Handler] and sets no cookie. A route
// added to [Server.routes] without a request here fails the test.
func TestEveryRouteCarriesSecurityHeaders(t *testing.T) {
	t.Parallel()
	type req struct {
		method, path, ct, body string
		hdr                    []string
		status                 int
	}
	visited := map[string]bool{}
	walk := func(t *testing.T, srv *Server, h http.Handler, reqs []req) {
		t.Helper()
		mux := http.NewServeMux()
		for _, r := range srv.routes() {
			mux.Handle(r.pattern, r.h)
		}
		for _, tt := range reqs {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			r.RemoteAddr = "192.0.2.1:4711"
			if tt.ct != "" {
				r.Header.Set("Content-Type", tt.ct)
			}
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				r.Header.Set(tt.hdr[i], tt.hdr[i+1])
			}
			if _, pattern := mux.Handler(r); pattern != "" {
				visited[pattern] = true
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			what := tt.method + " " + tt.path
			if w.Code != tt.status {
				t.Errorf("%s: %d, want %d: %.200s", what, w.Code, tt.status, w.Body)
			}
			for k, want := range httpsec.Headers {
				got := w.Header().Get(k)
				// The log's files say how long they may be cached.
				if k == "Cache-Control" && strings.HasPrefix(tt.path, "/log/") && w.Code == 200 {
					continue
				}
				if got != want {
					t.Errorf("%s (%d): %s = %q, want %q", what, w.Code, k, got, want)
				}
			}
			if c := w.Header().Values("Set-Cookie"); len(c) > 0 {
				t.Errorf("%s: sets a cookie: %q", what, c)
			}
		}
	}

	// A collector with a transparency log: every route, /log/ included.
	srv, _, _, versions := openTlogCollector(t)
	t.Cleanup(func() { srv.Close() })
	h := srv.Handler()
	grant := `{"decision":"granted","name":"Jürgen Weiß","phone":"0170 1234567","purpose":["orders"],"lang":"de","text_version":"` + versions["de"] + `"}`
	r := httptest.NewRequest("POST", "/v1/consent", strings.NewReader(grant))
	r.RemoteAddr, r.Header["Content-Type"] = "192.0.2.9:1", []string{ctJSON}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var got struct{ ID, ReceiptURL, WithdrawalURL string }
	json.Unmarshal(w.Body.Bytes(), &struct {
		ID         *string `json:"id"`
		ReceiptURL *string `json:"receipt_url"`
		Withdrawal *string `json:"withdrawal_url"`
	}{&got.ID, &got.ReceiptURL, &got.WithdrawalURL})
	if w.Code != http.StatusCreated || got.ReceiptURL == "" {
		t.Fatalf("grant: %d %s", w.Code, w.Body)
	}
	receipt, _ := url.Parse(got.ReceiptURL)
	walk(t, srv, h, []req{
		{"POST", "/v1/consent", ctJSON, grant, nil, 201},
		{"POST", "/v1/consent", ctForm, "decision=granted&lang=de", nil, 400},
		{"POST", "/v1/consent", "text/plain", "x", nil, 415},
		{"POST", "/v1/consent", ctJSON, "{}", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 403},
		{"OPTIONS", "/v1/consent", "", "", []string{"Origin", "https://evil.example", "Access-Control-Request-Method", "POST"}, 403},
		{"GET", receipt.RequestURI(), "", "", nil, 200},
		{"GET", "/v1/receipts/x.pdf", "", "", nil, 404},
		{"GET", "/v1/consent?lang=en", "", "", nil, 404}, // no consent page configured here
		{"GET", "/v1/consent?invite=nonsense", "", "", []string{"Accept", "text/html"}, 400},
		{"GET", "/v1/withdraw?id=" + got.ID + "&k=wrong", "", "", nil, 404},
		{"POST", "/v1/withdraw", ctForm, "phone=0170+1234567&id=nope&lang=de", []string{"Accept", "text/html"}, 400},
		{"GET", "/log/checkpoint", "", "", nil, 200},
		{"GET", "/log/.state/x", "", "", nil, 404},
		{"POST", "/log/checkpoint", "", "", nil, 405},
		{"GET", "/healthz", "", "", nil, 200},
		{"GET", "/nope", "", "", nil, 404},
		{"PUT", "/v1/consent", "", "", nil, 405},
		{"DELETE", "/v1/withdraw", "", "", nil, 405},
	})

	// A disk that fails: 503 for a decision and for the health check.
	hh := newHarness(t, nil)
	hh.diskFull.Store(true)
	walk(t, hh.srv, hh.h, []req{
		{"POST", "/v1/consent", ctForm, hh.formBody("de", ""), []string{"Accept", "text/html"}, 503},
		{"GET", "/healthz", "", "", nil, 503},
	})

	for _, r := range srv.routes() {
		if !visited[r.pattern] {
			t.Errorf("route %s: no request in this test", r.pattern)
		}
	}
}
