package generator

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatconsent/chatconsent/themes"
)

// TestBrandColor: site.brand_color becomes the pages' accent; a colour
// without enough contrast fails the build naming the ratio, writing nothing.
func TestBrandColor(t *testing.T) {
	t.Parallel()
	cfg, dir := testSite(t)
	out := filepath.Join(dir, "public")
	cfg.Site.BrandColor = "#f0a000"
	_, err := Build(cfg, Options{OutDir: out, Now: fixedNow})
	if !errors.Is(err, themes.ErrContrast) || !strings.Contains(err.Error(), "2.15:1 against the page background #fff") {
		t.Fatalf("light orange: %v", err)
	}
	if tree := readTree(t, out); len(tree) != 0 {
		t.Errorf("a refused build wrote %d files", len(tree))
	}
	cfg.Site.BrandColor = "#8a4b00"
	if _, err := Build(cfg, Options{OutDir: out, Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	if page := string(readTree(t, out)["de/einwilligung/index.html"]); !strings.Contains(page, ":root{--accent:#8a4b00}") {
		t.Error("the consent page lacks the brand colour")
	}
}
