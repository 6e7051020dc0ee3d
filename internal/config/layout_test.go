package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/internal/config"
)

// TestLayoutOnlyHere: the data folder's file names are spelled in this
// package only. The log's and the transparency log's packages take paths
// from their callers (GenerateKey, LoadOrCreateKey, VerifierKey, Open), so
// none of their non-test files may hold one of the names as a string.
func TestLayoutOnlyHere(t *testing.T) {
	t.Parallel()
	names := []string{
		config.LogFile, config.SigningKeyFile, config.SigningPublicKeyFile,
		config.CheckpointKeyFile, config.CheckpointVerifierKeyFile,
		config.InviteKeyFile, config.InvitePublicKeyFile, config.OwnersFile,
	}
	for _, dir := range []string{"../../collector/ledger", "../../collector/translog"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in %s (%v)", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "//") {
					continue
				}
				for _, n := range names {
					if strings.Contains(line, `"`+n+`"`) {
						t.Errorf("%s:%d spells %q; take the path from internal/config's Paths", f, i+1, n)
					}
				}
			}
		}
	}
	p := (&config.Config{Dir: "/site"}).Paths("/d")
	for got, want := range map[string]string{
		p.Log: "/d/decisions.jsonl", p.SigningKey: "/d/signing.key", p.SigningPublicKey: "/d/signing.pub",
		p.CheckpointKey: "/d/checkpoint.key", p.CheckpointVerifierKey: "/d/checkpoint.vkey",
	} {
		if got != want {
			t.Errorf("Paths: %s, want %s", got, want)
		}
	}
}
