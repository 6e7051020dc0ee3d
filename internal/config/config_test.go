package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"unknown key", strings.Replace(good, `title = "T"`, "title = \"T\"\ntitel = \"x\"", 1), "c.toml:4: invalid configuration: unknown key site.titel"},
		{"missing controller name", strings.Replace(good, `name = "N"`, "", 1), "controller.name: missing (required)"},
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
	if _, err := Parse("c.toml", "/site", []byte(text)); err == nil || !strings.Contains(err.Error(), `line 3 (last key "site.unsafe_html")`) {
		t.Errorf("unsafe_html as a string: %v, want an error naming line 3 and the key", err)
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
