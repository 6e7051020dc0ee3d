package collector

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// TestTlogTrustedStart: a restart trusts the log's own last checkpoint for
// the lines it covers; a changed line under it, or a decisions log cut
// below it, does not start (naming the line), and a changed line after it
// fails its signature.
func TestTlogTrustedStart(t *testing.T) {
	t.Parallel()
	srv, cfg, data, versions := openTlogCollector(t)
	n := decideAll(t, srv.Handler(), versions)
	if err := srv.Close(); err != nil { // waits for a checkpoint covering all
		t.Fatal(err)
	}
	open := func() (Started, error) {
		t.Helper()
		// Without the snapshot of the last stop (TestSnapshotStart): the
		// whole log is read.
		if err := os.Remove(snapshotPath(cfg.Paths(data))); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		s, info, err := Open(cfg, Setup{DataDir: data, ArchiveDir: filepath.Join("..", "archive"), LogVersion: ledger.FormatVersion})
		if err == nil {
			s.Close()
		}
		return info, err
	}
	info, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if info.Trusted != uint64(n) || info.Records != uint64(n) {
		t.Fatalf("trusted %d of %d records, want all %d", info.Trusted, info.Records, n)
	}
	logPath := filepath.Join(data, config.LogFile)
	orig, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(orig, []byte("\n"))
	lines = lines[:len(lines)-1] // the empty rest after the last "\n"
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"last line under the checkpoint changed", bytes.Join(append(lines[:n-1:n-1], bytes.Replace(lines[n-1], []byte(`"orders"`), []byte(`"orderz"`), 1)), nil), ledger.ErrUntrusted},
		{"cut below the checkpoint", bytes.Join(lines[:n-2], nil), ledger.ErrUntrusted},
	} {
		if err := os.WriteFile(logPath, tc.data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := open(); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := os.WriteFile(logPath, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := open(); err != nil {
		t.Fatalf("the original log again: %v", err)
	}
}

// TestNoTlog: the benchmark baseline (collect --no-tlog) records decisions
// in the JSONL file only: no transparency log folder, nothing under /log/.
func TestNoTlog(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(filepath.Join("..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Collector.RatePerMinute = 0
	arch := filepath.Join("..", "archive")
	m, err := textarchive.ReadManifest(arch)
	if err != nil {
		t.Fatal(err)
	}
	versions := map[string]string{}
	for v, info := range m.Versions {
		versions[info.Lang] = v
	}
	data := t.TempDir()
	srv, info, err := Open(cfg, Setup{DataDir: data, ArchiveDir: arch, LogVersion: ledger.FormatVersion, NoTlog: true})
	if err != nil {
		t.Fatal(err)
	}
	n := decideAll(t, srv.Handler(), versions)
	ts := httptest.NewServer(srv.Handler())
	code := get(ts, "/log/checkpoint", "GET")
	ts.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(jsonlV2Lines(t, data)); got != n || info.Trusted != 0 {
		t.Fatalf("%d lines for %d decisions, trusted %d", got, n, info.Trusted)
	}
	if _, err := os.Stat(filepath.Join(data, config.TransparencyDir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a transparency log folder with --no-tlog: %v", err)
	}
	if code != http.StatusNotFound {
		t.Fatalf("GET /log/checkpoint: %d, want 404", code)
	}
}
