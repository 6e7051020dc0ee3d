package ledger

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// TestFormatV1Compatible keeps a log written before client_ip and
// user_agent existed: it must still verify, and records without those
// fields must still be written byte for byte the same way.
func TestFormatV1Compatible(t *testing.T) {
	golden := filepath.Join("testdata", "v1.jsonl")
	path := filepath.Join(t.TempDir(), "d.jsonl")
	l, _, err := Open(path, testKey(t), Options{Version: FormatV1})
	if err != nil {
		t.Fatal(err)
	}
	withClient := decision("Zoë")
	withClient.ClientIP, withClient.UserAgent = "203.0.113.0/24", "Mozilla/5.0 (X11; Linux x86_64)"
	if _, err := l.Append(context.Background(), decision("Jürgen Weiß"), decision("Łukasz")); err != nil {
		t.Fatal(err)
	}
	l.Close()
	got, _ := os.ReadFile(path)
	if *update {
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("records without client fields are written differently than before:\n got %s\nwant %s", got, want)
	}
	// The old file goes on, with a record that has the new fields.
	os.WriteFile(path, want, 0o600)
	l, _, err = Open(path, testKey(t), Options{Version: FormatV1})
	if err != nil {
		t.Fatalf("old log does not open: %v", err)
	}
	e, err := l.Append(context.Background(), withClient)
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(e[0].Line, []byte(`"client_ip":"203.0.113.0/24","user_agent":"Mozilla/5.0 (X11; Linux x86_64)"}`+string(e[0].Line[bytes.LastIndex(e[0].Line, []byte(`,"sig"`)):]))) {
		t.Errorf("line = %s", e[0].Line)
	}
	b, _ := os.ReadFile(path)
	var ips []string
	h, err := Verify(bytes.NewReader(b), pub(t), func(r *Record, _ []byte) error { ips = append(ips, r.ClientIP); return nil })
	if err != nil || h.Count != 3 || fmt.Sprint(ips) != "[  203.0.113.0/24]" {
		t.Errorf("verify = %+v, %v, ips %q", h, err, ips)
	}
}

func TestLookup(t *testing.T) {
	path, _ := writeLog(t, 0)
	l, _, err := Open(path, testKey(t), Options{Version: FormatV1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var recs []Record
	for i := range 5 {
		r := decision("x")
		r.ID = fmt.Sprintf("%032x", i+100)
		if i == 3 {
			r.Subject.Name = `"id":"` + fmt.Sprintf("%032x", 102) + `"` // a name that mimics another id
		}
		recs = append(recs, r)
	}
	entries, err := l.Append(context.Background(), recs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range entries {
		got, err := l.Lookup(want.Record.ID)
		if err != nil || got.Record.Seq != want.Record.Seq || !bytes.Equal(got.Line, want.Line) {
			t.Errorf("Lookup(%s) = seq %d, %v; want seq %d", want.Record.ID, got.Record.Seq, err, want.Record.Seq)
		}
	}
	if _, err := l.Lookup(fmt.Sprintf("%032x", 999)); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup of a missing id: %v, want ErrNotFound", err)
	}
}

// TestOneSyncPerAppendWithMaxBatch1 checks the benchmark's comparison
// mode: with MaxBatch 1, concurrent appends get one fsync each.
func TestOneSyncPerAppendWithMaxBatch1(t *testing.T) {
	for _, tt := range []struct {
		maxBatch int
		exact    bool
	}{{1, true}, {0, false}} {
		t.Run(fmt.Sprint("MaxBatch=", tt.maxBatch), func(t *testing.T) {
			var syncs atomic.Int64
			path := filepath.Join(t.TempDir(), "d.jsonl")
			l, _, err := Open(path, testKey(t), Options{Version: FormatV1, MaxBatch: tt.maxBatch, Sync: func(f *os.File) error {
				syncs.Add(1)
				return fdatasync(f)
			}})
			if err != nil {
				t.Fatal(err)
			}
			const n = 128
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					if _, err := l.Append(context.Background(), decision(fmt.Sprint(i))); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			l.Close()
			if tt.exact && syncs.Load() != n {
				t.Errorf("%d fsyncs for %d concurrent appends, want one each", syncs.Load(), n)
			}
			if !tt.exact && syncs.Load() > n {
				t.Errorf("%d fsyncs for %d appends", syncs.Load(), n)
			}
		})
	}
}

// TestDiskFullShortWrite makes the disk fail mid-write (a short write, then
// ENOSPC), as a full disk does: the append fails, the log keeps only whole
// lines, and appends work again once there is space.
func TestDiskFullShortWrite(t *testing.T) {
	path, _ := writeLog(t, 2)
	var full atomic.Bool
	full.Store(true)
	l, _, err := Open(path, testKey(t), Options{Version: FormatV1, Write: func(f *os.File, b []byte) (int, error) {
		if full.Load() {
			n, _ := f.Write(b[:len(b)/2])
			return n, syscall.ENOSPC
		}
		return f.Write(b)
	}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := l.Append(context.Background(), decision("A")); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("append on a full disk: %v, want ENOSPC", err)
		}
		b, _ := os.ReadFile(path)
		if h, err := Verify(bytes.NewReader(b), pub(t), nil); err != nil || h.Count != 2 || h.Size != int64(len(b)) {
			t.Fatalf("log on a full disk: %+v, %v; want the 2 old records only", h, err)
		}
	}
	full.Store(false)
	e, err := l.Append(context.Background(), decision("B"))
	if err != nil || e[0].Record.Seq != 3 {
		t.Fatalf("append after space returned: %v, %v", e, err)
	}
	l.Close()
	b, _ := os.ReadFile(path)
	if h, err := Verify(bytes.NewReader(b), pub(t), nil); err != nil || h.Count != 3 {
		t.Errorf("verify = %+v, %v", h, err)
	}
}
