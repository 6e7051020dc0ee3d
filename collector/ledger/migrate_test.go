package ledger

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Two people in a version-1 log: Anna (a decision, and a withdrawal the
// owner recorded with a note), Bernd (an invite and a decision).
var (
	annaName, annaPhone, annaMail = "Anna Alt", "+491701111111", "anna@example.org"
	berndName, berndPhone         = "Bernd Brot", "+491702222222"
	annaNote                      = "Anna called at 14:05"
	annaIDs                       = map[string]bool{id32(1): true, id32(3): true}
)

func id32(n int) string { return strings.Repeat("0", 31) + string(rune('0'+n)) }

func v1People() []Record {
	t0 := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	exp := t0.Add(30 * 24 * time.Hour)
	tv := strings.Repeat("cd", 32)
	return []Record{
		{Type: TypeDecision, ID: id32(1), Time: t0, Decision: Granted, Purposes: []string{"orders"},
			Subject: &Subject{Name: annaName, Phone: annaPhone, Email: annaMail}, Lang: "de", TextVersion: tv, ClientIP: "203.0.113.0/24"},
		{Type: TypeInvite, ID: id32(2), Time: t0.Add(time.Hour), Subject: &Subject{Phone: berndPhone}, Token: "dG9rZW4tZm9yLWJlcm5k", Expires: &exp},
		{Type: TypeWithdrawal, ID: id32(3), Time: t0.Add(2 * time.Hour), Ref: id32(1), Decision: Withdrawn, Purposes: []string{"orders"},
			Lang: "de", TextVersion: tv, Via: "phone", By: "owner", Note: annaNote},
		{Type: TypeDecision, ID: id32(4), Time: t0.Add(3 * time.Hour), Decision: Granted, Purposes: []string{"orders", "news"},
			Subject: &Subject{Name: berndName, Phone: berndPhone}, Lang: "en", TextVersion: tv, Invite: id32(2)},
	}
}

// v1PeopleLog writes v1People as a version-1 log (deterministic bytes).
func v1PeopleLog(t testing.TB) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "decisions.jsonl")
	l, _, err := Open(path, testKey(t), Options{Version: FormatV1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), v1People()...); err != nil {
		t.Fatal(err)
	}
	l.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var migrationTime = time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)

func migrate(t testing.TB, log []byte) (*Migration, []byte) {
	t.Helper()
	s := NewSigner(testKey(t))
	m, err := Migrate(log, s, NewVerifier(pub(t)), strings.Repeat("e", 32), migrationTime, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := bytes.Clone(log)
	for _, l := range m.Lines {
		out = append(append(out, l...), '\n')
	}
	return m, out
}

// forms returns s and its hex and base64 forms, for byte-wise searches.
func forms(s string) []string {
	return []string{s, hex.EncodeToString([]byte(s)), base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s))}
}

func TestMigrate(t *testing.T) {
	log := v1PeopleLog(t)
	m, out := migrate(t, log)
	if m.V1 != 4 || m.V1Personal != 4 || len(m.Lines) != 5 {
		t.Fatalf("V1 %d, V1Personal %d, lines %d", m.V1, m.V1Personal, len(m.Lines))
	}
	var recs []*Record
	h, err := Verify(bytes.NewReader(out), pub(t), func(rec *Record, _ []byte) error { recs = append(recs, rec); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if h != m.Head || h.Count != 9 {
		t.Fatalf("head %+v, planned %+v", h, m.Head)
	}
	mig := recs[4]
	if mig.Type != TypeMigration || mig.History != 4 || mig.Migrated != m.History.Hash || mig.Prev != m.History.Hash {
		t.Fatalf("migration record %+v", mig)
	}
	// The re-records hold no personal data, and open to the history's.
	tail := bytes.Join(m.Lines, nil)
	for _, v := range []string{annaName, annaPhone, annaMail, annaNote, berndName, berndPhone, "203.0.113", "dG9rZW4"} {
		for _, f := range forms(v) {
			if bytes.Contains(tail, []byte(f)) {
				t.Errorf("migration lines hold %q (%q)", v, f)
			}
		}
	}
	for i, e := range m.Entries {
		want := v1People()[i]
		re := recs[5+i]
		if re.ID != want.ID || re.Type != want.Type || !re.Time.Equal(want.Time) || re.Migrated != LineHash(bytes.Split(log, []byte("\n"))[i]) {
			t.Errorf("re-record %d: %+v", i, re)
		}
		opened := *re
		if err := Disclose(&opened, e.Disclosures); err != nil {
			t.Fatalf("re-record %d: %v", i, err)
		}
		if want.Type == TypeWithdrawal {
			want.Subject = v1People()[0].Subject // committed under the decision's number
		}
		if !samePersonal(&opened, &want) {
			t.Errorf("re-record %d opens to %+v, want %+v", i, opened.Subject, want.Subject)
		}
	}
	// The planned entries are what the private store is given: opened.
	if s := m.Entries[0].Record.Subject; s == nil || s.Phone != annaPhone || m.Entries[0].Record.SD == nil {
		t.Errorf("entry 0 = %+v", m.Entries[0].Record)
	}
}

func TestMigrateKnownOpenings(t *testing.T) {
	log := v1PeopleLog(t)
	first, _ := migrate(t, log)
	known := func(id string) ([]string, bool) {
		for _, e := range first.Entries {
			if e.Record.ID == id {
				return e.Disclosures, true
			}
		}
		return nil, false
	}
	again, err := Migrate(log, NewSigner(testKey(t)), NewVerifier(pub(t)), strings.Repeat("e", 32), migrationTime, known)
	if err != nil {
		t.Fatal(err)
	}
	for i := range first.Entries {
		if !slicesEqual(first.Entries[i].Record.SD, again.Entries[i].Record.SD) {
			t.Errorf("entry %d: the openings kept were not used", i)
		}
	}
	// Openings of other values are refused, naming the record.
	wrong := func(id string) ([]string, bool) {
		if id == id32(4) {
			return first.Entries[0].Disclosures, true
		}
		return nil, false
	}
	_, err = Migrate(log, NewSigner(testKey(t)), NewVerifier(pub(t)), strings.Repeat("e", 32), migrationTime, wrong)
	if err == nil || !strings.Contains(err.Error(), id32(4)) {
		t.Fatalf("other openings: err = %v", err)
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

func TestMigrateRefuses(t *testing.T) {
	v1 := v1PeopleLog(t)
	_, migrated := migrate(t, v1)
	v2, err := os.ReadFile(filepath.Join("testdata", "v2.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	broken := bytes.Replace(v1, []byte(annaName), []byte("Anna Alx"), 1)
	for _, tc := range []struct {
		name string
		log  []byte
		want error
	}{
		{"empty", nil, ErrEmpty},
		{"migrated", migrated, ErrMigrated},
		{"v2", v2, ErrNothingToMigrate},
		{"broken", broken, ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Migrate(tc.log, NewSigner(testKey(t)), NewVerifier(pub(t)), strings.Repeat("e", 32), migrationTime, nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// The redacted golden: the log of v1People, migrated, with Anna's two
// version-1 lines redacted (as erase leaves it). Regenerate with -update.
func TestRedactedV1Golden(t *testing.T) {
	golden := filepath.Join("testdata", "v1-redacted.jsonl")
	if *update {
		_, out := migrate(t, v1PeopleLog(t))
		red, n, err := Redact(out, NewVerifier(pub(t)), annaIDs)
		if err != nil || n != 2 {
			t.Fatalf("redact: %d, %v", n, err)
		}
		if err := os.WriteFile(golden, red, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	// The history lines that are not Anna's are the version-1 lines,
	// byte for byte; hers are as long as they were.
	v1 := bytes.SplitAfter(v1PeopleLog(t), []byte("\n"))
	got := bytes.SplitAfter(b, []byte("\n"))
	for i := range 4 {
		if i == 0 || i == 2 {
			if !IsRedacted(got[i]) || len(got[i]) != len(v1[i]) {
				t.Errorf("line %d is not Anna's line redacted: %s", i+1, got[i])
			}
			continue
		}
		if !bytes.Equal(got[i], v1[i]) {
			t.Errorf("line %d changed", i+1)
		}
	}
	ls, err := VerifyLines(bytes.NewReader(b), pub(t))
	if err != nil {
		t.Fatal(err)
	}
	if ls.Redacted != 2 || ls.Head.Count != 9 || ls.Head.Size != int64(len(b)) {
		t.Fatalf("redacted %d, head %+v", ls.Redacted, ls.Head)
	}
	for _, v := range []string{annaName, annaPhone, annaMail, annaNote, "203.0.113"} {
		for _, f := range forms(v) {
			if bytes.Contains(b, []byte(f)) {
				t.Errorf("the redacted log holds %q (%q)", v, f)
			}
		}
	}
	if !bytes.Contains(b, []byte(berndName)) {
		t.Error("Bernd's line (not erased) lost its clear text")
	}
	// Anna's receipt (her version-1 line) still witnesses the log.
	if _, err := ls.Witness(v1[0], pub(t)); err != nil {
		t.Errorf("Anna's receipt line: %v", err)
	}
	// Redacting again changes nothing.
	if again, n, err := Redact(b, NewVerifier(pub(t)), annaIDs); err != nil || n != 0 || !bytes.Equal(again, b) {
		t.Errorf("second redaction: %d, %v", n, err)
	}
}

// Every byte flip of a redacted line, and every truncation, fails verify
// naming that line (a redacted line is attested by its hash only: the next
// line's prev and its re-record's migrated).
func TestMangledRedactedLineRejected(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "v1-redacted.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	for _, ln := range []int{1, 3} {
		line := lines[ln-1]
		body := line[:len(line)-1]
		check := func(what string, m []byte) {
			t.Helper()
			log := bytes.Join(append(append(append([][]byte{}, lines[:ln-1]...), m), lines[ln:]...), nil)
			_, err := Verify(bytes.NewReader(log), pub(t), nil)
			var le *LineError
			if !errors.As(err, &le) || le.Line != ln {
				t.Fatalf("line %d, %s: err = %v", ln, what, err)
			}
		}
		for i := range body {
			for _, bit := range []byte{0x01, 0x20, 0x80} {
				m := bytes.Clone(line)
				m[i] ^= bit
				check("flip", m)
			}
		}
		for i := range len(body) {
			check("truncation", append(bytes.Clone(body[:i]), '\n'))
		}
	}
	// A redacted line at the end has nothing to fix its hash.
	_, err = Verify(bytes.NewReader(bytes.Join(lines[:1], nil)), pub(t), nil)
	if !errors.Is(err, ErrRedactedLast) {
		t.Errorf("redacted last line: err = %v", err)
	}
}

// In a run of redacted lines the next line is redacted too: the signed
// re-record's migrated hash still catches a changed hash, naming the line.
func TestRedactedRunAttested(t *testing.T) {
	_, out := migrate(t, v1PeopleLog(t))
	run := map[string]bool{id32(1): true, id32(2): true}
	red, n, err := Redact(out, NewVerifier(pub(t)), run)
	if err != nil || n != 2 {
		t.Fatalf("redact: %d %v", n, err)
	}
	if _, err := Verify(bytes.NewReader(red), pub(t), nil); err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(red, []byte(`{"redacted":"`)) + len(`{"redacted":"`)
	m := bytes.Clone(red)
	m[i] ^= 0x01
	h, err := Verify(bytes.NewReader(m), pub(t), nil)
	var le *LineError
	if !errors.As(err, &le) || le.Line != 1 || !errors.Is(err, ErrNotAttested) {
		t.Fatalf("changed hash in a run: err = %v", err)
	}
	if h != (Head{}) {
		t.Errorf("head %+v, want the one before the run", h)
	}
}

func TestRedactRefusesUnmigrated(t *testing.T) {
	log := v1PeopleLog(t)
	if _, _, err := Redact(log, NewVerifier(pub(t)), annaIDs); err == nil || !strings.Contains(err.Error(), "migrate") {
		t.Fatalf("err = %v", err)
	}
}

func TestRedactedLineRoundTrip(t *testing.T) {
	line := bytes.Repeat([]byte("x"), 300)
	r, err := RedactLine(line, 42)
	if err != nil || len(r) != len(line) {
		t.Fatalf("%s %v", r, err)
	}
	seq, hash, err := ParseRedacted(r)
	if err != nil || seq != 42 || hash != LineHash(line) {
		t.Fatalf("%d %s %v", seq, hash, err)
	}
	if _, err := RedactLine(line[:90], 1); err == nil {
		t.Error("a line too short to redact was redacted")
	}
}

func FuzzParseRedacted(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "v1-redacted.jsonl")); err == nil {
		f.Add(bytes.SplitN(b, []byte("\n"), 2)[0])
	}
	f.Add([]byte(`{"redacted":"` + strings.Repeat("a", 64) + `","seq":1,"pad":""}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		seq, hash, err := ParseRedacted(line)
		if err != nil {
			return
		}
		// Round trip: the same seq, hash and length give the same bytes.
		again, err := redactedLine(hash, seq, len(line))
		if err != nil || !bytes.Equal(again, line) {
			t.Fatalf("round trip: %q → %q, %v", line, again, err)
		}
	})
}

// A crash at each step of a replacement leaves the old log or the new
// one, and opening the store removes the temporary file.
func TestReplaceCrash(t *testing.T) {
	log := v1PeopleLog(t)
	_, newLog := migrate(t, log)
	for _, step := range append(ReplaceSteps, "none") {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "decisions.jsonl")
			if err := os.WriteFile(path, log, 0o600); err != nil {
				t.Fatal(err)
			}
			st, err := OpenFileStore(path, FileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			h, err := VerifyWith(bytes.NewReader(newLog), NewVerifier(pub(t)), nil)
			if err != nil {
				t.Fatal(err)
			}
			err = st.Replace(newLog, h, func(s string) bool { return s == step })
			if step == "none" && err != nil || step != "none" && !errors.Is(err, ErrCrash) {
				t.Fatalf("replace: %v", err)
			}
			st.Close()
			st, err = OpenFileStore(path, FileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			got, _ := os.ReadFile(path)
			wantNew := step == StepDirSync || step == "none"
			if wantNew && !bytes.Equal(got, newLog) || !wantNew && !bytes.Equal(got, log) {
				t.Fatalf("after a crash at %s the log is neither old nor new as expected (%d bytes)", step, len(got))
			}
			des, _ := os.ReadDir(dir)
			if len(des) != 1 {
				t.Errorf("files left: %v", des)
			}
			if st.Head() != headOf(t, got) {
				t.Errorf("head %+v", st.Head())
			}
		})
	}
}

func headOf(t *testing.T, b []byte) Head {
	h, err := VerifyWith(bytes.NewReader(b), NewVerifier(pub(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// A redaction through the open store keeps every position, and the log
// goes on taking appends.
func TestFileStoreRedact(t *testing.T) {
	_, out := migrate(t, v1PeopleLog(t))
	path := filepath.Join(t.TempDir(), "decisions.jsonl")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	l, _, err := Open(path, testKey(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	before := l.Head()
	fs := l.Store().(*FileStore)
	n, err := fs.Redact(annaIDs, NewVerifier(pub(t)), nil)
	if err != nil || n != 2 {
		t.Fatalf("redact: %d %v", n, err)
	}
	if l.Head() != before || fs.Head() != before {
		t.Fatalf("head moved: %+v → %+v", before, fs.Head())
	}
	if _, err := l.Append(context.Background(), decision("Carla")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	ls, err := VerifyLines(bytes.NewReader(b), pub(t))
	if err != nil || ls.Redacted != 2 || ls.Head.Count != 10 {
		t.Fatalf("after an append: %+v, %v", ls, err)
	}
	if bytes.Contains(b, []byte(annaName)) {
		t.Error("Anna's name is still in the log")
	}
	// The re-record is what Lookup finds for her id.
	e, err := l.Lookup(id32(1))
	if err != nil || e.Record.V != FormatVersion || e.Record.Migrated == "" {
		t.Fatalf("lookup: %+v %v", e.Record, err)
	}
}

// benchLog is a version-1 log of n decisions of n/2 people, migrated.
func benchLog(b *testing.B, n int) (v1, migrated []byte) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "decisions.jsonl")
	l, _, err := Open(path, testKey(b), Options{Version: FormatV1})
	if err != nil {
		b.Fatal(err)
	}
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = decision("Jürgen Weiß")
		recs[i].ID = fmt.Sprintf("%032x", i+1)
		recs[i].Subject = &Subject{Name: fmt.Sprintf("Kunde %d", i/2), Phone: fmt.Sprintf("+49170%07d", i/2)}
	}
	if _, err := l.Append(context.Background(), recs...); err != nil {
		b.Fatal(err)
	}
	l.Close()
	v1, _ = os.ReadFile(path)
	_, migrated = migrate(b, v1)
	return v1, migrated
}

// BenchmarkMigrate: planning the migration of a 10,000-line version-1 log
// (verify, seal, sign); the private store's Put and the file's
// replacement come on top.
func BenchmarkMigrate(b *testing.B) {
	v1, _ := benchLog(b, 10000)
	s, v := NewSigner(testKey(b)), NewVerifier(pub(b))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Migrate(v1, s, v, strings.Repeat("e", 32), migrationTime, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedact: one erasure's redaction in a migrated log of 10,000
// version-1 lines (20,001 lines): verify, redact two lines, verify again.
func BenchmarkRedact(b *testing.B) {
	_, m := benchLog(b, 10000)
	v := NewVerifier(pub(b))
	ids := map[string]bool{fmt.Sprintf("%032x", 5001): true, fmt.Sprintf("%032x", 5002): true}
	b.ReportAllocs()
	for b.Loop() {
		if _, n, err := Redact(m, v, ids); err != nil || n != 2 {
			b.Fatal(n, err)
		}
	}
}

// Every byte flip and truncation of the golden's migration record and of
// a re-record is rejected (their signatures cover history and migrated).
func TestMangledMigrationLinesRejected(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "v1-redacted.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(b, []byte("\n"))
	for _, ln := range []int{5, 6} {
		line := lines[ln-1]
		if _, err := ParseLine(line, pub(t)); err != nil {
			t.Fatal(err)
		}
		for i := range line {
			for _, bit := range []byte{0x01, 0x20, 0x80} {
				m := bytes.Clone(line)
				m[i] ^= bit
				if _, err := ParseLine(m, pub(t)); err == nil {
					t.Fatalf("line %d: flip %#x at byte %d accepted", ln, bit, i)
				}
			}
		}
		for i := range len(line) {
			if _, err := ParseLine(line[:i], pub(t)); err == nil {
				t.Fatalf("line %d: truncation to %d bytes accepted", ln, i)
			}
		}
	}
}

// A migration record must state its history and tie to the line before
// it; a re-record is only where the history is re-recorded.
func TestMigrationRecordsChecked(t *testing.T) {
	_, out := migrate(t, v1PeopleLog(t))
	s := NewSigner(testKey(t))
	lines := bytes.SplitAfter(out, []byte("\n"))
	resign := func(i int, edit func(r *Record)) []byte {
		rec, err := ParseLine(bytes.TrimSuffix(lines[i], []byte("\n")), pub(t))
		if err != nil {
			t.Fatal(err)
		}
		edit(rec)
		l, err := encodeLine(rec, s)
		if err != nil {
			t.Fatal(err)
		}
		return append(bytes.Join(append(append([][]byte{}, lines[:i]...), append(l, '\n')), nil), bytes.Join(lines[i+1:], nil)...)
	}
	for _, tc := range []struct {
		name string
		log  []byte
		line int
		want error
	}{
		{"history off by one", resign(4, func(r *Record) { r.History = 3 }), 5, ErrBadJSON},
		{"migrated is not prev", resign(4, func(r *Record) { r.Migrated = strings.Repeat("0", 64) }), 5, ErrBadJSON},
		// The last line, so that no later prev notices the change.
		{"re-record without migrated", resign(8, func(r *Record) { r.Migrated = "" }), 9, ErrMigration},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(bytes.NewReader(tc.log), pub(t), nil)
			var le *LineError
			if !errors.As(err, &le) || le.Line != tc.line || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want line %d: %v", err, tc.line, tc.want)
			}
		})
	}
	// A second migration record (a log migrated twice) is refused.
	m2 := append(bytes.Clone(out), resignedMigration(t, out)...)
	if _, err := Verify(bytes.NewReader(m2), pub(t), nil); !errors.Is(err, ErrMigration) {
		t.Errorf("second migration record: %v", err)
	}
}

// resignedMigration returns a second migration record after log.
func resignedMigration(t *testing.T, log []byte) []byte {
	h := headOf(t, log)
	rec := Record{V: FormatVersion, Seq: h.Count + 1, Prev: h.Hash, Key: NewSigner(testKey(t)).Name(), Type: TypeMigration,
		ID: strings.Repeat("f", 32), Time: migrationTime, History: h.Count, Migrated: h.Hash}
	l, err := encodeLine(&rec, NewSigner(testKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	return append(l, '\n')
}
