package collector

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/internal/config"
)

func TestPostRecordedAndReceipt(t *testing.T) {
	h := newHarness(t, nil)
	w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de"))
	checkSecurityHeaders(t, w)
	var got struct {
		ID         string `json:"id"`
		ReceiptURL string `json:"receipt_url"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); w.Code != http.StatusCreated || err != nil {
		t.Fatalf("post: %d %s", w.Code, w.Body)
	}
	recs := h.records(t)
	if len(recs) != 1 || recs[0].ID != got.ID || recs[0].Subject.Phone != "+491701234567" {
		t.Fatalf("log = %+v, want the one decision %s", recs, got.ID)
	}
	if recs[0].ClientIP != "" || recs[0].UserAgent != "" {
		t.Errorf("client data stored by default: %q %q", recs[0].ClientIP, recs[0].UserAgent)
	}
	u, _ := url.Parse(got.ReceiptURL)
	w = h.do("GET", u.RequestURI(), "", "")
	if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "%PDF-") {
		t.Fatalf("receipt: %d %.40q", w.Code, w.Body)
	}
	checkSecurityHeaders(t, w)
	// Made on demand from the log when the file is missing (a crash, or a
	// full queue).
	pdf := filepath.Join(h.data, "receipts", got.ID+".pdf")
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(pdf); err == nil {
			break // the worker stored it
		}
	}
	if err := os.Remove(pdf); err != nil {
		t.Fatal(err)
	}
	w = h.do("GET", u.RequestURI(), "", "")
	if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "%PDF-") {
		t.Fatalf("receipt on demand: %d %.40q", w.Code, w.Body)
	}
	// Stored only by the worker (after its mail is queued) or at the next
	// start, never by the on-demand path.
	if _, err := os.Stat(pdf); !os.IsNotExist(err) {
		t.Errorf("receipt made on demand was stored: %v", err)
	}
}

// TestBadRequestsWriteNothing sends each kind of hostile or broken input
// through the whole handler: a 4xx naming the problem, nothing logged.
func TestBadRequestsWriteNothing(t *testing.T) {
	h := newHarness(t, nil)
	long := strings.Repeat("a", 201)
	tests := []struct {
		name, ct, body string
		status         int
		want           string // in the answer
	}{
		{"wrong content type", "text/plain", h.jsonBody("de"), 415, "content type must be"},
		{"multipart", "multipart/form-data; boundary=x", "--x--", 415, "content type must be"},
		{"no content type", "", h.formBody("de", ""), 415, "content type must be"},
		{"body too large", ctJSON, `{"name":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, 413, "body larger than 8192 bytes"},
		{"invalid UTF-8 JSON", ctJSON, strings.Replace(h.jsonBody("de"), "Jürgen", "J\xfcrgen", 1), 400, "not valid UTF-8"},
		{"invalid UTF-8 form", ctForm, strings.Replace(h.formBody("de", ""), "J%C3%BCrgen", "J%FCrgen", 1), 400, `id="name-error"`},
		{"invalid UTF-8 JSON escape", ctJSON, strings.Replace(h.jsonBody("de"), "Jürgen", `J\ud800rgen`, 1), 400, `"field":"name","code":"name_invalid"`},
		{"control character", ctJSON, h.jsonBody("de", "name", "Jürgen\u0007"), 400, `"field":"name","code":"name_invalid"`},
		{"bidi override", ctJSON, h.jsonBody("de", "name", "Jürgen\u202egnuj"), 400, `"field":"name","code":"name_invalid"`},
		{"name too long", ctJSON, h.jsonBody("de", "name", long), 400, `"field":"name","code":"name_invalid"`},
		{"name the receipt font cannot print", ctJSON, h.jsonBody("de", "name", "김민준 😀"), 400, `"field":"name","code":"name_invalid","message":"Der Name enthält das Zeichen „😀“ (U+1F600 GRINNING FACE), das die Bestätigung nicht drucken kann.`},
		{"zero-width joiner in the name", ctJSON, h.jsonBody("de", "name", "Jür\u200dgen"), 400, `"field":"name","code":"name_invalid"`},
		{"phone too long", ctJSON, h.jsonBody("de", "phone", strings.Repeat("1", 41)), 400, `"field":"phone","code":"phone_invalid"`},
		{"email too long", ctJSON, h.jsonBody("de", "email", strings.Repeat("a", 250)+"@x.de"), 400, `"field":"email"`},
		{"many purposes", ctJSON, h.jsonBody("de", "purpose", strings.Split(strings.Repeat("x,", 500), ",")), 400, `"field":"purpose"`},
		{"duplicate JSON field", ctJSON, `{"name":"a","name":"b"}`, 400, "name: field given more than once"},
		{"duplicate form field", ctForm, h.formBody("de", "phone=1"), 400, "phone: field given more than once"},
		{"unknown JSON field", ctJSON, h.jsonBody("de", "admin", true), 400, "admin: unknown field"},
		{"unknown form field", ctForm, h.formBody("de", "admin=1"), 400, "admin: unknown field"},
		{"wrong JSON type", ctJSON, h.jsonBody("de", "name", 42), 400, "name: must be a string"},
		{"JSON array", ctJSON, `[]`, 400, "body must be a JSON object"},
		{"JSON cut off after a field name", ctJSON, `{"name":`, 400, `"error":"malformed JSON"`},
		{"JSON with a bad value", ctJSON, `{"name":tru}`, 400, `"error":"malformed JSON"`},
		{"trailing JSON", ctJSON, h.jsonBody("de") + "{}", 400, "exactly one JSON object"},
		{"unknown text version", ctJSON, h.jsonBody("de", "text_version", strings.Repeat("0", 64)), 400, `"code":"version"`},
		{"text version of another language", ctJSON, h.jsonBody("de", "text_version", h.versions["en"]), 400, `"code":"version"`},
		{"unknown purpose", ctJSON, h.jsonBody("de", "purpose", []string{"marketing"}), 400, `"code":"purpose"`},
		{"grant without purpose", ctJSON, h.jsonBody("de", "purpose", nil), 400, `"code":"purpose_none"`},
		{"unknown language", ctJSON, h.jsonBody("de", "lang", "fr"), 400, `"code":"lang"`},
		{"bad decision", ctJSON, h.jsonBody("de", "decision", "maybe"), 400, `"code":"decision"`},
		{"form names the field in German", ctForm, strings.Replace(h.formBody("de", ""), "phone=0170+1234567", "phone=12", 1), 400, "Diese Telefonnummer ist ungültig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := h.do("POST", "/v1/consent", tt.ct, tt.body)
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.want) {
				t.Errorf("status %d, body %.300s; want %d with %q", w.Code, w.Body, tt.status, tt.want)
			}
			checkSecurityHeaders(t, w)
			if n := len(h.records(t)); n != 0 {
				t.Fatalf("%d records in the log after a refused request", n)
			}
		})
	}
}

func TestErrorsCarrySecurityHeaders(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Collector.RatePerMinute, c.Collector.RateBurst = 1, 1 })
	h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de"))
	for _, tt := range []struct {
		method, path, ct, body string
		hdr                    []string
		status                 int
	}{
		{"GET", "/nope", "", "", nil, 404},
		{"PUT", "/v1/consent", "", "", nil, 405},
		{"POST", "/v1/withdraw", ctForm, "x=1", []string{"RemoteAddr", "192.0.2.6:1", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 403},
		{"GET", "/v1/receipts/x.pdf", "", "", nil, 404},
		{"GET", "/healthz", "", "", nil, 200},
		{"POST", "/v1/consent", ctJSON, "{}", nil, 429},
		{"POST", "/v1/consent", ctJSON, "{}", []string{"RemoteAddr", "192.0.2.2:1", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 403},
		{"POST", "/v1/consent", "text/plain", "x", []string{"RemoteAddr", "192.0.2.3:1"}, 415},
		{"POST", "/v1/consent", ctJSON, strings.Repeat("x", MaxBodyBytes+1), []string{"RemoteAddr", "192.0.2.4:1"}, 413},
		{"OPTIONS", "/v1/consent", "", "", []string{"Origin", "https://evil.example", "Access-Control-Request-Method", "POST"}, 403},
	} {
		w := h.do(tt.method, tt.path, tt.ct, tt.body, tt.hdr...)
		if w.Code != tt.status {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, w.Code, tt.status)
		}
		checkSecurityHeaders(t, w)
	}
	h.diskFull.Store(true)
	w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de"), "RemoteAddr", "192.0.2.5:1")
	if w.Code != 503 {
		t.Errorf("disk full: %d, want 503", w.Code)
	}
	checkSecurityHeaders(t, w)
}

// TestDiskFull: write and fsync errors answer 503 with Retry-After, in the
// client's language for a form; nothing is acknowledged, the log stays
// valid, and the collector records again once the disk has space.
func TestDiskFull(t *testing.T) {
	h := newHarness(t, nil)
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de")); w.Code != 201 {
		t.Fatalf("first post: %d %s", w.Code, w.Body)
	}
	h.diskFull.Store(true)
	w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de"))
	if w.Code != 503 || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "nothing was recorded") {
		t.Errorf("JSON on a full disk: %d %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	w = h.do("POST", "/v1/consent", ctForm, h.formBody("en", ""))
	if w.Code != 503 || !strings.Contains(w.Body.String(), "could not be recorded just now") {
		t.Errorf("form on a full disk: %d %s", w.Code, w.Body)
	}
	// /healthz says what every decision gets (issue 11 item 7; this test
	// asserted 200 here before, the bug itself).
	if w := h.do("GET", "/healthz", "", ""); w.Code != 503 || w.Body.String() != "log not writable: no space left on device\n" {
		t.Errorf("healthz on a full disk: %d %q", w.Code, w.Body)
	}
	if n := len(h.records(t)); n != 1 {
		t.Errorf("%d records after failed writes, want 1", n)
	}
	h.diskFull.Store(false)
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de")); w.Code != 201 {
		t.Fatalf("after recovery: %d %s", w.Code, w.Body)
	}
	if recs := h.records(t); len(recs) != 2 || recs[1].Seq != 2 {
		t.Errorf("records after recovery: %d", len(recs))
	}
	if w := h.do("GET", "/healthz", "", ""); w.Code != 200 || w.Body.String() != "ok\n" {
		t.Errorf("healthz after recovery: %d %q", w.Code, w.Body)
	}
}

// TestHealthzBeforeAnyDecision: a disk that is full from the start shows
// on /healthz before a decision fails (the probe); the answer names no path.
func TestHealthzBeforeAnyDecision(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.diskFull.Store(true)
	if w := h.do("GET", "/healthz", "", ""); w.Code != 503 || !strings.Contains(w.Body.String(), "no space left") || strings.Contains(w.Body.String(), h.data) {
		t.Errorf("healthz on a full disk: %d %q", w.Code, w.Body)
	}
}

// TestHoneypot: a filled hidden field gets an answer that looks like
// success, so bots learn nothing, and nothing is written.
func TestHoneypot(t *testing.T) {
	h := newHarness(t, nil)
	w := h.do("POST", "/v1/consent", ctForm, h.formBody("en", "website=http%3A%2F%2Fspam.example"))
	real := h.do("POST", "/v1/consent", ctForm, h.formBody("en", ""))
	if w.Code != real.Code || !strings.Contains(w.Body.String(), "Your consent has been recorded.") || !strings.Contains(w.Body.String(), "/v1/receipts/") {
		t.Errorf("honeypot form: %d, want the thank-you page like a real post (%d):\n%s", w.Code, real.Code, w.Body)
	}
	j := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", "website", "x"))
	var got struct {
		ID         string `json:"id"`
		ReceiptURL string `json:"receipt_url"`
	}
	if err := json.Unmarshal(j.Body.Bytes(), &got); j.Code != 201 || err != nil || len(got.ID) != 32 {
		t.Errorf("honeypot JSON: %d %s", j.Code, j.Body)
	}
	if recs := h.records(t); len(recs) != 1 {
		t.Errorf("%d records, want only the real one", len(recs))
	}
	u, _ := url.Parse(got.ReceiptURL)
	if w := h.do("GET", u.RequestURI(), "", "", "Accept-Language", "en"); w.Code != 404 || !strings.Contains(w.Body.String(), "This link to the confirmation is not valid.") {
		t.Errorf("honeypot receipt: %d, want the same 404 page as any unknown receipt", w.Code)
	}
	// A bot gets the same field errors as a person.
	bad := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", "website", "x", "decision", "nonsense"))
	if bad.Code != 400 || !strings.Contains(bad.Body.String(), `"field":"decision"`) {
		t.Errorf("honeypot with a bad field: %d %s, want 400 naming decision", bad.Code, bad.Body)
	}
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Collector.RatePerMinute, c.Collector.RateBurst = 6, 2
		c.Collector.TrustedProxies = []netipPrefix{mustPrefix("10.0.0.0/8")}
	})
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	h.srv.o.Now = func() time.Time { return now }
	for i := range 2 {
		if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de")); w.Code != 201 {
			t.Fatalf("post %d within the burst: %d", i, w.Code)
		}
	}
	w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de"))
	if w.Code != 429 || w.Header().Get("Retry-After") != "10" || !strings.Contains(w.Body.String(), "too many requests") {
		t.Errorf("over the rate: %d Retry-After %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	w = h.do("POST", "/v1/consent", ctForm, h.formBody("en", ""))
	if w.Code != 429 || !strings.Contains(w.Body.String(), "Too many requests came from your connection") {
		t.Errorf("form over the rate (en): %d %s", w.Code, w.Body)
	}
	w = h.do("POST", "/v1/consent", ctForm, "%zz", "Accept-Language", "de-DE,de;q=0.9,en;q=0.5")
	if w.Code != 429 || !strings.Contains(w.Body.String(), "Zu viele Anfragen") {
		t.Errorf("broken form over the rate (Accept-Language de): %d %s", w.Code, w.Body)
	}
	// Another client is not affected; a forged X-Forwarded-For from an
	// untrusted peer changes nothing.
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de"), "RemoteAddr", "198.51.100.7:1"); w.Code != 201 {
		t.Errorf("other client: %d", w.Code)
	}
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de"), "X-Forwarded-For", "198.51.100.99"); w.Code != 429 {
		t.Errorf("forged X-Forwarded-For: %d, want 429", w.Code)
	}
	// Behind a trusted proxy, clients are told apart by X-Forwarded-For.
	for _, xff := range []string{"203.0.113.1", "203.0.113.2", "198.51.100.200, 203.0.113.3, 10.1.1.1"} {
		for i := range 2 {
			if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de"), "RemoteAddr", "10.0.0.1:1", "X-Forwarded-For", xff); w.Code != 201 {
				t.Errorf("proxied client %s post %d: %d", xff, i, w.Code)
			}
		}
	}
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de"), "RemoteAddr", "10.0.0.1:1", "X-Forwarded-For", "203.0.113.1"); w.Code != 429 {
		t.Errorf("proxied client over the rate: %d", w.Code)
	}
	// Tokens come back with time.
	now = now.Add(10 * time.Second)
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de")); w.Code != 201 {
		t.Errorf("after Retry-After: %d", w.Code)
	}
}

func TestStoreClient(t *testing.T) {
	ua := "Mozilla/5.0 (X11; Linux x86_64)\u202e\x01" + strings.Repeat("x", 400)
	for _, tt := range []struct {
		storeIP, remote, xff string
		storeUA              bool
		wantIP, wantUA       string
	}{
		{config.StoreIPNone, "203.0.113.77:1", "", false, "", ""},
		{config.StoreIPTruncated, "203.0.113.77:1", "", true, "203.0.113.0/24", "Mozilla/5.0 (X11; Linux x86_64)??" + strings.Repeat("x", 256-33)},
		{config.StoreIPTruncated, "[2001:db8:aa:bb::1]:1", "", false, "2001:db8:aa::/48", ""},
		{config.StoreIPFull, "[::ffff:203.0.113.77]:1", "", false, "203.0.113.77", ""},
		{config.StoreIPFull, "10.0.0.1:1", "2001:db8::9", false, "2001:db8::9", ""},
	} {
		h := newHarness(t, func(c *config.Config) {
			c.Collector.StoreIP, c.Collector.StoreUserAgent = tt.storeIP, tt.storeUA
			c.Collector.TrustedProxies = []netipPrefix{mustPrefix("10.0.0.0/8")}
		})
		hdr := []string{"RemoteAddr", tt.remote, "User-Agent", ua}
		if tt.xff != "" {
			hdr = append(hdr, "X-Forwarded-For", tt.xff)
		}
		if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de"), hdr...); w.Code != 201 {
			t.Fatalf("post: %d %s", w.Code, w.Body)
		}
		r := h.records(t)[0]
		if r.ClientIP != tt.wantIP || r.UserAgent != tt.wantUA {
			t.Errorf("store_ip %s from %s: client_ip %q user_agent %q; want %q %q", tt.storeIP, tt.remote, r.ClientIP, r.UserAgent, tt.wantIP, tt.wantUA)
		}
	}
}

func TestCrossOrigin(t *testing.T) {
	const site = "https://shop.example"
	h := newHarness(t, func(c *config.Config) { c.Collector.AllowedOrigins = []string{site} })
	tests := []struct {
		name   string
		hdr    []string
		status int
		acao   string
	}{
		{"form from the site", []string{"Sec-Fetch-Site", "cross-site", "Origin", site}, 201, site},
		{"no-referrer page sends Origin null", []string{"Sec-Fetch-Site", "cross-site", "Origin", "null"}, 403, ""},
		{"another site", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 403, ""},
		{"same site, other origin", []string{"Sec-Fetch-Site", "same-site", "Origin", "https://evil.shop.example"}, 403, ""},
		{"old browser, other site", []string{"Origin", "https://evil.example"}, 403, ""},
		{"the collector's own page", []string{"Sec-Fetch-Site", "same-origin", "Origin", "http://127.0.0.1:8080"}, 201, ""},
		{"a script (no browser headers)", nil, 201, ""},
	}
	want := 0
	for _, tt := range tests {
		w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de"), tt.hdr...)
		if w.Code != tt.status || w.Header().Get("Access-Control-Allow-Origin") != tt.acao || !strings.Contains(strings.Join(w.Header().Values("Vary"), ","), "Origin") {
			t.Errorf("%s: %d ACAO %q Vary %q; want %d ACAO %q", tt.name, w.Code, w.Header().Get("Access-Control-Allow-Origin"), w.Header().Values("Vary"), tt.status, tt.acao)
		}
		if tt.status == 201 {
			want++
		}
		if n := len(h.records(t)); n != want {
			t.Fatalf("%s: %d records, want %d", tt.name, n, want)
		}
	}
	// A refused form post gets a page, in the browser's language.
	w := h.do("POST", "/v1/consent", ctForm, h.formBody("en", ""), "Sec-Fetch-Site", "cross-site", "Origin", "null", "Accept-Language", "en")
	if w.Code != 403 || !strings.Contains(w.Body.String(), "This form may not be sent from this page.") {
		t.Errorf("refused form: %d %s", w.Code, w.Body)
	}
	// Preflight for fetch() with JSON.
	w = h.do("OPTIONS", "/v1/consent", "", "", "Origin", site, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != site || w.Header().Get("Access-Control-Allow-Methods") != "POST" ||
		!strings.EqualFold(w.Header().Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Errorf("preflight: %d %v", w.Code, w.Header())
	}
	for _, o := range []string{"https://evil.example", "null", "*"} {
		w = h.do("OPTIONS", "/v1/consent", "", "", "Origin", o, "Access-Control-Request-Method", "POST")
		if w.Code != 403 || w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from %s: %d %v", o, w.Code, w.Header())
		}
	}
}

// TestReceiptWorker: the worker stamps a receipt without anyone asking,
// but waits while decisions are in flight; a receipt asked for meanwhile
// is stamped on demand from the queued entry.
func TestReceiptWorker(t *testing.T) {
	h := newHarness(t, nil)
	h.srv.inflight.Add(1) // a decision "in flight" holds the worker back
	w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de"))
	var got struct {
		ID         string `json:"id"`
		ReceiptURL string `json:"receipt_url"`
	}
	json.Unmarshal(w.Body.Bytes(), &got)
	pdf := filepath.Join(h.data, "receipts", got.ID+".pdf")
	time.Sleep(3 * idleWait)
	if _, err := os.Stat(pdf); err == nil {
		t.Fatal("the worker stamped a receipt while a decision was in flight")
	}
	u, _ := url.Parse(got.ReceiptURL)
	if w := h.do("GET", u.RequestURI(), "", ""); w.Code != 200 || !strings.HasPrefix(w.Body.String(), "%PDF-") {
		t.Fatalf("receipt while queued: %d", w.Code)
	}
	h.srv.inflight.Add(-1)

	w = h.do("POST", "/v1/consent", ctJSON, h.jsonBody("en"))
	json.Unmarshal(w.Body.Bytes(), &got)
	pdf = filepath.Join(h.data, "receipts", got.ID+".pdf")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(pdf); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker did not stamp the receipt")
		}
	}
}

// TestLogsHoldNoPersonalData: the collector's own log (slog) names no
// person, number or address, whatever happens to the request.
func TestLogsHoldNoPersonalData(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Collector.RatePerMinute, c.Collector.RateBurst = 60, 4 })
	email := h.jsonBody("de", "email", "juergen@example.org")
	h.do("POST", "/v1/consent", ctJSON, email)
	h.do("POST", "/v1/consent", ctForm, h.formBody("de", "email=juergen%40example.org"))
	h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", "phone", "12"))
	h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", "website", "x"))
	h.do("POST", "/v1/consent", ctJSON, email) // rate limited
	h.diskFull.Store(true)
	h.do("POST", "/v1/consent", ctJSON, email, "RemoteAddr", "198.51.100.1:1")
	logs := h.logs.String()
	if !strings.Contains(logs, "decision recorded") || !strings.Contains(logs, "rate limited") || !strings.Contains(logs, "append to log") {
		t.Fatalf("the test did not cover what it meant to:\n%s", logs)
	}
	for _, bad := range []string{"Jürgen", "Weiß", "1701234567", "juergen", "192.0.2.1", "198.51.100.1"} {
		if strings.Contains(logs, bad) {
			t.Errorf("collector log contains %q:\n%s", bad, logs)
		}
	}
}

// A wrong or expired receipt link gets a page in the browser's language
// that says whom to ask for the receipt again, and (a genuine link's)
// with which Vorgangsnummer: the owner sends it with chatconsent receipt
// resend ID.
func TestReceiptLinkRefused(t *testing.T) {
	h := newHarness(t, nil)
	id := strings.Repeat("ab", 16)
	past := h.srv.o.Now().Add(-time.Hour).Unix()
	tests := []struct {
		name, query, lang string
		status            int
		want              string
	}{
		{"wrong secret", "?e=99999999999&k=nope", "en", 404, "This link to the confirmation is not valid."},
		{"wrong secret's contact", "?e=99999999999&k=nope", "en", 404, "write to datenschutz@fahrradladen.example and give your reference number (it is on"},
		{"expired", fmt.Sprintf("?e=%d&k=%s", past, h.srv.linkMAC(id, past)), "de", 410, "aus Sicherheitsgründen abgelaufen"},
		{"expired's contact", fmt.Sprintf("?e=%d&k=%s", past, h.srv.linkMAC(id, past)), "de", 410, "Schreiben Sie dazu an datenschutz@fahrradladen.example und nennen Sie Ihre Vorgangsnummer " + id + "."},
		{"expired, English", fmt.Sprintf("?e=%d&k=%s", past, h.srv.linkMAC(id, past)), "en", 410, "with a new link: write to datenschutz@fahrradladen.example and give your reference number " + id + "."},
	}
	for _, tt := range tests {
		w := h.do("GET", "/v1/receipts/"+id+".pdf"+tt.query, "", "", "Accept-Language", tt.lang)
		if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.want) || !strings.Contains(w.Body.String(), `<html lang="`+tt.lang+`">`) {
			t.Errorf("%s: %d, want %d with %q in a %s page:\n%s", tt.name, w.Code, tt.status, tt.want, tt.lang, w.Body)
		}
		if strings.Contains(w.Body.String(), "{controller_email}") || strings.Contains(w.Body.String(), "{record_id}") {
			t.Errorf("%s: a placeholder left:\n%s", tt.name, w.Body)
		}
		checkSecurityHeaders(t, w)
	}
}

// The static withdrawal page's bad fields are named all at once, on a page
// that says the withdrawal (not a decision) was not recorded and leads
// back to the withdrawal page.
func TestWithdrawFieldErrors(t *testing.T) {
	h := newHarness(t, nil)
	w := h.do("POST", "/v1/withdraw", "application/x-www-form-urlencoded", "phone=&id=nope&lang=de")
	body := w.Body.String()
	for _, want := range []string{"Ihr Widerruf wurde noch nicht gespeichert:", h.srv.o.Theme.Strings("de")["err_phone"], h.srv.o.Theme.Strings("de")["err_id"], `href="https://shop.example/de/widerruf/"`} {
		if !strings.Contains(body, want) {
			t.Errorf("answer lacks %q", want)
		}
	}
	if w.Code != 400 {
		t.Errorf("status %d, want 400", w.Code)
	}
	w = h.do("POST", "/v1/withdraw", "application/json", `{"phone":"12","id":"x"}`)
	if w.Code != 400 || !strings.Contains(w.Body.String(), `"field":"phone","code":"phone_invalid"`) || !strings.Contains(w.Body.String(), `"field":"id","code":"id"`) {
		t.Errorf("JSON: %d %s", w.Code, w.Body)
	}
	if len(h.records(t)) != 0 {
		t.Error("a refused withdrawal was logged")
	}
}

// Decisions whose receipts did not fit into the queue get them (and their
// mails) from the log once the collector is idle.
func TestReceiptQueueOverflow(t *testing.T) {
	h := newHarnessOpts(t, nil, func(o *Options) { o.ReceiptQueue = 1 })
	const n = 12
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de")); w.Code != 201 {
				t.Errorf("post: %d %s", w.Code, w.Body)
			}
		})
	}
	wg.Wait()
	if !strings.Contains(h.logs.String(), "receipt queue full") {
		t.Fatalf("the queue did not overflow; the test proves nothing\n%s", h.logs)
	}
	var got []string
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if got, _ = filepath.Glob(filepath.Join(h.data, "receipts", "*.pdf")); len(got) == n {
			return
		}
	}
	t.Errorf("%d receipts after the queue overflowed, want %d\n%s", len(got), n, h.logs)
}

// Someone who knows only a number can post a grant for it on the public
// form; the person's own withdrawal link still withdraws everything in
// force for the number, that grant included.
func TestWithdrawLinkCoversLaterGrants(t *testing.T) {
	h := newHarness(t, nil)
	post := func(purposes []string) string {
		w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("en", "purpose", purposes))
		var got struct{ ID string }
		if err := json.Unmarshal(w.Body.Bytes(), &got); w.Code != 201 || err != nil {
			t.Fatalf("post: %d %s", w.Code, w.Body)
		}
		return got.ID
	}
	victim := post([]string{"orders"})
	post([]string{"orders", "documents"}) // a stranger, same number
	u, err := url.Parse(h.srv.WithdrawalURL(victim))
	if err != nil {
		t.Fatal(err)
	}
	// "all" is explicit: no purpose withdraws nothing (issue 11 item 21).
	body, _ := json.Marshal(map[string]any{"id": u.Query().Get("id"), "k": u.Query().Get("k"), "purpose": []string{"all"}})
	w := h.do("POST", "/v1/withdraw", ctJSON, string(body))
	var got struct {
		Withdrawn    []string `json:"withdrawn"`
		StillGranted []string `json:"still_granted"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); w.Code != 201 || err != nil {
		t.Fatalf("withdraw by the victim's link: %d %s", w.Code, w.Body)
	}
	if strings.Join(got.Withdrawn, ",") != "orders,documents" || len(got.StillGranted) != 0 {
		t.Errorf("withdrawn %v, still granted %v; want everything withdrawn", got.Withdrawn, got.StillGranted)
	}
}

// Withdrawals count against the same per-client rate as decisions: record
// ids and link secrets cannot be tried by volume.
func TestWithdrawRateLimit(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Collector.RatePerMinute, c.Collector.RateBurst = 6, 2
	})
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	h.srv.o.Now = func() time.Time { return now }
	guess := func(i int) string {
		return fmt.Sprintf("lang=de&phone=0170+1234567&id=%032x", i)
	}
	for i := range 2 {
		if w := h.do("POST", "/v1/withdraw", ctForm, guess(i)); w.Code != 404 && w.Code != 400 {
			t.Fatalf("guess %d within the burst: %d %s", i, w.Code, w.Body)
		}
	}
	w := h.do("POST", "/v1/withdraw", ctForm, guess(2))
	if w.Code != 429 || w.Header().Get("Retry-After") != "10" || !strings.Contains(w.Body.String(), "Zu viele Anfragen") {
		t.Errorf("guess over the rate: %d Retry-After %q %.300s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	w = h.do("POST", "/v1/withdraw", ctJSON, `{"lang":"en","phone":"0170 1234567","id":"`+strings.Repeat("a", 32)+`"}`)
	if w.Code != 429 || !strings.Contains(w.Body.String(), "too many requests") {
		t.Errorf("JSON guess over the rate: %d %s", w.Code, w.Body)
	}
	// A decision from the same client is limited too: one budget per client.
	if w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de")); w.Code != 429 {
		t.Errorf("decision after the guesses: %d, want 429", w.Code)
	}
}

// A browser form sent as multipart/form-data or text/plain (a hand-edited
// page) gets a page in the person's language; other clients get JSON.
func TestOtherFormEncodings(t *testing.T) {
	h := newHarness(t, nil)
	for _, tt := range []struct {
		path, ct, wantType string
	}{
		{"/v1/consent", "multipart/form-data; boundary=x", "text/html"},
		{"/v1/consent", "text/plain", "text/html"},
		{"/v1/withdraw", "multipart/form-data; boundary=x", "text/html"},
		{"/v1/withdraw", "text/plain; charset=utf-8", "text/html"},
		{"/v1/consent", "application/xml", "application/json"},
		{"/v1/withdraw", "", "application/json"},
	} {
		w := h.do("POST", tt.path, tt.ct, "--x--", "Accept-Language", "en")
		if w.Code != 415 || !strings.HasPrefix(w.Header().Get("Content-Type"), tt.wantType) || !strings.Contains(w.Body.String(), "content type must be") {
			t.Errorf("%s %q: %d %s %.200s; want 415 %s", tt.path, tt.ct, w.Code, w.Header().Get("Content-Type"), w.Body, tt.wantType)
		}
	}
}

// Every page the collector makes links the privacy notice, the form and
// the withdrawal page in the page's language, like the site's pages.
func TestCollectorPagesLinkTheNotice(t *testing.T) {
	h := newHarness(t, nil)
	for _, tt := range []struct {
		name, lang, ct, body string
		status               int
	}{
		{"thank-you page", "de", ctForm, h.formBody("de", ""), 200},
		{"form with errors", "en", ctForm, strings.Replace(h.formBody("en", ""), "phone=0170+1234567", "phone=12", 1), 400},
		{"broken form", "de", ctForm, "%zz", 400},
	} {
		w := h.do("POST", "/v1/consent", tt.ct, tt.body, "Accept-Language", tt.lang)
		body := w.Body.String()
		if w.Code != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, w.Code, tt.status)
		}
		for _, u := range []string{h.srv.o.PolicyURLs[tt.lang], h.srv.o.ConsentURLs[tt.lang], h.srv.o.WithdrawalURLs[tt.lang]} {
			if !strings.Contains(body, `href="`+u+`"`) {
				t.Errorf("%s (%s) lacks a link to %s", tt.name, tt.lang, u)
			}
		}
		if strings.Contains(body, "<p> · ") {
			t.Errorf("%s: footer starts with a separator", tt.name)
		}
	}
}

// A tampered form gets a page in the person's language; the technical
// detail (in English, for whoever debugs it) is labelled as such.
func TestTamperedFormPageLanguage(t *testing.T) {
	h := newHarness(t, nil)
	for _, tt := range []struct{ path, body, lang, want string }{
		{"/v1/consent", h.formBody("de", "admin=1"), "de", "Technische Angabe (englisch): admin: unknown field"},
		{"/v1/consent", h.formBody("en", "admin=1"), "en", "Technical detail: admin: unknown field"},
		{"/v1/withdraw", "id=x&admin=1", "en", "Technical detail: admin: unknown field"},
		{"/v1/withdraw", "id=x&admin=1", "de", "Technische Angabe (englisch): admin: unknown field"},
	} {
		w := h.do("POST", tt.path, ctForm, tt.body, "Accept-Language", tt.lang)
		if w.Code != 400 || !strings.Contains(w.Body.String(), tt.want) || !strings.Contains(w.Body.String(), `<html lang="`+tt.lang+`"`) {
			t.Errorf("%s (%s): %d %.400s; want a %s page with %q", tt.path, tt.lang, w.Code, w.Body, tt.lang, tt.want)
		}
	}
}
