package ledger

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// FileName is the decisions log's name inside a data directory.
const FileName = "decisions.jsonl"

// ErrLocked is returned by [Open] when another process holds the log.
var ErrLocked = errors.New("log is in use by another process")

// ErrClosed is returned by [Log.Append] after [Log.Close].
var ErrClosed = errors.New("log is closed")

// Entry is a record as appended, with its exact line (without "\n"). In
// version 2, Record is the record opened (personal fields and their
// commitments SD) while Line holds only the commitments; Disclosures open
// them (see [Disclose]).
type Entry struct {
	Record      Record
	Line        []byte
	Disclosures []string
	// At is the log's position before the line: [Source.Read] from At
	// starts with it.
	At Head
}

// Options tune [Open] and [New].
type Options struct {
	// MaxBatch bounds how many records one write+fsync carries (group
	// commit). 0 means 512; 1 means one fsync per Append call.
	MaxBatch int
	// Sync and Write tune the [FileStore] that [Open] opens (see
	// [FileOptions]); [New] ignores them.
	Sync  func(*os.File) error
	Write func(f *os.File, b []byte) (int, error)
	// Replay, if not nil, is called by [Open] with every record already in
	// the log, in order, after it was verified: the collector derives its
	// in-memory state (used invites, decisions) from the log instead of
	// keeping a second store. An error stops Open.
	Replay func(rec *Record, line []byte) error
	// ReplayRedacted, if not nil, is called by [Open] with every redacted
	// line (see [RedactLine]) in its place among the Replay calls.
	ReplayRedacted func(seq uint64, line []byte) error
	// Verifier checks the store's lines in [New]; nil means the Ed25519
	// verifier matching a signer from [NewSigner].
	Verifier Verifier
	// Version is the format version appended: [FormatV1] (personal
	// fields in clear, for tests of old logs) or [FormatVersion]; 0 means
	// FormatVersion.
	Version int
	// Disclose, if not nil, is called by the writer with each batch's
	// entries before they are stored, so their disclosures can be kept
	// durably first (the private store); an error fails the batch and
	// nothing of it is stored.
	Disclose func(batch []Entry) error
	// Trust, if not nil, lets [New] check the lines its root proves by
	// that root instead of their signatures (see [Trust]): a start-up that
	// trusts the collector's own last checkpoint.
	Trust *Trust
	// From, if not nil, is a head [New] takes as proven without reading
	// the lines before it: the collector's signed snapshot (see package
	// collector/snapshot), whose last line's hash was checked against the
	// file. Only the lines after it are read, verified (signatures
	// included; Trust is ignored) and passed to Replay; among them a
	// redacted line, a migration record or a re-record is an error (the
	// caller then starts again without From). The store must have been
	// opened with the same head ([FileOptions].From).
	From *Head
}

// Log is the single writer of a log: it numbers, chains and signs records
// and hands them to its [Store]. It is safe for concurrent use: concurrent
// [Log.Append] calls are batched into one store append, one write and one
// fsync (group commit, as in PostgreSQL and etcd's WAL).
type Log struct {
	store  Store
	signer Signer
	verify Verifier
	opts   Options

	reqs chan *appendReq
	done chan struct{}
	wg   sync.WaitGroup

	// Counted by the writer since Open, read by [Log.Stats].
	syncs, appended atomic.Uint64

	// Written only by the writer goroutine.
	head Head
	// pending: the repair of the store's end ([Store.Cut]) failed at Open
	// with a disk error; it is retried before the next append. Written by
	// the writer only (and New), read by [Log.Health].
	pending atomic.Bool
}

type appendReq struct {
	recs  []Record
	reply chan appendRes
}

type appendRes struct {
	entries []Entry
	err     error
	head    Head
}

// Recovery describes what [Open] did to make a log usable.
type Recovery struct {
	// TornBytes is the number of bytes of an incomplete last line that were
	// moved to TornPath and cut from the log; 0 if the log was whole.
	TornBytes int
	TornPath  string
	// Newline reports a last line that was a whole, validly signed record
	// lacking only its "\n": the "\n" was added (it is a record, not torn).
	Newline bool
	// Pending is set when the repair (saving and cutting a torn tail, or
	// adding the "\n") could not be written at Open, e.g. on a full disk.
	// The log still opens; the repair is retried before the next append,
	// and appends fail until it succeeds ([Log.Health] reports it).
	Pending error
}

// Open opens (creating if needed) the log file at path as a [FileStore]
// and starts its writer with [New], signing with priv. A second writer on
// the same file gets [ErrLocked].
func Open(path string, priv ed25519.PrivateKey, opts Options) (*Log, Recovery, error) {
	st, err := OpenFileStore(path, FileOptions{Sync: opts.Sync, Write: opts.Write})
	if err != nil {
		return nil, Recovery{}, err
	}
	l, rec, err := New(st, NewSigner(priv), opts)
	if err != nil {
		st.Close()
		return nil, rec, fmt.Errorf("%s: %w", path, err)
	}
	return l, rec, nil
}

// New verifies every line of store with opts.Verifier (by default the
// public half of signer) and starts the single writer on it. An incomplete
// last line that does not verify, left by a crash during a write, is cut off
// with [Store.Cut] (the file store moves it aside to PATH.torn); a last line
// that verifies and lacks only its "\n" is a record, and Cut adds the "\n";
// any other problem is returned as a [*LineError] and the log is not
// opened: an operator must look, nothing is repaired silently. A repair
// that fails with a disk error (full, read-only) is left for the next
// append: see [Recovery.Pending].
// The caller keeps ownership of store on error; on success [Log.Close] closes
// it.
func New(store Store, signer Signer, opts Options) (*Log, Recovery, error) {
	var rec Recovery
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.Version == 0 {
		opts.Version = FormatVersion
	}
	if opts.Version != FormatV1 && opts.Version != FormatVersion {
		return nil, rec, fmt.Errorf("open log: %w: %d", ErrVersion, opts.Version)
	}
	v := opts.Verifier
	if v == nil {
		pub := PublicKey(signer)
		if pub == nil {
			return nil, rec, errors.New("open log: no verifier for the signer (set Options.Verifier)")
		}
		v = NewVerifier(pub)
	}
	if v.Name() != signer.Name() {
		return nil, rec, fmt.Errorf("open log: verifier %.16s… does not match signer %.16s…", v.Name(), signer.Name())
	}
	want := store.Head()
	var start Head
	if opts.From != nil {
		start = *opts.From
		if want.Count < start.Count || want.Size < start.Size {
			return nil, rec, fmt.Errorf("open log: the store's head (%d records, %d bytes) is before the head to resume from (%d, %d)", want.Count, want.Size, start.Count, start.Size)
		}
	}
	r, err := store.Read(start)
	if err != nil {
		return nil, rec, err
	}
	var onRedacted func(uint64, string, []byte) error
	if opts.ReplayRedacted != nil {
		onRedacted = func(seq uint64, _ string, line []byte) error { return opts.ReplayRedacted(seq, line) }
	}
	head, err := verify(r, v, opts.Trust, opts.Replay, onRedacted, opts.From)
	r.Close()
	if err != nil && !errors.Is(err, ErrTorn) { // a torn tail is cut below
		return nil, rec, fmt.Errorf("verify log: %w", err)
	}
	// The store's head counts lines ending in "\n": an unterminated last
	// record is one more.
	if head.Unterminated && (head.Count != want.Count+1 || head.Size <= want.Size) || !head.Unterminated && head != want {
		return nil, rec, fmt.Errorf("verify: the store's head (%d records, %d bytes) is not the verified one (%d, %d)", want.Count, want.Size, head.Count, head.Size)
	}
	l := &Log{
		store: store, signer: signer, verify: v, opts: opts, head: head,
		reqs: make(chan *appendReq, 1024),
		done: make(chan struct{}),
	}
	if rec, err = l.repair(); err != nil {
		if !IsDiskError(err) {
			return nil, rec, err
		}
		rec.Pending = err
		l.pending.Store(true)
	}
	l.wg.Add(1)
	go l.writer()
	return l, rec, nil
}

// repair cuts what follows the verified head, or adds its missing "\n",
// with [Store.Cut], and updates the head.
func (l *Log) repair() (Recovery, error) {
	rec, err := l.store.Cut(l.head)
	if err != nil {
		return rec, err
	}
	if l.head.Unterminated {
		rec.Newline = true
		l.head.Size++
		l.head.Unterminated = false
	}
	return rec, nil
}

// IsDiskError reports errors of a full or read-only disk, which heal when
// the operator frees space or remounts.
func IsDiskError(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EIO)
}

// ErrNotWritable is wrapped by [Log.Health] when the log cannot take a
// record now.
var ErrNotWritable = errors.New("log is not writable")

// Health reports whether an append would be stored now: nil, or an error
// wrapping [ErrNotWritable] and the cause. A store with a Health() error
// method (the [FileStore]) is asked; a repair left pending at Open is
// reported until it is made.
func (l *Log) Health() error {
	if hc, ok := l.store.(interface{ Health() error }); ok {
		if err := hc.Health(); err != nil {
			return fmt.Errorf("%w: %w", ErrNotWritable, err)
		}
	}
	if l.pending.Load() {
		return fmt.Errorf("%w: the repair of the log's end is pending", ErrNotWritable)
	}
	return nil
}

// Store returns the log's store, e.g. to read it as a [Source].
func (l *Log) Store() Store { return l.store }

// Head returns the position after the last durable record. It is meant for
// tests and status output; it takes a snapshot through the writer.
func (l *Log) Head() Head {
	reply := make(chan appendRes, 1)
	select {
	case l.reqs <- &appendReq{reply: reply}:
		return (<-reply).head
	case <-l.done:
		return Head{}
	}
}

// Append assigns each record its V, Seq, Prev and Key, signs it, appends it
// and returns only once the records are on disk (fdatasync). The records of
// one call are contiguous and all-or-nothing. A write or sync error (disk
// full, read-only disk) leaves the log as it was and is returned; the log
// accepts appends again once the cause is gone.
func (l *Log) Append(ctx context.Context, recs ...Record) ([]Entry, error) {
	req := &appendReq{recs: recs, reply: make(chan appendRes, 1)}
	select {
	case l.reqs <- req:
	case <-l.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Once queued, wait for the outcome even if ctx ends: the record may
	// already be durable and the caller must learn which.
	res := <-req.reply
	return res.entries, res.err
}

// Stats reports how many records were appended and how many store appends
// (each one write and one fsync) it took since [Open]: the group commit's
// batching at a glance.
func (l *Log) Stats() (records, syncs uint64) { return l.appended.Load(), l.syncs.Load() }

// Close stops the writer after the queued appends and closes the store.
func (l *Log) Close() error {
	select {
	case <-l.done:
		return ErrClosed
	default:
	}
	close(l.done)
	l.wg.Wait()
	return l.store.Close()
}

func (l *Log) writer() {
	defer l.wg.Done()
	batch := make([]*appendReq, 0, l.opts.MaxBatch)
	for {
		var first *appendReq
		select {
		case first = <-l.reqs:
		case <-l.done:
			// Drain what is already queued, then stop.
			for {
				select {
				case r := <-l.reqs:
					l.commit([]*appendReq{r})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
		n := len(first.recs)
	fill:
		for n < l.opts.MaxBatch {
			select {
			case r := <-l.reqs:
				batch = append(batch, r)
				n += len(r.recs)
			default:
				break fill
			}
		}
		l.commit(batch)
	}
}

// commit hands one batch to the store in one Append (one write and one
// sync for the file store).
func (l *Log) commit(batch []*appendReq) {
	if l.pending.Load() && (len(batch) > 1 || len(batch[0].recs) > 0) {
		if _, err := l.repair(); err != nil {
			err = fmt.Errorf("write log: %w", err)
			for _, r := range batch {
				r.reply <- appendRes{err: err, head: l.head}
			}
			return
		}
		l.pending.Store(false)
	}
	head := l.head
	var lines [][]byte
	results := make([][]Entry, len(batch))
	errs := make([]error, len(batch))
	for i, r := range batch {
		saved, savedLen := head, len(lines)
		for _, rec := range r.recs {
			rec.V, rec.Seq, rec.Prev, rec.Key = l.opts.Version, head.Count+1, head.Hash, l.signer.Name()
			stored, ds := rec, []string(nil)
			if rec.V != FormatV1 {
				var err error
				if stored, ds, err = Seal(rec); err != nil {
					errs[i] = err
					break
				}
				rec.SD = stored.SD
			}
			line, err := encodeLine(&stored, l.signer)
			if err != nil {
				errs[i] = err
				break
			}
			lines = append(lines, line)
			at := head
			head.Count++
			head.Hash = LineHash(line)
			head.Size += int64(len(line) + 1)
			results[i] = append(results[i], Entry{Record: rec, Line: line, Disclosures: ds, At: at})
		}
		if errs[i] != nil { // drop this request's lines only
			head, lines, results[i] = saved, lines[:savedLen], nil
		}
	}
	if len(lines) > 0 {
		var err error
		if l.opts.Disclose != nil {
			var all []Entry
			for _, es := range results {
				all = append(all, es...)
			}
			err = l.opts.Disclose(all)
		}
		if err == nil {
			err = l.store.Append(lines, head)
			l.syncs.Add(1)
		}
		if err != nil {
			for _, r := range batch {
				r.reply <- appendRes{err: err}
			}
			return
		}
		l.appended.Add(head.Count - l.head.Count)
		l.head = head
	}
	for i, r := range batch {
		r.reply <- appendRes{entries: results[i], err: errs[i], head: l.head}
	}
}
