package collector

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/phone"
	"github.com/chatconsent/chatconsent/internal/records"
)

// Owner actions: a withdrawal that reached the owner by phone, WhatsApp,
// e-mail, letter or in person, recorded by them (GDPR Art. 7(3): the
// withdrawal counts however it arrives). The collector is the log's only
// writer, so the CLI asks the running collector through its owner socket
// (owner_socket.go), or, when none runs, opens the collector in its own
// process and calls [Server.RecordWithdrawal] itself.

// WithdrawalChannels are the values of [OwnerWithdrawal.Via]: the ways a
// withdrawal can reach the owner, as the generated notice offers them.
var WithdrawalChannels = []string{"phone", "whatsapp", "email", "letter", "in-person"}

// OwnerWithdrawal is a withdrawal the owner records for a data subject.
type OwnerWithdrawal struct {
	// Phone is the number as typed (normalised like the form does), or
	// the 32 digits of a decision's or withdrawal's record id.
	Phone string `json:"phone"`
	// Purposes to withdraw; empty only with All.
	Purposes []string `json:"purpose,omitempty"`
	// All withdraws every purpose in force: it must be asked for, so that
	// a forgotten --purpose never withdraws everything.
	All bool `json:"all,omitempty"`
	// Via is one of [WithdrawalChannels].
	Via string `json:"via"`
	// Note is the owner's note (at most [MaxOwnerNote] characters).
	Note string `json:"note,omitempty"`
	// By names the owner recording it (see [ValidOwnerName]).
	By string `json:"by"`
}

// OwnerWithdrawn is what [Server.RecordWithdrawal] did.
type OwnerWithdrawn struct {
	// ID is the withdrawal's record id; Ref the decision it refers to.
	ID  string `json:"id"`
	Ref string `json:"ref"`
	// Phone is the number, E.164.
	Phone string `json:"phone"`
	// Withdrawn lists the purposes withdrawn; StillGranted what is left.
	Withdrawn    []string `json:"withdrawn"`
	StillGranted []string `json:"still_granted"`
	// Receipt is the withdrawal receipt's file (DATA/receipts/ID.pdf).
	Receipt string `json:"receipt"`
	// Mailed is true when the receipt was queued for the person's e-mail
	// address; MailOff when no [smtp] is configured.
	Mailed  bool `json:"mailed"`
	MailOff bool `json:"mail_off"`
}

// MaxOwnerNote is the longest note, in characters.
const MaxOwnerNote = 500

// Errors of [Server.RecordWithdrawal], wrapped in a [*WithdrawalError].
var (
	ErrNoSuchNumber   = errors.New("no decision recorded for this number")
	ErrNothingInForce = errors.New("no consent is in force for this number")
	ErrNotInForce     = errors.New("consent to this purpose is not in force")
	ErrUnknownPurpose = errors.New("no such purpose")
	ErrPurposeMissing = errors.New("no purpose given")
	ErrBadChannel     = errors.New("not a channel")
	ErrBadNumber      = errors.New("not a phone number")
	ErrBadOwner       = errors.New("not an owner name")
	ErrBadNote        = errors.New("note not usable")
)

// WithdrawalError is why an owner's withdrawal was refused; nothing was
// written. InForce lists the purposes in force for the number, where known.
type WithdrawalError struct {
	Err     error
	Detail  string // the value at fault, e.g. the purpose id
	InForce []string
}

func (e *WithdrawalError) Error() string {
	msg := e.Err.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

func (e *WithdrawalError) Unwrap() error { return e.Err }

var ownerNameRe = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}._@-]{0,63}$`)

// ValidOwnerName reports whether name can name an owner in the log: 1 to
// 64 letters, digits and ". _ @ -", starting with a letter or digit (a
// login name, a first name).
func ValidOwnerName(name string) bool { return ownerNameRe.MatchString(name) }

// RecordWithdrawal appends a withdrawal the owner received (w.Via) for the
// number w.Phone (or, given all 32 digits of a record id there, for that
// decision's number, also after its erasure), naming the owner w.By: of w.Purposes, or with w.All of
// every purpose in force. It refers to the number's latest decision (whose
// purposes are the ones in force, see package records), stamps the
// withdrawal receipt and hands it to the mailer (the person's copy when
// the decision gave an e-mail address). Errors are a [*WithdrawalError]
// for what the owner asked wrong; then nothing is written.
func (s *Server) RecordWithdrawal(ctx context.Context, w OwnerWithdrawal) (*OwnerWithdrawn, error) {
	refuse := func(err error, detail string, inForce []string) (*OwnerWithdrawn, error) {
		return nil, &WithdrawalError{Err: err, Detail: detail, InForce: inForce}
	}
	if !slices.Contains(WithdrawalChannels, w.Via) {
		return refuse(ErrBadChannel, fmt.Sprintf("%q (want one of %s)", w.Via, strings.Join(WithdrawalChannels, ", ")), nil)
	}
	if !ValidOwnerName(w.By) {
		return refuse(ErrBadOwner, fmt.Sprintf("%q (1 to 64 letters, digits, . _ @ -)", w.By), nil)
	}
	w.Note = strings.TrimSpace(w.Note)
	if c := checkText(w.Note, MaxOwnerNote); c != "" {
		return refuse(ErrBadNote, strings.ReplaceAll(c, "_", " "), nil)
	}
	if w.All && len(w.Purposes) > 0 {
		return refuse(ErrPurposeMissing, "give purposes or all, not both", nil)
	}
	var number, ref string
	if id, ok := records.NormalizeRecordID(w.Phone); ok && len(id) == 32 && s.hasDecision(s.decisionOf(id)) {
		// A record id (all 32 digits) of a decision or withdrawal: the way
		// to an erased person's consent, which no number finds any more.
		ref = s.decisionOf(id)
	} else {
		n, err := phone.Parse(w.Phone, s.o.DefaultRegion)
		if err != nil {
			return refuse(ErrBadNumber, fmt.Sprintf("%q: %v", w.Phone, err), nil)
		}
		number = n
		// Outside the withdrawal lock: a whole pass over the log. A
		// decision appended meanwhile changes nothing below, since what is
		// in force is kept per number.
		if ref, err = s.latestDecision(number); err != nil {
			return nil, err
		}
		if ref == "" {
			return refuse(ErrNoSuchNumber, number, nil)
		}
	}
	s.proc.wmu.Lock()
	defer s.proc.wmu.Unlock()
	d, left := s.decision(ref)
	if d == nil {
		return refuse(ErrNoSuchNumber, number, nil)
	}
	who := number
	if number == "" { // by record id: the decision's number, unless erased
		number, who = "erased", "an erased person (decision "+d.ID+")"
		if sub := liveSubject(d.Subject); sub != nil {
			number, who = sub.Phone, sub.Phone
		}
	}
	if len(left) == 0 {
		return refuse(ErrNothingInForce, who, nil)
	}
	if !w.All && len(w.Purposes) == 0 {
		return refuse(ErrPurposeMissing, "", left)
	}
	for _, p := range w.Purposes {
		if !slices.Contains(s.o.Config.PurposeIDs(), p) && !slices.Contains(left, p) {
			return refuse(ErrUnknownPurpose, p, left)
		}
		if !slices.Contains(left, p) {
			return refuse(ErrNotInForce, p, left)
		}
	}
	var purposes []string
	for _, p := range left { // the configured order
		if w.All || slices.Contains(w.Purposes, p) {
			purposes = append(purposes, p)
		}
	}
	rec := ledger.Record{
		Type: ledger.TypeWithdrawal, ID: newID(), Time: s.o.Now().UTC(), Decision: ledger.Withdrawn,
		Purposes: purposes, Subject: liveSubject(d.Subject), Lang: d.Lang, TextVersion: d.TextVersion,
		Ref: d.ID, Via: w.Via, By: w.By, Note: w.Note,
	}
	entries, err := s.appendRecord(ctx, rec, nil)
	if err != nil {
		return nil, fmt.Errorf("append the withdrawal to the log: %w", err)
	}
	e := entries[0]
	s.o.Logger.Info("withdrawal recorded", "id", e.Record.ID, "seq", e.Record.Seq, "ref", d.ID, "via", w.Via, "by", w.By)
	if err := s.writeReceipt(e); err != nil {
		// Recorded all the same; the receipt is made again on demand or at
		// the next start.
		s.o.Logger.Error("write receipt", "id", e.Record.ID, "err", err)
	}
	_, still := s.decision(d.ID)
	if still == nil {
		still = []string{}
	}
	return &OwnerWithdrawn{
		ID: e.Record.ID, Ref: d.ID, Phone: number, Withdrawn: purposes, StillGranted: still,
		Receipt: s.receiptPath(e.Record.ID),
		Mailed:  s.o.Deliver != nil && d.Subject != nil && d.Subject.Email != "",
		MailOff: s.o.Deliver == nil,
	}, nil
}

// latestDecision returns the id of the last decision recorded for phone
// (E.164), or "" if there is none. It reads the whole log: owner actions
// are rare, and the collector's index keeps no list per number (its
// memory grows with every contact).
func (s *Server) latestDecision(phone string) (string, error) {
	// Version 2: the private store knows the number's records, the index
	// which of them are decisions.
	if s.o.Private != nil {
		if _, ids, err := s.o.Private.Subject(phone); err == nil {
			s.proc.mu.Lock()
			latest := ""
			for i := len(ids) - 1; i >= 0 && latest == ""; i-- {
				if s.proc.book.HasDecision(ids[i]) {
					latest = ids[i]
				}
			}
			s.proc.mu.Unlock()
			if latest != "" {
				return latest, nil
			}
		}
	}
	id := ""
	err := s.log.Scan(func(rec *ledger.Record, _ []byte) error {
		if rec.Type != ledger.TypeDecision {
			return nil
		}
		// A version-2 record names nobody: its number is in the private store.
		if _, err := openRecord(s.o.Private, rec); err != nil {
			return err
		}
		if rec.Subject != nil && rec.Subject.Phone == phone {
			id = rec.ID
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("find the number's decisions: %w", err)
	}
	return id, nil
}
