package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/generator"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/proof"
)

// isPDF reports whether file is a PDF: by its name, or by its first bytes.
func isPDF(file string) bool {
	if strings.EqualFold(filepath.Ext(file), ".pdf") {
		return true
	}
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 5)
	n, _ := io.ReadFull(f, head)
	return bytes.Equal(head[:n], []byte("%PDF-"))
}

// verifyReceipt checks a PDF receipt: its attached record's signature,
// that the printed text matches the record, and with logPath that the
// record is in the log at its place.
func verifyReceipt(file, keyPath, logPath, cfgPath string, stdout io.Writer) error {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return &hintError{err, "verify makes the receipt again from its record and needs the site's config.toml (and template) as they were: give it with --config FILE"}
	}
	if logPath != "" {
		if _, err := os.Stat(logPath); err != nil {
			return fmt.Errorf("verify: --log: %w", err)
		}
	}
	if keyPath == "" {
		keyPath = defaultKey(logPath, cfg)
	}
	pub, err := ledger.ReadPublicKey(keyPath)
	if err != nil {
		return &hintError{err, "give the collector's public key with --key FILE"}
	}
	pdf, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	stamper, err := proof.NewStamper(cfg)
	if err != nil {
		return err
	}
	urls, err := consentURLs(cfg)
	if err != nil {
		return err
	}
	check := proof.ReceiptCheck{Config: cfg, Stamper: stamper, ConsentURLs: urls, Key: pub}
	if logPath != "" {
		f, err := os.Open(logPath)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		defer f.Close()
		check.Log = f
	}
	res, err := proof.VerifyReceipt(pdf, check)
	if err != nil {
		var h string
		switch {
		case errors.Is(err, ledger.ErrWrongKey):
			h = "the receipt was signed by another collector's key; check --key"
		case errors.Is(err, proof.ErrNotInLog):
			h = "the log does not hold this decision: a different log, or lines were removed"
		case strings.HasPrefix(err.Error(), "printed text:"):
			h = "the PDF does not show what its signed record says; the record itself is intact"
		}
		return &hintError{fmt.Errorf("verify %s: %w", file, err), h}
	}
	r := res.Record
	fmt.Fprintf(stdout, "%s: OK\n", file)
	fmt.Fprintf(stdout, "record %s (seq %d): %s, %s\n", r.ID, r.Seq, r.Decision, r.Time.UTC().Format("2006-01-02T15:04:05Z"))
	fmt.Fprintf(stdout, "signature: OK, key SHA256:%s\n", ledger.Fingerprint(pub))
	how := "identical to the receipt made again from it"
	if !res.Identical {
		how = "same content as the receipt made again from it (file written differently)"
	}
	fmt.Fprintf(stdout, "printed text: matches the record (layout %s), %s\n", res.Layout, how)
	if logPath != "" {
		fmt.Fprintf(stdout, "log %s: OK, %s; line %d is this record\n", logPath, count(uint64(res.LogRecords), "record"), r.Seq)
	}
	return nil
}

// consentURLs returns, per language, the consent page links a receipt
// may print: absolute (site.base_url, "collect") and root-relative
// ("serve").
func consentURLs(cfg *config.Config) (map[string][]string, error) {
	urls, err := generator.PageURLs(cfg)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for l, m := range urls {
		if p := m["consent"]; p != "" {
			out[l] = []string{cfg.SiteURL(p), p}
		}
	}
	return out, nil
}
