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

func TestOpenMissingFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "proof")); !errors.Is(err, ErrNoArchive) || !strings.Contains(err.Error(), "proof does not exist") {
		t.Errorf("missing folder: err = %v, want ErrNoArchive naming it", err)
	}
	f := filepath.Join(dir, "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := Open(f); !errors.Is(err, ErrNoArchive) {
		t.Errorf("a file: err = %v, want ErrNoArchive", err)
	}
	m, err := Open(dir) // exists, never built into: empty
	if err != nil || len(m.Versions) != 0 {
		t.Errorf("empty folder: %v, %v", m, err)
	}
}

func TestFindOrder(t *testing.T) {
	t.Parallel()
	a, b := t.TempDir(), t.TempDir()
	doc := []byte("<p>shown</p>")
	v := Sum(doc)
	if _, err := Publish(b, map[string][]byte{v: doc}, nil); err != nil {
		t.Fatal(err)
	}
	got, path, damaged, err := Find([]string{a, b}, v)
	if err != nil || string(got) != string(doc) || path != filepath.Join(b, v+".html") || damaged != nil {
		t.Fatalf("only in the second: %q %s %v %v", got, path, damaged, err)
	}
	// A damaged copy in the first folder is passed over and reported.
	os.WriteFile(filepath.Join(a, v+".html"), []byte("changed"), 0o644)
	got, path, damaged, err = Find([]string{a, b}, v)
	if err != nil || path != filepath.Join(b, v+".html") || len(damaged) != 1 || !errors.Is(damaged[0], ErrCorrupt) {
		t.Fatalf("damaged first copy: %q %s %v %v", got, path, damaged, err)
	}
	// An intact copy in the first folder wins.
	os.WriteFile(filepath.Join(a, v+".html"), doc, 0o644)
	if _, path, _, _ = Find([]string{a, b}, v); path != filepath.Join(a, v+".html") {
		t.Errorf("found %s, want the first folder's copy", path)
	}
	// Only damaged copies: ErrCorrupt; none at all: ErrUnknownVersion.
	os.WriteFile(filepath.Join(b, v+".html"), []byte("x"), 0o644)
	if _, _, _, err = Find([]string{b}, v); !errors.Is(err, ErrCorrupt) {
		t.Errorf("only a damaged copy: err = %v", err)
	}
	if _, _, _, err = Find([]string{a, b}, Sum([]byte("never"))); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("unknown: err = %v", err)
	}
}
