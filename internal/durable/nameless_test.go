package durable

import (
	"os"
	"path/filepath"
	"testing"
)

// TestNameless: the file works and leaves no name; a missing folder is an
// error.
func TestNameless(t *testing.T) {
	dir := t.TempDir()
	f, err := Nameless(dir, ".x-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("abc"), 0); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 3)
	if _, err := f.ReadAt(b, 0); err != nil || string(b) != "abc" {
		t.Fatalf("read back %q, %v", b, err)
	}
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Errorf("folder holds %d entries, want none", len(names))
	}
	if _, err := Nameless(filepath.Join(dir, "missing"), ".x-*"); err == nil {
		t.Error("a missing folder: nil error")
	}
}
