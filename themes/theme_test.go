package themes

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestGoldenCollectorPages renders the pages the collector answers with
// (thank-you, error, and the withdrawal form with errors) and compares them
// with testdata/*.golden; refresh with go test ./themes -update.
func TestGoldenCollectorPages(t *testing.T) {
	th, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	purposes := []FormPurpose{{ID: "orders", Title: "Bestellungen", Description: "Rückfragen"}}
	tests := []struct {
		golden, layout string
		page           *Page
	}{
		{"thanks_de.html", LayoutThanks, &Page{Lang: "de", Title: "Vielen Dank", SiteTitle: "S", ConsentURL: "/de/einwilligung/",
			Result: &Result{Decision: "granted", RecordID: "0123456789abcdef0123456789abcdef", ReceiptURL: "/v1/receipts/x.pdf?e=1&k=2"}}},
		{"thanks_en_refused.html", LayoutThanks, &Page{Lang: "en", Title: "Thank you", SiteTitle: "S",
			Result: &Result{Decision: "refused", RecordID: "0123456789abcdef0123456789abcdef", ReceiptURL: "/r.pdf"}}},
		{"error_de.html", LayoutError, &Page{Lang: "de", Title: "Es ist ein Fehler aufgetreten", SiteTitle: "S", ConsentURL: "/de/einwilligung/",
			Content: Text("Später erneut versuchen.").HTML()}},
		{"withdrawal_errors_en.html", LayoutWithdrawal, &Page{Lang: "en", Title: "Withdraw", SiteTitle: "S", Form: &Form{
			Action: "/v1/withdraw", Purposes: purposes, Values: FormValues{Phone: "+49 170", RecordID: "<x>"},
			Errors: []FieldError{{Field: "id", Message: "Unknown reference number."}},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var b bytes.Buffer
			if err := th.Render(&b, tt.layout, tt.page); err != nil {
				t.Fatal(err)
			}
			got := b.String()
			gp := filepath.Join("testdata", tt.golden)
			if *update {
				os.MkdirAll("testdata", 0o755)
				os.WriteFile(gp, b.Bytes(), 0o644)
			}
			want, err := os.ReadFile(gp)
			if err != nil {
				t.Fatalf("%v (run go test ./themes -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s (run go test ./themes -update and review the diff)", tt.golden, gp)
			}
			if strings.Contains(got, "<x>") {
				t.Error("form value not escaped")
			}
		})
	}
}

func TestSiteOverrides(t *testing.T) {
	dir := t.TempDir()
	base, _ := Load("")
	os.MkdirAll(filepath.Join(dir, "i18n"), 0o755)
	os.WriteFile(filepath.Join(dir, "i18n", "de.toml"), []byte("grant = \"Ja, gern\"\n"), 0o644)
	th, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := th.Strings("de")["grant"]; got != "Ja, gern" {
		t.Errorf("override = %q", got)
	}
	if th.Fingerprint() == base.Fingerprint() {
		t.Error("fingerprint ignores a site override")
	}
	os.WriteFile(filepath.Join(dir, "i18n", "de.toml"), []byte("grnat = \"Ja\"\n"), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "unknown key grnat") {
		t.Errorf("misspelt key: %v", err)
	}
	os.MkdirAll(filepath.Join(dir, "layouts"), 0o755)
	os.WriteFile(filepath.Join(dir, "i18n", "de.toml"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "layouts", "page.html"), []byte("{{define \"main\"}}\n{{.Nope}\n{{end}}"), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "layouts", "page.html")+":2") {
		t.Errorf("broken layout override: %v", err)
	}
}

// A site adds a language the theme lacks with i18n/LANG.toml: its keys
// win, the rest come from the site's default language; an unknown key is
// an error naming the file.
func TestSiteLanguageFallsBack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "i18n"), 0o755)
	os.WriteFile(filepath.Join(dir, "i18n", "fr.toml"), []byte("grant = \"J'accepte\"\n"), 0o644)
	th, err := LoadSite(dir, "de")
	if err != nil {
		t.Fatal(err)
	}
	fr, de := th.Strings("fr"), th.Strings("de")
	if fr["grant"] != "J'accepte" || fr["refuse"] != de["refuse"] || len(fr) != len(de) {
		t.Errorf("fr: grant %q, refuse %q (de %q), %d keys (de %d)", fr["grant"], fr["refuse"], de["refuse"], len(fr), len(de))
	}
	os.WriteFile(filepath.Join(dir, "i18n", "fr.toml"), []byte("grnat = \"x\"\n"), 0o644)
	if _, err := LoadSite(dir, "de"); err == nil || !strings.Contains(err.Error(), "fr.toml: unknown key grnat") {
		t.Errorf("misspelt key: %v", err)
	}
}
