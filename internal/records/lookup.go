package records

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of [Book.PersonByRecord].
var (
	// ErrNoRecord: no event in the book has an id that starts so.
	ErrNoRecord = errors.New("no record with this id in the log")
	// ErrAmbiguousRecord: several events' ids start so; give more digits.
	ErrAmbiguousRecord = errors.New("several records have ids starting so: give more digits")
)

// MinRecordPrefix is how many leading digits of a record id
// [Book.PersonByRecord] needs at least.
const MinRecordPrefix = 6

// NormalizeRecordID returns a record id as typed (spaces, dashes and
// capitals do not matter, as on the withdrawal page) in lower-case hex,
// and whether it can be a record id or the start of one (at least
// [MinRecordPrefix] hex digits, at most 32).
func NormalizeRecordID(s string) (string, bool) {
	s = strings.ToLower(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s))
	if len(s) < MinRecordPrefix || len(s) > 32 {
		return s, false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return s, false
		}
	}
	return s, true
}

// PersonByRecord returns the person one of whose events has an id that
// starts with prefix (a normalised id, see [NormalizeRecordID]; all 32
// digits, or as many as list and status print), and the full id: the way
// to an erased person's events, which no number leads to any more. The
// id of an erasure record leads to the people it erased.
func (b *Book) PersonByRecord(prefix string) (*Person, string, error) {
	var found *Person
	var full string
	for _, p := range b.people {
		ids := make([]string, 0, len(p.Events)+1)
		for _, e := range p.Events {
			ids = append(ids, e.Record.ID)
		}
		if IsErased(p.Phone) {
			ids = append(ids, strings.TrimPrefix(p.Phone, ErasedPrefix))
		}
		for _, id := range ids {
			if !strings.HasPrefix(id, prefix) || id == full {
				continue
			}
			if found != nil && found != p {
				return nil, "", fmt.Errorf("%w (%s, %s)", ErrAmbiguousRecord, short(full), short(id))
			}
			found, full = p, id
		}
	}
	if found == nil {
		return nil, "", fmt.Errorf("%w: %s", ErrNoRecord, prefix)
	}
	return found, full, nil
}
