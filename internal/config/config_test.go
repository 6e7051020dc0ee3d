package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadRepoConfig(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Site.DefaultLanguage, "de"; got != want {
		t.Errorf("default language = %q, want %q", got, want)
	}
	if got, want := strings.Join(c.PurposeIDs(), ","), "orders,documents"; got != want {
		t.Errorf("purposes = %q, want %q", got, want)
	}
	if title, _ := c.Purposes[1].Localized("en"); title != "Sending documents by WhatsApp" {
		t.Errorf("en title = %q", title)
	}
	if !filepath.IsAbs(c.Collector.DataDir) || filepath.Base(c.Collector.DataDir) != "data" {
		t.Errorf("data dir = %q, want absolute …/data", c.Collector.DataDir)
	}
}

const good = `
[site]
title = "T"
base_url = "https://example.org"
[controller]
name = "N"
address = "A"
email = "a@example.org"
[collector]
public_url = "https://c.example.org/"
[[purposes]]
id = "orders"
title = "Orders"
description = "D"
`

func TestParseDefaults(t *testing.T) {
	c, err := Parse("c.toml", "/site", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Site.BaseURL != "https://example.org/" {
		t.Errorf("base_url = %q, want trailing slash", c.Site.BaseURL)
	}
	if c.Collector.DataDir != "/site/data" || c.Collector.Listen != "127.0.0.1:8080" {
		t.Errorf("collector defaults = %+v", c.Collector)
	}
	if got := c.Purposes[0].Title["de"]; got != "Orders" {
		t.Errorf("plain title not used for de: %q", got)
	}
}

// secondPurpose follows good's purpose.
const secondPurpose = "[[purposes]]\nid = \"documents\"\ntitle = \"Documents\"\ndescription = \"D\"\n"

// TestSiteTitlePerLanguage (issue 11 item 23): site.title as a table
// gives each language its title; a plain string is every language's.
func TestSiteTitlePerLanguage(t *testing.T) {
	t.Parallel()
	c, err := Parse("c.toml", "/site", []byte(strings.Replace(good, `title = "T"`, "title = { de = \"Datenschutz\", en = \"Privacy\" }\nlanguages = [\"de\", \"en\"]", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Site.TitleIn("de") != "Datenschutz" || c.Site.TitleIn("en") != "Privacy" || c.Site.Title != "Datenschutz" || c.Site.TitleIn("fr") != "Datenschutz" {
		t.Errorf("titles %+v / %q", c.Site.Titles, c.Site.Title)
	}
	c, err = Parse("c.toml", "/site", []byte(good))
	if err != nil || c.Site.TitleIn("de") != "T" || c.Site.Title != "T" {
		t.Errorf("plain title: %+v, %v", c.Site, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"unknown key", strings.Replace(good, `title = "T"`, "title = \"T\"\ntitel = \"x\"", 1), "c.toml:4: invalid configuration: unknown key site.titel"},
		{"missing controller name", strings.Replace(good, `name = "N"`, "", 1), "controller.name: missing (required)"},
		{"syntax error in a multi-line list", strings.Replace(good, `title = "T"`, "title = \"T\"\nlanguages = [\"de\",\n  \"en\" \"x\"]", 1), `c.toml:5: invalid configuration: `},
		{"list given as text", strings.Replace(good, `title = "T"`, "title = \"T\"\nlanguages = \"de\"", 1), `c.toml:4: invalid configuration: site.languages: want a list ([…]), not text in quotes`},
		// site.title may be a table per language now (issue 11 item 23):
		// these two moved to a key that is plain text.
		{"text given as number", strings.Replace(good, `name = "N"`, "name = 5", 1), `c.toml:6: invalid configuration: controller.name: want text in quotes, not a whole number`},
		{"site title as number", strings.Replace(good, `title = "T"`, "title = 5", 1), `c.toml:3: invalid configuration: site.title: want text in quotes or a table like { de = "…", en = "…" }, not a whole number`},
		{"site title missing a language", strings.Replace(good, `title = "T"`, "title = { de = \"T\" }\nlanguages = [\"de\", \"en\"]", 1), `site.title: missing for language "en"`},
		{"site title in a language the site lacks", strings.Replace(good, `title = "T"`, `title = { de = "T", fr = "T" }`, 1), `site.title: language "fr" is not in site.languages`},
		// In an array of tables the decoder names the key's last
		// occurrence; the error names the one that is wrong.
		{"number as id of the first purpose", strings.Replace(good, `id = "orders"`, "id = 7", 1) + secondPurpose, `c.toml:12: invalid configuration: purposes.id: want text in quotes, not a whole number`},
		{"number as title of the first purpose", strings.Replace(good, `title = "Orders"`, "title = 5", 1) + secondPurpose, `c.toml:13: invalid configuration: purposes.title: want text in quotes or a table like { de = "…", en = "…" }, not a whole number`},
		{"number in a localized title", strings.Replace(good, `title = "Orders"`, "title = { de = 5 }", 1) + secondPurpose, `c.toml:13: invalid configuration: purposes.title: language "de": want text in quotes, not a whole number`},
		{"date for text", strings.Replace(good, `name = "N"`, "name = 2026-01-01", 1), `c.toml:6: invalid configuration: controller.name: want text in quotes, not a date`},
		{"table for text", strings.Replace(good, `name = "N"`, `name = { de = "x" }`, 1), `c.toml:6: invalid configuration: controller.name: want text in quotes, not a table ({…})`},
		{"bad email", strings.Replace(good, `a@example.org`, `nope`, 1), `c.toml:8: invalid configuration: controller.email: "nope" is not an e-mail address`},
		{"bad url", strings.Replace(good, `https://example.org`, `example.org`, 1), "site.base_url"},
		{"no purposes", good[:strings.Index(good, "[[purposes]]")], "purposes: missing"},
		{"bad purpose id", strings.Replace(good, `id = "orders"`, `id = "Orders!"`, 1), `c.toml:12: invalid configuration: purposes[0].id: "Orders!"`},
		{"missing en title", strings.Replace(good, `[site]`, "[site]\nlanguages = [\"de\", \"en\"]", 1) + "\n[[purposes]]\nid = \"x\"\ntitle = { de = \"X\" }\ndescription = \"d\"\n", `purposes[1].title: missing for language "en"`},
		{"syntax", good + "\n[site\n", "c.toml:17: invalid configuration"},
		{"wrong type", strings.Replace(good, `title = "T"`, `title = 3`, 1), "c.toml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.toml", "/site", []byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("err does not wrap ErrInvalid: %v", err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want not exist", err)
	}
}

func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join("..", "..", "config.toml"))
	f.Add(string(b))
	f.Add(good)
	// Wrong types, whose errors are placed by keyLine.
	f.Add(strings.Replace(good, `title = "Orders"`, "title = { de = 5 }", 1) + secondPurpose)
	f.Add(strings.Replace(good, `id = "orders"`, "id = 1.5e3", 1) + secondPurpose)
	f.Add(strings.Replace(good, `name = "N"`, "name = 2026-01-01T00:00:00Z", 1))
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse("f.toml", "/x", []byte(s))
		if err == nil && (len(c.Purposes) == 0 || c.Site.Title == "") {
			t.Fatalf("accepted config without purposes or title")
		}
	})
}

func TestSiteUnsafeHTMLAndArchive(t *testing.T) {
	c, err := Parse("c.toml", "/site", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Site.UnsafeHTML || c.Site.Archive != "/site/archive" {
		t.Errorf("defaults: unsafe_html %v, archive %q; want false, /site/archive", c.Site.UnsafeHTML, c.Site.Archive)
	}
	text := strings.Replace(good, "[site]\n", "[site]\nunsafe_html = true\narchive = \"proof\"\n", 1)
	if c, err = Parse("c.toml", "/site", []byte(text)); err != nil {
		t.Fatal(err)
	}
	if !c.Site.UnsafeHTML || c.Site.Archive != "/site/proof" {
		t.Errorf("set: unsafe_html %v, archive %q", c.Site.UnsafeHTML, c.Site.Archive)
	}
	text = strings.Replace(good, "[site]\n", "[site]\nunsafe_html = \"yes\"\n", 1)
	if _, err := Parse("c.toml", "/site", []byte(text)); err == nil || !strings.Contains(err.Error(), `c.toml:3: invalid configuration: site.unsafe_html: want true or false, not text in quotes`) {
		t.Errorf("unsafe_html as a string: %v, want an error naming line 3 and the key", err)
	}
}

func TestReceiptAndSMTP(t *testing.T) {
	text := good + `
[receipt]
template = "letterhead.pdf"
link_ttl = "7d"

[[receipt.fields]]
field = "name"
x = 100
y = 700
[[receipt.fields]]
field = "phone"
page = 2
x = 100.5
y = 680
size = 9
[[receipt.fields]]
field = "decision"
x = 1
y = 1
[[receipt.fields]]
field = "purposes"
x = 1
y = 1
[[receipt.fields]]
field = "time"
x = 1
y = 1
[[receipt.fields]]
field = "record_id"
x = 1
y = 1

[smtp]
host = "mail.example.org"
user = "receipts"
password_file = "secret/smtp"
from = "Laden <noreply@example.org>"
`
	c, err := Parse("c.toml", "/site", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if c.Receipt.Template != "/site/letterhead.pdf" || c.Receipt.LinkTTL != 7*24*time.Hour {
		t.Errorf("receipt = %+v", c.Receipt)
	}
	want := []ReceiptField{{"name", 1, 100, 700, 10}, {"phone", 2, 100.5, 680, 9}}
	if len(c.Receipt.Fields) != 6 || c.Receipt.Fields[0] != want[0] || c.Receipt.Fields[1] != want[1] {
		t.Errorf("fields = %+v, want %+v first", c.Receipt.Fields, want)
	}
	s := c.SMTP
	if s == nil || s.Port != 587 || s.Security != "starttls" || s.PasswordFile != "/site/secret/smtp" || s.OwnerTo != "a@example.org" {
		t.Errorf("smtp = %+v", s)
	}

	c, err = Parse("c.toml", "/site", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP != nil || c.Receipt.LinkTTL != DefaultLinkTTL {
		t.Errorf("defaults: smtp %+v, link_ttl %v", c.SMTP, c.Receipt.LinkTTL)
	}
}

func TestReceiptAndSMTPErrors(t *testing.T) {
	const tpl = "\n[receipt]\ntemplate = \"t.pdf\"\n"
	const smtp = "\n[smtp]\nhost = \"mail.example.org\"\nfrom = \"x@example.org\"\n"
	tests := []struct{ name, text, want string }{
		{"link_ttl", "\n[receipt]\nlink_ttl = \"ages\"\n", `c.toml:17: invalid configuration: receipt.link_ttl: "ages" is not a duration`},
		{"link_ttl short", "\n[receipt]\nlink_ttl = \"10s\"\n", `receipt.link_ttl: "10s" is shorter than one minute`},
		{"fields without template", "\n[[receipt.fields]]\nfield = \"name\"\nx = 1\ny = 1\n", "receipt.fields: needs receipt.template"},
		{"unknown field", tpl + "\n[[receipt.fields]]\nfield = \"nmae\"\nx = 1\ny = 1\n", `c.toml:20: invalid configuration: receipt.fields[0].field: "nmae" is not a receipt value`},
		{"missing field name", tpl + "\n[[receipt.fields]]\nx = 1\ny = 1\n", `receipt.fields[0].field: missing (required)`},
		{"missing required", tpl + "\n[[receipt.fields]]\nfield = \"name\"\nx = 1\ny = 1\n", `receipt.fields: no field = "phone"`},
		{"missing x", tpl + "\n[[receipt.fields]]\nfield = \"name\"\ny = 1\n", `receipt.fields[0].x: missing (required)`},
		{"negative y", tpl + "\n[[receipt.fields]]\nfield = \"name\"\nx = 1\ny = -5\n", `c.toml:22: invalid configuration: receipt.fields[0].y: -5 is outside any page`},
		{"huge x", tpl + "\n[[receipt.fields]]\nfield = \"name\"\nx = 20000\ny = 5\n", `receipt.fields[0].x: 20000 is outside any page`},
		{"page 0", tpl + "\n[[receipt.fields]]\nfield = \"name\"\npage = 0\nx = 1\ny = 1\n", `receipt.fields[0].page: 0: pages count from 1`},
		{"size", tpl + "\n[[receipt.fields]]\nfield = \"name\"\nx = 1\ny = 1\nsize = 200\n", `receipt.fields[0].size: 200`},
		{"unknown key in field", tpl + "\n[[receipt.fields]]\nfield = \"name\"\nx = 1\ny = 1\nfont = \"x\"\n", `unknown key receipt.fields.font`},
		{"password in toml", smtp + "user = \"u\"\npassword = \"hunter2\"\n", `c.toml:20: invalid configuration: smtp.password: never put the password into config.toml`},
		{"no host", "\n[smtp]\nfrom = \"x@example.org\"\n", `smtp.host: missing (required)`},
		{"no from", "\n[smtp]\nhost = \"h\"\n", `smtp.from: missing (required)`},
		{"bad security", smtp + "security = \"ssl\"\n", `smtp.security: "ssl": want "starttls", "tls" or "none"`},
		{"none remote", smtp + "security = \"none\"\n", `smtp.security: "none" sends the password`},
		{"user without password", smtp + "user = \"u\"\n", `smtp.password_env: missing: smtp.user "u" needs password_env or password_file`},
		{"both passwords", smtp + "user = \"u\"\npassword_env = \"P\"\npassword_file = \"f\"\n", `smtp.password_file: give either`},
		{"bad port", smtp + "port = 70000\n", `smtp.port: 70000 is not a TCP port`},
		{"bad owner_to", smtp + "owner_to = \"Owner <o@example.org>\"\n", `smtp.owner_to: "Owner <o@example.org>" is not an e-mail address`},
		{"unknown smtp key", smtp + "tls = true\n", `unknown key smtp.tls`},
		{"bad owner_mail", smtp + "owner_mail = \"weekly\"\n", `smtp.owner_mail: "weekly": want "each"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.toml", "/site", []byte(good+tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("err does not wrap ErrInvalid: %v", err)
			}
		})
	}
}

// TestOwnerMail: smtp.owner_mail is "each" unless it says "daily".
func TestOwnerMail(t *testing.T) {
	const smtp = "\n[smtp]\nhost = \"mail.example.org\"\nfrom = \"x@example.org\"\n"
	for text, want := range map[string]string{"": OwnerMailEach, "owner_mail = \"each\"\n": OwnerMailEach, "owner_mail = \"daily\"\n": OwnerMailDaily} {
		c, err := Parse("c.toml", "/site", []byte(good+smtp+text))
		if err != nil {
			t.Fatal(err)
		}
		if c.SMTP.OwnerMail != want {
			t.Errorf("%q: owner_mail %q, want %q", text, c.SMTP.OwnerMail, want)
		}
	}
}

func TestSMTPLoopbackAndPassword(t *testing.T) {
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		c, err := Parse("c.toml", "/site", []byte(good+"\n[smtp]\nhost = \""+host+"\"\nsecurity = \"none\"\nfrom = \"x@example.org\"\n"))
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		if c.SMTP.Port != 25 {
			t.Errorf("%s: port %d, want 25", host, c.SMTP.Port)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte("s3cret\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600)
	env := func(k string) string { return map[string]string{"SMTP_PW": "fromenv"}[k] }
	tests := []struct {
		s       SMTP
		want    string
		wantErr string
	}{
		{SMTP{}, "", ""},
		{SMTP{PasswordEnv: "SMTP_PW"}, "fromenv", ""},
		{SMTP{PasswordEnv: "NOPE"}, "", "smtp.password_env: environment variable NOPE is not set"},
		{SMTP{PasswordFile: filepath.Join(dir, "pw")}, "s3cret", ""},
		{SMTP{PasswordFile: filepath.Join(dir, "empty")}, "", "is empty"},
		{SMTP{PasswordFile: filepath.Join(dir, "none")}, "", "smtp.password_file: open"},
	}
	for _, tt := range tests {
		got, err := tt.s.Password(env)
		if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Password(%+v) = %q, %v; want %q, %q", tt.s, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseInvite(t *testing.T) {
	c, err := Parse("c.toml", "/site", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Invite.ValidDays != 30 || c.Invite.PublicKey != "" || c.Invite.Key != "" || c.Invite.Message != nil {
		t.Errorf("invite defaults = %+v", c.Invite)
	}
	text := good + "\n[invite]\npublic_key = \"keys/invite.pub\"\nkey = \"/home/o/invite.key\"\nvalid_days = 7\nmessage = \"Hi {name}: {link}\"\n"
	c, err = Parse("c.toml", "/site", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if c.Invite.PublicKey != "/site/keys/invite.pub" || c.Invite.Key != "/home/o/invite.key" || c.Invite.ValidDays != 7 || c.Invite.Message["de"] != "Hi {name}: {link}" {
		t.Errorf("invite = %+v", c.Invite)
	}
	for _, tt := range []struct{ text, want string }{
		{"[invite]\nvalid_days = 0\n", "invite.valid_days: 0"},
		{"[invite]\nmessage = \"no link\"\n", "invite.message: the message for language \"de\" must contain {link}"},
		{"[invite]\npublic = \"x\"\n", "unknown key invite.public"},
	} {
		if _, err := Parse("c.toml", "/site", []byte(good+"\n"+tt.text)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.text, err, tt.want)
		}
	}
}

func TestCollectorLimits(t *testing.T) {
	c, err := Parse("c.toml", "/site", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	l := c.Collector.Limits
	if l.RatePerMinute != 60 || l.RateBurst != 20 || l.StoreIP != StoreIPNone || l.StoreUserAgent || len(l.TrustedProxies) != 0 {
		t.Errorf("defaults = %+v", l)
	}
	if got, want := strings.Join(l.AllowedOrigins, ","), "https://example.org"; got != want {
		t.Errorf("allowed_origins default = %q, want %q (from site.base_url)", got, want)
	}
	text := strings.Replace(good, `public_url = "https://c.example.org/"`, `public_url = "https://c.example.org/"
rate_per_minute = 0
rate_burst = 5
allowed_origins = ["https://Shop.Example.org:443/", "http://127.0.0.1:8080", "http://[::1]:9000"]
trusted_proxies = ["10.0.0.0/8", "::1", "192.168.1.7/24"]
store_ip = "truncated"
store_user_agent = true`, 1)
	c, err = Parse("c.toml", "/site", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	l = c.Collector.Limits
	if l.RatePerMinute != 0 || l.RateBurst != 5 || l.StoreIP != StoreIPTruncated || !l.StoreUserAgent {
		t.Errorf("limits = %+v", l)
	}
	if got, want := strings.Join(l.AllowedOrigins, ","), "https://shop.example.org,http://127.0.0.1:8080,http://[::1]:9000"; got != want {
		t.Errorf("allowed_origins = %q, want %q", got, want)
	}
	if got := fmt.Sprint(l.TrustedProxies); got != "[10.0.0.0/8 ::1/128 192.168.1.0/24]" {
		t.Errorf("trusted_proxies = %s", got)
	}

	bad := []struct{ line, want string }{
		{`rate_per_minute = -1`, "collector.rate_per_minute"},
		{`rate_burst = 0`, "collector.rate_burst"},
		{`allowed_origins = ["https://example.org/consent/"]`, "collector.allowed_origins"},
		{`allowed_origins = ["example.org"]`, "collector.allowed_origins"},
		{`trusted_proxies = ["10.0.0.0/33"]`, "collector.trusted_proxies"},
		{`store_ip = "hashed"`, "collector.store_ip"},
		{`store_user_agent = "yes"`, "store_user_agent"},
	}
	for _, tt := range bad {
		text := strings.Replace(good, `public_url = "https://c.example.org/"`, `public_url = "https://c.example.org/"`+"\n"+tt.line, 1)
		_, err := Parse("c.toml", "/site", []byte(text))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "c.toml:") {
			t.Errorf("%s: err = %v, want one naming %s with a line", tt.line, err, tt.want)
		}
	}
}

func TestSiteURL(t *testing.T) {
	c := &Config{Site: Site{BaseURL: "https://shop.example/consent/"}}
	tests := []struct{ in, want string }{
		{"/consent/de/einwilligung/", "https://shop.example/consent/de/einwilligung/"},
		{"https://other.example/x", "https://other.example/x"},
		{"//evil.example/x", "//evil.example/x"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := c.SiteURL(tt.in); got != tt.want {
			t.Errorf("SiteURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPurposeTitle(t *testing.T) {
	c, err := Parse("c.toml", "/site", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.PurposeTitle("orders", "de"); got != "Orders" {
		t.Errorf("configured purpose: %q, want Orders", got)
	}
	if got := c.PurposeTitle("documents", "de"); got != "documents" {
		t.Errorf("removed purpose: %q, want its id", got)
	}
}
