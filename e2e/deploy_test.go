package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/private"
)

// need returns the path of a tool the test needs, failing (never skipping)
// with the package to install.
func need(t *testing.T, tool, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s not found: apt-get install -y %s (.ci/run does)", tool, pkg)
	}
	return p
}

// TestSystemdUnit checks deploy/chatconsent.service with systemd's own
// tools: it parses, names an existing binary, carries the hardening the
// README promises, and systemd-analyze rates its exposure low.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	analyze := need(t, "systemd-analyze", "systemd")
	b, err := os.ReadFile(filepath.Join("..", "deploy", "chatconsent.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{
		"User=chatconsent", "ProtectSystem=strict", "ReadWritePaths=/var/lib/chatconsent\n",
		"NoNewPrivileges=yes", "PrivateTmp=yes", "Restart=on-failure", "CapabilityBoundingSet=\n",
		"ExecStart=/usr/local/bin/chatconsent collect ",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q", strings.TrimSpace(want))
		}
	}
	if n := strings.Count(unit, "ReadWritePaths="); n != 1 {
		t.Errorf("unit has %d ReadWritePaths lines; only the data directory may be writable", n)
	}
	// systemd-analyze verify checks that ExecStart exists: point it at
	// the binary under test.
	path := filepath.Join(t.TempDir(), "chatconsent.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/chatconsent", binary)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err := exec.Command(analyze, "security", "--offline=true", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	level, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("systemd-analyze security: exposure %.1f (0 = fully locked down, 10 = unprotected)", level)
	if level > 2.0 {
		t.Errorf("exposure %.1f, want at most 2.0:\n%s", level, out)
	}
}

// freePorts returns n distinct ports that were free a moment ago on both
// 127.0.0.1 and [::1] (Caddy binds both). All listeners stay open until
// every port is chosen, so the kernel cannot hand out one port twice:
// Caddy refuses an https port equal to its http_port.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var open []net.Listener
	defer func() {
		for _, ln := range open {
			ln.Close()
		}
	}()
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100 {
			t.Fatalf("no %d free loopback ports on 127.0.0.1 and [::1]", n)
		}
		ln4, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, ln4)
		port := ln4.Addr().(*net.TCPAddr).Port
		ln6, err := net.Listen("tcp", fmt.Sprintf("[::1]:%d", port))
		if err != nil {
			continue // taken on ::1: keep ln4 open so it is not offered again
		}
		open = append(open, ln6)
		ports = append(ports, port)
	}
	return ports
}

// caddyEnv keeps Caddy's state (its local CA, certificates) in dir.
func caddyEnv(dir string) []string {
	return append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
}

// TestCaddyfileValid has Caddy itself parse and provision deploy/Caddyfile
// as shipped.
func TestCaddyfileValid(t *testing.T) {
	t.Parallel()
	caddy := need(t, "caddy", "caddy")
	cmd := exec.Command(caddy, "validate", "--adapter", "caddyfile", "--config", filepath.Join("..", "deploy", "Caddyfile"))
	cmd.Env = caddyEnv(t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Valid configuration") {
		t.Errorf("caddy validate deploy/Caddyfile: %v\n%s", err, out)
	}
}

// caddyfileFor turns deploy/Caddyfile into one for the test: the site on
// https://[::1]:port with Caddy's internal CA, the built site in public,
// the collector at upstream, nothing on other interfaces, no admin API.
func caddyfileFor(t *testing.T, port, httpPort int, public, upstream string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "deploy", "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for old, new := range map[string]string{
		"consent.example.org {": fmt.Sprintf("https://[::1]:%d, https://127.0.0.1:%d {", port, port),
		"/var/www/chatconsent":  public,
		"127.0.0.1:8080":        upstream,
	} {
		if !strings.Contains(text, old) {
			t.Fatalf("deploy/Caddyfile lacks %q", old)
		}
		text = strings.ReplaceAll(text, old, new)
	}
	global := fmt.Sprintf(`{
	admin off
	local_certs
	skip_install_trust
	ocsp_stapling off
	auto_https disable_redirects
	http_port %d
	https_port %d
	default_bind 127.0.0.1 [::1]
}
`, httpPort, port)
	return global + text
}

// TestCaddy runs the deployment of deploy/ on loopback: the real Caddy
// with its internal CA serves the built site and proxies a real collector,
// and a person grants consent through it over HTTPS in Chromium.
func TestCaddy(t *testing.T) {
	t.Parallel()
	caddyGrant(t, "")
}

// caddyGrant builds the repo's site for https://[::1]:PORT/, starts the
// collector (with collectorKeys added to [collector] in config.toml) and
// Caddy with deploy/Caddyfile in front of both, checks the TLS chain and
// headers, and runs the grant flow in Chromium through Caddy. It returns
// the collector's data directory.
func caddyGrant(t *testing.T, collectorKeys string) string {
	t.Helper()
	caddy := need(t, "caddy", "caddy")
	dir := site(t)
	ports := freePorts(t, 2)
	port, httpPort := ports[0], ports[1]
	base := fmt.Sprintf("https://[::1]:%d/", port)
	cfg := filepath.Join(dir, "config.toml")
	rewriteFile(t, cfg, map[string]string{
		`base_url = "http://127.0.0.1:8080/"`:   `base_url = "` + base + `"`,
		`public_url = "http://127.0.0.1:8080/"`: `public_url = "` + base + `"` + "\n" + collectorKeys,
	})
	public := filepath.Join(dir, "public")
	run(t, "build", "--config", cfg, "--out", public)
	data := filepath.Join(dir, "data")
	coll := start(t, "collect", "--config", cfg, "--addr", "127.0.0.1:0", "--data", data)

	cdir := t.TempDir()
	caddyfile := filepath.Join(cdir, "Caddyfile")
	if err := os.WriteFile(caddyfile, []byte(caddyfileFor(t, port, httpPort, public, strings.TrimSuffix(strings.TrimPrefix(coll.URL, "http://"), "/"))), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, caddy, "run", "--adapter", "caddyfile", "--config", caddyfile)
	cmd.Env = caddyEnv(cdir)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	var clog lockedWriter
	var logBuf strings.Builder
	clog.w = &logBuf
	cmd.Stdout, cmd.Stderr = &clog, &clog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			clog.mu.Lock()
			t.Logf("caddy log:\n%s", logBuf.String())
			clog.mu.Unlock()
		}
	})

	// Caddy's local CA signed the site's certificate: a client that trusts
	// the CA's root (and nothing else) gets through.
	client := caddyClient(t, cdir, base+"healthz", exited)
	resp, err := client.Get(base + "de/einwilligung/")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" || resp.Header.Get("Server") != "" {
		t.Errorf("static page through Caddy: %d, HSTS %q, Server %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"), resp.Header.Get("Server"))
	}

	// The person's grant, through Caddy, in the browser (which does not know
	// Caddy's CA: certificate errors are ignored, the TLS is checked above).
	b := newBrowserIgnoringCertErrors(t)
	tb := b.newTab(t, phone, false)
	flowGrant(t, b, tb, base, variant{phone, false, "de"})
	for _, u := range tb.net.requests() {
		if !strings.HasPrefix(u, base) {
			t.Errorf("request not to the HTTPS site: %s", u)
		}
	}
	b.assertLoopbackOnly(t, tb)
	if !strings.Contains(coll.log(), "decision recorded") {
		t.Errorf("the collector recorded no decision:\n%s", coll.log())
	}
	return data
}

// caddyClient waits until Caddy answers url over TLS signed by its local
// CA and returns a client that trusts that CA alone. It stops waiting as
// soon as exited is closed (Caddy ended, e.g. refusing its config).
func caddyClient(t *testing.T, cdir, url string, exited <-chan struct{}) *http.Client {
	t.Helper()
	root := filepath.Join(cdir, "data", "caddy", "pki", "authorities", "local", "root.crt")
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("Caddy exited before serving %s (its log follows)", url)
		default:
		}
		pem, err := os.ReadFile(root)
		if err != nil {
			last = err
			time.Sleep(200 * time.Millisecond)
			continue
		}
		// Caddy may be writing the file right now: an empty or partial
		// PEM is "not yet", not a failure.
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			last = fmt.Errorf("no certificate in %s yet (%d bytes)", root, len(pem))
			time.Sleep(200 * time.Millisecond)
			continue
		}
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		resp, err := c.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.TrimSpace(string(body)) == "ok" {
				return c
			}
			err = fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("Caddy did not serve %s with its local CA: %v", url, last)
	return nil
}

// rewriteFile replaces each key of repl (which must occur) by its value.
func rewriteFile(t *testing.T, path string, repl map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for old, new := range repl {
		if !strings.Contains(s, old) {
			t.Fatalf("%s lacks %q", path, old)
		}
		s = strings.Replace(s, old, new, 1)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCaddyForwardedClientAddress: behind Caddy, with trusted_proxies
// naming Caddy and store_ip = "full", the record holds the browser's
// address as Caddy forwarded it (::1), not Caddy's own (127.0.0.1).
func TestCaddyForwardedClientAddress(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		trusted string
		want    string
	}{
		{`trusted_proxies = ["127.0.0.1"]`, "::1"},
		{``, "127.0.0.1"}, // no trusted proxy: the TCP peer
	} {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			caddyForwarded(t, tt.trusted, tt.want)
		})
	}
}

// caddyForwarded is one case of TestCaddyForwardedClientAddress.
func caddyForwarded(t *testing.T, trusted, want string) {
	data := caddyGrant(t, "store_ip = \"full\"\n"+trusted+"\n")
	log, err := os.ReadFile(filepath.Join(data, "decisions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	// Log format 2 keeps the address as a commitment: open it with the
	// private store, as the owner's commands do.
	pub, err := ledger.ReadPublicKey(filepath.Join(data, "signing.pub"))
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(log), "\n")
	rec, err := ledger.ParseLine([]byte(line), pub)
	if err != nil {
		t.Fatal(err)
	}
	vault, err := private.Open(filepath.Join(data, "private"), private.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := vault.Disclosures(rec.ID)
	vault.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.Disclose(rec, ds); err != nil {
		t.Fatal(err)
	}
	if rec.ClientIP != want {
		t.Errorf("with %q the record's client address is %q, want %q:\n%s", trusted, rec.ClientIP, want, log)
	}
	if strings.Contains(string(log), `"client_ip"`) {
		t.Errorf("the log holds the client address in clear:\n%s", log)
	}
}
