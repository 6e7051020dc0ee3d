package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// ownerRecords are the records of the golden log of owner events: an
// owner added, her passkey, an invite link she made, an erasure she made
// (naming her in "by"), her removal.
func ownerRecords() []Record {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	return []Record{
		{Type: TypeOwner, ID: "000000000000000000000000000000a1", Time: t0, Action: "added", Owner: "anna", By: "root"},
		{Type: TypeOwner, ID: "000000000000000000000000000000a2", Time: t0.Add(5 * time.Minute), Action: "enrolled", Owner: "anna", By: "anna"},
		{Type: TypeOwner, ID: "000000000000000000000000000000a5", Time: t0.Add(10 * time.Minute), Action: "invited", Owner: "anna", By: "anna", Invite: "000000000000000000000000000000b1"},
		{Type: TypeErasure, ID: "000000000000000000000000000000a3", Time: t0.Add(time.Hour), Erased: []string{"0000000000000000000000000000000a"}, Reason: "request", By: "anna"},
		{Type: TypeOwner, ID: "000000000000000000000000000000a4", Time: t0.Add(2 * time.Hour), Action: "removed", Owner: "anna", By: "root"},
	}
}

const ownerGolden = "v2-owner.jsonl"

// TestFormatV2OwnerGolden keeps a version-2 log of owner events: it must
// verify forever and give back the records as written.
func TestFormatV2OwnerGolden(t *testing.T) {
	t.Parallel()
	golden := filepath.Join("testdata", ownerGolden)
	if *update {
		path := filepath.Join(t.TempDir(), "d.jsonl")
		l, _, err := Open(path, testKey(t), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(context.Background(), ownerRecords()...); err != nil {
			t.Fatal(err)
		}
		l.Close()
		b, _ := os.ReadFile(path)
		os.WriteFile(golden, b, 0o644)
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	var got []Record
	if _, err := Verify(bytes.NewReader(b), pub(t), func(r *Record, _ []byte) error {
		if r.V != 2 || r.SD != nil {
			t.Errorf("record %d: v %d, sd %v; want 2 and none", r.Seq, r.V, r.SD)
		}
		got = append(got, *r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := ownerRecords()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		g := got[i]
		g.V, g.Seq, g.Prev, g.Key = 0, 0, "", ""
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(want[i])
		if !bytes.Equal(gj, wj) {
			t.Errorf("record %d:\n got %s\nwant %s", i+1, gj, wj)
		}
	}
}

// TestOwnerFieldsChecked: an owner record must be version 2 with a known
// action, the owner and by, and nothing of a decision; action and owner
// belong to owner records only. Each is refused even when signed.
func TestOwnerFieldsChecked(t *testing.T) {
	t.Parallel()
	signer := NewSigner(testKey(t))
	good := ownerRecords()[0]
	good.V, good.Seq, good.Key = 2, 1, signer.Name()
	for _, tt := range []struct {
		name string
		edit func(r *Record)
	}{
		{"version 1", func(r *Record) { r.V = 1 }},
		{"unknown action", func(r *Record) { r.Action = "promoted" }},
		{"no action", func(r *Record) { r.Action = "" }},
		{"no owner", func(r *Record) { r.Owner = "" }},
		{"no by", func(r *Record) { r.By = "" }},
		{"purposes", func(r *Record) { r.Purposes = []string{"orders"} }},
		{"a decision", func(r *Record) { r.Decision = Granted }},
		{"commitments", func(r *Record) { r.SD = []string{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} }},
		{"action on a decision", func(r *Record) { r.Type = TypeDecision }},
		{"owner on an erasure", func(r *Record) { r.Type, r.Action, r.Erased = TypeErasure, "", []string{"x"} }},
		{"invite id on added", func(r *Record) { r.Invite = "000000000000000000000000000000b1" }},
		{"invited without invite id", func(r *Record) { r.Action = "invited" }},
		{"invited with a bad invite id", func(r *Record) { r.Action, r.Invite = "invited", "B1" }},
	} {
		r := good
		tt.edit(&r)
		line, err := encodeLine(&r, signer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseLine(line, pub(t)); !errors.Is(err, ErrBadJSON) {
			t.Errorf("%s: %v, want ErrBadJSON", tt.name, err)
		}
	}
	line, _ := encodeLine(&good, signer)
	if _, err := ParseLine(line, pub(t)); err != nil {
		t.Errorf("the good owner record: %v", err)
	}
}

// Every byte flip and truncation of every owner golden line is rejected.
func TestMangledOwnerLineRejected(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", ownerGolden))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
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
}

// FuzzParseOwnerLine: whatever line passes is an owner record that
// checkOwnerFields accepts, or another type without action and owner.
func FuzzParseOwnerLine(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", ownerGolden)); err == nil {
		for _, l := range bytes.Split(b, []byte("\n")) {
			f.Add(l)
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := ParseLine(line, pub(t))
		if err != nil {
			return
		}
		if rec.Type == TypeOwner && (rec.V != 2 || rec.Owner == "" || rec.By == "") {
			t.Fatalf("an owner line without its fields passed: %s", line)
		}
		if rec.Type != TypeOwner && (rec.Action != "" || rec.Owner != "") {
			t.Fatalf("action or owner on a %s passed: %s", rec.Type, line)
		}
	})
}
