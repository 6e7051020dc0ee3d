package generator

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestParsePage(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"no opening", "title = \"x\"\n", "p.md:1: bad front matter: the file must start with a line \"+++\""},
		{"no closing", "+++\ntitle = \"x\"\n", "p.md:1: bad front matter: no closing \"+++\" line"},
		{"toml syntax", "+++\ntitle = \"x\"\nlayout = policy\n+++\n", "p.md:3: bad front matter"},
		{"unknown key", "+++\ntitle = \"x\"\nlayout = \"policy\"\nslug = \"a\"\ntitel = \"y\"\n+++\n", "p.md:5: bad front matter: unknown key titel"},
		{"missing title", "+++\nlayout = \"policy\"\nslug = \"a\"\n+++\n", "missing key title"},
		{"bad layout", "+++\ntitle = \"x\"\nlayout = \"home\"\nslug = \"a\"\n+++\n", "p.md:3: bad front matter: layout \"home\""},
		{"archive layout", "+++\ntitle = \"x\"\nlayout = \"archive\"\nslug = \"a\"\n+++\n", "p.md:3: bad front matter: layout \"archive\": want \"policy\", \"consent\", \"withdrawal\" or \"page\""},
		{"bad slug", "+++\ntitle = \"x\"\nlayout = \"policy\"\nslug = \"A B\"\n+++\n", "p.md:4: bad front matter: slug"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := ParsePage("p.md", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrFrontMatter) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	fm, body, line, err := ParsePage("p.md", []byte("\xef\xbb\xbf+++\r\ntitle = \"T\"\r\nlayout = \"consent\"\r\nslug = \"s\"\r\n+++\r\nHello\n"))
	if err != nil || fm.Title != "T" || string(body) != "Hello\n" || line != 6 {
		t.Errorf("CRLF+BOM page = %+v %q %d %v", fm, body, line, err)
	}
}

func FuzzParsePage(f *testing.F) {
	for _, p := range []string{"../content/de/policy.md", "../content/en/consent.md"} {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte("+++\n+++\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		fm, _, _, err := ParsePage("f.md", src)
		if err == nil && (fm.Title == "" || fm.Slug == "") {
			t.Fatal("accepted page without title or slug")
		}
	})
}

// testSite copies the repo's config and content into a temp folder.
func testSite(t *testing.T) (*config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "content"), os.DirFS("../content")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "config.toml"), b, 0o644)
	cfg, err := config.Load(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, dir
}

var fixedNow = func() time.Time { return time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC) }

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			m[rel] = string(b)
		}
		return nil
	})
	return m
}

func TestBuildRepoContent(t *testing.T) {
	cfg, dir := testSite(t)
	out := filepath.Join(dir, "public")
	res, err := Build(cfg, Options{OutDir: out, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages["de"] != 4 || res.Pages["en"] != 4 || len(res.NewVersions) != 2 || len(res.Warnings) != 0 {
		t.Errorf("result = %+v", res)
	}
	tree := readTree(t, out)
	consent := tree["de/einwilligung/index.html"]
	for _, want := range []string{
		`<html lang="de">`,
		`<link rel="alternate" hreflang="en" href="/en/consent/">`,
		`name="text_version" value="` + res.Versions["de"] + `"`,
	} {
		if !strings.Contains(consent, want) {
			t.Errorf("consent page lacks %s", want)
		}
	}
	policy := tree["de/datenschutz/index.html"]
	if !strings.Contains(policy, "„") {
		t.Error("policy lacks German quotes")
	}
	if !strings.Contains(policy, `id="widerruf"`) {
		t.Error("policy lacks the #widerruf anchor")
	}
	if strings.Contains(policy, "{{") || strings.Contains(policy, "<no value>") {
		t.Error("policy has unexpanded template actions")
	}
	// The archived text hashes to its version.
	for lang, v := range res.Versions {
		doc := tree[filepath.Join("archive", v+".html")]
		if doc == "" || sum(doc) != v {
			t.Errorf("%s: archive file missing or does not hash to %s", lang, v)
		}
	}
}

func TestBuildReproducible(t *testing.T) {
	cfg, dir := testSite(t)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if _, err := Build(cfg, Options{OutDir: a, Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	res, err := Build(cfg, Options{OutDir: b, Now: func() time.Time { return fixedNow().Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NewVersions) != 0 {
		t.Errorf("unchanged rebuild published %v", res.NewVersions)
	}
	ta, tb := readTree(t, a), readTree(t, b)
	if len(ta) != len(tb) {
		t.Fatalf("%d files vs %d", len(ta), len(tb))
	}
	for p, s := range ta {
		if tb[p] != s {
			t.Errorf("%s differs between two builds", p)
		}
	}
	// A changed text gets a new version; the old one stays archived.
	pol := filepath.Join(dir, "content", "de", "policy.md")
	src, _ := os.ReadFile(pol)
	os.WriteFile(pol, append(src, []byte("\nNeuer Absatz.\n")...), 0o644)
	res2, err := Build(cfg, Options{OutDir: a, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.NewVersions) != 1 || res2.Versions["de"] == res.Versions["de"] {
		t.Errorf("changed text: %+v", res2)
	}
	tc := readTree(t, a)
	for _, v := range []string{res.Versions["de"], res2.Versions["de"]} {
		if _, ok := tc[filepath.Join("archive", v+".html")]; !ok {
			t.Errorf("version %s missing from the archive", v)
		}
	}
}

func TestFailedBuildKeepsOutput(t *testing.T) {
	cfg, dir := testSite(t)
	out := filepath.Join(dir, "public")
	if _, err := Build(cfg, Options{OutDir: out, Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	before := readTree(t, out)
	pol := filepath.Join(dir, "content", "en", "policy.md")
	src, _ := os.ReadFile(pol)
	tests := []struct{ name, src, want string }{
		{"broken front matter", "+++\ntitle = \"x\n+++\n", pol + ":2: bad front matter"},
		{"unknown placeholder", string(src) + "\n{{ .Controller.Fax }}\n", fmt.Sprintf("%s:%d:3: unknown placeholder {{.Controller.Fax}} (known: .Controller.Name,", pol, strings.Count(string(src), "\n")+2)},
		{"template syntax", string(src) + "\n{{ .Controller.Name \n", fmt.Sprintf(`%s:%d: placeholder syntax: a {{ is not closed by }}`, pol, strings.Count(string(src), "\n")+2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.WriteFile(pol, []byte(tt.src), 0o644)
			_, err := Build(cfg, Options{OutDir: out, Now: fixedNow})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			after := readTree(t, out)
			if len(after) != len(before) {
				t.Fatalf("output changed: %d files, want %d", len(after), len(before))
			}
			for p, s := range before {
				if after[p] != s {
					t.Errorf("%s changed after a failed build", p)
				}
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".build-") {
			t.Errorf("leftover temp folder %s", e.Name())
		}
	}
}

func TestMissingTranslationReported(t *testing.T) {
	cfg, dir := testSite(t)
	os.Remove(filepath.Join(dir, "content", "en", "policy.md"))
	res, err := Build(cfg, Options{OutDir: filepath.Join(dir, "p"), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "de/policy.md has no translation in en") {
		t.Errorf("warnings = %q", res.Warnings)
	}
}

func TestMarkdownFeatures(t *testing.T) {
	// Raw HTML that would be dropped is refused, naming where (issue 11
	// item 4; it used to become "<!-- raw HTML omitted -->").
	if _, err := convert("de", []byte("## Ihre Rechte gegenüber uns\n\nEr sagte \"Hallo\".\n\n<script>alert(1)</script>\n")); err == nil || !strings.Contains(err.Error(), "test.md:5:1: raw HTML <script> would not be shown") {
		t.Errorf("<script>: %v", err)
	}
	got, err := convert("de", []byte("## Ihre Rechte gegenüber uns\n\nEr sagte \"Hallo\".\n\n<!-- kein Text -->\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nText[^1]\n\n[^1]: Fußnote\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="ihre-rechte-gegenueber-uns"`, "&bdquo;Hallo&ldquo;", `<div class="table" role="region" tabindex="0" aria-labelledby="ihre-rechte-gegenueber-uns"><table>`, "</table></div>", `id="fn:1"`} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("output lacks %s:\n%s", want, got)
		}
	}
	if bytes.Contains(got, []byte("<script")) {
		t.Error("raw HTML passed through")
	}
}

func sum(s string) string {
	return textarchive.Sum([]byte(s))
}

func BenchmarkBuild(b *testing.B) {
	dir := b.TempDir()
	os.CopyFS(filepath.Join(dir, "content"), os.DirFS("../content"))
	cb, _ := os.ReadFile("../config.toml")
	os.WriteFile(filepath.Join(dir, "config.toml"), cb, 0o644)
	cfg, err := config.Load(filepath.Join(dir, "config.toml"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(cfg, Options{OutDir: filepath.Join(dir, "public"), Now: fixedNow}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMaterialChangeAndConsentPage: a page marked material_change produces
// a version recorded as such, and every version gets its consent page.
func TestMaterialChangeAndConsentPage(t *testing.T) {
	cfg, dir := testSite(t)
	out, arch := filepath.Join(dir, "public"), filepath.Join(dir, "archive")
	res, err := Build(cfg, Options{OutDir: out, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := textarchive.ReadManifest(arch)
	if m.Versions[res.Versions["de"]].MaterialChange {
		t.Error("first version marked as a material change")
	}
	cp, err := textarchive.ReadConsentPage(arch, res.Versions["de"])
	if err != nil || cp.Lang != "de" || cp.Title != "Einwilligung in die Kommunikation per WhatsApp" || !strings.Contains(cp.Content, "Fahrradladen Beispiel GmbH") {
		t.Fatalf("consent page = %+v, %v", cp, err)
	}
	pg := filepath.Join(dir, "content", "de", "consent.md")
	src, _ := os.ReadFile(pg)
	src = bytes.Replace(src, []byte("slug = \"einwilligung\"\n"), []byte("slug = \"einwilligung\"\nmaterial_change = true\n"), 1)
	src = append(src, []byte("\nNeu: wir senden auch Terminerinnerungen.\n")...)
	os.WriteFile(pg, src, 0o644)
	res2, err := Build(cfg, Options{OutDir: out, Now: func() time.Time { return fixedNow().Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	m, _ = textarchive.ReadManifest(arch)
	v2 := res2.Versions["de"]
	if !m.Versions[v2].MaterialChange || m.Versions[res2.Versions["en"]].MaterialChange {
		t.Errorf("manifest = %+v", m.Versions)
	}
	if m.Latest("de") != v2 {
		t.Errorf("Latest(de) = %s, want %s", m.Latest("de"), v2)
	}
	if cp, err := textarchive.ReadConsentPage(arch, v2); err != nil || !strings.Contains(cp.Content, "Terminerinnerungen") {
		t.Errorf("new consent page = %+v, %v", cp, err)
	}
	// A consent page that is not part of its archived text is refused.
	p := filepath.Join(arch, v2+textarchive.ConsentPageSuffix)
	b, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(b, []byte("Terminerinnerungen"), []byte("Werbung"), 1), 0o644)
	if _, err := textarchive.ReadConsentPage(arch, v2); !errors.Is(err, textarchive.ErrCorrupt) {
		t.Errorf("changed consent page: %v, want ErrCorrupt", err)
	}
	if _, err := textarchive.ReadConsentPage(arch, strings.Repeat("0", 64)); !errors.Is(err, textarchive.ErrUnknownVersion) {
		t.Errorf("unknown version: %v", err)
	}
}
