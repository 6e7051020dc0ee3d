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
	rec.V, rec.Seq, rec.Key = FormatV1, 1, Fingerprint(pub(t))
	line, err := encodeLine(&rec, NewSigner(testKey(t)))
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

// TestVerifyAcrossChunks: Verify checks lines in chunks of verifyChunk in
// parallel; the first bad line is still the one named, wherever it falls,
// and fn sees every line in order.
func TestVerifyAcrossChunks(t *testing.T) {
	_, full := writeLog(t, verifyChunk+200)
	lines := bytes.SplitAfter(full, []byte("\n"))
	lines = lines[:len(lines)-1] // the empty rest after the last "\n"
	var seqs []uint64
	h, err := Verify(bytes.NewReader(full), pub(t), func(r *Record, _ []byte) error {
		seqs = append(seqs, r.Seq)
		return nil
	})
	if err != nil || h.Count != uint64(len(lines)) || int(h.Size) != len(full) {
		t.Fatalf("Verify = %+v, %v", h, err)
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("fn saw seq %d at position %d", s, i)
		}
	}
	for _, bad := range []int{1, verifyChunk, verifyChunk + 1, verifyChunk + 150} {
		mangled := make([][]byte, len(lines))
		copy(mangled, lines)
		mangled[bad-1] = bytes.Replace(lines[bad-1], []byte("Jürgen"), []byte("Jürgan"), 1)
		// A second bad line later must not be the one reported.
		mangled[len(lines)-1] = bytes.Replace(lines[len(lines)-1], []byte("Jürgen"), []byte("Jürgan"), 1)
		_, err := Verify(bytes.NewReader(bytes.Join(mangled, nil)), pub(t), nil)
		var le *LineError
		if !errors.As(err, &le) || le.Line != bad || !errors.Is(err, ErrBadSignature) {
			t.Errorf("changed line %d: %v", bad, err)
		}
	}
	// A torn last line after more than a chunk.
	torn := append(bytes.Clone(full), []byte(`{"rec":{"v":1`)...)
	if _, err := Verify(bytes.NewReader(torn), pub(t), nil); !errors.Is(err, ErrTorn) {
		t.Errorf("torn tail: %v", err)
	} else if le := (*LineError)(nil); errors.As(err, &le) && le.Line != len(lines)+1 {
		t.Errorf("torn tail at line %d, want %d", le.Line, len(lines)+1)
	}
}

func TestWitnessLog(t *testing.T) {
	_, full := writeLog(t, 3)
	ls, err := VerifyLines(bytes.NewReader(full), pub(t))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(full, []byte("\n"))
	// A copy with blank lines and CRLF endings: all 3 lines count.
	cp := append(append([]byte("\n"), bytes.ReplaceAll(full, []byte("\n"), []byte("\r\n"))...), '\n')
	if n, err := ls.WitnessLog(bytes.NewReader(cp), pub(t)); n != 3 || err != nil {
		t.Errorf("copy: %d, %v; want 3, nil", n, err)
	}
	// The log cut after line 2 against a copy of 3 lines: line 3 of the copy.
	short, _ := VerifyLines(bytes.NewReader(bytes.Join(lines[:2], nil)), pub(t))
	n, err := short.WitnessLog(bytes.NewReader(full), pub(t))
	var le *LineError
	if n != 2 || !errors.As(err, &le) || le.Line != 3 || !errors.Is(err, ErrMissing) {
		t.Errorf("cut log: %d, %v; want 2 and line 3 missing", n, err)
	}
	// A line over MaxLineBytes, after a good one.
	long := append(bytes.Clone(lines[0]), bytes.Repeat([]byte("x"), MaxLineBytes+10)...)
	if _, err := ls.WitnessLog(bytes.NewReader(long), pub(t)); !errors.As(err, &le) || le.Line != 2 || !errors.Is(err, ErrBadJSON) {
		t.Errorf("long line: %v; want line 2, ErrBadJSON", err)
	}
}
