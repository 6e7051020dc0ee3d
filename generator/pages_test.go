package generator

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/internal/config"
)

// TestRawHTML (issue 11 item 4): harmless inline markup renders through
// the sanitizer; anything it would drop fails, naming file:line:column
// and what; comments go silently.
func TestRawHTML(t *testing.T) {
	t.Parallel()
	ok := []struct{ src, want string }{
		{"Zeile<br>zwei\n", "<p>Zeile<br>zwei</p>"},
		{"| a | b |\n|---|---|\n| 1<br>2 | x |\n", "<td>1<br>2</td>"},
		{"H<sub>2</sub>O und m<sup>2</sup>\n", "H<sub>2</sub>O und m<sup>2</sup>"},
		{"Die <abbr title=\"Datenschutz-Grundverordnung\">DSGVO</abbr> gilt.\n", `<abbr title="Datenschutz-Grundverordnung">DSGVO</abbr>`},
		{"Text <!-- Notiz --> weiter\n", "<p>Text  weiter</p>"},
		{"<!-- ein Kommentarblock -->\n\nText\n", "<p>Text</p>"},
		{"Drücken Sie <kbd>Strg</kbd>+<kbd>C</kbd>\n", "<kbd>Strg</kbd>+<kbd>C</kbd>"},
	}
	for _, tt := range ok {
		got, err := convert("de", []byte(tt.src))
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		if !strings.Contains(string(got), tt.want) {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
	bad := []struct{ src, want string }{
		{"Text\n\n<details>\n<summary>Mehr</summary>\nWiderruf jederzeit.\n</details>\n", "test.md:3:1: raw HTML <details> would not be shown"},
		{"Eins <span class=\"x\">zwei</span>\n", "test.md:1:6: raw HTML <span> would not be shown"},
		{"ä <br onclick=\"x()\"> b\n", "test.md:1:3: raw HTML attribute onclick of <br> would not be shown"},
		{"- Punkt\n- <a href=\"javascript:x\">Link</a>\n", "test.md:2:3: raw HTML <a> would not be shown"},
		{"<div>\nWichtiger Hinweis\n</div>\n", "test.md:1:1: raw HTML <div> would not be shown"},
		{"x <img src=x onerror=alert(1)>\n", "test.md:1:3: raw HTML <img>"},
		{"<style>p{display:none}</style>\n", "test.md:1:1: raw HTML <style>"},
	}
	for _, tt := range bad {
		_, err := convert("de", []byte(tt.src))
		if !errors.Is(err, ErrMarkdown) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "site.unsafe_html") {
			t.Errorf("%q: %v, want %q", tt.src, err, tt.want)
		}
	}
	// site.unsafe_html keeps everything.
	got, err := newConverters(true).convert("de", []byte("<details>\n<summary>x</summary>\n</details>\n"), mdInput{file: "t.md"})
	if err != nil || !strings.Contains(string(got), "<details>") {
		t.Errorf("unsafe: %s, %v", got, err)
	}
}

// TestRawHTMLBuildPosition: the build names the content file's own line
// also when placeholders above the HTML add lines.
func TestRawHTMLBuildPosition(t *testing.T) {
	t.Parallel()
	cfg, dir := testSite(t)
	p := filepath.Join(dir, "content", "en", "consent.md")
	src, _ := os.ReadFile(p)
	body := string(src) + "\n{{ range .Purposes }}\n- {{ .Title }}\n{{ end }}\n\nSee <details>here</details>\n"
	os.WriteFile(p, []byte(body), 0o644)
	_, _, err := NewBuilder(cfg, Options{Now: fixedNow}).Build()
	line := strings.Count(body, "\n")
	want := p + ":" + strconv.Itoa(line) + ":5: raw HTML <details> would not be shown"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// TestHeadingIDs (issue 11 item 11): readable ids in any script, German
// transliteration, unique per page, never an id of the layout.
func TestHeadingIDs(t *testing.T) {
	t.Parallel()
	c := newConverters(false)
	reserved := []string{"name", "phone", "email", "purpose", "purpose-newsletter", "main"}
	for _, tt := range []struct{ src, want string }{
		{"## Ihre Rechte gegenüber uns\n", `<h2 id="ihre-rechte-gegenueber-uns">`},
		{"## Straße & Größe\n", `<h2 id="strasse-groesse">`},
		{"## Ваши права\n", `<h2 id="ваши-права">`},
		{"## 您的权利\n", `<h2 id="您的权利">`},
		{"## Ελληνικά δικαιώματα\n", `<h2 id="ελληνικά-δικαιώματα">`},
		{"## अधिकार सूची\n", `<h2 id="अधिकार-सूची">`},
		{"## حقوق شما\n", `<h2 id="حقوق-شما">`},
		{"## Name\n", `<h2 id="name-1">`},
		{"## Main\n", `<h2 id="main-1">`},
		{"## Purpose newsletter\n", `<h2 id="purpose-newsletter-1">`},
		{"## !!!\n\n## ???\n", `<h2 id="section">!!!</h2>` + "\n" + `<h2 id="section-1">`},
		// An explicit id later in the page wins over a generated one.
		{"## Rechte\n\n## Ihre Rechte {#rechte}\n", `<h2 id="rechte-1">Rechte</h2>` + "\n" + `<h2 id="rechte">Ihre Rechte</h2>`},
		{"## Kontakt\n\n## Kontakt\n", `<h2 id="kontakt">Kontakt</h2>` + "\n" + `<h2 id="kontakt-1">`},
	} {
		got, err := c.convert("de", []byte(tt.src), mdInput{file: "p.md", line: 1, reserved: reserved})
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		if !strings.Contains(string(got), tt.want) {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, got, tt.want)
		}
		if err := checkUniqueIDs(got); err != nil {
			t.Errorf("%q: %v", tt.src, err)
		}
	}
	for _, tt := range []struct{ src, want string }{
		{"## A {#rechte}\n\nText\n\n## B {#rechte}\n", "p.md:9:4: heading id {#rechte} is also given at line 5"},
		{"## Ihr Name {#name}\n", "p.md:5:4: heading id {#name} is the id of an element of the page's layout"},
	} {
		_, err := c.convert("de", []byte(tt.src), mdInput{file: "p.md", line: 5, reserved: reserved})
		if !errors.Is(err, ErrMarkdown) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.src, err, tt.want)
		}
	}
}

var idRe = regexp.MustCompile(`\sid="([^"]*)"`)

func duplicateIDs(page string) []string {
	seen := map[string]bool{}
	var dups []string
	for _, m := range idRe.FindAllStringSubmatch(page, -1) {
		if seen[m[1]] {
			dups = append(dups, m[1])
		}
		seen[m[1]] = true
	}
	return dups
}

// TestIDsUniqueInPagesAndArchive (items 11 and 12): a heading "Name" on
// the consent page does not take the form field's id; the same heading
// and footnote numbers on the policy and consent pages stay apart in the
// one archived document, and links inside each page follow the rename.
func TestIDsUniqueInPagesAndArchive(t *testing.T) {
	t.Parallel()
	cfg, dir := testSite(t)
	add := func(name, text string) {
		p := filepath.Join(dir, "content", "de", name)
		src, _ := os.ReadFile(p)
		os.WriteFile(p, append(src, text...), 0o644)
	}
	add("consent.md", "\n## Name\n\n## Kontakt\n\nSiehe [oben](#kontakt) und Fußnote[^1].\n\n[^1]: Hinweis der Einwilligung.\n")
	add("policy.md", "\n## Kontakt\n\nSiehe [oben](#kontakt) und Fußnote[^1].\n\n[^1]: Hinweis der Datenschutzhinweise.\n")
	s, res, err := NewBuilder(cfg, Options{Now: fixedNow, ArchiveDir: filepath.Join(dir, "archive")}).Build()
	if err != nil {
		t.Fatal(err)
	}
	consent := string(s.Files["de/einwilligung/index.html"])
	for _, want := range []string{`<h2 id="name-1">Name</h2>`, `<input type="text" id="name"`, `<label for="name">`, `id="einwilligung-fn:1"`, `href="#einwilligung-fn:1"`} {
		if !strings.Contains(consent, want) {
			t.Errorf("consent page lacks %s", want)
		}
	}
	for name, page := range s.Files {
		if d := duplicateIDs(string(page)); d != nil {
			t.Errorf("%s: ids twice: %q", name, d)
		}
	}
	arch, err := os.ReadFile(filepath.Join(dir, "archive", res.Versions["de"]+".html"))
	if err != nil {
		t.Fatal(err)
	}
	if d := duplicateIDs(string(arch)); d != nil {
		t.Errorf("archive: ids twice: %q", d)
	}
	// Each page's footnote link leads to its own note, each "#kontakt" to
	// its own page's heading.
	a := string(arch)
	for _, want := range []string{`href="#datenschutz-fn:1"`, `id="datenschutz-fn:1"`, `href="#einwilligung-fn:1"`, `id="einwilligung-fn:1"`} {
		if !strings.Contains(a, want) {
			t.Errorf("archive lacks %s", want)
		}
	}
	first, second := strings.Index(a, `id="kontakt"`), strings.Index(a, `id="datenschutz-kontakt"`)
	if first < 0 || second < 0 || !strings.Contains(a, `href="#datenschutz-kontakt"`) || strings.Count(a, `href="#kontakt"`) != 1 {
		t.Errorf("archive: kontakt ids %d %d, links %d", first, second, strings.Count(a, `href="#kontakt"`))
	}
}

// TestUniqueIDs: renames only what collides, with its references.
func TestUniqueIDs(t *testing.T) {
	t.Parallel()
	used := map[string]bool{}
	if got := uniqueIDs(`<h2 id="a">A</h2><a href="#a">x</a>`, "p-", used); got != `<h2 id="a">A</h2><a href="#a">x</a>` {
		t.Errorf("first: %s", got)
	}
	used["p-a"] = true
	got := uniqueIDs(`<h2 id="a">A</h2><h2 id="b">B</h2><a href="#a">x</a><div aria-labelledby="a"></div><a href="#c">y</a>`, "p-", used)
	want := `<h2 id="p-a-2">A</h2><h2 id="b">B</h2><a href="#p-a-2">x</a><div aria-labelledby="p-a-2"></div><a href="#c">y</a>`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestTypography (issue 11 item 13): emphasis next to CJK punctuation,
// and German apostrophes.
func TestTypography(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ lang, src, want string }{
		{"en", "**注意。**次の文", "<strong>注意。</strong>次の文"},
		{"en", "これは**「重要」**です", "これは<strong>「重要」</strong>です"},
		{"en", "中文**强调，**后面", "<strong>强调，</strong>后面"},
		{"en", "한국어 **굵게!**다음", "<strong>굵게!</strong>다음"},
		{"en", "*日本語（注）*です", "<em>日本語（注）</em>です"},
		// CommonMark's own cases stay as they were.
		{"en", "**bold** text", "<strong>bold</strong> text"},
		{"en", "a ** b **", "a ** b **"},
		{"en", "snake_case_word", "snake_case_word"},
		// German: ’ after a letter or digit, „…“ and ‚…‘ as quotes.
		{"de", "Max' Laden", "Max&rsquo; Laden"},
		{"de", "Hans' und Klaus' Räder", "Hans&rsquo; und Klaus&rsquo; Räder"},
		{"de", "geht's gut", "geht&rsquo;s gut"},
		{"de", "die 90'er Jahre", "die 90&rsquo;er Jahre"},
		{"de", "'s Wirtshaus", "&rsquo;s Wirtshaus"},
		{"de", "Er sagte 'Hallo' und ging.", "&sbquo;Hallo&lsquo; und"},
		{"de", "Er sagte \"Hallo\".", "&bdquo;Hallo&ldquo;."},
		{"de", "'Max' Laden' sagte er", "&sbquo;Max&lsquo; Laden&rsquo; sagte"},
		{"en", "Max' shop and it's 'quoted'", "Max&rsquo; shop and it&rsquo;s &lsquo;quoted&rsquo;"},
	} {
		got, err := convert(tt.lang, []byte(tt.src))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(got), tt.want) {
			t.Errorf("%s %q:\n got %s\nwant %s", tt.lang, tt.src, got, tt.want)
		}
	}
}

// TestNoMailPromise (issue 11 item 22): without [smtp] the form's e-mail
// field and the notice promise no copy by mail; with it they do.
func TestNoMailPromise(t *testing.T) {
	t.Parallel()
	for _, mail := range []bool{false, true} {
		cfg, dir := testSite(t)
		if mail {
			cfg.SMTP = &config.SMTP{Host: "localhost", Port: 25, Security: "none", From: "laden@example.org", OwnerTo: "laden@example.org"}
		}
		s, res, err := NewBuilder(cfg, Options{Now: fixedNow, ArchiveDir: filepath.Join(dir, "archive")}).Build()
		if err != nil {
			t.Fatal(err)
		}
		arch, _ := os.ReadFile(filepath.Join(dir, "archive", res.Versions["en"]+".html"))
		for _, c := range []struct{ name, text, promise string }{
			{"consent page", string(s.Files["en/consent/index.html"]), "Only if you also want the confirmation by e-mail."},
			{"policy", string(s.Files["en/privacy/index.html"]), "we also send you the confirmation by e-mail"},
			{"archive", string(arch), "we also send you the confirmation by e-mail"},
			{"de policy", string(s.Files["de/datenschutz/index.html"]), "schicken wir Ihnen die Bestätigung auch per E-Mail"},
		} {
			if got := strings.Contains(c.text, c.promise); got != mail {
				t.Errorf("smtp %v: %s promises mail: %v", mail, c.name, got)
			}
		}
		if !mail && !strings.Contains(string(s.Files["en/consent/index.html"]), "We are not sending e-mails at the moment") {
			t.Error("no [smtp]: the e-mail field does not say that nothing is sent")
		}
	}
}
