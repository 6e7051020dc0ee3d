package translog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func testKey(t testing.TB, dir string) Key {
	t.Helper()
	k, _, err := LoadOrCreateKey(filepath.Join(dir, "checkpoint.key"), filepath.Join(dir, "checkpoint.vkey"), "c.example.org/log")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openTest(t testing.TB, dir string, k Key) *Log {
	t.Helper()
	l, err := Open(context.Background(), Options{Dir: filepath.Join(dir, "log"), Key: k,
		BatchMaxAge: 5 * time.Millisecond, CheckpointInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func entry(i uint64) []byte {
	return fmt.Appendf(nil, `{"rec":{"v":2,"seq":%d,"subject":"c%x"},"sig":"s"}`, i+1, sha256.Sum256(fmt.Append(nil, i)))
}

func feed(t testing.TB, l *Log, from, to uint64) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := l.Feed(i, entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func closeTest(t testing.TB, l *Log) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func checkEntries(t testing.TB) func(uint64, []byte) error {
	return func(i uint64, e []byte) error {
		if !bytes.Equal(e, entry(i)) {
			return fmt.Errorf("entry %d is %q", i, e)
		}
		return nil
	}
}

// TestLogLifecycle feeds, proves, verifies, reopens and catches up.
func TestLogLifecycle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k := testKey(t, dir)
	l := openTest(t, dir, k)
	feed(t, l, 0, 300)
	ctx := context.Background()
	cp300, err := l.AwaitCheckpoint(ctx, 299)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint64{0, 1, 255, 256, 299} {
		p, err := l.Prove(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		if p.Index != i {
			t.Fatalf("proof index %d, want %d", p.Index, i)
		}
		if _, _, err := VerifyProof(entry(i), p.Marshal(), k.Verifier, nil, 0); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if _, _, err := VerifyProof(entry(i+1), p.Marshal(), k.Verifier, nil, 0); !errors.Is(err, ErrBadProof) {
			t.Fatalf("another entry's proof: %v, want ErrBadProof", err)
		}
	}
	if err := l.Feed(7, entry(7)); !errors.Is(err, ErrGap) {
		t.Fatalf("feeding out of order: %v, want ErrGap", err)
	}
	closeTest(t, l)

	// Reopen: the log knows its size; catch up from a "JSONL file".
	l = openTest(t, dir, k)
	if n := l.Next(); n != 300 {
		t.Fatalf("reopened log's next index %d, want 300", n)
	}
	added, err := l.CatchUp(func(from uint64, fn func([]byte) error) error {
		for i := from; i < 70000; i++ {
			if err := fn(entry(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || added != 70000-300 {
		t.Fatalf("catch up: added %d, %v", added, err)
	}
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	closeTest(t, l)

	var n atomic.Uint64
	rep, err := VerifyLog(ctx, DirSource(filepath.Join(dir, "log")), k.Verifier, VerifyOptions{
		Older: [][]byte{cp300},
		Entry: func(i uint64, e []byte) error { n.Add(1); return checkEntries(t)(i, e) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != 70000 || n.Load() != 70000 || rep.Checkpoint.Size != 70000 || len(rep.Older) != 1 || rep.Older[0] != 300 {
		t.Fatalf("report %+v, entries seen %d", rep, n.Load())
	}
	// 70,000 entries: 273 full + 1 partial level-0 tiles, 1 full + 1 partial level 1, 1 partial level 2.
	if rep.Tiles != 277 || rep.Bundles != 274 {
		t.Fatalf("compared %d tiles and %d bundles, want 277 and 274", rep.Tiles, rep.Bundles)
	}
}

// TestConsistency: a cut or rewritten history, and a fork, fail naming sizes.
func TestConsistency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	k := testKey(t, dir)
	a := openTest(t, dir, k)
	feed(t, a, 0, 40)
	cp40, _ := a.AwaitCheckpoint(ctx, 39)
	feed(t, a, 40, 100)
	cp100, _ := a.AwaitCheckpoint(ctx, 99)
	closeTest(t, a)

	// The same key signs another history (a fork) in another folder.
	fdir := t.TempDir()
	b, err := Open(ctx, Options{Dir: filepath.Join(fdir, "log"), Key: k, BatchMaxAge: 5 * time.Millisecond, CheckpointInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < 60; i++ {
		e := entry(i)
		if i == 20 {
			e = []byte(`{"rewritten":true}`)
		}
		if err := b.Feed(i, e); err != nil {
			t.Fatal(err)
		}
	}
	b.Flush(ctx)
	fork60, _ := b.AwaitCheckpoint(ctx, 59)
	closeTest(t, b)
	cut := DirSource(filepath.Join(fdir, "log"))

	src := DirSource(filepath.Join(dir, "log"))
	if _, err := VerifyLog(ctx, src, k.Verifier, VerifyOptions{Older: [][]byte{cp40, cp100}}); err != nil {
		t.Fatalf("the log against its own older checkpoints: %v", err)
	}
	tests := []struct {
		name  string
		src   Source
		older [][]byte
		want  []string
	}{
		{"rewritten", src, [][]byte{fork60}, []string{"first 60 entries", "(now 100)", "rewritten"}},
		{"cut", cut, [][]byte{cp100}, []string{"has 60 entries", "older checkpoint has 100", "cut"}},
		{"fork seen from the fork", cut, [][]byte{cp40}, []string{"first 40 entries", "(now 60)"}},
		{"two checkpoints", src, [][]byte{fork60, cp40, cp100}, []string{"first 60 entries", "(now 100)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifyLog(ctx, tt.src, k.Verifier, VerifyOptions{Older: tt.older})
			if !errors.Is(err, ErrInconsistent) {
				t.Fatalf("err %v, want ErrInconsistent", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

var mangleAll = flag.Bool("mangle.all", false, "TestMangling: change every byte of every tile and bundle (slow), not a sample")

// mangleStep: every byte of the first and last 200 bytes of a file and
// every 13th in between (all with -mangle.all).
func mangleStep(i, n int) int {
	if *mangleAll || i < 200 || i >= n-200 {
		return 1
	}
	return 13
}

// TestMangling: every single-byte change of a tile, entry bundle or
// checkpoint is caught by VerifyLog; of a proof file by VerifyProof.
func TestMangling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	k := testKey(t, dir)
	l := openTest(t, dir, k)
	feed(t, l, 0, 258)
	p, err := l.Prove(ctx, 257)
	if err != nil {
		t.Fatal(err)
	}
	closeTest(t, l)
	mdir := filepath.Join(t.TempDir(), "mirror")
	if _, err := Mirror(ctx, DirSource(filepath.Join(dir, "log")), k.Verifier, mdir); err != nil {
		t.Fatal(err)
	}
	src := DirSource(mdir)
	var files []string
	filepath.WalkDir(mdir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 6 { // checkpoint, 2 bundles, 2 level-0 tiles, 1 level-1 tile
		t.Fatalf("mirror has %d files: %v", len(files), files)
	}
	for _, f := range files {
		orig, _ := os.ReadFile(f)
		for i := 0; i < len(orig); i += mangleStep(i, len(orig)) {
			m := bytes.Clone(orig)
			m[i] ^= 0x01
			os.WriteFile(f, m, 0o644)
			if _, err := VerifyLog(ctx, src, k.Verifier, VerifyOptions{Workers: 1}); err == nil {
				t.Fatalf("%s: byte %d changed, log still verifies", f, i)
			}
		}
		os.WriteFile(f, orig[:len(orig)-1], 0o644)
		if _, err := VerifyLog(ctx, src, k.Verifier, VerifyOptions{Workers: 1}); err == nil {
			t.Fatalf("%s: cut by one byte, log still verifies", f)
		}
		os.WriteFile(f, orig, 0o644)
	}
	if _, err := VerifyLog(ctx, src, k.Verifier, VerifyOptions{}); err != nil {
		t.Fatalf("restored mirror: %v", err)
	}
	// Every byte of the checkpoint, every way (the spare bits of base64).
	cpFile := filepath.Join(mdir, "checkpoint")
	orig, _ := os.ReadFile(cpFile)
	for i := range orig {
		for x := 1; x < 256; x++ {
			m := bytes.Clone(orig)
			m[i] ^= byte(x)
			if _, err := OpenCheckpoint(m, k.Verifier, nil, 0); err == nil {
				t.Fatalf("checkpoint byte %d ^ %#x: still opens:\n%s", i, x, m)
			}
		}
	}
	pf := p.Marshal()
	for i := range pf {
		for _, x := range []byte{0x01, 0x20, 0x80} {
			m := bytes.Clone(pf)
			m[i] ^= x
			if _, _, err := VerifyProof(entry(257), m, k.Verifier, nil, 0); err == nil {
				t.Fatalf("proof byte %d ^ %#x: still verifies:\n%s", i, x, m)
			}
		}
	}
}

// TestHandler serves the log as tlog-tiles names it, and verify reads it
// over HTTP.
func TestHandler(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	k := testKey(t, dir)
	l := openTest(t, dir, k)
	feed(t, l, 0, 300)
	closeTest(t, l)
	mux := http.NewServeMux()
	mux.Handle("/log/", http.StripPrefix("/log/", Handler(filepath.Join(dir, "log"))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tests := []struct {
		method, path string
		code         int
		ctype, cache string
	}{
		{"GET", "/log/checkpoint", 200, "text/plain; charset=utf-8", "no-cache"},
		{"HEAD", "/log/checkpoint", 200, "text/plain; charset=utf-8", "no-cache"},
		{"GET", "/log/tile/0/000", 200, "application/octet-stream", "public, max-age=31536000, immutable"},
		{"GET", "/log/tile/0/001.p/44", 200, "application/octet-stream", "public, max-age=31536000, immutable"},
		{"GET", "/log/tile/1/000.p/1", 200, "application/octet-stream", "public, max-age=31536000, immutable"},
		{"GET", "/log/tile/entries/000", 200, "application/octet-stream", "public, max-age=31536000, immutable"},
		{"GET", "/log/tile/entries/001.p/44", 200, "application/octet-stream", "public, max-age=31536000, immutable"},
		{"GET", "/log/tile/entries/002", 404, "", ""},
		{"GET", "/log/.state/treeState", 404, "", ""},
		{"GET", "/log/tile/0/0", 404, "", ""},
		{"GET", "/log/tile/0/x000/000", 404, "", ""},
		{"GET", "/log/", 404, "", ""},
		{"POST", "/log/checkpoint", 405, "", ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.code {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, resp.StatusCode, tt.code)
			continue
		}
		if tt.code == 200 && (resp.Header.Get("Content-Type") != tt.ctype || resp.Header.Get("Cache-Control") != tt.cache) {
			t.Errorf("%s %s: Content-Type %q Cache-Control %q", tt.method, tt.path, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
		}
	}
	src, err := OpenSource(srv.URL+"/log", nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyLog(ctx, src, k.Verifier, VerifyOptions{Entry: checkEntries(t)})
	if err != nil || rep.Entries != 300 {
		t.Fatalf("verify over HTTP: %+v, %v", rep, err)
	}
	mdir := t.TempDir()
	if _, err := Mirror(ctx, src, k.Verifier, mdir); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyLog(ctx, DirSource(mdir), k.Verifier, VerifyOptions{Entry: checkEntries(t)}); err != nil {
		t.Fatalf("mirror of the URL: %v", err)
	}
}

// TestNoPersonalData: the log's files hold the entries' bytes and hashes,
// nothing else; a value that is not in an entry is nowhere in the folder.
func TestNoPersonalData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k := testKey(t, dir)
	l := openTest(t, dir, k)
	values := []string{"Erika Mustermann", "+4915112345678", "erika@example.org", "203.0.113.7"}
	for i, v := range values {
		// An entry commits to the value with a salt, as log format v2 does.
		salt := fmt.Sprintf("salt%d", i)
		d := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `[%q,"name",%q]`, salt, v))
		c := sha256.Sum256([]byte(d))
		if err := l.Feed(uint64(i), fmt.Appendf(nil, `{"rec":{"v":2,"name":%q}}`, base64.RawURLEncoding.EncodeToString(c[:]))); err != nil {
			t.Fatal(err)
		}
	}
	l.Flush(context.Background())
	closeTest(t, l)
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for _, v := range values {
			for _, form := range []string{v, base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v)), hex.EncodeToString([]byte(v))} {
				if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(form))) {
					t.Errorf("%s holds %q", p, form)
				}
			}
		}
		return nil
	})
}

func TestParsePath(t *testing.T) {
	t.Parallel()
	good := map[string]Resource{
		"checkpoint":            {Kind: KindCheckpoint},
		"tile/0/000":            {Kind: KindTile},
		"tile/63/x001/x234/067": {Kind: KindTile, Level: 63, Index: 1234067},
		"tile/2/x001/067.p/255": {Kind: KindTile, Level: 2, Index: 1067, Width: 255},
		"tile/entries/000.p/1":  {Kind: KindEntries, Width: 1},
		"tile/entries/x999/999": {Kind: KindEntries, Index: 999999},
	}
	for p, want := range good {
		got, err := ParsePath(p)
		if err != nil || got != want {
			t.Errorf("ParsePath(%q) = %+v, %v; want %+v", p, got, err, want)
		}
	}
	for _, p := range []string{"", "checkpoint/", "tile", "tile/0", "tile/64/000", "tile/01/000", "tile/0/00",
		"tile/0/x000/000", "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/01", "tile/0/001/000",
		"tile/entries/000.p/", "tile/data/000", "tile/0/x1/000", "tile/0/-01", "../checkpoint", "tile/0/000/"} {
		if _, err := ParsePath(p); !errors.Is(err, ErrBadPath) {
			t.Errorf("ParsePath(%q): %v, want ErrBadPath", p, err)
		}
	}
}

func TestKeysAndOrigin(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"https://c.example.org/": "c.example.org/log", "https://ex.org/consent/": "ex.org/consent/log", "http://127.0.0.1:8080/": "127.0.0.1:8080/log"} {
		if got, err := Origin(in); err != nil || got != want {
			t.Errorf("Origin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Origin("not a url"); err == nil {
		t.Error("Origin of a non-URL: no error")
	}
	dir := t.TempDir()
	skeyPath, vkeyPath := filepath.Join(dir, "checkpoint.key"), filepath.Join(dir, "checkpoint.vkey")
	vkey, err := GenerateKey(skeyPath, vkeyPath, "c.example.org/log")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := GenerateKey(skeyPath, vkeyPath, "c.example.org/log"); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("second key: %v, want ErrKeyExists", err)
	}
	st, _ := os.Stat(skeyPath)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("signer key mode %v", st.Mode().Perm())
	}
	v, err := ParseVerifier(vkeyPath)
	if err != nil || v.Name() != "c.example.org/log" || !strings.HasPrefix(vkey, "c.example.org/log+") {
		t.Fatalf("verifier %v, %v (%s)", v, err, vkey)
	}
	if _, err := ParseVerifier("nonsense"); err == nil {
		t.Error("ParseVerifier(nonsense): no error")
	}
}

func TestCheckReceipt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	k := testKey(t, dir)
	l := openTest(t, dir, k)
	feed(t, l, 0, 5)
	p, err := l.Prove(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	closeTest(t, l)
	if cp, err := CheckReceipt(append(entry(3), '\n'), 4, p.Marshal(), k.Verifier, nil, 0); err != nil || cp.Size != 5 {
		t.Fatalf("receipt of record 4: %+v, %v", cp, err)
	}
	if _, err := CheckReceipt(entry(3), 5, p.Marshal(), k.Verifier, nil, 0); !errors.Is(err, ErrBadProof) || !strings.Contains(err.Error(), "record is number 5") {
		t.Fatalf("record number off by one: %v", err)
	}
	other := testKey(t, t.TempDir())
	if _, err := CheckReceipt(entry(3), 4, p.Marshal(), other.Verifier, nil, 0); !errors.Is(err, ErrBadCheckpoint) {
		t.Fatalf("another log's key: %v, want ErrBadCheckpoint", err)
	}
}

// TestOtherCollectorsLog: on each driver, storage holding a log whose
// checkpoints another key signs is refused (two collectors given one
// folder, or one database and prefix), the error naming its origin; the
// same key opens it again.
func TestOtherCollectorsLog(t *testing.T) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			o, _ := d.open(t)
			o.Key, o.BatchMaxAge, o.CheckpointInterval = testKey(t, t.TempDir()), 5*time.Millisecond, 100*time.Millisecond
			l, err := Open(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			feed(t, l, 0, 3)
			if _, err := l.AwaitCheckpoint(ctx, 2); err != nil {
				t.Fatal(err)
			}
			closeTest(t, l)
			other := o
			other.Key = testKey(t, t.TempDir())
			if _, err := Open(ctx, other); !errors.Is(err, ErrOtherLog) || !strings.Contains(err.Error(), "c.example.org/log") {
				t.Fatalf("another collector's key: %v, want ErrOtherLog naming the origin", err)
			}
			l, err = Open(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if l.Next() != 3 {
				t.Errorf("reopened with its own key: next %d, want 3", l.Next())
			}
			closeTest(t, l)
		})
	}
}

// TestDefaultsKeepUp: the feeder hands Tessera at most one batch per
// BatchMaxAge, so the defaults bound what the log takes per second. Below
// what one collector acknowledges (about 10,000/s on 2 cores,
// bench/load.sh) the entries waiting in memory grow without end under load.
func TestDefaultsKeepUp(t *testing.T) {
	perSecond := float64(DefaultBatchMaxSize) / DefaultBatchMaxAge.Seconds()
	if perSecond < 20_000 {
		t.Errorf("defaults take at most %.0f entries/s (%d per %v); want at least 20,000, twice what bench/load.sh acknowledges", perSecond, DefaultBatchMaxSize, DefaultBatchMaxAge)
	}
}

// TestOverflow: entries fed faster than Tessera takes them wait in the
// nameless overflow file beyond MaxPendingBytes and reach the log whole,
// in order; the folder keeps no file.
func TestOverflow(t *testing.T) {
	t.Parallel()
	dir, spill := t.TempDir(), t.TempDir()
	k := testKey(t, dir)
	l, err := Open(context.Background(), Options{Dir: filepath.Join(dir, "log"), Key: k,
		BatchMaxSize: 100, BatchMaxAge: 5 * time.Millisecond, CheckpointInterval: 100 * time.Millisecond,
		MaxPendingBytes: 2000, SpillDir: spill})
	if err != nil {
		t.Fatal(err)
	}
	const total = 3000
	for i := uint64(0); i < total; i += 3 { // batches of three, as the storer feeds
		if err := l.Feed(i, entry(i), entry(i+1), entry(i+2)); err != nil {
			t.Fatal(err)
		}
	}
	l.mu.Lock()
	over := l.overflowed
	l.mu.Unlock()
	if over < total/2 {
		t.Errorf("%d of %d entries went through the overflow file; want most (memory holds about 2,000 bytes)", over, total)
	}
	if names, _ := os.ReadDir(spill); len(names) != 0 {
		t.Errorf("spill folder holds %d files; the overflow file has no name", len(names))
	}
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	closeTest(t, l)
	rep, err := VerifyLog(context.Background(), DirSource(filepath.Join(dir, "log")), k.Verifier, VerifyOptions{Entry: checkEntries(t)})
	if err != nil || rep.Entries != total {
		t.Fatalf("verify: %+v, %v; want %d entries", rep, err, total)
	}
}

// TestOverflowUnwritable: when the overflow file cannot be made, Feed
// says so; what it accepted before is in the log and Next has not moved
// past it.
func TestOverflowUnwritable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k := testKey(t, dir)
	l, err := Open(context.Background(), Options{Dir: filepath.Join(dir, "log"), Key: k,
		BatchMaxAge: 5 * time.Millisecond, CheckpointInterval: 100 * time.Millisecond,
		MaxPendingBytes: 1000, SpillDir: filepath.Join(dir, "missing")})
	if err != nil {
		t.Fatal(err)
	}
	var fed uint64
	var ferr error
	for ; fed < 100; fed++ {
		if ferr = l.Feed(fed, entry(fed)); ferr != nil {
			break
		}
	}
	if ferr == nil || !strings.Contains(ferr.Error(), "overflow file") {
		t.Fatalf("feeding beyond memory without an overflow file: %v, want an error naming it", ferr)
	}
	if fed == 0 || l.Next() != fed {
		t.Fatalf("accepted %d entries, Next %d; want the same, more than 0", fed, l.Next())
	}
	if err := l.Feed(fed, entry(fed)); err == nil {
		t.Errorf("feeding again after the failure: nil error")
	}
	closeTest(t, l)
}

// FuzzOverflow: entries written to the overflow file in any grouping come
// back whole and in order, whatever the read sizes.
func FuzzOverflow(f *testing.F) {
	f.Add([]byte("a\x00bb\x00\x00ccc"), uint8(1), uint8(2))
	f.Add(bytes.Repeat([]byte("x"), 70000), uint8(3), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, group, max uint8) {
		entries := bytes.Split(data, []byte{0})
		o := overflow{dir: t.TempDir()}
		defer o.close()
		g := int(group%4) + 1
		for i := 0; i < len(entries); i += g {
			if err := o.write(entries[i:min(i+g, len(entries))]); err != nil {
				t.Fatal(err)
			}
		}
		var got [][]byte
		for o.n > 0 {
			es, err := o.read(int(max%5) + 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(es) == 0 {
				t.Fatal("read returned nothing with entries left")
			}
			got = append(got, es...)
		}
		if len(got) != len(entries) {
			t.Fatalf("%d entries back, wrote %d", len(got), len(entries))
		}
		for i := range got {
			if !bytes.Equal(got[i], entries[i]) {
				t.Fatalf("entry %d: %q, wrote %q", i, got[i], entries[i])
			}
		}
		if o.r != 0 || o.w != 0 {
			t.Errorf("drained file at r=%d w=%d, want emptied", o.r, o.w)
		}
	})
}
