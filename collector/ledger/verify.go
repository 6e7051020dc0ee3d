package ledger

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
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
}

// Verify reads a whole log from r and checks every line: layout, JSON,
// signature against pub, sequence and hash chain. It returns the head after
// the last line. The first problem is returned as a [*LineError] wrapping one
// of the package's sentinel errors; a last line without its "\n" (a torn
// write) wraps [ErrTorn].
//
// fn, if not nil, is called with each verified record and its line.
func Verify(r io.Reader, pub ed25519.PublicKey, fn func(rec *Record, line []byte) error) (Head, error) {
	var h Head
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := readLine(br)
		if err == io.EOF && len(line) == 0 {
			return h, nil
		}
		if err != nil && err != io.EOF {
			if errors.Is(err, errLong) {
				return h, &LineError{n, fmt.Errorf("%w: longer than %d bytes", ErrBadJSON, MaxLineBytes)}
			}
			return h, fmt.Errorf("read line %d: %w", n, err)
		}
		if err == io.EOF { // data without "\n" at the end
			return h, &LineError{n, ErrTorn}
		}
		body := line[:len(line)-1]
		rec, perr := ParseLine(body, pub)
		if perr != nil {
			return h, &LineError{n, perr}
		}
		if rec.Seq != h.Count+1 {
			return h, &LineError{n, fmt.Errorf("%w: seq %d, want %d", ErrSequence, rec.Seq, h.Count+1)}
		}
		if rec.Prev != h.Hash {
			return h, &LineError{n, ErrBrokenChain}
		}
		if fn != nil {
			if err := fn(rec, body); err != nil {
				return h, &LineError{n, err}
			}
		}
		h.Count++
		h.Hash = LineHash(body)
		h.Size += int64(len(line))
	}
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
