package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCollectRefusesMistypedData: a typo in --data stops collect with a
// hint instead of creating a new signing key and an empty log.
func TestCollectRefusesMistypedData(t *testing.T) {
	t.Parallel()
	_, cfg, data, _ := collectSite(t)
	runOK(t, "keygen", "--config", cfg, "--data", data)
	os.WriteFile(filepath.Join(data, "decisions.jsonl"), nil, 0o600)
	for _, typo := range []string{data + "2", filepath.Join(filepath.Dir(data), "dta")} {
		stdout, stderr, code := chatconsent(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", typo)
		if code != 1 || !strings.Contains(stderr, "no signing key") || !strings.Contains(stderr, "hint: did you mean --data "+data) || strings.Contains(stdout, "listening") {
			t.Errorf("collect --data %s: exit %d\n%s%s", typo, code, stdout, stderr)
		}
		if _, err := os.Stat(typo); !os.IsNotExist(err) {
			t.Errorf("collect created %s: %v", typo, err)
		}
	}
}
