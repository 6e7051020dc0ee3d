package ledger

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"testing"
)

// headAt returns the head after the first k lines of a log's bytes.
func headAt(t *testing.T, b []byte, k int) Head {
	t.Helper()
	var h Head
	for range k {
		n := int64(bytes.IndexByte(b[h.Size:], '\n'))
		h.Count++
		h.Hash = LineHash(b[h.Size : h.Size+n])
		h.Size += n + 1
	}
	return h
}

// openFrom opens the log at path resuming from h, counting the records
// replayed.
func openFrom(t *testing.T, path string, h Head) (*Log, int, error) {
	n := 0
	fs, err := OpenFileStore(path, FileOptions{From: &h})
	if err != nil {
		return nil, 0, err
	}
	l, _, err := New(fs, NewSigner(testKey(t)), Options{From: &h, Replay: func(*Record, []byte) error { n++; return nil }})
	if err != nil {
		fs.Close()
		return nil, n, err
	}
	return l, n, nil
}

// TestResumeFrom: a log opened from a known head reads, verifies and
// replays only the lines after it, ends at the same head as a full
// open, and appends on from there.
func TestResumeFrom(t *testing.T) {
	t.Parallel()
	path, b := writeV2Log(t, 0, 10)
	l, n, err := openFrom(t, path, headAt(t, b, 7))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("replayed %d records, want the 3 after the head", n)
	}
	if got, want := l.Head(), headAt(t, b, 10); got != want {
		t.Errorf("head %+v, want %+v", got, want)
	}
	if _, err := l.Append(context.Background(), decision("after")); err != nil {
		t.Fatal(err)
	}
	l.Close()
	b2, _ := os.ReadFile(path)
	if h, err := Verify(bytes.NewReader(b2), testKey(t).Public().(ed25519.PublicKey), nil); err != nil || h.Count != 11 {
		t.Fatalf("the log after a resumed open: %d records, %v", h.Count, err)
	}
	// At the end: nothing to replay.
	l, n, err = openFrom(t, path, headAt(t, b2, 11))
	if err != nil || n != 0 {
		t.Fatalf("resumed at the end: %d replayed, %v", n, err)
	}
	l.Close()
}

// TestResumeFromBad: the lines after the head are checked as always (a
// changed one fails its signature), and a head beyond the file or with
// another line count than the file's does not open.
func TestResumeFromBad(t *testing.T) {
	t.Parallel()
	path, b := writeV2Log(t, 0, 6)
	h := headAt(t, b, 3)
	bad := bytes.Clone(b)
	i := int(headAt(t, b, 4).Size) + 40 // inside line 5
	bad[i] ^= 1
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if l, _, err := openFrom(t, path, h); err == nil {
		l.Close()
		t.Fatal("a changed line after the head opened")
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	beyond := h
	beyond.Size = int64(len(b)) + 10
	if l, _, err := openFrom(t, path, beyond); err == nil {
		l.Close()
		t.Fatal("a head beyond the file opened")
	}
	wrongSeq := h
	wrongSeq.Count = 2 // the line after is seq 4
	if l, _, err := openFrom(t, path, wrongSeq); err == nil {
		l.Close()
		t.Fatal("a head with the wrong count opened")
	}
	wrongHash := h
	wrongHash.Hash = headAt(t, b, 2).Hash
	if l, _, err := openFrom(t, path, wrongHash); err == nil {
		l.Close()
		t.Fatal("a head with the wrong hash opened")
	}
}
