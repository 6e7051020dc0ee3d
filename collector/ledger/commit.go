package ledger

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Personal fields of a record that version 2 replaces by commitments: the
// field names inside a disclosure.
const (
	FieldName      = "name"
	FieldPhone     = "phone"
	FieldEmail     = "email"
	FieldClientIP  = "client_ip"
	FieldUserAgent = "user_agent"
	FieldToken     = "token"
	// FieldNote is the owner's free-text note on an event they recorded:
	// it may name the person, so version 2 commits to it too.
	FieldNote = "note"
)

// ErrDisclosure is wrapped by the errors of [ParseDisclosure] and
// [Disclose]: a disclosure that is malformed or does not open one of the
// record's commitments.
var ErrDisclosure = errors.New("disclosure does not open the record")

// Disclosure is the opening of one commitment, as IETF SD-JWT's salted
// disclosures: a random salt, the field's name and its value. Its text
// form ([Disclosure.Encode]) is the base64url encoding without padding of
// the JSON array ["SALT","FIELD","VALUE"]; the commitment in the record is
// [Commitment] of that text.
type Disclosure struct {
	Salt, Field, Value string
}

// saltBytes is the salt's size: 128 bits, as SD-JWT recommends.
const saltBytes = 16

// Encode returns the disclosure's text form.
func (d Disclosure) Encode() string {
	var buf [256]byte
	b := append(buf[:0], '[')
	b = appendJSONString(b, d.Salt)
	b = append(b, ',')
	b = appendJSONString(b, d.Field)
	b = append(b, ',')
	b = appendJSONString(b, d.Value)
	b = append(b, ']')
	return base64.RawURLEncoding.EncodeToString(b)
}

// appendJSONString appends s as encoding/json marshals a string: a text of
// printable ASCII other than the characters it escapes ("\, <, > and &)
// and of valid UTF-8 beyond ASCII other than U+2028 and U+2029 is copied
// as it is, between quotes; anything else goes through json.Marshal.
// (TestAppendJSONString and FuzzAppendJSONString hold it to json.Marshal.)
func appendJSONString(dst []byte, s string) []byte {
	plain := utf8.ValidString(s)
	for i := 0; plain && i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&':
			plain = false
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9): // U+2028, U+2029
			plain = false
		}
	}
	if !plain {
		b, _ := json.Marshal(s)
		return append(dst, b...)
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// Commitment returns the commitment to a disclosure's text form: the
// base64url encoding without padding of the SHA-256 of its ASCII bytes.
func Commitment(disclosure string) string {
	h := sha256.Sum256([]byte(disclosure))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// ParseDisclosure decodes a disclosure's text form strictly: canonical
// base64url without padding, a JSON array of exactly three strings, a salt
// of 16 bytes in canonical base64url and a known field name. Errors wrap
// [ErrDisclosure].
func ParseDisclosure(s string) (Disclosure, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || base64.RawURLEncoding.EncodeToString(b) != s {
		return Disclosure{}, fmt.Errorf("%w: not base64url", ErrDisclosure)
	}
	var arr []string
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&arr); err != nil || dec.More() || len(arr) != 3 {
		return Disclosure{}, fmt.Errorf("%w: not a JSON array of salt, field and value", ErrDisclosure)
	}
	d := Disclosure{arr[0], arr[1], arr[2]}
	salt, err := base64.RawURLEncoding.Strict().DecodeString(d.Salt)
	if err != nil || len(salt) != saltBytes || base64.RawURLEncoding.EncodeToString(salt) != d.Salt {
		return Disclosure{}, fmt.Errorf("%w: salt is not %d bytes of base64url", ErrDisclosure, saltBytes)
	}
	if !slices.Contains(personalFields, d.Field) {
		return Disclosure{}, fmt.Errorf("%w: unknown field %q", ErrDisclosure, d.Field)
	}
	return d, nil
}

var personalFields = []string{FieldName, FieldPhone, FieldEmail, FieldClientIP, FieldUserAgent, FieldToken, FieldNote}

// Seal returns rec as version 2 stores it: every personal field that is
// set (name, phone, email, client address, user agent, invite token, the
// owner's note) is
// cleared and replaced by a commitment in SD (sorted), under a fresh
// random salt per field. disclosures open them, in the order of
// [FieldName] … [FieldNote]. rec itself is not changed.
func Seal(rec Record) (sealed Record, disclosures []string, err error) {
	var arr [7][2]string
	vals := arr[:0]
	if s := rec.Subject; s != nil {
		vals = append(vals, [2]string{FieldName, s.Name}, [2]string{FieldPhone, s.Phone})
		if s.Email != "" {
			vals = append(vals, [2]string{FieldEmail, s.Email})
		}
	}
	for _, f := range [][2]string{{FieldClientIP, rec.ClientIP}, {FieldUserAgent, rec.UserAgent}, {FieldToken, rec.Token}, {FieldNote, rec.Note}} {
		if f[1] != "" {
			vals = append(vals, f)
		}
	}
	rec.Subject, rec.ClientIP, rec.UserAgent, rec.Token, rec.Note = nil, "", "", "", ""
	rec.SD = nil
	if len(vals) == 0 {
		return rec, nil, nil
	}
	// One read of the random source for all salts.
	var salts [7 * saltBytes]byte
	if _, err := rand.Read(salts[:len(vals)*saltBytes]); err != nil {
		return rec, nil, fmt.Errorf("salt: %w", err)
	}
	disclosures = make([]string, len(vals))
	rec.SD = make([]string, len(vals))
	for i, v := range vals {
		salt := salts[i*saltBytes : (i+1)*saltBytes]
		d := Disclosure{base64.RawURLEncoding.EncodeToString(salt), v[0], v[1]}.Encode()
		disclosures[i] = d
		rec.SD[i] = Commitment(d)
	}
	slices.Sort(rec.SD)
	return rec, disclosures, nil
}

// Disclose opens a version-2 record with disclosures: each must open one
// of rec.SD's commitments (none twice), and its value is set in rec's
// field (Subject, ClientIP, UserAgent, Token, Note). Errors wrap [ErrDisclosure]
// and leave rec unchanged.
func Disclose(rec *Record, disclosures []string) error {
	out := *rec
	if out.Subject != nil {
		s := *out.Subject
		out.Subject = &s
	}
	seen := map[string]bool{}
	for i, s := range disclosures {
		d, err := ParseDisclosure(s)
		if err != nil {
			return fmt.Errorf("disclosure %d: %w", i+1, err)
		}
		c := Commitment(s)
		if _, ok := slices.BinarySearch(rec.SD, c); !ok {
			return fmt.Errorf("disclosure %d (%s): %w: its commitment is not in record %s", i+1, d.Field, ErrDisclosure, rec.ID)
		}
		if seen[d.Field] || seen[c] {
			return fmt.Errorf("disclosure %d: %w: field %s disclosed twice", i+1, ErrDisclosure, d.Field)
		}
		seen[d.Field], seen[c] = true, true
		d.Set(&out)
	}
	*rec = out
	return nil
}

// Set sets the field of rec that d discloses (Subject's Name, Phone or
// Email, ClientIP, UserAgent, Token, Note; Subject made if nil), without
// checking it against rec's commitments (that is [Disclose]'s job). An
// unknown field changes nothing.
func (d Disclosure) Set(rec *Record) {
	switch d.Field {
	case FieldName, FieldPhone, FieldEmail:
		if rec.Subject == nil {
			rec.Subject = &Subject{}
		}
		switch d.Field {
		case FieldName:
			rec.Subject.Name = d.Value
		case FieldPhone:
			rec.Subject.Phone = d.Value
		default:
			rec.Subject.Email = d.Value
		}
	case FieldClientIP:
		rec.ClientIP = d.Value
	case FieldUserAgent:
		rec.UserAgent = d.Value
	case FieldToken:
		rec.Token = d.Value
	case FieldNote:
		rec.Note = d.Value
	}
}

// checkFields refuses a version-2 record that holds a personal field in clear
// or whose commitments are not canonical (sorted, unique, 32 bytes of
// base64url each), and a version-1 record with commitments.
func checkFields(rec *Record) error {
	if err := checkOwnerFields(rec); err != nil {
		return err
	}
	if rec.V == FormatV1 {
		if rec.SD != nil {
			return errors.New("a version 1 record has no commitments (sd)")
		}
		if rec.History != 0 || rec.Migrated != "" || rec.Type == TypeMigration {
			return errors.New("a version 1 record is no migration and no re-record")
		}
		return nil
	}
	if err := checkMigration(rec); err != nil {
		return err
	}
	switch {
	case rec.Subject != nil:
		return errors.New("a version 2 record holds no subject in clear")
	case rec.ClientIP != "" || rec.UserAgent != "" || rec.Token != "" || rec.Note != "":
		return errors.New("a version 2 record holds no client address, user agent, token or note in clear")
	case rec.SD != nil && len(rec.SD) == 0:
		return errors.New("sd is empty")
	}
	for i, c := range rec.SD {
		b, err := base64.RawURLEncoding.Strict().DecodeString(c)
		if err != nil || len(b) != sha256.Size || base64.RawURLEncoding.EncodeToString(b) != c {
			return fmt.Errorf("sd %d is not a SHA-256 in base64url", i+1)
		}
		if i > 0 && rec.SD[i-1] >= c {
			return errors.New("sd is not sorted and unique")
		}
	}
	return nil
}

// checkOwnerFields refuses an owner record ([TypeOwner]) that is not
// version 2 or lacks its action, owner or by, and action or owner on any
// other record.
func checkOwnerFields(rec *Record) error {
	if rec.Type != TypeOwner {
		if rec.Action != "" || rec.Owner != "" {
			return errors.New("only an owner record has action and owner")
		}
		return nil
	}
	switch {
	case rec.V == FormatV1:
		return errors.New("owner records exist from version 2 on")
	case !slices.Contains(OwnerActions, rec.Action):
		return fmt.Errorf("owner record: action %q is not one of %v", rec.Action, OwnerActions)
	case rec.Owner == "" || rec.By == "":
		return errors.New("owner record: owner and by are required")
	case rec.SD != nil || rec.Purposes != nil || rec.Decision != "" || rec.Ref != "" || rec.Erased != nil || rec.Expires != nil:
		return errors.New("owner record: only action, owner, by and invite describe it")
	case (rec.Action == "invited") != (rec.Invite != ""):
		return errors.New("owner record: an invite id goes with action invited, and only with it")
	case rec.Invite != "" && !isID(rec.Invite):
		return errors.New("owner record: the invite id is not 32 lower-case hex digits")
	}
	return nil
}

// isID reports whether s is a record or invite id: 32 lower-case hex
// digits.
func isID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
