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
// # Two folds, one set of rules
//
// The owner's commands read a [Book] ([Read]): every event, per number its
// states and events, for status, list, export, retention and renewal. The
// collector keeps an [Index] in memory, rebuilt from the log on every start
// (no second store to keep in step): only what invites and withdrawals
// need, about 100 bytes per decision. Both fold with the same rules
// (settings, erasedKey, inOrder and links in fold.go), so a rule lives
// once; TestIndex and TestIndexRandom check that they agree.
//
// # Files
//
//   - fold.go: the folding rules and the links between records;
//   - records.go: [Book], the owner's fold; index.go: [Index];
//   - lookup.go: a person by record id ([Book.PersonByRecord]);
//   - status.go, list.go, export.go, retention.go: what the owner's
//     commands print from a Book.
package records

import (
	"crypto/ed25519"
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

// Book is the owner's fold of the log: every event, and per number its
// purposes' states and events (status, list, export, retention, renewal).
// The collector keeps the smaller [Index] instead; both fold by the same
// rules (fold.go). It is not safe for concurrent use.
type Book struct {
	links
	purposes  []string
	keepLines bool
	events    []*Event
	people    map[string]*Person
	decisions map[string]*Event
}

// New returns an empty book. purposes are the configured purpose ids, in
// order (used for what a grant leaves unticked); keepLines keeps every
// event's line (for exports), at the cost of memory.
func New(purposes []string, keepLines bool) *Book {
	return &Book{
		links: newLinks(), purposes: slices.Clone(purposes), keepLines: keepLines,
		people: map[string]*Person{}, decisions: map[string]*Event{},
	}
}

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
		*b = *New(b.purposes, b.keepLines)
		return nil
	}
	phone, d, sets, err := settings(rec, b.purposes, b.Decision)
	if err != nil {
		return err
	}
	b.note(rec)
	e := &Event{Record: *rec}
	if b.keepLines {
		e.Line = slices.Clone(line)
	}
	b.events = append(b.events, e)
	switch rec.Type {
	case ledger.TypeDecision:
		b.decisions[rec.ID] = e
	case ledger.TypeErasure:
		b.erase(e)
		return nil
	}
	if phone == "" {
		return nil
	}
	p := b.people[phone]
	if p == nil {
		p = &Person{Phone: phone, Purposes: map[string]*Purpose{}}
		b.people[phone] = p
	}
	p.Events = append(p.Events, e)
	if rec.Type == ledger.TypeDecision {
		if rec.Subject.Name != "" {
			p.Name = rec.Subject.Name
		}
		p.Email = rec.Subject.Email
	}
	for _, s := range sets { // d is the decision the states concern
		p.Purposes[s.ID] = &Purpose{ID: s.ID, State: s.State, Since: rec.Time, Event: rec.ID, Decision: d.ID, TextVersion: d.TextVersion, Lang: d.Lang}
	}
	return nil
}

// erase folds an erasure event into an owner's book: the people whose
// records it names lose number, name and e-mail (their events' subjects
// too) and are kept under [ErasedPrefix] + its id, with their purposes;
// the erasure is their last event.
func (b *Book) erase(e *Event) {
	rec := &e.Record
	key := erasedKey(rec)
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
	if e := b.decisions[id]; e != nil {
		return &e.Record
	}
	return nil
}

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
	ids := make([]string, 0, len(p.Purposes))
	for id := range p.Purposes {
		ids = append(ids, id)
	}
	return inOrder(b.purposes, ids, false)
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
