package main

import (
	"fmt"
	"io"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/records"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := dataFlag(fs)
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
