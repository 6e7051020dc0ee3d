package themes

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/chatconsent/chatconsent/internal/fields"
)

// Layout names every theme provides.
const (
	LayoutPolicy  = "policy"
	LayoutConsent = "consent"
	LayoutThanks  = "thanks"
	LayoutError   = "error"
	LayoutArchive = "archive"
	// LayoutWithdrawLink is the page behind a personal withdrawal link,
	// rendered by the collector (see [WithdrawLink]).
	LayoutWithdrawLink = "withdraw-link"
	// LayoutWithdrawal is the static withdrawal page: a plain form posting
	// phone, id (the record id), purpose (repeated, none = all) and lang
	// to the collector's /v1/withdraw (GDPR Art. 7(3)).
	LayoutWithdrawal = "withdrawal"
	// LayoutPage is any other page (imprint, FAQ); it is not part of a
	// text version.
	LayoutPage = "page"
)

// Layouts lists every layout a theme provides besides baseof.html.
var Layouts = []string{LayoutPolicy, LayoutConsent, LayoutThanks, LayoutError, LayoutArchive, LayoutWithdrawLink, LayoutWithdrawal, LayoutPage}

// Theme is a loaded theme: its layouts, strings and style sheet, with the
// site's overrides applied. It is safe for concurrent use once loaded.
type Theme struct {
	layouts map[string]*template.Template
	strings map[string]map[string]string // lang → key → text
	css     template.CSS
	logo    template.URL // a data: URL, see SetLogo; "" for none
	// sum is the SHA-256 of every source the theme was loaded from.
	sum string
	// ids are the id="…" values written in the layouts' sources, with
	// {{.ID}} standing for a purpose id (see [Theme.ElementIDs]).
	ids []string
}

// Page is the data every layout receives.
type Page struct {
	Lang       string
	Title      string
	SiteTitle  string
	Alternates []Alternate // this page in the site's other languages
	PolicyURL  string      // site-relative or absolute; "" hides the link
	ConsentURL string
	// WithdrawalURL is the withdrawal page; "" hides the link.
	WithdrawalURL string
	Content       template.HTML
	Form          *Form
	Result        *Result
	Archive       []ArchivedText // for the archive layout
	// WithdrawLink is the form of the withdraw-link layout.
	WithdrawLink *WithdrawLink
	// BackURL, if set, is where an error page's "back" link leads
	// (default ConsentURL).
	BackURL string
	// FormNotSeen marks an error page reached from a link (a personal
	// invite sent by WhatsApp) rather than from the form: its link to the
	// form says "to the consent form", not "back".
	FormNotSeen bool
	// T holds the theme strings in Lang; set by [Theme.Render].
	T   map[string]string
	CSS template.CSS
	// Logo is the site's logo as a data: URL ([Theme.SetLogo]); set by
	// [Theme.Render].
	Logo template.URL
}

// Alternate is one language version of a page (hreflang, RFC 8288 links).
type Alternate struct{ Lang, Name, URL string }

// Form is the consent form on the consent page, or the withdrawal form on
// the withdrawal page.
type Form struct {
	Action      string // absolute URL or path of the collector's /v1/consent or /v1/withdraw
	TextVersion string
	Purposes    []FormPurpose
	Values      FormValues
	Errors      []FieldError
	// Invite is the personal invite token; when set, the form posts it and
	// shows the number (Values.Phone) read-only.
	Invite string
	// Intro replaces the theme's "error_intro" above Errors, e.g. for the
	// withdrawal form ("withdraw_error_intro").
	Intro string
	// NoMail says that receipts are not mailed (no [smtp] in the config):
	// the e-mail field says so instead of promising a copy by mail.
	NoMail bool
	// table is internal/fields' table the inputs come from; nil means
	// fields.All (tests give a copy with a field more).
	table []fields.Field
}

// Input is one text input of a form as the layouts render it: a row of
// internal/fields' table with the value to re-fill, the theme string of
// its hint in this form's state, and its error message.
type Input struct {
	fields.Field
	Value    string
	Hint     string // theme string key, "" for no hint
	Error    string
	ReadOnly bool
}

// ConsentInputs are the consent form's text inputs (fields.Inputs of
// fields.Consent): the layout ranges over them.
func (f *Form) ConsentInputs() []Input { return f.inputs(fields.Consent) }

// WithdrawalInputs are the withdrawal form's text inputs.
func (f *Form) WithdrawalInputs() []Input { return f.inputs(fields.Withdrawal) }

func (f *Form) inputs(form fields.Form) []Input {
	table := f.table
	if table == nil {
		table = fields.All
	}
	var out []Input
	for _, fd := range fields.Inputs(table, form) {
		in := Input{Field: fd, Value: f.Values.Get(fd.Name), Error: f.ErrorFor(fd.Name), Hint: fd.Hint}
		switch {
		case fd.Hint == "":
		case form == fields.Withdrawal:
			in.Hint = "withdraw_" + fd.Hint
		case fd.FromInvite && f.Invite != "":
			in.Hint = "invite_" + fd.Hint
		case fd.Check == fields.CheckEmail && f.NoMail:
			in.Hint = fd.Hint + "_nomail"
		}
		in.ReadOnly = form == fields.Consent && fd.FromInvite && f.Invite != ""
		out = append(out, in)
	}
	return out
}

// FormPurpose is one checkbox.
type FormPurpose struct {
	ID, Title, Description string
	Checked                bool
}

// FormValues re-fills the form after an error: the values of the table's
// inputs ([Form.ConsentInputs]) by field name. Name, Phone, Email and
// RecordID are kept as members for layouts that name them
// (.Values.Name); Other holds the value of any other input of the table.
type FormValues struct {
	Name, Phone, Email, RecordID string
	Other                        map[string]string
}

// Get returns the value of the input named field.
func (v FormValues) Get(field string) string {
	switch field {
	case fields.Name:
		return v.Name
	case fields.Phone:
		return v.Phone
	case fields.Email:
		return v.Email
	case fields.ID:
		return v.RecordID
	}
	return v.Other[field]
}

// FieldError is a message for one field, in the page's language.
type FieldError struct{ Field, Message string }

// ErrorFor returns the message for field, or "".
func (f *Form) ErrorFor(field string) string {
	for _, e := range f.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// Result is what the thank-you page shows. Decision is "granted",
// "refused" or "withdrawn"; WithdrawalURL, if set, is the person's own
// withdrawal link. EmailDropped says that the e-mail address the person
// typed was not stored, since no e-mail is sent (no [smtp]).
type Result struct {
	Decision, RecordID, ReceiptURL, WithdrawalURL string
	EmailDropped                                  bool
}

// WithdrawLink is the form behind a personal withdrawal link (GDPR
// Art. 7(3)): the decision is known, the person only picks the purposes.
// It posts id, k or invite, purpose (repeated) and lang to Action.
type WithdrawLink struct {
	Action   string
	RecordID string
	Key      string // the link's MAC, posted back as "k"
	Invite   string // or the invite token, posted back as "invite"
	Phone    string
	Decided  string // when the decision was made, formatted for the page
	Purposes []FormPurpose
	Errors   []FieldError
}

// ArchivedText is one text in an archived text version.
type ArchivedText struct {
	Title   string
	Content template.HTML
	Form    *Form
}

// Load is [LoadSite] with English as the fallback language.
func Load(siteDir string) (*Theme, error) { return LoadSite(siteDir, "en") }

// LoadSite loads the built-in theme with the overrides found in siteDir
// (siteDir/layouts/*.html, siteDir/i18n/*.toml). siteDir "" means none.
// A site adds a language the theme does not have with siteDir/i18n/LANG.toml
// (and content/LANG/): keys it does not set are taken from the fallback
// language (the site's default language), then from English; keys the
// theme does not know are errors. Errors name the file and, for template
// and TOML errors, the line.
func LoadSite(siteDir, fallback string) (*Theme, error) {
	base, err := fs.Sub(Default, "default")
	if err != nil {
		return nil, err
	}
	t := &Theme{layouts: map[string]*template.Template{}, strings: map[string]map[string]string{}}
	css, err := fs.ReadFile(base, "style.css")
	if err != nil {
		return nil, fmt.Errorf("read theme style.css: %w", err)
	}
	t.css = template.CSS(css)
	h := sha256.New()
	h.Write(css)

	read := func(name string) (data []byte, origin string, err error) {
		if siteDir != "" {
			p := filepath.Join(siteDir, filepath.FromSlash(name))
			if b, err := os.ReadFile(p); err == nil {
				return b, p, nil
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, p, err
			}
		}
		b, err := fs.ReadFile(base, name)
		return b, "themes/default/" + name, err
	}
	mark := func(origin string, b []byte) {
		fmt.Fprintf(h, "%s\x00%d\x00", origin, len(b))
		h.Write(b)
	}

	baseText, baseOrigin, err := read("layouts/baseof.html")
	if err != nil {
		return nil, fmt.Errorf("read layout baseof.html: %w", err)
	}
	mark(baseOrigin, baseText)
	for _, name := range Layouts {
		text, origin, err := read("layouts/" + name + ".html")
		if err != nil {
			return nil, fmt.Errorf("read layout %s.html: %w", name, err)
		}
		mark(origin, text)
		t.addIDs(baseText, text)
		tpl, err := template.New(baseOrigin).Option("missingkey=error").Parse(string(baseText))
		if err != nil {
			return nil, fmt.Errorf("parse layout: %w", err)
		}
		if _, err := tpl.New(origin).Parse(string(text)); err != nil {
			return nil, fmt.Errorf("parse layout: %w", err)
		}
		t.layouts[name] = tpl
	}

	entries, err := fs.ReadDir(base, "i18n")
	if err != nil {
		return nil, fmt.Errorf("read theme i18n: %w", err)
	}
	for _, e := range entries {
		lang, ok := strings.CutSuffix(e.Name(), ".toml")
		if !ok {
			continue
		}
		m := map[string]string{}
		b, _ := fs.ReadFile(base, "i18n/"+e.Name())
		mark(e.Name(), b)
		if err := decodeStrings("themes/default/i18n/"+e.Name(), b, m, nil); err != nil {
			return nil, err
		}
		if siteDir != "" {
			p := filepath.Join(siteDir, "i18n", e.Name())
			if b, err := os.ReadFile(p); err == nil {
				mark(p, b)
				if err := decodeStrings(p, b, m, m); err != nil {
					return nil, err
				}
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("read %s: %w", p, err)
			}
		}
		t.strings[lang] = m
	}
	if siteDir != "" {
		if err := t.siteLanguages(siteDir, fallback, mark); err != nil {
			return nil, err
		}
	}
	t.sum = hex.EncodeToString(h.Sum(nil))
	return t, nil
}

// siteLanguages adds the languages of siteDir/i18n that the theme lacks,
// each on top of a copy of the fallback language's strings (or English's).
func (t *Theme) siteLanguages(siteDir, fallback string, mark func(string, []byte)) error {
	dir := filepath.Join(siteDir, "i18n")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	type file struct{ lang, path string }
	var files []file
	for _, e := range entries {
		lang, ok := strings.CutSuffix(e.Name(), ".toml")
		if !ok || e.IsDir() || t.strings[lang] != nil {
			continue
		}
		files = append(files, file{lang, filepath.Join(dir, e.Name())})
	}
	// The fallback language first, so that others fall back to all of it.
	slices.SortStableFunc(files, func(a, b file) int {
		switch {
		case a.lang == fallback:
			return -1
		case b.lang == fallback:
			return 1
		}
		return strings.Compare(a.lang, b.lang)
	})
	for _, f := range files {
		base := t.strings[fallback]
		if base == nil || f.lang == fallback {
			base = t.strings["en"]
		}
		m := maps.Clone(base)
		b, err := os.ReadFile(f.path)
		if err != nil {
			return fmt.Errorf("read %s: %w", f.path, err)
		}
		mark(f.path, b)
		if err := decodeStrings(f.path, b, m, base); err != nil {
			return err
		}
		t.strings[f.lang] = m
	}
	return nil
}

var idAttrRe = regexp.MustCompile(`\sid="([^"]*)"`)

func (t *Theme) addIDs(srcs ...[]byte) {
	for _, src := range srcs {
		for _, m := range idAttrRe.FindAllSubmatch(src, -1) {
			if id := string(m[1]); id != "" && !slices.Contains(t.ids, id) {
				t.ids = append(t.ids, id)
			}
		}
	}
}

// ElementIDs returns the element ids the layouts can write (the form's
// fields, their hints and errors, <main id="main">), given the site's
// purpose ids: content must not use them for its headings. The text
// inputs' ids come from internal/fields' table; another id written with a
// template action other than {{.ID}} is not known here.
func (t *Theme) ElementIDs(purposeIDs []string) []string {
	var out []string
	add := func(id string) {
		if !strings.Contains(id, "{{") && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	// The text inputs the layouts render from internal/fields' table
	// (their ids are written as {{.Name}}).
	for _, f := range fields.Inputs(fields.All, fields.Consent|fields.Withdrawal) {
		add(f.Name)
		add(f.Name + "-error")
		if f.Hint != "" {
			add(f.Name + "-hint")
		}
	}
	for _, id := range t.ids {
		if strings.Contains(id, "{{.ID}}") {
			for _, p := range purposeIDs {
				add(strings.ReplaceAll(id, "{{.ID}}", p))
			}
			continue
		}
		add(id)
	}
	slices.Sort(out)
	return out
}

// Fingerprint is the SHA-256 (hex) of every file the theme was loaded
// from, the site's overrides included: equal fingerprints render equal
// pages, so a builder can keep pages it rendered with an earlier load.
func (t *Theme) Fingerprint() string { return t.sum }

// decodeStrings decodes a flat TOML table of strings into m. If known is
// not nil, keys not in known are errors (a misspelt override).
func decodeStrings(name string, b []byte, m, known map[string]string) error {
	var raw map[string]any
	if _, err := toml.Decode(string(b), &raw); err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return fmt.Errorf("%s:%d: %s", name, perr.Position.Line, perr.Message)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	for k, v := range raw {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: key %s: want a string", name, k)
		}
		if known != nil {
			if _, ok := known[k]; !ok {
				return fmt.Errorf("%s: unknown key %s", name, k)
			}
		}
		m[k] = s
	}
	return nil
}

// Strings returns the theme's strings in lang (nil if the theme has none).
func (t *Theme) Strings(lang string) map[string]string { return t.strings[lang] }

// Render executes layout with p into w. It sets p.T, p.CSS and p.Logo.
func (t *Theme) Render(w io.Writer, layout string, p *Page) error {
	tpl, ok := t.layouts[layout]
	if !ok {
		return fmt.Errorf("render: no layout %q", layout)
	}
	p.T = t.strings[p.Lang]
	if p.T == nil {
		return fmt.Errorf("render: the theme has no strings for language %q (add i18n/%s.toml)", p.Lang, p.Lang)
	}
	p.CSS = t.css
	p.Logo = t.logo
	var buf bytes.Buffer
	if err := tpl.ExecuteTemplate(&buf, tpl.Name(), p); err != nil {
		return fmt.Errorf("render layout %s: %w", layout, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
