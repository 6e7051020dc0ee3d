package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chatconsent/chatconsent/internal/textarchive"
	"github.com/chatconsent/chatconsent/themes"
)

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	return nil
}

// updateArchive publishes the current versions with their manifest entries.
// purposes are the ids on the form, in its order.
func updateArchive(dir string, texts map[string][]byte, versions map[string]string, byLang map[string][]*page, purposes []string, now func() time.Time) ([]string, error) {
	info := map[string]textarchive.Version{}
	t := now().UTC().Truncate(time.Second)
	for lang, v := range versions {
		vi := textarchive.Version{Lang: lang, FirstPublished: t, Purposes: slices.Clone(purposes)}
		for _, p := range byLang[lang] {
			if inTextVersion(p.fm.Layout) {
				vi.Pages = append(vi.Pages, p.file)
				vi.Titles = append(vi.Titles, p.fm.Title)
				vi.MaterialChange = vi.MaterialChange || p.fm.MaterialChange
			}
		}
		info[v] = vi
	}
	return textarchive.Publish(dir, texts, info)
}

// writeConsentPages stores each version's consent page beside it in the
// archive (textarchive.ConsentPage), for the collector's personal invite page.
func writeConsentPages(dir string, versions map[string]string, byLang map[string][]*page) error {
	for lang, v := range versions {
		for _, p := range byLang[lang] {
			if p.fm.Layout != themes.LayoutConsent {
				continue
			}
			cp := textarchive.ConsentPage{Version: v, Lang: lang, Title: p.fm.Title, Content: string(p.src.content)}
			if err := textarchive.WriteConsentPage(dir, cp); err != nil {
				return err
			}
			break
		}
	}
	return nil
}

// BuildListFile, inside the output folder, lists the files the last build
// wrote there (one slash path per line). Build removes only files on that
// list, and refuses a non-empty output folder without it, so that a wrong
// --out never deletes anything the generator did not make.
const BuildListFile = ".chatconsent-build"

// ErrForeignOutput is returned by [Build] for a non-empty output folder
// that an earlier build did not write.
var ErrForeignOutput = errors.New("output folder holds files chatconsent did not write")

// writeSite makes out hold site's files plus a copy of the archive
// (out/archive/). It writes only files whose bytes differ from what is
// there, removes the files of the previous build that this one does not
// produce, and flushes out's file system. Writing in place rather than into
// a fresh folder and swapping saves a mkdir, a create, an unlink and an
// rmdir per page, which on a busy disk cost more than rendering.
func writeSite(site *Site, archiveDir, out string) error {
	files := make(map[string][]byte, len(site.Files)+8)
	for name, b := range site.Files {
		files[name] = b
	}
	entries, err := os.ReadDir(archiveDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("copy archive: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(archiveDir, e.Name()))
		if err != nil {
			return fmt.Errorf("copy archive: %w", err)
		}
		files["archive/"+e.Name()] = b
	}

	// What the previous build wrote; a non-empty folder without the list
	// is not ours.
	var previous []string
	list, err := os.ReadFile(filepath.Join(out, BuildListFile))
	switch {
	case err == nil:
		for _, name := range strings.Split(string(list), "\n") {
			if name != "" && filepath.IsLocal(filepath.FromSlash(name)) {
				previous = append(previous, name)
			}
		}
	case errors.Is(err, fs.ErrNotExist):
		if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
			return fmt.Errorf("build: %s: %w (no %s in it); choose an empty or new folder", out, ErrForeignOutput, BuildListFile)
		}
	default:
		return fmt.Errorf("build: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	names := slices.Sorted(maps.Keys(files))
	var written atomic.Int64
	if err := parallelN(8, len(names), func(i int) error {
		p := filepath.Join(out, filepath.FromSlash(names[i]))
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, files[names[i]]) {
			return nil
		}
		written.Add(1)
		return writeFile(p, files[names[i]])
	}); err != nil {
		return err
	}
	// Remove what the previous build wrote and this one does not (pages
	// whose slug changed), and folders that became empty.
	removed := 0
	for _, name := range previous {
		if _, ok := files[name]; ok {
			continue
		}
		p := filepath.Join(out, filepath.FromSlash(name))
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("build: %w", err)
		}
		removed++
		for d := filepath.Dir(p); d != out && strings.HasPrefix(d, out); d = filepath.Dir(d) {
			if os.Remove(d) != nil { // not empty
				break
			}
		}
	}
	newList := []byte(strings.Join(names, "\n") + "\n")
	if !bytes.Equal(newList, list) {
		if err := writeFile(filepath.Join(out, BuildListFile), newList); err != nil {
			return err
		}
		written.Add(1)
	}
	if written.Load() > 0 || removed > 0 {
		if err := syncDir(out); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}
	return nil
}

// syncTree fsyncs every file and folder below dir.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}
