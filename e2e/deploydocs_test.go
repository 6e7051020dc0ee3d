package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// readmeBlock returns the ```sh block of the README whose text contains
// marker.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, blk := range strings.Split(string(b), "```sh\n")[1:] {
		blk, _, _ = strings.Cut(blk, "```")
		if strings.Contains(blk, marker) {
			return blk
		}
	}
	t.Fatalf("README has no sh block with %q", marker)
	return ""
}

// TestDeployGuideCopies runs the README's own rsync commands (issue 11
// item 18) with root@server: standing for a local folder: the site copy
// leaves the site's local data/ behind, and the nightly backup keeps a
// dated copy per night, so a log cut short on the server does not cut the
// older copies, which Restore uses as witnesses.
func TestDeployGuideCopies(t *testing.T) {
	t.Parallel()
	need(t, "rsync", "rsync")
	dir := t.TempDir()
	server := filepath.Join(dir, "server")
	os.MkdirAll(filepath.Join(server, "srv"), 0o755) // as on Debian
	write := func(p, s string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A fake date, for one backup per "night".
	bin := filepath.Join(dir, "bin")
	write(filepath.Join(bin, "date"), "#!/bin/sh\necho \"$FAKE_DAY\"\n")
	os.Chmod(filepath.Join(bin, "date"), 0o755)
	run := func(block, day string) {
		t.Helper()
		block = strings.ReplaceAll(block, "root@server:", server)
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", block)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "FAKE_DAY="+day, "PWD="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s\n%s", err, block, out)
		}
	}

	// Step 5: the site, without data/ and public/.
	site := filepath.Join(dir, "mysite")
	for _, f := range []string{"config.toml", "content/de/consent.md", "archive/manifest.json", "data/signing.key", "data/invite.key", "data/decisions.jsonl", "public/index.html"} {
		write(filepath.Join(site, f), f)
	}
	run(readmeBlock(t, "mysite/ root@server:/srv/chatconsent/"), "")
	srv := filepath.Join(server, "srv", "chatconsent")
	for _, f := range []string{"config.toml", "content/de/consent.md", "archive/manifest.json"} {
		if _, err := os.Stat(filepath.Join(srv, f)); err != nil {
			t.Errorf("site copy lacks %s: %v", f, err)
		}
	}
	for _, f := range []string{"data", "public"} {
		if _, err := os.Stat(filepath.Join(srv, f)); !os.IsNotExist(err) {
			t.Errorf("site copy has the local %s/: %v", f, err)
		}
	}

	// Backup, two nights; between them the server's log is cut short.
	data := filepath.Join(server, "var", "lib", "chatconsent")
	write(filepath.Join(data, "signing.key"), "key")
	write(filepath.Join(data, "decisions.jsonl"), "line 1\nline 2\n")
	write(filepath.Join(srv, "archive", "v1.html"), "text")
	backup := readmeBlock(t, "backup/chatconsent-data")
	if strings.Contains(backup, "--delete") {
		t.Error("the backup still copies with --delete")
	}
	run(backup, "2026-11-30")
	write(filepath.Join(data, "decisions.jsonl"), "line 1\n")
	run(backup, "2026-12-01")
	bd := filepath.Join(dir, "backup", "chatconsent-data")
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	if got := read(filepath.Join(bd, "2026-11-30", "decisions.jsonl")); got != "line 1\nline 2\n" {
		t.Errorf("the older night's copy was overwritten: %q", got)
	}
	if got := read(filepath.Join(bd, "latest", "decisions.jsonl")); got != "line 1\n" {
		t.Errorf("latest: %q", got)
	}
	var a, b syscall.Stat_t
	syscall.Stat(filepath.Join(bd, "2026-11-30", "signing.key"), &a)
	syscall.Stat(filepath.Join(bd, "2026-12-01", "signing.key"), &b)
	if a.Ino == 0 || a.Ino != b.Ino {
		t.Errorf("an unchanged file is copied again, not hard-linked (inodes %d, %d)", a.Ino, b.Ino)
	}
	if read(filepath.Join(dir, "backup", "chatconsent-archive", "v1.html")) != "text" {
		t.Error("archive not backed up")
	}
	// Restore takes the newest night; the witnesses are every night's log.
	restore := readmeBlock(t, "systemctl stop chatconsent")
	if !strings.Contains(restore, "rsync -a backup/chatconsent-data/latest/ /var/lib/chatconsent/") {
		t.Errorf("Restore does not copy the newest night:\n%s", restore)
	}
	if w := readmeBlock(t, "~/receipt-mails/*.pdf"); !strings.Contains(w, "backup/chatconsent-data/*/decisions.jsonl") {
		t.Errorf("witnesses are not the dated copies:\n%s", w)
	}
}
