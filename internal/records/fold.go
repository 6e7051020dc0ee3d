package records

import (
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/chatconsent/chatconsent/collector/ledger"
)

// This file holds the folding rules (see the package doc) once, for both
// the owner's [Book] and the collector's [Index], and the links between
// records (invites, withdrawals) that both keep the same way.

// setting is one purpose's new state after a record.
type setting struct {
	ID, State string
}

// settings applies the folding rules to rec: the number it is about
// (the record's own, else that of the decision a withdrawal refers to) and
// the state each purpose takes. configured are the configured purpose ids;
// decision looks a decision up by id. A decision states the whole choice of
// its form: every configured purpose and its own become granted (for a
// grant that names them) or refused. A withdrawal sets the purposes it
// lists to withdrawn; one that refers to an unknown decision is an error.
// Other records change no state.
func settings(rec *ledger.Record, configured []string, decision func(string) *ledger.Record) (phone string, d *ledger.Record, out []setting, err error) {
	if rec.Subject != nil {
		phone = rec.Subject.Phone
	}
	switch rec.Type {
	case ledger.TypeDecision:
		granted := rec.Decision == ledger.Granted
		for _, id := range inOrder(configured, rec.Purposes, false) {
			state := Refused
			if granted && slices.Contains(rec.Purposes, id) {
				state = Granted
			}
			out = append(out, setting{id, state})
		}
		return phone, rec, out, nil
	case ledger.TypeWithdrawal:
		d = decision(rec.Ref)
		if d == nil {
			return "", nil, nil, fmt.Errorf("withdrawal %s refers to unknown decision %q", rec.ID, rec.Ref)
		}
		if phone == "" && d.Subject != nil {
			phone = d.Subject.Phone
		}
		for _, id := range rec.Purposes {
			out = append(out, setting{id, Withdrawn})
		}
		return phone, d, out, nil
	}
	return phone, nil, nil, nil
}

// erasedKey is the key an erasure record's people are kept under: see
// [ErasedPrefix].
func erasedKey(rec *ledger.Record) string { return ErasedPrefix + rec.ID }

// inOrder returns configured (all of them, or with onlyGiven only those
// in ids) in their order, then the other ids, sorted, each once: the order
// purposes are shown and withdrawn in (a purpose since removed from the
// config comes last).
func inOrder(configured, ids []string, onlyGiven bool) []string {
	out := make([]string, 0, len(configured)+len(ids))
	for _, id := range configured {
		if !onlyGiven || slices.Contains(ids, id) {
			out = append(out, id)
		}
	}
	var extra []string
	for _, id := range ids {
		if !slices.Contains(configured, id) && !slices.Contains(extra, id) {
			extra = append(extra, id)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// links are what both books keep of how records refer to each other:
// invites opened and used, and which decision a withdrawal withdrew from.
type links struct {
	invites map[string]bool       // invite id → its opening is logged
	used    map[string]string     // invite id → decision id
	refs    map[[16]byte][16]byte // withdrawal id → decision id (canonical ids)
}

func newLinks() links { return links{invites: map[string]bool{}, used: map[string]string{}} }

// note records rec's links.
func (l *links) note(rec *ledger.Record) {
	switch rec.Type {
	case ledger.TypeInvite:
		l.invites[rec.ID] = true
	case ledger.TypeDecision:
		if rec.Invite != "" {
			l.used[rec.Invite] = rec.ID
		}
	case ledger.TypeWithdrawal:
		w, ok1 := binaryID(rec.ID)
		d, ok2 := binaryID(rec.Ref)
		if !ok1 || !ok2 {
			return
		}
		if l.refs == nil {
			l.refs = map[[16]byte][16]byte{}
		}
		l.refs[w] = d // 32 bytes per withdrawal
	}
}

// WithdrawalRef returns the id of the decision that withdrawal id refers
// to: the record number a withdrawal's thank-you page and receipt show
// leads back to the decision.
func (l *links) WithdrawalRef(id string) (string, bool) {
	w, ok := binaryID(id)
	if !ok {
		return "", false
	}
	d, ok := l.refs[w]
	if !ok {
		return "", false
	}
	return hex.EncodeToString(d[:]), true
}

// InviteUsed returns the id of the decision made through invite id.
func (l *links) InviteUsed(id string) (decision string, ok bool) {
	decision, ok = l.used[id]
	return decision, ok
}

// InviteOpened reports whether the log holds the invite's opening.
func (l *links) InviteOpened(id string) bool { return l.invites[id] }

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
