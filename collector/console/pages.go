package console

import (
	"bytes"
	"embed"
	"encoding/base64"
	"errors"
	"github.com/chatconsent/chatconsent/collector/owners"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"
	"golang.org/x/text/language"

	"github.com/chatconsent/chatconsent/collector"
	"github.com/chatconsent/chatconsent/collector/invite"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/internal/access"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/phone"
	"github.com/chatconsent/chatconsent/internal/records"
	"github.com/chatconsent/chatconsent/proof"
)

//go:embed templates/*.html passkey.js copy.js
var files embed.FS

// pageNames are the templates in templates/, each with base.html.
var pageNames = []string{"signin", "enrol", "people", "person", "invite", "erase", "message"}

var pages = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, n := range pageNames {
		m[n] = template.Must(template.ParseFS(files, "templates/base.html", "templates/"+n+".html"))
	}
	return m
}()

// serveScript serves the console's scripts (passkey.js, copy.js).
func serveScript(w http.ResponseWriter, r *http.Request) {
	b, err := files.ReadFile(strings.TrimPrefix(r.URL.Path, Prefix))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Write(b)
}

// page is what every console template gets.
type page struct {
	Lang, Title, SiteTitle string
	t                      map[string]string
	// Owner and CSRF are set on a signed-in owner's pages.
	Owner, CSRF string
	// Script loads passkey.js (sign-in and enrolment only); CopyScript
	// copy.js (the invite page's copy buttons).
	Script, CopyScript bool
	// Error and Notice are messages at the top of the page.
	Error, Notice string
	Data          any
}

// S returns the theme string key in the page's language.
func (p *page) S(key string) string {
	if v, ok := p.t[key]; ok {
		return v
	}
	return key
}

// lang picks the owner's language from Accept-Language among the site's.
func (c *Console) lang(r *http.Request) string {
	cfg := c.srv.Config()
	var tags []language.Tag
	for _, l := range cfg.Site.Languages {
		tags = append(tags, language.Make(l))
	}
	def := cfg.Site.DefaultLanguage
	if len(tags) == 0 {
		return def
	}
	prefs, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(prefs) == 0 {
		return def
	}
	_, i, conf := language.NewMatcher(tags).Match(prefs...)
	if conf == language.No {
		return def
	}
	return cfg.Site.Languages[i]
}

func (c *Console) newPage(r *http.Request, s *session, titleKey string) *page {
	lang := c.lang(r)
	p := &page{Lang: lang, t: c.srv.Theme().Strings(lang), SiteTitle: c.srv.Config().Site.TitleIn(lang)}
	p.Title = p.S(titleKey)
	if s != nil {
		p.Owner, p.CSRF = s.owner, s.csrf
	}
	return p
}

func (c *Console) render(w http.ResponseWriter, status int, name string, p *page) {
	var b bytes.Buffer
	if err := pages[name].ExecuteTemplate(&b, "base", p); err != nil {
		c.log.Error("console: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// renderError answers with a page that says the string key.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, status int, key string) {
	p := c.newPage(r, c.session(r), "console_error_title")
	p.Error = p.S(key)
	c.render(w, status, "message", p)
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	p := c.newPage(r, nil, "console_signin_title")
	p.Script = true
	c.render(w, http.StatusOK, "signin", p)
}

func (c *Console) enrolPage(w http.ResponseWriter, r *http.Request) {
	o, err := c.store.Enrolling(enrolSecret(r), c.now())
	if err != nil {
		key := "console_enrol_used"
		if errors.Is(err, owners.ErrEnrolmentStale) {
			key = "console_enrol_expired"
		} else if !errors.Is(err, owners.ErrEnrolmentUsed) {
			c.log.Error("console: read owners", "err", err)
			key = "console_unavailable"
		}
		c.renderError(w, r, http.StatusGone, key)
		return
	}
	p := c.newPage(r, nil, "console_enrol_title")
	p.Script = true
	p.Data = struct{ Name, Secret string }{o.Name, enrolSecret(r)}
	c.render(w, http.StatusOK, "enrol", p)
}

// stateKeys maps records' states to the strings that name them.
var stateKeys = map[string]string{
	records.Granted: "console_state_granted", records.Refused: "console_state_refused",
	records.Withdrawn: "console_state_withdrawn", records.RenewalNeeded: "console_state_renewal",
	records.NotAsked: "console_state_not_asked",
}

type purposeState struct {
	ID, Title, State, Key string
	// Class is the state's CSS class: granted, refused, withdrawn,
	// renewal or erased.
	Class, Since string
}

type personRow struct {
	Key, Phone, Name, Erased string
	States                   []purposeState
	// New: a decision or withdrawal since the owner's last visit.
	New bool
}

// isNew reports whether p has a decision or withdrawal after since (never
// on an owner's first visit, when since is zero).
func isNew(p *records.Person, since time.Time) bool {
	if since.IsZero() {
		return false
	}
	for _, e := range p.Events {
		if t := e.Record.Type; (t == ledger.TypeDecision || t == ledger.TypeWithdrawal) && e.Record.Time.After(since) {
			return true
		}
	}
	return false
}

func (c *Console) when(t time.Time) string { return t.In(records.Berlin()).Format("2006-01-02 15:04") }

// book reads the log for a page; on failure it answers 503.
func (c *Console) book(w http.ResponseWriter, r *http.Request) (*records.Book, func(*records.Person) []purposeState, bool) {
	b, m, err := c.srv.OwnerBook()
	if err != nil {
		c.log.Error("console: read log", "err", err)
		c.renderError(w, r, http.StatusServiceUnavailable, "console_unavailable")
		return nil, nil, false
	}
	lang := c.lang(r)
	cfg := c.srv.Config()
	states := func(p *records.Person) []purposeState {
		var out []purposeState
		for _, st := range b.Status(p, m) {
			title := st.ID
			if i := slices.IndexFunc(cfg.Purposes, func(cp config.Purpose) bool { return cp.ID == st.ID }); i >= 0 {
				title, _ = cfg.Purposes[i].Localized(lang)
			}
			key := stateKeys[st.Shown]
			if !p.Erased.IsZero() {
				key = "console_state_erased"
			}
			out = append(out, purposeState{ID: st.ID, Title: title, State: st.Shown, Key: key, Class: strings.TrimPrefix(key, "console_state_"), Since: c.when(st.Since)})
		}
		return out
	}
	return b, states, true
}

func (c *Console) peoplePage(w http.ResponseWriter, r *http.Request, s *session) {
	b, states, ok := c.book(w, r)
	if !ok {
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, q)
	var rows []personRow
	for _, p := range b.People() {
		if q != "" {
			nameHit := p.Name != "" && strings.Contains(strings.ToLower(p.Name), strings.ToLower(q))
			numHit := digits != "" && !records.IsErased(p.Phone) && strings.Contains(p.Phone, digits)
			if !nameHit && !numHit {
				continue
			}
		}
		row := personRow{Key: p.Phone, Phone: p.Phone, Name: p.Name, States: states(p), New: isNew(p, s.since)}
		if records.IsErased(p.Phone) {
			row.Phone, row.Erased = "", c.when(p.Erased)
		}
		rows = append(rows, row)
	}
	// The new ones first, otherwise as the book has them.
	slices.SortStableFunc(rows, func(a, b personRow) int {
		switch {
		case a.New && !b.New:
			return -1
		case b.New && !a.New:
			return 1
		}
		return 0
	})
	newCount := 0
	for _, row := range rows {
		if row.New {
			newCount++
		}
	}
	since := ""
	if !s.since.IsZero() {
		since = c.when(s.since)
	}
	c.visit(s)
	pg := c.newPage(r, s, "console_people_title")
	pg.Data = struct {
		Query, Since string
		New          int
		Rows         []personRow
	}{q, since, newCount, rows}
	c.render(w, http.StatusOK, "people", pg)
}

type eventRow struct {
	When, What, Purposes, Via, By, ID string
	// Receipt: the event has a receipt that can be sent again (a
	// decision or a withdrawal).
	Receipt bool
}

// personKey finds the person of ?n= (a number as typed, or an erased
// person's key).
func personKey(r *http.Request) string {
	n := strings.TrimSpace(r.FormValue("n"))
	if records.IsErased(n) {
		return n
	}
	if e, err := phone.Parse(n, phone.DefaultRegion); err == nil {
		return e
	}
	return n
}

func (c *Console) personPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.showPerson(w, r, s, http.StatusOK, "", r.URL.Query().Get("done"))
}

func (c *Console) showPerson(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg, done string) {
	b, states, ok := c.book(w, r)
	if !ok {
		return
	}
	p := b.Person(personKey(r))
	if p == nil {
		c.renderError(w, r, http.StatusNotFound, "console_no_person")
		return
	}
	pg := c.newPage(r, s, "console_person_title")
	pg.Error = errMsg
	if done != "" {
		pg.Notice = pg.S("console_done_" + done)
	}
	var evs []eventRow
	for _, e := range p.Events {
		rec := e.Record
		what := rec.Type
		switch {
		case rec.Type == ledger.TypeDecision:
			what = pg.S(stateKeys[rec.Decision])
		case rec.Type == ledger.TypeWithdrawal:
			what = pg.S("console_state_withdrawn")
		case rec.Type == ledger.TypeInvite:
			what = pg.S("console_event_invite")
		case rec.Type == ledger.TypeErasure:
			what = pg.S("console_state_erased")
		}
		evs = append(evs, eventRow{When: c.when(rec.Time), What: what, Purposes: strings.Join(rec.Purposes, ", "), Via: rec.Via, By: rec.By, ID: rec.ID,
			Receipt: rec.Type == ledger.TypeDecision || rec.Type == ledger.TypeWithdrawal})
	}
	slices.Reverse(evs) // newest first
	var receipts []eventRow
	if !records.IsErased(p.Phone) {
		for _, e := range evs {
			if e.Receipt {
				receipts = append(receipts, e)
			}
		}
	}
	row := personRow{Key: p.Phone, Phone: p.Phone, Name: p.Name, States: states(p)}
	if records.IsErased(p.Phone) {
		row.Phone, row.Erased = "", c.when(p.Erased)
	}
	var granted []purposeState
	for _, st := range row.States {
		if st.State == records.Granted || st.State == records.RenewalNeeded {
			granted = append(granted, st)
		}
	}
	var channels []struct{ ID, Label string }
	for _, ch := range collector.WithdrawalChannels {
		channels = append(channels, struct{ ID, Label string }{ch, pg.S("console_via_" + strings.ReplaceAll(ch, "-", "_"))})
	}
	pg.Data = struct {
		Person   personRow
		Events   []eventRow
		Receipts []eventRow
		Granted  []purposeState
		Channels []struct{ ID, Label string }
	}{row, evs, receipts, granted, channels}
	c.render(w, status, "person", pg)
}

// withdrawalKeys maps the owner operation's refusals to strings.
var withdrawalKeys = []struct {
	err error
	key string
}{
	{collector.ErrNothingInForce, "console_err_nothing_in_force"},
	{collector.ErrNotInForce, "console_err_not_in_force"},
	{collector.ErrPurposeMissing, "console_err_purpose_missing"},
	{collector.ErrBadChannel, "console_err_channel"},
	{collector.ErrBadNote, "console_err_note"},
	{collector.ErrNoSuchNumber, "console_no_person"},
	{collector.ErrBadNumber, "console_err_number"},
}

// withdraw records a withdrawal that reached the owner, through the same
// operation as `chatconsent withdraw` (collector.Server.RecordWithdrawal),
// naming the signed-in owner in "by".
func (c *Console) withdraw(w http.ResponseWriter, r *http.Request, s *session) {
	r.ParseForm()
	req := collector.OwnerWithdrawal{
		Phone: r.PostForm.Get("n"), Via: r.PostForm.Get("via"), Note: r.PostForm.Get("note"), By: s.owner,
	}
	for _, p := range r.PostForm["purpose"] {
		if p == "all" {
			req.All = true
		} else {
			req.Purposes = append(req.Purposes, p)
		}
	}
	if req.All {
		req.Purposes = nil
	}
	res, err := c.srv.RecordWithdrawal(r.Context(), req)
	if err != nil {
		t := c.srv.Theme().Strings(c.lang(r))
		msg := t["console_err_withdrawal"]
		var we *collector.WithdrawalError
		if errors.As(err, &we) {
			for _, k := range withdrawalKeys {
				if errors.Is(err, k.err) {
					msg = t[k.key]
					break
				}
			}
		} else {
			c.log.Error("console: withdrawal", "err", err)
		}
		c.showPerson(w, r, s, http.StatusConflict, msg, "")
		return
	}
	c.log.Info("console: withdrawal recorded", "id", res.ID, "via", req.Via, "owner", s.ownerID[:8])
	http.Redirect(w, r, Prefix+"person?n="+url.QueryEscape(res.Phone)+"&done=withdrawn", http.StatusSeeOther)
}

// resend sends a decision's or withdrawal's receipt again through the
// same operation as `chatconsent receipt resend` (collector.Server.
// ResendReceipt): a fresh link, to the person's e-mail and the owner.
func (c *Console) resend(w http.ResponseWriter, r *http.Request, s *session) {
	res, err := c.srv.ResendReceipt(r.Context(), collector.OwnerResend{ID: r.PostFormValue("id")})
	if err != nil {
		key := "console_err_resend"
		if errors.Is(err, collector.ErrErased) {
			// The person's page is gone with the number: say it on its own.
			c.renderError(w, r, http.StatusGone, "console_err_resend_erased")
			return
		} else if !errors.Is(err, collector.ErrBadRecordID) && !errors.Is(err, collector.ErrNoSuchRecord) && !errors.Is(err, collector.ErrNoReceipt) {
			c.log.Error("console: resend", "err", err)
		}
		c.showPerson(w, r, s, http.StatusConflict, c.srv.Theme().Strings(c.lang(r))[key], "")
		return
	}
	done := "resent"
	if res.MailOff {
		done = "resent_nomail"
	}
	c.log.Info("console: receipt sent again", "id", res.ID, "mail_off", res.MailOff, "owner", s.ownerID[:8])
	http.Redirect(w, r, Prefix+"person?n="+url.QueryEscape(r.PostFormValue("n"))+"&done="+done, http.StatusSeeOther)
}

// receipt sends the receipt of record ?id= as a download
// (consent-ID.pdf), through collector.Server.OwnerReceipt.
func (c *Console) receipt(w http.ResponseWriter, r *http.Request, s *session) {
	pdf, err := c.srv.OwnerReceipt(r.Context(), r.URL.Query().Get("id"))
	switch {
	case errors.Is(err, collector.ErrErased):
		c.renderError(w, r, http.StatusGone, "console_err_resend_erased")
		return
	case errors.Is(err, collector.ErrBadRecordID), errors.Is(err, collector.ErrNoSuchRecord), errors.Is(err, collector.ErrNoReceipt):
		c.renderError(w, r, http.StatusNotFound, "console_err_receipt")
		return
	case err != nil:
		c.log.Error("console: receipt", "err", err)
		c.renderError(w, r, http.StatusServiceUnavailable, "console_unavailable")
		return
	}
	id := collector.NormalizeRecordID(r.URL.Query().Get("id"))
	sendFile(w, "application/pdf", "consent-"+id+".pdf", pdf)
}

// sendFile answers with b as a download named name.
func sendFile(w http.ResponseWriter, contentType, name string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

// accessReport answers an access request (GDPR Art. 15) about the person
// of ?n=: GET /owner/access the readable PDF in the person's language
// (package internal/access), GET /owner/export the machine-readable
// export, as `chatconsent export [--pdf]` makes them.
func (c *Console) accessReport(w http.ResponseWriter, r *http.Request, s *session) {
	fail := func(what string, err error) {
		c.log.Error("console: access report", "step", what, "err", err)
		c.renderError(w, r, http.StatusServiceUnavailable, "console_unavailable")
	}
	b, m, err := c.srv.OwnerBook()
	if err != nil {
		fail("read log", err)
		return
	}
	p := b.Person(personKey(r))
	if p == nil {
		c.renderError(w, r, http.StatusNotFound, "console_no_person")
		return
	}
	cfg, paths := c.srv.Config(), c.srv.Paths()
	pub, err := ledger.ReadPublicKey(paths.SigningPublicKey)
	if err != nil {
		fail("signing key", err)
		return
	}
	opts, err := access.SiteOptions(cfg, pub, m, paths.TextDirs(), c.now())
	if err != nil {
		fail("options", err)
		return
	}
	x, err := b.Export(p, opts)
	if err != nil {
		fail("export", err)
		return
	}
	if r.URL.Path == Prefix+"export" {
		out, err := records.MarshalIndent(x)
		if err != nil {
			fail("marshal", err)
			return
		}
		c.log.Info("console: export downloaded", "owner", s.ownerID[:8])
		sendFile(w, "application/json", access.FileName(x, "json"), out)
		return
	}
	pdf, err := access.PDF(x, access.Options{Config: cfg, Strings: c.srv.Theme().Strings})
	if err != nil {
		fail("print", err)
		return
	}
	c.log.Info("console: access report downloaded", "owner", s.ownerID[:8])
	sendFile(w, "application/pdf", access.FileName(x, "pdf"), pdf)
}

func (c *Console) erasePage(w http.ResponseWriter, r *http.Request, s *session) {
	b, _, ok := c.book(w, r)
	if !ok {
		return
	}
	p := b.Person(personKey(r))
	if p == nil || records.IsErased(p.Phone) {
		c.renderError(w, r, http.StatusNotFound, "console_no_person")
		return
	}
	pg := c.newPage(r, s, "console_erase_title")
	pg.Data = struct {
		Phone, Name string
		Reasons     []string
	}{p.Phone, p.Name, ledger.ErasureReasons}
	c.render(w, http.StatusOK, "erase", pg)
}

// erase erases a number through the same operation as `chatconsent
// erase` (collector.Server.EraseNumber), after the confirmation step.
func (c *Console) erase(w http.ResponseWriter, r *http.Request, s *session) {
	if r.PostFormValue("confirm") != "yes" {
		c.erasePage(w, r, s)
		return
	}
	res, err := c.srv.EraseNumber(r.Context(), collector.OwnerErasure{Phone: r.PostFormValue("n"), Reason: r.PostFormValue("reason"), By: s.owner})
	switch {
	case errors.Is(err, collector.ErrNothingToErase), errors.Is(err, collector.ErrBadNumber):
		c.renderError(w, r, http.StatusNotFound, "console_no_person")
		return
	case errors.Is(err, collector.ErrBadReason):
		c.renderError(w, r, http.StatusBadRequest, "console_err_reason")
		return
	case err != nil:
		c.log.Error("console: erasure", "err", err)
		c.renderError(w, r, http.StatusServiceUnavailable, "console_unavailable")
		return
	}
	c.log.Info("console: erasure recorded", "id", res.ID, "records", len(res.Records), "owner", s.ownerID[:8])
	pg := c.newPage(r, s, "console_erase_title")
	pg.Notice = pg.S("console_done_erased")
	pg.Data = nil
	c.render(w, http.StatusOK, "message", pg)
}

type inviteForm struct {
	Phone, Name, Lang string
	Languages         []langOption
	// The result:
	Link, WhatsApp, Message, Expires string
	QR                               template.URL // a data: URL of the link's QR code (PNG)
	// Renew marks a renewal invite (its message says the texts changed).
	Renew bool
	// Renewals are the people whose consent needs renewal after a
	// material change, one button each.
	Renewals []renewal
}

type renewal struct {
	Phone, Name, Lang, Purposes string
}

type langOption struct{ Code, Name string }

// languages lists the site's languages, each named in its own language
// (console_lang_CODE), else by its code.
func (c *Console) languages() []langOption {
	var out []langOption
	for _, l := range c.srv.Config().Site.Languages {
		name := c.srv.Theme().Strings(l)["console_lang_"+l]
		if name == "" {
			name = l
		}
		out = append(out, langOption{l, name})
	}
	return out
}

// renewals lists who needs to be asked again (chatconsent invite --renew).
func (c *Console) renewals() []renewal {
	b, m, err := c.srv.OwnerBook()
	if err != nil {
		c.log.Error("console: read log", "err", err)
		return nil
	}
	var out []renewal
	for _, p := range b.NeedsRenewal(m) {
		rn := renewal{Phone: p.Phone, Name: p.Name, Lang: c.srv.Config().Site.DefaultLanguage}
		var ids []string
		for _, st := range b.Status(p, m) {
			if st.Renewal {
				ids = append(ids, st.ID)
				rn.Lang = st.Lang
			}
		}
		rn.Purposes = strings.Join(ids, ", ")
		out = append(out, rn)
	}
	return out
}

func (c *Console) invitePage(w http.ResponseWriter, r *http.Request, s *session) {
	pg := c.newPage(r, s, "console_invite_title")
	pg.CopyScript = true
	pg.Data = &inviteForm{Lang: c.lang(r), Languages: c.languages(), Renewals: c.renewals()}
	if _, err := invite.ReadKey(c.srv.Paths().InviteKey); err != nil {
		pg.Error = pg.S("console_invite_nokey")
	}
	c.render(w, http.StatusOK, "invite", pg)
}

// inviteMake makes a personal link as `chatconsent invite --phone` does,
// signed with the invite key in the data folder.
func (c *Console) inviteMake(w http.ResponseWriter, r *http.Request, s *session) {
	cfg := c.srv.Config()
	pg := c.newPage(r, s, "console_invite_title")
	pg.CopyScript = true
	f := &inviteForm{Phone: r.PostFormValue("phone"), Name: r.PostFormValue("name"), Lang: r.PostFormValue("lang"), Languages: c.languages(), Renew: r.PostFormValue("renew") == "1"}
	pg.Data = f
	fail := func(status int, key string) {
		pg.Error = pg.S(key)
		c.render(w, status, "invite", pg)
	}
	priv, err := invite.ReadKey(c.srv.Paths().InviteKey)
	if err != nil {
		fail(http.StatusServiceUnavailable, "console_invite_nokey")
		return
	}
	number, err := phone.Parse(f.Phone, phone.DefaultRegion)
	if err != nil {
		fail(http.StatusBadRequest, "console_err_number")
		return
	}
	if !slices.Contains(cfg.Site.Languages, f.Lang) {
		f.Lang = cfg.Site.DefaultLanguage
	}
	name := strings.TrimSpace(f.Name)
	if name != "" {
		var nerr *proof.NameError
		if name, nerr = proof.CheckName(name); nerr != nil {
			fail(http.StatusBadRequest, "console_err_name")
			return
		}
	}
	exp := c.now().Add(time.Duration(cfg.Invite.ValidDays) * 24 * time.Hour)
	inv, err := invite.New(number, name, f.Lang, exp)
	if err == nil {
		var token string
		if token, err = invite.Encode(inv, priv); err == nil {
			f.Link = invite.ConsentURL(c.srv.PublicURL(), token)
		}
	}
	if err != nil {
		c.log.Error("console: make invite", "err", err)
		fail(http.StatusInternalServerError, "console_unavailable")
		return
	}
	// Accountability: the signed record of who made the link, before it
	// is shown.
	if err := c.srv.OwnerInvited(r.Context(), s.owner, inv.ID); err != nil {
		c.log.Error("console: owner record", "err", err)
		f.Link = ""
		fail(http.StatusServiceUnavailable, "console_unavailable")
		return
	}
	tpl := cfg.Invite.Message[f.Lang]
	if tpl == "" || f.Renew {
		tpl = c.srv.Theme().Strings(f.Lang)["invite_message"]
	}
	if f.Renew {
		tpl = c.srv.Theme().Strings(f.Lang)["console_renew_message"]
	}
	f.Message = invite.Message(tpl, name, f.Link, cfg.Controller.Name)
	f.WhatsApp = invite.WhatsAppURL(number, f.Message)
	f.Expires = c.when(inv.Expires)
	f.Phone = number
	if code, err := qrcode.New(f.Link, qrcode.Medium); err == nil {
		if png, err := code.PNG(320); err == nil {
			f.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		}
	}
	c.log.Info("console: invite made", "invite", inv.ID, "renewal", f.Renew, "owner", s.ownerID[:8])
	c.render(w, http.StatusOK, "invite", pg)
}
