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
//	"chatconsent snapshot 2\n"   magic line
//	body                         see below
//	signature                    64 bytes: Ed25519 over "chatconsent/snapshot/v1\n", magic and body
//
// The body's integers are unsigned varints, a string is its length then
// its bytes (as in records' index form):
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
// start of a new version reads the private store whole, once.
//
// [Encode] and [Decode] are each other's inverse; Decode refuses
// anything else, including trailing bytes.
package snapshot

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/durable"
)

const (
	magic  = "chatconsent snapshot 2\n"
	magic1 = "chatconsent snapshot 1\n" // form 1: no private state
	domain = "chatconsent/snapshot/v1\n"
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
func Encode(st *State, priv ed25519.PrivateKey) []byte { return encode(st, priv, 2) }

// encode writes form 2, or form 1 (for the tests of its reading).
func encode(st *State, priv ed25519.PrivateKey, form int) []byte {
	b := make([]byte, 0, len(magic)+len(st.Index)+len(st.Private)+256+ed25519.SignatureSize)
	if form == 1 {
		b = append(b, magic1...)
	} else {
		b = append(b, magic...)
	}
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	head := func(h ledger.Head) {
		b = binary.AppendUvarint(b, h.Count)
		str(h.Hash)
		b = binary.AppendUvarint(b, uint64(h.Size))
	}
	head(st.Head)
	b = binary.AppendUvarint(b, uint64(st.Last))
	b = binary.AppendUvarint(b, st.V1)
	b = binary.AppendUvarint(b, st.V2)
	if st.Backlog != nil {
		b = append(b, 1)
		head(*st.Backlog)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(st.Erasures)))
	for _, e := range st.Erasures {
		str(e.ID)
		b = binary.AppendUvarint(b, uint64(len(e.Erased)))
		for _, id := range e.Erased {
			str(id)
		}
	}
	str(string(st.Index))
	if form != 1 {
		str(string(st.Private))
	}
	return append(b, ed25519.Sign(priv, signed(b))...)
}

func signed(b []byte) []byte { return append([]byte(domain), b...) }

// Decode checks the signature of a snapshot with pub and returns its
// state, whose Index and Private share b's memory: [ErrFormat] for bytes that are not a snapshot (cut, trailing
// bytes), [ErrBadSignature] for one not signed by pub's key. It never
// panics (FuzzDecode).
func Decode(b []byte, pub ed25519.PublicKey) (*State, error) {
	form := 2
	if len(b) >= len(magic1) && bytes.HasPrefix(b, []byte(magic1)) {
		form = 1
	} else if len(b) < len(magic)+ed25519.SignatureSize || !bytes.HasPrefix(b, []byte(magic)) {
		return nil, ErrFormat
	}
	if len(b) < len(magic)+ed25519.SignatureSize {
		return nil, ErrFormat
	}
	body, sig := b[:len(b)-ed25519.SignatureSize], b[len(b)-ed25519.SignatureSize:]
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, signed(body), sig) {
		return nil, ErrBadSignature
	}
	r := body[len(magic):]
	bad := false
	uint := func() uint64 {
		v, n := binary.Uvarint(r)
		if n <= 0 {
			bad, r = true, nil
			return 0
		}
		r = r[n:]
		return v
	}
	str := func() string {
		n := uint()
		if n > uint64(len(r)) {
			bad, r = true, nil
			return ""
		}
		s := string(r[:n])
		r = r[n:]
		return s
	}
	head := func() ledger.Head {
		h := ledger.Head{Count: uint(), Hash: str()}
		size := uint()
		if size > 1<<62 {
			bad = true
		}
		h.Size = int64(size)
		return h
	}
	st := &State{Head: head()}
	last := uint()
	st.V1, st.V2 = uint(), uint()
	if st.Head.Count == 0 || last >= uint64(st.Head.Size) {
		bad = true
	}
	st.Last = int64(last)
	switch flag := uint(); flag {
	case 0:
	case 1:
		h := head()
		st.Backlog = &h
	default:
		bad = true
	}
	n := uint()
	if n > uint64(len(r)) {
		bad, n = true, 0
	}
	for ; n > 0 && !bad; n-- {
		e := Erasure{ID: str()}
		k := uint()
		if k > uint64(len(r)) {
			bad = true
			break
		}
		for ; k > 0 && !bad; k-- {
			e.Erased = append(e.Erased, str())
		}
		st.Erasures = append(st.Erasures, e)
	}
	// The two big parts are not copied: they point into b.
	raw := func() []byte {
		n := uint()
		if n > uint64(len(r)) {
			bad, r = true, nil
			return nil
		}
		v := r[:n:n]
		r = r[n:]
		return v
	}
	st.Index = raw()
	if form == 2 {
		st.Private = raw()
	}
	if bad || len(r) != 0 {
		return nil, ErrFormat
	}
	return st, nil
}

// Write stores st's snapshot at path durably: a crash leaves the old file
// or the new one.
func Write(path string, st *State, priv ed25519.PrivateKey) error {
	return durable.WriteFile(path, Encode(st, priv), 0o600)
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
