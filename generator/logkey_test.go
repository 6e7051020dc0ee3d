package generator

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const testLogKey = "c.example.org/log+0f2f6a1e+AXUb4fQzsbPzq0kq5KzrBWgSzdGnLNQYjW8ZVtBjaY7m"

// TestLogKey: the checkpoint verifier key is published as log-key.txt and
// printed by {{ .LogKey }}; without a key, printing it fails naming
// file:line, {{ if .LogKey }} leaves it out, and no file is written.
func TestLogKey(t *testing.T) {
	cfg, dir := testSite(t)
	policy := filepath.Join(dir, "content", "en", "policy.md")
	orig, err := os.ReadFile(policy)
	if err != nil {
		t.Fatal(err)
	}
	write := func(tail string) {
		t.Helper()
		if err := os.WriteFile(policy, append(append([]byte(nil), orig...), tail...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "public")

	write("\nOur log's key: `{{ .LogKey }}`\n")
	if _, err := Build(cfg, Options{OutDir: out, Now: fixedNow, LogKey: testLogKey + "\n"}); err != nil {
		t.Fatal(err)
	}
	tree := readTree(t, out)
	if got := tree[LogKeyFile]; got != testLogKey+"\n" {
		t.Fatalf("%s = %q, want the key and a newline", LogKeyFile, got)
	}
	if !strings.Contains(tree["en/privacy/index.html"], testLogKey) {
		t.Errorf("the notice does not name the key")
	}

	// No key yet: a clear error naming the file and line.
	lines := strings.Count(string(orig), "\n") + 2
	_, err = Build(cfg, Options{OutDir: out, Now: fixedNow})
	if !errors.Is(err, ErrNoLogKey) || !strings.Contains(err.Error(), policy+":"+strconv.Itoa(lines)+":") || !strings.Contains(err.Error(), "chatconsent keygen") {
		t.Fatalf("no key: %v, want ErrNoLogKey at %s:%d", err, policy, lines)
	}
	// The failed build left the output alone.
	if _, err := os.Stat(filepath.Join(out, LogKeyFile)); err != nil {
		t.Fatalf("a failed build touched the output: %v", err)
	}

	// Guarded: left out, and no key file.
	write("\n{{ if .LogKey }}Our log's key: `{{ .LogKey }}`{{ else }}No log key yet.{{ end }}\n")
	if _, err := Build(cfg, Options{OutDir: out, Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	tree = readTree(t, out)
	if _, ok := tree[LogKeyFile]; ok {
		t.Errorf("%s written without a key", LogKeyFile)
	}
	if !strings.Contains(tree["en/privacy/index.html"], "No log key yet.") {
		t.Errorf("the notice's else branch is missing")
	}
}
