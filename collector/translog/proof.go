package translog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// ProofHeader is the first line of a tlog-proof file.
const ProofHeader = "c2sp.org/tlog-proof@v1"

// Proof is an offline-verifiable proof that an entry is in the log
// (C2SP tlog-proof): the entry's index, its RFC 6962 inclusion proof, and
// the checkpoint (with the witnesses' cosignatures) it is proven against.
//
// The file, written by [Proof.Marshal], is
//
//	c2sp.org/tlog-proof@v1
//	index <decimal, no leading zeros>
//	<base64 SHA-256 hash, one per line, from the leaf's sibling up>
//	<empty line>
//	<the checkpoint, verbatim: signed note with cosignatures>
//
// (an optional "extra <base64>" line after the header is read but not
// trusted; we write none).
type Proof struct {
	Index      uint64
	Hashes     [][]byte
	Checkpoint []byte
	Extra      []byte
}

// ErrBadProof is wrapped by [ParseProof] and [VerifyProof] errors.
var ErrBadProof = errors.New("bad transparency-log proof")

// Marshal returns the proof as a tlog-proof file.
func (p *Proof) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(ProofHeader + "\n")
	if len(p.Extra) > 0 {
		b.WriteString("extra " + base64.StdEncoding.EncodeToString(p.Extra) + "\n")
	}
	b.WriteString("index " + strconv.FormatUint(p.Index, 10) + "\n")
	for _, h := range p.Hashes {
		b.WriteString(base64.StdEncoding.EncodeToString(h) + "\n")
	}
	b.WriteString("\n")
	b.Write(p.Checkpoint)
	return b.Bytes()
}

// ParseProof parses a tlog-proof file strictly: canonical base64 (RFC 4648
// §4, padded), 32-byte hashes, at most 63 of them, no leading zeros.
func ParseProof(b []byte) (*Proof, error) {
	bad := func(line int, format string, args ...any) (*Proof, error) {
		return nil, fmt.Errorf("%w: line %d: %s", ErrBadProof, line, fmt.Sprintf(format, args...))
	}
	if len(b) > 1<<16 {
		return nil, fmt.Errorf("%w: %d bytes, more than a proof can be", ErrBadProof, len(b))
	}
	text := string(b)
	head, cp, ok := strings.Cut(text, "\n\n")
	if !ok {
		return bad(1, "no empty line before the checkpoint")
	}
	lines := strings.Split(head, "\n")
	if lines[0] != ProofHeader {
		return bad(1, "want %q", ProofHeader)
	}
	p := &Proof{Checkpoint: []byte(cp)}
	i := 1
	if i < len(lines) && strings.HasPrefix(lines[i], "extra ") {
		e, err := base64.StdEncoding.Strict().DecodeString(lines[i][len("extra "):])
		if err != nil || len(e) == 0 {
			return bad(i+1, "extra data is not base64")
		}
		p.Extra = e
		i++
	}
	if i >= len(lines) || !strings.HasPrefix(lines[i], "index ") {
		return bad(i+1, `want "index N"`)
	}
	n := lines[i][len("index "):]
	idx, err := strconv.ParseUint(n, 10, 64)
	if err != nil || strconv.FormatUint(idx, 10) != n {
		return bad(i+1, "index %q is not a decimal number without leading zeros", short(n))
	}
	p.Index = idx
	for i++; i < len(lines); i++ {
		h, err := base64.StdEncoding.Strict().DecodeString(lines[i])
		if err != nil || len(h) != 32 || base64.StdEncoding.EncodeToString(h) != lines[i] {
			return bad(i+1, "not a base64 SHA-256 hash")
		}
		p.Hashes = append(p.Hashes, h)
	}
	if len(p.Hashes) > 63 {
		return bad(len(lines), "%d proof hashes, at most 63", len(p.Hashes))
	}
	return p, nil
}

// VerifyProof checks that entry is in the log: proofFile parses, its
// checkpoint verifies with logV (and has quorum cosignatures of
// witnesses), and the inclusion proof leads from entry's leaf hash at the
// proof's index to the checkpoint's root. It returns the proof and the
// checkpoint.
func VerifyProof(entry, proofFile []byte, logV note.Verifier, witnesses []note.Verifier, quorum int) (*Proof, *Checkpoint, error) {
	p, err := ParseProof(proofFile)
	if err != nil {
		return nil, nil, err
	}
	cp, err := OpenCheckpoint(p.Checkpoint, logV, witnesses, quorum)
	if err != nil {
		return p, nil, err
	}
	if p.Index >= cp.Size {
		return p, cp, fmt.Errorf("%w: entry %d is outside the checkpoint's %d entries", ErrBadProof, p.Index, cp.Size)
	}
	leaf := rfc6962.DefaultHasher.HashLeaf(entry)
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.Index, cp.Size, leaf, p.Hashes, cp.Hash); err != nil {
		return p, cp, fmt.Errorf("%w: entry %d is not in the log of size %d signed by %s: %v", ErrBadProof, p.Index, cp.Size, cp.Origin, err)
	}
	return p, cp, nil
}

// ProofAttachment is the name of the receipt PDF's attachment that holds the
// record's tlog-proof (beside "record.json", the signed line itself).
const ProofAttachment = "inclusion.tlog-proof"

// CheckReceipt checks a receipt's proof offline: line (the attached signed
// record, without "\n") is entry seq−1 of the log whose checkpoint, signed
// by logV and cosigned by quorum of witnesses, is in proofFile.
func CheckReceipt(line []byte, seq uint64, proofFile []byte, logV note.Verifier, witnesses []note.Verifier, quorum int) (*Checkpoint, error) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	p, cp, err := VerifyProof(line, proofFile, logV, witnesses, quorum)
	if err != nil {
		return cp, err
	}
	if seq == 0 || p.Index != seq-1 {
		return cp, fmt.Errorf("%w: the proof is for entry %d, the record is number %d (entry %d)", ErrBadProof, p.Index, seq, seq-1)
	}
	return cp, nil
}
