package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
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
	limitMemory(cfg.Dir)
	res, err := generator.Build(cfg, generator.Options{OutDir: *out, CacheFile: generator.CacheFile(cfg.Dir)})
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

// limitMemory sets a soft memory limit for a one-shot build in proportion
// to the site's Markdown, unless GOMEMLIMIT is set: the garbage collector
// then runs a little more often and the build's peak memory stays near
// what the site needs (about a quarter less for 1,000 pages). The build
// holds about 3 bytes per Markdown byte; a limit of 16 MiB + 3× made the
// collector run almost without pause (0.19 s instead of 0.15 s for 1,000
// pages), 5× is where more memory stopped buying time (bench/README.md).
func limitMemory(siteDir string) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	var size int64
	filepath.WalkDir(filepath.Join(siteDir, "content"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	debug.SetMemoryLimit(16<<20 + 5*size)
}
