package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/generator"
	"github.com/chatconsent/chatconsent/internal/config"
	"golang.org/x/mod/sumdb/note"
)

func runBuild(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("build", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	out := fs.String("out", "public", "output `folder`")
	data := dataFlag(fs)
	lk := fs.String("log-key", "", "the transparency log's checkpoint verifier `key` (text or file) to publish as log-key.txt and for {{ .LogKey }} (default: checkpoint.vkey of the data folder, if there is one)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	key, err := siteLogKey(*lk, cfg, *data)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := generator.Build(cfg, generator.Options{OutDir: *out, LogKey: key})
	if err != nil {
		if errors.Is(err, generator.ErrNoLogKey) {
			return &hintError{err, "the notice names the log's key, and there is none yet: chatconsent keygen creates it"}
		}
		return err
	}
	printBuild(stdout, stderr, cfg, res, *out, time.Since(start))
	return nil
}

// siteLogKey returns the checkpoint verifier key the site publishes: flagVal
// (text or a file holding it), else checkpoint.vkey of the data folder
// (--data, or collector.data_dir) if it exists, else "". A key that is not
// a signed-note verifier key is an error naming where it came from.
func siteLogKey(flagVal string, cfg *config.Config, data string) (string, error) {
	text, from := flagVal, "--log-key"
	if flagVal == "" {
		p := cfg.Paths(data).CheckpointVerifierKey
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		text, from = string(b), p
	} else if b, err := os.ReadFile(flagVal); err == nil {
		text, from = string(b), flagVal
	}
	text = strings.TrimSpace(text)
	if _, err := note.NewVerifier(text); err != nil {
		return "", fmt.Errorf("%s: not a checkpoint verifier key (name+hash+base64, as chatconsent keygen prints it): %w", from, err)
	}
	return text, nil
}

// printBuild prints the build's warnings and its one-line summary: pages
// per language, text versions, time taken.
func printBuild(stdout, stderr io.Writer, cfg *config.Config, res *generator.Result, out string, took time.Duration) {
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "chatconsent: warning: %s\n", w)
	}
	var parts []string
	for _, l := range cfg.Site.Languages {
		parts = append(parts, fmt.Sprintf("%s %d", l, res.Pages[l]))
	}
	var vs []string
	for _, l := range cfg.Site.Languages {
		vs = append(vs, fmt.Sprintf("%s %.12s", l, res.Versions[l]))
	}
	where := "in memory" // serve
	if out != "" {
		abs, _ := filepath.Abs(out)
		where = abs
	}
	fmt.Fprintf(stdout, "built %s: pages %s; text versions %s (%d new); %s\n", where, strings.Join(parts, ", "), strings.Join(vs, ", "), len(res.NewVersions), took.Round(100*time.Microsecond))
}
