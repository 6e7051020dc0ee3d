// Package watch reports changes below a folder in debounced batches, for
// "chatconsent serve" to rebuild the site on every save.
//
// It wraps fsnotify, which watches single folders, and adds what an
// editor's save needs:
//
//   - Recursion: every folder below the root is watched, including folders
//     created later; the files already inside a new folder are reported.
//   - Saves by rename: editors that write a temporary file and rename it over
//     the target (JetBrains, many others) or rename the target to a backup
//     and write a new file (vim) produce CREATE, RENAME and REMOVE events but
//     often no WRITE on the target. All of them count as a change; CHMOD
//     does not.
//   - Editor litter is ignored: hidden files (".x.swp", ".#x"), backups
//     ("x~"), vim's "4913" probe, JetBrains' "___jb_tmp___" files, Emacs'
//     "#x#".
//   - Debouncing: a batch is delivered once no event arrived for
//     [Options.Debounce], or at the latest [Options.MaxDelay] after its
//     first event, so a burst of events gives one rebuild.
//   - Overflow: when the kernel's event queue overflowed
//     ([fsnotify.ErrEventOverflow]) events were lost; the batch says so
//     ([Batch.Overflow]) and the watcher rescans the tree for new folders.
//
// Hugo's watcher (gohugoio/hugo, watcher/ and commands/hugobuilder.go) was
// the reference for these rules.
package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Options configure a [Watcher].
type Options struct {
	// Debounce is the quiet time after the last event before a batch is
	// delivered. Default 20 ms: editors finish a save within a few
	// milliseconds, and every millisecond here is felt between save and
	// reload.
	Debounce time.Duration
	// MaxDelay bounds how long a steady stream of events can hold a batch
	// back. Default 300 ms.
	MaxDelay time.Duration
	// Include reports whether a path below the root, given relative to it
	// with '/' separators, is watched (folders) and reported (files). A
	// folder that is not included is not descended into. Nil includes
	// everything that is not editor litter.
	Include func(rel string) bool
}

// Batch is a set of changes.
type Batch struct {
	// Paths are the changed paths (absolute, sorted, no duplicates): files
	// and folders created, written, removed or renamed.
	Paths []string
	// Overflow means events were lost: treat everything as changed.
	Overflow bool
	// Err is a problem the watcher had (other than overflow), e.g. a
	// folder it could not watch; the batch is still valid.
	Err error
}

// Watcher watches a folder tree. Create one with [New]; read [Watcher.Batches]
// until it is closed.
type Watcher struct {
	root    string
	opts    Options
	fw      *fsnotify.Watcher
	dirs    map[string]bool // watched folders
	batches chan Batch
	done    chan struct{}
	stopped chan struct{}
}

// New starts watching root and every included folder below it.
func New(root string, opts Options) (*Watcher, error) {
	if opts.Debounce <= 0 {
		opts.Debounce = 20 * time.Millisecond
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = 300 * time.Millisecond
	}
	if opts.Include == nil {
		opts.Include = func(string) bool { return true }
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", root, err)
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", root, err)
	}
	w := &Watcher{
		root: abs, opts: opts, fw: fw, dirs: map[string]bool{},
		batches: make(chan Batch), done: make(chan struct{}), stopped: make(chan struct{}),
	}
	if _, err := w.addTree(abs, nil); err != nil {
		fw.Close()
		return nil, err
	}
	go w.loop()
	return w, nil
}

// Batches delivers the changes. It is closed by [Watcher.Close].
func (w *Watcher) Batches() <-chan Batch { return w.batches }

// Close stops watching and closes the Batches channel.
func (w *Watcher) Close() error {
	select {
	case <-w.done:
	default:
		close(w.done)
	}
	<-w.stopped
	return w.fw.Close()
}

// Ignored reports whether name (a base name) is editor litter or hidden.
func Ignored(name string) bool {
	switch {
	case name == "" || strings.HasPrefix(name, "."), // .x.swp, .#x, .DS_Store, .git
		strings.HasSuffix(name, "~"),                                                   // x~ backups
		name == "4913",                                                                 // vim's write probe
		strings.Contains(name, "___jb_tmp___"), strings.Contains(name, "___jb_old___"), // JetBrains
		strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"),     // Emacs auto-save
		strings.HasSuffix(name, ".swp"), strings.HasSuffix(name, ".swx"), // vim swap
		strings.HasSuffix(name, ".tmp"):
		return true
	}
	return false
}

// wanted reports whether path (absolute, below root) is watched/reported.
func (w *Watcher) wanted(path string) bool {
	if path == w.root {
		return true
	}
	rel, err := filepath.Rel(w.root, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return false
	}
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if Ignored(part) {
			return false
		}
	}
	return w.opts.Include(filepath.ToSlash(rel))
}

// addTree watches dir and the included folders below it, and returns the
// files found there (they count as created: they may have been written
// before the watch was in place).
func (w *Watcher) addTree(dir string, found []string) ([]string, error) {
	var errs []error
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			errs = append(errs, err)
			return nil
		}
		if !w.wanted(p) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			if p != dir {
				found = append(found, p)
			}
			return nil
		}
		if w.dirs[p] {
			return nil
		}
		if err := w.fw.Add(p); err != nil {
			errs = append(errs, fmt.Errorf("watch %s: %w", p, err))
			return filepath.SkipDir
		}
		w.dirs[p] = true
		return nil
	})
	if err != nil {
		return found, fmt.Errorf("watch %s: %w", dir, err)
	}
	return found, errors.Join(errs...)
}

// forget drops dir and every watched folder below it (it was removed or
// renamed; a renamed folder reappears as a CREATE under its new name).
func (w *Watcher) forget(dir string) {
	for d := range w.dirs {
		if d == dir || strings.HasPrefix(d, dir+string(filepath.Separator)) {
			w.fw.Remove(d) // may already be gone with the folder
			delete(w.dirs, d)
		}
	}
}

func (w *Watcher) loop() {
	defer close(w.stopped)
	defer close(w.batches)
	var (
		pending  = map[string]bool{}
		overflow bool
		errs     []error
		first    time.Time // of the pending batch
		timer    = time.NewTimer(time.Hour)
		ready    *Batch // waiting for the reader
		out      chan Batch
	)
	timer.Stop()
	arm := func() {
		now := time.Now()
		if first.IsZero() {
			first = now
		}
		d := w.opts.Debounce
		if rest := w.opts.MaxDelay - now.Sub(first); rest < d {
			d = max(rest, 0)
		}
		timer.Reset(d)
	}
	for {
		select {
		case <-w.done:
			timer.Stop()
			return
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod || !w.wanted(ev.Name) {
				continue
			}
			pending[ev.Name] = true
			switch {
			case ev.Has(fsnotify.Create):
				if st, err := os.Lstat(ev.Name); err == nil && st.IsDir() {
					found, err := w.addTree(ev.Name, nil)
					for _, f := range found {
						pending[f] = true
					}
					if err != nil {
						errs = append(errs, err)
					}
				}
			case ev.Has(fsnotify.Remove), ev.Has(fsnotify.Rename):
				if w.dirs[ev.Name] {
					w.forget(ev.Name)
				}
			}
			arm()
		case err, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				overflow = true
				// Folders created while events were lost are not watched yet.
				if _, err := w.addTree(w.root, nil); err != nil {
					errs = append(errs, err)
				}
			} else {
				errs = append(errs, err)
			}
			arm()
		case <-timer.C:
			b := Batch{Overflow: overflow, Err: errors.Join(errs...)}
			for p := range pending {
				b.Paths = append(b.Paths, p)
			}
			if ready != nil { // the reader is still busy: merge
				b.Paths = append(b.Paths, ready.Paths...)
				b.Overflow = b.Overflow || ready.Overflow
				b.Err = errors.Join(ready.Err, b.Err)
			}
			slices.Sort(b.Paths)
			b.Paths = slices.Compact(b.Paths)
			ready, out = &b, w.batches
			pending, overflow, errs, first = map[string]bool{}, false, nil, time.Time{}
		case out <- derefOrZero(ready):
			ready, out = nil, nil
		}
	}
}

func derefOrZero(b *Batch) Batch {
	if b == nil {
		return Batch{}
	}
	return *b
}
