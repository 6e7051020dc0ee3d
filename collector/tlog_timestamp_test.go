package collector

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/textarchive"
	"github.com/chatconsent/chatconsent/internal/tsatest"
	"github.com/chatconsent/chatconsent/proof"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// openStampedCollector is openTlogCollector with log.timestamp_url set to
// a local time-stamp authority.
func openStampedCollector(t *testing.T, a *tsatest.TSA, logs *lockedBuf) (*Server, string, map[string]string) {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Collector.RatePerMinute = 0
	cfg.Log.TimestampURL, cfg.Log.TimestampRoots = a.URL, a.RootsFile
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
	srv, _, err := Open(cfg, Setup{DataDir: data, ArchiveDir: arch, LogVersion: ledger.FormatVersion,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return srv, data, versions
}

// receiptsOf waits for the receipts of the version-2 lines in data.
func receiptsOf(t *testing.T, srv *Server, data string) [][]byte {
	t.Helper()
	var out [][]byte
	deadline := time.Now().Add(30 * time.Second)
	for _, line := range jsonlV2Lines(t, data) {
		rec, err := ledger.ParseLineWith(line, srvVerifier(srv))
		if err != nil {
			t.Fatal(err)
		}
		var pdf []byte
		for {
			if pdf, err = os.ReadFile(filepath.Join(data, "receipts", rec.ID+".pdf")); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("receipt of line %d: %v", rec.Seq, err)
		}
		out = append(out, pdf)
	}
	return out
}

// TestTlogReceiptTimestamp: with log.timestamp_url, each receipt carries
// the authority's token over the checkpoint of its inclusion proof
// (checkpoint.tsr), which verifies offline against log.timestamp_roots,
// and the log publishes its time-stamps under /log/timestamp/.
func TestTlogReceiptTimestamp(t *testing.T) {
	t.Parallel()
	a := tsatest.Start(t)
	var logs lockedBuf
	srv, data, versions := openStampedCollector(t, a, &logs)
	defer srv.Close()
	decideAll(t, srv.Handler(), versions)
	vkey, _ := translog.VerifierKey(filepath.Join(data, config.CheckpointVerifierKeyFile))
	v, err := translog.ParseVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := translog.ReadRoots(a.RootsFile)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := translog.ParseRoots(tsatest.New(t).RootsPEM, "other")
	for i, pdf := range receiptsOf(t, srv, data) {
		inc, err := proof.CheckInclusion(pdf, proof.LogCheck{Key: v})
		if err != nil {
			t.Fatalf("receipt %d: %v", i, err)
		}
		st, err := proof.CheckTimestamp(pdf, inc, roots)
		if err != nil {
			t.Fatalf("receipt %d: %v", i, err)
		}
		if st.Size != inc.Checkpoint.Size || time.Since(st.Time) > time.Hour {
			t.Fatalf("receipt %d: stamp %+v", i, st)
		}
		if _, err := proof.CheckTimestamp(pdf, inc, other); !errors.Is(err, translog.ErrBadTimestamp) || !strings.Contains(err.Error(), "checkpoint of size") {
			t.Fatalf("receipt %d, other roots: %v", i, err)
		}
	}
	if _, err := os.Stat(filepath.Join(data, config.TransparencyDir, translog.TimestampLatest)); err != nil {
		t.Fatalf("no published time-stamp: %v", err)
	}
	// Nothing published under /log/, time-stamps included, names anyone.
	tsFiles := 0
	filepath.WalkDir(filepath.Join(data, config.TransparencyDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.Contains(p, translog.TimestampDir) {
			tsFiles++
		}
		b, _ := os.ReadFile(p)
		for _, pp := range tlogPeople {
			for _, pd := range []string{pp.name, pp.phone, pp.e164, pp.email} {
				if bytes.Contains(b, []byte(pd)) {
					t.Errorf("%s holds %q", p, pd)
				}
			}
		}
		return nil
	})
	if tsFiles < 3 {
		t.Errorf("%d time-stamp files published, want a checkpoint, its token and latest", tsFiles)
	}
	if s := logs.String(); strings.Contains(s, "time-stamp") {
		t.Fatalf("time-stamp warnings with the authority up:\n%s", s)
	}
}

// TestTlogTimestampAuthorityDown: with the authority down the collector
// records decisions and makes receipts (with their inclusion proof, without
// a token) and warns without personal data.
func TestTlogTimestampAuthorityDown(t *testing.T) {
	t.Parallel()
	a := tsatest.Start(t)
	a.Down.Store(true)
	var logs lockedBuf
	srv, data, versions := openStampedCollector(t, a, &logs)
	defer srv.Close()
	decideAll(t, srv.Handler(), versions)
	for i, pdf := range receiptsOf(t, srv, data) {
		if _, err := receipt.AttachmentNamed(pdf, translog.ProofAttachment); err != nil {
			t.Fatalf("receipt %d without its inclusion proof: %v", i, err)
		}
		if _, err := receipt.AttachmentNamed(pdf, translog.TimestampAttachment); err == nil {
			t.Fatalf("receipt %d has a token from an authority that is down", i)
		}
	}
	s := logs.String()
	if !strings.Contains(s, "no time-stamp token") {
		t.Fatalf("no warning about the authority:\n%s", s)
	}
	for _, p := range tlogPeople {
		for _, pd := range []string{p.name, p.phone, p.e164, p.email} {
			if strings.Contains(s, pd) {
				t.Fatalf("the collector's messages name %q:\n%s", pd, s)
			}
		}
	}
}
