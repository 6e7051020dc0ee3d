// Command backlog writes a collector data folder whose log holds N signed
// decisions and no receipts: the backlog a long burst leaves (receipts wait
// for idle time) or a restore without DATA/receipts. bench/startmem.sh
// measures the collector's memory at start on it.
//
// The log is in format 2 (openings in the private store). With -v2 its
// transparency log is built and checkpointed, as a collector leaves them;
// with -receipts every record gets an (empty) receipt file, so a start has
// no backlog to work on: bench/startmem.sh N v2 measures the trusted
// start-up of issue 13 step 7 on it.
//
//	go run ./bench/backlog -n 100000 -config config.toml -data DIR [-v2 -receipts]
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/private"
	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

func main() {
	n := flag.Int("n", 100000, "number of decisions")
	cfgPath := flag.String("config", "config.toml", "site configuration `file` (for its text archive)")
	data := flag.String("data", "", "data `folder` to create (must not exist)")
	v2 := flag.Bool("v2", false, "format 2 with the private store and a checkpointed transparency log")
	withReceipts := flag.Bool("receipts", false, "write an empty receipt file per record (no backlog at start)")
	flag.Parse()
	if *data == "" {
		log.Fatal("backlog: -data is required")
	}
	if _, err := os.Stat(*data); err == nil {
		log.Fatalf("backlog: %s exists", *data)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		log.Fatal(err)
	}
	arch := cfg.Site.Archive
	if arch == "" {
		arch = filepath.Join(cfg.Dir, "archive")
	}
	m, err := textarchive.ReadManifest(arch)
	if err != nil {
		log.Fatal(err)
	}
	version := ""
	for v, info := range m.Versions {
		if info.Lang == cfg.Site.DefaultLanguage && (version == "" || v < version) {
			version = v
		}
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		log.Fatal(err)
	}
	paths := cfg.Paths(*data)
	priv, _, err := ledger.LoadOrCreateKey(paths.SigningKey, paths.SigningPublicKey)
	if err != nil {
		log.Fatal(err)
	}
	// Format 2, as this version writes it (the collector refuses an
	// unmigrated format-1 log): the openings go to the private store.
	// With -v2 the transparency log is fed and checkpointed as well.
	lo := ledger.Options{Version: ledger.FormatVersion}
	vault, err := private.Open(paths.Private, private.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer vault.Close()
	lo.Disclose = vault.Put
	var tl *translog.Log
	if *v2 {
		origin, err := translog.Origin(cfg.Collector.PublicURL)
		if err != nil {
			log.Fatal(err)
		}
		k, _, err := translog.LoadOrCreateKey(paths.CheckpointKey, paths.CheckpointVerifierKey, origin)
		if err != nil {
			log.Fatal(err)
		}
		if tl, err = translog.Open(context.Background(), translog.Options{Dir: paths.Transparency, Key: k}); err != nil {
			log.Fatal(err)
		}
	}
	if *withReceipts {
		if err := os.MkdirAll(filepath.Join(*data, config.ReceiptsDir), 0o700); err != nil {
			log.Fatal(err)
		}
	}
	l, _, err := ledger.Open(paths.Log, priv, lo)
	if err != nil {
		log.Fatal(err)
	}
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	const batch = 2000
	for i := 0; i < *n; i += batch {
		recs := make([]ledger.Record, 0, batch)
		for j := i; j < min(i+batch, *n); j++ {
			var id [16]byte
			rand.Read(id[:])
			recs = append(recs, ledger.Record{
				Type: ledger.TypeDecision, ID: hex.EncodeToString(id[:]), Time: start.Add(time.Duration(j) * time.Second),
				Decision: ledger.Granted, Purposes: cfg.PurposeIDs()[:1],
				Subject: &ledger.Subject{Name: fmt.Sprintf("Kunde %d", j), Phone: fmt.Sprintf("+49170%07d", j%10000000)},
				Lang:    cfg.Site.DefaultLanguage, TextVersion: version,
			})
		}
		es, err := l.Append(context.Background(), recs...)
		if err != nil {
			log.Fatal(err)
		}
		for _, e := range es {
			if tl != nil {
				if err := tl.Feed(e.Record.Seq-1, e.Line); err != nil {
					log.Fatal(err)
				}
			}
			if *withReceipts {
				if err := os.WriteFile(filepath.Join(*data, config.ReceiptsDir, e.Record.ID+".pdf"), nil, 0o600); err != nil {
					log.Fatal(err)
				}
			}
		}
	}
	if err := l.Close(); err != nil {
		log.Fatal(err)
	}
	if tl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		if err := tl.Close(ctx); err != nil {
			log.Fatal(err)
		}
		vault.Close()
	}
	what := "no receipts"
	if *withReceipts {
		what = "empty receipt files"
	}
	fmt.Printf("%s: %d decisions (format %d), %s\n", *data, *n, lo.Version, what)
}
