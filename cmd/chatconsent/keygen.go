package main

import (
	"crypto/ed25519"
	"fmt"
	"io"

	"github.com/chatconsent/chatconsent/collector/invite"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
)

func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", stderr)
	cfgPath := fs.String("config", "config.toml", "site configuration `file`")
	data := dataFlag(fs)
	inv := fs.Bool("invite", false, "create the invite key (invite.key, invite.pub) instead of the log's signing key")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	var cfg *config.Config
	if c, err := loadConfig(*cfgPath); err == nil {
		cfg = c
	} else if *data == "" {
		return err
	}
	// With --data no config is needed: a server may get its key before
	// its config.toml.
	pc := cfg
	if pc == nil {
		pc = &config.Config{}
	}
	p := pc.Paths(*data)
	if *inv {
		// Where the config says (invite.key, invite.public_key), else
		// both halves into the data folder: the public half goes to the
		// collector, the key stays with whoever invites.
		return keygenInvite(p.InviteKey, p.InvitePublicKey, stdout)
	}
	priv, err := ledger.GenerateKey(p.SigningKey, p.SigningPublicKey)
	if err != nil {
		return err
	}
	printKey(stdout, p, priv)
	return keygenCheckpoint(p, cfg, stdout)
}

// keygenCheckpoint creates the transparency log's checkpoint key beside the
// signing key (if there is none) and prints its verifier key. The origin
// comes from collector.public_url; without a config, "chatconsent/log".
func keygenCheckpoint(p config.Paths, cfg *config.Config, stdout io.Writer) error {
	origin := "chatconsent/log"
	if cfg != nil {
		o, err := translog.Origin(cfg.Collector.PublicURL)
		if err != nil {
			return err
		}
		origin = o
	}
	if _, _, err := translog.LoadOrCreateKey(p.CheckpointKey, p.CheckpointVerifierKey, origin); err != nil {
		return err
	}
	vkey, err := translog.VerifierKey(p.CheckpointVerifierKey)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "checkpoint key %s (keep it secret, mode 0600)\nverifier key   %s\n  (publish it: auditors and data subjects check the log and receipts with it)\n",
		p.CheckpointKey, vkey)
	return nil
}

func printKey(w io.Writer, p config.Paths, priv ed25519.PrivateKey) {
	fmt.Fprintf(w, "signing key %s (keep it secret, mode 0600)\npublic key  %s\nfingerprint SHA256:%s\n",
		p.SigningKey, p.SigningPublicKey, ledger.Fingerprint(priv.Public().(ed25519.PublicKey)))
}

func keygenInvite(keyPath, pubPath string, stdout io.Writer) error {
	priv, err := invite.GenerateKey(keyPath, pubPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "invite key %s (keep it on the computer you invite from, mode 0600)\npublic key %s (give it to the collector: its data folder, or invite.public_key)\nfingerprint SHA256:%s\n",
		keyPath, pubPath, ledger.Fingerprint(priv.Public().(ed25519.PublicKey)))
	return nil
}
