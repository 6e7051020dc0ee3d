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

	"github.com/chatconsent/chatconsent/generator/archive"
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
func updateArchive(dir string, texts map[string][]byte, versions map[string]string, byLang map[string][]*page, now func() time.Time) ([]string, error) {
	info := map[string]archive.Version{}
	t := now().UTC().Truncate(time.Second)
	for lang, v := range versions {
		vi := archive.Version{Lang: lang, FirstPublished: t}
		for _, p := range byLang[lang] {
			if inTextVersion(p.fm.Layout) {
				vi.Pages = append(vi.Pages, p.file)
				vi.Titles = append(vi.Titles, p.fm.Title)
				vi.MaterialChange = vi.MaterialChange || p.fm.MaterialChange
			}
		}
		info[v] = vi
	}
	return archive.Publish(dir, texts, info)
}

// writeConsentPages stores each version's consent page beside it in the
// archive (archive.ConsentPage), for the collector's personal invite page.
func writeConsentPages(dir string, versions map[string]string, byLang map[string][]*page) error {
	for lang, v := range versions {
		for _, p := range byLang[lang] {
			if p.fm.Layout != themes.LayoutConsent {
				continue
			}
			cp := archive.ConsentPage{Version: v, Lang: lang, Title: p.fm.Title, Content: string(p.src.content)}
			if err := archive.WriteConsentPage(dir, cp); err != nil {
				return err
			}
			break
		}
	}
	return nil
}

// writeSite makes out hold exactly site's files plus a copy of the archive
// (out/archive/). It writes only files whose bytes differ from what is
// there, removes files and folders it did not write, and flushes out's file
// system. Writing in place rather than into a fresh folder and swapping
// saves a mkdir, a create, an unlink and an rmdir per page, which on a busy
// disk cost more than rendering.
func writeSite(site *Site, archiveDir, out string) error {
	files := make(map[string][]byte, len(site.Files)+8)
	for name, b := range site.Files {
		files[filepath.Join(out, filepath.FromSlash(name))] = b
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
		files[filepath.Join(out, "archive", e.Name())] = b
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	// Remove what this build does not produce (pages whose slug changed).
	var stale []string
	err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if _, ok := files[p]; !ok && !d.IsDir() {
			stale = append(stale, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	for _, p := range stale {
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}
	names := slices.Sorted(maps.Keys(files))
	var written atomic.Int64
	if err := parallelN(8, len(names), func(i int) error {
		p := names[i]
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, files[p]) {
			return nil
		}
		written.Add(1)
		return writeFile(p, files[p])
	}); err != nil {
		return err
	}
	removeEmptyDirs(out)
	if written.Load() > 0 || len(stale) > 0 {
		if err := syncDir(out); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}
	return nil
}

// removeEmptyDirs removes the empty folders below root, deepest first.
func removeEmptyDirs(root string) {
	var dirs []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != root {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i]) // fails, harmlessly, when not empty
	}
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
