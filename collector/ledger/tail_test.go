package ledger

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestUnterminatedLastLine: a last line that verifies and lacks only its
// "\n" is a record (kept, its seq never reused, the "\n" added); a last
// line without "\n" that does not verify is torn.
func TestUnterminatedLastLine(t *testing.T) {
	t.Parallel()
	_, good := writeLog(t, 3)
	lines := bytes.SplitAfter(good, []byte("\n"))
	other := writeOtherKeyLine(t, LineHash(lines[2]))
	tests := []struct {
		name      string
		log       []byte
		wantCount uint64 // records kept by Open
		wantTorn  []byte // moved aside, nil for none
	}{
		{"three lines, last without newline", good[:len(good)-1], 3, nil},
		{"one line without newline", lines[0][:len(lines[0])-1], 1, nil},
		{"last line cut before its closing quote", good[:len(good)-3], 2, lines[2][:len(lines[2])-3]},
		{"a copy of line 2 without newline", append(bytes.Clone(good), lines[1][:len(lines[1])-1]...), 3, lines[1][:len(lines[1])-1]},
		{"a line of another key without newline", append(bytes.Clone(good), other...), 3, other},
		{"a line with a flipped byte without newline", append(bytes.Clone(lines[0]), flip(lines[1][:len(lines[1])-1], 30)...), 1, flip(lines[1][:len(lines[1])-1], 30)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "decisions.jsonl")
			if err := os.WriteFile(path, tt.log, 0o600); err != nil {
				t.Fatal(err)
			}
			l, rec, err := Open(path, testKey(t), Options{})
			if err != nil {
				t.Fatal(err)
			}
			e, err := l.Append(context.Background(), decision("Zoë"))
			if err != nil {
				t.Fatal(err)
			}
			l.Close()
			if got, want := e[0].Record.Seq, tt.wantCount+1; got != want {
				t.Errorf("next seq = %d, want %d", got, want)
			}
			if rec.Newline != (tt.wantTorn == nil) || rec.Pending != nil {
				t.Errorf("recovery %+v", rec)
			}
			torn, err := os.ReadFile(path + ".torn")
			switch {
			case tt.wantTorn == nil && !errors.Is(err, os.ErrNotExist):
				t.Errorf("a whole record was moved aside: %q, %v", torn, err)
			case tt.wantTorn != nil && !bytes.Equal(torn, tt.wantTorn):
				t.Errorf("torn file %q, %v; want %q", torn, err, tt.wantTorn)
			}
			b, _ := os.ReadFile(path)
			h, err := Verify(bytes.NewReader(b), pub(t), nil)
			if err != nil || h.Count != tt.wantCount+1 || h.Unterminated || h.Size != int64(len(b)) {
				t.Errorf("log after the append: %+v, %v", h, err)
			}
			if kept := min(len(tt.log), int(h.Size)-len(e[0].Line)-1); !bytes.Equal(b[:kept], tt.log[:kept]) {
				t.Errorf("a byte of the old log changed")
			}
		})
	}
}

func TestVerifyUnterminated(t *testing.T) {
	t.Parallel()
	_, good := writeLog(t, 2)
	var n int
	h, err := Verify(bytes.NewReader(good[:len(good)-1]), pub(t), func(*Record, []byte) error { n++; return nil })
	if err != nil || h.Count != 2 || !h.Unterminated || h.Size != int64(len(good)-1) || n != 2 {
		t.Errorf("Verify = %+v, %v, %d records seen; want 2 records, unterminated", h, err, n)
	}
}

// writeOtherKeyLine is a line 4 after prev, signed by another key.
func writeOtherKeyLine(t *testing.T, prev string) []byte {
	rec := decision("Mallory")
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	rec.V, rec.Seq, rec.Prev, rec.Key = FormatV1, 4, prev, NewSigner(other).Name()
	line, err := encodeLine(&rec, NewSigner(other))
	if err != nil {
		t.Fatal(err)
	}
	return line
}

func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 1
	return b
}

// fullDisk is a Write that fails with ENOSPC (after writing half) while on.
func fullDisk(on *atomic.Bool) func(*os.File, []byte) (int, error) {
	return func(f *os.File, b []byte) (int, error) {
		if on.Load() {
			n, _ := f.Write(b[:len(b)/2])
			return n, syscall.ENOSPC
		}
		return f.Write(b)
	}
}

// TestRepairOnFullDisk: a torn tail or a missing newline on a full disk
// neither stops the start nor leaves an empty .torn file; the repair is
// made before the first append once there is space, and Health says the
// log is not writable until then.
func TestRepairOnFullDisk(t *testing.T) {
	t.Parallel()
	_, good := writeLog(t, 3)
	tornTail := []byte(`{"rec":{"v":1,"seq":4,"pr`)
	for _, tt := range []struct {
		name string
		log  []byte
		torn bool
	}{
		{"torn tail", append(bytes.Clone(good), tornTail...), true},
		{"missing newline", good[:len(good)-1], false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "decisions.jsonl")
			os.WriteFile(path, tt.log, 0o600)
			var full atomic.Bool
			full.Store(true)
			l, rec, err := Open(path, testKey(t), Options{Write: fullDisk(&full)})
			if err != nil {
				t.Fatalf("Open on a full disk: %v", err)
			}
			defer l.Close()
			if !errors.Is(rec.Pending, syscall.ENOSPC) || rec.TornPath != "" {
				t.Errorf("recovery %+v, want the repair pending on ENOSPC", rec)
			}
			if err := l.Health(); !errors.Is(err, ErrNotWritable) || !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("Health on a full disk = %v", err)
			}
			for range 2 {
				if _, err := l.Append(context.Background(), decision("A")); !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("append on a full disk: %v", err)
				}
			}
			if des, _ := os.ReadDir(dir); len(des) != 1 {
				t.Errorf("files in the data folder on a full disk: %v", des)
			}
			if b, _ := os.ReadFile(path); !bytes.Equal(b, tt.log) {
				t.Errorf("log changed on a full disk")
			}
			full.Store(false)
			e, err := l.Append(context.Background(), decision("B"))
			if err != nil || e[0].Record.Seq != 4 {
				t.Fatalf("append after space returned: %v, %v", e, err)
			}
			if err := l.Health(); err != nil {
				t.Errorf("Health after space returned: %v", err)
			}
			b, _ := os.ReadFile(path)
			if h, err := Verify(bytes.NewReader(b), pub(t), nil); err != nil || h.Count != 4 {
				t.Errorf("verify = %+v, %v", h, err)
			}
			saved, err := os.ReadFile(path + ".torn")
			if tt.torn && !bytes.Equal(saved, tornTail) || !tt.torn && err == nil {
				t.Errorf(".torn = %q, %v", saved, err)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	path, _ := writeLog(t, 1)
	var full atomic.Bool
	l, _, err := Open(path, testKey(t), Options{Write: fullDisk(&full)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Health(); err != nil {
		t.Fatalf("Health = %v", err)
	}
	full.Store(true)
	if _, err := l.Append(context.Background(), decision("A")); err == nil {
		t.Fatal("append on a full disk worked")
	}
	if err := l.Health(); !errors.Is(err, ErrNotWritable) {
		t.Errorf("Health after a failed append = %v", err)
	}
	if des, _ := os.ReadDir(filepath.Dir(path)); len(des) != 1 {
		t.Errorf("the probe left files: %v", des)
	}
}

// TestSignatureEncodingStrict: the signature has one text only. Edits that
// the lenient decoder accepted (an inserted CR or LF, other padding, bits
// in the unused low bits of the last character) are rejected, and so is
// any byte inserted anywhere in a signed line.
func TestSignatureEncodingStrict(t *testing.T) {
	t.Parallel()
	_, b := writeLog(t, 1)
	line := bytes.TrimSuffix(b, []byte("\n"))
	i := bytes.LastIndex(line, sigMarker) + len(sigMarker)
	sig := string(line[i : len(line)-len(lineSuffix)])
	with := func(s string) []byte {
		return append(append(bytes.Clone(line[:i]), s...), lineSuffix...)
	}
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", sig[len(sig)-3])
	tests := map[string]string{
		"CR inside":            sig[:10] + "\r" + sig[10:],
		"LF inside":            sig[:10] + "\n" + sig[10:],
		"CRLF at the end":      sig + "\r\n",
		"CR before padding":    sig[:len(sig)-2] + "\r" + sig[len(sig)-2:],
		"padding dropped":      strings.TrimRight(sig, "="),
		"one padding dropped":  sig[:len(sig)-1],
		"extra padding":        sig + "=",
		"non-zero unused bits": sig[:len(sig)-3] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[last^1]) + "==",
		"URL alphabet":         strings.NewReplacer("+", "-", "/", "_").Replace(sig),
		"space inside":         sig[:10] + " " + sig[10:],
	}
	for name, s := range tests {
		if s == sig {
			continue // e.g. no + or / in this signature
		}
		if _, err := ParseLine(with(s), pub(t)); !errors.Is(err, ErrBadJSON) && !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %q accepted (err %v)", name, s, err)
		}
	}
	for at := range len(line) + 1 {
		for _, c := range []byte{'\r', '\n', '=', ' ', 'A', '\\'} {
			m := append(append(bytes.Clone(line[:at]), c), line[at:]...)
			if _, err := ParseLine(m, pub(t)); err == nil {
				t.Fatalf("%q inserted at byte %d accepted", c, at)
			}
		}
	}
}

// TestScanFrom: a scan from an entry's At starts with that entry, and the
// positions it reports are the ones Append returned.
func TestScanFrom(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "decisions.jsonl")
	l, _, err := Open(path, testKey(t), Options{Version: FormatV1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var appended []Entry
	for i := range 5 {
		es, err := l.Append(context.Background(), decision(strings.Repeat("x", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		appended = append(appended, es...)
	}
	for from := range appended {
		var got []Entry
		if err := l.ScanFrom(appended[from].At, func(e Entry) error { got = append(got, e); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(appended)-from {
			t.Fatalf("from %d: %d entries, want %d", from, len(got), len(appended)-from)
		}
		for i, e := range got {
			w := appended[from+i]
			if e.At != w.At || !bytes.Equal(e.Line, w.Line) || e.Record.ID != w.Record.ID {
				t.Errorf("from %d, entry %d: at %+v, want %+v", from, i, e.At, w.At)
			}
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := l.ScanFrom(Head{}, func(Entry) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("ScanFrom with fn failing: %v after %d entries", err, n)
	}
}
