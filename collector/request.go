package collector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chatconsent/chatconsent/internal/fields"
	"github.com/chatconsent/chatconsent/internal/phone"
	"github.com/chatconsent/chatconsent/proof"
)

// MaxBodyBytes bounds a decision request's body: a few KiB is plenty for the
// form's fields, and anything more is refused with 413.
const MaxBodyBytes = 8 << 10

// Field names of a decision, shared by the HTML form and the JSON body;
// the table of every field is package internal/fields.
const (
	FieldDecision    = fields.Decision
	FieldName        = fields.Name
	FieldPhone       = fields.Phone
	FieldEmail       = fields.Email
	FieldPurpose     = fields.Purpose
	FieldLang        = fields.Lang
	FieldTextVersion = fields.TextVersion
	// FieldHoneypot is a field hidden from people; bots fill it in.
	FieldHoneypot = fields.Honeypot
	// FieldInvite carries a personal invite token (package invite).
	FieldInvite = fields.Invite
)

// Request is a decoded, not yet validated, decision.
type Request struct {
	Decision    string   `json:"decision"`
	Name        string   `json:"name"`
	Phone       string   `json:"phone"`
	Email       string   `json:"email"`
	Purposes    []string `json:"purpose"`
	Lang        string   `json:"lang"`
	TextVersion string   `json:"text_version"`
	Honeypot    string   `json:"website"`
	Invite      string   `json:"invite"`
	// other holds the single-valued consent fields of internal/fields'
	// table that have no member above (a field added to the table): they
	// are decoded and checked by their row, and re-shown on the form; the
	// record stores the subject's typed fields only.
	other map[string]*string
}

// Other returns the value of a field of the table without a member.
func (req *Request) Other(name string) string {
	if p := req.other[name]; p != nil {
		return *p
	}
	return ""
}

// FieldError names one bad field. Code is a stable machine-readable reason
// that also selects the message shown to the data subject (theme string
// "err_"+Code).
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// numbers fills the message's {numbers} (the ways to write an
	// ambiguous phone number); never logged.
	numbers string
	// char fills {char} and {code} (the character of a name to blame,
	// and its U+XXXX); never logged.
	char rune
	// text, if not "", selects the message instead of Code (theme string
	// "err_"+text).
	text string
}

// RequestError is a request that could not be decoded at all (wrong content
// type, bad JSON, unknown or duplicate field); Status is the HTTP status.
type RequestError struct {
	Status int
	Field  string // the field at fault, if one is
	Msg    string
}

func (e *RequestError) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Msg
	}
	return e.Msg
}

// Encoding of a request, which selects the encoding of the answer.
const (
	encForm = iota
	encJSON
)

// decodeRequest reads a decision from r: application/x-www-form-urlencoded
// (the plain HTML form) or application/json with the same field names.
// Unknown fields, repeated single-valued fields and bodies over
// [MaxBodyBytes] are refused.
func decodeRequest(w http.ResponseWriter, r *http.Request) (*Request, int, error) {
	ct, body, err := readBody(w, r)
	if err != nil {
		return nil, body.enc, err
	}
	switch ct {
	case "application/x-www-form-urlencoded":
		req, err := decodeForm(body.b)
		return req, encForm, err
	default:
		req, err := DecodeJSON(body.b)
		return req, encJSON, err
	}
}

// rawBody is a request body read by readBody, with the encoding of the
// answer it asks for.
type rawBody struct {
	b   []byte
	enc int
}

// readBody reads a form or JSON body of at most [MaxBodyBytes]; other
// content types are refused with 415 (as a page for the other form
// encodings, multipart/form-data and text/plain).
func readBody(w http.ResponseWriter, r *http.Request) (string, rawBody, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		ct = ""
	}
	enc := encForm
	if ct == "application/json" {
		enc = encJSON
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	var body bytes.Buffer
	if _, err := body.ReadFrom(r.Body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return ct, rawBody{enc: enc}, &RequestError{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("body larger than %d bytes", MaxBodyBytes)}
		}
		return ct, rawBody{enc: enc}, &RequestError{Status: http.StatusBadRequest, Msg: "could not read body"}
	}
	switch ct {
	case "application/x-www-form-urlencoded", "application/json":
		return ct, rawBody{b: body.Bytes(), enc: enc}, nil
	default:
		// The other encodings an HTML form can use (HTML §4.10.21.7): a
		// person's browser gets a page, anything else JSON.
		enc := encJSON
		if ct == "multipart/form-data" || ct == "text/plain" {
			enc = encForm
		}
		return ct, rawBody{enc: enc}, &RequestError{Status: http.StatusUnsupportedMediaType, Msg: "content type must be application/x-www-form-urlencoded or application/json"}
	}
}

// DecodeForm parses an application/x-www-form-urlencoded body.
func decodeForm(b []byte) (*Request, error) {
	vals, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, &RequestError{Status: http.StatusBadRequest, Msg: "malformed form body"}
	}
	req := &Request{}
	if err := decodeFormFields(vals, req.fields(), &req.Purposes); err != nil {
		return nil, err
	}
	return req, nil
}

// fields maps each single-valued field of the consent form in
// internal/fields' table to where it is decoded.
func (req *Request) fields() map[string]*string { return req.fieldsIn(fields.All) }

func (req *Request) fieldsIn(table []fields.Field) map[string]*string {
	members := map[string]*string{
		FieldDecision: &req.Decision, FieldName: &req.Name, FieldPhone: &req.Phone,
		FieldEmail: &req.Email, FieldLang: &req.Lang, FieldTextVersion: &req.TextVersion,
		FieldHoneypot: &req.Honeypot, FieldInvite: &req.Invite,
	}
	return singleFields(table, fields.Consent, members, &req.other)
}

// singleFields returns, for the single-valued fields of form in table,
// where each is decoded: its request member in members, else a new string
// kept in *other. A member whose field is not in the table is not
// decoded (the decoders take the table's fields only).
func singleFields(table []fields.Field, form fields.Form, members map[string]*string, other *map[string]*string) map[string]*string {
	m := map[string]*string{}
	for i := range table { // not fields.OfTable: a copy of every row (200 bytes each) per request
		f := &table[i]
		if f.Forms&form == 0 || f.Repeated {
			continue
		}
		p, ok := members[f.Name]
		if !ok {
			if *other == nil {
				*other = map[string]*string{}
			}
			p = new(string)
			(*other)[f.Name] = p
		}
		m[f.Name] = p
	}
	return m
}

// decodeFormFields stores parsed form values: each name in single at most
// once, purpose repeated, nothing else.
func decodeFormFields(vals url.Values, single map[string]*string, purposes *[]string) error {
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the error names the same field every time
	for _, k := range keys {
		v := vals[k]
		if k == FieldPurpose {
			*purposes = v
			continue
		}
		p, ok := single[k]
		if !ok {
			return &RequestError{Status: http.StatusBadRequest, Field: safeName(k), Msg: "unknown field"}
		}
		if len(v) > 1 {
			return &RequestError{Status: http.StatusBadRequest, Field: k, Msg: "field given more than once"}
		}
		*p = v[0]
	}
	return nil
}

// DecodeJSON parses a JSON decision: one object, known fields only, each at
// most once, "purpose" an array of strings.
func DecodeJSON(b []byte) (*Request, error) {
	req := &Request{}
	if err := decodeJSONFields(b, req.fields(), &req.Purposes); err != nil {
		return nil, err
	}
	return req, nil
}

// decodeJSONFields decodes one JSON object whose members are the names in
// single (strings) and purpose (an array of strings), each at most once.
func decodeJSONFields(b []byte, single map[string]*string, purposes *[]string) error {
	if !utf8.Valid(b) {
		return &RequestError{Status: http.StatusBadRequest, Msg: "body is not valid UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return &RequestError{Status: http.StatusBadRequest, Msg: "body must be a JSON object"}
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return &RequestError{Status: http.StatusBadRequest, Msg: "malformed JSON"}
		}
		key, _ := tok.(string)
		if seen[key] {
			return &RequestError{Status: http.StatusBadRequest, Field: safeName(key), Msg: "field given more than once"}
		}
		seen[key] = true
		var dst any
		want := "a string"
		if key == FieldPurpose {
			dst, want = purposes, "an array of strings"
		} else if p, ok := single[key]; ok {
			dst = p
		} else {
			return &RequestError{Status: http.StatusBadRequest, Field: safeName(key), Msg: "unknown field"}
		}
		if err := dec.Decode(dst); err != nil {
			var ute *json.UnmarshalTypeError
			if !errors.As(err, &ute) { // cut off or not JSON at all
				return &RequestError{Status: http.StatusBadRequest, Msg: "malformed JSON"}
			}
			return &RequestError{Status: http.StatusBadRequest, Field: key, Msg: "must be " + want}
		}
	}
	if _, err := dec.Token(); err != nil {
		return &RequestError{Status: http.StatusBadRequest, Msg: "malformed JSON"}
	}
	// Only white space may follow the object (RFC 8259 §2).
	if len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) > 0 {
		return &RequestError{Status: http.StatusBadRequest, Msg: "body must hold exactly one JSON object"}
	}
	return nil
}

// safeName shortens and sanitises a client-supplied field name for an error
// message.
func safeName(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}

// Limits on text fields, in runes (from the field table).
const (
	maxName  = fields.MaxName
	maxPhone = fields.MaxPhone
	maxEmail = fields.MaxEmail
)

// checkText reports why s cannot be stored: invalid UTF-8, control
// characters, bidirectional overrides (which can make a stored name display
// as something else, CVE-2021-42574 "Trojan Source"), or too long.
func checkText(s string, max int) string {
	if !utf8.ValidString(s) {
		return "invalid_utf8"
	}
	if utf8.RuneCountInString(s) > max {
		return "too_long"
	}
	for _, r := range s {
		if r == utf8.RuneError {
			// U+FFFD: what a JSON decoder makes of a lone surrogate escape
			// ("\ud800"); the text is not what the person typed.
			return "invalid_utf8"
		}
		if unsafeRune(r) {
			return "control"
		}
	}
	return ""
}

// unsafeRune reports control characters and the invisible characters that
// change how text around them is displayed.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0xFEFF
}

// phoneError is the FieldError for a number phone.Parse refused: the
// code selects the message, and an ambiguous number's two writings fill
// its {numbers}.
func phoneError(field string, err error) FieldError {
	fe := FieldError{Field: field, Code: phone.Code(err)}
	var pe *phone.Error
	if errors.As(err, &pe) {
		fe.numbers = strings.Join(pe.Choices, " / ")
	}
	return fe
}

// message is fe's text in the strings t of one language.
func (fe FieldError) message(t map[string]string) string {
	char, code := "", ""
	if fe.char != 0 {
		char, code = string(fe.char), proof.CharCode(fe.char)
	}
	key := fe.Code
	if fe.text != "" {
		key = fe.text
	}
	return strings.NewReplacer("{numbers}", fe.numbers, "{char}", char, "{code}", code).Replace(t["err_"+key])
}

// validEmail accepts a bare address (no display name) of at most 254 bytes.
func validEmail(s string) bool {
	if len(s) > maxEmail {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".")
}

// checkOther checks the consent fields of table that the request has no
// member for by their row (fields.CheckText): a required one must not be
// empty (code NAME, theme string "err_NAME"), and the text must pass
// [checkText] with the row's limit (code NAME_invalid).
func checkOther(table []fields.Field, req *Request) []FieldError {
	var errs []FieldError
	for i := range table {
		f := &table[i]
		if _, ok := req.other[f.Name]; !ok || f.Forms&fields.Consent == 0 || f.Check != fields.CheckText {
			continue
		}
		v := req.Other(f.Name)
		switch {
		case f.Required && strings.TrimSpace(v) == "":
			errs = append(errs, FieldError{Field: f.Name, Code: f.Name})
		case v != "" && checkText(v, f.MaxRunes) != "":
			errs = append(errs, FieldError{Field: f.Name, Code: f.Name + "_invalid"})
		}
	}
	return errs
}

// otherValues are the values of req's fields without a member, to re-fill
// the form ([themes.FormValues].Other).
func otherValues(req *Request) map[string]string {
	if len(req.other) == 0 {
		return nil
	}
	m := map[string]string{}
	for k, p := range req.other {
		m[k] = *p
	}
	return m
}

// onPage reports whether the consent form shows field where a person can
// see it (an element with the field's name as id): its text inputs (from
// internal/fields' table), the purposes' fieldset and the buttons.
func onPage(field string) bool {
	if field == FieldPurpose || field == FieldDecision {
		return true
	}
	return slices.ContainsFunc(fields.Inputs(fields.All, fields.Consent), func(f fields.Field) bool { return f.Name == field })
}
