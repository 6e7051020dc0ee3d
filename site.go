// Package chatconsent is the default site: this repository's own
// config.toml and content/ (privacy notice, consent and withdrawal pages in
// German and English), embedded so that "chatconsent init DIR" gives an owner
// a working site to edit without a copy of the repository.
package chatconsent

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// DefaultSite holds config.toml and content/LANG/*.md.
//
//go:embed config.toml content
var DefaultSite embed.FS

// gitignore keeps the build output and the collector's data (the signing
// key among it) out of the owner's version control; archive/ belongs in it.
const gitignore = "# Written by chatconsent init. Keep archive/ under version control.\n/public/\n/data/\n"

// ErrExists is returned by [Init] when a file it would write exists.
var ErrExists = errors.New("file exists")

// Init writes the default site into dir (created if needed): config.toml,
// content/ and a .gitignore. It never overwrites: if any of the files
// exists, it writes nothing and returns an error wrapping [ErrExists] that
// names them. It returns the paths written.
func Init(dir string) ([]string, error) {
	files := map[string][]byte{".gitignore": []byte(gitignore)}
	err := fs.WalkDir(DefaultSite, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(DefaultSite, p)
		files[p] = b
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	var names, exist []string
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if _, err := os.Lstat(p); err == nil {
			exist = append(exist, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("init: %w", err)
		}
	}
	if len(exist) > 0 {
		return nil, fmt.Errorf("init: %w, not overwriting: %v", ErrExists, exist)
	}
	var written []string
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return written, fmt.Errorf("init: %w", err)
		}
		// O_EXCL: a file that appeared since the check is not overwritten.
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return written, fmt.Errorf("init: %w", err)
		}
		_, err = f.Write(files[name])
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(p)
			return written, fmt.Errorf("init: write %s: %w", p, err)
		}
		written = append(written, p)
	}
	return written, nil
}
