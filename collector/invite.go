package collector

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/chatconsent/chatconsent/collector/invite"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/themes"
)

// invited is a checked invite with the token it came in.
type invited struct {
	invite.Invite
	Token string
}

// lang picks the page language: want if the site has it, else the
// invite's, else the site's default.
func (s *Server) pageLang(want ...string) string {
	for _, l := range want {
		if l != "" && slices.Contains(s.o.Config.Site.Languages, l) {
			return l
		}
	}
	return s.o.Config.Site.DefaultLanguage
}

// verifyInvite checks a token for a decision: signed by the invite key,
// not expired, not used. The error wraps invite.ErrMalformed,
// invite.ErrBadSignature, invite.ErrExpired or errInviteUsed; the invite is
// returned whenever its signature is good.
func (s *Server) verifyInvite(token string) (*invited, error) {
	if s.proc.inviteKey == nil {
		return nil, invite.ErrBadSignature
	}
	inv, err := invite.Verify(token, s.proc.inviteKey, s.o.Now())
	if err != nil {
		if errors.Is(err, invite.ErrExpired) {
			return &invited{inv, token}, err
		}
		return nil, err
	}
	if _, used := s.inviteDecision(inv.ID); used {
		return &invited{inv, token}, errInviteUsed
	}
	return &invited{inv, token}, nil
}

// checkInvite checks the invite of a posted decision, if it has one. On
// failure it answers (a page in the person's language, or JSON) and
// returns false. An invite's number fills an empty phone field.
func (s *Server) checkInvite(w http.ResponseWriter, r *http.Request, enc int, req *Request) (*invited, bool) {
	if req.Invite == "" {
		return nil, true
	}
	inv, err := s.verifyInvite(req.Invite)
	if err != nil {
		s.inviteRefused(w, enc, s.pageLang(req.Lang, tokenLang(inv, req.Invite)), req.Invite, err)
		return nil, false
	}
	if req.Phone == "" {
		req.Phone = inv.Phone
	}
	return inv, true
}

// bindInvite ties a valid decision to its invite: the number must be the
// invite's (the read-only field was not changed), and the record names the
// invite.
func (s *Server) bindInvite(rec *ledger.Record, inv *invited, req *Request, ferrs []FieldError) []FieldError {
	if inv == nil || rec == nil {
		return ferrs
	}
	if rec.Subject.Phone != inv.Phone {
		return append(ferrs, FieldError{Field: FieldPhone, Code: "invite_phone", Message: s.o.Theme.Strings(rec.Lang)["err_invite_phone"]})
	}
	rec.Invite = inv.ID
	return ferrs
}

// openingRecord is the invite event logged when a decision arrives
// through an invite whose page was never opened (a script posting the
// token); nil without an invite.
func openingRecord(inv *invited, now time.Time) *ledger.Record {
	if inv == nil {
		return nil
	}
	exp := inv.Expires
	return &ledger.Record{
		Type: ledger.TypeInvite, ID: inv.ID, Time: now.UTC(),
		Subject: &ledger.Subject{Name: inv.Name, Phone: inv.Phone}, Lang: inv.Lang,
		Token: inv.Token, Expires: &exp,
	}
}

// tokenLang is the language a refusal page is shown in: the invite's, or
// for a token whose signature did not check, the language it claims if it
// decodes at all (it only picks the language of an error page).
func tokenLang(inv *invited, token string) string {
	if inv != nil {
		return inv.Lang
	}
	if d, err := invite.Decode(token); err == nil {
		return d.Lang
	}
	return ""
}

// inviteRefused answers a request whose invite cannot be used: 400 for a
// malformed or forged token, 410 for an expired one, 409 for a used one.
func (s *Server) inviteRefused(w http.ResponseWriter, enc int, lang, token string, err error) {
	status, code := http.StatusBadRequest, "invite_invalid"
	switch {
	case errors.Is(err, invite.ErrExpired):
		status, code = http.StatusGone, "invite_expired"
	case errors.Is(err, errInviteUsed):
		s.inviteUsed(w, enc, lang, token)
		return
	}
	s.o.Logger.Info("invite refused", "reason", code)
	t := s.o.Theme.Strings(lang)
	if enc == encJSON {
		writeJSON(w, status, map[string]any{"error": t[code], "fields": []FieldError{{Field: FieldInvite, Code: code, Message: t[code]}}})
		return
	}
	s.render(w, status, themes.LayoutError, &themes.Page{
		Lang: lang, Title: t[code+"_title"], FormNotSeen: true,
		Content: themes.Text(t[code]).HTML(),
	})
}

// inviteUsed answers 409: the invite already led to a decision. The page
// links the personal withdrawal page of that decision.
func (s *Server) inviteUsed(w http.ResponseWriter, enc int, lang, token string) {
	t := s.o.Theme.Strings(lang)
	s.o.Logger.Info("invite refused", "reason", "invite_used")
	if enc == encJSON {
		writeJSON(w, http.StatusConflict, map[string]any{"error": t["invite_used"], "fields": []FieldError{{Field: FieldInvite, Code: "invite_used", Message: t["invite_used"]}}})
		return
	}
	link := s.o.PublicURL + "v1/withdraw?" + invite.Param + "=" + url.QueryEscape(token)
	s.render(w, http.StatusConflict, themes.LayoutError, &themes.Page{
		Lang: lang, Title: t["invite_used_title"], FormNotSeen: true,
		Content: themes.Message{Paragraphs: []string{t["invite_used"]}, Link: &themes.Link{URL: link, Text: t["withdraw_link"]}}.HTML(),
	})
}

// previewAgents are substrings of the user agents of link-preview
// fetchers: WhatsApp fetches a link to show a preview when the owner
// sends it, which is not the person opening it.
var previewAgents = []string{"WhatsApp", "facebookexternalhit", "Facebot", "TelegramBot", "Slackbot", "Twitterbot", "Discordbot", "SkypeUriPreview", "Signal"}

func linkPreview(ua string) bool {
	for _, a := range previewAgents {
		if strings.Contains(ua, a) {
			return true
		}
	}
	return false
}

// handleInvitePage serves GET /v1/consent?invite=TOKEN: the consent page
// of the current text version, rendered with the theme's consent layout,
// the number from the invite pre-filled and read-only and the token in a
// hidden field, so the page works without JavaScript. The first opening
// by a browser is logged as an invite event (HEAD requests and link-preview
// fetchers, such as WhatsApp's own when the owner sends the link, are not;
// a decision through the invite logs it in any case). Without a token it
// redirects to the static consent page.
func (s *Server) handleInvitePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := q.Get(invite.Param)
	if token == "" {
		lang := s.pageLang(q.Get(FieldLang))
		if u := s.o.ConsentURLs[lang]; u != "" {
			http.Redirect(w, r, u, http.StatusSeeOther)
			return
		}
		http.NotFound(w, r)
		return
	}
	inv, err := s.verifyInvite(token)
	if err != nil {
		s.inviteRefused(w, encForm, s.pageLang(q.Get(FieldLang), tokenLang(inv, token)), token, err)
		return
	}
	lang := s.pageLang(q.Get(FieldLang), inv.Lang)
	if r.Method == http.MethodGet && !linkPreview(r.UserAgent()) {
		if err := s.logOpening(r.Context(), *openingRecord(inv, s.o.Now())); err != nil {
			s.o.Logger.Error("append invite", "err", err)
			s.unavailable(w, encForm, lang)
			return
		}
	}
	cp, err := s.consentPage(lang)
	if err != nil {
		s.o.Logger.Error("invite page", "err", err)
		s.unavailable(w, encForm, lang)
		return
	}
	form := &themes.Form{
		Action: s.o.PublicURL + "v1/consent", TextVersion: cp.Version, Invite: token,
		Values: themes.FormValues{Name: inv.Name, Phone: inv.Phone}, NoMail: s.o.Config.SMTP == nil,
	}
	for _, p := range s.o.Config.Purposes {
		title, desc := p.Localized(lang)
		form.Purposes = append(form.Purposes, themes.FormPurpose{ID: p.ID, Title: title, Description: desc})
	}
	page := &themes.Page{
		Lang: lang, Title: cp.Title,
		Content: template.HTML(s.siteLinks(cp.Content, lang)), Form: form,
	}
	t := s.o.Theme.Strings
	for _, other := range s.o.Config.Site.Languages {
		if other != lang {
			page.Alternates = append(page.Alternates, themes.Alternate{
				Lang: other, Name: t(other)["language_name"],
				URL: s.o.PublicURL + "v1/consent?" + invite.Param + "=" + url.QueryEscape(token) + "&lang=" + other,
			})
		}
	}
	s.render(w, http.StatusOK, themes.LayoutConsent, page)
}
