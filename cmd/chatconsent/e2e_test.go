package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/private"
	"github.com/chatconsent/chatconsent/internal/records"
)

// binary is the chatconsent command built once for the end-to-end tests.
var binary string

// cacheDir is the user cache folder of every chatconsent process the tests
// start (the binary keeps nothing there today; no child may write the user's).
var cacheDir string

// childEnv is the environment of a chatconsent process the tests start: its
// user cache folder is the test's, not the user's. It is set
// only for the children, never with os.Setenv: moving XDG_CACHE_HOME for this
// process would also move the Go build cache of `go build` and recompile
// every dependency on every run. It reads the environment at each call, so
// t.Setenv reaches the children.
func childEnv() []string {
	return append(os.Environ(), "XDG_CACHE_HOME="+cacheDir)
}

// TestMain builds the real binary once, without the race detector, for
// the scripts of TestScripts and the tests that need a process of their own
// (crashes, signals, the collector's restarts), and runs the tests.
//
// The scripts run that binary, not this test binary: a race-instrumented
// process costs about ten times the CPU to start and to run (the shadow
// memory, every access checked), and the scripts start several hundred.
// The command's own code runs under the race detector in the in-process
// tests of this package and of the packages it wires.
func TestMain(m *testing.M) {
	os.Exit(runWithBinary(m))
}

func runWithBinary(m *testing.M) int {
	dir, err := os.MkdirTemp("", "chatconsent-e2e-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "chatconsent")
	cacheDir = filepath.Join(dir, "cache")
	// -trimpath: the build cache then serves a fresh clone in another
	// folder too (without it, every package's cache key holds its path).
	out, err := exec.Command("go", "build", "-trimpath", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// site copies the repo's own config.toml, content/ and archive/ into a
// temporary folder, so a test never writes into the source tree.
func site(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	repo := filepath.Join("..", "..")
	for _, p := range []string{"config.toml", "content", "archive"} {
		if err := os.CopyFS(filepath.Join(dir, p), os.DirFS(filepath.Join(repo, p))); err != nil {
			if p == "config.toml" {
				b, err := os.ReadFile(filepath.Join(repo, p))
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(dir, p), b, 0o644)
				continue
			}
			if !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// chatconsent runs the binary and returns stdout, stderr and the exit code.
//
// A command that does not end within 3 minutes (a collector that should
// have refused to start) is killed, and the test fails there instead of at
// go test's deadline.
func chatconsent(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = childEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("chatconsent %v did not end within 3 minutes\n%s%s", args, stdout.String(), stderr.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// start runs a long-lived command (collect or serve) and returns its base
// URL once it listens; the process is killed at the end of the test.
func start(t *testing.T, args ...string) string {
	t.Helper()
	u, _ := startLogged(t, args...)
	return u
}

// lockedBuffer is a bytes.Buffer safe for a writing process and a reading test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLogged is start that also returns the command's stderr so far.
func startLogged(t *testing.T, args ...string) (string, func() string) {
	t.Helper()
	u, logs, _ := startStoppable(t, args...)
	return u, logs
}

// startStoppable is startLogged that also returns a function that kills
// the process (SIGKILL, as a crash would) and waits for it.
func startStoppable(t *testing.T, args ...string) (string, func() string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = childEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			cmd.Wait()
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("stderr of %v:\n%s", args, stderr.String())
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`listening on (http://\S+/)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			cmd.Wait()
			t.Fatalf("%v exited before listening:\n%s", args, stderr.String())
		}
		return u, stderr.String, stop
	case <-time.After(60 * time.Second):
		t.Fatalf("%v did not start:\n%s", args, stderr.String())
	}
	return "", nil, nil
}

var (
	textVersionRe = regexp.MustCompile(`name="text_version" value="([0-9a-f]{64})"`)
	receiptRe     = regexp.MustCompile(`href="([^"]*/v1/receipts/[0-9a-f]{32}\.pdf\?[^"]+)"`)
)

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	dir := site(t)
	cfg := filepath.Join(dir, "config.toml")
	pub := filepath.Join(dir, "public")
	data := filepath.Join(dir, "data")

	// 1. Build the site from the repo's content.
	stdout, stderr, code := chatconsent(t, "build", "--config", cfg, "--out", pub)
	if code != 0 {
		t.Fatalf("build exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "pages de 4, en 4") {
		t.Errorf("build summary = %q", stdout)
	}
	page, err := os.ReadFile(filepath.Join(pub, "de", "einwilligung", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	for _, want := range []string{
		`<form method="post" action="http://127.0.0.1:8080/v1/consent"`,
		`name="name"`, `name="phone"`, `name="email"`, `name="lang" value="de"`,
		`name="purpose" value="orders"`, `name="purpose" value="documents"`,
		`name="decision" value="granted"`, `name="decision" value="refused"`,
		"Fahrradladen Beispiel GmbH", // controller from config.toml
	} {
		if !strings.Contains(html, want) {
			t.Errorf("consent page lacks %s", want)
		}
	}
	if strings.Contains(html, " checked") {
		t.Error("a purpose is pre-ticked")
	}
	for _, bad := range []string{"<script", "src=", "<link rel=\"stylesheet", "@import", "document.cookie", "url("} {
		if strings.Contains(strings.ToLower(html), bad) {
			t.Errorf("consent page contains %q", bad)
		}
	}
	m := textVersionRe.FindStringSubmatch(html)
	if m == nil {
		t.Fatal("no text_version on the consent page")
	}
	version := m[1]
	if _, err := os.Stat(filepath.Join(pub, "archive", version+".html")); err != nil {
		t.Errorf("text version not archived: %v", err)
	}

	// 2. Run the collector on a loopback port.
	base := start(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)
	logPath := filepath.Join(data, "decisions.jsonl")

	// 3. A refused post writes nothing.
	form := url.Values{
		"decision": {"granted"}, "name": {""}, "phone": {"12"}, "email": {"not-an-email"},
		"purpose": {"orders"}, "lang": {"de"}, "text_version": {version},
	}
	resp, err := http.PostForm(base+"v1/consent", form)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad post: status %d, want 400", resp.StatusCode)
	}
	for _, want := range []string{`id="name-error"`, `id="phone-error"`, `id="email-error"`, "Bitte geben Sie Ihren Namen an."} {
		if !strings.Contains(body, want) {
			t.Errorf("bad post answer lacks %q", want)
		}
	}
	if st, err := os.Stat(logPath); err != nil || st.Size() != 0 {
		t.Errorf("log after refused post: %v, %v; want empty", st, err)
	}
	jresp, err := http.Post(base+"v1/consent", "application/json", strings.NewReader(`{"decision":"maybe","name":"X","phone":"+49 170 1234567","lang":"de","text_version":"`+version+`","purpose":["nope"]}`))
	if err != nil {
		t.Fatal(err)
	}
	var jerr struct {
		Fields []struct{ Field, Code string }
	}
	json.Unmarshal([]byte(readBody(t, jresp)), &jerr)
	if jresp.StatusCode != 400 || len(jerr.Fields) != 2 || jerr.Fields[0].Field != "decision" || jerr.Fields[1].Field != "purpose" {
		t.Errorf("bad JSON post: %d %+v, want 400 naming decision and purpose", jresp.StatusCode, jerr)
	}

	// 4. Jürgen Weiß grants consent through the plain form.
	form = url.Values{
		"decision": {"granted"}, "name": {"Jürgen Weiß"}, "phone": {"0170 1234567"},
		"purpose": {"orders", "documents"}, "lang": {"de"}, "text_version": {version},
	}
	resp, err = http.PostForm(base+"v1/consent", form)
	if err != nil {
		t.Fatal(err)
	}
	body = readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Ihre Einwilligung ist gespeichert.") {
		t.Fatalf("grant: status %d, body %s", resp.StatusCode, body)
	}
	rm := receiptRe.FindStringSubmatch(body)
	if rm == nil {
		t.Fatalf("thank-you page has no receipt link:\n%s", body)
	}
	// The link uses collector.public_url from config.toml; the test's
	// collector listens on another port.
	receiptURL := strings.Replace(strings.ReplaceAll(rm[1], "&amp;", "&"), "http://127.0.0.1:8080/", base, 1)

	// A JSON client gets 201 with id and receipt_url.
	jresp, err = http.Post(base+"v1/consent", "application/json; charset=utf-8", strings.NewReader(
		`{"decision":"refused","name":"Łukasz Wróbel","phone":"+48 512 345 678","lang":"de","text_version":"`+version+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID         string
		ReceiptURL string `json:"receipt_url"`
	}
	if err := json.Unmarshal([]byte(readBody(t, jresp)), &created); err != nil || jresp.StatusCode != 201 || len(created.ID) != 32 {
		t.Errorf("JSON post: %d %+v %v", jresp.StatusCode, created, err)
	}
	// A third record, so that a middle line can be dropped.
	jresp, _ = http.Post(base+"v1/consent", "application/json", strings.NewReader(
		`{"decision":"granted","name":"Юлия Соколова","phone":"+49 30 1234567","email":"julia@example.org","purpose":["documents"],"lang":"de","text_version":"`+version+`"}`))
	if readBody(t, jresp); jresp.StatusCode != 201 {
		t.Errorf("third post: %d", jresp.StatusCode)
	}

	// 5. The receipt is a PDF that holds the name; without the secret it
	// is not served.
	resp, err = http.Get(receiptURL)
	if err != nil {
		t.Fatal(err)
	}
	pdf := readBody(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf, "%PDF-") {
		t.Fatalf("receipt: %d %s %.20q", resp.StatusCode, resp.Header.Get("Content-Type"), pdf)
	}
	if text := pdfText(t, []byte(pdf)); !strings.Contains(text, "Jürgen Weiß") || !strings.Contains(text, "+491701234567") {
		t.Errorf("receipt text lacks name or number:\n%s", text)
	}
	u, _ := url.Parse(receiptURL)
	q := u.Query()
	q.Set("k", strings.Repeat("A", len(q.Get("k"))))
	u.RawQuery = q.Encode()
	if resp, _ := http.Get(u.String()); resp.StatusCode != 404 {
		t.Errorf("receipt with a wrong secret: %d, want 404", resp.StatusCode)
	}

	// 6. The log verifies; one changed byte or a dropped middle line fails.
	stdout, stderr, code = chatconsent(t, "verify", logPath)
	if code != 0 || !strings.Contains(stdout, "OK, 3 records") {
		t.Fatalf("verify: exit %d, %s %s", code, stdout, stderr)
	}
	logBytes, _ := os.ReadFile(logPath)
	for _, v := range []string{"Jürgen", "491701234567", "1701234567"} {
		if bytes.Contains(logBytes, []byte(v)) {
			t.Errorf("the log holds %q in clear (format version 2 holds commitments only):\n%s", v, logBytes)
		}
	}
	if p := openedSubject(t, data, logBytes); p == nil || p.Name != "Jürgen Weiß" || p.Phone != "+491701234567" {
		t.Errorf("the private store does not open the normalised decision: %+v", p)
	}
	tampered := filepath.Join(dir, "tampered.jsonl")
	os.WriteFile(tampered, bytes.Replace(logBytes, []byte(`"decision":"granted"`), []byte(`"decision":"refused"`), 1), 0o600)
	_, stderr, code = chatconsent(t, "verify", "--key", filepath.Join(data, "signing.pub"), tampered)
	if code != 1 || !strings.Contains(stderr, "line 1: signature does not match") {
		t.Errorf("verify changed byte: exit %d, %s", code, stderr)
	}
	lines := bytes.SplitAfter(logBytes, []byte("\n"))
	os.WriteFile(tampered, append(bytes.Clone(lines[0]), lines[2]...), 0o600)
	_, stderr, code = chatconsent(t, "verify", "--key", filepath.Join(data, "signing.pub"), tampered)
	if code != 1 || !strings.Contains(stderr, "line 2: sequence number out of order") {
		t.Errorf("verify dropped line: exit %d, %s", code, stderr)
	}
}

// TestServe runs the README's first command: site and collector on one
// address, the form posting to the same origin.
func TestServe(t *testing.T) {
	t.Parallel()
	dir := site(t)
	base := start(t, "serve", "--config", filepath.Join(dir, "config.toml"), "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"))
	resp, err := http.Get(base + "en/consent/")
	if err != nil {
		t.Fatal(err)
	}
	html := readBody(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(html, `action="/v1/consent"`) || !strings.Contains(html, `<html lang="en">`) {
		t.Fatalf("serve consent page: %d\n%s", resp.StatusCode, html)
	}
	if c := resp.Header.Get("Set-Cookie"); c != "" {
		t.Errorf("page sets a cookie: %s", c)
	}
	version := textVersionRe.FindStringSubmatch(html)[1]
	resp, err = http.PostForm(base+"v1/consent", url.Values{
		"decision": {"granted"}, "name": {"Şükrü Çelik"}, "phone": {"+90 532 123 45 67"},
		"purpose": {"orders"}, "lang": {"en"}, "text_version": {version},
	})
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, "Your consent has been recorded.") {
		t.Errorf("serve grant: %d\n%s", resp.StatusCode, body)
	}
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "r.pdf")
	os.WriteFile(f, pdf, 0o600)
	out, err := exec.Command("pdftotext", "-layout", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext (install poppler-utils; .ci/run does): %v", err)
	}
	return string(out)
}

// TestMissingReceiptRemade: a decision whose receipt was never made (the
// collector was killed right after answering) gets it at the next start,
// from the signed log line.
func TestMissingReceiptRemade(t *testing.T) {
	t.Parallel()
	dir := site(t)
	cfg, data := filepath.Join(dir, "config.toml"), filepath.Join(dir, "data")
	version := textVersion(t, dir, "de")
	var id string
	t.Run("first run", func(t *testing.T) {
		base := start(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)
		decide(t, base, `{"decision":"granted","name":"Jürgen Weiß","phone":"0170 1234567","purpose":["orders"],"lang":"de","text_version":"`+version+`"}`)
	})
	log, _ := os.ReadFile(filepath.Join(data, "decisions.jsonl"))
	m := regexp.MustCompile(`"type":"decision","id":"([0-9a-f]{32})"`).FindSubmatch(log)
	if m == nil {
		t.Fatalf("no decision in the log:\n%s", log)
	}
	id = string(m[1])
	receipt := filepath.Join(data, "receipts", id+".pdf")
	os.Remove(receipt) // as if the collector had died before making it
	start(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(receipt); err == nil && bytes.HasPrefix(b, []byte("%PDF-")) {
			if text := pdfText(t, b); !strings.Contains(text, "Jürgen Weiß") {
				t.Errorf("remade receipt lacks the name:\n%s", text)
			}
			return
		}
	}
	t.Fatal("the missing receipt was not made after the restart")
}

// TestServeWatch: serve rebuilds on a rename-save, the open page learns of
// it through server-sent events, a broken file shows file:line in the
// terminal and the browser while the last good build stays served, and the
// collector accepts the text version published by a rebuild.
func TestServeWatch(t *testing.T) {
	t.Parallel()
	dir := site(t)
	base, logs := startLogged(t, "serve", "--config", filepath.Join(dir, "config.toml"), "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"))
	get := func(p string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readBody(t, resp)
	}
	code, page := get("en/consent/")
	if code != 200 || !strings.Contains(page, `new EventSource("/_chatconsent/events")`) {
		t.Fatalf("served page lacks the reload script: %d", code)
	}
	oldVersion := textVersionRe.FindStringSubmatch(page)[1]

	resp, err := http.Get(base + "_chatconsent/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- d
			}
		}
	}()
	gen := <-events
	nextEvent := func() {
		t.Helper()
		select {
		case g := <-events:
			if g == gen {
				t.Errorf("event repeats generation %s", g)
			}
			gen = g
		case <-time.After(20 * time.Second):
			t.Fatalf("no reload event; serve stderr:\n%s", logs())
		}
	}
	file := filepath.Join(dir, "content", "en", "consent.md")
	good, _ := os.ReadFile(file)
	renameSave := func(s string) {
		t.Helper()
		tmp := file + "___jb_tmp___"
		os.WriteFile(tmp, []byte(s), 0o644)
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}

	renameSave(strings.Replace(string(good), "For that, we need your consent.", "For that, we kindly ask for your consent.", 1))
	nextEvent()
	_, page = get("en/consent/")
	if !strings.Contains(page, "we kindly ask for your consent") {
		t.Fatal("page not rebuilt after a rename-save")
	}
	newVersion := textVersionRe.FindStringSubmatch(page)[1]
	if newVersion == oldVersion {
		t.Error("changed text kept its version")
	}
	// The collector accepts the version the rebuild published, and the old one.
	for _, v := range []string{newVersion, oldVersion} {
		resp, err := http.PostForm(base+"v1/consent", url.Values{
			"decision": {"refused"}, "name": {"Ana"}, "phone": {"+49 170 1234567"}, "lang": {"en"}, "text_version": {v},
		})
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != 200 {
			t.Errorf("post with version %.12s: %d\n%s", v, resp.StatusCode, body)
		}
	}
	// The owner's archive is untouched by serve: drafts stay in its copy.
	if _, err := os.Stat(filepath.Join(dir, "archive", newVersion+".html")); !os.IsNotExist(err) {
		t.Errorf("serve wrote a draft into the site's archive: %v", err)
	}

	// Broken front matter: error in the terminal and on the page, old page kept.
	renameSave(strings.Replace(string(good), `layout = "consent"`, `layout = "consnet"`, 1))
	nextEvent()
	code, page = get("en/consent/")
	wantErr := file + `:3: bad front matter: layout &#34;consnet&#34;`
	if code != 500 || !strings.Contains(page, wantErr) || !strings.Contains(page, "we kindly ask for your consent") {
		t.Errorf("broken file: %d, want the last good page with %s", code, wantErr)
	}
	if !strings.Contains(logs(), file+`:3: bad front matter: layout "consnet"`) {
		t.Errorf("terminal does not show the error:\n%s", logs())
	}
	// Fixed: the banner is gone.
	renameSave(string(good))
	nextEvent()
	code, page = get("en/consent/")
	if code != 200 || strings.Contains(page, "chatconsent-build-error") || !strings.Contains(page, "For that, we need your consent.") {
		t.Errorf("after the fix: %d", code)
	}
	if strings.Contains(logs(), "panic") {
		t.Errorf("serve panicked:\n%s", logs())
	}
}

// openedSubject returns the subject of the first record of log, opened
// with the private store in data.
func openedSubject(t *testing.T, data string, log []byte) *ledger.Subject {
	t.Helper()
	vault, err := private.Open(filepath.Join(data, private.Dir), private.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer vault.Close()
	line := log[:bytes.IndexByte(log, '\n')]
	var env struct{ Rec ledger.Record }
	if err := json.Unmarshal(line, &env); err != nil {
		t.Fatal(err)
	}
	if err := records.Open(&env.Rec, vault); err != nil {
		t.Fatal(err)
	}
	return env.Rec.Subject
}
