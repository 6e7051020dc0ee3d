package generator

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/generator/archive"
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
			}
		}
		info[v] = vi
	}
	return archive.Publish(dir, texts, info)
}

// writeSite writes site and a copy of the archive into a fresh folder beside
// out, then swaps it in.
func writeSite(site *Site, archiveDir, out string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(out)), "."+filepath.Base(out)+".build-")
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	defer os.RemoveAll(tmp)
	names := make([]string, 0, len(site.Files))
	for name := range site.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	if err := parallel(len(names), func(i int) error {
		return writeFile(filepath.Join(tmp, filepath.FromSlash(names[i])), site.Files[names[i]])
	}); err != nil {
		return err
	}
	if err := copyDir(archiveDir, filepath.Join(tmp, "archive")); err != nil {
		return err
	}
	return swapDir(tmp, out)
}

// copyDir copies the regular files of src (one level) into dst.
func copyDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("copy archive: %w", err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("copy archive: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return fmt.Errorf("copy archive: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			return fmt.Errorf("copy archive: %w", err)
		}
	}
	return nil
}

// swapDir makes the finished build tmp the output dir. The old output is
// moved aside first and removed after the rename, so a reader sees either
// the old or the new site, and a failure keeps the old one.
func swapDir(tmp, out string) error {
	if err := syncTree(tmp); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	old := ""
	if _, err := os.Stat(out); err == nil {
		old = tmp + ".old"
		if err := os.Rename(out, old); err != nil {
			return fmt.Errorf("build: replace %s: %w", out, err)
		}
	}
	if err := os.Rename(tmp, out); err != nil {
		if old != "" {
			os.Rename(old, out)
		}
		return fmt.Errorf("build: replace %s: %w", out, err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

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
