package main

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/internal/smtptest"
)

// TestMailReceipts runs the collector with an [smtp] table against a real
// SMTP server on loopback: decisions taken while the server is down wait
// in DATA/outbox across a killed collector, and arrive once each after the
// restart: the owner's copy always, the data subject's when they gave an
// address, in their language, with the receipt attached byte for byte.
func TestMailReceipts(t *testing.T) {
	dir := site(t)
	cfg := filepath.Join(dir, "config.toml")
	data := filepath.Join(dir, "data")
	version := textVersion(t, dir, "de")
	versionEN := textVersion(t, dir, "en")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	smtpAddr := ln.Addr().String()
	ln.Close() // down until step 3
	withSMTP(t, cfg, smtpAddr)

	// 1. Without the password the collector refuses to start.
	_, stderr, code := chatconsent(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)
	if code != 1 || !strings.Contains(stderr, "smtp.password_env: environment variable CHATCONSENT_TEST_SMTP_PASSWORD is not set") {
		t.Fatalf("collect without password: exit %d: %s", code, stderr)
	}
	t.Setenv("CHATCONSENT_TEST_SMTP_PASSWORD", "s3cret")

	// 2. The mail server is down: the decision is recorded, its mails wait.
	var id string
	t.Run("server down", func(t *testing.T) {
		base := start(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)
		decide(t, base, `{"decision":"granted","name":"Jürgen Weiß","phone":"0170 1234567","email":"jw@example.org","purpose":["orders"],"lang":"de","text_version":"`+version+`"}`)
		// Receipts and their mails are made just after the answer.
		var waiting []string
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if waiting, _ = filepath.Glob(filepath.Join(data, "outbox", "*.json")); len(waiting) == 2 {
				break
			}
		}
		if len(waiting) != 2 {
			t.Fatalf("outbox holds %v, want the owner's and the subject's mail", waiting)
		}
		id = strings.TrimSuffix(filepath.Base(waiting[0]), "-owner.json")
	}) // the collector is killed here, its mails undelivered

	// 3. The server is up; a new collector delivers what was waiting.
	srv := smtptest.Start(t, smtpAddr)
	srv.RequireAuth("receipts", "s3cret")
	base := start(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)
	waitMessages(t, srv, 2)

	// The receipt is stored just after its mail is queued.
	var pdf []byte
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if pdf, err = os.ReadFile(filepath.Join(data, "receipts", id+".pdf")); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	byRcpt := map[string]*smtptest.Parsed{}
	for _, m := range srv.Messages() {
		if m.From != "noreply@fahrradladen.example" || m.User != "receipts" || len(m.To) != 1 {
			t.Errorf("envelope from %q to %q as %q", m.From, m.To, m.User)
		}
		p, err := smtptest.Parse(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		byRcpt[m.To[0]] = p
		if !bytes.Equal(p.Attachment, pdf) || p.AttachmentName != "consent-"+id+".pdf" {
			t.Errorf("mail to %s: attachment %q (%d bytes) is not the owner's copy of the receipt (%d bytes)", m.To[0], p.AttachmentName, len(p.Attachment), len(pdf))
		}
	}
	subj, owner := byRcpt["jw@example.org"], byRcpt["inhaber@fahrradladen.example"]
	if subj == nil || owner == nil {
		t.Fatalf("recipients %v", slices.Collect(maps.Keys(byRcpt)))
	}
	if subj.Subject != "Ihre Einwilligungsbestätigung – Fahrradladen Beispiel GmbH" {
		t.Errorf("subject's mail: Subject %q", subj.Subject)
	}
	for _, want := range []string{"Guten Tag Jürgen Weiß,", "Einwilligung erteilt", "http://127.0.0.1:8080/v1/withdraw?id=" + id + "&k=", "Vorgangsnummer: " + id} {
		if !strings.Contains(subj.Text, want) {
			t.Errorf("subject's mail lacks %q:\n%s", want, subj.Text)
		}
	}
	if got := subj.Header.Get("Message-ID"); got != "<consent-"+id+"-subject@fahrradladen.example>" {
		t.Errorf("Message-ID %q", got)
	}
	if owner.Subject != "Neue Entscheidung: Einwilligung erteilt – Jürgen Weiß" || !strings.Contains(owner.Text, "Telefon: +491701234567") {
		t.Errorf("owner's copy: %q\n%s", owner.Subject, owner.Text)
	}

	// 4. An English decision without e-mail: only the owner's copy, in the
	// site's default language.
	decide(t, base, `{"decision":"refused","name":"Юлия Соколова","phone":"+49 30 1234567","lang":"en","text_version":"`+versionEN+`"}`)
	waitMessages(t, srv, 3)
	time.Sleep(500 * time.Millisecond) // a duplicate would show now
	msgs := srv.Messages()
	if len(msgs) != 3 || msgs[2].To[0] != "inhaber@fahrradladen.example" {
		t.Fatalf("%d messages, last to %v; want 3, the last to the owner", len(msgs), msgs[len(msgs)-1].To)
	}
	if p, _ := smtptest.Parse(msgs[2].Data); !strings.HasPrefix(p.Subject, "Neue Entscheidung: Einwilligung verweigert – Юлия Соколова") {
		t.Errorf("owner's copy of the refusal: %q", p.Subject)
	}
	sent, _ := filepath.Glob(filepath.Join(data, "outbox", "sent", "*.json"))
	waiting, _ := filepath.Glob(filepath.Join(data, "outbox", "*.json"))
	if len(sent) != 3 || len(waiting) != 0 {
		t.Errorf("outbox: %d sent, %d waiting; want 3, 0", len(sent), len(waiting))
	}
}

// withSMTP appends an [smtp] table for the test server at addr to the
// config file cfg: user "receipts", the password from
// CHATCONSENT_TEST_SMTP_PASSWORD, the owner inhaber@fahrradladen.example.
func withSMTP(t *testing.T, cfg, addr string) {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(`
[smtp]
host = "127.0.0.1"
port = ` + port + `
security = "none"
user = "receipts"
password_env = "CHATCONSENT_TEST_SMTP_PASSWORD"
from = "Fahrradladen Beispiel <noreply@fahrradladen.example>"
owner_to = "inhaber@fahrradladen.example"
`); err != nil {
		t.Fatal(err)
	}
}

// TestMailResend: "chatconsent receipt resend ID" against a running
// collector and a real SMTP server on loopback: the receipt arrives a
// second time, to the person and the owner, under new Message-IDs, with
// the same PDF and a new link that downloads it; the first link works as
// before. Asked again, it arrives a third time.
func TestMailResend(t *testing.T) {
	dir := site(t)
	cfg := filepath.Join(dir, "config.toml")
	data := filepath.Join(dir, "data")
	srv := smtptest.Start(t, "127.0.0.1:0")
	srv.RequireAuth("receipts", "s3cret")
	withSMTP(t, cfg, srv.Addr)
	t.Setenv("CHATCONSENT_TEST_SMTP_PASSWORD", "s3cret")
	base := start(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)
	body := `{"decision":"granted","name":"Jürgen Weiß","phone":"0170 1234567","email":"jw@example.org","purpose":["orders"],"lang":"de","text_version":"` + textVersion(t, dir, "de") + `"}`
	id, firstLink := decideLink(t, base, body)
	local := func(u string) string { return strings.Replace(u, "http://127.0.0.1:8080/", base, 1) }
	waitMessages(t, srv, 2)
	// The first mail's receipt (the file is stored just after its mail
	// is queued).
	first, err := smtptest.Parse(srv.Messages()[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	pdf := first.Attachment
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("first mail's attachment %q", first.AttachmentName)
	}

	for n := 1; n <= 2; n++ {
		stdout, stderr, code := chatconsent(t, "receipt", "resend", "--config", cfg, "--data", data, strings.ToUpper(id[:16])+" "+id[16:])
		if code != 0 || !strings.Contains(stdout, fmt.Sprintf("sent again (resend %d)", n)) || !strings.Contains(stdout, "to the person: jw@example.org") {
			t.Fatalf("resend %d: exit %d\n%s%s", n, code, stdout, stderr)
		}
		waitMessages(t, srv, 2+2*n)
		msgs := srv.Messages()[2*n:]
		byRcpt := map[string]*smtptest.Parsed{}
		for _, m := range msgs {
			p, err := smtptest.Parse(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			byRcpt[m.To[0]] = p
			if !bytes.Equal(p.Attachment, pdf) {
				t.Errorf("resend %d to %s: the attachment is not the stored receipt", n, m.To[0])
			}
		}
		subj, owner := byRcpt["jw@example.org"], byRcpt["inhaber@fahrradladen.example"]
		if subj == nil || owner == nil {
			t.Fatalf("resend %d: recipients %v", n, slices.Collect(maps.Keys(byRcpt)))
		}
		if got, want := subj.Header.Get("Message-ID"), fmt.Sprintf("<consent-%s-resend%d-subject@fahrradladen.example>", id, n); got != want {
			t.Errorf("resend %d: Message-ID %q, want %q", n, got, want)
		}
		if subj.Subject != "Ihre Einwilligungsbestätigung, erneut gesendet – Fahrradladen Beispiel GmbH" || !strings.Contains(owner.Text, "An: jw@example.org") {
			t.Errorf("resend %d: %q; owner's copy:\n%s", n, subj.Subject, owner.Text)
		}
		link := regexp.MustCompile(`http://\S+/v1/receipts/` + id + `\.pdf\?e=\d+&k=\S+`).FindString(subj.Text)
		if link == "" || !strings.Contains(stdout, link) || !strings.Contains(owner.Text, link) {
			t.Fatalf("resend %d: no new link in the mail (or not the one printed):\n%s", n, subj.Text)
		}
		for _, u := range []string{link, firstLink} {
			resp, err := http.Get(local(u))
			if err != nil {
				t.Fatal(err)
			}
			if got := readBody(t, resp); resp.StatusCode != 200 || got != string(pdf) {
				t.Errorf("resend %d: %s: %d, %d bytes; want the receipt", n, u, resp.StatusCode, len(got))
			}
		}
		if ne, oe := linkExpiry(t, link), linkExpiry(t, firstLink); ne < oe {
			t.Errorf("resend %d: the new link expires before the first (%d < %d)", n, ne, oe)
		}
	}
}

// linkExpiry returns a receipt link's expiry (its e parameter).
func linkExpiry(t *testing.T, link string) int64 {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	e, err := strconv.ParseInt(u.Query().Get("e"), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", link, err)
	}
	return e
}

func waitMessages(t *testing.T, srv *smtptest.Server, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if len(srv.Messages()) >= n {
			return
		}
	}
	t.Fatalf("%d messages arrived, want %d", len(srv.Messages()), n)
}
