package generator

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/generator/archive"
	"github.com/chatconsent/chatconsent/internal/config"
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
			vi.Pages = append(vi.Pages, p.file)
			vi.Titles = append(vi.Titles, p.fm.Title)
			vi.MaterialChange = vi.MaterialChange || p.fm.MaterialChange
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
			cp := archive.ConsentPage{Version: v, Lang: lang, Title: p.fm.Title, Content: string(p.content)}
			if err := archive.WriteConsentPage(dir, cp); err != nil {
				return err
			}
			break
		}
	}
	return nil
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

// writeIndex writes OUT/index.html: the site's entry page, linking the
// consent page in every language (no redirect, no script).
func writeIndex(out string, cfg *config.Config, theme *themes.Theme, byLang map[string][]*page, names map[string]string) error {
	lang := cfg.Site.DefaultLanguage
	var links strings.Builder
	links.WriteString("<ul>")
	for _, l := range cfg.Site.Languages {
		for _, layout := range []string{themes.LayoutConsent, themes.LayoutPolicy} {
			for _, p := range byLang[l] {
				if p.fm.Layout == layout {
					fmt.Fprintf(&links, `<li><a href="%s" hreflang="%s" lang="%s">%s</a></li>`,
						template.HTMLEscapeString(p.url), l, l, template.HTMLEscapeString(p.fm.Title))
				}
			}
		}
	}
	links.WriteString("</ul>")
	pg := &themes.Page{
		Lang: lang, Title: cfg.Site.Title, SiteTitle: cfg.Site.Title,
		PolicyURL:  urlOf(byLang[lang], themes.LayoutPolicy),
		ConsentURL: urlOf(byLang[lang], themes.LayoutConsent),
		Content:    template.HTML(links.String()),
	}
	_ = names
	var b bytes.Buffer
	if err := theme.Render(&b, themes.LayoutPolicy, pg); err != nil {
		return err
	}
	return writeFile(filepath.Join(out, "index.html"), b.Bytes())
}
