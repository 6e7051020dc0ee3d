package durable

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteFileReplaces(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f.json")
	for _, want := range []string{"one\n", "two, longer\n"} {
		if err := WriteFile(p, []byte(want), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("mode %v, want 0600", got)
	}
	assertOnly(t, dir, "f.json")
}

func TestWriteFileMissingFolder(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "no", "f")
	err := WriteFile(p, []byte("x"), 0o644)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
	if want := "write " + p + ": "; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestCreateFileNeverReplaces(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "key.pem")
	if err := CreateFile(p, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := CreateFile(p, []byte("second"), 0o600)
	if !errors.Is(err, os.ErrExist) {
		t.Fatalf("second create: err = %v, want ErrExist", err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "first" {
		t.Errorf("file holds %q, want the first write", got)
	}
	assertOnly(t, dir, "key.pem")
}

func TestMove(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sub := filepath.Join(dir, "failed")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "m.json"), []byte("m"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Move(dir, "m.json", sub); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(sub, "m.json")); err != nil || string(got) != "m" {
		t.Errorf("moved file: %q, %v", got, err)
	}
	assertOnly(t, dir, "failed")
	if err := Move(dir, "gone.json", sub); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("moving a missing file: err = %v, want ErrNotExist", err)
	}
}

// assertOnly fails unless dir holds exactly names (no temp files left).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Fatalf("%s holds %v, want %v", dir, got, names)
	}
	for i := range names {
		if got[i] != names[i] {
			t.Fatalf("%s holds %v, want %v", dir, got, names)
		}
	}
}

func TestRemoveTemps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tmp, err := writeTemp(filepath.Join(dir, "m.json"), []byte("half"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if !IsTemp(filepath.Base(tmp)) {
		t.Fatalf("IsTemp(%q) = false", filepath.Base(tmp))
	}
	for _, name := range []string{"m.json", ".hidden", "x.tmp-1"} {
		if IsTemp(name) {
			t.Errorf("IsTemp(%q) = true", name)
		}
		os.WriteFile(filepath.Join(dir, name), []byte("keep"), 0o600)
	}
	if err := RemoveTemps(dir); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, ".hidden", "m.json", "x.tmp-1")
	if err := RemoveTemps(filepath.Join(dir, "none")); err != nil {
		t.Errorf("missing folder: %v", err)
	}
}

// TestRemoveTempsBefore: only temporary files older than the cut-off go
// (a crash's leftovers), not one being written now; in a folder of more
// files than one batch of the listing.
func TestRemoveTempsBefore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i := range 5000 {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("r%05d.pdf", i)), nil, 0o600)
	}
	old, err := writeTemp(filepath.Join(dir, "a.pdf"), []byte("crash"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	os.Chtimes(old, start.Add(-time.Hour), start.Add(-time.Hour))
	now, err := writeTemp(filepath.Join(dir, "b.pdf"), []byte("being written"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	os.Chtimes(now, start.Add(time.Second), start.Add(time.Second))
	if err := RemoveTempsBefore(dir, start); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the crash's temporary file is still there: %v", err)
	}
	if _, err := os.Stat(now); err != nil {
		t.Errorf("the file being written was removed: %v", err)
	}
	if n, _ := os.ReadDir(dir); len(n) != 5001 {
		t.Errorf("%d files left, want 5001", len(n))
	}
}

// TestWriteStream: what write writes replaces the file; an error from
// write leaves the old file and no temporary one.
func TestWriteStream(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "snap")
	if err := WriteStream(p, 0o600, func(w io.Writer) error {
		_, err := io.WriteString(w, "one")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteStream(p, 0o600, func(w io.Writer) error {
		io.WriteString(w, "half")
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %v, want boom naming %s", err, p)
	}
	if got, _ := os.ReadFile(p); string(got) != "one" {
		t.Errorf("after a failed write the file holds %q, want the old one", got)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	assertOnly(t, dir, "snap")
}
