package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/chatconsent/chatconsent/collector/ledger"
)

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	keyPath := fs.String("key", "", "public key `file` (default: signing.pub beside the log, or in the config's data folder)")
	logPath := fs.String("log", "", "for a receipt: the decisions log `file` that must hold its record")
	cfgPath := fs.String("config", "config.toml", "for a receipt: the site configuration `file` it was made with")
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
	if len(files) != 1 {
		return usageError("verify: want one FILE (a decisions log or a PDF receipt)")
	}
	file := files[0]
	if isPDF(file) {
		return verifyReceipt(file, *keyPath, *logPath, *cfgPath, stdout)
	}
	if *logPath != "" {
		return usageError("verify: --log is for checking a PDF receipt against a log; %s is not a PDF", file)
	}
	if *keyPath == "" {
		*keyPath = filepath.Join(filepath.Dir(file), ledger.PublicKeyFile)
	}
	pub, err := ledger.ReadPublicKey(*keyPath)
	if err != nil {
		return &hintError{err, "give the collector's public key with --key FILE"}
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	head, err := ledger.Verify(f, pub, nil)
	if err != nil {
		return fmt.Errorf("verify %s: %w", file, err)
	}
	fmt.Fprintf(stdout, "%s: OK, %s, key SHA256:%s\n", file, count(head.Count, "record"), ledger.Fingerprint(pub))
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
