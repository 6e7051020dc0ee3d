package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/outbox"
	"github.com/chatconsent/chatconsent/collector/private"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// mailRecorder is an outbox.Sender that keeps what it is given; with fail
// set it refuses every mail (retryably), so the mails stay queued.
type mailRecorder struct {
	mu   sync.Mutex
	fail bool
	sent []*outbox.Mail
}

func (m *mailRecorder) Send(_ context.Context, mail *outbox.Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errors.New("421 try again later")
	}
	m.sent = append(m.sent, mail)
	return nil
}

// TestRestoreReplaysErasures: the log is the erasure list. A person is
// erased; then an older backup of private/, receipts/ and outbox/ (taken
// before the erasure, holding their key, openings, receipt and queued
// mail) is copied back over the data folder, as the README's restore
// does; the next start carries out the erasure again before the mailer
// starts: their data are gone again, their mail is never sent, and the
// other person's data and mail are untouched.
func TestRestoreReplaysErasures(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(filepath.Join("..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Collector.RatePerMinute = 0
	cfg.SMTP = &config.SMTP{Host: "127.0.0.1", Port: 25, Security: "none", From: "laden@example.org", OwnerTo: "owner@example.org"}
	arch := filepath.Join("..", "archive")
	m, err := textarchive.ReadManifest(arch)
	if err != nil {
		t.Fatal(err)
	}
	versions := map[string]string{}
	for v, info := range m.Versions {
		versions[info.Lang] = v
	}
	data := t.TempDir()
	open := func(send *mailRecorder) *Server {
		t.Helper()
		srv, _, err := Open(cfg, Setup{DataDir: data, ArchiveDir: arch, LogVersion: ledger.FormatVersion,
			Mail: MailerOptions{Sender: send, Outbox: outbox.Options{MinBackoff: time.Hour}}})
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}

	// 1. Two people decide; their receipts and mails are made (the mails
	// stay queued: the server refuses them).
	srv := open(&mailRecorder{fail: true})
	ids := map[string]string{}
	for _, p := range []struct{ name, phone, email string }{
		{"Jürgen Weiß", "0170 1234567", "jw@example.org"},
		{"Łukasz Wróbel", "0171 7654321", "lw@example.net"},
	} {
		body := fmt.Sprintf(`{"decision":"granted","name":%q,"phone":%q,"email":%q,"purpose":["orders"],"lang":"de","text_version":%q}`, p.name, p.phone, p.email, versions["de"])
		r := httptest.NewRequest("POST", "/v1/consent", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, r)
		if w.Code != 201 {
			t.Fatalf("post %s: %d %s", p.phone, w.Code, w.Body)
		}
		ids[p.email] = strings.Split(strings.Split(w.Body.String(), `"id":"`)[1], `"`)[0]
	}
	idA, idB := ids["jw@example.org"], ids["lw@example.net"]
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if n := countFiles(t, data, idA, idB); n == 6 { // 2 receipts, 4 mails (owner + subject each)
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("%d receipts and mails after 30 s, want 6", n)
		}
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	// 2. The nightly backup.
	backup := t.TempDir()
	for _, d := range []string{config.PrivateDir, config.ReceiptsDir, config.OutboxDir} {
		copyTree(t, filepath.Join(data, d), filepath.Join(backup, d))
	}

	// 3. The erasure.
	srv = open(&mailRecorder{fail: true})
	if _, err := srv.EraseNumber(context.Background(), OwnerErasure{Phone: "0170 1234567"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, data, idA); n != 0 {
		t.Fatalf("%d files of the erased person after erase", n)
	}

	// 4. The restore of the older backup brings them back.
	for _, d := range []string{config.PrivateDir, config.ReceiptsDir, config.OutboxDir} {
		copyTree(t, filepath.Join(backup, d), filepath.Join(data, d))
	}
	if n := countFiles(t, data, idA); n != 3 {
		t.Fatalf("the restore brought back %d files of the erased person, want 3", n)
	}
	if !hasSubject(t, data, "+491701234567") {
		t.Fatal("the restored private store lacks the erased person: the test restores nothing")
	}

	// 5. The start replays the erasure before any mail goes out.
	send := &mailRecorder{}
	srv = open(send)
	if hasSubject(t, data, "+491701234567") {
		t.Error("the private store opens the erased person again after the start")
	}
	if !hasSubject(t, data, "+491717654321") {
		t.Error("the other person is gone from the private store")
	}
	if n := countFiles(t, data, idA); n != 0 {
		t.Errorf("%d receipt or mail files of the erased person after the start", n)
	}
	if _, err := os.Stat(filepath.Join(data, config.ReceiptsDir, idB+".pdf")); err != nil {
		t.Errorf("the other person's receipt: %v", err)
	}
	srv.o.Deliver.(*Mailer).Outbox().Wake()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		send.mu.Lock()
		n := len(send.sent)
		send.mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, mail := range send.sent {
		to = append(to, mail.To...)
		if strings.HasPrefix(mail.ID, idA) || strings.Contains(mail.Text, "Jürgen") {
			t.Errorf("the erased person's mail %s was sent after the restore", mail.ID)
		}
	}
	if !strings.Contains(strings.Join(to, " "), "lw@example.net") {
		t.Errorf("the other person's mail was not sent: to %v", to)
	}
	// No file holds the erased person's values in clear.
	filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, v := range []string{"Jürgen", `J\u00fcrgen`, "+491701234567", "jw@example.org"} {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s holds %q after the restore and start", path, v)
			}
		}
		return nil
	})
}

// countFiles counts the receipts and outbox mails (queued, sent, failed)
// of records ids in data.
func countFiles(t *testing.T, data string, ids ...string) int {
	t.Helper()
	n := 0
	for _, id := range ids {
		if _, err := os.Stat(filepath.Join(data, config.ReceiptsDir, id+".pdf")); err == nil {
			n++
		}
		for _, sub := range []string{"", "sent", "failed"} {
			m, _ := filepath.Glob(filepath.Join(data, config.OutboxDir, sub, id+"-*.json"))
			n += len(m)
		}
	}
	return n
}

// hasSubject reports whether the private store in data holds phone.
func hasSubject(t *testing.T, data, phone string) bool {
	t.Helper()
	v, err := private.Open(filepath.Join(data, config.PrivateDir), private.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	_, _, err = v.Subject(phone)
	return err == nil
}

// copyTree copies the regular files under src into dst (created), over
// what is there and keeping what is not (rsync -a without --delete).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}
