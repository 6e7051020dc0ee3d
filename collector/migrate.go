package collector

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/private"
	snapfile "github.com/chatconsent/chatconsent/collector/snapshot"
	"github.com/chatconsent/chatconsent/internal/config"
)

// ErrNotMigrated is returned by [Open] for a data folder whose log holds
// version-1 lines (personal data in clear) and no migration record: the
// owner runs chatconsent migrate first (see [Migrate]).
var ErrNotMigrated = errors.New("the decisions log holds version-1 lines (names and numbers in clear) and was not migrated")

// Migration is what [Migrate] did.
type Migration struct {
	// History is the number of lines before the migration record; V1 of
	// them are version 1, V1Personal with personal fields (their openings
	// are now in the private store).
	History        uint64
	V1, V1Personal int
	Record         string // the migration record's id
	Lines          int    // lines appended (the migration record and the re-records)
	Before, After  int64  // the log's size in bytes
}

// MigrateOptions tune [Migrate].
type MigrateOptions struct {
	// Crash, if not nil, is asked before each step ("private", then
	// ledger.ReplaceSteps) and stops Migrate there as a crash would (the
	// crash tests).
	Crash func(step string) bool
}

// StepPrivate is the first step of [Migrate] its Crash hook is asked
// about: before the openings go to the private store.
const StepPrivate = "private"

// Migrate moves the data folder of paths from log format 1 to 2 (issue
// 12, "Old logs"), with the collector stopped: it locks and verifies
// DATA/decisions.jsonl, plans the migration record and the re-records of
// the history (ledger.Migrate; signed with priv, dated now), puts the
// openings of the version-1 records into the private store, then replaces
// the log by itself plus the new lines, durably. A crash before the
// replacement leaves the old log (and openings the next run uses again);
// after it, the migrated one. Errors: ledger.ErrLocked (a collector runs),
// ledger.ErrEmpty, ledger.ErrMigrated, ledger.ErrNothingToMigrate, a
// *ledger.LineError of the verification; nothing is changed then.
func Migrate(paths config.Paths, priv ed25519.PrivateKey, now time.Time, opts MigrateOptions) (Migration, error) {
	var m Migration
	if _, err := os.Stat(paths.Log); err != nil {
		return m, fmt.Errorf("migrate: %w", err)
	}
	fs, err := ledger.OpenFileStore(paths.Log, ledger.FileOptions{})
	if err != nil {
		return m, err
	}
	defer fs.Close()
	r, err := fs.Read(ledger.Head{})
	if err != nil {
		return m, err
	}
	old, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return m, fmt.Errorf("migrate: read %s: %w", paths.Log, err)
	}
	m.Before = int64(len(old))
	signer := ledger.NewSigner(priv)
	v := ledger.NewVerifier(priv.Public().(ed25519.PublicKey))
	// A quick look before the private store is created: nothing changes
	// on a log that cannot be migrated.
	id := newID()
	if _, err := ledger.Migrate(old, signer, v, id, now, nil); err != nil {
		return m, err
	}
	vault, err := private.Open(paths.Private, private.Options{})
	if err != nil {
		return m, err
	}
	defer vault.Close()
	known := func(id string) ([]string, bool) {
		if !vault.Has(id) {
			return nil, false
		}
		ds, err := vault.Disclosures(id)
		return ds, err == nil
	}
	plan, err := ledger.Migrate(old, signer, v, id, now, known)
	if err != nil {
		return m, err
	}
	m.History, m.V1, m.V1Personal, m.Lines = plan.History.Count, plan.V1, plan.V1Personal, len(plan.Lines)
	if opts.Crash != nil && opts.Crash(StepPrivate) {
		return m, ledger.ErrCrash
	}
	var fresh []ledger.Entry
	for _, e := range plan.Entries {
		if len(e.Disclosures) > 0 && !vault.Has(e.Record.ID) {
			fresh = append(fresh, e)
		}
	}
	if err := vault.Put(fresh); err != nil {
		return m, fmt.Errorf("migrate: private store: %w", err)
	}
	out := old
	for _, l := range plan.Lines {
		out = append(append(out, l...), '\n')
	}
	// A snapshot of the log before (collector/snapshot) no longer fits:
	// the history is folded again from its re-records.
	if err := snapfile.Remove(snapshotPath(paths)); err != nil {
		return m, fmt.Errorf("migrate: remove the collector's snapshot: %w", err)
	}
	if err := fs.Replace(out, plan.Head, opts.Crash); err != nil {
		return m, fmt.Errorf("migrate: %w", err)
	}
	m.After, m.Record = int64(len(out)), id
	return m, nil
}
