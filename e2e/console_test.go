package e2e

// The owner console (PUBLIC_URL/owner/, package collector/console) in
// Chromium with a virtual authenticator: enrol a passkey from the link of
// "chatconsent owner add", sign in, invite, see the customer's grant,
// record a phone withdrawal; axe-core on every console page.

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

var enrolLinkRe = regexp.MustCompile(`https?://\S+/owner/enrol\?t=[A-Za-z0-9_-]+`)

// addAuthenticator gives the tab a platform authenticator that holds
// passkeys (resident keys) and verifies its user without asking.
func addAuthenticator(t *testing.T, tb *tab) {
	t.Helper()
	if _, err := chromedp.Call(tb.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	if _, err := chromedp.Call(tb.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}}); err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
}

// waitPath waits until the tab's page has path and returns its URL.
func waitPath(t *testing.T, tb *tab, path string) string {
	t.Helper()
	var err error
	for range 20 { // a navigation during the poll ends it: poll again
		if err = chromedp.Do(tb.ctx, chromedp.Poll[chromedp.Void]("location.pathname === "+jsString(path), chromedp.WithPollingInterval(100e6))); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
		errText, _ := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("waiting for %s: %v (at %s: %s)", path, err, loc, errText)
	}
	loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
	return loc
}

func jsString(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// assertLocalOnly fails if the tab sent a request anywhere but this
// machine (127.0.0.1, [::1], localhost).
func assertLocalOnly(t *testing.T, tb *tab) {
	t.Helper()
	for _, u := range tb.net.requests() {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "data" && pu.Scheme != "about" && pu.Hostname() != "localhost" && pu.Hostname() != "127.0.0.1" && pu.Hostname() != "::1") {
			t.Errorf("request left the machine: %s", u)
		}
	}
}

// TestConsolePasskey is the owner's day on a 360 px phone.
func TestConsolePasskey(t *testing.T) {
	t.Parallel()
	src := axeSource(t)
	dir := site(t)
	cfg, data := filepath.Join(dir, "config.toml"), filepath.Join(dir, "data")
	run(t, "keygen", "--invite", "--config", cfg, "--data", data)
	srv := start(t, "serve", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)
	out := run(t, "owner", "add", "anna", "--config", cfg, "--data", data)
	link := enrolLinkRe.FindString(out)
	if link == "" {
		t.Fatalf("no enrolment link in:\n%s", out)
	}
	// The console at the serve address, as localhost: WebAuthn takes no
	// IP address as relying party.
	su, _ := url.Parse(srv.URL)
	console := "http://localhost:" + su.Port() + "/owner/"
	link = console + link[strings.Index(link, "/owner/")+len("/owner/"):]

	en := strs(t, "en") // Chromium asks for English
	b := newBrowser(t)
	tb := b.newTab(t, phone, true)
	addAuthenticator(t, tb)
	axe := func(what string) {
		t.Helper()
		t.Run("axe "+what, func(t *testing.T) { checkPage(t, tb, src, "en") })
	}

	// Without a session every console page is the sign-in page.
	if _, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(console+"invite")); err != nil {
		t.Fatal(err)
	}
	waitPath(t, tb, "/owner/signin")
	axe("sign-in")

	// Enrol.
	resp, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(link))
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("open enrolment link: %v %v", resp, err)
	}
	axe("enrolment")
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID("passkey"))); err != nil {
		t.Fatal(err)
	}
	waitPath(t, tb, "/owner/")
	axe("people (empty)")
	// The link worked once.
	if resp, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(link)); err != nil || resp.Status != http.StatusGone {
		t.Errorf("enrolment link a second time: %v %v, want 410", resp, err)
	}
	axe("enrolment link used")

	// Sign out, sign in with the passkey.
	if _, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(console)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(`form[action="/owner/signout"] button`))); err != nil {
		t.Fatal(err)
	}
	waitPath(t, tb, "/owner/signin")
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID("passkey"))); err != nil {
		t.Fatal(err)
	}
	waitPath(t, tb, "/owner/")

	// Invite.
	if _, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(console+"invite")); err != nil {
		t.Fatal(err)
	}
	axe("invite form")
	if err := chromedp.Do(tb.ctx,
		chromedp.SendKeys(chromedp.ID("phone"), "0170 1234567"),
		chromedp.SendKeys(chromedp.ID("name"), "Jürgen Weiß"),
	); err != nil {
		t.Fatal(err)
	}
	if resp, err := chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(`form[action="/owner/invite"] button[type="submit"]`))); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("make invite: %v %v", resp, err)
	}
	axe("invite made")
	personal, err := chromedp.Run(tb.ctx, chromedp.Value(chromedp.ID("link")))
	if err != nil || !strings.Contains(personal, "/v1/consent?invite=") {
		t.Fatalf("personal link %q, %v", personal, err)
	}
	wa := attrs(t, tb, `a[href^="https://wa.me/491701234567?text="]`)["href"]
	if !strings.Contains(wa, url.QueryEscape(personal)) && !strings.Contains(wa, strings.ReplaceAll(url.QueryEscape(personal), "+", "%20")) {
		t.Errorf("wa.me link %q lacks the personal link", wa)
	}
	if src := attrs(t, tb, "img.qr")["src"]; !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Errorf("QR code src %.40q, want a PNG data: URL", src)
	}

	// The customer opens the link and grants.
	if resp, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(personal)); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("open the personal link: %v %v", resp, err)
	}
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS(`label[for="purpose-orders"]`))); err != nil {
		t.Fatal(err)
	}
	if st := press(t, tb, "granted"); st != http.StatusOK {
		t.Fatalf("grant through the invite: %d", st)
	}

	// See the state, record a phone withdrawal.
	if _, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(console+"?q=wEIß")); err != nil {
		t.Fatal(err)
	}
	axe("people")
	row := text(t, tb, "ul.people > li")
	if !strings.Contains(row, "+491701234567") || !strings.Contains(row, en["console_state_granted"]) {
		t.Fatalf("the list shows %q, want the number granted", row)
	}
	if _, err := chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(`ul.people a`))); err != nil {
		t.Fatal(err)
	}
	axe("person")
	if err := chromedp.Do(tb.ctx,
		chromedp.SetValue(chromedp.ID("via"), "phone"),
		chromedp.Click(chromedp.CSS(`label[for="p-all"]`)),
		chromedp.SendKeys(chromedp.ID("note"), "Anruf 14:05"),
	); err != nil {
		t.Fatal(err)
	}
	if resp, err := chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(`form[action="/owner/withdraw"] button[type="submit"]`))); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("record the withdrawal: %v %v", resp, err)
	}
	axe("person after the withdrawal")
	if got := text(t, tb, ".notice"); got != en["console_done_withdrawn"] {
		t.Errorf("notice %q", got)
	}
	if got := text(t, tb, "table"); !strings.Contains(got, en["console_state_withdrawn"]) {
		t.Errorf("state after the withdrawal: %q", got)
	}
	if got := text(t, tb, "main"); !strings.Contains(got, "phone (anna)") {
		t.Errorf("history lacks the phone withdrawal by anna: %q", got)
	}
	out = run(t, "status", "0170 1234567", "--config", cfg, "--data", data)
	if !strings.Contains(out, "withdrawn") || !strings.Contains(out, "anna") {
		t.Errorf("chatconsent status after the console's withdrawal:\n%s", out)
	}
	if _, err := chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(`a[href^="/owner/erase"]`))); err != nil {
		t.Fatal(err)
	}
	axe("erase confirmation")
	assertLocalOnly(t, tb)
	// Accountability: the owner's addition and passkey are signed records
	// naming her; the withdrawal names her in "by".
	lg, err := os.ReadFile(filepath.Join(data, "decisions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"action":"added","owner":"anna"`, `"by":"anna","action":"enrolled","owner":"anna"`, `"action":"invited","owner":"anna"`, `"via":"phone","by":"anna"`} {
		if !strings.Contains(string(lg), want) {
			t.Errorf("the log lacks %s", want)
		}
	}
}
