package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// tlogReceipt records one decision in a version-2 collector and returns
// its receipt's path and the data folder.
func tlogReceipt(t *testing.T) (pdfPath, data string) {
	t.Helper()
	return tlogReceiptWith(t, nil)
}

// tlogReceiptWith is tlogReceipt with the config changed by mod first.
func tlogReceiptWith(t *testing.T, mod func(*config.Config)) (pdfPath, data string) {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(cfg)
	}
	arch := filepath.Join("..", "..", "archive")
	m, err := textarchive.ReadManifest(arch)
	if err != nil {
		t.Fatal(err)
	}
	var version string
	for v, info := range m.Versions {
		if info.Lang == "en" {
			version = v
		}
	}
	data = t.TempDir()
	srv, _, err := collector.Open(cfg, collector.Setup{DataDir: data, ArchiveDir: arch, LogVersion: ledger.FormatVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	body := fmt.Sprintf(`{"decision":"granted","name":"Jürgen Weiß","phone":"0170 1234567","purpose":["orders"],"lang":"en","text_version":%q}`, version)
	r := httptest.NewRequest("POST", "/v1/consent", strings.NewReader(body))
	r.RemoteAddr = "192.0.2.8:4711"
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, r)
	if w.Code != http.StatusCreated {
		t.Fatalf("decision: %d %s", w.Code, w.Body)
	}
	dir := filepath.Join(data, "receipts")
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		des, _ := os.ReadDir(dir)
		for _, de := range des {
			if strings.HasSuffix(de.Name(), ".pdf") {
				return filepath.Join(dir, de.Name()), data
			}
		}
	}
	t.Fatal("no receipt written")
	return "", ""
}

// TestVerifyReceiptProof: a data subject checks their receipt's inclusion
// proof offline with the published checkpoint key alone (text or file);
// another log's key, or a key given for a receipt without a proof, fails.
func TestVerifyReceiptProof(t *testing.T) {
	t.Parallel()
	pdf, data := tlogReceipt(t)
	vkey, err := translog.VerifierKey(filepath.Join(data, config.CheckpointVerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	noConfig := filepath.Join(t.TempDir(), "none.toml")
	for _, key := range []string{vkey, filepath.Join(data, config.CheckpointVerifierKeyFile)} {
		out, err := runCLI(t, "verify", pdf, "--key", key, "--config", noConfig)
		if err != nil {
			t.Fatalf("verify --key %s: %v\n%s", key, err, out)
		}
		if !strings.Contains(out, "inclusion proof: OK, record ") || !strings.Contains(out, "(seq 1) is entry 0 of the log 127.0.0.1:8080/log") {
			t.Errorf("verify --key: %s", out)
		}
	}
	other := t.TempDir()
	otherKey, err := translog.GenerateKey(filepath.Join(other, config.CheckpointKeyFile), filepath.Join(other, config.CheckpointVerifierKeyFile), "127.0.0.1:8080/log")
	if err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "verify", pdf, "--key", otherKey, "--config", noConfig)
	if err == nil || !strings.Contains(err.Error(), "inclusion proof") {
		t.Errorf("another log's key: %v\n%s", err, out)
	}
	// A receipt of the released version-1 format has no proof.
	old, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "released", "v*", "*.pdf"))
	if len(old) == 0 {
		old, _ = filepath.Glob(filepath.Join("..", "..", "collector", "receipt", "testdata", "released", "v*", "*.pdf"))
	}
	if len(old) > 0 {
		out, err := runCLI(t, "verify", old[0], "--key", vkey, "--config", noConfig)
		if err == nil || !strings.Contains(err.Error(), "no inclusion proof") {
			t.Errorf("receipt without proof, key given: %v\n%s", err, out)
		}
	} else {
		t.Log("no released receipt found")
	}
}
