package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
	paths    config.Paths
	book     *records.Book
	manifest *textarchive.Manifest
}

// openRecords loads the config and reads DATA/decisions.jsonl, checked
// against DATA/signing.pub, and the manifest of site.archive, which must
// exist: without it no consent would show as needing renewal.
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
	o := &owner{cfg: cfg, paths: cfg.Paths(data)}
	if logPath != "" {
		st, err := os.Stat(logPath)
		if err != nil {
			return nil, &hintError{err, "--log names a copy of the collector's decisions.jsonl, e.g. from: rsync -a root@server:/var/lib/chatconsent/decisions.jsonl root@server:/var/lib/chatconsent/signing.pub root@server:/var/lib/chatconsent/private log-copy/"}
		}
		if st.IsDir() {
			logPath = filepath.Join(logPath, filepath.Base(o.paths.Log))
		}
		pubPath := filepath.Join(filepath.Dir(logPath), config.SigningPublicKeyFile)
		pub, err := ledger.ReadPublicKey(pubPath)
		if err != nil {
			return nil, &hintError{err, "copy the collector's signing.pub beside the copy of its log (" + pubPath + ")"}
		}
		// A version-2 log names nobody: the numbers are in the private
		// store, which must be copied beside the log (DIR/private).
		var opener records.Opener
		if vdir := filepath.Join(filepath.Dir(logPath), filepath.Base(o.paths.Private)); dirExists(vdir) {
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
		if o.manifest, err = textarchive.Open(o.paths.Archive); err != nil {
			return nil, err
		}
		return o, nil
	}
	pub, err := ledger.ReadPublicKey(o.paths.SigningPublicKey)
	if err != nil {
		return nil, &hintError{err, "give the collector's data folder with --data DIR (it holds signing.pub and decisions.jsonl), or for invite --renew a copy of its log with --log FILE"}
	}
	if _, err := os.Stat(o.paths.Log); errors.Is(err, os.ErrNotExist) {
		o.book = records.New(cfg.PurposeIDs(), keepLines)
	} else {
		// Read-only: the collector may be running and hold the store.
		vault, err := private.Open(o.paths.Private, private.Options{ReadOnly: true})
		if err != nil {
			return nil, err
		}
		defer vault.Close()
		if o.book, err = records.Read(ledger.FileSource(o.paths.Log), o.paths.Log, pub, vault, cfg.PurposeIDs(), keepLines); err != nil {
			return nil, err
		}
	}
	if o.manifest, err = textarchive.Open(o.paths.Archive); err != nil {
		return nil, &hintError{err, "run chatconsent build --config " + cfgPath + " first, or point site.archive at the folder your builds wrote"}
	}
	return o, nil
}

// person finds a number as typed (normalised like the form does), or a
// record id (all 32 digits, or the first 6 or more, as list and status
// print them): the way to an erased person, whom no number finds. Digits
// that can be a number are a number first. forExport says, for a number
// that nothing is held of, what that means for an access request.
func (o *owner) person(arg string, forExport bool) (*records.Person, error) {
	id, isID := records.NormalizeRecordID(arg)
	if isID && (len(id) == 32 || strings.ContainsAny(id, "abcdef")) {
		p, _, err := o.book.PersonByRecord(id)
		if err != nil {
			return nil, fmt.Errorf("%w in %s", err, o.paths.Log)
		}
		return p, nil
	}
	e164, perr := phone.Parse(arg, phone.DefaultRegion)
	if perr == nil {
		if p := o.book.Person(e164); p != nil {
			return p, nil
		}
	}
	if isID { // digits only: perhaps the start of a record id
		if p, _, err := o.book.PersonByRecord(id); err == nil {
			return p, nil
		}
	}
	if perr != nil {
		return nil, usageError("%q: %v", arg, perr)
	}
	hint := "the log holds no numbers, only salted commitments that cannot be tested against one, and the private store opens none with " + e164 + ": it was never recorded, or its personal data were erased. An erased person's events are listed by chatconsent list as \"erased on DATE\"; chatconsent status RECORD-ID shows them (the record number is on the person's receipt)"
	if forExport {
		hint = "for an access request (GDPR Art. 15) about " + e164 + " this is the answer: no personal data linked to this number are held. " + hint + ", and chatconsent export RECORD-ID gives what is left of them"
	}
	return nil, &hintError{fmt.Errorf("no records for %s in %s", e164, o.paths.Log), hint}
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
