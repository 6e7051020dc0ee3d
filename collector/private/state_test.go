package private

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unsafe"

	"github.com/chatconsent/chatconsent/collector/ledger"
)

// view is what a store answers, for comparing two opens of one folder.
func view(t *testing.T, s *Store, phones, ids []string) string {
	t.Helper()
	out := ""
	for _, p := range phones {
		sid, rs, err := s.Subject(p)
		out += fmt.Sprintf("subject %s: %s %v %v\n", p, sid, rs, err)
	}
	for _, id := range ids {
		ds, err := s.Disclosures(id)
		e, erased := s.Erased(id)
		out += fmt.Sprintf("record %s: has %v %v %v erased %q %v\n", id, s.Has(id), ds, err, e, erased)
	}
	return out
}

// TestStateResume: a store opened from its state, with lines appended
// after the state (a new person, a returning one), answers exactly as
// one that read its files whole, and goes on taking appends.
func TestStateResume(t *testing.T) { bothModes(t, testStateResume) }

func testStateResume(t *testing.T, spill bool) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, Options{Spill: spill, spillTail: 1})
	if err != nil {
		t.Fatal(err)
	}
	odd := entry(t, "not-hex id", "Odd", "+491703333333")
	if err := s.Put([]ledger.Entry{entry(t, id(1), "A", "+491701111111"), entry(t, id(2), "B", "+491702222222"), odd}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Erase([]string{id(2)}, id(100)); err != nil {
		t.Fatal(err)
	}
	state, err := s.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	state1, err := s.appendState(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	state2, err := s.appendState(nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(state2) != len(state)+2*16 { // A and Odd; B was erased
		t.Errorf("version 2 state is %d bytes, want version 3's %d and 16 per subject (2)", len(state2), len(state))
	}
	if err := s.Put([]ledger.Entry{entry(t, id(3), "C", "+491704444444"), entry(t, id(4), "A", "+491701111111")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	phones := []string{"+491701111111", "+491702222222", "+491703333333", "+491704444444", "+491709999999"}
	ids := []string{id(1), id(2), "not-hex id", id(3), id(4), id(5)}

	whole, err := Open(dir, Options{Spill: spill, spillTail: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := view(t, whole, phones, ids)
	whole.Close()
	resumed := func(what string, opts Options) *Store {
		t.Helper()
		s, err := Open(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Resumed() {
			t.Fatalf("%s refused: %v", what, s.StateRefused())
		}
		if got := view(t, s, phones, ids); got != want {
			t.Errorf("from %s:\n%s\nwhole:\n%s", what, got, want)
		}
		return s
	}
	// A state of version 1 (before 2 Dec 2026: no order of the sorted
	// maps) is still read; the state also as a stream of a file's section.
	resumed("the version-1 state", Options{From: state1, Spill: spill, spillTail: 1}).Close()
	// Version 2 (2 Dec 2026): the subjects' ids, no longer kept.
	resumed("the version-2 state", Options{From: state2, Spill: spill, spillTail: 1}).Close()
	resumed("the state as a stream", Options{FromStream: io.NewSectionReader(bytes.NewReader(state), 0, int64(len(state)))}).Close()
	from := resumed("the state", Options{From: state, Spill: spill, spillTail: 1})
	if _, rs, _ := from.Subject("+491701111111"); !slices.Equal(rs, []string{id(1), id(4)}) {
		t.Errorf("returning person's records: %v", rs)
	}
	// It goes on: an append to a person of the state, and one more state.
	if err := from.Put([]ledger.Entry{entry(t, id(6), "C", "+491704444444")}); err != nil {
		t.Fatal(err)
	}
	stateAfter, err := from.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	from.Close()
	again, err := Open(dir, Options{From: stateAfter, Spill: spill, spillTail: 1})
	if err != nil || !again.Resumed() {
		t.Fatalf("second state: %v, %v", err, again.StateRefused())
	}
	defer again.Close()
	if _, rs, _ := again.Subject("+491704444444"); !slices.Equal(rs, []string{id(3), id(6)}) {
		t.Errorf("records after the second state: %v", rs)
	}
}

// TestStateRefused: a state that does not fit the files (they were
// rewritten by an erasure since, or cut) is not used; the files are read
// whole and nothing is lost.
func TestStateRefused(t *testing.T) { bothModes(t, testStateRefused) }

func testStateRefused(t *testing.T, spill bool) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string, s *Store)
	}{
		{"erased after", func(t *testing.T, _ string, s *Store) {
			if _, err := s.Erase([]string{id(1)}, id(100)); err != nil {
				t.Fatal(err)
			}
		}},
		{"openings cut", func(t *testing.T, dir string, s *Store) {
			s.Close()
			p := filepath.Join(dir, OpeningsFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o600)
		}},
		{"keys replaced", func(t *testing.T, dir string, s *Store) {
			s.Close()
			p := filepath.Join(dir, KeysFile)
			b, _ := os.ReadFile(p)
			b[len(b)-10] ^= 1 // in the last line, which the state names
			os.WriteFile(p, b, 0o600)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s, _ := Open(dir, Options{Spill: spill, spillTail: 1})
			if err := s.Put([]ledger.Entry{entry(t, id(1), "A", "+491701111111"), entry(t, id(2), "B", "+491702222222")}); err != nil {
				t.Fatal(err)
			}
			state, _ := s.AppendBinary(nil)
			tc.change(t, dir, s)
			s.Close()
			r, err := Open(dir, Options{From: state, Spill: spill, spillTail: 1})
			if err != nil {
				if tc.name == "keys replaced" {
					return // the whole read refuses a changed key line: right too
				}
				t.Fatal(err)
			}
			if tc.name == "keys replaced" {
				t.Fatal("a store whose key line was changed opened")
			}
			defer r.Close()
			if !errors.Is(r.StateRefused(), ErrState) || r.Resumed() {
				t.Errorf("StateRefused = %v, want ErrState", r.StateRefused())
			}
			if tc.name == "erased after" && (r.Has(id(1)) || !r.Has(id(2))) {
				t.Errorf("after the erasure: has 1 %v, 2 %v", r.Has(id(1)), r.Has(id(2)))
			}
		})
	}
}

// TestStateMangled: every cut of a state is refused, and no change of a
// byte makes Open panic (a state is signed inside the collector's
// snapshot; this is about never crashing on one).
func TestStateMangled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, _ := Open(dir, Options{})
	s.Put([]ledger.Entry{entry(t, id(1), "A", "+491701111111"), entry(t, "odd", "B", "0170 22"), entry(t, id(3), "A", "+491701111111")})
	s.Erase([]string{"odd"}, id(100))
	state, _ := s.AppendBinary(nil)
	s.Close()
	for n := range len(state) {
		r, err := Open(dir, Options{From: state[:n]})
		if err != nil {
			t.Fatalf("cut at %d: %v", n, err)
		}
		if !errors.Is(r.StateRefused(), ErrState) {
			t.Errorf("state cut at %d of %d was used", n, len(state))
		}
		r.Close()
	}
	for i := range state {
		b := slices.Clone(state)
		b[i] ^= 0x41
		if r, err := Open(dir, Options{From: b}); err == nil {
			r.Close()
		}
	}
}

// FuzzState: no bytes make a start from a state panic.
func FuzzState(f *testing.F) {
	dir := f.TempDir()
	s, _ := Open(dir, Options{})
	s.Put([]ledger.Entry{entry(f, id(1), "A", "+491701111111")})
	state, _ := s.AppendBinary(nil)
	s.Close()
	f.Add(state)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := Open(dir, Options{From: b, ReadOnly: true}); err == nil {
			r.Close()
		}
	})
}

// TestSizes: what the store keeps per person and per record (held for
// the collector's whole life, one of each per contact): in memory the
// number and the id, in the spill file where the lines are.
func TestSizes(t *testing.T) {
	var tb tables
	if n := unsafe.Sizeof(tb.subPhone[0]) + unsafe.Sizeof(tb.recID[0]); n != 24 {
		t.Errorf("a person with one record takes %d bytes of memory (with the orders' 8 more), want 24", n)
	}
	if keyLocs.Size != 12 || boxLocs.Size != 16 {
		t.Errorf("spilled rows of %d and %d bytes, want 12 and 16", keyLocs.Size, boxLocs.Size)
	}
	for _, l := range []keyLoc{{0, 0}, {1<<62 - 1, 1<<32 - 1}, {12345, 678}} {
		b := make([]byte, keyLocs.Size)
		if keyLocs.Put(b, l); keyLocs.Get(b) != l {
			t.Errorf("keyLoc %v comes back as %v", l, keyLocs.Get(b))
		}
	}
	for _, l := range []boxLoc{{0, 0, 0}, {1<<62 - 1, 1<<32 - 1, 1<<31 - 1}, {12345, 678, 9}} {
		b := make([]byte, boxLocs.Size)
		if boxLocs.Put(b, l); boxLocs.Get(b) != l {
			t.Errorf("boxLoc %v comes back as %v", l, boxLocs.Get(b))
		}
	}
}

// TestEraseMemory: after erasures (one person with two records, then one
// with an odd id and number, with a tombstone already in the file), the
// store's memory is exactly what a whole read of its files gives, and
// appends go on at the right places.
func TestEraseMemory(t *testing.T) { bothModes(t, testEraseMemory) }

func testEraseMemory(t *testing.T, spill bool) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, Options{Spill: spill, spillTail: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Put([]ledger.Entry{entry(t, id(1), "A", "+491701111111"), entry(t, id(2), "B", "+491702222222"),
		entry(t, "odd id", "C", "0170 33"), entry(t, id(4), "A", "+491701111111"), entry(t, id(5), "D", "+491705555555")}); err != nil {
		t.Fatal(err)
	}
	same := func(when string) {
		t.Helper()
		mem, err := s.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		var streamed bytes.Buffer
		if err := s.WriteBinary(&streamed); err != nil || !bytes.Equal(streamed.Bytes(), mem) {
			t.Errorf("%s: WriteBinary (%v) differs from AppendBinary", when, err)
		}
		whole, err := Open(dir, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer whole.Close()
		w := Store{tables: whole.tables, keys: s.keys, openings: s.openings}
		disk, _ := w.AppendBinary(nil)
		if !slices.Equal(mem, disk) {
			t.Errorf("%s: the store's memory differs from a whole read of its files", when)
		}
		for _, r := range []string{id(1), id(2), "odd id", id(4), id(5), id(6)} {
			a, aerr := s.Disclosures(r)
			b, berr := whole.Disclosures(r)
			if !slices.Equal(a, b) || (aerr == nil) != (berr == nil) {
				t.Errorf("%s: Disclosures(%s) = %v %v, whole read %v %v", when, r, a, aerr, b, berr)
			}
		}
	}
	if got, err := s.Erase([]string{id(4)}, id(100)); err != nil || !slices.Equal(got, []string{id(1), id(4)}) {
		t.Fatalf("Erase = %v, %v", got, err)
	}
	same("after the first erasure")
	if got, err := s.Erase([]string{"odd id"}, id(101)); err != nil || !slices.Equal(got, []string{"odd id"}) {
		t.Fatalf("Erase = %v, %v", got, err)
	}
	same("after the second erasure")
	if err := s.Put([]ledger.Entry{entry(t, id(6), "B", "+491702222222")}); err != nil {
		t.Fatal(err)
	}
	same("after an append")
	if _, rs, _ := s.Subject("+491702222222"); !slices.Equal(rs, []string{id(2), id(6)}) {
		t.Errorf("B's records after the erasures: %v", rs)
	}
	if e, ok := s.Erased(id(1)); !ok || e != id(100) {
		t.Errorf("Erased(1) = %q %v", e, ok)
	}
	// Two people in one rewrite, each by its own erasure; a third erasure
	// naming one of them again erases nothing more.
	got, err := s.EraseAll([]Erasure{{ID: id(102), Records: []string{id(2)}}, {ID: id(103), Records: []string{id(5)}}, {ID: id(104), Records: []string{id(6)}}})
	want := map[string][]string{id(102): {id(2), id(6)}, id(103): {id(5)}}
	if err != nil || len(got) != len(want) || !slices.Equal(got[id(102)], want[id(102)]) || !slices.Equal(got[id(103)], want[id(103)]) {
		t.Fatalf("EraseAll = %v, %v; want %v", got, err, want)
	}
	same("after erasing two people at once")
	for r, e := range map[string]string{id(2): id(102), id(6): id(102), id(5): id(103), id(4): id(100)} {
		if got, ok := s.Erased(r); !ok || got != e {
			t.Errorf("Erased(%s) = %q %v, want %s", r, got, ok, e)
		}
	}
	if _, _, err := s.Subject("+491705555555"); !errors.Is(err, ErrUnknown) {
		t.Errorf("D after EraseAll: %v, want ErrUnknown", err)
	}
}
