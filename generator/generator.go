// Package generator builds a chatconsent site: the privacy notice, the
// consent form and the withdrawal page, from Markdown in content/LANG/ through
// a theme into plain static files, plus the text archive that proves which
// texts were shown.
//
// # Content files
//
// Each page is Markdown with TOML front matter between "+++" lines (see
// [FrontMatter]). The body is first executed as a Go text/template with
// [MarkdownData], so controller details, purposes and URLs are written once
// in config.toml, then rendered with goldmark (GitHub Flavored Markdown,
// footnotes, heading ids, German typographic quotes; raw HTML off unless
// site.unsafe_html). Pages in different languages are translations of each
// other when their paths below content/LANG/ match.
//
// # Text versions and the archive
//
// The texts a data subject sees before deciding (every "consent" and
// "policy" page of one language, plus the form's labels and purposes) are
// rendered into one archive document; its SHA-256 is the language's text
// version (GDPR Art. 7(1); EDPB Guidelines 05/2020 on keeping what was
// presented). The consent form posts the version. Archive documents are
// written once to ARCHIVE/VERSION.html and listed in ARCHIVE/manifest.json
// (package internal/textarchive); published versions are never rewritten or removed.
// "withdrawal" and "page" pages are not part of a text version.
//
// # Output
//
//	OUT/index.html               links to the main pages in each language
//	OUT/404.html                 "not found", for static hosts that use it
//	OUT/LANG/SLUG/index.html     each page
//	OUT/archive/…                a copy of the archive
//
// [Build] renders the whole site in memory first, so a content error
// leaves the previous output untouched; then it writes only the files whose
// bytes changed and removes files it no longer produces. A
// [Builder] keeps what it rendered and re-renders only pages whose inputs
// changed; "chatconsent serve" uses one to rebuild on every save.
package generator

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/internal/config"
)

// Options control [Build] and [NewBuilder].
type Options struct {
	// OutDir receives the site; files in it that the build does not
	// produce are removed. Only [Build] uses it.
	OutDir string
	// ContentDir holds LANG/*.md; default CONFIGDIR/content.
	ContentDir string
	// ArchiveDir holds the text archive; default the config's site.archive.
	ArchiveDir string
	// FormAction is where the consent form posts; default the collector's
	// public URL + "v1/consent".
	FormAction string
	// WithdrawAction is where the withdrawal form posts; default the
	// collector's public URL + "v1/withdraw".
	WithdrawAction string
	// Now gives the time recorded as a version's first publication.
	Now func() time.Time
	// LogKey is the transparency log's checkpoint verifier key
	// (signed-note format, name+hash+base64; DATA/checkpoint.vkey): the
	// site publishes it as [LogKeyFile] and content may name it with
	// {{ .LogKey }}. "" means there is none yet: no file, and a content
	// file that prints {{ .LogKey }} fails the build (inside
	// {{ if .LogKey }} … {{ end }} it is simply left out).
	LogKey string
}

// LogKeyFile is where the built site publishes the checkpoint verifier key
// (one line, text), e.g. https://example.org/log-key.txt.
const LogKeyFile = "log-key.txt"

func (o *Options) defaults(cfg *config.Config) {
	if o.ContentDir == "" {
		o.ContentDir = filepath.Join(cfg.Dir, "content")
	}
	if o.ArchiveDir == "" {
		o.ArchiveDir = cfg.Paths("").Archive
	}
	if o.FormAction == "" {
		o.FormAction = cfg.Collector.PublicURL + "v1/consent"
	}
	if o.WithdrawAction == "" {
		o.WithdrawAction = cfg.Collector.PublicURL + "v1/withdraw"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Result summarises a build.
type Result struct {
	// Pages counts rendered pages per language.
	Pages map[string]int
	// Versions maps language → its current text version.
	Versions map[string]string
	// NewVersions lists versions first published by this build, sorted.
	NewVersions []string
	// Rendered counts the pages whose Markdown was rendered again (the
	// others came from a [Builder]'s memory of its last build).
	Rendered int
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
	// Mail is true when receipts are mailed (an [smtp] table), for
	// {{ if .Mail }}…{{ end }} around what the text says about e-mail.
	Mail bool
	// Retention is config.toml's [retention], for the notice's storage
	// section, so the text says what the collector does.
	Retention RetentionText
	// LogKey is the checkpoint verifier key ([Options].LogKey), for the
	// notice: data subjects and auditors check receipts and the log with it.
	LogKey string
}

// RetentionText is retention.proof_years as a notice states it.
type RetentionText struct {
	// ProofYears is retention.proof_years: how many full years after the
	// end of the year of a person's last event the proof keeps their
	// personal data ({{ .Retention.ProofYears }}, digits only).
	ProofYears int
	// ProofPeriod is ProofYears with its unit in the page's language,
	// plural-correct ({{ .Retention.ProofPeriod }}: "1 Jahr", "3 Jahre",
	// "1 year", "3 years"), from the theme's strings years_one (for 1) and
	// years_other, where {n} stands for the number.
	ProofPeriod string
}

// retentionText returns r for a page whose theme strings are t.
func retentionText(r config.Retention, t map[string]string) RetentionText {
	key := "years_other"
	if r.ProofYears == 1 {
		key = "years_one"
	}
	f := t[key]
	if f == "" {
		f = "{n}"
	}
	return RetentionText{ProofYears: r.ProofYears, ProofPeriod: strings.ReplaceAll(f, "{n}", strconv.Itoa(r.ProofYears))}
}

// PurposeText is a purpose in one language.
type PurposeText struct{ ID, Title, Description string }

// Build renders the site described by cfg into opts.OutDir. A content,
// theme or archive error changes nothing in OutDir; the archive gains
// versions only if the whole render succeeded. Only files whose bytes
// changed are written, then flushed to disk (syncfs on Linux).
func Build(cfg *config.Config, opts Options) (*Result, error) {
	if opts.OutDir == "" {
		return nil, fmt.Errorf("build: no output folder")
	}
	// Everything is rendered in memory before the first write, so a bad
	// content file never touches the output.
	b := NewBuilder(cfg, opts)
	b.oneShot = true
	site, res, err := b.Build()
	if err != nil {
		return nil, err
	}
	if err := writeSite(site, b.opts.ArchiveDir, filepath.Clean(opts.OutDir)); err != nil {
		return nil, err
	}
	return res, nil
}

// PageURLs returns, per language, the site-relative URL of each layout's
// page ("consent" → "/de/einwilligung/"), reading only front matter.
func PageURLs(cfg *config.Config) (map[string]map[string]string, error) {
	urls := map[string]map[string]string{}
	b := NewBuilder(cfg, Options{})
	for _, lang := range cfg.Site.Languages {
		pages, err := b.readPages(lang)
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
