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
//	[site]       title, base_url, default_language, languages, unsafe_html, archive
//	[controller] name, address, email, phone          (GDPR Art. 4(7), 13(1)(a))
//	[collector]  public_url, listen, data_dir
//	[receipt]    template
//	[[purposes]] id, title, description               (GDPR Art. 6(1)(a), 7(2))
//	[invite]     public_key, key, valid_days, message
//
// Relative paths (site.archive, data_dir, receipt.template) are resolved against the folder
// that holds config.toml, so commands work from any working directory.
package config

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
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
	Invite     Invite
}

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
	Title string
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
}

// Receipt configures the PDF receipt.
type Receipt struct {
	// Template is the absolute path of the owner's letterhead PDF, or "" for
	// the built-in template.
	Template string
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

// ErrInvalid is wrapped by every validation error of [Load] and [Parse].
var ErrInvalid = errors.New("invalid configuration")

// file mirrors the TOML layout. Language-keyed strings are either a plain
// string (meaning: the same in every language) or a table {de = "", en = ""}.
type file struct {
	Site struct {
		Title           string   `toml:"title"`
		BaseURL         string   `toml:"base_url"`
		DefaultLanguage string   `toml:"default_language"`
		Languages       []string `toml:"languages"`
		UnsafeHTML      bool     `toml:"unsafe_html"`
		Archive         string   `toml:"archive"`
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
	} `toml:"collector"`
	Receipt struct {
		Template string `toml:"template"`
	} `toml:"receipt"`
	Invite struct {
		PublicKey string         `toml:"public_key"`
		Key       string         `toml:"key"`
		ValidDays *int           `toml:"valid_days"`
		Message   localizedField `toml:"message"`
	} `toml:"invite"`
	Purposes []struct {
		ID          string         `toml:"id"`
		Title       localizedField `toml:"title"`
		Description localizedField `toml:"description"`
	} `toml:"purposes"`
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
				return fmt.Errorf("language %q: want a string, got %T", k, x)
			}
			m[k] = s
		}
		*l = m
	default:
		return fmt.Errorf("want a string or a table of strings per language, got %T", v)
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
var langRe = regexp.MustCompile(`^[a-z]{2,3}$`)

// Parse decodes and validates config text. name is used in error messages
// (usually the file path); dir is the folder relative paths resolve against.
func Parse(name, dir string, text []byte) (*Config, error) {
	var f file
	md, err := toml.Decode(string(text), &f)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, fmt.Errorf("%s:%d: %w: %s", name, perr.Position.Line, ErrInvalid, perr.Message)
		}
		return nil, fmt.Errorf("%s: %w: %v", name, ErrInvalid, err)
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
	c.Site = Site{Title: f.Site.Title, BaseURL: f.Site.BaseURL, DefaultLanguage: f.Site.DefaultLanguage, Languages: f.Site.Languages}
	required("site.title", c.Site.Title)
	if c.Site.DefaultLanguage == "" {
		c.Site.DefaultLanguage = "de"
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
	c.Site.BaseURL = checkURL(bad, "site.base_url", f.Site.BaseURL)
	c.Site.UnsafeHTML = f.Site.UnsafeHTML
	archiveDir := f.Site.Archive
	if strings.TrimSpace(archiveDir) == "" {
		archiveDir = "archive"
	}
	c.Site.Archive = resolve(dir, archiveDir)

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
		dataDir = "data"
	}
	c.Collector.DataDir = resolve(dir, dataDir)
	if f.Receipt.Template != "" {
		c.Receipt.Template = resolve(dir, f.Receipt.Template)
	}

	if len(f.Purposes) == 0 {
		bad("purposes", "missing (at least one [[purposes]] table is required)")
	}
	seen := map[string]bool{}
	for i, p := range f.Purposes {
		key := fmt.Sprintf("purposes[%d]", i)
		if !purposeIDRe.MatchString(p.ID) {
			bad(key+".id", "%q must be 1-40 lower-case letters, digits or '-'", p.ID)
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

// lineOf returns ":N" for the first line that defines the last component of
// the dotted key ("purposes[1].id" → "id = …" after the second [[purposes]]),
// or "" when it cannot tell. The TOML decoder reports positions only for
// syntax errors, so this is a best effort for messages, never for logic.
func lineOf(text []byte, key string) string {
	parts := strings.Split(key, ".")
	last := parts[len(parts)-1]
	nth := 0
	if i := strings.IndexByte(parts[0], '['); i > 0 {
		fmt.Sscanf(parts[0][i:], "[%d]", &nth)
		parts[0] = parts[0][:i]
	}
	lines := strings.Split(string(text), "\n")
	start, seen := 0, -1
	if len(parts) > 1 {
		for i, l := range lines {
			t := strings.TrimSpace(l)
			if t == "["+parts[0]+"]" || t == "[["+parts[0]+"]]" {
				seen++
				if seen == nth {
					start = i + 1
					break
				}
			}
		}
		if seen < nth {
			return ""
		}
	}
	for i := start; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if len(parts) > 1 && i > start && strings.HasPrefix(t, "[") {
			break
		}
		if k, _, ok := strings.Cut(t, "="); ok && strings.Trim(strings.TrimSpace(k), `"`) == last {
			return fmt.Sprintf(":%d", i+1)
		}
		if len(parts) == 1 && (t == "["+last+"]" || t == "[["+last+"]]") {
			return fmt.Sprintf(":%d", i+1)
		}
	}
	return ""
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
