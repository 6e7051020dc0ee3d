package textarchive

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	put := func(dir, text string) string {
		v := Sum([]byte(text))
		if err := os.WriteFile(filepath.Join(dir, v+".html"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return v
	}
	v1 := put(a, "Einwilligung 1")
	v2 := put(b, "Einwilligung 2")
	// A stray file named like v1's prefix but not hashing to its name.
	stray := v1[:12] + strings.Repeat("0", 52)
	os.WriteFile(filepath.Join(b, stray+".html"), []byte("not what its name says"), 0o644)

	for _, v := range []string{v1, v2} {
		if got, err := Expand([]string{a, b}, v[:12]); got != v || err != nil {
			t.Errorf("Expand(%s) = %q, %v; want %s", v[:12], got, err, v)
		}
	}
	if _, err := Expand([]string{a, b}, "ffffff"); !errors.Is(err, ErrUnknownVersion) || !strings.Contains(err.Error(), "no text version starting with ffffff") {
		t.Errorf("unknown prefix: %v", err)
	}
	// Both versions in both folders, and a prefix they share (the empty
	// one is refused by the CLI; here it stands for a short shared prefix).
	put(a, "Einwilligung 2")
	if _, err := Expand([]string{a, b}, ""); err == nil || !strings.Contains(err.Error(), "is ambiguous: ") || !strings.Contains(err.Error(), v1) || !strings.Contains(err.Error(), v2) {
		t.Errorf("ambiguous prefix: %v", err)
	}
}
