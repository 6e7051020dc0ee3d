package main

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"path/filepath"

	"github.com/chatconsent/chatconsent/collector/ledger"
)

func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := fs.String("data", "", "data `folder` (default: collector.data_dir from the config)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	dir := *data
	if dir == "" {
		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		dir = cfg.Collector.DataDir
	}
	priv, err := ledger.GenerateKey(dir)
	if err != nil {
		return err
	}
	printKey(stdout, dir, priv)
	return nil
}

func printKey(w io.Writer, dir string, priv ed25519.PrivateKey) {
	fmt.Fprintf(w, "signing key %s (keep it secret, mode 0600)\npublic key  %s\nfingerprint SHA256:%s\n",
		filepath.Join(dir, ledger.PrivateKeyFile), filepath.Join(dir, ledger.PublicKeyFile),
		ledger.Fingerprint(priv.Public().(ed25519.PublicKey)))
}
