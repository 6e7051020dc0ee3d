package generator

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	texttemplate "text/template"

	"github.com/chatconsent/chatconsent/internal/config"
)

// scrollableTablesRegexp is the first, regexp-based scrollableTables: the
// reference the faster one must agree with.
func scrollableTablesRegexp(html []byte) []byte {
	tableRe := regexp.MustCompile(`<table>`)
	headingRe := regexp.MustCompile(`<h[1-6] id="([^"]+)"`)
	var out bytes.Buffer
	last := 0
	for _, loc := range tableRe.FindAllIndex(html, -1) {
		out.Write(html[last:loc[0]])
		name := ""
		if hs := headingRe.FindAllSubmatch(html[:loc[0]], -1); len(hs) > 0 {
			name = fmt.Sprintf(` aria-labelledby="%s"`, hs[len(hs)-1][1])
		}
		fmt.Fprintf(&out, `<div class="table" role="region" tabindex="0"%s><table>`, name)
		last = loc[1]
	}
	out.Write(html[last:])
	return bytes.ReplaceAll(out.Bytes(), []byte("</table>"), []byte("</table></div>"))
}

func TestScrollableTables(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"<p>no table</p>", "<p>no table</p>"},
		{`<h2 id="preise">Preise</h2><table><tr><td>1</td></tr></table>`,
			`<h2 id="preise">Preise</h2><div class="table" role="region" tabindex="0" aria-labelledby="preise"><table><tr><td>1</td></tr></table></div>`},
		{`<table></table>`, `<div class="table" role="region" tabindex="0"><table></table></div>`},
		// The last heading before each table names it; footnote ids do not.
		{`<h2 id="a">A</h2><table></table><h3 id="b">B</h3><p id="x"><sup id="fnref:1">1</sup></p><table></table>`,
			`<h2 id="a">A</h2><div class="table" role="region" tabindex="0" aria-labelledby="a"><table></table></div><h3 id="b">B</h3><p id="x"><sup id="fnref:1">1</sup></p><div class="table" role="region" tabindex="0" aria-labelledby="b"><table></table></div>`},
	} {
		if got := string(scrollableTables([]byte(tt.in))); got != tt.want {
			t.Errorf("scrollableTables(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
		if got := string(scrollableTablesRegexp([]byte(tt.in))); got != tt.want {
			t.Errorf("reference(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

// FuzzScrollableTables: the fast version agrees with the regexp one on
// any input, including headings cut off by a table and ids without end.
func FuzzScrollableTables(f *testing.F) {
	for _, s := range []string{"", "<table>", `<h2 id="a"><table>`, `<h2 id="a<table>"`, `<h1 id="">x</h1><table></table>`, `<h7 id="a"><table>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := scrollableTables([]byte(s)), scrollableTablesRegexp([]byte(s)); !bytes.Equal(got, want) {
			t.Fatalf("scrollableTables(%q)\n got %q\nwant %q", s, got, want)
		}
	})
}

// FuzzPlaceholderError: any error text, from text/template or not, gives
// an error back (never a panic), and a template error keeps its file.
func FuzzPlaceholderError(f *testing.F) {
	for _, s := range []string{
		`template: /c/en/policy.md:22:14: executing "/c/en/policy.md" at <.Controller.Nme>: can't evaluate field Nme in type config.Controller`,
		`template: /c/en/policy.md:153: unclosed action started at /c/en/policy.md:152`,
		`template: p.md:3: unexpected "\\" in operand`,
		"read p.md: permission denied",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := placeholderError(errors.New(s))
		if err == nil {
			t.Fatal("nil error")
		}
		if m := templateErrRe.FindStringSubmatch(s); m != nil && !strings.HasPrefix(err.Error(), m[1]+":") {
			t.Fatalf("%q lost its file: %v", s, err)
		}
	})
}

// TestPlaceholders: what content may use, and what it may not, each
// refused naming file:line and the offending action.
func TestPlaceholders(t *testing.T) {
	ok := []string{
		"{{ .Controller.Name }}, {{ .Controller.Address }}, {{ .Controller.Email }}, {{ .Controller.Phone }}",
		"{{ .Site.Title }} {{ .PolicyURL }} {{ .ConsentURL }} {{ .WithdrawalURL }} {{ .Lang }}",
		"{{ range .Purposes }}- {{ .ID }}: {{ .Title }}: {{ .Description }}\n{{ end }}",
		"{{ if .Controller.Phone }}Tel. {{ .Controller.Phone }}{{ else }}kein Telefon{{ end }}",
		"{{/* a comment */}}text",
		"kept {{ .Retention.ProofYears }} years",
		"kept {{ .Retention.ProofPeriod }}",
		"{{ if .LogKey }}key {{ .LogKey }}{{ end }}",
	}
	for _, src := range ok {
		tpl := texttemplate.Must(texttemplate.New("p.md").Parse(src))
		if err := checkPlaceholders(tpl); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
	bad := []struct{ src, want string }{
		{"x\n{{ . }}", "p.md:2:3: not a placeholder {{.}}"},
		{"{{ .Controller }}", "p.md:1:3: unknown placeholder {{.Controller}}"},
		{"{{ .Purposes }}", "unknown placeholder {{.Purposes}}"},
		{`{{ printf "%s" 1 }}`, `not a placeholder {{printf "%s" 1}}`},
		{"{{ range $i := 1000000000 }}x{{ end }}", "only {{ range .Purposes }} … {{ end }} is allowed, not {{range $i := 1000000000}}x{{end}}"},
		{"{{ range .Purposes }}{{ .Controller.Name }}{{ end }}", "unknown placeholder inside {{ range .Purposes }} {{.Controller.Name}}"},
		{"{{ range .Purposes }}{{ range .Purposes }}{{ end }}{{ end }}", "only {{ range .Purposes }}"},
		{`{{ define "x" }}y{{ end }}`, "{{ define }} is not allowed"},
		{`{{ template "x" }}`, `not a placeholder {{template "x"}}`},
		{"{{ $x := 1 }}", "not a placeholder {{$x := 1}}"},
		{"{{ with .Site }}{{ .Title }}{{ end }}", "not a placeholder {{with .Site}}"},
		{"{{ .Site.Title | printf \"%q\" }}", "not a placeholder"},
		{"{{ .Controller.Name.Foo }}", "unknown placeholder"},
		{"{{ .Retention }}", "unknown placeholder"},
		{"{{ .Retention.Auto }}", "unknown placeholder"},
	}
	for _, tt := range bad {
		tpl, err := texttemplate.New("p.md").Parse(tt.src)
		if err != nil {
			t.Fatalf("%q: %v", tt.src, err)
		}
		if err := checkPlaceholders(tpl); err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "p.md:") {
			t.Errorf("%q: %v, want %q", tt.src, err, tt.want)
		}
	}
}

// TestRetentionText: the period in the page's language, plural-correct,
// and digits alone where a language has no strings for it.
func TestRetentionText(t *testing.T) {
	de := map[string]string{"years_one": "{n} Jahr", "years_other": "{n} Jahre"}
	for _, tt := range []struct {
		years int
		strs  map[string]string
		want  string
	}{
		{1, de, "1 Jahr"}, {3, de, "3 Jahre"}, {10, de, "10 Jahre"},
		{1, map[string]string{"years_one": "{n} year", "years_other": "{n} years"}, "1 year"},
		{3, nil, "3"},
	} {
		got := retentionText(config.Retention{ProofYears: tt.years}, tt.strs)
		if got.ProofPeriod != tt.want || got.ProofYears != tt.years {
			t.Errorf("%d years: %+v, want %q", tt.years, got, tt.want)
		}
	}
}
