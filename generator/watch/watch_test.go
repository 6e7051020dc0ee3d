package watch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/chatconsent/chatconsent/generator"
	"github.com/chatconsent/chatconsent/internal/config"
)

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func start(t *testing.T, root string, opts Options) *Watcher {
	t.Helper()
	w, err := New(root, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// next waits for a batch that contains want (earlier batches are dropped:
// a save may be delivered in parts).
func next(t *testing.T, w *Watcher, want string) Batch {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case b, ok := <-w.Batches():
			if !ok {
				t.Fatalf("batches closed while waiting for %s", want)
			}
			if b.Err != nil {
				t.Errorf("batch error: %v", b.Err)
			}
			if slices.Contains(b.Paths, want) {
				return b
			}
		case <-deadline:
			t.Fatalf("no batch with %s", want)
		}
	}
}

func noLitter(t *testing.T, b Batch) {
	t.Helper()
	for _, p := range b.Paths {
		if Ignored(filepath.Base(p)) {
			t.Errorf("editor litter reported: %s", p)
		}
	}
}

// TestSaveStyles saves a file the ways editors do and expects the target
// in a batch, without the editors' temporary files.
func TestSaveStyles(t *testing.T) {
	tests := []struct {
		name string
		save func(t *testing.T, target string)
	}{
		{"write temp then rename over (JetBrains, VS Code, atomic writers)", func(t *testing.T, target string) {
			tmp := target + "___jb_tmp___"
			write(t, tmp, "new")
			if err := os.Rename(tmp, target); err != nil {
				t.Fatal(err)
			}
		}},
		{"hidden temp then rename over", func(t *testing.T, target string) {
			tmp := filepath.Join(filepath.Dir(target), ".policy.md.tmp-123")
			write(t, tmp, "new")
			if err := os.Rename(tmp, target); err != nil {
				t.Fatal(err)
			}
		}},
		{"rename to backup, write new, remove backup (vim)", func(t *testing.T, target string) {
			write(t, filepath.Join(filepath.Dir(target), "4913"), "")
			os.Remove(filepath.Join(filepath.Dir(target), "4913"))
			if err := os.Rename(target, target+"~"); err != nil {
				t.Fatal(err)
			}
			write(t, target, "new")
			os.Remove(target + "~")
		}},
		{"truncate and write", func(t *testing.T, target string) {
			write(t, target, "new")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			target := filepath.Join(root, "content", "de", "policy.md")
			write(t, target, "old")
			w := start(t, root, Options{})
			tt.save(t, target)
			b := next(t, w, target)
			noLitter(t, b)
			if got, _ := os.ReadFile(target); string(got) != "new" {
				t.Fatalf("save did not happen: %q", got)
			}
		})
	}
}

// TestNewFolders: folders created after the start are watched, and files
// already inside a folder moved into the tree are reported.
func TestNewFolders(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "content"), 0o755)
	w := start(t, root, Options{})

	f := filepath.Join(root, "content", "fr", "deep", "page.md")
	write(t, f, "1")
	next(t, w, f)
	write(t, f, "2") // only seen if content/fr/deep is watched now
	next(t, w, f)

	outside := t.TempDir()
	write(t, filepath.Join(outside, "layouts", "page.html"), "x")
	moved := filepath.Join(root, "layouts")
	if err := os.Rename(filepath.Join(outside, "layouts"), moved); err != nil {
		t.Fatal(err)
	}
	next(t, w, filepath.Join(moved, "page.html"))
	write(t, filepath.Join(moved, "baseof.html"), "y")
	next(t, w, filepath.Join(moved, "baseof.html"))

	// A removed folder and one renamed within the tree.
	os.RemoveAll(filepath.Join(root, "content", "fr"))
	next(t, w, filepath.Join(root, "content", "fr"))
	os.Rename(moved, filepath.Join(root, "layouts2"))
	b := next(t, w, filepath.Join(root, "layouts2", "page.html"))
	if !slices.Contains(b.Paths, moved) {
		t.Logf("paths: %v", b.Paths)
	}
	write(t, filepath.Join(root, "layouts2", "page.html"), "z")
	next(t, w, filepath.Join(root, "layouts2", "page.html"))
}

func TestInclude(t *testing.T) {
	root := t.TempDir()
	w := start(t, root, Options{Include: func(rel string) bool {
		return rel == "config.toml" || rel == "content" || strings.HasPrefix(rel, "content/")
	}})
	write(t, filepath.Join(root, "public", "index.html"), "x")
	write(t, filepath.Join(root, "data", "decisions.jsonl"), "x")
	write(t, filepath.Join(root, "notes.txt"), "x")
	cfg := filepath.Join(root, "config.toml")
	write(t, cfg, "x")
	b := next(t, w, cfg)
	for _, p := range b.Paths {
		if p != cfg {
			t.Errorf("excluded path reported: %s", p)
		}
	}
	write(t, filepath.Join(root, "public", "sub", "x.html"), "x") // not watched
	c := filepath.Join(root, "content", "de", "a.md")
	write(t, c, "x")
	b = next(t, w, c)
	for _, p := range b.Paths {
		if strings.Contains(p, "public") {
			t.Errorf("excluded path reported: %s", p)
		}
	}
}

// TestBurstIsOneBatch: many quick writes arrive together (how many
// batches exactly depends on timing; all paths must arrive).
func TestBurstIsOneBatch(t *testing.T) {
	root := t.TempDir()
	w := start(t, root, Options{Debounce: 50 * time.Millisecond})
	var want []string
	for i := range 30 {
		p := filepath.Join(root, "content", "p"+string(rune('a'+i%26))+string(rune('0'+i/26))+".md")
		want = append(want, p)
		write(t, p, "x")
	}
	got := map[string]bool{}
	deadline := time.After(10 * time.Second)
	batches := 0
	for len(got) < len(want) {
		select {
		case b := <-w.Batches():
			batches++
			for _, p := range b.Paths {
				got[p] = true
			}
		case <-deadline:
			t.Fatalf("got %d of %d paths", len(got), len(want))
		}
	}
	t.Logf("%d writes in %d batches", len(want), batches)
}

func TestCloseEndsBatches(t *testing.T) {
	w, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, ok := <-w.Batches(); ok {
		t.Error("Batches not closed")
	}
	if _, err := New(filepath.Join(t.TempDir(), "missing"), Options{}); err == nil {
		t.Error("New on a missing folder succeeded")
	}
}

// TestBrokenThenFixed is the watch loop of "chatconsent serve": a save
// that breaks the front matter gives an error naming file:line, the fix
// gives a good build again.
func TestBrokenThenFixed(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "content"), os.DirFS("../../content")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile("../../config.toml")
	write(t, filepath.Join(root, "config.toml"), string(b))
	cfg, err := config.Load(filepath.Join(root, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	builder := generator.NewBuilder(cfg, generator.Options{ArchiveDir: filepath.Join(t.TempDir(), "archive")})
	if _, _, err := builder.Build(); err != nil {
		t.Fatal(err)
	}
	w := start(t, root, Options{})
	page := filepath.Join(root, "content", "en", "consent.md")
	good, _ := os.ReadFile(page)
	renameSave := func(s string) {
		tmp := filepath.Join(filepath.Dir(page), ".consent.md.swp")
		write(t, tmp, s)
		if err := os.Rename(tmp, page); err != nil {
			t.Fatal(err)
		}
		next(t, w, page)
	}
	renameSave(strings.Replace(string(good), `slug = "consent"`, `slug = "consent`, 1))
	if _, _, err := builder.Build(); err == nil || !strings.Contains(err.Error(), page+":4: bad front matter") {
		t.Errorf("broken front matter: %v, want an error at %s:4", err, page)
	}
	renameSave(strings.Replace(string(good), "For that, we need your consent.", "We need your consent.", 1))
	site, res, err := builder.Build()
	if err != nil {
		t.Fatalf("fixed file: %v", err)
	}
	if !strings.Contains(string(site.Files["en/consent/index.html"]), "We need your consent.") || res.Rendered != 1 || len(res.NewVersions) != 1 {
		t.Errorf("rebuild after the fix: rendered %d, new versions %v", res.Rendered, res.NewVersions)
	}
}

// TestOverflow: when the kernel's event queue overflowed (reported as
// fsnotify.ErrEventOverflow), the next batch says that events were lost,
// so that the whole site is rebuilt, and watching goes on.
func TestOverflow(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "content"), 0o755)
	w := start(t, root, Options{})
	w.fw.Errors <- fsnotify.ErrEventOverflow
	select {
	case b, ok := <-w.Batches():
		if !ok || !b.Overflow || b.Err != nil {
			t.Fatalf("batch after an overflow: %+v, %v; want Overflow and no error", b, ok)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no batch after an overflow")
	}
	f := filepath.Join(root, "content", "after.md")
	write(t, f, "x")
	if b := next(t, w, f); b.Overflow {
		t.Errorf("overflow reported again: %+v", b)
	}
}
