package proof

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
)

// ReceiptCheck is what [VerifyReceipt] checks a receipt against.
type ReceiptCheck struct {
	// Config and Stamper re-make the receipt from its record: the
	// controller, the purposes' titles, the site's URLs and the template,
	// as the collector that stamped it had them.
	Config  *config.Config
	Stamper *receipt.Stamper
	// ConsentURLs maps a language to the consent page links that a
	// receipt of a refusal may print (absolute from "collect",
	// root-relative from "serve"). A grant's or a withdrawal's receipt
	// prints a personal withdrawal link instead, whose secret only the
	// private key can make: it is read from the PDF (see [VerifyReceipt]).
	ConsentURLs map[string][]string
	// Key is the collector's public signing key.
	Key ed25519.PublicKey
	// Log, if not nil, is the decisions log; the record must be its line
	// number seq, byte for byte, and the whole log must verify.
	Log io.Reader
}

// ReceiptResult is what a valid receipt proves.
type ReceiptResult struct {
	// Record is the attached, signed record; Line its exact bytes.
	Record *ledger.Record
	Line   []byte
	// Identical reports that the receipt is byte for byte the one made
	// again from its record; otherwise it has the same content, written
	// differently (e.g. saved again by a PDF tool).
	Identical bool
	// LogRecords is the number of records in the log, if one was given.
	LogRecords uint64
}

// Errors of [VerifyReceipt] that callers may branch on; the receipt and
// ledger packages' sentinel errors (receipt.ErrNoRecord,
// receipt.ErrTextDiffers, receipt.ErrDiffers, ledger.ErrWrongKey,
// ledger.ErrBadSignature …) are wrapped as they are.
var (
	// ErrNotInLog: the log does not hold the receipt's record at its
	// sequence number.
	ErrNotInLog = errors.New("the record is not in the log")
	// ErrNotDecision: the attached record is not a decision.
	ErrNotDecision = errors.New("the attached record is not a consent decision")
)

// personalLink returns the personal withdrawal link of record id that
// pdf prints (".../v1/withdraw?id=ID&k=MAC", possibly wrapped over two
// lines), or "".
func personalLink(pdf []byte, id string) string {
	lines, err := receipt.Text(pdf)
	if err != nil {
		return ""
	}
	re, err := regexp.Compile(`https?://[^\s]*?v1/withdraw\?id=` + regexp.QuoteMeta(id) + `&k=[A-Za-z0-9_-]{43}`)
	if err != nil {
		return ""
	}
	return re.FindString(strings.Join(lines, ""))
}

// VerifyReceipt checks a PDF receipt offline, in this order:
//
//  1. it carries a "record.json" attachment, a log line whose Ed25519
//     signature verifies with c.Key (so neither the record nor the key's
//     fingerprint in it was changed); for a version-2 record also an
//     "openings.json" whose every disclosure opens one of the record's
//     commitments (so name, number and e-mail are the signed ones);
//  2. what it shows is what that record says: the receipt is made again
//     from the record, the configuration and the template, and the two
//     are compared (receipt.Compare: equal bytes, or the same document
//     structure; the first differing printed line is named). The
//     withdrawal link is not part of the record: a personal link is taken
//     from the PDF (checked to name this record, but its secret needs the
//     private key), a consent page link from c.ConsentURLs;
//  3. if c.Log is given, the log verifies (signatures, sequence, hash
//     chain) and its line number seq is exactly the attached line.
//
// The first failing check is returned, wrapped with what was checked
// ("attached record: …", "printed text: …", "log: …").
func VerifyReceipt(pdf []byte, c ReceiptCheck) (*ReceiptResult, error) {
	line, err := receipt.Attachment(pdf)
	if err != nil {
		return nil, fmt.Errorf("attached record: %w", err)
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	rec, err := ledger.ParseLine(line, c.Key)
	if err != nil {
		return nil, fmt.Errorf("attached record: %w", err)
	}
	var ds []string
	if rec.V >= ledger.FormatVersion && rec.SD != nil {
		// Version 2: who decided is in the attached openings, each checked
		// against a commitment the signature covers.
		if ds, err = receipt.Openings(pdf); err != nil {
			return nil, fmt.Errorf("attached openings: %w", err)
		}
		if err := ledger.Disclose(rec, ds); err != nil {
			return nil, fmt.Errorf("attached openings: %w", err)
		}
	}
	e := ledger.Entry{Record: *rec, Line: line, Disclosures: ds}
	var data func(withdrawalURL string) receipt.Data
	personalFor := rec.ID
	switch rec.Type {
	case ledger.TypeDecision:
		data = func(u string) receipt.Data { return ReceiptData(c.Config, e, u) }
	case ledger.TypeWithdrawal:
		data = func(u string) receipt.Data { return WithdrawalReceiptData(c.Config, e, u) }
		personalFor = rec.Ref
	default:
		return nil, fmt.Errorf("attached record %s: %w (type %q)", rec.ID, ErrNotDecision, rec.Type)
	}
	res := &ReceiptResult{Record: rec, Line: line}

	// The withdrawal link is not in the record: try the personal link the
	// PDF shows for this record (its secret cannot be checked with the
	// public key alone), then the consent pages. The first candidate's
	// difference is reported if none matches.
	var cands []string
	if u := personalLink(pdf, personalFor); u != "" {
		cands = append(cands, u)
	}
	cands = append(cands, c.ConsentURLs[rec.Lang]...)
	if len(cands) == 0 {
		cands = []string{""}
	}
	var firstErr error
	for _, u := range cands {
		want, err := c.Stamper.Stamp(data(u))
		if err != nil {
			return nil, fmt.Errorf("printed text: make the receipt again from record %s: %w", rec.ID, err)
		}
		err = receipt.Compare(pdf, want)
		if err == nil {
			res.Identical, firstErr = bytes.Equal(pdf, want), nil
			break
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, fmt.Errorf("printed text: %w", firstErr)
	}

	if c.Log != nil {
		var found []byte
		head, err := ledger.Verify(c.Log, c.Key, func(r *ledger.Record, l []byte) error {
			if r.Seq == rec.Seq {
				found = bytes.Clone(l)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("log: %w", err)
		}
		res.LogRecords = head.Count
		switch {
		case found == nil:
			return nil, fmt.Errorf("log: %w: record %s has seq %d, the log has %d records", ErrNotInLog, rec.ID, rec.Seq, head.Count)
		case !bytes.Equal(found, line):
			return nil, fmt.Errorf("log: %w: line %d of the log is another record than %s", ErrNotInLog, rec.Seq, rec.ID)
		}
	}
	return res, nil
}
