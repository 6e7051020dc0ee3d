package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// TestOpenRefusesLanguageWithoutReceipt (issue 14, step 5): a language
// added with i18n/LANG.toml starts; the collector refuses to start if a
// configured language cannot stamp a receipt, naming the language and
// what is wrong, before it answers anyone.
func TestOpenRefusesLanguageWithoutReceipt(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, langs, file, text string
		want                    []string // in Open's error; nil: Open starts
	}{
		{"third language from a file", `["de", "en", "fr"]`, "fr.toml", "receipt_title = \"Confirmation de consentement\"\n", nil},
		{"label the receipt cannot print", `["de", "ja"]`, "ja.toml", "receipt_title = \"同意の確認\"\n", []string{`"ja"`, "receipt_title", "U+540C"}},
		{"no labels", `["de", "it"]`, "", "", []string{`"it" has no receipt labels`, "i18n/it.toml"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if tt.file != "" {
				os.MkdirAll(filepath.Join(dir, "i18n"), 0o755)
				if err := os.WriteFile(filepath.Join(dir, "i18n", tt.file), []byte(tt.text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			text := strings.Replace(versionsConfig, `languages = ["de", "en"]`, "languages = "+tt.langs, 1)
			cfg, err := config.Parse(filepath.Join(dir, "config.toml"), dir, []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			b := []byte("<!DOCTYPE html><p>Texte</p>")
			v := textarchive.Sum(b)
			if _, err := textarchive.Publish(filepath.Join(dir, "archive"), map[string][]byte{v: b}, map[string]textarchive.Version{v: {Lang: "fr", FirstPublished: time.Unix(0, 0).UTC()}}); err != nil {
				t.Fatal(err)
			}
			srv, _, err := Open(cfg, Setup{DataDir: filepath.Join(dir, "data")})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				srv.Close()
				return
			}
			if err == nil {
				srv.Close()
				t.Fatal("Open started")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Open: %v\nwant it to name %q", err, w)
				}
			}
		})
	}
}
