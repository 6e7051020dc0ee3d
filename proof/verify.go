package proof

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/collector/translog"
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
	// Tlog, if not nil, names the transparency log: the receipt's
	// inclusion proof must verify against it ([CheckInclusion]).
	Tlog *LogCheck
	// Attachments checks further files a receipt may carry, by attachment
	// name, beyond those the receipt is made again with (record, openings,
	// inclusion proof): each is called with the verified record, its line
	// and the attachment's bytes; an error fails the receipt. An attachment
	// that is neither made again nor has a checker fails it too (a reader
	// would take it for part of the proof).
	Attachments map[string]AttachmentChecker
}

// AttachmentChecker checks one extra attachment of a receipt against the
// receipt's verified record (see [ReceiptCheck.Attachments]).
type AttachmentChecker func(rec *ledger.Record, line, attachment []byte) error

// ReceiptResult is what a valid receipt proves.
type ReceiptResult struct {
	// Record is the attached, signed record; Line its exact bytes.
	Record *ledger.Record
	Line   []byte
	// Identical reports that the receipt is byte for byte the one made
	// again from its record; otherwise it has the same content, written
	// differently (e.g. saved again by a PDF tool).
	Identical bool
	// Layout is the name of the frozen layout the receipt was made with
	// (receipt.LayoutOf) and made again with.
	Layout string
	// Checked lists the extra attachments that their checkers accepted,
	// sorted.
	Checked []string
	// LogRecords is the number of records in the log, if one was given.
	LogRecords uint64
	// Inclusion is the checked inclusion proof, if ReceiptCheck.Tlog was
	// given.
	Inclusion *Inclusion
}

// Errors of [VerifyReceipt] that callers may branch on; the receipt and
// ledger packages' sentinel errors (receipt.ErrNoRecord,
// receipt.ErrTextDiffers, receipt.ErrDiffers, ledger.ErrWrongKey,
// ledger.ErrBadSignature …) are wrapped as they are.
var (
	// ErrNotInLog: the log does not hold the receipt's record at its
	// sequence number.
	ErrNotInLog = errors.New("the record is not in the log")
	// ErrUnknownAttachment: the receipt carries a file that no checker
	// of [ReceiptCheck.Attachments] knows.
	ErrUnknownAttachment = errors.New("not a part of a receipt that this verifier can check")
	// ErrNotDecision: the attached record is not a decision.
	ErrNotDecision = errors.New("the attached record is not a consent decision")
)

// personalLink returns the personal withdrawal link of record id that
// pdf prints (".../v1/withdraw?id=ID&k=MAC", possibly wrapped over two
// lines; from layout 3 on the target of a link annotation, the page
// printing only its short form), or "".
func personalLink(pdf []byte, id string) string {
	re, err := regexp.Compile(`^https?://[^\s]*?v1/withdraw\?id=` + regexp.QuoteMeta(id) + `&k=[A-Za-z0-9_-]{43}$`)
	if err != nil {
		return ""
	}
	if links, err := receipt.Links(pdf); err == nil {
		for _, l := range links {
			if re.MatchString(l) {
				return l
			}
		}
	}
	lines, err := receipt.Text(pdf)
	if err != nil {
		return ""
	}
	re, err = regexp.Compile(`https?://[^\s]*?v1/withdraw\?id=` + regexp.QuoteMeta(id) + `&k=[A-Za-z0-9_-]{43}`)
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
//     from the record, the configuration and the template with the
//     frozen layout the receipt names (receipt.LayoutOf), and the two are
//     compared (receipt.CompareWith: what each page shows, in order, with
//     positions within half a point, and the attachments; not how the
//     file is written, so a re-saved receipt verifies; the first differing
//     printed line is named). Any other attachment must be accepted by
//     its checker in c.Attachments. The
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
		// What is still granted after the withdrawal (layout 3) is not in
		// the record: it is read from the receipt, among the configured
		// purposes the withdrawal did not withdraw, and the comparison
		// below checks that the receipt lists exactly these.
		var cands []receipt.Purpose
		for _, p := range c.Config.Purposes {
			if !slices.Contains(rec.Purposes, p.ID) {
				cands = append(cands, StillGranted(c.Config, rec.Lang, []string{p.ID})...)
			}
		}
		still, err := c.Stamper.StillGrantedShown(pdf, rec.Lang, cands)
		if err != nil {
			return nil, fmt.Errorf("printed text: %w", err)
		}
		data = func(u string) receipt.Data {
			d := WithdrawalReceiptData(c.Config, e, u)
			d.StillGranted = still
			return d
		}
		personalFor = rec.Ref
	default:
		return nil, fmt.Errorf("attached record %s: %w (type %q)", rec.ID, ErrNotDecision, rec.Type)
	}
	layout, err := receipt.LayoutOf(pdf)
	if err != nil {
		return nil, fmt.Errorf("printed text: %w", err)
	}
	res := &ReceiptResult{Record: rec, Line: line, Layout: layout}
	var unknown []string
	extra := func(name string) bool {
		if c.Attachments[name] == nil {
			return false
		}
		unknown = append(unknown, name)
		return true
	}
	// An attached inclusion proof is made again as it is (it is checked
	// on its own below).
	if pf, err := receipt.AttachmentNamed(pdf, translog.ProofAttachment); err == nil {
		base := data
		data = func(u string) receipt.Data {
			d := base(u)
			d.Extra = append(d.Extra, ProofFile(pf))
			return d
		}
	}
	if tsr, err := receipt.AttachmentNamed(pdf, translog.TimestampAttachment); err == nil {
		base := data
		data = func(u string) receipt.Data {
			d := base(u)
			d.Extra = append(d.Extra, TimestampFile(tsr))
			return d
		}
	}

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
		want, err := c.Stamper.StampLayout(layout, data(u))
		if err != nil {
			return nil, fmt.Errorf("printed text: make the receipt again from record %s: %w", rec.ID, err)
		}
		unknown = unknown[:0]
		err = receipt.CompareWith(pdf, want, extra)
		if err == nil {
			res.Identical, firstErr = bytes.Equal(pdf, want), nil
			break
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		if errors.Is(firstErr, receipt.ErrDiffers) && strings.Contains(firstErr.Error(), "unexpected attachment") {
			return nil, fmt.Errorf("%w: %w", firstErr, ErrUnknownAttachment)
		}
		return nil, fmt.Errorf("printed text: %w", firstErr)
	}
	if len(unknown) > 0 {
		atts, err := receipt.Attachments(pdf)
		if err != nil {
			return nil, fmt.Errorf("attachments: %w", err)
		}
		slices.Sort(unknown)
		for _, name := range slices.Compact(unknown) {
			if err := c.Attachments[name](rec, line, atts[name]); err != nil {
				return nil, fmt.Errorf("attachment %q: %w", name, err)
			}
			res.Checked = append(res.Checked, name)
		}
	}

	if c.Log != nil {
		var found []byte
		head, err := ledger.VerifyRedacted(c.Log, ledger.NewVerifier(c.Key), func(r *ledger.Record, l []byte) error {
			if r.Seq == rec.Seq {
				found = bytes.Clone(l)
			}
			return nil
		}, func(seq uint64, hash string, _ []byte) error {
			// The person was erased after a migration: the log keeps
			// only their line's hash, which their receipt's line has.
			if seq == rec.Seq && hash == ledger.LineHash(line) {
				found = line
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
	if c.Tlog != nil {
		if res.Inclusion, err = CheckInclusion(pdf, *c.Tlog); err != nil {
			return nil, err
		}
	}
	return res, nil
}
