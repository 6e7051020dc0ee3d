package collector

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/chatconsent/chatconsent/collector/invite"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/fields"
	"github.com/chatconsent/chatconsent/internal/phone"
	"github.com/chatconsent/chatconsent/internal/records"
	"github.com/chatconsent/chatconsent/proof"
	"github.com/chatconsent/chatconsent/themes"
)

// Field names of a withdrawal (POST /v1/withdraw), besides phone, purpose,
// lang and invite.
const (
	// FieldID is the record id of the decision to withdraw from.
	FieldID = fields.ID
	// FieldKey is the MAC of a personal withdrawal link.
	FieldKey = fields.Key
	// WithdrawAll, as a purpose of a withdrawal, withdraws every purpose
	// still granted (config refuses it as a purpose id).
	WithdrawAll = "all"
)

// WithdrawRequest is a decoded, not yet validated, withdrawal. The person
// is recognised by one of: the personal link's Key (with ID), an Invite
// token, or Phone and ID typed into the static withdrawal page. Purposes
// name what is withdrawn; [WithdrawAll] ("all") withdraws every purpose
// still granted by the decision. No purpose is refused (code
// "withdraw_purpose_none"): nothing is ever withdrawn by omission.
type WithdrawRequest struct {
	Phone    string   `json:"phone"`
	ID       string   `json:"id"`
	Purposes []string `json:"purpose"`
	Lang     string   `json:"lang"`
	Invite   string   `json:"invite"`
	Key      string   `json:"k"`
	// other holds withdrawal fields of internal/fields' table without a
	// member above; nothing reads them yet.
	other map[string]*string
}

// fields maps each single-valued field of the withdrawal form in
// internal/fields' table to where it is decoded.
func (w *WithdrawRequest) fields() map[string]*string {
	members := map[string]*string{FieldPhone: &w.Phone, FieldID: &w.ID, FieldLang: &w.Lang, FieldInvite: &w.Invite, FieldKey: &w.Key}
	return singleFields(fields.All, fields.Withdrawal, members, &w.other)
}

// DecodeWithdrawForm parses an application/x-www-form-urlencoded
// withdrawal: known fields only, each at most once except purpose.
func DecodeWithdrawForm(b []byte) (*WithdrawRequest, error) {
	vals, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, &RequestError{Status: http.StatusBadRequest, Msg: "malformed form body"}
	}
	req := &WithdrawRequest{}
	if err := decodeFormFields(vals, req.fields(), &req.Purposes); err != nil {
		return nil, err
	}
	return req, nil
}

// DecodeWithdrawJSON parses a JSON withdrawal: one object, known fields
// only, each at most once, "purpose" an array of strings.
func DecodeWithdrawJSON(b []byte) (*WithdrawRequest, error) {
	req := &WithdrawRequest{}
	if err := decodeJSONFields(b, req.fields(), &req.Purposes); err != nil {
		return nil, err
	}
	return req, nil
}

var recordIDRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// NormalizeRecordID returns a record number as typed or copied by a person
// in its stored form: spaces (also non-breaking and thin ones), dashes,
// dots, underscores and colons are dropped and letters lowered, so
// "A813 163A-3C97…" finds "a813163a3c97…". Anything else is kept, for
// validation to refuse.
func NormalizeRecordID(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\u00a0', '\u202f', '\u2009', '-', '\u2010', '\u2011', '\u2012', '\u2013', '.', '_', ':':
			return -1
		}
		if r >= 'A' && r <= 'F' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// Reasons a withdrawal is refused; each selects the theme string shown.
var (
	errNotFound = errors.New("withdraw_not_found") // no such decision for this number, or a bad link
	errNothing  = errors.New("withdraw_nothing")   // nothing left to withdraw
	// errNotGranted: the purposes asked for are not in force, others are.
	errNotGranted = errors.New("withdraw_not_granted")
)

// withdrawal is a checked withdrawal, ready to append.
type withdrawal struct {
	decision *ledger.Record
	purposes []string // to withdraw
	via      string
	invite   string
}

// findDecision recognises the person and finds the decision: by the
// personal link (id + k), the invite token, or number + id. A wrong key,
// an unknown id or a number that does not match all give errNotFound, so
// that nothing can be learned by guessing.
func (s *Server) findDecision(req *WithdrawRequest) (*ledger.Record, []string, string, string, error) {
	id := req.ID
	via, inviteID := "form", ""
	switch {
	case req.Key != "":
		if !recordIDRe.MatchString(id) || !hmacEqual(req.Key, s.withdrawMAC(id)) {
			return nil, nil, "", "", errNotFound
		}
		via = "link"
	case req.Invite != "":
		if s.proc.inviteKey == nil {
			return nil, nil, "", "", errNotFound
		}
		inv, err := invite.Parse(req.Invite, s.proc.inviteKey) // expiry does not matter here
		if err != nil {
			return nil, nil, "", "", errNotFound
		}
		d, ok := s.inviteDecision(inv.ID)
		if !ok || (id != "" && s.decisionOf(id) != d) {
			return nil, nil, "", "", errNotFound
		}
		id, via, inviteID = d, "invite", inv.ID
	default:
		number, err := phone.Parse(req.Phone, s.o.DefaultRegion)
		if err != nil || !recordIDRe.MatchString(id) {
			return nil, nil, "", "", errNotFound
		}
		// The number shown after a withdrawal is the withdrawal's own:
		// it finds the decision it withdrew from.
		id = s.decisionOf(id)
		d, _ := s.decision(id)
		if d == nil || d.Subject == nil || d.Subject.Phone != number {
			return nil, nil, "", "", errNotFound
		}
	}
	d, left := s.decision(id)
	if d == nil || d.Type != ledger.TypeDecision {
		return nil, nil, "", "", errNotFound
	}
	return d, left, via, inviteID, nil
}

func hmacEqual(a, b string) bool {
	return len(a) == len(b) && subtleEq([]byte(a), []byte(b))
}

// handleWithdrawPage serves GET /v1/withdraw?id=ID&k=MAC (the personal
// withdrawal link on the thank-you page and the receipt) or
// ?invite=TOKEN: a form with the decision's purposes still granted, all
// ticked, one button. A bad link gets 404, nothing left 409.
func (s *Server) handleWithdrawPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := &WithdrawRequest{ID: q.Get(FieldID), Key: q.Get(FieldKey), Invite: q.Get(FieldInvite)}
	if req.Key == "" && req.Invite == "" {
		// Only links come here; the static withdrawal page posts.
		req.Key = "-"
	}
	d, left, _, _, err := s.findDecision(req)
	if err != nil {
		s.withdrawRefused(w, encForm, s.pageLang(q.Get(FieldLang)), err)
		return
	}
	lang := s.pageLang(q.Get(FieldLang), d.Lang)
	if len(left) == 0 {
		s.withdrawRefused(w, encForm, lang, errNothing)
		return
	}
	s.renderWithdrawLink(w, http.StatusOK, lang, req, d, left, nil)
}

func (s *Server) renderWithdrawLink(w http.ResponseWriter, status int, lang string, req *WithdrawRequest, d *ledger.Record, left []string, errs []themes.FieldError) {
	t := s.o.Theme.Strings(lang)
	wl := &themes.WithdrawLink{
		Action: s.o.PublicURL + "v1/withdraw", RecordID: d.ID, Phone: liveSubject(d.Subject).GetPhone(),
		Decided: d.Time.In(records.Berlin()).Format("02.01.2006 15:04"), Errors: errs,
	}
	if req.Key != "" {
		wl.Key = req.Key
	} else {
		wl.Invite = req.Invite
	}
	for _, id := range left { // configured purposes first, then removed ones
		wl.Purposes = append(wl.Purposes, themes.FormPurpose{ID: id, Title: s.o.Config.PurposeTitle(id, lang)})
	}
	s.render(w, status, themes.LayoutWithdrawLink, &themes.Page{
		Lang: lang, Title: t["withdraw_title"],
		Content:      themes.Text(t["withdraw_intro"]).HTML(),
		WithdrawLink: wl,
	})
}

// handleWithdraw serves POST /v1/withdraw: it checks who asks (see
// [Server.findDecision]) and which purposes, appends a signed withdrawal
// event referring to the decision (GDPR Art. 7(3)), stamps a withdrawal
// receipt and answers with a thank-you page (form) or 201 JSON
// {"id", "receipt_url", "withdrawn", "still_granted", "withdrawal_url"}.
func (s *Server) handleWithdraw(w http.ResponseWriter, r *http.Request) {
	ct, body, err := readBody(w, r)
	var req *WithdrawRequest
	if err == nil {
		if ct == "application/json" {
			req, err = DecodeWithdrawJSON(body.b)
		} else {
			req, err = DecodeWithdrawForm(body.b)
		}
	}
	enc := body.enc
	// Withdrawals count against the same per-client rate as decisions:
	// each try costs a number parse or a signature check, and a record id
	// or link secret must not be guessable by volume.
	if ok, wait := s.limiter.allow(clientAddr(r, s.o.Config.Collector.TrustedProxies), s.o.Now()); !ok {
		var lr *Request
		if req != nil {
			lr = &Request{Lang: req.Lang}
		}
		s.tooMany(w, r, enc, lr, wait)
		return
	}
	if err != nil {
		s.refuseBody(w, r, enc, err, "withdrawal refused", "err_field")
		return
	}
	// A record id copied from a receipt or typed by hand: grouping,
	// spaces, dashes or capitals do not matter (ids are lower-case hex).
	req.ID = NormalizeRecordID(req.ID)
	lang := s.pageLang(req.Lang)
	if req.Lang != "" && lang != req.Lang {
		s.withdrawFieldError(w, enc, lang, FieldLang, "lang")
		return
	}
	if req.Key == "" && req.Invite == "" {
		// The static page: every bad field at once.
		var errs []FieldError
		switch {
		case req.Phone == "":
			errs = append(errs, FieldError{Field: FieldPhone, Code: "phone"})
		case checkText(req.Phone, maxPhone) != "":
			errs = append(errs, FieldError{Field: FieldPhone, Code: "phone_invalid"})
		default:
			if _, err := phone.Parse(req.Phone, s.o.DefaultRegion); err != nil {
				errs = append(errs, phoneError(FieldPhone, err))
			}
		}
		if !recordIDRe.MatchString(req.ID) {
			errs = append(errs, FieldError{Field: FieldID, Code: "id"})
		}
		if len(req.Purposes) == 0 {
			errs = append(errs, FieldError{Field: FieldPurpose, Code: "withdraw_purpose_none"})
		}
		if len(errs) > 0 {
			s.withdrawFieldErrors(w, enc, lang, errs)
			return
		}
	}

	// Check and append under one lock, so two clicks cannot withdraw the
	// same purpose twice.
	s.proc.wmu.Lock()
	defer s.proc.wmu.Unlock()
	d, left, via, inviteID, err := s.findDecision(req)
	if err != nil {
		s.withdrawRefused(w, enc, lang, err)
		return
	}
	if req.Lang == "" {
		lang = s.pageLang(d.Lang)
	}
	if len(req.Purposes) == 0 {
		// The personal link's page: shown again, asking.
		if enc != encJSON && len(left) > 0 {
			t := s.o.Theme.Strings(lang)
			s.renderWithdrawLink(w, http.StatusBadRequest, lang, req, d, left, []themes.FieldError{{Field: FieldPurpose, Message: t["err_withdraw_purpose_none"]}})
			return
		}
		s.withdrawFieldError(w, enc, lang, FieldPurpose, "withdraw_purpose_none")
		return
	}
	all := slices.Contains(req.Purposes, WithdrawAll)
	for _, p := range req.Purposes {
		// A purpose removed from the config since stays withdrawable
		// while consent to it is in force.
		if p != WithdrawAll && !slices.Contains(s.o.Config.PurposeIDs(), p) && !slices.Contains(left, p) {
			s.withdrawFieldError(w, enc, lang, FieldPurpose, "purpose")
			return
		}
	}
	var purposes []string
	for _, p := range left {
		if all || slices.Contains(req.Purposes, p) {
			purposes = append(purposes, p)
		}
	}
	if len(purposes) == 0 {
		if len(left) > 0 { // the purposes asked for, not others
			s.withdrawRefused(w, enc, lang, errNotGranted)
			return
		}
		s.withdrawRefused(w, enc, lang, errNothing)
		return
	}
	rec := ledger.Record{
		Type: ledger.TypeWithdrawal, ID: newID(), Time: s.o.Now().UTC(), Decision: ledger.Withdrawn,
		Purposes: purposes, Subject: liveSubject(d.Subject), Lang: lang, TextVersion: d.TextVersion,
		Ref: d.ID, Via: via, Invite: inviteID,
	}
	entries, err := s.appendRecord(r.Context(), rec, nil)
	if err != nil {
		s.o.Logger.Error("append to log", "err", err)
		s.unavailable(w, enc, lang)
		return
	}
	e := entries[0]
	s.o.Logger.Info("withdrawal recorded", "id", e.Record.ID, "seq", e.Record.Seq, "ref", d.ID, "via", via)
	if err := s.writeReceipt(e); err != nil {
		s.o.Logger.Error("write receipt", "id", e.Record.ID, "err", err)
	}
	receiptURL := s.ReceiptURL(e.Record.ID)
	_, still := s.decision(d.ID)
	again := ""
	if len(still) > 0 {
		again = s.WithdrawalURL(d.ID)
	}
	if enc == encJSON {
		if still == nil {
			still = []string{}
		}
		writeJSON(w, http.StatusCreated, map[string]any{
			"id": e.Record.ID, "receipt_url": receiptURL, "withdrawn": purposes,
			"still_granted": still, "withdrawal_url": again,
		})
		return
	}
	s.render(w, http.StatusOK, themes.LayoutThanks, &themes.Page{
		Lang: lang, Title: s.o.Theme.Strings(lang)["thanks_title"],
		Result: &themes.Result{Decision: ledger.Withdrawn, RecordID: e.Record.ID, ReceiptURL: receiptURL, WithdrawalURL: again},
	})
}

// withdrawFieldError answers 400 naming one bad field.
func (s *Server) withdrawFieldError(w http.ResponseWriter, enc int, lang, field, code string) {
	s.withdrawFieldErrors(w, enc, lang, []FieldError{{Field: field, Code: code}})
}

// withdrawFieldErrors answers 400 naming each bad field: JSON, or a page
// in lang that leads back to the withdrawal page.
func (s *Server) withdrawFieldErrors(w http.ResponseWriter, enc int, lang string, fes []FieldError) {
	t := s.o.Theme.Strings(lang)
	var names []string
	form := &themes.Form{Intro: t["withdraw_error_intro"]}
	for i, fe := range fes {
		fes[i].Message = fe.message(t)
		names = append(names, fe.Field+":"+fe.Code)
		form.Errors = append(form.Errors, themes.FieldError{Field: fe.Field, Message: fes[i].Message})
	}
	s.o.Logger.Info("withdrawal refused", "fields", names)
	if enc == encJSON {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid fields", "fields": fes})
		return
	}
	s.render(w, http.StatusBadRequest, themes.LayoutError, &themes.Page{
		Lang: lang, Title: t["error_title"],
		BackURL: s.o.WithdrawalURLs[lang], Form: form,
	})
}

// withdrawRefused answers 404 (errNotFound), or 409 (errNothing: no
// consent left; errNotGranted: not for the purposes asked, others are)
// with a page or JSON {"error", "code"} in lang.
func (s *Server) withdrawRefused(w http.ResponseWriter, enc int, lang string, err error) {
	t := s.o.Theme.Strings(lang)
	status, code, title := http.StatusNotFound, errNotFound.Error(), t["error_title"]
	switch {
	case errors.Is(err, errNothing):
		status, code, title = http.StatusConflict, errNothing.Error(), t["withdraw_nothing_title"]
	case errors.Is(err, errNotGranted):
		status, code = http.StatusConflict, errNotGranted.Error()
	}
	s.o.Logger.Info("withdrawal refused", "reason", code)
	if enc == encJSON {
		writeJSON(w, status, map[string]any{"error": t[code], "code": code})
		return
	}
	s.render(w, status, themes.LayoutError, &themes.Page{
		Lang: lang, Title: title, BackURL: s.o.WithdrawalURLs[lang],
		Content: themes.Text(t[code]).HTML(),
	})
}

// withdrawalReceiptData is what a withdrawal receipt shows, from the
// record alone (so that the receipt can be stamped again from it): the
// purposes withdrawn, Ref naming the decision, and the decision's personal
// withdrawal link for what may still be granted.
//
// What is still granted (layout 3) is not in the record: it is the
// decision's number's state when the receipt is made, normally right
// after the withdrawal.
func (s *Server) withdrawalReceiptData(e ledger.Entry) receipt.Data {
	d := proof.WithdrawalReceiptData(s.o.Config, e, s.WithdrawalURL(e.Record.Ref))
	_, still := s.decision(e.Record.Ref)
	d.StillGranted = proof.StillGranted(s.o.Config, e.Record.Lang, still)
	return d
}
