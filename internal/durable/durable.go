// Package durable writes files so that a crash or power cut leaves either
// the old file or the complete new one, never a half-written one: a
// temporary file in the same folder, write, fsync, rename (or link), fsync
// of the folder. It is the one place in chatconsent that does this; the
// text archive, the receipts, the outbox, the signing keys, the
// transparency log's keys and mirror, and the private store all call it.
// (The ledger's append path and torn-tail copy write with their own
// injectable write and sync, for its fault tests; the generator writes a
// whole site and flushes it with one syncfs.)
//
// It is a leaf: it imports nothing of chatconsent's.
//
// See rename(2), fsync(2) and the notes on directory fsync in PostgreSQL's
// and etcd's durability code.
package durable

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WriteFile replaces path with data durably, with permission bits mode.
// The folder must exist. A crash leaves either the old or the new file.
// Errors name path.
func WriteFile(path string, data []byte, mode os.FileMode) error {
	return WriteStream(path, mode, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteStream is [WriteFile] of what write writes to the file (not
// buffered): for data too big to hold whole beside what it is made from
// (the collector's snapshot at 500,000 decisions). An error from write
// leaves the old file.
func WriteStream(path string, mode os.FileMode, write func(w io.Writer) error) error {
	tmp, err := streamTemp(path, mode, write)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// CreateFile durably creates path with data, like [WriteFile], but fails
// with an error wrapping [os.ErrExist] if path exists: the file is linked
// into place, not renamed, so an existing file (a signing key) is never
// replaced.
func CreateFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := writeTemp(path, data, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Move renames dir/name to into/name (into on the same file system) and
// fsyncs both folders, into first: the file is never in neither.
func Move(dir, name, into string) error {
	if err := os.Rename(filepath.Join(dir, name), filepath.Join(into, name)); err != nil {
		return err
	}
	if err := SyncDir(into); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs the folder dir, making the names created, renamed or
// removed in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// tempInfix is in the name of every temporary file: "." + the target's
// name + tempInfix + a random suffix.
const tempInfix = ".tmp-"

// IsTemp reports whether name (a base name) is one of this package's
// temporary files, left behind by a crash between write and rename.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempInfix)
}

// RemoveTemps removes the temporary files a crash left in dir (see
// [IsTemp]); a program that owns dir calls it on start. It returns the
// first error other than a missing folder.
func RemoveTemps(dir string) error { return RemoveTempsBefore(dir, time.Time{}) }

// RemoveTempsBefore is [RemoveTemps] for the temporary files last
// modified before t (zero: all), so it can run while new files are being
// written in dir: their temporary files are not older than the program's
// start. It lists dir unsorted, in batches (a folder of 500,000 receipts
// takes a fraction of a second, which is why the collector runs it after
// it starts listening).
func RemoveTempsBefore(dir string, t time.Time) error {
	f, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		names, err := f.Readdirnames(4096)
		for _, name := range names {
			if !IsTemp(name) {
				continue
			}
			path := filepath.Join(dir, name)
			fi, err := os.Lstat(path)
			if err != nil || !fi.Mode().IsRegular() || (!t.IsZero() && !fi.ModTime().Before(t)) {
				continue
			}
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		if err == io.EOF || len(names) == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// writeTemp writes data to a fresh temporary file beside path, with mode,
// fsyncs and closes it, and returns its name. On error nothing is left.
func writeTemp(path string, data []byte, mode os.FileMode) (string, error) {
	return streamTemp(path, mode, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// streamTemp is writeTemp of what write writes.
func streamTemp(path string, mode os.FileMode, write func(w io.Writer) error) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+tempInfix)
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	err = write(f)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}
