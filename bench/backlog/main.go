// Command backlog writes a collector data folder whose log holds N signed
// decisions and no receipts: the backlog a long burst leaves (receipts wait
// for idle time) or a restore without DATA/receipts. bench/startmem.sh
// measures the collector's memory at start on it.
//
//	go run ./bench/backlog -n 100000 -config config.toml -data DIR
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
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

func main() {
	n := flag.Int("n", 100000, "number of decisions")
	cfgPath := flag.String("config", "config.toml", "site configuration `file` (for its text archive)")
	data := flag.String("data", "", "data `folder` to create (must not exist)")
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
	priv, _, err := ledger.LoadOrCreateKey(*data)
	if err != nil {
		log.Fatal(err)
	}
	// Format 2, as this version writes it (the collector refuses an
	// unmigrated format-1 log): the openings go to the private store.
	vault, err := private.Open(filepath.Join(*data, private.Dir), private.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer vault.Close()
	l, _, err := ledger.Open(filepath.Join(*data, ledger.FileName), priv, ledger.Options{Disclose: vault.Put})
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
		if _, err := l.Append(context.Background(), recs...); err != nil {
			log.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d decisions, no receipts\n", *data, *n)
}
