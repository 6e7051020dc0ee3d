package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/chatconsent/chatconsent/themes"
)

// axeTags are the axe-core rule tags of WCAG 2.0, 2.1 and 2.2 at levels A
// and AA (axe-core's documentation: "Axe-core Tags").
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// axeSource reads axe-core from e2e/node_modules (npm ci in e2e/).
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core missing: run npm ci in e2e/ (.ci/run does): %v", err)
	}
	return string(b)
}

// axeViolation is the part of an axe-core result the test reports.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// runAxe injects axe-core into the tab's current page and returns the
// violations of the WCAG A/AA rules, and the number of checks axe could
// not decide (incomplete, needing a person's review).
func runAxe(t *testing.T, tb *tab, src string) ([]axeViolation, []string) {
	t.Helper()
	injectAxe(t, tb, src)
	tags, _ := json.Marshal(axeTags)
	expr := fmt.Sprintf(`axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations", "incomplete"]})
		.then(r => JSON.stringify({violations: r.violations, incomplete: r.incomplete.map(i => i.id + " " + i.nodes.map(n => n.target.join(" ") + " (" + (n.any[0] && n.any[0].message) + ")").join("; "))}))`, tags)
	out, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core: %v", err)
	}
	var res struct {
		Violations []axeViolation `json:"violations"`
		Incomplete []string       `json:"incomplete"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("axe-core result: %v", err)
	}
	return res.Violations, res.Incomplete
}

// injectAxe runs axe-core's source in the tab's current page. It is
// compiled with Runtime.compileScript, not evaluated: V8 keeps a compiled
// script in the renderer's compilation cache by its source, so every page
// after the first in a renderer skips parsing and compiling the 500 KB
// again (Runtime.evaluate's cache is per document).
func injectAxe(t *testing.T, tb *tab, src string) {
	t.Helper()
	c, err := chromedp.Call(tb.ctx, runtime.CompileScript, runtime.CompileScriptParams{Expression: src, SourceURL: "axe.min.js", PersistScript: true})
	if err == nil && c.ExceptionDetails != nil {
		err = fmt.Errorf("%s", c.ExceptionDetails.Text)
	}
	if err != nil {
		t.Fatalf("compile axe-core: %v", err)
	}
	r, err := chromedp.Call(tb.ctx, runtime.RunScript, runtime.RunScriptParams{ScriptID: c.ScriptID})
	if err == nil && r.ExceptionDetails != nil {
		err = fmt.Errorf("%s", r.ExceptionDetails.Text)
	}
	if err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
}

// checkPage runs axe on the tab's page and fails on every violation.
func checkPage(t *testing.T, tb *tab, src, lang string) {
	t.Helper()
	got, err := chromedp.Run(tb.ctx, chromedp.AttributeValue(chromedp.CSS("html"), "lang"))
	if err != nil || got.Value != lang {
		t.Errorf("<html lang> = %q, want %q", got.Value, lang)
	}
	violations, incomplete := runAxe(t, tb, src)
	for _, v := range violations {
		for _, n := range v.Nodes {
			t.Errorf("axe %s (%s): %s\n  at %v: %s\n  %s", v.ID, v.Impact, v.Help, n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n  "))
		}
	}
	if len(incomplete) > 0 {
		t.Logf("axe could not decide (review by eye): %v", incomplete)
	}
}

// TestAccessibility runs axe-core on every page type the site and the
// collector produce, in both languages, on the phone and the desktop:
// policy, consent, the consent form with an error, thank-you after a grant
// and after a refusal, the archived text, the language chooser, the "not found" page and the
// collector's server-error page.
func TestAccessibility(t *testing.T) {
	t.Parallel()
	src := axeSource(t)
	errPage := serverErrorPage(t)
	policyPath := map[string]string{"de": "de/datenschutz/", "en": "en/privacy/"}

	// One site, server and browser context per viewport, so that the two
	// run in parallel without sharing a number's state.
	for _, vp := range []viewport{phone, desktop} {
		t.Run(vp.Name, func(t *testing.T) {
			t.Parallel()
			dir := site(t)
			cfg, data := filepath.Join(dir, "config.toml"), filepath.Join(dir, "data")
			run(t, "keygen", "--invite", "--config", cfg, "--data", data)
			srv := start(t, "serve", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)
			accessibility(t, vp, srv, src, cfg, data, errPage, policyPath)
		})
	}
}

// accessibility is TestAccessibility on one viewport.
func accessibility(t *testing.T, vp viewport, srv *server, src, cfg, data, errPage string, policyPath map[string]string) {
	imprintPath := map[string]string{"de": "de/impressum/", "en": "en/imprint/"}
	b := newBrowser(t)
	// One tab for every page of the viewport, each page opened in turn: a
	// tab per page cost a renderer and a JavaScript check each.
	shared := b.newTabFor(t, vp, true, 10*time.Minute)
	b = &browserT{ctx: b.ctx, downloads: b.downloads, guard: b.guard, tab: shared}
	{
		for _, lang := range []string{"de", "en"} {
			v := variant{vp, true, lang}
			open := func(t *testing.T, u string) *tab {
				t.Helper()
				tb := b.newTab(t, vp, true)
				resp, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(u))
				if err != nil || resp.Status != http.StatusOK {
					t.Fatalf("open %s: %v %v", u, resp, err)
				}
				return tb
			}
			t.Run(lang+"/policy", func(t *testing.T) {
				tb := open(t, srv.URL+policyPath[lang])
				checkPage(t, tb, src, lang)
			})
			t.Run(lang+"/imprint", func(t *testing.T) {
				tb := open(t, srv.URL+imprintPath[lang])
				checkPage(t, tb, src, lang)
			})
			t.Run(lang+"/consent", func(t *testing.T) {
				tb := open(t, srv.URL+consentPath[lang])
				checkPage(t, tb, src, lang)
			})
			t.Run(lang+"/consent-with-errors", func(t *testing.T) {
				tb := b.newTab(t, vp, true)
				openConsent(t, b, tb, srv.URL, v)
				// Every kind of field error at once: no name, a bad number,
				// a bad e-mail address and no purpose ticked.
				if err := chromedp.Do(tb.ctx, chromedp.SendKeys(chromedp.ID("phone"), "12"), chromedp.SendKeys(chromedp.ID("email"), "nope")); err != nil {
					t.Fatal(err)
				}
				if st := press(t, tb, "granted"); st != http.StatusBadRequest {
					t.Fatalf("status %d, want 400", st)
				}
				checkPage(t, tb, src, lang)
			})
			for _, d := range []string{"granted", "refused"} {
				t.Run(lang+"/thanks-"+d, func(t *testing.T) {
					tb := b.newTab(t, vp, true)
					openConsent(t, b, tb, srv.URL, v)
					fill(t, tb, "Jürgen Weiß", "0170 1234567", "orders")
					if st := press(t, tb, d); st != http.StatusOK {
						t.Fatalf("status %d", st)
					}
					checkPage(t, tb, src, lang)
				})
			}
			t.Run(lang+"/archive", func(t *testing.T) {
				tb := b.newTab(t, vp, true)
				openConsent(t, b, tb, srv.URL, v)
				version, err := chromedp.Run(tb.ctx, chromedp.AttributeValue(chromedp.CSS(`input[name="text_version"]`), "value"))
				if err != nil {
					t.Fatal(err)
				}
				tb = open(t, srv.URL+"archive/"+version.Value+".html")
				checkPage(t, tb, src, lang)
			})
			t.Run(lang+"/withdrawal", func(t *testing.T) {
				tb := open(t, srv.URL+withdrawalPath[lang])
				checkPage(t, tb, src, lang)
			})
			t.Run(lang+"/withdraw-personal-and-thanks", func(t *testing.T) {
				tb := b.newTab(t, vp, true)
				openConsent(t, b, tb, srv.URL, v)
				fill(t, tb, "Jürgen Weiß", "0170 1234567", "orders")
				press(t, tb, "granted")
				resp, err := chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(`a[href*="/v1/withdraw"]`)))
				if err != nil || resp.Status != http.StatusOK {
					t.Fatalf("open personal withdrawal page: %v %v", resp, err)
				}
				checkPage(t, tb, src, lang)
				if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS(`label[for="purpose-all"]`))); err != nil {
					t.Fatal(err)
				}
				resp, err = chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(`form[action$="/v1/withdraw"] button[type="submit"]`)))
				if err != nil || resp.Status != http.StatusOK {
					t.Fatalf("withdraw: %v %v", resp, err)
				}
				checkPage(t, tb, src, lang)
			})
			t.Run(lang+"/invite-and-used-invite", func(t *testing.T) {
				out := run(t, "invite", "--phone", "0170 7654321", "--name", "Jürgen Weiß", "--lang", lang, "--config", cfg, "--data", data)
				link := inviteLinkRe.FindString(out)
				if link == "" {
					t.Fatalf("no invite link in:\n%s", out)
				}
				link = srv.URL + link[strings.Index(link, "v1/consent"):]
				tb := open(t, link)
				checkPage(t, tb, src, lang)
				if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS(`label[for="purpose-orders"]`))); err != nil {
					t.Fatal(err)
				}
				if st := press(t, tb, "granted"); st != http.StatusOK {
					t.Fatalf("grant through invite: %d", st)
				}
				resp, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(link))
				if err != nil || resp.Status != http.StatusConflict {
					t.Fatalf("used invite: %v %v, want 409", resp, err)
				}
				checkPage(t, tb, src, lang)
			})
			t.Run(lang+"/server-error", func(t *testing.T) {
				tb := open(t, errPage+lang)
				checkPage(t, tb, src, lang)
			})
		}
		t.Run("index", func(t *testing.T) {
			tb := b.newTab(t, vp, true)
			if err := chromedp.Do(tb.ctx, chromedp.Navigate(srv.URL)); err != nil {
				t.Fatal(err)
			}
			checkPage(t, tb, src, "de")
		})
		t.Run("not-found", func(t *testing.T) {
			tb := b.newTab(t, vp, true)
			resp, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(srv.URL+"gibt-es-nicht/"))
			if err != nil || resp.Status != http.StatusNotFound {
				t.Fatalf("unknown page: %v %v, want 404", resp, err)
			}
			checkPage(t, tb, src, "de")
		})
	}
}

// serverErrorPage serves the theme's error layout as the collector fills
// it when the disk cannot store a decision (HTTP 503), which a browser flow
// cannot provoke; GET /LANG shows it in LANG. It returns the URL prefix.
func serverErrorPage(t *testing.T) string {
	t.Helper()
	th, err := themes.Load("")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := strings.TrimPrefix(r.URL.Path, "/")
		s := th.Strings(lang)
		var b strings.Builder
		err := th.Render(&b, themes.LayoutError, &themes.Page{
			Lang: lang, Title: s["server_error_title"], SiteTitle: "Fahrradladen Beispiel",
			ConsentURL: "/" + consentPath[lang],
			Content:    themes.Text(s["server_error"]).HTML(),
		})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(b.String()))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}
