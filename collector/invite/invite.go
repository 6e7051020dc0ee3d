// Package invite makes and checks personal invite tokens: the signed part of
// the link an owner sends a new contact by WhatsApp. A token binds the
// contact's WhatsApp number (E.164) to a random invite id and an expiry, and
// may carry a name and a language for the page. The collector accepts a
// decision made through the link only for that number, once (the invite id
// is then used), which shows that the decision came through the link sent to
// that number: the role a confirmation mail plays in double opt-in.
//
// # Keys
//
// Tokens are signed with an Ed25519 key (RFC 8032) of their own, the invite
// key, not with the log's signing key: the owner creates invites on a
// laptop that holds invite.key (PKCS #8 PEM, mode 0600),
// while the collector on the server needs only the public half
// invite.pub (PKIX PEM) to check them. A stolen laptop therefore cannot
// forge log lines, and a compromised server cannot mint invites. Where
// the two files live is internal/config's (config.Paths: InviteKey,
// InvitePublicKey); "chatconsent keygen --invite" creates them with
// ledger.GenerateKey.
//
// # Token format (version 1)
//
// A token is the unpadded base64url encoding (RFC 4648 §5) of
//
//	payload || signature
//
// where signature is the 64-byte Ed25519 signature over
// "chatconsent invite v1\x00" || payload, and payload is
//
//	0x01                      format version
//	16 bytes                  invite id (random)
//	uvarint                   expiry, Unix seconds
//	uvarint len, bytes        number, E.164 ("+491701234567")
//	uvarint len, bytes        language ("de", "en" or empty)
//	uvarint len, bytes        name (UTF-8, may be empty)
//
// Varints are minimal, strings valid UTF-8 without control characters, and
// nothing follows the name: every token has exactly one encoding, so
// [Encode] of a decoded [Invite] gives the same token again. A token with a
// name of 20 characters is about 170 characters long.
package invite

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chatconsent/chatconsent/collector/ledger"
)

// Limits of the fields of an [Invite].
const (
	// MaxNameRunes bounds Invite.Name, as the consent form bounds a name.
	MaxNameRunes = 200
	// MaxTokenLen bounds the length of a token string a decoder looks at.
	MaxTokenLen = 2048
)

const (
	version = 1
	idLen   = 16
	domain  = "chatconsent invite v1\x00"
)

// Errors of [Decode], [Parse] and [Verify]; the returned errors wrap them.
var (
	// ErrMalformed: not a token of this format (bad base64, wrong
	// version, bad field, trailing bytes).
	ErrMalformed = errors.New("invite: malformed token")
	// ErrBadSignature: the token was not signed by the invite key (forged,
	// changed, or made with another key).
	ErrBadSignature = errors.New("invite: signature does not match")
	// ErrExpired: the token is genuine but past its expiry.
	ErrExpired = errors.New("invite: token expired")
)

// Invite is what a token says.
type Invite struct {
	// ID is the invite id, 32 lower-case hex digits (128 random bits). The
	// log's invite record and every decision made through the link name it.
	ID string
	// Phone is the WhatsApp number the invite is for, in E.164.
	Phone string
	// Expires is the end of the invite's validity for a decision, whole
	// seconds, UTC.
	Expires time.Time
	// Lang is the language of the page ("de", "en") or "" for the site's
	// default.
	Lang string
	// Name pre-fills the name field; may be "".
	Name string
}

// New returns an invite with a fresh random id, valid until expires
// (truncated to the second). phone must already be in E.164 (see
// internal/phone.Parse).
func New(phone, name, lang string, expires time.Time) (Invite, error) {
	var b [idLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Invite{}, fmt.Errorf("invite: random id: %w", err)
	}
	inv := Invite{ID: hex.EncodeToString(b[:]), Phone: phone, Expires: expires.UTC().Truncate(time.Second), Lang: lang, Name: name}
	if err := inv.check(); err != nil {
		return Invite{}, err
	}
	return inv, nil
}

var (
	e164Re = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	langRe = regexp.MustCompile(`^([a-z]{2,3})?$`)
	idRe   = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// check validates the fields; errors wrap ErrMalformed.
func (inv *Invite) check() error {
	switch {
	case !idRe.MatchString(inv.ID):
		return fmt.Errorf("%w: id %q: want 32 hex digits", ErrMalformed, inv.ID)
	case !e164Re.MatchString(inv.Phone):
		return fmt.Errorf("%w: number %q: want E.164 (+ and up to 15 digits)", ErrMalformed, inv.Phone)
	case !langRe.MatchString(inv.Lang):
		return fmt.Errorf("%w: language %q", ErrMalformed, inv.Lang)
	case inv.Expires.Unix() <= 0:
		return fmt.Errorf("%w: expiry %v", ErrMalformed, inv.Expires)
	case !utf8.ValidString(inv.Name) || utf8.RuneCountInString(inv.Name) > MaxNameRunes:
		return fmt.Errorf("%w: name is not UTF-8 or longer than %d characters", ErrMalformed, MaxNameRunes)
	}
	for _, r := range inv.Name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("%w: name holds control or formatting character %U", ErrMalformed, r)
		}
	}
	return nil
}

// payload returns the signed bytes of inv (without the domain prefix).
func (inv *Invite) payload() []byte {
	id, _ := hex.DecodeString(inv.ID)
	b := make([]byte, 0, 64+len(inv.Name))
	b = append(b, version)
	b = append(b, id...)
	b = binary.AppendUvarint(b, uint64(inv.Expires.Unix()))
	for _, s := range []string{inv.Phone, inv.Lang, inv.Name} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

var enc = base64.RawURLEncoding.Strict()

// Encode signs inv with the invite key and returns the token. It fails
// (wrapping [ErrMalformed]) if a field is out of range.
func Encode(inv Invite, priv ed25519.PrivateKey) (string, error) {
	inv.Expires = inv.Expires.UTC()
	if inv.Expires.Nanosecond() != 0 {
		return "", fmt.Errorf("%w: expiry has fractions of a second", ErrMalformed)
	}
	if err := inv.check(); err != nil {
		return "", err
	}
	p := inv.payload()
	sig := ed25519.Sign(priv, append([]byte(domain), p...))
	return enc.EncodeToString(append(p, sig...)), nil
}

// Decode splits a token into its invite, without checking the signature:
// use [Parse] or [Verify] for anything that trusts it. Errors wrap
// [ErrMalformed].
func Decode(token string) (Invite, error) {
	inv, _, _, err := decode(token)
	return inv, err
}

func decode(token string) (inv Invite, payload, sig []byte, err error) {
	if len(token) > MaxTokenLen {
		return inv, nil, nil, fmt.Errorf("%w: longer than %d characters", ErrMalformed, MaxTokenLen)
	}
	raw, err := enc.DecodeString(token)
	if err != nil {
		return inv, nil, nil, fmt.Errorf("%w: not base64url", ErrMalformed)
	}
	if len(raw) < 1+idLen+ed25519.SignatureSize {
		return inv, nil, nil, fmt.Errorf("%w: too short", ErrMalformed)
	}
	payload, sig = raw[:len(raw)-ed25519.SignatureSize], raw[len(raw)-ed25519.SignatureSize:]
	if payload[0] != version {
		return inv, nil, nil, fmt.Errorf("%w: version %d", ErrMalformed, payload[0])
	}
	inv.ID = hex.EncodeToString(payload[1 : 1+idLen])
	rest := payload[1+idLen:]
	exp, n := binary.Uvarint(rest)
	if n <= 0 || exp > 1<<40 {
		return inv, nil, nil, fmt.Errorf("%w: expiry", ErrMalformed)
	}
	rest = rest[n:]
	inv.Expires = time.Unix(int64(exp), 0).UTC()
	for _, dst := range []*string{&inv.Phone, &inv.Lang, &inv.Name} {
		l, n := binary.Uvarint(rest)
		if n <= 0 || l > uint64(len(rest)-n) {
			return inv, nil, nil, fmt.Errorf("%w: field length", ErrMalformed)
		}
		*dst = string(rest[n : n+int(l)])
		rest = rest[n+int(l):]
	}
	if len(rest) != 0 {
		return inv, nil, nil, fmt.Errorf("%w: trailing bytes", ErrMalformed)
	}
	if err := inv.check(); err != nil {
		return inv, nil, nil, err
	}
	// One encoding per token: varints must be minimal.
	if !bytes.Equal(inv.payload(), payload) {
		return inv, nil, nil, fmt.Errorf("%w: not in canonical form", ErrMalformed)
	}
	return inv, payload, sig, nil
}

// Parse decodes token and checks its signature against the invite key's
// public half. It does not look at the expiry: a withdrawal through an old
// invite link is still honoured (GDPR Art. 7(3)). Errors wrap
// [ErrMalformed] or [ErrBadSignature].
func Parse(token string, pub ed25519.PublicKey) (Invite, error) {
	inv, payload, sig, err := decode(token)
	if err != nil {
		return Invite{}, err
	}
	if !ed25519.Verify(pub, append([]byte(domain), payload...), sig) {
		return Invite{}, ErrBadSignature
	}
	return inv, nil
}

// Verify is [Parse] plus the expiry: at now the invite must not have
// expired. For [ErrExpired] the genuine invite is returned with the error,
// so that a page can still greet the person in their language.
func Verify(token string, pub ed25519.PublicKey, now time.Time) (Invite, error) {
	inv, err := Parse(token, pub)
	if err != nil {
		return inv, err
	}
	if !now.Before(inv.Expires) {
		return inv, fmt.Errorf("%w at %s", ErrExpired, inv.Expires.Format(time.RFC3339))
	}
	return inv, nil
}

// GenerateKey creates the invite key pair: the private key at keyPath
// (mode 0600) and its public half at pubPath. It never overwrites a key:
// an existing one gives an error that matches ledger.ErrKeyExists and calls
// it the invite key.
func GenerateKey(keyPath, pubPath string) (ed25519.PrivateKey, error) {
	priv, err := ledger.GenerateKey(keyPath, pubPath)
	if errors.Is(err, ledger.ErrKeyExists) {
		return nil, keyExistsError(keyPath)
	}
	return priv, err
}

// keyExistsError says that an invite key (not the log's signing key) is
// already there.
type keyExistsError string

func (e keyExistsError) Error() string {
	return fmt.Sprintf("%s: an invite key already exists (it is never overwritten)", string(e))
}
func (e keyExistsError) Unwrap() error { return ledger.ErrKeyExists }

// ReadKey reads the invite key; see ledger.ReadPrivateKey. Errors call it
// the invite key.
func ReadKey(path string) (ed25519.PrivateKey, error) {
	return ledger.ReadPrivateKeyNamed(path, "invite key")
}

// Fingerprint is the invite key's fingerprint as keygen --invite, invite
// and doctor print it ("SHA256:" and the hex SHA-256 of the public key), to
// compare the laptop's key with the collector's invite.pub.
func Fingerprint(pub ed25519.PublicKey) string { return "SHA256:" + ledger.Fingerprint(pub) }

// ReadPublicKey reads the invite key's public half.
func ReadPublicKey(path string) (ed25519.PublicKey, error) { return ledger.ReadPublicKey(path) }
