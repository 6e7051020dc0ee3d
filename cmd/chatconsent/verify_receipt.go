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
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/collector/translog"
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

// verifyReceipt checks a PDF receipt: its inclusion proof in the
// transparency log (with the checkpoint verifier key: --key VKEY,
// --checkpoint-key, or checkpoint.vkey beside the log or in the data
// folder), its attached record's signature, that the printed text matches
// the record, and with logPath that the record is in the log at its place.
// Given only a checkpoint key (and no config), it checks the proof alone:
// what a data subject can do offline with the receipt and the published
// key.
func verifyReceipt(file, keyPath, logPath, cfgPath string, tf *tlogFlags, stdout io.Writer) error {
	vkey := *tf.vkey
	if keyPath != "" {
		if _, err := translog.ParseVerifier(keyPath); err == nil {
			vkey, keyPath = keyPath, ""
		}
	}
	proofOnly := vkey != "" && keyPath == ""
	// With the collector's public key, the record's own signature is
	// checked first: a receipt of another collector is named as such, not
	// as a proof that fails against this collector's checkpoint key.
	checked := false
	if proofOnly {
		var err error
		if checked, err = verifyInclusion(file, vkey, logPath, cfgPath, tf, stdout); err != nil {
			return err
		}
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		if proofOnly && checked {
			fmt.Fprintf(stdout, "signature and printed text: not checked (they need the collector's public key and the site's config.toml; give --config FILE)\n")
			return nil
		}
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
		if proofOnly && checked {
			fmt.Fprintf(stdout, "signature and printed text: not checked (no public key: %v)\n", err)
			return nil
		}
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
	if !proofOnly {
		if _, err := verifyInclusion(file, vkey, logPath, cfgPath, tf, stdout); err != nil {
			return err
		}
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

// verifyInclusion checks the receipt's inclusion proof, if a checkpoint
// key is given (vkey) or found (checkpoint.vkey beside the log, in the
// data folder), and prints what it shows. A receipt without a proof is an
// error only when a key was given.
func verifyInclusion(file, vkey, logPath, cfgPath string, tf *tlogFlags, stdout io.Writer) (bool, error) {
	pdf, err := os.ReadFile(file)
	if err != nil {
		return false, fmt.Errorf("verify: %w", err)
	}
	loc := "."
	if logPath != "" {
		loc = filepath.Dir(logPath)
	}
	v, err := checkpointVerifier(vkey, loc, cfgPath)
	if err != nil {
		if vkey != "" {
			return false, err
		}
		if _, perr := receipt.AttachmentNamed(pdf, translog.ProofAttachment); perr == nil {
			fmt.Fprintf(stdout, "inclusion proof: not checked (no checkpoint verifier key; give --key VKEY)\n")
		}
		return false, nil
	}
	lc := proof.LogCheck{Key: v, Quorum: *tf.quorum}
	for _, w := range tf.witnesses {
		wv, err := translog.ParseWitnessKey(w)
		if err != nil {
			return false, err
		}
		lc.Witnesses = append(lc.Witnesses, wv)
	}
	if lc.Quorum < 0 {
		lc.Quorum = len(lc.Witnesses)
	}
	if lc.Quorum > len(lc.Witnesses) {
		return false, usageError("verify: --quorum %d but %d --witness keys given", lc.Quorum, len(lc.Witnesses))
	}
	inc, err := proof.CheckInclusion(pdf, lc)
	if errors.Is(err, proof.ErrNoProof) && vkey == "" {
		return false, nil
	}
	if err != nil {
		h := "the receipt's record is not in the log signed by this key: another log, a changed receipt, or a checkpoint the log never published"
		if errors.Is(err, proof.ErrNoProof) {
			h = "receipts of a version-1 log, and those made before a checkpoint covered their record, carry no proof"
		}
		return false, &hintError{fmt.Errorf("verify %s: %w", file, err), h}
	}
	cp := inc.Checkpoint
	fmt.Fprintf(stdout, "inclusion proof: OK, record %s (seq %d) is entry %d of the log %s (checkpoint of %s, root %x)\n",
		inc.ID, inc.Seq, inc.Seq-1, cp.Origin, count(cp.Size, "entry", "entries"), cp.Hash[:8])
	if len(cp.Cosigners) > 0 {
		fmt.Fprintf(stdout, "cosigned by: %s\n", strings.Join(cp.Cosigners, ", "))
	}
	if err := verifyReceiptStamp(file, pdf, inc, cfgPath, tf, stdout); err != nil {
		return false, err
	}
	return true, nil
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

// verifyReceiptStamp checks the receipt's RFC 3161 token over its proof's
// checkpoint, if it has one, against the time-stamp roots
// (--timestamp-roots or log.timestamp_roots); a missing token is an error
// only when --timestamp-roots was given.
func verifyReceiptStamp(file string, pdf []byte, inc *proof.Inclusion, cfgPath string, tf *tlogFlags, stdout io.Writer) error {
	roots, from, explicit, err := timestampRoots(tf, cfgPath)
	if err != nil {
		return err
	}
	if roots == nil {
		if _, err := receipt.AttachmentNamed(pdf, translog.TimestampAttachment); err == nil {
			fmt.Fprintf(stdout, "time-stamp token: not checked (no time-stamp roots; give --timestamp-roots PEM)\n")
		}
		return nil
	}
	st, err := proof.CheckTimestamp(pdf, inc, roots)
	if errors.Is(err, proof.ErrNoTimestamp) && !explicit {
		return nil
	}
	if err != nil {
		return &hintError{fmt.Errorf("verify %s: %w", file, err),
			"the token must be by an authority under the roots given, over exactly the checkpoint in the receipt's inclusion proof"}
	}
	printStamp(stdout, "", st, from)
	return nil
}
