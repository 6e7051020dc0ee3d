package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"time"

	"github.com/chatconsent/chatconsent/collector"
	"github.com/chatconsent/chatconsent/collector/console"
	"github.com/chatconsent/chatconsent/collector/owners"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/records"
)

// runOwner manages who may sign in to the owner console
// (PUBLIC_URL/owner/): owner add NAME, owner list, owner remove NAME.
func runOwner(ctx context.Context, args []string, stdout, stderr io.Writer) error {
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
	case "add", "remove":
		by := ""
		if u, err := user.Current(); err == nil {
			by = u.Username
		}
		if !collector.ValidOwnerName(by) {
			by = "cli"
		}
		name := fs.Arg(0)
		if sub == "add" && !owners.ValidName(name) {
			return usageError("owner add: %v: %q", owners.ErrBadOwnerName, name)
		}
		res, err := changeOwner(ctx, cfg, paths, collector.OwnerChange{Action: sub, Name: name, By: by}, stderr)
		switch {
		case errors.Is(err, owners.ErrOwnerExists):
			return &hintError{err, "to give them a new passkey, remove them first: chatconsent owner remove " + name}
		case errors.Is(err, owners.ErrNoSuchOwner):
			return &hintError{err, "chatconsent owner list names the owners"}
		case err != nil:
			return err
		}
		if sub == "remove" {
			fmt.Fprintf(stdout, "owner %s removed (record %s); their passkeys no longer sign in and their sessions end at once\n", name, res.ID)
			return nil
		}
		_, origin, err := console.RelyingParty(cfg.Collector.PublicURL)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "owner %s added (record %s); open this link on their phone within 15 minutes to create the passkey (it works once):\n%s%senrol?t=%s\n", name, res.ID, origin, console.Prefix, res.Secret)
	case "list":
		list, err := store.Owners()
		if err != nil {
			return err
		}
		for _, o := range list {
			state := fmt.Sprintf("%d passkey(s)", len(o.Credentials))
			if len(o.Credentials) == 0 {
				state = "no passkey yet"
				if o.Enrolment != nil && time.Now().After(o.Enrolment.Expires) {
					state += " (enrolment link expired: owner add again)"
				}
			}
			fmt.Fprintf(stdout, "%s\tadded %s\t%s\n", o.Name, o.Added.In(records.Berlin()).Format("2006-01-02 15:04"), state)
		}
		fmt.Fprintf(stdout, "%s\n", count(uint64(len(list)), "owner", "owners"))
	}
	return nil
}

// changeOwner asks the running collector of paths for ch through its
// owner socket, or, when none runs, opens it in this process: the change
// is a signed record in the log, which has one writer.
func changeOwner(ctx context.Context, cfg *config.Config, paths config.Paths, ch collector.OwnerChange, stderr io.Writer) (*collector.OwnerChanged, error) {
	c, err := collector.DialOwner(paths.Data)
	if err == nil {
		defer c.Close()
		return c.ChangeOwner(ctx, ch)
	}
	if !errors.Is(err, collector.ErrNoCollector) {
		return nil, err
	}
	srv, err := openHere("owner "+ch.Action, cfg, paths, stderr)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	return srv.ChangeOwner(ctx, ch)
}
