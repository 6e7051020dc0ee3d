package translog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/client"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"
)

// Defaults of [Options]: at 50 decisions/s a covering checkpoint exists
// within BatchMaxAge + one sequencing (a few fsyncs) + CheckpointInterval +
// the witnesses' answers, well under a second; the receipt goal is 2 s
// (p99). Each batch costs the same (about ten fsyncs of files and folders,
// whatever its size), so the age is what bounds the log's share of the disk
// and CPU under load: 200 ms (it was 50 ms) means at most five batches a
// second instead of up to twenty, whose fsyncs competed with the decisions
// log's, for about 150 ms more until a receipt's proof. The feeder hands
// Tessera one batch per BatchMaxAge (see the package documentation), so
// BatchMaxSize/BatchMaxAge is the most the log takes per second: 1,024
// (about 5,000/s) fell behind bench/load.sh's 9,000 decisions/s and the
// entries waiting in memory grew by about 3 MB/s (66 MB after 22 s);
// 8,192 (about 40,000/s, 2.5 MB per batch) keeps up with what the
// collector can acknowledge.
const (
	DefaultBatchMaxSize       = 8192
	DefaultBatchMaxAge        = 200 * time.Millisecond
	DefaultCheckpointInterval = 250 * time.Millisecond
	DefaultWitnessTimeout     = 5 * time.Second
	// DefaultMaxPendingBytes bounds the entries fed and not yet handed to
	// Tessera that are kept in memory; more wait in an overflow file
	// ([Options].MaxPendingBytes).
	DefaultMaxPendingBytes = 8 << 20
)

// WitnessConfig names one witness: its tlog-witness URL prefix (the
// witness answers POST <URL>/add-checkpoint) and its verifier key
// (signed-note format, Ed25519 or cosignature/v1).
type WitnessConfig struct {
	URL string
	Key string
}

// Options configure [Open].
type Options struct {
	// Dir is the log's folder (DATA/log): exactly what is published, plus
	// Tessera's private ".state" folder. Unused with AWS.
	Dir string
	// AWS, if set, stores the log with Tessera's AWS driver (a database and
	// an S3 bucket) instead of in Dir; see [AWSOptions].
	AWS *AWSOptions
	// Key signs checkpoints; its name is the log's origin.
	Key Key
	// BatchMaxSize and BatchMaxAge bound Tessera's sequencing batches;
	// CheckpointInterval is the least time between two checkpoints. Zero
	// means the Default… constants.
	BatchMaxSize       uint
	BatchMaxAge        time.Duration
	CheckpointInterval time.Duration
	// Witnesses cosign each checkpoint before it is published; Quorum of
	// them must answer (0: none needed). A checkpoint without its quorum is
	// not published, so proofs wait.
	Witnesses      []WitnessConfig
	Quorum         int
	WitnessTimeout time.Duration
	// HTTPClient talks to the witnesses and the time-stamp authority (nil:
	// http.DefaultClient).
	HTTPClient *http.Client
	// Timestamp, if its URL is set, has every new checkpoint time-stamped
	// (RFC 3161) and the tokens kept beside it ([TimestampDir]).
	Timestamp TimestampOptions
	// Logger hears about an unreachable time-stamp authority (nil:
	// slog.Default). It never gets entries.
	Logger *slog.Logger
	// MaxPendingBytes bounds the fed entries waiting in memory for the
	// feeder (0: DefaultMaxPendingBytes). When Tessera integrates more
	// slowly than entries are fed (a slow disk, the AWS driver at full
	// load), later ones wait in a file created in SpillDir ("":
	// os.TempDir()) and removed at once: it has no name, is never
	// fsynced and is gone with the process (a restart feeds what the log
	// lacks from the JSONL file, [Log.CatchUp]). Entries are commitments,
	// never personal data.
	MaxPendingBytes int
	SpillDir        string
}

// Errors callers branch on.
var (
	// ErrGap: an entry was fed out of order (its index is not the log's
	// next one).
	ErrGap = errors.New("entry index is not the next one of the transparency log")
	// ErrMisplaced: Tessera put an entry at another index than the one it
	// was fed for. The log no longer mirrors the JSONL file; this needs an
	// operator (see the package documentation).
	ErrMisplaced = errors.New("the transparency log put an entry at the wrong index")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("transparency log closed")
	// ErrOtherLog: the folder, or the database and prefix, already hold a
	// log whose checkpoint another key signed: another collector's.
	// Opening it would interleave two collectors' entries and publish
	// checkpoints over the other's tree (see README, "one collector
	// writes one log").
	ErrOtherLog = errors.New("the transparency log's storage holds another collector's log")
)

// Log is the writing side of the transparency log: Tessera's POSIX driver in
// one folder, or its AWS driver ([AWSOptions]). Entries are fed in order with [Log.Feed]; a feeder goroutine
// adds them to Tessera in batches, so Feed never waits for the disk.
type Log struct {
	dir    string // "" with AWS
	bucket Source // the bucket's objects, with AWS
	signer note.Signer
	verif  note.Verifier
	add    func(context.Context, *tessera.Entry) tessera.IndexFuture
	stop   func(context.Context) error
	reader tessera.LogReader
	cancel context.CancelFunc
	batch  int
	wv     []note.Verifier // witnesses whose cosignatures count
	quorum int

	mu      sync.Mutex
	cond    *sync.Cond
	pending [][]byte // entries fed but not yet handed to Tessera
	// pendingBytes is the size of pending; beyond maxPending, entries go
	// to over (they follow pending's).
	pendingBytes, maxPending int
	over                     overflow
	overflowed               uint64 // entries that went through over, for tests
	next                     uint64 // index of the next entry Feed accepts
	done                     uint64 // entries integrated (durable in Tessera's files)
	err                      error  // sticky feeder error
	closed                   bool
	idle                     chan struct{}

	ts *stamper // nil: no time-stamping

	cpMu   sync.Mutex
	cpSize uint64
	cpRaw  []byte
	cpWake chan struct{}
}

// Open opens (or creates) the log in o.Dir and starts its feeder and
// checkpoint watcher. The caller must [Log.Close] it.
func Open(ctx context.Context, o Options) (*Log, error) {
	if o.Key.Signer == nil || o.Key.Verifier == nil {
		return nil, errors.New("translog: no checkpoint signer")
	}
	if o.Timestamp.URL != "" && o.Timestamp.Roots == nil {
		return nil, errors.New("translog: time-stamping needs the authority's root certificates")
	}
	if o.BatchMaxSize == 0 {
		o.BatchMaxSize = DefaultBatchMaxSize
	}
	if o.BatchMaxAge == 0 {
		o.BatchMaxAge = DefaultBatchMaxAge
	}
	if o.MaxPendingBytes <= 0 {
		o.MaxPendingBytes = DefaultMaxPendingBytes
	}
	if o.CheckpointInterval == 0 {
		o.CheckpointInterval = DefaultCheckpointInterval
	}
	if o.WitnessTimeout == 0 {
		o.WitnessTimeout = DefaultWitnessTimeout
	}
	verif := o.Key.Verifier
	var driver tessera.Driver
	var bucket Source
	where := o.Dir
	if o.AWS != nil {
		o.Dir = ""
		where = "in bucket " + o.AWS.Bucket
		if o.AWS.Prefix != "" {
			where += " under " + o.AWS.Prefix
		}
		o.CheckpointInterval = max(o.CheckpointInterval, AWSMinCheckpointInterval)
		d, src, err := awsDriver(ctx, o.AWS, o.HTTPClient)
		if err != nil {
			return nil, fmt.Errorf("open transparency log %s: %w", where, err)
		}
		driver, bucket = d, src
	} else {
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("create transparency log folder: %w", err)
		}
		d, err := posix.New(ctx, posix.Config{Path: o.Dir, HTTPClient: o.HTTPClient})
		if err != nil {
			return nil, fmt.Errorf("open transparency log %s: %w", o.Dir, err)
		}
		driver = d
	}
	// One collector writes one log: a checkpoint there that our key did
	// not sign is another collector's (two given the same prefix).
	if err := ownCheckpoint(ctx, bucket, o.Dir, verif); err != nil {
		return nil, fmt.Errorf("open transparency log %s: %w", where, err)
	}
	// Tessera's queue is one larger than the feeder's batches, so that it
	// flushes them only by its age timer, never by size: a size flush
	// right after a timer flush can reach its sequencer first (both send
	// after releasing the queue's lock, storage/internal/queue.go), and
	// the later entries then take the earlier ones' indices. Seen once
	// under CI load (TestLogLifecycle: "entry fed as 47494 stored at
	// 46728", 766 entries swapped). Timer flushes are at least
	// BatchMaxAge apart.
	opts := tessera.NewAppendOptions().
		WithCheckpointSigner(o.Key.Signer).
		WithBatching(o.BatchMaxSize+1, o.BatchMaxAge).
		WithCheckpointInterval(o.CheckpointInterval)
	var wv []note.Verifier
	if len(o.Witnesses) > 0 {
		group, err := witnessGroup(o.Witnesses, o.Quorum)
		if err != nil {
			return nil, err
		}
		for _, c := range group.Components {
			for _, v := range c.Endpoints() {
				wv = append(wv, v)
			}
		}
		opts = opts.WithWitnesses(group, &tessera.WitnessOptions{Timeout: o.WitnessTimeout})
	}
	actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	app, stop, reader, err := tessera.NewAppender(actx, driver, opts)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("open transparency log %s: %w", where, err)
	}
	size, err := reader.IntegratedSize(actx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("read transparency log size: %w", err)
	}
	l := &Log{
		dir: o.Dir, bucket: bucket, signer: o.Key.Signer, verif: verif,
		add: app.Add, stop: stop, reader: reader, cancel: cancel,
		batch: int(o.BatchMaxSize), next: size, done: size, wv: wv, quorum: o.Quorum,
		maxPending: o.MaxPendingBytes, over: overflow{dir: o.SpillDir},
		cpWake: make(chan struct{}),
	}
	l.cond = sync.NewCond(&l.mu)
	if o.Timestamp.URL != "" {
		l.ts = newStamper(actx, o.Timestamp, o.Dir, o.HTTPClient, o.Logger)
		go l.stampLoop(actx)
	}
	go l.feeder(actx)
	go l.watchCheckpoint(actx)
	return l, nil
}

func witnessGroup(ws []WitnessConfig, quorum int) (tessera.WitnessGroup, error) {
	if quorum < 0 || quorum > len(ws) {
		return tessera.WitnessGroup{}, fmt.Errorf("log.witness_quorum = %d: must be between 0 and the number of witnesses (%d)", quorum, len(ws))
	}
	g := tessera.WitnessGroup{N: quorum}
	for i, w := range ws {
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return tessera.WitnessGroup{}, fmt.Errorf("log.witnesses[%d].url %q: not an http(s) URL", i, w.URL)
		}
		tw, err := tessera.NewWitness(w.Key, u)
		if err != nil {
			return tessera.WitnessGroup{}, fmt.Errorf("log.witnesses[%d].key: not a signed-note verifier key: %w", i, err)
		}
		g.Components = append(g.Components, tw)
	}
	return g, nil
}

// Size returns the number of entries integrated into the tree (durable in
// Tessera's files; a checkpoint covering them may still be pending).
func (l *Log) Size() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.done
}

// Next returns the index the next fed entry must have.
func (l *Log) Next() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next
}

// Origin returns the log's origin (the checkpoint signer's name).
func (l *Log) Origin() string { return l.signer.Name() }

// Verifier returns the checkpoint verifier.
func (l *Log) Verifier() note.Verifier { return l.verif }

// Feed queues entries whose indices start at index, which must be
// [Log.Next]; it does not wait for the disk. Entries are at most 65,535
// bytes (tlog-tiles). Up to [Options].MaxPendingBytes of them wait in
// memory, the rest in a nameless overflow file; if that file cannot be
// written, Feed returns the error, Next stays after the entries it took,
// and the caller stops feeding (a restart catches up, [Log.CatchUp]).
func (l *Log) Feed(index uint64, entries ...[]byte) error {
	for i, e := range entries {
		if len(e) == 0 || len(e) > 65535 {
			return fmt.Errorf("entry %d: %d bytes, a log entry has 1 to 65,535", index+uint64(i), len(e))
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return ErrClosed
	case l.err != nil:
		return l.err
	case index != l.next:
		return fmt.Errorf("fed entry %d, next is %d: %w", index, l.next, ErrGap)
	}
	// Memory first; once an entry waits in the overflow file, every later
	// one does too, so that they are handed on in order.
	k := 0
	for k < len(entries) && l.over.n == 0 && l.pendingBytes+len(entries[k]) <= l.maxPending {
		l.pending = append(l.pending, append([]byte(nil), entries[k]...))
		l.pendingBytes += len(entries[k])
		k++
	}
	if k < len(entries) {
		if err := l.over.write(entries[k:]); err != nil {
			// What memory took stays fed; the rest is the caller's to
			// feed again (a restart catches the log up).
			l.next += uint64(k)
			l.cond.Broadcast()
			return fmt.Errorf("entry %d: %w", l.next, err)
		}
		l.overflowed += uint64(len(entries) - k)
	}
	l.next += uint64(len(entries))
	l.cond.Broadcast()
	return nil
}

// CatchUp feeds what a reader of the durable JSONL file has and the log
// lacks: it calls read(from, fn), which must call fn with every entry from
// index from on, in order.
func (l *Log) CatchUp(read func(from uint64, fn func(entry []byte) error) error) (added uint64, err error) {
	from := l.Next()
	i := from
	err = read(from, func(e []byte) error {
		if err := l.Feed(i, e); err != nil {
			return err
		}
		i++
		return nil
	})
	return i - from, err
}

// feeder hands pending entries to Tessera in batches of at most batch
// entries and waits for each batch before the next, so entries keep the
// order they were fed in (see the package documentation).
func (l *Log) feeder(ctx context.Context) {
	for {
		l.mu.Lock()
		for len(l.pending) == 0 && l.over.n == 0 && !l.closed && l.err == nil {
			l.cond.Wait()
		}
		if l.err != nil || (l.closed && len(l.pending) == 0 && l.over.n == 0) {
			l.over.close()
			l.mu.Unlock()
			return
		}
		if len(l.pending) == 0 {
			// The overflow's oldest entries, read back into memory: Feed
			// only appends to the file while it holds any.
			es, err := l.over.read(l.batch)
			if err != nil {
				l.err = fmt.Errorf("transparency log: read back entries from %d on: %w", l.done, err)
				l.cond.Broadcast()
				l.mu.Unlock()
				return
			}
			for _, e := range es {
				l.pendingBytes += len(e)
			}
			l.pending = es
		}
		n := min(len(l.pending), l.batch)
		chunk := l.pending[:n:n]
		first := l.done
		l.mu.Unlock()

		futures := make([]tessera.IndexFuture, n)
		for i, e := range chunk {
			futures[i] = l.add(ctx, tessera.NewEntry(e))
		}
		var ferr error
		for i, f := range futures {
			idx, err := f()
			switch {
			case err != nil && ferr == nil:
				ferr = fmt.Errorf("add entry %d to the transparency log: %w", first+uint64(i), err)
			case err == nil && idx.Index != first+uint64(i):
				ferr = fmt.Errorf("entry fed as %d stored at %d: %w", first+uint64(i), idx.Index, ErrMisplaced)
			}
		}
		l.mu.Lock()
		if ferr != nil {
			if errors.Is(ferr, ErrMisplaced) || ctx.Err() != nil {
				l.err = ferr
				l.cond.Broadcast()
				l.mu.Unlock()
				return
			}
			// Nothing of a failed batch counts: Tessera's tree size did not
			// move (its state file is written last). Try again shortly.
			l.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		for _, e := range l.pending[:n] {
			l.pendingBytes -= len(e)
		}
		l.pending = l.pending[n:]
		l.done += uint64(n)
		l.cond.Broadcast()
		l.mu.Unlock()
	}
}

// Err returns the feeder's sticky error, if any (e.g. [ErrMisplaced]).
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Flush waits until every fed entry is integrated.
func (l *Log) Flush(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { l.mu.Lock(); l.cond.Broadcast(); l.mu.Unlock() })
	defer stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.done < l.next && l.err == nil && ctx.Err() == nil {
		l.cond.Wait()
	}
	if l.err != nil {
		return l.err
	}
	return ctx.Err()
}

// Close waits (up to ctx) for fed entries to be integrated and covered by a
// published checkpoint, then stops Tessera.
func (l *Log) Close(ctx context.Context) error {
	err := l.Flush(ctx)
	if err == nil {
		if n := l.Size(); n > 0 {
			_, err = l.AwaitCheckpoint(ctx, n-1)
		}
	}
	l.mu.Lock()
	l.closed = true
	l.cond.Broadcast()
	l.mu.Unlock()
	if serr := l.stop(ctx); err == nil && serr != nil && !errors.Is(serr, context.Canceled) {
		err = serr
	}
	l.cancel()
	return err
}

// watchCheckpoint polls the published checkpoint and wakes waiters.
func (l *Log) watchCheckpoint(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if raw, err := l.reader.ReadCheckpoint(ctx); err == nil {
			if cp, err := OpenCheckpoint(raw, l.verif, l.wv, l.quorum); err == nil {
				l.cpMu.Lock()
				if cp.Size > l.cpSize || l.cpRaw == nil || (cp.Size == l.cpSize && string(raw) != string(l.cpRaw)) {
					l.cpSize, l.cpRaw = cp.Size, raw
					close(l.cpWake)
					l.cpWake = make(chan struct{})
				}
				l.cpMu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Checkpoint returns the latest published checkpoint (a signed note,
// cosigned by the witnesses' quorum) and its size, or nil before the first
// one.
func (l *Log) Checkpoint() ([]byte, uint64) {
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	return l.cpRaw, l.cpSize
}

// AwaitCheckpoint waits until a published checkpoint covers entry index and
// returns it.
func (l *Log) AwaitCheckpoint(ctx context.Context, index uint64) ([]byte, error) {
	for {
		l.cpMu.Lock()
		raw, size, wake := l.cpRaw, l.cpSize, l.cpWake
		l.cpMu.Unlock()
		if raw != nil && size > index {
			return raw, nil
		}
		if err := l.Err(); err != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for a checkpoint covering entry %d (published: %d entries): %w", index, size, ctx.Err())
		case <-wake:
		case <-time.After(time.Second):
		}
	}
}

// Prove waits for a checkpoint covering entry index and returns the
// entry's inclusion proof in it, as a tlog-proof file ([Proof.Marshal]).
func (l *Log) Prove(ctx context.Context, index uint64) (*Proof, error) {
	var lastErr error
	for try := 0; try < 3; try++ {
		raw, err := l.AwaitCheckpoint(ctx, index)
		if err != nil {
			return nil, err
		}
		cp, err := OpenCheckpoint(raw, l.verif, nil, 0)
		if err != nil {
			return nil, err
		}
		readTile := l.reader.ReadTile
		if l.bucket != nil {
			readTile = l.bucket.ReadTile // falls back from removed partial tiles
		}
		pb, err := client.NewProofBuilder(ctx, cp.Size, readTile)
		if err != nil {
			return nil, err
		}
		hashes, err := pb.InclusionProof(ctx, index)
		if err == nil {
			return &Proof{Index: index, Hashes: hashes, Checkpoint: raw}, nil
		}
		// A newer checkpoint may have replaced the partial tiles of this
		// one (Tessera removes them once full ones exist): read it again.
		lastErr = err
	}
	return nil, fmt.Errorf("inclusion proof of entry %d: %w", index, lastErr)
}

// Source returns a reader of the log's published files (its folder, or its
// bucket through Tessera's reader with AWS).
func (l *Log) Source() Source {
	if l.bucket != nil {
		return l.bucket
	}
	return DirSource(l.dir)
}

// Dir returns the log's folder ("" with AWS: the files are in the bucket).
func (l *Log) Dir() string { return l.dir }

// StateDir is Tessera's private folder inside a log folder; it is never
// published.
const StateDir = ".state"

// LastCheckpoint reads the published checkpoint from the log's folder and
// verifies its signature with the log's own key (witnesses are not asked
// for: the log trusts what it signed itself). It returns nil, nil for a
// log that has published none yet.
func (l *Log) LastCheckpoint(ctx context.Context) (*Checkpoint, error) {
	raw, err := l.reader.ReadCheckpoint(ctx)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the transparency log's checkpoint: %w", err)
	}
	cp, err := OpenCheckpoint(raw, l.verif, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("the transparency log's own checkpoint: %w", err)
	}
	return cp, nil
}

// ownCheckpoint returns [ErrOtherLog] if the log's storage (bucket, else
// the folder dir) holds a checkpoint that is signed, but not by verif's
// key. A missing or unreadable checkpoint is left to Tessera and to
// `chatconsent verify`.
func ownCheckpoint(ctx context.Context, bucket Source, dir string, verif note.Verifier) error {
	src := bucket
	if src == nil {
		src = DirSource(dir)
	}
	raw, err := src.ReadCheckpoint(ctx)
	if err != nil || len(raw) == 0 {
		return nil
	}
	var unknown *note.UnverifiedNoteError
	if _, err := note.Open(raw, note.VerifierList(verif)); errors.As(err, &unknown) {
		origin, _, _ := strings.Cut(string(raw), "\n")
		return fmt.Errorf("its checkpoint (origin %q) is not signed by this collector's key %s: %w; give each collector its own folder, or its own database and prefix (or, if this is the collector's own log, restore its checkpoint key from the backup)", origin, verif.Name(), ErrOtherLog)
	}
	return nil
}
