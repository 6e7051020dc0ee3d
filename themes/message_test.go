package themes

import (
	"html/template"
	"testing"
)

// TestMessageHTML: every part of a message is escaped by html/template,
// and a link that is not http(s) or relative is neutralised.
func TestMessageHTML(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		m    Message
		want template.HTML
	}{
		{"text", Text("Später erneut versuchen."), "<p>Später erneut versuchen.</p>"},
		{"escaped", Text(`<b>"x" & 'y'</b>`), "<p>&lt;b&gt;&#34;x&#34; &amp; &#39;y&#39;&lt;/b&gt;</p>"},
		{"hint", Message{Paragraphs: []string{"a", "b"}, Hint: "detail: <x>"}, `<p>a</p><p>b</p><p class="hint">detail: &lt;x&gt;</p>`},
		{"link", Message{Paragraphs: []string{"used"}, Link: &Link{URL: "https://c.example/v1/withdraw?invite=a&b=\"", Text: "Widerrufen"}},
			`<p>used</p><p><a class="button" href="https://c.example/v1/withdraw?invite=a&amp;b=%22">Widerrufen</a></p>`},
		{"script link", Message{Link: &Link{URL: "javascript:alert(1)", Text: "x"}}, `<p><a class="button" href="#ZgotmplZ">x</a></p>`},
		{"empty", Message{}, ""},
	} {
		if got := tt.m.HTML(); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestLinkListHTML(t *testing.T) {
	t.Parallel()
	got := LinkList{{URL: "/de/einwilligung/", Text: "Einwilligung <jetzt>", Lang: "de"}, {URL: "/en/consent/", Text: "Consent", Lang: "en"}}.HTML()
	want := template.HTML(`<ul><li><a href="/de/einwilligung/" hreflang="de" lang="de">Einwilligung &lt;jetzt&gt;</a></li><li><a href="/en/consent/" hreflang="en" lang="en">Consent</a></li></ul>`)
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := (LinkList{}).HTML(); got != "<ul></ul>" {
		t.Errorf("empty list: %s", got)
	}
}
