package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hintOf runs the CLI in-process and returns its error and hint.
func hintOf(t *testing.T, args ...string) (error, string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return err, h.Hint()
	}
	return err, ""
}

// TestHints (issue 11 item 24): the first mistakes of a new owner get a
// hint that says what to do.
func TestHints(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, from, to string) string {
		p := filepath.Join(dir, name)
		s := strings.Replace(string(b), from, to, 1)
		if s == string(b) {
			t.Fatalf("%q not in config.toml", from)
		}
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	unquoted := write("unquoted.toml", `title = "`, `title = Fahrradladen #`)
	umlaut := write("umlaut.toml", `id = "orders"`, `id = "bestätigung"`)
	for _, tt := range []struct {
		args      []string
		err, hint string
	}{
		{[]string{"build", "--config", filepath.Join(dir, "nosuch.toml")}, "nosuch.toml", "give the file with --config FILE"},
		{[]string{"list", "--config", filepath.Join(dir, "nosuch.toml")}, "nosuch.toml", "chatconsent init DIR"},
		{[]string{"build", "--config", unquoted}, "unquoted.toml:", `a text value needs double quotes, e.g. title = "Fahrradladen Beispiel"`},
		{[]string{"build", "--config", umlaut}, `"bestätigung" must be 1-40 lower-case letters a-z (no umlauts or accents), digits 0-9 or '-', e.g. "bestaetigung"`, ""},
		{[]string{"serve", "--addr", "localhost", "--config", filepath.Join("..", "..", "config.toml")}, `--addr "localhost": want HOST:PORT (127.0.0.1:8080) or a port (8080)`, ""},
	} {
		err, hint := hintOf(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(hint, tt.hint) {
			t.Errorf("%q:\n error %v\n hint  %q\nwant %q / %q", tt.args, err, hint, tt.err, tt.hint)
		}
	}
}

// TestPortInUse (item 24): a port that is taken says who may hold it and
// how to choose another.
func TestPortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	err, hint := hintOf(t, "collect", "--config", filepath.Join("..", "..", "config.toml"), "--data", dir, "--addr", ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "address already in use") || !strings.Contains(hint, "is chatconsent serve or collect running already") || !strings.Contains(hint, "--addr") {
		t.Errorf("error %v\nhint %q", err, hint)
	}
	// serve listens where collector.listen says when --addr is not given
	// (item 23): here, on the taken port.
	site := t.TempDir()
	os.CopyFS(filepath.Join(site, "content"), os.DirFS(filepath.Join("..", "..", "content")))
	b, _ := os.ReadFile(filepath.Join("..", "..", "config.toml"))
	cfg := strings.Replace(string(b), `listen = "127.0.0.1:8080"`, `listen = "`+ln.Addr().String()+`"`, 1)
	os.WriteFile(filepath.Join(site, "config.toml"), []byte(cfg), 0o644)
	err, hint = hintOf(t, "serve", "--config", filepath.Join(site, "config.toml"), "--data", filepath.Join(site, "data"))
	if err == nil || !strings.Contains(hint, "already listens on "+ln.Addr().String()) {
		t.Errorf("serve with collector.listen on a taken port: %v\nhint %q", err, hint)
	}
}

// TestListenAddr (item 23): a bare port is a port on 127.0.0.1; what a
// browser is shown is an address it can open.
func TestListenAddr(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, listen, browser string }{
		{"8080", "127.0.0.1:8080", "127.0.0.1:8080"},
		{"127.0.0.1:9090", "127.0.0.1:9090", "127.0.0.1:9090"},
		{":8080", ":8080", "127.0.0.1:8080"},
		{"0.0.0.0:80", "0.0.0.0:80", "127.0.0.1:80"},
		{"[::]:8080", "[::]:8080", "[::1]:8080"},
		{"[::1]:8080", "[::1]:8080", "[::1]:8080"},
	} {
		got, err := listenAddr("--addr", tt.in)
		if err != nil || got != tt.listen || browserAddr(got) != tt.browser {
			t.Errorf("%q: %q %q, %v; want %q %q", tt.in, got, browserAddr(got), err, tt.listen, tt.browser)
		}
	}
	for _, bad := range []string{"localhost", "http://127.0.0.1:8080", "127.0.0.1:", ""} {
		if _, err := listenAddr("--addr", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestStoppedLine (item 23): singular and plural, and records, not
// "decisions", since withdrawals and openings are lines too.
func TestStoppedLine(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n, s uint64
		want string
	}{
		{1, 1, "1 record written to the log (decisions, withdrawals, invite openings) with 1 fsync"},
		{0, 0, "0 records written to the log (decisions, withdrawals, invite openings) with 0 fsyncs"},
		{3000, 12, "3000 records written to the log (decisions, withdrawals, invite openings) with 12 fsyncs"},
	} {
		if got := stoppedLine(tt.n, tt.s); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
