package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/invite"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/config"
)

var (
	personalRe = regexp.MustCompile(`(?m)^personal link: (\S+)$`)
	whatsappRe = regexp.MustCompile(`(?m)^WhatsApp: +(\S+)$`)
	withdrawRe = regexp.MustCompile(`href="([^"]*/v1/withdraw\?id=[0-9a-f]{32}&amp;k=[^"]+)"`)
)

// local turns a link made for collector.public_url into one for the test's
// collector.
func local(link, base string) string {
	return strings.Replace(strings.ReplaceAll(link, "&amp;", "&"), "http://127.0.0.1:8080/", base, 1)
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readBody(t, resp)
}

func postForm(t *testing.T, u string, v url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readBody(t, resp)
}

func postJSON(t *testing.T, u, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(readBody(t, resp)), &m); err != nil {
		t.Fatalf("answer of %s is not JSON: %v", u, err)
	}
	return resp.StatusCode, m
}

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, code := chatconsent(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
	}
	return stdout
}

// TestInviteAndWithdrawal walks the WhatsApp procedure through the real
// binary: invite → open the personal link → decide through it → status →
// withdraw one purpose → status → withdraw the rest; forged, expired and
// reused tokens; the owner's records; renewal after a material change.
func TestInviteAndWithdrawal(t *testing.T) {
	t.Parallel()
	dir := site(t)
	cfg := filepath.Join(dir, "config.toml")
	data := filepath.Join(dir, "data")
	runOK(t, "build", "--config", cfg, "--out", filepath.Join(dir, "public"))
	out := runOK(t, "keygen", "--invite", "--config", cfg, "--data", data)
	keygenOut := out
	if !strings.Contains(out, "invite.key") {
		t.Errorf("keygen --invite: %s", out)
	}
	if st, err := os.Stat(filepath.Join(data, config.InviteKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("invite key: %v %v", st, err)
	}
	base := start(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)
	status := func(number string) string { return runOK(t, "status", "--config", cfg, "--data", data, number) }

	// 1. The owner invites Jürgen.
	out = runOK(t, "invite", "--config", cfg, "--data", data, "--phone", "0170 1234567", "--name", "Jürgen Weiß")
	// The test site's public_url is loopback: the links open on no other
	// phone, and invite says so (issue 11 item 16); it prints the invite
	// key's fingerprint, as keygen --invite did (item 24).
	if _, stderr, _ := chatconsent(t, "invite", "--config", cfg, "--data", data, "--phone", "0170 1234567"); !strings.Contains(stderr, "chatconsent: warning: collector.public_url is http://127.0.0.1:8080/, this computer") {
		t.Errorf("no loopback warning:\n%s", stderr)
	}
	if fp := regexp.MustCompile(`fingerprint (SHA256:[0-9a-f]{64})`).FindStringSubmatch(keygenOut); fp == nil || !strings.Contains(out, "fingerprint "+fp[1]) {
		t.Errorf("invite does not print the fingerprint keygen --invite printed:\n%s\n%s", keygenOut, out)
	}
	m := personalRe.FindStringSubmatch(out)
	wa := whatsappRe.FindStringSubmatch(out)
	if m == nil || wa == nil {
		t.Fatalf("invite output:\n%s", out)
	}
	link := m[1]
	token := strings.TrimPrefix(link, "http://127.0.0.1:8080/v1/consent?invite=")
	if token == link || len(token) < 100 {
		t.Fatalf("personal link %q", link)
	}
	if !strings.HasPrefix(wa[1], "https://wa.me/491701234567?text=Hallo%20J%C3%BCrgen%20Wei%C3%9F%2C%20") || !strings.Contains(wa[1], url.QueryEscape(token)) {
		t.Errorf("WhatsApp link %s", wa[1])
	}

	// WhatsApp's link preview, fetched when the owner sends the link, is
	// not the person opening it: nothing is logged.
	req, _ := http.NewRequest("GET", local(link, base), nil)
	req.Header.Set("User-Agent", "WhatsApp/2.24.10.85 A")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("preview fetch: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if st, _ := os.Stat(filepath.Join(data, "decisions.jsonl")); st.Size() != 0 {
		t.Error("a link preview was logged as an opening")
	}

	// 2. Jürgen opens it: the number pre-filled and read-only, the token in
	// the HTML, no script.
	code, html := get(t, local(link, base))
	if code != 200 {
		t.Fatalf("open invite: %d\n%s", code, html)
	}
	for _, want := range []string{
		`<input type="hidden" name="invite" value="` + token + `">`,
		`name="phone" required autocomplete="tel" maxlength="40" value="&#43;491701234567" readonly`,
		`value="Jürgen Weiß"`, `name="purpose" value="orders"`, `<html lang="de">`,
		`href="http://127.0.0.1:8080/de/datenschutz/"`, // site links point to the site
	} {
		if !strings.Contains(html, want) {
			t.Errorf("invite page lacks %s", want)
		}
	}
	if strings.Contains(strings.ToLower(html), "<script") || strings.Contains(html, " checked") {
		t.Error("invite page has a script or a pre-ticked purpose")
	}
	version := textVersionRe.FindStringSubmatch(html)[1]
	if code, html := get(t, local(link, base)+"&lang=en"); code != 200 || !strings.Contains(html, `<html lang="en">`) {
		t.Errorf("invite page in English: %d", code)
	}

	// 3. The number cannot be changed.
	grant := url.Values{
		"decision": {"granted"}, "name": {"Jürgen Weiß"}, "phone": {"+49 30 1234567"},
		"purpose": {"orders", "documents"}, "lang": {"de"}, "text_version": {version}, "invite": {token},
	}
	if code, html := postForm(t, base+"v1/consent", grant); code != 400 || !strings.Contains(html, "nur für die WhatsApp-Nummer") || !strings.Contains(html, `value="`+token+`"`) {
		t.Errorf("changed number: %d\n%s", code, html)
	}
	// 4. He grants both purposes through the link.
	grant.Set("phone", "+491701234567")
	code, html = postForm(t, base+"v1/consent", grant)
	if code != 200 || !strings.Contains(html, "Ihre Einwilligung ist gespeichert.") {
		t.Fatalf("grant through invite: %d\n%s", code, html)
	}
	wm := withdrawRe.FindStringSubmatch(html)
	if wm == nil {
		t.Fatalf("thank-you page lacks the personal withdrawal link:\n%s", html)
	}
	withdrawLink := local(wm[1], base)
	decisionID := regexp.MustCompile(`id=([0-9a-f]{32})`).FindStringSubmatch(withdrawLink)[1]

	// 5. The token is used up: for the form and for the page.
	if code, html := postForm(t, base+"v1/consent", grant); code != 409 || !strings.Contains(html, "bereits eine Entscheidung") || !strings.Contains(html, "v1/withdraw?invite=") {
		t.Errorf("reused token: %d\n%s", code, html)
	}
	if code, _ := get(t, local(link, base)); code != 409 {
		t.Errorf("reopened used link: %d, want 409", code)
	}

	// 6. Status: both granted, the decision names the invite.
	st := status("0170 1234567")
	inv, _ := invite.Decode(token)
	for _, want := range []string{"orders     granted", "documents  granted", "invite link opened", "via invite " + inv.ID[:12]} {
		if !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}
	}
	logBytes, _ := os.ReadFile(filepath.Join(data, "decisions.jsonl"))
	lines := strings.Split(strings.TrimSpace(string(logBytes)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"type":"invite"`) || !strings.Contains(lines[1], `"invite":"`) {
		t.Fatalf("log after invite and decision:\n%s", logBytes)
	}
	if !strings.Contains(lines[1], `"invite":"`+inv.ID+`"`) || !strings.Contains(lines[0], `"id":"`+inv.ID+`"`) {
		t.Errorf("decision does not name invite %s", inv.ID)
	}

	// 7. The personal withdrawal link: both purposes offered and "all
	// purposes", none ticked: it asks like the static page (issue 11 item
	// 21; they were pre-ticked before).
	code, html = get(t, withdrawLink)
	if code != 200 || strings.Count(html, `name="purpose"`) != 3 || !strings.Contains(html, `name="purpose" value="all"`) || strings.Count(html, " checked") != 0 {
		t.Fatalf("withdrawal page: %d\n%s", code, html)
	}
	k := regexp.MustCompile(`name="k" value="([^"]+)"`).FindStringSubmatch(html)[1]
	// Withdraw one purpose, keep the other.
	code, html = postForm(t, base+"v1/withdraw", url.Values{"id": {decisionID}, "k": {k}, "purpose": {"documents"}, "lang": {"de"}})
	if code != 200 || !strings.Contains(html, "Ihr Widerruf ist gespeichert.") {
		t.Fatalf("withdraw documents: %d\n%s", code, html)
	}
	rm := receiptRe.FindStringSubmatch(html)
	if rm == nil || withdrawRe.FindStringSubmatch(html) == nil {
		t.Fatalf("withdrawal thank-you page lacks the receipt or the link for the rest:\n%s", html)
	}
	code, pdf := get(t, local(rm[1], base))
	if code != 200 || !strings.HasPrefix(pdf, "%PDF-") {
		t.Fatalf("withdrawal receipt: %d", code)
	}
	if text := pdfText(t, []byte(pdf)); !strings.Contains(text, "Widerrufsbestätigung") || !strings.Contains(text, groupedID(decisionID)) || !strings.Contains(text, "widerrufen") {
		t.Errorf("withdrawal receipt text:\n%s", text)
	}
	st = status("+491701234567")
	if !strings.Contains(st, "orders     granted") || !strings.Contains(st, "documents  withdrawn") || !strings.Contains(st, "withdrew documents of decision "+decisionID[:12]+" (link)") {
		t.Errorf("status after withdrawing documents:\n%s", st)
	}
	// The same purpose again: nothing to withdraw.
	if code, _ := postForm(t, base+"v1/withdraw", url.Values{"id": {decisionID}, "k": {k}, "purpose": {"documents"}}); code != 409 {
		t.Errorf("withdraw documents twice: %d, want 409", code)
	}

	// 8. The static withdrawal page's way: number and record id, no
	// purpose = the rest. A wrong number or id finds nothing.
	if code, _ := postJSON(t, base+"v1/withdraw", `{"phone":"+49 30 1234567","id":"`+decisionID+`","purpose":["all"]}`); code != 404 {
		t.Errorf("withdraw with another number: %d, want 404", code)
	}
	if code, html := postForm(t, base+"v1/withdraw", url.Values{"phone": {"0170 1234567"}, "id": {"123"}, "lang": {"en"}}); code != 400 || !strings.Contains(html, "reference number") {
		t.Errorf("withdraw with a bad id: %d\n%s", code, html)
	}
	code, ans := postJSON(t, base+"v1/withdraw", `{"phone":"0170 1234567","id":"`+decisionID+`","purpose":["all"],"lang":"de"}`)
	if code != 201 || ans["withdrawn"].([]any)[0] != "orders" || len(ans["still_granted"].([]any)) != 0 {
		t.Fatalf("withdraw the rest: %d %v", code, ans)
	}
	st = status("+491701234567")
	if !strings.Contains(st, "orders     withdrawn") || !strings.Contains(st, "(form)") {
		t.Errorf("status after withdrawing everything:\n%s", st)
	}
	if code, _ := get(t, withdrawLink); code != 409 {
		t.Errorf("withdrawal link with nothing left: %d, want 409", code)
	}

	// 9. Forged, tampered and expired tokens get a clear page, not a 500.
	other := t.TempDir()
	runOK(t, "keygen", "--invite", "--data", other, "--config", cfg)
	out = runOK(t, "invite", "--config", cfg, "--data", other, "--phone", "+48 512 345 678", "--lang", "en")
	forged := personalRe.FindStringSubmatch(out)[1]
	if code, html := get(t, local(forged, base)); code != 400 || !strings.Contains(html, "This link is not valid") {
		t.Errorf("forged token: %d\n%s", code, html)
	}
	tampered := local(link, base)
	tampered = tampered[:len(tampered)-5] + "AAAAA"
	if code, html := get(t, tampered); code != 400 || !strings.Contains(html, "Dieser Link ist ungültig") {
		t.Errorf("tampered token: %d\n%s", code, html)
	}
	priv, err := invite.ReadKey(filepath.Join(data, config.InviteKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	old, _ := invite.New("+48512345678", "", "en", time.Now().Add(-time.Hour))
	expired, _ := invite.Encode(old, priv)
	if code, html := get(t, base+"v1/consent?invite="+expired); code != 410 || !strings.Contains(html, "This link has expired") {
		t.Errorf("expired token: %d\n%s", code, html)
	}
	if code, ans := postJSON(t, base+"v1/consent", `{"decision":"granted","name":"Ł","phone":"+48512345678","purpose":["orders"],"lang":"en","text_version":"`+version+`","invite":"`+expired+`"}`); code != 410 || ans["fields"] == nil {
		t.Errorf("decision with an expired token: %d %v", code, ans)
	}

	// 10. Łukasz grants by JSON through a fresh English invite, without
	// opening the page first: the invite event is logged with it.
	out = runOK(t, "invite", "--config", cfg, "--data", data, "--phone", "+48 512 345 678", "--lang", "en")
	tok2 := strings.TrimPrefix(personalRe.FindStringSubmatch(out)[1], "http://127.0.0.1:8080/v1/consent?invite=")
	_, en := get(t, base+"v1/consent?invite="+tok2+"&lang=en")
	enVersion := textVersionRe.FindStringSubmatch(en)[1]
	code, ans = postJSON(t, base+"v1/consent", `{"decision":"granted","name":"Łukasz Wróbel","phone":"+48 512 345 678","purpose":["orders"],"lang":"en","text_version":"`+enVersion+`","invite":"`+tok2+`"}`)
	if code != 201 {
		t.Fatalf("JSON grant through invite: %d %v", code, ans)
	}

	// 11. The owner's records.
	csv := runOK(t, "list", "--config", cfg, "--data", data, "--format", "csv")
	rows := strings.Split(strings.TrimSpace(csv), "\r\n")
	if len(rows) != 5 || rows[0] != "time_utc,time_berlin,type,id,phone,name,email,decision,purposes,lang,text_version,invite,ref" ||
		!strings.Contains(rows[4], ",decision,") || !strings.Contains(rows[4], "Łukasz Wróbel") {
		t.Errorf("list --format csv:\n%s", csv)
	}
	if table := runOK(t, "list", "--config", cfg, "--data", data); !strings.Contains(table, "withdrawn (of "+decisionID[:12]+")") {
		t.Errorf("list table:\n%s", table)
	}
	if since := runOK(t, "list", "--config", cfg, "--data", data, "--since", "2999-01-01", "--format", "json"); strings.TrimSpace(since) != "[]" {
		t.Errorf("list --since in the future: %s", since)
	}
	if _, stderr, code := chatconsent(t, "list", "--config", cfg, "--data", data, "--format", "xml"); code != 2 || !strings.Contains(stderr, "--format") {
		t.Errorf("list --format xml: exit %d %s", code, stderr)
	}
	var x struct {
		Events []struct {
			Record ledger.Record
			Line   string
		}
		Texts    map[string]string
		Receipts []map[string]any `json:"consent_receipts"`
	}
	if err := json.Unmarshal([]byte(runOK(t, "export", "--config", cfg, "--data", data, "0170 1234567")), &x); err != nil {
		t.Fatal(err)
	}
	if len(x.Events) != 4 || x.Texts[version] == "" || len(x.Receipts) != 1 || x.Receipts[0]["version"] != "KI-CR-v1.1.0" ||
		x.Receipts[0]["piiPrincipalId"] != "+491701234567" || !strings.HasPrefix(x.Events[1].Line, `{"rec":`) {
		t.Errorf("export: %d events, %d texts, receipts %v", len(x.Events), len(x.Texts), x.Receipts)
	}
	if _, stderr, code := chatconsent(t, "status", "--config", cfg, "--data", data, "+49 171 9999999"); code != 1 || !strings.Contains(stderr, "no records for +491719999999") {
		t.Errorf("status of an unknown number: %d %s", code, stderr)
	}
	if out := runOK(t, "verify", filepath.Join(data, "decisions.jsonl")); !strings.Contains(out, "OK, 6 records") {
		t.Errorf("verify: %s", out)
	}

	// 12. A material change of the English text: Łukasz needs to be asked
	// again, and invite --renew prints his new link.
	pg := filepath.Join(dir, "content", "en", "consent.md")
	src, _ := os.ReadFile(pg)
	src = []byte(strings.Replace(string(src), "slug = \"consent\"\n", "slug = \"consent\"\nmaterial_change = true\n", 1) + "\nNew: appointment reminders.\n")
	os.WriteFile(pg, src, 0o644)
	runOK(t, "build", "--config", cfg, "--out", filepath.Join(dir, "public"))
	if st := status("+48512345678"); !strings.Contains(st, "orders     renewal needed") {
		t.Errorf("status after a material change:\n%s", st)
	}
	if st := status("+491701234567"); strings.Contains(st, "renewal needed") {
		t.Errorf("withdrawn German consent shows renewal:\n%s", st)
	}
	out = runOK(t, "invite", "--config", cfg, "--data", data, "--renew")
	if !strings.Contains(out, "1 person to ask again") || !strings.Contains(out, "+48512345678 Łukasz Wróbel: orders") || !strings.Contains(out, "https://wa.me/48512345678?text=Hello%20%C5%81ukasz") {
		t.Errorf("invite --renew:\n%s", out)
	}
	// The README's split (issue 11 item 17): the invite key on the laptop,
	// the log on the server. The owner copies decisions.jsonl and
	// signing.pub from the server into log-copy/ and runs invite --renew
	// --log there, with a data folder that holds only the invite key.
	laptop, logCopy := filepath.Join(dir, "laptop-data"), filepath.Join(dir, "log-copy")
	os.MkdirAll(laptop, 0o700)
	os.MkdirAll(filepath.Join(logCopy, "private"), 0o700)
	for _, f := range []struct{ from, to string }{
		{filepath.Join(data, config.InviteKeyFile), filepath.Join(laptop, config.InviteKeyFile)},
		{filepath.Join(data, "decisions.jsonl"), filepath.Join(logCopy, "decisions.jsonl")},
		{filepath.Join(data, "signing.pub"), filepath.Join(logCopy, "signing.pub")},
		// Format 2: the numbers are in the private store beside the log.
		{filepath.Join(data, "private", "keys.jsonl"), filepath.Join(logCopy, "private", "keys.jsonl")},
		{filepath.Join(data, "private", "openings.jsonl"), filepath.Join(logCopy, "private", "openings.jsonl")},
	} {
		b, err := os.ReadFile(f.from)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(f.to, b, 0o600)
	}
	if _, stderr, code := chatconsent(t, "invite", "--config", cfg, "--data", laptop, "--renew"); code != 1 || !strings.Contains(stderr, "--log FILE") {
		t.Errorf("invite --renew on the laptop without --log: exit %d\n%s", code, stderr)
	}
	split, stderr, code := chatconsent(t, "invite", "--config", cfg, "--data", laptop, "--renew", "--log", filepath.Join(logCopy, "decisions.jsonl"))
	if code != 0 || !strings.Contains(split, "1 person to ask again") || !strings.Contains(split, "+48512345678 Łukasz Wróbel: orders") || !strings.Contains(split, "https://wa.me/48512345678?text=Hello%20%C5%81ukasz") {
		t.Errorf("invite --renew --log: exit %d\n%s\n%s", code, split, stderr)
	}
	// The folder works as well as the file; a folder without signing.pub
	// says what to copy.
	if out, _, code := chatconsent(t, "invite", "--config", cfg, "--data", laptop, "--renew", "--log", logCopy); code != 0 || !strings.Contains(out, "1 person to ask again") {
		t.Errorf("invite --renew --log DIR: exit %d\n%s", code, out)
	}
	os.Remove(filepath.Join(logCopy, "signing.pub"))
	if _, stderr, code := chatconsent(t, "invite", "--config", cfg, "--data", laptop, "--renew", "--log", logCopy); code != 1 || !strings.Contains(stderr, "copy the collector's signing.pub beside the copy of its log") {
		t.Errorf("--log without signing.pub: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := chatconsent(t, "invite", "--config", cfg, "--data", laptop, "--phone", "0170 1234567", "--log", logCopy); code != 2 || !strings.Contains(stderr, "--log goes with --renew") {
		t.Errorf("--log with --phone: exit %d\n%s", code, stderr)
	}

	// His renewal link shows the new text to the running collector, not
	// the one it started with (issue 11 item 5).
	if m := personalRe.FindStringSubmatch(out); m == nil {
		t.Errorf("invite --renew printed no personal link:\n%s", out)
	} else if code, page := get(t, local(m[1], base)); code != 200 || !strings.Contains(page, "New: appointment reminders.") {
		t.Errorf("renewal invite page: %d, new text shown: %v", code, strings.Contains(page, "New: appointment reminders."))
	} else if v := textVersionRe.FindStringSubmatch(page); v == nil || v[1] == enVersion {
		t.Errorf("renewal invite page offers text version %v, the old one is %s", v, enVersion)
	}

	// A refusal's thank-you page offers nothing to withdraw.
	if code, html := postForm(t, base+"v1/consent", url.Values{
		"decision": {"refused"}, "name": {"Anna"}, "phone": {"0171 2345678"}, "lang": {"de"}, "text_version": {version},
	}); code != 200 || strings.Contains(html, "v1/withdraw") {
		t.Errorf("refusal thank-you page: %d, withdrawal link present: %v", code, strings.Contains(html, "v1/withdraw"))
	}

	// 13. One token, many clicks at once: exactly one decision.
	out = runOK(t, "invite", "--config", cfg, "--data", data, "--phone", "+49 30 1234567")
	tok3 := strings.TrimPrefix(personalRe.FindStringSubmatch(out)[1], "http://127.0.0.1:8080/v1/consent?invite=")
	_, de := get(t, base+"v1/consent?invite="+tok3)
	deVersion := textVersionRe.FindStringSubmatch(de)[1]
	codes := make(chan int, 8)
	for range 8 {
		go func() {
			resp, err := http.Post(base+"v1/consent", "application/json", strings.NewReader(
				`{"decision":"refused","name":"Юлия","phone":"+49 30 1234567","lang":"de","text_version":"`+deVersion+`","invite":"`+tok3+`"}`))
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	count := map[int]int{}
	for range 8 {
		count[<-codes]++
	}
	if count[201] != 1 || count[409] != 7 {
		t.Errorf("8 concurrent decisions with one token: %v, want one 201 and seven 409", count)
	}
	// 10: nine as before, and the opening of Łukasz's renewal link.
	if out := runOK(t, "verify", filepath.Join(data, "decisions.jsonl")); !strings.Contains(out, "OK, 10 records") {
		t.Errorf("verify after the race: %s", out)
	}
}

// TestWithdrawAfterRestart: the collector's index of the log is rebuilt on
// every start. A grant made before a crash (SIGKILL) can be withdrawn
// after it, by the personal link and by number and record id, and after a
// second crash the link knows that nothing is left to withdraw.
func TestWithdrawAfterRestart(t *testing.T) {
	t.Parallel()
	dir, cfg, data, args := collectSite(t)
	version := textVersion(t, dir, "de")

	base, _, crash := startStoppable(t, args...)
	grant := url.Values{"decision": {"granted"}, "name": {"Jürgen Weiß"}, "phone": {"0170 1234567"},
		"purpose": {"orders", "documents"}, "lang": {"de"}, "text_version": {version}}
	code, html := postForm(t, base+"v1/consent", grant)
	wm := withdrawRe.FindStringSubmatch(html)
	if code != 200 || wm == nil {
		t.Fatalf("grant: %d\n%s", code, html)
	}
	// Others decide too, on the public form and as JSON.
	for _, phone := range []string{"0170 7654321", "+48 512 345 678"} {
		if code, ans := postJSON(t, base+"v1/consent", `{"decision":"granted","name":"N","phone":"`+phone+`","purpose":["orders"],"lang":"de","text_version":"`+version+`"}`); code != 201 {
			t.Fatalf("grant for %s: %d %v", phone, code, ans)
		}
	}
	crash()

	base, _, crash = startStoppable(t, args...)
	link := local(wm[1], base)
	decisionID := regexp.MustCompile(`id=([0-9a-f]{32})`).FindStringSubmatch(link)[1]
	code, html = get(t, link)
	if code != 200 || strings.Count(html, `name="purpose"`) != 3 || strings.Count(html, " checked") != 0 {
		t.Fatalf("withdrawal page after a restart: %d\n%s", code, html)
	}
	k := regexp.MustCompile(`name="k" value="([^"]+)"`).FindStringSubmatch(html)[1]
	if code, html = postForm(t, base+"v1/withdraw", url.Values{"id": {decisionID}, "k": {k}, "purpose": {"documents"}, "lang": {"de"}}); code != 200 {
		t.Fatalf("withdraw documents after a restart: %d\n%s", code, html)
	}
	code, ans := postJSON(t, base+"v1/withdraw", `{"phone":"0170 1234567","id":"`+decisionID+`","purpose":["all"],"lang":"de"}`)
	if code != 201 || fmt.Sprint(ans["withdrawn"]) != "[orders]" {
		t.Fatalf("withdraw the rest by number and id: %d %v", code, ans)
	}
	crash()

	base, _, _ = startStoppable(t, args...)
	if code, _ := get(t, local(wm[1], base)); code != 409 {
		t.Errorf("withdrawal link after a second restart, nothing left: %d, want 409", code)
	}
	st := runOK(t, "status", "--config", cfg, "--data", data, "0170 1234567")
	if !strings.Contains(st, "orders     withdrawn") || !strings.Contains(st, "documents  withdrawn") {
		t.Errorf("status:\n%s", st)
	}
	if out := runOK(t, "verify", filepath.Join(data, "decisions.jsonl")); !strings.Contains(out, "OK, 5 records") {
		t.Errorf("verify: %s", out)
	}
}

// TestWithdrawRemovedPurpose: a purpose removed from config.toml after
// someone consented to it stays withdrawable (status still shows it
// granted): the personal link offers it, and withdrawing it by name works.
func TestWithdrawRemovedPurpose(t *testing.T) {
	t.Parallel()
	dir, cfg, data, args := collectSite(t)
	version := textVersion(t, dir, "de")
	base, _, crash := startStoppable(t, args...)
	code, html := postForm(t, base+"v1/consent", url.Values{"decision": {"granted"}, "name": {"Jürgen Weiß"}, "phone": {"0170 1234567"},
		"purpose": {"orders", "documents"}, "lang": {"de"}, "text_version": {version}})
	wm := withdrawRe.FindStringSubmatch(html)
	if code != 200 || wm == nil {
		t.Fatalf("grant: %d\n%s", code, html)
	}
	crash()

	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("[[purposes]]\nid = \"documents\""))
	j := bytes.Index(b[i:], []byte("\n\n"))
	if i < 0 || j < 0 {
		t.Fatal("config.toml: documents purpose not found")
	}
	os.WriteFile(cfg, append(b[:i:i], b[i+j+2:]...), 0o644)
	if st := runOK(t, "status", "--config", cfg, "--data", data, "0170 1234567"); !strings.Contains(st, "documents  granted") {
		t.Fatalf("status after removing the purpose:\n%s", st)
	}

	base, _, _ = startStoppable(t, args...)
	link := local(wm[1], base)
	code, html = get(t, link)
	if code != 200 || !strings.Contains(html, `value="documents"`) || !strings.Contains(html, `value="orders"`) {
		t.Fatalf("withdrawal page after the purpose was removed: %d\n%s", code, html)
	}
	id := regexp.MustCompile(`id=([0-9a-f]{32})`).FindStringSubmatch(link)[1]
	k := regexp.MustCompile(`name="k" value="([^"]+)"`).FindStringSubmatch(html)[1]
	code, html = postForm(t, base+"v1/withdraw", url.Values{"id": {id}, "k": {k}, "purpose": {"documents"}, "lang": {"de"}})
	if code != 200 {
		t.Fatalf("withdraw the removed purpose: %d\n%s", code, html)
	}
	st := runOK(t, "status", "--config", cfg, "--data", data, "0170 1234567")
	if !strings.Contains(st, "documents  withdrawn") || !strings.Contains(st, "orders     granted") {
		t.Errorf("status:\n%s", st)
	}
	// A purpose that was never configured nor granted is still refused.
	if code, _ := postForm(t, base+"v1/withdraw", url.Values{"id": {id}, "k": {k}, "purpose": {"marketing"}}); code != 400 {
		t.Errorf("withdraw an unknown purpose: %d, want 400", code)
	}
}

// TestWithdrawNotGranted: asking to withdraw a purpose that is not in
// force, while another one is, says so (not "nothing left"); a record id
// typed in capitals works.
func TestWithdrawNotGranted(t *testing.T) {
	t.Parallel()
	dir, _, _, args := collectSite(t)
	base := start(t, args...)
	code, ans := postJSON(t, base+"v1/consent", `{"decision":"granted","name":"N","phone":"0170 1234567","purpose":["orders"],"lang":"en","text_version":"`+textVersion(t, dir, "en")+`"}`)
	if code != 201 {
		t.Fatalf("grant: %d %v", code, ans)
	}
	id := ans["id"].(string)
	code, ans = postJSON(t, base+"v1/withdraw", `{"phone":"0170 1234567","id":"`+id+`","purpose":["documents"],"lang":"en"}`)
	if code != 409 || ans["code"] != "withdraw_not_granted" || !strings.Contains(fmt.Sprint(ans["error"]), "Consent to other purposes is still in force") {
		t.Errorf("withdraw a purpose not granted: %d %v", code, ans)
	}
	code, ans = postJSON(t, base+"v1/withdraw", `{"phone":"0170 1234567","id":" `+strings.ToUpper(id)+` ","purpose":["all"],"lang":"en"}`)
	if code != 201 || fmt.Sprint(ans["withdrawn"]) != "[orders]" {
		t.Errorf("withdraw with the id in capitals: %d %v", code, ans)
	}
	code, ans = postJSON(t, base+"v1/withdraw", `{"phone":"0170 1234567","id":"`+id+`","purpose":["all"],"lang":"en"}`)
	if code != 409 || ans["code"] != "withdraw_nothing" {
		t.Errorf("nothing left: %d %v", code, ans)
	}
}

// collectSite copies the repository's site (see site) and returns it, its
// config and data folder, and the arguments that start its collector on a
// free loopback port.
func collectSite(t *testing.T) (dir, cfg, data string, args []string) {
	t.Helper()
	dir = site(t)
	cfg, data = filepath.Join(dir, "config.toml"), filepath.Join(dir, "data")
	return dir, cfg, data, []string{"collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data}
}

// groupedID is id as receipt layout 3 prints it: in blocks of four, for reading aloud.
func groupedID(id string) string {
	var b strings.Builder
	for i := 0; i < len(id); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(id[i:min(i+4, len(id))])
	}
	return b.String()
}
