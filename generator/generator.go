// Package generator builds a chatconsent site: the privacy notice and the
// consent form, from Markdown in content/LANG/*.md through a theme into plain
// static files, plus the text archive that proves which texts were shown.
//
// # Content files
//
// Each page is Markdown with TOML front matter between "+++" lines (see
// [FrontMatter]). The body is first executed as a Go text/template with
// [MarkdownData], so controller details, purposes and URLs are written once
// in config.toml, then rendered with goldmark (GitHub Flavored Markdown,
// footnotes, heading ids; raw HTML off). Pages in different languages are
// translations of each other when their file names match.
//
// # Text versions and the archive
//
// The texts a data subject sees before deciding (every "consent" and
// "policy" page of one language, plus the form's labels and purposes) are
// rendered into one archive document; its SHA-256 is the language's text
// version (GDPR Art. 7(1); EDPB Guidelines 05/2020 on keeping what was
// presented). The consent form posts the version. Archive documents are
// written once to ARCHIVE/VERSION.html and listed in ARCHIVE/manifest.json;
// published versions are never rewritten or removed. See [Manifest].
//
// # Output
//
//	OUT/index.html               links to the consent page in each language
//	OUT/LANG/SLUG/index.html     each page
//	OUT/archive/…                a copy of the archive
//
// A build renders into a fresh folder and swaps it in only when everything
// succeeded, so a failed build leaves the previous output untouched.
package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/themes"
)

// Options control [Build].
type Options struct {
	// OutDir receives the site; it is replaced as a whole on success.
	OutDir string
	// ContentDir holds LANG/*.md; default CONFIGDIR/content.
	ContentDir string
	// ArchiveDir holds the text archive; default CONFIGDIR/archive.
	ArchiveDir string
	// FormAction is where the consent form posts; default the collector's
	// public URL + "v1/consent".
	FormAction string
	// Now gives the time recorded as a version's first publication.
	Now func() time.Time
}

// Result summarises a build.
type Result struct {
	// Pages counts rendered pages per language.
	Pages map[string]int
	// Versions maps language → its current text version.
	Versions map[string]string
	// NewVersions lists versions first published by this build.
	NewVersions []string
	// Warnings are problems that did not stop the build, e.g. a page that
	// has no translation.
	Warnings []string
}

// MarkdownData is what a content file's template actions can use, e.g.
// {{ .Controller.Name }} or {{ range .Purposes }}{{ .Title }}{{ end }}.
type MarkdownData struct {
	Lang       string
	Site       config.Site
	Controller config.Controller
	Purposes   []PurposeText
	// Site-relative URLs of the pages in this language ("" if absent).
	PolicyURL, ConsentURL, WithdrawalURL string
}

// PurposeText is a purpose in one language.
type PurposeText struct{ ID, Title, Description string }

type page struct {
	file    string // content-relative path, e.g. de/policy.md
	base    string // file name, pairs translations
	lang    string
	fm      FrontMatter
	body    []byte
	line    int
	url     string
	content template.HTML
}

// Build renders the site described by cfg. On error nothing in OutDir
// changes; the archive may have gained versions only if the whole render
// succeeded.
func Build(cfg *config.Config, opts Options) (*Result, error) {
	if opts.OutDir == "" {
		return nil, fmt.Errorf("build: no output folder")
	}
	if opts.ContentDir == "" {
		opts.ContentDir = filepath.Join(cfg.Dir, "content")
	}
	if opts.ArchiveDir == "" {
		opts.ArchiveDir = filepath.Join(cfg.Dir, "archive")
	}
	if opts.FormAction == "" {
		opts.FormAction = cfg.Collector.PublicURL + "v1/consent"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	theme, err := themes.Load(cfg.Dir)
	if err != nil {
		return nil, err
	}
	basePath := "/"
	if u, err := url.Parse(cfg.Site.BaseURL); err == nil && u.Path != "" {
		basePath = u.Path
	}

	res := &Result{Pages: map[string]int{}, Versions: map[string]string{}}
	byLang := map[string][]*page{}
	for _, lang := range cfg.Site.Languages {
		pages, err := readPages(opts.ContentDir, lang, basePath)
		if err != nil {
			return nil, err
		}
		if len(pages) == 0 {
			return nil, fmt.Errorf("%s: no pages for language %q", filepath.Join(opts.ContentDir, lang), lang)
		}
		byLang[lang] = pages
	}
	// Translations pair by file name.
	for _, lang := range cfg.Site.Languages {
		for _, other := range cfg.Site.Languages {
			if other == lang {
				continue
			}
			for _, p := range byLang[lang] {
				if find(byLang[other], p.base) == nil {
					res.Warnings = append(res.Warnings, fmt.Sprintf("%s has no translation in %s (want %s)", p.file, other, path.Join(other, p.base)))
				}
			}
		}
	}

	// Render Markdown in parallel; pages are independent.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, lang := range cfg.Site.Languages {
		data := markdownData(cfg, lang, byLang[lang])
		for _, p := range byLang[lang] {
			wg.Go(func() {
				if err := renderMarkdown(p, data, filepath.Join(opts.ContentDir, filepath.FromSlash(p.file))); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return nil, errs[0]
	}

	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(opts.OutDir)), "."+filepath.Base(opts.OutDir)+".build-")
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	defer os.RemoveAll(tmp)

	archive := map[string][]byte{}
	langNames := map[string]string{}
	for _, lang := range cfg.Site.Languages {
		langNames[lang] = theme.Strings(lang)["language_name"]
		if langNames[lang] == "" {
			langNames[lang] = lang
		}
	}
	for _, lang := range cfg.Site.Languages {
		pages := byLang[lang]
		purposes := formPurposes(cfg, lang)
		// The archive document: every text shown before the decision.
		arch := &themes.Page{Lang: lang, Title: cfg.Site.Title, SiteTitle: cfg.Site.Title}
		for _, p := range pages {
			at := themes.ArchivedText{Title: p.fm.Title, Content: p.content}
			if p.fm.Layout == themes.LayoutConsent {
				at.Form = &themes.Form{Purposes: purposes}
			}
			arch.Archive = append(arch.Archive, at)
		}
		var ab bytes.Buffer
		if err := theme.Render(&ab, themes.LayoutArchive, arch); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(ab.Bytes())
		version := hex.EncodeToString(sum[:])
		res.Versions[lang] = version
		archive[version] = ab.Bytes()

		policyURL, consentURL := urlOf(pages, themes.LayoutPolicy), urlOf(pages, themes.LayoutConsent)
		for _, p := range pages {
			pg := &themes.Page{
				Lang: lang, Title: p.fm.Title, SiteTitle: cfg.Site.Title,
				PolicyURL: policyURL, ConsentURL: consentURL, Content: p.content,
			}
			for _, other := range cfg.Site.Languages {
				if q := find(byLang[other], p.base); q != nil && other != lang {
					pg.Alternates = append(pg.Alternates, themes.Alternate{Lang: other, Name: langNames[other], URL: q.url})
				}
			}
			if p.fm.Layout == themes.LayoutConsent {
				pg.Form = &themes.Form{Action: opts.FormAction, TextVersion: version, Purposes: purposes}
			}
			var b bytes.Buffer
			if err := theme.Render(&b, p.fm.Layout, pg); err != nil {
				return nil, fmt.Errorf("%s: %w", p.file, err)
			}
			out := filepath.Join(tmp, lang, p.fm.Slug, "index.html")
			if err := writeFile(out, b.Bytes()); err != nil {
				return nil, err
			}
			res.Pages[lang]++
		}
	}
	if err := writeIndex(tmp, cfg, theme, byLang, langNames); err != nil {
		return nil, err
	}

	// Only now, with every page rendered, publish new versions.
	newVersions, err := updateArchive(opts.ArchiveDir, archive, res.Versions, byLang, opts.Now)
	if err != nil {
		return nil, err
	}
	res.NewVersions = newVersions
	if err := writeConsentPages(opts.ArchiveDir, res.Versions, byLang); err != nil {
		return nil, err
	}
	if err := copyDir(opts.ArchiveDir, filepath.Join(tmp, "archive")); err != nil {
		return nil, err
	}
	if err := swapDir(tmp, opts.OutDir); err != nil {
		return nil, err
	}
	return res, nil
}

func find(pages []*page, base string) *page {
	for _, p := range pages {
		if p.base == base {
			return p
		}
	}
	return nil
}

func urlOf(pages []*page, layout string) string {
	for _, p := range pages {
		if p.fm.Layout == layout {
			return p.url
		}
	}
	return ""
}

func formPurposes(cfg *config.Config, lang string) []themes.FormPurpose {
	var ps []themes.FormPurpose
	for _, p := range cfg.Purposes {
		t, d := p.Localized(lang)
		ps = append(ps, themes.FormPurpose{ID: p.ID, Title: t, Description: d})
	}
	return ps
}

func markdownData(cfg *config.Config, lang string, pages []*page) MarkdownData {
	d := MarkdownData{
		Lang: lang, Site: cfg.Site, Controller: cfg.Controller,
		PolicyURL:  urlOf(pages, themes.LayoutPolicy),
		ConsentURL: urlOf(pages, themes.LayoutConsent),
	}
	d.WithdrawalURL = d.ConsentURL
	for _, p := range cfg.Purposes {
		t, desc := p.Localized(lang)
		d.Purposes = append(d.Purposes, PurposeText{ID: p.ID, Title: t, Description: desc})
	}
	return d
}

func readPages(contentDir, lang, basePath string) ([]*page, error) {
	dir := filepath.Join(contentDir, lang)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read content: %w", err)
	}
	var pages []*page
	slugs := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		rel := path.Join(lang, e.Name())
		full := filepath.Join(dir, e.Name())
		src, err := os.ReadFile(full)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", full, err)
		}
		fm, body, line, err := ParsePage(full, src)
		if err != nil {
			return nil, err
		}
		if prev, ok := slugs[fm.Slug]; ok {
			return nil, fmt.Errorf("%s: slug %q is also used by %s", full, fm.Slug, prev)
		}
		slugs[fm.Slug] = full
		pages = append(pages, &page{
			file: rel, base: e.Name(), lang: lang, fm: fm, body: body, line: line,
			url: basePath + lang + "/" + fm.Slug + "/",
		})
	}
	return pages, nil
}

// renderMarkdown executes the page body as a text/template, then converts it
// with goldmark. Template errors carry FILE:LINE of the content file.
func renderMarkdown(p *page, data MarkdownData, full string) error {
	// Pad with newlines so template line numbers match the file's.
	src := strings.Repeat("\n", p.line-1) + string(p.body)
	tpl, err := texttemplate.New(full).Option("missingkey=error").Parse(src)
	if err != nil {
		return fmt.Errorf("%w", err)
	}
	var md bytes.Buffer
	if err := tpl.Execute(&md, data); err != nil {
		return fmt.Errorf("%w", err)
	}
	html, err := convert(p.lang, md.Bytes())
	if err != nil {
		return fmt.Errorf("%s: render Markdown: %w", full, err)
	}
	p.content = template.HTML(html)
	return nil
}

// PageURLs returns, per language, the site-relative URL of each layout's
// page ("consent" → "/de/einwilligung/"), reading only front matter.
func PageURLs(cfg *config.Config) (map[string]map[string]string, error) {
	basePath := "/"
	if u, err := url.Parse(cfg.Site.BaseURL); err == nil && u.Path != "" {
		basePath = u.Path
	}
	urls := map[string]map[string]string{}
	for _, lang := range cfg.Site.Languages {
		pages, err := readPages(filepath.Join(cfg.Dir, "content"), lang, basePath)
		if err != nil {
			return nil, err
		}
		urls[lang] = map[string]string{}
		for _, p := range pages {
			if _, ok := urls[lang][p.fm.Layout]; !ok {
				urls[lang][p.fm.Layout] = p.url
			}
		}
	}
	return urls, nil
}
