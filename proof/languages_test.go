package proof

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
)

// siteWith returns a config for languages with the given i18n files.
func siteWith(t *testing.T, languages string, files map[string]string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "i18n"), 0o755)
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, "i18n", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := `[site]
title = "Laden"
base_url = "https://laden.example/"
languages = ` + languages + `
[controller]
name = "Laden GmbH"
address = "Musterstraße 1, 10115 Berlin"
email = "datenschutz@laden.example"
[collector]
public_url = "https://laden.example/"
[[purposes]]
id = "orders"
title = { de = "Bestellungen", en = "Orders", fr = "Commandes", ja = "注文", it = "Ordini" }
description = "-"
`
	cfg, err := config.Parse(filepath.Join(dir, "config.toml"), dir, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A site adds a language with i18n/LANG.toml; keys it leaves out come from
// the default language. A language whose receipt cannot be made stops
// NewStamper (so the collector does not start), naming the language, the
// key and the character.
func TestReceiptLanguagesFromFiles(t *testing.T) {
	t.Parallel()
	cfg := siteWith(t, `["de", "en", "fr"]`, map[string]string{
		"fr.toml": "receipt_title = \"Confirmation de consentement\"\nreceipt_name = \"Nom\"\n",
	})
	st, err := NewStamper(cfg)
	if err != nil {
		t.Fatalf("NewStamper: %v", err)
	}
	d := Sample(cfg, "fr")
	lines, err := st.Lines(d)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{"Confirmation de consentement", "Nom: Erika Mustermann", "Commandes", "Verantwortlicher"} {
		if !strings.Contains(text, want) {
			t.Errorf("French receipt lacks %q:\n%s", want, text)
		}
	}
	pdf, err := st.Stamp(d)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := receipt.LayoutOf(pdf); l != receipt.CurrentLayout {
		t.Errorf("layout %q, want %q", l, receipt.CurrentLayout)
	}

	for _, tt := range []struct {
		name, langs string
		files       map[string]string
		want        []string
		is          error
	}{
		{"label the font cannot print", `["de", "ja"]`, map[string]string{"ja.toml": "receipt_title = \"同意の確認\"\n"},
			[]string{`receipt labels`, `receipt_title`, `"ja"`, "U+540C"}, receipt.ErrUncovered},
		{"no labels at all", `["de", "it"]`, nil, []string{`"it" has no receipt labels`, "i18n/it.toml"}, nil},
		{"misspelt key", `["de", "fr"]`, map[string]string{"fr.toml": "receipt_titel = \"x\"\n"}, []string{"fr.toml", "unknown key receipt_titel"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewStamper(siteWith(t, tt.langs, tt.files))
			if err == nil {
				t.Fatal("NewStamper: no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("NewStamper: %v\nwant it to contain %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("NewStamper: %v, want %v", err, tt.is)
			}
		})
	}
}
