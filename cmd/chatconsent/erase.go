package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/chatconsent/chatconsent/collector"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/records"
)

// runErase erases a data subject's personal data (GDPR Art. 17): through
// the running collector's owner socket, or, when no collector runs on the
// data folder, by opening it in this process.
func runErase(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("erase", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := fs.String("data", "", "data `folder` (default: collector.data_dir from the config)")
	by := fs.String("by", "", "the owner who erases (default: your login name); signed into the erasure record")
	reason := fs.String("reason", "request", "why, in one word: "+strings.Join(ledger.ErasureReasons, "|")+" (the log takes no free text: it could name the person)")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("erase: want one NUMBER")
	}
	if err := ownerName("erase", by); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	dir := *data
	if dir == "" {
		dir = cfg.Collector.DataDir
	}
	req := collector.OwnerErasure{Phone: fs.Arg(0), Reason: *reason, By: *by}
	res, _, err := ownerOp(ctx, "erase", cfg, cfg.Paths(dir), stderr, req, (*collector.OwnerClient).Erase, (*collector.Server).EraseNumber)
	switch {
	case errors.Is(err, collector.ErrBadNumber):
		return &exitError{2, fmt.Errorf("erase: %w; nothing changed", err)}
	case errors.Is(err, collector.ErrBadReason):
		return &exitError{2, fmt.Errorf("erase: --reason %q: want one of %s; nothing changed", *reason, strings.Join(ledger.ErasureReasons, ", "))}
	case errors.Is(err, collector.ErrNothingToErase):
		return &hintError{fmt.Errorf("erase: %s: %w; nothing changed", fs.Arg(0), err), "check the number with: chatconsent list (erased people show as \"erased on DATE\")"}
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "erased %s on %s: the openings of %s are destroyed, %s deleted\n", res.Phone,
		res.Time.In(records.Berlin()).Format("2006-01-02 15:04"), count(uint64(len(res.Records)), "record"), count(uint64(res.Files), "receipt or mail file", "receipt and mail files"))
	fmt.Fprintf(stdout, "erasure record %s (signed, in the log: record ids only)\n", res.ID)
	fmt.Fprintf(stdout, "the records stay in the log as commitments; the person's own receipts still prove their decisions\n")
	fmt.Fprintf(stdout, "backups made before now still hold the erased data: see the README, \"Backups and erasure\"\n")
	return nil
}
