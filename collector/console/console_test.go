package console

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/chatconsent/chatconsent/collector"
	"github.com/chatconsent/chatconsent/collector/invite"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/owners"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/httpsec"
	"github.com/chatconsent/chatconsent/internal/records"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// fixture is a collector on a copy of the repository's site with the
// console mounted, and a clock the test moves.
type fixture struct {
	srv  *collector.Server
	c    *Console
	h    http.Handler
	cfg  *config.Config
	now  time.Time
	data string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	for _, p := range []string{"content", "archive"} {
		if err := os.CopyFS(filepath.Join(dir, p), os.DirFS(filepath.Join("..", "..", p))); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Collector.RatePerMinute = 0
	f := &fixture{cfg: cfg, now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	srv, info, err := collector.Open(cfg, collector.Setup{
		PublicURL: "https://consent.example/", Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return f.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	f.srv, f.data = srv, info.Paths.Data
	f.c, err = New(srv)
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount(Prefix, f.c)
	f.h = srv.Handler()
	return f
}

// do sends a request; hdr are header name, value pairs.
func (f *fixture) do(method, target, body string, hdr ...string) *http.Response {
	r := httptest.NewRequest(method, "https://consent.example"+target, strings.NewReader(body))
	r.RemoteAddr = "192.0.2.1:4711"
	if method == http.MethodPost {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w.Result()
}

// signIn makes an owner with a passkey and a session for them, as a
// finished passkey ceremony does, and returns the session cookie.
func (f *fixture) signIn(t *testing.T, name string) (cookie, csrf string) {
	t.Helper()
	secret, err := f.c.store.Add(name, f.now)
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.c.store.Enrol(secret, f.now, webauthn.Credential{ID: []byte("cred-" + name)})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	f.c.startSession(w, httptest.NewRequest("POST", "/owner/signin/finish", nil), o)
	ck := w.Result().Cookies()
	if len(ck) != 1 {
		t.Fatalf("sign-in set %d cookies, want 1", len(ck))
	}
	s := f.c.sessions[ck[0].Value]
	return ck[0].Value, s.csrf
}

func location(resp *http.Response) string { return resp.Header.Get("Location") }

// TestEveryOwnerURLNeedsSession: every console URL but the sign-in and
// enrolment pages sends a browser without a (valid) session to sign-in.
func TestEveryOwnerURLNeedsSession(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/owner/"}, {"GET", "/owner/person?n=%2B491701234567"}, {"GET", "/owner/invite"},
		{"POST", "/owner/invite"}, {"POST", "/owner/withdraw"}, {"GET", "/owner/erase?n=1"},
		{"POST", "/owner/erase"}, {"POST", "/owner/signout"}, {"GET", "/owner/nothing-here"},
		{"GET", "/owner/v1/withdraw"}, {"POST", "/owner/v1/erase"},
		{"GET", "/owner/receipt?id=0123456789abcdef0123456789abcdef"}, {"GET", "/owner/access?n=%2B491701234567"},
		{"GET", "/owner/export?n=%2B491701234567"}, {"POST", "/owner/resend"},
	} {
		for _, cookie := range []string{"", CookieName + "=forged-session-id"} {
			resp := f.do(tc.method, tc.path, "", "Cookie", cookie)
			if resp.StatusCode != http.StatusSeeOther || location(resp) != "/owner/signin" {
				t.Errorf("%s %s (cookie %q): %d → %q, want 303 → /owner/signin", tc.method, tc.path, cookie, resp.StatusCode, location(resp))
			}
		}
	}
	resp := f.do("GET", "/owner/signin", "")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `id="passkey"`) {
		t.Errorf("sign-in page: %d\n%s", resp.StatusCode, body)
	}
	if len(resp.Cookies()) != 0 {
		t.Errorf("the sign-in page set a cookie: %v", resp.Cookies())
	}
	// The console's scripts are its own files, never inline ones, and it
	// loads nothing from elsewhere.
	if csp := resp.Header.Get("Content-Security-Policy"); csp != httpsec.CSPSelfScript || !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src 'unsafe-inline'") {
		t.Errorf("console CSP %q", csp)
	}
}

// TestEnrolmentLinkOnceAndExpires: the link of owner add opens the
// enrolment page until it is used or 15 minutes have passed; a second
// owner add replaces it.
func TestEnrolmentLinkOnceAndExpires(t *testing.T) {
	f := newFixture(t)
	page := func(secret string) int { return f.do("GET", "/owner/enrol?t="+url.QueryEscape(secret), "").StatusCode }
	secret, err := f.c.store.Add("anna", f.now)
	if err != nil {
		t.Fatal(err)
	}
	if got := page(secret); got != 200 {
		t.Fatalf("fresh link: %d, want 200", got)
	}
	if got := page(secret + "x"); got != http.StatusGone {
		t.Errorf("wrong secret: %d, want 410", got)
	}
	if _, err := f.c.store.Enrol(secret, f.now, webauthn.Credential{ID: []byte("k1")}); err != nil {
		t.Fatal(err)
	}
	if got := page(secret); got != http.StatusGone {
		t.Errorf("used link: %d, want 410", got)
	}
	if _, err := f.c.store.Enrol(secret, f.now, webauthn.Credential{ID: []byte("k2")}); !errors.Is(err, owners.ErrEnrolmentUsed) {
		t.Errorf("second enrolment with the link: %v, want owners.ErrEnrolmentUsed", err)
	}
	if _, err := f.c.store.Add("anna", f.now); !errors.Is(err, owners.ErrOwnerExists) {
		t.Errorf("owner add of an owner with a passkey: %v, want owners.ErrOwnerExists", err)
	}

	old, _ := f.c.store.Add("ben", f.now)
	newer, _ := f.c.store.Add("ben", f.now)
	if got := page(old); got != http.StatusGone {
		t.Errorf("replaced link: %d, want 410", got)
	}
	f.now = f.now.Add(owners.EnrolmentTTL - time.Second)
	if got := page(newer); got != 200 {
		t.Errorf("link at 14:59: %d, want 200", got)
	}
	f.now = f.now.Add(time.Second)
	if got := page(newer); got != http.StatusGone {
		t.Errorf("link at 15:00: %d, want 410", got)
	}
	if _, err := f.c.store.Enrol(newer, f.now, webauthn.Credential{ID: []byte("k3")}); !errors.Is(err, owners.ErrEnrolmentStale) {
		t.Errorf("enrolment after 15 minutes: %v, want owners.ErrEnrolmentStale", err)
	}
	// The enrolment ceremony itself refuses a used link too.
	resp := f.do("POST", "/owner/enrol/begin?t="+url.QueryEscape(secret), "{}", "Content-Type", "application/json")
	if resp.StatusCode != http.StatusGone {
		t.Errorf("enrol/begin with a used link: %d, want 410", resp.StatusCode)
	}
	resp = f.do("POST", "/owner/enrol/finish?t="+url.QueryEscape(secret), `{"id":"x"}`, "Content-Type", "application/json")
	if resp.StatusCode == 200 || len(resp.Cookies()) != 0 {
		t.Errorf("enrol/finish with a used link: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
}

// TestSessionCookie: the cookie's attributes, and that the session works.
func TestSessionCookie(t *testing.T) {
	f := newFixture(t)
	secret, _ := f.c.store.Add("anna", f.now)
	o, err := f.c.store.Enrol(secret, f.now, webauthn.Credential{ID: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	f.c.startSession(w, httptest.NewRequest("POST", "/owner/signin/finish", nil), o)
	ck := w.Result().Cookies()[0]
	if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/owner/" || ck.MaxAge != int(SessionTTL/time.Second) || ck.MaxAge > 3600 {
		t.Errorf("cookie %+v: want HttpOnly, Secure, SameSite=Strict, Path=/owner/, Max-Age %d", ck, int(SessionTTL/time.Second))
	}
	if len(ck.Value) < 40 {
		t.Errorf("session id %q: want at least 256 random bits", ck.Value)
	}
	resp := f.do("GET", "/owner/", "", "Cookie", CookieName+"="+ck.Value)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /owner/ with the session: %d", resp.StatusCode)
	}
	f.now = f.now.Add(SessionTTL)
	resp = f.do("GET", "/owner/", "", "Cookie", CookieName+"="+ck.Value)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /owner/ after %v: %d, want 303 to sign-in", SessionTTL, resp.StatusCode)
	}
}

// TestRemovedOwnerSessionEnds: owner remove ends the owner's sessions at
// their next request.
func TestRemovedOwnerSessionEnds(t *testing.T) {
	f := newFixture(t)
	anna, _ := f.signIn(t, "anna")
	ben, _ := f.signIn(t, "ben")
	for _, ck := range []string{anna, ben} {
		if resp := f.do("GET", "/owner/", "", "Cookie", CookieName+"="+ck); resp.StatusCode != 200 {
			t.Fatalf("before: %d", resp.StatusCode)
		}
	}
	if err := owners.OpenStore(filepath.Join(f.data, config.OwnersFile)).Remove("anna"); err != nil {
		t.Fatal(err)
	}
	if resp := f.do("GET", "/owner/", "", "Cookie", CookieName+"="+anna); resp.StatusCode != http.StatusSeeOther || location(resp) != "/owner/signin" {
		t.Errorf("removed owner's session: %d → %q, want 303 → /owner/signin", resp.StatusCode, location(resp))
	}
	if resp := f.do("GET", "/owner/", "", "Cookie", CookieName+"="+ben); resp.StatusCode != 200 {
		t.Errorf("other owner's session after the removal: %d, want 200", resp.StatusCode)
	}
	if err := owners.OpenStore(filepath.Join(f.data, config.OwnersFile)).Remove("anna"); !errors.Is(err, owners.ErrNoSuchOwner) {
		t.Errorf("second removal: %v, want owners.ErrNoSuchOwner", err)
	}
}

// TestSessionFixation: a session id the browser had before signing in
// (set by an attacker, or a previous session's) never becomes the
// signed-in session.
func TestSessionFixation(t *testing.T) {
	f := newFixture(t)
	old, _ := f.signIn(t, "anna")
	o, _ := f.c.store.ByID(f.c.sessions[old].ownerID)
	for _, planted := range []string{"attacker-chosen-id", old} {
		r := httptest.NewRequest("POST", "/owner/signin/finish", nil)
		r.AddCookie(&http.Cookie{Name: CookieName, Value: planted})
		w := httptest.NewRecorder()
		f.c.startSession(w, r, o)
		got := w.Result().Cookies()[0].Value
		if got == planted {
			t.Errorf("sign-in kept the session id %q", planted)
		}
		if resp := f.do("GET", "/owner/", "", "Cookie", CookieName+"="+planted); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("the id from before sign-in (%q) is signed in: %d", planted, resp.StatusCode)
		}
		if resp := f.do("GET", "/owner/", "", "Cookie", CookieName+"="+got); resp.StatusCode != 200 {
			t.Errorf("the new session: %d, want 200", resp.StatusCode)
		}
	}
}

// TestCrossSitePostRefused: a POST from another site is refused (403),
// signed in or not, and a signed-in POST needs the session's token.
func TestCrossSitePostRefused(t *testing.T) {
	f := newFixture(t)
	ck, csrf := f.signIn(t, "anna")
	cookie := CookieName + "=" + ck
	form := "csrf=" + csrf + "&n=%2B491701234567&via=phone&purpose=all"
	for _, tc := range []struct {
		name, path, body string
		hdr              []string
		want             int
	}{
		{"cross-site withdraw", "/owner/withdraw", form, []string{"Cookie", cookie, "Sec-Fetch-Site", "cross-site"}, 403},
		{"same-site other origin", "/owner/withdraw", form, []string{"Cookie", cookie, "Sec-Fetch-Site", "same-site"}, 403},
		{"foreign Origin, no Sec-Fetch-Site", "/owner/erase", form + "&confirm=yes", []string{"Cookie", cookie, "Origin", "https://evil.example"}, 403},
		{"the shop's site (an allowed origin of the consent form)", "/owner/invite", "csrf=" + csrf + "&phone=01701234567", []string{"Cookie", cookie, "Origin", "https://www.example.org", "Sec-Fetch-Site", "same-site"}, 403},
		{"no CSRF token", "/owner/withdraw", "n=%2B491701234567&via=phone&purpose=all", []string{"Cookie", cookie, "Sec-Fetch-Site", "same-origin"}, 403},
		{"wrong CSRF token", "/owner/withdraw", "csrf=x" + csrf + "&n=1", []string{"Cookie", cookie, "Sec-Fetch-Site", "same-origin"}, 403},
		{"cross-site sign-in", "/owner/signin/begin", "{}", []string{"Content-Type", "application/json", "Sec-Fetch-Site", "cross-site"}, 403},
		{"sign-in as a form", "/owner/signin/begin", "a=b", []string{"Sec-Fetch-Site", "same-origin"}, 415},
		{"cross-site sign-out", "/owner/signout", "csrf=" + csrf, []string{"Cookie", cookie, "Sec-Fetch-Site", "cross-site"}, 403},
	} {
		resp := f.do("POST", tc.path, tc.body, tc.hdr...)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	// Still signed in: nothing above ended or changed the session.
	if resp := f.do("GET", "/owner/", "", "Cookie", cookie); resp.StatusCode != 200 {
		t.Errorf("after the refused posts: %d", resp.StatusCode)
	}
	resp := f.do("POST", "/owner/signin/begin", "{}", "Content-Type", "application/json", "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != 200 {
		t.Errorf("same-origin sign-in begin: %d, want 200", resp.StatusCode)
	}
}

// TestSignInRateLimited: one client gets a burst of sign-in attempts, then
// 429 with Retry-After; another client is not affected.
func TestSignInRateLimited(t *testing.T) {
	f := newFixture(t)
	got429 := 0
	for i := 0; i < signInBurst+3; i++ {
		resp := f.do("POST", "/owner/signin/finish", `{}`, "Content-Type", "application/json")
		if resp.StatusCode == http.StatusTooManyRequests {
			got429++
			if resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	if got429 != 3 {
		t.Errorf("%d of %d attempts got 429, want 3", got429, signInBurst+3)
	}
	r := httptest.NewRequest("POST", "https://consent.example/owner/signin/begin", strings.NewReader("{}"))
	r.RemoteAddr = "198.51.100.7:1"
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Errorf("another client: %d, want 200", w.Code)
	}
	f.now = f.now.Add(signInInterval)
	if resp := f.do("POST", "/owner/signin/begin", `{}`, "Content-Type", "application/json"); resp.StatusCode != 200 {
		t.Errorf("after %v: %d, want 200", signInInterval, resp.StatusCode)
	}
}

// grant records a decision through the collector's public API.
func (f *fixture) grant(t *testing.T, number, name string) {
	t.Helper()
	m, err := textarchive.ReadManifest(f.srv.Paths().Archive)
	if err != nil {
		t.Fatal(err)
	}
	version := ""
	for v, info := range m.Versions {
		if info.Lang == "de" && (version == "" || info.FirstPublished.After(m.Versions[version].FirstPublished)) {
			version = v
		}
	}
	body, _ := json.Marshal(map[string]any{"decision": "granted", "name": name, "phone": number, "purpose": f.cfg.PurposeIDs(), "lang": "de", "text_version": version})
	resp := f.do("POST", "/v1/consent", string(body), "Content-Type", "application/json")
	if resp.StatusCode != 201 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("grant: %d %s", resp.StatusCode, b)
	}
	if len(resp.Cookies()) != 0 {
		t.Errorf("POST /v1/consent set a cookie: %v", resp.Cookies())
	}
}

// TestConsoleWithdrawal: a phone withdrawal recorded in the console is
// the owner operation's signed record naming the channel and the owner;
// the person's page shows it.
func TestConsoleWithdrawal(t *testing.T) {
	f := newFixture(t)
	f.grant(t, "0170 1234567", "Erika Mustermann")
	ck, csrf := f.signIn(t, "anna")
	cookie := CookieName + "=" + ck
	resp := f.do("GET", "/owner/?q=mustermann", "", "Cookie", cookie)
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "491701234567 – Erika Mustermann") || !strings.Contains(string(body), "eingewilligt") {
		t.Errorf("search by name: the person or the state is missing:\n%s", body)
	}
	resp = f.do("GET", "/owner/?q=99999", "", "Cookie", cookie)
	body, _ = io.ReadAll(resp.Body)
	if strings.Contains(string(body), "491701234567") {
		t.Errorf("search for another number lists the person")
	}
	purpose := f.cfg.PurposeIDs()[0]
	resp = f.do("POST", "/owner/withdraw", "csrf="+csrf+"&n=%2B491701234567&via=phone&note=Anruf+14%3A05&purpose="+purpose,
		"Cookie", cookie, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(location(resp), "done=withdrawn") {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("withdraw: %d → %q\n%s", resp.StatusCode, location(resp), b)
	}
	book, _, err := f.srv.OwnerBook()
	if err != nil {
		t.Fatal(err)
	}
	p := book.Person("+491701234567")
	last := p.Events[len(p.Events)-1].Record
	if last.Type != ledger.TypeWithdrawal || last.Via != "phone" || last.By != "anna" || last.Note != "Anruf 14:05" || strings.Join(last.Purposes, ",") != purpose {
		t.Errorf("the log's last record: %+v, want a withdrawal of %s via phone by anna", last, purpose)
	}
	resp = f.do("GET", location(resp), "", "Cookie", cookie)
	body, _ = io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "widerrufen") || !strings.Contains(string(body), "(anna)") {
		t.Errorf("person page after the withdrawal:\n%s", body)
	}
	// A second withdrawal of the same purpose is refused with the reason.
	resp = f.do("POST", "/owner/withdraw", "csrf="+csrf+"&n=%2B491701234567&via=phone&purpose="+purpose, "Cookie", cookie, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("withdrawing it again: %d, want 409", resp.StatusCode)
	}
}

// TestConsoleErase: the erase page asks first; the confirmed erasure is
// the owner operation's.
func TestConsoleErase(t *testing.T) {
	f := newFixture(t)
	f.grant(t, "0170 7654321", "Max Muster")
	ck, csrf := f.signIn(t, "anna")
	cookie := CookieName + "=" + ck
	resp := f.do("GET", "/owner/erase?n=%2B491707654321", "", "Cookie", cookie)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `name="confirm"`) {
		t.Fatalf("erase page: %d\n%s", resp.StatusCode, body)
	}
	// Without the confirmation nothing is erased.
	f.do("POST", "/owner/erase", "csrf="+csrf+"&n=%2B491707654321&reason=request", "Cookie", cookie, "Sec-Fetch-Site", "same-origin")
	if book, _, _ := f.srv.OwnerBook(); book.Person("+491707654321") == nil {
		t.Fatal("erased without the confirmation")
	}
	resp = f.do("POST", "/owner/erase", "csrf="+csrf+"&n=%2B491707654321&reason=request&confirm=yes", "Cookie", cookie, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != 200 {
		t.Fatalf("confirmed erasure: %d", resp.StatusCode)
	}
	book, _, _ := f.srv.OwnerBook()
	if book.Person("+491707654321") != nil {
		t.Error("the number is still known after the erasure")
	}
	evs := book.Events()
	if last := evs[len(evs)-1].Record; last.Type != ledger.TypeErasure || last.By != "anna" || last.Reason != "request" {
		t.Errorf("the log's last record: %+v, want an erasure by anna", last)
	}
	resp = f.do("GET", "/owner/", "", "Cookie", cookie)
	body, _ = io.ReadAll(resp.Body)
	if strings.Contains(string(body), "Max Muster") || !strings.Contains(string(body), "gelöscht") {
		t.Errorf("list after the erasure:\n%s", body)
	}
}

// TestNoCookieOutsideOwner: the data subject's pages set no cookie; the
// console's cookie is set only for /owner/.
func TestNoCookieOutsideOwner(t *testing.T) {
	f := newFixture(t)
	f.grant(t, "0170 1112223", "Lea")
	for _, p := range []string{"/healthz", "/v1/consent?invite=x", "/v1/withdraw?id=x&k=y", "/v1/receipts/x.pdf", "/log/checkpoint", "/"} {
		if resp := f.do("GET", p, ""); len(resp.Cookies()) != 0 {
			t.Errorf("GET %s set cookies %v", p, resp.Cookies())
		}
	}
	if resp := f.do("POST", "/v1/withdraw", "phone=1&id=2&purpose=all&lang=de"); len(resp.Cookies()) != 0 {
		t.Errorf("POST /v1/withdraw set cookies %v", resp.Cookies())
	}
}

// TestConsoleInvite: without invite.key the page says how to make one;
// with it a personal link for the number, the wa.me message and a QR
// code, as `chatconsent invite` makes them; a renewal link's message says
// that the texts changed.
func TestConsoleInvite(t *testing.T) {
	f := newFixture(t)
	ck, csrf := f.signIn(t, "anna")
	cookie := CookieName + "=" + ck
	post := func(form string) (int, string) {
		resp := f.do("POST", "/owner/invite", "csrf="+csrf+"&"+form, "Cookie", cookie, "Sec-Fetch-Site", "same-origin")
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, html.UnescapeString(string(b))
	}
	if st, body := post("phone=0170+1234567&lang=de"); st != http.StatusServiceUnavailable || !strings.Contains(body, "keygen --invite") {
		t.Errorf("without invite.key: %d\n%s", st, body)
	}
	p := f.srv.Paths()
	priv, err := invite.GenerateKey(p.InviteKey, p.InvitePublicKey)
	if err != nil {
		t.Fatal(err)
	}
	st, body := post("phone=0170+1234567&name=J%C3%BCrgen&lang=en")
	if st != 200 {
		t.Fatalf("invite: %d\n%s", st, body)
	}
	m := regexp.MustCompile(`https://consent\.example/v1/consent\?invite=([A-Za-z0-9_.~%-]+)`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no personal link in\n%s", body)
	}
	inv, err := invite.Verify(m[1], priv.Public().(ed25519.PublicKey), f.now)
	if err != nil || inv.Phone != "+491701234567" || inv.Name != "Jürgen" || inv.Lang != "en" {
		t.Errorf("the link's invite: %+v, %v", inv, err)
	}
	book, _, _ := f.srv.OwnerBook()
	evs := book.Events()
	if last := evs[len(evs)-1].Record; last.Type != ledger.TypeOwner || last.Action != "invited" || last.Owner != "anna" || last.Invite != inv.ID || last.Subject != nil {
		t.Errorf("the log's last record: %+v, want anna's invite %s naming nobody", last, inv.ID)
	}
	// The link is a read-only field to select without JavaScript; the
	// copy button is shown by copy.js.
	for _, want := range []string{`<textarea id="link" rows="3" readonly>https://consent.example/v1/consent?invite=`, `data-copy="link"`, `<script src="/owner/copy.js"></script>`} {
		if !strings.Contains(body, want) {
			t.Errorf("invite page lacks %s", want)
		}
	}
	if resp := f.do("GET", "/owner/copy.js", ""); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("copy.js: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{`href="https://wa.me/491701234567?text=Hello%20J%C3%BCrgen`, `src="data:image/png;base64,`} {
		if !strings.Contains(body, want) {
			t.Errorf("invite page lacks %s", want)
		}
	}
	if _, body := post("phone=0170+1234567&lang=en&renew=1"); !strings.Contains(body, "has changed. Please decide again here: https://consent.example/v1/consent?invite=") {
		t.Errorf("a renewal link's message does not say what changed:\n%s", body)
	}
	if st, _ := post("phone=abc&lang=de"); st != http.StatusBadRequest {
		t.Errorf("a bad number: %d, want 400", st)
	}
}

// TestConsoleResend: "send again" on a person's page is the operation of
// `chatconsent receipt resend`: without mail it sends nothing and says so,
// the receipt gets a new link; an id of no record is refused; after the
// person's erasure the operation refuses with its own page.
func TestConsoleResend(t *testing.T) {
	f := newFixture(t)
	f.grant(t, "0170 1234567", "Erika Mustermann")
	ck, csrf := f.signIn(t, "anna")
	cookie := CookieName + "=" + ck
	book, _, err := f.srv.OwnerBook()
	if err != nil {
		t.Fatal(err)
	}
	id := book.Person("+491701234567").Events[0].Record.ID
	resp := f.do("GET", "/owner/person?n=%2B491701234567", "", "Cookie", cookie)
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `action="/owner/resend"`) || !strings.Contains(string(body), `name="id" value="`+id+`"`) || !strings.Contains(string(body), "Erneut senden") {
		t.Fatalf("person page lacks the send-again button for %s:\n%s", id, body)
	}
	resp = f.do("POST", "/owner/resend", "csrf="+csrf+"&n=%2B491701234567&id="+id, "Cookie", cookie, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(location(resp), "done=resent_nomail") {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("resend: %d → %q\n%s", resp.StatusCode, location(resp), b)
	}
	resp = f.do("GET", location(resp), "", "Cookie", cookie)
	body, _ = io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "Es ist kein E-Mail-Versand eingerichtet") {
		t.Errorf("person page after the resend lacks the notice:\n%s", body)
	}
	// Without the session's token: refused, as every console POST.
	resp = f.do("POST", "/owner/resend", "n=%2B491701234567&id="+id, "Cookie", cookie, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode == http.StatusSeeOther {
		t.Errorf("resend without the CSRF token: %d", resp.StatusCode)
	}
	resp = f.do("POST", "/owner/resend", "csrf="+csrf+"&n=%2B491701234567&id=0123456789abcdef0123456789abcdef", "Cookie", cookie, "Sec-Fetch-Site", "same-origin")
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "Diese Bestätigung kann nicht erneut gesendet werden.") {
		t.Errorf("resend of an unknown id: %d\n%s", resp.StatusCode, body)
	}
	if _, err := f.srv.EraseNumber(context.Background(), collector.OwnerErasure{Phone: "+491701234567"}); err != nil {
		t.Fatal(err)
	}
	resp = f.do("POST", "/owner/resend", "csrf="+csrf+"&n=%2B491701234567&id="+id, "Cookie", cookie, "Sec-Fetch-Site", "same-origin")
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusGone || !strings.Contains(string(body), "Die Person wurde gelöscht") || strings.Contains(string(body), `action="/owner/resend"`) {
		t.Errorf("resend after the erasure: %d (want 410, the erased message and no button)\n%s", resp.StatusCode, body)
	}
}

// TestConsoleReceiptsAndAccess: the person's page lists their receipts,
// each a download of the receipt PDF; the access report downloads as a
// readable PDF in the person's language (pdftotext reads it) and the
// export as the JSON of chatconsent export; both need a session, and an
// erased person has no receipts left.
func TestConsoleReceiptsAndAccess(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.grant(t, "0170 1234567", "Jürgen Weiß")
	ck, _ := f.signIn(t, "anna")
	cookie := CookieName + "=" + ck
	book, _, err := f.srv.OwnerBook()
	if err != nil {
		t.Fatal(err)
	}
	id := book.Person("+491701234567").Events[0].Record.ID
	resp := f.do("GET", "/owner/person?n=%2B491701234567", "", "Cookie", cookie)
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`href="/owner/receipt?id=` + id + `"`, `href="/owner/access?n=%2b491701234567"`, `href="/owner/export?n=%2b491701234567"`} {
		if !strings.Contains(strings.ToLower(string(body)), strings.ToLower(want)) {
			t.Errorf("person page lacks %s", want)
		}
	}
	resp = f.do("GET", "/owner/receipt?id="+id, "", "Cookie", cookie)
	pdf, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !strings.Contains(resp.Header.Get("Content-Disposition"), "consent-"+id+".pdf") {
		t.Fatalf("receipt download: %d %v", resp.StatusCode, resp.Header)
	}
	if att, err := receipt.Attachment(pdf); err != nil || !strings.Contains(string(att), id) {
		t.Errorf("the downloaded receipt's record: %v", err)
	}
	if resp := f.do("GET", "/owner/receipt?id=0123456789abcdef0123456789abcdef", "", "Cookie", cookie); resp.StatusCode != http.StatusNotFound {
		t.Errorf("receipt of no record: %d, want 404", resp.StatusCode)
	}

	resp = f.do("GET", "/owner/access?n=%2B491701234567", "", "Cookie", cookie)
	pdf, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !strings.Contains(resp.Header.Get("Content-Disposition"), "access-2026-03-01.pdf") {
		t.Fatalf("access report: %d %v\n%.300s", resp.StatusCode, resp.Header, pdf)
	}
	text := pdfText(t, pdf)
	for _, want := range []string{"Auskunft über Ihre Daten nach Art. 15 DSGVO", "Name: Jürgen Weiß", "WhatsApp-Nummer: +491701234567", "Alle Ereignisse", "Empfänger", "Wie lange wir Ihre Daten speichern", "Die Texte, die Ihnen gezeigt wurden", "Vorgangsnummer: " + id} {
		if !strings.Contains(text, want) {
			t.Errorf("the access report lacks %q", want)
		}
	}
	resp = f.do("GET", "/owner/export?n=%2B491701234567", "", "Cookie", cookie)
	var x struct {
		Format  string `json:"format"`
		Subject struct{ Phone string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&x); err != nil || x.Format != "chatconsent-export-v1" || x.Subject.Phone != "+491701234567" {
		t.Errorf("export: %d %+v %v", resp.StatusCode, x, err)
	}

	if _, err := f.srv.EraseNumber(context.Background(), collector.OwnerErasure{Phone: "+491701234567", By: "anna"}); err != nil {
		t.Fatal(err)
	}
	if resp := f.do("GET", "/owner/receipt?id="+id, "", "Cookie", cookie); resp.StatusCode != http.StatusGone {
		t.Errorf("receipt after the erasure: %d, want 410", resp.StatusCode)
	}
	// The erased person's access report says so and names nobody.
	book, _, _ = f.srv.OwnerBook()
	key := ""
	for _, p := range book.People() {
		if records.IsErased(p.Phone) {
			key = p.Phone
		}
	}
	resp = f.do("GET", "/owner/access?n="+url.QueryEscape(key), "", "Cookie", cookie)
	pdf, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("access report of the erased person (%q): %d", key, resp.StatusCode)
	}
	text = pdfText(t, pdf)
	if !strings.Contains(text, "wurden am 2026-03-01 gelöscht") || strings.Contains(text, "Jürgen") || strings.Contains(text, "1701234567") {
		t.Errorf("the erased person's report:\n%s", text)
	}
}

// pdfText is the text pdftotext reads from pdf, white space collapsed.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "a.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// TestNewSinceLastVisit: decisions and withdrawals after the owner's last
// visit of the list are marked (and listed first) at their next
// sign-in; nothing is on the first visit; the visit is kept in
// owners.json, never in the log.
func TestNewSinceLastVisit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.grant(t, "0170 1111111", "Alt Bekannt")
	ck, _ := f.signIn(t, "anna")
	list := func(ck string) string {
		resp := f.do("GET", "/owner/", "", "Cookie", CookieName+"="+ck)
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if body := list(ck); strings.Contains(body, `class="new"`) || strings.Contains(body, `id="new-since"`) {
		t.Errorf("first visit marks something new:\n%s", body)
	}
	owner, _ := f.c.store.Owners()
	if owner[0].LastVisit.IsZero() {
		t.Fatal("the visit was not stored")
	}
	before, _ := os.ReadFile(filepath.Join(f.data, config.LogFile))

	f.now = f.now.Add(time.Hour)
	f.grant(t, "0170 2222222", "Neu Hinzu")
	o, _ := f.c.store.ByID(owner[0].ID)
	w := httptest.NewRecorder()
	f.c.startSession(w, httptest.NewRequest("POST", "/owner/signin/finish", nil), o)
	ck2 := w.Result().Cookies()[0].Value
	body := list(ck2)
	i, j := strings.Index(body, "Neu Hinzu"), strings.Index(body, "Alt Bekannt")
	if i < 0 || j < 0 || i > j {
		t.Fatalf("the new person is not listed first:\n%s", body)
	}
	if n := strings.Count(body, `<strong class="new">neu</strong>`); n != 1 {
		t.Errorf("%d rows marked new, want 1:\n%s", n, body)
	}
	if !strings.Contains(body, "Neu seit Ihrem letzten Besuch (2026-03-01 11:00): 1") {
		t.Errorf("no summary of what is new:\n%s", body)
	}
	// Still new on a reload within the session.
	if body := list(ck2); !strings.Contains(body, `<strong class="new">neu</strong>`) {
		t.Error("the mark went away on a reload")
	}
	after, _ := os.ReadFile(filepath.Join(f.data, config.LogFile))
	if got := strings.Count(string(after), "\n") - strings.Count(string(before), "\n"); got != 1 {
		t.Errorf("the log grew by %d lines, want 1 (the grant; visits are not logged)", got)
	}
}
