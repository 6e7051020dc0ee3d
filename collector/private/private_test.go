package private

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
)

func entry(t testing.TB, id, name, phone string) ledger.Entry {
	t.Helper()
	rec := ledger.Record{Type: ledger.TypeDecision, ID: id, Time: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Decision: ledger.Granted, Purposes: []string{"orders"}, Subject: &ledger.Subject{Name: name, Phone: phone}}
	sealed, ds, err := ledger.Seal(rec)
	if err != nil {
		t.Fatal(err)
	}
	rec.SD = sealed.SD
	return ledger.Entry{Record: rec, Disclosures: ds}
}

func id(n int) string { return fmt.Sprintf("%032x", n) }

func TestPutReopenErase(t *testing.T) { bothModes(t, testPutReopenErase) }

func testPutReopenErase(t *testing.T, spill bool) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "private")
	s, err := Open(dir, Options{Spill: spill, spillTail: 1})
	if err != nil {
		t.Fatal(err)
	}
	a1, b1 := entry(t, id(1), "Jürgen Weiß", "+491701234567"), entry(t, id(2), "Łukasz", "+48501234567")
	a2 := entry(t, id(3), "Jürgen Weiß", "+491701234567")
	if err := s.Put([]ledger.Entry{a1, b1, {Record: ledger.Record{ID: id(9)}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put([]ledger.Entry{a2}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(dir, Options{Spill: spill, spillTail: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sid, ids, err := s.Subject("+491701234567")
	if err != nil || !slices.Equal(ids, []string{id(1), id(3)}) {
		t.Fatalf("Subject = %s %v %v", sid, ids, err)
	}
	for _, e := range []ledger.Entry{a1, b1, a2} {
		ds, err := s.Disclosures(e.Record.ID)
		if err != nil || !slices.Equal(ds, e.Disclosures) {
			t.Errorf("Disclosures(%s) = %v, %v", e.Record.ID, ds, err)
		}
	}
	keys, _ := os.ReadFile(filepath.Join(dir, KeysFile))
	if n := bytes.Count(keys, []byte("\n")); n != 2 {
		t.Errorf("%d keys, want one per subject (2)", n)
	}

	erased, err := s.Erase([]string{id(3)}, id(100))
	if err != nil || !slices.Equal(erased, []string{id(1), id(3)}) {
		t.Fatalf("Erase = %v, %v", erased, err)
	}
	if e, ok := s.Erased(id(1)); !ok || e != id(100) {
		t.Errorf("Erased(1) = %q, %v", e, ok)
	}
	for _, r := range []string{id(1), id(3)} {
		if _, err := s.Disclosures(r); !errors.Is(err, ErrUnknown) {
			t.Errorf("Disclosures(%s) after erasure: %v", r, err)
		}
	}
	if _, _, err := s.Subject("+491701234567"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Subject after erasure: %v", err)
	}
	if ds, err := s.Disclosures(id(2)); err != nil || !slices.Equal(ds, b1.Disclosures) {
		t.Errorf("another subject's openings after erasure: %v, %v", ds, err)
	}
	if again, err := s.Erase([]string{id(3)}, id(101)); err != nil || again != nil {
		t.Errorf("second Erase = %v, %v; want nothing to do", again, err)
	}
	assertGone(t, dir, sid, a1.Disclosures)
	// A new decision of the same number is a new subject.
	if err := s.Put([]ledger.Entry{entry(t, id(4), "Jürgen Weiß", "+491701234567")}); err != nil {
		t.Fatal(err)
	}
	if sid2, _, _ := s.Subject("+491701234567"); sid2 == sid || sid2 == "" {
		t.Errorf("subject after erasure and a new decision: %q (erased %q)", sid2, sid)
	}
}

// assertGone checks that no file in dir holds sid or the key's or
// disclosures' bytes.
func assertGone(t *testing.T, dir, sid string, ds []string) {
	t.Helper()
	des, _ := os.ReadDir(dir)
	for _, de := range des {
		b, _ := os.ReadFile(filepath.Join(dir, de.Name()))
		for _, v := range append([]string{sid}, ds...) {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s still holds %q", de.Name(), v)
			}
		}
	}
}

// An erasure cut by a crash after the openings were rewritten, before
// the keys were: Open drops the key that has no openings left.
func TestEraseInterrupted(t *testing.T) { bothModes(t, testEraseInterrupted) }

func testEraseInterrupted(t *testing.T, spill bool) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, Options{Spill: spill, spillTail: 1})
	if err != nil {
		t.Fatal(err)
	}
	a, b := entry(t, id(1), "A", "+491701111111"), entry(t, id(2), "B", "+491702222222")
	if err := s.Put([]ledger.Entry{a, b}); err != nil {
		t.Fatal(err)
	}
	sidA, _, _ := s.Subject("+491701111111")
	keys, _ := os.ReadFile(filepath.Join(dir, KeysFile))
	if _, err := s.Erase([]string{id(1)}, id(100)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	os.WriteFile(filepath.Join(dir, KeysFile), keys, 0o600) // as if the second rename never came

	s, err = Open(dir, Options{Spill: spill, spillTail: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Has(id(1)) || !s.Has(id(2)) {
		t.Errorf("after the crash: has A %v, B %v; want false, true", s.Has(id(1)), s.Has(id(2)))
	}
	after, _ := os.ReadFile(filepath.Join(dir, KeysFile))
	if bytes.Contains(after, []byte(sidA)) || bytes.Count(after, []byte("\n")) != 1 {
		t.Errorf("keys after the crash were not finished off:\n%s", after)
	}
	if e, ok := s.Erased(id(1)); !ok || e != id(100) {
		t.Errorf("Erased = %q, %v", e, ok)
	}
}

func TestTornTailAndFailedSync(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fail := false
	s, err := Open(dir, Options{Sync: func(f *os.File) error {
		if fail {
			return errors.New("disk full")
		}
		return f.Sync()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put([]ledger.Entry{entry(t, id(1), "A", "+491701111111")}); err != nil {
		t.Fatal(err)
	}
	fail = true
	if err := s.Put([]ledger.Entry{entry(t, id(2), "B", "+491702222222")}); err == nil {
		t.Fatal("Put with a failing sync succeeded")
	}
	if s.Has(id(2)) {
		t.Error("a failed Put is visible")
	}
	s.Close()
	f, _ := os.OpenFile(filepath.Join(dir, OpeningsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"sid":"` + hex.EncodeToString(make([]byte, 16)) + `","id":"x`)
	f.Close()
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Has(id(1)) || s.Has(id(2)) {
		t.Error("after reopening: want A only")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.torn*")); len(m) != 0 {
		t.Errorf("torn tails kept: %v", m)
	}
}

func TestOpenRefusesForeignBox(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, _ := Open(dir, Options{})
	s.Put([]ledger.Entry{entry(t, id(1), "A", "+491701111111")})
	s.Close()
	b, _ := os.ReadFile(filepath.Join(dir, OpeningsFile))
	os.WriteFile(filepath.Join(dir, OpeningsFile), bytes.Replace(b, []byte(id(1)), []byte(id(7)), 1), 0o600)
	if _, err := Open(dir, Options{}); err == nil {
		t.Error("a box moved to another record opened")
	}
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if s, err := Open(filepath.Join(dir, "none"), Options{ReadOnly: true}); err != nil || s.Has(id(1)) {
		t.Fatalf("read-only open of a missing store: %v", err)
	}
	s, _ := Open(dir, Options{})
	a := entry(t, id(1), "A", "+491701111111")
	s.Put([]ledger.Entry{a})
	ro, err := Open(dir, Options{ReadOnly: true}) // while the writer holds it
	if err != nil {
		t.Fatal(err)
	}
	if ds, err := ro.Disclosures(id(1)); err != nil || !slices.Equal(ds, a.Disclosures) {
		t.Errorf("read-only Disclosures = %v, %v", ds, err)
	}
	if err := ro.Put([]ledger.Entry{a}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only Put: %v", err)
	}
	ro.Close()
	s.Close()
}

// TestLinesAsJSON: the lines Put writes by hand are json.Marshal's bytes
// (the files stay what the package doc says, for any reader).
func TestLinesAsJSON(t *testing.T) {
	t.Parallel()
	for _, ol := range []openingLine{
		{SID: "0123456789abcdef0123456789abcdef", ID: "fedcba9876543210fedcba9876543210", Nonce: []byte("123456789012"), Box: []byte{0, 1, 2, 0xff, 0xfe}},
		{SID: "0123456789abcdef0123456789abcdef", ID: "not \"hex\" <id>", Nonce: []byte("123456789012"), Box: []byte("box")},
		{ID: "fedcba9876543210fedcba9876543210", Erased: "0123456789abcdef0123456789abcdef"},
	} {
		want, _ := json.Marshal(ol)
		if got := ol.marshal(); !bytes.Equal(got, want) {
			t.Errorf("opening line %s, want %s", got, want)
		}
	}
	for _, kl := range []keyLine{{SID: "0123456789abcdef0123456789abcdef", Key: bytes.Repeat([]byte{0xfb}, 32)}, {SID: "X\"", Key: []byte{1}}} {
		want, _ := json.Marshal(kl)
		if got := kl.marshal(); !bytes.Equal(got, want) {
			t.Errorf("key line %s, want %s", got, want)
		}
	}
	for _, ds := range [][]string{nil, {}, {"WyJzYWx0IiwibmFtZSIsIkrDvHJnZW4iXQ", "a-b_c"}, {"not base64 \"<>\""}} {
		want, _ := json.Marshal(ds)
		if got, err := marshalStrings(ds); err != nil || !bytes.Equal(got, want) {
			t.Errorf("marshalStrings(%q) = %s, %v; want %s", ds, got, err, want)
		}
	}
}

// TestOrphansKeepTombstones: finishing off openings whose key is gone
// (a batch whose key never got durable) keeps the tombstones of earlier
// erasures, so Erased still names the erasure of those records.
func TestOrphansKeepTombstones(t *testing.T) { bothModes(t, testOrphansKeepTombstones) }

func testOrphansKeepTombstones(t *testing.T, spill bool) {
	t.Parallel()
	dir := t.TempDir()
	s, _ := Open(dir, Options{Spill: spill, spillTail: 1})
	if err := s.Put([]ledger.Entry{entry(t, id(1), "A", "+491701111111"), entry(t, id(2), "B", "+491702222222")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Erase([]string{id(1)}, id(100)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// An opening line of a subject whose key line never got durable.
	f, _ := os.OpenFile(filepath.Join(dir, OpeningsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"sid":"` + id(77) + `","id":"` + id(3) + `","nonce":"AAAAAAAAAAAAAAAA","box":"AAAA"}` + "\n")
	f.Close()
	s, err := Open(dir, Options{Spill: spill, spillTail: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if e, ok := s.Erased(id(1)); !ok || e != id(100) {
		t.Errorf("Erased(1) after finishing off an orphan = %q, %v; want %s", e, ok, id(100))
	}
	if s.Has(id(3)) || !s.Has(id(2)) {
		t.Errorf("has the orphan %v, B %v; want false, true", s.Has(id(3)), s.Has(id(2)))
	}
	b, _ := os.ReadFile(filepath.Join(dir, OpeningsFile))
	if bytes.Contains(b, []byte(id(77))) {
		t.Error("the orphan's line is still there")
	}
}

// bothModes runs test with the store's tables in memory and spilled to a
// file (Options.Spill).
func bothModes(t *testing.T, test func(t *testing.T, spill bool)) {
	for _, spill := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory", true: "spilled"}[spill], func(t *testing.T) { test(t, spill) })
	}
}
