package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/records"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := fs.String("data", "", "data `folder` (default: collector.data_dir from the config)")
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
	p, err := o.person(fs.Arg(0))
	if err != nil {
		return err
	}
	pub, err := ledger.ReadPublicKey(filepath.Join(o.dataDir, ledger.PublicKeyFile))
	if err != nil {
		return err
	}
	policy, err := siteURLs(o.cfg, "policy")
	if err != nil {
		return err
	}
	x, err := o.book.Export(p, records.ExportOptions{
		Config: o.cfg, PolicyURLs: policy, PublicKey: pub, Manifest: o.manifest, Now: time.Now(),
		Text: func(v string) ([]byte, error) { return text(o, v) },
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

// text returns an archived text version: the collector's copy in
// DATA/texts first (what it accepted), else the site's archive; either
// must hash to the version.
func text(o *owner, v string) ([]byte, error) {
	if b, err := os.ReadFile(filepath.Join(o.dataDir, "texts", v+".html")); err == nil {
		if textarchive.Sum(b) != v {
			return nil, fmt.Errorf("%s: %w", filepath.Join(o.dataDir, "texts", v+".html"), textarchive.ErrCorrupt)
		}
		return b, nil
	}
	return textarchive.Text(filepath.Join(o.cfg.Dir, "archive"), v)
}
