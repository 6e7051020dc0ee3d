// Package records folds the events of chatconsent's signed log (package
// collector/ledger) into what the owner must be able to show: for every
// WhatsApp number, the current state of each purpose (granted, refused,
// withdrawn, renewal needed) and the events that led to it (GDPR Art. 7(1)
// demonstrate consent, Art. 7(3) withdrawal, Art. 15 access).
//
// # Folding rules
//
// Events are applied in log order. A decision states the whole choice of
// the form: its purposes become granted (for "granted") and every other
// configured purpose refused; a refusal refuses all. A withdrawal sets the
// purposes it lists to withdrawn. Invite events change no state; they tell
// that the personal link was opened.
//
// A granted purpose needs renewal when the text it was granted on has been
// superseded, in the same language, by a text version marked as a material
// change (front matter material_change = true; the archive manifest's
// Version.MaterialChange) that was first published after it. See
// [Renewal].
//
// The collector keeps a [Book] in memory, rebuilt from the log on every
// start (no second store to keep in step); the CLI reads one with [Read].
package records

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// States of a purpose.
const (
	Granted   = "granted"
	Refused   = "refused"
	Withdrawn = "withdrawn"
	// RenewalNeeded is shown instead of Granted when [Renewal] says so.
	RenewalNeeded = "renewal needed"
	// NotAsked is shown instead of Refused for a purpose that was not on
	// the form of the decision's text version (configured later): the
	// person was never asked. See [Asked].
	NotAsked = "not asked"
)

// Event is one log record, with its exact line if the book keeps lines.
type Event struct {
	Record ledger.Record
	Line   []byte
}

// Purpose is the state of one purpose for one number.
type Purpose struct {
	ID string
	// State is [Granted], [Refused] or [Withdrawn] (never RenewalNeeded:
	// see [Book.Status]).
	State string
	// Since is the time of the event that set the state.
	Since time.Time
	// Event is the id of that event; Decision the id of the decision it
	// concerns (the same for a decision, the withdrawn decision for a
	// withdrawal).
	Event, Decision string
	// TextVersion and Lang are those of the decision.
	TextVersion, Lang string
}

// Person is everything the log holds about one number.
type Person struct {
	// Phone is the number, E.164.
	Phone string
	// Name and Email are the latest ones given on a decision.
	Name, Email string
	// Events lists every event about the number in log order.
	Events []*Event
	// Purposes maps purpose id → state; purposes never decided are absent.
	Purposes map[string]*Purpose
	// Erased is when the person's personal data were erased (the time of
	// the log's erasure record), or zero. An erased person's Phone is
	// [ErasedPrefix] and the erasure record's id; Name and Email are "".
	Erased time.Time
}

// ErasedPrefix starts the key that stands for a number in a [Book] once
// its openings were erased: "erased:" and the id of the erasure record.
// Their events, purposes, times and text versions stay; who it was does
// not.
const ErasedPrefix = "erased:"

// IsErased reports whether a Person's Phone is an erased person's key.
func IsErased(phone string) bool { return strings.HasPrefix(phone, ErasedPrefix) }

// Opener gives the openings of version-2 records: the private store
// (package collector/private).
type Opener interface {
	// Disclosures returns the disclosures of record id, or an error if
	// the store has none.
	Disclosures(id string) ([]string, error)
	// Erased returns the erasure record that destroyed record id's
	// openings, if one did.
	Erased(id string) (erasure string, ok bool)
}

// Open fills a version-2 record's personal fields from o (see
// ledger.Disclose). A record whose openings were erased gets the Subject
// {Phone: ErasedPrefix + erasure id}; one the store knows nothing of stays
// as it is (no subject). Version-1 records and a nil o are left alone.
func Open(rec *ledger.Record, o Opener) error {
	if o == nil || rec.V < ledger.FormatVersion || rec.SD == nil || rec.Subject != nil {
		return nil
	}
	ds, err := o.Disclosures(rec.ID)
	if err == nil {
		return ledger.Disclose(rec, ds)
	}
	if eid, ok := o.Erased(rec.ID); ok {
		rec.Subject = &ledger.Subject{Phone: ErasedPrefix + eid}
	}
	return nil
}

// Book is the folded log. It is not safe for concurrent use.
type Book struct {
	purposes  []string
	keepLines bool
	index     bool                         // see NewIndex
	compact   map[[16]byte]compactDecision // decisions of an index book, by binary id
	interned  map[string]string
	shapes    []shape             // of an index book's decisions, shared
	shapeIDs  map[string]int32    // shape key → index in shapes
	granted   map[uint64]uint64   // index book: number (see numberKey) → purposes granted, bit i for pids[i]
	grantedS  map[string]*uint64  // index book: the same for numbers that are not E.164 (a pointer, so that updates keep the cloned key)
	wide      map[string][]string // index book: number → granted ids beyond the 64th
	pids      []string            // index book: configured purpose ids, then others as met
	pidIndex  map[string]int
	events    []*Event
	people    map[string]*Person
	decisions map[string]*Event
	invites   map[string]*Event     // invite id → invite event
	used      map[string]string     // invite id → decision id
	refs      map[[16]byte][16]byte // withdrawal id → decision id (canonical ids)
}

// New returns an empty book. purposes are the configured purpose ids, in
// order (used for what a grant leaves unticked); keepLines keeps every
// event's line (for exports), at the cost of memory.
func New(purposes []string, keepLines bool) *Book {
	return &Book{
		purposes: slices.Clone(purposes), keepLines: keepLines,
		people: map[string]*Person{}, decisions: map[string]*Event{},
		invites: map[string]*Event{}, used: map[string]string{},
	}
}

// NewIndex returns an empty book that keeps only what the collector asks
// of it ([Book.Decision], [Book.Withdrawable], [Book.InviteUsed],
// [Book.InviteOpened]): per decision about 100 bytes plus the subject's,
// per number its granted purposes as a bit set. The collector holds its
// book for its whole life and every contact is a new number, so these are
// what its memory grows with. [Book.Events], [Book.Person] and
// [Book.People] of an index book are empty.
func NewIndex(purposes []string) *Book {
	b := New(purposes, false)
	b.index = true
	b.compact = map[[16]byte]compactDecision{}
	b.granted, b.grantedS = map[uint64]uint64{}, map[string]*uint64{}
	b.wide, b.pidIndex = map[string][]string{}, map[string]int{}
	for _, id := range purposes {
		b.pid(id)
	}
	return b
}

// pid returns the bit of purpose id in an index book's sets.
func (b *Book) pid(id string) int {
	if i, ok := b.pidIndex[id]; ok {
		return i
	}
	b.pids = append(b.pids, id)
	b.pidIndex[id] = len(b.pids) - 1
	return len(b.pids) - 1
}

// numberKey packs an E.164 number ("+" and at most 15 digits, ITU-T
// E.164 §6.1) into an integer: a 1, then the digits. A map keyed by it
// holds no string per number.
func numberKey(phone string) (uint64, bool) {
	if len(phone) < 2 || len(phone) > 16 || phone[0] != '+' {
		return 0, false
	}
	k := uint64(1)
	for i := 1; i < len(phone); i++ {
		c := phone[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		k = k*10 + uint64(c-'0')
	}
	return k, true
}

// mask returns the purposes granted for phone in an index book, and
// whether the book has a decision for it.
func (b *Book) mask(phone string) (uint64, bool) {
	if k, ok := numberKey(phone); ok {
		m, ok := b.granted[k]
		return m, ok
	}
	if p, ok := b.grantedS[phone]; ok {
		return *p, true
	}
	return 0, false
}

func (b *Book) setMask(phone string, m uint64) {
	if k, ok := numberKey(phone); ok {
		b.granted[k] = m
		return
	}
	if p, ok := b.grantedS[phone]; ok {
		*p = m // a map write would store this call's string as the key
		return
	}
	b.grantedS[strings.Clone(phone)] = &m // the key must not pin a request's memory
}

// withGranted returns phone's set m with purpose id granted (on) or not;
// ids beyond the 64th bit are kept in b.wide instead.
func (b *Book) withGranted(m uint64, phone, id string, on bool) uint64 {
	if i := b.pid(id); i < 64 {
		if on {
			return m | 1<<i
		}
		return m &^ (1 << i)
	}
	w := slices.DeleteFunc(b.wide[phone], func(s string) bool { return s == id })
	if on {
		w = append(w, id)
	}
	if len(w) == 0 {
		delete(b.wide, phone)
	} else {
		b.wide[strings.Clone(phone)] = w
	}
	return m
}

// addIndex is [Book.Add] for an index book.
func (b *Book) addIndex(rec *ledger.Record) error {
	switch rec.Type {
	case ledger.TypeInvite:
		b.invites[rec.ID] = opened
	case ledger.TypeDecision:
		if k, ok := binaryID(rec.ID); ok {
			c := compactDecision{sec: rec.Time.Unix(), nsec: int32(rec.Time.Nanosecond()), shape: b.shapeOf(rec),
				granted: rec.Decision == ledger.Granted}
			if sub := rec.Subject; sub != nil {
				c.hasSubj, c.subject = true, sub.Name+sub.Email+sub.Phone
				c.nameLen, c.emailLen = uint32(len(sub.Name)), uint32(len(sub.Email))
			}
			b.compact[k] = c
		} else { // an id not from this collector: kept whole
			b.decisions[rec.ID] = &Event{Record: *rec}
		}
		if rec.Invite != "" {
			b.used[rec.Invite] = rec.ID
		}
		if rec.Subject == nil || rec.Subject.Phone == "" {
			return nil
		}
		// A decision states the whole choice of its form: the configured
		// purposes and its own (see the package doc).
		phone := rec.Subject.Phone
		m, _ := b.mask(phone)
		granted := rec.Decision == ledger.Granted
		for _, id := range b.purposes {
			m = b.withGranted(m, phone, id, granted && slices.Contains(rec.Purposes, id))
		}
		for _, id := range rec.Purposes {
			m = b.withGranted(m, phone, id, granted)
		}
		b.setMask(phone, m)
	case ledger.TypeWithdrawal:
		d := b.Decision(rec.Ref)
		if d == nil {
			return fmt.Errorf("withdrawal %s refers to unknown decision %q", rec.ID, rec.Ref)
		}
		b.addRef(rec.ID, rec.Ref)
		phone := ""
		if rec.Subject != nil {
			phone = rec.Subject.Phone
		}
		if phone == "" && d.Subject != nil {
			phone = d.Subject.Phone
		}
		if m, ok := b.mask(phone); ok {
			for _, id := range rec.Purposes {
				m = b.withGranted(m, phone, id, false)
			}
			b.setMask(phone, m)
		}
	case ledger.TypeErasure:
		b.eraseIndex(rec)
	}
	return nil
}

// eraseIndex folds an erasure into an index book: the erased decisions
// keep their purposes under the key [ErasedPrefix] + the erasure's id
// instead of the number (so a withdrawal by record id still works), and
// their name, e-mail and number are dropped.
func (b *Book) eraseIndex(rec *ledger.Record) {
	key := ErasedPrefix + rec.ID
	for _, id := range rec.Erased {
		k, ok := binaryID(id)
		var phone string
		if ok {
			c, found := b.compact[k]
			if !found || !c.hasSubj {
				continue
			}
			phone = c.subject[c.nameLen+c.emailLen:]
			c.subject, c.nameLen, c.emailLen = key, 0, 0
			b.compact[k] = c
		} else if e := b.decisions[id]; e != nil && e.Record.Subject != nil {
			phone = e.Record.Subject.Phone
			e.Record.Subject = &ledger.Subject{Phone: key}
		} else {
			continue
		}
		if phone == key {
			continue
		}
		if m, ok := b.mask(phone); ok {
			old, _ := b.mask(key)
			b.setMask(key, old|m)
			if k, ok := numberKey(phone); ok {
				delete(b.granted, k)
			} else {
				delete(b.grantedS, phone)
			}
		}
		if w, ok := b.wide[phone]; ok {
			b.wide[key] = append(b.wide[key], w...)
			delete(b.wide, phone)
		}
	}
}

// compactDecision is what an index book keeps of a decision: what a
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

// shapeOf returns the index of rec's shape in b.shapes, adding it if new:
// a few versions, languages and combinations of purposes stand for
// thousands of decisions.
func (b *Book) shapeOf(rec *ledger.Record) int32 {
	key := rec.TextVersion + "\x00" + rec.Lang + "\x00" + strings.Join(rec.Purposes, "\x00")
	if i, ok := b.shapeIDs[key]; ok {
		return i
	}
	if b.shapeIDs == nil {
		b.shapeIDs = map[string]int32{}
	}
	sh := shape{version: b.intern(rec.TextVersion), lang: b.intern(rec.Lang)}
	for _, id := range rec.Purposes {
		sh.purposes = append(sh.purposes, b.intern(id))
	}
	b.shapes = append(b.shapes, sh)
	b.shapeIDs[key] = int32(len(b.shapes) - 1)
	return int32(len(b.shapes) - 1)
}

// binaryID returns the 16 bytes of a canonical record id (32 lower-case hex
// digits), or false for any other string, which then cannot collide with
// a canonical one.
func binaryID(id string) (k [16]byte, ok bool) {
	if len(id) != 32 {
		return k, false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return k, false
		}
	}
	_, err := hex.Decode(k[:], []byte(id))
	return k, err == nil
}

// intern returns a shared copy of s, so that the thousands of records on
// one text version hold its 64 hex digits once.
func (b *Book) intern(s string) string {
	if b.interned == nil {
		b.interned = map[string]string{}
	}
	if t, ok := b.interned[s]; ok {
		return t
	}
	b.interned[s] = s
	return s
}

// reset empties the book, keeping how it was made.
func (b *Book) reset() {
	nb := New(b.purposes, b.keepLines)
	if b.index {
		nb = NewIndex(b.purposes)
	}
	*b = *nb
}

// opened marks an invite's opening in an index book.
var opened = &Event{}

// Read verifies the log in src with pub and folds it into a new book,
// opening version-2 records with o (may be nil: see [Open]). Errors name
// the source (name, e.g. the file's path) and the line (ledger's
// *LineError).
func Read(src ledger.Source, name string, pub ed25519.PublicKey, o Opener, purposes []string, keepLines bool) (*Book, error) {
	b := New(purposes, keepLines)
	if _, err := ledger.VerifySource(src, ledger.NewVerifier(pub), func(rec *ledger.Record, line []byte) error {
		if err := Open(rec, o); err != nil {
			return err
		}
		return b.Add(rec, line)
	}); err != nil {
		return nil, fmt.Errorf("read log %s: %w", name, err)
	}
	return b, nil
}

// Add folds one record in. line is kept only if the book keeps lines. A
// record that contradicts the log so far (a withdrawal of an unknown
// decision) is an error; unknown event types are kept but change nothing.
// A migration record empties the book: the log's history is folded again
// from its re-records, which follow.
func (b *Book) Add(rec *ledger.Record, line []byte) error {
	if rec.Type == ledger.TypeMigration {
		// The records before a migration (a version-1 history) are
		// re-recorded after it, in order (see package ledger, "Migration
		// and redaction"): the book starts afresh and folds those.
		b.reset()
		return nil
	}
	if b.index {
		return b.addIndex(rec)
	}
	e := &Event{Record: *rec}
	if b.keepLines {
		e.Line = slices.Clone(line)
	}
	phone := ""
	if rec.Subject != nil {
		phone = rec.Subject.Phone
	}
	switch rec.Type {
	case ledger.TypeInvite:
		b.invites[rec.ID] = e
	case ledger.TypeDecision:
		b.decisions[rec.ID] = e
		if rec.Invite != "" {
			b.used[rec.Invite] = rec.ID
		}
	case ledger.TypeWithdrawal:
		d := b.Decision(rec.Ref)
		if d == nil {
			return fmt.Errorf("withdrawal %s refers to unknown decision %q", rec.ID, rec.Ref)
		}
		b.addRef(rec.ID, rec.Ref)
		if phone == "" && d.Subject != nil {
			phone = d.Subject.Phone
		}
	case ledger.TypeErasure:
		b.events = append(b.events, e)
		b.erase(e)
		return nil
	}
	b.events = append(b.events, e)
	if phone == "" {
		return nil
	}
	p := b.people[phone]
	if p == nil {
		p = &Person{Phone: phone, Purposes: map[string]*Purpose{}}
		b.people[phone] = p
	}
	p.Events = append(p.Events, e)
	set := func(id, state, decision, version, lang string) {
		p.Purposes[id] = &Purpose{ID: id, State: state, Since: rec.Time, Event: rec.ID, Decision: decision, TextVersion: version, Lang: lang}
	}
	switch rec.Type {
	case ledger.TypeDecision:
		if rec.Subject.Name != "" {
			p.Name = rec.Subject.Name
		}
		p.Email = rec.Subject.Email
		all := slices.Clone(b.purposes)
		for _, id := range rec.Purposes {
			if !slices.Contains(all, id) {
				all = append(all, id)
			}
		}
		for _, id := range all {
			state := Refused
			if rec.Decision == ledger.Granted && slices.Contains(rec.Purposes, id) {
				state = Granted
			}
			set(id, state, rec.ID, rec.TextVersion, rec.Lang)
		}
	case ledger.TypeWithdrawal:
		d := b.Decision(rec.Ref)
		for _, id := range rec.Purposes {
			set(id, Withdrawn, d.ID, d.TextVersion, d.Lang)
		}
	}
	return nil
}

// erase folds an erasure event into an owner's book: the people whose
// records it names lose number, name and e-mail (their events' subjects
// too) and are kept under [ErasedPrefix] + its id, with their purposes;
// the erasure is their last event.
func (b *Book) erase(e *Event) {
	rec := &e.Record
	key := ErasedPrefix + rec.ID
	for _, id := range rec.Erased {
		d := b.decisions[id]
		if d == nil || d.Record.Subject == nil {
			continue
		}
		phone := d.Record.Subject.Phone
		p := b.people[phone]
		if p == nil {
			continue
		}
		if phone != key {
			delete(b.people, phone)
			if q := b.people[key]; q != nil { // several numbers, one erasure
				q.Events = append(q.Events, p.Events...)
				for k, v := range p.Purposes {
					q.Purposes[k] = v
				}
				p = q
			}
		}
		p.Phone, p.Name, p.Email, p.Erased = key, "", "", rec.Time
		for _, ev := range p.Events {
			if ev.Record.Subject != nil {
				ev.Record.Subject = &ledger.Subject{Phone: key}
			}
			ev.Record.ClientIP, ev.Record.UserAgent, ev.Record.Token, ev.Record.Note = "", "", "", ""
		}
		b.people[key] = p
	}
	if p := b.people[key]; p != nil {
		p.Erased = rec.Time
		p.Events = append(p.Events, e)
	}
}

// Events returns every event in log order.
func (b *Book) Events() []*Event { return b.events }

// Person returns what the book knows about phone (E.164), or nil.
func (b *Book) Person(phone string) *Person { return b.people[phone] }

// People returns everyone in the book, ordered by number.
func (b *Book) People() []*Person {
	ps := make([]*Person, 0, len(b.people))
	for _, p := range b.people {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, c *Person) int { return strings.Compare(a.Phone, c.Phone) })
	return ps
}

// Decision returns the decision record with id, or nil.
func (b *Book) Decision(id string) *ledger.Record {
	if k, ok := binaryID(id); ok {
		if c, ok := b.compact[k]; ok {
			sh := b.shapes[c.shape]
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
	if e := b.decisions[id]; e != nil {
		return &e.Record
	}
	return nil
}

// addRef remembers which decision withdrawal id withdrew from (32 bytes
// per withdrawal).
func (b *Book) addRef(id, ref string) {
	w, ok1 := binaryID(id)
	d, ok2 := binaryID(ref)
	if !ok1 || !ok2 {
		return
	}
	if b.refs == nil {
		b.refs = map[[16]byte][16]byte{}
	}
	b.refs[w] = d
}

// WithdrawalRef returns the id of the decision that withdrawal id refers
// to: the record number a withdrawal's thank-you page and receipt show
// leads back to the decision.
func (b *Book) WithdrawalRef(id string) (string, bool) {
	w, ok := binaryID(id)
	if !ok {
		return "", false
	}
	d, ok := b.refs[w]
	if !ok {
		return "", false
	}
	return hex.EncodeToString(d[:]), true
}

// InviteUsed returns the id of the decision made through invite id.
func (b *Book) InviteUsed(id string) (decision string, ok bool) {
	decision, ok = b.used[id]
	return decision, ok
}

// InviteOpened reports whether the log holds the invite's opening.
func (b *Book) InviteOpened(id string) bool { return b.invites[id] != nil }

// Withdrawable returns the purposes that a withdrawal referring to
// decision id can withdraw: every purpose currently granted for the
// decision's number, whichever decision granted it, in the configured
// order. Whoever holds a decision's link or record id for a number can so
// withdraw all consent in force for that number (GDPR Art. 7(3): as easy
// as giving it), including a later grant that someone else posted for the
// number on the public form.
func (b *Book) Withdrawable(id string) []string {
	d := b.Decision(id)
	if d == nil || d.Subject == nil {
		return nil
	}
	if b.index {
		m, ok := b.mask(d.Subject.Phone)
		if !ok {
			return nil
		}
		w := b.wide[d.Subject.Phone]
		var out, extra []string
		for i, pid := range b.pids {
			if (i < 64 && m&(1<<i) != 0) || (i >= 64 && slices.Contains(w, pid)) {
				if i < len(b.purposes) {
					out = append(out, pid)
				} else {
					extra = append(extra, pid)
				}
			}
		}
		slices.Sort(extra)
		return append(out, extra...)
	}
	p := b.people[d.Subject.Phone]
	if p == nil {
		return nil
	}
	var out []string
	for _, pid := range b.order(p) {
		if st := p.Purposes[pid]; st != nil && st.State == Granted {
			out = append(out, pid)
		}
	}
	return out
}

// order returns the configured purpose ids, then any other id p has a
// state for (a purpose since removed from the config), sorted.
func (b *Book) order(p *Person) []string {
	ids := slices.Clone(b.purposes)
	var extra []string
	for id := range p.Purposes {
		if !slices.Contains(ids, id) {
			extra = append(extra, id)
		}
	}
	slices.Sort(extra)
	return append(ids, extra...)
}

// Status returns the state of every purpose the number has decided on, in
// the configured order (unknown ids after them), and for each whether it
// needs renewal under manifest m (nil: none does).
func (b *Book) Status(p *Person, m *textarchive.Manifest) []Status {
	var out []Status
	for _, id := range b.order(p) {
		st := p.Purposes[id]
		if st == nil {
			continue
		}
		s := Status{Purpose: *st, Shown: st.State}
		if st.State == Granted && Renewal(m, st.TextVersion, st.Lang, st.Since) {
			s.Renewal, s.Shown = true, RenewalNeeded
		}
		if st.State == Refused && !Asked(m, st.TextVersion, id) {
			s.Shown = NotAsked
		}
		out = append(out, s)
	}
	return out
}

// Asked reports whether purpose id was on the consent form of text
// version under manifest m: true unless the manifest lists the version's
// purposes ([textarchive.Version.Purposes]) and id is not among them.
func Asked(m *textarchive.Manifest, version, id string) bool {
	if m == nil {
		return true
	}
	v, ok := m.Versions[version]
	return !ok || v.Purposes == nil || slices.Contains(v.Purposes, id)
}

// Status is a [Purpose] as shown to the owner.
type Status struct {
	Purpose
	// Renewal is true for a granted purpose whose text was superseded by a
	// material change; Shown is then [RenewalNeeded]; for a refused purpose
	// that was not on the decision's form it is [NotAsked]; else State.
	Renewal bool
	Shown   string
}

// Renewal reports whether consent given at time on text version (language
// lang) needs to be asked for again: a version of the same language marked
// as a material change was first published after version (or, for a
// version missing from the manifest, after the consent was given).
func Renewal(m *textarchive.Manifest, version, lang string, given time.Time) bool {
	if m == nil {
		return false
	}
	since := given
	if v, ok := m.Versions[version]; ok {
		since = v.FirstPublished
	}
	for name, v := range m.Versions {
		if name != version && v.MaterialChange && v.Lang == lang && v.FirstPublished.After(since) {
			return true
		}
	}
	return false
}

// NeedsRenewal returns the people with at least one purpose that needs
// renewal, ordered by number.
func (b *Book) NeedsRenewal(m *textarchive.Manifest) []*Person {
	var out []*Person
	for _, p := range b.People() {
		if slices.ContainsFunc(b.Status(p, m), func(s Status) bool { return s.Renewal }) {
			out = append(out, p)
		}
	}
	return out
}
