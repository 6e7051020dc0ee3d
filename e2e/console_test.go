package e2e

// The owner console (PUBLIC_URL/owner/, package collector/console) in
// Chromium with a virtual authenticator: enrol a passkey from the link of
// "chatconsent owner add", sign in, invite, see the customer's grant,
// record a phone withdrawal; axe-core on every console page.

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"os/exec"
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

// consoleStep is one viewport's round of the owner's day: the customer
// it invites and the console's language.
type consoleStep struct {
	vp           viewport
	number, e164 string
	name, query  string
}

// TestConsolePasskey is the owner's day, on a 360 px phone and then on a
// 1280 × 800 desktop, in one tab of the shared Chromium (its virtual
// authenticator keeps the passkey): enrol (once), sign in, invite (the
// copy button), the customer opens the link and grants, the console
// shows it (marked new at the second sign-in), the receipt downloads, a
// phone withdrawal is recorded, the access request's PDF downloads and
// reads right, the person is erased after the confirmation step;
// axe-core on every console page at both sizes; nothing leaves loopback.
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
	tb := b.newTabFor(t, phone, true, 4*time.Minute)
	addAuthenticator(t, tb)
	steps := []consoleStep{
		{phone, "0170 1234567", "+491701234567", "Jürgen Weiß", "wEIß"},
		{desktop, "0151 23456789", "+4915123456789", "Erika Musterfrau", "muster"},
	}
	for i, st := range steps {
		vp := st.vp
		axe := func(what string) {
			t.Helper()
			t.Run("axe "+vp.Name+" "+what, func(t *testing.T) { checkPage(t, tb, src, "en") })
		}
		click := func(css string) {
			t.Helper()
			if resp, err := chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(css))); err != nil || resp == nil || resp.Status != http.StatusOK {
				t.Fatalf("%s: click %s: %v %v", vp.Name, css, resp, err)
			}
		}
		nav := func(u string) {
			t.Helper()
			if _, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(u)); err != nil {
				t.Fatal(err)
			}
		}
		opts := []chromedp.EmulateViewportOption{}
		if vp.Mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
		}
		if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(vp.Width, vp.Height, opts...)); err != nil {
			t.Fatalf("viewport %s: %v", vp.Name, err)
		}

		// Without a session every console page is the sign-in page.
		nav(console + "invite")
		waitPath(t, tb, "/owner/signin")
		axe("sign-in")

		if i == 0 {
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
			// Sign out, to sign in with the passkey below.
			nav(console)
			click(`form[action="/owner/signout"] button`)
			waitPath(t, tb, "/owner/signin")
		}
		if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID("passkey"))); err != nil {
			t.Fatal(err)
		}
		waitPath(t, tb, "/owner/")
		axe("people")

		// Invite.
		nav(console + "invite")
		axe("invite form")
		if err := chromedp.Do(tb.ctx,
			chromedp.SendKeys(chromedp.ID("phone"), st.number),
			chromedp.SendKeys(chromedp.ID("name"), st.name),
		); err != nil {
			t.Fatal(err)
		}
		click(`form[action="/owner/invite"] button[type="submit"]`)
		axe("invite made")
		personal, err := chromedp.Run(tb.ctx, chromedp.Value(chromedp.ID("link")))
		if err != nil || !strings.Contains(personal, "/v1/consent?invite=") {
			t.Fatalf("personal link %q, %v", personal, err)
		}
		wa := attrs(t, tb, `a[href^="https://wa.me/`+strings.TrimPrefix(st.e164, "+")+`?text="]`)["href"]
		if !strings.Contains(wa, url.QueryEscape(personal)) && !strings.Contains(wa, strings.ReplaceAll(url.QueryEscape(personal), "+", "%20")) {
			t.Errorf("wa.me link %q lacks the personal link", wa)
		}
		if src := attrs(t, tb, "img.qr")["src"]; !strings.HasPrefix(src, "data:image/png;base64,") {
			t.Errorf("QR code src %.40q, want a PNG data: URL", src)
		}
		// copy.js shows the copy button (it is hidden without JavaScript).
		if shown, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`!document.getElementById("copy-link").hidden`)); err != nil || !shown {
			t.Errorf("copy button not shown: %v %v", shown, err)
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

		// See the state, marked new: the grant came after the owner's
		// last look at the list.
		nav(console + "?q=" + url.QueryEscape(st.query))
		axe("people search")
		row := text(t, tb, "ul.people > li")
		if !strings.Contains(row, st.e164) || !strings.Contains(row, en["console_state_granted"]) {
			t.Fatalf("the list shows %q, want the number granted", row)
		}
		if !strings.Contains(strings.ToLower(row), strings.ToLower(en["console_new"])) { // shown in capitals
			t.Errorf("the row %q is not marked new", row)
		}
		click(`ul.people a`)
		axe("person")

		// The receipt downloads from the person's page.
		if pdf := b.download(t, tb, chromedp.Click(chromedp.CSS(`ul.receipts a`))); !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Errorf("the downloaded receipt is not a PDF: %.20q", pdf)
		}

		// A withdrawal by phone.
		if err := chromedp.Do(tb.ctx,
			chromedp.SetValue(chromedp.ID("via"), "phone"),
			chromedp.Click(chromedp.CSS(`label[for="p-all"]`)),
			chromedp.SendKeys(chromedp.ID("note"), "Anruf 14:05"),
		); err != nil {
			t.Fatal(err)
		}
		click(`form[action="/owner/withdraw"] button[type="submit"]`)
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
		out = run(t, "status", st.number, "--config", cfg, "--data", data)
		if !strings.Contains(out, "withdrawn") || !strings.Contains(out, "anna") {
			t.Errorf("chatconsent status after the console's withdrawal:\n%s", out)
		}

		// The access request: the readable PDF, in the person's language.
		report := pdfToText(t, b.download(t, tb, chromedp.Click(chromedp.CSS(`a[href^="/owner/access"]`))))
		for _, want := range []string{en["access_title"], "Name: " + st.name, "WhatsApp number: " + st.e164, en["access_events"], en["access_recipients"], en["access_retention"], "Anruf 14:05"} {
			if !strings.Contains(report, want) {
				t.Errorf("the access report lacks %q:\n%s", want, report)
			}
		}

		// Erasure, after the confirmation step.
		click(`a[href^="/owner/erase"]`)
		axe("erase confirmation")
		if _, ok := attrs(t, tb, `input#confirm`)["required"]; !ok {
			t.Error("the confirmation box is not required")
		}
		if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS(`label[for="confirm"]`))); err != nil {
			t.Fatal(err)
		}
		click(`form[action="/owner/erase"] button[type="submit"]`)
		axe("erased")
		if got := text(t, tb, ".notice"); got != en["console_done_erased"] {
			t.Errorf("after the erasure: %q", got)
		}
		nav(console + "?q=" + url.QueryEscape(st.query))
		if got := text(t, tb, "main"); strings.Contains(got, st.e164) {
			t.Errorf("the list still finds the person after the erasure: %q", got)
		}
		assertLocalOnly(t, tb)
		click(`form[action="/owner/signout"] button`)
		waitPath(t, tb, "/owner/signin")
	}
	// Accountability: the owner's addition and passkey are signed records
	// naming her; the withdrawals and erasures name her in "by".
	lg, err := os.ReadFile(filepath.Join(data, "decisions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"action":"added","owner":"anna"`, `"by":"anna","action":"enrolled","owner":"anna"`, `"action":"invited","owner":"anna"`, `"via":"phone","by":"anna"`} {
		if !strings.Contains(string(lg), want) {
			t.Errorf("the log lacks %s", want)
		}
	}
	if n := strings.Count(string(lg), `"type":"erasure"`); n != 2 {
		t.Errorf("the log holds %d erasures, want 2", n)
	}
	if n := regexp.MustCompile(`"type":"erasure"[^\n]*"by":"anna"`).FindAllIndex(lg, -1); len(n) != 2 {
		t.Errorf("%d erasures name anna in \"by\", want 2", len(n))
	}
}

// pdfToText is the text pdftotext reads from pdf, white space collapsed.
func pdfToText(t *testing.T, pdf []byte) string {
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
