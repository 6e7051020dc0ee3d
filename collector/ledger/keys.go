package ledger

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chatconsent/chatconsent/internal/durable"
)

// ErrKeyExists is returned by [GenerateKey] when the private key file exists.
var ErrKeyExists = errors.New("a signing key already exists")

// GenerateKey creates a new Ed25519 key pair: the private key in privPath
// as PKCS #8 PEM with mode 0600, the public key in pubPath as PKIX PEM with
// mode 0644. The folder of privPath is created with mode 0700 if needed.
// It never overwrites an existing key ([ErrKeyExists]). The log's key
// pair and the invite key use it; the caller names the files (the data
// folder's layout is internal/config's).
func GenerateKey(privPath, pubPath string) (ed25519.PrivateKey, error) {
	if err := os.MkdirAll(filepath.Dir(privPath), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Dir(privPath), err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	if err := durable.CreateFile(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%s: %w", privPath, ErrKeyExists)
		}
		return nil, err
	}
	if err := durable.CreateFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	return priv, nil
}

// LoadOrCreateKey reads the private key in privPath, generating a key pair
// first ([GenerateKey], the public key in pubPath) if none exists. created
// reports whether a key was generated.
func LoadOrCreateKey(privPath, pubPath string) (priv ed25519.PrivateKey, created bool, err error) {
	priv, err = ReadPrivateKey(privPath)
	if err == nil {
		return priv, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	priv, err = GenerateKey(privPath, pubPath)
	if err != nil {
		return nil, false, err
	}
	return priv, true, nil
}

// ReadPrivateKey reads a PKCS #8 PEM Ed25519 private key. It refuses a file
// that others can read (mode must not grant group or world access).
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	return ReadPrivateKeyNamed(path, "signing key")
}

// ReadPrivateKeyNamed is [ReadPrivateKey] for another key of the same
// format, called what in errors (e.g. "invite key").
func ReadPrivateKeyNamed(path, what string) (ed25519.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s %s has mode %04o: others may read it; run: chmod 600 %s", what, path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("read %s %s: not a PEM \"PRIVATE KEY\"", what, path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", what, path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("read %s %s: not an Ed25519 key", what, path)
	}
	return priv, nil
}

// ReadPublicKey reads a PKIX PEM Ed25519 public key.
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("read public key %s: not a PEM \"PUBLIC KEY\"", path)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read public key %s: %w", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("read public key %s: not an Ed25519 key", path)
	}
	return pub, nil
}
