package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image/png"
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

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs the command-line stories in testdata/script/*.txtar
// (the testscript language of github.com/rogpeppe/go-internal, as the Go
// command and filippo.io/age test their CLIs). "chatconsent" in a script
// is the binary TestMain built (first on the scripts' PATH), without the
// race detector: see TestMain.
//
// Every script starts in an empty $WORK with:
//
//	$REPO  the repository root (its config.toml, content/, archive/)
//	$PORT  a free loopback port for a collector the script starts
//
// and these commands besides testscript's own:
//
//	site DIR               copy the repository's config.toml, content/ and
//	                       archive/ into DIR, with collector.public_url set
//	                       to http://127.0.0.1:$PORT/
//	waitlisten HOST:PORT   wait (up to 60 s) until something accepts
//	                       connections there
//	get [-o FILE] URL      GET; stdout is "status N" and, on the next
//	                       lines, the Content-Type and the body (or with -o
//	                       the body goes to FILE)
//	post URL BODY          POST BODY: JSON when it starts with "{", else a
//	                       form (k=v&k=v); stdout as for get
//	capture VAR RE FILE    set VAR to RE's first group in FILE (or stdout,
//	                       stderr); fails when RE does not match
//	sha256 FILE            print the hex SHA-256 of FILE (or stdout)
//	pngsize FILE           print the width and height of a PNG image
//	exits N PROG ARGS...   run PROG like exec and fail unless its exit
//	                       code is N (stdout and stderr kept for checks)
//	replace FILE OLD NEW   replace every OLD by NEW in FILE (Go-quoted
//	                       strings allowed: "a\nb"); fails when OLD is not
//	                       there
func TestScripts(t *testing.T) {
	t.Parallel()
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", repo)
			port, err := freePort()
			if err != nil {
				return err
			}
			env.Setenv("PORT", port)
			env.Setenv("PATH", filepath.Dir(binary)+string(os.PathListSeparator)+env.Getenv("PATH"))
			// The scripts' chatconsent processes never see the user's cache folder.
			env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"site":       cmdSite,
			"waitlisten": cmdWaitListen,
			"get":        cmdGet,
			"post":       cmdPost,
			"capture":    cmdCapture,
			"sha256":     cmdSHA256,
			"replace":    cmdReplace,
			"exits":      cmdExits,
			"pngsize":    cmdPNGSize,
		},
	})
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

func noNeg(ts *testscript.TestScript, neg bool, name string) {
	if neg {
		ts.Fatalf("%s does not take !: check its output instead", name)
	}
}

func cmdSite(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "site")
	if len(args) != 1 {
		ts.Fatalf("usage: site DIR")
	}
	dir, repo := ts.MkAbs(args[0]), ts.Getenv("REPO")
	for _, p := range []string{"content", "archive"} {
		ts.Check(os.CopyFS(filepath.Join(dir, p), os.DirFS(filepath.Join(repo, p))))
	}
	cfg, err := os.ReadFile(filepath.Join(repo, "config.toml"))
	ts.Check(err)
	local := []byte("http://127.0.0.1:" + ts.Getenv("PORT") + "/")
	cfg = bytes.ReplaceAll(cfg, []byte("http://127.0.0.1:8080/"), local)
	ts.Check(os.WriteFile(filepath.Join(dir, "config.toml"), cfg, 0o644))
}

func cmdWaitListen(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "waitlisten")
	if len(args) != 1 {
		ts.Fatalf("usage: waitlisten HOST:PORT")
	}
	for end := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", args[0], time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(end) {
			ts.Fatalf("nothing listens on %s after 60 s: %v", args[0], err)
		}
	}
}

// client does not follow redirects: a script sees the 303 itself.
var client = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func printResponse(ts *testscript.TestScript, resp *http.Response, out string) {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "status %d\ncontent-type: %s\n", resp.StatusCode, resp.Header.Get("Content-Type"))
	if out != "" {
		ts.Check(os.WriteFile(ts.MkAbs(out), body, 0o644))
		return
	}
	ts.Stdout().Write(body)
}

func cmdGet(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "get")
	out := ""
	if len(args) == 3 && args[0] == "-o" {
		out, args = args[1], args[2:]
	}
	if len(args) != 1 {
		ts.Fatalf("usage: get [-o FILE] URL")
	}
	resp, err := client.Get(args[0])
	ts.Check(err)
	printResponse(ts, resp, out)
}

func cmdPost(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "post")
	if len(args) != 2 {
		ts.Fatalf("usage: post URL BODY")
	}
	ctype := "application/x-www-form-urlencoded"
	if strings.HasPrefix(args[1], "{") {
		ctype = "application/json"
	}
	resp, err := client.Post(args[0], ctype, strings.NewReader(args[1]))
	ts.Check(err)
	printResponse(ts, resp, "")
}

func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "capture")
	if len(args) != 3 {
		ts.Fatalf("usage: capture VAR REGEXP FILE")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile(args[2]))
	if len(m) < 2 {
		ts.Fatalf("capture %s: no match for %s in %s", args[0], args[1], args[2])
	}
	ts.Setenv(args[0], m[1])
}

func cmdSHA256(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sha256")
	if len(args) != 1 {
		ts.Fatalf("usage: sha256 FILE")
	}
	fmt.Fprintf(ts.Stdout(), "%x\n", sha256.Sum256([]byte(ts.ReadFile(args[0]))))
}

func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "replace")
	if len(args) != 3 {
		ts.Fatalf("usage: replace FILE OLD NEW")
	}
	unquote := func(s string) string {
		if strings.HasPrefix(s, `"`) {
			u, err := strconv.Unquote(s)
			ts.Check(err)
			return u
		}
		return s
	}
	old, repl := unquote(args[1]), unquote(args[2])
	f := ts.MkAbs(args[0])
	b, err := os.ReadFile(f)
	ts.Check(err)
	if !bytes.Contains(b, []byte(old)) {
		ts.Fatalf("replace: %q not in %s", old, args[0])
	}
	ts.Check(os.WriteFile(f, bytes.ReplaceAll(b, []byte(old), []byte(repl)), 0o644))
}

func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "exits")
	if len(args) < 2 {
		ts.Fatalf("usage: exits N PROG ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("%s: %v", args[1], err)
	}
	if code != want {
		ts.Fatalf("%s: exit code %d, want %d", args[1], code, want)
	}
}

func cmdPNGSize(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "pngsize")
	if len(args) != 1 {
		ts.Fatalf("usage: pngsize FILE")
	}
	img, err := png.Decode(strings.NewReader(ts.ReadFile(args[0])))
	if err != nil {
		ts.Fatalf("%s is not a PNG: %v", args[0], err)
	}
	fmt.Fprintf(ts.Stdout(), "%dx%d\n", img.Bounds().Dx(), img.Bounds().Dy())
}
