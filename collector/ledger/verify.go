package ledger

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// MaxLineBytes bounds one log line; longer lines are reported as bad JSON.
const MaxLineBytes = 1 << 20

// Head is the position after the last verified line.
type Head struct {
	// Count is the number of records; the next record gets Seq Count+1.
	Count uint64
	// Hash is the [LineHash] of the last line, or "" for an empty log.
	Hash string
	// Size is the number of bytes verified, up to and including the last
	// line's "\n".
	Size int64
	// Unterminated reports a last line that is complete, validly signed and
	// chained, and lacks only its final "\n": it counts as a record (Size
	// includes it, not the missing "\n"). [Open] adds the "\n".
	Unterminated bool
}

// Verify reads a whole log from r and checks every line: layout, JSON,
// signature against pub, sequence and hash chain. It returns the head after
// the last line. The first problem is returned as a [*LineError] wrapping one
// of the package's sentinel errors; a last line without its "\n" that does
// not verify (a torn write) wraps [ErrTorn]. A last line that verifies and
// lacks only its "\n" is a record: see [Head.Unterminated].
//
// fn, if not nil, is called with each verified record and its line.
func Verify(r io.Reader, pub ed25519.PublicKey, fn func(rec *Record, line []byte) error) (Head, error) {
	return VerifyWith(r, NewVerifier(pub), fn)
}

// VerifySource is [Verify] of everything src holds, with any [Verifier].
func VerifySource(src Source, v Verifier, fn func(rec *Record, line []byte) error) (Head, error) {
	r, err := src.Read(Head{})
	if err != nil {
		return Head{}, err
	}
	defer r.Close()
	return VerifyWith(r, v, fn)
}

// VerifyWith is [Verify] with any [Verifier].
func VerifyWith(r io.Reader, v Verifier, fn func(rec *Record, line []byte) error) (Head, error) {
	return verify(r, v, nil, fn, nil, nil)
}

// VerifyTrusting is [VerifyWith] that, with a non-nil t, checks the lines
// t proves by its root instead of their signatures (see [Trust]).
func VerifyTrusting(r io.Reader, v Verifier, t *Trust, fn func(rec *Record, line []byte) error) (Head, error) {
	return verify(r, v, t, fn, nil, nil)
}

// VerifyRedacted is [VerifyWith] that also reports redacted lines (see
// [RedactLine] and the package doc, "Migration and redaction"):
// redacted, if not nil, is called with each one's seq, the hash it
// stands for and the line (without "\n"); fn is not called for them. A
// redacted line is attested by its hash only (its signature can no
// longer be checked): the hash must
// be the "prev" of the next line (else the error names the redacted line
// and wraps [ErrRedactedHash]) and, where the log holds it, the
// "migrated" hash of its signed re-record after the migration record
// (else [ErrNotAttested], naming the redacted line: this catches a changed
// line in a run of redacted lines). A redacted line at the end of the log
// wraps [ErrRedactedLast]. After a problem right behind redacted lines,
// the head returned is the one before them.
func VerifyRedacted(r io.Reader, v Verifier, fn func(rec *Record, line []byte) error, redacted func(seq uint64, hash string, line []byte) error) (Head, error) {
	return verify(r, v, nil, fn, redacted, nil)
}

// verify is [VerifyTrusting] and [VerifyRedacted] in one: redacted lines
// are format-1 lines, so they never count among the trusted format-2 ones.
// With from not nil, r holds the lines after the head *from (see
// [Options].From): they are numbered and chained on from it, t is
// ignored, and a redacted line, a migration record or a re-record among
// them is an error (they belong before a head the collector resumes from).
func verify(r io.Reader, v Verifier, t *Trust, fn func(rec *Record, line []byte) error, redacted func(seq uint64, hash string, line []byte) error, from *Head) (Head, error) {
	var h Head
	var m migrationCheck
	if from != nil {
		h, t, m.resumed = *from, nil, true
	}
	ts := newTrustState(t)
	// runStart is the head before the run of redacted lines that ends
	// with the last line (if it was redacted): a problem right after
	// redacted lines leaves them unconfirmed, so the head returned then is
	// the one before them (a prefix that verifies again).
	var runStart Head
	lastRedacted := false
	br := bufio.NewReaderSize(r, 64<<10)
	n := 0 // lines checked
	for {
		// A chunk of lines is parsed and its signatures checked on every
		// core (Ed25519 verification is most of the time: a collector
		// replays its whole log at start); sequence, chain and fn then go
		// line by line in order, so the first bad line is the one named.
		var lines [][]byte
		var size int
		var rerr error  // after the chunk's lines: io.EOF, errTorn, errLong or a read error
		var tail []byte // with ErrTorn: the bytes after the last "\n"
		for len(lines) < verifyChunk && size < verifyChunkBytes {
			line, err := readLine(br)
			if err == io.EOF && len(line) == 0 {
				rerr = io.EOF
				break
			}
			if err == io.EOF { // data without "\n" at the end
				rerr, tail = ErrTorn, line
				break
			}
			if err != nil {
				rerr = err
				break
			}
			lines, size = append(lines, line), size+len(line)
		}
		recs := make([]*Record, len(lines))
		hashes := make([]string, len(lines))
		perrs := make([]error, len(lines))
		seqs := make([]uint64, len(lines)) // of redacted lines, else 0
		trusted := ts.mark(lines)
		var leaves [][]byte
		if trusted != nil {
			leaves = make([][]byte, len(lines))
		}
		parallelLines(len(lines), func(i int) {
			body := lines[i][:len(lines[i])-1]
			if IsRedacted(body) {
				seqs[i], hashes[i], perrs[i] = ParseRedacted(body)
				return
			}
			if trusted != nil && trusted[i] {
				recs[i], perrs[i] = ParseLineWith(body, trusting{v})
				leaves[i] = leafHash(body)
			} else {
				recs[i], perrs[i] = ParseLineWith(body, v)
			}
			hashes[i] = LineHash(body)
		})
		for i, line := range lines {
			n++
			at := h
			if lastRedacted {
				at = runStart
			}
			if perrs[i] != nil {
				return at, &LineError{n, perrs[i]}
			}
			rec := recs[i]
			if rec == nil { // redacted
				if seqs[i] != h.Count+1 {
					return at, &LineError{n, fmt.Errorf("%w: seq %d, want %d", ErrSequence, seqs[i], h.Count+1)}
				}
				if !lastRedacted {
					runStart = h
				}
				if err := m.redacted(seqs[i], hashes[i], runStart); err != nil {
					return at, &LineError{n, err}
				}
				if redacted != nil {
					if err := redacted(seqs[i], hashes[i], line[:len(line)-1]); err != nil {
						return at, &LineError{n, err}
					}
				}
				lastRedacted = true
				h.Count++
				h.Hash = hashes[i]
				h.Size += int64(len(line))
				continue
			}
			if rec.Seq != h.Count+1 {
				return at, &LineError{n, fmt.Errorf("%w: seq %d, want %d", ErrSequence, rec.Seq, h.Count+1)}
			}
			if rec.Prev != h.Hash {
				if lastRedacted {
					return at, &LineError{n - 1, ErrRedactedHash}
				}
				return h, &LineError{n, ErrBrokenChain}
			}
			if err := m.record(rec); err != nil {
				var ne *notAttested
				if errors.As(err, &ne) {
					return ne.at, &LineError{int(ne.seq), ne.err}
				}
				return at, &LineError{n, err}
			}
			lastRedacted = false
			if trusted != nil && trusted[i] {
				if err := ts.add(leaves[i]); err != nil {
					return h, &LineError{n, err}
				}
			}
			if fn != nil {
				if err := fn(rec, line[:len(line)-1]); err != nil {
					return h, &LineError{n, err}
				}
			}
			h.Count++
			h.Hash = hashes[i]
			h.Size += int64(len(line))
		}
		if lastRedacted && (rerr == io.EOF || errors.Is(rerr, ErrTorn)) {
			// Nothing signed follows a redacted line: its hash is not
			// fixed, whatever comes after it (a torn write included).
			return runStart, &LineError{n, ErrRedactedLast}
		}
		switch {
		case rerr == nil:
			continue
		case rerr == io.EOF:
			if err := ts.finish(); err != nil {
				return h, &LineError{n, err}
			}
			return h, nil
		case errors.Is(rerr, ErrTorn):
			// Torn only if the line is not a whole record: a crash can cut
			// a write anywhere, even right before its "\n", and a signed
			// line is never thrown away.
			rec, err := ParseLineWith(tail, v)
			if err != nil || rec.Seq != h.Count+1 || rec.Prev != h.Hash {
				if err := ts.finish(); err != nil {
					return h, &LineError{n, err}
				}
				return h, &LineError{n + 1, ErrTorn}
			}
			if err := m.record(rec); err != nil {
				var ne *notAttested
				if errors.As(err, &ne) {
					return ne.at, &LineError{int(ne.seq), ne.err}
				}
				return h, &LineError{n + 1, err}
			}
			if err := ts.finish(); err != nil {
				return h, &LineError{n, err}
			}
			if fn != nil {
				if err := fn(rec, tail); err != nil {
					return h, &LineError{n + 1, err}
				}
			}
			h.Count++
			h.Hash = LineHash(tail)
			h.Size += int64(len(tail))
			h.Unterminated = true
			return h, nil
		case errors.Is(rerr, errLong):
			return h, &LineError{n + 1, fmt.Errorf("%w: longer than %d bytes", ErrBadJSON, MaxLineBytes)}
		default:
			return h, fmt.Errorf("read line %d: %w", n+1, rerr)
		}
	}
}

// A chunk of at most verifyChunk lines and about verifyChunkBytes bytes is
// read before its lines are checked in parallel.
const (
	verifyChunk      = 1024
	verifyChunkBytes = 4 << 20
)

// parallelLines runs fn(0…n-1) on GOMAXPROCS goroutines.
func parallelLines(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// ErrTorn reports a last line that lacks its final "\n": a write that was cut
// short by a crash.
var ErrTorn = errors.New("last line is incomplete (torn write)")

var errLong = errors.New("line too long")

// readLine returns the next line including "\n", or the rest of the input
// with io.EOF.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(buf)+len(frag) > MaxLineBytes {
			return nil, errLong
		}
		buf = append(buf, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == nil && !bytes.HasSuffix(buf, []byte("\n")) {
			continue
		}
		return buf, err
	}
}
