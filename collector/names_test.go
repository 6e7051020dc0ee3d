package collector

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/collector/receipt"
)

// TestNamesInEveryScript (issue 14, step 3): the form takes names in
// Arabic, Chinese, Japanese and Korean, records them as typed and the receipt
// prints them; an emoji is refused in the visitor's language, naming the
// character and saying what to type instead.
func TestNamesInEveryScript(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, tt := range []struct {
		name, line string // line: the receipt's line as Text reads it (drawing order)
	}{
		{"张伟", "Name: 张伟"},
		{"山田 花子", "Name: 山田 花子"},
		{"محمد", "Name: دمحم"},
		{"김민준", "Name: 김민준"},
	} {
		w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody("de", "name", tt.name))
		var got struct {
			ID         string `json:"id"`
			ReceiptURL string `json:"receipt_url"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &got); w.Code != http.StatusCreated || err != nil {
			t.Fatalf("post %q: %d %s", tt.name, w.Code, w.Body)
		}
		u, _ := url.Parse(got.ReceiptURL)
		w = h.do("GET", u.RequestURI(), "", "")
		if w.Code != 200 {
			t.Fatalf("receipt of %q: %d %.60q", tt.name, w.Code, w.Body)
		}
		text, err := receipt.Text(w.Body.Bytes())
		if err != nil || !slices.Contains(text, tt.line) {
			t.Errorf("receipt of %q: %v; no line %q in %q", tt.name, err, tt.line, text)
		}
	}
	recs := h.records(t)
	var names []string
	for _, r := range recs {
		names = append(names, r.Subject.Name)
	}
	if want := []string{"张伟", "山田 花子", "محمد", "김민준"}; !slices.Equal(names, want) {
		t.Errorf("recorded names %q, want %q", names, want)
	}
	for lang, want := range map[string]string{
		"de": `Der Name enthält das Zeichen „😀“ (U+1F600 GRINNING FACE), das die Bestätigung nicht drucken kann. Bitte geben Sie den Namen ohne dieses Zeichen ein`,
		"en": `The name contains the character “😀” (U+1F600 GRINNING FACE), which the confirmation cannot print. Please type the name without it`,
	} {
		w := h.do("POST", "/v1/consent", ctJSON, h.jsonBody(lang, "name", "Anna 😀"))
		if body, _ := url.QueryUnescape(w.Body.String()); w.Code != 400 || !strings.Contains(body, want) && !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: emoji name: %d %s; want 400 with %q", lang, w.Code, w.Body, want)
		}
	}
	if n := len(h.records(t)); n != len(recs) {
		t.Errorf("%d records after the refusals, want %d", n, len(recs))
	}
}
