package collector

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/logfeed"
	"github.com/chatconsent/chatconsent/collector/private"
	snapfile "github.com/chatconsent/chatconsent/collector/snapshot"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/records"
)

// The collector's snapshot (package collector/snapshot): written on a
// clean stop, read at start so that only the log's lines after it are
// read (issue 13, step 7).
//
// The index is folded by the request handlers after their append
// returns, so records are folded in any order. [snapState] keeps the
// watermark: the head after the last record up to which every record is
// folded, and those folded beyond it. A snapshot is taken (under the
// procedure's lock) only when nothing is folded beyond the watermark: the
// index is then exactly the fold of the log up to it.
type snapState struct {
	path string // "" : no snapshots (a version-1 or a NoTlog collector)
	priv ed25519.PrivateKey

	// Guarded by procedure.mu.
	folded   ledger.Head
	last     int64                  // byte offset of the line folded last
	ahead    map[uint64]foldedEntry // seq → folded beyond the watermark
	erasures []snapfile.Erasure     // the log's erasure records up to folded (and beyond)
	mu       sync.Mutex             // serialises writes of the file
	written  uint64                 // the watermark's count at the last write

	stop chan struct{} // closed by Server.Close: ends the periodic writer
	wg   sync.WaitGroup
}

// SnapshotEvery is how often a running collector writes its snapshot if
// records came since the last one, so a start after a crash reads at most
// about that much of the log (a clean stop writes one too). Writing holds
// the index for the time it takes to encode it (about 40 ms per 100,000
// decisions), during which answers wait.
const SnapshotEvery = 15 * time.Minute

// startSnapshots starts the periodic writer.
func (s *Server) startSnapshots(every time.Duration) {
	st := s.snap
	st.stop = make(chan struct{})
	st.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-st.stop:
				return
			case <-t.C:
				if err := s.writeSnapshot(); err != nil {
					s.o.Logger.Warn("snapshot not written", "err", err)
				}
			}
		}
	})
}

// stopSnapshots ends the periodic writer.
func (s *Server) stopSnapshots() {
	if st := s.snap; st != nil && st.stop != nil {
		close(st.stop)
		st.wg.Wait()
		st.stop = nil
	}
}

type foldedEntry struct {
	head ledger.Head
	last int64
}

// snapshotPath is the snapshot's file in the data folder.
func snapshotPath(p config.Paths) string { return p.Snapshot }

// markFolded records that the records of es were folded into the index.
// The caller holds procedure.mu.
func (s *Server) markFolded(es ...ledger.Entry) {
	st := s.snap
	if st == nil {
		return
	}
	for _, e := range es {
		if e.Record.Type == ledger.TypeErasure {
			st.erasures = append(st.erasures, snapfile.Erasure{ID: e.Record.ID, Erased: slices.Clone(e.Record.Erased)})
		}
		after := foldedEntry{ledger.Head{Count: e.At.Count + 1, Hash: ledger.LineHash(e.Line), Size: e.At.Size + int64(len(e.Line)) + 1}, e.At.Size}
		if e.At.Count != st.folded.Count {
			if st.ahead == nil {
				st.ahead = map[uint64]foldedEntry{}
			}
			st.ahead[after.head.Count] = after
			continue
		}
		st.folded, st.last = after.head, after.last
		for {
			n, ok := st.ahead[st.folded.Count+1]
			if !ok {
				break
			}
			delete(st.ahead, n.head.Count)
			st.folded, st.last = n.head, n.last
		}
	}
}

// writeSnapshot writes the snapshot of the index as of the watermark, if
// nothing is folded beyond it. It holds the procedure's lock while it
// encodes the index to a file (about 40 ms per 100,000 decisions).
func (s *Server) writeSnapshot() error {
	st := s.snap
	if st == nil || st.path == "" {
		return nil
	}
	s.eraseMu.RLock() // no erasure between its record and its fold
	defer s.eraseMu.RUnlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	if s.o.Feed == nil {
		return nil
	}
	if !s.receipts.settled() {
		return errors.New("snapshot: receipts are still to be made (the next start reads the whole log and makes them)")
	}
	v1, v2, ok := s.o.Feed.Position()
	if !ok {
		return errors.New("snapshot: the transparency log is not fed")
	}
	// The procedure's lock, from the checks until the index is written:
	// the index must be the fold of exactly the log up to the watermark.
	s.proc.mu.Lock()
	unlock := sync.OnceFunc(s.proc.mu.Unlock)
	defer unlock()
	if len(st.ahead) > 0 {
		return fmt.Errorf("snapshot: records after %d are still being folded", st.folded.Count)
	}
	if st.folded.Count == 0 || st.folded.Count == st.written {
		return nil
	}
	state := &snapfile.State{Head: st.folded, Last: st.last, Erasures: slices.Clone(st.erasures)}
	// The feed's position may be ahead of the watermark (lines appended
	// whose records are not folded yet): count back the version-2 lines
	// after it, which are all lines after it (a version-1 line after a
	// version-2 one stops the feed).
	head, folded := s.log.Head(), state.Head.Count
	if head.Count < folded || v2 < head.Count-folded {
		return nil // closed, or positions that do not fit: no snapshot
	}
	state.V1, state.V2 = v1, v2-(head.Count-folded)
	if v1+state.V2 != folded {
		return nil // version-1 lines or redactions in the log: fold it whole
	}
	// Each part goes to a file as it is encoded (snapfile.Stream): at
	// 500,000 decisions the index is about 17 MB and the private store's
	// state 14 MB, which the collector never holds (issue 13: memory).
	parts := snapfile.Parts{
		Index: func(w io.Writer) error {
			defer unlock()
			if err := s.proc.book.WriteBinary(w); err != nil {
				return fmt.Errorf("snapshot: %w", err)
			}
			return nil
		},
		Private: func(w io.Writer) error {
			if s.o.Private == nil {
				return nil
			}
			// After the index: the store may hold the openings of records
			// not folded yet (appended since), which the next start reads
			// after the snapshot's head; never fewer.
			if err := s.o.Private.WriteBinary(w); err != nil {
				return fmt.Errorf("snapshot: %w", err)
			}
			return nil
		},
	}
	if err := snapfile.Stream(st.path, state, parts, st.priv); err != nil {
		return err
	}
	st.written = state.Head.Count
	return nil
}

// dropSnapshot removes the snapshot before an erasure is carried out: it
// holds the erased person's data. The next snapshot is taken after it.
func (s *Server) dropSnapshot() error {
	if s.snap == nil || s.snap.path == "" {
		return nil
	}
	s.snap.mu.Lock()
	defer s.snap.mu.Unlock()
	s.snap.written = 0
	return snapfile.Remove(s.snap.path)
}

// readSnapshot reads the data folder's snapshot and checks it against
// the log; it returns nil (and why, for the log) if it cannot be used.
func readSnapshot(paths config.Paths, pub ed25519.PublicKey) (*snapfile.File, error) {
	f, err := snapfile.Open(snapshotPath(paths), pub)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := snapfile.Check(paths.Log, &f.State); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// snapshotIndex reads the snapshot's index (a stream of the file) and
// checks it was folded with the configured purposes. Its decisions go to
// a spill file in spillDir as they are read (records.Index.SpillTo).
func snapshotIndex(f *snapfile.File, purposes []string, spillDir string) (*records.Index, error) {
	if err := os.MkdirAll(spillDir, 0o700); err != nil {
		return nil, err
	}
	sec := f.Index()
	idx, err := records.ReadIndex(sec, sec.Size(), spillDir)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(idx.Purposes(), purposes) {
		idx.Close()
		return nil, errors.New("the configured purposes changed since it was taken")
	}
	return idx, nil
}

// indexOpener is what the collector's index reads the names and e-mail
// addresses of version-2 decisions from (records.Index.UseOpener): the
// private store, with a failure logged (the record's id, never its
// contents).
type indexOpener struct {
	vault  *private.Store
	logger *slog.Logger
}

func (o indexOpener) Disclosures(id string) ([]string, error) {
	ds, err := o.vault.Disclosures(id)
	if err != nil {
		o.logger.Error("read a decision's name and e-mail address from the private store", "id", id, "err", err)
	}
	return ds, err
}

func (o indexOpener) Erased(id string) (string, bool) { return o.vault.Erased(id) }

// replay is what a start folds from the log's lines it reads (all of
// them, or those after the snapshot): the index, the receipts' backlog,
// the erasures to carry out again.
type replay struct {
	vault   *private.Store
	snap    *snapfile.State
	book    *records.Index
	have    map[string]bool // receipts in DATA/receipts (without a snapshot)
	backlog *ledger.Head
	missing int
	// erasures: the snapshot's, then those read; tailErasures counts the
	// latter.
	erasures     []ledger.Record
	tailErasures int
	v1           bool  // a version-1 line that no migration record followed yet
	pos          int64 // byte position of the line being replayed
	last         int64 // byte position of the last line
	at           ledger.Head
}

func newReplay(cfg *config.Config, paths config.Paths, vault *private.Store, snap *snapfile.State, idx *records.Index, logger *slog.Logger) *replay {
	r := &replay{vault: vault, snap: snap}
	defer func() { r.book.UseOpener(indexOpener{vault, logger}) }()
	if snap == nil {
		r.book = records.NewIndex(cfg.PurposeIDs())
		// The index's decisions in a file beside the private store, not
		// in memory (issue 13); if that fails, in memory: slower to
		// nobody, only bigger.
		if err := r.book.SpillTo(paths.Private); err != nil {
			logger.Warn("the index is kept in memory", "err", err)
		}
		receipts := paths.Receipts
		// Only the position of the first record without a receipt is
		// kept (the backlog's cursor, see receipts.go), not the records.
		r.have = map[string]bool{}
		if des, err := os.ReadDir(receipts); err == nil {
			for _, de := range des {
				if id, ok := strings.CutSuffix(de.Name(), ".pdf"); ok {
					r.have[id] = true
				}
			}
		}
		return r
	}
	// With a snapshot (written only when every receipt up to it was
	// made, see receiptQueue.settled), the receipts' sweep starts at its
	// head, for the lines after it: no listing of DATA/receipts.
	r.book, r.pos, r.last = idx, snap.Head.Size, snap.Last
	if snap.Backlog != nil {
		b := *snap.Backlog
		r.backlog = &b
	} else {
		b := snap.Head
		r.backlog = &b
	}
	for _, e := range snap.Erasures {
		r.erasures = append(r.erasures, ledger.Record{Type: ledger.TypeErasure, ID: e.ID, Erased: e.Erased})
	}
	return r
}

// options returns the ledger options whose Replay folds into r.
func (r *replay) options() ledger.Options {
	return ledger.Options{Disclose: r.vault.Put, Replay: func(rec *ledger.Record, line []byte) error {
		switch {
		case rec.V == ledger.FormatV1:
			r.v1 = true
		case rec.Type == ledger.TypeMigration:
			// The history is folded again from its re-records (the book
			// starts afresh): what was found before them is forgotten.
			r.v1, r.backlog, r.missing, r.erasures, r.tailErasures = false, nil, 0, nil, 0
		}
		if _, err := openRecord(r.vault, rec); err != nil {
			return err
		}
		if err := r.book.Add(rec, line); err != nil {
			return err
		}
		if r.have != nil && (rec.Type == ledger.TypeDecision || rec.Type == ledger.TypeWithdrawal) && !r.have[rec.ID] && receiptable(rec) {
			if r.backlog == nil {
				r.backlog = &ledger.Head{Count: rec.Seq - 1, Hash: rec.Prev, Size: r.pos}
			}
			r.missing++
		}
		if rec.Type == ledger.TypeErasure {
			r.erasures = append(r.erasures, *rec)
			r.tailErasures++
		}
		r.last = r.pos
		r.pos += int64(len(line)) + 1
		return nil
	}, ReplayRedacted: func(_ uint64, line []byte) error {
		r.last = r.pos
		r.pos += int64(len(line)) + 1
		return nil
	}}
}

// snapErasures returns the erasures for the snapshot's list.
func (r *replay) snapErasures() []snapfile.Erasure {
	var out []snapfile.Erasure
	for _, e := range r.erasures {
		out = append(out, snapfile.Erasure{ID: e.ID, Erased: slices.Clone(e.Erased)})
	}
	return out
}

// v1Lines reports whether the log may hold version-1 lines, which an
// erasure must redact: not when the transparency log's feed counts none
// before its first version-2 line (and none can follow one), so a start
// does not read the whole log for each erasure in it.
func (r *replay) v1Lines(feed *logfeed.Store) bool {
	if feed == nil {
		return true
	}
	v1, _, ok := feed.Position()
	return !ok || v1 > 0
}
