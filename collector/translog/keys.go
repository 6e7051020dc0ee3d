package translog

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	f_note "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// ErrKeyExists is returned by [GenerateKey] when the folder already holds a
// checkpoint key.
var ErrKeyExists = errors.New("a checkpoint key already exists")

// Origin derives the checkpoint origin line from the collector's public URL,
// as tlog-tiles recommends: the log's URL prefix without scheme and trailing
// slash, e.g. "https://c.example.org/" → "c.example.org/log".
func Origin(publicURL string) (string, error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("collector.public_url %q is not an absolute URL: cannot name the log", publicURL)
	}
	o := u.Host + strings.TrimSuffix(u.Path, "/") + "/log"
	if strings.ContainsAny(o, " +\n") {
		return "", fmt.Errorf("collector.public_url %q makes the log origin %q, which may not contain spaces or '+'", publicURL, o)
	}
	return o, nil
}

// GenerateKey creates a new Ed25519 checkpoint key named origin and
// returns the verifier key text. The signer key goes to signerPath in
// signed-note format ("PRIVATE+KEY+<origin>+<hash>+<base64>"), mode 0600;
// the verifier key ("<origin>+<hash>+<base64>", the key a data subject or
// auditor needs, published and printed by keygen and doctor) to
// verifierPath, mode 0644. The folder of signerPath is created with mode
// 0700 if needed. It never overwrites an existing signer key
// ([ErrKeyExists]).
func GenerateKey(signerPath, verifierPath, origin string) (vkey string, err error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return "", fmt.Errorf("generate checkpoint key for %q: %w", origin, err)
	}
	if dir := filepath.Dir(signerPath); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("create %s: %w", dir, err)
		}
	}
	if err := createNew(signerPath, []byte(skey+"\n"), 0o600); err != nil {
		if errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("%s: %w", signerPath, ErrKeyExists)
		}
		return "", err
	}
	if err := writeFileAtomic(verifierPath, []byte(vkey+"\n"), 0o644); err != nil {
		return "", err
	}
	return vkey, nil
}

// Key is a checkpoint key: signer and verifier of one Ed25519 key.
type Key struct {
	Signer   note.Signer
	Verifier note.Verifier
}

// LoadOrCreateKey reads the checkpoint signer key in signerPath, creating a
// key named origin first ([GenerateKey], the verifier key in verifierPath)
// if there is none. An existing key keeps its name even if origin changed
// since (a log's identity never changes).
func LoadOrCreateKey(signerPath, verifierPath, origin string) (k Key, created bool, err error) {
	if _, err := os.Stat(signerPath); errors.Is(err, os.ErrNotExist) {
		if _, err := GenerateKey(signerPath, verifierPath, origin); err != nil && !errors.Is(err, ErrKeyExists) {
			return Key{}, false, err
		}
		created = true
	}
	k, err = ReadKey(signerPath)
	return k, created, err
}

// ReadKey reads a signed-note signer key file (Ed25519).
func ReadKey(path string) (Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Key{}, fmt.Errorf("read checkpoint key: %w", err)
	}
	s, v, err := f_note.NewEd25519SignerVerifier(strings.TrimSpace(string(b)))
	if err != nil {
		return Key{}, fmt.Errorf("%s: not a signed-note Ed25519 signer key (PRIVATE+KEY+name+hash+base64): %w", path, err)
	}
	return Key{Signer: s, Verifier: v}, nil
}

// ParseVerifier reads a verifier key given as text ("name+hash+base64") or,
// if arg names an existing file, from that file.
func ParseVerifier(arg string) (note.Verifier, error) {
	text := arg
	if b, err := os.ReadFile(arg); err == nil {
		text = string(b)
	}
	v, err := note.NewVerifier(strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("checkpoint key %q: not a signed-note verifier key (name+hash+base64) nor a file holding one: %w", short(arg), err)
	}
	return v, nil
}

// VerifierKey returns the verifier key text stored in the file path.
func VerifierKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read checkpoint verifier key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func short(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
