package ledger

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKey is deterministic so testdata files stay valid.
func testKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	return ed25519.NewKeyFromSeed(seed)
}

func decision(name string) Record {
	return Record{
		Type: TypeDecision, ID: fmt.Sprintf("%032x", len(name)), Time: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC),
		Decision: Granted, Purposes: []string{"orders"},
		Subject: &Subject{Name: name, Phone: "+491701234567"}, Lang: "de",
		TextVersion: strings.Repeat("ab", 32),
	}
}

// writeLog appends n records to a fresh log and returns its path and bytes.
func writeLog(t *testing.T, n int) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "decisions.jsonl")
	l, _, err := Open(path, testKey(t), Options{Version: FormatV1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := l.Append(context.Background(), decision(fmt.Sprintf("Jürgen Weiß %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

func pub(t testing.TB) ed25519.PublicKey { return testKey(t).Public().(ed25519.PublicKey) }

func TestAppendVerify(t *testing.T) {
	_, b := writeLog(t, 5)
	var names []string
	h, err := Verify(bytes.NewReader(b), pub(t), func(r *Record, line []byte) error {
		names = append(names, r.Subject.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Count, uint64(5); got != want {
		t.Errorf("count = %d, want %d", got, want)
	}
	if got, want := h.Size, int64(len(b)); got != want {
		t.Errorf("size = %d, want %d", got, want)
	}
	if got, want := names[4], "Jürgen Weiß 4"; got != want {
		t.Errorf("name = %q, want %q", got, want)
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	if !bytes.HasPrefix(first, []byte(`{"rec":{"v":1,"seq":1,"prev":"","key":"`)) {
		t.Errorf("first line = %s", first)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	_, b := writeLog(t, 4)
	lines := bytes.SplitAfter(b, []byte("\n"))
	lines = lines[:len(lines)-1] // trailing empty element
	join := func(ls ...[]byte) []byte { return bytes.Join(ls, nil) }
	changed := bytes.Replace(b, []byte("Jürgen Weiß 2"), []byte("Jürgen Weiß 3"), 1)
	tests := []struct {
		name     string
		log      []byte
		wantLine int
		wantErr  error
	}{
		{"changed byte", changed, 3, ErrBadSignature},
		{"dropped middle line", join(lines[0], lines[2], lines[3]), 2, ErrSequence},
		{"reordered lines", join(lines[0], lines[2], lines[1], lines[3]), 2, ErrSequence},
		{"dropped first line", join(lines[1], lines[2], lines[3]), 1, ErrSequence},
		{"duplicated line", join(lines[0], lines[1], lines[1], lines[2]), 3, ErrSequence},
		{"bad JSON", join(lines[0], []byte("{not json}\n"), lines[2]), 2, ErrBadJSON},
		{"empty line", join(lines[0], []byte("\n"), lines[1]), 2, ErrBadJSON},
		{"torn last line", join(lines[0], lines[1], lines[2][:20]), 3, ErrTorn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(bytes.NewReader(tt.log), pub(t), nil)
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LineError", err)
			}
			if le.Line != tt.wantLine || !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want line %d: %v", err, tt.wantLine, tt.wantErr)
			}
		})
	}
}

// Every byte flip and every truncation of a signed line must be rejected
// (the mangling test of golang.org/x/mod/sumdb/note).
func TestMangledLineRejected(t *testing.T) {
	_, b := writeLog(t, 1)
	line := bytes.TrimSuffix(b, []byte("\n"))
	if _, err := ParseLine(line, pub(t)); err != nil {
		t.Fatal(err)
	}
	for i := range line {
		for _, bit := range []byte{0x01, 0x20, 0x80} {
			m := bytes.Clone(line)
			m[i] ^= bit
			if _, err := ParseLine(m, pub(t)); err == nil {
				t.Fatalf("flip %#x at byte %d accepted: %s", bit, i, m)
			}
		}
	}
	for i := range len(line) {
		if _, err := ParseLine(line[:i], pub(t)); err == nil {
			t.Fatalf("truncation to %d bytes accepted", i)
		}
	}
}

func TestWrongKey(t *testing.T) {
	_, b := writeLog(t, 1)
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)).Public().(ed25519.PublicKey)
	_, err := Verify(bytes.NewReader(b), other, nil)
	if !errors.Is(err, ErrWrongKey) {
		t.Errorf("err = %v, want ErrWrongKey", err)
	}
}

func TestOpenContinuesChain(t *testing.T) {
	path, _ := writeLog(t, 2)
	l, _, err := Open(path, testKey(t), Options{Version: FormatV1})
	if err != nil {
		t.Fatal(err)
	}
	e, err := l.Append(context.Background(), decision("Zoë"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e[0].Record.Seq, uint64(3); got != want {
		t.Errorf("seq = %d, want %d", got, want)
	}
	l.Close()
	b, _ := os.ReadFile(path)
	if h, err := Verify(bytes.NewReader(b), pub(t), nil); err != nil || h.Count != 3 {
		t.Errorf("verify = %v, %v; want 3 records", h, err)
	}
}

func TestOpenCutsTornTail(t *testing.T) {
	path, b := writeLog(t, 3)
	torn := append(bytes.Clone(b), []byte(`{"rec":{"v":1,"seq":4,"pr`)...)
	if err := os.WriteFile(path, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	l, rec, err := Open(path, testKey(t), Options{Version: FormatV1})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if got, want := rec.TornBytes, len(torn)-len(b); got != want {
		t.Errorf("torn bytes = %d, want %d", got, want)
	}
	saved, err := os.ReadFile(rec.TornPath)
	if err != nil || string(saved) != `{"rec":{"v":1,"seq":4,"pr` {
		t.Errorf("torn file = %q, %v", saved, err)
	}
	now, _ := os.ReadFile(path)
	if !bytes.Equal(now, b) {
		t.Errorf("log after recovery differs from the good prefix")
	}
}

func TestOpenRefusesBrokenMiddle(t *testing.T) {
	path, b := writeLog(t, 3)
	bad := bytes.Replace(b, []byte("Weiß 1"), []byte("Weiß 9"), 1)
	os.WriteFile(path, bad, 0o600)
	_, _, err := Open(path, testKey(t), Options{Version: FormatV1})
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 || !errors.Is(err, ErrBadSignature) {
		t.Errorf("err = %v, want line 2 bad signature", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(after, bad) {
		t.Error("Open changed a log it refused")
	}
}

func TestSecondWriterRefused(t *testing.T) {
	path, _ := writeLog(t, 1)
	l, _, err := Open(path, testKey(t), Options{Version: FormatV1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, _, err := Open(path, testKey(t), Options{Version: FormatV1}); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open err = %v, want ErrLocked", err)
	}
}

func TestSyncFailureLeavesLogValid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.jsonl")
	fail := true
	var mu sync.Mutex
	l, _, err := Open(path, testKey(t), Options{Version: FormatV1, Sync: func(f *os.File) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return errors.New("no space left on device")
		}
		return f.Sync()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), decision("A")); err == nil {
		t.Fatal("append with failing sync succeeded")
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	e, err := l.Append(context.Background(), decision("B"))
	if err != nil {
		t.Fatal(err)
	}
	if e[0].Record.Seq != 1 {
		t.Errorf("seq after failed append = %d, want 1", e[0].Record.Seq)
	}
	l.Close()
	b, _ := os.ReadFile(path)
	if h, err := Verify(bytes.NewReader(b), pub(t), nil); err != nil || h.Count != 1 {
		t.Errorf("verify = %+v, %v; want 1 record", h, err)
	}
}

func TestConcurrentAppendsGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.jsonl")
	var syncs int
	var mu sync.Mutex
	l, _, err := Open(path, testKey(t), Options{Version: FormatV1, Sync: func(f *os.File) error {
		mu.Lock()
		syncs++
		mu.Unlock()
		return fdatasync(f)
	}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var wg sync.WaitGroup
	ids := make(chan uint64, n)
	for i := range n {
		wg.Go(func() {
			e, err := l.Append(context.Background(), decision(fmt.Sprint(i)))
			if err != nil {
				t.Error(err)
				return
			}
			ids <- e[0].Record.Seq
		})
	}
	wg.Wait()
	l.Close()
	close(ids)
	seen := map[uint64]bool{}
	for id := range ids {
		seen[id] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct seqs, want %d", len(seen), n)
	}
	b, _ := os.ReadFile(path)
	if h, err := Verify(bytes.NewReader(b), pub(t), nil); err != nil || h.Count != n {
		t.Errorf("verify = %+v, %v", h, err)
	}
	t.Logf("%d appends, %d fsyncs", n, syncs)
	if syncs > n {
		t.Errorf("%d syncs for %d appends", syncs, n)
	}
}

func TestKeys(t *testing.T) {
	dir := t.TempDir()
	privPath, pubPath := filepath.Join(dir, "signing.key"), filepath.Join(dir, "signing.pub")
	priv, created, err := LoadOrCreateKey(privPath, pubPath)
	if err != nil || !created {
		t.Fatalf("LoadOrCreateKey = %v, %v", created, err)
	}
	st, _ := os.Stat(privPath)
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("key mode = %o, want 600", got)
	}
	again, created, err := LoadOrCreateKey(privPath, pubPath)
	if err != nil || created || !again.Equal(priv) {
		t.Errorf("second load: created=%v err=%v equal=%v", created, err, again.Equal(priv))
	}
	if _, err := GenerateKey(privPath, pubPath); !errors.Is(err, ErrKeyExists) {
		t.Errorf("GenerateKey over existing = %v, want ErrKeyExists", err)
	}
	p, err := ReadPublicKey(pubPath)
	if err != nil || !p.Equal(priv.Public()) {
		t.Errorf("ReadPublicKey = %v", err)
	}
	os.Chmod(privPath, 0o644)
	if _, err := ReadPrivateKey(privPath); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key: err = %v", err)
	}
}

func FuzzVerify(f *testing.F) {
	path := filepath.Join(f.TempDir(), "d.jsonl")
	l, _, err := Open(path, testKey(f), Options{Version: FormatV1})
	if err != nil {
		f.Fatal(err)
	}
	l.Append(context.Background(), decision("Jürgen"), decision("Łukasz"))
	l.Close()
	b, _ := os.ReadFile(path)
	f.Add(b)
	f.Add([]byte(`{"rec":{},"sig":""}` + "\n"))
	if old, err := os.ReadFile(filepath.Join("testdata", "v1.jsonl")); err == nil {
		f.Add(old)
		f.Add(old[:len(old)-40]) // a torn tail
	}
	if red, err := os.ReadFile(filepath.Join("testdata", "v1-redacted.jsonl")); err == nil {
		f.Add(red)
	}
	f.Add([]byte("\n\n"))
	p := pub(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := Verify(bytes.NewReader(data), p, nil)
		if err == nil && h.Size != int64(len(data)) {
			t.Fatalf("verified %d of %d bytes without error", h.Size, len(data))
		}
		// Whatever verified must be a prefix that verifies again.
		h2, err := Verify(bytes.NewReader(data[:h.Size]), p, nil)
		if err != nil || h2 != h {
			t.Fatalf("prefix re-verify: %+v %v, want %+v", h2, err, h)
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	path := filepath.Join(b.TempDir(), "d.jsonl")
	l, _, err := Open(path, testKey(b), Options{Version: FormatV1})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Append(context.Background(), decision("Jürgen Weiß")); err != nil {
				b.Error(err)
			}
		}
	})
}
