package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"

	"github.com/chatconsent/chatconsent/collector/receipt"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

// textVersion returns the archived text version of lang in the site dir.
func textVersion(t *testing.T, dir, lang string) string {
	t.Helper()
	m, err := textarchive.ReadManifest(filepath.Join(dir, "archive"))
	if err != nil {
		t.Fatal(err)
	}
	for v, ver := range m.Versions {
		if ver.Lang == lang {
			return v
		}
	}
	t.Fatalf("no %s version in the archive", lang)
	return ""
}

// decide posts a decision as JSON to the collector at base and returns
// the receipt PDF. The receipt link's host (collector.public_url) is
// replaced by base.
func decide(t *testing.T, base, body string) []byte {
	t.Helper()
	resp, err := http.Post(base+"v1/consent", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID         string
		ReceiptURL string `json:"receipt_url"`
	}
	b := readBody(t, resp)
	if err := json.Unmarshal([]byte(b), &created); err != nil || resp.StatusCode != 201 {
		t.Fatalf("post: %d %s", resp.StatusCode, b)
	}
	u := strings.Replace(created.ReceiptURL, "http://127.0.0.1:8080/", base, 1)
	resp, err = http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	pdf := readBody(t, resp)
	if resp.StatusCode != 200 || !strings.HasPrefix(pdf, "%PDF-") {
		t.Fatalf("receipt %s: %d", u, resp.StatusCode)
	}
	return []byte(pdf)
}

// goGlyphs returns s as the receipt's content stream shows it: glyph ids
// of Go Regular as 4 hex digits each.
func goGlyphs(t *testing.T, s string) []byte {
	t.Helper()
	f, err := sfnt.Parse(goregular.TTF)
	if err != nil {
		t.Fatal(err)
	}
	var buf sfnt.Buffer
	var out strings.Builder
	for _, r := range s {
		g, err := f.GlyphIndex(&buf, r)
		if err != nil || g == 0 {
			t.Fatalf("no glyph for %q", r)
		}
		fmt.Fprintf(&out, "%04X", g)
	}
	return []byte(out.String())
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVerifyReceipt runs chatconsent verify on receipts from a real
// collector: a good one passes offline and against the log; an edited
// name, a receipt from another collector's key, and a record missing from
// the log each fail with exit 1 and a message naming what failed.
func TestVerifyReceipt(t *testing.T) {
	t.Parallel()
	dir := site(t)
	cfg := filepath.Join(dir, "config.toml")
	data := filepath.Join(dir, "data")
	version := textVersion(t, dir, "de")
	base := start(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)
	good := decide(t, base, `{"decision":"granted","name":"Jürgen Weiß","phone":"0170 1234567","email":"jw@example.org","purpose":["orders"],"lang":"de","text_version":"`+version+`"}`)
	second := decide(t, base, `{"decision":"refused","name":"Αλέξανδρος Παπαδόπουλος","phone":"+30 21 0123 4567","lang":"de","text_version":"`+version+`"}`)
	goodPath := writeFile(t, dir, "receipt.pdf", good)
	secondPath := writeFile(t, dir, "second.pdf", second)
	pub := filepath.Join(data, "signing.pub")
	logPath := filepath.Join(data, "decisions.jsonl")

	// The owner's copies in DATA/receipts, stored just after the answers.
	var copies []string
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if copies, _ = filepath.Glob(filepath.Join(data, "receipts", "*.pdf")); len(copies) == 2 {
			break
		}
	}
	if len(copies) != 2 {
		t.Errorf("owner's copies: %v", copies)
	}
	// Without [smtp], mail is off: nothing is queued.
	if _, err := os.Stat(filepath.Join(data, "outbox")); !os.IsNotExist(err) {
		t.Errorf("outbox exists without [smtp]: %v", err)
	}

	t.Run("good", func(t *testing.T) {
		stdout, stderr, code := chatconsent(t, "verify", goodPath, "--key", pub, "--config", cfg)
		if code != 0 || !strings.Contains(stdout, goodPath+": OK") || !strings.Contains(stdout, "printed text: matches the record (layout 3), identical") {
			t.Errorf("exit %d\n%s%s", code, stdout, stderr)
		}
		// The key defaults to signing.pub beside the log.
		stdout, stderr, code = chatconsent(t, "verify", "--config", cfg, secondPath, "--log", logPath)
		if code != 0 || !strings.Contains(stdout, "log "+logPath+": OK, 2 records; line 2 is this record") {
			t.Errorf("with --log: exit %d\n%s%s", code, stdout, stderr)
		}
	})

	t.Run("name edited", func(t *testing.T) {
		old, new := goGlyphs(t, "Jürgen"), goGlyphs(t, "Jürgan")
		if !bytes.Contains(good, old) {
			t.Fatal("name not found in the content stream")
		}
		p := writeFile(t, dir, "edited.pdf", bytes.Replace(good, old, new, 1))
		if out, err := pdftotextFile(t, p); err != nil || !strings.Contains(out, "Jürgan Weiß") {
			t.Fatalf("the edit does not show: %v\n%s", err, out)
		}
		_, stderr, code := chatconsent(t, "verify", p, "--key", pub, "--config", cfg)
		if code != 1 || !strings.Contains(stderr, `printed text: printed text differs from the receipt made from the record: line `) ||
			!strings.Contains(stderr, `shows "Name: Jürgan Weiß", the record gives "Name: Jürgen Weiß"`) {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})

	t.Run("record from another key", func(t *testing.T) {
		other := filepath.Join(dir, "other-data")
		// A second collector beside a running one gets its key first
		// (collect never creates one beside a configured data folder).
		runOK(t, "keygen", "--config", cfg, "--data", other)
		base2 := start(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", other)
		foreign := writeFile(t, dir, "foreign.pdf", decide(t, base2, `{"decision":"granted","name":"Юлия Соколова","phone":"+49 30 1234567","purpose":["orders"],"lang":"de","text_version":"`+version+`"}`))
		_, stderr, code := chatconsent(t, "verify", foreign, "--key", pub, "--config", cfg)
		if code != 1 || !strings.Contains(stderr, "attached record: record was signed by another key") || !strings.Contains(stderr, "hint: the receipt was signed by another collector's key") {
			t.Errorf("exit %d: %s", code, stderr)
		}
		// With its own key it is fine, but not in this collector's log.
		_, stderr, code = chatconsent(t, "verify", foreign, "--key", filepath.Join(other, "signing.pub"), "--config", cfg, "--log", logPath)
		if code != 1 || !strings.Contains(stderr, "log: line 1: record was signed by another key") {
			t.Errorf("against the other log: exit %d: %s", code, stderr)
		}
	})

	t.Run("record missing from the log", func(t *testing.T) {
		lines, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		first := lines[:bytes.IndexByte(lines, '\n')+1]
		short := writeFile(t, dir, "short.jsonl", first)
		_, stderr, code := chatconsent(t, "verify", secondPath, "--key", pub, "--config", cfg, "--log", short)
		if code != 1 || !strings.Contains(stderr, "log: the record is not in the log: record ") || !strings.Contains(stderr, "has seq 2, the log has 1 records") {
			t.Errorf("exit %d: %s", code, stderr)
		}
		// A log with a changed byte fails as a log.
		bad := writeFile(t, dir, "bad.jsonl", bytes.Replace(lines, []byte(`"decision":"granted"`), []byte(`"decision":"refused"`), 1))
		_, stderr, code = chatconsent(t, "verify", secondPath, "--key", pub, "--config", cfg, "--log", bad)
		if code != 1 || !strings.Contains(stderr, "log: line 1: signature does not match") {
			t.Errorf("changed log: exit %d: %s", code, stderr)
		}
	})

	t.Run("witnesses against a log cut at its end", func(t *testing.T) {
		lines, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		backup := writeFile(t, dir, "backup.jsonl", lines)
		short := filepath.Join(dir, "cut", "decisions.jsonl")
		os.MkdirAll(filepath.Dir(short), 0o755)
		if err := os.WriteFile(short, lines[:bytes.IndexByte(lines, '\n')+1], 0o644); err != nil {
			t.Fatal(err)
		}
		// Alone, the cut log verifies: nothing refers to the cut line.
		if stdout, stderr, code := chatconsent(t, "verify", short, "--key", pub); code != 0 || !strings.Contains(stdout, "OK, 1 record,") {
			t.Fatalf("cut log alone: exit %d\n%s%s", code, stdout, stderr)
		}
		// The full log agrees with both witnesses.
		stdout, stderr, code := chatconsent(t, "verify", logPath, goodPath, backup)
		if code != 0 || !strings.Contains(stdout, goodPath+": record ") || !strings.Contains(stdout, "is line 1 of the log") ||
			!strings.Contains(stdout, backup+": all 2 lines are in the log") {
			t.Errorf("full log with witnesses: exit %d\n%s%s", code, stdout, stderr)
		}
		// The cut log: the first receipt is still in it, the second one and
		// the backup show the cut.
		for _, w := range []struct{ file, want string }{
			{secondPath, "witness " + secondPath + ": record "},
			{backup, "witness " + backup + ":2: record "},
		} {
			_, stderr, code := chatconsent(t, "verify", short, "--key", pub, goodPath, w.file)
			if code != 1 || !strings.Contains(stderr, w.want) || !strings.Contains(stderr, "line missing from the log: it is line 2, the log ends at line 1") ||
				!strings.Contains(stderr, "hint: lines were removed from the end of the log") {
				t.Errorf("cut log, witness %s: exit %d: %s", w.file, code, stderr)
			}
		}
		// A copy of the log away from the data folder: the key is found
		// through the config's data folder; a missing log is named.
		if stdout, stderr, code := chatconsent(t, "verify", "--config", cfg, backup); code != 0 || !strings.Contains(stdout, "OK, 2 records") {
			t.Errorf("copy of the log, key from the config: exit %d\n%s%s", code, stdout, stderr)
		}
		if _, stderr, code := chatconsent(t, "verify", filepath.Join(dir, "nosuch.jsonl")); code != 1 || !strings.Contains(stderr, "nosuch.jsonl: no such file") {
			t.Errorf("missing log: exit %d: %s", code, stderr)
		}
		if _, stderr, code := chatconsent(t, "verify", goodPath, "--config", cfg, "--log", filepath.Join(dir, "nosuch.jsonl")); code != 1 || !strings.Contains(stderr, "--log: stat ") || !strings.Contains(stderr, "no such file") {
			t.Errorf("receipt with a missing log: exit %d: %s", code, stderr)
		}
		// Not a witness: a file without signed lines.
		empty := writeFile(t, dir, "empty.jsonl", []byte("\n"))
		if _, stderr, code := chatconsent(t, "verify", logPath, empty); code != 1 || !strings.Contains(stderr, "no signed lines in it") {
			t.Errorf("empty witness: exit %d: %s", code, stderr)
		}
		if _, stderr, code := chatconsent(t, "verify", goodPath, secondPath, "--key", pub, "--config", cfg); code != 2 || !strings.Contains(stderr, "one receipt at a time") {
			t.Errorf("two receipts: exit %d: %s", code, stderr)
		}
	})

	t.Run("no attachment", func(t *testing.T) {
		// The blank built-in template: a PDF without a record.
		p := filepath.Join("..", "..", "collector", "receipt", "template.pdf")
		_, stderr, code := chatconsent(t, "verify", p, "--key", pub, "--config", cfg)
		if code != 1 || !strings.Contains(stderr, `attached record: receipt: no attached record "record.json"`) {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})

	t.Run("usage", func(t *testing.T) {
		_, stderr, code := chatconsent(t, "verify", logPath, "--log", logPath)
		if code != 2 || !strings.Contains(stderr, "--log is for checking a PDF receipt") {
			t.Errorf("exit %d: %s", code, stderr)
		}
		stdout, stderr, code := chatconsent(t, "verify", logPath)
		if code != 0 || !strings.Contains(stdout, "OK, 2 records") {
			t.Errorf("log still verifies: exit %d %s %s", code, stdout, stderr)
		}
	})
	t.Run("withdrawal receipt", func(t *testing.T) {
		// The grant's receipt links its personal withdrawal link (layout
		// 3: a link annotation over the short form printed, and a QR
		// code); withdraw a purpose with it.
		links, err := receipt.Links([]byte(good))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(links, "\n")
		m := regexp.MustCompile(`v1/withdraw\?id=([0-9a-f]{32})&k=([A-Za-z0-9_-]{43})`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no personal withdrawal link on the receipt:\n%s\n%s", text, pdfText(t, []byte(good)))
		}
		code, html := postForm(t, base+"v1/withdraw", url.Values{"id": {m[1]}, "k": {m[2]}, "purpose": {"orders"}, "lang": {"de"}})
		rm := receiptRe.FindStringSubmatch(html)
		if code != 200 || rm == nil {
			t.Fatalf("withdraw: %d\n%s", code, html)
		}
		code, pdf := get(t, local(rm[1], base))
		if code != 200 {
			t.Fatalf("withdrawal receipt: %d", code)
		}
		p := writeFile(t, dir, "withdrawal.pdf", []byte(pdf))
		stdout, stderr, code := chatconsent(t, "verify", p, "--config", cfg, "--log", logPath)
		if code != 0 || !strings.Contains(stdout, ": withdrawn,") || !strings.Contains(stdout, "line 3 is this record") {
			t.Errorf("exit %d\n%s%s", code, stdout, stderr)
		}
	})
}

func pdftotextFile(t *testing.T, path string) (string, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return pdfText(t, b), nil
}

// TestTemplateMisfitAtStartup: a letterhead form without a required field
// stops the collector at start-up, naming the file and the field.
func TestTemplateMisfitAtStartup(t *testing.T) {
	t.Parallel()
	dir := site(t)
	cfg := filepath.Join(dir, "config.toml")
	tpl, err := filepath.Abs(filepath.Join("..", "..", "collector", "receipt", "testdata", "form_missing.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(cfg)
	text := strings.Replace(string(b), `template = ""`, `template = "`+tpl+`"`, 1)
	os.WriteFile(cfg, []byte(text+"\n"), 0o644)
	stdout, stderr, code := chatconsent(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"))
	if code != 1 || strings.Contains(stdout, "listening") || !strings.Contains(stderr, "chatconsent: error: receipt.template "+tpl+`: receipt: template does not fit: the form has no field "decision"`) {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
}
