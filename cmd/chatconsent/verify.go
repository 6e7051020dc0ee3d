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
	keyPath := fs.String("key", "", "public key `file` (default: signing.pub beside the log)")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("verify: want one FILE (a decisions log)")
	}
	file := fs.Arg(0)
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
	fmt.Fprintf(stdout, "%s: OK, %d records, key SHA256:%s\n", file, head.Count, ledger.Fingerprint(pub))
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
