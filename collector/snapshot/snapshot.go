// Package snapshot is the collector's signed state file: what a start
// would otherwise fold from the whole decisions log (the in-memory index
// of package internal/records, the log's head, the transparency log's
// position, the erasures to carry out again, the private store's state),
// as of one line of the log.
// A start that finds a good snapshot reads only the lines after that line
// (issue 13, step 7: start-up without re-reading history); `chatconsent
// verify` still checks the whole log.
//
// # Trust
//
// The snapshot is signed with the log's own Ed25519 key (DATA/signing.key),
// so a changed or forged snapshot is refused ([ErrBadSignature]). It names
// the log line it was taken after (its byte offset and [ledger.LineHash]):
// the collector checks that the file still holds exactly that line there
// ([Check]) before it believes the snapshot. A log cut, replaced (a
// migration, a redaction) or restored from another backup fails that
// check. Any problem with the snapshot (missing, unreadable, a bad
// signature, another log, another set of configured purposes) makes the
// collector fold the whole log as before and say why: never a wrong state.
//
// # File
//
// DATA/private/snapshot (mode 0600; in the private folder because it
// holds the personal data the index holds), written durably
// (internal/durable: temp file, fsync, rename, fsync of the folder), so a
// crash while writing leaves the old snapshot or none:
//
//	"chatconsent snapshot 3\n"   magic line
//	body                         see below
//	signature                    64 bytes: Ed25519 over "chatconsent/snapshot/v3\n" and the SHA-256 of magic and body (32 bytes)
//
// The body is in internal/binform's form (unsigned varints, a string its
// length then its bytes, a list its length then its items):
//
//	head count, head hash (string), head size   the log up to and including the line's "\n" (a [ledger.Head])
//	last                                        byte offset of that line
//	v1, v2                                      version-1 lines before the first version-2 line; version-2 lines
//	backlog flag (0/1) [count, hash, size]      where the receipts' sweep must start, if anywhere
//	erasures: n, each (id string, n, ids)       the log's erasure records up to the head
//	index (string)                              records.Index's binary form
//	private (string)                            the private store's state (collector/private: Store.AppendBinary)
//
// Form 1 ("chatconsent snapshot 1\n", written until 2 Dec 2026) ends
// after the index: [Decode] reads it with no private state, so the first
// start of a new version reads the private store whole, once. Form 2
// ("chatconsent snapshot 2\n", until 2 Dec 2026) has form 3's body, its
// signature over "chatconsent/snapshot/v1\n", magic and body themselves:
// checking it copied the whole file (45 MB at 500,000 decisions) once
// more, which form 3's digest does not.
//
// [Encode] and [Decode] are each other's inverse; Decode refuses
// anything else, including trailing bytes.
package snapshot

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/binform"
	"github.com/chatconsent/chatconsent/internal/durable"
)

const (
	magic   = "chatconsent snapshot 3\n"
	magic2  = "chatconsent snapshot 2\n" // form 2: signed without a digest
	magic1  = "chatconsent snapshot 1\n" // form 1: no private state, signed without a digest
	domain  = "chatconsent/snapshot/v3\n"
	domain1 = "chatconsent/snapshot/v1\n" // forms 1 and 2
)

// Errors of [Decode] and [Check] that callers may branch on.
var (
	ErrFormat       = errors.New("not a chatconsent snapshot")
	ErrBadSignature = errors.New("the snapshot's signature does not verify with the log's key")
	ErrOtherLog     = errors.New("the log does not hold the snapshot's line (cut, replaced or another log)")
)

// Erasure is an erasure record of the log, as a start carries it out again.
type Erasure struct {
	ID     string
	Erased []string
}

// State is what a snapshot holds.
type State struct {
	// Head is the log's head after the line the snapshot was taken after.
	Head ledger.Head
	// Last is the byte offset of that line.
	Last int64
	// V1 and V2 are the transparency log's position (logfeed.Store.Position).
	V1, V2 uint64
	// Backlog, if not nil, is where the receipts' sweep must start.
	Backlog *ledger.Head
	// Erasures are the log's erasure records up to Head.
	Erasures []Erasure
	// Index is the in-memory index's binary form (records.Index.AppendBinary).
	Index []byte
	// Private is the private store's state (private.Store.AppendBinary);
	// nil in a form-1 snapshot.
	Private []byte
}

// Encode returns the signed snapshot of st.
func Encode(st *State, priv ed25519.PrivateKey) []byte { return encode(st, priv, 3) }

// encode writes form 3, or form 1 or 2 (for the tests of their reading).
func encode(st *State, priv ed25519.PrivateKey, form int) []byte {
	w := encodeHead(st, form)
	w.Uint(uint64(len(st.Index))) // a string, without a copy as one
	w.Raw(st.Index)
	if form != 1 {
		w.Uint(uint64(len(st.Private)))
		w.Raw(st.Private)
	}
	return append(w.B, ed25519.Sign(priv, signed(w.B, form))...)
}

// encodeHead returns the magic line of form and the body's parts before
// the index.
func encodeHead(st *State, form int) *binform.Writer {
	w := &binform.Writer{B: make([]byte, 0, 256+len(st.Index)+len(st.Private)+ed25519.SignatureSize)}
	w.Raw([]byte(magicOf(form)))
	ledger.AppendHead(w, st.Head)
	w.Uint(uint64(st.Last))
	w.Uint(st.V1)
	w.Uint(st.V2)
	if st.Backlog != nil {
		w.Uint(1)
		ledger.AppendHead(w, *st.Backlog)
	} else {
		w.Uint(0)
	}
	w.Uint(uint64(len(st.Erasures)))
	for _, e := range st.Erasures {
		w.String(e.ID)
		w.Strings(e.Erased)
	}
	return w
}

func magicOf(form int) string {
	switch form {
	case 1:
		return magic1
	case 2:
		return magic2
	}
	return magic
}

// signed returns the message a form's signature is over, for the bytes b
// before it.
func signed(b []byte, form int) []byte {
	if form < 3 {
		return append([]byte(domain1), b...)
	}
	sum := sha256.Sum256(b)
	return append([]byte(domain), sum[:]...)
}

// Decode checks the signature of a snapshot with pub and returns its
// state, whose Index and Private share b's memory: [ErrFormat] for bytes that are not a snapshot (cut, trailing
// bytes), [ErrBadSignature] for one not signed by pub's key. It never
// panics (FuzzDecode).
func Decode(b []byte, pub ed25519.PublicKey) (*State, error) {
	form := 0
	for f := 1; f <= 3; f++ {
		if bytes.HasPrefix(b, []byte(magicOf(f))) {
			form = f
		}
	}
	if form == 0 {
		return nil, ErrFormat
	}
	if len(b) < len(magic)+ed25519.SignatureSize {
		return nil, ErrFormat
	}
	body, sig := b[:len(b)-ed25519.SignatureSize], b[len(b)-ed25519.SignatureSize:]
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, signed(body, form), sig) {
		return nil, ErrBadSignature
	}
	r := binform.NewReader(body[len(magic):], ErrFormat)
	st, err := decodeHead(r)
	if err != nil {
		return nil, err
	}
	// The two big parts are not copied: they point into b.
	st.Index = r.Bytes()
	if form >= 2 {
		st.Private = r.Bytes()
	}
	if r.Err() != nil || r.Len() != 0 {
		return nil, ErrFormat
	}
	return st, nil
}

// decodeHead reads the body's parts before the index.
func decodeHead(r *binform.Reader) (*State, error) {
	st := &State{Head: ledger.ReadHead(r)}
	last := r.Uint()
	st.V1, st.V2 = r.Uint(), r.Uint()
	if st.Head.Count == 0 || last >= uint64(st.Head.Size) {
		r.Fail("bad head")
	}
	st.Last = int64(last)
	switch flag := r.Uint(); flag {
	case 0:
	case 1:
		h := ledger.ReadHead(r)
		st.Backlog = &h
	default:
		r.Fail("bad backlog flag")
	}
	for n := r.Count(2); n > 0 && r.Err() == nil; n-- {
		st.Erasures = append(st.Erasures, Erasure{ID: r.String(), Erased: r.Strings()})
	}
	if r.Err() != nil {
		return nil, ErrFormat
	}
	return st, nil
}

// Write stores st's snapshot at path durably: a crash leaves the old file
// or the new one.
func Write(path string, st *State, priv ed25519.PrivateKey) error {
	return Stream(path, st, Parts{}, priv)
}

// Parts write a snapshot's two big parts when [Stream] writes it: the
// index first, then the private store's state, each to a file of its own
// (unlinked, beside the snapshot) whose length then goes before it: at
// 500,000 decisions each is 15–20 MB that the collector never holds. A
// nil func writes the part from the State.
type Parts struct {
	Index, Private func(w io.Writer) error
}

// Stream writes the snapshot of st (durably, as [Write]), its index and
// private state written by parts as it goes: the bytes are those of
// [Encode]. An error from a part leaves the old file.
func Stream(path string, st *State, parts Parts, priv ed25519.PrivateKey) error {
	index, private := parts.Index, parts.Private
	if index == nil {
		index = func(w io.Writer) error { _, err := w.Write(st.Index); return err }
	}
	if private == nil {
		private = func(w io.Writer) error { _, err := w.Write(st.Private); return err }
	}
	return durable.WriteStream(path, 0o600, func(f io.Writer) error {
		h := sha256.New()
		w := io.MultiWriter(f, h)
		if _, err := w.Write(encodeHead(st, 3).B); err != nil {
			return err
		}
		for _, part := range []func(io.Writer) error{index, private} {
			if err := spooled(filepath.Dir(path), part, w); err != nil {
				return err
			}
		}
		_, err := f.Write(ed25519.Sign(priv, append([]byte(domain), h.Sum(nil)...)))
		return err
	})
}

// spooled writes what part writes to w as a string (its length, then its
// bytes), through a file in dir that has no name: the length is known
// only at its end.
func spooled(dir string, part func(io.Writer) error, w io.Writer) error {
	f, err := os.CreateTemp(dir, ".snapshot-part.tmp-*") // durable.IsTemp: a crash's leftover is removed at start
	if err != nil {
		return err
	}
	defer f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return err
	}
	c := &counter{w: f}
	if err := part(c); err != nil {
		return err
	}
	if _, err := w.Write(binary.AppendUvarint(nil, uint64(c.n))); err != nil {
		return err
	}
	_, err = io.Copy(w, io.NewSectionReader(f, 0, c.n))
	return err
}

// counter counts what it writes to w.
type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// Read reads and decodes the snapshot at path; a missing file wraps
// [os.ErrNotExist].
func Read(path string, pub ed25519.PublicKey) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	st, err := Decode(b, pub)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// File is a snapshot opened for a start: its signature checked and its
// small parts read ([File].State, whose Index and Private are nil), its
// two big parts (the index, the private store's state) left in the file,
// to be read as streams ([File.Index], [File.Private]), so that a start
// does not hold the whole file (45 MB at 500,000 decisions) beside what
// it decodes from it. Close it after.
type File struct {
	State
	f              *os.File
	index, private *io.SectionReader
}

// Open opens the snapshot at path and checks its signature with pub
// (reading it once, with a digest), as [Read] does; a missing file wraps
// [os.ErrNotExist]. A snapshot of form 1 or 2 is read whole ([Read]).
func Open(path string, pub ed25519.PublicKey) (*File, error) {
	fail := func(err error) (*File, error) { return nil, fmt.Errorf("%s: %w", path, err) }
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fail(err)
	}
	head := make([]byte, len(magic))
	if _, err := f.ReadAt(head, 0); err != nil || string(head) != magic {
		// Not form 3 (or not a snapshot): whole, as before.
		f.Close()
		st, err := Read(path, pub)
		if err != nil {
			return nil, err
		}
		return &File{State: *st, index: bytesSection(st.Index), private: bytesSection(st.Private)}, nil
	}
	size := fi.Size()
	body := size - ed25519.SignatureSize
	if body < int64(len(magic)) {
		f.Close()
		return fail(ErrFormat)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, body)); err != nil {
		f.Close()
		return fail(err)
	}
	sig := make([]byte, ed25519.SignatureSize)
	if _, err := f.ReadAt(sig, body); err != nil {
		f.Close()
		return fail(err)
	}
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, append([]byte(domain), h.Sum(nil)...), sig) {
		f.Close()
		return fail(ErrBadSignature)
	}
	// The parts before the index, then where the index and the private
	// state are.
	start := int64(len(magic))
	r := binform.NewStreamReader(io.NewSectionReader(f, start, body-start), body-start, ErrFormat)
	st, err := decodeHead(r)
	var file *File
	if err == nil {
		file = &File{State: *st, f: f}
		n := r.Uint()
		at := body - int64(r.Len()) // where the index starts
		if r.Err() != nil || n > uint64(r.Len()) {
			err = ErrFormat
		} else {
			file.index = io.NewSectionReader(f, at, int64(n))
			at += int64(n)
			r = binform.NewStreamReader(io.NewSectionReader(f, at, body-at), body-at, ErrFormat)
			n = r.Uint()
			at = body - int64(r.Len())
			if r.Err() != nil || n != uint64(r.Len()) { // nothing after it
				err = ErrFormat
			} else {
				file.private = io.NewSectionReader(f, at, int64(n))
			}
		}
	}
	if err != nil {
		f.Close()
		return fail(err)
	}
	return file, nil
}

func bytesSection(b []byte) *io.SectionReader {
	return io.NewSectionReader(bytes.NewReader(b), 0, int64(len(b)))
}

// Index returns the index's binary form as a stream of its bytes
// (records.ReadIndex).
func (f *File) Index() *io.SectionReader { return f.index }

// Private returns the private store's state as a stream of its bytes
// (private.Options.FromStream); empty for a form-1 snapshot.
func (f *File) Private() *io.SectionReader { return f.private }

// Close closes the file.
func (f *File) Close() error {
	if f.f == nil {
		return nil
	}
	return f.f.Close()
}

// Check reports whether the log file at logPath holds, at st.Last, the
// line st was taken after: its bytes up to st.Head.Size are one line
// ending in "\n" whose [ledger.LineHash] is st.Head.Hash. Else it returns
// an error wrapping [ErrOtherLog].
func Check(logPath string, st *State) error {
	f, err := os.Open(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	n := st.Head.Size - st.Last
	if n < 1 || n > ledger.MaxLineBytes+1 {
		return ErrOtherLog
	}
	line := make([]byte, n)
	if _, err := f.ReadAt(line, st.Last); err == io.EOF {
		return fmt.Errorf("%w: the file ends before byte %d", ErrOtherLog, st.Head.Size)
	} else if err != nil {
		return err
	}
	if line[n-1] != '\n' || bytes.IndexByte(line, '\n') != int(n-1) || ledger.LineHash(line[:n-1]) != st.Head.Hash {
		return fmt.Errorf("%w: line %d is not at bytes %d–%d", ErrOtherLog, st.Head.Count, st.Last, st.Head.Size)
	}
	if st.Last > 0 {
		// The line before ends right before it.
		var c [1]byte
		if _, err := f.ReadAt(c[:], st.Last-1); err != nil || c[0] != '\n' {
			return fmt.Errorf("%w: no line starts at byte %d", ErrOtherLog, st.Last)
		}
	}
	return nil
}

// Remove deletes the snapshot at path, durably (the folder is synced): an
// erasure calls it before its record is carried out, so the personal data
// of the erased person do not stay in an older snapshot. A missing file
// is no error.
func Remove(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return durable.SyncDir(filepath.Dir(path))
}
