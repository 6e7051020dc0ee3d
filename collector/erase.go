package collector

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/private"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/phone"
	"github.com/chatconsent/chatconsent/internal/records"
)

// Errors of [Erase] that callers branch on.
var (
	// ErrNothingToErase: the private store holds nothing of the number (never
	// recorded, or already erased).
	ErrNothingToErase = errors.New("no personal data of this number in the private store (never recorded, or already erased)")
	// ErrBadReason: the reason is not one of ledger.ErasureReasons.
	ErrBadReason = errors.New("unknown erasure reason")
)

// Erasure is what [Erase] did.
type Erasure struct {
	// Phone is the number erased (E.164), as the private store knew it.
	Phone string
	// Record is the signed erasure record appended to the log.
	Record ledger.Record
	// Records are the ids of the person's records whose openings were
	// destroyed.
	Records []string
	// Files are the receipts and mails deleted from the data folder.
	Files []string

	entry ledger.Entry // the erasure record as appended, for the index's watermark
}

// Erase erases the personal data of the person with phone (E.164) (GDPR
// Art. 17): it appends a signed [ledger.TypeErasure] record naming their
// records by id (and reason, one of ledger.ErasureReasons; "" means
// "request"), then destroys their key and openings in vault and deletes
// their receipts and mails from dataDir. The erasure record is the
// decision: once it is durable, a crash before the rest is finished by
// [FinishErasure] on the next start (the collector does that in [Open]).
// by, if not "", names the owner who erased (the record's "by", see
// [ValidOwnerName]). Nothing is changed on an error before the append.
func Erase(ctx context.Context, log *ledger.Log, vault *private.Store, dataDir, phone, reason, by string, now time.Time) (Erasure, error) {
	return eraseWith(ctx, log, vault, dataDir, phone, reason, by, now, nil, nil)
}

// eraseWith is [Erase] with the redaction's crash hook and appended,
// called once the erasure record is durable and before anything is
// destroyed (the collector removes its snapshot there).
func eraseWith(ctx context.Context, log *ledger.Log, vault *private.Store, dataDir, phone, reason, by string, now time.Time, crash func(string) bool, appended func() error) (Erasure, error) {
	es, err := eraseAllWith(ctx, log, vault, dataDir, []string{phone}, reason, by, now, crash, appended)
	if len(es) == 0 {
		if err == nil {
			err = ErrNothingToErase
		}
		return Erasure{}, err
	}
	return es[0], err
}

// eraseAllWith is [eraseWith] for several people at once (retention):
// one signed erasure record each, appended together (one fsync), then
// [finishErasures] for all of them. A number the private store holds
// nothing of is skipped. Nothing is changed on an error before the
// append; once the records are durable, a crash is finished off at the
// next start.
func eraseAllWith(ctx context.Context, log *ledger.Log, vault *private.Store, dataDir string, phones []string, reason, by string, now time.Time, crash func(string) bool, appended func() error) ([]Erasure, error) {
	if reason == "" {
		reason = "request"
	}
	if !slices.Contains(ledger.ErasureReasons, reason) {
		return nil, fmt.Errorf("%w %q: want one of %v", ErrBadReason, reason, ledger.ErasureReasons)
	}
	if by != "" && !ValidOwnerName(by) {
		return nil, fmt.Errorf("%w: %q", ErrBadOwner, by)
	}
	var recs []ledger.Record
	var erased []string // their numbers
	for _, p := range phones {
		_, ids, err := vault.Subject(p)
		if errors.Is(err, private.ErrUnknown) {
			continue
		}
		if err != nil {
			return nil, err
		}
		recs = append(recs, ledger.Record{Type: ledger.TypeErasure, ID: newID(), Time: now.UTC(), Erased: ids, Reason: reason, By: by})
		erased = append(erased, p)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	es, err := log.Append(ctx, recs...)
	if err != nil {
		return nil, fmt.Errorf("erase: append to log: %w", err)
	}
	out := make([]Erasure, len(es))
	for i, e := range es {
		out[i] = Erasure{Phone: erased[i], Record: e.Record, entry: e}
	}
	if appended != nil {
		if err := appended(); err != nil {
			return out, fmt.Errorf("erase: %w (the erasure is recorded; it is carried out at the next start)", err)
		}
	}
	return out, finishErasures(log, vault, dataDir, out, crash, true)
}

// FinishErasure carries out a logged erasure record: it destroys the
// openings of its records (and of every other record of the same
// people), redacts their version-1 lines in a migrated log (the clear
// text of the history; see package ledger, "Migration and redaction") and
// deletes their receipts and mails. It is idempotent, so a start after a
// crash runs it again for every erasure in the log. crash is the
// redaction's test hook (ledger.FileStore.Replace), nil in production.
func FinishErasure(log *ledger.Log, vault *private.Store, dataDir string, rec *ledger.Record, crash func(step string) bool) (records, files []string, err error) {
	return finishErasure(log, vault, dataDir, rec, crash, true)
}

// finishErasure is [FinishErasure]; with redact false (a log without
// version-1 lines) the log is not read for lines to redact.
func finishErasure(log *ledger.Log, vault *private.Store, dataDir string, rec *ledger.Record, crash func(step string) bool, redact bool) (records, files []string, err error) {
	es := []Erasure{{Record: *rec}}
	err = finishErasures(log, vault, dataDir, es, crash, redact)
	return es[0].Records, es[0].Files, err
}

// finishErasures carries out the logged erasures es as [FinishErasure]
// does one, each step once for all of them (one rewrite of the private
// store, one redaction pass over the log, one removal of copies), and
// fills in their Records and Files.
func finishErasures(log *ledger.Log, vault *private.Store, dataDir string, es []Erasure, crash func(step string) bool, redact bool) error {
	orders := make([]private.Erasure, len(es))
	for i, e := range es {
		orders[i] = private.Erasure{ID: e.Record.ID, Records: e.Record.Erased}
	}
	erased, err := vault.EraseAll(orders)
	if err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	// Each erasure's records: those it names and those of the same people.
	ids := make([][]string, len(es))
	set := map[string]bool{}
	var all []string
	for i := range es {
		es[i].Records = erased[es[i].Record.ID]
		ids[i] = append(slices.Clone(es[i].Record.Erased), es[i].Records...)
		slices.Sort(ids[i])
		ids[i] = slices.Compact(ids[i])
		for _, id := range ids[i] {
			if !set[id] {
				set[id] = true
				all = append(all, id)
			}
		}
	}
	if redact {
		if _, err := log.Redact(set, crash); err != nil {
			return fmt.Errorf("erase: redact the version-1 lines: %w", err)
		}
	}
	files, err := removeCopies(dataDir, all)
	for i, rs := range ids {
		for _, id := range rs {
			es[i].Files = append(es[i].Files, files[id]...)
		}
	}
	return err
}

// removeCopies deletes the receipts and mails of records ids from the
// data folder (DATA/receipts/ID.pdf; DATA/outbox/ID-*.json, resends
// included, in sent/ and failed/ too, with .err files), then syncs the
// folders. It returns the paths removed, by record id.
func removeCopies(dataDir string, ids []string) (map[string][]string, error) {
	removed := map[string][]string{}
	var errs []error
	dirs := map[string]bool{}
	rm := func(id, path string) {
		err := os.Remove(path)
		if err == nil {
			removed[id] = append(removed[id], path)
			dirs[filepath.Dir(path)] = true
		} else if !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for _, id := range ids {
		rm(id, filepath.Join(dataDir, config.ReceiptsDir, id+".pdf"))
		for _, sub := range []string{"", "sent", "failed"} {
			dir := filepath.Join(dataDir, config.OutboxDir, sub)
			// ID-owner, ID-subject, and the resends' ID-resendN-ROLE.
			mails, _ := filepath.Glob(filepath.Join(dir, id+"-*"))
			for _, m := range mails {
				if strings.HasSuffix(m, ".json") || strings.HasSuffix(m, ".err") {
					rm(id, m)
				}
			}
		}
	}
	for d := range dirs {
		if f, err := os.Open(d); err == nil {
			if err := f.Sync(); err != nil {
				errs = append(errs, err)
			}
			f.Close()
		}
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("erase copies: %w", errors.Join(errs...))
	}
	return removed, nil
}

// OwnerErasure is what the owner asks to erase (POST /owner/v1/erase).
type OwnerErasure struct {
	// Phone is the number as the owner typed it.
	Phone string `json:"phone"`
	// Reason is one of ledger.ErasureReasons ("" means "request").
	Reason string `json:"reason,omitempty"`
	// By, if set, names the owner who asked (the erasure record's "by",
	// see [ValidOwnerName]), e.g. the one signed in to the console.
	By string `json:"by,omitempty"`
}

// OwnerErased is what [Server.EraseNumber] did.
type OwnerErased struct {
	ID      string    `json:"id"` // the erasure record's id
	Time    time.Time `json:"time"`
	Phone   string    `json:"phone"` // E.164, as it was known
	Records []string  `json:"records"`
	Files   int       `json:"files"` // receipts and mails deleted
}

// EraseNumber parses the owner's number and erases it ([Server.Erase]).
// Errors: [ErrBadNumber], [ErrBadReason], [ErrNothingToErase], or the
// log's or store's.
func (s *Server) EraseNumber(ctx context.Context, req OwnerErasure) (*OwnerErased, error) {
	number, err := phone.Parse(req.Phone, s.o.DefaultRegion)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrBadNumber, req.Phone, err)
	}
	e, err := s.erase(ctx, number, req.Reason, req.By)
	if err != nil {
		return nil, err
	}
	return &OwnerErased{ID: e.Record.ID, Time: e.Record.Time, Phone: number, Records: e.Records, Files: len(e.Files)}, nil
}

// Erase is [Erase] on the running collector: its index follows at once
// (the person's decisions stay withdrawable by record id). Erasures are
// one at a time.
func (s *Server) Erase(ctx context.Context, phone, reason string) (Erasure, error) {
	return s.erase(ctx, phone, reason, "")
}

// erase is [Server.Erase] naming the owner by ("" for none).
func (s *Server) erase(ctx context.Context, phone, reason, by string) (Erasure, error) {
	var e Erasure
	err := s.erasing(func() error {
		var err error
		e, err = eraseWith(ctx, s.log, s.o.Private, s.o.Paths.Data, phone, reason, by, s.o.Now(), s.redactCrash, s.dropSnapshot)
		s.foldErasures(e)
		return err
	})
	return e, err
}

// eraseAll is [Server.Erase] for several people in one pass
// ([eraseAllWith]); numbers with nothing to erase are skipped.
func (s *Server) eraseAll(ctx context.Context, phones []string, reason string) ([]Erasure, error) {
	var es []Erasure
	err := s.erasing(func() error {
		var err error
		es, err = eraseAllWith(ctx, s.log, s.o.Private, s.o.Paths.Data, phones, reason, "", s.o.Now(), s.redactCrash, s.dropSnapshot)
		s.foldErasures(es...)
		return err
	})
	return es, err
}

// erasing runs do under the erasure's locks: no withdrawal between the
// look-up and the erasure, and no snapshot written before the erasure is
// folded (writeSnapshot), which would hold the person's data again.
func (s *Server) erasing(do func() error) error {
	s.proc.wmu.Lock()
	defer s.proc.wmu.Unlock()
	if s.o.Private == nil {
		return errors.New("erase: this collector has no private store (a version-1 log: run chatconsent migrate)")
	}
	s.eraseMu.Lock()
	defer s.eraseMu.Unlock()
	return do()
}

// foldErasures folds the appended erasures into the index and logs each.
func (s *Server) foldErasures(es ...Erasure) {
	for _, e := range es {
		if e.Record.ID == "" {
			continue
		}
		s.proc.mu.Lock()
		if aerr := s.proc.book.Add(&e.Record, nil); aerr != nil {
			s.o.Logger.Error("fold erasure", "id", e.Record.ID, "err", aerr)
		}
		s.markFolded(e.entry)
		s.proc.mu.Unlock()
		s.o.Logger.Info("erasure recorded", "id", e.Record.ID, "records", len(e.Records), "files", len(e.Files), "reason", e.Record.Reason)
	}
}

// finishErasure is [FinishErasure] at start for an erasure in the log
// (see [Open]: the log is the erasure list a restore replays); redact
// false skips the redaction of version-1 lines (the log has none).
func (s *Server) finishErasure(rec *ledger.Record, redact bool) error {
	if s.o.Private == nil {
		return nil
	}
	erased, files, err := finishErasure(s.log, s.o.Private, s.o.Paths.Data, rec, s.redactCrash, redact)
	if len(erased) > 0 || len(files) > 0 {
		s.o.Logger.Info("erasure carried out again at start (after a crash, or data restored from a backup)", "id", rec.ID, "records", len(erased), "files", len(files))
	}
	return err
}

// liveSubject returns s, or nil for an erased person's stand-in (see
// records.ErasedPrefix): a withdrawal of an erased person's consent
// records no subject, so no personal data come back.
func liveSubject(s *ledger.Subject) *ledger.Subject {
	if s == nil || records.IsErased(s.Phone) {
		return nil
	}
	return s
}
