package collector

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/internal/config"
	"github.com/chatconsent/chatconsent/internal/textarchive"
)

const versionsConfig = `
[site]
title = "T"
base_url = "https://example.org/"
languages = ["de", "en"]
[controller]
name = "N"
address = "A"
email = "a@example.org"
[collector]
public_url = "https://c.example.org/"
[[purposes]]
id = "orders"
title = "Orders"
description = "D"
`

// TestTextVersions: the collector accepts every version in the archive,
// old ones included, refuses a version that is not in the manifest (or was
// removed from it), and picks up new versions published after start.
func TestTextVersions(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse("config.toml", dir, []byte(versionsConfig))
	if err != nil {
		t.Fatal(err)
	}
	arch := filepath.Join(dir, "archive")
	docs := map[string][]byte{}
	publish := func(text, lang string) string {
		t.Helper()
		b := []byte("<!DOCTYPE html><p>" + text + "</p>")
		v := textarchive.Sum(b)
		docs[v] = b
		if _, err := textarchive.Publish(arch, map[string][]byte{v: b}, map[string]textarchive.Version{v: {Lang: lang, FirstPublished: time.Unix(0, 0).UTC()}}); err != nil {
			t.Fatal(err)
		}
		return v
	}
	old, cur := publish("erste Fassung", "de"), publish("zweite Fassung", "de")
	en := publish("first version", "en")
	srv, _, err := Open(cfg, Setup{DataDir: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	h := srv.Handler()
	post := func(version, lang string) (int, string) {
		body := `{"decision":"refused","name":"Jürgen Weiß","phone":"+49 170 1234567","lang":"` + lang + `","text_version":"` + version + `"}`
		req := httptest.NewRequest("POST", "/v1/consent", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	wantRefused := func(name, version, lang string) {
		t.Helper()
		code, body := post(version, lang)
		var e struct {
			Fields []struct{ Field, Code string }
		}
		json.Unmarshal([]byte(body), &e)
		if code != http.StatusBadRequest || len(e.Fields) != 1 || e.Fields[0].Field != FieldTextVersion {
			t.Errorf("%s: %d %s, want 400 naming text_version", name, code, body)
		}
	}
	for _, v := range []string{old, cur} {
		if code, body := post(v, "de"); code != http.StatusCreated {
			t.Errorf("archived version %.12s: %d %s, want 201", v, code, body)
		}
		// The accepted text is kept beside the log, byte for byte.
		if b, err := textarchive.Text(filepath.Join(dir, "data", "texts"), v); err != nil || string(b) != string(docs[v]) {
			t.Errorf("copy of %.12s in data/texts: %q, %v", v, b, err)
		}
	}
	wantRefused("version of another language", en, "de")
	wantRefused("unknown version", textarchive.Sum([]byte("never published")), "de")
	wantRefused("not a version", "latest", "de")

	// A version published after start is accepted without a restart.
	next := publish("dritte Fassung", "de")
	if code, body := post(next, "de"); code != http.StatusCreated {
		t.Errorf("version published after start: %d %s, want 201", code, body)
	}

	// A version removed from the manifest is refused, even with its file
	// still on disk; the others stay accepted.
	m, _ := textarchive.ReadManifest(arch)
	delete(m.Versions, old)
	b, _ := json.Marshal(m)
	os.WriteFile(filepath.Join(arch, textarchive.ManifestFile), b, 0o644)
	if err := srv.ReloadVersions(); err != nil {
		t.Fatal(err)
	}
	wantRefused("removed from the manifest", old, "de")
	if code, _ := post(cur, "de"); code != http.StatusCreated {
		t.Errorf("remaining version: %d, want 201", code)
	}
	// A broken manifest keeps the versions accepted so far.
	os.WriteFile(filepath.Join(arch, textarchive.ManifestFile), []byte("{"), 0o644)
	if err := srv.ReloadVersions(); err == nil {
		t.Error("ReloadVersions accepted a broken manifest")
	}
	if code, _ := post(cur, "de"); code != http.StatusCreated {
		t.Errorf("after a failed reload: %d, want 201", code)
	}
}
