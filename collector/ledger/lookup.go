package ledger

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrNotFound is returned by [Log.Lookup] for an id that is not in the log.
var ErrNotFound = errors.New("no record with this id")

// Lookup returns the durable record with the given [Record.ID] and its exact
// line, checking the line's signature. It scans the file from the start
// (cost proportional to the log's size) with its own file handle, so it
// does not hold up appends; it is meant for rare look-ups such as a receipt
// made on demand. In a migrated log it returns the re-record of a history
// line (see [Migrate]), not the history line: the last line with the id.
func (l *Log) Lookup(id string) (Entry, error) {
	r, err := l.store.Read(Head{})
	if err != nil {
		return Entry{}, fmt.Errorf("look up record: %w", err)
	}
	defer r.Close()
	return lookup(r, l.verify, id)
}

func lookup(r io.Reader, v Verifier, id string) (Entry, error) {
	q, _ := json.Marshal(id)
	needle := append([]byte(`"id":`), q...)
	br := bufio.NewReaderSize(r, 64<<10)
	// In a migrated log the same id is on a history line and on its
	// re-record: the re-record (the last) is the record.
	var found *Entry
	for n := 1; ; n++ {
		line, err := readLine(br)
		if len(line) > 0 && line[len(line)-1] == '\n' && bytes.Contains(line, needle) {
			body := line[:len(line)-1]
			rec, perr := ParseLineWith(body, v)
			if perr != nil {
				return Entry{}, &LineError{n, perr}
			}
			if rec.ID == id {
				found = &Entry{Record: *rec, Line: bytes.Clone(body)}
			}
		}
		if err == io.EOF {
			if found != nil {
				return *found, nil
			}
			return Entry{}, fmt.Errorf("%w: %q", ErrNotFound, id)
		}
		if err != nil {
			return Entry{}, fmt.Errorf("look up record: line %d: %w", n, err)
		}
	}
}

// Scan verifies the durable records in order and calls fn with each one and
// its exact line, with its own file handle (appends go on meanwhile; records
// appended after Scan started are not seen). It is for rare, whole-log
// passes such as finding records whose receipts are missing.
func (l *Log) Scan(fn func(rec *Record, line []byte) error) error {
	r, err := l.store.Read(Head{})
	if err != nil {
		return fmt.Errorf("scan log: %w", err)
	}
	defer r.Close()
	if _, err := VerifyWith(r, l.verify, fn); err != nil {
		return fmt.Errorf("scan log: %w", err)
	}
	return nil
}

// ScanFrom calls fn with each durable entry from position from (a zero
// [Head] for the start, or an [Entry.At]) to the end, in order, with its own
// file handle and in constant memory: one line at a time. Each line's
// layout and signature are checked; the chain is not (it was verified when
// the log was opened, and only its writer appends). An error from fn stops
// the scan and is returned as is.
func (l *Log) ScanFrom(from Head, fn func(e Entry) error) error {
	r, err := l.store.Read(from)
	if err != nil {
		return fmt.Errorf("scan log: %w", err)
	}
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	at := from
	for n := from.Count + 1; ; n++ {
		line, err := readLine(br)
		if len(line) > 0 && line[len(line)-1] == '\n' && IsRedacted(line) {
			seq, hash, perr := ParseRedacted(line[:len(line)-1])
			if perr != nil {
				return fmt.Errorf("scan log: %w", &LineError{int(n), perr})
			}
			at = Head{Count: seq, Hash: hash, Size: at.Size + int64(len(line))}
		} else if len(line) > 0 && line[len(line)-1] == '\n' {
			body := line[:len(line)-1]
			rec, perr := ParseLineWith(body, l.verify)
			if perr != nil {
				return fmt.Errorf("scan log: %w", &LineError{int(n), perr})
			}
			if ferr := fn(Entry{Record: *rec, Line: body, At: at}); ferr != nil {
				return ferr
			}
			at = Head{Count: rec.Seq, Hash: LineHash(body), Size: at.Size + int64(len(line))}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("scan log: line %d: %w", n, err)
		}
	}
}
