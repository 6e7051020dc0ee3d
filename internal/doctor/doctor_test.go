package doctor

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatconsent/chatconsent/collector/invite"
	"github.com/chatconsent/chatconsent/collector/ledger"
	"github.com/chatconsent/chatconsent/collector/translog"
	"github.com/chatconsent/chatconsent/internal/config"
)

const goodConfig = `
[site]
title = "Fahrradladen"
base_url = "https://rad.example/"
languages = ["de", "en"]
[controller]
name = "Fahrradladen GmbH"
address = "Musterstraße 1, 10115 Berlin"
email = "datenschutz@rad.example"
[collector]
public_url = "https://rad.example/"
data_dir = "data"
[[purposes]]
id = "orders"
title = { de = "Bestellungen", en = "Orders" }
description = { de = "Rückfragen", en = "Questions" }
`

// deployment writes a config and a data directory with a key pair and
// returns the config path and the data directory.
func deployment(t *testing.T, cfgText string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if _, err := translog.GenerateKey(filepath.Join(data, config.CheckpointKeyFile), filepath.Join(data, config.CheckpointVerifierKeyFile), "c.example.org/log"); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.GenerateKey(filepath.Join(data, config.SigningKeyFile), filepath.Join(data, config.SigningPublicKeyFile)); err != nil {
		t.Fatal(err)
	}
	return cfg, data
}

func find(t *testing.T, rs []Result, check string) Result {
	t.Helper()
	for _, r := range rs {
		if r.Check == check {
			return r
		}
	}
	t.Fatalf("no result for %q in %+v", check, rs)
	return Result{}
}

func opts(cfg string) Options {
	return Options{ConfigPath: cfg, TimeSyncFile: "-", Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }}
}

func TestHealthyDeployment(t *testing.T) {
	cfg, _ := deployment(t, goodConfig)
	rs := Run(context.Background(), opts(cfg))
	for _, r := range rs {
		if r.Check == "receipt mail" {
			continue // warns without [smtp] (issue 11 item 22): TestMailAndInviteKey
		}
		if r.Status != OK {
			t.Errorf("%s: %s: %s (fix: %s)", r.Check, r.Status, r.Detail, r.Fix)
		}
	}
	if Failed(rs) {
		t.Error("Failed() on a healthy deployment")
	}
	if r := find(t, rs, "checkpoint key"); !strings.Contains(r.Detail, "verifier key c.example.org/log+") {
		t.Errorf("checkpoint key: %s", r.Detail)
	}
	for _, c := range []string{"config", "data directory", "signing key", "checkpoint key", "decisions log", "receipt template", "SMTP", "clock", "site.base_url", "collector.public_url", "origins"} {
		find(t, rs, c)
	}
}

// TestMailAndInviteKey (issue 11 items 22 and 24): no [smtp] is a
// warning that says the form asks for no e-mail; the invite key's
// fingerprint is printed, an unreadable invite.pub fails.
func TestMailAndInviteKey(t *testing.T) {
	t.Parallel()
	cfg, data := deployment(t, goodConfig)
	rs := Run(context.Background(), opts(cfg))
	if r := find(t, rs, "receipt mail"); r.Status != Warn || !strings.Contains(r.Detail, "no [smtp]") || !strings.Contains(r.Detail, "no e-mail address") || !strings.Contains(r.Fix, "[smtp]") {
		t.Errorf("receipt mail: %+v", r)
	}
	if r := find(t, rs, "invite key"); r.Status != OK || !strings.Contains(r.Detail, "personal invite links are off") {
		t.Errorf("invite key without one: %+v", r)
	}
	priv, err := invite.GenerateKey(filepath.Join(data, config.InviteKeyFile), filepath.Join(data, config.InvitePublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	want := invite.Fingerprint(priv.Public().(ed25519.PublicKey))
	if r := find(t, Run(context.Background(), opts(cfg)), "invite key"); r.Status != OK || !strings.Contains(r.Detail, want) || !strings.HasPrefix(want, "SHA256:") {
		t.Errorf("invite key: %+v, want %s", r, want)
	}
	os.WriteFile(filepath.Join(data, config.InvitePublicKeyFile), []byte("not a key"), 0o644)
	if r := find(t, Run(context.Background(), opts(cfg)), "invite key"); r.Status != Fail || !strings.Contains(r.Fix, "copy invite.pub") {
		t.Errorf("broken invite.pub: %+v", r)
	}
	// With [smtp], no warning.
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, "\n[smtp]\nhost = \"localhost\"\nport = 25\nsecurity = \"none\"\nfrom = \"laden@example.org\"\n"...), 0o644)
	o := opts(cfg)
	o.SMTPAddr = closedPort(t)
	if r := find(t, Run(context.Background(), o), "receipt mail"); r.Status != OK {
		t.Errorf("receipt mail with [smtp]: %+v", r)
	}
}

func TestBadConfig(t *testing.T) {
	cfg, _ := deployment(t, strings.Replace(goodConfig, "title = \"Fahrradladen\"", "titel = \"Fahrradladen\"", 1))
	rs := Run(context.Background(), opts(cfg))
	r := find(t, rs, "config")
	if r.Status != Fail || !strings.Contains(r.Detail, "unknown key site.titel") || !strings.Contains(r.Fix, "correct the named key") || !Failed(rs) {
		t.Errorf("got %+v", rs)
	}
	// No config at all: the fix says where to get one, not which key.
	rs = Run(context.Background(), opts(filepath.Join(t.TempDir(), "nosuch.toml")))
	r = find(t, rs, "config")
	if r.Status != Fail || !strings.Contains(r.Fix, "give the site's config.toml with --config FILE") {
		t.Errorf("missing config: got %+v", rs)
	}
}

// TestFailingChecks breaks one thing at a time and expects exactly that
// check to fail, with a fix that names what to do.
func TestFailingChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, check, detail, fix string
		breakIt                  func(t *testing.T, cfg, data string) Options
		also                     []string // checks that fail as a consequence
	}{
		{"data dir missing", "data directory", "does not exist", "install -d", func(t *testing.T, cfg, data string) Options {
			o := opts(cfg)
			o.DataDir = filepath.Join(filepath.Dir(data), "nowhere")
			return o
		}, nil},
		{"data dir is a file", "data directory", "not a directory", "data_dir", func(t *testing.T, cfg, data string) Options {
			f := filepath.Join(filepath.Dir(data), "file")
			os.WriteFile(f, nil, 0o600)
			o := opts(cfg)
			o.DataDir = f
			return o
		}, nil},
		{"disk full", "data directory", "free", "free space", func(t *testing.T, cfg, data string) Options {
			o := opts(cfg)
			o.MinFreeBytes = 1 << 62
			return o
		}, nil},
		{"key missing", "signing key", "missing", "restore it from your backup", func(t *testing.T, cfg, data string) Options {
			os.Remove(filepath.Join(data, config.SigningKeyFile))
			return opts(cfg)
		}, nil},
		{"key readable by others", "signing key", "mode 0644", "chmod 600", func(t *testing.T, cfg, data string) Options {
			os.Chmod(filepath.Join(data, config.SigningKeyFile), 0o644)
			return opts(cfg)
		}, []string{"decisions log"}},
		{"public key of another pair", "signing key", "does not belong", "matching pair", func(t *testing.T, cfg, data string) Options {
			other := t.TempDir()
			ledger.GenerateKey(filepath.Join(other, config.SigningKeyFile), filepath.Join(other, config.SigningPublicKeyFile))
			b, _ := os.ReadFile(filepath.Join(other, config.SigningPublicKeyFile))
			os.WriteFile(filepath.Join(data, config.SigningPublicKeyFile), b, 0o644)
			return opts(cfg)
		}, nil},
		{"log tampered", "decisions log", "signature", "restore the log", func(t *testing.T, cfg, data string) Options {
			p := writeLog(t, data, time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC))
			b, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(b), "Erika", "Erica", 1)), 0o600)
			return opts(cfg)
		}, nil},
		{"clock before the newest record", "decisions log", "before the newest record", "set the system clock", func(t *testing.T, cfg, data string) Options {
			writeLog(t, data, time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC))
			return opts(cfg)
		}, nil},
		{"clock in the past", "clock", "in the past", "timedatectl", func(t *testing.T, cfg, data string) Options {
			o := opts(cfg)
			o.Now = func() time.Time { return time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC) }
			return o
		}, nil},
		{"template not a PDF", "receipt template", "letterhead.pdf", "one-page PDF", func(t *testing.T, cfg, data string) Options {
			tpl := filepath.Join(filepath.Dir(cfg), "letterhead.pdf")
			os.WriteFile(tpl, []byte("not a pdf"), 0o644)
			rewrite(t, cfg, "[collector]", "[receipt]\ntemplate = \"letterhead.pdf\"\n[collector]")
			return opts(cfg)
		}, nil},
		{"template missing", "receipt template", "no such file", "receipt.template", func(t *testing.T, cfg, data string) Options {
			rewrite(t, cfg, "[collector]", "[receipt]\ntemplate = \"gone.pdf\"\n[collector]")
			return opts(cfg)
		}, nil},
		{"SMTP port closed", "SMTP", "cannot reach", "host and port", func(t *testing.T, cfg, data string) Options {
			o := opts(cfg)
			o.SMTPAddr = closedPort(t)
			return o
		}, nil},
		{"SMTP port is no mail server", "SMTP", "does not greet", "not an SMTP server", func(t *testing.T, cfg, data string) Options {
			o := opts(cfg)
			o.SMTPAddr = fakeServer(t, "HTTP/1.1 400 Bad Request\r\n")
			return o
		}, nil},
		{"site over plain HTTP", "site.base_url", "not HTTPS", "https://", func(t *testing.T, cfg, data string) Options {
			rewrite(t, cfg, `base_url = "https://rad.example/"`, `base_url = "http://rad.example/"`)
			rewrite(t, cfg, `public_url = "https://rad.example/"`, `public_url = "http://rad.example/"`)
			return opts(cfg)
		}, []string{"collector.public_url"}},
		{"collector on another origin", "origins", "does not list the site", "collector.allowed_origins", func(t *testing.T, cfg, data string) Options {
			rewrite(t, cfg, `public_url = "https://rad.example/"`, `public_url = "https://collect.rad.example/"`+"\nallowed_origins = [\"https://shop.rad.example\"]")
			return opts(cfg)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, data := deployment(t, goodConfig)
			o := tt.breakIt(t, cfg, data)
			rs := Run(context.Background(), o)
			r := find(t, rs, tt.check)
			if r.Status != Fail {
				t.Fatalf("%s: status %s, want FAIL: %s", tt.check, r.Status, r.Detail)
			}
			if !strings.Contains(r.Detail, tt.detail) || !strings.Contains(r.Fix, tt.fix) {
				t.Errorf("%s:\n detail %q, want it to contain %q\n fix %q, want it to contain %q", tt.check, r.Detail, tt.detail, r.Fix, tt.fix)
			}
			if !Failed(rs) {
				t.Error("Failed() = false")
			}
			for _, other := range rs {
				if other.Check != tt.check && other.Status == Fail && !slices.Contains(tt.also, other.Check) {
					t.Errorf("another check failed too: %+v", other)
				}
			}
		})
	}
}

// TestDataDirNotWritable needs a directory its user cannot write: as root
// (CI) permissions do not stop writes, so /proc/self is used there.
func TestDataDirNotWritable(t *testing.T) {
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		if runtime.GOOS != "linux" {
			t.Fatalf("no unwritable directory known for root on %s", runtime.GOOS)
		}
		dir = "/proc/self"
	} else {
		os.Chmod(dir, 0o500)
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
	}
	r := CheckDataDir(dir, 1)
	if r.Status != Fail || !strings.Contains(r.Detail, "cannot write") || !strings.Contains(r.Fix, "ReadWritePaths") {
		t.Errorf("got %+v", r)
	}
}

func TestSMTPGreets(t *testing.T) {
	addr := fakeServer(t, "220 mail.rad.example ESMTP ready\r\n")
	r := CheckSMTP(context.Background(), addr, false, 5*time.Second)
	if r.Status != OK || !strings.Contains(r.Detail, "220 mail.rad.example ESMTP ready") {
		t.Errorf("got %+v", r)
	}
	if r := CheckSMTP(context.Background(), "", false, time.Second); r.Status != OK || !strings.Contains(r.Detail, "not configured") {
		t.Errorf("unconfigured: %+v", r)
	}
}

// TestSMTPFromConfig: with [smtp] in the config, doctor dials its host and
// port; implicit TLS checks the server's certificate.
func TestSMTPFromConfig(t *testing.T) {
	addr := fakeServer(t, "220 mail.rad.example ESMTP ready\r\n")
	host, port, _ := net.SplitHostPort(addr)
	smtp := fmt.Sprintf("[smtp]\nhost = %q\nport = %s\nsecurity = \"none\"\nfrom = \"noreply@rad.example\"\n", host, port)
	cfg, _ := deployment(t, goodConfig+smtp)
	if r := find(t, Run(context.Background(), opts(cfg)), "SMTP"); r.Status != OK || !strings.Contains(r.Detail, addr+" answers: 220") {
		t.Errorf("plain: %+v", r)
	}
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler()) // a certificate no client trusts
	t.Cleanup(tlsSrv.Close)
	r := CheckSMTP(context.Background(), tlsSrv.Listener.Addr().String(), true, 5*time.Second)
	if r.Status != Fail || !strings.Contains(r.Detail, "certificate") {
		t.Errorf("implicit TLS with an untrusted certificate: %+v", r)
	}
}

func TestClockSync(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	synced := filepath.Join(t.TempDir(), "synchronized")
	os.WriteFile(synced, nil, 0o644)
	if r := CheckClock(now, synced); r.Status != OK || !strings.Contains(r.Detail, "synchronised by NTP") {
		t.Errorf("synced: %+v", r)
	}
	if r := CheckClock(now, synced+".missing"); r.Status != Warn || !strings.Contains(r.Fix, "timedatectl set-ntp true") {
		t.Errorf("not synced: %+v", r)
	}
}

func TestURLs(t *testing.T) {
	tests := []struct {
		base, public string
		allowed      []string
		want         map[string]Status
	}{
		{"https://rad.example/", "https://rad.example/", nil, map[string]Status{"site.base_url": OK, "collector.public_url": OK, "origins": OK}},
		{"https://rad.example/", "https://c.rad.example/", []string{"https://rad.example"}, map[string]Status{"origins": OK}},
		{"https://rad.example/", "https://c.rad.example/", []string{"https://other.example"}, map[string]Status{"origins": Fail}},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/", nil, map[string]Status{"site.base_url": Warn, "collector.public_url": Warn, "origins": OK}},
		{"https://rad.example/", "http://c.rad.example/", nil, map[string]Status{"collector.public_url": Fail, "origins": Fail}},
		{"https://rad.example:8443/", "https://rad.example/", nil, map[string]Status{"origins": Fail}},
	}
	for _, tt := range tests {
		text := strings.Replace(strings.Replace(goodConfig, "https://rad.example/", tt.base, 1), `public_url = "https://rad.example/"`, `public_url = "`+tt.public+`"`, 1)
		cfg, err := config.Parse("config.toml", t.TempDir(), []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		rs := CheckURLs(cfg, tt.allowed)
		for check, want := range tt.want {
			if got := find(t, rs, check); got.Status != want {
				t.Errorf("%s → %s, allowed %v: %s = %s (%s), want %s", tt.base, tt.public, tt.allowed, check, got.Status, got.Detail, want)
			}
		}
	}
}

func rewrite(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s lacks %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeLog appends one decision dated at to the log in data.
func writeLog(t *testing.T, data string, at time.Time) string {
	t.Helper()
	priv, err := ledger.ReadPrivateKey(filepath.Join(data, config.SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(data, config.LogFile)
	l, _, err := ledger.Open(p, priv, ledger.Options{Version: ledger.FormatV1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Append(context.Background(), ledger.Record{
		Type: ledger.TypeDecision, ID: strings.Repeat("1", 32), Time: at, Decision: ledger.Granted,
		Purposes: []string{"orders"}, Subject: &ledger.Subject{Name: "Erika Mustermann", Phone: "+491701234567"},
		Lang: "de", TextVersion: strings.Repeat("ab", 32),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// fakeServer accepts connections on loopback and writes greeting to each.
func fakeServer(t *testing.T, greeting string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprint(c, greeting)
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			c.Read(make([]byte, 64))
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// A two-page letterhead with [[receipt.fields]] starts the collector; the
// template check must stamp it the same way (issue 10, seam 2), and name
// the placement that does not fit.
func TestTemplateWithPlacedFields(t *testing.T) {
	t.Parallel()
	lh, err := os.ReadFile(filepath.Join("..", "..", "collector", "receipt", "testdata", "letterhead.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	placed := "[receipt]\ntemplate = \"letterhead.pdf\"\n"
	for i, f := range []string{"name", "phone", "decision", "purposes", "time", "record_id"} {
		placed += fmt.Sprintf("[[receipt.fields]]\nfield = %q\nx = 170\ny = %d\n", f, 600-20*i)
	}
	for _, tt := range []struct {
		name, extra string
		want        Status
		detail      string
	}{
		{"fits", "", OK, "letterhead.pdf stamps a sample receipt"},
		{"off the page", "[[receipt.fields]]\nfield = \"key\"\npage = 2\nx = 170\ny = 800\n", Fail, `receipt.fields[6] (field = "key")`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "letterhead.pdf"), lh, 0o644); err != nil {
				t.Fatal(err)
			}
			text := strings.Replace(goodConfig, "[collector]", placed+tt.extra+"[collector]", 1)
			cfg, err := config.Parse("config.toml", dir, []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			r := CheckTemplate(cfg)
			if r.Status != tt.want || !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("CheckTemplate = %s %q (fix %q), want %s containing %q", r.Status, r.Detail, r.Fix, tt.want, tt.detail)
			}
		})
	}
}

// TestUnmigratedLog: a format-1 log that was never migrated is a warning
// naming chatconsent migrate (the collector refuses to start with it).
func TestUnmigratedLog(t *testing.T) {
	cfg, data := deployment(t, goodConfig)
	writeLog(t, data, time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC))
	r := find(t, Run(context.Background(), opts(cfg)), "decisions log")
	if r.Status != Warn || !strings.Contains(r.Detail, "not migrated") || !strings.Contains(r.Fix, "chatconsent migrate") {
		t.Fatalf("unmigrated log: %+v", r)
	}
}
