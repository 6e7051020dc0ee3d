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
package private

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/durable"
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
type Store struct {
	dir  string
	opts Options

	mu       sync.Mutex
	keys     *ledger.FileStore
	openings *ledger.FileStore
	rd       *os.File            // openings.jsonl, for reading boxes
	subjects map[string]*subject // sid → subject
	byPhone  map[string]string   // phone → sid
	records  map[string]opening  // record id → where its box is
	erased   map[string]string   // record id → erasure record id
}

type subject struct {
	sid string
	key []byte
	// No cipher.AEAD is kept: AES-GCM's is about 1 KB (its key schedule
	// and tables), which for a collector whose every contact is a new
	// number was most of its memory (56% at 50,000 numbers). It is made
	// for each use instead, a few hundred nanoseconds.
	phone string
	ids   []string // record ids, in order
}

type opening struct {
	sid      string
	off, len int64 // the line in openings.jsonl
}

// Options tune [Open].
type Options struct {
	// Sync makes a file's data durable; nil means fdatasync(2).
	Sync func(*os.File) error
	// ReadOnly opens the store for reading only, without locking it (the
	// owner's commands while the collector runs): Put and Erase fail, a
	// torn last line is skipped, nothing left by a crash is finished off.
	ReadOnly bool
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
// keys and the subjects' numbers into memory (a few dozen bytes per
// record; the openings stay on disk). Openings whose key is gone (an
// erasure interrupted by a crash) are treated as erased.
func Open(dir string, opts Options) (*Store, error) {
	if !opts.ReadOnly {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("private store: %w", err)
		}
	}
	s := &Store{dir: dir, opts: opts}
	if err := s.load(); err != nil {
		s.closeFiles()
		return nil, err
	}
	return s, nil
}

func (s *Store) fileOpts() ledger.FileOptions { return ledger.FileOptions{Sync: s.opts.Sync} }

// openFile opens one of the store's files, cutting (and dropping) a torn
// last line: a batch that never got durable, of no use to anyone.
func (s *Store) openFile(name string) (*ledger.FileStore, error) {
	fs, err := ledger.OpenFileStore(filepath.Join(s.dir, name), s.fileOpts())
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

func (s *Store) load() error {
	var err error
	var keys, openings ledger.Source = ledger.FileSource(filepath.Join(s.dir, KeysFile)), ledger.FileSource(filepath.Join(s.dir, OpeningsFile))
	if !s.opts.ReadOnly {
		if s.keys, err = s.openFile(KeysFile); err != nil {
			return err
		}
		if s.openings, err = s.openFile(OpeningsFile); err != nil {
			return err
		}
		keys, openings = s.keys, s.openings
	}
	if s.rd, err = os.Open(filepath.Join(s.dir, OpeningsFile)); errors.Is(err, os.ErrNotExist) && s.opts.ReadOnly {
		keys, openings = nil, nil // no store yet: empty
	} else if err != nil {
		return fmt.Errorf("private store: %w", err)
	}
	s.subjects, s.byPhone, s.records, s.erased = map[string]*subject{}, map[string]string{}, map[string]opening{}, map[string]string{}
	if err := eachLine(keys, func(n int, line []byte, _ int64) error {
		var kl keyLine
		if err := strictJSON(line, &kl); err != nil || !isID(kl.SID) || len(kl.Key) != 32 {
			return fmt.Errorf("%s:%d: not a key line", KeysFile, n)
		}
		sub, err := newSubject(kl.SID, kl.Key)
		if err != nil {
			return err
		}
		s.subjects[kl.SID] = sub
		return nil
	}); err != nil {
		return err
	}
	orphans := false
	if err := eachLine(openings, func(n int, line []byte, off int64) error {
		var ol openingLine
		if err := strictJSON(line, &ol); err != nil || ol.ID == "" {
			return fmt.Errorf("%s:%d: not an opening line", OpeningsFile, n)
		}
		if ol.Erased != "" && ol.SID == "" && ol.Box == nil {
			s.erased[ol.ID] = ol.Erased
			return nil
		}
		if !isID(ol.SID) {
			return fmt.Errorf("%s:%d: not an opening line", OpeningsFile, n)
		}
		sub := s.subjects[ol.SID]
		if sub == nil {
			orphans = true // key destroyed: erased
			return nil
		}
		ds, err := sub.open(&ol)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", OpeningsFile, n, err)
		}
		s.records[ol.ID] = opening{sid: ol.SID, off: off, len: int64(len(line))}
		sub.ids = append(sub.ids, ol.ID)
		if sub.phone == "" {
			if p := phoneOf(ds); p != "" {
				sub.phone = p
				s.byPhone[p] = sub.sid
			}
		}
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
		if err := s.rewrite(OpeningsFile, &s.openings, func(line []byte) bool {
			var v struct {
				SID string `json:"sid"`
			}
			return json.Unmarshal(line, &v) == nil && s.subjects[v.SID] != nil
		}); err != nil {
			return err
		}
		s.closeFiles()
		return s.load()
	}
	var lone []string
	for sid, sub := range s.subjects {
		if len(sub.ids) == 0 {
			lone = append(lone, sid)
		}
	}
	if len(lone) > 0 {
		// A key without openings: its subject was erased and a crash came
		// before the key was (or its batch never got durable).
		if err := s.rewrite(KeysFile, &s.keys, func(line []byte) bool {
			var v struct {
				SID string `json:"sid"`
			}
			return json.Unmarshal(line, &v) == nil && len(s.subjects[v.SID].ids) > 0
		}); err != nil {
			return err
		}
		for _, sid := range lone {
			delete(s.subjects, sid)
		}
	}
	return nil
}

func newSubject(sid string, key []byte) (*subject, error) {
	sub := &subject{sid: sid, key: key}
	if _, err := sub.aead(); err != nil {
		return nil, err
	}
	return sub, nil
}

// aead returns the subject's AES-256-GCM.
func (sub *subject) aead() (cipher.AEAD, error) {
	blk, err := aes.NewCipher(sub.key)
	if err != nil {
		return nil, fmt.Errorf("private store: key of %s: %w", sub.sid, err)
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, fmt.Errorf("private store: key of %s: %w", sub.sid, err)
	}
	return aead, nil
}

func additional(sid, id string) []byte {
	return []byte("chatconsent/openings/v1\n" + sid + "\n" + id)
}

func (sub *subject) seal(id string, ds []string) (openingLine, error) {
	pt, err := marshalStrings(ds)
	if err != nil {
		return openingLine{}, err
	}
	aead, err := sub.aead()
	if err != nil {
		return openingLine{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return openingLine{}, err
	}
	return openingLine{SID: sub.sid, ID: id, Nonce: nonce, Box: aead.Seal(pt[:0], nonce, pt, additional(sub.sid, id))}, nil
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

func (sub *subject) open(ol *openingLine) ([]string, error) {
	aead, err := sub.aead()
	if err != nil {
		return nil, err
	}
	if len(ol.Nonce) != aead.NonceSize() {
		return nil, errors.New("bad nonce")
	}
	pt, err := aead.Open(nil, ol.Nonce, ol.Box, additional(ol.SID, ol.ID))
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

// eachLine calls fn with each complete line of src (nil: none); an
// incomplete last line is skipped. The file is streamed, not read whole:
// at 500,000 records openings.jsonl is 160 MB.
func eachLine(src ledger.Source, fn func(n int, line []byte, off int64) error) error {
	if src == nil {
		return nil
	}
	r, err := src.Read(ledger.Head{})
	if err != nil {
		return err
	}
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	var off int64
	var long []byte
	for n := 1; ; n++ {
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

func isID(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 16 && hex.EncodeToString(b) == s
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
	var keyLines, boxLines [][]byte
	fresh := map[string]*subject{} // phone → subject new in this batch
	type placed struct {
		id  string
		sub *subject
		n   int64
	}
	var added []placed
	for _, e := range batch {
		if len(e.Disclosures) == 0 {
			continue
		}
		phone := ""
		if e.Record.Subject != nil {
			phone = e.Record.Subject.Phone
		}
		if phone == "" {
			return fmt.Errorf("private store: record %s has personal fields but no number", e.Record.ID)
		}
		sub := s.subjects[s.byPhone[phone]]
		if sub == nil {
			sub = fresh[phone]
		}
		if sub == nil {
			sid, err := newID()
			if err != nil {
				return err
			}
			key := make([]byte, 32)
			if _, err := rand.Read(key); err != nil {
				return err
			}
			if sub, err = newSubject(sid, key); err != nil {
				return err
			}
			sub.phone = phone
			fresh[phone] = sub
			keyLines = append(keyLines, (&keyLine{SID: sid, Key: key}).marshal())
		}
		ol, err := sub.seal(e.Record.ID, e.Disclosures)
		if err != nil {
			return fmt.Errorf("private store: seal openings: %w", err)
		}
		b := ol.marshal()
		boxLines = append(boxLines, b)
		added = append(added, placed{e.Record.ID, sub, int64(len(b))})
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
	for _, sub := range fresh {
		s.subjects[sub.sid] = sub
		s.byPhone[sub.phone] = sub.sid
	}
	off := oh.Size
	for _, a := range added {
		s.records[a.id] = opening{sid: a.sub.sid, off: off, len: a.n}
		a.sub.ids = append(a.sub.ids, a.id)
		off += a.n + 1
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
	op, ok := s.records[id]
	sub := s.subjects[op.sid]
	if !ok || sub == nil {
		return nil, fmt.Errorf("record %s: %w", id, ErrUnknown)
	}
	if s.rd == nil {
		return nil, fmt.Errorf("record %s: %w", id, ErrUnknown)
	}
	b := make([]byte, op.len)
	if _, err := s.rd.ReadAt(b, op.off); err != nil {
		return nil, fmt.Errorf("private store: read openings of %s: %w", id, err)
	}
	var ol openingLine
	if err := strictJSON(b, &ol); err != nil || ol.ID != id {
		return nil, fmt.Errorf("private store: openings of %s are not where the store put them", id)
	}
	return sub.open(&ol)
}

// Subject returns the subject id of a phone number (E.164) and the ids of
// its records, in order, or [ErrUnknown].
func (s *Store) Subject(phone string) (sid string, records []string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sid, ok := s.byPhone[phone]
	if !ok {
		return "", nil, ErrUnknown
	}
	return sid, append([]string(nil), s.subjects[sid].ids...), nil
}

// Has reports whether the store holds the openings of record id.
func (s *Store) Has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, ok := s.records[id]
	return ok && s.subjects[op.sid] != nil
}

// Erase destroys, durably, the keys and openings of every subject that
// one of the records ids belongs to, by the log's erasure record erasure:
// first the openings file is rewritten with their lines replaced by
// tombstones ({"id":ID,"erased":ERASURE}), then the keys file without
// their keys (each temp → fsync → rename → fsync folder). Ids the store
// does not hold openings of are skipped, so Erase can be repeated after a
// crash. It returns the ids of all records erased (every record of those
// subjects, not only ids).
func (s *Store) Erase(ids []string, erasure string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.ReadOnly {
		return nil, ErrReadOnly
	}
	gone := map[string]bool{}
	for _, id := range ids {
		if op, ok := s.records[id]; ok {
			gone[op.sid] = true
		}
	}
	if len(gone) == 0 {
		return nil, nil
	}
	var erased []string
	if err := s.rewriteLines(OpeningsFile, &s.openings, func(line []byte) []byte {
		var ol openingLine
		if json.Unmarshal(line, &ol) != nil || !gone[ol.SID] {
			return line
		}
		erased = append(erased, ol.ID)
		b, _ := json.Marshal(openingLine{ID: ol.ID, Erased: erasure})
		return b
	}); err != nil {
		return nil, err
	}
	if err := s.rewrite(KeysFile, &s.keys, func(line []byte) bool {
		var v struct {
			SID string `json:"sid"`
		}
		return json.Unmarshal(line, &v) != nil || !gone[v.SID]
	}); err != nil {
		return nil, err
	}
	s.closeFiles()
	if err := s.load(); err != nil {
		return nil, err
	}
	return erased, nil
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
	return s.rewriteLines(name, fs, func(line []byte) []byte {
		if keep(line) {
			return line
		}
		return nil
	})
}

// rewriteLines replaces each line of the file name by edit's result (nil
// drops it), durably, and reopens its store.
func (s *Store) rewriteLines(name string, fs **ledger.FileStore, edit func([]byte) []byte) error {
	var out []byte
	if err := eachLine(*fs, func(_ int, line []byte, _ int64) error {
		if l := edit(line); l != nil {
			out = append(append(out, l...), '\n')
		}
		return nil
	}); err != nil {
		return err
	}
	if err := durable.WriteFile(filepath.Join(s.dir, name), out, 0o600); err != nil {
		return fmt.Errorf("private store: erase: %w", err)
	}
	(*fs).Close()
	nfs, err := s.openFile(name)
	if err != nil {
		return err
	}
	*fs = nfs
	return nil
}

func (s *Store) closeFiles() {
	if s.rd != nil {
		s.rd.Close()
		s.rd = nil
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
	return nil
}
