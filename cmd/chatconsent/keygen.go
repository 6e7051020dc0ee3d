package main

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"path/filepath"

	"github.com/chatconsent/chatconsent/collector/ledger"
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
	// With --data no config is needed: a server may get its key before
	// its config.toml.
	cfg := &config.Config{}
	if *data == "" {
		var err error
		if cfg, err = loadConfig(*cfgPath); err != nil {
			return err
		}
	}
	p := cfg.Paths(*data)
	if *inv {
		// Both halves into the data folder: the public half goes to the
		// collector, the key stays with whoever invites (invite.key).
		return keygenInvite(filepath.Join(p.Data, config.InviteKeyFile), filepath.Join(p.Data, config.InvitePublicKeyFile), stdout)
	}
	priv, err := ledger.GenerateKeyFiles(p.SigningKey, p.SigningPublicKey)
	if err != nil {
		return err
	}
	printKey(stdout, p, priv)
	return nil
}

func printKey(w io.Writer, p config.Paths, priv ed25519.PrivateKey) {
	fmt.Fprintf(w, "signing key %s (keep it secret, mode 0600)\npublic key  %s\nfingerprint SHA256:%s\n",
		p.SigningKey, p.SigningPublicKey, ledger.Fingerprint(priv.Public().(ed25519.PublicKey)))
}

func keygenInvite(keyPath, pubPath string, stdout io.Writer) error {
	priv, err := ledger.GenerateKeyFiles(keyPath, pubPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "invite key %s (keep it on the computer you invite from, mode 0600)\npublic key %s (give it to the collector: its data folder, or invite.public_key)\nfingerprint SHA256:%s\n",
		keyPath, pubPath, ledger.Fingerprint(priv.Public().(ed25519.PublicKey)))
	return nil
}
