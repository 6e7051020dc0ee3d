package e2e

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"testing"

	"github.com/chromedp/chromedp"
)

// pageBudget is the most the consent page may transfer with everything it
// loads (issue 7): a phone on a slow connection gets it in one round trip
// or two, and no web fonts, scripts or images are needed.
const pageBudget = 30_000 // bytes

// TestConsentPageBudget loads each consent page as deployed (the output of
// chatconsent build on a plain static server; serve would add its live
// reload) in a fresh tab and adds up the bytes of every response (headers
// and bodies as transferred). It prints the figure and fails above the
// budget.
func TestConsentPageBudget(t *testing.T) {
	t.Parallel()
	dir := site(t)
	public := filepath.Join(dir, "public")
	run(t, "build", "--config", filepath.Join(dir, "config.toml"), "--out", public)
	srv := httptest.NewServer(http.FileServer(http.Dir(public)))
	t.Cleanup(srv.Close)
	srv.URL += "/"
	b := newBrowser(t)
	for _, lang := range []string{"de", "en"} {
		t.Run(lang, func(t *testing.T) {
			tb := b.newTab(t, phone, true)
			resp, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(srv.URL+consentPath[lang]))
			if err != nil || resp.Status != http.StatusOK {
				t.Fatalf("open: %v %v", resp, err)
			}
			// Everything the page loads has arrived once the load event
			// fired, which NavigateResponse waits for.
			got := tb.net.received()
			var total float64
			var urls []string
			for u, n := range got {
				total += n
				urls = append(urls, u)
			}
			sort.Strings(urls)
			for _, u := range urls {
				t.Logf("  %7.0f bytes  %s", got[u], u)
			}
			t.Logf("consent page (%s) with everything it loads: %.0f bytes in %d responses (budget %d)", lang, total, len(got), pageBudget)
			if len(got) == 0 {
				t.Fatal("no response recorded")
			}
			if total > pageBudget {
				t.Errorf("consent page (%s) transfers %.0f bytes, over the budget of %d", lang, total, pageBudget)
			}
			// No web fonts, scripts or images: a system font stack and inline CSS.
			for u, mt := range tb.net.mimeTypes() {
				if mt != "text/html" {
					t.Errorf("consent page loads %s (%s); want the HTML document alone", u, mt)
				}
			}
			b.assertLoopbackOnly(t, tb)
		})
	}
}
