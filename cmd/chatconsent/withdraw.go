package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chatconsent/chatconsent/collector"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/config"
)

// stringsFlag is a flag that may be given more than once.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// runWithdraw records a withdrawal that reached the owner outside the
// web pages (GDPR Art. 7(3)): through the running collector's owner
// socket, or, when no collector runs on the data folder, by opening it
// in this process.
func runWithdraw(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("withdraw", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := dataFlag(fs)
	var purposes stringsFlag
	fs.Var(&purposes, "purpose", "purpose `id` to withdraw (repeat for more)")
	all := fs.Bool("all", false, "withdraw every purpose in force")
	via := fs.String("via", "", "how the withdrawal reached you: "+strings.Join(collector.WithdrawalChannels, "|"))
	note := fs.String("note", "", "a note kept with the withdrawal (e.g. the time of the call)")
	by := fs.String("by", "", "the owner who records it (default: your login name)")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("withdraw: want one NUMBER")
	}
	switch {
	case *via == "":
		return usageError("withdraw: say how the withdrawal reached you: --via %s", strings.Join(collector.WithdrawalChannels, "|"))
	case !slices.Contains(collector.WithdrawalChannels, *via):
		return usageError("withdraw: --via %q: want one of %s", *via, strings.Join(collector.WithdrawalChannels, ", "))
	case *all && len(purposes) > 0:
		return usageError("withdraw: give --purpose ID or --all, not both")
	}
	if err := ownerName("withdraw", by); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	paths := cfg.Paths(*data)
	w := collector.OwnerWithdrawal{Phone: fs.Arg(0), Purposes: purposes, All: *all, Via: *via, Note: *note, By: *by}

	res, _, err := ownerOp(ctx, "withdraw", cfg, paths, stderr, w, (*collector.OwnerClient).Withdraw, (*collector.Server).RecordWithdrawal)
	if err != nil {
		return withdrawError(err, fs.Arg(0))
	}
	who := res.Phone
	if who == "erased" {
		who = "an erased person (decision " + res.Ref + ")"
	}
	fmt.Fprintf(stdout, "withdrawn for %s: %s (via %s, recorded by %s)\n", who, strings.Join(res.Withdrawn, ", "), w.Via, w.By)
	if len(res.StillGranted) > 0 {
		fmt.Fprintf(stdout, "still granted: %s\n", strings.Join(res.StillGranted, ", "))
	} else {
		fmt.Fprintf(stdout, "still granted: nothing\n")
	}
	fmt.Fprintf(stdout, "record %s, receipt %s\n", res.ID, res.Receipt)
	switch {
	case res.MailOff:
		fmt.Fprintf(stdout, "no mail is configured ([smtp]): give the person the receipt another way\n")
	case res.Mailed:
		fmt.Fprintf(stdout, "the receipt is queued for the person's e-mail address and your copy (%s)\n", paths.Outbox)
	default:
		fmt.Fprintf(stdout, "no e-mail address is known for this number: give the person the receipt another way (your copy is queued)\n")
	}
	return nil
}

// ownerOp runs an owner operation (cmd names it in errors) on the
// collector of paths: through its owner socket while it runs (remote),
// else in this process (here, on the collector openHere opens and closes
// again). running reports which.
func ownerOp[Req, Res any](ctx context.Context, cmd string, cfg *config.Config, paths config.Paths, stderr io.Writer, req Req,
	remote func(*collector.OwnerClient, context.Context, Req) (*Res, error),
	here func(*collector.Server, context.Context, Req) (*Res, error),
) (res *Res, running bool, err error) {
	c, err := collector.DialOwner(paths.Data)
	switch {
	case err == nil:
		defer c.Close()
		res, err = remote(c, ctx, req)
		return res, true, err
	case !errors.Is(err, collector.ErrNoCollector):
		return nil, false, err
	}
	srv, err := openHere(cmd, cfg, paths, stderr)
	if err != nil {
		return nil, false, err
	}
	defer srv.Close()
	res, err = here(srv, ctx, req)
	return res, false, err
}

// openHere opens the collector of paths in this process for an owner
// command (cmd names it in errors) when no collector runs on it. Nothing
// is created that is not there: no key, no log. A collector that holds the
// log without answering on its owner socket (an older version) is named.
func openHere(cmd string, cfg *config.Config, paths config.Paths, stderr io.Writer) (*collector.Server, error) {
	for _, f := range []string{paths.SigningKey, paths.Log} {
		if _, err := os.Stat(f); err != nil {
			return nil, &hintError{fmt.Errorf("%s: %w", cmd, err), "give the collector's data folder with --data DIR (it holds signing.key and decisions.jsonl)"}
		}
	}
	// The consent pages' links, as collect has them: a receipt or mail
	// made here links them (a site without content/ here gets none).
	consent, _ := siteURLs(cfg, "consent")
	srv, _, err := collector.Open(cfg, collector.Setup{
		DataDir: paths.Data, ConsentURLs: consent, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if errors.Is(err, ledger.ErrLocked) {
		return nil, &hintError{fmt.Errorf("%s: a collector runs on %s but does not answer on %s", cmd, paths.Data, filepath.Join(paths.Data, collector.OwnerSocket)),
			"restart it with this version of chatconsent (systemctl restart chatconsent), or stop it, run this again and start it"}
	}
	return srv, notMigrated(err, filepath.Join(cfg.Dir, "config.toml"), paths.Data)
}

// withdrawError turns a refusal into the CLI's message, hint and exit code:
// 2 for what was typed wrong, 1 for what the records say.
func withdrawError(err error, number string) error {
	var we *collector.WithdrawalError
	if !errors.As(err, &we) {
		return err
	}
	inForce := "nothing"
	if len(we.InForce) > 0 {
		inForce = strings.Join(we.InForce, ", ")
	}
	switch {
	case errors.Is(err, collector.ErrNoSuchNumber):
		return &hintError{fmt.Errorf("withdraw: no decision is recorded for %s; nothing written", we.Detail), "check the number with: chatconsent list"}
	case errors.Is(err, collector.ErrNothingInForce):
		return &hintError{fmt.Errorf("withdraw: no consent is in force for %s; nothing written", we.Detail), "see its history with: chatconsent status " + number}
	case errors.Is(err, collector.ErrNotInForce):
		return &hintError{fmt.Errorf("withdraw: consent to %q is not in force; nothing written", we.Detail), "in force: " + inForce}
	case errors.Is(err, collector.ErrPurposeMissing) && we.Detail == "":
		return &exitError{2, &hintError{errors.New("withdraw: say what to withdraw: --purpose ID (repeatable) or --all; nothing written"), "in force for this number: " + inForce}}
	case errors.Is(err, collector.ErrUnknownPurpose):
		return &exitError{2, &hintError{fmt.Errorf("withdraw: --purpose %q: no such purpose; nothing written", we.Detail), "in force for this number: " + inForce}}
	}
	return &exitError{2, fmt.Errorf("withdraw: %w; nothing written", err)}
}

// ownerName fills an empty --by with the login name and checks it
// (collector.ValidOwnerName): the owner a signed withdrawal or erasure
// names. cmd prefixes the usage error.
func ownerName(cmd string, by *string) error {
	if *by == "" {
		if u, err := user.Current(); err == nil {
			*by = u.Username
		}
	}
	if !collector.ValidOwnerName(*by) {
		return usageError("%s: --by %q: 1 to 64 letters, digits, . _ @ - (who records this)", cmd, *by)
	}
	return nil
}
