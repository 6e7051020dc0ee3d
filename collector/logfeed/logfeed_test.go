package logfeed

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
)

var priv = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

func openTL(t *testing.T, dir string) *translog.Log {
	t.Helper()
	k, _, err := translog.LoadOrCreateKey(filepath.Join(dir, config.CheckpointKeyFile), filepath.Join(dir, config.CheckpointVerifierKeyFile), "c.example.org/log")
	if err != nil {
		t.Fatal(err)
	}
	tl, err := translog.Open(context.Background(), translog.Options{Dir: filepath.Join(dir, "log"), Key: k,
		BatchMaxAge: 5 * time.Millisecond, CheckpointInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func closeTL(t *testing.T, tl *translog.Log) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tl.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// openLedger opens the JSONL log in dir through a Store feeding tl.
func openLedger(t *testing.T, dir string, tl *translog.Log, version int) (*ledger.Log, *Store) {
	t.Helper()
	fs, err := ledger.OpenFileStore(filepath.Join(dir, config.LogFile), ledger.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := New(fs, tl, nil)
	l, _, err := ledger.New(st, ledger.NewSigner(priv), ledger.Options{Version: version})
	if err != nil {
		fs.Close()
		t.Fatal(err)
	}
	return l, st
}

func appendN(t *testing.T, l *ledger.Log, n int) {
	t.Helper()
	for i := range n {
		rec := ledger.Record{Type: ledger.TypeDecision, ID: fmt.Sprintf("d%03d", i), Decision: ledger.Granted,
			Purposes: []string{"orders"}, Lang: "en", Time: time.Date(2026, 12, 1, 20, 0, i, 0, time.UTC),
			Subject: &ledger.Subject{Name: "Jürgen Weiß", Phone: "+491701234567"}}
		if _, err := l.Append(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
}

// v2Lines returns the version-2 lines of the JSONL file in dir.
func v2Lines(t *testing.T, dir string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, config.LogFile))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, l := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		if IsV2(l) {
			out = append(out, l)
		}
	}
	return out
}

// checkTL verifies the transparency log in dir and that its entries are
// exactly want.
func checkTL(t *testing.T, dir string, tl *translog.Log, want [][]byte) {
	t.Helper()
	var mu sync.Mutex
	got := map[uint64][]byte{}
	rep, err := translog.VerifyLog(context.Background(), translog.DirSource(filepath.Join(dir, "log")), tl.Verifier(),
		translog.VerifyOptions{Entry: func(i uint64, e []byte) error {
			mu.Lock()
			defer mu.Unlock()
			got[i] = bytes.Clone(e)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != uint64(len(want)) || len(got) != len(want) {
		t.Fatalf("transparency log has %d entries (%d read), the JSONL file %d version-2 lines", rep.Entries, len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[uint64(i)], want[i]) {
			t.Fatalf("entry %d is\n%s\nline %d is\n%s", i, got[uint64(i)], i+1, want[i])
		}
	}
}

// TestFeedAndCatchUp: appended version-2 lines are fed; what the
// transparency log missed (here: a start without it) is fed on the next
// start; entry i is line seq i+1.
func TestFeedAndCatchUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tl := openTL(t, dir)
	l, st := openLedger(t, dir, tl, ledger.FormatVersion)
	appendN(t, l, 5)
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	if i, err := st.Index(3); err != nil || i != 2 {
		t.Fatalf("Index(3) = %d, %v; want 2", i, err)
	}
	l.Close()
	closeTL(t, tl)
	checkTL(t, dir, tl, v2Lines(t, dir))

	// Three lines appended while the transparency log was not fed.
	fs, err := ledger.OpenFileStore(filepath.Join(dir, config.LogFile), ledger.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l2, _, err := ledger.New(fs, ledger.NewSigner(priv), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l2, 3)
	l2.Close()

	tl = openTL(t, dir)
	l, st = openLedger(t, dir, tl, ledger.FormatVersion)
	if st.CaughtUp() != 3 {
		t.Errorf("caught up %d entries, want 3", st.CaughtUp())
	}
	appendN(t, l, 2)
	l.Close()
	closeTL(t, tl)
	lines := v2Lines(t, dir)
	if len(lines) != 10 {
		t.Fatalf("%d lines", len(lines))
	}
	checkTL(t, dir, tl, lines)
}

// TestV1NotFed: a version-1 log (personal data in clear) feeds nothing.
func TestV1NotFed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tl := openTL(t, dir)
	l, st := openLedger(t, dir, tl, ledger.FormatV1)
	appendN(t, l, 3)
	l.Close()
	if tl.Next() != 0 {
		t.Fatalf("%d entries fed from a version-1 log", tl.Next())
	}
	if _, err := st.Index(2); err == nil {
		t.Error("Index of a version-1 line: no error")
	}
	closeTL(t, tl)
	if _, err := os.Stat(filepath.Join(dir, "log", "checkpoint")); err == nil {
		rep, err := translog.VerifyLog(context.Background(), translog.DirSource(filepath.Join(dir, "log")), tl.Verifier(), translog.VerifyOptions{})
		if err == nil && rep.Entries != 0 {
			t.Fatalf("transparency log of a version-1 log has %d entries", rep.Entries)
		}
	}
}

// TestAhead: a transparency log with more entries than the file's
// version-2 lines (a file from another folder) stops the start.
func TestAhead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tl := openTL(t, dir)
	l, _ := openLedger(t, dir, tl, ledger.FormatVersion)
	appendN(t, l, 2)
	l.Close()
	closeTL(t, tl)
	if err := os.Remove(filepath.Join(dir, config.LogFile)); err != nil {
		t.Fatal(err)
	}
	tl = openTL(t, dir)
	defer closeTL(t, tl)
	fs, err := ledger.OpenFileStore(filepath.Join(dir, config.LogFile), ledger.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	_, _, err = ledger.New(New(fs, tl, nil), ledger.NewSigner(priv), ledger.Options{})
	if !errors.Is(err, ErrAhead) {
		t.Fatalf("err = %v, want ErrAhead", err)
	}
}

// TestFeedFailureKeepsAppending: a transparency log that refuses entries
// (here: closed) stops feeding but never fails a durable append.
func TestFeedFailureKeepsAppending(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tl := openTL(t, dir)
	l, st := openLedger(t, dir, tl, ledger.FormatVersion)
	appendN(t, l, 1)
	closeTL(t, tl)
	appendN(t, l, 2)
	if !errors.Is(st.Err(), translog.ErrClosed) {
		t.Errorf("Err() = %v, want ErrClosed", st.Err())
	}
	if h := l.Head(); h.Count != 3 {
		t.Errorf("%d records durable, want 3", h.Count)
	}
	l.Close()
	// The next start catches up the two.
	tl = openTL(t, dir)
	l, st = openLedger(t, dir, tl, ledger.FormatVersion)
	l.Close()
	closeTL(t, tl)
	if st.CaughtUp() != 2 {
		t.Errorf("caught up %d, want 2", st.CaughtUp())
	}
	checkTL(t, dir, tl, v2Lines(t, dir))
}
