package translog

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/internal/tsatest"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/timestamp's golden token")

// syncBuf is a concurrency-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func roots(t testing.TB, a *tsatest.TSA) *x509.CertPool {
	t.Helper()
	p, err := ParseRoots(a.RootsPEM, "roots")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func openStamped(t testing.TB, dir string, k Key, a *tsatest.TSA, logw io.Writer) *Log {
	t.Helper()
	l, err := Open(context.Background(), Options{Dir: filepath.Join(dir, "log"), Key: k,
		BatchMaxAge: 5 * time.Millisecond, CheckpointInterval: 100 * time.Millisecond,
		Timestamp: TimestampOptions{URL: a.URL, Roots: roots(t, a), Retry: time.Hour},
		Logger:    slog.New(slog.NewTextHandler(logw, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// awaitStamp waits until timestamp/latest names at least size.
func awaitStamp(t testing.TB, dir string, size uint64) uint64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(dir, "log", TimestampLatest)); err == nil {
			if n, err := ParseLatest(b); err == nil && n >= size {
				return n
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no time-stamp of a checkpoint of size ≥ %d", size)
	return 0
}

// TestTimestampedLog: every new checkpoint gets a token from the authority,
// kept and published beside it; verify checks it offline against the roots
// and says the time; a wrong root or a token over other bytes fails
// naming the checkpoint.
func TestTimestampedLog(t *testing.T) {
	t.Parallel()
	a := tsatest.Start(t)
	at := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	a.SetNow(func() time.Time { return at })
	dir := t.TempDir()
	k := testKey(t, dir)
	var logs syncBuf
	l := openStamped(t, dir, k, a, &logs)
	feed(t, l, 0, 10)
	ctx := context.Background()
	n := awaitStamp(t, dir, 10)

	// A receipt's token: over exactly the checkpoint of its proof.
	p, err := l.Prove(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	tsr, err := l.Timestamp(ctx, p.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	st, err := VerifyTimestamp(tsr, p.Checkpoint, roots(t, a))
	if err != nil || !st.Time.Equal(at) || !strings.Contains(st.TSA, "chatconsent test TSA") || st.Policy != tsatest.Policy.String() {
		t.Fatalf("receipt token: %+v, %v", st, err)
	}
	feed(t, l, 10, 20)
	n2 := awaitStamp(t, dir, 20)
	closeTest(t, l)
	if n2 <= n {
		t.Fatalf("latest stamp %d after %d: the new checkpoint was not stamped", n2, n)
	}

	src := DirSource(filepath.Join(dir, "log"))
	rep, err := VerifyLog(ctx, src, k.Verifier, VerifyOptions{TimestampRoots: roots(t, a)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Timestamp == nil || rep.Timestamp.Size != n2 || !rep.Timestamp.Time.Equal(at) {
		t.Fatalf("report's time-stamp %+v, want size %d at %v", rep.Timestamp, n2, at)
	}
	// Served and mirrored.
	srv := httptest.NewServer(Handler(filepath.Join(dir, "log")))
	defer srv.Close()
	hsrc, err := OpenSource(srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyLog(ctx, hsrc, k.Verifier, VerifyOptions{TimestampRoots: roots(t, a)}); err != nil {
		t.Fatalf("over HTTP: %v", err)
	}
	mdir := t.TempDir()
	if _, err := Mirror(ctx, hsrc, k.Verifier, mdir); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyLog(ctx, DirSource(mdir), k.Verifier, VerifyOptions{TimestampRoots: roots(t, a)}); err != nil {
		t.Fatalf("mirror: %v", err)
	}

	// A token from another authority's root.
	other := tsatest.New(t)
	if _, err := VerifyLog(ctx, src, k.Verifier, VerifyOptions{TimestampRoots: roots(t, other)}); !errors.Is(err, ErrBadTimestamp) ||
		!strings.Contains(err.Error(), "checkpoint of size") || !strings.Contains(err.Error(), "timestamp/") {
		t.Fatalf("wrong root: %v", err)
	}
	// A token over other bytes, from the right authority.
	cpName, tsrName := TimestampPaths(n2)
	raw, _ := os.ReadFile(filepath.Join(dir, "log", cpName))
	bad, err := a.Stamp(append(raw, 'x'))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "log", tsrName), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyLog(ctx, src, k.Verifier, VerifyOptions{TimestampRoots: roots(t, a)}); !errors.Is(err, ErrBadTimestamp) ||
		!strings.Contains(err.Error(), "other bytes") || !strings.Contains(err.Error(), tsrName) {
		t.Fatalf("token over other bytes: %v", err)
	}
	// No time-stamp at all, roots demanded.
	os.Remove(filepath.Join(dir, "log", TimestampLatest))
	if _, err := VerifyLog(ctx, src, k.Verifier, VerifyOptions{TimestampRoots: roots(t, a)}); err == nil || !strings.Contains(err.Error(), "no time-stamped checkpoint") {
		t.Fatalf("no time-stamp: %v", err)
	}
	if s := logs.String(); strings.Contains(s, "WARN") {
		t.Fatalf("warnings with the authority up:\n%s", s)
	}
}

// TestTimestampAuthorityDown: the log keeps working, warns once (sizes and
// the error only), receipts get no token at once, and the next checkpoint
// is stamped once the authority answers again.
func TestTimestampAuthorityDown(t *testing.T) {
	t.Parallel()
	a := tsatest.Start(t)
	a.Down.Store(true)
	dir := t.TempDir()
	k := testKey(t, dir)
	var logs syncBuf
	l := openStamped(t, dir, k, a, &logs)
	ctx := context.Background()
	feed(t, l, 0, 5)
	raw, err := l.AwaitCheckpoint(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), "no time-stamp token") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := l.Timestamp(ctx, raw); !errors.Is(err, ErrNoTimestamp) {
		t.Fatalf("token while the authority is down: %v, want ErrNoTimestamp", err)
	}
	feed(t, l, 5, 8) // still taking entries
	if _, err := l.AwaitCheckpoint(ctx, 7); err != nil {
		t.Fatal(err)
	}
	a.Down.Store(false)
	feed(t, l, 8, 12)
	awaitStamp(t, dir, 12)
	closeTest(t, l)
	s := logs.String()
	if strings.Count(s, "no time-stamp token") != 1 || !strings.Contains(s, "answers again") {
		t.Fatalf("want one warning and one all-clear, got:\n%s", s)
	}
	for i := uint64(0); i < 12; i++ {
		if strings.Contains(s, string(entry(i))) || strings.Contains(s, "subject") {
			t.Fatalf("the log messages hold an entry:\n%s", s)
		}
	}
}

// golden: testdata/timestamp holds a token made by the test authority over
// a checkpoint (roots.pem, 5.checkpoint, 5.tsr): it keeps verifying, also
// after its certificates expired (the chain is checked at the stamped
// time), and every truncation and sampled byte change is refused.
func TestTimestampGolden(t *testing.T) {
	t.Parallel()
	gd := filepath.Join("testdata", "timestamp")
	if *updateGolden {
		a := tsatest.New(t)
		cp := []byte("c.example.org/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— c.example.org/log abcdEFGH\n")
		tsr, err := a.Stamp(cp)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(gd, 0o755)
		for name, b := range map[string][]byte{"roots.pem": a.RootsPEM, "5.checkpoint": cp, "5.tsr": tsr} {
			if err := os.WriteFile(filepath.Join(gd, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	pool, err := ReadRoots(filepath.Join(gd, "roots.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cp, _ := os.ReadFile(filepath.Join(gd, "5.checkpoint"))
	tsr, _ := os.ReadFile(filepath.Join(gd, "5.tsr"))
	st, err := VerifyTimestamp(tsr, cp, pool)
	if err != nil {
		t.Fatal(err)
	}
	if st.Time.IsZero() || !strings.Contains(st.TSA, "chatconsent test TSA") {
		t.Fatalf("golden stamp %+v", st)
	}
	if _, err := VerifyTimestamp(tsr, cp[:len(cp)-1], pool); !errors.Is(err, ErrBadTimestamp) {
		t.Fatalf("a byte less of the checkpoint: %v", err)
	}
	for i := 0; i < len(tsr); i++ {
		if _, err := VerifyTimestamp(tsr[:i], cp, pool); err == nil {
			t.Fatalf("token cut to %d bytes verifies", i)
		}
	}
	// Byte changes: the DER wrapper has a few bytes whose change is
	// harmless to the signed content (e.g. unsigned status text), so every
	// change is tried and only those leaving the signed token, the
	// imprint and the time intact may pass.
	for i := 0; i < len(tsr); i++ {
		m := bytes.Clone(tsr)
		m[i] ^= 0x01
		got, err := VerifyTimestamp(m, cp, pool)
		if err == nil && (!got.Time.Equal(st.Time) || got.TSA != st.TSA) {
			t.Fatalf("byte %d changed: verifies with another time or authority %+v", i, got)
		}
	}
}

func FuzzVerifyTimestamp(f *testing.F) {
	gd := filepath.Join("testdata", "timestamp")
	tsr, _ := os.ReadFile(filepath.Join(gd, "5.tsr"))
	cp, _ := os.ReadFile(filepath.Join(gd, "5.checkpoint"))
	pool, err := ReadRoots(filepath.Join(gd, "roots.pem"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tsr)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = VerifyTimestamp(b, cp, pool) // must not panic
	})
}

func FuzzParseLatest(f *testing.F) {
	for _, s := range []string{"5\n", "0\n", "18446744073709551615\n", "05\n", "5"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseLatest(b)
		if err == nil && string(b) != strings.TrimSpace(string(b))+"\n" {
			t.Fatalf("ParseLatest(%q) = %d", b, n)
		}
	})
}
