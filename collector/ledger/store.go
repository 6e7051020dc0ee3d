package ledger

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/chatconsent/chatconsent/internal/binform"
	"github.com/chatconsent/chatconsent/internal/durable"
)

// Source is where a log's lines are read from: the file of a [FileStore],
// a copy of it ([FileSource]), or another store's entries. Verification
// ([VerifySource]) and the readers of the log (the owner's records, doctor,
// the CLI) take a Source, not a path.
type Source interface {
	// Read returns the lines after position from (the zero [Head] for the
	// start, or a Head this source or its verification returned) up to
	// what is durable now, each line followed by "\n", exactly as signed.
	// The caller closes it.
	Read(from Head) (io.ReadCloser, error)
}

// Store keeps a log's lines durably, for one writer ([New]). The JSONL file
// ([FileStore]) is one implementation; a transparency log's storage fits
// behind the same methods (lines are its entries, Head.Count its size).
type Store interface {
	Source
	// Append stores lines (each a signed line without "\n") after the
	// last durable line and returns once they are durable (fsync): all of
	// them or, on error, none. next is the head after them, as the writer
	// computed it. A store may refuse appends after an error it cannot
	// undo; the error says so.
	Append(lines [][]byte, next Head) error
	// Head returns the position after the last durable line.
	Head() Head
	// Cut removes whatever follows good, the verified head, keeping the
	// removed bytes aside: an incomplete last line left by a crash (see
	// [ErrTorn]). [New] calls it once, after verifying the store; with
	// nothing after good it does nothing.
	Cut(good Head) (Recovery, error)
	// Close releases the store.
	Close() error
}

// FileOptions tune a [FileStore].
type FileOptions struct {
	// Sync is the function that makes written data durable; nil means
	// fdatasync(2). Tests replace it to inject disk errors.
	Sync func(*os.File) error
	// Write appends a batch's bytes to the file; nil means f.Write. Tests
	// replace it to inject short writes and ENOSPC.
	Write func(f *os.File, b []byte) (int, error)
	// From, if not nil, is a head of the file known to be good (see
	// [Options].From): [OpenFileStore] counts only the lines after it.
	// A file shorter than From.Size is an error.
	From *Head
}

// FileStore is the version-1 and version-2 log file: JSON Lines, appended
// with one write and one fdatasync per batch, locked against a second
// writer with flock(2). It is safe for concurrent use; appends are
// expected from one goroutine (the [Log]'s writer).
type FileStore struct {
	path string
	opts FileOptions
	f    *os.File

	mu   sync.Mutex // guards head and err; held during Append
	head Head
	err  error // sticky: the file state is unknown after a failed undo
	buf  []byte
	// uncut: [FileStore.Cut] has not yet judged the bytes after head (a
	// last line without "\n"), so Read returns them too.
	uncut bool

	// For [FileStore.Health]: the last probe's time and outcome.
	probeMu  sync.Mutex
	probedAt time.Time
	probeErr error
}

// OpenFileStore opens (creating if needed) the log file at path and locks
// it ([ErrLocked] if another process holds it). Its head is the position
// after the last "\n"; what follows (a torn write) is left for
// [FileStore.Cut]. Nothing is verified here: see [New].
func OpenFileStore(path string, opts FileOptions) (*FileStore, error) {
	if opts.Sync == nil {
		opts.Sync = fdatasync
	}
	if opts.Write == nil {
		opts.Write = (*os.File).Write
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("open log %s: %w (is another collector running on this data directory?)", path, ErrLocked)
		}
		return nil, fmt.Errorf("lock log %s: %w", path, err)
	}
	// Replace renames a new file over the log: a file opened before that
	// and locked after it is no longer the log. Open the log again.
	if st, err := f.Stat(); err == nil {
		if cur, err := os.Stat(path); err == nil && !os.SameFile(st, cur) {
			f.Close()
			return OpenFileStore(path, opts)
		}
	}
	// A crash during Replace can leave its temporary file (which may hold
	// lines redacted since); the lock holder removes it.
	if err := removeTemps(path); err != nil {
		f.Close()
		return nil, fmt.Errorf("remove unfinished copies of %s: %w", path, err)
	}
	var from Head
	if opts.From != nil {
		from = *opts.From
		if _, err := f.Seek(from.Size, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("seek log: %w", err)
		}
		if st, err := f.Stat(); err != nil || st.Size() < from.Size {
			f.Close()
			return nil, fmt.Errorf("read log %s: shorter than the head to resume from (%d bytes)", path, from.Size)
		}
	}
	head, err := scanHead(f, from)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read log %s: %w", path, err)
	}
	if _, err := f.Seek(head.Size, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("seek log: %w", err)
	}
	return &FileStore{path: path, opts: opts, f: f, head: head, uncut: true}, nil
}

// scanHead counts the complete lines of r, which follow h, and hashes the
// last one.
func scanHead(r io.Reader, h Head) (Head, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var last []byte
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			last = append(last[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				last = append(last, line...)
			}
			line = last
		}
		if err == io.EOF {
			return h, nil
		}
		if err != nil {
			return h, err
		}
		h.Count++
		h.Size += int64(len(line))
		h.Hash = LineHash(line)
	}
}

// Path returns the file's path.
func (s *FileStore) Path() string { return s.path }

// Head implements [Store].
func (s *FileStore) Head() Head {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head
}

// Read implements [Source] with its own file handle, so reading does not
// hold up appends; lines appended after the call are not seen. Until
// [FileStore.Cut], it also returns what follows the last "\n", for the
// verification in [New] to judge: a torn write, or a whole record that
// lacks only its "\n".
func (s *FileStore) Read(from Head) (io.ReadCloser, error) {
	s.mu.Lock()
	end := s.head.Size
	if s.uncut {
		end = -1
	}
	s.mu.Unlock()
	return readFile(s.path, from, end)
}

func readFile(path string, from Head, end int64) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read log: %w", err)
	}
	if _, err := f.Seek(from.Size, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("read log: %w", err)
	}
	r := io.Reader(f)
	if end >= 0 {
		r = io.LimitReader(f, max(end-from.Size, 0))
	}
	return struct {
		io.Reader
		io.Closer
	}{r, f}, nil
}

// Append implements [Store]: one write and one sync for all lines. A
// write or sync error truncates the file back to the previous head, so the
// log stays valid and the next batch starts at a line boundary.
func (s *FileStore) Append(lines [][]byte, next Head) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	buf := s.buf[:0]
	for _, l := range lines {
		buf = append(buf, l...)
		buf = append(buf, '\n')
	}
	if cap(buf) <= 1<<20 { // one huge batch should not pin its buffer
		s.buf = buf[:0]
	}
	_, werr := s.opts.Write(s.f, buf)
	if werr == nil {
		if werr = s.opts.Sync(s.f); werr == nil {
			s.head = next
			s.wrote(nil)
			return nil
		}
	}
	s.wrote(werr)
	if err := s.f.Truncate(s.head.Size); err != nil {
		s.err = fmt.Errorf("write log: %w; undo failed: %v (restart the collector to recover)", werr, err)
		return s.err
	}
	if _, err := s.f.Seek(s.head.Size, io.SeekStart); err != nil {
		s.err = fmt.Errorf("write log: %w; undo failed: %v (restart the collector to recover)", werr, err)
		return s.err
	}
	return fmt.Errorf("write log: %w", werr)
}

// Cut implements [Store]: the bytes after good, if any, are copied to a
// fresh path+".torn" (or ".torn.N") file, durably, and then cut from the
// log; if that copy cannot be written, nothing is cut and no .torn file is
// left. A good head that is [Head.Unterminated] gets its "\n" instead
// (durably) and is then the store's head with Size+1.
func (s *FileStore) Cut(good Head) (Recovery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if good.Unterminated {
		if err := s.addNewline(good.Size); err != nil {
			s.wrote(err)
			return Recovery{}, fmt.Errorf("add the missing newline after line %d: %w", good.Count, err)
		}
		good.Size++
		good.Unterminated = false
		s.head, s.uncut = good, false
		return Recovery{Newline: true}, nil
	}
	rec, err := cutTorn(s.f, s.path, good.Size, s.opts)
	if err != nil {
		s.wrote(err)
		return rec, err
	}
	s.head, s.uncut = good, false
	if _, err := s.f.Seek(good.Size, io.SeekStart); err != nil {
		return rec, fmt.Errorf("seek log: %w", err)
	}
	return rec, nil
}

// addNewline writes "\n" at size and syncs, or leaves the file as it was.
func (s *FileStore) addNewline(size int64) error {
	if _, err := s.f.Seek(size, io.SeekStart); err != nil {
		return err
	}
	_, err := s.opts.Write(s.f, []byte("\n"))
	if err == nil {
		err = s.opts.Sync(s.f)
	}
	if err != nil {
		s.f.Truncate(size)
		s.f.Seek(size, io.SeekStart)
	}
	return err
}

// probeEvery bounds how often [FileStore.Health] writes its probe file.
const probeEvery = time.Second

// Health reports whether the file takes appends now: the sticky error of a
// failed undo (restart needed), or the failure of a probe: a small file
// written, synced and removed beside the log with the store's Write and
// Sync (so a full or read-only disk shows before a decision fails). The
// probe runs at most once per second, and again right after a failed or a
// successful write, so a change of the disk's state is seen at once.
func (s *FileStore) Health() error {
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.probeMu.Lock()
	defer s.probeMu.Unlock()
	if s.probedAt.IsZero() || time.Since(s.probedAt) >= probeEvery {
		s.probeErr = s.probe()
		s.probedAt = time.Now()
	}
	return s.probeErr
}

// wrote records the outcome of a write for [FileStore.Health]: a failure
// makes the next call probe, and so does a success after a failed probe.
func (s *FileStore) wrote(err error) {
	s.probeMu.Lock()
	if err != nil || s.probeErr != nil {
		s.probedAt, s.probeErr = time.Time{}, nil
	}
	s.probeMu.Unlock()
}

func (s *FileStore) probe() error {
	f, err := os.CreateTemp(filepath.Dir(s.path), ".probe-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := s.opts.Write(f, make([]byte, 512)); err != nil {
		return err
	}
	return s.opts.Sync(f)
}

// Close implements [Store].
func (s *FileStore) Close() error { return s.f.Close() }

// FileSource returns a read-only [Source] over the log file at path (or a
// copy of it), without a lock: Read returns the whole file as it is then,
// a torn last line included, so verification reports it.
func FileSource(path string) Source { return fileSource(path) }

type fileSource string

func (p fileSource) Read(from Head) (io.ReadCloser, error) { return readFile(string(p), from, -1) }

// ReaderSource returns a [Source] over log bytes in memory.
func ReaderSource(b []byte) Source { return bytesSource(b) }

type bytesSource []byte

func (b bytesSource) Read(from Head) (io.ReadCloser, error) {
	if from.Size > int64(len(b)) {
		return nil, fmt.Errorf("read log: position %d beyond its %d bytes", from.Size, len(b))
	}
	return io.NopCloser(bytes.NewReader(b[from.Size:])), nil
}

// cutTorn copies the bytes after good to a fresh .torn file, durably, and
// then truncates the log to good. If the copy cannot be written, nothing
// is cut and no .torn file is left.
func cutTorn(f *os.File, path string, good int64, opts FileOptions) (Recovery, error) {
	st, err := f.Stat()
	if err != nil {
		return Recovery{}, fmt.Errorf("stat log: %w", err)
	}
	if st.Size() <= good {
		return Recovery{}, nil
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
// with the store's Write and Sync; on failure it removes what it created.
func writeFileSync(path string, b []byte, opts FileOptions) (err error) {
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
	return durable.SyncDir(filepath.Dir(path))
}

func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }

// ErrNotHead is returned by [HoldsHead] for a head the file does not have.
var ErrNotHead = errors.New("the file does not hold that line there (cut, rewritten or another file)")

// HoldsHead reports whether the file at path has head h: its bytes up to
// h.Size end in a line (with its "\n") of h.Count lines whose
// [LineHash] is h.Hash. Lines after it may follow. The zero Head is a head
// of every file, also a missing one. Only the line itself is read (the
// count is trusted, from whoever recorded h), so a file rewritten since
// (an erasure) or restored from another backup fails with [ErrNotHead]
// unless it kept exactly that line at exactly that place.
func HoldsHead(path string, h Head) error {
	if h.Count == 0 && h.Size == 0 {
		return nil
	}
	if h.Count == 0 || h.Size < 1 {
		return ErrNotHead
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	n := min(h.Size, MaxLineBytes+1)
	b := make([]byte, n)
	if _, err := f.ReadAt(b, h.Size-n); err == io.EOF {
		return fmt.Errorf("%w: %s ends before byte %d", ErrNotHead, path, h.Size)
	} else if err != nil {
		return err
	}
	if b[n-1] != '\n' {
		return fmt.Errorf("%w: %s has no line ending at byte %d", ErrNotHead, path, h.Size)
	}
	line := b[:n-1]
	i := bytes.LastIndexByte(line, '\n')
	if i < 0 && h.Size > n {
		return fmt.Errorf("%w: %s: line %d is longer than a line may be", ErrNotHead, path, h.Count)
	}
	// With no "\n" before it, the line is the file's first.
	if LineHash(line[i+1:]) != h.Hash || (i < 0 && h.Count != 1) {
		return fmt.Errorf("%w: %s: line %d is not the line before byte %d", ErrNotHead, path, h.Count, h.Size)
	}
	return nil
}

// AppendHead writes h in internal/binform's form, as the collector's state
// files keep heads: count, hash (a string), size.
func AppendHead(w *binform.Writer, h Head) {
	w.Uint(h.Count)
	w.String(h.Hash)
	w.Uint(uint64(h.Size))
}

// ReadHead reads a head [AppendHead] wrote; a size above 2^62 fails r.
func ReadHead(r *binform.Reader) Head {
	h := Head{Count: r.Uint(), Hash: r.String()}
	size := r.Uint()
	if size > 1<<62 {
		r.Fail("bad size")
		return Head{}
	}
	h.Size = int64(size)
	return h
}
