package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	texttemplate "text/template"

	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/themes"
)

// Site is a rendered site in memory: output path (slash-separated, relative
// to the output folder, e.g. "de/einwilligung/index.html") → file content.
// The archive is not included; it lives in the archive folder.
type Site struct {
	Files map[string][]byte
}

// NotFoundFile is the output path of the "not found" page.
const NotFoundFile = "404.html"

// Builder renders a site repeatedly. It keeps the parsed sources, the
// rendered Markdown and the rendered pages of its last build, keyed by
// everything they depend on (file bytes, config, URLs, theme files), and
// renders again only what changed. Its Build method must not be called
// concurrently.
type Builder struct {
	cfg      *config.Config
	opts     Options
	basePath string
	md       map[bool]*converters // by unsafe_html
	sources  map[string]*source   // content file path → parsed source
	pages    map[string]rendered  // output path → last rendering

	// oneShot builders keep nothing for a next build.
	oneShot bool
}

// source is a content file as last read.
type source struct {
	sum     [32]byte // of the file's bytes
	fm      FrontMatter
	body    []byte
	line    int
	mdKey   [32]byte // inputs of content
	content template.HTML
}

type rendered struct {
	key [32]byte
	b   []byte
}

type page struct {
	file string // content-relative path, e.g. de/policy.md
	base string // path below content/LANG/, pairs translations
	full string // path on disk
	lang string
	url  string
	src  *source
	fm   FrontMatter
}

// NewBuilder returns a builder for cfg; see [Options] for the defaults.
func NewBuilder(cfg *config.Config, opts Options) *Builder {
	opts.defaults(cfg)
	basePath := "/"
	if u, err := url.Parse(cfg.Site.BaseURL); err == nil && u.Path != "" {
		basePath = u.Path
	}
	return &Builder{
		cfg: cfg, opts: opts, basePath: basePath,
		md:      map[bool]*converters{},
		sources: map[string]*source{},
		pages:   map[string]rendered{},
	}
}

// ArchiveDir returns the archive folder the builder publishes to.
func (b *Builder) ArchiveDir() string { return b.opts.ArchiveDir }

// Build renders every page and publishes new text versions to the archive.
// On error the archive is unchanged and the error names the file (and line,
// where known) that caused it.
func (b *Builder) Build() (*Site, *Result, error) {
	cfg := b.cfg
	theme, err := themes.LoadSite(cfg.Dir, cfg.Site.DefaultLanguage)
	if err != nil {
		return nil, nil, err
	}
	if err := theme.SetBrandColor(cfg.Site.BrandColor); err != nil {
		return nil, nil, err
	}
	if err := theme.SetLogo(cfg.Site.Logo); err != nil {
		return nil, nil, err
	}
	res := &Result{Pages: map[string]int{}, Versions: map[string]string{}}
	byLang := map[string][]*page{}
	index := map[string]map[string]*page{} // lang → base → page
	seen := map[string]bool{}
	for _, lang := range cfg.Site.Languages {
		pages, err := b.readPages(lang)
		if err != nil {
			return nil, nil, err
		}
		if len(pages) == 0 {
			return nil, nil, fmt.Errorf("%s: no pages for language %q", filepath.Join(b.opts.ContentDir, lang), lang)
		}
		byLang[lang] = pages
		index[lang] = map[string]*page{}
		for _, p := range pages {
			index[lang][p.base] = p
			seen[p.full] = true
		}
	}
	for full := range b.sources {
		if !seen[full] {
			delete(b.sources, full)
		}
	}
	// Translations pair by path.
	for _, lang := range cfg.Site.Languages {
		for _, other := range cfg.Site.Languages {
			if other == lang {
				continue
			}
			for _, p := range byLang[lang] {
				if index[other][p.base] == nil {
					res.Warnings = append(res.Warnings, fmt.Sprintf("%s has no translation in %s (want %s)", p.file, other, path.Join(other, p.base)))
				}
			}
		}
	}

	// Markdown: only pages whose bytes or data changed; in parallel.
	md := b.converters(cfg.Site.UnsafeHTML)
	var purposeIDs []string
	for _, p := range cfg.Purposes {
		purposeIDs = append(purposeIDs, p.ID)
	}
	reserved := theme.ElementIDs(purposeIDs)
	var todo []*page
	var keys [][32]byte
	datas := map[string]MarkdownData{}
	for _, lang := range cfg.Site.Languages {
		data := markdownData(cfg, lang, byLang[lang], theme.Strings(lang))
		data.LogKey = b.opts.LogKey
		datas[lang] = data
		dk := hashOf("%#v", data)
		for _, p := range byLang[lang] {
			k := hashOf("%x %x %v %q", p.src.sum, dk, cfg.Site.UnsafeHTML, reserved)
			if p.src.content != "" && p.src.mdKey == k {
				continue
			}
			todo = append(todo, p)
			keys = append(keys, k)
		}
	}
	contents := make([]template.HTML, len(todo))
	if err := parallel(len(todo), func(i int) error {
		var err error
		contents[i], err = renderMarkdown(md, todo[i], datas[todo[i].lang], reserved)
		return err
	}); err != nil {
		return nil, nil, err
	}
	for i, p := range todo {
		p.src.content, p.src.mdKey = contents[i], keys[i]
		if b.oneShot {
			p.src.body = nil
		}
	}
	res.Rendered = len(todo)

	langNames := map[string]string{}
	for _, lang := range cfg.Site.Languages {
		langNames[lang] = theme.Strings(lang)["language_name"]
		if langNames[lang] == "" {
			langNames[lang] = lang
		}
	}

	// The archive document of each language: every text shown before the
	// decision. Its hash is the text version.
	texts := map[string][]byte{}
	for _, lang := range cfg.Site.Languages {
		arch := &themes.Page{Lang: lang, Title: cfg.Site.TitleIn(lang), SiteTitle: cfg.Site.TitleIn(lang)}
		used := map[string]bool{}
		for _, p := range byLang[lang] {
			if !inTextVersion(p.fm.Layout) {
				continue
			}
			// The pages are joined in one document: an id an earlier page
			// has is renamed (with its links) in this one.
			at := themes.ArchivedText{Title: p.fm.Title, Content: template.HTML(uniqueIDs(string(p.src.content), p.fm.Slug+"-", used))}
			if p.fm.Layout == themes.LayoutConsent {
				at.Form = &themes.Form{Purposes: formPurposes(cfg, lang), NoMail: cfg.SMTP == nil}
			}
			arch.Archive = append(arch.Archive, at)
		}
		var ab bytes.Buffer
		if err := theme.Render(&ab, themes.LayoutArchive, arch); err != nil {
			return nil, nil, err
		}
		if err := checkUniqueIDs(ab.Bytes()); err != nil {
			return nil, nil, fmt.Errorf("archived text of language %s: %w", lang, err)
		}
		sum := sha256.Sum256(ab.Bytes())
		version := hex.EncodeToString(sum[:])
		res.Versions[lang] = version
		texts[version] = ab.Bytes()
	}

	// Pages through the theme: only those whose inputs changed.
	type job struct {
		out, file, layout string
		pg                *themes.Page
		key               [32]byte
		src               *source // nil for the index and 404 pages
	}
	var jobs []job
	site := &Site{Files: map[string][]byte{}}
	add := func(out, file, layout string, pg *themes.Page, mdKey [32]byte, src *source) {
		var k [32]byte
		if !b.oneShot {
			k = hashOf("%s %s %#v %#v %x", theme.Fingerprint(), layout, pageKey(pg), pg.Form, mdKey)
		}
		if r, ok := b.pages[out]; ok && r.key == k {
			site.Files[out] = r.b
			return
		}
		jobs = append(jobs, job{out, file, layout, pg, k, src})
	}
	for _, lang := range cfg.Site.Languages {
		pages := byLang[lang]
		d := datas[lang]
		for _, p := range pages {
			pg := &themes.Page{
				Lang: lang, Title: p.fm.Title, SiteTitle: cfg.Site.TitleIn(lang),
				PolicyURL: d.PolicyURL, ConsentURL: d.ConsentURL, WithdrawalURL: d.WithdrawalURL,
				Content: p.src.content,
			}
			for _, other := range cfg.Site.Languages {
				if q := index[other][p.base]; q != nil && other != lang {
					pg.Alternates = append(pg.Alternates, themes.Alternate{Lang: other, Name: langNames[other], URL: q.url})
				}
			}
			switch p.fm.Layout {
			case themes.LayoutConsent:
				pg.Form = &themes.Form{Action: b.opts.FormAction, TextVersion: res.Versions[lang], Purposes: formPurposes(cfg, lang), NoMail: cfg.SMTP == nil}
			case themes.LayoutWithdrawal:
				pg.Form = &themes.Form{Action: b.opts.WithdrawAction, Purposes: formPurposes(cfg, lang)}
			}
			add(path.Join(lang, p.fm.Slug, "index.html"), p.file, p.fm.Layout, pg, p.src.mdKey, p.src)
			res.Pages[lang]++
		}
	}
	ipg, nfpg := b.indexPages(theme, byLang)
	add("index.html", "index", themes.LayoutPage, ipg, sha256.Sum256([]byte(ipg.Content)), nil)
	add(NotFoundFile, NotFoundFile, themes.LayoutError, nfpg, sha256.Sum256([]byte(nfpg.Content)), nil)

	outs := make([][]byte, len(jobs))
	if err := parallel(len(jobs), func(i int) error {
		var buf bytes.Buffer
		if err := theme.Render(&buf, jobs[i].layout, jobs[i].pg); err != nil {
			return fmt.Errorf("%s: %w", jobs[i].file, err)
		}
		if err := checkUniqueIDs(buf.Bytes()); err != nil {
			return fmt.Errorf("%s: %w", jobs[i].file, err)
		}
		outs[i] = buf.Bytes()
		if b.oneShot && jobs[i].src != nil && jobs[i].layout != themes.LayoutConsent {
			// Nothing needs the page's Markdown output any more (the
			// consent page's goes into the archive, see writeConsentPages):
			// let the collector take it while the other pages render.
			jobs[i].pg, jobs[i].src.content = nil, ""
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	for i, j := range jobs {
		site.Files[j.out] = outs[i]
		if !b.oneShot {
			b.pages[j.out] = rendered{j.key, outs[i]}
		}
	}
	for out := range b.pages {
		if _, ok := site.Files[out]; !ok {
			delete(b.pages, out)
		}
	}
	if k := strings.TrimSpace(b.opts.LogKey); k != "" {
		site.Files[LogKeyFile] = []byte(k + "\n")
	}

	// Only now, with every page rendered, publish new versions.
	newVersions, err := updateArchive(b.opts.ArchiveDir, texts, res.Versions, byLang, purposeIDs, b.opts.Now)
	if err != nil {
		return nil, nil, err
	}
	slices.Sort(newVersions)
	res.NewVersions = newVersions
	if err := writeConsentPages(b.opts.ArchiveDir, res.Versions, byLang); err != nil {
		return nil, nil, err
	}
	return site, res, nil
}

// inTextVersion reports whether pages of layout are part of the text
// version: what a person is shown before deciding.
func inTextVersion(layout string) bool {
	return layout == themes.LayoutConsent || layout == themes.LayoutPolicy
}

// pageKey is everything of a page that its rendering depends on, except
// the Markdown content (keyed separately) and the form.
func pageKey(p *themes.Page) any {
	return struct {
		Lang, Title, SiteTitle, PolicyURL, ConsentURL, WithdrawalURL string
		Alternates                                                   []themes.Alternate
	}{p.Lang, p.Title, p.SiteTitle, p.PolicyURL, p.ConsentURL, p.WithdrawalURL, p.Alternates}
}

func hashOf(format string, args ...any) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, format, args...)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// parallel runs fn(0…n-1) on GOMAXPROCS workers and returns the error of
// the lowest index, so that which error is reported does not depend on
// scheduling.
func parallel(n int, fn func(i int) error) error {
	return parallelN(runtime.GOMAXPROCS(0), n, fn)
}

// parallelN is parallel with the given number of workers (more than the
// CPUs for work that waits on the disk).
func parallelN(workers, n int, fn func(i int) error) error {
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				errs[i] = fn(i)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// indexPages returns the entry page (links to the main pages in every
// language, no redirect, no script) and the "not found" page, both in the
// default language.
func (b *Builder) indexPages(theme *themes.Theme, byLang map[string][]*page) (index, notFound *themes.Page) {
	cfg := b.cfg
	lang := cfg.Site.DefaultLanguage
	var list themes.LinkList
	for _, l := range cfg.Site.Languages {
		for _, layout := range []string{themes.LayoutConsent, themes.LayoutPolicy, themes.LayoutWithdrawal} {
			for _, p := range byLang[l] {
				if p.fm.Layout == layout {
					list = append(list, themes.LangLink{URL: p.url, Text: p.fm.Title, Lang: l})
				}
			}
		}
	}
	links := list.HTML()
	d := markdownData(cfg, lang, byLang[lang], theme.Strings(lang))
	index = &themes.Page{
		Lang: lang, Title: cfg.Site.TitleIn(lang), SiteTitle: cfg.Site.TitleIn(lang),
		PolicyURL: d.PolicyURL, ConsentURL: d.ConsentURL, WithdrawalURL: d.WithdrawalURL,
		Content: links,
	}
	t := theme.Strings(lang)
	notFound = &themes.Page{
		Lang: lang, Title: t["not_found_title"], SiteTitle: cfg.Site.TitleIn(lang),
		PolicyURL: d.PolicyURL, ConsentURL: d.ConsentURL, WithdrawalURL: d.WithdrawalURL,
		Content: themes.Text(t["not_found"]).HTML() + links,
	}
	return index, notFound
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

func markdownData(cfg *config.Config, lang string, pages []*page, strs map[string]string) MarkdownData {
	d := MarkdownData{
		Lang: lang, Site: cfg.Site, Controller: cfg.Controller, Mail: cfg.SMTP != nil, Retention: retentionText(cfg.Retention, strs),
		PolicyURL:     urlOf(pages, themes.LayoutPolicy),
		ConsentURL:    urlOf(pages, themes.LayoutConsent),
		WithdrawalURL: urlOf(pages, themes.LayoutWithdrawal),
	}
	for _, p := range cfg.Purposes {
		t, desc := p.Localized(lang)
		d.Purposes = append(d.Purposes, PurposeText{ID: p.ID, Title: t, Description: desc})
	}
	d.Site.Title = cfg.Site.TitleIn(lang) // {{ .Site.Title }} in the page's language
	return d
}

// readPages reads content/LANG/**/*.md in lexical order, parsing only
// files whose bytes changed since the last build.
func (b *Builder) readPages(lang string) ([]*page, error) {
	dir := filepath.Join(b.opts.ContentDir, lang)
	var fulls, bases []string
	err := filepath.WalkDir(dir, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read content: %w", err)
		}
		name := d.Name()
		if d.IsDir() {
			if full != dir && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".md") || strings.HasPrefix(name, ".") {
			return nil
		}
		rel, _ := filepath.Rel(dir, full)
		fulls, bases = append(fulls, full), append(bases, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Reading and front matter in parallel: on a large site the file
	// system's latency, not the parsing, is what a serial loop waits for.
	srcs := make([]*source, len(fulls))
	if err := parallel(len(fulls), func(i int) error {
		src, err := os.ReadFile(fulls[i])
		if err != nil {
			return fmt.Errorf("read %s: %w", fulls[i], err)
		}
		sum := sha256.Sum256(src)
		if s := b.sources[fulls[i]]; s != nil && s.sum == sum { // concurrent reads only
			srcs[i] = s
			return nil
		}
		fm, body, line, err := ParsePage(fulls[i], src)
		if err != nil {
			return err
		}
		srcs[i] = &source{sum: sum, fm: fm, body: body, line: line}
		return nil
	}); err != nil {
		return nil, err
	}
	pages := make([]*page, 0, len(fulls))
	slugs := map[string]string{}
	for i, full := range fulls {
		s := srcs[i]
		b.sources[full] = s
		if prev, ok := slugs[s.fm.Slug]; ok {
			return nil, fmt.Errorf("%s: slug %q is also used by %s", full, s.fm.Slug, prev)
		}
		slugs[s.fm.Slug] = full
		pages = append(pages, &page{
			file: path.Join(lang, bases[i]), base: bases[i], full: full, lang: lang, src: s, fm: s.fm,
			url: b.basePath + lang + "/" + s.fm.Slug + "/",
		})
	}
	return pages, nil
}

// renderMarkdown executes the page body as a text/template, then converts it
// with goldmark. Template errors carry FILE:LINE of the content file.
func renderMarkdown(md *converters, p *page, data MarkdownData, reserved []string) (html template.HTML, err error) {
	src := p.src.body
	in := mdInput{file: p.full, line: p.src.line, reserved: reserved, footnotePrefix: p.fm.Slug + "-"}
	if bytes.Contains(src, []byte("{{")) {
		// Pad with newlines so template line numbers match the file's.
		tpl, err := texttemplate.New(p.full).Option("missingkey=error").Parse(strings.Repeat("\n", p.src.line-1) + string(src))
		if err != nil {
			return "", placeholderError(err)
		}
		if err := checkPlaceholders(tpl); err != nil {
			return "", err
		}
		if err := checkLogKey(tpl, data.LogKey != ""); err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := tpl.Execute(&buf, data); err != nil {
			return "", placeholderError(err)
		}
		src = buf.Bytes()
		in.line = 1 // padded
		in.body, in.bodyLine = p.src.body, p.src.line
	} // else: no placeholder, and no template needed to say so
	b, err := md.convert(p.lang, src, in)
	if errors.Is(err, ErrMarkdown) {
		return "", err // names file:line:column
	} else if err != nil {
		return "", fmt.Errorf("%s: render Markdown: %w", p.full, err)
	}
	return template.HTML(b), nil
}

func (b *Builder) converters(unsafe bool) *converters {
	c := b.md[unsafe]
	if c == nil {
		c = newConverters(unsafe)
		b.md[unsafe] = c
	}
	return c
}
