package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Errors of [Migrate] and of the migration checks in [Verify].
var (
	// ErrEmpty: the log has no lines.
	ErrEmpty = errors.New("the log is empty: nothing to migrate")
	// ErrMigrated: the log holds a migration record already.
	ErrMigrated = errors.New("the log was migrated already")
	// ErrNothingToMigrate: the log holds no version-1 lines.
	ErrNothingToMigrate = errors.New("the log holds no version-1 lines: it is version 2 already, nothing to migrate")
	// ErrMigration: a migration record or re-record is not where or what
	// the format says.
	ErrMigration = errors.New("migration records out of place")
	// ErrNotAttested: a redacted line's hash is not the "migrated" hash of
	// its re-record (the line was changed, or its re-record is missing).
	ErrNotAttested = errors.New("redacted line is not attested by its signed re-record after the migration record")
)

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// checkMigration checks a version-2 record's History and Migrated on
// their own (where they stand is checked by migrationCheck).
func checkMigration(rec *Record) error {
	if rec.Type == TypeMigration {
		switch {
		case rec.History == 0 || rec.History != rec.Seq-1:
			return fmt.Errorf("migration record: history %d, want seq-1 = %d", rec.History, rec.Seq-1)
		case rec.Migrated != rec.Prev:
			return errors.New("migration record: migrated is not the hash of the line before it (prev)")
		case rec.SD != nil || rec.Erased != nil || rec.Purposes != nil || rec.Decision != "":
			return errors.New("migration record holds only history and migrated")
		}
		return nil
	}
	if rec.History != 0 {
		return errors.New("history is only on a migration record")
	}
	if rec.Migrated != "" && !isHex64(rec.Migrated) {
		return errors.New("migrated is not a lower-case hex SHA-256")
	}
	return nil
}

// migrationCheck follows a log's migration while it is verified: a
// migration record at most once; after it, the History lines that follow
// are re-records (Migrated set), in the order of the history lines, and
// no later line is; a redacted line (only in the history) must be
// attested by its re-record's Migrated hash.
type migrationCheck struct {
	at      uint64            // History of the migration record; 0 before one
	pending map[uint64]pended // redacted history lines not yet attested
	// resumed: the lines checked follow a trusted head (Options.From),
	// after the migration and its re-records if there were any: none of
	// them may be redacted, a migration record or a re-record.
	resumed bool
}

type pended struct {
	hash string
	at   Head // the head before its run of redacted lines
}

// notAttested is a redacted line that its re-record does not attest.
type notAttested struct {
	seq uint64
	at  Head
	err error
}

func (e *notAttested) Error() string { return e.err.Error() }

func (m *migrationCheck) redacted(seq uint64, hash string, at Head) error {
	if m.resumed {
		return fmt.Errorf("%w: a redacted line after the head resumed from", ErrRedacted)
	}
	if m.at != 0 {
		return fmt.Errorf("%w: only lines before the migration record may be redacted", ErrRedacted)
	}
	if m.pending == nil {
		m.pending = map[uint64]pended{}
	}
	m.pending[seq] = pended{hash, at}
	return nil
}

func (m *migrationCheck) record(rec *Record) error {
	if m.resumed && (rec.Type == TypeMigration || rec.Migrated != "") {
		return fmt.Errorf("%w: a migration record or re-record after the head resumed from", ErrMigration)
	}
	if rec.Type == TypeMigration {
		if m.at != 0 {
			return fmt.Errorf("%w: a second migration record (the first is line %d)", ErrMigration, m.at+1)
		}
		m.at = rec.History
		return nil
	}
	if m.at == 0 || rec.Seq > 2*m.at+1 {
		if rec.Migrated != "" {
			return fmt.Errorf("%w: a re-record (migrated) outside the re-recorded history", ErrMigration)
		}
		return nil
	}
	j := rec.Seq - m.at - 1 // the history line it re-records
	if rec.Migrated == "" {
		return fmt.Errorf("%w: line %d must re-record history line %d (no migrated hash)", ErrMigration, rec.Seq, j)
	}
	if p, ok := m.pending[j]; ok {
		delete(m.pending, j)
		if p.hash != rec.Migrated {
			return &notAttested{j, p.at, fmt.Errorf("%w: it states %.16s…, its re-record (line %d) %.16s…", ErrNotAttested, p.hash, rec.Seq, rec.Migrated)}
		}
	}
	return nil
}

// Migration is what [Migrate] plans: the lines to add after the log's
// history.
type Migration struct {
	// Lines are the signed lines (without "\n"): the migration record,
	// then one re-record per history line, in order.
	Lines [][]byte
	// Entries are the re-records opened (personal fields set) with the
	// disclosures of those re-recorded from version 1 (Disclosures nil for
	// version-2 history lines, whose openings the private store holds
	// already under the same record id), for the private store's Put.
	Entries []Entry
	// History is the head after the history; Head the head after Lines.
	History, Head Head
	// V1 counts the version-1 history lines, V1Personal those of them with
	// personal fields, Redacted the history lines already redacted (none
	// in a log that was never migrated).
	V1, V1Personal int
}

// Migrate plans the migration of log (the whole file) to version 2: it
// verifies log with v, then returns the lines that tie its history to
// version 2 (see the package doc, "Migration and redaction"): a signed
// [TypeMigration] record (ID id, Time now) with History and Migrated set
// to the history's head, then a re-record of every history line, in order:
// the same record (type, id, time, decision, purposes, texts, references)
// as version 2, with Migrated the LineHash of the line, its personal
// fields replaced by commitments under fresh salts ([Seal]). A version-1
// record without a number but with other personal fields (a withdrawal's
// note) is committed under the number of the decision it refers to. A
// version-2 history line keeps its commitments. known, if not nil, gives
// the disclosures a private store already holds for a record id (those of
// an earlier migration cut short by a crash): they are used instead of
// fresh ones, after checking that they open the record's own values.
//
// Errors: [ErrEmpty], [ErrMigrated], [ErrNothingToMigrate], a
// [*LineError] of [Verify], or one naming the record that cannot be
// re-recorded. Migrate changes nothing; the caller stores the disclosures
// first, then the lines.
func Migrate(log []byte, signer Signer, v Verifier, id string, now time.Time, known func(id string) ([]string, bool)) (*Migration, error) {
	type hist struct {
		rec  *Record
		line []byte
	}
	var hs []hist
	migrated := false
	head, err := VerifyWith(bytes.NewReader(log), v, func(rec *Record, line []byte) error {
		if rec.Type == TypeMigration {
			migrated = true
		}
		hs = append(hs, hist{rec, bytes.Clone(line)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify the log: %w", err)
	}
	switch {
	case head.Count == 0:
		return nil, ErrEmpty
	case migrated:
		return nil, ErrMigrated
	case head.Unterminated:
		return nil, errors.New("the last line lacks its newline: start the collector once (it adds the newline), stop it, and run migrate again")
	case uint64(len(hs)) != head.Count:
		return nil, fmt.Errorf("%w: %d lines are redacted", ErrMigrated, head.Count-uint64(len(hs)))
	}
	m := &Migration{History: head}
	subjects := map[string]*Subject{} // decision id → subject, for withdrawals without one
	for _, h := range hs {
		if h.rec.V == FormatV1 {
			m.V1++
			if h.rec.Subject != nil && h.rec.Type == TypeDecision {
				subjects[h.rec.ID] = h.rec.Subject
			}
		}
	}
	if m.V1 == 0 {
		return nil, ErrNothingToMigrate
	}
	at := head
	add := func(rec *Record, opened Record, ds []string) error {
		rec.V, rec.Seq, rec.Prev, rec.Key = FormatVersion, at.Count+1, at.Hash, signer.Name()
		if err := checkFields(rec); err != nil {
			return fmt.Errorf("re-record %s: %w", rec.ID, err)
		}
		line, err := encodeLine(rec, signer)
		if err != nil {
			return err
		}
		opened.V, opened.Seq, opened.Prev, opened.Key, opened.SD = rec.V, rec.Seq, rec.Prev, rec.Key, rec.SD
		m.Lines = append(m.Lines, line)
		m.Entries = append(m.Entries, Entry{Record: opened, Line: line, Disclosures: ds, At: at})
		at = Head{Count: at.Count + 1, Hash: LineHash(line), Size: at.Size + int64(len(line)) + 1}
		return nil
	}
	mig := Record{Type: TypeMigration, ID: id, Time: now.UTC(), History: head.Count, Migrated: head.Hash}
	if err := add(&mig, mig, nil); err != nil {
		return nil, err
	}
	m.Entries = m.Entries[:0] // the migration record has nothing to open
	for _, h := range hs {
		rec := *h.rec
		rec.Migrated = LineHash(h.line)
		if rec.V != FormatV1 {
			if err := add(&rec, rec, nil); err != nil {
				return nil, err
			}
			continue
		}
		opened := rec
		if opened.Subject == nil && (rec.ClientIP != "" || rec.UserAgent != "" || rec.Token != "" || rec.Note != "") {
			s := subjects[rec.Ref]
			if s == nil {
				return nil, fmt.Errorf("line %d (record %s): personal fields but no number, and no decision to take the number from: cannot re-record it", rec.Seq, rec.ID)
			}
			opened.Subject = s
		}
		sealed, ds, err := Seal(opened)
		if err != nil {
			return nil, err
		}
		if old, ok := lookupKnown(known, rec.ID); ok && len(ds) > 0 {
			reuse := sealed
			reuse.SD = nil
			for _, d := range old {
				reuse.SD = append(reuse.SD, Commitment(d))
			}
			slices.Sort(reuse.SD)
			check := reuse
			if err := Disclose(&check, old); err != nil || !samePersonal(&check, &opened) {
				return nil, fmt.Errorf("line %d (record %s): the private store holds other openings for this record than its version-1 line (restore the private store from before the migration, or remove that record's lines from private/openings.jsonl)", rec.Seq, rec.ID)
			}
			sealed, ds = reuse, old
		}
		if len(ds) > 0 {
			m.V1Personal++
		}
		if err := add(&sealed, opened, ds); err != nil {
			return nil, err
		}
	}
	m.Head = at
	return m, nil
}

func lookupKnown(known func(string) ([]string, bool), id string) ([]string, bool) {
	if known == nil {
		return nil, false
	}
	return known(id)
}

// samePersonal reports whether a and b hold the same personal fields.
func samePersonal(a, b *Record) bool {
	sa, sb := Subject{}, Subject{}
	if a.Subject != nil {
		sa = *a.Subject
	}
	if b.Subject != nil {
		sb = *b.Subject
	}
	return sa == sb && a.ClientIP == b.ClientIP && a.UserAgent == b.UserAgent && a.Token == b.Token && a.Note == b.Note
}
