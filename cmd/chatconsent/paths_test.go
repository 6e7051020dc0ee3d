package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// runIn runs the CLI in-process and fails the test on an error.
func runIn(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(context.Background(), args, nil, &out, &errb); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// archiveSite is a new site whose text archive is site.archive = "proof",
// built once, with a signing key in DATA and one grant in the log on the
// German text that was current then.
func archiveSite(t *testing.T) (dir, cfg, data string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "shop")
	runIn(t, "init", dir)
	cfg = filepath.Join(dir, "config.toml")
	src, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.Replace(src, []byte(`# archive = "archive"`), []byte(`archive = "proof"`), 1)
	if err := os.WriteFile(cfg, src, 0o644); err != nil {
		t.Fatal(err)
	}
	runIn(t, "build", "--config", cfg, "--out", filepath.Join(dir, "public"))
	if _, err := os.Stat(filepath.Join(dir, "archive")); !os.IsNotExist(err) {
		t.Fatalf("build wrote DIR/archive although site.archive = \"proof\": %v", err)
	}
	data = filepath.Join(dir, "data")
	runIn(t, "keygen", "--config", cfg, "--data", data)
	priv, err := ledger.ReadPrivateKey(filepath.Join(data, "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	// Date the first build a day back: a build in the same second would not
	// be "published after" it.
	mp := filepath.Join(dir, "proof", textarchive.ManifestFile)
	m, err := textarchive.ReadManifest(filepath.Dir(mp))
	if err != nil {
		t.Fatal(err)
	}
	for v, info := range m.Versions {
		info.FirstPublished = info.FirstPublished.Add(-24 * time.Hour)
		m.Versions[v] = info
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	appendGrant(t, filepath.Join(data, "decisions.jsonl"), priv, m.Latest("de"))
	return dir, cfg, data
}

func appendGrant(t *testing.T, path string, priv ed25519.PrivateKey, version string) {
	t.Helper()
	l, _, err := ledger.Open(path, priv, ledger.Options{Version: ledger.FormatV1}) // clear subject fields: no private store needed
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = l.Append(context.Background(), ledger.Record{
		Type: ledger.TypeDecision, ID: strings.Repeat("a", 32), Time: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC),
		Decision: ledger.Granted, Purposes: []string{"orders", "documents"},
		Subject: &ledger.Subject{Name: "Jürgen Weiß", Phone: "+491701234567"}, Lang: "de", TextVersion: version,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStatusHonoursSiteArchive: status, list and export read the archive
// that site.archive names, so a material change there asks for renewal
// (before, they read DIR/archive and said "granted").
func TestStatusHonoursSiteArchive(t *testing.T) {
	t.Parallel()
	dir, cfg, data := archiveSite(t)
	if st := runIn(t, "status", "--config", cfg, "--data", data, "0170 1234567"); !strings.Contains(st, "orders     granted") {
		t.Fatalf("status before the change:\n%s", st)
	}
	pg := filepath.Join(dir, "content", "de", "consent.md")
	src, err := os.ReadFile(pg)
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.Replace(src, []byte("+++\n"), []byte("+++\nmaterial_change = true\n"), 1)
	if err := os.WriteFile(pg, append(src, "\nNeu: Terminerinnerungen.\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	runIn(t, "build", "--config", cfg, "--out", filepath.Join(dir, "public"))
	st := runIn(t, "status", "--config", cfg, "--data", data, "0170 1234567")
	if !strings.Contains(st, "orders     renewal needed") || !strings.Contains(st, "documents  renewal needed") {
		t.Errorf("status after a material change in site.archive:\n%s", st)
	}
	if x := runIn(t, "export", "--config", cfg, "--data", data, "0170 1234567"); !strings.Contains(x, `"state": "renewal needed"`) {
		t.Errorf("export after a material change in site.archive:\n%s", x)
	}
}

// TestOwnerCommandsNeedTheArchive: status, list and export refuse a
// site.archive that does not exist instead of treating it as empty (no
// consent would then need renewal).
func TestOwnerCommandsNeedTheArchive(t *testing.T) {
	t.Parallel()
	dir, cfg, data := archiveSite(t)
	if err := os.Rename(filepath.Join(dir, "proof"), filepath.Join(dir, "proof.old")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"status", "--config", cfg, "--data", data, "0170 1234567"},
		{"list", "--config", cfg, "--data", data},
		{"export", "--config", cfg, "--data", data, "0170 1234567"},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), args, nil, &out, &errb)
		var h interface{ Hint() string }
		if !errors.Is(err, textarchive.ErrNoArchive) || !strings.Contains(err.Error(), filepath.Join(dir, "proof")) || !errors.As(err, &h) || !strings.Contains(h.Hint(), "site.archive") {
			t.Errorf("%s without the archive: err = %v", args[0], err)
		}
	}
}
