package collector

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/logfeed"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// The test's data subjects: nothing of them may be published.
var tlogPeople = []struct{ name, phone, e164, email string }{
	{"Jürgen Weiß", "0170 1234567", "+491701234567", "juergen.weiss@example.org"},
	{"Zoë Ångström", "+43 664 1234567", "+436641234567", "zoe.angstrom@example.net"},
	{"Mehmet Yılmaz", "0151 23456789", "+4915123456789", "m.yilmaz@example.com"},
}

// openTlogCollector opens a collector through Open on the repository's
// config and archive with a version-2 log in a fresh data folder.
func openTlogCollector(t *testing.T) (*Server, *config.Config, string, map[string]string) {
	t.Helper()
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
	srv, _, err := Open(cfg, Setup{DataDir: data, ArchiveDir: arch, LogVersion: ledger.FormatVersion})
	if err != nil {
		t.Fatal(err)
	}
	return srv, cfg, data, versions
}

// decideAll posts one decision per person and language through the
// handler, answering 201 each.
func decideAll(t *testing.T, h http.Handler, versions map[string]string) int {
	t.Helper()
	n := 0
	for _, p := range tlogPeople {
		for _, lang := range []string{"de", "en"} {
			body := fmt.Sprintf(`{"decision":"granted","name":%q,"phone":%q,"email":%q,"purpose":["orders"],"lang":%q,"text_version":%q}`,
				p.name, p.phone, p.email, lang, versions[lang])
			r := httptest.NewRequest("POST", "/v1/consent", strings.NewReader(body))
			r.RemoteAddr = "192.0.2.7:4711"
			r.Header.Set("Content-Type", ctJSON)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusCreated {
				t.Fatalf("decision: %d %s", w.Code, w.Body)
			}
			n++
		}
	}
	return n
}

func jsonlV2Lines(t *testing.T, data string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, config.LogFile))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, l := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		if !logfeed.IsV2(l) {
			t.Fatalf("a version-1 line in a version-2 log: %s", l)
		}
		out = append(out, l)
	}
	return out
}

// TestTlogFedAndServed: decisions through the real handler end up, line
// for line, in the transparency log, which verifies from the collector's
// /log/ URL like from any tlog client, and nothing served under /log/
// holds a name, number or address of the test's people, in any encoding.
func TestTlogFedAndServed(t *testing.T) {
	t.Parallel()
	srv, _, data, versions := openTlogCollector(t)
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	n := decideAll(t, srv.Handler(), versions)
	lines := jsonlV2Lines(t, data)
	if len(lines) < n {
		t.Fatalf("%d lines for %d decisions", len(lines), n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := srv.o.Feed.Log().AwaitCheckpoint(ctx, uint64(len(lines)-1)); err != nil {
		t.Fatal(err)
	}

	src, err := translog.OpenSource(ts.URL+"/log/", ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[uint64][]byte{}
	rep, err := translog.VerifyLog(ctx, src, srv.o.Feed.Log().Verifier(), translog.VerifyOptions{Entry: func(i uint64, e []byte) error {
		mu.Lock()
		defer mu.Unlock()
		got[i] = bytes.Clone(e)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != uint64(len(lines)) {
		t.Fatalf("served log has %d entries, the JSONL file %d lines", rep.Entries, len(lines))
	}
	for i, l := range lines {
		if !bytes.Equal(got[uint64(i)], l) {
			t.Fatalf("entry %d:\n%s\nline %d:\n%s", i, got[uint64(i)], i+1, l)
		}
	}

	// Everything the collector serves under /log/: every file of the log
	// folder (Tessera's private state is refused).
	var served [][]byte
	var names []string
	err = filepath.WalkDir(filepath.Join(data, TlogDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(data, TlogDir), p)
		rel = filepath.ToSlash(rel)
		resp, err := ts.Client().Get(ts.URL + "/log/" + rel)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		private := strings.HasPrefix(rel, translog.StateDir+"/")
		switch {
		case private && resp.StatusCode != http.StatusNotFound:
			t.Errorf("GET /log/%s: %d, want 404 (Tessera's private state)", rel, resp.StatusCode)
		case !private && resp.StatusCode != http.StatusOK:
			t.Errorf("GET /log/%s: %d", rel, resp.StatusCode)
		case !private:
			served = append(served, b)
			names = append(names, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(served) < 3 { // checkpoint, a tile, an entry bundle
		t.Fatalf("only %v served", names)
	}
	var needles []string
	for _, p := range tlogPeople {
		local, _, _ := strings.Cut(p.email, "@")
		for _, v := range []string{p.name, strings.Fields(p.name)[1], p.e164, strings.TrimPrefix(p.e164, "+"), p.e164[3:], p.email, local} {
			needles = append(needles, v,
				base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v)),
				hex.EncodeToString([]byte(v)))
		}
	}
	for i, b := range served {
		for _, v := range needles {
			if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(v))) {
				t.Errorf("/log/%s holds %q", names[i], v)
			}
		}
	}
	if w := get(ts, "/log/checkpoint", "POST"); w != http.StatusMethodNotAllowed {
		t.Errorf("POST /log/checkpoint: %d, want 405", w)
	}
}

func get(ts *httptest.Server, path, method string) int {
	r, _ := http.NewRequest(method, ts.URL+path, nil)
	resp, err := ts.Client().Do(r)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestTlogCatchUpOnStart: a transparency log that lost its last entries
// (here: removed with its state) gets them again from the decisions log
// on the next start.
func TestTlogCatchUpOnStart(t *testing.T) {
	t.Parallel()
	srv, cfg, data, versions := openTlogCollector(t)
	closed := false
	t.Cleanup(func() {
		if !closed {
			srv.Close()
		}
	})
	decideAll(t, srv.Handler(), versions)
	closed = true
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(data, TlogDir)); err != nil {
		t.Fatal(err)
	}
	srv, info, err := Open(cfg, Setup{DataDir: data, ArchiveDir: filepath.Join("..", "archive"), LogVersion: ledger.FormatVersion})
	if err != nil {
		t.Fatal(err)
	}
	closed = false
	lines := jsonlV2Lines(t, data)
	if info.TlogCaughtUp != uint64(len(lines)) {
		t.Errorf("caught up %d entries, want %d", info.TlogCaughtUp, len(lines))
	}
	tl := srv.o.Feed.Log()
	closed = true
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := translog.VerifyLog(context.Background(), translog.DirSource(filepath.Join(data, TlogDir)), tl.Verifier(), translog.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != uint64(len(lines)) {
		t.Fatalf("%d entries after catch-up, want %d", rep.Entries, len(lines))
	}
}

// TestTlogReceiptProof: every receipt carries its record's inclusion proof
// in a signed checkpoint, which verifies offline with the checkpoint
// verifier key alone.
func TestTlogReceiptProof(t *testing.T) {
	t.Parallel()
	srv, _, data, versions := openTlogCollector(t)
	defer srv.Close()
	n := decideAll(t, srv.Handler(), versions)
	lines := jsonlV2Lines(t, data)
	vkey, err := translog.VerifierKey(filepath.Join(data, config.CheckpointVerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	v, err := translog.ParseVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for seq, line := range lines {
		rec, err := ledger.ParseLineWith(line, srvVerifier(srv))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(data, "receipts", rec.ID+".pdf")
		var pdf []byte
		for {
			if pdf, err = os.ReadFile(path); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("receipt %d of %d: %v", seq+1, n, err)
		}
		att, err := receipt.Attachment(pdf)
		if err != nil || !bytes.Equal(att, line) {
			t.Fatalf("receipt %s: record.json %q, %v", rec.ID, att, err)
		}
		pf, err := receipt.AttachmentNamed(pdf, translog.ProofAttachment)
		if err != nil {
			t.Fatalf("receipt %s: %v", rec.ID, err)
		}
		cp, err := translog.CheckReceipt(att, rec.Seq, pf, v, nil, 0)
		if err != nil {
			t.Fatalf("receipt %s: %v", rec.ID, err)
		}
		if cp.Size < rec.Seq {
			t.Errorf("receipt %s: checkpoint of %d entries for line %d", rec.ID, cp.Size, rec.Seq)
		}
		// Another record's proof does not fit.
		if seq > 0 {
			if _, err := translog.CheckReceipt(lines[seq-1], rec.Seq-1, pf, v, nil, 0); err == nil {
				t.Errorf("receipt %s: its proof passes for line %d", rec.ID, rec.Seq-1)
			}
		}
	}
}

func srvVerifier(s *Server) ledger.Verifier {
	return ledger.NewVerifier(s.o.Signer.Public().(ed25519.PublicKey))
}
