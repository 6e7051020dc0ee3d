package generator

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// writeGenericPages adds a "page" layout page in both languages.
func writeGenericPages(t *testing.T, dir string) {
	t.Helper()
	for _, f := range []struct{ path, src string }{
		{"content/de/impressum.md", "+++\ntitle = \"Impressum\"\nlayout = \"page\"\nslug = \"impressum\"\n+++\n\n{{ .Controller.Name }}\\\n{{ .Controller.Address }}\n\nSiehe auch: [Widerruf]({{ .WithdrawalURL }}).\n"},
		{"content/en/impressum.md", "+++\ntitle = \"Imprint\"\nlayout = \"page\"\nslug = \"imprint\"\n+++\n\n{{ .Controller.Name }}\\\n{{ .Controller.Address }}\n\nSee also: [withdrawal]({{ .WithdrawalURL }}).\n"},
	} {
		if err := os.WriteFile(filepath.Join(dir, f.path), []byte(f.src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGoldenPages compares every kind of page the generator writes with
// testdata/golden/; refresh with go test ./generator -update.
func TestGoldenPages(t *testing.T) {
	cfg, dir := testSite(t)
	writeGenericPages(t, dir)
	out := filepath.Join(dir, "public")
	res, err := Build(cfg, Options{OutDir: out, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	tree := readTree(t, out)
	files := map[string]string{ // golden name → output path
		"index.html":            "index.html",
		"404.html":              "404.html",
		"de_consent.html":       "de/einwilligung/index.html",
		"en_consent.html":       "en/consent/index.html",
		"de_policy.html":        "de/datenschutz/index.html",
		"en_policy.html":        "en/privacy/index.html",
		"de_withdrawal.html":    "de/widerruf/index.html",
		"en_withdrawal.html":    "en/withdrawal/index.html",
		"de_page.html":          "de/impressum/index.html",
		"en_page.html":          "en/imprint/index.html",
		"de_archive.html":       filepath.Join("archive", res.Versions["de"]+".html"),
		"en_archive.html":       filepath.Join("archive", res.Versions["en"]+".html"),
		"archive_manifest.json": filepath.Join("archive", textarchive.ManifestFile),
	}
	for golden, p := range files {
		got, ok := tree[p]
		if !ok {
			t.Errorf("%s was not written; files: %v", p, slices.Sorted(maps.Keys(tree)))
			continue
		}
		gp := filepath.Join("testdata", "golden", golden)
		if *update {
			os.MkdirAll(filepath.Dir(gp), 0o755)
			if err := os.WriteFile(gp, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(gp)
		if err != nil {
			t.Fatalf("%v (run go test ./generator -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from %s (run go test ./generator -update and review the diff)", p, gp)
		}
	}
	// What the owner and the collector rely on, independent of the goldens.
	wd := tree["de/widerruf/index.html"]
	for _, want := range []string{
		`<form method="post" action="http://127.0.0.1:8080/v1/withdraw"`,
		`name="phone"`, `name="id"`, `name="lang" value="de"`,
		`name="purpose" value="orders"`, `name="purpose" value="documents"`,
		`<link rel="alternate" hreflang="en" href="/en/withdrawal/">`,
	} {
		if !strings.Contains(wd, want) {
			t.Errorf("withdrawal page lacks %s", want)
		}
	}
	if strings.Contains(wd, "<script") || strings.Contains(wd, " checked") {
		t.Error("withdrawal page has a script or a pre-ticked purpose")
	}
	if !strings.Contains(tree["de/einwilligung/index.html"], `href="/de/widerruf/"`) {
		t.Error("consent page does not link the withdrawal page ({{ .WithdrawalURL }})")
	}
	// Withdrawal and generic pages are not part of the text version.
	doc := tree[files["de_archive.html"]]
	if strings.Contains(doc, "Impressum") || strings.Contains(doc, "Vorgangsnummer von Ihrer") {
		t.Error("the archived text holds a page that is not shown before the decision")
	}
}

func TestArchiveImmutable(t *testing.T) {
	cfg, dir := testSite(t)
	out := filepath.Join(dir, "public")
	res, err := Build(cfg, Options{OutDir: out, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	arch := filepath.Join(dir, "archive")
	m1, err := textarchive.ReadManifest(arch)
	if err != nil || len(m1.Versions) != 2 {
		t.Fatalf("manifest %v, %v", m1, err)
	}

	// A changed text adds a version; the manifest never loses one.
	pol := filepath.Join(dir, "content", "en", "policy.md")
	src, _ := os.ReadFile(pol)
	for i, add := range []string{"\nOne.\n", "\nTwo.\n"} {
		os.WriteFile(pol, append(src, add...), 0o644)
		if _, err := Build(cfg, Options{OutDir: out, Now: fixedNow}); err != nil {
			t.Fatal(err)
		}
		m, _ := textarchive.ReadManifest(arch)
		if got, want := len(m.Versions), 3+i; got != want {
			t.Errorf("after change %d: %d versions, want %d", i, got, want)
		}
		for v, info := range m1.Versions {
			if got, ok := m.Versions[v]; !ok || !got.FirstPublished.Equal(info.FirstPublished) {
				t.Errorf("version %s lost or rewritten: %+v", v, got)
			}
		}
	}
	// Going back to an earlier text reuses its version.
	os.WriteFile(pol, src, 0o644)
	res2, err := Build(cfg, Options{OutDir: out, Now: fixedNow})
	if err != nil || res2.Versions["en"] != res.Versions["en"] || len(res2.NewVersions) != 0 {
		t.Errorf("back to the first text: %+v, %v", res2, err)
	}

	// A manifest that lost an entry gets it back from the file.
	mb, _ := os.ReadFile(filepath.Join(arch, textarchive.ManifestFile))
	os.WriteFile(filepath.Join(arch, textarchive.ManifestFile), []byte(`{"versions":{}}`), 0o644)
	if _, err := Build(cfg, Options{OutDir: out, Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	if m, _ := textarchive.ReadManifest(arch); len(m.Versions) != 2 {
		t.Errorf("rebuilt manifest has %d versions, want the 2 current ones", len(m.Versions))
	}
	os.WriteFile(filepath.Join(arch, textarchive.ManifestFile), mb, 0o644)

	// An archived file changed on disk stops the build with ErrCorrupt and
	// leaves the output alone.
	before := readTree(t, out)
	f := filepath.Join(arch, res.Versions["de"]+".html")
	orig, _ := os.ReadFile(f)
	os.WriteFile(f, append(orig, ' '), 0o644)
	_, err = Build(cfg, Options{OutDir: out, Now: fixedNow})
	if !errors.Is(err, textarchive.ErrCorrupt) || !strings.Contains(err.Error(), f) {
		t.Errorf("changed archive file: err = %v, want ErrCorrupt naming %s", err, f)
	}
	if after := readTree(t, out); !maps.Equal(before, after) {
		t.Error("output changed after a build that found a corrupt archive")
	}
	if _, err := textarchive.Text(arch, res.Versions["de"]); !errors.Is(err, textarchive.ErrCorrupt) {
		t.Errorf("textarchive.Text of a changed file: %v, want ErrCorrupt", err)
	}
}

// TestBuilderIncremental checks that a builder re-renders only what
// changed and that its output equals a fresh build's.
func TestBuilderIncremental(t *testing.T) {
	cfg, dir := testSite(t)
	writeGenericPages(t, dir)
	b := NewBuilder(cfg, Options{Now: fixedNow})
	fresh := func() *Site {
		t.Helper()
		s, _, err := NewBuilder(cfg, Options{Now: fixedNow}).Build()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	build := func(wantRendered int) *Site {
		t.Helper()
		s, res, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Rendered; got != wantRendered {
			t.Errorf("rendered %d pages, want %d", got, wantRendered)
		}
		f := fresh()
		for _, p := range slices.Sorted(maps.Keys(f.Files)) {
			if string(s.Files[p]) != string(f.Files[p]) {
				t.Errorf("%s: incremental output differs from a fresh build", p)
			}
		}
		if len(s.Files) != len(f.Files) {
			t.Errorf("incremental build has %d files, a fresh one %d", len(s.Files), len(f.Files))
		}
		return s
	}
	build(8)
	build(0)
	// One page's text.
	imp := filepath.Join(dir, "content", "de", "impressum.md")
	src, _ := os.ReadFile(imp)
	os.WriteFile(imp, append(src, "\nNeu.\n"...), 0o644)
	build(1)
	// A slug change moves a URL every page of the language may link to.
	wd := filepath.Join(dir, "content", "en", "withdrawal.md")
	src, _ = os.ReadFile(wd)
	os.WriteFile(wd, []byte(strings.Replace(string(src), `slug = "withdrawal"`, `slug = "withdraw"`, 1)), 0o644)
	s := build(4)
	if _, ok := s.Files["en/withdrawal/index.html"]; ok {
		t.Error("the old URL is still in the site")
	}
	// A theme override re-renders the pages, not the Markdown.
	os.MkdirAll(filepath.Join(dir, "i18n"), 0o755)
	os.WriteFile(filepath.Join(dir, "i18n", "en.toml"), []byte("withdraw_submit = \"Withdraw now\"\n"), 0o644)
	s = build(0)
	if !strings.Contains(string(s.Files["en/withdraw/index.html"]), "Withdraw now") {
		t.Error("site override of a theme string not applied")
	}
	// A removed page disappears.
	os.Remove(imp)
	s = build(0)
	if _, ok := s.Files["de/impressum/index.html"]; ok {
		t.Error("removed page still in the site")
	}
}

// TestFreshBuilders: a new builder keeps nothing from an earlier one (no
// render cache on disk): it converts every page again, writes the same
// site, and sees a changed page.
func TestFreshBuilders(t *testing.T) {
	cfg, dir := testSite(t)
	build := func() (*Site, *Result) {
		t.Helper()
		s, res, err := NewBuilder(cfg, Options{Now: fixedNow}).Build()
		if err != nil {
			t.Fatal(err)
		}
		return s, res
	}
	s1, r1 := build()
	s2, r2 := build()
	if r1.Rendered != 8 || r2.Rendered != 8 {
		t.Errorf("first build rendered %d pages, second %d; want 8 each", r1.Rendered, r2.Rendered)
	}
	if !maps.EqualFunc(s1.Files, s2.Files, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Error("two fresh builds differ")
	}
	pol := filepath.Join(dir, "content", "de", "policy.md")
	src, _ := os.ReadFile(pol)
	os.WriteFile(pol, append(src, "\nNeu.\n"...), 0o644)
	s, r := build()
	if r.Rendered != 8 || !strings.Contains(string(s.Files["de/datenschutz/index.html"]), "Neu.") {
		t.Errorf("after one change: %d rendered, change in the page: %v", r.Rendered, strings.Contains(string(s.Files["de/datenschutz/index.html"]), "Neu."))
	}
}

func TestUnsafeHTML(t *testing.T) {
	for _, unsafe := range []bool{false, true} {
		cfg, dir := testSite(t)
		cfg.Site.UnsafeHTML = unsafe
		imp := filepath.Join(dir, "content", "de", "policy.md")
		src, _ := os.ReadFile(imp)
		os.WriteFile(imp, append(src, "\n<aside class=\"x\">Roh</aside>\n"...), 0o644)
		s, _, err := NewBuilder(cfg, Options{Now: fixedNow}).Build()
		if !unsafe {
			// Raw HTML that would be dropped fails the build (issue 11
			// item 4), naming where it is and what it is.
			lines := strings.Count(string(src), "\n") + 2
			if want := fmt.Sprintf("policy.md:%d:1: raw HTML <aside> would not be shown", lines); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("unsafe_html = false: %v, want %q", err, want)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Contains(string(s.Files["de/datenschutz/index.html"]), `<aside class="x">Roh</aside>`)
		if got != unsafe {
			t.Errorf("unsafe_html = %v: raw HTML passed = %v", unsafe, got)
		}
	}
}

func TestSiteArchiveKey(t *testing.T) {
	_, dir := testSite(t)
	b, _ := os.ReadFile(filepath.Join(dir, "config.toml"))
	b = []byte(strings.Replace(string(b), "[site]\n", "[site]\narchive = \"proof/texts\"\n", 1))
	os.WriteFile(filepath.Join(dir, "config.toml"), b, 0o644)
	cfg, err := config.Load(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Build(cfg, Options{OutDir: filepath.Join(dir, "public"), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := textarchive.Text(filepath.Join(dir, "proof", "texts"), res.Versions["de"]); err != nil {
		t.Errorf("site.archive not used: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "archive")); !os.IsNotExist(err) {
		t.Errorf("default archive folder created anyway: %v", err)
	}
}

// TestOutputFolder: a build removes only what an earlier build wrote, and
// refuses a non-empty folder that no build wrote (a wrong --out).
func TestOutputFolder(t *testing.T) {
	cfg, dir := testSite(t)
	for _, out := range []string{dir, filepath.Join(dir, "content")} {
		_, err := Build(cfg, Options{OutDir: out, Now: fixedNow})
		if !errors.Is(err, ErrForeignOutput) {
			t.Errorf("build into %s: %v, want ErrForeignOutput", out, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "content", "de", "policy.md")); err != nil {
		t.Fatalf("a refused build touched the sources: %v", err)
	}
	out := filepath.Join(dir, "public")
	if _, err := Build(cfg, Options{OutDir: out, Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(out, "robots.txt"), []byte("User-agent: *\n"), 0o644)
	wd := filepath.Join(dir, "content", "en", "withdrawal.md")
	src, _ := os.ReadFile(wd)
	os.WriteFile(wd, []byte(strings.Replace(string(src), `slug = "withdrawal"`, `slug = "withdraw"`, 1)), 0o644)
	if _, err := Build(cfg, Options{OutDir: out, Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "en", "withdrawal")); !os.IsNotExist(err) {
		t.Errorf("page of the old slug not removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "en", "withdraw", "index.html")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(out, "robots.txt")); err != nil {
		t.Errorf("a file the owner put into the output was removed: %v", err)
	}
}
