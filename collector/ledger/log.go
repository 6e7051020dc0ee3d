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
	// nothing of it is stored. The slice is reused after the call.
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
//
// # Pipeline
//
// Each Append seals and marshals its records in the caller's goroutine
// (in parallel for concurrent callers). The writer then runs in three
// stages, one goroutine each, connected by unbuffered channels, so that
// the CPU work of one batch overlaps the fsyncs of the batches before it:
//
//  1. sequence: number, chain and sign each record as it arrives (the
//     hash chain makes this the one step that is strictly in order),
//     gathering a batch while the next stage is busy;
//  2. disclose: [Options].Disclose (the private store's write and
//     fsyncs) of a batch;
//  3. store: [Store.Append] (the JSONL write and fdatasync), then the
//     answers.
//
// A batch's openings are durable before its lines are written (stage 2
// before stage 3, as without the pipeline), and stage 2 of batch N+1 runs
// while stage 3 stores batch N. A batch fails as a whole; the batches
// already signed on top of it then fail with it (their prev names a line
// that was not stored), and the sequencer starts again from the store's
// durable head.
type Log struct {
	store  Store
	signer Signer
	verify Verifier
	opts   Options

	reqs     chan *appendReq
	disclose chan *batch // sequencer → discloser
	stored   chan *batch // discloser → storer
	done     chan struct{}
	wg       sync.WaitGroup

	// Counted by the storer since Open, read by [Log.Stats].
	syncs, appended atomic.Uint64

	// verified is the head [New] verified: a pending repair cuts after it.
	verified Head
	// head is the position after the last durable record (after the
	// pending repair, once it is made), written by the storer under mu;
	// rewind is set by the storer when a batch failed, so the sequencer
	// signs the next records after head again.
	mu     sync.Mutex
	head   Head
	rewind bool
	// pending: the repair of the store's end ([Store.Cut]) failed at Open
	// with a disk error; the storer retries it before the next append.
	// Read by [Log.Health].
	pending atomic.Bool
}

type appendReq struct {
	recs  []prepared
	reply chan appendRes
}

type appendRes struct {
	entries []Entry
	err     error
	head    Head
}

// batch is what the writer's stages hand on: requests whose records are
// signed as the lines after base, up to end.
type batch struct {
	reqs      []*appendReq
	results   [][]Entry // per request
	lines     [][]byte
	base, end Head
	err       error // of the disclose stage
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
		store: store, signer: signer, verify: v, opts: opts, verified: head, head: repaired(head),
		reqs:     make(chan *appendReq, 1024),
		disclose: make(chan *batch),
		stored:   make(chan *batch),
		done:     make(chan struct{}),
	}
	if rec, err = l.repair(); err != nil {
		if !IsDiskError(err) {
			return nil, rec, err
		}
		rec.Pending = err
		l.pending.Store(true)
	}
	l.wg.Add(3)
	go l.sequencer()
	go l.discloser()
	go l.storer()
	return l, rec, nil
}

// repaired is the head after [Log.repair] of a verified head: an
// unterminated last line gets its "\n".
func repaired(h Head) Head {
	if h.Unterminated {
		h.Size++
		h.Unterminated = false
	}
	return h
}

// repair cuts what follows the verified head, or adds its missing "\n",
// with [Store.Cut]; the head after it is repaired(l.verified).
func (l *Log) repair() (Recovery, error) {
	rec, err := l.store.Cut(l.verified)
	if err != nil {
		return rec, err
	}
	if l.verified.Unterminated {
		rec.Newline = true
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
// accepts appends again once the cause is gone. Sealing (version 2) and
// marshalling happen here, in the caller's goroutine.
func (l *Log) Append(ctx context.Context, recs ...Record) ([]Entry, error) {
	req := &appendReq{recs: make([]prepared, len(recs)), reply: make(chan appendRes, 1)}
	for i, rec := range recs {
		p, err := prepare(rec, l.opts.Version, l.signer.Name())
		if err != nil {
			return nil, err
		}
		req.recs[i] = p
	}
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

// sequencer is the writer's first stage: it numbers, chains and signs the
// records of each request as it arrives, and hands the batch gathered so
// far to the discloser whenever that one is free (or the batch is full).
func (l *Log) sequencer() {
	defer l.wg.Done()
	defer close(l.disclose)
	head := l.durable()
	var cur *batch
	n := 0 // records in cur
	for {
		if l.rewound() {
			// A batch failed: what cur holds chains on lines that were not
			// stored. Sign it again after the durable head.
			head = l.durable()
			if cur != nil {
				reqs := cur.reqs
				cur, n = nil, 0
				for _, r := range reqs {
					cur, n, head = l.sign(cur, n, head, r)
				}
			}
		}
		var out chan<- *batch
		if cur != nil {
			out = l.disclose
		}
		in := l.reqs
		if n >= l.opts.MaxBatch {
			in = nil
		}
		select {
		case r := <-in:
			cur, n, head = l.sign(cur, n, head, r)
		case out <- cur:
			cur, n = nil, 0
		case <-l.done:
			// Store what is already queued, then stop.
			for {
				if cur != nil && n >= l.opts.MaxBatch {
					l.disclose <- cur
					cur, n = nil, 0
				}
				select {
				case r := <-l.reqs:
					cur, n, head = l.sign(cur, n, head, r)
					continue
				default:
				}
				if cur != nil {
					l.disclose <- cur
				}
				return
			}
		}
	}
}

// sign adds request r to batch b (a new one if nil) as the lines after
// head, and returns the batch, its record count and the head after it. A
// request whose record cannot be signed is answered at once and adds
// nothing.
func (l *Log) sign(b *batch, n int, head Head, r *appendReq) (*batch, int, Head) {
	if b == nil {
		b = &batch{base: head, end: head}
	}
	at, entries := head, make([]Entry, 0, len(r.recs))
	lines := len(b.lines)
	for i := range r.recs {
		p := &r.recs[i]
		line, err := p.line(head.Count+1, head.Hash, l.signer)
		if err != nil {
			b.lines = b.lines[:lines]
			r.reply <- appendRes{err: err, head: at}
			return b, n, at
		}
		e := Entry{Record: p.rec, Line: line, Disclosures: p.ds, At: head}
		e.Record.Seq, e.Record.Prev = head.Count+1, head.Hash
		entries = append(entries, e)
		b.lines = append(b.lines, line)
		head.Count++
		head.Hash = LineHash(line)
		head.Size += int64(len(line) + 1)
	}
	b.reqs = append(b.reqs, r)
	b.results = append(b.results, entries)
	b.end = head
	return b, n + len(r.recs), head
}

// discloser is the writer's second stage: the batch's openings are made
// durable ([Options].Disclose) before the storer writes its lines.
func (l *Log) discloser() {
	defer l.wg.Done()
	defer close(l.stored)
	var all []Entry // reused: the hook must not keep the slice
	for b := range l.disclose {
		if l.opts.Disclose != nil && len(b.lines) > 0 {
			all = all[:0]
			for _, es := range b.results {
				all = append(all, es...)
			}
			b.err = l.opts.Disclose(all)
			clear(all) // no references kept until the next batch
		}
		l.stored <- b
	}
}

// storer is the writer's last stage: one [Store.Append] (one write and one
// sync for the file store) per batch, then the answers.
func (l *Log) storer() {
	defer l.wg.Done()
	var failed error // why the last batch failed
	for b := range l.stored {
		head := l.durable()
		err, chained := b.err, b.base != head
		switch {
		case chained:
			// Signed on top of a batch that failed: the sequencer already
			// starts again after head.
			err = failed
			if err == nil {
				err = fmt.Errorf("write log: batch after line %d signed after line %d", b.base.Count, head.Count)
			}
		case err == nil && len(b.lines) > 0 && l.pending.Load():
			if _, rerr := l.repair(); rerr != nil {
				err = fmt.Errorf("write log: %w", rerr)
			} else {
				l.pending.Store(false)
			}
		}
		if err == nil && len(b.lines) > 0 {
			err = l.store.Append(b.lines, b.end)
			l.syncs.Add(1)
		}
		if err != nil {
			if !chained {
				failed = err
				l.mu.Lock()
				l.rewind = true
				l.mu.Unlock()
			}
			for _, r := range b.reqs {
				r.reply <- appendRes{err: err, head: head}
			}
			continue
		}
		if len(b.lines) > 0 {
			l.appended.Add(b.end.Count - head.Count)
			l.mu.Lock()
			l.head = b.end
			l.mu.Unlock()
		}
		for i, r := range b.reqs {
			r.reply <- appendRes{entries: b.results[i], head: b.end}
		}
	}
}

// durable returns the head after the last durable record.
func (l *Log) durable() Head {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head
}

// rewound reports, once, that a batch failed since the last call.
func (l *Log) rewound() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.rewind
	l.rewind = false
	return r
}
