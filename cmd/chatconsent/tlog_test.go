package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
)

// tlogData makes a data folder with a signing key, a checkpoint key, n
// signed lines and the transparency log over them; it returns the folder
// and the checkpoint at size n/2.
func tlogData(t *testing.T, n int) (string, []byte) {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	priv, err := ledger.GenerateKey(filepath.Join(data, config.SigningKeyFile), filepath.Join(data, config.SigningPublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	lg, _, err := ledger.Open(filepath.Join(data, "decisions.jsonl"), priv, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	k, _, err := translog.LoadOrCreateKey(filepath.Join(data, config.CheckpointKeyFile), filepath.Join(data, config.CheckpointVerifierKeyFile), "c.example.org/log")
	if err != nil {
		t.Fatal(err)
	}
	tl, err := translog.Open(ctx, translog.Options{Dir: filepath.Join(data, "log"), Key: k, BatchMaxAge: 5 * time.Millisecond, CheckpointInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var half []byte
	for i := 0; i < n; i++ {
		es, err := lg.Append(ctx, ledger.Record{Type: ledger.TypeDecision, ID: fmt.Sprintf("%032x", i), Time: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC),
			Decision: ledger.Granted, Purposes: []string{"orders"}, Lang: "de", TextVersion: strings.Repeat("ab", 32)})
		if err != nil {
			t.Fatal(err)
		}
		if err := tl.Feed(es[0].Record.Seq-1, es[0].Line); err != nil {
			t.Fatal(err)
		}
		if i == n/2-1 {
			if half, err = tl.AwaitCheckpoint(ctx, uint64(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := tl.Close(cctx); err != nil {
		t.Fatal(err)
	}
	return data, half
}

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, nil, &out, &errb)
	return out.String() + errb.String(), err
}

func TestVerifyAndMirrorTlog(t *testing.T) {
	t.Parallel()
	data, half := tlogData(t, 300)
	out, err := runCLI(t, "verify", data)
	if err != nil || !strings.Contains(out, "OK, transparency log c.example.org/log, 300 entries") || !strings.Contains(out, "every entry's signature checked") {
		t.Fatalf("verify DATA: %v\n%s", err, out)
	}
	dst := filepath.Join(t.TempDir(), "public-log")
	if out, err := runCLI(t, "mirror", "--data", data, dst); err != nil || !strings.Contains(out, "300 entries") {
		t.Fatalf("mirror: %v\n%s", err, out)
	}
	older := filepath.Join(t.TempDir(), "checkpoint-150")
	os.WriteFile(older, half, 0o644)
	keys := []string{"--key", filepath.Join(data, config.SigningPublicKeyFile), "--checkpoint-key", filepath.Join(data, config.CheckpointVerifierKeyFile)}
	out, err = runCLI(t, append([]string{"verify", dst, "--older", older}, keys...)...)
	if err != nil || !strings.Contains(out, "extends the older checkpoint of size 150") || !strings.Contains(out, "entries/s") {
		t.Fatalf("verify MIRROR --older: %v\n%s", err, out)
	}
	// Without the checkpoint key nothing can be checked: a clear hint.
	if _, err := runCLI(t, "verify", dst, "--config", filepath.Join(t.TempDir(), "none.toml")); err == nil || !strings.Contains(err.Error(), "no checkpoint verifier key") {
		t.Fatalf("verify without a key: %v", err)
	}
	// A changed entry in the copy fails, naming the file.
	b := filepath.Join(dst, "tile", "entries", "000")
	orig, _ := os.ReadFile(b)
	m := bytes.Replace(orig, []byte(`"orders"`), []byte(`"orderz"`), 1)
	os.WriteFile(b, m, 0o644)
	if _, err := runCLI(t, append([]string{"verify", dst}, keys...)...); err == nil || !strings.Contains(err.Error(), "tile/entries/000") {
		t.Fatalf("verify of a changed entry: %v", err)
	}
	os.WriteFile(b, orig, 0o644)
	// Another collector's log (another checkpoint key) does not verify with this key.
	cut, _ := tlogData(t, 100)
	newer := filepath.Join(t.TempDir(), "checkpoint-300")
	cp, _ := os.ReadFile(filepath.Join(dst, "checkpoint"))
	os.WriteFile(newer, cp, 0o644)
	if _, err := runCLI(t, "verify", cut, "--older", newer, "--checkpoint-key", filepath.Join(data, config.CheckpointVerifierKeyFile)); err == nil {
		t.Fatal("a log of another key verified with this checkpoint key")
	}
}

func TestKeygenPrintsCheckpointKey(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	out, err := runCLI(t, "keygen", "--data", data, "--config", filepath.Join(data, "none.toml"))
	if err != nil || !strings.Contains(out, "verifier key   chatconsent/log+") {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	st, err := os.Stat(filepath.Join(data, config.CheckpointKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("checkpoint key: %v %v", st, err)
	}
}
