package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/tsatest"
)

// TestVerifyTlogTimestamp: verify checks the log's newest time-stamp
// offline against --timestamp-roots and says the time; a token from
// another root or over other bytes fails naming the checkpoint.
func TestVerifyTlogTimestamp(t *testing.T) {
	t.Parallel()
	data, _ := tlogData(t, 300)
	a := tsatest.New(t)
	logDir := filepath.Join(data, "log")
	cp, err := os.ReadFile(filepath.Join(logDir, "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	stamp := func(over []byte) {
		t.Helper()
		tsr, err := a.Stamp(over)
		if err != nil {
			t.Fatal(err)
		}
		cpName, tsrName := translog.TimestampPaths(300)
		os.MkdirAll(filepath.Join(logDir, translog.TimestampDir), 0o755)
		for name, b := range map[string][]byte{cpName: cp, tsrName: tsr, translog.TimestampLatest: []byte(strconv.Itoa(300) + "\n")} {
			if err := os.WriteFile(filepath.Join(logDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	stamp(cp)
	out, err := runCLI(t, "verify", data, "--timestamp-roots", a.RootsFile)
	if err != nil || !strings.Contains(out, "time-stamped: the checkpoint of 300 entries existed at ") || !strings.Contains(out, "chatconsent test TSA") {
		t.Fatalf("verify --timestamp-roots: %v\n%s", err, out)
	}
	// Without roots the token is not looked at.
	if out, err := runCLI(t, "verify", data); err != nil || strings.Contains(out, "time-stamped") {
		t.Fatalf("verify without roots: %v\n%s", err, out)
	}
	other := tsatest.New(t)
	if _, err := runCLI(t, "verify", data, "--timestamp-roots", other.RootsFile); err == nil ||
		!strings.Contains(err.Error(), "time-stamp token of the checkpoint of size 300 (timestamp/300.tsr)") {
		t.Fatalf("another authority's root: %v", err)
	}
	stamp(append(cp, '\n'))
	if _, err := runCLI(t, "verify", data, "--timestamp-roots", a.RootsFile); err == nil ||
		!strings.Contains(err.Error(), "size 300") || !strings.Contains(err.Error(), "other bytes") {
		t.Fatalf("token over other bytes: %v", err)
	}
	if _, err := runCLI(t, "verify", data, "--timestamp-roots", filepath.Join(data, config.SigningPublicKeyFile)); err == nil || !strings.Contains(err.Error(), "no PEM CERTIFICATE") {
		t.Fatalf("roots not PEM: %v", err)
	}
}

// TestVerifyReceiptTimestamp: a receipt made with log.timestamp_url carries
// the token over its proof's checkpoint; verify checks it against
// --timestamp-roots and says the time, refuses another root, and a full
// receipt check (record, printed text) accepts the attachment.
func TestVerifyReceiptTimestamp(t *testing.T) {
	t.Parallel()
	a := tsatest.Start(t)
	pdf, data := tlogReceiptWith(t, func(c *config.Config) {
		c.Log.TimestampURL, c.Log.TimestampRoots = a.URL, a.RootsFile
	})
	vkey, err := translog.VerifierKey(filepath.Join(data, config.CheckpointVerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	noConfig := filepath.Join(t.TempDir(), "none.toml")
	out, err := runCLI(t, "verify", pdf, "--key", vkey, "--config", noConfig)
	if err != nil || !strings.Contains(out, "time-stamp token: not checked") {
		t.Fatalf("verify without roots: %v\n%s", err, out)
	}
	out, err = runCLI(t, "verify", pdf, "--key", vkey, "--config", noConfig, "--timestamp-roots", a.RootsFile)
	if err != nil || !strings.Contains(out, "time-stamped: the checkpoint of 1 entry existed at ") {
		t.Fatalf("verify --timestamp-roots: %v\n%s", err, out)
	}
	other := tsatest.New(t)
	if _, err := runCLI(t, "verify", pdf, "--key", vkey, "--config", noConfig, "--timestamp-roots", other.RootsFile); err == nil ||
		!strings.Contains(err.Error(), "time-stamp token of the checkpoint of size 1") {
		t.Fatalf("another authority's root: %v", err)
	}
	// The whole receipt, with the collector's public key and config.
	out, err = runCLI(t, "verify", pdf, "--key", filepath.Join(data, config.SigningPublicKeyFile), "--config", filepath.Join("..", "..", "config.toml"))
	if err != nil {
		t.Fatalf("verify the receipt with its config: %v\n%s", err, out)
	}
}
