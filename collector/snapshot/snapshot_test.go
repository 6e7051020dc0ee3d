package snapshot

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/chatconsent/chatconsent/collector/ledger"
)

func testKey() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32)) }

func testState() *State {
	return &State{
		Head: ledger.Head{Count: 3, Hash: "abc123", Size: 300}, Last: 200, V1: 1, V2: 2,
		Backlog:  &ledger.Head{Count: 1, Hash: "def", Size: 100},
		Erasures: []Erasure{{ID: "e1", Erased: []string{"a", "b"}}, {ID: "e2"}},
		Index:    []byte("index bytes"),
		Private:  []byte("private store state"),
	}
}

// TestForm1: a snapshot of the first form (no private store state) still
// decodes, with Private nil.
func TestForm1(t *testing.T) {
	t.Parallel()
	st := testState()
	st.Private = nil
	b := encode(st, testKey(), 1)
	if !bytes.HasPrefix(b, []byte("chatconsent snapshot 1\n")) {
		t.Fatalf("form 1 starts %q", b[:24])
	}
	got, err := Decode(b, testKey().Public().(ed25519.PublicKey))
	if err != nil || !reflect.DeepEqual(got, st) {
		t.Fatalf("Decode = %+v, %v; want %+v", got, err, st)
	}
	for n := range len(b) {
		if _, err := Decode(b[:n], testKey().Public().(ed25519.PublicKey)); err == nil {
			t.Fatalf("the first %d of %d bytes of form 1 decoded", n, len(b))
		}
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, st := range []*State{testState(), {Head: ledger.Head{Count: 1, Hash: "h", Size: 10}, Index: []byte{}, Private: []byte{}}} {
		b := Encode(st, testKey())
		got, err := Decode(b, testKey().Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, st) {
			t.Errorf("decoded %+v, want %+v", got, st)
		}
		if !bytes.Equal(Encode(got, testKey()), b) {
			t.Error("decoded state encodes to other bytes")
		}
	}
}

// TestMangled (as x/mod/sumdb/note's tests): every single-byte change and
// every truncation of a snapshot is refused, and so is another key's.
func TestMangled(t *testing.T) {
	t.Parallel()
	pub := testKey().Public().(ed25519.PublicKey)
	b := Encode(testState(), testKey())
	for i := range b {
		for _, bit := range []byte{1, 0x80} {
			m := bytes.Clone(b)
			m[i] ^= bit
			if _, err := Decode(m, pub); err == nil {
				t.Fatalf("byte %d ^ %#x: decoded", i, bit)
			}
		}
	}
	for n := range len(b) {
		if _, err := Decode(b[:n], pub); err == nil {
			t.Fatalf("the first %d of %d bytes decoded", n, len(b))
		}
	}
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32)).Public().(ed25519.PublicKey)
	if _, err := Decode(b, other); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("another key: %v, want ErrBadSignature", err)
	}
	// Well signed but not well formed: trailing bytes in the body.
	body := append(bytes.Clone(b[:len(b)-ed25519.SignatureSize]), 0)
	bad := append(body, ed25519.Sign(testKey(), signed(body, 3))...)
	if _, err := Decode(bad, pub); !errors.Is(err, ErrFormat) {
		t.Fatalf("trailing byte: %v, want ErrFormat", err)
	}
}

// TestCheck: the snapshot's line must be where it says, with its hash.
func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := []byte("{\"one\"}\n{\"two\"}\n{\"three\"}\n")
	path := filepath.Join(dir, "decisions.jsonl")
	if err := os.WriteFile(path, log, 0o600); err != nil {
		t.Fatal(err)
	}
	st := &State{Head: ledger.Head{Count: 2, Hash: ledger.LineHash([]byte(`{"two"}`)), Size: 16}, Last: 8}
	if err := Check(path, st); err != nil {
		t.Fatalf("good snapshot: %v", err)
	}
	for name, mod := range map[string]func(*State){
		"other hash":    func(s *State) { s.Head.Hash = ledger.LineHash([]byte(`{"one"}`)) },
		"shifted":       func(s *State) { s.Last, s.Head.Size = 9, 17 },
		"two lines":     func(s *State) { s.Last = 0 },
		"beyond":        func(s *State) { s.Last, s.Head.Size = 26, 40 },
		"no line start": func(s *State) { s.Last = 9; s.Head.Hash = ledger.LineHash([]byte(`"two"}`)) },
	} {
		s := *st
		mod(&s)
		if err := Check(path, &s); !errors.Is(err, ErrOtherLog) {
			t.Errorf("%s: %v, want ErrOtherLog", name, err)
		}
	}
}

func TestWriteRead(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "snapshot")
	if _, err := Read(path, testKey().Public().(ed25519.PublicKey)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing snapshot: %v", err)
	}
	if err := Write(path, testState(), testKey()); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot file: %v %v", fi.Mode(), err)
	}
	if st, err := Read(path, testKey().Public().(ed25519.PublicKey)); err != nil || st.Head != testState().Head {
		t.Fatalf("read back: %+v %v", st, err)
	}
	if err := Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("snapshot still there after Remove")
	}
	if err := Remove(path); err != nil {
		t.Fatalf("Remove of a missing snapshot: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	pub := testKey().Public().(ed25519.PublicKey)
	f.Add(Encode(testState(), testKey()))
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Signatures make random bytes fail early: re-sign the body so the
		// fuzzer reaches the body's decoder.
		if len(b) >= len(magic) && bytes.HasPrefix(b, []byte(magic)) {
			b = append(bytes.Clone(b), ed25519.Sign(testKey(), signed(b, 3))...)
		}
		st, err := Decode(b, pub)
		if err != nil {
			return
		}
		// Varints have more than one form: what decodes encodes to a
		// snapshot that decodes to the same state.
		b2 := Encode(st, testKey())
		st2, err := Decode(b2, pub)
		if err != nil || !reflect.DeepEqual(st, st2) {
			t.Fatalf("decoded %+v, its encoding decodes to %+v, %v", st, st2, err)
		}
	})
}

var update = flag.Bool("update", false, "write testdata/form3.snapshot (the current form) again")

// TestReleasedForms: snapshots as earlier versions wrote them (testdata,
// made once from testState) still decode to their state, and the current
// form is byte for byte its golden file (-update writes it).
func TestReleasedForms(t *testing.T) {
	pub := testKey().Public().(ed25519.PublicKey)
	cur := Encode(testState(), testKey())
	if *update {
		if err := os.WriteFile("testdata/form3.snapshot", cur, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := os.ReadFile("testdata/form3.snapshot"); err != nil || !bytes.Equal(b, cur) {
		t.Errorf("Encode differs from testdata/form3.snapshot (%v): a new form needs a new magic line and file", err)
	}
	form1 := testState()
	form1.Private = nil
	for file, want := range map[string]*State{"testdata/form1.snapshot": form1, "testdata/form2.snapshot": testState(), "testdata/form3.snapshot": testState()} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b, pub)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Decode = %+v, %v; want %+v", file, got, err, want)
		}
	}
}

// opened reads an opened snapshot back into a State (its sections read
// whole), for comparing with Decode's.
func opened(t *testing.T, f *File) *State {
	t.Helper()
	st := f.State
	for _, p := range []struct {
		sec *io.SectionReader
		to  *[]byte
	}{{f.Index(), &st.Index}, {f.Private(), &st.Private}} {
		b, err := io.ReadAll(p.sec)
		if err != nil {
			t.Fatal(err)
		}
		*p.to = b
	}
	return &st
}

// TestOpen: Open (the start's way: signature by digest, the two big
// parts as streams) gives what Decode gives, for every released form;
// and refuses what Decode refuses: every single-byte change and every
// cut of the current form, and another key.
func TestOpen(t *testing.T) {
	t.Parallel()
	pub := testKey().Public().(ed25519.PublicKey)
	dir := t.TempDir()
	path := filepath.Join(dir, "snapshot")
	for _, file := range []string{"testdata/form1.snapshot", "testdata/form2.snapshot", "testdata/form3.snapshot"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Decode(b, pub)
		if err != nil {
			t.Fatal(err)
		}
		if want.Private == nil {
			want.Private = []byte{} // a form-1 snapshot has none: an empty stream
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := Open(path, pub)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if got := opened(t, f); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Open gives %+v, Decode %+v", file, got, want)
		}
		f.Close()
	}
	b := Encode(testState(), testKey())
	refused := func(what string, m []byte, key ed25519.PublicKey) {
		t.Helper()
		if err := os.WriteFile(path, m, 0o600); err != nil {
			t.Fatal(err)
		}
		if f, err := Open(path, key); err == nil {
			f.Close()
			t.Fatalf("%s: opened", what)
		}
	}
	for i := range b {
		m := bytes.Clone(b)
		m[i] ^= 0x80
		refused(fmt.Sprintf("byte %d changed", i), m, pub)
	}
	for n := range len(b) {
		refused(fmt.Sprintf("cut at %d", n), b[:n], pub)
	}
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32)).Public().(ed25519.PublicKey)
	refused("another key", b, other)
	if _, err := Open(filepath.Join(dir, "none"), pub); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
}

// TestStream: a snapshot whose parts are made while it is written has
// Encode's bytes; the index is made before the private state; a part's
// error leaves the old file.
func TestStream(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "snapshot")
	want := testState()
	var order []string
	st := *want
	st.Index, st.Private = nil, nil
	part := func(name string, b []byte) func(io.Writer) error {
		return func(w io.Writer) error {
			order = append(order, name)
			for i := range b { // a byte at a time, as a stream writer might
				if _, err := w.Write(b[i : i+1]); err != nil {
					return err
				}
			}
			return nil
		}
	}
	parts := Parts{Index: part("index", want.Index), Private: part("private", want.Private)}
	if err := Stream(path, &st, parts, testKey()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, Encode(want, testKey())) {
		t.Fatalf("streamed snapshot differs from Encode's (%v)", err)
	}
	if fmt.Sprint(order) != "[index private]" {
		t.Errorf("parts made in the order %v", order)
	}
	boom := errors.New("boom")
	parts.Private = func(io.Writer) error { return boom }
	if err := Stream(path, &st, parts, testKey()); !errors.Is(err, boom) {
		t.Fatalf("Stream with a failing part: %v", err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, got) {
		t.Error("a failed Stream changed the snapshot")
	}
	if des, _ := os.ReadDir(filepath.Dir(path)); len(des) != 1 {
		t.Errorf("beside the snapshot: %v (the parts' files must have no names)", des)
	}
	f, err := Open(path, testKey().Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if b, _ := io.ReadAll(f.Private()); !bytes.Equal(b, want.Private) {
		t.Errorf("private part read back: %q", b)
	}
}
