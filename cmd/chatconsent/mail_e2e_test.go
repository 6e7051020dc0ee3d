package main

import (
	"bytes"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
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
	_, port, _ := net.SplitHostPort(smtpAddr)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`
[smtp]
host = "127.0.0.1"
port = ` + port + `
security = "none"
user = "receipts"
password_env = "CHATCONSENT_TEST_SMTP_PASSWORD"
from = "Fahrradladen Beispiel <noreply@fahrradladen.example>"
owner_to = "inhaber@fahrradladen.example"
`)
	f.Close()

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

func waitMessages(t *testing.T, srv *smtptest.Server, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if len(srv.Messages()) >= n {
			return
		}
	}
	t.Fatalf("%d messages arrived, want %d", len(srv.Messages()), n)
}
