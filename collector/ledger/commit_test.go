package ledger

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// v2Records are the records of the golden version-2 log.
func v2Records() []Record {
	a := decision("Jürgen Weiß")
	a.ID = "0000000000000000000000000000000a"
	a.Subject.Email = "jw@example.org"
	a.ClientIP, a.UserAgent = "203.0.113.0/24", "Mozilla/5.0 (X11; Linux x86_64)"
	b := decision("Łukasz")
	b.ID = "0000000000000000000000000000000b"
	b.Subject.Phone = "+48501234567"
	w := Record{Type: TypeWithdrawal, ID: "0000000000000000000000000000000c", Time: a.Time.Add(3600e9),
		Decision: Withdrawn, Purposes: []string{"orders"}, Subject: a.Subject, Lang: "de",
		TextVersion: a.TextVersion, Ref: a.ID, Via: "form"}
	e := Record{Type: TypeErasure, ID: "0000000000000000000000000000000e", Time: a.Time.Add(7200e9),
		Erased: []string{a.ID, w.ID}, Reason: "request"}
	return []Record{a, b, w, e}
}

// TestFormatV2Golden keeps a version-2 log and the disclosures of its
// records: it must verify forever, the disclosures must open it, and no
// personal value is in the log in any common encoding.
func TestFormatV2Golden(t *testing.T) {
	t.Parallel()
	golden := filepath.Join("testdata", "v2.jsonl")
	openings := filepath.Join("testdata", "v2-disclosures.json")
	if *update {
		path := filepath.Join(t.TempDir(), "d.jsonl")
		l, _, err := Open(path, testKey(t), Options{})
		if err != nil {
			t.Fatal(err)
		}
		es, err := l.Append(context.Background(), v2Records()...)
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
		b, _ := os.ReadFile(path)
		os.WriteFile(golden, b, 0o644)
		ds := map[string][]string{}
		for _, e := range es {
			if e.Disclosures != nil {
				ds[e.Record.ID] = e.Disclosures
			}
		}
		j, _ := json.MarshalIndent(ds, "", "  ")
		os.WriteFile(openings, append(j, '\n'), 0o644)
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	j, err := os.ReadFile(openings)
	if err != nil {
		t.Fatal(err)
	}
	var ds map[string][]string
	if err := json.Unmarshal(j, &ds); err != nil {
		t.Fatal(err)
	}
	want := v2Records()
	var got []Record
	if _, err := Verify(bytes.NewReader(b), pub(t), func(r *Record, _ []byte) error {
		if r.V != 2 {
			t.Errorf("record %d: v %d", r.Seq, r.V)
		}
		if err := Disclose(r, ds[r.ID]); err != nil {
			t.Errorf("record %d: %v", r.Seq, err)
		}
		got = append(got, *r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		g.V, g.Seq, g.Prev, g.Key, g.SD = 0, 0, "", "", nil
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if !bytes.Equal(gj, wj) {
			t.Errorf("record %d opened:\n got %s\nwant %s", i+1, gj, wj)
		}
	}
	for _, v := range personalValues(want) {
		for _, form := range encodings(v) {
			if bytes.Contains(b, []byte(form)) {
				t.Errorf("the v2 log holds %q (as %q)", v, form)
			}
		}
	}
}

// personalValues are the personal fields' values of recs.
func personalValues(recs []Record) []string {
	var vs []string
	for _, r := range recs {
		if r.Subject != nil {
			vs = append(vs, r.Subject.Name, r.Subject.Phone, strings.TrimPrefix(r.Subject.Phone, "+"))
			if r.Subject.Email != "" {
				vs = append(vs, r.Subject.Email)
			}
		}
		for _, v := range []string{r.ClientIP, r.UserAgent, r.Token} {
			if v != "" {
				vs = append(vs, v)
			}
		}
	}
	return vs
}

// encodings are the forms a value could hide in: itself, JSON-escaped,
// hex, and base64 in its four alphabets (at each of the three offsets a
// longer base64 text could start it at, trimmed to the stable middle).
func encodings(v string) []string {
	j, _ := json.Marshal(v)
	forms := []string{v, strings.Trim(string(j), `"`), hex.EncodeToString([]byte(v))}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		for pad := range 3 {
			s := enc.EncodeToString(append(bytes.Repeat([]byte{0}, pad), v...))
			s = strings.TrimRight(s, "=")
			start := (pad*4 + 2) / 3
			if end := len(s) - 2; end > start+4 {
				forms = append(forms, s[start+1:end])
			}
		}
	}
	return forms
}

func TestSealFreshSalts(t *testing.T) {
	t.Parallel()
	r := decision("Jürgen")
	a, da, err := Seal(r)
	if err != nil {
		t.Fatal(err)
	}
	b, db, _ := Seal(r)
	if len(a.SD) != 2 || a.Subject != nil || r.Subject == nil {
		t.Fatalf("sealed %+v from %+v", a, r)
	}
	for i := range da {
		if da[i] == db[i] {
			t.Errorf("disclosure %d is the same twice: salts are not fresh", i)
		}
	}
	if a.SD[0] == b.SD[0] || a.SD[1] == b.SD[1] {
		t.Error("same commitments for the same values")
	}
	// A commitment cannot be tested against a guessed number without the
	// salt: the same number under another salt gives another commitment.
	d, _ := ParseDisclosure(da[1])
	guess := Disclosure{Salt: base64.RawURLEncoding.EncodeToString(make([]byte, 16)), Field: FieldPhone, Value: d.Value}.Encode()
	if c := Commitment(guess); c == a.SD[0] || c == a.SD[1] {
		t.Error("a guessed number without the salt matches")
	}
}

func TestDiscloseRefuses(t *testing.T) {
	t.Parallel()
	sealed, ds, err := Seal(decision("Jürgen"))
	if err != nil {
		t.Fatal(err)
	}
	_, other, _ := Seal(decision("Jürgen"))
	for _, tt := range []struct {
		name string
		ds   []string
	}{
		{"another record's disclosure", []string{other[0]}},
		{"twice", []string{ds[0], ds[0]}},
		{"not base64url", []string{ds[0] + "="}},
		{"padded", []string{base64.URLEncoding.EncodeToString([]byte(`["AAAAAAAAAAAAAAAAAAAAAA","name","x"]`))}},
		{"unknown field", []string{base64.RawURLEncoding.EncodeToString([]byte(`["AAAAAAAAAAAAAAAAAAAAAA","shoe","x"]`))}},
		{"short salt", []string{base64.RawURLEncoding.EncodeToString([]byte(`["AAAA","name","x"]`))}},
		{"four items", []string{base64.RawURLEncoding.EncodeToString([]byte(`["AAAAAAAAAAAAAAAAAAAAAA","name","x","y"]`))}},
	} {
		r := sealed
		if err := Disclose(&r, tt.ds); !errors.Is(err, ErrDisclosure) || r.Subject != nil {
			t.Errorf("%s: %v, subject %+v; want ErrDisclosure and nothing set", tt.name, err, r.Subject)
		}
	}
	r := sealed
	if err := Disclose(&r, ds); err != nil || r.Subject == nil || r.Subject.Name != "Jürgen" {
		t.Errorf("Disclose = %v, %+v", err, r.Subject)
	}
}

// TestV2FieldsChecked: a v2 line with a personal field in clear, or a v1
// line with commitments, is not a valid line even when signed.
func TestV2FieldsChecked(t *testing.T) {
	t.Parallel()
	signer := NewSigner(testKey(t))
	sealed, _, _ := Seal(decision("A"))
	sealed.V, sealed.Seq, sealed.Key = 2, 1, signer.Name()
	for _, tt := range []struct {
		name string
		edit func(r *Record)
	}{
		{"subject in clear", func(r *Record) { r.Subject = &Subject{Name: "A", Phone: "+491701234567"} }},
		{"client address in clear", func(r *Record) { r.ClientIP = "203.0.113.0/24" }},
		{"token in clear", func(r *Record) { r.Token = "x" }},
		{"owner's note in clear", func(r *Record) { r.Note = "Frau A. rief an" }},
		{"unsorted sd", func(r *Record) { r.SD[0], r.SD[1] = r.SD[1], r.SD[0] }},
		{"short sd", func(r *Record) { r.SD[0] = r.SD[0][:20] }},
		{"v1 with sd", func(r *Record) { r.V = 1 }},
	} {
		r := sealed
		r.SD = append([]string(nil), sealed.SD...)
		tt.edit(&r)
		line, err := encodeLine(&r, signer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseLine(line, pub(t)); !errors.Is(err, ErrBadJSON) {
			t.Errorf("%s: %v, want ErrBadJSON", tt.name, err)
		}
	}
}

// Every byte flip and truncation of a v2 line is rejected.
func TestMangledV2LineRejected(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "v2.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	line := b[:bytes.IndexByte(b, '\n')]
	if _, err := ParseLine(line, pub(t)); err != nil {
		t.Fatal(err)
	}
	for i := range line {
		for _, bit := range []byte{0x01, 0x20, 0x80} {
			m := bytes.Clone(line)
			m[i] ^= bit
			if _, err := ParseLine(m, pub(t)); err == nil {
				t.Fatalf("flip %#x at byte %d accepted: %s", bit, i, m)
			}
		}
	}
	for i := range len(line) {
		if _, err := ParseLine(line[:i], pub(t)); err == nil {
			t.Fatalf("truncation to %d bytes accepted", i)
		}
	}
}

func FuzzParseLineV2(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "v2.jsonl")); err == nil {
		for _, l := range bytes.Split(b, []byte("\n")) {
			f.Add(l)
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := ParseLine(line, pub(t))
		if err != nil {
			return
		}
		if rec.V == 2 && (rec.Subject != nil || rec.ClientIP != "" || rec.UserAgent != "" || rec.Token != "") {
			t.Fatalf("a v2 line with clear fields passed: %s", line)
		}
	})
}

func FuzzDisclose(f *testing.F) {
	sealed, ds, _ := Seal(decision("Jürgen"))
	f.Add(ds[0])
	f.Add(ds[1])
	f.Add("WyJBQUFBIiwibmFtZSIsIngiXQ")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDisclosure(s)
		if err != nil {
			return
		}
		if d.Encode() != s {
			// Accepted text must be the one canonical form of its content
			// (JSON may escape differently: then it must still open
			// nothing it should not).
			r := sealed
			if Disclose(&r, []string{s}) == nil && s != ds[0] && s != ds[1] {
				t.Fatalf("non-canonical %q opened the record", s)
			}
		}
	})
}
