package ledger

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// memStore is a second [Store] (lines in memory), as a transparency
// log's storage would be: it proves the seam takes more than the file.
type memStore struct {
	mu    sync.Mutex
	lines [][]byte
	head  Head
	fail  error
}

func (m *memStore) Read(from Head) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b []byte
	for _, l := range m.lines[from.Count:] {
		b = append(append(b, l...), '\n')
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *memStore) Append(lines [][]byte, next Head) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	for _, l := range lines {
		m.lines = append(m.lines, bytes.Clone(l))
	}
	m.head = next
	return nil
}

func (m *memStore) Head() Head                      { m.mu.Lock(); defer m.mu.Unlock(); return m.head }
func (m *memStore) Cut(good Head) (Recovery, error) { return Recovery{}, nil }
func (m *memStore) Close() error                    { return nil }

func TestStoreSeam(t *testing.T) {
	t.Parallel()
	st := &memStore{}
	signer := NewSigner(testKey(t))
	l, _, err := New(st, signer, Options{Version: FormatV1})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"A", "B", "C"} {
		if _, err := l.Append(context.Background(), decision(n+"-"+n)); err != nil {
			t.Fatal(err)
		}
	}
	st.fail = errors.New("disk gone")
	if _, err := l.Append(context.Background(), decision("D")); err == nil {
		t.Fatal("append to a failing store succeeded")
	}
	st.fail = nil
	e, err := l.Append(context.Background(), decision("E"))
	if err != nil || e[0].Record.Seq != 4 {
		t.Fatalf("append after a failure: %v, %v; want seq 4", e, err)
	}
	got, err := l.Lookup(e[0].Record.ID)
	if err != nil || !bytes.Equal(got.Line, e[0].Line) {
		t.Errorf("Lookup = %v, %v", got, err)
	}
	l.Close()

	// Reopening verifies the store and replays it.
	var names []string
	l, _, err = New(st, signer, Options{Version: FormatV1, Replay: func(r *Record, _ []byte) error {
		names = append(names, r.Subject.Name[:1])
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got, want := names, []string{"A", "B", "C", "E"}; !equal(got, want) {
		t.Errorf("replayed %q, want %q", got, want)
	}
	h, err := VerifySource(st, NewVerifier(pub(t)), nil)
	if err != nil || h != st.Head() {
		t.Errorf("VerifySource = %+v, %v; want %+v", h, err, st.Head())
	}

	// A store whose lines were changed is refused.
	st.lines[1] = bytes.Replace(st.lines[1], []byte(`"B-B"`), []byte(`"X-X"`), 1)
	if _, _, err := New(st, signer, Options{Version: FormatV1}); !errors.Is(err, ErrBadSignature) {
		t.Errorf("New on a changed store: %v, want ErrBadSignature", err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSignerVerifier(t *testing.T) {
	t.Parallel()
	s := NewSigner(testKey(t))
	v := NewVerifier(pub(t))
	if s.Name() != Fingerprint(pub(t)) || v.Name() != s.Name() || v.KeyHash() != s.KeyHash() {
		t.Fatalf("signer %s/%08x, verifier %s/%08x", s.Name(), s.KeyHash(), v.Name(), v.KeyHash())
	}
	sig, err := s.Sign([]byte("msg"))
	if err != nil || !v.Verify([]byte("msg"), sig) {
		t.Fatalf("Sign/Verify: %v", err)
	}
	if v.Verify([]byte("msh"), sig) || v.Verify([]byte("msg"), sig[:10]) {
		t.Error("Verify accepted another message or a short signature")
	}
	if _, _, err := New(&memStore{}, s, Options{Verifier: NewVerifier(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32)).Public().(ed25519.PublicKey))}); err == nil {
		t.Error("New with a verifier of another key succeeded")
	}
}

// TestHoldsHead: a head is held where its line ends there with its hash;
// anything else (a cut file, a changed line, a place inside a line) is
// ErrNotHead.
func TestHoldsHead(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "f.jsonl")
	lines := []string{`{"a":1}`, `{"b":22}`, `{"c":333}`}
	var heads []Head
	var h Head
	var b []byte
	for _, l := range lines {
		b = append(append(b, l...), '\n')
		h = Head{Count: h.Count + 1, Hash: LineHash([]byte(l)), Size: int64(len(b))}
		heads = append(heads, h)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, h := range heads {
		if err := HoldsHead(path, h); err != nil {
			t.Errorf("head after line %d: %v", i+1, err)
		}
	}
	if err := HoldsHead(path, Head{}); err != nil {
		t.Errorf("zero head: %v", err)
	}
	if err := HoldsHead(filepath.Join(t.TempDir(), "missing"), Head{}); err != nil {
		t.Errorf("zero head of a missing file: %v", err)
	}
	for name, h := range map[string]Head{
		"other hash":       {Count: 2, Hash: heads[0].Hash, Size: heads[1].Size},
		"inside a line":    {Count: 2, Hash: heads[1].Hash, Size: heads[1].Size - 2},
		"beyond the end":   {Count: 4, Hash: heads[2].Hash, Size: heads[2].Size + 10},
		"first line count": {Count: 2, Hash: heads[0].Hash, Size: heads[0].Size},
		"no count":         {Count: 0, Hash: heads[0].Hash, Size: heads[0].Size},
	} {
		if err := HoldsHead(path, h); !errors.Is(err, ErrNotHead) {
			t.Errorf("%s: %v, want ErrNotHead", name, err)
		}
	}
	if err := HoldsHead(filepath.Join(t.TempDir(), "missing"), heads[0]); err == nil {
		t.Error("a missing file holds a head")
	}
}
