package ledger

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrLocked is returned by [Open] when another process holds the log.
var ErrLocked = errors.New("log is in use by another process")

// ErrClosed is returned by [Log.Append] after [Log.Close].
var ErrClosed = errors.New("log is closed")

// Entry is a record as appended, with its exact line (without "\n").
type Entry struct {
	Record Record
	Line   []byte
}

// Options tune [Open].
type Options struct {
	// MaxBatch bounds how many records one write+fsync carries (group
	// commit). 0 means 512; 1 means one fsync per Append call.
	MaxBatch int
	// Sync is the function that makes written data durable; nil means
	// fdatasync(2). Tests replace it to inject disk errors.
	Sync func(*os.File) error
	// Write appends a batch's bytes to the file; nil means f.Write. Tests
	// replace it to inject short writes and ENOSPC.
	Write func(f *os.File, b []byte) (int, error)
	// Replay, if not nil, is called by [Open] with every record already in
	// the log, in order, after it was verified: the collector derives its
	// in-memory state (used invites, decisions) from the log instead of
	// keeping a second store. An error stops Open.
	Replay func(rec *Record, line []byte) error
}

// Log is the single writer of a log file. It is safe for concurrent use:
// concurrent [Log.Append] calls are batched into one write and one fsync
// (group commit, as in PostgreSQL and etcd's WAL).
type Log struct {
	path string
	priv ed25519.PrivateKey
	key  string
	opts Options

	f    *os.File
	reqs chan *appendReq
	done chan struct{}
	wg   sync.WaitGroup

	// Counted by the writer since Open, read by [Log.Stats].
	syncs, appended atomic.Uint64

	// Written only by the writer goroutine.
	head Head
	err  error  // sticky: the file state is unknown after a failed rollback
	buf  []byte // a batch's bytes, reused: under load most garbage was its growth
	// tornPending: a torn tail after head.Size that could not be saved at
	// Open (disk full); it is saved and cut before the next write.
	tornPending bool

	// For [Log.Health]: sticky mirrors err; the last probe's time and
	// outcome.
	sticky   atomic.Pointer[error]
	probeMu  sync.Mutex
	probedAt time.Time
	probeErr error
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

// Open opens (creating if needed) the log at path for appending with priv,
// verifies every existing line, and locks the file against a second writer
// ([ErrLocked]). An incomplete last line that does not verify, left by a
// crash during a write, is moved aside to path+".torn" (or ".torn.N") and
// cut off; a last line that verifies and lacks only its "\n" is a record
// and gets its "\n" (durably); any other problem is returned as a
// [*LineError] and the log is not opened: an operator must look, nothing is
// repaired silently. A repair that cannot be written now (disk full) is
// left for the next append: see [Recovery.Pending].
func Open(path string, priv ed25519.PrivateKey, opts Options) (*Log, Recovery, error) {
	var rec Recovery
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.Sync == nil {
		opts.Sync = fdatasync
	}
	if opts.Write == nil {
		opts.Write = (*os.File).Write
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, rec, fmt.Errorf("open log: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, rec, fmt.Errorf("open log %s: %w (is another collector running on this data directory?)", path, ErrLocked)
		}
		return nil, rec, fmt.Errorf("lock log %s: %w", path, err)
	}
	pub := priv.Public().(ed25519.PublicKey)
	head, verr := Verify(f, pub, opts.Replay)
	if verr != nil && !errors.Is(verr, ErrTorn) {
		f.Close()
		return nil, rec, fmt.Errorf("verify %s: %w", path, verr)
	}
	l := &Log{
		path: path, priv: priv, key: Fingerprint(pub), opts: opts,
		f: f, head: head, tornPending: verr != nil,
		reqs: make(chan *appendReq, 1024),
		done: make(chan struct{}),
	}
	rec.Newline = head.Unterminated
	if rec, err = l.repair(rec); err != nil {
		if !isDiskError(err) {
			f.Close()
			return nil, rec, err
		}
		rec.Pending = err
	}
	l.wg.Add(1)
	go l.writer()
	return l, rec, nil
}

// repair does what the file needs before the next append: save and cut a
// torn tail, add a missing "\n", seek to the end of the last record. Called
// by Open and then only by the writer.
func (l *Log) repair(rec Recovery) (Recovery, error) {
	if l.tornPending {
		r, err := cutTorn(l.f, l.path, l.head.Size, l.opts)
		if err != nil {
			return rec, err
		}
		rec.TornBytes, rec.TornPath = r.TornBytes, r.TornPath
		l.tornPending = false
	}
	if l.head.Unterminated {
		if _, err := l.f.Seek(l.head.Size, io.SeekStart); err != nil {
			return rec, fmt.Errorf("seek log: %w", err)
		}
		_, err := l.opts.Write(l.f, []byte("\n"))
		if err == nil {
			err = l.opts.Sync(l.f)
		}
		if err != nil {
			l.f.Truncate(l.head.Size) // a failed write may have left a partial byte: nothing to undo beyond it
			return rec, fmt.Errorf("add the missing newline after line %d: %w", l.head.Count, err)
		}
		l.head.Size++
		l.head.Unterminated = false
	}
	if _, err := l.f.Seek(l.head.Size, io.SeekStart); err != nil {
		return rec, fmt.Errorf("seek log: %w", err)
	}
	return rec, nil
}

// isDiskError reports errors a full or read-only disk causes, which heal
// when the operator frees space: the log opens anyway and retries.
func isDiskError(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EIO)
}

// cutTorn copies the bytes after good to a fresh .torn file, durably, and
// then truncates the log to good. If the copy cannot be written, nothing
// is cut and no .torn file is left.
func cutTorn(f *os.File, path string, good int64, opts Options) (Recovery, error) {
	st, err := f.Stat()
	if err != nil {
		return Recovery{}, fmt.Errorf("stat log: %w", err)
	}
	tail := make([]byte, st.Size()-good)
	if _, err := f.ReadAt(tail, good); err != nil {
		return Recovery{}, fmt.Errorf("read torn tail: %w", err)
	}
	tornPath := path + ".torn"
	for i := 1; ; i++ {
		_, err := os.Lstat(tornPath)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		tornPath = fmt.Sprintf("%s.torn.%d", path, i)
	}
	if err := writeFileSync(tornPath, tail, opts); err != nil {
		return Recovery{}, fmt.Errorf("save torn tail of %s (%d bytes): %w", filepath.Base(path), len(tail), err)
	}
	if err := f.Truncate(good); err != nil {
		return Recovery{}, fmt.Errorf("cut torn tail: %w", err)
	}
	if err := f.Sync(); err != nil {
		return Recovery{}, fmt.Errorf("cut torn tail: %w", err)
	}
	return Recovery{TornBytes: len(tail), TornPath: tornPath}, nil
}

// writeFileSync creates path with b, durably (the file, then its folder),
// with the log's Write and Sync; on failure it removes what it created.
func writeFileSync(path string, b []byte, opts Options) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	if _, err := opts.Write(f, b); err != nil {
		return err
	}
	if err := opts.Sync(f); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }

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

// Stats reports how many records were appended and how many fsyncs it
// took since [Open]: the group commit's batching at a glance.
func (l *Log) Stats() (records, syncs uint64) { return l.appended.Load(), l.syncs.Load() }

// Close stops the writer after the queued appends and closes the file.
func (l *Log) Close() error {
	select {
	case <-l.done:
		return ErrClosed
	default:
	}
	close(l.done)
	l.wg.Wait()
	return l.f.Close()
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

// commit writes one batch with one write and one sync.
func (l *Log) commit(batch []*appendReq) {
	if l.err == nil && (l.tornPending || l.head.Unterminated) {
		if _, err := l.repair(Recovery{}); err != nil {
			err = fmt.Errorf("write log: %w", err)
			l.failed(err)
			for _, r := range batch {
				r.reply <- appendRes{err: err, head: l.head}
			}
			return
		}
	}
	if l.err != nil {
		for _, r := range batch {
			r.reply <- appendRes{err: l.err}
		}
		return
	}
	head := l.head
	buf := l.buf[:0]
	defer func() {
		if cap(buf) <= 1<<20 { // one huge batch should not pin its buffer
			l.buf = buf[:0]
		}
	}()
	results := make([][]Entry, len(batch))
	errs := make([]error, len(batch))
	for i, r := range batch {
		saved, savedLen := head, len(buf)
		for _, rec := range r.recs {
			rec.V, rec.Seq, rec.Prev, rec.Key = FormatVersion, head.Count+1, head.Hash, l.key
			line, err := encodeLine(&rec, l.priv)
			if err != nil {
				errs[i] = err
				break
			}
			buf = append(buf, line...)
			buf = append(buf, '\n')
			head.Count++
			head.Hash = LineHash(line)
			head.Size += int64(len(line) + 1)
			results[i] = append(results[i], Entry{Record: rec, Line: line})
		}
		if errs[i] != nil { // drop this request's lines only
			head, buf, results[i] = saved, buf[:savedLen], nil
		}
	}
	if len(buf) > 0 {
		if err := l.write(buf); err != nil {
			l.failed(err)
			for _, r := range batch {
				r.reply <- appendRes{err: err}
			}
			return
		}
		l.wrote()
		l.appended.Add(head.Count - l.head.Count)
		l.head = head
	}
	for i, r := range batch {
		r.reply <- appendRes{entries: results[i], err: errs[i], head: l.head}
	}
}

// write appends buf durably, or restores the file to l.head.Size.
func (l *Log) write(buf []byte) error {
	_, werr := l.opts.Write(l.f, buf)
	if werr == nil {
		werr = l.opts.Sync(l.f)
		l.syncs.Add(1)
		if werr == nil {
			return nil
		}
	}
	// Undo the partial write so the log stays valid and the next batch
	// starts at a line boundary.
	if err := l.f.Truncate(l.head.Size); err != nil {
		l.err = fmt.Errorf("write log: %w; undo failed: %v (restart the collector to recover)", werr, err)
		return l.err
	}
	if _, err := l.f.Seek(l.head.Size, io.SeekStart); err != nil {
		l.err = fmt.Errorf("write log: %w; undo failed: %v (restart the collector to recover)", werr, err)
		return l.err
	}
	return fmt.Errorf("write log: %w", werr)
}

// ErrNotWritable is wrapped by [Log.Health] when the log cannot take a
// record now.
var ErrNotWritable = errors.New("log is not writable")

// probeEvery bounds how often [Log.Health] writes its probe file.
const probeEvery = time.Second

// Health reports whether an append would be written now: an error wrapping
// [ErrNotWritable] if the log's state is unknown after a failed rollback
// (restart needed), or a probe fails: a small file written, synced and
// removed in the log's folder with the log's Write and Sync, e.g. on a full
// or read-only disk. The probe runs at most once per second, and again
// right after a failed write, so a disk that fills up is reported at once
// and one that was freed within a second.
func (l *Log) Health() error {
	if p := l.sticky.Load(); p != nil {
		return fmt.Errorf("%w: %w", ErrNotWritable, *p)
	}
	l.probeMu.Lock()
	defer l.probeMu.Unlock()
	if l.probedAt.IsZero() || time.Since(l.probedAt) >= probeEvery {
		l.probeErr = l.probe()
		l.probedAt = time.Now()
	}
	if l.probeErr != nil {
		return fmt.Errorf("%w: %w", ErrNotWritable, l.probeErr)
	}
	return nil
}

// wrote records a successful write for [Log.Health]: a failed probe is
// out of date.
func (l *Log) wrote() {
	l.probeMu.Lock()
	if l.probeErr != nil {
		l.probedAt, l.probeErr = time.Time{}, nil
	}
	l.probeMu.Unlock()
}

// failed records a failed write for [Log.Health]: the next call probes.
func (l *Log) failed(err error) {
	if l.err != nil {
		l.sticky.Store(&l.err)
	}
	l.probeMu.Lock()
	l.probedAt = time.Time{}
	l.probeMu.Unlock()
}

// probe writes, syncs and removes a small file beside the log.
func (l *Log) probe() error {
	f, err := os.CreateTemp(filepath.Dir(l.path), ".probe-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := l.opts.Write(f, make([]byte, 512)); err != nil {
		return err
	}
	return l.opts.Sync(f)
}
