package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBrandColor(t *testing.T) {
	t.Parallel()
	base, err := os.ReadFile(filepath.Join("..", "..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ value, want, err string }{
		{`"#1D4ED8"`, "#1d4ed8", ""},
		{`" #0b5c3b "`, "#0b5c3b", ""},
		{`"blue"`, "", `site.brand_color: "blue" is not a colour`},
		{`"#fff"`, "", "six hex digits"},
		{`1`, "", "site.brand_color"},
	} {
		text := strings.Replace(string(base), "[site]\n", "[site]\nbrand_color = "+tt.value+"\n", 1)
		dir := t.TempDir()
		path := filepath.Join(dir, "config.toml")
		os.WriteFile(path, []byte(text), 0o644)
		cfg, err := Load(path)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err = %v, want %q", tt.value, err, tt.err)
			}
			continue
		}
		if err != nil || cfg.Site.BrandColor != tt.want {
			t.Errorf("%s: %v, %q", tt.value, err, cfg.Site.BrandColor)
		}
	}
}
