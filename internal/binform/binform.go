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
)

// Writer appends the binary form to B.
type Writer struct{ B []byte }

// Uint appends v as an unsigned varint.
func (w *Writer) Uint(v uint64) { w.B = binary.AppendUvarint(w.B, v) }

// Varint appends v as a signed (zigzag) varint.
func (w *Writer) Varint(v int64) { w.B = binary.AppendVarint(w.B, v) }

// String appends s's length, then s.
func (w *Writer) String(s string) {
	w.Uint(uint64(len(s)))
	w.B = append(w.B, s...)
}

// Strings appends the list's length, then each string.
func (w *Writer) Strings(ss []string) {
	w.Uint(uint64(len(ss)))
	for _, s := range ss {
		w.String(s)
	}
}

// Raw appends b as it is (a fixed-length field, such as a 16-byte id).
func (w *Writer) Raw(b []byte) { w.B = append(w.B, b...) }

// Reader reads the binary form.
type Reader struct {
	b    []byte
	err  error
	kind error
}

// NewReader returns a Reader of b whose failures wrap kind (the file's
// "not a …" sentinel error).
func NewReader(b []byte, kind error) *Reader { return &Reader{b: b, kind: kind} }

// Fail records that the bytes are not what the format says (what, for the
// message), if nothing failed before, and stops reading.
func (r *Reader) Fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", r.kind, what)
	}
	r.b = nil
}

// Err returns the first failure, or nil.
func (r *Reader) Err() error { return r.err }

// Len returns the number of bytes not read yet.
func (r *Reader) Len() int { return len(r.b) }

// Uint reads an unsigned varint.
func (r *Reader) Uint() uint64 {
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
	if n > uint64(len(r.b)/min) {
		r.Fail("list longer than the data")
		return 0
	}
	return int(n)
}

// Bytes reads a length, then that many bytes, which share the Reader's
// memory.
func (r *Reader) Bytes() []byte {
	n := r.Uint()
	if n > uint64(len(r.b)) {
		r.Fail("string longer than the data")
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
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
// left); they share the Reader's memory.
func (r *Reader) Raw(n int) []byte {
	if len(r.b) < n {
		r.Fail("data ends early")
		return make([]byte, n)
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}
