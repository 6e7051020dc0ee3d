package chatconsent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/generator"
	"github.com/chatconsent/chatconsent/internal/config"
)

func TestInitThenBuild(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shop")
	_, err := Init(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"config.toml", ".gitignore", "content/de/consent.md", "content/en/withdrawal.md", "content/de/impressum.md", "content/en/impressum.md"} {
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("init did not write %s: %v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "archive")); !os.IsNotExist(err) {
		t.Errorf("a fresh site must start without an archive: %v", err)
	}
	cfg, err := config.Load(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := generator.Build(cfg, generator.Options{OutDir: filepath.Join(dir, "public"), Now: func() time.Time { return time.Unix(0, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages["de"] == 0 || res.Pages["en"] == 0 || len(res.NewVersions) != 2 {
		t.Errorf("build of the new site: %+v", res)
	}

	// A second init refuses and changes nothing.
	cfgBefore, _ := os.ReadFile(filepath.Join(dir, "config.toml"))
	os.WriteFile(filepath.Join(dir, "content", "de", "policy.md"), []byte("mine"), 0o644)
	_, err = Init(dir)
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), filepath.Join(dir, "config.toml")) {
		t.Errorf("second init: %v, want ErrExists naming config.toml", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "content", "de", "policy.md")); string(b) != "mine" {
		t.Error("init overwrote an owner's file")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "config.toml")); string(b) != string(cfgBefore) {
		t.Error("init overwrote config.toml")
	}
	// One existing file is enough to write nothing at all.
	other := t.TempDir()
	os.MkdirAll(filepath.Join(other, "content", "en"), 0o755)
	os.WriteFile(filepath.Join(other, "content", "en", "consent.md"), []byte("x"), 0o644)
	if _, err := Init(other); !errors.Is(err, ErrExists) {
		t.Errorf("init over one file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(other, "config.toml")); !os.IsNotExist(err) {
		t.Error("init wrote files although one existed")
	}
}
