// Package logfeed ties the decisions log to the transparency log: [Store]
// wraps a [ledger.Store] (the JSONL file) and, after each durable append,
// feeds the batch's version-2 lines to a [translog.Log]. Version-1 lines
// (personal fields in clear) are never fed.
//
// The JSONL append (write + fsync) stays the acknowledgement: feeding only
// queues the lines in memory ([translog.Log.Feed] does not wait for the
// disk) and its failure never fails an append that is already durable. What
// a crash or a failed feed leaves out of the transparency log is fed again
// on the next start: [ledger.New] calls [Store.Cut] once with the verified
// head, and Cut catches the transparency log up from the file, in order,
// so that entry index i is always the (i+1)-th version-2 line of the file
// — in a file of version-2 lines only, the line with seq i+1.
package logfeed

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/translog"
)

// v2Prefix starts every version-2 line: the ledger writes the record's "v"
// first (the first field of ledger.Record).
var v2Prefix = []byte(`{"rec":{"v":2,`)

// IsV2 reports whether line (a signed line of the decisions log) is of
// format version 2, the only lines published in the transparency log.
func IsV2(line []byte) bool { return bytes.HasPrefix(line, v2Prefix) }

// ErrAhead is returned by [Store.Cut] when the transparency log holds more
// entries than the decisions log has version-2 lines: the data folder's log
// and its transparency log do not belong together (e.g. a restored
// backup of only one of them). An operator must look.
var ErrAhead = errors.New("the transparency log is ahead of the decisions log")

// Store is a [ledger.Store] that feeds a transparency log. It is safe for
// the ledger's use (one writer) and concurrent [Store.Index] and
// [Store.Err] calls.
type Store struct {
	ledger.Store
	tl     *translog.Log
	logger *slog.Logger

	mu     sync.Mutex
	ready  bool   // Cut caught up
	v1     uint64 // version-1 lines before the first version-2 line
	next   uint64 // transparency log index of the next version-2 line
	err    error  // sticky: feeding stopped
	caught uint64 // entries fed by the catch-up

	// Set by [Store.Resume]: the catch-up may start at from.
	from           *ledger.Head
	fromV1, fromV2 uint64
}

// Resume lets the catch-up in [Store.Cut] start reading at from instead of
// at the file's start, when the transparency log holds at least the v2
// version-2 lines before it (v1 is the number of version-1 lines before
// the first version-2 line): the collector's snapshot states all three.
// Call it before [ledger.New].
func (s *Store) Resume(from ledger.Head, v1, v2 uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.from, s.fromV1, s.fromV2 = &from, v1, v2
}

// Position returns the number of version-1 lines before the first
// version-2 line and the number of version-2 lines, once caught up (for
// the collector's snapshot).
func (s *Store) Position() (v1, v2 uint64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.v1, s.next, s.ready && s.err == nil
}

// New wraps inner so that its version-2 lines are fed to tl. Nothing is fed
// before [Store.Cut] (called by [ledger.New] after verifying inner) has
// caught tl up. logger (nil: slog.Default) hears about a failed feed.
func New(inner ledger.Store, tl *translog.Log, logger *slog.Logger) *Store {
	if logger == nil {
		logger = slog.Default()
	}
	return &Store{Store: inner, tl: tl, logger: logger}
}

// Log returns the transparency log fed.
func (s *Store) Log() *translog.Log { return s.tl }

// Cut implements [ledger.Store]: the inner store's Cut, then the catch-up
// of the transparency log from the verified lines up to good.
func (s *Store) Cut(good ledger.Head) (ledger.Recovery, error) {
	rec, err := s.Store.Cut(good)
	if err != nil {
		return rec, err
	}
	return rec, s.catchUp(good)
}

func (s *Store) catchUp(good ledger.Head) error {
	have := s.tl.Next()
	var start ledger.Head
	var v1, v2 uint64
	s.mu.Lock()
	if f := s.from; f != nil && have >= s.fromV2 && f.Size <= good.Size {
		start, v1, v2 = *f, s.fromV1, s.fromV2
	}
	s.mu.Unlock()
	r, err := s.Store.Read(start)
	if err != nil {
		return err
	}
	defer r.Close()
	br := bufio.NewReaderSize(io.LimitReader(r, good.Size-start.Size), 64<<10)
	var feedErr error
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("catch up the transparency log: read the decisions log: %w", err)
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if !IsV2(line) {
			if v2 > 0 {
				return fmt.Errorf("catch up the transparency log: line %d is version 1 after version-2 lines", v1+v2+1)
			}
			v1++
			continue
		}
		if v2 >= have {
			if feedErr = s.tl.Feed(v2, line); feedErr != nil {
				return fmt.Errorf("catch up the transparency log at entry %d: %w", v2, feedErr)
			}
		}
		v2++
	}
	if have > v2 {
		return fmt.Errorf("%w: %d entries, the decisions log has %d version-2 lines", ErrAhead, have, v2)
	}
	s.mu.Lock()
	s.ready, s.v1, s.next = true, v1, v2
	if have < v2 {
		s.caught = v2 - have
	}
	s.mu.Unlock()
	return nil
}

// CaughtUp returns how many entries the catch-up fed (those the
// transparency log lacked at start).
func (s *Store) CaughtUp() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.caught
}

// Append implements [ledger.Store]: the inner store's Append (durable when
// it returns nil), then the lines' version-2 part is fed. A failed feed is
// logged and stops feeding (see [Store.Err]) but does not fail the append:
// the lines are durable, and the next start feeds them.
func (s *Store) Append(lines [][]byte, next ledger.Head) error {
	if err := s.Store.Append(lines, next); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ready || s.err != nil {
		return nil
	}
	var v2 [][]byte
	for _, l := range lines {
		if IsV2(l) {
			v2 = append(v2, l)
		} else if s.next > 0 || len(v2) > 0 {
			s.err = errors.New("a version-1 line follows version-2 lines; the transparency log is no longer fed")
		} else {
			s.v1++
		}
	}
	if s.err == nil && len(v2) > 0 {
		if err := s.tl.Feed(s.next, v2...); err != nil {
			s.err = fmt.Errorf("feed the transparency log at entry %d: %w", s.next, err)
		} else {
			s.next += uint64(len(v2))
		}
	}
	if s.err != nil {
		s.logger.Error("transparency log: feeding stopped; decisions are still recorded, restart the collector to catch up", "err", s.err)
	}
	return nil
}

// Err returns why feeding stopped, or nil.
func (s *Store) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Index returns the transparency log index of the version-2 line with
// number seq: seq−1 minus the version-1 lines before it (none in a
// version-2 file).
func (s *Store) Index(seq uint64) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ready {
		return 0, errors.New("the transparency log is not caught up yet")
	}
	if seq <= s.v1 {
		return 0, fmt.Errorf("line %d is version 1: not in the transparency log", seq)
	}
	return seq - 1 - s.v1, nil
}

// Redact implements [ledger.Redacter] with the inner store's: only
// version-1 lines are redacted, and those were never fed, so the
// transparency log is not touched.
func (s *Store) Redact(ids map[string]bool, v ledger.Verifier, crash func(step string) bool) (int, error) {
	r, ok := s.Store.(ledger.Redacter)
	if !ok {
		return 0, errors.New("redact: the log's store cannot redact lines")
	}
	return r.Redact(ids, v, crash)
}
