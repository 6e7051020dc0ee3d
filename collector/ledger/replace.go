package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/chatconsent/chatconsent/internal/durable"
)

// ErrCrash is returned by [FileStore.Replace] when its Crash hook stopped
// it: the files are left exactly as a crash at that step would leave them
// (no clean-up), for the crash tests.
var ErrCrash = errors.New("simulated crash")

// Steps of [FileStore.Replace], in order, as its Crash hook is asked.
const (
	StepTemp    = "temp"    // the temporary file is created and partly written
	StepSync    = "sync"    // it is written whole, not yet synced
	StepRename  = "rename"  // it is synced, not yet renamed over the log
	StepDirSync = "dirsync" // it is renamed, the folder not yet synced
)

// ReplaceSteps lists the steps of [FileStore.Replace] in order.
var ReplaceSteps = []string{StepTemp, StepSync, StepRename, StepDirSync}

// tempPrefix is the prefix of the log's temporary files in its folder, as
// package durable names them.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// removeTemps removes the temporary files a crash during [FileStore.Replace]
// left beside path: they may hold lines that an erasure redacted since.
func removeTemps(path string) error {
	des, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return err
	}
	for _, de := range des {
		if de.Type().IsRegular() && strings.HasPrefix(de.Name(), tempPrefix(path)) && durable.IsTemp(de.Name()) {
			if err := os.Remove(filepath.Join(filepath.Dir(path), de.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// Replace replaces the whole file by data, durably (temporary file in the
// same folder, write, sync, rename over the log, sync of the folder: a
// crash leaves the old file or the new one), and goes on appending to the
// new file, locked as the old one was. data must be whole lines that
// verify, ending at next (the head after them); the caller verified them
// (see [Redact] and [Migrate]). crash, if not nil, is asked before each of
// [ReplaceSteps] and stops Replace there with [ErrCrash], leaving the
// files as they are (tests). Appends wait meanwhile; readers that opened
// the old file read it to its end.
func (s *FileStore) Replace(data []byte, next Head, crash func(step string) bool) error {
	return s.replaceIf(nil, data, next, crash)
}

// errMoved: the log grew between reading it and replacing it.
var errMoved = errors.New("the log grew meanwhile")

// replaceIf is Replace if the store's head is still *old (nil: any).
func (s *FileStore) replaceIf(old *Head, data []byte, next Head, crash func(step string) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if old != nil && s.head != *old {
		return errMoved
	}
	if !bytes.HasSuffix(data, []byte("\n")) && len(data) > 0 || next.Size != int64(len(data)) || next.Unterminated {
		return fmt.Errorf("replace log: %d bytes do not end at the head given (%d bytes)", len(data), next.Size)
	}
	stop := func(step string) bool { return crash != nil && crash(step) }
	dir := filepath.Dir(s.path)
	f, err := os.CreateTemp(dir, tempPrefix(s.path))
	if err != nil {
		return fmt.Errorf("replace log: %w", err)
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("replace log: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		return fail(err)
	}
	if stop(StepTemp) {
		f.Write(data[:len(data)/2])
		f.Close()
		return ErrCrash
	}
	if _, err := s.opts.Write(f, data); err != nil {
		return fail(err)
	}
	if stop(StepSync) {
		f.Close()
		return ErrCrash
	}
	if err := s.opts.Sync(f); err != nil {
		return fail(err)
	}
	// The new file is locked before it takes the log's name, so no other
	// writer can take it in between.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fail(err)
	}
	if stop(StepRename) {
		f.Close()
		return ErrCrash
	}
	if err := os.Rename(f.Name(), s.path); err != nil {
		return fail(err)
	}
	if stop(StepDirSync) {
		f.Close()
		return ErrCrash
	}
	// From here the new file is the log (a crash leaves it, or the old
	// one if the rename is not yet durable).
	if _, err := f.Seek(next.Size, io.SeekStart); err != nil {
		f.Close()
		s.err = fmt.Errorf("replace log: %w (restart the collector)", err)
		return s.err
	}
	prev := s.f
	s.f, s.head, s.uncut = f, next, false
	prev.Close()
	if err := durable.SyncDir(dir); err != nil {
		return fmt.Errorf("replace log: sync folder: %w", err)
	}
	return nil
}

// Redact replaces the version-1 lines of the records ids by redacted
// lines ([Redact]), durably ([FileStore.Replace]); the file keeps its
// length, so every [Head] and position stays valid. It returns the number
// of lines redacted now (0 if there were none left: Redact can be
// repeated after a crash). crash is Replace's test hook.
func (s *FileStore) Redact(ids map[string]bool, v Verifier, crash func(step string) bool) (int, error) {
	head := s.Head()
	r, err := readFile(s.path, Head{}, head.Size)
	if err != nil {
		return 0, err
	}
	found, err := readsV1Line(r, ids) // the common case: none, and nothing held
	r.Close()
	if err != nil || !found {
		if err != nil {
			err = fmt.Errorf("redact: %w", err)
		}
		return 0, err
	}
	if r, err = readFile(s.path, Head{}, head.Size); err != nil {
		return 0, err
	}
	b, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return 0, fmt.Errorf("redact: %w", err)
	}
	out, n, err := Redact(b, v, ids)
	if err != nil || n == 0 {
		return 0, err
	}
	// An append between the read and the replacement would be lost: the
	// head is checked again under the store's lock.
	if err := s.replaceIf(&head, out, head, crash); errors.Is(err, errMoved) {
		return s.Redact(ids, v, crash)
	} else if err != nil {
		return 0, err
	}
	return n, nil
}

// Redacter is a [Store] whose version-1 history lines can be redacted in
// place (the [FileStore]; a wrapping store passes it on).
type Redacter interface {
	Redact(ids map[string]bool, v Verifier, crash func(step string) bool) (int, error)
}

// Redact redacts the version-1 history lines of the records ids through
// the log's store ([FileStore.Redact]), while the log takes appends; it
// returns the number of lines redacted now. A store that cannot redact
// returns an error if there is anything to redact, which it cannot tell:
// so it always does.
func (l *Log) Redact(ids map[string]bool, crash func(step string) bool) (int, error) {
	r, ok := l.store.(Redacter)
	if !ok {
		return 0, errors.New("redact: the log's store cannot redact lines")
	}
	return r.Redact(ids, l.verify, crash)
}
