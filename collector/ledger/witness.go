package ledger

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// Witness errors: a line kept elsewhere (a receipt's attachment, a backup
// of the log) that the log does not hold.
var (
	// ErrMissing: the witness's seq is beyond the log's last line, so
	// lines were removed from the log's end (or the log is another one).
	ErrMissing = errors.New("line missing from the log")
	// ErrReplaced: the log's line at the witness's seq is another line.
	ErrReplaced = errors.New("log holds another line at this seq")
)

// Lines is a verified log reduced to one SHA-256 per line (32 bytes per
// line), to check witnesses against: the file alone cannot show that lines
// were dropped from its end, a signed line kept elsewhere can.
type Lines struct {
	Head Head
	// Redacted counts the redacted lines (see [RedactLine]): attested by
	// their hash only. A witness of one (the person's receipt) still
	// matches: the hash is the original line's.
	Redacted uint64
	hashes   [][sha256.Size]byte
}

// VerifyLines is [Verify] that also keeps each line's hash for
// [Lines.Witness].
func VerifyLines(r io.Reader, pub ed25519.PublicKey) (*Lines, error) {
	ls := &Lines{}
	h, err := VerifyRedacted(r, NewVerifier(pub), func(_ *Record, line []byte) error {
		ls.hashes = append(ls.hashes, sha256.Sum256(line))
		return nil
	}, func(_ uint64, hash string, _ []byte) error {
		var b [sha256.Size]byte
		hex.Decode(b[:], []byte(hash))
		ls.hashes = append(ls.hashes, b)
		ls.Redacted++
		return nil
	})
	ls.Head = h
	if err != nil {
		return nil, err
	}
	return ls, nil
}

// Witness checks one signed line kept outside the log (with or without its
// "\n"): its signature with pub, then that the log's line number seq is
// exactly this line. Errors wrap [ErrMissing] or [ErrReplaced], or those
// of [ParseLine].
func (ls *Lines) Witness(line []byte, pub ed25519.PublicKey) (*Record, error) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	rec, err := ParseLine(line, pub)
	if err != nil {
		return nil, err
	}
	switch {
	case rec.Seq == 0:
		return rec, fmt.Errorf("record %s: %w: seq 0", rec.ID, ErrSequence)
	case rec.Seq > ls.Head.Count:
		return rec, fmt.Errorf("record %s: %w: it is line %d, the log ends at line %d", rec.ID, ErrMissing, rec.Seq, ls.Head.Count)
	case ls.hashes[rec.Seq-1] != sha256.Sum256(line):
		return rec, fmt.Errorf("record %s: %w: line %d of the log is another record", rec.ID, ErrReplaced, rec.Seq)
	}
	return rec, nil
}

// WitnessLog checks every non-blank line of r, a copy of the log kept
// elsewhere, with [Lines.Witness], line by line in constant memory. It
// returns the number of lines checked; a problem with one of them is a
// [*LineError] naming the copy's line (a line over [MaxLineBytes] wraps
// [ErrBadJSON]).
func (ls *Lines) WitnessLog(r io.Reader, pub ed25519.PublicKey) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes+1)
	n, i := 0, 0
	for sc.Scan() {
		i++
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if _, err := ls.Witness(line, pub); err != nil {
			return n, &LineError{i, err}
		}
		n++
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return n, &LineError{i + 1, fmt.Errorf("%w: longer than %d bytes", ErrBadJSON, MaxLineBytes)}
		}
		return n, fmt.Errorf("read line %d: %w", i+1, err)
	}
	return n, nil
}
