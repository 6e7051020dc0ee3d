// Package spill keeps a growing array of fixed-width rows in a temporary
// file, so that the kernel's page cache holds them instead of the Go heap.
//
// The collector keeps a few numbers per decision and per person for its
// whole life, and every contact is a new number: at 500,000 decisions
// that was most of its memory (issue 13: start in less than 100 MiB).
// Rows that are looked up rarely (where a record's box is, once the
// record is found by its id in memory) can live in a file: a lookup
// costs one pread(2) of a page the kernel usually has cached, and the
// process's memory is the keys alone.
//
// The file is created in a folder the caller names and unlinked at once:
// it has no name, nobody else opens it, and it is gone when the process
// ends, whatever way it ends. It is derived data, never fsynced: after a
// restart the rows are built again from the caller's own files.
package spill

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/chatconsent/chatconsent/internal/durable"
)

// Codec encodes a row of type T in exactly Size bytes.
type Codec[T any] struct {
	Size int                 // bytes per row, 1 to blockBytes
	Put  func(b []byte, v T) // writes v into b[:Size]
	Get  func(b []byte) T    // reads a row from b[:Size]
}

const (
	blockBytes = 4096 // what a pread reads: the page around the row
	cacheSlots = 64   // blocks kept, direct-mapped (256 KiB)
	tailRows   = 1024 // rows appended in memory before they go to the file (Rows.SetTail)
)

// Rows is a growing array of rows, indexed from 0. Until [Rows.SpillTo]
// it is a slice in memory; after it, all rows but the last few appended
// are in the file. It is not safe for concurrent use.
type Rows[T any] struct {
	c      Codec[T]
	f      *os.File // nil: every row is in tail
	perBlk int      // rows per block: none straddles two
	onDisk int      // rows [0, onDisk) are in f
	tail   []T      // rows [onDisk, onDisk+len(tail))
	most   int      // rows in tail before they go to the file
	cache  [cacheSlots]block
	buf    []byte
}

// block is a cached block n of the file (rows n*perBlk onwards, as many
// as were in the file when it was read) while id is n+1 (0: empty).
type block struct {
	id int
	b  []byte
}

// New returns an empty Rows in memory.
func New[T any](c Codec[T]) *Rows[T] {
	if c.Size < 1 || c.Size > blockBytes {
		panic(fmt.Sprintf("spill: row size %d", c.Size)) // a programming error
	}
	return &Rows[T]{c: c, perBlk: blockBytes / c.Size, most: tailRows}
}

// SetTail sets how many rows appended after SpillTo are kept in memory
// before they go to the file together (1024 by default; at least 1).
// Tests set 1, so that every row is read from the file.
func (r *Rows[T]) SetTail(n int) { r.most = max(n, 1) }

// ErrRange is returned for an index outside the rows.
var ErrRange = errors.New("spill: row index out of range")

// SpillTo moves the rows (and those appended from now on) to a new,
// unlinked file in dir. Without it, or if it fails, they stay in memory.
func (r *Rows[T]) SpillTo(dir string) error {
	if r.f != nil {
		return nil
	}
	f, err := durable.Nameless(dir, ".spill-*")
	if err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	// A failed flush leaves the rows consistent: those written are in
	// the file, the others still in memory.
	r.f = f
	return r.flush()
}

// Spilled reports whether the rows are in a file.
func (r *Rows[T]) Spilled() bool { return r.f != nil }

// Len returns the number of rows.
func (r *Rows[T]) Len() int { return r.onDisk + len(r.tail) }

// Append adds v as the last row. It does not fail: when the file cannot
// take the rows (a full disk), they stay in memory, readable, and go to
// the file with a later Append that can write them.
func (r *Rows[T]) Append(v T) {
	r.tail = append(r.tail, v)
	if r.f != nil && len(r.tail) >= r.most && len(r.tail)%r.most == 0 {
		r.flush() // on error the rows not written stay in the tail
	}
}

// flush writes the tail to the end of the file, a block at a time so
// that no row straddles two blocks (the rest of each block is padding).
func (r *Rows[T]) flush() error {
	t, size := r.tail, r.c.Size
	for len(r.tail) > 0 {
		blk, in := r.onDisk/r.perBlk, r.onDisk%r.perBlk
		n := min(len(r.tail), r.perBlk-in)
		r.buf = slices.Grow(r.buf[:0], n*size)[:n*size]
		for j, v := range r.tail[:n] {
			r.c.Put(r.buf[j*size:(j+1)*size], v)
		}
		if _, err := r.f.WriteAt(r.buf, int64(blk)*blockBytes+int64(in*size)); err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		if s := &r.cache[blk%cacheSlots]; s.id == blk+1 {
			s.id = 0 // the block now holds more rows than the cached copy
		}
		r.onDisk += n
		r.tail = r.tail[n:]
	}
	if cap(t) > 2*r.most {
		t = make([]T, 0, r.most) // the rows of a whole load, held in memory before SpillTo
	}
	r.tail = t[:0]
	return nil
}

// At returns row i.
func (r *Rows[T]) At(i int) (T, error) {
	var zero T
	if i < 0 || i >= r.Len() {
		return zero, ErrRange
	}
	if i >= r.onDisk {
		return r.tail[i-r.onDisk], nil
	}
	b, err := r.block(i / r.perBlk)
	if err != nil {
		return zero, err
	}
	at := (i % r.perBlk) * r.c.Size
	return r.c.Get(b.b[at : at+r.c.Size]), nil
}

// block returns block n of the file, from the cache or read into it.
func (r *Rows[T]) block(n int) (*block, error) {
	s := &r.cache[n%cacheSlots]
	if s.id == n+1 {
		return s, nil
	}
	rows := min(r.perBlk, r.onDisk-n*r.perBlk)
	if s.b == nil {
		s.b = make([]byte, blockBytes)
	}
	s.id = 0
	if _, err := r.f.ReadAt(s.b[:rows*r.c.Size], int64(n)*blockBytes); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("spill: read rows: %w", err)
	}
	s.id = n + 1
	return s, nil
}

// Set replaces row i by v.
func (r *Rows[T]) Set(i int, v T) error {
	if i < 0 || i >= r.Len() {
		return ErrRange
	}
	if i >= r.onDisk {
		r.tail[i-r.onDisk] = v
		return nil
	}
	n := i / r.perBlk
	at := (i % r.perBlk) * r.c.Size
	b := make([]byte, r.c.Size)
	r.c.Put(b, v)
	if _, err := r.f.WriteAt(b, int64(n)*blockBytes+int64(at)); err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	if s := &r.cache[n%cacheSlots]; s.id == n+1 {
		copy(s.b[at:], b)
	}
	return nil
}

// Each calls fn with every row from the first, in order, until fn
// returns false. It reads the file a block at a time.
func (r *Rows[T]) Each(fn func(i int, v T) bool) error {
	for i := 0; i < r.Len(); i++ {
		v, err := r.At(i)
		if err != nil {
			return err
		}
		if !fn(i, v) {
			return nil
		}
	}
	return nil
}

// Close removes every row and closes the file: the Rows is empty and in
// memory again.
func (r *Rows[T]) Close() error {
	var err error
	if r.f != nil {
		err = r.f.Close()
	}
	*r = Rows[T]{c: r.c, perBlk: r.perBlk, most: r.most}
	return err
}
