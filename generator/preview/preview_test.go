package preview

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/generator"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

func site(text string) *generator.Site {
	page := func(s string) []byte {
		return []byte("<!DOCTYPE html>\n<html lang=\"de\">\n<body>\n<main>" + s + "</main>\n</body>\n</html>\n")
	}
	return &generator.Site{Files: map[string][]byte{
		"index.html":                 page("Start"),
		"de/einwilligung/index.html": page(text),
		"404.html":                   page("Nicht gefunden"),
	}}
}

func get(t *testing.T, h http.Handler, target string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var scriptRe = regexp.MustCompile(`<script>(.*)</script>`)

// checkScript: the page carries exactly one reload script for generation
// gen, and the CSP allows that script by its hash and nothing else.
func checkScript(t *testing.T, res *http.Response, body, gen string) {
	t.Helper()
	m := scriptRe.FindAllStringSubmatch(body, -1)
	if len(m) != 1 || !strings.Contains(m[0][1], `var g="`+gen+`"`) {
		t.Fatalf("want one reload script for generation %s in:\n%s", gen, body)
	}
	sum := sha256.Sum256([]byte(m[0][1]))
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP %q does not allow the script by hash", csp)
	}
	if !strings.HasSuffix(strings.TrimSpace(body[:strings.Index(body, "</body>")]), "</script>") {
		t.Error("script not injected right before </body>")
	}
}

func TestPagesAndErrors(t *testing.T) {
	s := New(context.Background(), "/", t.TempDir())
	res, body := get(t, s, "/de/einwilligung/")
	if res.StatusCode != 500 {
		t.Errorf("before the first build: %d, want 500", res.StatusCode)
	}
	s.Update(site("Erste Fassung"))
	res, body = get(t, s, "/de/einwilligung/")
	if res.StatusCode != 200 || !strings.Contains(body, "Erste Fassung") || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("page: %d %s", res.StatusCode, body)
	}
	checkScript(t, res, body, "1")
	if res, _ := get(t, s, "/de/einwilligung"); res.StatusCode != 301 || res.Header.Get("Location") != "/de/einwilligung/" {
		t.Errorf("no slash: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res, body := get(t, s, "/"); res.StatusCode != 200 || !strings.Contains(body, "Start") {
		t.Errorf("index: %d", res.StatusCode)
	}
	if res, body := get(t, s, "/de/nope/"); res.StatusCode != 404 || !strings.Contains(body, "Nicht gefunden") {
		t.Errorf("missing page: %d %s", res.StatusCode, body)
	}

	// A broken build: the last good page, the error on top, escaped.
	s.Fail(errors.New(`/site/content/de/consent.md:4: bad front matter: <slug "x>`))
	res, body = get(t, s, "/de/einwilligung/")
	if res.StatusCode != 500 || !strings.Contains(body, "Erste Fassung") ||
		!strings.Contains(body, `/site/content/de/consent.md:4: bad front matter: &lt;slug &#34;x&gt;`) {
		t.Errorf("after a failed build: %d\n%s", res.StatusCode, body)
	}
	if strings.Index(body, "chatconsent-build-error") > strings.Index(body, "<main>") {
		t.Error("error banner is not at the top of the body")
	}
	checkScript(t, res, body, "2")
	// Fixed.
	s.Update(site("Zweite Fassung"))
	res, body = get(t, s, "/de/einwilligung/")
	if res.StatusCode != 200 || strings.Contains(body, "chatconsent-build-error") || !strings.Contains(body, "Zweite Fassung") {
		t.Errorf("after the fix: %d\n%s", res.StatusCode, body)
	}
	checkScript(t, res, body, "3")
}

func TestArchive(t *testing.T) {
	dir := t.TempDir()
	doc := []byte("<p>Fassung</p>")
	v := textarchive.Sum(doc)
	os.WriteFile(filepath.Join(dir, v+".html"), doc, 0o644)
	os.WriteFile(filepath.Join(dir, "secret.txt"), doc, 0o644)
	s := New(context.Background(), "/shop/", dir)
	s.Update(site("x"))
	if res, body := get(t, s, "/shop/archive/"+v+".html"); res.StatusCode != 200 || body != string(doc) || strings.Contains(body, "<script") {
		t.Errorf("archived text: %d %q (archived texts are served byte for byte)", res.StatusCode, body)
	}
	for _, p := range []string{"/shop/archive/secret.txt", "/shop/archive/../archive/x", "/shop/archive/"} {
		if res, _ := get(t, s, p); res.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, res.StatusCode)
		}
	}
	if res, body := get(t, s, "/shop/de/einwilligung/"); res.StatusCode != 200 || !strings.Contains(body, "x") {
		t.Errorf("page below the base path: %d", res.StatusCode)
	}
}

func TestEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := New(ctx, "/", t.TempDir())
	s.Update(site("a"))
	srv := httptest.NewServer(s)
	defer srv.Close()
	res, err := http.Get(srv.URL + EventsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("content type %q", ct)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") {
				lines <- sc.Text()
			}
		}
		close(lines)
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-lines:
			if got != want {
				t.Errorf("event %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event %q", want)
		}
	}
	expect("data: 1")
	s.Update(site("b"))
	expect("data: 2")
	s.Fail(errors.New("broken"))
	expect("data: 3")
	cancel() // serve is shutting down: the stream ends
	select {
	case _, ok := <-lines:
		if ok {
			t.Error("event after shutdown")
		}
	case <-time.After(10 * time.Second):
		t.Error("stream did not end with the context")
	}
}
