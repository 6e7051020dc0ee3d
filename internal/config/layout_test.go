package config_test

import (
	"testing"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
)

// TestLayoutMatchesLedger: ledger's own folder helpers (GenerateKey,
// LoadOrCreateKey, used by the collector until the ledger takes a Signer)
// name the key files as config does.
func TestLayoutMatchesLedger(t *testing.T) {
	t.Parallel()
	if ledger.PrivateKeyFile != config.SigningKeyFile || ledger.PublicKeyFile != config.SigningPublicKeyFile {
		t.Errorf("ledger names the keys %s, %s; config %s, %s", ledger.PrivateKeyFile, ledger.PublicKeyFile, config.SigningKeyFile, config.SigningPublicKeyFile)
	}
	if ledger.FileName != config.LogFile {
		t.Errorf("ledger names the log %s, config %s", ledger.FileName, config.LogFile)
	}
}

// TestLayoutMatchesTranslog: translog's folder helpers (GenerateKey,
// LoadOrCreateKey, VerifierKey) name the checkpoint keys as config does.
func TestLayoutMatchesTranslog(t *testing.T) {
	t.Parallel()
	if translog.SignerKeyFile != config.CheckpointKeyFile || translog.VerifierKeyFile != config.CheckpointVerifierKeyFile {
		t.Errorf("translog names the checkpoint keys %s, %s; config %s, %s", translog.SignerKeyFile, translog.VerifierKeyFile, config.CheckpointKeyFile, config.CheckpointVerifierKeyFile)
	}
	p := (&config.Config{Dir: "/site"}).Paths("/d")
	if p.CheckpointKey != "/d/checkpoint.key" || p.CheckpointVerifierKey != "/d/checkpoint.vkey" {
		t.Errorf("Paths: checkpoint keys %s, %s", p.CheckpointKey, p.CheckpointVerifierKey)
	}
}
