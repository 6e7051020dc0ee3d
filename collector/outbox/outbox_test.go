package outbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/internal/smtptest"
)

func sender(t *testing.T, addr string) *SMTP {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscan(port, &p)
	s, err := NewSMTP(SMTPConfig{Host: host, Port: p, Security: "none", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// freeAddr returns a loopback address nobody listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

var pdf = append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte{0, 1, 2, 0xff, '\n', '\r'}, 5000)...)

func testMail(id, to string) *Mail {
	return &Mail{
		ID: id, MessageID: id + "@example.org",
		Date:           time.Date(2026, 11, 29, 22, 15, 4, 0, time.UTC),
		From:           "Fahrradladen <noreply@example.org>",
		To:             []string{to},
		Subject:        "Ihre Einwilligungsbestätigung – Fahrradladen Beispiel GmbH",
		Text:           "Guten Tag Jürgen Weiß,\n\nim Anhang …",
		AttachmentName: "einwilligung-" + id + ".pdf", Attachment: pdf,
	}
}

func run(t *testing.T, b *Outbox) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return func() { cancel(); <-done }
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// checkMessage checks a received message's envelope, headers and
// attachment bytes.
func checkMessage(t *testing.T, got smtptest.Message, want *Mail) {
	t.Helper()
	if !slices.Equal(got.To, want.To) || got.From != "noreply@example.org" {
		t.Errorf("envelope from %q to %q, want noreply@example.org to %q", got.From, got.To, want.To)
	}
	p, err := smtptest.Parse(got.Data)
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != want.Subject {
		t.Errorf("Subject = %q, want %q", p.Subject, want.Subject)
	}
	if got := p.Header.Get("Message-ID"); got != "<"+want.MessageID+">" {
		t.Errorf("Message-ID = %q, want <%s>", got, want.MessageID)
	}
	if d, err := p.Header.Date(); err != nil || !d.Equal(want.Date) {
		t.Errorf("Date = %v, %v, want %v", d, err, want.Date)
	}
	if p.AttachmentName != want.AttachmentName || !bytes.Equal(p.Attachment, want.Attachment) {
		t.Errorf("attachment %q, %d bytes (equal %v), want %q, %d bytes", p.AttachmentName, len(p.Attachment), bytes.Equal(p.Attachment, want.Attachment), want.AttachmentName, len(want.Attachment))
	}
	if !strings.Contains(p.Text, "Jürgen Weiß") {
		t.Errorf("body lacks the name: %q", p.Text)
	}
}

func TestDeliver(t *testing.T) {
	srv := smtptest.Start(t, "127.0.0.1:0")
	dir := t.TempDir()
	b, err := Open(dir, sender(t, srv.Addr), Options{MinBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m := testMail("rec1-subject", "jw@example.org")
	if err := b.Enqueue(m); err != nil {
		t.Fatal(err)
	}
	if err := b.Enqueue(m); err != nil { // the same mail twice: stored once
		t.Fatal(err)
	}
	run(t, b)
	waitFor(t, "delivery", func() bool { return len(srv.Messages()) == 1 && fileExists(filepath.Join(dir, "sent", m.ID+".json")) })
	checkMessage(t, srv.Messages()[0], m)
	if p, _ := b.Pending(); len(p) != 0 {
		t.Errorf("pending after delivery: %v", p)
	}
	// Enqueueing a sent mail again does not send it again.
	if err := b.Enqueue(m); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages after enqueueing a sent mail again, want 1", n)
	}
}

// TestOutage: the server is down, attempts fail and back off; once it is
// up, each mail arrives exactly once.
func TestOutage(t *testing.T) {
	addr := freeAddr(t)
	dir := t.TempDir()
	var logBuf syncBuffer
	b, err := Open(dir, sender(t, addr), Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Logger: newLogger(&logBuf)})
	if err != nil {
		t.Fatal(err)
	}
	run(t, b)
	mails := []*Mail{testMail("rec2-owner", "owner@example.org"), testMail("rec2-subject", "jw@example.org")}
	for _, m := range mails {
		if err := b.Enqueue(m); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "three failed attempts", func() bool { return strings.Count(logBuf.String(), "attempt=3") >= 2 })
	if p, _ := b.Pending(); len(p) != 2 {
		t.Fatalf("pending during the outage: %v", p)
	}
	srv := smtptest.Start(t, addr)
	waitFor(t, "delivery after the outage", func() bool { p, _ := b.Pending(); return len(p) == 0 })
	time.Sleep(300 * time.Millisecond) // any duplicate would arrive now
	got := srv.Messages()
	if len(got) != 2 {
		t.Fatalf("%d messages, want 2", len(got))
	}
	slices.SortFunc(got, func(a, b smtptest.Message) int { return strings.Compare(a.To[0], b.To[0]) })
	checkMessage(t, got[0], mails[1]) // jw@ sorts before owner@
	checkMessage(t, got[1], mails[0])
}

// TestRestart: mails enqueued by one process and not delivered (server
// down) are delivered by the next process on the same folder, once.
func TestRestart(t *testing.T) {
	addr := freeAddr(t)
	dir := t.TempDir()
	first, err := Open(dir, sender(t, addr), Options{MinBackoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, first)
	m := testMail("rec3-subject", "jw@example.org")
	if err := first.Enqueue(m); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a failed attempt", func() bool {
		first.mu.Lock()
		defer first.mu.Unlock()
		return first.retry[m.ID].attempts == 1
	})
	stop()
	// A crash may leave a temporary file; the next Open removes it.
	os.WriteFile(filepath.Join(dir, ".tmp-123"), []byte("half a mail"), 0o600)

	srv := smtptest.Start(t, addr)
	second, err := Open(dir, sender(t, addr), Options{MinBackoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if fileExists(filepath.Join(dir, ".tmp-123")) {
		t.Error("temporary file left after Open")
	}
	run(t, second)
	waitFor(t, "delivery after restart", func() bool { return len(srv.Messages()) == 1 })
	time.Sleep(200 * time.Millisecond)
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
	checkMessage(t, srv.Messages()[0], m)
}

func TestPermanentFailure(t *testing.T) {
	srv := smtptest.Start(t, "127.0.0.1:0")
	srv.Reject("nobody@example.org")
	dir := t.TempDir()
	var logBuf syncBuffer
	b, err := Open(dir, sender(t, srv.Addr), Options{MinBackoff: 10 * time.Millisecond, Logger: newLogger(&logBuf)})
	if err != nil {
		t.Fatal(err)
	}
	run(t, b)
	defer func() {
		// The collector's own log holds no addresses, not even quoted in
		// the server's refusal.
		if l := logBuf.String(); strings.Contains(l, "nobody@example.org") || strings.Contains(l, " to=") {
			t.Errorf("log holds an address:\n%s", logBuf.String())
		}
	}()
	bad, good := testMail("rec4-subject", "nobody@example.org"), testMail("rec4-owner", "owner@example.org")
	b.Enqueue(bad)
	b.Enqueue(good)
	waitFor(t, "refusal set aside", func() bool { return fileExists(filepath.Join(dir, "failed", bad.ID+".json")) })
	waitFor(t, "the other mail", func() bool { return len(srv.Messages()) == 1 })
	reason, _ := os.ReadFile(filepath.Join(dir, "failed", bad.ID+".err"))
	if !strings.Contains(string(reason), "550") || !errors.Is(fmt.Errorf("%w", ErrPermanent), ErrPermanent) {
		t.Errorf("failed reason %q", reason)
	}
	waitFor(t, "nothing pending", func() bool { p, _ := b.Pending(); return len(p) == 0 })
}

func TestEnqueueRejects(t *testing.T) {
	b, err := Open(t.TempDir(), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Mail{
		{ID: "../x", MessageID: "a@b", From: "a@b", To: []string{"c@d"}, Date: time.Now()},
		{ID: "ok", From: "a@b", To: []string{"c@d"}, Date: time.Now()},
		{ID: "ok", MessageID: "a@b", From: "a@b", Date: time.Now()},
	} {
		if err := b.Enqueue(m); err == nil {
			t.Errorf("Enqueue(%+v) accepted", m)
		}
	}
}

func TestBackoff(t *testing.T) {
	b := &Outbox{o: Options{MinBackoff: 30 * time.Second, MaxBackoff: time.Hour}}
	for n, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 7: 32 * time.Minute, 8: time.Hour, 50: time.Hour} {
		if got := b.backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestTLS delivers over STARTTLS and over implicit TLS to a server whose
// certificate the client trusts, with AUTH offered only over TLS; a client
// that does not trust the certificate delivers nothing (a temporary
// failure: the mail stays in the outbox).
func TestTLS(t *testing.T) {
	for _, mode := range []struct {
		security string
		implicit bool
	}{{"starttls", false}, {"tls", true}} {
		t.Run(mode.security, func(t *testing.T) {
			srv, roots := smtptest.StartTLS(t, "127.0.0.1:0", mode.implicit)
			srv.RequireAuth("receipts", "s3cret")
			host, port, _ := net.SplitHostPort(srv.Addr)
			var p int
			fmt.Sscan(port, &p)
			conf := SMTPConfig{Host: host, Port: p, Security: mode.security, User: "receipts", Password: "s3cret", Timeout: 5 * time.Second}

			untrusted, err := NewSMTP(conf)
			if err != nil {
				t.Fatal(err)
			}
			m := testMail("tls-"+mode.security, "jw@example.org")
			if err := untrusted.Send(context.Background(), m); err == nil || errors.Is(err, ErrPermanent) {
				t.Errorf("untrusted certificate: err = %v, want a temporary failure", err)
			}

			conf.TLSConfig = &tls.Config{RootCAs: roots, ServerName: host, MinVersion: tls.VersionTLS12}
			trusted, err := NewSMTP(conf)
			if err != nil {
				t.Fatal(err)
			}
			if err := trusted.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 || msgs[0].User != "receipts" {
				t.Fatalf("messages = %+v, want one, authenticated", msgs)
			}
			checkMessage(t, msgs[0], m)
		})
	}
}
