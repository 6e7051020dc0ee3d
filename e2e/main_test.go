package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// binary is the chatconsent command, built once for all tests.
var binary string

// childEnv is the environment of the chatconsent processes the tests
// start: their user cache folder in the tests' temporary folder, not the
// user's. Set for the children only: os.Setenv of XDG_CACHE_HOME would also
// move the Go build cache of the `go build` below.
var childEnv []string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chatconsent-browser-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "chatconsent")
	childEnv = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	// Built as scripts/release.sh builds (static, -trimpath): the compiled
	// packages in the Go build cache are then the same, and
	// TestDebianPackage's release.sh only links, instead of compiling
	// every package a second time with other flags.
	build := exec.Command("go", "build", "-trimpath", "-o", binary, "../cmd/chatconsent")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	stopShared()
	os.RemoveAll(dir)
	os.Exit(code)
}

// site copies the repo's config.toml, content/ and archive/ into a
// temporary folder, so a test never writes into the source tree.
func site(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range []string{"content", "archive"} {
		if err := os.CopyFS(filepath.Join(dir, p), os.DirFS(filepath.Join("..", p))); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// run runs the binary to completion and fails the test on a non-zero exit.
func run(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(binary, args...)
	cmd.Env = childEnv
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chatconsent %v: %v\n%s%s", args, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// server is a running chatconsent serve or collect.
type server struct {
	URL    string // "http://127.0.0.1:PORT/"
	stderr lockedWriter
	buf    bytes.Buffer // the collector's log, written through stderr
}

// log returns what the process wrote to stderr so far.
func (s *server) log() string {
	s.stderr.mu.Lock()
	defer s.stderr.mu.Unlock()
	return s.buf.String()
}

var listeningRe = regexp.MustCompile(`listening on (http://\S+/)`)

// start runs a long-lived command (serve or collect) and returns once it
// listens; the process is stopped at the end of the test.
func start(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = childEnv
	// Stopped as an owner stops it (SIGTERM: it cleans up, e.g. serve's
	// temporary folder), killed only if it hangs.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{}
	s.stderr.w = &s.buf
	cmd.Stderr = &s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("stderr of chatconsent %v:\n%s", args, s.log())
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatalf("chatconsent %v exited before listening", args)
		}
		s.URL = u
		return s
	case <-time.After(60 * time.Second):
		t.Fatalf("chatconsent %v did not start within 60 s", args)
	}
	return nil
}

// serve starts "chatconsent serve" on a free loopback port for a fresh
// copy of the repo's site.
func serve(t *testing.T) *server {
	t.Helper()
	dir := site(t)
	return start(t, "serve", "--config", filepath.Join(dir, "config.toml"), "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"))
}
