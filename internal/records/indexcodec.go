package records

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/chatconsent/chatconsent/collector/ledger"
)

// This file is the binary form of an [Index], for the collector's
// snapshot (package collector/snapshot): a start that loads it instead of
// folding the whole log again.
//
// # Format (version 1)
//
// Integers are unsigned varints (encoding/binary's Uvarint), a string is
// its length then its bytes, a list its length then its items, an id its
// 16 bytes (a canonical record id, 32 lower-case hex digits). In order:
//
//	1                                  the format version
//	purposes     list of string        configured purpose ids, in order
//	pids         list of string        purpose ids of the bit sets (pids[i] is bit i)
//	invites      list of string        invite ids whose opening is logged
//	used         list of (string, string)   invite id → decision id
//	refs         list of (id, id)      withdrawal id → decision id
//	shapes       list of (version string, lang string, purposes list of string)
//	subjects     string                every decision's name+e-mail+number, one after another
//	compact      list of (id, sec zigzag varint, nsec, shape, flags, nameLen, emailLen, phoneLen)
//	decisions    list of string        JSON of the decisions with non-canonical ids
//	granted      list of (key, mask)   E.164 number key → granted bits
//	grantedS     list of (string, mask) other numbers → granted bits
//	wide         list of (string, list of string) number → granted ids beyond the 64th
//
// flags: bit 0 granted, bit 1 has a subject. Each compact decision's
// subject is the next nameLen+emailLen+phoneLen bytes of subjects. Maps are
// written in key order, so equal indexes give equal bytes.
//
// The form holds the personal data the index holds (names, e-mail
// addresses, numbers of decisions not erased): the collector keeps it in
// the private folder, and signs and checks it (package collector/snapshot).

const indexFormat = 1

// errIndexFormat is wrapped by [DecodeIndex] for bytes that are not an
// index of this format.
var errIndexFormat = errors.New("not an index snapshot")

// AppendBinary appends x's binary form (see the format above) to b.
func (x *Index) AppendBinary(b []byte) ([]byte, error) {
	w := &ienc{b: b}
	w.uint(indexFormat)
	w.strings(x.purposes)
	w.strings(x.pids)
	w.strings(slices.Sorted(maps.Keys(x.invites)))
	used := slices.Sorted(maps.Keys(x.used))
	w.uint(uint64(len(used)))
	for _, k := range used {
		w.string(k)
		w.string(x.used[k])
	}
	refs := slices.SortedFunc(maps.Keys(x.refs), cmpID)
	w.uint(uint64(len(refs)))
	for _, k := range refs {
		v := x.refs[k]
		w.b = append(append(w.b, k[:]...), v[:]...)
	}
	w.uint(uint64(len(x.shapes)))
	for _, sh := range x.shapes {
		w.string(sh.version)
		w.string(sh.lang)
		w.strings(sh.purposes)
	}
	ids := slices.SortedFunc(maps.Keys(x.compact), cmpID)
	n := 0
	for _, k := range ids {
		n += len(x.compact[k].subject)
	}
	w.uint(uint64(n))
	for _, k := range ids {
		w.b = append(w.b, x.compact[k].subject...)
	}
	w.uint(uint64(len(ids)))
	for _, k := range ids {
		c := x.compact[k]
		w.b = append(w.b, k[:]...)
		w.b = binary.AppendVarint(w.b, c.sec)
		w.uint(uint64(uint32(c.nsec)))
		w.uint(uint64(uint32(c.shape)))
		var f uint64
		if c.granted {
			f |= 1
		}
		if c.hasSubj {
			f |= 2
		}
		w.uint(f)
		w.uint(uint64(c.nameLen))
		w.uint(uint64(c.emailLen))
		w.uint(uint64(len(c.subject)) - uint64(c.nameLen) - uint64(c.emailLen))
	}
	dids := slices.Sorted(maps.Keys(x.decisions))
	w.uint(uint64(len(dids)))
	for _, id := range dids {
		j, err := json.Marshal(x.decisions[id])
		if err != nil {
			return nil, fmt.Errorf("index: decision %q: %w", id, err)
		}
		w.string(string(j))
	}
	gk := slices.Sorted(maps.Keys(x.granted))
	w.uint(uint64(len(gk)))
	for _, k := range gk {
		w.uint(k)
		w.uint(x.granted[k])
	}
	gs := slices.Sorted(maps.Keys(x.grantedS))
	w.uint(uint64(len(gs)))
	for _, k := range gs {
		w.string(k)
		w.uint(*x.grantedS[k])
	}
	wk := slices.Sorted(maps.Keys(x.wide))
	w.uint(uint64(len(wk)))
	for _, k := range wk {
		w.string(k)
		w.strings(x.wide[k])
	}
	return w.b, nil
}

func cmpID(a, b [16]byte) int { return slices.Compare(a[:], b[:]) }

// DecodeIndex returns the index whose binary form ([Index.AppendBinary])
// is b. Bytes that are not such a form, or one inconsistent in itself
// (a shape or purpose bit out of range, lengths beyond the data), are an
// error, never a panic; the caller then folds the log instead.
func DecodeIndex(b []byte) (*Index, error) {
	r := &idec{b: b}
	if v := r.uint(); v != indexFormat && r.err == nil {
		return nil, fmt.Errorf("%w: format %d", errIndexFormat, v)
	}
	x := NewIndex(r.strings())
	pids := r.strings()
	if r.err == nil {
		if !slices.Equal(pids[:min(len(pids), len(x.pids))], x.pids) || len(pids) < len(x.pids) {
			r.fail("purpose bits do not start with the configured purposes")
		}
		for _, id := range pids[len(x.pids):] {
			if _, dup := x.pidIndex[id]; dup {
				r.fail("purpose listed twice")
				break
			}
			x.pid(id)
		}
	}
	for _, id := range r.strings() {
		x.invites[id] = true
	}
	for n := r.count(2); n > 0; n-- {
		k := r.string()
		x.used[k] = r.string()
	}
	if n := r.count(32); n > 0 {
		x.refs = make(map[[16]byte][16]byte, n)
		for ; n > 0; n-- {
			k, v := r.id(), r.id()
			x.refs[k] = v
		}
	}
	for n := r.count(3); n > 0; n-- {
		sh := shape{version: x.intern(r.string()), lang: x.intern(r.string())}
		for _, p := range r.strings() {
			sh.purposes = append(sh.purposes, x.intern(p))
		}
		key := sh.version + "\x00" + sh.lang + "\x00" + joinNUL(sh.purposes)
		if x.shapeIDs == nil {
			x.shapeIDs = map[string]int32{}
		}
		x.shapeIDs[key] = int32(len(x.shapes))
		x.shapes = append(x.shapes, sh)
	}
	subjects := r.string() // one string: each decision's subject is a part of it
	at := 0
	if n := r.count(16 + 6); n > 0 {
		x.compact = make(map[[16]byte]compactDecision, n)
		for ; n > 0 && r.err == nil; n-- {
			k := r.id()
			c := compactDecision{sec: r.varint()}
			nsec, sh, f := r.uint(), r.uint(), r.uint()
			nl, el, pl := r.uint(), r.uint(), r.uint()
			if nsec >= 1e9 || sh >= uint64(len(x.shapes)) || f > 3 || nl > math.MaxUint32 || el > math.MaxUint32 || nl+el+pl > uint64(len(subjects)-at) {
				r.fail("bad decision")
				break
			}
			c.nsec, c.shape, c.granted, c.hasSubj = int32(nsec), int32(sh), f&1 != 0, f&2 != 0
			c.nameLen, c.emailLen = uint32(nl), uint32(el)
			end := at + int(nl+el+pl)
			c.subject, at = subjects[at:end], end
			if _, dup := x.compact[k]; dup {
				r.fail("decision listed twice")
			}
			x.compact[k] = c
		}
	}
	if r.err == nil && at != len(subjects) {
		r.fail("subjects left over")
	}
	for n := r.count(1); n > 0 && r.err == nil; n-- {
		var d ledger.Record
		if err := json.Unmarshal([]byte(r.string()), &d); err != nil {
			r.fail("bad decision record")
			break
		}
		x.decisions[d.ID] = &d
	}
	for n := r.count(2); n > 0; n-- {
		k := r.uint()
		x.granted[k] = r.uint()
	}
	for n := r.count(2); n > 0; n-- {
		k := r.string()
		m := r.uint()
		x.grantedS[k] = &m
	}
	for n := r.count(2); n > 0; n-- {
		k := r.string()
		x.wide[k] = r.strings()
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return nil, r.err
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

type ienc struct{ b []byte }

func (w *ienc) uint(v uint64)   { w.b = binary.AppendUvarint(w.b, v) }
func (w *ienc) string(s string) { w.uint(uint64(len(s))); w.b = append(w.b, s...) }
func (w *ienc) strings(ss []string) {
	w.uint(uint64(len(ss)))
	for _, s := range ss {
		w.string(s)
	}
}

// idec reads the binary form; after the first error every read returns
// zero values and the error stays.
type idec struct {
	b   []byte
	err error
}

func (r *idec) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", errIndexFormat, what)
	}
	r.b = nil
}

func (r *idec) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *idec) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a list's length, each item at least min bytes long.
func (r *idec) count(min int) int {
	n := r.uint()
	if n > uint64(len(r.b)/min) {
		r.fail("list longer than the data")
		return 0
	}
	return int(n)
}

func (r *idec) string() string {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.fail("string longer than the data")
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *idec) strings() []string {
	n := r.count(1)
	var out []string
	for ; n > 0 && r.err == nil; n-- {
		out = append(out, r.string())
	}
	return out
}

func (r *idec) id() (k [16]byte) {
	if len(r.b) < 16 {
		r.fail("short id")
		return k
	}
	copy(k[:], r.b)
	r.b = r.b[16:]
	return k
}
