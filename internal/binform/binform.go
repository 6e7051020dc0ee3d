// Package binform is the one binary form of chatconsent's state files:
// the collector's snapshot (collector/snapshot), its index
// (internal/records) and the private store's state (collector/private).
// Integers are unsigned varints (encoding/binary's Uvarint; Varint for
// signed ones), a string is its length then its bytes, a list its length
// then its items. Each file's own doc says what comes in which order.
//
// [Reader] never panics on any bytes: after its first failure every read
// returns zero values and [Reader.Err] keeps the error.
//
// It is a leaf: it imports nothing of chatconsent's.
package binform

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Writer appends the binary form to B. With Out set (see [NewStreamWriter])
// it writes B to Out whenever B passes 64 KiB, and [Writer.Flush] writes
// the rest: a large form (the collector's index at 500,000 decisions is
// about 17 MB) is never held whole.
type Writer struct {
	B   []byte
	Out io.Writer
	// Err is the first error writing to Out; later writes are dropped.
	Err error
}

// flushAt is how many bytes a stream Writer gathers before it writes them.
const flushAt = 64 << 10

// NewStreamWriter returns a Writer to out.
func NewStreamWriter(out io.Writer) *Writer {
	return &Writer{B: make([]byte, 0, flushAt+4096), Out: out}
}

// Flush writes what B holds to Out (nothing without Out) and returns the
// first error writing to it.
func (w *Writer) Flush() error {
	if w.Out == nil {
		return nil
	}
	if len(w.B) > 0 && w.Err == nil {
		_, w.Err = w.Out.Write(w.B)
	}
	w.B = w.B[:0]
	return w.Err
}

// more is called after each append: a stream Writer writes out a full
// buffer.
func (w *Writer) more() {
	if w.Out != nil && len(w.B) >= flushAt {
		w.Flush()
	}
}

// Uint appends v as an unsigned varint.
func (w *Writer) Uint(v uint64) {
	w.B = binary.AppendUvarint(w.B, v)
	w.more()
}

// Varint appends v as a signed (zigzag) varint.
func (w *Writer) Varint(v int64) {
	w.B = binary.AppendVarint(w.B, v)
	w.more()
}

// String appends s's length, then s.
func (w *Writer) String(s string) {
	w.Uint(uint64(len(s)))
	w.RawString(s)
}

// Strings appends the list's length, then each string.
func (w *Writer) Strings(ss []string) {
	w.Uint(uint64(len(ss)))
	for _, s := range ss {
		w.String(s)
	}
}

// Raw appends b as it is (a fixed-length field, such as a 16-byte id).
func (w *Writer) Raw(b []byte) {
	w.B = append(w.B, b...)
	w.more()
}

// RawString appends s as it is, without its length.
func (w *Writer) RawString(s string) {
	w.B = append(w.B, s...)
	w.more()
}

// Reader reads the binary form, from bytes in memory ([NewReader]) or
// from a stream ([NewStreamReader]: a section of a file, without holding
// it whole; the collector's snapshot is 45 MB at 500,000 decisions).
type Reader struct {
	b    []byte // bytes at hand
	src  io.Reader
	left int64  // bytes of src not read yet
	buf  []byte // b's array, for a stream
	err  error
	kind error
}

// NewReader returns a Reader of b whose failures wrap kind (the file's
// "not a …" sentinel error).
func NewReader(b []byte, kind error) *Reader { return &Reader{b: b, kind: kind} }

// NewStreamReader returns a Reader of the n bytes src holds (fewer are a
// failure, "data ends early"; a read error of src fails too), whose
// failures wrap kind.
func NewStreamReader(src io.Reader, n int64, kind error) *Reader {
	return &Reader{src: src, left: n, kind: kind}
}

// need makes at least n bytes (or all that are left, if fewer) be at hand
// in r.b; it reports whether n are.
func (r *Reader) need(n int) bool {
	if len(r.b) >= n {
		return true
	}
	if r.src == nil || r.left == 0 || r.err != nil {
		return false
	}
	size := max(64<<10, n)
	if cap(r.buf) < size {
		r.buf = make([]byte, 0, size)
	}
	kept := copy(r.buf[:cap(r.buf)], r.b) // what was at hand goes first
	want := int64(cap(r.buf) - kept)
	want = min(want, r.left)
	got, err := io.ReadFull(r.src, r.buf[kept:kept+int(want)])
	r.left -= int64(got)
	r.b = r.buf[:kept+got]
	if err != nil {
		r.Fail(fmt.Sprintf("read: %v", err))
		return false
	}
	return len(r.b) >= n
}

// Fail records that the bytes are not what the format says (what, for the
// message), if nothing failed before, and stops reading.
func (r *Reader) Fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", r.kind, what)
	}
	r.b, r.src, r.left = nil, nil, 0
}

// Err returns the first failure, or nil.
func (r *Reader) Err() error { return r.err }

// Len returns the number of bytes not read yet.
func (r *Reader) Len() int { return len(r.b) + int(r.left) }

// Uint reads an unsigned varint.
func (r *Reader) Uint() uint64 {
	r.need(binary.MaxVarintLen64)
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.Fail("bad number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Varint reads a signed varint.
func (r *Reader) Varint() int64 {
	r.need(binary.MaxVarintLen64)
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.Fail("bad number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Count reads a list's length, each item at least min bytes long: a
// length the rest cannot hold fails, so a forged one allocates nothing.
func (r *Reader) Count(min int) int {
	n := r.Uint()
	if n > uint64(r.Len()/min) {
		r.Fail("list longer than the data")
		return 0
	}
	return int(n)
}

// Bytes reads a length, then that many bytes: for a Reader of bytes they
// share its memory, for a stream they are a copy.
func (r *Reader) Bytes() []byte {
	n := r.Uint()
	if n > uint64(r.Len()) {
		r.Fail("string longer than the data")
		return nil
	}
	if r.src == nil {
		v := r.b[:n:n]
		r.b = r.b[n:]
		return v
	}
	v := make([]byte, n)
	at := copy(v, r.b)
	r.b = r.b[at:]
	if at < len(v) { // straight from the stream, not through the buffer
		got, err := io.ReadFull(r.src, v[at:])
		r.left -= int64(got)
		if err != nil {
			r.Fail(fmt.Sprintf("read: %v", err))
			return nil
		}
	}
	return v
}

// String reads a length, then that many bytes, as a string.
func (r *Reader) String() string { return string(r.Bytes()) }

// Strings reads a list of strings.
func (r *Reader) Strings() []string {
	n := r.Count(1)
	var out []string
	for ; n > 0 && r.err == nil; n-- {
		out = append(out, r.String())
	}
	return out
}

// Raw reads n bytes as they are (zeros, and a failure, if fewer are
// left). They share the Reader's memory; for a stream only until the
// next read.
func (r *Reader) Raw(n int) []byte {
	if !r.need(n) {
		r.Fail("data ends early")
		return make([]byte, n)
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}
