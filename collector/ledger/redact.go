package ledger

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Redacted lines: see the package doc, "Migration and redaction".
//
// A redacted line stands in for a version-1 line whose clear-text personal
// data were erased. It is exactly as long as the line it replaces:
//
//	{"redacted":"HASH","seq":SEQ,"pad":"   …"}
//
// HASH is the [LineHash] of the original line (64 lower-case hex digits),
// SEQ its sequence number (decimal, no leading zero), and the pad string
// is spaces only, as many as make the line as long as the original was
// (so no byte position in the file moves). Its own bytes prove nothing:
// HASH is fixed by the next line's "prev" (a signed line), which
// [Verify] checks.
var (
	redactedPrefix = []byte(`{"redacted":"`)
	redactedSeq    = []byte(`","seq":`)
	redactedPad    = []byte(`,"pad":"`)
	redactedSuffix = []byte(`"}`)
)

// Errors of redacted lines (wrapped in a [*LineError] by [Verify]).
var (
	// ErrRedacted: a redacted line is malformed.
	ErrRedacted = errors.New("not a valid redacted line")
	// ErrRedactedHash: the hash a redacted line states is not the one
	// the next line chains to (the line was changed).
	ErrRedactedHash = errors.New("redacted line's hash does not match the next line's prev (the line was changed)")
	// ErrRedactedLast: a redacted line is the last of the log, so nothing
	// signed fixes its hash.
	ErrRedactedLast = errors.New("redacted line is the last line: no signed line fixes its hash")
)

// IsRedacted reports whether line (without "\n") is meant as a redacted
// line; [ParseRedacted] checks it.
func IsRedacted(line []byte) bool { return bytes.HasPrefix(line, redactedPrefix) }

// redactedMin is the length of a redacted line with a one-digit seq and no
// pad, minus that digit.
var redactedMin = len(redactedPrefix) + 64 + len(redactedSeq) + len(redactedPad) + len(redactedSuffix)

// RedactLine returns the redacted line that stands for line (a signed line
// without "\n"), as long as line. It fails if line is too short to hold
// one (no signed line is).
func RedactLine(line []byte, seq uint64) ([]byte, error) {
	return redactedLine(LineHash(line), seq, len(line))
}

// redactedLine is the redacted line of n bytes for the line with hash and
// seq.
func redactedLine(hash string, seq uint64, n int) ([]byte, error) {
	s := strconv.FormatUint(seq, 10)
	pad := n - redactedMin - len(s)
	if pad < 0 || seq == 0 || !isHex64(hash) {
		return nil, fmt.Errorf("%w: line %d is too short to redact (%d bytes)", ErrRedacted, seq, n)
	}
	out := make([]byte, 0, n)
	out = append(out, redactedPrefix...)
	out = append(out, hash...)
	out = append(out, redactedSeq...)
	out = append(out, s...)
	out = append(out, redactedPad...)
	out = append(out, bytes.Repeat([]byte(" "), pad)...)
	out = append(out, redactedSuffix...)
	return out, nil
}

// ParseRedacted decodes a redacted line (without "\n") strictly: the one
// layout above, lower-case hex, a canonical decimal seq ≥ 1 and a pad of
// spaces only. Errors wrap [ErrRedacted].
func ParseRedacted(line []byte) (seq uint64, hash string, err error) {
	bad := func(what string) (uint64, string, error) {
		return 0, "", fmt.Errorf("%w: %s", ErrRedacted, what)
	}
	if !bytes.HasPrefix(line, redactedPrefix) || !bytes.HasSuffix(line, redactedSuffix) || len(line) < redactedMin+1 {
		return bad(`want {"redacted":"HASH","seq":N,"pad":"…"}`)
	}
	rest := line[len(redactedPrefix) : len(line)-len(redactedSuffix)]
	h := rest[:64]
	for _, c := range h {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return bad("hash is not 64 lower-case hex digits")
		}
	}
	rest = rest[64:]
	if !bytes.HasPrefix(rest, redactedSeq) {
		return bad(`want ","seq": after the hash`)
	}
	rest = rest[len(redactedSeq):]
	i := bytes.Index(rest, redactedPad)
	if i < 1 {
		return bad(`want a seq and ,"pad":"`)
	}
	digits := rest[:i]
	if digits[0] == '0' {
		return bad("seq is not a canonical number")
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return bad("seq is not a number")
		}
	}
	seq, perr := strconv.ParseUint(string(digits), 10, 64)
	if perr != nil {
		return bad("seq is out of range")
	}
	for _, c := range rest[i+len(redactedPad):] {
		if c != ' ' {
			return bad("pad holds something other than spaces")
		}
	}
	return seq, string(h), nil
}

// Redact returns log (whole lines, each ending in "\n") with every
// version-1 line whose record's ID is in ids replaced by its redacted line
// ([RedactLine]), and the number of lines replaced. Lines already
// redacted, version-2 lines and other records are kept byte for byte, so
// the result is as long as log and every position in it stays valid. log
// is verified with v first; a redaction never yields a log that does not
// verify (each redacted line states the hash of the line it replaces). Only a migrated log can be redacted
// (a [TypeMigration] record must follow the lines redacted, so that a
// signed line fixes their hashes).
func Redact(log []byte, v Verifier, ids map[string]bool) ([]byte, int, error) {
	if !hasV1Line(log, ids) { // the common case, checked without verifying
		return log, 0, nil
	}
	// One verification (signatures checked in parallel) gives every
	// record; the output differs from the verified input only in lines
	// replaced by their redaction, whose hash RedactLine computed from the
	// line itself, so the chain verifies as before.
	type parsed struct {
		line []byte
		rec  *Record // nil for a line redacted already
	}
	var lines []parsed
	lastMigration := -1
	if _, err := VerifyRedacted(bytes.NewReader(log), v, func(rec *Record, line []byte) error {
		if rec.Type == TypeMigration {
			lastMigration = len(lines)
		}
		lines = append(lines, parsed{line, rec})
		return nil
	}, func(_ uint64, _ string, line []byte) error {
		lines = append(lines, parsed{line, nil})
		return nil
	}); err != nil {
		return nil, 0, fmt.Errorf("redact: the log does not verify: %w", err)
	}
	out := make([]byte, 0, len(log))
	n := 0
	for i, p := range lines {
		if p.rec != nil && p.rec.V == FormatV1 && ids[p.rec.ID] {
			if i > lastMigration {
				return nil, 0, fmt.Errorf("redact: record %s (line %d) is in a log that was not migrated (run chatconsent migrate)", p.rec.ID, p.rec.Seq)
			}
			r, err := RedactLine(p.line, p.rec.Seq)
			if err != nil {
				return nil, 0, err
			}
			out = append(append(out, r...), '\n')
			n++
			continue
		}
		out = append(append(out, p.line...), '\n')
	}
	if len(out) != len(log) {
		return nil, 0, fmt.Errorf("redact: the redacted log is %d bytes, not %d", len(out), len(log))
	}
	return out, n, nil
}

// v1Prefix starts every version-1 line (the ledger writes "v" first).
var v1Prefix = []byte(`{"rec":{"v":1,`)

// hasV1Line reports whether log may hold a version-1 line of one of ids.
func hasV1Line(log []byte, ids map[string]bool) bool {
	for rest := log; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			i = len(rest) - 1
		}
		line := rest[:i+1]
		rest = rest[i+1:]
		if isV1LineOf(line, ids) {
			return true
		}
	}
	return false
}

// isV1LineOf reports whether line is a version-1 line of one of ids.
func isV1LineOf(line []byte, ids map[string]bool) bool {
	if !bytes.HasPrefix(line, v1Prefix) {
		return false
	}
	for id := range ids {
		if bytes.Contains(line, []byte(`"id":"`+id+`"`)) {
			return true
		}
	}
	return false
}

// readsV1Line is hasV1Line of a stream, read a line at a time: a log of
// 500,000 version-2 lines (about 350 MB) is not held to learn that it has
// nothing to redact.
func readsV1Line(r io.Reader, ids map[string]bool) (bool, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes+1)
	for sc.Scan() {
		if isV1LineOf(sc.Bytes(), ids) {
			return true, nil
		}
	}
	return false, sc.Err()
}
