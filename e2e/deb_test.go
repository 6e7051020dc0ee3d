package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDebianPackage builds the release's .deb with scripts/release.sh (for
// linux/amd64), installs it with dpkg -i, checks what it installed (binary,
// unit, the chatconsent system user, /var/lib/chatconsent 0700), starts the
// unit's ExecStart command as the chatconsent user against a test site,
// runs chatconsent version and doctor against it, and purges the package
// again. It needs root (CI runs as root); as root, anything missing is a
// failure, never a skip.
//
// It runs in parallel with the browser tests (nothing else here touches
// dpkg, the chatconsent user or /var/lib/chatconsent): built in series it
// held them all back while release.sh compiled the static binary and nfpm.
func TestDebianPackage(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root: installs a Debian package (CI runs as root)")
	}
	dpkg := need(t, "dpkg", "dpkg")
	if out, err := exec.Command(dpkg, "-s", "chatconsent").CombinedOutput(); err == nil {
		t.Fatalf("the chatconsent package is installed on this machine already; this test would replace it:\n%s", out)
	}
	out := t.TempDir()
	rel := exec.Command("sh", filepath.Join("..", "scripts", "release.sh"))
	rel.Env = append(os.Environ(), "VERSION=v0.0.1-test", "OUT="+out, "TARGETS=linux/amd64")
	if b, err := rel.CombinedOutput(); err != nil {
		t.Fatalf("scripts/release.sh: %v\n%s", err, b)
	}
	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil || !strings.Contains(string(sums), "  chatconsent_0.0.1-test_amd64.deb\n") || !strings.Contains(string(sums), "  chatconsent_0.0.1-test_linux_amd64\n") {
		t.Fatalf("SHA256SUMS: %v\n%s", err, sums)
	}
	check := exec.Command("sha256sum", "-c", "SHA256SUMS")
	check.Dir = out
	if b, err := check.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, b)
	}
	deb := filepath.Join(out, "chatconsent_0.0.1-test_amd64.deb")
	dataBefore := exists("/var/lib/chatconsent")
	_, userErr := user.Lookup("chatconsent")
	userBefore := userErr == nil
	if b, err := exec.Command(dpkg, "-i", deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg -i: %v\n%s", err, b)
	}
	purged := false
	purge := func() {
		if purged {
			return
		}
		purged = true
		if b, err := exec.Command(dpkg, "--purge", "chatconsent").CombinedOutput(); err != nil {
			t.Errorf("dpkg --purge: %v\n%s", err, b)
		}
	}
	t.Cleanup(func() {
		purge()
		if !dataBefore {
			os.RemoveAll("/var/lib/chatconsent")
		}
		if !userBefore {
			exec.Command("userdel", "chatconsent").Run()
		}
	})

	// What the package installed.
	u, err := user.Lookup("chatconsent")
	if err != nil {
		t.Fatalf("no chatconsent user after install: %v", err)
	}
	if u.HomeDir != "/var/lib/chatconsent" {
		t.Errorf("chatconsent's home is %s", u.HomeDir)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	st, err := os.Stat("/var/lib/chatconsent")
	if err != nil {
		t.Fatal(err)
	}
	if sys := st.Sys().(*syscall.Stat_t); st.Mode().Perm() != 0o700 || int(sys.Uid) != uid || int(sys.Gid) != gid {
		t.Errorf("/var/lib/chatconsent: mode %v, owner %d:%d, want 0700 chatconsent", st.Mode().Perm(), sys.Uid, sys.Gid)
	}
	unit, err := os.ReadFile("/usr/lib/systemd/system/chatconsent.service")
	if err != nil {
		t.Fatalf("no unit installed: %v", err)
	}
	m := regexp.MustCompile(`(?m)^ExecStart=(.*)$`).FindSubmatch(unit)
	if m == nil || !strings.HasPrefix(string(m[1]), "/usr/bin/chatconsent collect ") {
		t.Fatalf("unit's ExecStart: %q", m)
	}
	for _, want := range []string{"User=chatconsent", "ProtectSystem=strict", "NoNewPrivileges=yes", "ReadWritePaths=/var/lib/chatconsent"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("installed unit lacks %s", want)
		}
	}
	if v, err := exec.Command("/usr/bin/chatconsent", "version").CombinedOutput(); err != nil || !strings.HasPrefix(string(v), "chatconsent v0.0.1-test\n") {
		t.Errorf("chatconsent version: %v\n%s", err, v)
	}

	// The unit's command, as the chatconsent user, against a test site:
	// its config path replaced, its data in a fresh folder inside the
	// package's data directory (never a real deployment's files).
	siteDir, err := os.MkdirTemp("", "chatconsent-deb-site-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(siteDir) })
	os.Chmod(siteDir, 0o755)
	for _, p := range []string{"content", "archive"} {
		if err := os.CopyFS(filepath.Join(siteDir, p), os.DirFS(filepath.Join("..", p))); err != nil {
			t.Fatal(err)
		}
	}
	port := freePorts(t, 1)[0]
	cfgText, err := os.ReadFile(filepath.Join("..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	c := regexp.MustCompile(`(?m)^listen = .*$`).ReplaceAllString(string(cfgText), fmt.Sprintf("listen = %q", fmt.Sprintf("127.0.0.1:%d", port)))
	c = regexp.MustCompile(`(?m)^(base_url|public_url) = .*$`).ReplaceAllString(c, `$1 = "https://consent.example.org/"`)
	cfg := filepath.Join(siteDir, "config.toml")
	if err := os.WriteFile(cfg, []byte(c), 0o644); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(siteDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		} else if err == nil {
			os.Chmod(p, 0o644)
		}
		return nil
	})
	data, err := os.MkdirTemp("/var/lib/chatconsent", "e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	os.Chown(data, uid, gid)
	os.Chmod(data, 0o700)
	args := strings.Fields(string(m[1]))
	for i := range args {
		switch args[i] {
		case "/srv/chatconsent/config.toml":
			args[i] = cfg
		case "/var/lib/chatconsent":
			args[i] = data
		}
	}
	asCollector := func(name string, arg ...string) *exec.Cmd {
		cmd := exec.Command(name, arg...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + data, "XDG_CACHE_HOME=" + filepath.Join(data, "cache")}
		cmd.Dir = data
		return cmd
	}
	coll := asCollector(args[0], args[1:]...)
	stdout, err := coll.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	coll.Stderr = &stderr
	if err := coll.Start(); err != nil {
		t.Fatalf("start %v: %v", args, err)
	}
	t.Cleanup(func() { coll.Process.Kill(); coll.Wait() })
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "listening on ") {
				listening <- true
			}
		}
		close(listening)
	}()
	select {
	case ok := <-listening:
		if !ok {
			coll.Wait()
			t.Fatalf("the unit's command exited:\n%s", stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the unit's command did not start:\n%s", stderr.String())
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(fmt.Sprintf("http://%s/healthz", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := os.Stat(filepath.Join(data, "signing.key")); err != nil {
		t.Errorf("the collector made no key in its data folder: %v", err)
	}
	doc, err := asCollector("/usr/bin/chatconsent", "doctor", "--config", cfg, "--data", data).CombinedOutput()
	if err != nil || !strings.Contains(string(doc), "doctor: nothing to fix") {
		t.Errorf("chatconsent doctor as the collector's user: %v\n%s", err, doc)
	}
	v, err := asCollector("/usr/bin/chatconsent", "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(v), "chatconsent v0.0.1-test\n") {
		t.Errorf("chatconsent version as the collector's user: %v\n%s", err, v)
	}
	coll.Process.Signal(syscall.SIGTERM)
	coll.Wait()

	purge()
	for _, p := range []string{"/usr/bin/chatconsent", "/usr/lib/systemd/system/chatconsent.service"} {
		if exists(p) {
			t.Errorf("%s left after dpkg --purge", p)
		}
	}
	if !exists("/var/lib/chatconsent") {
		t.Error("dpkg --purge removed /var/lib/chatconsent: the proof of consent must be kept")
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
