package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chatconsent/chatconsent/collector"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/private"
	"github.com/chatconsent/chatconsent/generator"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/phone"
	"github.com/chatconsent/chatconsent/internal/records"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// owner is what the owner's record commands (status, list, export,
// invite --renew) read: the config, the folded log and the text archive.
type owner struct {
	cfg      *config.Config
	dataDir  string
	book     *records.Book
	manifest *textarchive.Manifest
}

// openRecords loads the config and reads DATA/decisions.jsonl, checked
// against DATA/signing.pub.
func openRecords(cfgPath, data string, keepLines bool) (*owner, error) {
	return openRecordsLog(cfgPath, data, "", keepLines)
}

// openRecordsLog is openRecords with a copy of the log at logPath (its
// signing.pub beside it) instead of the data folder's, for a computer that
// is not the server; logPath "" is the data folder's.
func openRecordsLog(cfgPath, data, logPath string, keepLines bool) (*owner, error) {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	o := &owner{cfg: cfg, dataDir: data}
	if o.dataDir == "" {
		o.dataDir = cfg.Collector.DataDir
	}
	if logPath != "" {
		st, err := os.Stat(logPath)
		if err != nil {
			return nil, &hintError{err, "--log names a copy of the collector's decisions.jsonl, e.g. from: rsync root@server:/var/lib/chatconsent/decisions.jsonl root@server:/var/lib/chatconsent/signing.pub log-copy/"}
		}
		if st.IsDir() {
			logPath = filepath.Join(logPath, collector.LogFile)
		}
		pubPath := filepath.Join(filepath.Dir(logPath), ledger.PublicKeyFile)
		pub, err := ledger.ReadPublicKey(pubPath)
		if err != nil {
			return nil, &hintError{err, "copy the collector's signing.pub beside the copy of its log (" + pubPath + ")"}
		}
		// A version-2 log names nobody: the numbers are in the private
		// store, which must be copied beside the log (DIR/private).
		var opener records.Opener
		if vdir := filepath.Join(filepath.Dir(logPath), private.Dir); dirExists(vdir) {
			vault, err := private.Open(vdir, private.Options{ReadOnly: true})
			if err != nil {
				return nil, err
			}
			defer vault.Close()
			opener = vault
		}
		if o.book, err = records.Read(ledger.FileSource(logPath), logPath, pub, opener, cfg.PurposeIDs(), keepLines); err != nil {
			return nil, err
		}
		if o.manifest, err = textarchive.ReadManifest(filepath.Join(cfg.Dir, "archive")); err != nil {
			return nil, err
		}
		return o, nil
	}
	pub, err := ledger.ReadPublicKey(filepath.Join(o.dataDir, ledger.PublicKeyFile))
	if err != nil {
		return nil, &hintError{err, "give the collector's data folder with --data DIR (it holds signing.pub and decisions.jsonl), or for invite --renew a copy of its log with --log FILE"}
	}
	logPath = filepath.Join(o.dataDir, collector.LogFile)
	if _, err := os.Stat(logPath); errors.Is(err, os.ErrNotExist) {
		o.book = records.New(cfg.PurposeIDs(), keepLines)
	} else {
		// Read-only: the collector may be running and hold the store.
		vault, err := private.Open(filepath.Join(o.dataDir, private.Dir), private.Options{ReadOnly: true})
		if err != nil {
			return nil, err
		}
		defer vault.Close()
		if o.book, err = records.Read(ledger.FileSource(logPath), logPath, pub, vault, cfg.PurposeIDs(), keepLines); err != nil {
			return nil, err
		}
	}
	if o.manifest, err = textarchive.ReadManifest(filepath.Join(cfg.Dir, "archive")); err != nil {
		return nil, err
	}
	return o, nil
}

// person finds a number as typed (normalised like the form does).
func (o *owner) person(number string) (*records.Person, error) {
	e164, err := phone.Parse(number, phone.DefaultRegion)
	if err != nil {
		return nil, usageError("%q: %v", number, err)
	}
	p := o.book.Person(e164)
	if p == nil {
		return nil, fmt.Errorf("no records for %s in %s", e164, filepath.Join(o.dataDir, collector.LogFile))
	}
	return p, nil
}

// siteURLs returns, per language, the absolute URL of the page with layout.
func siteURLs(cfg *config.Config, layout string) (map[string]string, error) {
	urls, err := generator.PageURLs(cfg)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for l, m := range urls {
		if m[layout] != "" {
			out[l] = cfg.SiteURL(m[layout])
		}
	}
	return out, nil
}

// dirExists reports whether path is a folder.
func dirExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
