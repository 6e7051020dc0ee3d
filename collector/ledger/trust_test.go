package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// writeV2Log appends n version-2 records to a fresh log (after v1 lines
// in the format of old logs, if v1 > 0) and returns its path and bytes.
func writeV2Log(t *testing.T, v1, n int) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "decisions.jsonl")
	for _, step := range []struct{ version, n int }{{FormatV1, v1}, {FormatVersion, n}} {
		l, _, err := Open(path, testKey(t), Options{Version: step.version})
		if err != nil {
			t.Fatal(err)
		}
		for i := range step.n {
			r := decision(fmt.Sprintf("Jürgen Weiß %d", i))
			r.ID = fmt.Sprintf("%032x", step.version*100000+i)
			if _, err := l.Append(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

// rootOf is the RFC 6962 root over the first k version-2 lines of b.
func rootOf(t *testing.T, b []byte, k int) []byte {
	t.Helper()
	cr := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	for _, l := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		if int(cr.End()) == k {
			break
		}
		if bytes.HasPrefix(l, v2LinePrefix) {
			cr.Append(rfc6962.DefaultHasher.HashLeaf(l), nil)
		}
	}
	root, err := cr.GetRootHash(nil)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// countingVerifier counts signature checks.
type countingVerifier struct {
	Verifier
	n *atomic.Int64
}

func (c countingVerifier) Verify(msg, sig []byte) bool {
	c.n.Add(1)
	return c.Verifier.Verify(msg, sig)
}

func openTrusting(t *testing.T, path string, tr *Trust) (int64, error) {
	t.Helper()
	st, err := OpenFileStore(path, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	l, _, err := New(st, NewSigner(testKey(t)), Options{Trust: tr, Verifier: countingVerifier{NewVerifier(pub(t)), &n}})
	if err != nil {
		st.Close()
		return n.Load(), err
	}
	l.Close()
	return n.Load(), nil
}

// TestTrustedStart: the lines the trusted root proves are not signature
// checked, the others are; a changed line before or after the checkpoint,
// a log cut below it, or another root refuse the start naming the line.
func TestTrustedStart(t *testing.T) {
	t.Parallel()
	const v1, n, k = 3, 40, 30 // k version-2 lines under the checkpoint
	path, b := writeV2Log(t, v1, n)
	good := &Trust{Entries: k, Root: rootOf(t, b, k)}

	checked, err := openTrusting(t, path, good)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(v1 + n - k); checked != want {
		t.Fatalf("%d signatures checked, want %d (the v1 lines and those after the checkpoint)", checked, want)
	}
	if checked, err := openTrusting(t, path, nil); err != nil || checked != v1+n {
		t.Fatalf("without trust: %d checked, %v", checked, err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	mangle := func(i int) []byte {
		ls := make([][]byte, len(lines))
		copy(ls, lines)
		ls[i] = bytes.Replace(ls[i], []byte(`"orders"`), []byte(`"orderz"`), 1)
		return bytes.Join(ls, nil)
	}
	for _, tc := range []struct {
		name  string
		data  []byte
		trust *Trust
		want  error
		line  string
	}{
		{"another root", b, &Trust{Entries: k, Root: rootOf(t, b, k-1)}, ErrUntrusted, fmt.Sprintf("line %d:", v1+k)},
		{"checkpoint beyond the log", b, &Trust{Entries: n + 1, Root: good.Root}, ErrUntrusted, "lines were cut"},
		{"cut below the checkpoint", bytes.Join(lines[:v1+k-1], nil), good, ErrUntrusted, "lines were cut"},
		// Its signature is not checked, but the next line's chain breaks…
		{"changed line under the checkpoint", mangle(v1 + 4), good, ErrBrokenChain, fmt.Sprintf("line %d:", v1+6)},
		// …and the last one under it changes the root.
		{"changed last line under the checkpoint", mangle(v1 + k - 1), good, ErrUntrusted, fmt.Sprintf("line %d:", v1+k)},
		{"changed line after the checkpoint", mangle(v1 + k + 2), good, ErrBadSignature, fmt.Sprintf("line %d:", v1+k+3)},
		{"changed v1 line", mangle(1), good, ErrBadSignature, "line 2:"},
	} {
		p := filepath.Join(t.TempDir(), "decisions.jsonl")
		if err := os.WriteFile(p, tc.data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := openTrusting(t, p, tc.trust)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.line) {
			t.Errorf("%s: %v, want %v at %q", tc.name, err, tc.want, tc.line)
		}
	}
}
