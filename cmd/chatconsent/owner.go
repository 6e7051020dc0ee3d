package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/chatconsent/chatconsent/collector/console"
	"github.com/chatconsent/chatconsent/collector/owners"
	"github.com/chatconsent/chatconsent/internal/records"
)

// runOwner manages who may sign in to the owner console
// (PUBLIC_URL/owner/): owner add NAME, owner list, owner remove NAME.
func runOwner(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("owner: want add NAME, list or remove NAME")
	}
	sub, rest := args[0], args[1:]
	fs := newFlags("owner "+sub, stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := dataFlag(fs)
	want := 1
	switch sub {
	case "add", "remove":
	case "list":
		want = 0
	default:
		return usageError("owner: unknown subcommand %q (want add, list or remove)", sub)
	}
	if err := parse(fs, rest, want); err != nil {
		return err
	}
	if fs.NArg() != want {
		return usageError("owner %s: want one NAME", sub)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	paths := cfg.Paths(*data)
	if _, err := os.Stat(paths.Data); err != nil {
		return &hintError{fmt.Errorf("owner %s: %w", sub, err), "give the collector's data folder with --data DIR"}
	}
	store := owners.OpenStore(paths.Owners)
	switch sub {
	case "add":
		_, origin, err := console.RelyingParty(cfg.Collector.PublicURL)
		if err != nil {
			return err
		}
		secret, err := store.Add(fs.Arg(0), time.Now())
		if errors.Is(err, owners.ErrBadOwnerName) {
			return usageError("owner add: %v", err)
		}
		if errors.Is(err, owners.ErrOwnerExists) {
			return &hintError{err, "to give them a new passkey, remove them first: chatconsent owner remove " + fs.Arg(0)}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "owner %s added; open this link on their phone within 15 minutes to create the passkey (it works once):\n%s%senrol?t=%s\n", fs.Arg(0), origin, console.Prefix, secret)
	case "list":
		owners, err := store.Owners()
		if err != nil {
			return err
		}
		for _, o := range owners {
			state := fmt.Sprintf("%d passkey(s)", len(o.Credentials))
			if len(o.Credentials) == 0 {
				state = "no passkey yet"
				if o.Enrolment != nil && time.Now().After(o.Enrolment.Expires) {
					state += " (enrolment link expired: owner add again)"
				}
			}
			fmt.Fprintf(stdout, "%s\tadded %s\t%s\n", o.Name, o.Added.In(records.Berlin()).Format("2006-01-02 15:04"), state)
		}
		fmt.Fprintf(stdout, "%s\n", count(uint64(len(owners)), "owner", "owners"))
	case "remove":
		if err := store.Remove(fs.Arg(0)); err != nil {
			if errors.Is(err, owners.ErrNoSuchOwner) {
				return &hintError{err, "chatconsent owner list names the owners"}
			}
			return err
		}
		fmt.Fprintf(stdout, "owner %s removed; their passkeys no longer sign in and their sessions end at once\n", fs.Arg(0))
	}
	return nil
}
