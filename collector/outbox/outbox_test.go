package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// received is one message as the test server got it.
type received struct {
	From string
	To   []string
	Data []byte
}

// server is a real SMTP server (github.com/emersion/go-smtp) on loopback
// that keeps what it receives.
type server struct {
	mu     sync.Mutex
	msgs   []received
	reject map[string]bool // recipients refused with 550
	srv    *smtp.Server
	addr   string
}

func (s *server) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }

type session struct {
	s    *server
	from string
	to   []string
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }
func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.reject[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	ss.to = append(ss.to, to)
	return nil
}
func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, received{From: ss.from, To: ss.to, Data: b})
	ss.s.mu.Unlock()
	return nil
}

// startServer serves SMTP on addr ("127.0.0.1:0" for any port) until the
// test ends.
func startServer(t *testing.T, addr string) *server {
	t.Helper()
	s := &server{reject: map[string]bool{}}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger after a previous server
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func (s *server) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

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
		Date:    time.Date(2026, 11, 29, 22, 15, 4, 0, time.UTC),
		From:    "Fahrradladen <noreply@example.org>",
		To:      []string{to},
		Subject: "Ihre Einwilligungsbestätigung – Fahrradladen Beispiel GmbH",
		Text:    "Guten Tag Jürgen Weiß,\n\nim Anhang …",
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

// checkMessage parses a received message and checks headers and the
// attachment's bytes.
func checkMessage(t *testing.T, got received, want *Mail) {
	t.Helper()
	if !slices.Equal(got.To, want.To) || got.From != "noreply@example.org" {
		t.Errorf("envelope from %q to %q, want noreply@example.org to %q", got.From, got.To, want.To)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subj, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	if subj != want.Subject {
		t.Errorf("Subject = %q, want %q", subj, want.Subject)
	}
	if got := msg.Header.Get("Message-ID"); got != "<"+want.MessageID+">" {
		t.Errorf("Message-ID = %q, want <%s>", got, want.MessageID)
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(want.Date) {
		t.Errorf("Date = %v, %v, want %v", d, err, want.Date)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var text string
	var att []byte
	var attName string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("Content-Transfer-Encoding") == "base64" {
			body, err = decodeBase64(body)
			if err != nil {
				t.Fatal(err)
			}
		}
		if p.FileName() != "" {
			att, attName = body, p.FileName()
		} else {
			text = string(body)
		}
	}
	if attName != want.AttachmentName || !bytes.Equal(att, want.Attachment) {
		t.Errorf("attachment %q, %d bytes (equal %v), want %q, %d bytes", attName, len(att), bytes.Equal(att, want.Attachment), want.AttachmentName, len(want.Attachment))
	}
	if !strings.Contains(text, "J=C3=BCrgen Wei=C3=9F") && !strings.Contains(text, "Jürgen Weiß") {
		t.Errorf("body lacks the name: %q", text)
	}
}

func TestDeliver(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	dir := t.TempDir()
	b, err := Open(dir, sender(t, srv.addr), Options{MinBackoff: 10 * time.Millisecond})
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
	waitFor(t, "delivery", func() bool { return len(srv.messages()) == 1 && fileExists(filepath.Join(dir, "sent", m.ID+".json")) })
	checkMessage(t, srv.messages()[0], m)
	if p, _ := b.Pending(); len(p) != 0 {
		t.Errorf("pending after delivery: %v", p)
	}
	// Enqueueing a sent mail again does not send it again.
	if err := b.Enqueue(m); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(srv.messages()); n != 1 {
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
	srv := startServer(t, addr)
	waitFor(t, "delivery after the outage", func() bool { p, _ := b.Pending(); return len(p) == 0 })
	time.Sleep(300 * time.Millisecond) // any duplicate would arrive now
	got := srv.messages()
	if len(got) != 2 {
		t.Fatalf("%d messages, want 2", len(got))
	}
	slices.SortFunc(got, func(a, b received) int { return strings.Compare(a.To[0], b.To[0]) })
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

	srv := startServer(t, addr)
	second, err := Open(dir, sender(t, addr), Options{MinBackoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if fileExists(filepath.Join(dir, ".tmp-123")) {
		t.Error("temporary file left after Open")
	}
	run(t, second)
	waitFor(t, "delivery after restart", func() bool { return len(srv.messages()) == 1 })
	time.Sleep(200 * time.Millisecond)
	if n := len(srv.messages()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
	checkMessage(t, srv.messages()[0], m)
}

func TestPermanentFailure(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	srv.reject["nobody@example.org"] = true
	dir := t.TempDir()
	b, err := Open(dir, sender(t, srv.addr), Options{MinBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	run(t, b)
	bad, good := testMail("rec4-subject", "nobody@example.org"), testMail("rec4-owner", "owner@example.org")
	b.Enqueue(bad)
	b.Enqueue(good)
	waitFor(t, "refusal set aside", func() bool { return fileExists(filepath.Join(dir, "failed", bad.ID+".json")) })
	waitFor(t, "the other mail", func() bool { return len(srv.messages()) == 1 })
	reason, _ := os.ReadFile(filepath.Join(dir, "failed", bad.ID+".err"))
	if !strings.Contains(string(reason), "550") || !errors.Is(fmt.Errorf("%w", ErrPermanent), ErrPermanent) {
		t.Errorf("failed reason %q", reason)
	}
	if p, _ := b.Pending(); len(p) != 0 {
		t.Errorf("pending: %v", p)
	}
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
