package ledger

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestPreparedLineIsEncodeLine: the writer's spliced line (record marshalled
// by the caller with seq 0 and no prev, seq and prev put in by the writer)
// is byte for byte what marshalling the whole record gives, in both
// format versions, for every kind of record and any seq and prev.
func TestPreparedLineIsEncodeLine(t *testing.T) {
	t.Parallel()
	signer := NewSigner(testKey(t))
	exp := time.Date(2027, 1, 2, 3, 4, 5, 6, time.UTC)
	recs := append(v2Records(),
		decision("Zoë \"Z\" <z@example.org>\u2028"),
		Record{Type: TypeInvite, ID: strings.Repeat("1", 32), Time: exp, Subject: &Subject{Phone: "+491701234567"}, Token: "t.o.k", Expires: &exp},
		Record{Type: TypeOwner, ID: strings.Repeat("2", 32), Time: exp, Action: "invited", Owner: "anna", By: "root", Invite: strings.Repeat("3", 32)},
	)
	heads := []Head{{}, {Count: 1, Hash: LineHash([]byte("x"))}, {Count: 1<<64 - 2, Hash: strings.Repeat("f", 64)}}
	for _, version := range []int{FormatV1, FormatVersion} {
		for i, rec := range recs {
			if version == FormatV1 && (rec.Type == TypeOwner || rec.Type == TypeErasure) {
				continue
			}
			for _, h := range heads {
				p, err := prepare(rec, version, signer.Name())
				if err != nil {
					t.Fatalf("v%d record %d: %v", version, i, err)
				}
				got, err := p.line(h.Count+1, h.Hash, signer)
				if err != nil {
					t.Fatal(err)
				}
				stored := p.rec
				if version != FormatV1 {
					// The line holds the commitments of p's disclosures.
					stored.Subject, stored.ClientIP, stored.UserAgent, stored.Token, stored.Note = nil, "", "", "", ""
				}
				stored.Seq, stored.Prev = h.Count+1, h.Hash
				want, err := encodeLine(&stored, signer)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("v%d record %d after %d:\n got %s\nwant %s", version, i, h.Count, got, want)
				}
				if _, err := ParseLine(got, pub(t)); err != nil {
					t.Errorf("v%d record %d: %v", version, i, err)
				}
			}
		}
	}
}

// TestPipelineFailureCascade: while many appends are in flight, batches
// fail in the disclose stage and in the store's sync. Every append that
// returned an entry is in the log with exactly that line, none that failed
// is, the log verifies, and every disclosed batch's openings were kept
// before its lines were stored.
func TestPipelineFailureCascade(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "d.jsonl")
	var calls, syncs atomic.Int64
	var mu sync.Mutex
	disclosed := map[string]bool{} // record ids whose openings were kept
	l, _, err := Open(path, testKey(t), Options{
		Disclose: func(batch []Entry) error {
			if calls.Add(1)%5 == 0 {
				return errors.New("private store: disk full")
			}
			mu.Lock()
			defer mu.Unlock()
			for _, e := range batch {
				disclosed[e.Record.ID] = true
			}
			return nil
		},
		Sync: func(f *os.File) error {
			if syncs.Add(1)%7 == 0 {
				return syscall.ENOSPC
			}
			return fdatasync(f)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	const clients, each = 16, 25
	var wg sync.WaitGroup
	var failed atomic.Int64
	var okMu sync.Mutex
	ok := map[string][]byte{} // id → line
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				rec := decision("Jürgen Weiß")
				rec.ID = fmt.Sprintf("%016x%016x", c, i)
				e, err := l.Append(context.Background(), rec)
				if err != nil {
					failed.Add(1)
					continue
				}
				okMu.Lock()
				ok[rec.ID] = e[0].Line
				okMu.Unlock()
			}
		})
	}
	wg.Wait()
	// The log goes on after the failures (an injected one may hit this
	// append too: at most two in a row).
	var last []Entry
	for range 3 {
		if last, err = l.Append(context.Background(), decision("after")); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("append after the failures: %v", err)
	}
	l.Close()
	if failed.Load() == 0 {
		t.Fatal("no append failed: the test injected no failure")
	}
	b, _ := os.ReadFile(path)
	lines := map[string]bool{}
	h, err := Verify(bytes.NewReader(b), pub(t), func(r *Record, line []byte) error {
		lines[string(line)] = true
		mu.Lock()
		defer mu.Unlock()
		if !disclosed[r.ID] {
			return fmt.Errorf("record %s stored without its openings kept", r.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("log does not verify: %v", err)
	}
	if want := uint64(len(ok) + 1); h.Count != want {
		t.Errorf("%d records in the log, %d appends succeeded", h.Count, want)
	}
	for id, line := range ok {
		if !lines[string(line)] {
			t.Errorf("acknowledged record %s is not in the log as answered", id)
		}
	}
	if !lines[string(last[0].Line)] {
		t.Error("the last record is not in the log")
	}
	t.Logf("%d appended, %d failed, %d disclose calls, %d syncs", len(ok), failed.Load(), calls.Load(), syncs.Load())
}

// BenchmarkPrepare is the part of an append that runs in the caller's
// goroutine (sealing and marshalling a decision with name, number, e-mail,
// client address and user agent); BenchmarkSignLine the part the writer
// does in order (splice seq and prev, sign, hash the line).
func BenchmarkPrepare(b *testing.B) {
	rec := decision("Jürgen Weiß")
	rec.Subject.Email, rec.ClientIP, rec.UserAgent = "juergen@example.org", "203.0.113.0/24", "Mozilla/5.0 (X11; Linux x86_64)"
	name := NewSigner(testKey(b)).Name()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := prepare(rec, FormatVersion, name); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignLine(b *testing.B) {
	rec := decision("Jürgen Weiß")
	rec.Subject.Email, rec.ClientIP, rec.UserAgent = "juergen@example.org", "203.0.113.0/24", "Mozilla/5.0 (X11; Linux x86_64)"
	signer := NewSigner(testKey(b))
	p, err := prepare(rec, FormatVersion, signer.Name())
	if err != nil {
		b.Fatal(err)
	}
	h := Head{Count: 1000, Hash: strings.Repeat("a", 64)}
	b.ReportAllocs()
	for b.Loop() {
		line, err := p.line(h.Count+1, h.Hash, signer)
		if err != nil {
			b.Fatal(err)
		}
		h.Count++
		h.Hash = LineHash(line)
	}
}

var jsonStrings = []string{"", "Jürgen Weiß", "+491701234567", "a\"b", `back\slash`, "<script>&", "tab\there", "nul\x00", "del\x7f",
	"line\u2028sep\u2029", "bad \xff utf-8", "\xe2\x80", "\xe2\x80\xa8", "emoji 😀", "Zoë Ångström", "Mozilla/5.0 (X11; Linux x86_64)"}

// TestAppendJSONString: disclosures are encoded as encoding/json encodes
// them, byte for byte (their commitments depend on it).
func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	for _, s := range jsonStrings {
		want, _ := json.Marshal(s)
		if got := appendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("appendJSONString(%q) = %s, want x%s", s, got, want)
		}
		d := Disclosure{Salt: "AAAAAAAAAAAAAAAAAAAAAA", Field: FieldName, Value: s}
		j, _ := json.Marshal([]string{d.Salt, d.Field, d.Value})
		if got, want := d.Encode(), base64.RawURLEncoding.EncodeToString(j); got != want {
			t.Errorf("Encode(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}
