package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/internal/smtptest"
)

// TestEraseCLI erases one person through the running collector: the
// refusals change nothing; afterwards no file in the data folder holds
// their values in any common encoding, the log verifies, their own saved
// receipt still proves their decision, and another person's status is
// unchanged, also after a restart.
func TestEraseCLI(t *testing.T) {
	t.Parallel()
	dir, cfg, data, args := collectSite(t)
	// With mail on, so the person's e-mail address is kept (and must go):
	// without [smtp] the collector drops it at once.
	srv := smtptest.Start(t, "127.0.0.1:0")
	withSMTPNoAuth(t, cfg, srv.Addr)
	base, _, stop := startStoppable(t, args...)
	de := textVersion(t, dir, "de")
	pdfA := decide(t, base, `{"decision":"granted","name":"Jürgen Weiß","phone":"0170 1234567","email":"jw@example.org","purpose":["orders","documents"],"lang":"de","text_version":"`+de+`"}`)
	decide(t, base, `{"decision":"granted","name":"Łukasz Wróbel","phone":"0171 7654321","purpose":["orders"],"lang":"de","text_version":"`+de+`"}`)
	receiptA := filepath.Join(t.TempDir(), "receipt-a.pdf") // the person's own copy
	os.WriteFile(receiptA, pdfA, 0o600)
	waitReceipts(t, data, 2)
	statusB := runOK(t, "status", "0171 7654321", "--config", cfg, "--data", data)

	logPath := filepath.Join(data, "decisions.jsonl")
	before, _ := os.ReadFile(logPath)
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"not a number", []string{"hello"}, 2, `not a phone number: "hello"`},
		{"free-text reason", []string{"0170 1234567", "--reason", "Herr Weiß rief an"}, 2, "want one of request, retention"},
		{"unknown number", []string{"0172 1111111"}, 1, "no personal data of this number"},
		{"two numbers", []string{"0170 1234567", "0171 7654321"}, 2, `unexpected argument "0171 7654321"`},
	} {
		_, stderr, code := chatconsent(t, append([]string{"erase", "--config", cfg, "--data", data}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, want %d and %q:\n%s", tt.name, code, tt.code, tt.want, stderr)
		}
	}
	if after, _ := os.ReadFile(logPath); !bytes.Equal(before, after) {
		t.Fatal("a refused erasure changed the log")
	}

	out := runOK(t, "erase", "+49 170 1234567", "--config", cfg, "--data", data)
	for _, w := range []string{"erased +491701234567 on ", "the openings of 1 record are destroyed, 3 receipt and mail files deleted", "erasure record "} {
		if !strings.Contains(out, w) {
			t.Errorf("erase output lacks %q:\n%s", w, out)
		}
	}
	if _, stderr, code := chatconsent(t, "erase", "0170 1234567", "--config", cfg, "--data", data); code != 1 || !strings.Contains(stderr, "already erased") || !strings.Contains(stderr, "nothing changed") {
		t.Errorf("erase twice: exit %d: %s", code, stderr)
	}
	checkErased(t, data, []string{"Jürgen Weiß", "Jürgen", "+491701234567", "491701234567", "1701234567", "jw@example.org"})
	checkAfterErasure(t, cfg, data, receiptA, statusB)

	// A restart keeps it so (the index is built from log + private store).
	stop()
	start(t, args...)
	checkAfterErasure(t, cfg, data, receiptA, statusB)
	if _, stderr, code := chatconsent(t, "erase", "0170 1234567", "--config", cfg, "--data", data); code != 1 || !strings.Contains(stderr, "nothing changed") {
		t.Errorf("erase after a restart: exit %d: %s", code, stderr)
	}
}

func checkAfterErasure(t *testing.T, cfg, data, receiptA, statusB string) {
	t.Helper()
	if out, stderr, code := chatconsent(t, "verify", filepath.Join(data, "decisions.jsonl")); code != 0 || !strings.Contains(out, "OK, 3 records") {
		t.Errorf("the log after erasure: exit %d %s%s", code, out, stderr)
	}
	if out, stderr, code := chatconsent(t, "verify", receiptA, "--key", filepath.Join(data, "signing.pub"), "--config", cfg); code != 0 {
		t.Errorf("the erased person's own receipt: exit %d %s%s", code, out, stderr)
	}
	if got := runOK(t, "status", "0171 7654321", "--config", cfg, "--data", data); got != statusB {
		t.Errorf("another person's status changed:\n%s\nwant\n%s", got, statusB)
	}
	list := runOK(t, "list", "--config", cfg, "--data", data)
	if !strings.Contains(list, "erased on "+time.Now().Format("2006-01")) || strings.Contains(list, "Jürgen") || !strings.Contains(list, "Łukasz") {
		t.Errorf("list after erasure:\n%s", list)
	}
	js := runOK(t, "list", "--format", "json", "--config", cfg, "--data", data)
	var rows []struct {
		Phone    string
		Purposes []string
		Erased   *time.Time
	}
	if err := json.Unmarshal([]byte(js), &rows); err != nil || len(rows) != 2 || rows[0].Erased == nil || len(rows[0].Purposes) != 2 {
		t.Errorf("list --format json after erasure: %v\n%s", err, js)
	}
	if _, stderr, code := chatconsent(t, "status", "0170 1234567", "--config", cfg, "--data", data); code == 0 || strings.Contains(stderr, "Jürgen") {
		t.Errorf("status of the erased number: exit %d %s", code, stderr)
	}
}

// checkErased fails if any file under data holds one of values as text,
// JSON-escaped, hex, or base64 (standard and URL alphabets, padded or not,
// at each of the three alignments).
func checkErased(t *testing.T, data string, values []string) {
	t.Helper()
	var forms []string
	for _, v := range values {
		j, _ := json.Marshal(v)
		forms = append(forms, v, strings.Trim(string(j), `"`), hex.EncodeToString([]byte(v)))
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			for pad := range 3 {
				s := strings.TrimRight(enc.EncodeToString(append(bytes.Repeat([]byte{0}, pad), v...)), "=")
				if start, end := (pad*4+2)/3+1, len(s)-2; end > start+4 {
					forms = append(forms, s[start:end])
				}
			}
		}
	}
	n := 0
	filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			// A temporary file the running collector renamed meanwhile
			// (the transparency log's checkpoint): its content is under
			// the new name.
			return nil
		}
		if err != nil {
			t.Errorf("read %s: %v", path, err)
			return nil
		}
		n++
		for _, f := range forms {
			if bytes.Contains(b, []byte(f)) {
				t.Errorf("%s still holds %q", path, f)
			}
		}
		return nil
	})
	if n < 5 {
		t.Errorf("only %d files searched", n)
	}
}

// waitReceipts waits until data/receipts holds n PDFs.
func waitReceipts(t *testing.T, data string, n int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		m, _ := filepath.Glob(filepath.Join(data, "receipts", "*.pdf"))
		if len(m) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d receipts after 20 s, want %d", len(m), n)
		}
	}
}

// withSMTPNoAuth appends an [smtp] table for the test server at addr,
// without login, so parallel tests need no password in the environment.
func withSMTPNoAuth(t *testing.T, cfg, addr string) {
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
from = "Fahrradladen Beispiel <noreply@fahrradladen.example>"
owner_to = "inhaber@fahrradladen.example"
`); err != nil {
		t.Fatal(err)
	}
}
