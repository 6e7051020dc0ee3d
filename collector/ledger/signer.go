package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Signer signs records. It has the shape of golang.org/x/mod/sumdb/note's
// Signer, so a key kept elsewhere (an HSM, a KMS, a note signer) fits:
//
//   - Name is the key's name; the log stores it in [Record.Key] of every
//     record it signs. For the Ed25519 signer of [NewSigner] it is the
//     key's [Fingerprint].
//   - KeyHash is the 32-bit key hash of a signed note (C2SP signed-note):
//     the first four bytes, big-endian, of SHA-256(name || "\n" || 0x01 ||
//     public key) for Ed25519.
//   - Sign returns the signature over msg (64 bytes for Ed25519).
type Signer interface {
	Name() string
	KeyHash() uint32
	Sign(msg []byte) ([]byte, error)
}

// Verifier checks signatures made by a [Signer] of the same Name and
// KeyHash, in the shape of golang.org/x/mod/sumdb/note's Verifier.
type Verifier interface {
	Name() string
	KeyHash() uint32
	Verify(msg, sig []byte) bool
}

// NewSigner returns the [Signer] for an Ed25519 private key. Its Name is
// the key's [Fingerprint].
func NewSigner(priv ed25519.PrivateKey) Signer {
	pub := priv.Public().(ed25519.PublicKey)
	name := Fingerprint(pub)
	return &edSigner{priv: priv, name: name, hash: keyHash(name, pub)}
}

// NewVerifier returns the [Verifier] for an Ed25519 public key, matching
// [NewSigner]. It panics if pub is not 32 bytes long, as ed25519.Verify
// would.
func NewVerifier(pub ed25519.PublicKey) Verifier {
	if len(pub) != ed25519.PublicKeySize {
		panic(fmt.Sprintf("ledger: Ed25519 public key of %d bytes", len(pub)))
	}
	name := Fingerprint(pub)
	return &edVerifier{pub: pub, name: name, hash: keyHash(name, pub)}
}

// PublicKey returns the Ed25519 public key of a signer or verifier made by
// [NewSigner] or [NewVerifier], or nil for other implementations.
func PublicKey(k interface{ Name() string }) ed25519.PublicKey {
	switch k := k.(type) {
	case *edSigner:
		return k.priv.Public().(ed25519.PublicKey)
	case *edVerifier:
		return k.pub
	}
	return nil
}

type edSigner struct {
	priv ed25519.PrivateKey
	name string
	hash uint32
}

func (s *edSigner) Name() string                    { return s.name }
func (s *edSigner) KeyHash() uint32                 { return s.hash }
func (s *edSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.priv, msg), nil }

type edVerifier struct {
	pub  ed25519.PublicKey
	name string
	hash uint32
}

func (v *edVerifier) Name() string    { return v.name }
func (v *edVerifier) KeyHash() uint32 { return v.hash }
func (v *edVerifier) Verify(msg, sig []byte) bool {
	return len(sig) == ed25519.SignatureSize && ed25519.Verify(v.pub, msg, sig)
}

// keyHash is signed-note's key hash for an Ed25519 key (algorithm 0x01).
func keyHash(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', 0x01})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}
