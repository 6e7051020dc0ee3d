package receipt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
)

// TestFontDir: the font directory is built once per user and shared (a
// second call finds it, nothing else is left in the folder); one that is
// not the user's own whole directory (mode, marker) is not used. Not
// parallel: building points pdfcpu's package variables elsewhere, which
// the cleanup points back.
func TestFontDir(t *testing.T) {
	if err := setup(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.EnsureDefaultConfigAt(fontsAt) })
	base := t.TempDir()
	dir, err := fontDir(base)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(dir), "chatconsent-pdfcpu-") || !usableFontDir(dir) {
		t.Fatalf("font directory %s (usable: %v)", dir, usableFontDir(dir))
	}
	if gobs, _ := filepath.Glob(filepath.Join(dir, "pdfcpu", "fonts", "Go*.gob")); len(gobs) != 2 {
		t.Errorf("installed Go fonts: %v", gobs)
	}
	again, err := fontDir(base)
	if err != nil || again != dir {
		t.Errorf("second call: %s, %v; want %s", again, err, dir)
	}
	if des, _ := os.ReadDir(base); len(des) != 1 {
		t.Errorf("the folder holds %d entries, want the one directory", len(des))
	}
	// Not whole (no marker), or open to others: a directory of its own.
	for _, spoil := range []func(){
		func() { os.Remove(filepath.Join(dir, fontDirMarker)) },
		func() { os.WriteFile(filepath.Join(dir, fontDirMarker), nil, 0o600); os.Chmod(dir, 0o755) },
	} {
		spoil()
		other, err := fontDir(base)
		if err != nil || other == dir || !usableFontDir(other) {
			t.Errorf("a spoiled shared directory: got %s, %v", other, err)
		}
		os.RemoveAll(other)
	}
}
