package translog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	f_log "github.com/transparency-dev/formats/log"
	f_note "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is an opened, verified checkpoint (C2SP tlog-checkpoint in a
// signed note).
type Checkpoint struct {
	Origin string
	Size   uint64
	Hash   []byte // RFC 6962 root hash, 32 bytes
	// Cosigners are the names of the witnesses whose cosignature verified.
	Cosigners []string
	// Raw is the signed note as read.
	Raw []byte
}

// ErrBadCheckpoint is wrapped by [OpenCheckpoint] for a checkpoint that does
// not parse or verify.
var ErrBadCheckpoint = errors.New("bad checkpoint")

// ErrQuorum is wrapped when a checkpoint lacks the demanded witness
// cosignatures.
var ErrQuorum = errors.New("too few witness cosignatures")

// OpenCheckpoint verifies raw: the log's signature by logV, the origin equal
// to logV's name, a size and a 32-byte root; and, if quorum > 0, valid
// cosignatures of at least quorum of witnesses. A signature that names a
// known key but does not verify is an error (damaged), also a witness's.
func OpenCheckpoint(raw []byte, logV note.Verifier, witnesses []note.Verifier, quorum int) (*Checkpoint, error) {
	if len(raw) > 1<<16 {
		return nil, fmt.Errorf("checkpoint of %d bytes: %w", len(raw), ErrBadCheckpoint)
	}
	if err := canonicalSigs(raw); err != nil {
		return nil, err
	}
	vs := append([]note.Verifier{logV}, witnesses...)
	cp, _, n, err := f_log.ParseCheckpoint(raw, logV.Name(), logV, witnesses...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
	}
	if len(cp.Hash) != 32 {
		return nil, fmt.Errorf("%w: root hash of %d bytes, want 32", ErrBadCheckpoint, len(cp.Hash))
	}
	for _, s := range n.UnverifiedSigs {
		for _, v := range vs {
			if s.Name == v.Name() {
				return nil, fmt.Errorf("%w: the signature of %q does not verify with its key (damaged or another key)", ErrBadCheckpoint, s.Name)
			}
		}
	}
	out := &Checkpoint{Origin: cp.Origin, Size: cp.Size, Hash: cp.Hash, Raw: raw}
	seen := map[string]bool{}
	for _, s := range n.Sigs {
		if s.Name == logV.Name() && s.Hash == logV.KeyHash() {
			continue
		}
		for _, w := range witnesses {
			if s.Name == w.Name() && s.Hash == w.KeyHash() && !seen[s.Name] {
				seen[s.Name] = true
				out.Cosigners = append(out.Cosigners, s.Name)
			}
		}
	}
	if quorum > 0 && len(out.Cosigners) < quorum {
		return out, fmt.Errorf("checkpoint of size %d has %d of the %d witness cosignatures demanded (%s): %w",
			cp.Size, len(out.Cosigners), quorum, strings.Join(out.Cosigners, ", "), ErrQuorum)
	}
	return out, nil
}

// canonicalSigs refuses signature lines whose base64 is not canonical (RFC
// 4648 §3.5: unused bits zero): note.Open decodes leniently, so such a byte
// change would go unnoticed.
func canonicalSigs(raw []byte) error {
	_, sigs, ok := bytes.Cut(raw, []byte("\n\n"))
	if !ok {
		return nil // note.Open names the problem
	}
	for _, line := range bytes.Split(bytes.TrimSuffix(sigs, []byte("\n")), []byte("\n")) {
		i := bytes.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if _, err := base64.StdEncoding.Strict().DecodeString(string(line[i+1:])); err != nil {
			return fmt.Errorf("%w: a signature line is not canonical base64", ErrBadCheckpoint)
		}
	}
	return nil
}

// ParseWitnessKey reads a witness's verifier key (text or a file holding
// it): an Ed25519 signed-note key or a cosignature/v1 (type 0x04) key.
func ParseWitnessKey(arg string) (note.Verifier, error) {
	text := arg
	if b, err := os.ReadFile(arg); err == nil {
		text = string(b)
	}
	v, err := f_note.NewVerifierForCosignatureV1(strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("witness key %q: not a signed-note verifier key (name+hash+base64) nor a file holding one: %w", short(arg), err)
	}
	return v, nil
}

// ReadCheckpointFile reads a checkpoint kept elsewhere (a file holding the
// signed note).
func ReadCheckpointFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		return nil, fmt.Errorf("%s: a checkpoint ends with a newline; is the file cut?", path)
	}
	return b, nil
}
