package records

import (
	"slices"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/phone"
)

// Index is the collector's compact fold of the log: only what answering
// invites and withdrawals needs ([Index.Decision], [Index.Withdrawable],
// [Index.InviteUsed], [Index.InviteOpened], [Index.WithdrawalRef]): per
// decision about 100 bytes plus the subject's, per number its granted
// purposes as a bit set. The collector holds its index for its whole life
// and every contact is a new number, so these are what its memory grows
// with. It folds by the same rules as the owner's [Book] (settings, in
// fold.go). It is not safe for concurrent use.
type Index struct {
	links
	purposes  []string
	compact   map[[16]byte]compactDecision // decisions, by binary id
	decisions map[string]*ledger.Record    // decisions whose ids are not canonical, kept whole
	interned  map[string]string
	shapes    []shape             // of the decisions, shared
	shapeIDs  map[string]int32    // shape key → index in shapes
	granted   map[uint64]uint64   // number (see phone.Key) → purposes granted, bit i for pids[i]
	grantedS  map[string]*uint64  // the same for numbers that are not E.164 (a pointer, so that updates keep the cloned key)
	wide      map[string][]string // number → granted ids beyond the 64th
	pids      []string            // configured purpose ids, then others as met
	pidIndex  map[string]int
}

// NewIndex returns an empty index; purposes are the configured purpose
// ids, in order.
func NewIndex(purposes []string) *Index {
	x := &Index{
		links: newLinks(), purposes: slices.Clone(purposes),
		compact: map[[16]byte]compactDecision{}, decisions: map[string]*ledger.Record{},
		granted: map[uint64]uint64{}, grantedS: map[string]*uint64{},
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
		m, ok := x.granted[k]
		return m, ok
	}
	if p, ok := x.grantedS[number]; ok {
		return *p, true
	}
	return 0, false
}

func (x *Index) setMask(number string, m uint64) {
	if k, ok := phone.Key(number); ok {
		x.granted[k] = m
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
		delete(x.granted, k)
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
		*x = *NewIndex(x.purposes)
		return nil
	}
	x.note(rec)
	switch rec.Type {
	case ledger.TypeDecision:
		if k, ok := binaryID(rec.ID); ok {
			c := compactDecision{sec: rec.Time.Unix(), nsec: int32(rec.Time.Nanosecond()), shape: x.shapeOf(rec),
				granted: rec.Decision == ledger.Granted}
			if sub := rec.Subject; sub != nil {
				c.hasSubj, c.subject = true, sub.Name+sub.Email+sub.Phone
				c.nameLen, c.emailLen = uint32(len(sub.Name)), uint32(len(sub.Email))
			}
			x.compact[k] = c
		} else { // an id not from this collector: kept whole
			r := *rec
			x.decisions[rec.ID] = &r
		}
	case ledger.TypeErasure:
		x.erase(rec)
		return nil
	}
	phone, _, sets, err := settings(rec, x.purposes, x.Decision)
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
			c, found := x.compact[k]
			if !found || !c.hasSubj {
				continue
			}
			phone = c.subject[c.nameLen+c.emailLen:]
			c.subject, c.nameLen, c.emailLen = key, 0, 0
			x.compact[k] = c
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

// Decision returns the decision record with id, or nil.
func (x *Index) Decision(id string) *ledger.Record {
	if k, ok := binaryID(id); ok {
		if c, ok := x.compact[k]; ok {
			sh := x.shapes[c.shape]
			r := &ledger.Record{Type: ledger.TypeDecision, ID: id, Time: time.Unix(c.sec, int64(c.nsec)).UTC(),
				Decision: ledger.Refused, Purposes: slices.Clone(sh.purposes), Lang: sh.lang, TextVersion: sh.version}
			if c.granted {
				r.Decision = ledger.Granted
			}
			if c.hasSubj {
				n, m := c.nameLen, c.nameLen+c.emailLen
				r.Subject = &ledger.Subject{Name: c.subject[:n], Email: c.subject[n:m], Phone: c.subject[m:]}
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
	d := x.Decision(id)
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

// compactDecision is what an [Index] keeps of a decision: what a
// withdrawal needs, and nothing held twice. The collector keeps one per
// decision for its whole life, so every byte here counts (64 with the
// key, plus the subject's bytes): the map key is the binary id, the time
// is two integers, name, e-mail and number are one string, and text
// version, language and purposes are one shared [shape].
type compactDecision struct {
	sec      int64
	nsec     int32
	shape    int32
	subject  string // name + e-mail + number
	nameLen  uint32
	emailLen uint32
	granted  bool
	hasSubj  bool // the record had a subject
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
