package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/chatconsent/chatconsent/collector"
	"github.com/chatconsent/chatconsent/generator"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	addr := fs.String("addr", "127.0.0.1:8080", "listen `host:port`")
	data := fs.String("data", "", "data `folder` (default: collector.data_dir from the config)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	out, err := os.MkdirTemp("", "chatconsent-serve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(out)
	site := filepath.Join(out, "public")
	// The form posts to the same origin: one process, one address.
	res, err := generator.Build(cfg, generator.Options{OutDir: site, FormAction: "/v1/consent"})
	if err != nil {
		return err
	}
	printBuild(stdout, stderr, cfg, res, site, 0)
	urls, err := generator.PageURLs(cfg)
	if err != nil {
		return err
	}
	consent := map[string]string{}
	for l, m := range urls {
		consent[l] = m["consent"]
	}
	fmt.Fprintf(stdout, "consent page: http://%s%s\n", *addr, consent[cfg.Site.DefaultLanguage])
	wrap := func(h http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/v1/", h)
		mux.Handle("/healthz", h)
		mux.Handle("/", collector.StaticHandler(http.Dir(site)))
		return mux
	}
	return startCollector(ctx, cfg, collector.Setup{DataDir: *data, ConsentURLs: consent}, *addr, true, wrap, stdout, stderr)
}
