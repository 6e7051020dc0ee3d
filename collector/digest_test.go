package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/outbox"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/smtptest"
)

// TestOwnerDigest: with smtp.owner_mail = "daily" the owner gets no copy
// of each receipt but, the next day, one digest through a real SMTP
// server listing the day's decisions and withdrawals with their
// reference numbers and the console's address, naming nobody; the
// person still gets their receipt; a second look queues nothing, and a
// day without events gets no mail.
func TestOwnerDigest(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, "127.0.0.1:0")
	host, port, _ := strings.Cut(srv.Addr, ":")
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	h := newHarnessOpts(t, func(c *config.Config) {
		c.SMTP = &config.SMTP{Host: host, Security: "none", From: "Fahrradladen <noreply@fahrradladen.example>",
			OwnerTo: "inhaber@fahrradladen.example", OwnerMail: config.OwnerMailDaily}
		c.SMTP.Port = atoi(t, port)
	}, func(o *Options) {
		o.Now = func() time.Time { return now }
		o.PublicURL = "https://consent.example/"
		m, err := OpenMailer(o.Config, o.Paths.Outbox, o.Theme, o.Logger, MailerOptions{Outbox: outbox.Options{MinBackoff: time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		m.Start()
		t.Cleanup(func() { m.Close() })
		o.Deliver = m
	})
	w := h.do("POST", "/v1/consent", "application/json", h.jsonBody("de", "email", "jw@example.org"))
	if w.Code != 201 {
		t.Fatalf("grant: %d %s", w.Code, w.Body)
	}
	h.do("POST", "/v1/consent", "application/json", h.jsonBody("de", "phone", "0170 7654321", "name", "Max Muster", "decision", "refused", "purpose", nil))
	recs := h.records(t)
	waitFor(t, func() bool { return len(srv.Messages()) >= 1 })
	time.Sleep(200 * time.Millisecond) // an owner copy, if one were sent, would be here by now
	if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].To[0] != "jw@example.org" {
		t.Fatalf("mails before the digest: %d (%v), want only the person's receipt", len(msgs), msgs)
	}

	// The same day: nothing due.
	if sent, err := h.srv.SendDigest(now.Add(time.Hour)); err != nil || sent {
		t.Errorf("digest on the same day: %v %v, want none", sent, err)
	}
	next := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	if sent, err := h.srv.SendDigest(next); err != nil || !sent {
		t.Fatalf("digest the next day: %v %v", sent, err)
	}
	if sent, _ := h.srv.SendDigest(next.Add(time.Hour)); sent {
		t.Error("the digest was queued twice")
	}
	if sent, _ := h.srv.SendDigest(next.AddDate(0, 0, 1)); sent {
		t.Error("a day without events got a digest")
	}
	waitFor(t, func() bool { return len(srv.Messages()) >= 2 })
	m := srv.Messages()[1]
	p, err := smtptest.Parse(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	if m.To[0] != "inhaber@fahrradladen.example" || p.Subject != "Fahrradladen Beispiel GmbH: 2 neue Entscheidungen und Widerrufe am 2026-03-01" {
		t.Errorf("digest to %v, subject %q", m.To, p.Subject)
	}
	for _, r := range recs {
		if !strings.Contains(p.Text, groupRecordID(r.ID)) {
			t.Errorf("the digest lacks record %s:\n%s", r.ID, p.Text)
		}
	}
	for _, want := range []string{"11:00 Einwilligung erteilt", "Einwilligung verweigert", "https://consent.example/owner/"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("the digest lacks %q:\n%s", want, p.Text)
		}
	}
	for _, personal := range []string{"Jürgen", "Weiß", "Muster", "1701234567", "jw@example.org"} {
		if strings.Contains(string(m.Data), personal) {
			t.Errorf("the digest names %q", personal)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}

func atoi(t *testing.T, s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("port %q", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}
