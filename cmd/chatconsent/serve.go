package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chatconsent/chatconsent/collector"
	"github.com/chatconsent/chatconsent/generator"
	"github.com/chatconsent/chatconsent/generator/preview"
	"github.com/chatconsent/chatconsent/generator/watch"
)

// runServe builds the site in memory, serves it with the collector on one
// address, and rebuilds on every save (content/, layouts/, i18n/,
// config.toml) with live reload. Texts tried out while editing are archived
// in a temporary copy of the archive, not in site.archive: only "build"
// publishes there.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	addr := fs.String("addr", "", "listen `host:port`, or a port (default: collector.listen from the config, 127.0.0.1:8080)")
	data := dataFlag(fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *addr == "" {
		*addr = cfg.Collector.Listen
	}
	if *addr, err = listenAddr("serve: --addr", *addr); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "chatconsent-serve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	scratch := filepath.Join(tmp, "archive")
	if err := copyArchive(cfg.Site.Archive, scratch); err != nil {
		return err
	}
	// The forms post to the same origin: one process, one address.
	key, err := siteLogKey("", cfg, *data)
	if err != nil {
		return err
	}
	opts := generator.Options{FormAction: "/v1/consent", WithdrawAction: "/v1/withdraw", ArchiveDir: scratch, LogKey: key}
	builder := generator.NewBuilder(cfg, opts)
	start := time.Now()
	site, res, err := builder.Build()
	if err != nil {
		return err
	}
	printBuild(stdout, stderr, cfg, res, "", time.Since(start))
	basePath := "/"
	if u, err := url.Parse(cfg.Site.BaseURL); err == nil && u.Path != "" {
		basePath = u.Path
	}
	pv := preview.New(ctx, basePath, scratch)
	pv.Update(site)

	urls, err := generator.PageURLs(cfg)
	if err != nil {
		return err
	}
	consent, policy, withdrawal := map[string]string{}, map[string]string{}, map[string]string{}
	for l, m := range urls {
		consent[l], policy[l], withdrawal[l] = m["consent"], m["policy"], m["withdrawal"]
	}
	w, err := watch.New(cfg.Dir, watch.Options{Include: siteFiles(filepath.Base(*cfgPath))})
	if err != nil {
		return err
	}
	defer w.Close()
	var srv atomic.Pointer[collector.Server]
	go rebuildLoop(w, *cfgPath, opts, builder, pv, &srv, stdout, stderr)

	fmt.Fprintf(stdout, "consent page: http://%s%s\n", browserAddr(*addr), consent[cfg.Site.DefaultLanguage])
	fmt.Fprintf(stdout, "watching %s for changes; pages reload by themselves\n", cfg.Dir)
	wrap := func(s *collector.Server, h http.Handler) http.Handler {
		srv.Store(s)
		mux := http.NewServeMux()
		mux.Handle("/v1/", h)
		mux.Handle("/healthz", h)
		mux.Handle("/log/", h)
		mux.Handle("/owner/", h) // the owner console (collector/console)
		mux.Handle("/", pv)
		return mux
	}
	return startCollector(ctx, cfg, collector.Setup{DataDir: *data, ArchiveDir: scratch, ConsentURLs: consent, PolicyURLs: policy, WithdrawalURLs: withdrawal}, *addr, true, wrap, stdout, stderr)
}

// siteFiles is what serve watches below the config's folder.
func siteFiles(configName string) func(rel string) bool {
	return func(rel string) bool {
		top, _, _ := strings.Cut(rel, "/")
		switch top {
		case "content", "layouts", "i18n":
			return true
		}
		return rel == configName
	}
}

// rebuildLoop rebuilds after every batch of changes until the watcher is
// closed. A broken file shows its error (file:line) here and in the
// browser; the last good build stays served until it is fixed.
func rebuildLoop(w *watch.Watcher, cfgPath string, opts generator.Options, b *generator.Builder,
	pv *preview.Server, srv *atomic.Pointer[collector.Server], stdout, stderr io.Writer) {
	cfgAbs, _ := filepath.Abs(cfgPath)
	for batch := range w.Batches() {
		start := time.Now()
		if batch.Err != nil {
			fmt.Fprintf(stderr, "chatconsent: warning: watch: %v\n", batch.Err)
		}
		// After an overflow events were lost: the config may have changed
		// too. Every build reads all content files again anyway.
		for _, p := range append(batch.Paths, overflowMark(batch.Overflow, cfgAbs)...) {
			if p != cfgAbs {
				continue
			}
			c, err := loadConfig(cfgPath)
			if err != nil {
				fmt.Fprintf(stderr, "chatconsent: error: %v\n", err)
				pv.Fail(err)
				b = nil // build again once the config is fixed
				break
			}
			b = generator.NewBuilder(c, opts)
			fmt.Fprintf(stderr, "chatconsent: warning: %s changed: pages rebuilt; restart serve for the collector to use it\n", cfgPath)
		}
		if b == nil {
			continue
		}
		site, res, err := b.Build()
		if err != nil {
			fmt.Fprintf(stderr, "chatconsent: error: %v\n", err)
			pv.Fail(err)
			continue
		}
		if s := srv.Load(); s != nil && len(res.NewVersions) > 0 {
			if err := s.ReloadVersions(); err != nil {
				fmt.Fprintf(stderr, "chatconsent: error: %v\n", err)
			}
		}
		pv.Update(site)
		for _, w := range res.Warnings {
			fmt.Fprintf(stderr, "chatconsent: warning: %s\n", w)
		}
		fmt.Fprintf(stdout, "rebuilt in %s: %d of %d pages rendered again, %d new text versions\n",
			time.Since(start).Round(100*time.Microsecond), res.Rendered, sum(res.Pages), len(res.NewVersions))
	}
}

func overflowMark(overflow bool, cfgAbs string) []string {
	if overflow {
		return []string{cfgAbs}
	}
	return nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// copyArchive copies the archive's files (texts, manifest, consent pages)
// into dst (a missing archive gives an empty one).
func copyArchive(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read archive: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
