package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/chatconsent/chatconsent/collector"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/config"
)

// runMigrate moves a data folder from log format 1 to 2 (collector
// stopped): see collector.Migrate and the README, "Old logs".
func runMigrate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := fs.String("data", "", "data `folder` (default: collector.data_dir from the config)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	paths := cfg.Paths(*data)
	for _, f := range []string{paths.SigningKey, paths.Log} {
		if _, err := os.Stat(f); err != nil {
			return &hintError{fmt.Errorf("migrate: %w; nothing changed", err), "give the collector's data folder with --data DIR (it holds signing.key and decisions.jsonl)"}
		}
	}
	if c, err := collector.DialOwner(paths.Data); err == nil {
		c.Close()
		return &hintError{fmt.Errorf("migrate: a collector runs on %s; nothing changed", paths.Data), "stop it (systemctl stop chatconsent), run chatconsent migrate, then start it"}
	}
	priv, err := ledger.ReadPrivateKey(paths.SigningKey)
	if err != nil {
		return fmt.Errorf("migrate: %w; nothing changed", err)
	}
	m, err := collector.Migrate(paths, priv, time.Now(), collector.MigrateOptions{})
	var le *ledger.LineError
	switch {
	case errors.Is(err, ledger.ErrLocked):
		return &hintError{fmt.Errorf("migrate: %s is in use by another process; nothing changed", paths.Log), "stop the collector (systemctl stop chatconsent), run chatconsent migrate, then start it"}
	case errors.Is(err, ledger.ErrMigrated):
		return &hintError{fmt.Errorf("migrate: %s: %w; nothing changed", paths.Log, err), "nothing to do: start the collector"}
	case errors.Is(err, ledger.ErrNothingToMigrate):
		return &hintError{fmt.Errorf("migrate: %s: %w; nothing changed", paths.Log, err), "nothing to do: start the collector"}
	case errors.Is(err, ledger.ErrEmpty):
		return &hintError{fmt.Errorf("migrate: %s: %w; nothing changed", paths.Log, err), "a new collector starts with an empty log in format 2: just start it"}
	case errors.Is(err, ledger.ErrTorn):
		return &hintError{fmt.Errorf("migrate: %s: %w; nothing changed", paths.Log, err), "a crash cut the last line short: start the collector once (it moves the torn line aside, then stops and asks for migrate), and run chatconsent migrate again"}
	case errors.As(err, &le):
		return &hintError{fmt.Errorf("migrate: %s: %w; nothing changed", paths.Log, err), fmt.Sprintf("the log does not verify, so it cannot be migrated: look at line %d (chatconsent verify %s) and restore it from a backup", le.Line, paths.Log)}
	case err != nil:
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(stdout, "migrated %s to format 2: %s of history (%d in format 1, %d with personal data), signed migration record %s\n",
		paths.Log, count(m.History, "line"), m.V1, m.V1Personal, m.Record)
	fmt.Fprintf(stdout, "the history lines are kept unchanged and still verify; %s appended (the migration record and a format-2 re-record of each line, personal data as commitments)\n", count(uint64(m.Lines), "line"))
	fmt.Fprintf(stdout, "the openings of the format-1 records are now in %s; chatconsent erase works for everyone (it redacts their format-1 lines)\n", paths.Private)
	fmt.Fprintf(stdout, "old backups of %s still hold the format-1 clear text: see the README, \"Old logs\"\n", config.LogFile)
	return nil
}

// notMigrated adds the hint to run migrate to collector.ErrNotMigrated.
func notMigrated(err error, cfgPath, data string) error {
	if !errors.Is(err, collector.ErrNotMigrated) {
		return err
	}
	cmd := "chatconsent migrate --config " + cfgPath
	if data != "" {
		cmd += " --data " + data
	}
	return &hintError{err, "this data folder was written by a version before log format 2: stop the collector and run " + cmd + " once (see the README, \"Old logs\"), then start it again"}
}
