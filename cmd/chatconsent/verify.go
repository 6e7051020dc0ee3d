package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
)

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	keyPath := fs.String("key", "", "public key `file` (default: signing.pub beside the log, or in the config's data folder); for a receipt also the checkpoint verifier key (text or file)")
	logPath := fs.String("log", "", "for a receipt: the decisions log `file` that must hold its record")
	cfgPath := fs.String("config", "config.toml", "the site configuration `file`: for a receipt, the one it was made with; for a log, where to find the key")
	tf := &tlogFlags{
		vkey:   fs.String("checkpoint-key", "", "transparency log: the checkpoint verifier `key` (text or file; default checkpoint.vkey of the data folder)"),
		quorum: fs.Int("quorum", -1, "transparency log: how many of the --witness keys must have cosigned the checkpoint (default: all)"),
	}
	tf.tsRoots = fs.String("timestamp-roots", "", "transparency log: a PEM `file` of the time-stamp authority's root certificates to check the checkpoint's RFC 3161 token against (default: log.timestamp_roots of the config)")
	fs.Var(&tf.older, "older", "transparency log: an older checkpoint `file` the log must extend (repeatable)")
	fs.Var(&tf.witnesses, "witness", "transparency log: a witness's verifier `key` (text or file; repeatable)")
	// Flags may follow the file: chatconsent verify RECEIPT.pdf --log FILE.
	if err := parse(fs, args, -1); err != nil {
		return err
	}
	var files []string
	for fs.NArg() > 0 {
		files = append(files, fs.Arg(0))
		if err := parse(fs, fs.Args()[1:], -1); err != nil {
			return err
		}
	}
	if len(files) == 0 {
		return usageError("verify: want a FILE (a decisions log or a PDF receipt)")
	}
	file := files[0]
	if isTlog(file) {
		if len(files) > 1 {
			return usageError("verify: one transparency log at a time; give older checkpoints with --older FILE")
		}
		return verifyTlog(file, *keyPath, *cfgPath, tf, stdout)
	}
	if isPDF(file) {
		if len(files) > 1 {
			return usageError("verify: one receipt at a time; to check many against the log: chatconsent verify LOG RECEIPT.pdf...")
		}
		return verifyReceipt(file, *keyPath, *logPath, *cfgPath, tf, stdout)
	}
	if *logPath != "" {
		return usageError("verify: --log is for checking a PDF receipt against a log; %s is not a PDF", file)
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	if *keyPath == "" {
		var cfg *config.Config
		if c, err := config.Load(*cfgPath); err == nil {
			cfg = c
		}
		*keyPath = defaultKey(file, cfg)
	}
	pub, err := ledger.ReadPublicKey(*keyPath)
	if err != nil {
		return &hintError{err, "give the collector's public key with --key FILE"}
	}
	lines, err := ledger.VerifyLines(f, pub)
	if err != nil {
		return fmt.Errorf("verify %s: %w", file, err)
	}
	fmt.Fprintf(stdout, "%s: OK, %s, key SHA256:%s\n", file, count(lines.Head.Count, "record"), ledger.Fingerprint(pub))
	if lines.Redacted > 0 {
		fmt.Fprintf(stdout, "%s: %s of format 1 redacted (erased people): attested by their hash only (the next line's prev and their signed re-record)\n", file, count(lines.Redacted, "line"))
	}
	for _, w := range files[1:] {
		if err := checkWitness(lines, w, pub, stdout); err != nil {
			h := ""
			if errors.Is(err, ledger.ErrMissing) || errors.Is(err, ledger.ErrReplaced) {
				h = "lines were removed from the end of the log or replaced, or " + file + " is another collector's log"
			}
			return &hintError{err, h}
		}
	}
	return nil
}

// defaultKey returns the public key file verify uses without --key:
// signing.pub beside the log, else in the data folder of cfg (if any),
// else the first of these, for the error to name.
func defaultKey(logPath string, cfg *config.Config) string {
	var cands []string
	if logPath != "" {
		cands = append(cands, filepath.Join(filepath.Dir(logPath), config.SigningPublicKeyFile))
	}
	if cfg != nil {
		cands = append(cands, cfg.Paths("").SigningPublicKey)
	}
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return cands[0]
}

// checkWitness checks the signed lines kept in file against the log: the
// record attached to a PDF receipt, or every line of a JSONL file (an
// older copy of the log). The log alone cannot show lines dropped from its
// end; these can.
func checkWitness(lines *ledger.Lines, file string, pub ed25519.PublicKey, stdout io.Writer) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	if head, _ := br.Peek(5); bytes.Equal(head, []byte("%PDF-")) {
		// A receipt is read whole (pdfcpu needs it); a receipt is far
		// smaller than this.
		const maxReceipt = 64 << 20
		b, err := io.ReadAll(io.LimitReader(br, maxReceipt+1))
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if len(b) > maxReceipt {
			return fmt.Errorf("witness %s: larger than %d MiB: not a receipt", file, maxReceipt>>20)
		}
		line, err := receipt.Attachment(b)
		if err != nil {
			return fmt.Errorf("witness %s: attached record: %w", file, err)
		}
		rec, err := lines.Witness(line, pub)
		if err != nil {
			return fmt.Errorf("witness %s: %w", file, err)
		}
		fmt.Fprintf(stdout, "%s: record %s is line %d of the log\n", file, rec.ID, rec.Seq)
		return nil
	}
	// A copy of the log.
	n, err := lines.WitnessLog(br, pub)
	var le *ledger.LineError
	switch {
	case errors.As(err, &le):
		return fmt.Errorf("witness %s:%d: %w", file, le.Line, le.Err)
	case err != nil:
		return fmt.Errorf("witness %s: %w", file, err)
	}
	if n == 0 {
		return fmt.Errorf("witness %s: no signed lines in it (want a PDF receipt or a copy of the log)", file)
	}
	fmt.Fprintf(stdout, "%s: all %s are in the log\n", file, count(uint64(n), "line"))
	return nil
}

// hintError adds a "chatconsent: hint:" line to an error.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }
func (e *hintError) Hint() string  { return e.hint }
