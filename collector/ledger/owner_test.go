package ledger

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFormatV1OwnerWithdrawal keeps a version-1 log with a withdrawal an
// owner recorded (fields by and note, added after the first release): it
// is written byte for byte as the golden file, verifies, and the earlier
// golden log (without the fields) goes on with it.
func TestFormatV1OwnerWithdrawal(t *testing.T) {
	t.Parallel()
	golden := filepath.Join("testdata", "v1-owner.jsonl")
	path := filepath.Join(t.TempDir(), "d.jsonl")
	old, err := os.ReadFile(filepath.Join("testdata", "v1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, old, 0o600)
	l, _, err := Open(path, testKey(t), Options{Version: FormatV1})
	if err != nil {
		t.Fatalf("old log does not open: %v", err)
	}
	d := decision("Jürgen Weiß")
	w := Record{
		Type: TypeWithdrawal, ID: "0000000000000000000000000000000e", Time: time.Date(2026, 12, 1, 14, 5, 0, 0, time.UTC),
		Decision: Withdrawn, Purposes: []string{"orders"}, Subject: d.Subject, Lang: "de", TextVersion: d.TextVersion,
		Ref: d.ID, Via: "phone", By: "anna", Note: "rief um 14:05 an",
	}
	if _, err := l.Append(context.Background(), w); err != nil {
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
		t.Errorf("log with an owner's withdrawal:\n got %s\nwant %s", got, want)
	}
	var last Record
	h, err := Verify(bytes.NewReader(want), pub(t), func(r *Record, _ []byte) error { last = *r; return nil })
	if err != nil || h.Count != 3 {
		t.Fatalf("verify = %+v, %v", h, err)
	}
	if last.Via != "phone" || last.By != "anna" || last.Note != "rief um 14:05 an" {
		t.Errorf("read back %+v", last)
	}
	if !bytes.Contains(want, []byte(`"ref":"0000000000000000000000000000000d","via":"phone","by":"anna","note":"rief um 14:05 an"}`)) {
		t.Errorf("fields not where expected:\n%s", want)
	}
}
