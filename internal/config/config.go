// Package config loads and validates a chatconsent site's config.toml.
//
// It is the only package that knows the file's keys. Every other package
// receives a validated [Config]. Unknown keys and missing required keys are
// errors that name the key (and the line, where the TOML decoder knows it),
// so a typo in the owner's file is reported instead of silently ignored.
//
// # Keys
//
// See README.md ("Configuration") for the owner-facing list. In short:
//
//	[site]       title, base_url, default_language, languages, unsafe_html, archive, brand_color, logo
//	[controller] name, address, email, phone          (GDPR Art. 4(7), 13(1)(a))
//	[collector]  public_url, listen, data_dir, rate_per_minute, rate_burst,
//	             allowed_origins, trusted_proxies, store_ip, store_user_agent
//	[receipt]    template, link_ttl, [[receipt.fields]] (field, page, x, y, size)
//	[[purposes]] id, title, description               (GDPR Art. 6(1)(a), 7(2))
//	[smtp]       host, port, security, user, password_env, password_file, from, owner_to, owner_mail
//	[invite]     public_key, key, valid_days, message
//	[retention]  proof_years, auto
//	[log]        witness_quorum, timestamp_url, timestamp_roots, storage,
//	             [[log.witnesses]] (url, key),
//	             [log.aws] (bucket, prefix, endpoint, region, mysql_dsn)
//
// Relative paths (site.archive, data_dir, receipt.template) are resolved against the folder
// that holds config.toml, so commands work from any working directory.
//
// # Paths
//
// [Config.Paths] resolves every file and folder of a run (the log, the
// keys, receipts, texts, outbox, private store, transparency log, owners,
// archive) once from the config and the --data flag; the names inside the
// data folder ([LogFile], [SigningKeyFile], …) are spelled only here, and
// the packages that read and write those files take paths from their
// callers.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/chatconsent/chatconsent/internal/fields"
)

// Config is a validated site configuration.
type Config struct {
	// Dir is the absolute folder that holds the config file; relative paths
	// in the file are resolved against it.
	Dir        string
	Site       Site
	Controller Controller
	Collector  Collector
	Receipt    Receipt
	Purposes   []Purpose
	// SMTP configures receipt delivery by e-mail; nil when the file has no
	// [smtp] table (mail is off).
	SMTP      *SMTP
	Invite    Invite
	Retention Retention
	// Log configures the transparency log's witnesses and time-stamps.
	Log Log
}

// Retention says how long the proof of consent keeps personal data
// (GDPR Art. 5(1)(e), 17(3)(e)): [retention] in config.toml.
type Retention struct {
	// ProofYears is how many full years after the end of the year of a
	// person's last event their personal data are kept (the limitation
	// period of §§ 195, 199 BGB is 3); default 3. A grant still in force
	// is never due.
	ProofYears int
	// Auto lets the collector erase what is due once a day; default true.
	Auto bool
}

// DefaultProofYears is retention.proof_years when the file does not set it.
const DefaultProofYears = 3

// Invite configures personal invite links (package collector/invite).
type Invite struct {
	// PublicKey is the absolute path of the invite key's public half, which
	// the collector checks invite tokens with; "" means invite.pub in the
	// data directory.
	PublicKey string
	// Key is the absolute path of the invite signing key that
	// "chatconsent invite" uses (on the owner's computer); "" means
	// invite.key in the data directory.
	Key string
	// ValidDays is how long an invite can be used for a decision; default 30.
	ValidDays int
	// Message overrides the theme's WhatsApp message per language (keys
	// are languages; "{link}", "{name}" and "{controller}" are filled in).
	Message map[string]string
}

// Site describes the static website the generator builds.
type Site struct {
	// Title is the site's name in the default language; Titles has it per
	// language (site.title is a string or { de = "…", en = "…" }).
	Title  string
	Titles map[string]string
	// BaseURL is the absolute URL the site is served from, ending in "/".
	BaseURL string
	// DefaultLanguage is a BCP 47 primary language tag ("de").
	DefaultLanguage string
	// Languages lists every language the site is built in; it contains
	// DefaultLanguage. Defaults to [DefaultLanguage].
	Languages []string
	// UnsafeHTML lets raw HTML in Markdown through to the pages (default
	// false: it is dropped, so content cannot inject scripts).
	UnsafeHTML bool
	// Archive is the absolute folder of the text archive (default
	// CONFIGDIR/archive); keep it in version control.
	Archive string
	// BrandColor is the shop's colour for links, buttons and the form's
	// rule, "#rrggbb" in lower case; "" keeps the theme's. Its contrast
	// with the theme is checked where the theme is loaded
	// (themes.Theme.SetBrandColor).
	BrandColor string
	// Logo is the absolute path of the shop's logo (site.logo: PNG, JPEG,
	// WebP, GIF or SVG, at most 64 KiB), shown before the title on every
	// page; "" for none. themes.Theme.SetLogo reads and checks it.
	Logo string
}

// Controller is the controller in the sense of GDPR Art. 4(7), whose identity
// and contact details the notice must give (Art. 13(1)(a)).
type Controller struct {
	Name    string
	Address string // postal address, one line
	Email   string
	Phone   string
}

// Collector configures the HTTP service that records decisions.
type Collector struct {
	// PublicURL is the absolute URL under which browsers reach the
	// collector, ending in "/"; the form posts to PublicURL+"v1/consent".
	PublicURL string
	// Listen is the host:port the collector binds to.
	Listen string
	// DataDir is the absolute folder holding the key, log and receipts.
	DataDir string
	// The collector's defences and what it keeps of the client: see
	// collector.go in this package.
	Limits
}

// Receipt configures the PDF receipt.
type Receipt struct {
	// Template is the absolute path of the owner's letterhead PDF, or "" for
	// the built-in template.
	Template string
	// LinkTTL is how long a receipt link on the thank-you page works;
	// default [DefaultLinkTTL].
	LinkTTL time.Duration
	// Fields, if not empty, places single values on the template at fixed
	// positions instead of printing the whole receipt; see [ReceiptField].
	Fields []ReceiptField
}

// DefaultLinkTTL is the default of receipt.link_ttl: 30 days.
const DefaultLinkTTL = 30 * 24 * time.Hour

// ReceiptField places one value of the receipt on the owner's template
// (a [[receipt.fields]] table). Coordinates are PDF points (1/72 inch)
// from the lower-left corner of the page; (X, Y) is the start of the first
// line's baseline.
type ReceiptField struct {
	// Field is one of [ReceiptFieldNames].
	Field string
	// Page is 1-based; default 1.
	Page int
	X, Y float64
	// Size is the font size in points; default 10.
	Size float64
}

// ReceiptFieldNames are the values a receipt template can show, as named in
// [[receipt.fields]] field = "…" and as AcroForm field names of a form
// template: internal/fields' receipt column, which the receipt package
// prints (collector/receipt: FieldNames).
var ReceiptFieldNames = fields.ReceiptNames(fields.All)

// RequiredReceiptFields must each be placed at least once: without them a
// receipt does not say who decided what, when, or which record proves it.
var RequiredReceiptFields = fields.ReceiptRequired(fields.All)

// SMTP is the mail server that delivers receipts (the [smtp] table).
type SMTP struct {
	Host string
	// Port defaults to 587 for "starttls", 465 for "tls", 25 for "none".
	Port int
	// Security is "starttls" (default, RFC 3207, required), "tls" (implicit
	// TLS, RFC 8314) or "none" (plain text, only to a loopback host).
	Security string
	// User is the login name; "" means no authentication.
	User string
	// PasswordEnv names an environment variable holding the password;
	// PasswordFile is the absolute path of a file holding it (trailing
	// newline ignored). At most one is set; the password itself is never
	// in config.toml. See [SMTP.Password].
	PasswordEnv, PasswordFile string
	// From is the sender address, e.g. "Fahrradladen <noreply@example.org>".
	From string
	// OwnerTo receives the owner's copy of every receipt; default
	// controller.email.
	OwnerTo string
	// OwnerMail is how the owner hears of new decisions and withdrawals:
	// [OwnerMailEach] (default), a copy of every receipt, or
	// [OwnerMailDaily], one digest a day of the day before (no personal
	// data in it; the receipts are in the console).
	OwnerMail string
}

// Values of smtp.owner_mail.
const (
	OwnerMailEach  = "each"
	OwnerMailDaily = "daily"
)

// Password returns the SMTP password from the environment variable or
// file named in the configuration, or "" if neither is set. getenv is
// usually os.Getenv. An unset or empty variable, or an unreadable or empty
// file, is an error naming the key.
func (s *SMTP) Password(getenv func(string) string) (string, error) {
	switch {
	case s.PasswordEnv != "":
		p := getenv(s.PasswordEnv)
		if p == "" {
			return "", fmt.Errorf("smtp.password_env: environment variable %s is not set or empty", s.PasswordEnv)
		}
		return p, nil
	case s.PasswordFile != "":
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("smtp.password_file: %w", err)
		}
		p := strings.TrimRight(string(b), "\r\n")
		if p == "" {
			return "", fmt.Errorf("smtp.password_file: %s is empty", s.PasswordFile)
		}
		return p, nil
	}
	return "", nil
}

// Purpose is one purpose of processing that the data subject can consent to
// separately (GDPR Art. 6(1)(a); granularity per EDPB Guidelines 05/2020).
type Purpose struct {
	// ID is the stable identifier stored in the log: lower-case ASCII
	// letters, digits and '-', at most 40 characters.
	ID string
	// Title and Description are keyed by language tag.
	Title       map[string]string
	Description map[string]string
}

// Localized returns the purpose's title and description in lang.
func (p Purpose) Localized(lang string) (title, description string) {
	return p.Title[lang], p.Description[lang]
}

// PurposeIDs returns the ids of the configured purposes in file order.
func (c *Config) PurposeIDs() []string {
	ids := make([]string, len(c.Purposes))
	for i, p := range c.Purposes {
		ids[i] = p.ID
	}
	return ids
}

// PurposeTitle returns the title of purpose id in lang, or id itself for
// a purpose no longer configured (records keep the ids of purposes that
// were removed from the config since).
func (c *Config) PurposeTitle(id, lang string) string {
	for _, p := range c.Purposes {
		if p.ID == id {
			title, _ := p.Localized(lang)
			return title
		}
	}
	return id
}

// ErrInvalid is wrapped by every validation error of [Load] and [Parse].
var ErrInvalid = errors.New("invalid configuration")

// TitleIn returns the site's title in lang (the default language's for a
// language it has none in).
func (s Site) TitleIn(lang string) string {
	if t := s.Titles[lang]; t != "" {
		return t
	}
	return s.Title
}

// file mirrors the TOML layout. Language-keyed strings are either a plain
// string (meaning: the same in every language) or a table {de = "", en = ""}.
type file struct {
	Site struct {
		Title           localizedField `toml:"title"`
		BaseURL         string         `toml:"base_url"`
		DefaultLanguage string         `toml:"default_language"`
		Languages       []string       `toml:"languages"`
		UnsafeHTML      bool           `toml:"unsafe_html"`
		Archive         string         `toml:"archive"`
		BrandColor      string         `toml:"brand_color"`
		Logo            string         `toml:"logo"`
	} `toml:"site"`
	Controller struct {
		Name    string `toml:"name"`
		Address string `toml:"address"`
		Email   string `toml:"email"`
		Phone   string `toml:"phone"`
	} `toml:"controller"`
	Collector struct {
		PublicURL string `toml:"public_url"`
		Listen    string `toml:"listen"`
		DataDir   string `toml:"data_dir"`
		limitsFile
	} `toml:"collector"`
	Receipt struct {
		Template string `toml:"template"`
		LinkTTL  string `toml:"link_ttl"`
		Fields   []struct {
			Field string   `toml:"field"`
			Page  *int     `toml:"page"`
			X     *float64 `toml:"x"`
			Y     *float64 `toml:"y"`
			Size  *float64 `toml:"size"`
		} `toml:"fields"`
	} `toml:"receipt"`
	Invite struct {
		PublicKey string         `toml:"public_key"`
		Key       string         `toml:"key"`
		ValidDays *int           `toml:"valid_days"`
		Message   localizedField `toml:"message"`
	} `toml:"invite"`
	Log      logFile `toml:"log"`
	Purposes []struct {
		ID          string         `toml:"id"`
		Title       localizedField `toml:"title"`
		Description localizedField `toml:"description"`
	} `toml:"purposes"`
	Retention struct {
		ProofYears *int  `toml:"proof_years"`
		Auto       *bool `toml:"auto"`
	} `toml:"retention"`
	SMTP *struct {
		Host         string  `toml:"host"`
		Port         int     `toml:"port"`
		Security     string  `toml:"security"`
		User         string  `toml:"user"`
		Password     *string `toml:"password"` // refused: never in the file
		PasswordEnv  string  `toml:"password_env"`
		PasswordFile string  `toml:"password_file"`
		From         string  `toml:"from"`
		OwnerTo      string  `toml:"owner_to"`
		OwnerMail    string  `toml:"owner_mail"`
	} `toml:"smtp"`
}

// localizedField accepts "text" or {de = "…", en = "…"}.
type localizedField map[string]string

func (l *localizedField) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*l = localizedField{"*": v}
	case map[string]any:
		m := localizedField{}
		for k, x := range v {
			s, ok := x.(string)
			if !ok {
				return fmt.Errorf("language %q: want text in quotes, not %s", k, tomlKind(fmt.Sprintf("%T", x)))
			}
			m[k] = s
		}
		*l = m
	default:
		return fmt.Errorf(`want text in quotes or a table like { de = "…", en = "…" }, not %s`, tomlKind(fmt.Sprintf("%T", v)))
	}
	return nil
}

// Load reads and validates the config file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, filepath.Dir(abs), b)
}

var purposeIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

var idTranslit = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "Ä", "ae", "Ö", "oe", "Ü", "ue", "é", "e", "è", "e", "à", "a", "ç", "c", "ñ", "n")

// idSuggestion returns `, e.g. "bestaetigung"` for a purpose id that
// becomes valid written in a-z, or "".
func idSuggestion(id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(idTranslit.Replace(id)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '_' || r == '-' || r == '.':
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if s == "" || s == id || !purposeIDRe.MatchString(s) {
		return ""
	}
	return fmt.Sprintf(", e.g. %q", s)
}

var langRe = regexp.MustCompile(`^[a-z]{2,3}$`)

// Parse decodes and validates config text. name is used in error messages
// (usually the file path); dir is the folder relative paths resolve against.
func Parse(name, dir string, text []byte) (*Config, error) {
	var f file
	md, err := toml.Decode(string(text), &f)
	if err != nil {
		return nil, decodeError(name, text, err)
	}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: %w: %s: %s", name, lineOf(text, key), ErrInvalid, key, fmt.Sprintf(format, args...)))
	}
	for _, k := range md.Undecoded() {
		errs = append(errs, fmt.Errorf("%s%s: %w: unknown key %s", name, lineOf(text, k.String()), ErrInvalid, k.String()))
	}
	required := func(key, v string) {
		if strings.TrimSpace(v) == "" {
			bad(key, "missing (required)")
		}
	}

	c := &Config{Dir: dir}
	c.Site = Site{BaseURL: f.Site.BaseURL, DefaultLanguage: f.Site.DefaultLanguage, Languages: f.Site.Languages}
	if c.Site.DefaultLanguage == "" {
		c.Site.DefaultLanguage = "de"
	}
	if len(f.Site.Title) == 0 {
		required("site.title", "")
	}
	if !langRe.MatchString(c.Site.DefaultLanguage) {
		bad("site.default_language", "%q is not a language code like \"de\"", c.Site.DefaultLanguage)
	}
	if len(c.Site.Languages) == 0 {
		c.Site.Languages = []string{c.Site.DefaultLanguage}
	}
	for _, l := range c.Site.Languages {
		if !langRe.MatchString(l) {
			bad("site.languages", "%q is not a language code like \"en\"", l)
		}
	}
	if !slices.Contains(c.Site.Languages, c.Site.DefaultLanguage) {
		bad("site.languages", "must contain the default language %q", c.Site.DefaultLanguage)
	}
	if len(f.Site.Title) > 0 {
		langs := c.Site.Languages
		if len(langs) == 0 {
			langs = []string{c.Site.DefaultLanguage}
		}
		c.Site.Titles = expand(f.Site.Title, langs)
		for _, l := range langs {
			if strings.TrimSpace(c.Site.Titles[l]) == "" {
				bad("site.title", "missing for language %q", l)
			}
		}
		for l := range f.Site.Title {
			if l != "*" && !slices.Contains(langs, l) {
				bad("site.title", "language %q is not in site.languages", l)
			}
		}
		c.Site.Title = c.Site.Titles[c.Site.DefaultLanguage]
	}
	c.Site.BaseURL = checkURL(bad, "site.base_url", f.Site.BaseURL)
	c.Site.UnsafeHTML = f.Site.UnsafeHTML
	if bc := strings.ToLower(strings.TrimSpace(f.Site.BrandColor)); bc != "" {
		if !brandColorRe.MatchString(bc) {
			bad("site.brand_color", "%q is not a colour: want six hex digits after #, e.g. \"#0b5c3b\"", f.Site.BrandColor)
		} else {
			c.Site.BrandColor = bc
		}
	}
	archiveDir := f.Site.Archive
	if strings.TrimSpace(archiveDir) == "" {
		archiveDir = DefaultArchiveDir
	}
	c.Site.Archive = resolve(dir, archiveDir)
	if strings.TrimSpace(f.Site.Logo) != "" {
		c.Site.Logo = resolve(dir, f.Site.Logo)
	}

	c.Controller = Controller(f.Controller)
	required("controller.name", c.Controller.Name)
	required("controller.address", c.Controller.Address)
	required("controller.email", c.Controller.Email)
	if c.Controller.Email != "" {
		if a, err := mail.ParseAddress(c.Controller.Email); err != nil || a.Address != c.Controller.Email {
			bad("controller.email", "%q is not an e-mail address", c.Controller.Email)
		}
	}

	c.Collector.PublicURL = checkURL(bad, "collector.public_url", f.Collector.PublicURL)
	c.Collector.Listen = f.Collector.Listen
	if c.Collector.Listen == "" {
		c.Collector.Listen = "127.0.0.1:8080"
	}
	dataDir := f.Collector.DataDir
	if dataDir == "" {
		dataDir = DefaultDataDir
	}
	c.Collector.DataDir = resolve(dir, dataDir)
	c.Collector.Limits = parseLimits(bad, f.Collector.limitsFile, c.Site.BaseURL)
	if f.Receipt.Template != "" {
		c.Receipt.Template = resolve(dir, f.Receipt.Template)
	}
	parseReceipt(c, &f, bad)
	c.Log = parseLog(bad, f.Log, dir)
	c.Retention = Retention{ProofYears: DefaultProofYears, Auto: true}
	if y := f.Retention.ProofYears; y != nil {
		if *y < 1 || *y > 30 {
			bad("retention.proof_years", "%d: want a whole number of years from 1 to 30 (3 is the limitation period of §§ 195, 199 BGB)", *y)
		}
		c.Retention.ProofYears = *y
	}
	if a := f.Retention.Auto; a != nil {
		c.Retention.Auto = *a
	}
	parseSMTP(c, &f, dir, bad)

	if len(f.Purposes) == 0 {
		bad("purposes", "missing (at least one [[purposes]] table is required)")
	}
	seen := map[string]bool{}
	for i, p := range f.Purposes {
		key := fmt.Sprintf("purposes[%d]", i)
		if !purposeIDRe.MatchString(p.ID) {
			bad(key+".id", "%q must be 1-40 lower-case letters a-z (no umlauts or accents), digits 0-9 or '-'%s", p.ID, idSuggestion(p.ID))
		}
		if p.ID == "all" {
			// The withdrawal forms' choice "all purposes" (collector.WithdrawAll).
			bad(key+".id", "%q is reserved (it means every purpose on the withdrawal forms); choose another id", p.ID)
		}
		if seen[p.ID] {
			bad(key+".id", "%q is used twice", p.ID)
		}
		seen[p.ID] = true
		title := expand(p.Title, c.Site.Languages)
		desc := expand(p.Description, c.Site.Languages)
		for _, l := range c.Site.Languages {
			if strings.TrimSpace(title[l]) == "" {
				bad(key+".title", "missing for language %q", l)
			}
			if strings.TrimSpace(desc[l]) == "" {
				bad(key+".description", "missing for language %q", l)
			}
		}
		c.Purposes = append(c.Purposes, Purpose{ID: p.ID, Title: title, Description: desc})
	}
	if f.Invite.PublicKey != "" {
		c.Invite.PublicKey = resolve(dir, f.Invite.PublicKey)
	}
	if f.Invite.Key != "" {
		c.Invite.Key = resolve(dir, f.Invite.Key)
	}
	c.Invite.ValidDays = 30
	if f.Invite.ValidDays != nil {
		c.Invite.ValidDays = *f.Invite.ValidDays
		if c.Invite.ValidDays < 1 || c.Invite.ValidDays > 3650 {
			bad("invite.valid_days", "%d: want 1 to 3650 days", c.Invite.ValidDays)
		}
	}
	if len(f.Invite.Message) > 0 {
		c.Invite.Message = expand(f.Invite.Message, c.Site.Languages)
		for _, l := range c.Site.Languages {
			if !strings.Contains(c.Invite.Message[l], "{link}") {
				bad("invite.message", "the message for language %q must contain {link}", l)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func expand(l localizedField, langs []string) map[string]string {
	m := map[string]string{}
	for _, lang := range langs {
		if s, ok := l[lang]; ok {
			m[lang] = s
		} else if s, ok := l["*"]; ok {
			m[lang] = s
		}
	}
	return m
}

func resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// checkURL validates an absolute http(s) URL and returns it with a trailing "/".
func checkURL(bad func(key, format string, args ...any), key, s string) string {
	if s == "" {
		bad(key, "missing (required)")
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		bad(key, "%q is not an absolute http(s) URL without query", s)
		return s
	}
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s
}

// parseReceipt validates receipt.link_ttl and [[receipt.fields]].
func parseReceipt(c *Config, f *file, bad func(key, format string, args ...any)) {
	c.Receipt.LinkTTL = DefaultLinkTTL
	if s := f.Receipt.LinkTTL; s != "" {
		d, err := parseDuration(s)
		switch {
		case err != nil:
			bad("receipt.link_ttl", "%q is not a duration like \"30d\", \"720h\" or \"90m\"", s)
		case d < time.Minute:
			bad("receipt.link_ttl", "%q is shorter than one minute", s)
		default:
			c.Receipt.LinkTTL = d
		}
	}
	if len(f.Receipt.Fields) > 0 && c.Receipt.Template == "" {
		bad("receipt.fields", "needs receipt.template: fields are placed on your own template")
	}
	placed := map[string]bool{}
	for i, rf := range f.Receipt.Fields {
		key := fmt.Sprintf("receipt.fields[%d]", i)
		fld := ReceiptField{Field: rf.Field, Page: 1, Size: 10}
		switch {
		case rf.Field == "":
			bad(key+".field", "missing (required): one of %s", strings.Join(ReceiptFieldNames, ", "))
		case !slices.Contains(ReceiptFieldNames, rf.Field):
			bad(key+".field", "%q is not a receipt value; want one of %s", rf.Field, strings.Join(ReceiptFieldNames, ", "))
		}
		placed[rf.Field] = true
		if rf.Page != nil {
			fld.Page = *rf.Page
			if fld.Page < 1 {
				bad(key+".page", "%d: pages count from 1", fld.Page)
			}
		}
		// 14400 pt (200 inches) is the largest page PDF allows (ISO
		// 32000-1, Annex C); receipt.New checks against the template's
		// actual page size at start-up.
		for _, xy := range []struct {
			name string
			v    *float64
			out  *float64
		}{{"x", rf.X, &fld.X}, {"y", rf.Y, &fld.Y}} {
			switch {
			case xy.v == nil:
				bad(key+"."+xy.name, "missing (required): points from the lower-left corner of the page")
			case *xy.v < 0 || *xy.v > 14400:
				bad(key+"."+xy.name, "%g is outside any page (0 to 14400 points)", *xy.v)
			default:
				*xy.out = *xy.v
			}
		}
		if rf.Size != nil {
			fld.Size = *rf.Size
			if fld.Size < 4 || fld.Size > 72 {
				bad(key+".size", "%g: want a font size from 4 to 72 points", fld.Size)
			}
		}
		c.Receipt.Fields = append(c.Receipt.Fields, fld)
	}
	if len(f.Receipt.Fields) > 0 {
		for _, r := range RequiredReceiptFields {
			if !placed[r] {
				bad("receipt.fields", "no field = %q: a receipt must show %s", r, strings.Join(RequiredReceiptFields, ", "))
			}
		}
	}
}

// parseDuration accepts Go durations ("720h", "90m") and whole days ("30d").
func parseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err != nil || fmt.Sprint(days) != n || days < 0 || days > 36500 {
			return 0, fmt.Errorf("bad number of days %q", n)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// parseSMTP validates the optional [smtp] table.
func parseSMTP(c *Config, f *file, dir string, bad func(key, format string, args ...any)) {
	m := f.SMTP
	if m == nil {
		return
	}
	if m.Password != nil {
		bad("smtp.password", "never put the password into config.toml; name an environment variable with password_env or a file with password_file")
	}
	s := &SMTP{Host: m.Host, Port: m.Port, Security: m.Security, User: m.User, PasswordEnv: m.PasswordEnv, From: m.From, OwnerTo: m.OwnerTo}
	if strings.TrimSpace(s.Host) == "" {
		bad("smtp.host", "missing (required)")
	}
	if s.Security == "" {
		s.Security = "starttls"
	}
	defaultPort := map[string]int{"starttls": 587, "tls": 465, "none": 25}
	switch s.Security {
	case "starttls", "tls":
	case "none":
		if !isLoopback(s.Host) {
			bad("smtp.security", "\"none\" sends the password and the receipts in clear text; allowed only to a loopback host (localhost, 127.0.0.1, ::1), not %q", s.Host)
		}
	default:
		bad("smtp.security", "%q: want \"starttls\", \"tls\" or \"none\"", s.Security)
	}
	if s.Port == 0 {
		s.Port = defaultPort[s.Security]
	}
	if s.Port < 1 || s.Port > 65535 {
		bad("smtp.port", "%d is not a TCP port", s.Port)
	}
	if m.PasswordEnv != "" && m.PasswordFile != "" {
		bad("smtp.password_file", "give either password_env or password_file, not both")
	}
	if m.PasswordFile != "" {
		s.PasswordFile = resolve(dir, m.PasswordFile)
	}
	if s.User == "" && (m.PasswordEnv != "" || m.PasswordFile != "") {
		bad("smtp.user", "missing: a password needs a user name")
	}
	if s.User != "" && m.PasswordEnv == "" && m.PasswordFile == "" && m.Password == nil {
		bad("smtp.password_env", "missing: smtp.user %q needs password_env or password_file", s.User)
	}
	if strings.TrimSpace(s.From) == "" {
		bad("smtp.from", "missing (required)")
	} else if _, err := mail.ParseAddress(s.From); err != nil {
		bad("smtp.from", "%q is not an e-mail address", s.From)
	}
	if s.OwnerTo == "" {
		s.OwnerTo = c.Controller.Email
	} else if a, err := mail.ParseAddress(s.OwnerTo); err != nil || a.Address != s.OwnerTo {
		bad("smtp.owner_to", "%q is not an e-mail address", s.OwnerTo)
	}
	switch s.OwnerMail = m.OwnerMail; s.OwnerMail {
	case "":
		s.OwnerMail = OwnerMailEach
	case OwnerMailEach, OwnerMailDaily:
	default:
		bad("smtp.owner_mail", "%q: want \"each\" (a copy of every receipt) or \"daily\" (one digest a day)", m.OwnerMail)
	}
	c.SMTP = s
}

// isLoopback reports whether host names this machine only.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SiteURL makes a site-relative path ("/de/einwilligung/", as the generator
// links pages; it already holds base_url's path) absolute with the scheme
// and host of site.base_url. Other strings are returned unchanged.
func (c *Config) SiteURL(path string) string {
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return path
	}
	u, err := url.Parse(c.Site.BaseURL)
	if err != nil || u.Host == "" {
		return path
	}
	return u.Scheme + "://" + u.Host + path
}

// brandColorRe is site.brand_color's form: a CSS hex colour, #rrggbb.
var brandColorRe = regexp.MustCompile(`^#[0-9a-f]{6}$`)
