package ledger

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
)

func TestWitness(t *testing.T) {
	_, full := writeLog(t, 3)
	lines := bytes.SplitAfter(full, []byte("\n"))[:3]
	short, err := VerifyLines(bytes.NewReader(bytes.Join(lines[:2], nil)), pub(t))
	if err != nil {
		t.Fatal(err)
	}
	if short.Head.Count != 2 {
		t.Fatalf("Head.Count = %d", short.Head.Count)
	}
	otherKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	tests := []struct {
		name string
		line []byte
		pub  ed25519.PublicKey
		want error
	}{
		{"first line", lines[0], pub(t), nil},
		{"second line without its newline", bytes.TrimSuffix(lines[1], []byte("\n")), pub(t), nil},
		{"line cut from the end", lines[2], pub(t), ErrMissing},
		{"changed byte", bytes.Replace(lines[0], []byte("Jürgen"), []byte("Jürgan"), 1), pub(t), ErrBadSignature},
		{"another key", lines[0], otherKey.Public().(ed25519.PublicKey), ErrWrongKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := short.Witness(tt.line, tt.pub)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("Witness = %v, want %v", err, tt.want)
			}
		})
	}
	// A log whose line 1 is another validly signed line 1 (rewritten
	// with the key): the witness shows it.
	var other bytes.Buffer
	rec := decision("Łukasz Wróbel")
	rec.V, rec.Seq, rec.Key = FormatVersion, 1, Fingerprint(pub(t))
	line, err := encodeLine(&rec, testKey(t))
	if err != nil {
		t.Fatal(err)
	}
	other.Write(append(line, '\n'))
	replaced, err := VerifyLines(&other, pub(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replaced.Witness(lines[0], pub(t)); !errors.Is(err, ErrReplaced) {
		t.Errorf("replaced line: %v, want ErrReplaced", err)
	}
}
