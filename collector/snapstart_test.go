package collector

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	snapfile "github.com/chatconsent/chatconsent/collector/snapshot"
	"github.com/chatconsent/chatconsent/internal/phone"
)

// settle waits until s has made every receipt (a snapshot is written
// only then, see receiptQueue.settled).
func settle(t *testing.T, s *Server) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !s.receipts.settled(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("receipts not made within 10 s")
		}
	}
}

// indexBytes returns the binary form of s's index.
func indexBytes(t *testing.T, s *Server) []byte {
	t.Helper()
	s.proc.mu.Lock()
	defer s.proc.mu.Unlock()
	b, err := s.proc.book.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSnapshotStart: a clean stop writes the snapshot; the next start
// reads only what follows it and has the same index as a start that
// reads the whole log; a snapshot changed in any byte, or one of other
// purposes, is not used (the whole log is read, same index).
func TestSnapshotStart(t *testing.T) {
	t.Parallel()
	srv, cfg, data, versions := openTlogCollector(t)
	n := decideAll(t, srv.Handler(), versions)
	settle(t, srv)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	path := snapshotPath(cfg.Paths(data))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no snapshot after a clean stop: %v", err)
	}
	// What a crash while the snapshot was written leaves: removed at start.
	leftover := filepath.Join(filepath.Dir(path), ".snapshot.tmp-123")
	if err := os.WriteFile(leftover, []byte("half a snapshot"), 0o600); err != nil {
		t.Fatal(err)
	}
	setup := Setup{DataDir: data, ArchiveDir: filepath.Join("..", "archive"), LogVersion: ledger.FormatVersion}
	defer func() {
		if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a crash's temporary snapshot is still there after a start: %v", err)
		}
	}()
	// The index's bytes, then the private store's state: a start from the
	// snapshot must have both exactly as a start that reads everything.
	open := func() (*Server, Started, []byte) {
		t.Helper()
		s, info, err := Open(cfg, setup)
		if err != nil {
			t.Fatal(err)
		}
		vault, err := s.o.Private.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		if info.Snapshot != 0 && !s.o.Private.Resumed() {
			t.Errorf("start from the snapshot: the private store's state was not used: %v", s.o.Private.StateRefused())
		}
		return s, info, append(indexBytes(t, s), vault...)
	}
	s, info, fromSnap := open()
	if info.Snapshot != uint64(n) || info.Records != uint64(n) {
		t.Fatalf("snapshot stood for %d of %d records, want all %d", info.Snapshot, info.Records, n)
	}
	// One more decision after the snapshot: read from the log.
	more := decideAll(t, s.Handler(), versions)
	settle(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, info, fromSnap = open()
	s.Close()
	if info.Snapshot != uint64(n+more) {
		t.Fatalf("second snapshot stood for %d records, want %d", info.Snapshot, n+more)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	s, info, whole := open()
	s.Close()
	if info.Snapshot != 0 || !bytes.Equal(fromSnap, whole) {
		t.Fatalf("the index from the snapshot differs from the whole log's (snapshot %d)", info.Snapshot)
	}
	for _, i := range []int{0, 30, len(good) / 2, len(good) - 70, len(good) - 1} {
		bad := bytes.Clone(good)
		bad[i] ^= 0x10
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		s, info, got := open()
		s.Close()
		if info.Snapshot != 0 || info.Records != uint64(n+more) || !bytes.Equal(got, whole) {
			t.Fatalf("byte %d changed: snapshot used for %d records, %d records", i, info.Snapshot, info.Records)
		}
	}
	// Other purposes: fold again.
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg2 := *cfg
	cfg2.Purposes = cfg.Purposes[:1]
	s2, info, err := Open(&cfg2, setup)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if info.Snapshot != 0 {
		t.Fatalf("snapshot of other purposes used")
	}
}

// TestSnapshotErasure: an erasure removes the snapshot at once (it holds
// the person's data), the next one holds them erased, and an erasure
// appended while the collector was stopped (after its snapshot) is
// folded at start: the erased person never comes back from a snapshot.
func TestSnapshotErasure(t *testing.T) {
	t.Parallel()
	srv, cfg, data, versions := openTlogCollector(t)
	decideAll(t, srv.Handler(), versions)
	settle(t, srv)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	paths := cfg.Paths(data)
	path := snapshotPath(paths)
	setup := Setup{DataDir: data, ArchiveDir: filepath.Join("..", "archive"), LogVersion: ledger.FormatVersion}
	has := func(p string) bool {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Contains(b, []byte(p))
	}
	// The snapshot holds numbers as phone.Key varints (index and private
	// state), names not at all (the private store's boxes have them).
	number := func(p string) string {
		k, ok := phone.Key(p)
		if !ok {
			t.Fatalf("%s: not E.164", p)
		}
		return string(binary.AppendUvarint(nil, k))
	}
	p0, p1 := tlogPeople[0], tlogPeople[1]
	if !has(number(p0.e164)) || has(p0.name) || has(p0.e164) {
		t.Fatal("the snapshot does not hold the index's numbers, or holds names or numbers as text")
	}
	s, _, err := Open(cfg, setup)
	if err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	if _, err := s.Erase(context.Background(), p0.e164, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("snapshot still there after an erasure: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if has(number(p0.e164)) || has(p0.name) || !has(number(p1.e164)) {
		t.Fatal("the snapshot after the erasure holds the erased person (or not the others)")
	}
	// An erasure while stopped: the log's erasure record after the snapshot.
	s, _, err = Open(cfg, setup)
	if err != nil {
		t.Fatal(err)
	}
	s.stopReceipts()
	s.snap = nil // as a second process would: no snapshot of its own
	if _, err := Erase(context.Background(), s.log, s.o.Private, data, p1.e164, "", "", s.o.Now()); err != nil {
		t.Fatal(err)
	}
	s.log.Close()
	s.o.Private.Close()
	closeTlog(s.o.Feed.Log())
	if !has(number(p1.e164)) {
		t.Fatal("test is wrong: the stale snapshot should still hold the person")
	}
	s, info, err := Open(cfg, setup)
	if err != nil {
		t.Fatal(err)
	}
	if info.Snapshot == 0 {
		t.Fatal("the stale snapshot was not used (the erasure after it should be folded)")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the snapshot from before the erasure is still there: %v", err)
	}
	id, err := s.latestDecision(p1.e164)
	if err == nil && id != "" {
		t.Fatalf("the erased number still has decision %s", id)
	}
	settle(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if has(number(p1.e164)) || has(p1.name) {
		t.Fatal("the snapshot holds the person erased while the collector was stopped")
	}
}

// TestSnapshotPeriodic: a running collector writes its snapshot without
// a stop once records came, and one that a crash left stands for what
// it holds: the start after it reads only the records after it.
func TestSnapshotPeriodic(t *testing.T) {
	t.Parallel()
	srv, cfg, data, versions := openTlogCollector(t)
	srv.stopSnapshots()
	srv.startSnapshots(10 * time.Millisecond)
	n := decideAll(t, srv.Handler(), versions)
	path := snapshotPath(cfg.Paths(data))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st, err := snapfile.Read(path, srv.o.Signer.Public().(ed25519.PublicKey)); err == nil && st.Head.Count == uint64(n) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no snapshot of all records within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A "crash": the server is left without Close (its snapshot is the
	// periodic one); only the files are closed, as the kernel would.
	srv.stopSnapshots()
	srv.stopReceipts()
	srv.log.Close()
	srv.o.Private.Close()
	closeTlog(srv.o.Feed.Log())
	s, info, err := Open(cfg, Setup{DataDir: data, ArchiveDir: filepath.Join("..", "archive"), LogVersion: ledger.FormatVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if info.Snapshot != uint64(n) || info.Records != uint64(n) {
		t.Fatalf("after the crash the snapshot stood for %d of %d records, want %d", info.Snapshot, info.Records, n)
	}
}
