package private

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/phone"
)

// The store's state, for the collector's snapshot (issue 13, step 7: a
// start that does not read the whole history). [Store.AppendBinary]
// writes it; [Options].From reads it back, and then only the lines after
// it. It holds the subjects' ids and numbers and where each key and box
// is, never a key or a box: personal data (the numbers), like the rest of
// the snapshot, which an erasure removes first.
//
// Integers are unsigned varints, a string its length then its bytes:
//
//	1                                       the form's version
//	keys head: count, hash (string), size   keys.jsonl up to the state (a [ledger.Head])
//	openings head: the same                 openings.jsonl
//	n, then per subject (in file order):
//	  sid (16 bytes), gap, key line length   gap: bytes between the end of the previous key line (its "\n") and this one
//	  number: phone.Key, or 0 and a string
//	n, then per record (in file order):
//	  subject, gap, box line length
//	  id: 0 and 16 bytes (32 hex digits), or 1 and a string
//	n, then per erased record: id (string), erasure record id (string)
const stateVersion = 1

// ErrState is returned (wrapped) for a state that is not one
// [Store.AppendBinary] wrote, or does not fit the store's files.
var ErrState = errors.New("not a private store state")

// AppendBinary appends the store's state (see [Options].From) to b.
// Lines appended after it are read by a start from it. A read-only store
// has none.
func (s *Store) AppendBinary(b []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.ReadOnly || s.keys == nil || s.openings == nil {
		return b, ErrReadOnly
	}
	str := func(v string) {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	head := func(h ledger.Head) {
		b = binary.AppendUvarint(b, h.Count)
		str(h.Hash)
		b = binary.AppendUvarint(b, uint64(h.Size))
	}
	b = binary.AppendUvarint(b, stateVersion)
	head(s.keys.Head())
	head(s.openings.Head())
	b = binary.AppendUvarint(b, uint64(len(s.subs)))
	var end int64
	for i := range s.subs {
		sub := &s.subs[i]
		b = append(b, sub.sid[:]...)
		b = binary.AppendUvarint(b, uint64(sub.keyOff-end))
		b = binary.AppendUvarint(b, uint64(sub.keyLen))
		end = sub.keyOff + int64(sub.keyLen) + 1
		b = binary.AppendUvarint(b, sub.phone)
		if sub.phone == 0 {
			str(s.phoneS[int32(i)])
		}
	}
	b = binary.AppendUvarint(b, uint64(len(s.recs)))
	end = 0
	for i := range s.recs {
		r := &s.recs[i]
		b = binary.AppendUvarint(b, uint64(r.sub))
		b = binary.AppendUvarint(b, uint64(r.off-end))
		b = binary.AppendUvarint(b, uint64(r.len))
		end = r.off + int64(r.len) + 1
		if id, ok := s.idS[int32(i)]; ok {
			b = append(b, 1)
			str(id)
		} else {
			b = append(b, 0)
			b = append(b, r.id[:]...)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(s.erased)))
	for _, id := range slices.Sorted(maps.Keys(s.erased)) { // the same store, the same bytes
		str(id)
		str(s.erased[id])
	}
	return b, nil
}

// resume reads the state b (see [Options].From) and then the lines of
// both files after it.
func (s *Store) resume(b []byte) error {
	d := stateDecoder{b: b}
	if v := d.uint(); v != stateVersion {
		return fmt.Errorf("%w: version %d", ErrState, v)
	}
	kh, oh := d.head(), d.head()
	s.reset()
	n := d.count(16 + 3)
	s.subs = make([]subject, 0, n)
	var end int64
	for range n {
		var sub subject
		copy(sub.sid[:], d.bytes(16))
		sub.keyOff = end + d.int()
		sub.keyLen = uint32(d.length())
		sub.first, sub.last = -1, -1
		end = sub.keyOff + int64(sub.keyLen) + 1
		si := int32(len(s.subs))
		s.subs = append(s.subs, sub)
		if k := d.uint(); k != 0 {
			if phone.FromKey(k) == "" {
				d.bad = true
			}
			s.subs[si].phone = k
			s.byPhone[k] = si
		} else if p := d.str(); p != "" {
			s.phoneS[si], s.byPhoneS[p] = p, si
		}
	}
	if end > kh.Size {
		d.bad = true
	}
	n = d.count(4 + 16)
	s.recs = make([]record, 0, n)
	s.byID = make(map[[16]byte]int32, n)
	end = 0
	for range n {
		si := d.uint()
		off := end + d.int()
		ln := d.length()
		end = off + int64(ln) + 1
		if si >= uint64(len(s.subs)) {
			d.bad = true
		}
		switch d.byte() {
		case 0:
			var id [16]byte
			copy(id[:], d.bytes(16))
			if !d.bad {
				s.addCanonical(id, int32(si), off, int(ln))
			}
		case 1:
			if id := d.str(); id != "" && !d.bad {
				s.addRecord(id, int32(si), off, int(ln))
			} else {
				d.bad = true
			}
		default:
			d.bad = true
		}
		if d.bad {
			break
		}
	}
	if end > oh.Size {
		d.bad = true
	}
	for n = d.count(2); n > 0 && !d.bad; n-- {
		id := d.str()
		s.erased[id] = d.str()
	}
	if d.bad || len(d.b) != 0 {
		return ErrState
	}
	for _, f := range []struct {
		name string
		h    ledger.Head
	}{{KeysFile, kh}, {OpeningsFile, oh}} {
		if err := ledger.HoldsHead(filepath.Join(s.dir, f.name), f.h); err != nil {
			return fmt.Errorf("%w: %w", ErrState, err)
		}
	}
	keys, openings, err := s.openFiles(&kh, &oh)
	if err != nil {
		return err
	}
	return s.read(keys, openings, kh, oh)
}

// addCanonical is addRecord for an id in binary form.
func (s *Store) addCanonical(id [16]byte, si int32, off int64, n int) {
	s.byID[id] = int32(len(s.recs))
	s.link(record{id: id, off: off, len: uint32(n), sub: si, next: -1})
}

// stateDecoder reads a state; a read past its end or an integer out of
// range sets bad (and reads zeros from then on), so decoding never panics.
type stateDecoder struct {
	b   []byte
	bad bool
}

func (d *stateDecoder) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

// int reads a byte count or offset (at most 2^62).
func (d *stateDecoder) int() int64 {
	v := d.uint()
	if v > 1<<62 {
		d.bad = true
		return 0
	}
	return int64(v)
}

// length reads a line's length (at most
// ledger.MaxLineBytes, so that it fits a uint32).
func (d *stateDecoder) length() uint64 {
	v := d.uint()
	if v > ledger.MaxLineBytes {
		d.bad = true
		return 0
	}
	return v
}

// count reads a number of items of at least min bytes each, refusing one
// the rest cannot hold (so a forged count allocates nothing).
func (d *stateDecoder) count(min int) int {
	v := d.uint()
	if v > uint64(len(d.b)/min) {
		d.bad = true
		return 0
	}
	return int(v)
}

func (d *stateDecoder) byte() byte {
	if len(d.b) < 1 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *stateDecoder) bytes(n int) []byte {
	if len(d.b) < n {
		d.bad, d.b = true, nil
		return make([]byte, n)
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *stateDecoder) str() string {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.bad, d.b = true, nil
		return ""
	}
	return string(d.bytes(int(n)))
}

func (d *stateDecoder) head() ledger.Head {
	return ledger.Head{Count: d.uint(), Hash: d.str(), Size: d.int()}
}
