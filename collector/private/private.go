// Package private is chatconsent's private store: the openings
// (disclosures, see package ledger's [ledger.Seal]) of the commitments in
// a version-2 log, encrypted per data subject with a key of their own. It
// is what lets the owner answer "what did +49170… decide?" while the
// signed log identifies nobody, and what makes erasure (GDPR Art. 17)
// possible in an append-only proof: destroying a subject's key and
// openings leaves their records signed, chained and verifiable, but
// nobody can tell whose they were, except the person, whose receipt
// carries their openings.
//
// # Files
//
// The store is a folder (DATA/private, mode 0700) of two JSON Lines files,
// each line ending in "\n", mode 0600:
//
//   - keys.jsonl: {"sid":SID,"key":KEY}, one per data subject: SID is a
//     random subject id (32 lower-case hex digits), KEY the standard
//     base64 of the subject's random 256-bit AES key.
//   - openings.jsonl: {"sid":SID,"id":ID,"nonce":N,"box":C}, one per log
//     record with personal fields: ID is the record's id, C the AES-256-GCM
//     encryption (standard base64) under the subject's key, with the random
//     96-bit nonce N, of the JSON array of the record's disclosures; the
//     additional data is "chatconsent/openings/v1\n" SID "\n" ID, so a box
//     cannot be moved to another record or subject. After an erasure the
//     line is {"id":ID,"erased":EID}: the record's openings were destroyed
//     by the log's erasure record EID (record ids only, no personal data).
//
// A subject is a phone number: every record with the same number has the
// same SID and key. The key file is apart from the ciphertexts: once the
// key is destroyed, a copy of openings.jsonl made before (a backup) cannot
// be read either.
//
// # Durability
//
// [Store.Put] appends a batch's new keys and openings with one write and
// one fdatasync per file (the two in parallel), before the log stores the
// batch ([ledger.Options].Disclose): an acknowledged decision's openings
// are on disk. A torn last line is cut on [Open]. [Store.Erase] rewrites
// the openings file with the erased subjects' lines replaced by
// tombstones, then the keys file without their keys, each by temp file →
// fsync → rename → fsync of the folder: a crash leaves each file old or
// new, and [Open] finishes what a crash cut short (a key without openings
// is dropped, openings without a key too). The log's signed erasure
// record, appended before Erase, is the decision; a start after a crash
// erases again what the log says is erased ([Store.Erase] is idempotent).
//
// # Start
//
// [Open] reads both files whole, decrypting only each subject's first box
// (to learn its number), unless it is given the store's state
// ([Store.AppendBinary], kept in the collector's snapshot, format in
// state.go): then it checks that the files still hold the heads the state
// names ([ledger.HoldsHead]) and reads only the lines after them. At
// 500,000 people that is the difference between 6.7 s and a fraction of a
// second (bench/README.md).
package private

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/binform"
	"github.com/chatconsent/chatconsent/internal/durable"
	"github.com/chatconsent/chatconsent/internal/phone"
	"github.com/chatconsent/chatconsent/internal/sortedmap"
	"github.com/chatconsent/chatconsent/internal/spill"
)

// Dir is the store's folder inside a data directory.
const Dir = "private"

// File names inside the store's folder.
const (
	KeysFile     = "keys.jsonl"
	OpeningsFile = "openings.jsonl"
)

// ErrUnknown is returned for a record or subject the store has no
// openings of (never recorded, or erased).
var ErrUnknown = errors.New("no openings in the private store")

// Store is an open private store. It is safe for concurrent use.
//
// In memory it keeps, per data subject, its number (as [phone.Key]), and
// per record its id, with the orders that find them: 32 bytes per person
// with one record, held for the collector's whole life (every contact is
// a new number). Where each key line and box is, and each record's
// subject, is in the same memory, or with [Options].Spill in an unlinked
// file beside the store (package internal/spill). Keys and boxes are read
// from disk when used.
type Store struct {
	dir  string
	opts Options

	mu       sync.Mutex
	keys     *ledger.FileStore
	openings *ledger.FileStore
	rd       *os.File // openings.jsonl, for reading boxes
	rdKeys   *os.File // keys.jsonl, for reading keys
	tables
	// refused says why Options.From was not used (see [Store.StateRefused]).
	refused error
	resumed bool // opened from Options.From
}

// tables are what the store knows of its subjects and records: a subject
// is a position in subPhone and subLoc, a record one in recID and recLoc.
//
// A subject's id is not kept: it is in its key line (read when needed, as
// the key is), and 16 bytes per person are 8 MB at 500,000 (issue 13:
// start in less than 100 MiB). A subject's records are found by going
// through recLoc (an erasure or an owner's question, rare): no list per
// subject.
type tables struct {
	subPhone []uint64                   // per subject: the phone.Key of its number; 0: none known, or one that is not E.164 (phoneS)
	subLoc   *spill.Rows[keyLoc]        // per subject: its key line
	recID    [][16]byte                 // per record: its id; zero where not canonical (idS)
	recLoc   *spill.Rows[boxLoc]        // per record: its box line and subject
	byID     *sortedmap.Order[[16]byte] // records with a canonical id, by id (recKey)
	byIDS    map[string]int32           // other record ids → records
	idS      map[int32]string           // records → their id, where not canonical
	byPhone  *sortedmap.Order[uint64]   // subjects with a phone.Key, by it (subKey)
	byPhoneS map[string]int32           // numbers that are not E.164 → subjects
	phoneS   map[int32]string           // subjects → such a number
	erased   map[string]string          // record id → erasure record id
}

// keyLoc is where a subject's key line is in keys.jsonl.
type keyLoc struct {
	off int64  // its first byte
	len uint32 // without "\n"
}

// boxLoc is where a record's box line is in openings.jsonl, and whose.
type boxLoc struct {
	off int64  // its first byte
	len uint32 // without "\n"
	sub int32  // its subject
}

// Rows of keyLoc and boxLoc, little-endian: 12 and 16 bytes.
var (
	keyLocs = spill.Codec[keyLoc]{Size: 12,
		Put: func(b []byte, v keyLoc) {
			binary.LittleEndian.PutUint64(b, uint64(v.off))
			binary.LittleEndian.PutUint32(b[8:], v.len)
		},
		Get: func(b []byte) keyLoc {
			return keyLoc{int64(binary.LittleEndian.Uint64(b)), binary.LittleEndian.Uint32(b[8:])}
		}}
	boxLocs = spill.Codec[boxLoc]{Size: 16,
		Put: func(b []byte, v boxLoc) {
			binary.LittleEndian.PutUint64(b, uint64(v.off))
			binary.LittleEndian.PutUint32(b[8:], v.len)
			binary.LittleEndian.PutUint32(b[12:], uint32(v.sub))
		},
		Get: func(b []byte) boxLoc {
			return boxLoc{int64(binary.LittleEndian.Uint64(b)), binary.LittleEndian.Uint32(b[8:]), int32(binary.LittleEndian.Uint32(b[12:]))}
		}}
)

// Options tune [Open].
type Options struct {
	// Sync makes a file's data durable; nil means fdatasync(2).
	Sync func(*os.File) error
	// ReadOnly opens the store for reading only, without locking it (the
	// owner's commands while the collector runs): Put and Erase fail, a
	// torn last line is skipped, nothing left by a crash is finished off.
	ReadOnly bool
	// From, if not nil, is the store's state as [Store.AppendBinary] wrote
	// it (kept in the collector's snapshot): Open then reads only the
	// lines after it. A state that does not fit the files (they were
	// rewritten by an erasure, or restored from another backup) is not
	// used: the files are read whole, and [Store.StateRefused] says why.
	From []byte
	// Spill keeps where each key line and box is in an unlinked file in
	// the store's folder instead of memory (package internal/spill): 28
	// bytes per person with one record that the kernel's page cache holds
	// rather than the heap. Not for a read-only store.
	Spill bool
	// spillTail is the spilled rows kept in memory (spill.Rows.SetTail;
	// 0: its default). Tests set 1.
	spillTail int
	// FromStream is From read from a section of a file (the collector's
	// snapshot) as a stream, without holding it whole; used if From is
	// nil.
	FromStream *io.SectionReader
}

// ErrReadOnly is returned by [Store.Put] and [Store.Erase] on a store
// opened with [Options].ReadOnly.
var ErrReadOnly = errors.New("private store opened read-only")

type keyLine struct {
	SID string `json:"sid"`
	Key []byte `json:"key"`
}

type openingLine struct {
	SID    string `json:"sid,omitempty"`
	ID     string `json:"id"`
	Nonce  []byte `json:"nonce,omitempty"`
	Box    []byte `json:"box,omitempty"`
	Erased string `json:"erased,omitempty"`
}

// Open opens (creating if needed) the private store in dir and reads its
// subjects, their numbers and where each record's box is into memory (the
// keys and boxes stay on disk). Openings whose key is gone (an erasure
// interrupted by a crash) are treated as erased. With [Options].From it
// starts from that state and reads only the lines after it.
func Open(dir string, opts Options) (*Store, error) {
	if !opts.ReadOnly {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("private store: %w", err)
		}
	}
	s := &Store{dir: dir, opts: opts}
	s.opts.From, s.opts.FromStream = nil, nil // not kept: at 500,000 people it is tens of MB
	var state *binform.Reader
	if opts.From != nil {
		state = binform.NewReader(opts.From, ErrState)
	} else if opts.FromStream != nil {
		state = binform.NewStreamReader(opts.FromStream, opts.FromStream.Size(), ErrState)
	}
	var err error
	if state != nil {
		if err = s.resume(state); err != nil {
			s.closeFiles()
			s.refused = err
		}
	}
	if state == nil || err != nil {
		err = s.load()
	} else {
		s.resumed = true
	}
	if err != nil {
		s.closeFiles()
		return nil, err
	}
	return s, nil
}

// StateRefused returns why [Options].From was not used (nil if it was, or
// if none was given).
func (s *Store) StateRefused() error { return s.refused }

// Resumed reports whether the store was opened from [Options].From.
func (s *Store) Resumed() bool { return s.resumed }

func (s *Store) fileOpts(from *ledger.Head) ledger.FileOptions {
	return ledger.FileOptions{Sync: s.opts.Sync, From: from}
}

// openFile opens one of the store's files, cutting (and dropping) a torn
// last line: a batch that never got durable, of no use to anyone. from, if
// not nil, is a head known to be good: only the lines after it are
// counted.
func (s *Store) openFile(name string, from *ledger.Head) (*ledger.FileStore, error) {
	fs, err := ledger.OpenFileStore(filepath.Join(s.dir, name), s.fileOpts(from))
	if err != nil {
		return nil, fmt.Errorf("private store: %w", err)
	}
	rec, err := fs.Cut(fs.Head())
	if err != nil {
		fs.Close()
		return nil, fmt.Errorf("private store: %w", err)
	}
	if rec.TornPath != "" {
		os.Remove(rec.TornPath)
	}
	return fs, nil
}

// reset empties the store's tables (spilled if asked: the rows go to the
// file as they are added, never all in memory).
func (s *Store) reset() error {
	s.tables.close()
	t, err := s.newTables()
	s.tables = t
	return err
}

// newTables returns empty tables, spilled to the store's folder with
// [Options].Spill; on error they are in memory.
func (s *Store) newTables() (tables, error) {
	t := tables{
		subLoc: spill.New(keyLocs), recLoc: spill.New(boxLocs),
		byID: sortedmap.NewOrder[[16]byte](cmpID), byIDS: map[string]int32{}, idS: map[int32]string{},
		byPhone: sortedmap.NewOrder[uint64](cmp.Compare[uint64]), byPhoneS: map[string]int32{}, phoneS: map[int32]string{},
		erased: map[string]string{},
	}
	if s.opts.Spill && !s.opts.ReadOnly {
		if s.opts.spillTail > 0 {
			t.subLoc.SetTail(s.opts.spillTail)
			t.recLoc.SetTail(s.opts.spillTail)
		}
		if err := errors.Join(t.subLoc.SpillTo(s.dir), t.recLoc.SpillTo(s.dir)); err != nil {
			t.close()
			return t, fmt.Errorf("private store: %w", err)
		}
	}
	return t, nil
}

// close closes the spill files of t, if any.
func (t *tables) close() {
	if t.subLoc != nil {
		t.subLoc.Close()
	}
	if t.recLoc != nil {
		t.recLoc.Close()
	}
}

// openFiles opens the two files (from the heads kh and oh, or whole if
// nil) and returns the sources to read their lines from: nil for a
// read-only store that does not exist yet.
func (s *Store) openFiles(kh, oh *ledger.Head) (keys, openings ledger.Source, err error) {
	keys, openings = ledger.FileSource(filepath.Join(s.dir, KeysFile)), ledger.FileSource(filepath.Join(s.dir, OpeningsFile))
	if !s.opts.ReadOnly {
		if s.keys, err = s.openFile(KeysFile, kh); err != nil {
			return nil, nil, err
		}
		if s.openings, err = s.openFile(OpeningsFile, oh); err != nil {
			return nil, nil, err
		}
		keys, openings = s.keys, s.openings
	}
	if s.rd, err = os.Open(filepath.Join(s.dir, OpeningsFile)); errors.Is(err, os.ErrNotExist) && s.opts.ReadOnly {
		return nil, nil, nil // no store yet: empty
	} else if err != nil {
		return nil, nil, fmt.Errorf("private store: %w", err)
	}
	if s.rdKeys, err = os.Open(filepath.Join(s.dir, KeysFile)); errors.Is(err, os.ErrNotExist) && s.opts.ReadOnly {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, fmt.Errorf("private store: %w", err)
	}
	return keys, openings, nil
}

// load reads both files whole.
func (s *Store) load() error {
	keys, openings, err := s.openFiles(nil, nil)
	if err != nil {
		return err
	}
	if err := s.reset(); err != nil {
		return err
	}
	return s.read(keys, openings, ledger.Head{}, ledger.Head{})
}

// read adds the key lines of keys after kh and the opening lines of
// openings after oh (whole files: zero heads), then finishes off what a
// crash left (not for a read-only store).
func (s *Store) read(keys, openings ledger.Source, kh, oh ledger.Head) error {
	// The keys read here, to learn the numbers of their subjects from
	// their first box; dropped after (kept on disk only). The subjects'
	// ids, to place the boxes: those read here, and of the subjects
	// before kh those that a box after oh names (read from keys.jsonl).
	fresh := map[int32][]byte{}
	sids := map[[16]byte]int32{}
	if err := eachLine(keys, kh, func(n int, line []byte, off int64) error {
		var kl keyLine
		if err := parseKeyLine(line, &kl); err != nil {
			return fmt.Errorf("%s:%d: not a key line", KeysFile, n)
		}
		sid, _ := canonical(kl.SID) // parseKeyLine checked it, and the key's 32 bytes
		i := s.addSubject(keyLoc{off: off, len: uint32(len(line))})
		sids[sid] = i
		fresh[i] = kl.Key
		return nil
	}); err != nil {
		return err
	}
	if kh.Count > 0 {
		// Resumed: the boxes after oh may be of earlier subjects.
		want := map[[16]byte]bool{}
		if err := eachLine(openings, oh, func(_ int, line []byte, _ int64) error {
			if sid, ok := canonical(sidOf(line)); ok {
				if _, known := sids[sid]; !known {
					want[sid] = true
				}
			}
			return nil
		}); err != nil {
			return err
		}
		if len(want) > 0 {
			if err := s.eachSubject(kh.Size, func(si int32, sid [16]byte) {
				if want[sid] {
					sids[sid] = si
				}
			}); err != nil {
				return err
			}
		}
	}
	orphans := false
	if err := eachLine(openings, oh, func(n int, line []byte, off int64) error {
		var ol openingLine
		if err := parseOpeningLine(line, &ol); err != nil || ol.ID == "" {
			return fmt.Errorf("%s:%d: not an opening line", OpeningsFile, n)
		}
		if ol.Erased != "" && ol.SID == "" && ol.Box == nil {
			s.erased[ol.ID] = ol.Erased
			return nil
		}
		sid, ok := canonical(ol.SID)
		if !ok {
			return fmt.Errorf("%s:%d: not an opening line", OpeningsFile, n)
		}
		si, ok := sids[sid]
		if !ok {
			orphans = true // key destroyed: erased
			return nil
		}
		if s.subPhone[si] == 0 && s.phoneS[si] == "" {
			// The subject's number, from its first box (which is checked
			// here; the others are when read).
			key := fresh[si]
			if key == nil {
				_, k, err := s.keyOf(si)
				if err != nil {
					return err
				}
				key = k
			}
			ds, err := openBox(key, &ol)
			if err != nil {
				return fmt.Errorf("%s:%d: %w", OpeningsFile, n, err)
			}
			if p := phoneOf(ds); p != "" {
				s.setPhone(si, p)
			}
		}
		s.addRecord(ol.ID, si, off, len(line))
		return nil
	}); err != nil {
		return err
	}
	if s.opts.ReadOnly {
		return nil
	}
	if orphans {
		// Openings without a key are what an erasure cut short by a crash
		// (or a batch whose key never got durable) left: unreadable, so
		// finish the job.
		// Tombstones (no subject id) stay: they say which erasure
		// destroyed a record's openings.
		have := map[string]bool{}
		if err := s.eachSubject(-1, func(_ int32, sid [16]byte) { have[hex.EncodeToString(sid[:])] = true }); err != nil {
			return err
		}
		if err := s.rewrite(OpeningsFile, &s.openings, func(line []byte) bool {
			id := sidOf(line)
			return id == "" || have[id]
		}); err != nil {
			return err
		}
		s.closeFiles()
		return s.load()
	}
	withRecords := make([]bool, len(s.subPhone))
	if err := s.recLoc.Each(func(_ int, b boxLoc) bool { withRecords[b.sub] = true; return true }); err != nil {
		return fmt.Errorf("private store: %w", err)
	}
	drop := map[string]bool{}
	for si, ok := range withRecords {
		if !ok {
			sid, _, err := s.keyOf(int32(si))
			if err != nil {
				return err
			}
			drop[sid] = true
		}
	}
	if len(drop) > 0 {
		// A key without openings: its subject was erased and a crash came
		// before the key was (or its batch never got durable).
		if err := s.rewrite(KeysFile, &s.keys, func(line []byte) bool { return !drop[sidOf(line)] }); err != nil {
			return err
		}
		s.closeFiles()
		return s.load()
	}
	return nil
}

// eachSubject calls fn with each subject's number in subs and its id, for
// the subjects whose key lines end before size (-1: all), reading
// keys.jsonl from the start: the ids are not kept in memory.
func (s *Store) eachSubject(size int64, fn func(si int32, sid [16]byte)) error {
	if s.rdKeys == nil {
		return nil
	}
	j, subs := 0, s.subLoc.Len()
	var rerr error
	at := func(j int) int64 { // subject j's key line; after a read error, past every line
		l, err := s.subLoc.At(j)
		if err != nil {
			rerr = err
			return 1 << 62
		}
		return l.off
	}
	err := eachLine(ledger.FileSource(filepath.Join(s.dir, KeysFile)), ledger.Head{}, func(n int, line []byte, off int64) error {
		if size >= 0 && off >= size {
			return errStop
		}
		for j < subs && at(j) < off {
			j++
		}
		if rerr != nil {
			return rerr
		}
		if j == subs {
			return errStop
		}
		if at(j) != off {
			return nil
		}
		var kl keyLine
		if err := parseKeyLine(line, &kl); err != nil {
			return fmt.Errorf("%s:%d: not a key line", KeysFile, n)
		}
		sid, _ := canonical(kl.SID)
		fn(int32(j), sid)
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// errStop ends an eachLine early.
var errStop = errors.New("stop")

// setPhone records that subject si has number p.
func (s *Store) setPhone(si int32, p string) {
	if k, ok := phone.Key(p); ok {
		s.subPhone[si] = k
		s.byPhone.Set(k, si, s.subKey)
		return
	}
	p = strings.Clone(p)
	s.phoneS[si] = p
	s.byPhoneS[p] = si
}

// subjectOf returns the subject with number p.
func (s *Store) subjectOf(p string) (int32, bool) {
	if k, ok := phone.Key(p); ok {
		return s.byPhone.Get(k, s.subKey)
	}
	si, ok := s.byPhoneS[p]
	return si, ok
}

// phoneOfSubject returns subject si's number, or "".
func (s *Store) phoneOfSubject(si int32) string {
	if k := s.subPhone[si]; k != 0 {
		return phone.FromKey(k)
	}
	return s.phoneS[si]
}

// addSubject adds a subject (its number still unknown) whose key line is
// at l.
func (s *Store) addSubject(l keyLoc) int32 {
	s.subLoc.Append(l)
	s.subPhone = append(s.subPhone, 0)
	return int32(len(s.subPhone) - 1)
}

// addRecord adds record id, whose box is the line of n bytes at off, to
// subject si.
func (s *Store) addRecord(id string, si int32, off int64, n int) {
	s.recLoc.Append(boxLoc{off: off, len: uint32(n), sub: si})
	ri := int32(len(s.recID))
	b, ok := canonical(id)
	if !ok {
		id = strings.Clone(id)
		s.idS[ri] = id
		s.byIDS[id] = ri
	}
	s.recID = append(s.recID, b)
	if ok {
		s.byID.Set(b, ri, s.recKey)
	}
}

// recKey is the key of byID: record ri's binary id.
func (s *Store) recKey(ri int32) [16]byte { return s.recID[ri] }

// subKey is the key of byPhone: subject si's phone.Key.
func (s *Store) subKey(si int32) uint64 { return s.subPhone[si] }

// lookup returns the record with id.
func (s *Store) lookup(id string) (int32, bool) {
	if b, ok := canonical(id); ok {
		return s.byID.Get(b, s.recKey)
	}
	ri, ok := s.byIDS[id]
	return ri, ok
}

// recordID returns record ri's id.
func (s *Store) recordID(ri int32) string {
	if id, ok := s.idS[ri]; ok {
		return id
	}
	return hex.EncodeToString(s.recID[ri][:])
}

// box returns where record ri's box is.
func (s *Store) box(ri int32) (boxLoc, error) {
	b, err := s.recLoc.At(int(ri))
	if err != nil {
		return b, fmt.Errorf("private store: %w", err)
	}
	return b, nil
}

// keyOf reads subject si's id and key from keys.jsonl. A key line that
// is not where the store put it shows as one that does not parse, or (a
// line of another subject) as boxes that do not decrypt: the subject id
// is in their additional data.
func (s *Store) keyOf(si int32) (sid string, key []byte, err error) {
	if s.rdKeys == nil {
		return "", nil, ErrUnknown
	}
	l, err := s.subLoc.At(int(si))
	if err != nil {
		return "", nil, fmt.Errorf("private store: %w", err)
	}
	b := make([]byte, l.len)
	if _, err := s.rdKeys.ReadAt(b, l.off); err != nil {
		return "", nil, fmt.Errorf("private store: read a key: %w", err)
	}
	var kl keyLine
	if err := parseKeyLine(b, &kl); err != nil {
		return "", nil, fmt.Errorf("private store: the key at byte %d of %s is not where the store put it", l.off, KeysFile)
	}
	return kl.SID, kl.Key, nil
}

// aead returns the AES-256-GCM of a subject's key. No cipher.AEAD is
// kept: AES-GCM's is about 1 KB (its key schedule and tables), which for
// a collector whose every contact is a new number was most of its memory
// (56% at 50,000 numbers). It is made for each use instead, a few hundred
// nanoseconds.
func aead(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("private store: a key is not 256 bits")
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("private store: %w", err)
	}
	return cipher.NewGCM(blk)
}

func additional(sid, id string) []byte {
	return []byte("chatconsent/openings/v1\n" + sid + "\n" + id)
}

func seal(sid string, key []byte, id string, ds []string) (openingLine, error) {
	pt, err := marshalStrings(ds)
	if err != nil {
		return openingLine{}, err
	}
	a, err := aead(key)
	if err != nil {
		return openingLine{}, err
	}
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return openingLine{}, err
	}
	return openingLine{SID: sid, ID: id, Nonce: nonce, Box: a.Seal(pt[:0], nonce, pt, additional(sid, id))}, nil
}

// marshalStrings is json.Marshal of ds, written out directly where every
// string is base64url (what disclosures are: nothing to escape).
func marshalStrings(ds []string) ([]byte, error) {
	if ds == nil {
		return json.Marshal(ds)
	}
	n := 2
	for _, d := range ds {
		if !isBase64URL(d) {
			return json.Marshal(ds)
		}
		n += len(d) + 3
	}
	b := make([]byte, 0, n+16) // room for the GCM tag when sealed in place
	b = append(b, '[')
	for i, d := range ds {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, d...)
		b = append(b, '"')
	}
	return append(b, ']'), nil
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// isHex reports whether s is lower-case hex digits only.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// marshal is json.Marshal(ol), written out directly for the lines Put
// writes (hex ids, base64 nonce and box; nothing to escape).
func (ol *openingLine) marshal() []byte {
	if ol.SID == "" || ol.Erased != "" || !isHex(ol.SID) || !isHex(ol.ID) || ol.Nonce == nil || ol.Box == nil {
		b, _ := json.Marshal(ol)
		return b
	}
	enc := base64.StdEncoding
	b := make([]byte, 0, 40+len(ol.SID)+len(ol.ID)+enc.EncodedLen(len(ol.Nonce))+enc.EncodedLen(len(ol.Box)))
	b = append(b, `{"sid":"`...)
	b = append(b, ol.SID...)
	b = append(b, `","id":"`...)
	b = append(b, ol.ID...)
	b = append(b, `","nonce":"`...)
	b = enc.AppendEncode(b, ol.Nonce)
	b = append(b, `","box":"`...)
	b = enc.AppendEncode(b, ol.Box)
	return append(b, `"}`...)
}

// marshal is json.Marshal(kl), written out directly (a hex sid).
func (kl *keyLine) marshal() []byte {
	if !isHex(kl.SID) || kl.Key == nil {
		b, _ := json.Marshal(kl)
		return b
	}
	b := make([]byte, 0, 20+len(kl.SID)+base64.StdEncoding.EncodedLen(len(kl.Key)))
	b = append(b, `{"sid":"`...)
	b = append(b, kl.SID...)
	b = append(b, `","key":"`...)
	b = base64.StdEncoding.AppendEncode(b, kl.Key)
	return append(b, `"}`...)
}

// parseKeyLine reads a key line: the bytes [keyLine.marshal] writes
// directly, without encoding/json (a start reads one per person), or
// anything else through strictJSON. The subject id must be canonical and
// the key 32 bytes.
func parseKeyLine(line []byte, kl *keyLine) error {
	sid, rest, ok := field(line, `{"sid":"`)
	if ok {
		var key string
		if key, rest, ok = field(rest, `","key":"`); ok && string(rest) == `"}` {
			kl.SID = sid
			kl.Key, ok = decode64(key)
		} else {
			ok = false
		}
	}
	if !ok {
		*kl = keyLine{}
		if err := strictJSON(line, kl); err != nil {
			return err
		}
	}
	if !isID(kl.SID) || len(kl.Key) != 32 {
		return errors.New("not a key line")
	}
	return nil
}

// parseOpeningLine reads an opening line: the bytes
// [openingLine.marshal] writes directly, without encoding/json, or
// anything else (a tombstone, a line of another writer) through
// strictJSON.
func parseOpeningLine(line []byte, ol *openingLine) error {
	sid, rest, ok := field(line, `{"sid":"`)
	var id, nonce, box string
	if ok {
		id, rest, ok = field(rest, `","id":"`)
	}
	if ok {
		nonce, rest, ok = field(rest, `","nonce":"`)
	}
	if ok {
		box, rest, ok = field(rest, `","box":"`)
	}
	if ok && string(rest) == `"}` && isHex(sid) && isHex(id) {
		*ol = openingLine{SID: sid, ID: id}
		if ol.Nonce, ok = decode64(nonce); ok {
			if ol.Box, ok = decode64(box); ok {
				return nil
			}
		}
	}
	*ol = openingLine{}
	return strictJSON(line, ol)
}

// field cuts prefix from b and returns what follows up to the next `"`
// (no escapes: the fast parsers' fields are hex or base64), and the rest
// from that quote.
func field(b []byte, prefix string) (string, []byte, bool) {
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		return "", nil, false
	}
	b = b[len(prefix):]
	i := bytes.IndexByte(b, '"')
	if i < 0 || bytes.IndexByte(b[:i], '\\') >= 0 {
		return "", nil, false
	}
	return string(b[:i]), b[i:], true
}

// decode64 is encoding/json's reading of a []byte: standard base64 with
// padding.
func decode64(s string) ([]byte, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	return b, err == nil
}

// openBox decrypts an opening line's box with its subject's key.
func openBox(key []byte, ol *openingLine) ([]string, error) {
	a, err := aead(key)
	if err != nil {
		return nil, err
	}
	if len(ol.Nonce) != a.NonceSize() {
		return nil, errors.New("bad nonce")
	}
	pt, err := a.Open(nil, ol.Nonce, ol.Box, additional(ol.SID, ol.ID))
	if err != nil {
		return nil, fmt.Errorf("openings of record %s do not decrypt with their subject's key", ol.ID)
	}
	var ds []string
	if err := json.Unmarshal(pt, &ds); err != nil {
		return nil, fmt.Errorf("openings of record %s: %w", ol.ID, err)
	}
	return ds, nil
}

// phoneOf returns the phone number among disclosures, or "".
func phoneOf(ds []string) string {
	for _, s := range ds {
		if d, err := ledger.ParseDisclosure(s); err == nil && d.Field == ledger.FieldPhone {
			return d.Value
		}
	}
	return ""
}

// eachLine calls fn with each complete line of src (nil: none) after
// from, and its byte offset; an incomplete last line is skipped. The file
// is streamed, not read whole: at 500,000 records openings.jsonl is 160
// MB.
func eachLine(src ledger.Source, from ledger.Head, fn func(n int, line []byte, off int64) error) error {
	if src == nil {
		return nil
	}
	r, err := src.Read(from)
	if err != nil {
		return err
	}
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	off := from.Size
	var long []byte
	for n := int(from.Count) + 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err == io.EOF {
			return nil // nothing, or an incomplete last line
		}
		if err != nil {
			return fmt.Errorf("private store: %w", err)
		}
		if err := fn(n, line[:len(line)-1], off); err != nil {
			return err
		}
		off += int64(len(line))
	}
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// canonical returns the binary form of an id that is 32 lower-case hex
// digits (what [newID] and the log's record ids are).
func canonical(s string) ([16]byte, bool) {
	var b [16]byte
	if len(s) != 32 || !isHex(s) {
		return b, false
	}
	hex.Decode(b[:], []byte(s))
	return b, true
}

func isID(s string) bool {
	_, ok := canonical(s)
	return ok
}

func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// Put keeps the disclosures of a batch of log entries durably, each under
// the key of the subject with the entry's phone number (a new subject and
// key for a new number). Entries without disclosures are skipped; an entry
// with disclosures but no number is an error. It is [ledger.Options]
// Disclose: called before the log stores the batch. All or nothing.
func (s *Store) Put(batch []ledger.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	type newSubject struct {
		sid   string
		key   []byte
		phone string
		line  int // in keyLines
	}
	var keyLines, boxLines [][]byte
	fresh := map[string]*newSubject{} // phone → subject new in this batch
	var order []*newSubject           // the same, in the order of keyLines
	known := map[int32][2]string{}    // subject → its sid and key, read once per batch
	type placed struct {
		id  string
		old int32 // subject in the tables, or -1: fresh
		new *newSubject
		n   int
	}
	var added []placed
	for _, e := range batch {
		if len(e.Disclosures) == 0 {
			continue
		}
		p := ""
		if e.Record.Subject != nil {
			p = e.Record.Subject.Phone
		}
		if p == "" {
			return fmt.Errorf("private store: record %s has personal fields but no number", e.Record.ID)
		}
		var sid string
		var key []byte
		pl := placed{id: e.Record.ID, old: -1}
		if si, ok := s.subjectOf(p); ok {
			k, ok := known[si]
			if !ok {
				sid, key, err := s.keyOf(si)
				if err != nil {
					return err
				}
				k = [2]string{sid, string(key)}
				known[si] = k
			}
			sid, key, pl.old = k[0], []byte(k[1]), si
		} else if ns := fresh[p]; ns != nil {
			sid, key, pl.new = ns.sid, ns.key, ns
		} else {
			var err error
			if sid, err = newID(); err != nil {
				return err
			}
			key = make([]byte, 32)
			if _, err := rand.Read(key); err != nil {
				return err
			}
			ns := &newSubject{sid: sid, key: key, phone: p, line: len(keyLines)}
			fresh[p], pl.new = ns, ns
			order = append(order, ns)
			keyLines = append(keyLines, (&keyLine{SID: sid, Key: key}).marshal())
		}
		ol, err := seal(sid, key, e.Record.ID, e.Disclosures)
		if err != nil {
			return fmt.Errorf("private store: seal openings: %w", err)
		}
		b := ol.marshal()
		boxLines = append(boxLines, b)
		pl.n = len(b)
		added = append(added, pl)
	}
	if len(boxLines) == 0 {
		return nil
	}
	kh, oh := s.keys.Head(), s.openings.Head()
	var kerr, oerr error
	var wg sync.WaitGroup
	if len(keyLines) > 0 {
		wg.Go(func() { kerr = s.keys.Append(keyLines, next(kh, keyLines)) })
	}
	oerr = s.openings.Append(boxLines, next(oh, boxLines))
	wg.Wait()
	if kerr != nil || oerr != nil {
		// A half-written batch: both files are cut back by their stores;
		// a durable half is harmless (a key without openings, or openings
		// of records the log never got) and is ignored.
		return fmt.Errorf("private store: %w", errors.Join(kerr, oerr))
	}
	// The new subjects, in the order of their key lines.
	at := make([]int32, len(keyLines))
	off := kh.Size
	for _, ns := range order {
		si := s.addSubject(keyLoc{off: off, len: uint32(len(keyLines[ns.line]))})
		s.setPhone(si, ns.phone)
		off += int64(len(keyLines[ns.line])) + 1
		at[ns.line] = si
	}
	off = oh.Size
	for _, a := range added {
		si := a.old
		if a.new != nil {
			si = at[a.new.line]
		}
		s.addRecord(a.id, si, off, a.n)
		off += int64(a.n) + 1
	}
	return nil
}

func next(h ledger.Head, lines [][]byte) ledger.Head {
	for _, l := range lines {
		h.Count++
		h.Size += int64(len(l) + 1)
	}
	h.Hash = ledger.LineHash(lines[len(lines)-1])
	return h
}

// Disclosures returns the disclosures of the record with id, read and
// decrypted from disk, or [ErrUnknown].
func (s *Store) Disclosures(id string) ([]string, error) {
	s.mu.Lock() // held while reading: an erasure moves the lines
	defer s.mu.Unlock()
	ri, ok := s.lookup(id)
	if !ok || s.rd == nil {
		return nil, fmt.Errorf("record %s: %w", id, ErrUnknown)
	}
	r, err := s.box(ri)
	if err != nil {
		return nil, err
	}
	b := make([]byte, r.len)
	if _, err := s.rd.ReadAt(b, r.off); err != nil {
		return nil, fmt.Errorf("private store: read openings of %s: %w", id, err)
	}
	var ol openingLine
	if err := parseOpeningLine(b, &ol); err != nil || ol.ID != id {
		return nil, fmt.Errorf("private store: openings of %s are not where the store put them", id)
	}
	sid, key, err := s.keyOf(r.sub)
	if err != nil {
		return nil, err
	}
	if ol.SID != sid {
		return nil, fmt.Errorf("private store: openings of %s are not their subject's", id)
	}
	return openBox(key, &ol)
}

// Subject returns the subject id of a phone number (E.164) and the ids of
// its records, in order, or [ErrUnknown].
func (s *Store) Subject(phone string) (sid string, records []string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	si, ok := s.subjectOf(phone)
	if !ok {
		return "", nil, ErrUnknown
	}
	if err := s.recLoc.Each(func(ri int, b boxLoc) bool {
		if b.sub == si {
			records = append(records, s.recordID(int32(ri)))
		}
		return true
	}); err != nil {
		return "", nil, fmt.Errorf("private store: %w", err)
	}
	if sid, _, err = s.keyOf(si); err != nil {
		return "", nil, err
	}
	return sid, records, nil
}

// Has reports whether the store holds the openings of record id.
func (s *Store) Has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.lookup(id)
	return ok
}

// Erase destroys, durably, the keys and openings of every subject that
// one of the records ids belongs to, by the log's erasure record erasure:
// first the openings file is rewritten with their lines replaced by
// tombstones ({"id":ID,"erased":ERASURE}), then the keys file without
// their keys (each temp → fsync → rename → fsync folder). Ids the store
// does not hold openings of are skipped, so Erase can be repeated after a
// crash. It returns the ids of all records erased (every record of those
// subjects, not only ids). The store's memory follows from what it held
// and where the lines moved (no box is decrypted again), so an erasure
// in a store of 500,000 people holds up Put for the time the two files
// take to rewrite, not for a whole read.
func (s *Store) Erase(ids []string, erasure string) ([]string, error) {
	erased, err := s.EraseAll([]Erasure{{ID: erasure, Records: ids}})
	return erased[erasure], err
}

// Erasure is one erasure record for [Store.EraseAll]: its id and the
// record ids it names.
type Erasure struct {
	ID      string
	Records []string
}

// EraseAll is [Store.Erase] for several erasure records in one rewrite of
// each file: retention erases everyone due at once, so that a day with a
// thousand people due rewrites the store once, not a thousand times. A
// subject named by more than one of them is erased by the first. It
// returns, by erasure id, the ids of the records erased.
func (s *Store) EraseAll(es []Erasure) (map[string][]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.ReadOnly {
		return nil, ErrReadOnly
	}
	gone := map[string]string{} // subject id (hex) → erasure id
	goneSub := map[int32]bool{}
	for _, e := range es {
		for _, id := range e.Records {
			if ri, ok := s.lookup(id); ok {
				b, err := s.box(ri)
				if err != nil {
					return nil, err
				}
				si := b.sub
				if goneSub[si] {
					continue
				}
				sid, _, err := s.keyOf(si)
				if err != nil {
					return nil, err
				}
				if _, dup := gone[sid]; !dup {
					gone[sid] = e.ID
				}
				goneSub[si] = true
			}
		}
	}
	if len(gone) == 0 {
		return nil, nil
	}
	// Where each kept record's and subject's line lands in the new files
	// (-1: erased). Lines are in the order of the tables.
	const unseen = -2 // a line the rewrite did not meet: see below
	nrec, nsub := s.recLoc.Len(), s.subLoc.Len()
	var rerr error // the first error reading the tables
	offOf := func(rows interface{ At(int) (int64, error) }, j int) int64 {
		off, err := rows.At(j)
		if err != nil && rerr == nil {
			rerr = err
		}
		if err != nil {
			return 1 << 62 // past every line
		}
		return off
	}
	newOff := make([]int64, nrec)
	for i := range newOff {
		newOff[i] = unseen
	}
	j := 0
	boxes := offsets[boxLoc]{s.recLoc, func(b boxLoc) int64 { return b.off }}
	erased := map[string][]string{} // erasure id → record ids
	if err := s.rewriteLines(OpeningsFile, &s.openings, func(line []byte, off, at int64) []byte {
		for j < nrec && offOf(boxes, j) < off {
			j++
		}
		mine := j < nrec && offOf(boxes, j) == off
		erasure, theirs := gone[sidOf(line)]
		if !theirs {
			if mine {
				newOff[j] = at
			}
			return line
		}
		var ol openingLine
		if parseOpeningLine(line, &ol) != nil {
			return line // not an opening line: not theirs
		}
		if mine {
			newOff[j] = -1
		}
		erased[erasure] = append(erased[erasure], ol.ID)
		b, _ := json.Marshal(openingLine{ID: ol.ID, Erased: erasure})
		return b
	}); err != nil {
		return nil, s.reload(err)
	}
	newKeyOff := make([]int64, nsub)
	for i := range newKeyOff {
		newKeyOff[i] = unseen
	}
	j = 0
	keys := offsets[keyLoc]{s.subLoc, func(l keyLoc) int64 { return l.off }}
	if err := s.rewriteLines(KeysFile, &s.keys, func(line []byte, off, at int64) []byte {
		for j < nsub && offOf(keys, j) < off {
			j++
		}
		mine := j < nsub && offOf(keys, j) == off
		if _, theirs := gone[sidOf(line)]; theirs {
			if mine {
				newKeyOff[j] = -1
			}
			return nil
		}
		if mine {
			newKeyOff[j] = at
		}
		return line
	}); err != nil {
		return nil, s.reload(err)
	}
	if rerr != nil || slices.Contains(newOff, unseen) || slices.Contains(newKeyOff, unseen) {
		// Not where the store put them (never so far), or the tables
		// could not be read: read the new files.
		if err := s.reload(nil); err != nil {
			return nil, err
		}
		return erased, nil
	}
	// The store without the erased subjects and records, the others moved.
	old := s.tables
	t, err := s.newTables()
	if err != nil {
		t.close()
		return nil, s.reload(err)
	}
	s.tables = t
	if err := s.moveTables(&old, goneSub, newOff, newKeyOff); err != nil {
		old.close()
		return nil, s.reload(err)
	}
	old.close()
	for erasure, ids := range erased {
		for _, id := range ids {
			s.erased[id] = erasure
		}
	}
	return erased, nil
}

// offsets reads the offsets of a table's lines (for EraseAll).
type offsets[T any] struct {
	rows *spill.Rows[T]
	off  func(T) int64
}

func (o offsets[T]) At(j int) (int64, error) {
	v, err := o.rows.At(j)
	return o.off(v), err
}

// moveTables fills the store's (empty) tables from old without the
// subjects in gone and the lines that newOff and newKeyOff (a line's
// place in the rewritten files, by record and subject) say are erased.
func (s *Store) moveTables(old *tables, gone map[int32]bool, newOff, newKeyOff []int64) error {
	s.erased = old.erased
	remap := make([]int32, len(old.subPhone))
	if err := old.subLoc.Each(func(i int, l keyLoc) bool {
		remap[i] = -1
		if gone[int32(i)] || newKeyOff[i] < 0 {
			return true
		}
		si := s.addSubject(keyLoc{off: newKeyOff[i], len: l.len})
		remap[i] = si
		s.subPhone[si] = old.subPhone[i]
		if p, ok := old.phoneS[int32(i)]; ok {
			s.setPhone(si, p)
		}
		return true
	}); err != nil {
		return fmt.Errorf("private store: %w", err)
	}
	remapRec := make([]int32, len(old.recID))
	if err := old.recLoc.Each(func(i int, b boxLoc) bool {
		remapRec[i] = -1
		si := remap[b.sub]
		if si < 0 || newOff[i] < 0 {
			return true
		}
		remapRec[i] = int32(len(s.recID))
		if id, ok := old.idS[int32(i)]; ok {
			s.addRecord(id, si, newOff[i], int(b.len))
		} else {
			s.recLoc.Append(boxLoc{off: newOff[i], len: b.len, sub: si})
			s.recID = append(s.recID, old.recID[i])
		}
		return true
	}); err != nil {
		return fmt.Errorf("private store: %w", err)
	}
	// The orders stay sorted: only the kept entries, renumbered (no sort,
	// no insertion one by one).
	oldRec := func(ri int32) [16]byte { return old.recID[ri] }
	oldSub := func(si int32) uint64 { return old.subPhone[si] }
	return errors.Join(s.byID.Load(renumbered(old.byID.All(oldRec), remapRec), s.recKey), s.byPhone.Load(renumbered(old.byPhone.All(oldSub), remap), s.subKey))
}

// renumbered returns the positions of an order, each p replaced by to[p],
// without those where that is negative.
func renumbered(all iter.Seq[int32], to []int32) []int32 {
	var out []int32
	for p := range all {
		if to[p] >= 0 {
			out = append(out, to[p])
		}
	}
	return out
}

func cmpID(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) }

// sidOf returns the subject id of a key or opening line ("" for a
// tombstone or a line that is not one), without decoding the rest.
func sidOf(line []byte) string {
	if sid, _, ok := field(line, `{"sid":"`); ok {
		return sid
	}
	var v struct {
		SID string `json:"sid"`
	}
	if json.Unmarshal(line, &v) != nil {
		return ""
	}
	return v.SID
}

// reload is what an Erase that failed half-way does: the files are each
// old or new, so reading them whole gives the store they hold. It returns
// err (or reload's own error).
func (s *Store) reload(err error) error {
	s.closeFiles()
	if lerr := s.load(); lerr != nil {
		return errors.Join(err, lerr)
	}
	return err
}

// Erased returns the id of the erasure record that destroyed the openings
// of record id, if it was erased.
func (s *Store) Erased(id string) (erasure string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	erasure, ok = s.erased[id]
	return erasure, ok
}

// rewrite replaces the file name by its lines that keep accepts, durably,
// and reopens its store.
func (s *Store) rewrite(name string, fs **ledger.FileStore, keep func([]byte) bool) error {
	return s.rewriteLines(name, fs, func(line []byte, _, _ int64) []byte {
		if keep(line) {
			return line
		}
		return nil
	})
}

// rewriteLines replaces each line of the file name by edit's result (nil
// drops it), durably, and reopens its store and reader. edit gets the
// line's offset in the old file and where its result goes in the new.
func (s *Store) rewriteLines(name string, fs **ledger.FileStore, edit func(line []byte, off, at int64) []byte) error {
	// Streamed to the new file: at 500,000 people openings.jsonl is about
	// 160 MB, which an erasure must not hold in memory.
	var h ledger.Head
	var last []byte // the last line kept, for the new head's hash
	path := filepath.Join(s.dir, name)
	if err := durable.WriteStream(path, 0o600, func(f io.Writer) error {
		w := bufio.NewWriterSize(f, 256<<10)
		var at int64
		if err := eachLine(*fs, ledger.Head{}, func(_ int, line []byte, off int64) error {
			l := edit(line, off, at)
			if l == nil {
				return nil
			}
			w.Write(l)
			if err := w.WriteByte('\n'); err != nil {
				return err
			}
			at += int64(len(l)) + 1
			last = append(last[:0], l...)
			h.Count++
			return nil
		}); err != nil {
			return err
		}
		h.Size = at
		return w.Flush()
	}); err != nil {
		return fmt.Errorf("private store: erase: %w", err)
	}
	if h.Count > 0 {
		h.Hash = ledger.LineHash(last)
	}
	(*fs).Close()
	nfs, err := s.openFile(name, &h)
	if err != nil {
		return err
	}
	*fs = nfs
	rd := &s.rd
	if name == KeysFile {
		rd = &s.rdKeys
	}
	if *rd != nil {
		(*rd).Close()
	}
	if *rd, err = os.Open(path); err != nil {
		return fmt.Errorf("private store: %w", err)
	}
	return nil
}

func (s *Store) closeFiles() {
	for _, f := range []**os.File{&s.rd, &s.rdKeys} {
		if *f != nil {
			(*f).Close()
			*f = nil
		}
	}
	if s.keys != nil {
		s.keys.Close()
		s.keys = nil
	}
	if s.openings != nil {
		s.openings.Close()
		s.openings = nil
	}
}

// Close closes the store's files.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeFiles()
	s.tables.close()
	return nil
}
