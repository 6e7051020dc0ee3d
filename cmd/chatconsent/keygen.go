package main

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"path/filepath"

	"github.com/chatconsent/chatconsent/collector/invite"
	"github.com/chatconsent/chatconsent/collector/ledger"
)

func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := fs.String("data", "", "data `folder` (default: collector.data_dir from the config)")
	inv := fs.Bool("invite", false, "create the invite key (invite.key, invite.pub) instead of the log's signing key")
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
	if *inv {
		return keygenInvite(dir, stdout)
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

func keygenInvite(dir string, stdout io.Writer) error {
	priv, err := invite.GenerateKey(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "invite key %s (keep it on the computer you invite from, mode 0600)\npublic key %s (give it to the collector: its data folder, or invite.public_key)\nfingerprint SHA256:%s\n",
		filepath.Join(dir, invite.KeyFile), filepath.Join(dir, invite.PublicKeyFile),
		ledger.Fingerprint(priv.Public().(ed25519.PublicKey)))
	return nil
}
