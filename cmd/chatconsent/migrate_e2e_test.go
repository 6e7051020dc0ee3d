package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/config"
)

// TestEraseCLIMigrated is TestEraseCLI for a data folder from before log
// format 2, migrated: the collector refuses it until `migrate`; then a
// person recorded only in version-1 lines is erased through the running
// collector, after which no file in the data folder holds their values in
// any common encoding, the log verifies with their lines redacted, and
// the other person's status is unchanged, also after a restart.
func TestEraseCLIMigrated(t *testing.T) {
	t.Parallel()
	dir, cfg, data, args := collectSite(t)
	de := textVersion(t, dir, "de")
	if err := os.MkdirAll(filepath.Join(data, "receipts"), 0o700); err != nil {
		t.Fatal(err)
	}
	priv, _, err := ledger.LoadOrCreateKey(filepath.Join(data, config.SigningKeyFile), filepath.Join(data, config.SigningPublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := ledger.Open(filepath.Join(data, "decisions.jsonl"), priv, ledger.Options{Version: ledger.FormatV1})
	if err != nil {
		t.Fatal(err)
	}
	a, b := strings.Repeat("a", 32), strings.Repeat("b", 32)
	t0 := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	if _, err := l.Append(context.Background(),
		ledger.Record{Type: ledger.TypeDecision, ID: a, Time: t0, Decision: ledger.Granted, Purposes: []string{"orders", "documents"},
			Subject: &ledger.Subject{Name: "Jürgen Weiß", Phone: "+491701234567", Email: "jw@example.org"}, Lang: "de", TextVersion: de},
		ledger.Record{Type: ledger.TypeDecision, ID: b, Time: t0.Add(time.Hour), Decision: ledger.Granted, Purposes: []string{"orders"},
			Subject: &ledger.Subject{Name: "Łukasz Wróbel", Phone: "+491717654321"}, Lang: "de", TextVersion: de},
	); err != nil {
		t.Fatal(err)
	}
	l.Close()
	// The receipt a version before format 2 left in the data folder.
	if err := os.WriteFile(filepath.Join(data, "receipts", a+".pdf"), []byte("%PDF-1.7 Jürgen Weiß +491701234567 jw@example.org"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := chatconsent(t, args...); code != 1 || !strings.Contains(stderr, "chatconsent migrate") {
		t.Fatalf("collect on a version-1 folder: exit %d\n%s", code, stderr)
	}
	out := runOK(t, "migrate", "--config", cfg, "--data", data)
	if !strings.Contains(out, "2 lines of history (2 in format 1, 2 with personal data)") {
		t.Errorf("migrate:\n%s", out)
	}
	statusB := runOK(t, "status", "0171 7654321", "--config", cfg, "--data", data)
	_, _, stop := startStoppable(t, args...)
	out = runOK(t, "erase", "+49 170 1234567", "--config", cfg, "--data", data)
	if !strings.Contains(out, "the openings of 1 record are destroyed, 1 receipt or mail file deleted") {
		t.Errorf("erase:\n%s", out)
	}
	checkErased(t, data, []string{"Jürgen Weiß", "Jürgen", "+491701234567", "491701234567", "1701234567", "jw@example.org"})
	check := func() {
		t.Helper()
		out, stderr, code := chatconsent(t, "verify", filepath.Join(data, "decisions.jsonl"))
		if code != 0 || !strings.Contains(out, "OK, 6 records") || !strings.Contains(out, "1 line of format 1 redacted") {
			t.Errorf("verify after erasure: exit %d %s%s", code, out, stderr)
		}
		if got := runOK(t, "status", "0171 7654321", "--config", cfg, "--data", data); got != statusB {
			t.Errorf("another person's status changed:\n%s\nwant\n%s", got, statusB)
		}
		list := runOK(t, "list", "--config", cfg, "--data", data)
		if !strings.Contains(list, "erased on ") || strings.Contains(list, "Jürgen") || !strings.Contains(list, "Łukasz") {
			t.Errorf("list after erasure:\n%s", list)
		}
	}
	check()
	stop()
	start(t, args...)
	check()
	checkErased(t, data, []string{"Jürgen Weiß", "+491701234567", "jw@example.org"})
}

// TestRetentionApplyMigrated: `retention --apply` on a migrated data
// folder from before log format 2 erases the person who is due (a
// refusal years ago, known only from version-1 lines), redacting their
// lines, and leaves the person with a grant in force alone.
func TestRetentionApplyMigrated(t *testing.T) {
	t.Parallel()
	dir, cfg, data, _ := collectSite(t)
	de := textVersion(t, dir, "de")
	priv, _, err := ledger.LoadOrCreateKey(filepath.Join(data, config.SigningKeyFile), filepath.Join(data, config.SigningPublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := ledger.Open(filepath.Join(data, config.LogFile), priv, ledger.Options{Version: ledger.FormatV1})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Date(2020, 3, 1, 9, 30, 0, 0, time.UTC)
	if _, err := l.Append(context.Background(),
		ledger.Record{Type: ledger.TypeDecision, ID: strings.Repeat("a", 32), Time: old, Decision: ledger.Refused,
			Subject: &ledger.Subject{Name: "Jürgen Weiß", Phone: "+491701234567", Email: "jw@example.org"}, Lang: "de", TextVersion: de},
		ledger.Record{Type: ledger.TypeDecision, ID: strings.Repeat("b", 32), Time: old, Decision: ledger.Granted, Purposes: []string{"orders"},
			Subject: &ledger.Subject{Name: "Łukasz Wróbel", Phone: "+491717654321"}, Lang: "de", TextVersion: de},
	); err != nil {
		t.Fatal(err)
	}
	l.Close()
	runOK(t, "migrate", "--config", cfg, "--data", data)
	statusB := runOK(t, "status", "0171 7654321", "--config", cfg, "--data", data)
	if out := runOK(t, "retention", "--config", cfg, "--data", data); !strings.Contains(out, "+491701234567") || !strings.Contains(out, "due now") || strings.Contains(out, "+491717654321") {
		t.Fatalf("retention:\n%s", out)
	}
	out := runOK(t, "retention", "--apply", "--config", cfg, "--data", data)
	if !strings.Contains(out, "erased +491701234567") || strings.Contains(out, "+491717654321") {
		t.Fatalf("retention --apply:\n%s", out)
	}
	checkErased(t, data, []string{"Jürgen Weiß", "+491701234567", "jw@example.org"})
	vout, stderr, code := chatconsent(t, "verify", filepath.Join(data, "decisions.jsonl"))
	if code != 0 || !strings.Contains(vout, "1 line of format 1 redacted") {
		t.Errorf("verify after retention: exit %d %s%s", code, vout, stderr)
	}
	if got := runOK(t, "status", "0171 7654321", "--config", cfg, "--data", data); got != statusB {
		t.Errorf("the other person's status changed:\n%s\nwant\n%s", got, statusB)
	}
	if out := runOK(t, "retention", "--apply", "--config", cfg, "--data", data); strings.Contains(out, "erased ") {
		t.Errorf("a second retention --apply erased again:\n%s", out)
	}
}
