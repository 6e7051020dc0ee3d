package main

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"path/filepath"

	"github.com/chatconsent/chatconsent/collector/invite"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
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
	var cfg *config.Config
	if c, err := loadConfig(*cfgPath); err == nil {
		cfg = c
	} else if dir == "" {
		return err
	}
	if dir == "" {
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
	return keygenCheckpoint(dir, cfg, stdout)
}

// keygenCheckpoint creates the transparency log's checkpoint key beside the
// signing key (if there is none) and prints its verifier key. The origin
// comes from collector.public_url; without a config, "chatconsent/log".
func keygenCheckpoint(dir string, cfg *config.Config, stdout io.Writer) error {
	origin := "chatconsent/log"
	if cfg != nil {
		o, err := translog.Origin(cfg.Collector.PublicURL)
		if err != nil {
			return err
		}
		origin = o
	}
	if _, _, err := translog.LoadOrCreateKey(dir, origin); err != nil {
		return err
	}
	vkey, err := translog.VerifierKey(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "checkpoint key %s (keep it secret, mode 0600)\nverifier key   %s\n  (publish it: auditors and data subjects check the log and receipts with it)\n",
		filepath.Join(dir, translog.SignerKeyFile), vkey)
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
