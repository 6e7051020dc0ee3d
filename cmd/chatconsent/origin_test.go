package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// browserOrigin is the Origin header a browser sends on a form POST that
// is not a CORS request (a plain <form method=post>), from a page at
// pageOrigin under referrer policy to target: Fetch standard, "append a
// request Origin header", step 4.
func browserOrigin(policy, pageOrigin string, target *url.URL) string {
	page, _ := url.Parse(pageOrigin)
	sameOrigin := page.Scheme == target.Scheme && page.Host == target.Host
	switch policy {
	case "no-referrer":
		return "null"
	case "no-referrer-when-downgrade", "strict-origin", "strict-origin-when-cross-origin", "":
		if page.Scheme == "https" && target.Scheme != "https" {
			return "null"
		}
	case "same-origin":
		if !sameOrigin {
			return "null"
		}
	}
	return pageOrigin
}

var referrerRe = regexp.MustCompile(`<meta name="referrer" content="([^"]*)">`)

// TestCrossOriginFormPost plays a browser: the static site on one origin,
// the collector on another, the form posted with the headers a browser
// sends under the page's own referrer policy. It must be recorded; under
// "no-referrer" (Origin: null) it would be refused, and a page from an
// origin not in collector.allowed_origins is refused.
func TestCrossOriginFormPost(t *testing.T) {
	t.Parallel()
	dir := site(t)
	cfg := filepath.Join(dir, "config.toml")
	pub := filepath.Join(dir, "public")
	data := filepath.Join(dir, "data")
	if _, stderr, code := chatconsent(t, "build", "--config", cfg, "--out", pub); code != 0 {
		t.Fatalf("build: %s", stderr)
	}
	static := httptest.NewServer(http.FileServer(http.Dir(pub)))
	defer static.Close()
	b, _ := os.ReadFile(cfg)
	b = bytes.Replace(b, []byte("\n[collector]\n"), []byte("\n[collector]\nallowed_origins = [\""+static.URL+"\"]\n"), 1)
	os.WriteFile(cfg, b, 0o644)
	p := launch(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)
	target, _ := url.Parse(p.base + "v1/consent")

	resp, err := http.Get(static.URL + "/en/consent/")
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	m := referrerRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the consent page sets no referrer policy")
	}
	policy := m[1]
	form := url.Values{
		"decision": {"granted"}, "name": {"Zoë Müller"}, "phone": {"+49 170 1234567"},
		"purpose": {"orders"}, "lang": {"en"}, "text_version": {textVersionRe.FindStringSubmatch(page)[1]},
	}
	post := func(origin string) (int, string) {
		req, _ := http.NewRequest("POST", target.String(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", "same-site") // 127.0.0.1 on two ports: same site, two origins
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		req.Header.Set("Accept-Language", "en-GB,en;q=0.8")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readBody(t, resp)
	}

	origin := browserOrigin(policy, static.URL, target)
	if origin != static.URL {
		t.Errorf("under the site's referrer policy %q a browser sends Origin %q, not the site's origin", policy, origin)
	}
	if code, body := post(origin); code != 200 || !strings.Contains(body, "Your consent has been recorded.") {
		t.Errorf("form post from the site: %d\n%.400s", code, body)
	}
	if code, body := post(browserOrigin("no-referrer", static.URL, target)); code != 403 || !strings.Contains(body, "This form may not be sent from this page.") {
		t.Errorf("form post from a no-referrer page: %d, want 403\n%.400s", code, body)
	}
	if code, _ := post("http://127.0.0.1:1"); code != 403 {
		t.Errorf("form post from another origin: %d, want 403", code)
	}
	if ids := logIDs(t, data); len(ids) != 1 {
		t.Errorf("%d records, want only the allowed post", len(ids))
	}
}
