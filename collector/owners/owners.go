// Package owners keeps who may sign in to the owner console
// (collector/console): DATA/owners.json (config.Paths.Owners), one JSON
// object {"v":1,"owners":[…]} with each owner's name, WebAuthn user
// handle, passkeys (github.com/go-webauthn/webauthn's Credential, public
// keys only), pending enrolment (the SHA-256 of the link's secret and
// its expiry) and last visit of the console's list. The CLI and the collector both change it, each change under
// an exclusive flock(2) of owners.json.lock and written durably (package
// internal/durable).
package owners

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/chatconsent/chatconsent/internal/durable"
)

// EnrolmentTTL is how long the link that `chatconsent owner add` prints
// works.
const EnrolmentTTL = 15 * time.Minute

// Errors of the owner store.
var (
	ErrOwnerExists    = errors.New("an owner of this name exists")
	ErrNoSuchOwner    = errors.New("no owner of this name")
	ErrBadOwnerName   = errors.New("not an owner name (1 to 64 letters, digits, . _ @ -, starting with a letter or digit)")
	ErrEnrolmentUsed  = errors.New("this enrolment link was used or replaced")
	ErrEnrolmentStale = errors.New("this enrolment link has expired")
)

// ownerNameRe is collector.ValidOwnerName's rule, the name withdrawals
// record in "by".
var ownerNameRe = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}._@-]{0,63}$`)

// Owner is one person who may sign in to the console. Their name is the
// owner's own data (it is recorded in "by" of what they do), never a data
// subject's.
type Owner struct {
	// Name is how the owner is known, e.g. a login or first name.
	Name string `json:"name"`
	// ID is 16 random bytes, hex: the WebAuthn user handle.
	ID string `json:"id"`
	// Added is when `owner add` created the owner (UTC).
	Added time.Time `json:"added"`
	// Credentials are the owner's passkeys.
	Credentials []webauthn.Credential `json:"credentials,omitempty"`
	// Enrolment is the pending enrolment link, if any.
	Enrolment *Enrolment `json:"enrolment,omitempty"`
	// LastVisit is when the owner last looked at the console's list
	// (UTC): what came after it is marked as new at their next visit.
	LastVisit time.Time `json:"last_visit,omitzero"`
}

// Enrolment is a one-time link to register a passkey: the SHA-256 of its
// secret (the secret itself is only in the printed link) and its expiry.
type Enrolment struct {
	Hash    string    `json:"hash"`
	Expires time.Time `json:"expires"`
}

// ownersFile is DATA/owners.json.
type ownersFile struct {
	// V is the file's format version, 1.
	V      int     `json:"v"`
	Owners []Owner `json:"owners"`
}

// Store reads and writes the owners file (config.Paths.Owners). The CLI
// and the collector both change it: every change holds an exclusive lock
// on the file's lock file (PATH.lock) and is written durably; readers
// read the whole file each time (it holds a handful of owners), so the
// collector sees an `owner remove` at the next request.
type Store struct {
	path string
}

// OpenStore returns the store of the owners file at path; the file need
// not exist.
func OpenStore(path string) *Store { return &Store{path: path} }

// Owners returns every owner, in the order they were added.
func (s *Store) Owners() ([]Owner, error) {
	f, err := s.read()
	return f.Owners, err
}

func (s *Store) read() (ownersFile, error) {
	var f ownersFile
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return ownersFile{V: 1}, nil
	}
	if err != nil {
		return f, fmt.Errorf("read owners: %w", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("read owners %s: %w (restore it from the backup, or remove it and add the owners again)", s.path, err)
	}
	if f.V != 1 {
		return f, fmt.Errorf("read owners %s: format version %d, this chatconsent reads 1", s.path, f.V)
	}
	return f, nil
}

// update applies fn to the file under the lock and writes the result.
func (s *Store) update(fn func(*ownersFile) error) error {
	unlock, err := lockFile(s.path + ".lock")
	if err != nil {
		return fmt.Errorf("lock owners: %w", err)
	}
	defer unlock()
	f, err := s.read()
	if err != nil {
		return err
	}
	if err := fn(&f); err != nil {
		return err
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFile(s.path, append(b, '\n'), 0o600)
}

// newSecret returns n random bytes, base64url.
func newSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte("chatconsent owner enrolment v1\x00" + secret))
	return hex.EncodeToString(h[:])
}

// Add creates the owner name with an enrolment valid until now +
// [EnrolmentTTL] and returns the enrolment's secret (for the link). An
// owner of that name who has no passkey yet gets a new link (the old one
// stops working); one with a passkey is [ErrOwnerExists].
func (s *Store) Add(name string, now time.Time) (secret string, err error) {
	if !ownerNameRe.MatchString(name) {
		return "", fmt.Errorf("%w: %q", ErrBadOwnerName, name)
	}
	secret = newSecret(32)
	en := &Enrolment{Hash: hashSecret(secret), Expires: now.Add(EnrolmentTTL).UTC()}
	err = s.update(func(f *ownersFile) error {
		for i := range f.Owners {
			if f.Owners[i].Name == name {
				if len(f.Owners[i].Credentials) > 0 {
					return fmt.Errorf("%w: %q", ErrOwnerExists, name)
				}
				f.Owners[i].Enrolment = en
				return nil
			}
		}
		id := make([]byte, 16)
		rand.Read(id)
		f.Owners = append(f.Owners, Owner{Name: name, ID: hex.EncodeToString(id), Added: now.UTC(), Enrolment: en})
		return nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Remove deletes the owner name and their passkeys; their sessions end at
// their next request.
func (s *Store) Remove(name string) error {
	return s.update(func(f *ownersFile) error {
		i := slices.IndexFunc(f.Owners, func(o Owner) bool { return o.Name == name })
		if i < 0 {
			return fmt.Errorf("%w: %q", ErrNoSuchOwner, name)
		}
		f.Owners = slices.Delete(f.Owners, i, i+1)
		return nil
	})
}

// ByID returns the owner with the user handle id (hex), or nil.
func (s *Store) ByID(id string) (*Owner, error) {
	owners, err := s.Owners()
	if err != nil {
		return nil, err
	}
	for i := range owners {
		if owners[i].ID == id {
			return &owners[i], nil
		}
	}
	return nil, nil
}

// Enrolling returns the owner whose pending enrolment has secret, if it
// is still valid at now: [ErrEnrolmentUsed] for an unknown or used
// secret, [ErrEnrolmentStale] for an expired one.
func (s *Store) Enrolling(secret string, now time.Time) (*Owner, error) {
	owners, err := s.Owners()
	if err != nil {
		return nil, err
	}
	return findEnrolment(owners, secret, now)
}

func findEnrolment(owners []Owner, secret string, now time.Time) (*Owner, error) {
	h := hashSecret(secret)
	for i := range owners {
		en := owners[i].Enrolment
		if en == nil || subtle.ConstantTimeCompare([]byte(en.Hash), []byte(h)) != 1 {
			continue
		}
		if !now.Before(en.Expires) {
			return nil, ErrEnrolmentStale
		}
		return &owners[i], nil
	}
	return nil, ErrEnrolmentUsed
}

// Enrol adds cred to the owner whose enrolment has secret and ends the
// enrolment, in one locked update: a link works once.
func (s *Store) Enrol(secret string, now time.Time, cred webauthn.Credential) (*Owner, error) {
	var got Owner
	err := s.update(func(f *ownersFile) error {
		o, err := findEnrolment(f.Owners, secret, now)
		if err != nil {
			return err
		}
		o.Enrolment = nil
		o.Credentials = append(o.Credentials, cred)
		got = *o
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &got, nil
}

// UpdateCredential stores cred (its sign count and flags after a sign-in)
// for the owner id.
func (s *Store) UpdateCredential(id string, cred webauthn.Credential) error {
	return s.update(func(f *ownersFile) error {
		for i := range f.Owners {
			if f.Owners[i].ID != id {
				continue
			}
			for j := range f.Owners[i].Credentials {
				if string(f.Owners[i].Credentials[j].ID) == string(cred.ID) {
					f.Owners[i].Credentials[j] = cred
				}
			}
			return nil
		}
		return ErrNoSuchOwner
	})
}

// Visited stores at as the last visit of the owner id.
func (s *Store) Visited(id string, at time.Time) error {
	return s.update(func(f *ownersFile) error {
		for i := range f.Owners {
			if f.Owners[i].ID == id {
				f.Owners[i].LastVisit = at.UTC()
				return nil
			}
		}
		return ErrNoSuchOwner
	})
}

// ValidName reports whether name can name an owner: the rule of the log's
// "by" (collector.ValidOwnerName).
func ValidName(name string) bool { return ownerNameRe.MatchString(name) }
