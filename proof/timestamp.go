package proof

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/collector/translog"
)

// ErrNoTimestamp: the receipt carries no time-stamp token (the collector
// has no log.timestamp_url, or the authority did not answer in time).
var ErrNoTimestamp = errors.New("the receipt carries no time-stamp token")

// TimestampFile is the receipt attachment holding the RFC 3161 token
// (TimeStampResp, DER) over the checkpoint of the receipt's inclusion
// proof, as the collector attaches it (and [VerifyReceipt] makes it
// again). It is one more attachment beside record.json and
// inclusion.tlog-proof; receipts without it stay as they were.
func TimestampFile(tsr []byte) receipt.File {
	return receipt.File{Name: translog.TimestampAttachment, Desc: "RFC 3161 time-stamp token over the checkpoint in inclusion.tlog-proof", Data: tsr}
}

// CheckTimestamp checks a receipt's time-stamp token offline: it is over
// exactly the checkpoint of the receipt's inclusion proof (inc, from
// [CheckInclusion]) and verifies against roots. A receipt without one is
// [ErrNoTimestamp].
func CheckTimestamp(pdf []byte, inc *Inclusion, roots *x509.CertPool) (*translog.Stamp, error) {
	tsr, err := receipt.AttachmentNamed(pdf, translog.TimestampAttachment)
	if errors.Is(err, receipt.ErrNoRecord) {
		return nil, ErrNoTimestamp
	}
	if err != nil {
		return nil, fmt.Errorf("time-stamp token: %w", err)
	}
	st, err := translog.VerifyTimestamp(tsr, inc.Checkpoint.Raw, roots)
	if err != nil {
		return nil, fmt.Errorf("time-stamp token of the checkpoint of size %d: %w", inc.Checkpoint.Size, err)
	}
	st.Size = inc.Checkpoint.Size
	return st, nil
}
