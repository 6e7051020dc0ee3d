package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// grantOrdersDocuments records a grant of orders and documents for
// 0170 1234567 (with an e-mail address) on a running collector.
func grantOrdersDocuments(t *testing.T, dir, base string) string {
	t.Helper()
	code, ans := postJSON(t, base+"v1/consent", `{"decision":"granted","name":"Jürgen Weiß","phone":"0170 1234567","email":"j@example.org","purpose":["orders","documents"],"lang":"de","text_version":"`+textVersion(t, dir, "de")+`"}`)
	if code != 201 {
		t.Fatalf("grant: %d %v", code, ans)
	}
	return ans["id"].(string)
}

// TestWithdrawCLI records withdrawals by channel from the CLI on both
// paths: with no collector running (the CLI opens the log itself; a
// killed collector's socket file is left behind) and with the collector
// running (the CLI asks it through DATA/owner.sock). Every refusal writes
// nothing and exits 2 (typed wrong) or 1 (what the records say).
func TestWithdrawCLI(t *testing.T) {
	t.Parallel()
	dir, cfg, data, args := collectSite(t)
	base, _, kill := startStoppable(t, args...)
	grantOrdersDocuments(t, dir, base)
	if _, err := os.Stat(filepath.Join(data, "owner.sock")); err != nil {
		t.Fatalf("the collector made no owner socket: %v", err)
	}
	kill() // SIGKILL: the socket file stays, nobody listens on it
	logPath := filepath.Join(data, "decisions.jsonl")
	before, _ := os.ReadFile(logPath)

	for _, tt := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no --via", []string{"0170 1234567", "--all"}, 2, []string{"--via phone|whatsapp|email|letter|in-person"}},
		{"bad --via", []string{"0170 1234567", "--all", "--via", "fax"}, 2, []string{`--via "fax": want one of phone, whatsapp, email, letter, in-person`}},
		{"no purpose", []string{"0170 1234567", "--via", "phone"}, 2, []string{"--purpose ID (repeatable) or --all", "nothing written", "hint: in force for this number: orders, documents"}},
		{"both", []string{"0170 1234567", "--via", "phone", "--all", "--purpose", "orders"}, 2, []string{"not both"}},
		{"unknown purpose", []string{"0170 1234567", "--via", "phone", "--purpose", "marketing"}, 2, []string{`--purpose "marketing": no such purpose`, "in force for this number: orders, documents"}},
		{"unknown number", []string{"0171 7654321", "--via", "phone", "--all"}, 1, []string{"no decision is recorded for +491717654321", "chatconsent list"}},
		{"not a number", []string{"hello", "--via", "phone", "--all"}, 2, []string{`not a phone number: "hello"`}},
		{"bad owner", []string{"0170 1234567", "--via", "phone", "--all", "--by", "a b"}, 2, []string{`--by "a b"`}},
		{"control in note", []string{"0170 1234567", "--via", "phone", "--all", "--note", "a\x1bb"}, 2, []string{"note not usable"}},
	} {
		stdout, stderr, code := chatconsent(t, append([]string{"withdraw", "--config", cfg, "--data", data}, tt.args...)...)
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", tt.name, code, tt.code, stdout, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tt.name, w, stderr)
			}
		}
	}
	if after, _ := os.ReadFile(logPath); !bytes.Equal(before, after) {
		t.Fatal("a refused withdrawal changed the log")
	}

	// No collector runs: the CLI records it itself.
	out := runOK(t, "withdraw", "0170 1234567", "--via", "phone", "--purpose", "documents", "--by", "anna", "--note", "rief an", "--config", cfg, "--data", data)
	for _, w := range []string{"withdrawn for +491701234567: documents (via phone, recorded by anna)", "still granted: orders", "no mail is configured"} {
		if !strings.Contains(out, w) {
			t.Errorf("withdraw output lacks %q:\n%s", w, out)
		}
	}
	st := runOK(t, "status", "0170 1234567", "--config", cfg, "--data", data)
	if !strings.Contains(st, "documents  withdrawn") || !strings.Contains(st, `(phone, recorded by anna: "rief an")`) {
		t.Errorf("status after the withdrawal:\n%s", st)
	}
	if _, stderr, code := chatconsent(t, "withdraw", "0170 1234567", "--via", "letter", "--purpose", "documents", "--config", cfg, "--data", data); code != 1 || !strings.Contains(stderr, `consent to "documents" is not in force`) || !strings.Contains(stderr, "in force: orders") {
		t.Errorf("withdraw what is withdrawn: exit %d: %s", code, stderr)
	}
	checkReceipt(t, out)
	// The note may name the person: the log (format 2) holds it sealed.
	if b, _ := os.ReadFile(logPath); bytes.Contains(b, []byte("rief an")) {
		t.Error("the owner's note stands in clear in the log")
	}

	// The collector runs: the CLI asks it, and its own state follows.
	base = start(t, args...)
	out = runOK(t, "withdraw", "+49 170 1234567", "--via", "in-person", "--all", "--by", "bernd", "--config", cfg, "--data", data)
	if !strings.Contains(out, "withdrawn for +491701234567: orders (via in-person, recorded by bernd)") || !strings.Contains(out, "still granted: nothing") {
		t.Errorf("withdraw through the collector:\n%s", out)
	}
	if _, stderr, code := chatconsent(t, "withdraw", "0170 1234567", "--via", "phone", "--all", "--config", cfg, "--data", data); code != 1 || !strings.Contains(stderr, "no consent is in force for +491701234567") {
		t.Errorf("withdraw again through the collector: exit %d: %s", code, stderr)
	}
	checkReceipt(t, out)
	// A grant after that is withdrawable again, by the running collector.
	grantOrdersDocuments(t, dir, base)
	if _, stderr, code := chatconsent(t, "withdraw", "0170 1234567", "--via", "whatsapp", "--purpose", "marketing", "--config", cfg, "--data", data); code != 2 || !strings.Contains(stderr, "in force for this number: orders, documents") {
		t.Errorf("unknown purpose through the collector: exit %d: %s", code, stderr)
	}
	runOK(t, "withdraw", "0170 1234567", "--via", "whatsapp", "--purpose", "orders", "--purpose", "documents", "--config", cfg, "--data", data)
	st = runOK(t, "status", "0170 1234567", "--config", cfg, "--data", data)
	if strings.Count(st, "withdrew") != 3 || !strings.Contains(st, "(in-person, recorded by bernd)") || !strings.Contains(st, "(whatsapp, recorded by ") {
		t.Errorf("status:\n%s", st)
	}
	if _, _, code := chatconsent(t, "verify", filepath.Join(data, "decisions.jsonl")); code != 0 {
		t.Error("the log does not verify")
	}

	// A collector holds the log but does not answer on the socket (an
	// older version): refused with what to do.
	os.Remove(filepath.Join(data, "owner.sock"))
	_, stderr, code := chatconsent(t, "withdraw", "0170 1234567", "--via", "phone", "--all", "--config", cfg, "--data", data)
	if code != 1 || !strings.Contains(stderr, "does not answer on") || !strings.Contains(stderr, "hint: restart it") {
		t.Errorf("locked log without socket: exit %d: %s", code, stderr)
	}
}

// checkReceipt checks that the receipt withdraw's output names is a PDF.
func checkReceipt(t *testing.T, out string) {
	t.Helper()
	m := regexp.MustCompile(`receipt (\S+\.pdf)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no receipt in:\n%s", out)
	}
	b, err := os.ReadFile(m[1])
	if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Errorf("receipt %s: %v", m[1], err)
	}
}
