package main

import (
	"fmt"
	"io"
	"path/filepath"

	defaultsite "github.com/chatconsent/chatconsent"
)

// runInit writes the default site into DIR, refusing to overwrite.
func runInit(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("init", stderr)
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("init: want one DIR (the new site's folder)")
	}
	dir := fs.Arg(0)
	written, err := defaultsite.Init(dir)
	if err != nil {
		return &hintError{err, "choose an empty folder; init never overwrites files"}
	}
	for _, p := range written {
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	cfg := filepath.Join(dir, "config.toml")
	fmt.Fprintf(stdout, "next: edit %s and content/ (fill in every [...] of the imprint, content/*/impressum.md: § 5 DDG), then run: chatconsent serve --config %s\n", cfg, cfg)
	return nil
}
