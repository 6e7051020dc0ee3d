// Command chatconsent builds a site's consent pages, collects and signs
// decisions, and verifies the proof. See README.md, or run
// "chatconsent help".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `chatconsent: provable WhatsApp consent for small businesses (GDPR Art. 7(1))

Usage:
  chatconsent serve   [--config FILE] [--addr HOST:PORT|PORT] [--data DIR]
        build the site and run it with the collector, for a local trial
  chatconsent build   [--config FILE] [--out DIR]
        render content/ through the theme into static files (default public/)
  chatconsent collect [--config FILE] [--addr HOST:PORT] [--data DIR]
        run the collector that records decisions
  chatconsent verify  [--key PUB] LOG [RECEIPT.pdf | LOG-COPY]...
        check a decisions log: signatures, hash chain, JSON
  chatconsent verify  [--key PUB] [--checkpoint-key VKEY] [--older CHECKPOINT]... [--witness VKEY]... [--quorum N] LOG-FOLDER|URL
        check a transparency log (the data folder, a mirror, or PUBLIC_URL/log/): checkpoint,
        witnesses, every entry's signature, every tile, and that it extends older checkpoints
  chatconsent mirror  [--config FILE] [--data DIR] [--from FOLDER|URL] DIR
        copy the transparency log to DIR (static host, second machine) and verify the copy
  chatconsent verify  RECEIPT.pdf [--key PUB] [--log FILE] [--config FILE]
        check a receipt: its attached record's signature, that the printed
        text matches the record, and (--log) that the record is in the log
  chatconsent keygen  [--config FILE] [--data DIR] [--invite]
        create the Ed25519 signing key (or with --invite the invite key) in the data directory
  chatconsent invite  [--config FILE] [--data DIR] --phone NUMBER [--name NAME] [--lang de|en] [--qr FILE.png|-]
  chatconsent invite  [--config FILE] [--data DIR] --renew [--log COPY]
        print a personal consent link and a WhatsApp click-to-chat link (--qr: also as a QR code);
        --renew: for everyone whose consent needs renewal (--log: from a copy of the server's log)
  chatconsent status  [--config FILE] [--data DIR] NUMBER|RECORD-ID
        the state of each purpose for a number (or an erased person, by record id), and its events
  chatconsent list    [--config FILE] [--data DIR] [--since DATE] [--format table|csv|csv-excel|json]
        all decisions and withdrawals
  chatconsent export  [--config FILE] [--data DIR] [--pdf FILE [--lang LANG]] NUMBER|RECORD-ID
        everything about a number (or record id) as JSON (GDPR Art. 15), with Kantara consent receipts
  chatconsent withdraw NUMBER|RECORD-ID (--purpose ID... | --all) --via phone|whatsapp|email|letter|in-person
                      [--note TEXT] [--by OWNER] [--config FILE] [--data DIR]
        record a withdrawal that reached you by phone, WhatsApp, e-mail, letter or in person
  chatconsent erase   NUMBER [--reason request|retention|withdrawn|objection|unlawful|legal|child]
                      [--by OWNER] [--config FILE] [--data DIR]
        erase a person's personal data (GDPR Art. 17): the signed records stay, whose they were goes
  chatconsent receipt resend ID [--config FILE] [--data DIR]
        send a receipt again with a new link (ID: the Vorgangsnummer), to the person's e-mail and to you
  chatconsent migrate [--config FILE] [--data DIR]
        move a data folder from log format 1 (names and numbers in clear) to format 2, once,
        with the collector stopped; the old lines keep verifying, erase then works for everyone
  chatconsent owner   add NAME | list | remove NAME [--config FILE] [--data DIR]
        who may sign in to the owner console (PUBLIC_URL/owner/) with a passkey; add prints a
        one-time enrolment link (15 minutes)
  chatconsent retention [--apply] [--config FILE] [--data DIR]
        who is due for erasure under retention.proof_years, and when; --apply erases them now
  chatconsent text    VERSION [--config FILE] [--data DIR]
        print the exact archived text of a text version, hash checked
  chatconsent init    DIR
        create a new site in DIR: config.toml and content/ to edit
  chatconsent doctor  [--config FILE] [--data DIR]
        check a deployment and say what to fix
  chatconsent version
        print the version and VCS revision of this binary
`

// exitError carries an exit code other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

func main() { os.Exit(mainCode()) }

// mainCode runs the command line of this process and returns its exit code:
// 0, 1 for an error, 2 for a usage error. The script tests
// (testdata/script) run it as the chatconsent command.
func mainCode() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) { // "COMMAND -h": usage printed, as asked
		return 0
	}
	if err != nil {
		code := 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		fmt.Fprintf(os.Stderr, "chatconsent: error: %v\n", err)
		var h interface{ Hint() string }
		if errors.As(err, &h) && h.Hint() != "" {
			fmt.Fprintf(os.Stderr, "chatconsent: hint: %s\n", h.Hint())
		}
		return code
	}
	return 0
}

// run is the whole CLI; main only turns its error into an exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "build":
		return runBuild(rest, stdout, stderr)
	case "collect":
		return runCollect(ctx, rest, stdout, stderr)
	case "verify":
		return runVerify(rest, stdout, stderr)
	case "mirror":
		return runMirror(rest, stdout, stderr)
	case "keygen":
		return runKeygen(rest, stdout, stderr)
	case "invite":
		return runInvite(rest, stdout, stderr)
	case "status":
		return runStatus(rest, stdout, stderr)
	case "list":
		return runList(rest, stdout, stderr)
	case "export":
		return runExport(rest, stdout, stderr)
	case "withdraw":
		return runWithdraw(ctx, rest, stdout, stderr)
	case "erase":
		return runErase(ctx, rest, stdout, stderr)
	case "receipt":
		return runReceipt(ctx, rest, stdout, stderr)
	case "migrate":
		return runMigrate(rest, stdout, stderr)
	case "owner":
		return runOwner(ctx, rest, stdout, stderr)
	case "retention":
		return runRetention(ctx, rest, stdout, stderr)
	case "text":
		return runText(rest, stdout, stderr)
	case "init":
		return runInit(rest, stdout, stderr)
	case "doctor":
		return runDoctor(ctx, rest, stdout, stderr)
	case "version", "--version":
		return runVersion(rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError("unknown command %q", cmd)
	}
}
