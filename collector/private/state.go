package private

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/binform"
	"github.com/chatconsent/chatconsent/internal/phone"
	"github.com/chatconsent/chatconsent/internal/sortedmap"
)

// The store's state, for the collector's snapshot (issue 13, step 7: a
// start that does not read the whole history). [Store.AppendBinary]
// writes it; [Options].From reads it back, and then only the lines after
// it. It holds the subjects' ids and numbers and where each key and box
// is, never a key or a box: personal data (the numbers), like the rest of
// the snapshot, which an erasure removes first.
//
// In internal/binform's form (unsigned varints, a string its length then
// its bytes), heads as ledger.AppendHead writes them:
//
//	3                                       the form's version
//	keys head: count, hash (string), size   keys.jsonl up to the state (a [ledger.Head])
//	openings head: the same                 openings.jsonl
//	n, then per subject (in file order):
//	  gap, key line length                  gap: bytes between the end of the previous key line (its "\n") and this one
//	  number: phone.Key, or 0 and a string
//	n, then per record (in file order):
//	  subject, gap, box line length
//	  id: 0 and 16 bytes (32 hex digits), or 1 and a string
//	n, then per erased record: id (string), erasure record id (string)
//	n, then record numbers                  the records with canonical ids (see above), in id order
//	n, then subject numbers                 the subjects with a phone.Key, in its order
//
// The last two (version 2, since 2 Dec 2026) are the order of the
// store's sorted maps (internal/sortedmap): a start loads them as they are
// instead of sorting 500,000 ids (a quarter of a second). A version-1
// state is still read, its maps then built one entry at a time. Versions
// 1 and 2 also have each subject's id (16 bytes) before its gap; version
// 3 (3 Dec 2026) does not, as the store no longer keeps the ids in memory
// (they are in the key lines).
const stateVersion = 3

// ErrState is returned (wrapped) for a state that is not one
// [Store.AppendBinary] wrote, or does not fit the store's files.
var ErrState = errors.New("not a private store state")

// AppendBinary appends the store's state (see [Options].From) to b.
// Lines appended after it are read by a start from it. A read-only store
// has none.
func (s *Store) AppendBinary(b []byte) ([]byte, error) { return s.appendState(b, stateVersion) }

// WriteBinary writes the store's state (as AppendBinary appends it) to
// out, 64 KiB at a time (the collector's snapshot: about 14 MB at
// 500,000 people, never held whole).
func (s *Store) WriteBinary(out io.Writer) error {
	w := binform.NewStreamWriter(out)
	if err := s.writeState(w, stateVersion); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("private store: %w", err)
	}
	return nil
}

// appendState is AppendBinary in state version v (1, 2 or 3: the tests
// keep reading the earlier versions).
func (s *Store) appendState(b []byte, v uint64) ([]byte, error) {
	w := &binform.Writer{B: b}
	if err := s.writeState(w, v); err != nil {
		return b, err
	}
	return w.B, nil
}

// writeState writes the state in version v to w.
func (s *Store) writeState(w *binform.Writer, v uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.ReadOnly || s.keys == nil || s.openings == nil {
		return ErrReadOnly
	}
	w.Uint(v)
	ledger.AppendHead(w, s.keys.Head())
	ledger.AppendHead(w, s.openings.Head())
	var sids [][16]byte // versions 1 and 2 only
	if v < 3 {
		sids = make([][16]byte, len(s.subPhone))
		if err := s.eachSubject(-1, func(si int32, sid [16]byte) { sids[si] = sid }); err != nil {
			return err
		}
	}
	w.Uint(uint64(len(s.subPhone)))
	var end int64
	if err := s.subLoc.Each(func(i int, l keyLoc) bool {
		if v < 3 {
			w.Raw(sids[i][:])
		}
		w.Uint(uint64(l.off - end))
		w.Uint(uint64(l.len))
		end = l.off + int64(l.len) + 1
		w.Uint(s.subPhone[i])
		if s.subPhone[i] == 0 {
			w.String(s.phoneS[int32(i)])
		}
		return true
	}); err != nil {
		return fmt.Errorf("private store: %w", err)
	}
	w.Uint(uint64(len(s.recID)))
	end = 0
	if err := s.recLoc.Each(func(i int, r boxLoc) bool {
		w.Uint(uint64(r.sub))
		w.Uint(uint64(r.off - end))
		w.Uint(uint64(r.len))
		end = r.off + int64(r.len) + 1
		if id, ok := s.idS[int32(i)]; ok {
			w.Uint(1)
			w.String(id)
		} else {
			w.Uint(0)
			w.Raw(s.recID[i][:])
		}
		return true
	}); err != nil {
		return fmt.Errorf("private store: %w", err)
	}
	w.Uint(uint64(len(s.erased)))
	for _, id := range slices.Sorted(maps.Keys(s.erased)) { // the same store, the same bytes
		w.String(id)
		w.String(s.erased[id])
	}
	if v < 2 {
		return nil
	}
	w.Uint(uint64(s.byID.Len()))
	for ri := range s.byID.All(s.recKey) {
		w.Uint(uint64(ri))
	}
	w.Uint(uint64(s.byPhone.Len()))
	for si := range s.byPhone.All(s.subKey) {
		w.Uint(uint64(si))
	}
	return nil
}

// resume reads the state r (see [Options].From) and then the lines of
// both files after it.
func (s *Store) resume(r *binform.Reader) error {
	v := r.Uint()
	if v < 1 || v > stateVersion {
		return fmt.Errorf("%w: version %d", ErrState, v)
	}
	ordered := v >= 2 // the sorted maps' order follows
	kh, oh := ledger.ReadHead(r), ledger.ReadHead(r)
	if err := s.reset(); err != nil {
		return err
	}
	least := 3
	if v < 3 {
		least += 16
	}
	n := r.Count(least)
	s.subPhone = make([]uint64, 0, n)
	var end int64
	for range n {
		var l keyLoc
		if v < 3 {
			r.Raw(16) // the subject's id: in its key line
		}
		l.off = end + offset(r)
		l.len = lineLen(r)
		end = l.off + int64(l.len) + 1
		si := s.addSubject(l)
		if k := r.Uint(); k != 0 {
			if !phone.IsKey(k) {
				r.Fail("bad number")
			}
			s.subPhone[si] = k
			if !ordered {
				s.byPhone.Set(k, si, s.subKey)
			}
		} else if p := r.String(); p != "" {
			s.phoneS[si], s.byPhoneS[p] = p, si
		}
	}
	if end > kh.Size {
		r.Fail("key lines beyond the keys file's head")
	}
	n = r.Count(4 + 16)
	s.recID = make([][16]byte, 0, n)
	end = 0
	for range n {
		si := r.Uint()
		off := end + offset(r)
		ln := lineLen(r)
		end = off + int64(ln) + 1
		if si >= uint64(len(s.subPhone)) {
			r.Fail("record of no subject")
		}
		switch r.Uint() {
		case 0:
			var id [16]byte
			copy(id[:], r.Raw(16))
			if r.Err() == nil {
				s.recLoc.Append(boxLoc{off: off, len: ln, sub: int32(si)})
				s.recID = append(s.recID, id)
				if !ordered {
					s.byID.Set(id, int32(len(s.recID)-1), s.recKey)
				}
			}
		case 1:
			if id := r.String(); id != "" && r.Err() == nil {
				s.addRecord(id, int32(si), off, int(ln))
			} else {
				r.Fail("empty record id")
			}
		default:
			r.Fail("bad id form")
		}
		if r.Err() != nil {
			break
		}
	}
	if end > oh.Size {
		r.Fail("boxes beyond the openings file's head")
	}
	for n = r.Count(2); n > 0 && r.Err() == nil; n-- {
		id := r.String()
		s.erased[id] = r.String()
	}
	if ordered && r.Err() == nil {
		s.readOrders(r)
	}
	if r.Err() != nil {
		return r.Err()
	}
	if r.Len() != 0 {
		return fmt.Errorf("%w: trailing bytes", ErrState)
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

// offset reads a byte count (at most 2^62).
func offset(r *binform.Reader) int64 {
	v := r.Uint()
	if v > 1<<62 {
		r.Fail("bad offset")
		return 0
	}
	return int64(v)
}

// lineLen reads a line's length (at most ledger.MaxLineBytes).
func lineLen(r *binform.Reader) uint32 {
	v := r.Uint()
	if v > ledger.MaxLineBytes {
		r.Fail("line too long")
		return 0
	}
	return uint32(v)
}

// readOrders reads the orders of byID and byPhone (state version 2) and
// loads them: every record with a canonical id once, in id order, and
// every subject with a number once, in number order (else the state is
// refused).
func (s *Store) readOrders(r *binform.Reader) {
	readOrder(r, "record", len(s.recID), func(ri int32) bool { _, odd := s.idS[ri]; return !odd }, s.byID, s.recKey)
	readOrder(r, "subject", len(s.subPhone), func(si int32) bool { return s.subPhone[si] != 0 }, s.byPhone, s.subKey)
}

// readOrder reads the positions of o (out of n items, those that in says
// belong in it) and loads them.
func readOrder[K comparable](r *binform.Reader, what string, n int, in func(int32) bool, o *sortedmap.Order[K], key func(int32) K) {
	want := 0
	for i := range n {
		if in(int32(i)) {
			want++
		}
	}
	if got := r.Count(1); got != want || r.Err() != nil {
		r.Fail(what + " order does not name every " + what)
		return
	}
	ps := make([]int32, 0, want)
	for range want {
		p := r.Uint()
		if p >= uint64(n) || !in(int32(p)) {
			r.Fail(what + " order names a position not in it")
			return
		}
		ps = append(ps, int32(p))
	}
	if o.Load(ps, key) != nil { // also: none twice
		r.Fail(what + " order not in key order")
	}
}
