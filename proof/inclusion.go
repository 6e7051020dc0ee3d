package proof

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/collector/translog"
	"golang.org/x/mod/sumdb/note"
)

// ErrNoProof: the receipt carries no inclusion proof (a receipt of a
// version-1 log, or one made before a checkpoint covered its record).
var ErrNoProof = errors.New("the receipt carries no inclusion proof")

// LogCheck names the transparency log a receipt's inclusion proof must
// verify against: its checkpoint verifier key (signed-note format, printed
// by keygen and doctor, published with the site) and, optionally, the
// witnesses of which Quorum must have cosigned the checkpoint.
type LogCheck struct {
	Key       note.Verifier
	Witnesses []note.Verifier
	Quorum    int
}

// Inclusion is what a receipt's valid inclusion proof shows: the attached
// record (number Seq, id ID) is entry Seq−1 of the log whose checkpoint
// (signed by the log's key, cosigned by Checkpoint.Cosigners) the proof
// holds.
type Inclusion struct {
	ID         string
	Seq        uint64
	Checkpoint *translog.Checkpoint
}

// CheckInclusion checks a receipt's attached inclusion proof
// ("inclusion.tlog-proof") offline against c: the attached record line is
// the entry its number names in a checkpoint signed with c.Key. It does not
// check the record's own signature (see [VerifyReceipt]); the proof alone
// shows that the log's operator published exactly this line. A receipt
// without a proof is [ErrNoProof].
func CheckInclusion(pdf []byte, c LogCheck) (*Inclusion, error) {
	line, err := receipt.Attachment(pdf)
	if err != nil {
		return nil, fmt.Errorf("attached record: %w", err)
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	pf, err := receipt.AttachmentNamed(pdf, translog.ProofAttachment)
	if errors.Is(err, receipt.ErrNoRecord) {
		return nil, ErrNoProof
	}
	if err != nil {
		return nil, fmt.Errorf("inclusion proof: %w", err)
	}
	var env struct {
		Rec struct {
			Seq uint64 `json:"seq"`
			ID  string `json:"id"`
		} `json:"rec"`
	}
	if err := json.Unmarshal(line, &env); err != nil || env.Rec.Seq == 0 {
		return nil, fmt.Errorf("attached record: no record number in it")
	}
	cp, err := translog.CheckReceipt(line, env.Rec.Seq, pf, c.Key, c.Witnesses, c.Quorum)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof: %w", err)
	}
	return &Inclusion{ID: env.Rec.ID, Seq: env.Rec.Seq, Checkpoint: cp}, nil
}

// ProofFile is the receipt attachment holding a tlog-proof file, as the
// collector attaches it (and [VerifyReceipt] makes it again).
func ProofFile(tlogProof []byte) receipt.File {
	return receipt.File{Name: translog.ProofAttachment, Desc: "inclusion proof (C2SP tlog-proof) in a signed checkpoint of the transparency log", Data: tlogProof}
}
