package access

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/records"
	"github.com/chatconsent/chatconsent/themes"
)

// TestTextBlocks: an archived text becomes its headings, paragraphs and
// list items, with mail and absolute link addresses; the form's controls
// and the navigation are left out.
func TestTextBlocks(t *testing.T) {
	t.Parallel()
	doc := `<!DOCTYPE html><html><head><style>p{}</style><title>T</title></head><body><a class="skip" href="#main">Skip</a>
<nav><a href="/">Home</a></nav><main id="main"><h1>Consent</h1><p><strong>Shop</strong> would like   to
write.</p><ul><li>Orders: <em>questions</em></li><li><p>Nested</p></li></ul>
<p>Mail <a href="mailto:d@shop.example">d@shop.example</a> or the <a href="https://shop.example/privacy/">notice</a> or <a href="/en/withdrawal/">page</a>.</p>
<form><input name="phone"><button>Send</button><script>x()</script></form><table><tr><th>A</th><td>B</td></tr></table></main></body></html>`
	blocks, err := textBlocks([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range blocks {
		got = append(got, b.Text)
	}
	want := []string{"Consent", "Shop would like to write.", "Orders: questions", "Nested",
		"Mail d@shop.example or the notice (https://shop.example/privacy/) or page.", "A – B"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("blocks\n%q\nwant\n%q", got, want)
	}
	if blocks[0].Kind != receipt.Subheading || blocks[2].Kind != receipt.Item {
		t.Errorf("kinds: %v", blocks)
	}
}

// TestDocumentArchivedText: the report of a grant and a withdrawal in
// English holds the person, the state, both events and the text shown,
// from the repository's archive.
func TestDocumentArchivedText(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(filepath.Join("..", "..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	theme, err := themes.Load(cfg.Dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := os.ReadDir(filepath.Join("..", "..", "archive"))
	if err != nil {
		t.Fatal(err)
	}
	version := ""
	for _, e := range m {
		if v, ok := strings.CutSuffix(e.Name(), ".consent.json"); ok {
			b, _ := os.ReadFile(filepath.Join("..", "..", "archive", e.Name()))
			if strings.Contains(string(b), `"lang": "en"`) {
				version = v
			}
		}
	}
	html, err := os.ReadFile(filepath.Join("..", "..", "archive", version+".html"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	subj := &ledger.Subject{Name: "Erika Mustermann", Phone: "+491701234567"}
	x := &records.Export{
		Generated: at.Add(time.Hour), Subject: records.ExportSubject{Name: subj.Name, Phone: subj.Phone},
		Status: []records.ExportStatus{{Purpose: "orders", State: records.Withdrawn, Since: at.Add(time.Minute)}},
		Events: []records.ExportEvent{
			{Record: ledger.Record{Type: ledger.TypeDecision, ID: "00112233445566778899aabbccddeeff", Time: at, Decision: ledger.Granted, Purposes: []string{"orders"}, Subject: subj, Lang: "en", TextVersion: version}},
			{Record: ledger.Record{Type: ledger.TypeWithdrawal, ID: "ffeeddccbbaa99887766554433221100", Time: at.Add(time.Minute), Purposes: []string{"orders"}, Subject: subj, Lang: "en", Via: "phone", By: "anna", Note: "call at 14:05"}},
		},
		Texts: map[string]string{version: string(html)},
	}
	if got := Language(x, cfg); got != "en" {
		t.Errorf("Language: %q, want the person's en", got)
	}
	d, err := Document(x, Options{Config: cfg, Strings: theme.Strings})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := receipt.DocumentLines(d)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, p := range pages {
		all = append(all, p...)
	}
	text := strings.Join(all, " ") // wrapped lines joined
	for _, want := range []string{"Your personal data: access under GDPR Art. 15", "Name: Erika Mustermann", "WhatsApp number: +491701234567",
		"Our notes: call at 14:05", "2026-03-01 11:00 – granted", "2026-03-01 11:01 – withdrawn", "How: phone", "Recorded by: anna",
		"Version of the texts " + version, "Consent to communication by WhatsApp", "Recipients", "3 years after the end of the year", "Page 1 of"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if _, err := Document(x, Options{Config: cfg, Strings: func(string) map[string]string { return nil }}); err == nil {
		t.Error("a theme without access_* strings: no error")
	}
}

func FuzzTextBlocks(f *testing.F) {
	f.Add([]byte(`<main><h2>T</h2><p>a <a href="https://x">b</a></p><ul><li>c</li></ul></main>`))
	f.Add([]byte(`<table><tr><td>1</td></tr></table><li><ul><li>x`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		blocks, err := textBlocks(doc)
		if err != nil {
			return
		}
		for _, b := range blocks {
			if b.Text == "" || strings.TrimSpace(b.Text) != b.Text || strings.Contains(b.Text, "\n") {
				t.Errorf("block %q: empty or not collapsed", b.Text)
			}
		}
	})
}
