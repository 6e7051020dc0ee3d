package records

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/binform"
)

// This file is the binary form of an [Index], for the collector's
// snapshot (package collector/snapshot): a start that loads it instead of
// folding the whole log again.
//
// # Format (version 1)
//
// In internal/binform's form (unsigned varints, a string its length then
// its bytes, a list its length then its items), an id its 16 bytes (a
// canonical record id, 32 lower-case hex digits). In order:
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
	w := &binform.Writer{B: b}
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
	ids := slices.SortedFunc(maps.Keys(x.compact), cmpID)
	n := 0
	for _, k := range ids {
		n += len(x.compact[k].subject)
	}
	w.Uint(uint64(n))
	for _, k := range ids {
		w.B = append(w.B, x.compact[k].subject...)
	}
	w.Uint(uint64(len(ids)))
	for _, k := range ids {
		c := x.compact[k]
		w.Raw(k[:])
		w.Varint(c.sec)
		w.Uint(uint64(uint32(c.nsec)))
		w.Uint(uint64(uint32(c.shape)))
		var f uint64
		if c.granted {
			f |= 1
		}
		if c.hasSubj {
			f |= 2
		}
		w.Uint(f)
		w.Uint(uint64(c.nameLen))
		w.Uint(uint64(c.emailLen))
		w.Uint(uint64(len(c.subject)) - uint64(c.nameLen) - uint64(c.emailLen))
	}
	dids := slices.Sorted(maps.Keys(x.decisions))
	w.Uint(uint64(len(dids)))
	for _, id := range dids {
		j, err := json.Marshal(x.decisions[id])
		if err != nil {
			return nil, fmt.Errorf("index: decision %q: %w", id, err)
		}
		w.String(string(j))
	}
	gk := slices.Sorted(maps.Keys(x.granted))
	w.Uint(uint64(len(gk)))
	for _, k := range gk {
		w.Uint(k)
		w.Uint(x.granted[k])
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
	return w.B, nil
}

func cmpID(a, b [16]byte) int { return slices.Compare(a[:], b[:]) }

// DecodeIndex returns the index whose binary form ([Index.AppendBinary])
// is b. Bytes that are not such a form, or one inconsistent in itself
// (a shape or purpose bit out of range, lengths beyond the data), are an
// error, never a panic; the caller then folds the log instead.
func DecodeIndex(b []byte) (*Index, error) {
	r := binform.NewReader(b, errIndexFormat)
	if v := r.Uint(); v != indexFormat && r.Err() == nil {
		return nil, fmt.Errorf("%w: format %d", errIndexFormat, v)
	}
	x := NewIndex(r.Strings())
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
	subjects := r.String() // one string: each decision's subject is a part of it
	at := 0
	if n := r.Count(16 + 6); n > 0 {
		x.compact = make(map[[16]byte]compactDecision, n)
		for ; n > 0 && r.Err() == nil; n-- {
			k := readID(r)
			c := compactDecision{sec: r.Varint()}
			nsec, sh, f := r.Uint(), r.Uint(), r.Uint()
			nl, el, pl := r.Uint(), r.Uint(), r.Uint()
			if nsec >= 1e9 || sh >= uint64(len(x.shapes)) || f > 3 || nl > math.MaxUint32 || el > math.MaxUint32 || nl+el+pl > uint64(len(subjects)-at) {
				r.Fail("bad decision")
				break
			}
			c.nsec, c.shape, c.granted, c.hasSubj = int32(nsec), int32(sh), f&1 != 0, f&2 != 0
			c.nameLen, c.emailLen = uint32(nl), uint32(el)
			end := at + int(nl+el+pl)
			c.subject, at = subjects[at:end], end
			if _, dup := x.compact[k]; dup {
				r.Fail("decision listed twice")
			}
			x.compact[k] = c
		}
	}
	if r.Err() == nil && at != len(subjects) {
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
	for n := r.Count(2); n > 0; n-- {
		k := r.Uint()
		x.granted[k] = r.Uint()
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
