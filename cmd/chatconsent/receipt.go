package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/chatconsent/chatconsent/collector"
	"github.com/chatconsent/chatconsent/internal/records"
)

// runReceipt runs "chatconsent receipt SUBCOMMAND".
func runReceipt(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("receipt: want a subcommand: receipt resend ID")
	}
	switch args[0] {
	case "resend":
		return runReceiptResend(ctx, args[1:], stdout, stderr)
	default:
		return usageError("receipt: unknown subcommand %q: want receipt resend ID", args[0])
	}
}

// runReceiptResend sends a receipt again with a fresh link (see
// collector.Server.ResendReceipt): through the running collector's owner
// socket, or, when no collector runs on the data folder, by opening it in
// this process.
func runReceiptResend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("receipt resend", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := dataFlag(fs)
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("receipt resend: want one ID (the Vorgangsnummer of the thank-you page, the receipt or its mail)")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	paths := cfg.Paths(*data)
	req := collector.OwnerResend{ID: fs.Arg(0)}
	res, running, err := ownerOp(ctx, "receipt resend", cfg, paths, stderr, req, (*collector.OwnerClient).ResendReceipt, (*collector.Server).ResendReceipt)
	switch {
	case errors.Is(err, collector.ErrBadRecordID):
		return &exitError{2, fmt.Errorf("receipt resend: %w; nothing sent", err)}
	case errors.Is(err, collector.ErrNoSuchRecord):
		return &hintError{fmt.Errorf("receipt resend: %w; nothing sent", err), "check the number with: chatconsent status PHONE (it lists each decision's record id) or chatconsent list"}
	case errors.Is(err, collector.ErrErased), errors.Is(err, collector.ErrNoReceipt):
		return fmt.Errorf("receipt resend: %w", err)
	case err != nil:
		return err
	}
	what := "decision"
	if res.Type != "decision" {
		what = res.Type
	}
	when := res.Time.In(records.Berlin()).Format("2006-01-02 15:04")
	until := res.Expires.In(records.Berlin()).Format("2006-01-02 15:04")
	if res.MailOff {
		return &hintError{
			fmt.Errorf("receipt resend: no mail is configured ([smtp] in %s): nothing sent", *cfgPath),
			fmt.Sprintf("give the person the receipt yourself: the file %s, or this new link (valid until %s, Berlin time):\n  %s", res.Receipt, until, res.URL),
		}
	}
	fmt.Fprintf(stdout, "receipt of %s %s (%s, %s) sent again (resend %d):\n", what, res.ID, res.Decision, when, res.Resend)
	if res.SubjectTo != "" {
		fmt.Fprintf(stdout, "  to the person: %s\n", res.SubjectTo)
	} else {
		fmt.Fprintf(stdout, "  to the person: no e-mail address is known for this record: give them the link or the file another way (WhatsApp, in person)\n")
	}
	fmt.Fprintf(stdout, "  your copy: %s\n", res.OwnerTo)
	queued := "the collector sends it now"
	if !running {
		queued = "no collector runs: it goes out at the latest when the collector starts"
	}
	fmt.Fprintf(stdout, "queued in %s (%s)\n", paths.Outbox, queued)
	fmt.Fprintf(stdout, "new link, valid until %s (Berlin time); older links stay as they were:\n  %s\n", until, res.URL)
	fmt.Fprintf(stdout, "the receipt: %s\n", res.Receipt)
	return nil
}
