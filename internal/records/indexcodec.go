package records

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/binform"
	"github.com/chatconsent/chatconsent/internal/phone"
	"github.com/chatconsent/chatconsent/internal/sortedmap"
)

// This file is the binary form of an [Index], for the collector's
// snapshot (package collector/snapshot): a start that loads it instead of
// folding the whole log again.
//
// # Format (version 2)
//
// In internal/binform's form (unsigned varints, a string its length then
// its bytes, a list its length then its items), an id its 16 bytes (a
// canonical record id, 32 lower-case hex digits). In order:
//
//	2                                  the format version
//	purposes     list of string        configured purpose ids, in order
//	pids         list of string        purpose ids of the bit sets (pids[i] is bit i)
//	invites      list of string        invite ids whose opening is logged
//	used         list of (string, string)   invite id → decision id
//	refs         list of (id, id)      withdrawal id → decision id
//	shapes       list of (version string, lang string, purposes list of string)
//	named        string                the name+e-mail+number of each decision kept whole (kind 2), one after another
//	erasures     list of string        erased keys (ErasedPrefix + erasure record id)
//	compact      list of (id, sec zigzag varint, nsec, shape, flags, subject by kind)
//	decisions    list of string        JSON of the decisions with non-canonical ids
//	granted      list of (key, mask)   E.164 number key → granted bits
//	grantedS     list of (string, mask) other numbers → granted bits
//	wide         list of (string, list of string) number → granted ids beyond the 64th
//
// flags: bit 0 granted, bits 1–2 the subject's kind, which says what
// follows: 0 no subject, nothing; 1 an E.164 number (name and e-mail
// address in the private store), its phone.Key; 2 kept whole, nameLen,
// emailLen, phoneLen (the next bytes of named); 3 erased, its index in
// erasures. Decisions are in id order, maps in key order, so equal
// indexes give equal bytes.
//
// Format 1 (until 2 Dec 2026) kept every subject whole; [DecodeIndex]
// refuses it, and the collector then folds the whole log once (the
// snapshot is a cache; the next one is in format 2).
//
// The form holds the personal data the index holds (numbers of decisions
// not erased, and the names and e-mail addresses of those kept whole):
// the collector keeps it in the private folder, and signs and checks it
// (package collector/snapshot).

const indexFormat = 2

// errIndexFormat is wrapped by [DecodeIndex] for bytes that are not an
// index of this format.
var errIndexFormat = errors.New("not an index snapshot")

// AppendBinary appends x's binary form (see the format above) to b.
func (x *Index) AppendBinary(b []byte) ([]byte, error) {
	w := &binform.Writer{B: b}
	if err := x.write(w); err != nil {
		return nil, err
	}
	return w.B, nil
}

// WriteBinary writes x's binary form to out, 64 KiB at a time (the
// collector's snapshot: about 17 MB at 500,000 decisions, never held
// whole).
func (x *Index) WriteBinary(out io.Writer) error {
	w := binform.NewStreamWriter(out)
	if err := x.write(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

// write writes x's binary form to w.
func (x *Index) write(w *binform.Writer) error {
	w.Uint(indexFormat)
	w.Strings(x.purposes)
	w.Strings(x.pids)
	w.Strings(slices.Sorted(maps.Keys(x.invites)))
	used := slices.Sorted(maps.Keys(x.used))
	w.Uint(uint64(len(used)))
	for _, k := range used {
		w.String(k)
		w.String(x.used[k])
	}
	refs := slices.SortedFunc(maps.Keys(x.refs), cmpID)
	w.Uint(uint64(len(refs)))
	for _, k := range refs {
		v := x.refs[k]
		w.Raw(k[:])
		w.Raw(v[:])
	}
	w.Uint(uint64(len(x.shapes)))
	for _, sh := range x.shapes {
		w.String(sh.version)
		w.String(sh.lang)
		w.Strings(sh.purposes)
	}
	n := 0
	for _, sub := range x.named {
		n += len(sub.s)
	}
	w.Uint(uint64(n))
	for k := range x.compact.All() {
		if sub, ok := x.named[k]; ok { // the decisions of kind subjectNamed
			w.RawString(sub.s)
		}
	}
	w.Strings(x.erasures)
	w.Uint(uint64(x.compact.Len()))
	for k, i := range x.compact.All() {
		c, err := x.vals.At(int(i))
		if err != nil {
			return fmt.Errorf("index: %w", err)
		}
		w.Raw(k[:])
		w.Varint(c.sec)
		w.Uint(uint64(c.nsec & nsecMask))
		w.Uint(uint64(c.shape &^ grantedBit))
		f := uint64(c.kind()) << 1
		if c.shape&grantedBit != 0 {
			f |= 1
		}
		w.Uint(f)
		switch c.kind() {
		case subjectNumber, subjectErased:
			w.Uint(c.phone)
		case subjectNamed:
			sub := x.named[k]
			w.Uint(uint64(sub.nameLen))
			w.Uint(uint64(sub.emailLen))
			w.Uint(uint64(len(sub.s)) - uint64(sub.nameLen) - uint64(sub.emailLen))
		}
	}
	dids := slices.Sorted(maps.Keys(x.decisions))
	w.Uint(uint64(len(dids)))
	for _, id := range dids {
		j, err := json.Marshal(x.decisions[id])
		if err != nil {
			return fmt.Errorf("index: decision %q: %w", id, err)
		}
		w.String(string(j))
	}
	w.Uint(uint64(x.granted.Len()))
	for k, m := range x.granted.All() {
		w.Uint(k)
		w.Uint(m)
	}
	gs := slices.Sorted(maps.Keys(x.grantedS))
	w.Uint(uint64(len(gs)))
	for _, k := range gs {
		w.String(k)
		w.Uint(*x.grantedS[k])
	}
	wk := slices.Sorted(maps.Keys(x.wide))
	w.Uint(uint64(len(wk)))
	for _, k := range wk {
		w.String(k)
		w.Strings(x.wide[k])
	}
	return nil
}

func cmpID(a, b [16]byte) int { return slices.Compare(a[:], b[:]) }

// DecodeIndex returns the index whose binary form ([Index.AppendBinary])
// is b. Bytes that are not such a form, or one inconsistent in itself
// (a shape or purpose bit out of range, lengths beyond the data), are an
// error, never a panic; the caller then folds the log instead.
func DecodeIndex(b []byte) (*Index, error) {
	return decodeIndex(binform.NewReader(b, errIndexFormat), "", 0)
}

// ReadIndex is [DecodeIndex] of the n bytes src holds, read as a stream
// (the collector's snapshot, without holding the file whole). With
// spillDir not "", the index's decisions go to a file there as they are
// read ([Index.SpillTo]), never all in memory.
func ReadIndex(src io.Reader, n int64, spillDir string) (*Index, error) {
	return decodeIndex(binform.NewStreamReader(src, n, errIndexFormat), spillDir, 0)
}

func decodeIndex(r *binform.Reader, spillDir string, tail int) (_ *Index, err error) {
	if v := r.Uint(); v == 1 && r.Err() == nil {
		return nil, fmt.Errorf("%w: format 1, an older version's (kept every name): the log is folded once instead", errIndexFormat)
	} else if v != indexFormat && r.Err() == nil {
		return nil, fmt.Errorf("%w: format %d", errIndexFormat, v)
	}
	x := NewIndex(r.Strings())
	defer func() {
		if err != nil {
			x.vals.Close() // its spill file
		}
	}()
	if spillDir != "" {
		if err := x.spillTo(spillDir, tail); err != nil {
			return nil, err
		}
	}
	pids := r.Strings()
	if r.Err() == nil {
		if !slices.Equal(pids[:min(len(pids), len(x.pids))], x.pids) || len(pids) < len(x.pids) {
			r.Fail("purpose bits do not start with the configured purposes")
		}
		for _, id := range pids[len(x.pids):] {
			if _, dup := x.pidIndex[id]; dup {
				r.Fail("purpose listed twice")
				break
			}
			x.pid(id)
		}
	}
	for _, id := range r.Strings() {
		x.invites[id] = true
	}
	for n := r.Count(2); n > 0; n-- {
		k := r.String()
		x.used[k] = r.String()
	}
	if n := r.Count(32); n > 0 {
		x.refs = make(map[[16]byte][16]byte, n)
		for ; n > 0; n-- {
			k, v := readID(r), readID(r)
			x.refs[k] = v
		}
	}
	for n := r.Count(3); n > 0; n-- {
		sh := shape{version: x.intern(r.String()), lang: x.intern(r.String())}
		for _, p := range r.Strings() {
			sh.purposes = append(sh.purposes, x.intern(p))
		}
		key := sh.version + "\x00" + sh.lang + "\x00" + joinNUL(sh.purposes)
		if x.shapeIDs == nil {
			x.shapeIDs = map[string]int32{}
		}
		x.shapeIDs[key] = int32(len(x.shapes))
		x.shapes = append(x.shapes, sh)
	}
	named := r.String() // one string: each kept-whole subject is a part of it
	for _, key := range r.Strings() {
		if _, dup := x.erasureAt[key]; dup || !IsErased(key) {
			r.Fail("bad erased key")
			break
		}
		x.erasureIndex(key)
	}
	at := 0
	if n := r.Count(16 + 5); n > 0 && r.Err() == nil {
		es := make([]sortedmap.Entry[[16]byte, int32], 0, n)
		for ; n > 0 && r.Err() == nil; n-- {
			k := readID(r)
			c := compactDecision{sec: r.Varint()}
			nsec, sh, f := r.Uint(), r.Uint(), r.Uint()
			if nsec >= 1e9 || sh >= uint64(len(x.shapes)) || f > 7 {
				r.Fail("bad decision")
				break
			}
			c.nsec, c.shape = uint32(nsec), int32(sh)
			if f&1 != 0 {
				c.shape |= grantedBit
			}
			c.setKind(int(f >> 1))
			switch c.kind() {
			case subjectNumber:
				if c.phone = r.Uint(); !phone.IsKey(c.phone) {
					r.Fail("bad number")
				}
			case subjectErased:
				if c.phone = r.Uint(); c.phone >= uint64(len(x.erasures)) {
					r.Fail("bad erasure")
				}
			case subjectNamed:
				nl, el, pl := r.Uint(), r.Uint(), r.Uint()
				if nl > math.MaxUint32 || el > math.MaxUint32 || nl+el+pl > uint64(len(named)-at) {
					r.Fail("bad decision")
					break
				}
				end := at + int(nl+el+pl)
				x.named[k] = namedSubject{s: named[at:end], nameLen: uint32(nl), emailLen: uint32(el)}
				at = end
			}
			x.vals.Append(c)
			es = append(es, sortedmap.Entry[[16]byte, int32]{Key: k, Value: int32(x.vals.Len() - 1)})
		}
		if r.Err() == nil && x.compact.Load(es) != nil {
			r.Fail("decisions not in id order")
		}
	}
	if r.Err() == nil && at != len(named) {
		r.Fail("subjects left over")
	}
	for n := r.Count(1); n > 0 && r.Err() == nil; n-- {
		var d ledger.Record
		if err := json.Unmarshal([]byte(r.String()), &d); err != nil {
			r.Fail("bad decision record")
			break
		}
		x.decisions[d.ID] = &d
	}
	if n := r.Count(2); n > 0 && r.Err() == nil {
		es := make([]sortedmap.Entry[uint64, uint64], 0, n)
		for ; n > 0; n-- {
			es = append(es, sortedmap.Entry[uint64, uint64]{Key: r.Uint(), Value: r.Uint()})
		}
		if r.Err() == nil && x.granted.Load(es) != nil {
			r.Fail("numbers not in order")
		}
	}
	for n := r.Count(2); n > 0; n-- {
		k := r.String()
		m := r.Uint()
		x.grantedS[k] = &m
	}
	for n := r.Count(2); n > 0; n-- {
		k := r.String()
		x.wide[k] = r.Strings()
	}
	if r.Err() == nil && r.Len() != 0 {
		r.Fail("trailing bytes")
	}
	if r.Err() != nil {
		return nil, r.Err()
	}
	return x, nil
}

func joinNUL(ss []string) string {
	var b []byte
	for i, s := range ss {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, s...)
	}
	return string(b)
}

// readID reads a 16-byte id.
func readID(r *binform.Reader) (k [16]byte) {
	copy(k[:], r.Raw(16))
	return k
}
