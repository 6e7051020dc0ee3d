package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/internal/access"
	"github.com/chatconsent/chatconsent/internal/durable"
	"github.com/chatconsent/chatconsent/themes"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/records"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := dataFlag(fs)
	pdfPath := fs.String("pdf", "", "also write the readable access report (PDF, in the person's language) to `FILE`")
	lang := fs.String("lang", "", "the report's `language` (default: the person's)")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("export: want one NUMBER")
	}
	o, err := openRecords(*cfgPath, *data, true)
	if err != nil {
		return err
	}
	p, err := o.person(fs.Arg(0), true)
	if err != nil {
		return err
	}
	pub, err := ledger.ReadPublicKey(o.paths.SigningPublicKey)
	if err != nil {
		return err
	}
	policy, err := siteURLs(o.cfg, "policy")
	if err != nil {
		return err
	}
	x, err := o.book.Export(p, records.ExportOptions{
		Config: o.cfg, PolicyURLs: policy, PublicKey: pub, Manifest: o.manifest, Now: time.Now(),
		Text: func(v string) ([]byte, error) { return text(o, v, stderr) },
	})
	if err != nil {
		return fmt.Errorf("export %s: %w", p.Phone, err)
	}
	b, err := records.MarshalIndent(x)
	if err != nil {
		return err
	}
	if *pdfPath != "" {
		if *lang != "" && !slices.Contains(o.cfg.Site.Languages, *lang) {
			return usageError("export: --lang %q is not one of the site's languages (%s)", *lang, strings.Join(o.cfg.Site.Languages, ", "))
		}
		theme, err := themes.LoadSite(o.cfg.Dir, o.cfg.Site.DefaultLanguage)
		if err != nil {
			return err
		}
		pdf, err := access.PDF(x, access.Options{Config: o.cfg, Strings: theme.Strings, Lang: *lang})
		if err != nil {
			return fmt.Errorf("export %s: %w", p.Phone, err)
		}
		if err := durable.WriteFile(*pdfPath, pdf, 0o600); err != nil {
			return fmt.Errorf("export: write %s: %w", *pdfPath, err)
		}
		fmt.Fprintf(stderr, "chatconsent: wrote the access report to %s\n", *pdfPath)
	}
	_, err = stdout.Write(b)
	return err
}

// text returns an archived text version from the first intact copy in
// config.Paths.TextDirs (the order "text" uses too); a damaged copy is
// named on stderr.
func text(o *owner, v string, stderr io.Writer) ([]byte, error) {
	b, _, damaged, err := textarchive.Find(o.paths.TextDirs(), v)
	for _, d := range damaged {
		fmt.Fprintf(stderr, "chatconsent: warning: %v\n", d)
	}
	return b, err
}
