package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Format versions: [FormatVersion] is what [Log.Append] writes unless
// [Options].Version says otherwise; [FormatV1] logs (personal fields in
// clear) keep verifying forever.
const (
	FormatV1      = 1
	FormatVersion = 2
)

// Event types stored in [Record.Type].
const (
	// TypeDecision records a data subject's decision on the consent form.
	TypeDecision = "decision"
	// TypeInvite records that a personal invite link (package
	// collector/invite) was opened for the first time. Its ID is the
	// invite's id, Subject.Phone the number the invite is bound to, Token
	// the link's signed token and Expires its expiry.
	TypeInvite = "invite"
	// TypeWithdrawal records the withdrawal of consent (GDPR Art. 7(3)):
	// Ref names the decision, Purposes the purposes withdrawn, Decision is
	// [Withdrawn] and TextVersion repeats the decision's text version.
	TypeWithdrawal = "withdrawal"
	// TypeErasure records that the openings of the records in Erased were
	// destroyed (GDPR Art. 17): from then on nobody can tell whose they
	// were, except the person, from their receipt. It holds no personal
	// data.
	TypeErasure = "erasure"
	// TypeMigration starts the re-recording of a log's history (its
	// lines before this record, version 1 with personal data in clear) as
	// version-2 records: see [Migrate] and the package doc. Readers fold
	// the log from this record on; the lines before are history.
	TypeMigration = "migration"
	// TypeOwner records a change of who may act as owner in the console
	// (package collector/console), from version 2 on: Action is one of
	// [OwnerActions], Owner the owner's name and By who made the change
	// (the login name of whoever ran `chatconsent owner`, or the owner
	// for their own passkey). Owners' names are the controller's staff,
	// never data subjects; the record holds no personal data of theirs.
	TypeOwner = "owner"
)

// OwnerActions are the values of [Record.Action] on a [TypeOwner] record:
// the owner was added (an enrolment link made), enrolled a passkey, or was
// removed (their passkeys and sessions end); or the owner made a personal
// invite link in the console ("invited": Invite is its id, which the
// invite's opening record repeats with the number's commitment, so the
// owner record itself names nobody).
var OwnerActions = []string{"added", "enrolled", "removed", "invited"}

// Decisions stored in [Record.Decision].
const (
	Granted = "granted"
	Refused = "refused"
	// Withdrawn is the Decision of a [TypeWithdrawal] record.
	Withdrawn = "withdrawn"
)

// Record is one event in the log. Fields after Key describe the event; the
// first four are filled in by [Log.Append].
type Record struct {
	V    int    `json:"v"`
	Seq  uint64 `json:"seq"`
	Prev string `json:"prev"`
	Key  string `json:"key"`

	// Type is the kind of event, e.g. [TypeDecision].
	Type string `json:"type"`
	// ID is a random identifier (32 lower-case hex digits, 128 bits).
	ID string `json:"id"`
	// Time is when the collector accepted the event, in UTC, RFC 3339 with
	// nanoseconds.
	Time time.Time `json:"time"`
	// Decision is [Granted] or [Refused].
	Decision string `json:"decision,omitempty"`
	// Purposes lists the purpose ids the decision applies to: for a grant
	// the purposes the data subject ticked, for a refusal every configured
	// purpose.
	Purposes []string `json:"purposes,omitempty"`
	// Subject identifies the data subject.
	Subject *Subject `json:"subject,omitempty"`
	// Lang is the language the texts were shown in ("de", "en").
	Lang string `json:"lang,omitempty"`
	// TextVersion is the lower-case hex SHA-256 of the exact texts shown
	// (the generator's text archive names them by it).
	TextVersion string `json:"text_version,omitempty"`

	// The fields below were added after the first release of format
	// version 1; they are optional, so earlier lines still parse and
	// verify unchanged.

	// Invite is, on a decision or withdrawal made through a personal
	// invite link, the invite's id (the ID of its [TypeInvite] record).
	Invite string `json:"invite,omitempty"`
	// Ref is, on a withdrawal, the ID of the decision it withdraws from.
	Ref string `json:"ref,omitempty"`
	// Via is, on a withdrawal, how it reached the controller. The data
	// subject's own: "link" (the personal withdrawal link), "invite" (the
	// invite link) or "form" (number and record id typed into the
	// withdrawal page). Recorded by an owner (By is then set): "phone",
	// "whatsapp", "email", "letter" or "in-person".
	Via string `json:"via,omitempty"`
	// By names the owner who recorded the event (an owner action, e.g. a
	// withdrawal received by phone): the name the owner is known by to
	// chatconsent, never the data subject's.
	By string `json:"by,omitempty"`
	// Note is the owner's free-text note on an event they recorded (e.g.
	// "asked on the phone at 14:05"). It may hold personal data and is
	// treated like the subject's fields.
	Note string `json:"note,omitempty"`
	// Token is, on an invite, the signed invite token as it was sent: the
	// owner's signature over the number and expiry.
	Token string `json:"token,omitempty"`
	// Expires is, on an invite, when the invite stops being usable for a
	// decision (UTC).
	Expires *time.Time `json:"expires,omitempty"`
	// ClientIP is the address the decision came from, whole or truncated
	// (e.g. "203.0.113.0/24"), if the collector is configured to keep it.
	ClientIP string `json:"client_ip,omitempty"`
	// UserAgent is the browser's User-Agent header, if the collector is
	// configured to keep it.
	UserAgent string `json:"user_agent,omitempty"`

	// The fields below exist from version 2 on.

	// SD holds, in a version-2 record, the commitments to its personal
	// fields (see [Seal]), sorted; in the line, Subject, ClientIP,
	// UserAgent and Token are then empty. A record opened with [Disclose]
	// has both.
	SD []string `json:"sd,omitempty"`
	// Erased lists, on a [TypeErasure] record, the ids of the records
	// whose openings were destroyed.
	Erased []string `json:"erased,omitempty"`
	// Reason is, on an erasure, why: one of [ErasureReasons].
	Reason string `json:"reason,omitempty"`
	// History is, on a [TypeMigration] record, the number of lines before
	// it (the log's history, re-recorded after it); it equals Seq-1.
	History uint64 `json:"history,omitempty"`
	// Migrated is, on a [TypeMigration] record, the [LineHash] of the last
	// line before it (equal to Prev: the signed tie to the history); on a
	// re-record (the records after a migration record), the LineHash of
	// the history line it re-records.
	Migrated string `json:"migrated,omitempty"`
	// Action is, on a [TypeOwner] record, what changed: one of
	// [OwnerActions]; Owner names the owner it changed.
	Action string `json:"action,omitempty"`
	Owner  string `json:"owner,omitempty"`
}

// ErasureReasons are the values of [Record.Reason] on an erasure: the
// grounds of GDPR Art. 17(1) in a word, and "retention" for the end of the
// storage period (Art. 5(1)(e)). Free text could name a person, so the
// log takes none.
var ErasureReasons = []string{"request", "retention", "withdrawn", "objection", "unlawful", "legal", "child"}

// Subject is the data subject as they identified themselves.
type Subject struct {
	Name  string `json:"name"`
	Phone string `json:"phone"` // E.164, e.g. "+491701234567"
	Email string `json:"email,omitempty"`
}

// GetPhone returns s.Phone, or "" for a nil Subject.
func (s *Subject) GetPhone() string {
	if s == nil {
		return ""
	}
	return s.Phone
}

// Errors returned (wrapped in a [*LineError]) by [Verify] and [ParseLine].
var (
	ErrBadJSON      = errors.New("not a valid log line")
	ErrBadSignature = errors.New("signature does not match the record (a byte was changed)")
	ErrWrongKey     = errors.New("record was signed by another key")
	ErrBrokenChain  = errors.New("hash chain broken (a line was changed, dropped, inserted or reordered)")
	ErrSequence     = errors.New("sequence number out of order (a line was dropped, inserted or reordered)")
	ErrVersion      = errors.New("unsupported format version")
)

// LineError reports a problem with one line of a log. Line is 1-based.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

var (
	linePrefix = []byte(`{"rec":`)
	sigMarker  = []byte(`,"sig":"`)
	lineSuffix = []byte(`"}`)
)

// Fingerprint returns the key id stored in [Record.Key]: the lower-case hex
// SHA-256 of the 32-byte Ed25519 public key.
func Fingerprint(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:])
}

// LineHash returns the value the next line stores in "prev": the lower-case
// hex SHA-256 of line (without its trailing newline).
func LineHash(line []byte) string {
	h := sha256.Sum256(bytes.TrimSuffix(line, []byte("\n")))
	return hex.EncodeToString(h[:])
}

// encodeLine marshals rec, signs the bytes and returns the line without "\n".
func encodeLine(rec *Record, signer Signer) ([]byte, error) {
	rb, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	sig, err := signer.Sign(rb)
	if err != nil {
		return nil, fmt.Errorf("sign record: %w", err)
	}
	line := make([]byte, 0, len(rb)+120)
	line = append(line, linePrefix...)
	line = append(line, rb...)
	line = append(line, sigMarker...)
	line = base64.StdEncoding.AppendEncode(line, sig)
	line = append(line, lineSuffix...)
	return line, nil
}

// prepared is a record made ready for the writer by [Log.Append], in the
// caller's goroutine, so that the single writer only numbers, chains and
// signs: sealed (version 2) and marshalled with seq 0 and an empty prev,
// which [prepared.line] replaces.
type prepared struct {
	rec  Record   // as [Entry].Record: opened, with its commitments SD
	ds   []string // its disclosures (version 2)
	tail []byte   // the stored record's JSON after {"v":V,"seq":0,"prev":""
}

// prepare seals rec (unless version is [FormatV1]) and marshals the stored
// record as version, signed by the key named key.
func prepare(rec Record, version int, key string) (prepared, error) {
	rec.V, rec.Seq, rec.Prev, rec.Key = version, 0, "", key
	stored, ds := rec, []string(nil)
	if version != FormatV1 {
		var err error
		if stored, ds, err = Seal(rec); err != nil {
			return prepared{}, err
		}
		rec.SD = stored.SD
	}
	rb, err := json.Marshal(&stored)
	if err != nil {
		return prepared{}, fmt.Errorf("encode record: %w", err)
	}
	// The record's first fields are v, seq and prev (see [Record]).
	head := `{"v":` + strconv.Itoa(version) + `,"seq":0,"prev":""`
	if !bytes.HasPrefix(rb, []byte(head)) {
		return prepared{}, fmt.Errorf("encode record: does not start with %s", head)
	}
	return prepared{rec: rec, ds: ds, tail: rb[len(head):]}, nil
}

// line returns the signed line (without "\n") of p as record number seq
// after the line with hash prev: the bytes [encodeLine] makes of the
// record with Seq and Prev set, built without marshalling it again.
func (p *prepared) line(seq uint64, prev string, signer Signer) ([]byte, error) {
	line := make([]byte, 0, len(linePrefix)+len(`{"v":2,"seq":,"prev":""`)+20+len(prev)+len(p.tail)+len(sigMarker)+88+len(lineSuffix))
	line = append(line, linePrefix...)
	line = append(line, `{"v":`...)
	line = strconv.AppendInt(line, int64(p.rec.V), 10)
	line = append(line, `,"seq":`...)
	line = strconv.AppendUint(line, seq, 10)
	line = append(line, `,"prev":"`...)
	line = append(line, prev...) // a LineHash: lower-case hex, nothing to escape
	line = append(line, '"')
	line = append(line, p.tail...)
	sig, err := signer.Sign(line[len(linePrefix):])
	if err != nil {
		return nil, fmt.Errorf("sign record: %w", err)
	}
	line = append(line, sigMarker...)
	line = base64.StdEncoding.AppendEncode(line, sig)
	line = append(line, lineSuffix...)
	return line, nil
}

// ParseLine splits a line (without "\n") into its record, checking the
// layout, the JSON and the signature against pub. It does not check the
// chain; see [Verify]. Errors wrap [ErrBadJSON], [ErrVersion],
// [ErrWrongKey] or [ErrBadSignature].
func ParseLine(line []byte, pub ed25519.PublicKey) (*Record, error) {
	return ParseLineWith(line, NewVerifier(pub))
}

// ParseLineWith is [ParseLine] with any [Verifier]: the record's key must
// be v's Name.
func ParseLineWith(line []byte, v Verifier) (*Record, error) {
	if !bytes.HasPrefix(line, linePrefix) || !bytes.HasSuffix(line, lineSuffix) {
		return nil, fmt.Errorf("%w: want {\"rec\":…,\"sig\":\"…\"}", ErrBadJSON)
	}
	i := bytes.LastIndex(line, sigMarker)
	if i < len(linePrefix) || i+len(sigMarker) > len(line)-len(lineSuffix) {
		return nil, fmt.Errorf("%w: no signature", ErrBadJSON)
	}
	rb := line[len(linePrefix):i]
	sigText := line[i+len(sigMarker) : len(line)-len(lineSuffix)]
	// One encoding only: strict padding, and the re-encoding must give the
	// same text (the decoder skips "\r" and "\n" even in strict mode).
	sig, err := base64.StdEncoding.Strict().DecodeString(string(sigText))
	if err != nil || len(sig) != ed25519.SignatureSize || base64.StdEncoding.EncodeToString(sig) != string(sigText) {
		return nil, fmt.Errorf("%w: signature is not %d bytes in canonical base64", ErrBadJSON, ed25519.SignatureSize)
	}
	var rec Record
	dec := json.NewDecoder(bytes.NewReader(rb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("%w: record: %v", ErrBadJSON, err)
	}
	if dec.More() || len(rb) == 0 || rb[0] != '{' {
		return nil, fmt.Errorf("%w: record is not one JSON object", ErrBadJSON)
	}
	if rec.V != FormatV1 && rec.V != FormatVersion {
		return nil, fmt.Errorf("%w: %d", ErrVersion, rec.V)
	}
	if err := checkFields(&rec); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadJSON, err)
	}
	if rec.Key != v.Name() {
		return nil, fmt.Errorf("%w: key %.16s…, want %.16s…", ErrWrongKey, rec.Key, v.Name())
	}
	if !v.Verify(rb, sig) {
		return nil, ErrBadSignature
	}
	return &rec, nil
}
