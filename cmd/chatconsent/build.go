package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/generator"
	"github.com/chatconsent/chatconsent/internal/config"
)

func runBuild(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("build", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	out := fs.String("out", "public", "output `folder`")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := generator.Build(cfg, generator.Options{OutDir: *out})
	if err != nil {
		return err
	}
	printBuild(stdout, stderr, cfg, res, *out, time.Since(start))
	return nil
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
