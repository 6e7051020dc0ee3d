package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDoctorCommand runs "chatconsent doctor" on the repo's site with a
// fresh key, then with the key opened to others: the second run names the
// problem and its fix and fails.
func TestDoctorCommand(t *testing.T) {
	dir := site(t)
	cfg, data := filepath.Join(dir, "config.toml"), filepath.Join(dir, "data")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"keygen", "--config", cfg, "--data", data}, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"doctor", "--config", cfg, "--data", data}, nil, &out, &errb); err != nil {
		t.Fatalf("doctor on a fresh deployment: %v\n%s", err, out.String())
	}
	for _, want := range []string{"ok    config", "ok    signing key", "ok    data directory", "ok    receipt template", "warn  site.base_url", "doctor: nothing to fix"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out.String())
		}
	}

	key := filepath.Join(data, "signing.key")
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err := run(context.Background(), []string{"doctor", "--config", cfg, "--data", data}, nil, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "1 problem to fix") {
		t.Fatalf("doctor with key mode 0644: err %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "FAIL  signing key") || !strings.Contains(out.String(), "fix: chmod 600 "+key) {
		t.Errorf("doctor output does not name the fix:\n%s", out.String())
	}
}
