package collector

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/durable"
	"github.com/chatconsent/chatconsent/internal/records"
)

// Sending a receipt again.
//
// A receipt link expires (Options.ReceiptTTL); the receipt itself stays
// in DATA/receipts. When a person asks for it again, quoting the record
// id ("Vorgangsnummer") from the thank-you page, the receipt or its mail,
// the owner runs "chatconsent receipt resend ID": [Server.ResendReceipt]
// makes a fresh link (the same kind the thank-you page shows, valid for
// ReceiptTTL from now; old links stay as they were) and mails the stored
// receipt with it again, to the person's address from the private store
// and to the owner, through the outbox under new mail ids.

// Errors of [Server.ResendReceipt].
var (
	// ErrBadRecordID: not a record id in any spelling NormalizeRecordID
	// accepts.
	ErrBadRecordID = errors.New("not a record id (Vorgangsnummer)")
	// ErrNoSuchRecord: a well-formed id the log does not hold.
	ErrNoSuchRecord = errors.New("no record with this id in the log")
	// ErrNoReceipt: the record has no receipt (an erasure, an invite's
	// opening) or its openings are missing from the private store.
	ErrNoReceipt = errors.New("this record has no receipt")
	// ErrErased: the person's personal data were erased (GDPR Art. 17),
	// their receipts with them.
	ErrErased = errors.New("the person was erased")
)

// ReceiptLink is a receipt link ([Server.ReceiptURL]) with the time it
// was made and the time it expires (UTC).
type ReceiptLink struct {
	URL           string
	Expires, Made time.Time
}

// Resender is implemented by an [Options.Deliver] that can send a receipt
// again ([*Mailer] does): the owner's copy and, if d.Email is set, the
// person's, with link, under mail ids new for each resend.
type Resender interface {
	Resend(d receipt.Data, pdf []byte, link ReceiptLink) (Resent, error)
}

// Resent is what a [Resender] queued: the resend's number (1 for the
// first resend of a record) and the addresses, Subject "" when the
// record knows no e-mail address.
type Resent struct {
	N       int
	Subject string
	Owner   string
}

// OwnerResend asks for a receipt again (POST /owner/v1/resend).
type OwnerResend struct {
	// ID is the record id as the person or the owner has it, in any
	// spelling [NormalizeRecordID] accepts, or the receipt's file name or
	// link (…/ID.pdf?…, consent-ID.pdf).
	ID string `json:"id"`
}

// OwnerResent is what [Server.ResendReceipt] did.
type OwnerResent struct {
	// ID is the record id (32 hex digits); Type ledger.TypeDecision or
	// ledger.TypeWithdrawal, Decision its decision, Time when it was
	// recorded.
	ID       string    `json:"id"`
	Type     string    `json:"type"`
	Decision string    `json:"decision"`
	Time     time.Time `json:"time"`
	// Receipt is the receipt's file (DATA/receipts/ID.pdf); Made is true
	// when it was stamped just now (it had not been made yet).
	Receipt string `json:"receipt"`
	Made    bool   `json:"made,omitempty"`
	// URL is the fresh receipt link, valid until Expires.
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
	// MailOff: no [smtp] is configured, nothing was sent (the receipt
	// and the link are there all the same). Otherwise Resend numbers the
	// resend, SubjectTo is the person's address ("" if none is known)
	// and OwnerTo the owner's (smtp.owner_to).
	MailOff   bool   `json:"mail_off"`
	Resend    int    `json:"resend,omitempty"`
	SubjectTo string `json:"subject_to,omitempty"`
	OwnerTo   string `json:"owner_to,omitempty"`
}

// ResendReceipt makes the receipt of record req.ID available again and
// sends it again: a fresh link (see [ReceiptLink]) and, with mail
// configured, the stored receipt (stamped now if it was never made) to
// the person's e-mail address, if the record has one, and to the owner.
// Errors: [ErrBadRecordID], [ErrNoSuchRecord], [ErrNoReceipt],
// [ErrErased] (its message gives the date), or the log's, store's or
// outbox's. The collector's log names the record id only.
func (s *Server) ResendReceipt(ctx context.Context, req OwnerResend) (*OwnerResent, error) {
	// No erasure between the look-up and the mail (it deletes receipts
	// and mails under the write lock).
	s.eraseMu.RLock()
	defer s.eraseMu.RUnlock()
	e, pdf, made, err := s.receiptOf(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	id, rec, path := e.Record.ID, &e.Record, s.receiptPath(e.Record.ID)
	link := s.receiptLink(id)
	res := &OwnerResent{
		ID: id, Type: rec.Type, Decision: rec.Decision, Time: rec.Time,
		Receipt: path, Made: made, URL: link.URL, Expires: link.Expires,
		MailOff: true,
	}
	if rs, ok := s.o.Deliver.(Resender); ok && s.o.Deliver != nil {
		sent, err := rs.Resend(s.ReceiptData(e), pdf, link)
		if err != nil {
			return nil, fmt.Errorf("mail receipt %s again: %w", id, err)
		}
		res.MailOff, res.Resend, res.SubjectTo, res.OwnerTo = false, sent.N, sent.Subject, sent.Owner
	}
	if made {
		if err := durable.WriteFile(path, pdf, 0o600); err != nil {
			return nil, fmt.Errorf("store receipt: %w", err)
		}
	}
	s.o.Logger.Info("receipt sent again", "id", id, "resend", res.Resend, "to_subject", res.SubjectTo != "", "mail_off", res.MailOff, "made", made)
	return res, nil
}

// erasedError is [ErrErased] for record id, dated by the erasure record
// eid (in Berlin time, as the owner's commands show dates).
func (s *Server) erasedError(id, eid string) error {
	when := "an unknown date"
	if er, err := s.log.Lookup(eid); err == nil {
		when = er.Record.Time.In(records.Berlin()).Format("2006-01-02")
	}
	return fmt.Errorf("%w on %s (erasure record %s): record %s has no receipt any more, nothing to send", ErrErased, when, eid, id)
}

// recordIDIn returns the record id in s: s itself as [NormalizeRecordID]
// reads it, or, for a receipt's file name or link pasted whole
// ("consent-ID.pdf", "https://…/v1/receipts/ID.pdf?e=…&k=…"), the ID in it.
func recordIDIn(s string) string {
	s = strings.TrimSpace(s)
	if base, ok := strings.CutSuffix(strings.SplitN(s, "?", 2)[0], ".pdf"); ok {
		base = base[strings.LastIndex(base, "/")+1:]
		return NormalizeRecordID(strings.TrimPrefix(base, "consent-"))
	}
	return NormalizeRecordID(s)
}

// receiptOf returns the record of the receipt idIn (any spelling
// [recordIDIn] reads) and the receipt: DATA/receipts/ID.pdf, or, if it
// was not made yet (still queued, or lost in a crash), stamped now (made
// true; not stored: the caller stores it after its mails are queued, so a
// stored receipt means its mail is). The caller holds s.eraseMu (read).
// Errors as [Server.ResendReceipt]'s.
func (s *Server) receiptOf(ctx context.Context, idIn string) (e ledger.Entry, pdf []byte, made bool, err error) {
	id := recordIDIn(idIn)
	if !recordIDRe.MatchString(id) {
		return e, nil, false, fmt.Errorf("%w: %q: want the 32 letters and digits (0–9, a–f) of the receipt's Vorgangsnummer; spaces and dashes between them do not matter", ErrBadRecordID, idIn)
	}
	if err := ctx.Err(); err != nil {
		return e, nil, false, err
	}
	e, err = s.log.Lookup(id)
	if errors.Is(err, ledger.ErrNotFound) {
		return e, nil, false, fmt.Errorf("%w: %s", ErrNoSuchRecord, id)
	}
	if err != nil {
		return e, nil, false, fmt.Errorf("look up record %s: %w", id, err)
	}
	rec := &e.Record
	if rec.Type != ledger.TypeDecision && rec.Type != ledger.TypeWithdrawal {
		return e, nil, false, fmt.Errorf("%w: %s is a record of type %s", ErrNoReceipt, id, rec.Type)
	}
	if e.Disclosures, err = openRecord(s.o.Private, rec); err != nil {
		return e, nil, false, err
	}
	if rec.Subject != nil && records.IsErased(rec.Subject.Phone) {
		return e, nil, false, s.erasedError(id, strings.TrimPrefix(rec.Subject.Phone, records.ErasedPrefix))
	}
	if !receiptable(rec) {
		return e, nil, false, fmt.Errorf("%w: the private store holds no openings of record %s", ErrNoReceipt, id)
	}
	pdf, err = os.ReadFile(s.receiptPath(id))
	if errors.Is(err, os.ErrNotExist) {
		d := s.ReceiptData(e)
		s.withProof(&d, e)
		if pdf, err = s.o.Stamper.Stamp(d); err != nil {
			return e, nil, false, fmt.Errorf("stamp receipt %s: %w", id, err)
		}
		return e, pdf, true, nil
	} else if err != nil {
		return e, nil, false, fmt.Errorf("read receipt: %w", err)
	}
	return e, pdf, false, nil
}

// OwnerReceipt returns the receipt of record id (a decision or a
// withdrawal) for the owner console's download: the stored
// DATA/receipts/ID.pdf, or the receipt stamped now if it is not made yet.
// Errors as [Server.ResendReceipt]'s: [ErrBadRecordID], [ErrNoSuchRecord],
// [ErrNoReceipt], [ErrErased].
func (s *Server) OwnerReceipt(ctx context.Context, id string) ([]byte, error) {
	s.eraseMu.RLock()
	defer s.eraseMu.RUnlock()
	_, pdf, _, err := s.receiptOf(ctx, id)
	return pdf, err
}
