package records

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/phone"
	"github.com/chatconsent/chatconsent/internal/sortedmap"
	"github.com/chatconsent/chatconsent/internal/spill"
)

// Index is the collector's compact fold of the log: only what answering
// invites and withdrawals needs ([Index.Decision], [Index.Withdrawable],
// [Index.InviteUsed], [Index.InviteOpened], [Index.WithdrawalRef]): per
// decision 40 bytes (its binary id, time, shape and number, in a
// [sortedmap.Map]), per number its granted purposes as a bit set (16
// bytes). A version-2 decision's name and e-mail address are not kept:
// the private store holds them, and [Index.Decision] reads them through
// the [Opener] given to [Index.UseOpener]. The collector holds its index
// for its whole life and every contact is a new number, so these are what
// its memory grows with (issue 13: memory at 500,000 decisions). It folds
// by the same rules as the owner's [Book] (settings, in fold.go). It is
// not safe for concurrent use.
type Index struct {
	links
	purposes  []string
	compact   *sortedmap.Map[[16]byte, int32] // decisions, by binary id: their rows in vals
	vals      *spill.Rows[compactDecision]    // the compact decisions, in the order added
	spillDir  string                          // where vals are spilled ("": memory)
	err       error                           // the first error reading vals (Index.Err)
	named     map[[16]byte]namedSubject       // subjects of compact decisions kept whole (kind subjectNamed)
	erasures  []string                        // erased keys (ErasedPrefix + erasure id) of kind subjectErased
	erasureAt map[string]uint64               // erased key → its place in erasures
	decisions map[string]*ledger.Record       // decisions whose ids are not canonical, kept whole
	interned  map[string]string
	shapes    []shape                        // of the decisions, shared
	shapeIDs  map[string]int32               // shape key → index in shapes
	granted   *sortedmap.Map[uint64, uint64] // number (see phone.Key) → purposes granted, bit i for pids[i]
	grantedS  map[string]*uint64             // the same for numbers that are not E.164 (a pointer, so that updates keep the cloned key)
	wide      map[string][]string            // number → granted ids beyond the 64th
	pids      []string                       // configured purpose ids, then others as met
	pidIndex  map[string]int
	open      Opener
}

// UseOpener makes x keep only the number of version-2 decisions it folds
// from now on (records with commitments, ledger.Record.SD, whose personal
// fields were opened), and read their name and e-mail address from o
// when asked ([Index.Decision]). A failure to read them leaves them empty
// in Decision's answer: o is where to report it.
func (x *Index) UseOpener(o Opener) { x.open = o }

// NewIndex returns an empty index; purposes are the configured purpose
// ids, in order.
func NewIndex(purposes []string) *Index {
	x := &Index{
		links: newLinks(), purposes: slices.Clone(purposes),
		compact: sortedmap.New[[16]byte, int32](cmpID), vals: spill.New(compactDecisions), named: map[[16]byte]namedSubject{},
		erasureAt: map[string]uint64{}, decisions: map[string]*ledger.Record{},
		granted: sortedmap.New[uint64, uint64](cmp.Compare[uint64]), grantedS: map[string]*uint64{},
		wide: map[string][]string{}, pidIndex: map[string]int{},
	}
	for _, id := range purposes {
		x.pid(id)
	}
	return x
}

// pid returns the bit of purpose id in the index's sets.
func (x *Index) pid(id string) int {
	if i, ok := x.pidIndex[id]; ok {
		return i
	}
	x.pids = append(x.pids, id)
	x.pidIndex[id] = len(x.pids) - 1
	return len(x.pids) - 1
}

// mask returns the purposes granted for number, and whether the index has
// a decision for it.
func (x *Index) mask(number string) (uint64, bool) {
	if k, ok := phone.Key(number); ok {
		return x.granted.Get(k)
	}
	if p, ok := x.grantedS[number]; ok {
		return *p, true
	}
	return 0, false
}

func (x *Index) setMask(number string, m uint64) {
	if k, ok := phone.Key(number); ok {
		x.granted.Set(k, m)
		return
	}
	if p, ok := x.grantedS[number]; ok {
		*p = m // a map write would store this call's string as the key
		return
	}
	x.grantedS[strings.Clone(number)] = &m // the key must not pin a request's memory
}

func (x *Index) deleteMask(number string) {
	if k, ok := phone.Key(number); ok {
		x.granted.Delete(k)
	} else {
		delete(x.grantedS, number)
	}
}

// withGranted returns phone's set m with purpose id granted (on) or not;
// ids beyond the 64th bit are kept in x.wide instead.
func (x *Index) withGranted(m uint64, phone, id string, on bool) uint64 {
	if i := x.pid(id); i < 64 {
		if on {
			return m | 1<<i
		}
		return m &^ (1 << i)
	}
	w := slices.DeleteFunc(x.wide[phone], func(s string) bool { return s == id })
	if on {
		w = append(w, id)
	}
	if len(w) == 0 {
		delete(x.wide, phone)
	} else {
		x.wide[strings.Clone(phone)] = w
	}
	return m
}

// Add folds one record in (the rules of the package doc); line is not
// kept (the parameter makes Add the same as [Book.Add]). A withdrawal of
// an unknown decision is an error; unknown event types change nothing.
//
// A migration record empties the index, as it does a [Book].
func (x *Index) Add(rec *ledger.Record, _ []byte) error {
	if rec.Type == ledger.TypeMigration {
		open, dir := x.open, x.spillDir
		x.vals.Close()
		*x = *NewIndex(x.purposes)
		x.open = open
		if dir != "" {
			return x.SpillTo(dir)
		}
		return nil
	}
	x.note(rec)
	switch rec.Type {
	case ledger.TypeDecision:
		if k, ok := binaryID(rec.ID); ok {
			c := compactDecision{sec: rec.Time.Unix(), nsec: uint32(rec.Time.Nanosecond()), shape: x.shapeOf(rec)}
			if rec.Decision == ledger.Granted {
				c.shape |= grantedBit
			}
			delete(x.named, k)
			if sub := rec.Subject; sub != nil {
				pk, e164 := phone.Key(sub.Phone)
				switch {
				case e164 && x.open != nil && rec.SD != nil:
					c.setKind(subjectNumber)
					c.phone = pk
				case IsErased(sub.Phone):
					c.setKind(subjectErased)
					c.phone = x.erasureIndex(sub.Phone)
				default:
					c.setKind(subjectNamed)
					x.named[k] = namedSubject{s: sub.Name + sub.Email + sub.Phone, nameLen: uint32(len(sub.Name)), emailLen: uint32(len(sub.Email))}
				}
			}
			if err := x.set(k, c); err != nil {
				return err
			}
		} else { // an id not from this collector: kept whole
			r := *rec
			x.decisions[rec.ID] = &r
		}
	case ledger.TypeErasure:
		x.erase(rec)
		return nil
	}
	phone, _, sets, err := settings(rec, x.purposes, x.number)
	if err != nil || phone == "" || len(sets) == 0 {
		return err
	}
	m, ok := x.mask(phone)
	if !ok && rec.Type != ledger.TypeDecision {
		return nil // a withdrawal for a number with no decision indexed
	}
	for _, s := range sets {
		m = x.withGranted(m, phone, s.ID, s.State == Granted)
	}
	x.setMask(phone, m)
	return nil
}

// erasureIndex returns key's place in x.erasures, adding it if new.
func (x *Index) erasureIndex(key string) uint64 {
	if i, ok := x.erasureAt[key]; ok {
		return i
	}
	key = strings.Clone(key)
	x.erasures = append(x.erasures, key)
	x.erasureAt[key] = uint64(len(x.erasures) - 1)
	return uint64(len(x.erasures) - 1)
}

// erase folds an erasure: the erased decisions keep their purposes under
// the key [ErasedPrefix] + the erasure's id instead of the number (so a
// withdrawal by record id still works), and their name, e-mail and number
// are dropped.
func (x *Index) erase(rec *ledger.Record) {
	key := erasedKey(rec)
	for _, id := range rec.Erased {
		k, ok := binaryID(id)
		var phone string
		if ok {
			c, found := x.get(k)
			if !found || c.kind() == subjectNone {
				continue
			}
			phone = x.phoneOf(k, c)
			c.setKind(subjectErased)
			c.phone = x.erasureIndex(key)
			if x.set(k, c) != nil {
				continue // x.err says why
			}
			delete(x.named, k)
		} else if d := x.decisions[id]; d != nil && d.Subject != nil {
			phone = d.Subject.Phone
			d.Subject = &ledger.Subject{Phone: key}
		} else {
			continue
		}
		if phone == key {
			continue
		}
		if m, ok := x.mask(phone); ok {
			old, _ := x.mask(key)
			x.setMask(key, old|m)
			x.deleteMask(phone)
		}
		if w, ok := x.wide[phone]; ok {
			x.wide[key] = append(x.wide[key], w...)
			delete(x.wide, phone)
		}
	}
}

// phoneOf returns the number (or erased key) of compact decision c with
// binary id k, or "" if it has no subject.
func (x *Index) phoneOf(k [16]byte, c compactDecision) string {
	switch c.kind() {
	case subjectNumber:
		return phone.FromKey(c.phone)
	case subjectErased:
		return x.erasures[c.phone]
	case subjectNamed:
		n := x.named[k]
		return n.s[n.nameLen+n.emailLen:]
	}
	return ""
}

// names returns the name and e-mail address of version-2 record id, from
// its openings in the private store ("" where they cannot be read).
func (x *Index) names(id string) (name, email string) {
	ds, err := x.open.Disclosures(id)
	if err != nil {
		return "", ""
	}
	var opened ledger.Record
	for _, s := range ds {
		if d, err := ledger.ParseDisclosure(s); err == nil {
			d.Set(&opened)
		}
	}
	if opened.Subject == nil {
		return "", ""
	}
	return opened.Subject.Name, opened.Subject.Email
}

// number is [Index.Decision] without the name and e-mail address of a
// version-2 decision (nothing read from the private store): what folding
// a withdrawal needs.
func (x *Index) number(id string) *ledger.Record { return x.decision(id, false) }

// HasDecision reports whether x holds the decision with id.
func (x *Index) HasDecision(id string) bool {
	if k, ok := binaryID(id); ok {
		if _, ok := x.compact.Get(k); ok {
			return true
		}
	}
	return x.decisions[id] != nil
}

// Decision returns the decision record with id, or nil. The record holds
// what the index keeps: id, time, decision, purposes, language, text
// version and subject (for a version-2 decision its name and e-mail
// address read from the index's [Opener]; for an erased one only the
// number [ErasedPrefix] + erasure id).
func (x *Index) Decision(id string) *ledger.Record { return x.decision(id, true) }

func (x *Index) decision(id string, names bool) *ledger.Record {
	if k, ok := binaryID(id); ok {
		if c, ok := x.get(k); ok {
			sh := x.shapes[c.shape&^grantedBit]
			r := &ledger.Record{Type: ledger.TypeDecision, ID: id, Time: time.Unix(c.sec, int64(c.nsec&nsecMask)).UTC(),
				Decision: ledger.Refused, Purposes: slices.Clone(sh.purposes), Lang: sh.lang, TextVersion: sh.version}
			if c.shape&grantedBit != 0 {
				r.Decision = ledger.Granted
			}
			switch c.kind() {
			case subjectNumber:
				r.Subject = &ledger.Subject{Phone: phone.FromKey(c.phone)}
				if names && x.open != nil {
					r.Subject.Name, r.Subject.Email = x.names(id)
				}
			case subjectErased:
				r.Subject = &ledger.Subject{Phone: x.erasures[c.phone]}
			case subjectNamed:
				n := x.named[k]
				e := n.nameLen + n.emailLen
				r.Subject = &ledger.Subject{Name: n.s[:n.nameLen], Email: n.s[n.nameLen:e], Phone: n.s[e:]}
			}
			return r
		}
	}
	if d := x.decisions[id]; d != nil {
		r := *d
		return &r
	}
	return nil
}

// Withdrawable is [Book.Withdrawable] for the index.
func (x *Index) Withdrawable(id string) []string {
	d := x.number(id)
	if d == nil || d.Subject == nil {
		return nil
	}
	m, ok := x.mask(d.Subject.Phone)
	if !ok {
		return nil
	}
	w := x.wide[d.Subject.Phone]
	var granted []string
	for i, pid := range x.pids {
		if (i < 64 && m&(1<<i) != 0) || (i >= 64 && slices.Contains(w, pid)) {
			granted = append(granted, pid)
		}
	}
	if len(granted) == 0 {
		return nil
	}
	return inOrder(x.purposes, granted, true)
}

// SpillTo moves the index's compact decisions (24 bytes each) to an
// unlinked file in dir (package internal/spill), and those folded from
// now on: the collector's memory then holds 20 bytes per decision (its id
// and row) instead of 40. The rows hold numbers (as phone.Key): dir is
// the private folder.
func (x *Index) SpillTo(dir string) error { return x.spillTo(dir, 0) }

// spillTo is SpillTo keeping tail rows in memory (spill.Rows.SetTail; 0:
// its default). Tests use 1.
func (x *Index) spillTo(dir string, tail int) error {
	if tail > 0 {
		x.vals.SetTail(tail)
	}
	if err := x.vals.SpillTo(dir); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	x.spillDir = dir
	return nil
}

// Close closes the index's spill file, if any: an index not used after
// all (a snapshot's, refused) gives it back at once. The index is not
// used after Close.
func (x *Index) Close() error { return x.vals.Close() }

// Err returns the first error reading the spilled decisions (a failing
// disk): the lookups that met it answered as if the decision were not
// there. Nil in memory.
func (x *Index) Err() error { return x.err }

// get returns the compact decision with binary id k.
func (x *Index) get(k [16]byte) (compactDecision, bool) {
	i, ok := x.compact.Get(k)
	if !ok {
		return compactDecision{}, false
	}
	c, err := x.vals.At(int(i))
	if err != nil {
		if x.err == nil {
			x.err = fmt.Errorf("index: %w", err)
		}
		return c, false
	}
	return c, true
}

// set makes c the compact decision with binary id k.
func (x *Index) set(k [16]byte, c compactDecision) error {
	if i, ok := x.compact.Get(k); ok {
		if err := x.vals.Set(int(i), c); err != nil {
			if x.err == nil {
				x.err = fmt.Errorf("index: %w", err)
			}
			return x.err
		}
		return nil
	}
	x.vals.Append(c)
	x.compact.Set(k, int32(x.vals.Len()-1))
	return nil
}

// compactDecisions are the rows of vals: sec, phone, nsec, shape,
// little-endian, 24 bytes.
var compactDecisions = spill.Codec[compactDecision]{Size: 24,
	Put: func(b []byte, c compactDecision) {
		binary.LittleEndian.PutUint64(b, uint64(c.sec))
		binary.LittleEndian.PutUint64(b[8:], c.phone)
		binary.LittleEndian.PutUint32(b[16:], c.nsec)
		binary.LittleEndian.PutUint32(b[20:], uint32(c.shape))
	},
	Get: func(b []byte) compactDecision {
		return compactDecision{sec: int64(binary.LittleEndian.Uint64(b)), phone: binary.LittleEndian.Uint64(b[8:]),
			nsec: binary.LittleEndian.Uint32(b[16:]), shape: int32(binary.LittleEndian.Uint32(b[20:]))}
	}}

// compactDecision is what an [Index] keeps of a decision: what a
// withdrawal needs, and nothing held twice. The collector keeps one per
// decision for its whole life, so every byte here counts (40 with the
// key): the map key is the binary id, the time is two integers, text
// version, language and purposes are one shared [shape], and the subject
// is its number as a [phone.Key] (name and e-mail address are in the
// private store), or an erasure, or kept whole beside it (Index.named).
type compactDecision struct {
	sec   int64
	phone uint64 // subjectNumber: phone.Key; subjectErased: index in Index.erasures
	nsec  uint32 // the nanoseconds (< 2^30), and the subject's kind in the top two bits
	shape int32  // index in Index.shapes, and grantedBit
}

// Kinds of a compact decision's subject.
const (
	subjectNone   = 0 // the record had none
	subjectNumber = 1 // an E.164 number; name and e-mail through Index.open
	subjectNamed  = 2 // kept whole in Index.named
	subjectErased = 3 // erased: Index.erasures
)

const (
	nsecMask   = 1<<30 - 1
	grantedBit = -1 << 31 // in shape: the decision is a grant
)

func (c *compactDecision) kind() int { return int(c.nsec >> 30) }

func (c *compactDecision) setKind(k int) { c.nsec = c.nsec&nsecMask | uint32(k)<<30 }

// namedSubject is a subject kept whole: name + e-mail + number.
type namedSubject struct {
	s                 string
	nameLen, emailLen uint32
}

// shape is what many decisions have in common.
type shape struct {
	version, lang string
	purposes      []string
}

// shapeOf returns the index of rec's shape in x.shapes, adding it if new:
// a few versions, languages and combinations of purposes stand for
// thousands of decisions.
func (x *Index) shapeOf(rec *ledger.Record) int32 {
	key := rec.TextVersion + "\x00" + rec.Lang + "\x00" + strings.Join(rec.Purposes, "\x00")
	if i, ok := x.shapeIDs[key]; ok {
		return i
	}
	if x.shapeIDs == nil {
		x.shapeIDs = map[string]int32{}
	}
	sh := shape{version: x.intern(rec.TextVersion), lang: x.intern(rec.Lang)}
	for _, id := range rec.Purposes {
		sh.purposes = append(sh.purposes, x.intern(id))
	}
	x.shapes = append(x.shapes, sh)
	x.shapeIDs[key] = int32(len(x.shapes) - 1)
	return int32(len(x.shapes) - 1)
}

// intern returns a shared copy of s, so that the thousands of records on
// one text version hold its 64 hex digits once.
func (x *Index) intern(s string) string {
	if x.interned == nil {
		x.interned = map[string]string{}
	}
	if t, ok := x.interned[s]; ok {
		return t
	}
	x.interned[s] = s
	return s
}

// Purposes returns the configured purpose ids the index folds with (its
// [NewIndex] argument).
func (x *Index) Purposes() []string { return slices.Clone(x.purposes) }
